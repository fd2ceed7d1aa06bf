#!/usr/bin/env python3
"""Markdown table of a llamacpp_compare.sh results dir: llama.cpp vs skipllm tokens/s per format.

    python3 engine-bench/scripts/llamacpp_table.py /tmp/skipllm-llamacpp/results-a [> table.md]

Needs: python3 (standard library only). Reads RESULTS/llamacpp.json and RESULTS/skipllm-W.json (bench
--json of skipllm, one per --weights W). Rows: format x (decode batch 1, decode batch 8, prefill 128);
columns: llama.cpp tokens/s, skipllm tokens/s at full depth (its "full" row), skipllm / llama.cpp,
and, for decode, skipllm's unified rows at each speedup. skipllm prefill = prompt_tokens /
prefill_ms of the full batch-1 row (the median prefill of the whole batch), only when the bench ran
with 128-token prompts; otherwise, or when absent, the cell is empty.
"""
import json
import os
import sys

# llama.cpp format -> skipllm --weights values compared with it
VARIANTS = {"F32": ["f32"], "F16": ["f16", "bf16"], "Q8_0": ["q8_0"], "Q4_0": ["q4_0"]}


def load_skipllm(path):
    """Last JSON document with "rows" in a bench --json output (stdout: one document per line)."""
    doc = None
    for line in open(path):
        line = line.strip()
        if line.startswith("{"):
            d = json.loads(line)
            if "rows" in d:
                doc = d
    return doc


def row(doc, strategy, batch, speedup=None):
    for r in doc["rows"]:
        if r["strategy"] == strategy and r["batch"] == batch and r.get("supported", True) \
                and (speedup is None or r["speedup"] == speedup):
            return r
    return None


def fmt(x):
    return "" if x is None else f"{x:.1f}"


def main():
    results = sys.argv[1] if len(sys.argv) > 1 else sys.exit(__doc__)
    ll = json.load(open(os.path.join(results, "llamacpp.json")))
    docs = {}
    for variants in VARIANTS.values():
        for w in variants:
            p = os.path.join(results, f"skipllm-{w}.json")
            if os.path.exists(p):
                docs[w] = load_skipllm(p)
    speedups = sorted({r["speedup"] for d in docs.values() if d for r in d["rows"] if r["strategy"] == "unified"})
    head = ["format", "workload", "llama.cpp tok/s", "skipllm tok/s (full)", "skipllm / llama.cpp"]
    head += [f"skipllm unified {s:g}x tok/s" for s in speedups]
    print(f"llama.cpp {ll['llama_cpp_commit'][:9]}, shape {ll['shape']}, {ll['threads']} threads, "
          f"{ll['repetitions']} repetitions\n")
    print("| " + " | ".join(head) + " |")
    print("|" + "---|" * len(head))
    for f, r in ll["formats"].items():
        for w in VARIANTS.get(f, [None]) or [None]:
            d = docs.get(w)
            label = f"{f}" + (f" (skipllm {w})" if w else "")
            for work, key, batch in (("decode b1", "decode_b1_tokens_per_s", 1),
                                     ("decode b8", "decode_b8_tokens_per_s", 8),
                                     ("prefill 128", "prefill128_tokens_per_s", None)):
                ref, ours, extra = r.get(key), None, ["" for _ in speedups]
                if d and batch:
                    full = row(d, "full", batch)
                    ours = full and full["tokens_per_s"]
                    extra = [fmt((row(d, "unified", batch, s) or {}).get("tokens_per_s")) for s in speedups]
                elif d and d.get("workload", {}).get("prompt_tokens") == 128:
                    full = row(d, "full", 1)
                    if full and full.get("prefill_ms"):
                        ours = 128 / (full["prefill_ms"] / 1000)
                ratio = f"{ours / ref:.2f}" if ours and ref else ""
                print("| " + " | ".join([label, work, fmt(ref), fmt(ours), ratio] + extra) + " |")


if __name__ == "__main__":
    main()
