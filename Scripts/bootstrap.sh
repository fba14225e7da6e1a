#!/usr/bin/env bash
# Installs what the package needs from Debian, if it is missing. Safe to run again.
# Usage: Scripts/bootstrap.sh [TOOL ...]: also installs each TOOL (a Debian package of that
# name: strace, valgrind) when it is not on PATH and root can; otherwise says so and goes on
# (the caller decides whether it can do without).
set -euo pipefail

missing=()
[ -f /usr/include/x86_64-linux-gnu/urcu/urcu-memb.h ] || [ -f /usr/include/urcu/urcu-memb.h ] \
  || missing+=(liburcu-dev)
command -v pkg-config >/dev/null 2>&1 || missing+=(pkg-config)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
command -v llvm-objdump >/dev/null 2>&1 || [ -x /opt/swift/usr/bin/llvm-objdump ] || missing+=(llvm)
# Optional: the vhost-user back end `stress vhost` and its tests run against (QEMU 7.2 on
# bookworm). Without it those runs are inconclusive and those tests skip, saying why.
optional=()
command -v qemu-storage-daemon >/dev/null 2>&1 || optional+=(qemu-system-common)

if [ ${#missing[@]} -gt 0 ]; then
  if [ "$(id -u)" -ne 0 ] || ! command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: missing ${missing[*]}; install them with apt-get (needs root on Debian)." >&2
    exit 1
  fi
  echo "bootstrap: installing ${missing[*]}" >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}" >/dev/null
fi

if [ ${#optional[@]} -gt 0 ]; then
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing ${optional[*]}" >&2
    export DEBIAN_FRONTEND=noninteractive
    { apt-get install -y -qq "${optional[@]}" >/dev/null 2>&1 \
      || { apt-get update -qq && apt-get install -y -qq "${optional[@]}" >/dev/null; }; } \
      || echo "bootstrap: could not install ${optional[*]}: stress vhost will be inconclusive" >&2
  else
    echo "bootstrap: ${optional[*]} missing (needs root and apt-get): stress vhost will be inconclusive" >&2
  fi
fi

if ! command -v swift >/dev/null 2>&1; then
  echo "bootstrap: no swift on PATH; this package needs Swift 6.1 or later." >&2
  exit 1
fi

for tool in "$@"; do
  command -v "$tool" >/dev/null 2>&1 && continue
  if [ "$(id -u)" -eq 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "bootstrap: installing $tool" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null \
      || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$tool" >/dev/null; }
  else
    echo "bootstrap: $tool missing (needs root to install with apt-get)" >&2
  fi
done
