#!/usr/bin/env bash
# Counted cost per bus operation under valgrind (callgrind with cachegrind's cache and
# branch-predictor simulation, collecting in the probe's loop only): instructions, branches,
# mispredicts and L1/LL misses per dispatch for every design at every table size, per
# eventfd signal, per ring write and per KVM exit's bus part. Each workload runs twice in
# the release CountProbe (N and 2N operations); the difference divided by N is its cost.
# The figures are exact: two runs print the same numbers.
#
# Usage:
#   Scripts/count.sh                    every workload (39)
#   Scripts/count.sh --ci               CI's set (17 workloads) against the committed baseline,
#                                       then the gates' self-test; fails on a missed gate
#   Scripts/count.sh --update-baseline  every workload, written to the baseline file; commit
#                                       it with the figures that moved in the message
#   Scripts/count.sh --work qsbr/64 --work floor/64   only these workloads
# Other arguments go to `CountProbe measure` (--json FILE, --jobs N).
# COUNT_SCRATCH picks the build folder (default .build).
set -euo pipefail
cd "$(dirname "$0")/.."
baseline=docs/bench/count-baseline.json
args=()
for arg in "$@"; do
  case "$arg" in
    --ci) args+=(--ci --baseline "$baseline" --self-test) ;;
    --update-baseline) args+=(--write-baseline "$baseline") ;;
    *) args+=("$arg") ;;
  esac
done
Scripts/bootstrap.sh valgrind
command -v valgrind >/dev/null 2>&1 || { echo "count: valgrind is needed" >&2; exit 1; }
scratch="${COUNT_SCRATCH:-.build}"
swift build -c release --product CountProbe --scratch-path "$scratch"
probe="$(swift build -c release --scratch-path "$scratch" --show-bin-path)/CountProbe"
# valgrind 3.19 gives up on the debug information of Swift 6.3 release binaries: it runs a
# copy without it (the same machine code, the symbol table kept for --toggle-collect).
stripped="$(mktemp -d)"
trap 'rm -rf "$stripped"' EXIT
cp "$probe" "$stripped/CountProbe"
strip --strip-debug "$stripped/CountProbe"
echo "count: $(valgrind --version), $(swift --version 2>/dev/null | head -1)" >&2
"$probe" measure --probe "$stripped/CountProbe" ${args[@]+"${args[@]}"}
