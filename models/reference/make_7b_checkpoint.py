#!/usr/bin/python3
"""Writes a LLaMA-2-7B-shaped Hugging Face checkpoint with seeded RANDOM BF16 weights.

For loading and speed tests at real scale (the weights are not trained: only shapes, file layout
and throughput mean anything). Output directory:

    config.json                          LlamaForCausalLM, LLaMA-2-7B hyperparameters by default
    model-0000K-of-0000N.safetensors     shards of about --shard-gb GB (default 4), BF16 tensors
    model.safetensors.index.json         {"metadata": {"total_size": bytes}, "weight_map": {name: file}}

Run (full size: 6.74e9 parameters, about 13.5 GB on disk):
    nice -n 19 /usr/bin/python3 models/reference/make_7b_checkpoint.py --out /work/ckpt/llama2-7b-shape
Small version for tests:
    /usr/bin/python3 models/reference/make_7b_checkpoint.py --out /tmp/tiny \
        --layers 2 --hidden 256 --intermediate 688 --heads 4 --vocab 1000

Needs: python3 and numpy only (Debian: python3-numpy); no torch, no safetensors package.

Weights: normal with std 1/sqrt(fan_in) (fan_in = input width; the embedding table also uses
1/sqrt(hidden)), RMSNorm weights 1 + N(0, 0.02). Each tensor has its own generator seeded by
(--seed, tensor index), so a tensor's values do not depend on the others. Tensors are generated
and written in chunks of rows (--chunk-mb of float32 at a time), so the script's memory stays a few
hundred MB whatever the model size. BF16 = the top 16 bits of the float32, rounded to nearest even.

Safetensors layout (as models/reference/make_fixtures.py and models/translation/safetensors_writer.py
write it, but streamed): 8-byte little-endian header length, JSON header {name: {dtype, shape,
data_offsets: [begin, end)}, "__metadata__": {"format": "pt"}} padded with spaces so the data starts
at a multiple of 8, then the raw little-endian tensor bytes in header order.
"""
import argparse
import json
import os
import struct
import sys
import time

import numpy as np


def tensor_specs(a):
    """(name, shape, kind) in HF order; shape is (out_features, in_features) for Linear weights."""
    hd = a.hidden // a.heads
    kv = a.kv_heads * hd
    specs = [("model.embed_tokens.weight", (a.vocab, a.hidden), "mat")]
    for i in range(a.layers):
        p = f"model.layers.{i}."
        specs += [
            (p + "input_layernorm.weight", (a.hidden,), "norm"),
            (p + "self_attn.q_proj.weight", (a.hidden, a.hidden), "mat"),
            (p + "self_attn.k_proj.weight", (kv, a.hidden), "mat"),
            (p + "self_attn.v_proj.weight", (kv, a.hidden), "mat"),
            (p + "self_attn.o_proj.weight", (a.hidden, a.hidden), "mat"),
            (p + "post_attention_layernorm.weight", (a.hidden,), "norm"),
            (p + "mlp.gate_proj.weight", (a.intermediate, a.hidden), "mat"),
            (p + "mlp.up_proj.weight", (a.intermediate, a.hidden), "mat"),
            (p + "mlp.down_proj.weight", (a.hidden, a.intermediate), "mat"),
        ]
    specs += [("model.norm.weight", (a.hidden,), "norm"),
              ("lm_head.weight", (a.vocab, a.hidden), "mat")]
    return specs


def to_bf16(x):
    """float32 array -> uint16 bf16 bits, round to nearest even (inputs are finite)."""
    u = x.view(np.uint32)
    u += np.uint32(0x7FFF) + ((u >> np.uint32(16)) & np.uint32(1))
    return (u >> np.uint32(16)).astype(np.uint16)


