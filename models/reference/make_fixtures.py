#!/usr/bin/python3
"""Independent PyTorch reference for skipllm's logits tests.

Writes tiny random checkpoints in Hugging Face layout (config.json + model.safetensors) and the
logits the engine must produce for them (expected.json), computed in float64.

The model code below is written from the Hugging Face modeling files' semantics
(modeling_llama.py, modeling_qwen2.py, modeling_bloom.py) without importing transformers or
safetensors: only torch, json, struct and the standard library are used (Debian's python3-torch).

Unified Layer Skipping, as implemented here:
  * the prompt is prefilled through ALL layers (causal attention), filling every layer's KV cache;
  * each decode token then runs ONLY the retained layers, ascending; a skipped layer is the
    identity on the hidden state and stores no KV;
  * a retained layer attends over its own cache (prompt positions from prefill + response
    positions from its own earlier decode steps);
  * positions (RoPE index / ALiBi key distance) count real tokens: the k-th token of the sequence
    has position k, whatever was skipped.
Each architecture has ONE forward function taking (ids, caches, layers, start position), so prefill
is "all layers over the prompt" and decode is "one token through the retained layers"; the skip
semantics follow from that directly.

Run:  /usr/bin/python3 models/reference/make_fixtures.py
Output is deterministic (seeded generators, sorted tensor names, fixed float formatting).
"""

import json
import math
import os
import struct
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
FIXTURES = os.path.join(HERE, "fixtures")

F64 = torch.float64
# Minimum gap between the best and second-best logit of every expected row: the Java test also
# asserts argmax equality, so a near-tie (float32 engine vs float64 reference) must not occur.
MIN_TOP1_MARGIN = 1e-3

# --------------------------------------------------------------------------------------------
# safetensors writer / reader (own implementation of the documented format)
# --------------------------------------------------------------------------------------------

# storage dtype -> (safetensors name, struct code of the raw element, integer view used for bits)
DTYPES = {
    torch.float32: ("F32", "f", None),
    torch.float16: ("F16", "h", torch.int16),
    torch.bfloat16: ("BF16", "h", torch.int16),
}
NAME_TO_DTYPE = {v[0]: k for k, v in DTYPES.items()}


def tensor_bytes(t):
    """Raw little-endian bytes of a tensor (struct with '<' makes the byte order explicit)."""
    name, code, int_view = DTYPES[t.dtype]
    flat = t.contiguous().reshape(-1)
    values = flat.view(int_view).tolist() if int_view is not None else flat.tolist()
    return struct.pack("<%d%s" % (len(values), code), *values)


