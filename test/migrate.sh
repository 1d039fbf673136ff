#!/usr/bin/env bash
# Migration between x86-64 (HOST build, native) and aarch64 (ARM build,
# under qemu-aarch64), through `gate run/resume --snapshot`:
#   - ping-pong: a test program stopped at random points (random fuel
#     budgets; seed printed, MIGRATE_SEED=N repeats a run) alternates ISAs
#     across at least ten hops; the joined output equals an uninterrupted
#     run on either ISA;
#   - the same stop made on both ISAs (same fuel) gives the same portable
#     frames in `gate inspect`, and each snapshot finishes on the other ISA;
#   - a hop on ARM64 stopped by a wall-clock deadline and by SIGINT;
#   - snapshots naming the AOT object for each ISA, and the fallback to
#     compiling when the object is for another program, damaged or missing;
#   - through the C API (examples/migrate.c): stops requested by a host
#     function deep in recursion, every value type, multi-value blocks.
# Last line: "migrate: N passed, N failed".
#   test/migrate.sh HOST_BUILD ARM_BUILD
set -uo pipefail
host=${1:-build} arm=${2:-build/arm64}
cd "$(dirname "$0")/.."
out=$arm/migrate
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
gate_on() { if [ "$1" = x86_64 ]; then "$host/gate" "${@:2}"; else qemu-aarch64 "$arm/gate" "${@:2}"; fi; }
other() { if [ "$1" = x86_64 ]; then echo arm64; else echo x86_64; fi; }
# the portable part of `gate inspect` for a snapshot: run state, memory, frames
frames() { sed -n '/^snapshot version/,$p' | grep -v '^gate:'; }

prog=$host/cli/recurse.wasm
if [ ! -s "$prog" ] || [ ! -x "$host/gate" ] || [ ! -x "$arm/gate" ]; then
    echo "skip migration: needs both builds and $prog (make test)"
    echo "migrate: 0 passed, 0 failed, 1 skipped"
    exit 0
fi
args=(1)
"$host/gate" run "$prog" "${args[@]}" > "$out/want-x86" 2>&1
qemu-aarch64 "$arm/gate" run "$prog" "${args[@]}" > "$out/want-arm" 2>&1
if cmp -s "$out/want-x86" "$out/want-arm"; then
    ok "recurse.c: uninterrupted runs on x86-64 and ARM64 print the same"
else
    bad "recurse.c differs between the ISAs before any migration"
fi

# the program's fuel, within a factor of two
hi=$((1 << 20))
while "$host/gate" run --fuel=$hi --snapshot="$out/cal.snap" "$prog" "${args[@]}" > /dev/null 2>&1
      [ $? -eq 75 ]; do
    hi=$((hi * 2))
done
base=$((hi / 32))            # budgets base/2 .. 3*base/2: 11 to 64 hops

# ---- ping-pong -------------------------------------------------------------
seed=${MIGRATE_SEED:-$((RANDOM * 32768 + RANDOM))}
RANDOM=$seed
isa=x86_64 hops=0 rc=75 trail=""
snap=$out/pp.snap
: > "$out/joined"
while [ $rc -eq 75 ] && [ $hops -lt 200 ]; do
    fuel=$((base / 2 + (RANDOM * 32768 + RANDOM) % base))
    if [ $hops -eq 0 ]; then
        gate_on $isa run --fuel=$fuel --snapshot="$snap" "$prog" "${args[@]}" >> "$out/joined" 2> "$out/hop.err"
    else
        gate_on $isa resume --fuel=$fuel "$snap" >> "$out/joined" 2> "$out/hop.err"
    fi
    rc=$?
    hops=$((hops + 1))
    trail="$trail ${isa%%_*}:$fuel"
    if [ $rc -eq 75 ]; then
        # both ISAs read the snapshot the same way
        gate_on x86_64 inspect "$snap" 2>&1 | frames > "$out/inspect-x86"
        gate_on arm64 inspect "$snap" 2>&1 | frames > "$out/inspect-arm"
        if ! cmp -s "$out/inspect-x86" "$out/inspect-arm" || [ ! -s "$out/inspect-x86" ]; then
            bad "ping-pong hop $hops: gate inspect differs between the ISAs"
            rc=99
        fi
    fi
    isa=$(other $isa)
done
if [ $rc -eq 0 ] && [ $hops -ge 10 ] && cmp -s "$out/want-x86" "$out/joined"; then
    ok "ping-pong: $hops hops alternating x86-64/ARM64 (seed $seed), joined output equals one run"
