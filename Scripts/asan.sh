#!/usr/bin/env bash
# AddressSanitizer (with LeakSanitizer): the test suite and short stress runs must give
# zero reports.
#
# Usage: Scripts/asan.sh   STRESS_DURATION overrides the stress run length (20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh

# A crashing sanitized process would otherwise start swift-backtrace, which can hang
# holding the output pipe open.
export SWIFT_BACKTRACE=enable=no
# LeakSanitizer runs at exit; the resource-limit tests count releases themselves, this
# catches what they cannot see. lsan.supp lists only leaks outside the library, with why.
export ASAN_OPTIONS="detect_leaks=1 abort_on_error=0 halt_on_error=1 ${ASAN_OPTIONS:-}"
export LSAN_OPTIONS="suppressions=$PWD/Scripts/lsan.supp print_suppressions=0 ${LSAN_OPTIONS:-}"

duration="${STRESS_DURATION:-20}"
flags=(--sanitize=address --scratch-path .build-asan)
logs="$(mktemp -d)"
failures=0


clean_run() {
  local name="$1"; shift
  local log="$logs/$name.log" status=0
  "$@" >"$log" 2>&1 || status=$?
  local count; count="$(grep -cE '^==[0-9]+==ERROR: (Address|Leak)Sanitizer' "$log" || true)"
  echo "asan: $name: exit $status, $count reports"
  if [ "$status" -ne 0 ] || [ "$count" -ne 0 ]; then
    failures=$((failures + 1))
    grep -A40 -E '^==[0-9]+==ERROR' "$log" | head -120 || true
    [ "$count" -ne 0 ] || tail -40 "$log"
  fi
}

swift build --build-tests "${flags[@]}"
clean_run tests swift test --skip-build "${flags[@]}"

swift build --product stress "${flags[@]}"
stress="$(swift build "${flags[@]}" --show-bin-path)/stress"
clean_run churn "$stress" churn --duration "$duration"
clean_run torture "$stress" torture --duration "$duration"

echo "asan: logs in $logs"
if [ "$failures" -ne 0 ]; then
  echo "asan: $failures failing runs" >&2
  exit 1
fi
echo "asan: clean"
