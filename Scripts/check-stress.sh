#!/usr/bin/env bash
# Runs the stress tool the way CI does: a short clean churn and torture on each flavor that
# must pass, and every fault, each of which must be caught (exit 1, the right violation kind).
# Usage: Scripts/check-stress.sh [SECONDS]   (default 3 per run)
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
export SWIFT_BACKTRACE=enable=no
seconds="${1:-3}"
swift build -c release --product stress
stress="$(swift build -c release --show-bin-path)/stress"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
failures=0

# expect NAME STATUS KINDS... -- ARGS...: runs stress with ARGS, checks its exit status and
# that every named violation kind is in its JSON report (kinds may be alternatives: a|b).
expect() {
  local name="$1" status="$2"; shift 2
  local kinds=()
  while [ "$1" != "--" ]; do kinds+=("$1"); shift; done
  shift
  local json="$work/$name.json" rc=0
  "$stress" "$@" --json "$json" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  local verdict="ok"
  if [ "$rc" != "$status" ]; then
    verdict="FAILED: exit $rc, expected $status"
  else
    for kind in "${kinds[@]}"; do
      if [ -f "$json" ]; then
        python3 - "$json" "$kind" <<'PY' || verdict="FAILED: no $kind violation reported"
import json, sys
report = json.load(open(sys.argv[1]))
kinds = {v["kind"] for v in report["violations"]}
sys.exit(0 if kinds & set(sys.argv[2].split("|")) else 1)
PY
      elif ! grep -q "VIOLATION ${kind%%|*}" "$work/$name.err"; then
        verdict="FAILED: no $kind violation reported"
      fi
    done
  fi
  printf '%-34s %s\n' "$name" "$verdict"
  if [ "$verdict" != "ok" ]; then
    failures=$((failures + 1))
    tail -n 20 "$work/$name.out" "$work/$name.err" >&2 || true
  fi
}

expect churn-memb 0 -- churn --duration "$seconds"
expect churn-bp 0 -- churn --duration "$seconds" --flavor bp
expect torture-memb 0 -- torture --duration "$seconds"
expect torture-bp 0 -- torture --duration "$seconds" --flavor bp
expect churn-skip-grace-period 1 use-after-unregister -- churn --duration "$seconds" --fault skip-grace-period
expect churn-drop-entry 1 "lost-signal" -- churn --duration "$seconds" --fault drop-entry
expect churn-early-close 1 "failed-signal|lost-signal|spurious-signal" -- churn --duration "$seconds" --fault early-close
# A broken flavor frees tables while readers use them: readers then crash (reported as
# use-after-unregister) or read a reused table and lose or misroute a write.
expect churn-broken-flavor 1 "use-after-unregister|lost-signal|spurious-signal" -- churn --duration "$seconds" --flavor broken
expect torture-skip-grace-period 1 "grace-period-overlap|grace-period-age" -- torture --duration "$seconds" --fault skip-grace-period
expect torture-broken-flavor 1 "grace-period-overlap|grace-period-age" -- torture --duration "$seconds" --flavor broken
expect bad-usage 2 -- churn --vcpus 0

passed=$((11 - failures))
echo "stress: $passed passed, $failures failed"
[ "$failures" -eq 0 ]