else
    bad "ping-pong (seed $seed, $hops hops, last status $rc)" "$(echo "$trail" | cut -c1-300); $(head -3 "$out/hop.err")"
fi

# ---- the same stop on both ISAs ----------------------------------------------
same=0
for k in 1 2 3; do
    fuel=$(( (RANDOM * 32768 + RANDOM) % (hi / 2) + 1000 ))
    "$host/gate" run --fuel=$fuel --snapshot="$out/s-x86.snap" "$prog" "${args[@]}" > "$out/s0-x86" 2>/dev/null; r1=$?
    qemu-aarch64 "$arm/gate" run --fuel=$fuel --snapshot="$out/s-arm.snap" "$prog" "${args[@]}" > "$out/s0-arm" 2>/dev/null; r2=$?
    "$host/gate" inspect "$out/s-x86.snap" 2>&1 | frames > "$out/f-x86"
    "$host/gate" inspect "$out/s-arm.snap" 2>&1 | frames > "$out/f-arm"
    # and each finishes on the other ISA
    qemu-aarch64 "$arm/gate" resume "$out/s-x86.snap" > "$out/s1-x86" 2>/dev/null; r3=$?
    "$host/gate" resume "$out/s-arm.snap" > "$out/s1-arm" 2>/dev/null; r4=$?
    if [ $r1 -eq 75 ] && [ $r2 -eq 75 ] && [ $r3 -eq 0 ] && [ $r4 -eq 0 ] &&
       [ -s "$out/f-x86" ] && cmp -s "$out/f-x86" "$out/f-arm" &&
       cmp -s "$out/want-x86" <(cat "$out/s0-x86" "$out/s1-x86") &&
       cmp -s "$out/want-x86" <(cat "$out/s0-arm" "$out/s1-arm"); then
        same=$((same + 1))
    else
        bad "same stop (fuel $fuel): statuses $r1 $r2 $r3 $r4" "$(diff "$out/f-x86" "$out/f-arm" | head -5)"
    fi
done
[ $same -eq 3 ] && ok "the same stop (3 random fuel points) on x86-64 and ARM64: identical portable frames in gate inspect; each finishes on the other ISA"

# ---- ARM64 stopped by a deadline and by SIGINT, finished on x86-64 ----------
# waitgo.c works until data/go exists, which is made only after the stop:
# the deadline and the signal always find it running, on any machine
waitgo=$host/cli/waitgo.wasm
wg=$out/wg; rm -rf "$wg"; mkdir -p "$wg"
touch "$wg/go"
"$host/gate" run --dir "$wg::data" "$waitgo" > "$out/wg-want" 2>&1
rm -f "$wg/go"
qemu-aarch64 "$arm/gate" run --dir "$wg::data" --suspend-after=300ms --snapshot="$out/d.snap" \
    "$waitgo" > "$out/d0" 2> "$out/d.err"; r1=$?
touch "$wg/go"
"$host/gate" resume --dir "$wg::data" "$out/d.snap" > "$out/d1" 2>/dev/null; r2=$?
if [ $r1 -eq 75 ] && [ $r2 -eq 0 ] && cmp -s "$out/wg-want" <(cat "$out/d0" "$out/d1"); then
    ok "ARM64 stopped by --suspend-after, finished on x86-64: output equals one run"
else
    bad "deadline on ARM64 (statuses $r1 $r2)" "$(head -2 "$out/d.err")"
fi
rm -f "$wg/go"
qemu-aarch64 "$arm/gate" run --dir "$wg::data" --snapshot="$out/i.snap" "$waitgo" \
    > "$out/i0" 2> "$out/i.err" &
pid=$!
# the program prints "waiting" once it runs (gate's handlers are in place)
for _ in $(seq 600); do grep -q waiting "$out/i0" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid
wait $pid; r1=$?
touch "$wg/go"
"$host/gate" resume --dir "$wg::data" "$out/i.snap" > "$out/i1" 2>/dev/null; r2=$?
if [ $r1 -eq 75 ] && [ $r2 -eq 0 ] && cmp -s "$out/wg-want" <(cat "$out/i0" "$out/i1"); then
    ok "ARM64 stopped by SIGINT, finished on x86-64: output equals one run"
else
    bad "SIGINT on ARM64 (statuses $r1 $r2)" "$(head -2 "$out/i.err")"
