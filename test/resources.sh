#!/usr/bin/env bash
# Resources that do not move (docs/wasi.md "Resources across moves"):
# test/wasi/resource.c holds data/in.txt open when it is stopped; resumed,
# its preopen is reattached (--dir), reported lost (the program sees
# EBADF, tries again and gives up), or kept suspended (--suspend: it stops
# at its next read and is saved again, resumable where data is granted).
# With ARM_BUILD each resume runs on the other ISA too (qemu-aarch64).
# Last line: "resources: N passed, N failed".
#   test/resources.sh HOST_BUILD [ARM_BUILD]
set -uo pipefail
host=${1:-build} arm=${2:-}
cd "$(dirname "$0")/.."
out=$(realpath -m "${arm:-$host}/resources")
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local what=$1; shift; if "$@" > "$out/check.log" 2>&1; then ok "$what"; else bad "$what" "$(head -3 "$out/check.log")"; fi; }
unset QEMU_LD_PREFIX
G=$(realpath "$host/gate")
A=${arm:+$(realpath "$arm/gate")}
gate_on() { if [ "$1" = x86_64 ]; then "$G" "${@:2}"; else qemu-aarch64 "$A" "${@:2}"; fi; }
if ! clang --target=wasm32-wasi -O2 -o "$out/res.wasm" test/wasi/resource.c 2> "$out/cc.log"; then
    bad "resource.c does not build" "$(head -3 "$out/cc.log")"
    echo "resources: $pass passed, $fail failed"; exit 1
fi
cd "$out"
mkdir -p here there
printf 'one\ntwo\nthree\nfour\n' > here/in.txt
cp here/in.txt there/in.txt
"$G" run --dir here::data res.wasm > full.out 2>&1
check "the program reads four lines when nothing stops it" grep -qx 'read 4 lines' full.out
isas=(x86_64)
[ -n "$arm" ] && isas=(x86_64 arm64)
for from in "${isas[@]}"; do
    gate_on $from run --fuel=1000000 --snapshot=s-$from.snap --dir here::data res.wasm > part.out 2> part.err; rc=$?
    check "$from: stopped by fuel with data/in.txt open (status $rc)" \
        bash -c "test $rc -eq 75 && grep -qx '2: two' part.out && ! grep -q 'read 4' part.out"
    for to in "${isas[@]}"; do
        # reattached: the directory granted again (another copy of it)
        cp s-$from.snap t.snap
        gate_on $to resume --dir there::data t.snap > re.out 2> re.err; rc=$?
        check "$from -> $to: reattached: the program goes on where it stopped (status $rc)" \
            bash -c "test $rc -eq 0 && cat part.out re.out | cmp -s - full.out && grep -q 'reattached to' re.err"
        # reported lost: EBADF, the program's own recovery
        cp s-$from.snap t.snap
        gate_on $to resume t.snap > lost.out 2> lost.err; rc=$?
        check "$from -> $to: reported lost: the program sees EBADF and gives up itself (status $rc)" \
            bash -c "test $rc -eq 4 && grep -q 'lost data/in.txt after line 2 (EBADF)' lost.out && grep -q 'reported lost' lost.err"
        # kept suspended: stopped at its first use, saved, resumable elsewhere
        cp s-$from.snap t.snap
        gate_on $to resume --suspend data --snapshot=held.snap t.snap > held.out 2> held.err; rc=$?
        check "$from -> $to: kept suspended: stopped at its first use of data, saved (status $rc)" \
            bash -c "test $rc -eq 75 && ! test -s held.out && grep -q 'needs preopen \"data\", kept suspended' held.err && test -s held.snap"
        for last in "${isas[@]}"; do
            cp held.snap h2.snap
            gate_on $last resume --dir there::data h2.snap > done.out 2> done.err; rc=$?
            check "$from -> $to (suspended) -> $last (granted): the same output as a run that never stopped (status $rc)" \
                bash -c "test $rc -eq 0 && cat part.out done.out | cmp -s - full.out"
        done
    done
done
# "*": every preopen not granted is kept suspended; a name the snapshot
# does not have changes nothing
cp s-x86_64.snap t.snap
"$G" resume --suspend '*' --snapshot=star.snap t.snap > star.out 2> star.err; rc=$?
check "--suspend '*' keeps every ungranted preopen suspended (status $rc)" \
    bash -c "test $rc -eq 75 && grep -q 'kept suspended' star.err"
cp s-x86_64.snap t.snap
"$G" resume --suspend nothing t.snap > no.out 2> no.err; rc=$?
check "--suspend of a preopen the snapshot does not have: the others are lost as before (status $rc)" test $rc -eq 4
"$G" inspect held.snap > insp.out 2>&1
check "gate inspect lists the suspended snapshot's preopen and file, and what they need" \
    bash -c "grep -q 'preopen \"data\" (needs --dir HOST::data)' insp.out && grep -q 'file \"in.txt\" beneath \"data\"' insp.out"
echo "resources: $pass passed, $fail failed"
[ $fail -eq 0 ]
