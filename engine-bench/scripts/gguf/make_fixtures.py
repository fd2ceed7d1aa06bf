#!/usr/bin/env python3
"""Writes the GGUF test fixtures of skipllm (models/reference/gguf/) with llama.cpp's own gguf-py.

Small models with seeded random weights, and tokenizer-only files, whose vocabularies come from the
shipped translation tokenizer (models/translation/base/tokenizer.json):

  llama-spm-f32.gguf     arch llama, SentencePiece ("llama") vocab of ~1500 pieces with scores and
                         byte fallback, 2 layers, hidden 64, 4 heads / 2 kv heads, separate output
  qwen2-bpe-f32.gguf     arch qwen2, byte-level BPE ("gpt2", pre qwen2) vocab of 4096 with merges,
                         q/k/v biases, tied output (no output.weight)
  llama-spm256-f32.gguf  as llama-spm with hidden 256 (K-quant blocks are 256 wide)
  bpe-default.gguf, bpe-llama-bpe.gguf, bpe-gpt-2.gguf   the BPE vocab with pre-tokenizers default,
                         llama-bpe and gpt-2 (no tensors: for llama.cpp's vocab-only loading)

make_fixtures.sh then quantizes them with llama-quantize and records llama.cpp's outputs.

    PYTHONPATH=$LLAMA_CPP/gguf-py python3 make_fixtures.py OUT_DIR
"""
import json
import os
import sys

import types

import numpy as np

# gguf-py imports sentencepiece and yaml for converters this script does not use; stand in for them
# when they are not installed (the writer itself needs only numpy)
for missing in ("sentencepiece", "yaml"):
    try:
        __import__(missing)
    except ImportError:
        stub = types.ModuleType(missing)
        stub.SentencePieceProcessor = None
        sys.modules[missing] = stub
import gguf  # noqa: E402  (from $LLAMA_CPP/gguf-py via PYTHONPATH)

HERE = os.path.dirname(os.path.abspath(__file__))
TOKENIZER = os.path.join(HERE, "..", "..", "..", "models", "translation", "base", "tokenizer.json")


