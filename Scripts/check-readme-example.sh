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
# Debug and release: a release build once miscompiled `update` returning an array (a
# noncopyable generic result through `withLock`), and crashed in most, not all, runs.
for configuration in debug release; do
  swift build -c "$configuration" --product ReadmeExample
  bin="$(swift build -c "$configuration" --show-bin-path)/ReadmeExample"
  for run in 1 2 3 4 5; do
    if ! timeout 60 "$bin" >/dev/null; then
      echo "check-readme-example: the $configuration example did not run to completion (run $run)" >&2
      exit 1
    fi
  done
done
echo "check-readme-example: README example identical to $example, ran to completion (debug and release, 5 runs each)"
