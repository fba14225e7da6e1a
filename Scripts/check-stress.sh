#!/usr/bin/env bash
# Runs the stress tool the way CI does: short clean runs on each flavor that must end with
# the verdict "clean" (exit 0), every fault, each of which must be caught (exit 1, verdict
# "violations", one of the violation kinds named), a run too short to judge that must be
# "inconclusive" (exit 2), and options that must be refused up front (exit 2). With a
# usable /dev/kvm, the same for `stress kvm`: clean on memb and on qsbr, with
# KVM_IOEVENTFD and with coalesced ranges (`--coalesced`), and each coalesced fault caught
# by its detector. With /dev/kvm and qemu-storage-daemon, `stress vhost`: clean for 10 s,
# each vhost fault caught, and inconclusive (not failed) when the daemon is not on PATH.
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
runs=0
failures=0

# expect NAME STATUS [KINDS...] -- ARGS...: runs stress with ARGS and --json, checks its
# exit status, the JSON report's verdict (clean, violations or inconclusive, from the
# status) and that each named violation kind is in it (kinds may be alternatives: a|b).
expect() {
  local name="$1" status="$2"; shift 2
  local kinds=()
  while [ "$1" != "--" ]; do kinds+=("$1"); shift; done
  shift
  local json="$work/$name.json" rc=0
  "$stress" "$@" --json "$json" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  local verdict="ok"
  local expected_verdict
  case "$status" in 0) expected_verdict=clean ;; 1) expected_verdict=violations ;; *) expected_verdict=inconclusive ;; esac
  if [ "$rc" != "$status" ]; then
    verdict="FAILED: exit $rc, expected $status"
  elif [ -f "$json" ]; then
    python3 - "$json" "$expected_verdict" "${kinds[@]}" <<'PY' || verdict="FAILED: $(cat "$work/$name.why")"
import json, sys
report = json.load(open(sys.argv[1]))
found = {v["kind"] for v in report["violations"]}
# Reports without a verdict field are judged by their violations alone.
verdict = report.get("verdict", "violations" if report["violations"] else "clean")
why = None
if verdict != sys.argv[2]:
    why = f"verdict {verdict}, expected {sys.argv[2]}"
for kind in sys.argv[3:]:
    if not found & set(kind.split("|")):
        why = f"no {kind} violation reported (found: {', '.join(sorted(found)) or 'none'})"
if why:
    open(sys.argv[1][:-5] + ".why", "w").write(why)
    sys.exit(1)
PY
  elif [ "$status" = 1 ] && [[ "${kinds[*]}" == *crash* ]] && grep -q "VIOLATION crash" "$work/$name.err"; then
    : # a crash reported by a command that has no JSON path for its crash report
  else
    verdict="FAILED: no JSON report"
  fi
  printf '%-34s %s\n' "$name" "$verdict"
  runs=$((runs + 1))
  if [ "$verdict" != "ok" ]; then
    failures=$((failures + 1))
    tail -n 20 "$work/$name.out" "$work/$name.err" >&2 || true
  fi
}

# refuse NAME -- ARGS...: options stress must refuse before running anything (exit 2, a
# message, no report).
refuse() {
  local name="$1"; shift 2
  local rc=0 verdict="ok"
  "$stress" "$@" >"$work/$name.out" 2>"$work/$name.err" || rc=$?
  if [ "$rc" != 2 ]; then
    verdict="FAILED: exit $rc, expected 2"
  elif grep -q "^result:" "$work/$name.out" || ! [ -s "$work/$name.err" ]; then
    verdict="FAILED: ran instead of refusing with a message"
  fi
  printf '%-34s %s\n' "$name" "$verdict"
  runs=$((runs + 1))
  if [ "$verdict" != "ok" ]; then failures=$((failures + 1)); fi
}

# A clean run must reach its minimum of work; on a loaded CI machine it may go on past its
# duration for that, up to 30 s more (--minimum-work-within), and ends as soon as it has.
more=(--minimum-work-within 30)

# Any check of a grace period, or a crash on memory reclaimed too early.
grace="stale-section|inside-at-release|use-after-unregister|crash"