def byte_decoder():
    """GPT-2's byte-to-unicode table, inverted: the byte-level alphabet back to bytes."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


def bpe_vocab():
    t = json.load(open(TOKENIZER))
    vocab = sorted(t["model"]["vocab"].items(), key=lambda kv: kv[1])
    tokens = [tok for tok, _ in vocab]
    merges = [m if isinstance(m, str) else " ".join(m) for m in t["model"]["merges"]]
    types = [gguf.TokenType.CONTROL if tok in ("<pad>", "<s>", "</s>") else gguf.TokenType.NORMAL for tok in tokens]
    return tokens, merges, types


def spm_vocab(limit):
    """A SentencePiece-style vocab from the BPE pieces: text with spaces as U+2581, score = -rank."""
    dec = byte_decoder()
    tokens = ["<unk>", "<s>", "</s>"] + [f"<0x{b:02X}>" for b in range(256)]
    types = [gguf.TokenType.UNKNOWN, gguf.TokenType.CONTROL, gguf.TokenType.CONTROL] + [gguf.TokenType.BYTE] * 256
    scores = [0.0] * len(tokens)
    seen = set(tokens)
    bpe, _, _ = bpe_vocab()
    for rank, tok in enumerate(bpe[3:]):
        try:
            text = bytes(dec[c] for c in tok).decode("utf-8")
        except (KeyError, UnicodeDecodeError):
            continue
        piece = text.replace(" ", "\u2581")
        if piece in seen or not piece:
            continue
        seen.add(piece)
        tokens.append(piece)
        types.append(gguf.TokenType.NORMAL)
        scores.append(-float(rank))
        # SentencePiece vocabularies hold every character of every piece as a piece of its own (pieces grow
        # from characters by merges); the byte-level pieces this vocab comes from do not, so add them
        for ch in piece:
            if ch not in seen:
                seen.add(ch)
                tokens.append(ch)
                types.append(gguf.TokenType.NORMAL)
                scores.append(-float(rank) - 0.5)
        if len(tokens) >= limit:
            break
    return tokens, scores, types


def add_hparams(w, arch, layers, hidden, ff, heads, kv, vocab):
    w.add_context_length(256)
    w.add_embedding_length(hidden)
    w.add_block_count(layers)
    w.add_feed_forward_length(ff)
    w.add_head_count(heads)
    w.add_head_count_kv(kv)
    w.add_rope_dimension_count(hidden // heads)
    w.add_layer_norm_rms_eps(1e-5)
    w.add_rope_freq_base(10000.0)
    w.add_vocab_size(vocab)
    w.add_file_type(gguf.LlamaFileType.ALL_F32)


def add_spm(w, tokens, scores, types):
    w.add_tokenizer_model("llama")
    w.add_token_list(tokens)
    w.add_token_scores(scores)
    w.add_token_types([int(t) for t in types])
    w.add_unk_token_id(0)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_add_bos_token(True)
    w.add_add_eos_token(False)


def add_bpe(w, pre, tokens, merges, types, add_bos):
    w.add_tokenizer_model("gpt2")
    w.add_tokenizer_pre(pre)
    w.add_token_list(tokens)
    w.add_token_types([int(t) for t in types])
    w.add_token_merges(merges)
    w.add_bos_token_id(1)
    w.add_eos_token_id(2)
    w.add_pad_token_id(0)
    w.add_add_bos_token(add_bos)


def add_weights(w, rng, layers, hidden, ff, heads, kv, vocab, tied, bias):
    hd = hidden // heads

    def mat(rows, cols):
        return (rng.standard_normal((rows, cols), dtype=np.float32) / np.float32(np.sqrt(cols))).astype(np.float32)

    def norm(n):
        return (1.0 + 0.1 * rng.standard_normal(n, dtype=np.float32)).astype(np.float32)

    w.add_tensor("token_embd.weight", mat(vocab, hidden))
    for i in range(layers):
        p = f"blk.{i}."
        w.add_tensor(p + "attn_norm.weight", norm(hidden))
        w.add_tensor(p + "attn_q.weight", mat(heads * hd, hidden))
        w.add_tensor(p + "attn_k.weight", mat(kv * hd, hidden))
        w.add_tensor(p + "attn_v.weight", mat(kv * hd, hidden))
        if bias:
            w.add_tensor(p + "attn_q.bias", (0.1 * rng.standard_normal(heads * hd)).astype(np.float32))
            w.add_tensor(p + "attn_k.bias", (0.1 * rng.standard_normal(kv * hd)).astype(np.float32))
            w.add_tensor(p + "attn_v.bias", (0.1 * rng.standard_normal(kv * hd)).astype(np.float32))
        w.add_tensor(p + "attn_output.weight", mat(hidden, heads * hd))
        w.add_tensor(p + "ffn_norm.weight", norm(hidden))
        w.add_tensor(p + "ffn_gate.weight", mat(ff, hidden))
        w.add_tensor(p + "ffn_up.weight", mat(ff, hidden))
        w.add_tensor(p + "ffn_down.weight", mat(hidden, ff))
    w.add_tensor("output_norm.weight", norm(hidden))
    if not tied:
        # scaled up so that the random model's top logits are well apart (greedy ties would make the
        # comparison with llama.cpp depend on rounding)
        w.add_tensor("output.weight", 4 * mat(vocab, hidden))


def write(path, w):
    w.write_header_to_file()
    w.write_kv_data_to_file()
    w.write_tensors_to_file()
    w.close()
    print("wrote", path)


def main():
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    spm = spm_vocab(1536)
    bpe = bpe_vocab()

    for name, hidden, ff, seed in (("llama-spm-f32.gguf", 64, 128, 1), ("llama-spm256-f32.gguf", 256, 512, 3)):
        path = os.path.join(out, name)
        w = gguf.GGUFWriter(path, "llama")
        w.add_name(name)
        add_hparams(w, "llama", 2, hidden, ff, 4, 2, len(spm[0]))
        add_spm(w, *spm)
        add_weights(w, np.random.default_rng(seed), 2, hidden, ff, 4, 2, len(spm[0]), tied=False, bias=False)
        write(path, w)

    path = os.path.join(out, "qwen2-bpe-f32.gguf")
    w = gguf.GGUFWriter(path, "qwen2")
    w.add_name("qwen2-bpe")
    add_hparams(w, "qwen2", 2, 64, 128, 4, 2, len(bpe[0]))
    add_bpe(w, "qwen2", bpe[0], bpe[1], bpe[2], add_bos=False)
    add_weights(w, np.random.default_rng(2), 2, 64, 128, 4, 2, len(bpe[0]), tied=True, bias=True)
    write(path, w)

    for pre in ("default", "llama-bpe", "gpt-2"):
        path = os.path.join(out, f"bpe-{pre}.gguf")
        w = gguf.GGUFWriter(path, "llama")
        w.add_name(f"bpe-{pre}")
        add_hparams(w, "llama", 1, 64, 128, 4, 4, len(bpe[0]))
        add_bpe(w, pre, bpe[0], bpe[1], bpe[2], add_bos=True)
        write(path, w)


if __name__ == "__main__":
    main()
