#!/usr/bin/env bash
# Builds the DocC documentation of ConcurrentBus, RCU, ConcurrentBusCore and
# ConcurrentBusDevices as one combined archive, and fails on any warning.
#
#   Scripts/docs.sh [OUTPUT]     default OUTPUT: .build/documentation
#
# Before building it checks that every code listing of the articles is, verbatim, a region
# of Tests/DocumentationTests (Scripts/check_doc_listings.py) and compiles that test target;
# `swift test --filter DocumentationTests` runs the listings. After building it checks that
# every public symbol of RCU, ConcurrentBusCore and ConcurrentBusDevices has a doc comment
# of its own (Scripts/check_doc_coverage.py, on the symbol graphs the build extracted).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh

output="${1:-.build/documentation}"
log="$(mktemp)"
trap 'rm -f "$log"' EXIT

python3 Scripts/check_doc_listings.py

# Compiler and DocC output both go through the log: any "warning:" line fails the build.
build() {
  echo "docs: $*" >&2
  if ! "$@" 2>&1 | tee -a "$log"; then
    echo "docs: failed: $*" >&2
    exit 1
  fi
}

build swift build --target DocumentationTests
build swift package --disable-sandbox generate-documentation \
  --target RCU --target ConcurrentBusCore --target ConcurrentBusDevices --target ConcurrentBus \
  --enable-experimental-combined-documentation --enable-inherited-docs --warnings-as-errors \
  --output-path "$output"

if grep -q "warning:" "$log"; then
  echo "docs: warnings (each must be fixed):" >&2
  grep "warning:" "$log" >&2
  exit 1
fi

python3 Scripts/check_doc_coverage.py RCU ConcurrentBusCore ConcurrentBusDevices

echo "docs: combined archive at $output (zero warnings)"
echo "docs: to browse it: python3 -m http.server --directory $output 8000, then open"
echo "      http://localhost:8000/documentation/concurrentbus"
