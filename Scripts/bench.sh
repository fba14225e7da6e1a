#!/usr/bin/env bash
# Runs the standard benchmark set: release build, `stress bench` with JSON output, charts.
# Prints the load average first: judge the run on a quiet machine (1-minute load below ~2).
# Extra arguments go to `stress bench` (for example --quick).
# BENCH_SCRATCH picks the build folder (default .build), BENCH_OUT the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
# strace counts membarrier system calls (the membarrier section); without it that section
# reports "not measured".
Scripts/bootstrap.sh strace
scratch="${BENCH_SCRATCH:-.build}"
out="${BENCH_OUT:-bench-results}"
swift build -c release --product stress --scratch-path "$scratch"
mkdir -p "$out"
echo "bench: $(uptime)" >&2
"$scratch/release/stress" bench "$@" --json "$out/latest.json" | tee "$out/latest.txt"
python3 Scripts/plot.py "$out/latest.json" "$out"
