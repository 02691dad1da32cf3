#!/usr/bin/env bash
# Runs HetQ's test suite on a fresh Debian 12 machine with the .NET 10 SDK: installs the Debian
# packages and tools the tests use when they are missing (scripts/setup.sh test: as root, or through
# sudo), restores, builds, tests, and ends with one line "N passed, N failed, N skipped".
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
cd "$root"

"$root/scripts/setup.sh" test

# A PostgreSQL server on loopback for the multi-worker search tests (HETQ_TEST_POSTGRES); they skip without it.
if [ -z "${HETQ_TEST_POSTGRES:-}" ] && command -v pg_lsclusters >/dev/null && { [ "$(id -u)" -eq 0 ] || command -v sudo >/dev/null; }; then
  sudo=""; [ "$(id -u)" -ne 0 ] && sudo="sudo"
  cluster=$(pg_lsclusters -h 2>/dev/null | awk 'NR==1 {print $1" "$2}')
  if [ -n "$cluster" ]; then
    $sudo pg_ctlcluster $cluster start >/dev/null 2>&1 || true
    for i in $(seq 1 20); do $sudo -u postgres psql -qtAc 'SELECT 1' >/dev/null 2>&1 && break; sleep 0.5; done 2>/dev/null
    if [ "$(id -u)" -eq 0 ]; then pg() { su postgres -c "psql -qtAc \"$1\""; }; else pg() { sudo -u postgres psql -qtAc "$1"; }; fi
    pg "SELECT 1 FROM pg_roles WHERE rolname='hetq'" 2>/dev/null | grep -q 1 || pg "CREATE ROLE hetq LOGIN PASSWORD 'hetq'" >/dev/null 2>&1 || true
    pg "SELECT 1 FROM pg_database WHERE datname='hetq'" 2>/dev/null | grep -q 1 || pg "CREATE DATABASE hetq OWNER hetq" >/dev/null 2>&1 || true
    export HETQ_TEST_POSTGRES="Host=127.0.0.1;Username=hetq;Password=hetq;Database=hetq"
  fi
fi

log=$(mktemp)
trap 'rm -f "$log"' EXIT
set +e
dotnet test "$root/tests/HetQ.Tests/HetQ.Tests.csproj" -c Release -nologo "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
set -e
summary=$(grep -E '(Passed|Failed|Skipped)!' "$log" | tail -1)
if [ -n "$summary" ]; then
  failed=$(sed -E 's/.*Failed: *([0-9]+).*/\1/' <<<"$summary")
  passed=$(sed -E 's/.*Passed: *([0-9]+).*/\1/' <<<"$summary")
  skipped=$(sed -E 's/.*Skipped: *([0-9]+).*/\1/' <<<"$summary")
  echo "$passed passed, $failed failed, $skipped skipped"
fi
exit "$status"