expect churn-memb 0 -- churn --duration "$seconds" "${more[@]}"
expect churn-bp 0 -- churn --duration "$seconds" --flavor bp "${more[@]}"
expect torture-memb 0 -- torture --duration "$seconds" "${more[@]}"
expect torture-bp 0 -- torture --duration "$seconds" --flavor bp "${more[@]}"
expect churn-skip-grace-period 1 "stale-section|inside-at-release|use-after-unregister" -- churn --duration "$seconds" --fault skip-grace-period
# One removal in 100 skips its grace period: the stale-section check catches it in well
# under a second (docs/stress.md, "churn"); the run stops at the first violation.
expect churn-skip-1-in-100 1 "stale-section|inside-at-release|use-after-unregister" -- churn --duration 30 --fault skip-grace-period --fault-every 100
expect churn-drop-entry 1 "lost-signal" -- churn --duration "$seconds" --fault drop-entry
expect churn-early-close 1 "failed-signal|lost-signal|spurious-signal" -- churn --duration "$seconds" --fault early-close
# A broken flavor frees tables while readers use them: the grace-period checks fire, or a
# reader crashes (reported as a violation), or reads a reused table and loses or misroutes
# a write.
expect churn-broken-flavor 1 "$grace|lost-signal|spurious-signal" -- churn --duration "$seconds" --flavor broken
expect torture-skip-grace-period 1 "grace-period-overlap|grace-period-age" -- torture --duration "$seconds" --fault skip-grace-period
expect torture-broken-flavor 1 "grace-period-overlap|grace-period-age|crash" -- torture --duration "$seconds" --flavor broken
# Rings: the clean churn runs above churn 8 ring slots (the default); a ring-heavy run on
# qsbr (vCPUs announce quiescent states), then each ring fault, caught by its detector (the
# runs stop at the first violation: well under a second each), and a lane too small for its
# consumer: the ring reports its losses, the tool says its consumer fell behind.
expect churn-rings-qsbr 0 -- churn --duration "$seconds" --flavor qsbr --rings 32 --churn-devices 4 "${more[@]}"
expect churn-qsbr-skip-grace-period 1 "stale-section|inside-at-release|use-after-unregister" -- churn --duration "$seconds" --flavor qsbr --fault skip-grace-period
expect churn-ring-drop 1 "ring-sequence|ring-delivery" -- churn --duration "$seconds" --fault ring-drop --fault-every 1000
expect churn-ring-duplicate 1 ring-sequence -- churn --duration "$seconds" --fault ring-duplicate --fault-every 1000
expect churn-ring-reorder 1 ring-sequence -- churn --duration "$seconds" --fault ring-reorder --fault-every 1000
expect churn-ring-silent-drop 1 ring-delivery -- churn --duration "$seconds" --fault ring-silent-drop --fault-every 1000
expect churn-ring-early-return 1 use-after-unregister -- churn --duration "$seconds" --fault ring-early-return
expect churn-ring-overflow 2 -- churn --duration "$seconds" --ring-capacity 2
# One deferred reclamation in 100 never runs: the backlog is not empty after the final
# barrier. Without rings: a ring whose release is lost is never sealed, and waiting for it
# would only lengthen the run.
expect churn-withhold-reclamation 1 unbounded-backlog -- churn --duration "$seconds" --rings 0 --fault withhold-reclamation --fault-every 100
# One synchronize() in 1000 never returns: the stall watchdog names the waiting hotplug
# thread, and the run still ends on time with its report.
expect churn-stall-synchronize 1 stall -- churn --duration "$seconds" --fault stall-synchronize --fault-every 1000
expect churn-too-short 2 -- churn --duration 0.02
refuse bad-vcpus -- churn --vcpus 0
refuse oversized-vcpus -- churn --vcpus 100000
refuse huge-duration -- churn --duration 1e308
refuse negative-duration -- churn --duration -1
refuse ring-fault-without-rings -- churn --rings 0 --fault ring-drop
refuse bad-json-folder -- churn --fault skip-grace-period --json /nonexistent-folder/report.json
refuse json-nothing-can-be-created -- churn --json /proc/report.json
refuse fault-every-without-a-rate -- churn --fault none --fault-every 100
refuse fault-after-us-without-short-grace-period -- torture --fault skip-grace-period --fault-after-us 5
refuse too-many-descriptors -- churn --devices 16256 --churn-devices 4096 --consumers 64

refuse kvm-fault-without-coalesced -- kvm --fault drop-coalesced

