#!/usr/bin/env bash
# Builds the dispatch path in release and checks its machine code: no lock, allocation,
# reference counting or library call (see Scripts/check_hot_path.py).
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh
swift build -c release --product HotPathProbe
binary="$(swift build -c release --show-bin-path)/HotPathProbe"
"$binary" >/dev/null
PATH="$PATH:/opt/swift/usr/bin" python3 Scripts/check_hot_path.py "$binary"
