#!/usr/bin/env bash
# Converts every ../shared/spec/*.wast with wast2json into BUILD/spec/ and
# runs them all through BUILD/spec-runner.  Any output of wast2json on
# stderr counts as a failed conversion.  Writes BUILD/spec-results.tsv.
#   test/spec.sh BUILD [RUNNER OPTIONS]
set -uo pipefail
build=${1:-build}; shift || true
top=$(cd "$(dirname "$0")/.." && pwd)
spec=${SPEC_DIR:-$top/../shared/spec}
if [ ! -d "$spec" ] || ! ls "$spec"/*.wast > /dev/null 2>&1; then
    # a clone outside this repository's own setup: say where the suite is
    # looked for, and skip it (the core testsuite's *.wast files, see
    # docs/testing.md)
    echo "spec: no spec tests (*.wast) at $spec: set SPEC_DIR to a copy of the WebAssembly core testsuite"
    echo "${SPEC_LABEL:-spec}: 0 passed, 0 failed, 1 skipped (no spec tests at $spec)"
    exit 0
fi
out=$build/spec
mkdir -p "$out"
failed=()
jsons=()
for w in "$spec"/*.wast; do
    name=$(basename "$w" .wast)
    d=$out/$name
    j=$d/$name.json
    # convert again only when the .wast is newer than its output
    if [ ! -s "$j" ] || [ "$w" -nt "$j" ] || [ -s "$d/stderr" ]; then
        rm -rf "$d"; mkdir -p "$d"
        (cd "$d" && wast2json "$w" -o "$name.json" 2> stderr)
        if [ $? -ne 0 ] || [ -s "$d/stderr" ]; then
            sed 's/^/  wast2json: /' "$d/stderr" | head -5
            failed+=(--failed-conversion "$name.wast")
            continue
        fi
    fi
    jsons+=("$j")
done
# SPEC_WRAP (e.g. "qemu-aarch64") runs the runner through an emulator
exec ${SPEC_WRAP:-} "$build/spec-runner" --results "${SPEC_RESULTS:-$build/spec-results.tsv}" "${failed[@]}" "$@" "${jsons[@]}"
