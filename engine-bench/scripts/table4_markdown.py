#!/usr/bin/env python3
"""Print `skipllm bench --json` results as the markdown table of docs/benchmarks.md.

Usage: python3 engine-bench/scripts/table4_markdown.py RESULTS.json
"""
import json
import sys

NAMES = {"full": "full network", "unified": "**unified**", "skipdecode": "SkipDecode", "early-exit": "early exit",
         "top": "top", "bottom": "bottom"}
ORDER = ["full", "unified", "skipdecode", "early-exit", "top", "bottom"]


def main():
    with open(sys.argv[1]) as f:
        data = json.load(f)
    print("| batch | target | approach | layers/token | tokens/s (pooled [slowest, fastest round]) "
          "| speedup vs full [rounds] | predicted | measured / predicted | weight reads GB/s |")
    print("|---|---|---|---|---|---|---|---|---|")
    rows = sorted(data["rows"], key=lambda r: (r["batch"], ORDER.index(r["strategy"]), r["speedup"]))
    for r in rows:
        target = "1x" if r["strategy"] == "full" else f"{r['speedup']:g}x"
        head = f"| {r['batch']} | {target} | {NAMES[r['strategy']]} |"
        if not r["supported"]:
            print(head + " n/a | not supported (batch > 1) | | | | |")
            continue
        print(head + f" {r['activated_layers']:.1f} | {r['tokens_per_s']:.1f} [{r['tokens_per_s_min']:.1f}, "
              f"{r['tokens_per_s_max']:.1f}] | {r['speedup_vs_full']:.2f} [{r['speedup_vs_full_min']:.2f}, "
              f"{r['speedup_vs_full_max']:.2f}] | {r['predicted_speedup']:.2f} | "
              f"{100 * r['speedup_vs_full'] / r['predicted_speedup']:.0f}% | {r['weight_read_gb_per_s']:.1f} |")
    probes = data.get("memory_probes_gb_per_s", {})
    print()
    print(f"Memory read bandwidth in the same run: {data['memory_read_gb_per_s']:.1f} GB/s "
          f"(matrix-vector {probes.get('matrix_vector', float('nan')):.1f}, sum {probes.get('sum', float('nan')):.1f}).")


if __name__ == "__main__":
    main()
