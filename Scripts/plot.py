#!/usr/bin/env python3
"""Draws the benchmark charts from `stress bench --json` output.

Usage: Scripts/plot.py RESULTS.json OUTPUT_DIR

Writes summary.md (the tables BENCHMARKS.md shows), throughput-vs-threads.png (one panel per
table size, no churn), throughput-vs-threads-churn.png (64 entries, one panel per churn mode),
ns-vs-table-size.png (one panel per thread count, no churn) and flavors.png (churn cost,
writers under oversubscription and reclamation latency per RCU flavor). Installs matplotlib
with pip when it is missing. Sections a run left out (`stress bench --only`) are skipped.
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
    "memb": "(b) RCU bus, memb",
    "qsbr": "(b') RCU bus, qsbr",
    "rwlock": "(c) pthread rwlock",
    "mutex": "(d) pthread mutex",
    "swapped": "(e) swapped ref, retain per lookup",
}
FLAVORS = ["memb", "bp", "qsbr", "mb", "signal"]
STYLE = {
    "floor": ("black", "--", "o"),
    "memb": ("tab:green", "-", "s"),
    "qsbr": ("tab:olive", "-", "P"),
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
    if report["read"]:
        lines += read_tables(report)
    lines += flavor_tables(report)
    if report.get("write"):
        lines += write_tables(report["write"])
    if report.get("eventFD"):
        lines += eventfd_table(report["eventFD"])
    if report.get("ring"):
        lines += ring_table(report["ring"])
    lines += ["### Targets", "", "| target | result | figure |", "|---|---|---|"]
    for t in report["targets"]:
        lines.append(f"| {t['name']} | {'MET' if t['met'] else '**MISSED**'} | {t['figure']} |")
    lines.append("")
    return "\n".join(lines)


def read_tables(report):
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
                           f"({fmt(c.get('slowdownVsFloor'), 2)}x, {fmt(c.get('slowdownVsRCU'), 2)}x)")
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
    return lines


def flavor_tables(report):
    lines = []
    add = lines.append
    f = report.get("flavors") or {}
    if f.get("churn"):
        add("### Churn cost per flavor, 64 entries, busy readers (million dispatches/s, all readers)")
        add("")
        add("| flavor | readers | without writer | writer at 1000/s | loss (median of rounds, min..max) | updates/s | unregister p50 / p99 us |")
        add("|---|---:|---:|---:|---:|---:|---:|")
        for c in sorted(f["churn"], key=lambda c: (c["readers"], FLAVORS.index(c["flavor"]))):
            add(f"| {c['flavor']} | {c['readers']} | {c['quiet']['median'] / 1e6:.1f} | "
                f"{c['churned']['median'] / 1e6:.1f} | {c['loss']['median'] * 100:.1f}% "
                f"({c['loss']['min'] * 100:.1f}..{c['loss']['max'] * 100:.1f}%) | "
                f"{c['updatesPerSecond']['median']:.0f} | "
                f"{c['unregister']['median'] / 1e3:.1f} / {c['unregister']['p99'] / 1e3:.1f} |")
        add("")
    if f.get("oversubscription"):
        first = f["oversubscription"][0]
        add(f"### Writer under oversubscription: {first['readers']} busy readers on {first['cores']} cores, "
            "writer asking 1000 updates/s (half of them synchronous unregisters)")
        add("")
        add("| flavor | readers | updates/s (min-max) | unregister p50 us | p99 us | max us | readers' M dispatches/s |")
        add("|---|---|---:|---:|---:|---:|---:|")
        for c in f["oversubscription"]:
            u = c["unregister"]
            add(f"| {c['flavor']} | {c['behaviour']} | {c['updatesPerSecond']['median']:.0f} "
                f"({c['updatesPerSecond']['min']:.0f}-{c['updatesPerSecond']['max']:.0f}) | "
                f"{u['median'] / 1e3:.1f} | {u['p99'] / 1e3:.1f} | {u['max'] / 1e3:.1f} | "
                f"{c['readerThroughput']['median'] / 1e6:.2f} |")
        add("")
    if f.get("reclamation"):
        add("### Reclamation latency on an idle bus (us, p50 / p99)")
        add("")
        add("| flavor | pace | synchronous | deferred (closure runs) | async (caller resumes) | deferred / sync | async / sync |")
        add("|---|---|---:|---:|---:|---:|---:|")
        for c in f["reclamation"]:
            sync = c["synchronous"]["median"]

            def both(s):
                return f"{s['median'] / 1e3:.1f} / {s['p99'] / 1e3:.1f}"
            add(f"| {c['flavor']} | {c['pace']} | {both(c['synchronous'])} | {both(c['deferred'])} | "
                f"{both(c['async'])} | {c['deferred']['median'] / sync:.2f}x | {c['async']['median'] / sync:.2f}x |")
        add("")
    if f.get("membarrier"):
        add("### membarrier system calls during a churn run (strace; a busy reader on every core, 1000 updates/s)")
        add("")
        add("| flavor | calls | updates | seconds |")
        add("|---|---:|---:|---:|")
        for m in f["membarrier"]:
            if m.get("calls") is None:
                add(f"| {m['flavor']} | not measured: {m.get('unavailableReason', '-')} | - | - |")
            else:
                add(f"| {m['flavor']} | {m['calls']} | {m['updates']} | {m['seconds']:.1f} |")
        add("")
    return lines


def write_tables(w):
    lines = []
    add = lines.append
    add(f"### Write side (1000 operations each; bus already holding {w['preexisting']} entries; microseconds)")
    add("")
    add("| operation | median | mean | p99 | max |")
    add("|---|---:|---:|---:|---:|")
    ops = [("register (snapshot reclaimed in the background)", "register"),
           ("register + grace-period wait (synchronous)", "registerSynchronous"),
           ("unregister, synchronous (waits for a grace period)", "unregisterSynchronous"),
           ("unregister, deferred (whenReleased callback; until the call returns)", "unregisterDeferred"),
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
    return lines


def eventfd_table(e):
    lines = [f"### Eventfd ({e['registrations']} ioeventfd registrations, 1 thread; ns per write)", "",
             "| path | median | min-max |", "|---|---:|---:|"]
    for label, key in [("guest write dispatched by the bus to an IOEventFD", "busDispatchNanos"),
                       ("bare eventfd `write(2)`, same eventfds, same order", "bareWriteNanos")]:
        v = e[key]
        lines.append(f"| {label} | {v['median']:.1f} | {v['min']:.1f}-{v['max']:.1f} |")
    lines.append("")
    return lines


def ring_table(r):
    lines = [f"### Value rings (1 vCPU thread, {r['preexisting'] + 3} registrations; ns per claimed write)", "",
             "| write claimed by | median | min-max | x ioeventfd |", "|---|---:|---:|---:|"]
    base = r["ioeventfdNanos"]["median"]
    for label, key in [("ring (a consumer thread draining)", "ringWriteNanos"),
                       ("ioeventfd (no consumer waiting)", "ioeventfdNanos"),
                       ("device model on the vCPU, under its lock", "synchronousCallNanos")]:
        v = r[key]
        lines.append(f"| {label} | {v['median']:.1f} | {v['min']:.1f}-{v['max']:.1f} | {v['median'] / base:.3f} |")
    lines.append("")
    lines.append(f"Ring signals per 1000 writes: {r['ringSignalsPer1000Writes']['median']:.2f}; writes lost: "
                 f"{r['ringLost']}. {r['bursts']} bursts of {r['burstLength']} writes, "
                 f"{r['idleMicrosecondsBetweenBursts']} us apart: consumer wakeups per burst "
                 f"{r['consumerWakeupsPerBurst']['median']:.0f} (median, max {r['consumerWakeupsPerBurst']['max']:.0f}), "
                 f"{r['consumerWakeupsPer1000Writes']:.1f} per 1000 writes; "
                 f"{r['burstWriteNanos']['median']:.1f} ns per write within a burst (wakeup included).")
    lines.append("")
    return lines


def flavor_chart(report, out):
    f = report.get("flavors") or {}
    panels = [k for k in ("churn", "oversubscription", "reclamation") if f.get(k)]
    if not panels:
        return
    fig, axes = plt.subplots(1, len(panels), figsize=(6 * len(panels), 4.6), squeeze=False)
    for ax, panel in zip(axes[0], panels):
        cells = f[panel]
        flavors = [x for x in FLAVORS if any(c["flavor"] == x for c in cells)]
        xs = range(len(flavors))
        if panel == "churn":
            groups = sorted({c["readers"] for c in cells})
            key = "readers"
            value = lambda c: c["loss"]["median"] * 100
            ax.set_ylabel("readers' throughput lost to 1000 updates/s (%)")
            label = lambda g: f"{g} reader(s)"
            ax.set_title("Churn cost, 64 entries")
        elif panel == "oversubscription":
            groups = ["tight-loop", "vcpu-like"]
            key = "behaviour"
            value = lambda c: c["updatesPerSecond"]["median"]
            ax.set_ylabel("writer updates/s achieved (asked: 1000)")
            ax.axhline(900, color="gray", linestyle=":", linewidth=1)
            label = lambda g: f"{g} readers"
            ax.set_title(f"{cells[0]['readers']} readers on {cells[0]['cores']} cores")
        else:
            groups = ["in-a-row", "cold"]
            key = "pace"
            value = lambda c: max(c["deferred"]["median"], c["async"]["median"]) / c["synchronous"]["median"]
            ax.set_ylabel("slower of deferred / async p50, over synchronous p50")
            ax.axhline(2, color="gray", linestyle=":", linewidth=1)
            label = lambda g: g
            ax.set_title("Reclamation latency, idle bus")
        width = 0.8 / len(groups)
        for i, g in enumerate(groups):
            ys = []
            for x in flavors:
                match = [c for c in cells if c["flavor"] == x and c[key] == g]
                ys.append(value(match[0]) if match else 0)
            ax.bar([j + i * width for j in xs], ys, width, label=label(g))
        ax.set_xticks([j + width * (len(groups) - 1) / 2 for j in xs])
        ax.set_xticklabels(flavors)
        ax.grid(alpha=0.3, axis="y")
        ax.legend(fontsize=8)
    fig.suptitle("Per RCU flavor (medians of one run)")
    fig.tight_layout()
    fig.savefig(os.path.join(out, "flavors.png"), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as handle:
        report = json.load(handle)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    if report["read"]:
        sizes = sorted({c["entries"] for c in report["read"]})
        throughput_vs_threads(report, out, "none", sizes)
        throughput_vs_threads(report, out, None, sizes, by_churn=True)
        ns_vs_size(report, out)
    flavor_chart(report, out)
    with open(os.path.join(out, "summary.md"), "w") as handle:
        handle.write(summary(report))
    print(f"charts written to {out}")


if __name__ == "__main__":
    main()
