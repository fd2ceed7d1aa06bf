#!/usr/bin/env python3
"""A byte-level BPE tokenizer, trained from scratch and written as a Hugging Face tokenizer.json.

Debian has no `tokenizers` Python package, so this is the GPT-2 recipe written out:
  1. pre-tokenize with GPT-2's regex (the same regex Hugging Face's ByteLevel pre-tokenizer uses,
     through the `regex` module for \\p{L}/\\p{N}),
  2. map every UTF-8 byte to a printable character (GPT-2's bytes_to_unicode table), so the
     base vocabulary is the 256 bytes and nothing is ever unknown,
  3. repeatedly merge the most frequent adjacent pair (ties: the pair that sorts first, so the
     result is deterministic), counting pairs incrementally.
The file it writes declares the ByteLevel pre-tokenizer and decoder, the BPE model with vocab and
merges, `<pad>`/`<s>`/`</s>` as special tokens (ids 0/1/2) and a post-processor that prepends `<s>`
(LLaMA style), so the engine (DJL -> Rust tokenizers) encodes exactly as `encode()` below; a test
on the Java side checks that on the dev split.

Usage as a script: python3 bpe.py TRAIN_JSONL VOCAB_SIZE OUT_tokenizer.json
"""
import collections
import json
import sys

import regex

SPECIAL_TOKENS = ["<pad>", "<s>", "</s>"]
PAD_ID, BOS_ID, EOS_ID = 0, 1, 2
GPT2_PATTERN = regex.compile(
    r"""'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+""")


def bytes_to_unicode():
    """GPT-2's reversible byte -> printable character table."""
    printable = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) \
        + list(range(ord("®"), ord("ÿ") + 1))
    chars = printable[:]
    n = 0
    for b in range(256):
        if b not in printable:
            printable.append(b)
            chars.append(256 + n)
            n += 1
    return dict(zip(printable, map(chr, chars)))


BYTE_CHARS = bytes_to_unicode()


def pre_tokenize(text):
    """Text -> list of byte-level pre-tokens (strings of BYTE_CHARS characters)."""
    return ["".join(BYTE_CHARS[b] for b in piece.encode("utf-8"))
            for piece in GPT2_PATTERN.findall(text)]


def train(texts, vocab_size):
    """Returns (vocab: token -> id, merges: list of (a, b)) with len(vocab) == vocab_size."""
    word_counts = collections.Counter()
    for text in texts:
        word_counts.update(pre_tokenize(text))
    words = [list(w) for w in word_counts]
    freqs = [word_counts[w] for w in word_counts]

    vocab = {tok: i for i, tok in enumerate(SPECIAL_TOKENS)}
    for ch in sorted(set(BYTE_CHARS.values()), key=lambda c: ord(c)):
        vocab[ch] = len(vocab)

    pair_counts = collections.Counter()
    where = collections.defaultdict(set)  # pair -> indices of words containing it
    for i, w in enumerate(words):
        for pair in zip(w, w[1:]):
            pair_counts[pair] += freqs[i]
            where[pair].add(i)

    merges = []
    while len(vocab) < vocab_size and pair_counts:
        best_count = max(pair_counts.values())
        if best_count < 2:
            break
        best = min(p for p, c in pair_counts.items() if c == best_count)
        merged = best[0] + best[1]
        merges.append(best)
        vocab[merged] = len(vocab)
        for i in list(where[best]):
            w = words[i]
            f = freqs[i]
            for pair in zip(w, w[1:]):  # remove this word's old pairs
                pair_counts[pair] -= f
                if pair_counts[pair] <= 0:
                    del pair_counts[pair]
                where[pair].discard(i)
            out, j = [], 0
            while j < len(w):
                if j + 1 < len(w) and w[j] == best[0] and w[j + 1] == best[1]:
                    out.append(merged)
                    j += 2
                else:
                    out.append(w[j])
                    j += 1
            words[i] = out
            for pair in zip(out, out[1:]):
                pair_counts[pair] += f
                where[pair].add(i)
        where.pop(best, None)
    return vocab, merges


class Encoder:
    """Encodes like Hugging Face's BPE model: merges applied by rank inside each pre-token."""

    def __init__(self, vocab, merges):
        self.vocab = vocab
        self.ranks = {tuple(m): r for r, m in enumerate(merges)}
        self.cache = {}

    def _bpe(self, word):
        if word in self.cache:
            return self.cache[word]
        parts = list(word)
        while len(parts) > 1:
            ranked = [(self.ranks.get(p, 1 << 30), k) for k, p in enumerate(zip(parts, parts[1:]))]
            rank, k = min(ranked)
            if rank == 1 << 30:
                break
            parts = parts[:k] + [parts[k] + parts[k + 1]] + parts[k + 2:]
        ids = [self.vocab[p] for p in parts]
        self.cache[word] = ids
        return ids

    def encode(self, text, bos=False):
        ids = [BOS_ID] if bos else []
        for w in pre_tokenize(text):
            ids.extend(self._bpe(w))
        return ids


def tokenizer_json(vocab, merges):
    added = [{"id": i, "content": t, "single_word": False, "lstrip": False, "rstrip": False,
              "normalized": False, "special": True} for i, t in enumerate(SPECIAL_TOKENS)]
    byte_level = {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True,
                  "use_regex": True}
    bos = {"SpecialToken": {"id": "<s>", "type_id": 0}}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": added,
        "normalizer": None,
        "pre_tokenizer": byte_level,
        "post_processor": {
            "type": "TemplateProcessing",
            "single": [bos, {"Sequence": {"id": "A", "type_id": 0}}],
            "pair": [bos, {"Sequence": {"id": "A", "type_id": 0}},
                     bos, {"Sequence": {"id": "B", "type_id": 1}}],
            "special_tokens": {"<s>": {"id": "<s>", "ids": [BOS_ID], "tokens": ["<s>"]}},
        },
        "decoder": byte_level,
        "model": {"type": "BPE", "dropout": None, "unk_token": None,
                  "continuing_subword_prefix": None, "end_of_word_suffix": None,
                  "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                  "vocab": vocab, "merges": [a + " " + b for a, b in merges]},
    }


def main():
    train_file, vocab_size, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    texts = []
    with open(train_file, encoding="utf-8") as f:
        for line in f:
            row = json.loads(line)
            texts += [row["es"], " " + row["en"]]
    vocab, merges = train(texts, vocab_size)
    with open(out, "w", encoding="utf-8") as f:
        json.dump(tokenizer_json(vocab, merges), f, ensure_ascii=False, indent=1)
    print(json.dumps({"vocab": len(vocab), "merges": len(merges)}))


if __name__ == "__main__":
    main()
