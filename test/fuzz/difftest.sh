#!/usr/bin/env bash
# Differential testing: random valid modules (test/fuzz/genmod.c: multi-
# value blocks with parameters, dead code after every kind of branch,
# br_table, calls, call_indirect, memory, globals, every value type, v128
# and about 110 of the SIMD instructions included) run
# by wabt's interpreter, whose results become a .wast of assertions that
# gate's spec-runner then checks: plain, with explicit bounds + fuel +
# deterministic NaNs, and in stress mode (every call stopped at its stop
# checks and its first stop snapshotted and restored).  SPEC_WRAP and
# the runner options pass through, so the same modules run under qemu and
# across ISAs (test/run-arm64.sh).  A fixed seed range: the same modules
# on every run.  Last line: "difftest: N passed, N failed, N skipped".
#   test/fuzz/difftest.sh BUILD FIRST LAST [RUNNER OPTIONS]   (one mode)
#   test/fuzz/difftest.sh BUILD FIRST LAST --all-modes
set -uo pipefail
build=${1:-build}; first=${2:-1}; last=${3:-100}
shift 3 2>/dev/null || shift $#
cd "$(dirname "$0")/../.."
dir=$build/difftest
mkdir -p "$dir"
if ! command -v wasm-interp > /dev/null || ! command -v wast2json > /dev/null; then
    echo "difftest: 0 passed, 0 failed, 1 skipped (needs wabt's wasm-interp and wast2json)"
    exit 0
fi
# the generator runs on this machine, whatever BUILD's target
gen=$dir/genmod
if [ ! -x "$gen" ] || [ test/fuzz/genmod.c -nt "$gen" ]; then
    cc -O2 -std=c11 -D_GNU_SOURCE -Wall -Wextra -o "$gen" test/fuzz/genmod.c || {
        echo "difftest: 0 passed, 1 failed, 0 skipped (genmod does not build)"; exit 1; }
fi
jsons=()
for seed in $(seq "$first" "$last"); do
    d=$dir/s$seed
    j=$d/s$seed.json
    if [ ! -s "$j" ] || [ "$gen" -nt "$j" ]; then
        rm -rf "$d"; mkdir -p "$d"
        "$gen" "$seed" > "$d/m.wat"
        if ! wat2wasm "$d/m.wat" -o "$d/m.wasm" 2> "$d/wat.err"; then
            echo "difftest: seed $seed: the generator made an invalid module"; head -3 "$d/wat.err"
            echo "difftest: 0 passed, 1 failed, 0 skipped"; exit 1
        fi
        # the reference's results, as assertions, in export order
        timeout 60 wasm-interp "$d/m.wasm" --run-all-exports > "$d/ref.txt" 2>&1
        {
            cat "$d/m.wat"
            while IFS= read -r line; do
                name=${line%%(*}
                rest=${line#*=> }
                if [ "$rest" = "${rest#error: }" ]; then
                    printf '(assert_return (invoke "%s")' "$name"
                    IFS=',' read -ra vals <<< "$rest"
                    for v in "${vals[@]}"; do
                        v=${v# }
                        [ -n "$v" ] && printf ' (%s.const %s)' "${v%%:*}" "${v#*:}"
                    done
                    printf ')\n'
                else
                    printf '(assert_trap (invoke "%s") "%s")\n' "$name" "${rest#error: }"
                fi
            done < <(grep '^f[0-9]*() =>' "$d/ref.txt")
        } > "$d/s$seed.wast"
        (cd "$d" && wast2json "s$seed.wast" -o "s$seed.json" 2> wast.err) || {
            echo "difftest: seed $seed: wast2json failed"; head -3 "$d/wast.err"
            echo "difftest: 0 passed, 1 failed, 0 skipped"; exit 1; }
    fi
    jsons+=("$j")
done
run() { ${SPEC_WRAP:-} "$build/spec-runner" --label "$1" "${@:2}" "${jsons[@]}" | tail -1; }
if [ "${1:-}" = "--all-modes" ]; then
    p=0 f=0 s=0
    for mode in "difftest" "difftest-explicit --explicit-bounds --fuel --deterministic" \
                "difftest-stress --stress 1"; do
        # shellcheck disable=SC2086
        line=$(run $mode)
        echo "$line"
        n() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<< "$line"; }
        pv=$(n passed) fv=$(n failed) sv=$(n skipped)
        p=$((p + ${pv:-0})) f=$((f + ${fv:-1})) s=$((s + ${sv:-0}))
    done
    echo "difftest: $p passed, $f failed, $s skipped"
    [ "$f" -eq 0 ]
else
    run difftest "$@"
fi
