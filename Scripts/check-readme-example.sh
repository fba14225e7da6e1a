#!/usr/bin/env bash
# Checks that README.md's "Using the bus" example is exactly Examples/ReadmeExample/main.swift,
# then builds and runs that example: it must run to completion (exit 0), as a VMM author
# pasting it into a main.swift would expect.
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh

example=Examples/ReadmeExample/main.swift
block="$(mktemp)"
trap 'rm -f "$block"' EXIT
# The first ```swift block after the "## Using the bus" heading, without its fences.
awk '/^## Using the bus$/ { section = 1 }
     section && /^```swift$/ { inside = 1; next }
     inside && /^```$/ { exit }
     inside { print }' README.md >"$block"
if [[ ! -s "$block" ]]; then
  echo "check-readme-example: no swift block under \"## Using the bus\" in README.md" >&2
  exit 1
fi
if ! diff -u "$example" "$block"; then
  echo "check-readme-example: README.md's example differs from $example (diff above)" >&2
  exit 1
fi

export SWIFT_BACKTRACE=enable=no
swift build --product ReadmeExample
bin="$(swift build --show-bin-path)/ReadmeExample"
if ! timeout 60 "$bin"; then
  echo "check-readme-example: the example did not run to completion" >&2
  exit 1
fi
echo "check-readme-example: README example identical to $example, ran to completion"
