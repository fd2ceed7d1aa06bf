#!/usr/bin/env python3
"""Writes a GGUF LLaMA model with seeded RANDOM weights, in F32, for llama.cpp speed benchmarks.

The shape matches skipllm's `random:llama,...` bench models, so llama.cpp's llama-bench and skipllm's
`bench` time the same arithmetic. The weights are not trained: only throughput means anything.
`llama-quantize IN.gguf OUT.gguf F16|Q8_0` then makes the other formats (engine-bench/scripts/
llamacpp_compare.sh does all of it).

    PYTHONPATH=$LLAMA_CPP/gguf-py python3 engine-bench/scripts/llamacpp/make_gguf.py \
        --layers 32 --hidden 1024 --intermediate 2816 --heads 16 --kv-heads 16 --vocab 32000 \
        --context 2048 --out /tmp/llama-f32.gguf

Needs: python3 with numpy (Debian: python3-numpy) and llama.cpp's gguf-py on PYTHONPATH (the
writer library inside a llama.cpp checkout; not copied here).

Weights: normal with std 1/sqrt(fan_in) (fan_in = the row width: the input width of a matrix,
hidden for the embedding table), RMSNorm weights 1 + N(0, 0.02). Hyperparameters written: rms eps 1e-6, rope
theta 10000, rope dimension = head size. Tensors are generated and streamed to the file one at a
time, so memory stays near the largest tensor (the vocab x hidden ones).

Vocab: llama.cpp refuses a model without one, and llama-bench feeds random token ids, so its
content is irrelevant. We write a minimal SentencePiece ("llama") vocab of exactly --vocab entries:
<unk>, <s>, </s>, the 256 byte tokens <0x00>..<0xFF> (llama.cpp looks up <0x0A> for the newline
token), then filler pieces "▁t<i>", with scores and token types.
"""
import argparse

import numpy as np
import gguf  # from $LLAMA_CPP/gguf-py via PYTHONPATH


def tensor_specs(a):
    """(name, numpy shape (out, in), kind) in file order; GGUF stores the reverse (ne0 = in)."""
    hd = a.hidden // a.heads
    kv = a.kv_heads * hd
    specs = [("token_embd.weight", (a.vocab, a.hidden), "mat")]
    for i in range(a.layers):
        p = f"blk.{i}."
        specs += [
            (p + "attn_norm.weight", (a.hidden,), "norm"),
            (p + "attn_q.weight", (a.hidden, a.hidden), "mat"),
            (p + "attn_k.weight", (kv, a.hidden), "mat"),
            (p + "attn_v.weight", (kv, a.hidden), "mat"),
            (p + "attn_output.weight", (a.hidden, a.hidden), "mat"),
            (p + "ffn_norm.weight", (a.hidden,), "norm"),
            (p + "ffn_gate.weight", (a.intermediate, a.hidden), "mat"),
            (p + "ffn_up.weight", (a.intermediate, a.hidden), "mat"),
            (p + "ffn_down.weight", (a.hidden, a.intermediate), "mat"),
        ]
    specs += [("output_norm.weight", (a.hidden,), "norm"),
              ("output.weight", (a.vocab, a.hidden), "mat")]
    return specs


def make_tensor(rng, shape, kind):
    if kind == "norm":
        return (1.0 + 0.02 * rng.standard_normal(shape, dtype=np.float32)).astype(np.float32)
    x = rng.standard_normal(shape, dtype=np.float32)
    x *= np.float32(1.0 / np.sqrt(shape[-1]))  # shape[-1] = fan_in
    return x


def add_vocab(w, n):
    tokens, scores, types = ["<unk>", "<s>", "</s>"], [0.0, 0.0, 0.0], [
        gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL]
    if n >= 3 + 256:  # byte fallback tokens, as LLaMA's tokenizer has them
        tokens += [f"<0x{b:02X}>" for b in range(256)]
        scores += [0.0] * 256
        types += [gguf.TokenType.BYTE] * 256
    while len(tokens) < n:  # unique filler pieces with decreasing scores
        scores.append(-float(len(tokens)))
        tokens.append(f"\u2581t{len(tokens)}")
        types.append(gguf.TokenType.NORMAL)
    tokens, scores, types = tokens[:n], scores[:n], types[:n]
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types([int(t) for t in types])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--layers", type=int, default=32)
    ap.add_argument("--hidden", type=int, default=1024)
    ap.add_argument("--intermediate", type=int, default=2816)
    ap.add_argument("--heads", type=int, default=16)
    ap.add_argument("--kv-heads", type=int, default=None, help="default: --heads")
    ap.add_argument("--vocab", type=int, default=32000)
    ap.add_argument("--context", type=int, default=2048)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    a.kv_heads = a.kv_heads or a.heads
    if a.hidden % a.heads or a.heads % a.kv_heads:
        ap.error("hidden must be a multiple of heads, heads a multiple of kv-heads")
    head_dim = a.hidden // a.heads

    w = gguf.GGUFWriter(a.out, "llama")
    w.add_name(f"random-llama-{a.layers}x{a.hidden}")
    w.add_context_length(a.context)
    w.add_embedding_length(a.hidden)
    w.add_block_count(a.layers)
    w.add_feed_forward_length(a.intermediate)
    w.add_head_count(a.heads)
    w.add_head_count_kv(a.kv_heads)
    w.add_rope_dimension_count(head_dim)
    w.add_layer_norm_rms_eps(1e-6)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(a.vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)
    add_vocab(w, a.vocab)

    # streaming write: declare every tensor, write header/KV/tensor info, then data one by one
    specs = tensor_specs(a)
    for name, shape, _ in specs:
        w.add_tensor_info(name, shape, np.dtype(np.float32), int(np.prod(shape)) * 4)
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_ti_data_to_file()
    rng = np.random.default_rng(a.seed)
    for name, shape, kind in specs:
        w.write_tensor_data(make_tensor(rng, shape, kind))
    w.close()
    params = sum(int(np.prod(s)) for _, s, _ in specs)
    print(f"wrote {a.out}: {params / 1e6:.1f}M parameters, head size {head_dim}, F32")


if __name__ == "__main__":
    main()
