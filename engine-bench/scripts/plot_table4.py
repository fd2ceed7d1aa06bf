#!/usr/bin/env python3
"""Plot `skipllm bench --json` results in the layout of the paper's Table 4.

Usage: python3 engine-bench/scripts/plot_table4.py OUT.png RESULTS.json [RESULTS.json ...]
Each RESULTS.json is one line of `bench --json` output (its "model" key names the model, its "workload"
key says whether responses stopped early).
Needs Debian's python3-matplotlib only.
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

APPROACHES = ["full", "early-exit", "skipdecode", "unified"]
COLOURS = {"full": "#777777", "early-exit": "#1f77b4", "skipdecode": "#2ca02c", "unified": "#d62728"}


def main():
    out, inputs = sys.argv[1], sys.argv[2:]
    fig, axes = plt.subplots(len(inputs), 2, figsize=(12, 4.2 * len(inputs)), squeeze=False)
    for row, path in enumerate(inputs):
        with open(path) as f:
            data = json.load(f)
        spec = data.get("model", data.get("spec", path)).replace("random:", "")
        fields = dict(kv.split("=") for kv in spec.split(",")[1:] if "=" in kv)
        name = f"{spec.split(',')[0]} {fields.get('layers', '?')} layers"
        workload = data.get("workload") or {}
        if workload.get("response_lengths"):
            name += ", stopping early"
        elif workload:
            name += f", {workload['new_tokens']} tokens"
        rows = [r for r in data["rows"] if r["supported"]]
        batches = sorted({r["batch"] for r in rows})
        targets = sorted({r["speedup"] for r in rows if r["strategy"] != "full"})
        # left: tokens/s per approach, grouped by (batch, target)
        ax = axes[row][0]
        groups = [(b, t) for b in batches for t in targets]
        width = 0.8 / len(APPROACHES)
        for i, approach in enumerate(APPROACHES):
            xs, ys = [], []
            for g, (b, t) in enumerate(groups):
                match = [r for r in rows if r["batch"] == b and r["strategy"] == approach
                         and (approach == "full" or r["speedup"] == t)]
                if match:
                    xs.append(g + (i - 1.5) * width)
                    ys.append(match[0]["tokens_per_s"])
            ax.bar(xs, ys, width, label=approach, color=COLOURS[approach])
        ax.set_xticks(range(len(groups)))
        ax.set_xticklabels([f"batch {b}\n{t:g}x" for b, t in groups])
        ax.set_ylabel("generated tokens/s")
        ax.set_title(f"{name}: decode throughput")
        ax.legend(fontsize=8)
        # right: measured vs predicted speedup
        ax = axes[row][1]
        for approach in APPROACHES[1:]:
            pts = [r for r in rows if r["strategy"] == approach]
            ax.scatter([r["predicted_speedup"] for r in pts], [r["speedup_vs_full"] for r in pts],
                       label=approach, color=COLOURS[approach])
        top = max([r["predicted_speedup"] for r in rows] + [r["speedup_vs_full"] for r in rows]) * 1.1
        ax.plot([1, top], [1, top], "k--", linewidth=0.8, label="measured = predicted")
        ax.set_xlabel("predicted speedup (weight bytes read)")
        ax.set_ylabel("measured speedup vs full depth")
        ax.set_title(f"{name}: measured vs predicted")
        ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(out, dpi=90)


if __name__ == "__main__":
    main()
