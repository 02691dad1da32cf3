#!/usr/bin/env bash
# Installs the Debian packages that HetQ's hardware flow (and, with "test", its test suite) uses, when they are
# missing: as root, or through sudo. Without either it prints one line saying what will be skipped. Quick when
# everything is there. Used by `./hetq run` (hardware) and `./test.sh` (test).
#   scripts/setup.sh [hardware|test]
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
what=${1:-hardware}
case "$what" in
  hardware) packages=(verilator iverilog yosys) ;;
  test) packages=(dataset-fashion-mnist postgresql verilator iverilog yosys python3 python3-numpy) ;;
  *) echo "setup.sh: unknown set '$what' (hardware or test)" >&2; exit 2 ;;
esac
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  sudo=""
  [ "$(id -u)" -ne 0 ] && command -v sudo >/dev/null && sudo="sudo"
  if ! command -v apt-get >/dev/null; then
    echo "setup: no apt-get here: install ${missing[*]} yourself; the steps that need them will say they did not run" >&2
  elif [ "$(id -u)" -eq 0 ] || [ -n "$sudo" ]; then
    echo "setup: installing ${missing[*]} (Debian packages)" >&2
    $sudo apt-get update -qq >&2 || true
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq "${missing[@]}" >&2
  else
    echo "setup: not root and no sudo: ${missing[*]} not installed; the steps that need them will say they did not run" >&2
  fi
fi
if [ "$what" = test ]; then
  # nextpnr-ecp5 and nextpnr-ice40 into .tools/ (about a minute the first time, then instant) for the place-and-route tests
  "$root/scripts/setup-pnr.sh" >&2 || echo "setup: scripts/setup-pnr.sh failed: place-and-route tests will skip (and fail under CI)" >&2
fi
exit 0
