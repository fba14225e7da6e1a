#!/usr/bin/env bash
# Runs every stress command at its heaviest accepted settings (16 vCPUs or readers per core,
# 32 threads per core in all, every descriptor the limit allows) while two CPU hogs keep the
# cores busy, and checks that the tool never raises a false alarm and never overruns:
# on correct flavors every run must end `clean` (exit 0) or `inconclusive` (exit 2, the
# tool saying it ran short), with a JSON verdict that matches its exit status, within its
# duration plus max(2 s, 10%) of wall-clock time. Prints, per command and flavor: runs,
# clean and inconclusive counts, the longest wall time over the duration, peak RSS and
# peak open descriptors.
#
# Usage: Scripts/check-overload.sh [--short] [--runs N] [--duration S]
#                                  [--commands "churn torture kvm faults bench"]
#                                  [--flavors "memb qsbr bp mb signal"]
#   full form (default): 20 runs per command and flavor, 3 s each, every command; churn,
#     torture and kvm on the flavors memb qsbr bp mb signal, faults on the first two of
#     them, bench (not a flavor's) once per run (about an hour and a half on 2 cores);
#   --short (CI): 2 runs per command on memb and qsbr, 2 s each, bench left out (about
#     2 minutes on 2 cores).
# `kvm` is left out without a usable /dev/kvm. Exit status 0 when every run passed.
set -euo pipefail
cd "$(dirname "$0")/.."

runs=20
duration=3
commands="churn torture kvm faults bench"
flavors="memb qsbr bp mb signal"
while [ $# -gt 0 ]; do
  case "$1" in
    --short) runs=2; duration=2; commands="churn torture kvm faults"; flavors="memb qsbr" ;;
    --runs) runs="$2"; shift ;;
    --duration) duration="$2"; shift ;;
    --commands) commands="$2"; shift ;;
    --flavors) flavors="$2"; shift ;;
    *) echo "check-overload: unknown option $1" >&2; exit 2 ;;
  esac
  shift
done

Scripts/bootstrap.sh
export SWIFT_BACKTRACE=enable=no
swift build -c release --product stress
stress="$(swift build -c release --show-bin-path)/stress"
work="$(mktemp -d)"
hogs=()
cleanup() {
  for pid in "${hogs[@]}"; do kill "$pid" 2>/dev/null || true; done
  rm -rf "$work"
}
trap cleanup EXIT
for _ in 1 2; do
  sh -c 'while :; do :; done' &
  hogs+=("$!")
done

cores=$(nproc)
threads=$((16 * cores))     # vCPUs or readers: 16 per core
total=$((32 * cores))       # a run's threads in all: 32 per core
# churn: vCPUs + hotplug and consumer threads, each twice with rings.
side=$(( (total - threads) / 4 ))
hard=$(ulimit -Hn)
# The most stable eventfds that fit beside 4096 churned slots, the consumers' pollers and
# the run's reserve (ChurnLimits), within the hard descriptor limit.
devices=$((hard - 64 - 2 * side - 4096 - 24 - 256))
[ "$devices" -gt 16256 ] && devices=16256
[ "$devices" -lt 1 ] && devices=1
kvm_vcpus=$threads
if [ -r /dev/kvm ] && [ -w /dev/kvm ]; then
  nr=$(python3 -c 'import fcntl, os
fd = os.open("/dev/kvm", os.O_RDWR)
print(fcntl.ioctl(fd, 0xAE03, 9))' 2>/dev/null || echo "$threads")  # KVM_CHECK_EXTENSION(KVM_CAP_NR_VCPUS)
  [ "$nr" -lt "$kvm_vcpus" ] && kvm_vcpus=$nr
  has_kvm=1
else
  has_kvm=0
fi

# arguments COMMAND FLAVOR SEED: the heaviest accepted settings of COMMAND.
arguments() {
  local command="$1" flavor="$2" seed="$3"
  case "$command" in
    churn)
      echo churn --vcpus "$threads" --hotplug "$side" --consumers "$side" --devices "$devices" \
        --churn-devices 4096 --rings 1024 --ring-capacity 65536 \
        --duration "$duration" --flavor "$flavor" --seed "$seed" ;;
    torture)
      echo torture --readers "$threads" --fake-writers $((total - threads - 1)) \
        --duration "$duration" --flavor "$flavor" --seed "$seed" ;;
    kvm)
      echo kvm --vcpus "$kvm_vcpus" --hotplug $(( (total - kvm_vcpus - 2) / 2 )) \
        --devices 512 --churn-devices 512 \
        --kernel-ioeventfd --coalesced --coalesced-ranges 64 \
        --duration "$duration" --flavor "$flavor" --seed "$seed" ;;
    faults)
      echo faults --only torture/skip-grace-period,churn/skip-grace-period --seeds 1 \
        --duration "$duration" --flavor "$flavor" --rare-every 0 --clean-runs 1 \
        --clean-duration "$duration" --clean-flavors "$flavor" ;;
    bench)
      echo bench --quick --threads "$threads" ;;
  esac
}

# bound COMMAND: the most wall-clock seconds a run may take.
bound() {
  case "$1" in
    faults)
      # Two fault runs and a clean one (which may go on as long again for its minimum of
      # work), each bounded: what `stress faults` prints as its bound, plus its own grace.
      python3 -c "d=$duration; limit=lambda x: x+max(2,x/10)+1; t=2*limit(d)+limit(2*d)