def write_safetensors(path, tensors):
    """8-byte LE header length, JSON header (dtype/shape/data_offsets + __metadata__), data.

    The header is padded with spaces so the data section starts at a multiple of 8.
    Tensor names are sorted so the file is byte-for-byte reproducible.
    """
    header = {"__metadata__": {"format": "pt"}}
    blobs = []
    offset = 0
    for name in sorted(tensors):
        t = tensors[name]
        data = tensor_bytes(t)
        header[name] = {"dtype": DTYPES[t.dtype][0], "shape": list(t.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)
    with open(path, "wb") as f:
        f.write(struct.pack("<Q", len(text)))
        f.write(text)
        for data in blobs:
            f.write(data)


def read_safetensors(path):
    """Reads the file back as float64 tensors: the reference computes from what is STORED."""
    with open(path, "rb") as f:
        raw = f.read()
    (n,) = struct.unpack("<Q", raw[:8])
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    assert (8 + n) % 8 == 0, "data section not 8-byte aligned"
    base = 8 + n
    out = {}
    for name, meta in header.items():
        if name == "__metadata__":
            continue
        dtype = NAME_TO_DTYPE[meta["dtype"]]
        _, code, int_view = DTYPES[dtype]
        start, end = meta["data_offsets"]
        count = (end - start) // struct.calcsize(code)
        values = struct.unpack("<%d%s" % (count, code), raw[base + start:base + end])
        if int_view is not None:
            t = torch.tensor(values, dtype=int_view).view(dtype)
        else:
            t = torch.tensor(values, dtype=torch.float32)
        out[name] = t.to(F64).reshape(meta["shape"])
    return out


# --------------------------------------------------------------------------------------------
# Layer-skip planner (the Java LayerSkipPlanner computes the same sets)
# --------------------------------------------------------------------------------------------

def plan_unified(n, r):
    if n == 1:
        return [0]
    s = {0, n - 1}
    m = math.floor(n / r)
    if m < 2:
        return sorted(s)
    interval = n // (m - 1)
    for i in range(1, n - 1):
        if i % interval == 0 and len(s) < m:
            s.add(i)
    return sorted(s)


def plan_top(n, r):
    return list(range(max(1, math.floor(n / r))))


def plan(strategy, n, r):
    if strategy == "full":
        return list(range(n))
    if strategy == "unified":
        return plan_unified(n, r)
    if strategy == "top":
        return plan_top(n, r)
    raise ValueError(strategy)


# --------------------------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------------------------

def linear(x, w, b=None):
    """nn.Linear: weight is [out, in]."""
    y = x @ w.T
    return y if b is None else y + b


def new_caches(num_layers):
    """One KV cache per layer: keys/values [heads, T, head_dim] and the positions they were at."""
    return [{"k": None, "v": None, "pos": None} for _ in range(num_layers)]


def cached_attention(cache, q, k, v, q_pos, score_bias=None):
    """Appends k/v (at positions q_pos) to this layer's cache, then attends q over the whole cache.

    q: [heads, T, d]; k, v: [kv_heads, T, d]; q_pos: [T] float64 positions of the new tokens.
    score_bias(key_pos) -> [heads, 1, S] additive bias (ALiBi) or None.
    The causal mask compares real positions, so it is right for prefill and decode alike.
    """
    if cache["k"] is None:
        cache["k"], cache["v"], cache["pos"] = k, v, q_pos
    else:
        cache["k"] = torch.cat([cache["k"], k], dim=1)
        cache["v"] = torch.cat([cache["v"], v], dim=1)
        cache["pos"] = torch.cat([cache["pos"], q_pos])
    keys, values, key_pos = cache["k"], cache["v"], cache["pos"]
    heads, kv_heads, d = q.shape[0], keys.shape[0], q.shape[-1]
    # GQA (HF repeat_kv): kv head j serves query heads j*n_rep .. j*n_rep + n_rep - 1.
    n_rep = heads // kv_heads
    keys = keys.repeat_interleave(n_rep, dim=0)
    values = values.repeat_interleave(n_rep, dim=0)
    scores = (q @ keys.transpose(-1, -2)) / math.sqrt(d)
    if score_bias is not None:
        scores = scores + score_bias(key_pos)
    future = key_pos[None, :] > q_pos[:, None]  # [T, S]
    scores = scores.masked_fill(future[None, :, :], float("-inf"))
    probs = torch.softmax(scores, dim=-1)
    out = probs @ values  # [heads, T, d]
    return out.transpose(0, 1).reshape(q.shape[1], heads * d)


# --------------------------------------------------------------------------------------------
# LLaMA / Qwen2 (modeling_llama.py, modeling_qwen2.py)
# --------------------------------------------------------------------------------------------

def rms_norm(x, w, eps):
    return x / torch.sqrt((x * x).mean(dim=-1, keepdim=True) + eps) * w


def rotate_half(x):
    half = x.shape[-1] // 2
    return torch.cat([-x[..., half:], x[..., :half]], dim=-1)


def rope_cos_sin(cfg, pos):
    """HF rotary embedding: inv_freq = 1/theta^(arange(0,d,2)/d), cos/sin repeated as cat([f, f])."""
    d = cfg["hidden_size"] // cfg["num_attention_heads"]
    inv_freq = 1.0 / (cfg["rope_theta"] ** (torch.arange(0, d, 2, dtype=F64) / d))
    freqs = pos[:, None] * inv_freq[None, :]
    emb = torch.cat([freqs, freqs], dim=-1)  # [T, d]
    return emb.cos(), emb.sin()


def llama_forward(cfg, w, ids, caches, layers, start):
    """Runs tokens `ids` (positions start..) through `layers` only; returns logits [T, vocab]."""
    T = len(ids)
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = cfg["hidden_size"] // heads
    eps = cfg["rms_norm_eps"]
    pos = torch.arange(start, start + T, dtype=F64)
    cos, sin = rope_cos_sin(cfg, pos)
    h = w["model.embed_tokens.weight"][torch.tensor(ids)]
    for layer in layers:
        p = "model.layers.%d." % layer
        x = rms_norm(h, w[p + "input_layernorm.weight"], eps)
        # Qwen2 has q/k/v biases (no o_proj bias); LLaMA has none: .get() covers both.
        q = linear(x, w[p + "self_attn.q_proj.weight"], w.get(p + "self_attn.q_proj.bias"))
        k = linear(x, w[p + "self_attn.k_proj.weight"], w.get(p + "self_attn.k_proj.bias"))
        v = linear(x, w[p + "self_attn.v_proj.weight"], w.get(p + "self_attn.v_proj.bias"))
        q = q.view(T, heads, d).transpose(0, 1)
        k = k.view(T, kv_heads, d).transpose(0, 1)
        v = v.view(T, kv_heads, d).transpose(0, 1)
        q = q * cos + rotate_half(q) * sin
        k = k * cos + rotate_half(k) * sin  # keys are cached already rotated (as HF does)
        attn = cached_attention(caches[layer], q, k, v, pos)
        h = h + linear(attn, w[p + "self_attn.o_proj.weight"])
        x = rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
        gate = linear(x, w[p + "mlp.gate_proj.weight"])
        up = linear(x, w[p + "mlp.up_proj.weight"])
        h = h + linear(torch.nn.functional.silu(gate) * up, w[p + "mlp.down_proj.weight"])
    h = rms_norm(h, w["model.norm.weight"], eps)
    head = w.get("lm_head.weight", w["model.embed_tokens.weight"])  # tied: no lm_head stored
    return h @ head.T


def llama_weights(cfg, g, qkv_bias):
    """Random weights; [out, in] Linear layout; norm weights around 1."""
    H, I, V = cfg["hidden_size"], cfg["intermediate_size"], cfg["vocab_size"]
    heads, kv_heads = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = H // heads
    t = {"model.embed_tokens.weight": randn(g, V, H, std=0.5)}
    for i in range(cfg["num_hidden_layers"]):
        p = "model.layers.%d." % i
        t[p + "input_layernorm.weight"] = 1 + randn(g, H, std=0.1)
        t[p + "self_attn.q_proj.weight"] = randn(g, heads * d, H, std=0.25)
        t[p + "self_attn.k_proj.weight"] = randn(g, kv_heads * d, H, std=0.25)
        t[p + "self_attn.v_proj.weight"] = randn(g, kv_heads * d, H, std=0.25)
        if qkv_bias:
            t[p + "self_attn.q_proj.bias"] = randn(g, heads * d, std=0.2)
            t[p + "self_attn.k_proj.bias"] = randn(g, kv_heads * d, std=0.2)
            t[p + "self_attn.v_proj.bias"] = randn(g, kv_heads * d, std=0.2)
        t[p + "self_attn.o_proj.weight"] = randn(g, H, heads * d, std=0.15)
        t[p + "post_attention_layernorm.weight"] = 1 + randn(g, H, std=0.1)
        t[p + "mlp.gate_proj.weight"] = randn(g, I, H, std=0.2)
        t[p + "mlp.up_proj.weight"] = randn(g, I, H, std=0.2)
        t[p + "mlp.down_proj.weight"] = randn(g, H, I, std=0.15)
    t["model.norm.weight"] = 1 + randn(g, H, std=0.1)
    if not cfg["tie_word_embeddings"]:
        t["lm_head.weight"] = randn(g, V, H, std=0.3)
    return t


def llama_config(arch, model_type, torch_dtype, kv_heads, tied, rope_theta, eps, extra=None):
    cfg = {
        "architectures": [arch],
        "model_type": model_type,
        "hidden_size": 32,
        "intermediate_size": 48,
        "num_hidden_layers": 6,
        "num_attention_heads": 4,
        "num_key_value_heads": kv_heads,
        "vocab_size": 64,
        "max_position_embeddings": 128,
        "rms_norm_eps": eps,
        "rope_theta": rope_theta,
        "hidden_act": "silu",
        "tie_word_embeddings": tied,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": torch_dtype,
    }
    cfg.update(extra or {})
    return cfg


# --------------------------------------------------------------------------------------------
# BLOOM (modeling_bloom.py)
# --------------------------------------------------------------------------------------------

def layer_norm(x, w, b, eps):
    mean = x.mean(dim=-1, keepdim=True)
    var = ((x - mean) ** 2).mean(dim=-1, keepdim=True)  # biased variance, as nn.LayerNorm
    return (x - mean) / torch.sqrt(var + eps) * w + b


def alibi_slopes(n_head):
    """HF build_alibi_tensor's slopes, including the non-power-of-two extension."""
    closest = 2 ** math.floor(math.log2(n_head))
    base = 2 ** (-(2 ** -(math.log2(closest) - 3)))
    slopes = [base ** i for i in range(1, 1 + closest)]
    if closest != n_head:
        extra_base = 2 ** (-(2 ** -(math.log2(2 * closest) - 3)))
        remaining = min(closest, n_head - closest)
        slopes += [extra_base ** i for i in range(1, 1 + 2 * remaining, 2)]
    return torch.tensor(slopes, dtype=F64)


def bloom_gelu(x):
    # HF bloom_gelu_forward, with its literal constant 0.79788456 (~sqrt(2/pi)).
    return 0.5 * x * (1.0 + torch.tanh(0.79788456 * x * (1.0 + 0.044715 * x * x)))


def bloom_forward(cfg, w, ids, caches, layers, start, prefix=""):
    """Runs tokens `ids` (positions start..) through `layers` only; returns logits [T, vocab]."""
    T = len(ids)
    heads, H = cfg["n_head"], cfg["hidden_size"]
    d = H // heads
    eps = cfg["layer_norm_epsilon"]
    pos = torch.arange(start, start + T, dtype=F64)
    slopes = alibi_slopes(heads)

    def alibi(key_pos):
        # HF adds slope * key_position (equal under softmax to slope * (key - query)).
        return slopes[:, None, None] * key_pos[None, None, :]

    def W(name):
        return w[prefix + name]

    emb = W("word_embeddings.weight")
    h = layer_norm(emb[torch.tensor(ids)], W("word_embeddings_layernorm.weight"),
                   W("word_embeddings_layernorm.bias"), eps)
    for layer in layers:
        p = "h.%d." % layer
        ln = layer_norm(h, W(p + "input_layernorm.weight"), W(p + "input_layernorm.bias"), eps)
        qkv = linear(ln, W(p + "self_attention.query_key_value.weight"),
                     W(p + "self_attention.query_key_value.bias"))
        # HF _split_heads: fused output viewed as [T, n_head, 3, head_dim] (per-head interleaved).
        qkv = qkv.view(T, heads, 3, d)
        q = qkv[:, :, 0, :].transpose(0, 1)
        k = qkv[:, :, 1, :].transpose(0, 1)
        v = qkv[:, :, 2, :].transpose(0, 1)
        attn = cached_attention(caches[layer], q, k, v, pos, score_bias=alibi)
        # apply_residual_connection_post_layernorm = False: the residual is h itself.
        h = h + linear(attn, W(p + "self_attention.dense.weight"), W(p + "self_attention.dense.bias"))
        ln2 = layer_norm(h, W(p + "post_attention_layernorm.weight"),
                         W(p + "post_attention_layernorm.bias"), eps)
        mlp = linear(bloom_gelu(linear(ln2, W(p + "mlp.dense_h_to_4h.weight"), W(p + "mlp.dense_h_to_4h.bias"))),
                     W(p + "mlp.dense_4h_to_h.weight"), W(p + "mlp.dense_4h_to_h.bias"))
        h = h + mlp
    h = layer_norm(h, W("ln_f.weight"), W("ln_f.bias"), eps)
    return h @ emb.T  # BLOOM's head is tied to word_embeddings


def bloom_weights(cfg, g, prefix):
    H, V = cfg["hidden_size"], cfg["vocab_size"]
    t = {}

    def ln(name):
        t[prefix + name + ".weight"] = 1 + randn(g, H, std=0.1)
        t[prefix + name + ".bias"] = randn(g, H, std=0.1)

    t[prefix + "word_embeddings.weight"] = randn(g, V, H, std=0.5)
    ln("word_embeddings_layernorm")
    for i in range(cfg["n_layer"]):
        p = "h.%d." % i
        ln(p + "input_layernorm")
        t[prefix + p + "self_attention.query_key_value.weight"] = randn(g, 3 * H, H, std=0.25)
        t[prefix + p + "self_attention.query_key_value.bias"] = randn(g, 3 * H, std=0.2)
        t[prefix + p + "self_attention.dense.weight"] = randn(g, H, H, std=0.15)
        t[prefix + p + "self_attention.dense.bias"] = randn(g, H, std=0.1)
        ln(p + "post_attention_layernorm")
        t[prefix + p + "mlp.dense_h_to_4h.weight"] = randn(g, 4 * H, H, std=0.2)
        t[prefix + p + "mlp.dense_h_to_4h.bias"] = randn(g, 4 * H, std=0.1)
        t[prefix + p + "mlp.dense_4h_to_h.weight"] = randn(g, H, 4 * H, std=0.1)
        t[prefix + p + "mlp.dense_4h_to_h.bias"] = randn(g, H, std=0.1)
    ln("ln_f")
    return t


def bloom_config(torch_dtype, hidden, n_head):
    return {
        "architectures": ["BloomForCausalLM"],
        "model_type": "bloom",
        "hidden_size": hidden,
        "n_head": n_head,
        "n_layer": 6,
        "vocab_size": 64,
        "layer_norm_epsilon": 1e-5,
        "apply_residual_connection_post_layernorm": False,
        "max_position_embeddings": 128,
        "tie_word_embeddings": True,
        "bos_token_id": 1,
        "eos_token_id": 2,
        "torch_dtype": torch_dtype,
    }


# --------------------------------------------------------------------------------------------
# Fixture generation
# --------------------------------------------------------------------------------------------

def randn(g, *shape, std):
    return torch.randn(*shape, generator=g, dtype=F64) * std


def num_layers(cfg):
    return cfg.get("num_hidden_layers", cfg.get("n_layer"))


def run_sequence(forward, n_layers, prompt, decode_ids, retained):
    """Full-depth prefill, then each decode id through the retained layers only.

    Returns 1 + len(decode_ids) logits rows: row 0 at the last prompt position, row k after
    feeding decode_ids[k-1].
    """
    caches = new_caches(n_layers)
    rows = [forward(prompt, caches, list(range(n_layers)), 0)[-1]]
    for k, tok in enumerate(decode_ids):
        rows.append(forward([tok], caches, retained, len(prompt) + k)[-1])
    return torch.stack(rows)


def self_check(forward, n_layers, g, vocab):
    """Validates the cache logic: at full depth, one prefill over prompt+decode tokens gives the
    same logits as prefill + step-by-step decode."""
    prompt = rand_tokens(g, 6, vocab)
    decode = rand_tokens(g, 5, vocab)
    stepwise = run_sequence(forward, n_layers, prompt, decode, list(range(n_layers)))
    at_once = forward(prompt + decode, new_caches(n_layers), list(range(n_layers)), 0)[len(prompt) - 1:]
    err = (stepwise - at_once).abs().max().item()
    assert err < 1e-10, "cache self-check failed: %g" % err
    return err


def rand_tokens(g, n, vocab):
    return torch.randint(3, vocab, (n,), generator=g).tolist()


def top1_margin(rows):
    top2 = rows.topk(2, dim=-1).values
    return (top2[:, 0] - top2[:, 1]).min().item()


CASES = [
    # name, strategy, speedup, prompt lengths (None: one prompt of 5..7 tokens)
    ("full", "full", 1.0, None),
    ("unified-2x", "unified", 2.0, None),
    ("unified-3x", "unified", 3.0, None),
    ("top-2x", "top", 2.0, None),
    ("batch-unified-2x", "unified", 2.0, [5, 2, 8]),
]
DECODE_STEPS = 4


def make_case(forward, n_layers, vocab, g, name, strategy, speedup, lengths):
    retained = plan(strategy, n_layers, speedup)
    # Redraw tokens (deterministically) until no expected row has a near-tied argmax.
    for _attempt in range(100):
        lens = lengths or [int(torch.randint(5, 8, (1,), generator=g).item())]
        prompts = [rand_tokens(g, n, vocab) for n in lens]
        decode_ids = [rand_tokens(g, DECODE_STEPS, vocab) for _ in lens]
        # Each prompt computed ALONE: a batch must not change any prompt's numbers.
        logits = [run_sequence(forward, n_layers, p, dec, retained) for p, dec in zip(prompts, decode_ids)]
        margin = min(top1_margin(rows) for rows in logits)
        if margin >= MIN_TOP1_MARGIN:
            break
    else:
        raise RuntimeError("no token draw without near-tied argmax for " + name)
    return {
        "name": name,
        "strategy": strategy,
        "speedup": speedup,
        "retained": retained,
        "prompts": prompts,
        "decode_ids": decode_ids,
        "logits": logits,
    }, margin


def fmt(x):
    return repr(float("%.7g" % x))


def expected_json(cfg, cases):
    """Readable JSON, one logits row per line, floats with 7 significant digits."""
    c = json.dumps
    out = ["{",
           '  "architecture": %s,' % c(cfg["architectures"][0]),
           '  "vocab_size": %d,' % cfg["vocab_size"],
           '  "num_layers": %d,' % num_layers(cfg),
           '  "cases": [']
    for i, case in enumerate(cases):
        out.append("    {")
        for key in ("name", "strategy", "speedup", "retained", "prompts", "decode_ids"):
            out.append('      %s: %s,' % (c(key), c(case[key])))
        out.append('      "logits": [')
        for b, rows in enumerate(case["logits"]):
            out.append("        [")
            lines = ["          [" + ", ".join(fmt(x) for x in row.tolist()) + "]" for row in rows]
            out.append(",\n".join(lines))
            out.append("        ]" + ("," if b + 1 < len(case["logits"]) else ""))
        out.append("      ]")
        out.append("    }" + ("," if i + 1 < len(cases) else ""))
    out.append("  ]")
    out.append("}")
    return "\n".join(out) + "\n"


def build_fixture(name, seed, cfg, make_weights, storage_dtype, forward_fn):
    """Writes fixtures/<name>/{config.json, model.safetensors, expected.json}."""
    directory = os.path.join(FIXTURES, name)
    os.makedirs(directory, exist_ok=True)
    g = torch.Generator().manual_seed(seed)
    # Round to the storage dtype FIRST; the reference then uses exactly the stored values.
    stored = {k: v.to(storage_dtype) for k, v in make_weights(cfg, g).items()}
    with open(os.path.join(directory, "config.json"), "w") as f:
        json.dump(cfg, f, indent=2, sort_keys=True)
        f.write("\n")
    st_path = os.path.join(directory, "model.safetensors")
    write_safetensors(st_path, stored)
    w = read_safetensors(st_path)  # computing from the file also checks the writer round-trips
    for k, v in stored.items():
        assert torch.equal(w[k], v.to(F64)), k

    n_layers, vocab = num_layers(cfg), cfg["vocab_size"]

    def forward(ids, caches, layers, start):
        return forward_fn(cfg, w, ids, caches, layers, start)

    check_err = self_check(forward, n_layers, g, vocab)
    cases, margins = [], []
    for case_name, strategy, speedup, lengths in CASES:
        case, margin = make_case(forward, n_layers, vocab, g, case_name, strategy, speedup, lengths)
        cases.append(case)
        margins.append(margin)
    with open(os.path.join(directory, "expected.json"), "w") as f:
        f.write(expected_json(cfg, cases))
    max_abs = max(rows.abs().max().item() for case in cases for rows in case["logits"])
    size = sum(os.path.getsize(os.path.join(directory, fn)) for fn in os.listdir(directory))
    print("%-20s self-check %.1e  max|logit| %6.3f  min top1 margin %.4f  %7d bytes"
          % (name, check_err, max_abs, min(margins), size))


def main():
    torch.set_num_threads(1)  # single-threaded float64: identical sums on every run
    assert plan("unified", 6, 1.0) == [0, 1, 2, 3, 4, 5]
    assert plan("unified", 6, 2.0) == [0, 3, 5]
    assert plan("unified", 6, 3.0) == [0, 5]
    assert plan("top", 6, 2.0) == [0, 1, 2]
    # n_head = 3: slopes 2^-4, 2^-8 from the power-of-two base, then 2^-2 from the extension.
    assert alibi_slopes(3).tolist() == [1 / 16, 1 / 256, 1 / 4]

    build_fixture("llama-gqa-bf16", 1001,
                  llama_config("LlamaForCausalLM", "llama", "bfloat16", kv_heads=2, tied=True,
                               rope_theta=10000.0, eps=1e-6, extra={"attention_bias": False}),
                  lambda cfg, g: llama_weights(cfg, g, qkv_bias=False), torch.bfloat16, llama_forward)
    build_fixture("llama-mha-f16", 1002,
                  llama_config("LlamaForCausalLM", "llama", "float16", kv_heads=4, tied=False,
                               rope_theta=500000.0, eps=1e-5, extra={"attention_bias": False}),
                  lambda cfg, g: llama_weights(cfg, g, qkv_bias=False), torch.float16, llama_forward)
    build_fixture("qwen2-bias", 1003,
                  llama_config("Qwen2ForCausalLM", "qwen2", "float32", kv_heads=2, tied=False,
                               rope_theta=1000000.0, eps=1e-6,
                               extra={"use_sliding_window": False, "sliding_window": 128}),
                  lambda cfg, g: llama_weights(cfg, g, qkv_bias=True), torch.float32, llama_forward)
    build_fixture("bloom-f32", 1004, bloom_config("float32", hidden=24, n_head=3),
                  lambda cfg, g: bloom_weights(cfg, g, prefix=""), torch.float32, bloom_forward)
    build_fixture("bloom-prefixed-f16", 1005, bloom_config("float16", hidden=32, n_head=4),
                  lambda cfg, g: bloom_weights(cfg, g, prefix="transformer."), torch.float16,
                  lambda cfg, w, ids, caches, layers, start:
                  bloom_forward(cfg, w, ids, caches, layers, start, prefix="transformer."))
    return 0


if __name__ == "__main__":
    sys.exit(main())
