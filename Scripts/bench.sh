#!/usr/bin/env bash
# Runs the standard benchmark set: release build, `stress bench` with JSON output, charts.
# Extra arguments go to `stress bench` (for example --quick).
# BENCH_SCRATCH picks the build folder (default .build), BENCH_OUT the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
scratch="${BENCH_SCRATCH:-.build}"
out="${BENCH_OUT:-bench-results}"
swift build -c release --product stress --scratch-path "$scratch"
mkdir -p "$out"
"$scratch/release/stress" bench "$@" --json "$out/latest.json" | tee "$out/latest.txt"
python3 Scripts/plot.py "$out/latest.json" "$out"