if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  expect kvm-memb 0 -- kvm --duration "$seconds" "${more[@]}"
  expect kvm-kernel-ioeventfd 0 -- kvm --duration "$seconds" --kernel-ioeventfd "${more[@]}"
  expect kvm-qsbr 0 -- kvm --duration "$seconds" --flavor qsbr "${more[@]}"
  expect kvm-broken-flavor 1 "$grace|lost-signal|spurious-signal" -- kvm --duration "$seconds" --flavor broken
  # A grace period skipped once in 100 removals, with QSBR vCPUs offline in KVM_RUN.
  expect kvm-qsbr-skip-grace-period 1 stale-section -- kvm --duration "$seconds" --flavor qsbr --fault skip-grace-period --fault-every 100
  # `kvm --coalesced` needs KVM_CAP_COALESCED_MMIO and _PIO; `stress` says so and exits 2.
  probe_rc=0
  "$stress" kvm --coalesced --duration 0.01 >"$work/probe.out" 2>"$work/probe.err" || probe_rc=$?
  if [ "$probe_rc" = 2 ] && grep -q "needs KVM_CAP_COALESCED" "$work/probe.err"; then
    echo "kvm --coalesced: skipped, $(sed 's/^stress: kvm: //' "$work/probe.err")"
  else
    # Coalesced runs do more per guest loop: a longer run reaches every minimum under load.
    coalesced=$((seconds + 2))
    expect kvm-coalesced 0 -- kvm --duration "$coalesced" --coalesced "${more[@]}"
    expect kvm-coalesced-qsbr-ioeventfd 0 -- kvm --duration "$coalesced" --coalesced --flavor qsbr --kernel-ioeventfd "${more[@]}"
    expect kvm-drop-coalesced 1 sequence-skipped -- kvm --duration "$seconds" --coalesced --fault drop-coalesced
    expect kvm-duplicate-coalesced 1 sequence-repeated -- kvm --duration "$seconds" --coalesced --fault duplicate-coalesced
    expect kvm-reorder-coalesced 1 sequence-repeated -- kvm --duration "$seconds" --coalesced --fault reorder-coalesced
    expect kvm-bus-before-drain 1 coalesced-unclaimed -- kvm --duration "$seconds" --coalesced --fault bus-before-drain
    expect kvm-skip-drain 1 "coalesced-unclaimed|coalesced-late" -- kvm --duration "$seconds" --coalesced --fault skip-drain
    expect kvm-drain-after-return 1 "use-after-unregister|coalesced-late" -- kvm --duration "$seconds" --coalesced --fault drain-after-return
    expect kvm-exit-before-drain 1 drain-order -- kvm --duration "$seconds" --coalesced --fault exit-before-drain
  fi
else
  echo "kvm: skipped, no usable /dev/kvm"
fi

# vhost-user: guests doing block I/O against qemu-storage-daemon while kick notifiers switch
# (200 a second); clean for 10 s, each fault caught by its detector, a missing back end
# inconclusive (exit 2) rather than a failure.
refuse vhost-bad-vcpus -- vhost --vcpus 0
refuse vhost-fault-without-switches -- vhost --fault drop-kick --switches-per-second 0
if [ -r /dev/kvm ] && [ -w /dev/kvm ] && command -v qemu-storage-daemon >/dev/null 2>&1; then
  expect vhost 0 -- vhost --duration 10
  expect vhost-drop-kick 1 lost-kick -- vhost --duration 10 --fault drop-kick --kick-bound-ms 300
  expect vhost-unregister-before-switch 1 "kick-unclaimed|lost-kick" -- vhost --duration 10 --fault unregister-before-switch --kick-bound-ms 300
  expect vhost-lose-call 1 lost-call -- vhost --duration 10 --fault lose-call --kick-bound-ms 300
  rc=0
  env PATH=/nonexistent "$stress" vhost --duration 1 >"$work/vhost-no-backend.out" 2>&1 || rc=$?
  if [ "$rc" = 2 ] && grep -q "back end available" "$work/vhost-no-backend.out"; then
    printf '%-34s %s\n' vhost-no-backend ok
  else
    printf '%-34s %s\n' vhost-no-backend "FAILED: exit $rc, expected 2 saying the back end is missing"
    failures=$((failures + 1))
  fi
  runs=$((runs + 1))
else
  echo "vhost: skipped, needs a usable /dev/kvm and qemu-storage-daemon (Scripts/bootstrap.sh installs qemu-system-common)"
fi

echo "stress: $((runs - failures)) passed, $failures failed"
[ "$failures" -eq 0 ]
