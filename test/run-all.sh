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
echo "== spec tests again: explicit bounds checks, baseline CPU (no LZCNT/POPCNT/BMI1)"
SPEC_RESULTS="$build/spec-results-explicit.tsv" bash test/spec.sh "$build" --explicit-bounds --baseline-cpu --label "spec-explicit" \
    | tee "$build/spec2.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
echo "== spec tests in stress mode: every call stopped at each stop check (up to 16 times),"
echo "   the first stop snapshotted and restored into a fresh instance, then resumed"
SPEC_RESULTS="$build/spec-results-stress.tsv" bash test/spec.sh "$build" --stress 1 --label "spec-stress" \
    | tee "$build/spec3.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
echo "== gate command and WASI"
bash test/run-cli.sh "$build" | tee "$build/cli.log" | grep -v '^ok '
num() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$2"; }
tp=0 tf=0 ts=0
for log in unit spec spec2 spec3 cli; do
    line=$(tail -1 "$build/$log.log")
    p=$(num passed "$line") f=$(num failed "$line") s=$(num skipped "$line")
    tp=$((tp + ${p:-0})) tf=$((tf + ${f:-1})) ts=$((ts + ${s:-0}))
done
echo "$tp passed, $tf failed, $ts skipped"
[ $tf -eq 0 ]
