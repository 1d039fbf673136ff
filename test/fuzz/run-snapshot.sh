#!/usr/bin/env bash
# Runs the snapshot fuzzer (test/fuzz/fuzz_snapshot.c, ASan+UBSan) for
# SECONDS, seeded with snapshots of the test programs: unit_forge's (16 and
# 17 local groups, a pending host call), examples/migrate's (300 frames,
# every value type, a pending host call, a multi-value block's values),
# and WASI programs stopped by fuel (preopens, open files).  Prints the
# executions and a last line "fuzz-snapshot: N passed, N failed".
#   test/fuzz/run-snapshot.sh BUILD SECONDS
set -uo pipefail
build=${1:-build}
secs=${2:-600}
cd "$(dirname "$0")/../.."
bin=$build/fuzz/fuzz_snapshot
corpus=$build/fuzz/snap-corpus
seeds=$build/fuzz/snap-seeds
crashes=$build/fuzz/snap-crashes
mkdir -p "$corpus" "$seeds" "$crashes"
export GATE_CACHE_DIR=$build/fuzz/private
# seeds
GATE_WRITE_SEEDS=$seeds "$build/test/unit_forge" > /dev/null 2>&1
if [ -x "$build/examples/migrate" ]; then
    "$build/examples/migrate" "$build/examples/migrate.wasm" start 300 "$seeds/migrate.snap" \
        > /dev/null 2>&1
fi
tmp=$build/fuzz/seed-progs; mkdir -p "$tmp/data"
for k in 1 2 3; do echo "line $k" >> "$tmp/data/in.txt"; done
for p in test/wasi/copy.c test/wasi/waitgo.c examples/hello.c; do
    n=$(basename "$p" .c)
    clang --target=wasm32-wasi -O2 -o "$tmp/$n.wasm" "$p" 2> /dev/null || continue
    for f in 20000 300000; do
        "$build/gate" run --no-cache --dir "$tmp/data::data" --fuel=$f --snapshot="$seeds/$n-$f.snap" \
            "$tmp/$n.wasm" 100 > /dev/null 2>&1
    done
done
rm -f "$seeds"/*.tmp.*
echo "fuzz-snapshot: $(ls "$seeds" | wc -l) seeds, $secs s"
"$bin" -max_total_time="$secs" -max_len=1048576 -timeout=20 -rss_limit_mb=4096 \
    -artifact_prefix="$crashes/" -print_final_stats=1 "$corpus" "$seeds" > "$build/fuzz/snap.log" 2>&1
rc=$?
grep -E "^stat::number_of_executed_units|^stat::peak_rss|^#[0-9]+.*DONE|SUMMARY|ERROR" "$build/fuzz/snap.log" | tail -6
if [ $rc -eq 0 ] && ! ls "$crashes"/* > /dev/null 2>&1; then
    echo "fuzz-snapshot: 1 passed, 0 failed"
else
    tail -40 "$build/fuzz/snap.log"
    echo "fuzz-snapshot: 0 passed, 1 failed"
    exit 1
fi
