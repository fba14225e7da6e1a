#!/usr/bin/env python3
"""Draws the benchmark charts from `stress bench --json` output.

Usage: Scripts/plot.py RESULTS.json OUTPUT_DIR

Writes throughput-vs-threads.png (one panel per table size, no churn),
throughput-vs-threads-churn.png (64 entries, one panel per churn mode) and
ns-vs-table-size.png (one panel per thread count, no churn). Installs matplotlib with pip
when it is missing.
"""
import json
import os
import subprocess
import sys

try:
    import matplotlib
except ImportError:
    subprocess.check_call([sys.executable, "-m", "pip", "install", "--quiet", "matplotlib"])
    import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LABELS = {
    "floor": "(a) unsynchronized floor",
    "rcu": "(b) RCU bus",
    "rwlock": "(c) pthread rwlock",
    "mutex": "(d) pthread mutex",
    "swapped": "(e) swapped ref, retain per lookup",
}
STYLE = {
    "floor": ("black", "--", "o"),
    "rcu": ("tab:green", "-", "s"),
    "rwlock": ("tab:orange", "-", "^"),
    "mutex": ("tab:red", "-", "v"),
    "swapped": ("tab:blue", "-", "D"),
}


def cells(report, **match):
    return [c for c in report["read"] if all(c[k] == v for k, v in match.items())]


def series(report, design, x_key, **match):
    rows = sorted(cells(report, design=design, **match), key=lambda c: c[x_key])
    return rows


def draw_line(ax, rows, design, x_key, metric, scale):
    if not rows:
        return
    color, dash, marker = STYLE[design]
    xs = [r[x_key] for r in rows]
    mid = [r[metric]["median"] * scale for r in rows]
    low = [m - r[metric]["min"] * scale for r, m in zip(rows, mid)]
    high = [r[metric]["max"] * scale - m for r, m in zip(rows, mid)]
    ax.errorbar(xs, mid, yerr=[low, high], color=color, linestyle=dash, marker=marker,
                capsize=3, label=LABELS[design])


def throughput_vs_threads(report, out, churn, sizes, by_churn=False):
    panels = churns(report) if by_churn else sizes
    columns = min(len(panels), 2)
    rows = (len(panels) + columns - 1) // columns
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.6 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        match = {"entries": 64, "churn": panel} if by_churn else {"entries": panel, "churn": churn}
        for design in LABELS:
            draw_line(ax, series(report, design, "threads", **match), design, "threads",
                      "throughput", 1e-6)
        threads = sorted({c["threads"] for c in report["read"]})
        ax.set_xticks(threads)
        ax.set_xlabel("reader threads")
        ax.set_ylabel("million dispatches / s (all threads)")
        ax.set_ylim(bottom=0)
        ax.set_title(f"64 entries, churn {panel}" if by_churn else f"{panel} entries, no churn")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    cores = report["machine"]["cores"]
    fig.suptitle(f"Throughput vs threads ({cores} cores; median, bars = min-max of rounds)")
    fig.tight_layout()
    name = "throughput-vs-threads-churn.png" if by_churn else "throughput-vs-threads.png"
    fig.savefig(os.path.join(out, name), dpi=110)
    plt.close(fig)


def churns(report):
    order = ["none", "1000/s", "flat-out"]
    present = {c["churn"] for c in report["read"]}
    return [c for c in order if c in present]


def ns_vs_size(report, out):
    threads = sorted({c["threads"] for c in report["read"]})
    fig, axes = plt.subplots(1, len(threads), figsize=(5.5 * len(threads), 4.6), squeeze=False)
    for ax, count in zip(axes[0], threads):
        for design in LABELS:
            draw_line(ax, series(report, design, "entries", threads=count, churn="none"),
                      design, "entries", "nanosPerDispatch", 1)
        ax.set_xscale("log")
        ax.set_xlabel("table entries")
        ax.set_ylabel("CPU ns per dispatch")
        ax.set_ylim(bottom=0)
        ax.set_title(f"{count} thread(s), no churn")
        ax.grid(alpha=0.3)
    axes[0][0].legend(fontsize=8)
    fig.suptitle("Cost per dispatch vs table size (median, bars = min-max of rounds)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "ns-vs-table-size.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as handle:
        report = json.load(handle)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    sizes = sorted({c["entries"] for c in report["read"]})
    throughput_vs_threads(report, out, "none", sizes)
    throughput_vs_threads(report, out, None, sizes, by_churn=True)
    ns_vs_size(report, out)
    print(f"charts written to {out}")


if __name__ == "__main__":
    main()
