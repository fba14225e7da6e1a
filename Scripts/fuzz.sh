#!/usr/bin/env bash
# Fuzzes the bus against its model with libFuzzer for SECONDS (default 60): any crash,
# sanitizer report or model mismatch fails the run and leaves the input in Fuzz/artifacts/.
#
# SwiftPM cannot give one target -sanitize=fuzzer, so: SwiftPM builds the library modules
# with ASan and libFuzzer's coverage instrumentation (no link step, so nothing needs a
# main), then swiftc compiles Fuzz/BusFuzz against those modules and links their objects
# with libFuzzer, which supplies main. Fuzz/corpus/ is the committed seed corpus; new
# inputs go to a scratch corpus (.build-fuzz/corpus), never into the repository.
#
# Usage: Scripts/fuzz.sh [SECONDS] [extra libFuzzer flags...]
set -euo pipefail
cd "$(dirname "$0")/.."
Scripts/bootstrap.sh

seconds="${1:-60}"
shift || true
# A crash would otherwise start swift-backtrace, which can hang holding the output pipe
# open; libFuzzer prints its own stack.
export SWIFT_BACKTRACE=enable=no
export ASAN_OPTIONS="detect_leaks=1 ${ASAN_OPTIONS:-}"

scratch=.build-fuzz
targets=(ConcurrentBus ConcurrentBusCore ConcurrentBusDevices RCU CURCU CRCULibraryABI HostSupport
  CHostSupport CLinuxEvents CValueRing SystemPackage CSystem)
swift build -c release --scratch-path "$scratch" --sanitize=address --target ConcurrentBus \
  -Xswiftc -sanitize=fuzzer -Xcc -fsanitize=fuzzer-no-link
bin="$(swift build -c release --scratch-path "$scratch" --show-bin-path)"

objects=()
for target in "${targets[@]}"; do
  while IFS= read -r object; do objects+=("$object"); done \
    < <(find "$bin/$target.build" -name '*.o' | sort)
done
clang_modules=()
for map in "$bin"/CURCU.build/module.modulemap "$bin"/CLinuxEvents.build/module.modulemap \
  "$bin"/CHostSupport.build/module.modulemap "$bin"/CValueRing.build/module.modulemap \
  "$scratch"/checkouts/swift-system/Sources/CSystem/include/module.modulemap; do
  clang_modules+=(-Xcc "-fmodule-map-file=$map" -Xcc -I -Xcc "$(dirname "$map")")
done
clang_modules+=(-Xcc -I -Xcc Sources/CURCU/include -Xcc -I -Xcc Sources/CLinuxEvents/include
  -Xcc -I -Xcc Sources/CHostSupport/include -Xcc -I -Xcc Sources/CValueRing/include)

# BusModel makes registrations through package access, so BusFuzz joins the package under
# the name SwiftPM gave it (derived from the checkout's folder name).
package_name="$(grep '"-module-name","ConcurrentBusCore"' "$scratch/release.yaml" | head -1 |
  grep -o '"-package-name","[^"]*"' | cut -d'"' -f4)"
[[ -n "$package_name" ]] || { echo "fuzz.sh: cannot find the package name" >&2; exit 2; }

fuzzer="$bin/BusFuzz"
swiftc -O -sanitize=fuzzer,address -parse-as-library -module-name BusFuzz -swift-version 6 \
  -package-name "$package_name" \
  -I "$bin/Modules" "${clang_modules[@]}" Fuzz/BusFuzz/*.swift \
  Sources/BusModel/BusModel.swift "${objects[@]}" \
  -lurcu-memb -lurcu-bp -lurcu-qsbr -lurcu-mb -lurcu-common -o "$fuzzer"

mkdir -p "$scratch/corpus" Fuzz/artifacts
"$fuzzer" -max_total_time="$seconds" -print_final_stats=1 -max_len=512 -timeout=10 \
  -artifact_prefix=Fuzz/artifacts/ "$@" "$scratch/corpus" Fuzz/corpus
