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
echo "== spec tests again: explicit bounds checks, baseline CPU (no LZCNT/POPCNT/BMI1),"
echo "   deterministic NaNs"
SPEC_RESULTS="$build/spec-results-explicit.tsv" bash test/spec.sh "$build" --explicit-bounds --fuel --baseline-cpu --deterministic --label "spec-explicit" \
    | tee "$build/spec2.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
echo "== spec tests in stress mode: every call stopped at each stop check (up to 16 times),"
echo "   the first stop snapshotted and restored into a fresh instance, then resumed"
SPEC_RESULTS="$build/spec-results-stress.tsv" bash test/spec.sh "$build" --stress 1 --label "spec-stress" \
    | tee "$build/spec3.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
echo "== gate command and WASI"
bash test/run-cli.sh "$build" | tee "$build/cli.log" | grep -v '^ok '
# the same tests with every run and resume confined by --sandbox (seccomp);
# not under the sanitizers, whose runtimes make calls of their own at exit
echo "== gate command and WASI again, every run and resume under --sandbox"
if [[ "${EXTRA_CFLAGS:-}${EXTRA_LDFLAGS:-}" == *sanitize* ]]; then
    echo "cli-sandbox: 0 passed, 0 failed, 1 skipped (LeakSanitizer's exit-time check needs clone and ptrace, which the sandbox forbids)" | tee "$build/cli-sandbox.log"
else
    GATE_SANDBOX=1 bash test/run-cli.sh "$build" | sed 's/^cli:/cli-sandbox:/' | tee "$build/cli-sandbox.log" | grep -v '^ok '
fi
echo "== a world of 100 processes, saved and resumed (test/world.sh)"
bash test/world.sh "$build" | tee "$build/world.log" | grep -v '^ok '
echo "== zygotes: gate init and gate run --fork (test/zygote.sh)"
bash test/zygote.sh "$build" | tee "$build/zygote.log" | grep -v '^ok '
echo "== resources reattached, lost or kept suspended (test/resources.sh)"
bash test/resources.sh "$build" | tee "$build/resources.log" | grep -v '^ok '
echo "== a document that carries its program, edited in a terminal (test/document.sh)"
bash test/document.sh "$build" | tee "$build/document.log" | grep -v '^ok '
echo "== a game engine's scripts, frames against expected images (test/game.sh)"
bash test/game.sh "$build" | tee "$build/game.log" | grep -v '^ok '
echo "== adversarial compile shapes (test/shapes.sh)"
bash test/shapes.sh "$build" | tee "$build/shapes.log" | grep -v '^ok '
echo "== untrusted snapshots, objects and outputs (test/attacks.sh)"
bash test/attacks.sh "$build" | tee "$build/attacks.log" | grep -v '^ok '
# random valid modules against wabt's interpreter, a fixed seed range
echo "== random modules against wabt's interpreter (test/fuzz/difftest.sh, seeds 1-${DIFF_SEEDS:-1000})"
bash test/fuzz/difftest.sh "$build" 1 "${DIFF_SEEDS:-1000}" --all-modes > "$build/difftest.log" 2>&1
tail -4 "$build/difftest.log"
# the snapshot fuzzer, a short bounded run under ASan+UBSan (clang)
echo "== snapshot fuzzer, ${FUZZ_SMOKE:-30} s (ASan+UBSan, test/fuzz/run-snapshot.sh)"
if make --no-print-directory -s BUILD="$build" "$build/fuzz/fuzz_snapshot" > "$build/fuzz-build.log" 2>&1; then
    bash test/fuzz/run-snapshot.sh "$build" "${FUZZ_SMOKE:-30}" > "$build/fuzz.log" 2>&1
    tail -4 "$build/fuzz.log"
else
    tail -5 "$build/fuzz-build.log"
    echo "fuzz-snapshot: 0 passed, 1 failed (the fuzzer did not build)" > "$build/fuzz.log"
fi
logs="unit spec spec2 spec3 cli cli-sandbox world zygote resources document game shapes attacks difftest fuzz"
# the aarch64 build under qemu (ARM64=0 leaves it out, as `make asan` does)
if [ "${ARM64:-1}" = 1 ]; then
    echo "== aarch64 build, under qemu-aarch64"
    if bash tools/deps.sh --arm64 > "$build/arm64-deps.log" 2>&1 &&
       make --no-print-directory -s CC=aarch64-linux-gnu-gcc BUILD="$build/arm64" \
           EXTRA_CFLAGS="${EXTRA_CFLAGS:-}" test-bins > "$build/arm64-build.log" 2>&1; then
        bash test/run-arm64.sh "$build/arm64" | tee "$build/arm64.log" | grep -v '^unit_\|\.wast  *[0-9]* passed, 0 failed'
    else
        tail -5 "$build/arm64-deps.log" "$build/arm64-build.log" 2>/dev/null
        echo "arm64: 0 passed, 1 failed, 0 skipped (the cross build failed)" | tee "$build/arm64.log"
    fi
    logs="$logs arm64"
fi
num() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$2"; }
tp=0 tf=0 ts=0
for log in $logs; do
    line=$(tail -1 "$build/$log.log")
    p=$(num passed "$line") f=$(num failed "$line") s=$(num skipped "$line")
    tp=$((tp + ${p:-0})) tf=$((tf + ${f:-1})) ts=$((ts + ${s:-0}))
done
echo "$tp passed, $tf failed, $ts skipped"
[ $tf -eq 0 ]