fi
# ---- objects named by the snapshot ------------------------------------------
# objects for both CPUs made on x86-64; the run names both; each hop on
# either ISA resumes with its own object instead of compiling.  A
# mismatched, damaged or missing object falls back to compiling.
"$host/gate" compile --fuel "$prog" -o "$out/prog-x86_64.gobj" > /dev/null &&
"$host/gate" compile --fuel --target arm64 "$prog" -o "$out/prog-arm64.gobj" > /dev/null &&
"$host/gate" compile --fuel "$host/cli/hello.wasm" -o "$out/other.gobj" > /dev/null
snap=$out/obj.snap
"$host/gate" run --fuel=$((base * 4)) --snapshot="$snap" --name-object="$out/prog-arm64.gobj" \
    "$out/prog-x86_64.gobj" "${args[@]}" > "$out/obj-joined" 2> /dev/null; rc=$?
isa=arm64 hops=1 fromobj=0
named=0
while [ $rc -eq 75 ] && [ $hops -lt 6 ]; do
    # the object the snapshot names is only mentioned; --object uses one
    if [ $hops = 1 ]; then
        gate_on $isa resume --fuel=$((base * 4)) "$snap" >> "$out/obj-joined" 2> "$out/obj.err"; rc=$?
        grep -q "names object .*prog-$isa.gobj; compiling the module" "$out/obj.err" &&
            ! grep -q "code from object" "$out/obj.err" && named=1
    else
        gate_on $isa resume --fuel=$((base * 4)) --object="$out/prog-$isa.gobj" "$snap" \
            >> "$out/obj-joined" 2> "$out/obj.err"; rc=$?
        grep -q "code from object .*prog-$isa.gobj" "$out/obj.err" && fromobj=$((fromobj + 1))
    fi
    hops=$((hops + 1)) isa=$(other $isa)
done
if [ $rc -eq 75 ]; then
    "$host/gate" resume "$snap" >> "$out/obj-joined" 2> "$out/obj.err"; rc=$?
fi
if [ $rc -eq 0 ] && [ $named = 1 ] && [ $fromobj -ge 3 ] && cmp -s "$out/want-x86" "$out/obj-joined"; then
    ok "objects: $fromobj hops resumed with --object for their ISA; the object the snapshot names is not loaded without it; output equals one run"
else
    bad "objects (status $rc, named $named, $fromobj of $((hops - 1)) hops from objects)" "$(head -2 "$out/obj.err")"
fi
"$host/gate" run --fuel=$base --snapshot="$out/fb.snap" "$prog" "${args[@]}" > "$out/fb0" 2> /dev/null
cp "$out/prog-x86_64.gobj" "$out/damaged.gobj"
printf '\x55' | dd of="$out/damaged.gobj" bs=1 seek=5000 conv=notrunc 2> /dev/null
fb=0
for o in other.gobj damaged.gobj missing.gobj; do
    cp "$out/fb.snap" "$out/fb2.snap"
    "$host/gate" resume --fuel=1000000000000 --object="$out/$o" "$out/fb2.snap" > "$out/fb1" 2> "$out/fb.err"; rc=$?
    if [ $rc -eq 0 ] && grep -q "compil" "$out/fb.err" && cmp -s "$out/want-x86" <(cat "$out/fb0" "$out/fb1"); then
        fb=$((fb + 1))
    else
        bad "fallback with $o (status $rc)" "$(head -2 "$out/fb.err")"
    fi
done
[ $fb -eq 3 ] && ok "an object of another program, a damaged one and a missing one: the module is compiled instead, output equals one run"

