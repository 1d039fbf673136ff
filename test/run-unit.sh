#!/usr/bin/env bash
# Runs cmocka unit-test binaries; prints "unit: N passed, N failed".
# A binary that dies without its summary counts as one failure.
# RUN_WRAP (e.g. "qemu-aarch64") runs each binary through an emulator.
set -uo pipefail
passed=0 failed=0 skipped=0
for t in "$@"; do
    out=$(${RUN_WRAP:-} "$t" 2>&1); rc=$?
    p=$(sed -n 's/^\[  PASSED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
    f=$(sed -n 's/^\[  FAILED  \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
    k=$(sed -n 's/^\[  SKIPPED \] \([0-9]*\) test.*/\1/p' <<<"$out" | tail -1)
    if [ -z "$p" ] && [ -z "$f" ]; then
        echo "$out" | tail -20
        echo "FAIL $(basename "$t"): exited $rc without a summary"
        failed=$((failed + 1))
        continue
    fi
    p=${p:-0} f=${f:-0}
    if [ "$f" -ne 0 ] || [ $rc -ne 0 ]; then
        echo "$out" | grep -E '^\[  (ERROR|FAILED) |^\[   LINE' | sed 's/^/  /'
        [ "$f" -eq 0 ] && f=1
    fi
    k=${k:-0}
    printf '%-40s %d passed, %d failed%s\n' "$(basename "$t")" "$p" "$f" \
        "$([ "$k" -gt 0 ] && echo ", $k skipped ($(sed -n 's/^.*SKIPPED.*: *//p; s/^\[  SKIPPED \] *\([a-z_0-9]*\)$/\1/p' <<<"$out" | head -1))")"
    passed=$((passed + p)) failed=$((failed + f)) skipped=$((skipped + k))
done
echo "unit: $passed passed, $failed failed, $skipped skipped"
[ $failed -eq 0 ]
