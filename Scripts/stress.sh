#!/usr/bin/env bash
# Installs what is missing, builds in release and runs the stress tool (default: churn).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
swift build -c release --product stress
exec "$(swift build -c release --show-bin-path)/stress" "$@"