# ---- through the C API: examples/migrate.c --------------------------------
# stops requested by a host function at its own call (results delivered on
# resume), 300 frames deep, with i32/i64/f32/f64/funcref/externref locals
# and a multi-value block's values on the operand stack at each stop
mx=$host/examples/migrate ma=$arm/examples/migrate mw=$host/examples/migrate.wasm
if [ -x "$mx" ] && [ -x "$ma" ] && [ -s "$mw" ]; then
    want=$("$mx" "$mw" whole 300)
    want_arm=$(qemu-aarch64 "$ma" "$mw" whole 300)
    snap=$out/api.snap
    "$mx" "$mw" start 300 "$snap" > /dev/null; rc=$?
    hops=1 isa=arm64 last="" deep=0 typed=0
    while [ $rc -eq 75 ] && [ $hops -lt 40 ]; do
        "$host/gate" inspect "$snap" 2>&1 | frames > "$out/api-frames"
        [ $hops -eq 1 ] && grep -q '^stack [23][0-9][0-9] frame' "$out/api-frames" && deep=1
        grep -q 'i32:.*i64:.*f32:.*f64:.*funcref:.*externref:.* i32:11 i64:22$' "$out/api-frames" &&
            typed=$((typed + 1))
        if [ $isa = arm64 ]; then last=$(qemu-aarch64 "$ma" resume "$snap"); else last=$("$mx" resume "$snap"); fi
        rc=$?
        hops=$((hops + 1))
        isa=$(other $isa)
    done
    if [ $rc -eq 0 ] && [ "$last" = "$want" ] && [ "$want" = "$want_arm" ] && [ $hops -ge 4 ] && [ $deep -eq 1 ] && [ $typed -eq $((hops - 1)) ]; then
        ok "C API: $hops hops alternating ISAs, each stopped by a host function (the first 200+ frames deep) with every value type in locals and a multi-value block's values on the operand stack; result equals one run on either ISA ($want)"
    else
        bad "C API migration (status $rc after $hops hops; first stop deep: $deep; stops with every type and the block's values: $typed)" "want $want / $want_arm, got $last"
    fi
else
    echo "skip C API migration: needs examples/migrate in both builds"
fi
# WASI descriptors across ISAs (fileops.c): stopped inside its pread /
# pwrite, link, symlink and renumber calls, each hop on the other ISA,
# stdout and stderr renumbered onto files on the way; the same output and
# files as one run
fo=$host/cli/fileops.wasm
if [ -s "$fo" ] && [ -s "$host/cli/fo.out" ]; then
    rm -rf "$out/fo"; mkdir -p "$out/fo"
    isa=x86_64 hops=0 rc=75
    gate_on $isa run --dir "$out/fo::data" --fuel=5000 --snapshot="$out/fo.snap" "$fo" \
        > "$out/fo.out" 2> "$out/fo.err"; rc=$?
    while [ $rc -eq 75 ] && [ $hops -lt 300 ]; do
        hops=$((hops + 1))
        isa=$(other $isa)
        gate_on $isa resume --dir "$out/fo::data" --fuel=5000 --snapshot="$out/fo.snap" \
            "$out/fo.snap" >> "$out/fo.out" 2>> "$out/fo.err"; rc=$?
    done
    same_files=$(cd "$out/fo" && find . -printf '%p %y %l\n' | sort && head -c 5 f && echo && cat spare)
    want_files=$(cd "$host/cli/fo" && find . -printf '%p %y %l\n' | sort && head -c 5 f && echo && cat spare)
    if [ $rc -eq 0 ] && [ $hops -ge 20 ] && cmp -s "$out/fo.out" "$host/cli/fo.out" &&
       [ "$same_files" = "$want_files" ] && grep -qx 'stderr by another number' "$out/fo.err"; then
        ok "WASI descriptors: $hops hops alternating ISAs inside pread/pwrite, links and renumbered stdout/stderr; the same output and files as one run"
    else
        bad "WASI descriptors across ISAs (status $rc after $hops hops)" "$(diff "$host/cli/fo.out" "$out/fo.out" | head -5)"
    fi
else
    echo "skip WASI descriptor migration: needs $fo (make test)"
fi
# SIMD across ISAs (simd.c): stopped by fuel inside its vector loops with
# v128 values live, each hop on the other ISA
sp=$host/cli/simd.wasm
if [ -s "$sp" ]; then
    isa=x86_64 hops=0
    gate_on $isa run --fuel=3000 --snapshot="$out/simd.snap" "$sp" > "$out/simd.out" 2>/dev/null; rc=$?
    while [ $rc -eq 75 ] && [ $hops -lt 300 ]; do
        hops=$((hops + 1))
        isa=$(other $isa)
        gate_on $isa resume --fuel=3000 --snapshot="$out/simd.snap" "$out/simd.snap" >> "$out/simd.out" 2>/dev/null; rc=$?
    done
    if [ $rc -eq 0 ] && [ $hops -ge 20 ] && cmp -s test/wasi/simd.expected "$out/simd.out"; then
        ok "SIMD: $hops hops alternating ISAs inside v128 loops; the same output as one run"
    else
        bad "SIMD across ISAs (status $rc after $hops hops)" "$(diff test/wasi/simd.expected "$out/simd.out" | head -5)"
    fi
else
    echo "skip SIMD migration: needs $sp (make test)"
fi
echo "migrate: $pass passed, $fail failed"
[ $fail -eq 0 ]
