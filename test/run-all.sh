#!/usr/bin/env bash
# The whole test suite: unit tests, then the spec harness.  The last line
# is the total: "N passed, N failed, N skipped".
#   test/run-all.sh BUILD
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
echo "== unit tests"
bash test/run-unit.sh "$build"/test/unit_* | tee "$build/unit.log"
echo "== spec tests ($build/spec-results.tsv)"
bash test/spec.sh "$build" | tee "$build/spec.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
u=$(tail -1 "$build/unit.log")
s=$(tail -1 "$build/spec.log")
num() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$2"; }
up=$(num passed "$u") uf=$(num failed "$u")
sp=$(num passed "$s") sf=$(num failed "$s") ss=$(num skipped "$s")
up=${up:-0} uf=${uf:-1} sp=${sp:-0} sf=${sf:-1} ss=${ss:-0}
echo "$((up + sp)) passed, $((uf + sf)) failed, $ss skipped"
[ $((uf + sf)) -eq 0 ]
