#!/usr/bin/env bash
# Runs the decoder/validator fuzzer for SECONDS, seeded with every binary
# module of the converted spec tests (run `make spec` first for the seeds).
#   test/fuzz/run.sh BUILD SECONDS
set -euo pipefail
build=${1:-build}
secs=${2:-600}
bin=$build/fuzz/fuzz_decode
corpus=$build/fuzz/corpus
seeds=$build/fuzz/seeds
mkdir -p "$corpus" "$seeds" "$build/fuzz/crashes"
if [ -d "$build/spec" ]; then
    find "$build/spec" -name '*.wasm' -size -64k -exec cp -t "$seeds" {} + 2>/dev/null || true
fi
cp "$(dirname "$0")/../data/small.wasm" "$seeds/"
echo "fuzz: $(ls "$seeds" | wc -l) seeds, $secs s"
"$bin" -max_total_time="$secs" -max_len=65536 -timeout=10 -rss_limit_mb=2048 \
    -artifact_prefix="$build/fuzz/crashes/" -print_final_stats=1 \
    "$corpus" "$seeds" 2>&1 | tail -25
