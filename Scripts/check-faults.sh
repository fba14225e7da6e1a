#!/usr/bin/env bash
# CI's short version of `stress faults`: every catalogue fault once (seed 1), each of which
# must be caught by its own detector within 10 s; a grace period skipped once in 10,000
# caught within 60 s; and 2 clean torture runs of 5 s on memb and on bp, which must not
# flag. Extra arguments go to `stress faults` (e.g. --seeds 3 --clean-runs 20 for the full
# targets, which is `stress faults` with no arguments).
# Usage: Scripts/check-faults.sh [STRESS-FAULTS-OPTIONS...]
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
export SWIFT_BACKTRACE=enable=no
swift build -c release --product stress
stress="$(swift build -c release --show-bin-path)/stress"
exec "$stress" faults --seeds 1 --clean-runs 2 --clean-duration 5 "$@"