print(t+max(2,t/10))" ;;
    bench) echo 66 ;;  # --quick: "under 60 s", plus its grace
    *) python3 -c "d=$duration; print(d+max(2,d/10))" ;;
  esac
}

failures=0
summary=()
for command in $commands; do
  if [ "$command" = kvm ] && [ "$has_kvm" = 0 ]; then
    echo "check-overload: kvm left out: no usable /dev/kvm"
    continue
  fi
  for flavor in $flavors; do
    first=$(echo "$flavors" | cut -d' ' -f1)
    second=$(echo "$flavors" | cut -d' ' -f2)
    [ "$command" = bench ] && [ "$flavor" != "$first" ] && continue
    [ "$command" = faults ] && [ "$flavor" != "$first" ] && [ "$flavor" != "$second" ] && continue
    clean=0 inconclusive=0 worst=-1000 peak_rss=0 peak_fds=0
    limit=$(bound "$command")
    for seed in $(seq 1 "$runs"); do
      name="$command-$flavor-$seed"
      json="$work/$name.json"
      args=$(arguments "$command" "$flavor" "$seed")
      extra=(--json "$json")
      rc=0
      start=$(date +%s.%N)
      # shellcheck disable=SC2086
      /usr/bin/time -f "%M" -o "$work/$name.rss" "$stress" $args "${extra[@]}" \
        >"$work/$name.out" 2>"$work/$name.err" &
      timer=$!
      fds=0
      while kill -0 "$timer" 2>/dev/null; do
        child=$(pgrep -P "$timer" -n 2>/dev/null || true)
        if [ -n "$child" ]; then
          # The child may end between pgrep and ls: ls then fails, and with pipefail
          # the assignment would end this script (exit 2) under set -e.
          n=$( (ls "/proc/$child/fd" 2>/dev/null || true) | wc -l)
          [ "$n" -gt "$fds" ] && fds=$n
        fi
        sleep 0.1
      done
      wait "$timer" || rc=$?
      wall=$(python3 -c "print(round($(date +%s.%N) - $start, 2))")
      rss=$(tail -1 "$work/$name.rss" | tr -dc '0-9')
      rss=$(( ${rss:-0} / 1024 ))
      verdict="?"
      if [ -f "$json" ]; then
        verdict=$(python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
print(r.get("verdict", "table"))' "$json" 2>/dev/null || echo "unreadable")
      fi
      problem=""
      # `faults` runs fault rows beside its clean ones: a fault row missed under overload
      # is a limit of sensitivity, not a false alarm. Its runs on correct flavors are the
      # clean rows, and those must all be met.
      if [ "$command" = faults ] && [ "$rc" = 1 ] && [ -f "$json" ] && python3 -c 'import json, sys
rows = json.load(open(sys.argv[1]))["rows"]
sys.exit(0 if all(r.get("met") for r in rows if r.get("role") == "clean") else 1)' "$json"; then
        echo "note   $name: a fault row missed under overload (its clean rows met): $(grep -E 'MISSED' "$work/$name.out" | head -1 | tr -s ' ')"
        rc=2
      fi
      case "$rc" in
        0) clean=$((clean + 1)); expected=clean ;;
        2) inconclusive=$((inconclusive + 1)); expected=inconclusive ;;
        *) problem="exit $rc" ;;
      esac
      if [ -z "$problem" ] && [ "$command" != faults ] && [ "$command" != bench ] \
        && [ "$verdict" != "$expected" ]; then
        problem="JSON verdict $verdict for exit $rc"
      fi
      if python3 -c "import sys; sys.exit(0 if $wall <= $limit else 1)"; then :; else
        problem="${problem:+$problem, }took $wall s (bound $limit s)"
      fi
      over=$(python3 -c "print(round($wall - $duration, 2))")
      worst=$(python3 -c "print(max($worst, $over))")
      [ "$rss" -gt "$peak_rss" ] && peak_rss=$rss
      [ "$fds" -gt "$peak_fds" ] && peak_fds=$fds
      if [ -n "$problem" ]; then
        failures=$((failures + 1))
        echo "FAILED $name: $problem: stress $args"
        tail -n 15 "$work/$name.out" "$work/$name.err" | sed 's/^/    /' >&2 || true
      else
        echo "ok     $name: exit $rc ($verdict), $wall s, $rss MiB, $fds descriptors"
      fi
    done
    summary+=("$(printf '%-8s %-7s %4s %6s %13s %12s %9s %8s' "$command" "$flavor" "$runs" \
      "$clean" "$inconclusive" "$worst" "$peak_rss" "$peak_fds")")
  done
done

echo
echo "check-overload: two CPU hogs on $cores core(s), load average $(cut -d' ' -f1-3 /proc/loadavg)"
printf '%-8s %-7s %4s %6s %13s %12s %9s %8s\n' command flavor runs clean inconclusive \
  "max over (s)" "RSS (MiB)" "fds"
for line in "${summary[@]}"; do echo "$line"; done
if [ "$failures" -gt 0 ]; then
  echo "check-overload: $failures run(s) FAILED"
  exit 1
fi
echo "check-overload: every run clean or inconclusive, and on time"
