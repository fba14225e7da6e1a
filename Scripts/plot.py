#!/usr/bin/env python3
"""Draws the benchmark charts and summary from `stress bench --json` output.

Usage: Scripts/plot.py RESULTS.json OUTPUT_DIR

Knows no section of the benchmark: the report's `figures` list holds, for each section the
run measured, its tables and its charts, fully described (Sources/Benchmarks/Figures). The
tables go to summary.md in report order, followed by the targets; each chart is a PNG of
panels, lines with min-max error bars or groups of bars, and charts of several sections that
name the same file (flavors.png) are drawn as one, their panels side by side in report
order. A section the run left out (`stress bench --only`) has no entry, so nothing of it is
drawn. Installs matplotlib with pip when it is missing.
"""
import json
import math
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


def markdown(table):
    """A FigureTable as Markdown lines: heading, header, alignment row, rows, notes."""
    lines = [f"### {table['title']}", ""] if table.get("title") else []
    columns = table["columns"]
    lines.append("| " + " | ".join(column["title"] for column in columns) + " |")
    lines.append("|" + "".join("---:|" if column["alignRight"] else "---|" for column in columns))
    lines += ["| " + " | ".join(row) + " |" for row in table["rows"]]
    lines.append("")
    for note in table.get("notes", []):
        lines += [note, ""]
    return lines


def summary(report):
    """Every section's tables, then the targets, as Markdown."""
    lines = []
    for section in report.get("figures", []):
        for table in section["tables"]:
            lines += markdown(table)
    lines += ["### Targets", "",
              "A target measured per paired round shows the median over rounds and its 95% "
              "bootstrap interval: MET when the whole interval keeps the bound, MISSED when none "
              "of it does, UNRESOLVED when it straddles the limit.", "",
              "| target | result | figure | 95% interval |", "|---|---|---|---|"]
    for target in report["targets"]:
        # Reports older than the intervals have `met` only.
        outcome = target.get("outcome", "met" if target["met"] else "missed")
        result = "MET" if outcome == "met" else f"**{outcome.upper()}**"
        interval = target.get("interval")
        if interval:
            span = f"{interval['lower']:.3g} - {interval['upper']:.3g}"
        else:
            span = "counted, exact" if target.get("basis") == "counted" else "-"
        lines.append(f"| {target['name']} | {result} | {target['figure']} | {span} |")
    lines.append("")
    return "\n".join(lines)


def charts(report):
    """The charts to draw, those naming the same file merged into one, in report order."""
    merged = {}
    for section in report.get("figures", []):
        for chart in section["charts"]:
            if chart["file"] in merged:
                merged[chart["file"]]["panels"] += chart["panels"]
            else:
                merged[chart["file"]] = dict(chart, panels=list(chart["panels"]))
    return list(merged.values())


def draw_lines(ax, panel):
    for series in panel["series"]:
        style = series.get("style")
        looks = dict(color=style["color"], linestyle=style["dash"], marker=style["marker"]) if style else {}
        errors = None
        if series.get("yMin") is not None:
            errors = [[y - low for y, low in zip(series["y"], series["yMin"])],
                      [high - y for y, high in zip(series["y"], series["yMax"])]]
        ax.errorbar(series["x"], series["y"], yerr=errors, capsize=3, label=series["label"], **looks)
    if panel.get("logX"):
        ax.set_xscale("log")
    if panel.get("xTicks"):
        ax.set_xticks(panel["xTicks"])
    ax.set_ylim(bottom=0)
    ax.grid(alpha=0.3)


def draw_bars(ax, panel):
    series = panel["series"]
    categories = panel["categories"]
    width = 0.8 / max(len(series), 1)
    for index, bars in enumerate(series):
        ax.bar([x + index * width for x in bars["x"]], bars["y"], width, label=bars["label"])
    ax.set_xticks([j + width * (len(series) - 1) / 2 for j in range(len(categories))])
    ax.set_xticklabels(categories)
    ax.grid(alpha=0.3, axis="y")


def draw(chart, out):
    panels = chart["panels"]
    if not panels:
        return
    columns = chart.get("columns") or len(panels)
    rows = math.ceil(len(panels) / columns)
    fig, axes = plt.subplots(rows, columns, figsize=(6 * columns, 4.6 * rows), squeeze=False)
    for ax in axes.flat[len(panels):]:
        ax.set_visible(False)
    for ax, panel in zip(axes.flat, panels):
        (draw_lines if panel["kind"] == "lines" else draw_bars)(ax, panel)
        if panel.get("guide") is not None:
            ax.axhline(panel["guide"], color="gray", linestyle=":", linewidth=1)
        if panel.get("xLabel"):
            ax.set_xlabel(panel["xLabel"])
        ax.set_ylabel(panel["yLabel"])
        ax.set_title(panel["title"])
        if panel["legend"]:
            ax.legend(fontsize=8)
    fig.suptitle(chart["title"])
    fig.tight_layout()
    fig.savefig(os.path.join(out, chart["file"]), dpi=110)
    plt.close(fig)


def main():
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    with open(sys.argv[1]) as handle:
        report = json.load(handle)
    out = sys.argv[2]
    os.makedirs(out, exist_ok=True)
    for chart in charts(report):
        draw(chart, out)
    with open(os.path.join(out, "summary.md"), "w") as handle:
        handle.write(summary(report))
    print(f"charts written to {out}")


if __name__ == "__main__":
    main()
