#!/usr/bin/env bash
# Installs what is missing, then runs the whole test suite.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
export SWIFT_BACKTRACE=enable=no
swift build --build-tests
swift test --skip-build "$@"
