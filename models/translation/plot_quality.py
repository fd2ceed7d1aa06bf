#!/usr/bin/env python3
"""Plots docs/quality.png from `skipllm eval --json` results (response loss and BLEU against the
target speedup, one line per strategy, one column per model variant) and prints the markdown table
of docs/quality.md to stdout.

Needs Debian's matplotlib (apt-get install python3-matplotlib).
Usage: /usr/bin/python3 models/translation/plot_quality.py OUT.png NAME=RESULT.json [NAME=RESULT.json ...]
"""
import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

STYLE = {"unified": ("tab:blue", "o"), "top": ("tab:orange", "s"), "bottom": ("tab:green", "^"),
         "greedy": ("tab:purple", "D"), "skipdecode": ("tab:red", "v"),
         "early-exit": ("tab:brown", "x")}


def main():
    out, runs = sys.argv[1], [a.split("=", 1) for a in sys.argv[2:]]
    fig, axes = plt.subplots(2, len(runs), figsize=(4.2 * len(runs), 7), squeeze=False,
                             sharey="row")
    for col, (name, path) in enumerate(runs):
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        full = next((r for r in rows if r["strategy"] == "full"), None)
        for metric, row_ax in (("loss", axes[0][col]), ("bleu", axes[1][col])):
            for strategy, (color, marker) in STYLE.items():
                pts = sorted((r["speedup"], r[metric]) for r in rows
                             if r["strategy"] == strategy and r.get(metric) is not None)
                if full is not None and pts:
                    pts = [(1.0, full[metric])] + pts
                if pts:
                    row_ax.plot([p[0] for p in pts], [p[1] for p in pts], marker=marker,
                                color=color, label=strategy)
            row_ax.set_xlabel("target speedup (N / retained layers)")
            row_ax.grid(alpha=0.3)
        axes[0][col].set_title(name)
    axes[0][0].set_ylabel("response loss (nats/token, lower is better)")
    axes[1][0].set_ylabel("BLEU (test split, higher is better)")
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Spanish -> English verses, 12-layer LLaMA (3.5M params): quality vs speedup")
    fig.tight_layout()
    fig.savefig(out, dpi=110)
    print_table(runs)


def print_table(runs):
    print("| model | strategy | target | retained layers | activated layers | BLEU | chrF | loss | "
          "output tokens | tokens/s |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for name, path in runs:
        with open(path, encoding="utf-8") as f:
            rows = json.load(f)["rows"]
        for r in rows:
            retained = "schedule" if r["retained"] is None else ",".join(map(str, r["retained"]))
            if r["strategy"] == "full":
                retained = "all 12"
            print(f"| {name} | {r['strategy']} | {r['speedup']:g}x | {retained} | "
                  f"{r['activated_layers']:.2f} | {r['bleu']:.2f} | {r['chrf']:.2f} | {r['loss']:.3f} | "
                  f"{r['mean_output_tokens']:.1f} | {r['tokens_per_s']:.0f} |")


if __name__ == "__main__":
    main()
