#!/usr/bin/env bash
# The adversarial compile shapes of test/shapes.c: each module is compiled
# (no cache) and run with the arguments 0 and 1, and its results compared
# with what the generator says they are; the host build also compiles each
# for the other ISA.  Time limits are hang guards only (a shape that went
# quadratic again takes minutes or hours, not seconds); what each costs is
# measured by `make bench` ("Adversarial shapes" in bench/results.md).
# Last line: "shapes: N passed, N failed".
#   test/shapes.sh BUILD        (RUN_WRAP=qemu-aarch64 for the aarch64 build)
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
gate=$build/gate
wrap=${RUN_WRAP:-}
out=$build/shapes
mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
guard=120
[ -n "$wrap" ] && guard=600
# the generator runs on this machine whatever the build's ISA
gen=$out/shapes-gen
if ! ${HOSTCC:-cc} -O2 -o "$gen" test/shapes.c; then
    echo "shapes: 0 passed, 1 failed (test/shapes.c did not build)"
    exit 1
fi
other=arm64
[ -n "$wrap" ] && other=x86_64
for s in $("$gen" list); do
    "$gen" "$s" > "$out/$s.wat" && wat2wasm "$out/$s.wat" -o "$out/$s.wasm" ||
        { bad "$s: the module builds"; continue; }
    want=$(head -1 "$out/$s.wat")        # ";; f(0) = N  f(1) = M"
    w0=$(sed -n 's/.*f(0) = \([0-9-]*\).*/\1/p' <<<"$want")
    w1=$(sed -n 's/.*f(1) = \([0-9-]*\).*/\1/p' <<<"$want")
    for a in 0 1; do
        got=$(timeout $guard $wrap "$gate" run --no-cache --invoke f "$out/$s.wasm" $a 2> "$out/$s.$a.err")
        rc=$?
        w=$w0; [ $a = 1 ] && w=$w1
        if [ $rc -eq 0 ] && [ "$got" = "$w" ]; then
            ok "$s: f($a) = $w"
        else
            bad "$s: f($a)" "exit $rc, got '$got', want $w: $(head -c 300 "$out/$s.$a.err")"
        fi
    done
    if timeout $guard $wrap "$gate" compile --target $other "$out/$s.wasm" -o "$out/$s.$other.gobj" \
        > /dev/null 2> "$out/$s.x.err"; then
        ok "$s: compiled for $other"
    else
        bad "$s: compiled for $other" "$(head -c 300 "$out/$s.x.err")"
    fi
    rm -f "$out/$s.wat" "$out/$s.$other.gobj"
done
echo "shapes: $pass passed, $fail failed"
[ $fail -eq 0 ]
