#!/usr/bin/env bash
# Checks that Package.swift's targets follow ARCHITECTURE.md's layer table: dependencies
# point down, and no library product depends on a verification target. Runs the check's
# self-test first (each fault it exists for, made in a copy of the package, must be caught).
set -euo pipefail
cd "$(dirname "$0")/.."
package=$(mktemp)
trap 'rm -f "$package"' EXIT
swift package dump-package >"$package"
python3 Scripts/check_layers.py --self-test "$package" ARCHITECTURE.md
