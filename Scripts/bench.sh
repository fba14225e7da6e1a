#!/usr/bin/env bash
# Runs the standard benchmark set: release build, `stress bench` with JSON output, charts.
# Prints the load average first: judge the run on a quiet machine (1-minute load below ~2).
# Extra arguments go to `stress bench` (for example --quick).
# BENCH_SCRATCH picks the build folder (default .build), BENCH_OUT the output folder.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
# strace counts membarrier system calls (the membarrier section); without it that section
# reports "not measured".
if ! command -v strace >/dev/null 2>&1; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bench: installing strace" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq strace >/dev/null; }
  else
    echo "bench: strace missing (needs root to install): membarrier calls will not be counted" >&2
  fi
fi
scratch="${BENCH_SCRATCH:-.build}"
out="${BENCH_OUT:-bench-results}"
swift build -c release --product stress --scratch-path "$scratch"
mkdir -p "$out"
echo "bench: $(uptime)" >&2
"$scratch/release/stress" bench "$@" --json "$out/latest.json" | tee "$out/latest.txt"
python3 Scripts/plot.py "$out/latest.json" "$out"