def write_tensor(f, shape, kind, rng, chunk_elems):
    """Generates one tensor chunk by chunk of rows and writes its bf16 bytes; returns bytes written."""
    rows = shape[0] if len(shape) == 2 else 1
    cols = shape[-1]
    step = max(1, chunk_elems // cols)
    written = 0
    for r0 in range(0, rows, step):
        x = rng.standard_normal((min(step, rows - r0), cols), dtype=np.float32)
        if kind == "norm":
            x *= np.float32(0.02)
            x += np.float32(1.0)
        else:
            x *= np.float32(1.0 / np.sqrt(cols))  # cols = fan_in
        b = to_bf16(x)
        f.write(b.tobytes())  # little-endian on x86 / ARM
        written += b.nbytes
    return written


def shard(specs, max_bytes):
    """Splits the tensor list, in order, into shards of at most max_bytes (at least one tensor each)."""
    shards, cur, size = [], [], 0
    for spec in specs:
        n = 2 * int(np.prod(spec[1]))
        if cur and size + n > max_bytes:
            shards.append(cur)
            cur, size = [], 0
        cur.append(spec)
        size += n
    shards.append(cur)
    return shards


def header_bytes(specs):
    header, offset = {}, 0
    for name, shape, _ in specs:
        n = 2 * int(np.prod(shape))
        header[name] = {"dtype": "BF16", "shape": list(shape), "data_offsets": [offset, offset + n]}
        offset += n
    header["__metadata__"] = {"format": "pt"}
    text = json.dumps(header, separators=(",", ":")).encode("utf-8")
    text += b" " * ((-(8 + len(text))) % 8)  # data section starts 8-byte aligned
    return struct.pack("<Q", len(text)) + text, offset


def config(a):
    return {
        "architectures": ["LlamaForCausalLM"],
        "model_type": "llama",
        "hidden_act": "silu",
        "hidden_size": a.hidden,
        "intermediate_size": a.intermediate,
        "num_hidden_layers": a.layers,
        "num_attention_heads": a.heads,
        "num_key_value_heads": a.kv_heads,
        "vocab_size": a.vocab,
        "max_position_embeddings": a.context,
        "rms_norm_eps": 1e-5,
        "rope_theta": 10000.0,
        "rope_scaling": None,
        "attention_bias": False,
        "tie_word_embeddings": False,
        "torch_dtype": "bfloat16",
        "bos_token_id": 1,
        "eos_token_id": 2,
        "initializer_range": 0.02,
    }


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--out", required=True, help="output directory (created)")
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=4096)
    ap.add_argument("--intermediate", type=int, default=11008)
    ap.add_argument("--heads", type=int, default=32)
    ap.add_argument("--kv-heads", type=int, default=None, help="default: --heads")
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--context", type=int, default=4096, help="max_position_embeddings")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--shard-gb", type=float, default=4.0, help="max shard size in GB (1e9 bytes)")
    ap.add_argument("--chunk-mb", type=int, default=128, help="float32 MB generated at a time")
    a = ap.parse_args()
    a.kv_heads = a.kv_heads or a.heads
    if a.hidden % a.heads or a.heads % a.kv_heads:
        ap.error("hidden must be a multiple of heads, heads a multiple of kv-heads")

    os.makedirs(a.out, exist_ok=True)
    with open(os.path.join(a.out, "config.json"), "w") as f:
        json.dump(config(a), f, indent=2)
        f.write("\n")

    specs = tensor_specs(a)
    index = {name: i for i, (name, _, _) in enumerate(specs)}
    shards = shard(specs, int(a.shard_gb * 1e9))
    chunk_elems = a.chunk_mb * (1 << 20) // 4
    weight_map, total, t0 = {}, 0, time.time()
    for k, part in enumerate(shards):
        fname = f"model-{k + 1:05d}-of-{len(shards):05d}.safetensors"
        head, data_bytes = header_bytes(part)
        tmp = os.path.join(a.out, fname + ".partial")
        with open(tmp, "wb") as f:
            f.write(head)
            for name, shape, kind in part:
                rng = np.random.default_rng([a.seed, index[name]])
                n = write_tensor(f, shape, kind, rng, chunk_elems)
                assert n == 2 * int(np.prod(shape))
                weight_map[name] = fname
        os.replace(tmp, os.path.join(a.out, fname))
        total += data_bytes
        print(f"{fname}: {len(part)} tensors, {data_bytes / 1e9:.2f} GB, {time.time() - t0:.0f} s",
              file=sys.stderr)
    with open(os.path.join(a.out, "model.safetensors.index.json"), "w") as f:
        json.dump({"metadata": {"total_size": total}, "weight_map": weight_map}, f, indent=2)
        f.write("\n")
    params = sum(int(np.prod(s)) for _, s, _ in specs)
    print(f"wrote {a.out}: {params / 1e9:.3f}e9 parameters, {total / 1e9:.2f} GB in {len(shards)} "
          f"shards, {time.time() - t0:.0f} s", file=sys.stderr)


if __name__ == "__main__":
    main()
