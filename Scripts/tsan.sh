#!/usr/bin/env bash
# ThreadSanitizer: the test suite and short stress runs must give zero reports, and a
# deliberately missing grace period must still be caught.
#
# -Xcc -DCURCU_TSAN=1 is required: Swift's clang importer does not see
# __has_feature(thread_sanitizer), so without it the CURCU annotations reach the C files but
# not the header code Swift inlines (the RCU layer traps on that mismatch).
# No suppression file: liburcu is not instrumented, so it never appears in a report, and
# project code must not be suppressed.
#
# Usage: Scripts/tsan.sh [--tests-only]   (--tests-only: the suite and the fault check, no
# stress runs; what .ci/run uses). STRESS_DURATION overrides the stress run length (20 s).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh

# A crashing sanitized process would otherwise start swift-backtrace, which can hang
# holding the output pipe open.
export SWIFT_BACKTRACE=enable=no
# Report everything before exiting, and make any report fail the process.
export TSAN_OPTIONS="halt_on_error=0 exitcode=66 second_deadlock_stack=1 ${TSAN_OPTIONS:-}"

tests_only=0
[ "${1:-}" = "--tests-only" ] && tests_only=1
duration="${STRESS_DURATION:-20}"
flags=(--sanitize=thread --scratch-path .build-tsan -Xcc -DCURCU_TSAN=1)
logs="$(mktemp -d)"
failures=0

reports() { grep -c '^WARNING: ThreadSanitizer' "$1" || true; }

# Runs "$@", which must exit 0 with no report.
clean_run() {
  local name="$1"; shift
  local log="$logs/$name.log" status=0
  "$@" >"$log" 2>&1 || status=$?
  local count; count="$(reports "$log")"
  echo "tsan: $name: exit $status, $count reports"
  if [ "$status" -ne 0 ] || [ "$count" -ne 0 ]; then
    failures=$((failures + 1))
    grep -A30 '^WARNING: ThreadSanitizer' "$log" | head -120 || tail -40 "$log"
    [ "$count" -ne 0 ] || tail -40 "$log"
  fi
}

# Runs "$@", which must be caught: by a TSan report, or, with --or-tool, by the stress
# tool's own violation status (1).
caught_run() {
  local name="$1" or_tool=0; shift
  [ "$1" = "--or-tool" ] && { or_tool=1; shift; }
  local log="$logs/$name.log" status=0
  # Bounded: a flavor without grace periods frees memory readers use, which can also end in
  # a crash or, rarely, a hang before TSan prints a report.
  timeout 300 "$@" >"$log" 2>&1 || status=$?
  local count; count="$(reports "$log")"
  echo "tsan: $name (must be caught): exit $status, $count reports"
  if [ "$count" -eq 0 ] && [ "$status" -ge 124 ]; then
    # 124: timed out; above 128: killed by a signal (the tool's own crash guard exits 1).
    echo "tsan: $name: no report, but the run crashed or hung (exit $status): the missing" \
      "grace period corrupted memory before TSan could report it; counted as caught"
  elif [ "$count" -eq 0 ] && { [ "$or_tool" -eq 0 ] || [ "$status" -ne 1 ]; }; then
    echo "tsan: $name was NOT caught" >&2
    tail -40 "$log"
    failures=$((failures + 1))
  fi
}

# A test process that outlives its suite (seen once: a TSan test binary still spinning 12
# minutes after `swift test` had returned, slowing every later CI step) is reported and
# killed; the suite's own verdict stands.
kill_leftovers() {
  local pids
  pids="$(pgrep -f "$PWD/.build-tsan/.*ConcurrentBusPackageTests.xctest" || true)"
  if [ -n "$pids" ]; then
    echo "tsan: killing test processes left running after the suite:" $pids >&2
    kill -9 $pids 2>/dev/null || true
  fi
}

swift build --build-tests "${flags[@]}"
clean_run tests swift test --skip-build "${flags[@]}"
kill_leftovers

# The same hotplug-under-dispatch test as above, on a flavor whose grace periods do not
# wait: the annotations must not hide it.
CONCURRENTBUS_EXPECT_RACE=1 caught_run broken-grace-period \
  swift test --skip-build "${flags[@]}" --filter 'brokenFlavorUnderSanitizer'
kill_leftovers

if [ "$tests_only" -eq 0 ]; then
  swift build --product stress "${flags[@]}"
  stress="$(swift build "${flags[@]}" --show-bin-path)/stress"
  clean_run churn "$stress" churn --duration "$duration"
  caught_run churn-skip-grace-period --or-tool "$stress" churn --duration "$duration" --fault skip-grace-period
  clean_run torture "$stress" torture --duration "$duration"
  caught_run torture-skip-grace-period --or-tool "$stress" torture --duration "$duration" --fault skip-grace-period
fi

echo "tsan: logs in $logs"
if [ "$failures" -ne 0 ]; then
  echo "tsan: $failures failing runs" >&2
  exit 1
fi
echo "tsan: clean"
