#!/usr/bin/python3
"""Second, cache-free check of the fixtures' skip semantics.

make_fixtures.py runs prefill + decode with per-layer KV caches. This script recomputes every
expected.json row WITHOUT caches, over the whole sequence (prompt + decode tokens) at once:

    for each layer l in 0..N-1:
        prompt positions always go through layer l (full-depth prefill);
        decode positions go through layer l only if l is retained, else keep their hidden state.

Attention in layer l at every position sees the layer-l inputs of all earlier positions, which is
exactly what a per-layer KV cache holds (prompt rows from prefill, decode rows from the earlier
decode steps of that same layer). Agreement with expected.json (up to its 7-digit rounding)
validates the cache/skip bookkeeping by an independent formulation.

Run after make_fixtures.py:  /usr/bin/python3 models/reference/check_skip.py
"""

import json
import math
import os
import sys

import torch

sys.dont_write_bytecode = True  # keep the fixtures tree clean
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import make_fixtures as mf  # noqa: E402  (reuses only the reader and elementwise helpers)

F64 = torch.float64


def causal_attention(q, k, v, bias=None):
    """q: [heads, S, d], k/v: [kv_heads, S, d]; plain causal attention over positions 0..S-1."""
    n_rep = q.shape[0] // k.shape[0]
    k = k.repeat_interleave(n_rep, dim=0)
    v = v.repeat_interleave(n_rep, dim=0)
    S, d = q.shape[1], q.shape[2]
    scores = q @ k.transpose(-1, -2) / math.sqrt(d)
    if bias is not None:
        scores = scores + bias
    mask = torch.ones(S, S, dtype=torch.bool).triu(1)
    scores = scores.masked_fill(mask, float("-inf"))
    return (torch.softmax(scores, -1) @ v).transpose(0, 1).reshape(S, -1)


def llama_layer(cfg, w, l, h):
    S, H = h.shape
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    d = H // nh
    eps = cfg["rms_norm_eps"]
    p = "model.layers.%d." % l
    cos, sin = mf.rope_cos_sin(cfg, torch.arange(S, dtype=F64))
    x = mf.rms_norm(h, w[p + "input_layernorm.weight"], eps)
    proj = {}
    for name, heads in (("q", nh), ("k", nkv), ("v", nkv)):
        y = mf.linear(x, w[p + "self_attn.%s_proj.weight" % name], w.get(p + "self_attn.%s_proj.bias" % name))
        proj[name] = y.view(S, heads, d).transpose(0, 1)
    q = proj["q"] * cos + mf.rotate_half(proj["q"]) * sin
    k = proj["k"] * cos + mf.rotate_half(proj["k"]) * sin
    h = h + mf.linear(causal_attention(q, k, proj["v"]), w[p + "self_attn.o_proj.weight"])
    x = mf.rms_norm(h, w[p + "post_attention_layernorm.weight"], eps)
    act = torch.nn.functional.silu(mf.linear(x, w[p + "mlp.gate_proj.weight"])) * mf.linear(x, w[p + "mlp.up_proj.weight"])
    return h + mf.linear(act, w[p + "mlp.down_proj.weight"])


def llama_ends(cfg, w):
    emb = w["model.embed_tokens.weight"]
    head = w.get("lm_head.weight", emb)
    return (lambda ids: emb[ids],
            lambda h: mf.rms_norm(h, w["model.norm.weight"], cfg["rms_norm_eps"]) @ head.T)


def bloom_prefix(w):
    return "transformer." if "transformer.word_embeddings.weight" in w else ""


def bloom_layer(cfg, w, l, h):
    P = bloom_prefix(w)
    S, H = h.shape
    nh = cfg["n_head"]
    d = H // nh
    eps = cfg["layer_norm_epsilon"]
    p = P + "h.%d." % l
    ln = mf.layer_norm(h, w[p + "input_layernorm.weight"], w[p + "input_layernorm.bias"], eps)
    qkv = mf.linear(ln, w[p + "self_attention.query_key_value.weight"],
                    w[p + "self_attention.query_key_value.bias"]).view(S, nh, 3, d)
    q, k, v = (qkv[:, :, i, :].transpose(0, 1) for i in range(3))
    # Relative form of ALiBi here (slope * (key - query)); the fixtures use HF's slope * key.
    rel = torch.arange(S, dtype=F64)[None, :] - torch.arange(S, dtype=F64)[:, None]
    bias = mf.alibi_slopes(nh)[:, None, None] * rel[None]
    h = h + mf.linear(causal_attention(q, k, v, bias), w[p + "self_attention.dense.weight"],
                      w[p + "self_attention.dense.bias"])
    ln2 = mf.layer_norm(h, w[p + "post_attention_layernorm.weight"], w[p + "post_attention_layernorm.bias"], eps)
    up = mf.bloom_gelu(mf.linear(ln2, w[p + "mlp.dense_h_to_4h.weight"], w[p + "mlp.dense_h_to_4h.bias"]))
    return h + mf.linear(up, w[p + "mlp.dense_4h_to_h.weight"], w[p + "mlp.dense_4h_to_h.bias"])


def bloom_ends(cfg, w):
    P = bloom_prefix(w)
    eps = cfg["layer_norm_epsilon"]
    emb = w[P + "word_embeddings.weight"]
    return (lambda ids: mf.layer_norm(emb[ids], w[P + "word_embeddings_layernorm.weight"],
                                      w[P + "word_embeddings_layernorm.bias"], eps),
            lambda h: mf.layer_norm(h, w[P + "ln_f.weight"], w[P + "ln_f.bias"], eps) @ emb.T)


def check_fixture(directory):
    cfg = json.load(open(os.path.join(directory, "config.json")))
    w = mf.read_safetensors(os.path.join(directory, "model.safetensors"))
    expected = json.load(open(os.path.join(directory, "expected.json")))
    if cfg["model_type"] == "bloom":
        layer, (embed, head) = bloom_layer, bloom_ends(cfg, w)
    else:
        layer, (embed, head) = llama_layer, llama_ends(cfg, w)
    n = expected["num_layers"]
    worst = 0.0
    for case in expected["cases"]:
        retained = set(case["retained"])
        for prompt, dec, want in zip(case["prompts"], case["decode_ids"], case["logits"]):
            P = len(prompt)
            h = embed(torch.tensor(prompt + dec))
            for l in range(n):
                out = layer(cfg, w, l, h)
                if l not in retained:
                    out = torch.cat([out[:P], h[P:]])  # skipped: identity at decode positions
                h = out
            got = head(h)[P - 1:]
            err = (got - torch.tensor(want, dtype=F64)).abs().max().item()
            worst = max(worst, err)
    return worst


def main():
    ok = True
    for name in sorted(os.listdir(mf.FIXTURES)):
        worst = check_fixture(os.path.join(mf.FIXTURES, name))
        # expected.json keeps 7 significant digits: |logit| <= ~12 gives rounding <= ~1e-5.
        status = "ok" if worst < 5e-5 else "MISMATCH"
        ok &= status == "ok"
        print("%-20s max |cache-free - expected| = %.2e  %s" % (name, worst, status))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
