#!/usr/bin/env bash
# Checks that the prose documentation (README.md, ARCHITECTURE.md, BENCHMARKS.md, docs/*.md)
# names only paths that exist in this tree and shows only stress command lines that parse
# (each run with STRESS_PARSE_ONLY=1: parsed and validated, nothing run), and that the
# stress synopsis names exactly the options of `stress COMMAND --help`. The conventions
# (what counts as a path, a command line, a placeholder, a synopsis) are in
# Scripts/check_docs.py.
# Usage: Scripts/check-docs.sh
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
swift build --product stress
python3 Scripts/check_docs.py "$(swift build --show-bin-path)/stress"
