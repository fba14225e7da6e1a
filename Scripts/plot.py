#!/usr/bin/env python3
"""Draws the benchmark charts from `stress bench --json` output.

Usage: Scripts/plot.py RESULTS.json OUTPUT_DIR

Writes summary.md (the tables BENCHMARKS.md shows), throughput-vs-threads.png (one panel per table size, no churn),
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


def fmt(value, digits=1):
    return "-" if value is None else f"{value:.{digits}f}"


def summary(report):
    """The run as Markdown tables."""
    lines = []
    add = lines.append
    read = report["read"]
    sizes = sorted({c["entries"] for c in read})
    threads = sorted({c["threads"] for c in read})

    def cell(design, entries, count, churn="none"):
        for c in read:
            if (c["design"], c["entries"], c["threads"], c["churn"]) == (design, entries, count, churn):
                return c
        return None

    add("### Read side, no churn: million dispatches/s, all threads (slowdown vs (a), vs (b))")
    add("")
    add("| design | threads | " + " | ".join(f"{n} entries" for n in sizes) + " |")
    add("|---|---:|" + "---:|" * len(sizes))
    for design in LABELS:
        for count in threads:
            row = []
            for n in sizes:
                c = cell(design, n, count)
                if c is None:
                    row.append("-")
                    continue
                row.append(f"{c['throughput']['median'] / 1e6:.1f} "
                           f"({fmt(c['slowdownVsFloor'], 2)}x, {fmt(c['slowdownVsRCU'], 2)}x)")
            add(f"| {LABELS[design]} | {count} | " + " | ".join(row) + " |")
    add("")
    add("### Read side, no churn: CPU ns per dispatch (median; min-max over rounds)")
    add("")
    add("| design | threads | " + " | ".join(f"{n} entries" for n in sizes) + " |")
    add("|---|---:|" + "---:|" * len(sizes))
    for design in LABELS:
        for count in threads:
            row = []
            for n in sizes:
                c = cell(design, n, count)
                row.append("-" if c is None else
                           f"{c['nanosPerDispatch']['median']:.1f} "
                           f"({c['nanosPerDispatch']['min']:.1f}-{c['nanosPerDispatch']['max']:.1f})")
            add(f"| {LABELS[design]} | {count} | " + " | ".join(row) + " |")
    add("")
    churn_modes = churns(report)
    for n in [64] if 64 in sizes else sizes[:1]:
        add(f"### Churn, {n} entries: million dispatches/s (writer updates/s achieved)")
        add("")
        add("| design | threads | " + " | ".join(churn_modes) + " |")
        add("|---|---:|" + "---:|" * len(churn_modes))
        for design in LABELS:
            for count in threads:
                row = []
                for churn in churn_modes:
                    c = cell(design, n, count, churn)
                    if c is None:
                        row.append("-")
                    elif churn == "none":
                        row.append(f"{c['throughput']['median'] / 1e6:.1f}")
                    else:
                        row.append(f"{c['throughput']['median'] / 1e6:.1f} "
                                   f"({c['updatesPerSecond']['median']:.0f}/s)")
                add(f"| {LABELS[design]} | {count} | " + " | ".join(row) + " |")
        add("")
    w = report["write"]
    add(f"### Write side (1000 operations each; bus already holding {w['preexisting']} entries; microseconds)")
    add("")
    add("| operation | median | mean | p99 | max |")
    add("|---|---:|---:|---:|---:|")
    ops = [("register (snapshot reclaimed in the background)", "register"),
           ("register + grace-period wait (synchronous)", "registerSynchronous"),
           ("unregister, synchronous (waits for a grace period)", "unregisterSynchronous"),
           ("unregister, deferred (whenReleased callback)", "unregisterDeferred"),
           ("registerEventFD on the bus", "registerEventFD"),
           ("KVM_IOEVENTFD assign", "kvmAssign"),
           ("KVM_IOEVENTFD deassign", "kvmDeassign")]
    for label, key in ops:
        v = w.get(key)
        if v:
            add(f"| {label} | {v['median'] / 1e3:.2f} | {v['mean'] / 1e3:.2f} | "
                f"{v['p99'] / 1e3:.2f} | {v['max'] / 1e3:.2f} |")
    add("")
    add("| 1000 registrations | median ms (min-max) |")
    add("|---|---:|")
    for label, key in [("one batch (`update`)", "batchNanos"),
                       ("1000 single `register` calls", "singlesNanos"),
                       ("1000 single registrations, each + grace period", "singlesSynchronousNanos")]:
        v = w[key]
        add(f"| {label} | {v['median'] / 1e6:.3f} ({v['min'] / 1e6:.3f}-{v['max'] / 1e6:.3f}) |")
    add("")
    e = report["eventFD"]
    add(f"### Eventfd ({e['registrations']} ioeventfd registrations, 1 thread; ns per write)")
    add("")
    add("| path | median | min-max |")
    add("|---|---:|---:|")
    for label, key in [("guest write dispatched by the bus to an IOEventFD", "busDispatchNanos"),
                       ("bare eventfd `write(2)`, same eventfds, same order", "bareWriteNanos")]:
        v = e[key]
        add(f"| {label} | {v['median']:.1f} | {v['min']:.1f}-{v['max']:.1f} |")
    add("")
    add("### Targets")
    add("")
    add("| target | result | figure |")
    add("|---|---|---|")
    for t in report["targets"]:
        add(f"| {t['name']} | {'MET' if t['met'] else '**MISSED**'} | {t['figure']} |")
    add("")
    return "\n".join(lines)


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
    with open(os.path.join(out, "summary.md"), "w") as handle:
        handle.write(summary(report))
    print(f"charts written to {out}")


if __name__ == "__main__":
    main()
