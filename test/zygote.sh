#!/usr/bin/env bash
# `gate init` and `gate run --fork` (docs/zygotes.md): test/wasi/zygote.c
# initialised once with no authorities, its children run with arguments,
# environment and directories of their own and print what a run from
# scratch prints; authorities during the initialisation pend or trap as
# asked; a zygote made on one ISA forks on the other (ARM_BUILD, under
# qemu-aarch64) with the same outputs; hostile zygote files are refused.
# Last line: "zygote: N passed, N failed".
#   test/zygote.sh HOST_BUILD [ARM_BUILD]
set -uo pipefail
host=${1:-build} arm=${2:-}
cd "$(dirname "$0")/.."
out=$(realpath -m "${arm:-$host}/zygote-cli")
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local what=$1; shift; if "$@" > "$out/check.log" 2>&1; then ok "$what"; else bad "$what" "$(head -3 "$out/check.log")"; fi; }
unset QEMU_LD_PREFIX
G=$(realpath "$host/gate")
A=${arm:+$(realpath "$arm/gate")}
gate_on() { if [ "$1" = x86_64 ]; then "$G" "${@:2}"; else qemu-aarch64 "$A" "${@:2}"; fi; }
if ! clang --target=wasm32-wasi -O2 -o "$out/zygote.wasm" test/wasi/zygote.c 2> "$out/cc.log"; then
    bad "zygote.c does not build" "$(head -3 "$out/cc.log")"
    echo "zygote: $pass passed, $fail failed"; exit 1
fi
cd "$out"
mkdir -p a b c
isas=(x86_64)
[ -n "$arm" ] && isas=(x86_64 arm64)

# from scratch: the reference output
"$G" run --no-cache --dir a::data --env ZYGOTE=ref zygote.wasm ref > ref.out 2>&1; rc=$?
check "from scratch: zygote.c runs (status $rc)" test $rc -eq 0
sed 's/ref/NAME/g' ref.out > ref.norm

for isa in "${isas[@]}"; do
    rm -f a/* b/* c/*
    gate_on $isa init --init=init --preopen data zygote.wasm -o z-$isa.zygote 2> init-$isa.err; rc=$?
    check "$isa: gate init --init=init --preopen data (status $rc)" test $rc -eq 0
    check "$isa: gate init says what it saved" grep -q "init returned" init-$isa.err
    check "$isa: the zygote is a valid wasm module" wasm-validate --enable-all z-$isa.zygote
    for to in "${isas[@]}"; do
        gate_on $to run --fork --dir a::data --env ZYGOTE=one z-$isa.zygote one > one.out 2>&1; r1=$?
        gate_on $to run --fork --dir b::data z-$isa.zygote two close > two.out 2>&1; r2=$?
        gate_on $to run --fork --dir c::data z-$isa.zygote three > three.out 2>&1; r3=$?
        check "$isa zygote, $to child: the output of a run from scratch (its own arguments, environment)" \
            bash -c "sed 's/one/NAME/g' one.out | cmp -s - ref.norm"
        check "$isa zygote, $to children: each writes beneath its own directory" \
            bash -c "test \"\$(cat a/one.txt)\" = 'one one' && test \"\$(cat c/three.txt)\" = 'three -' && test $r1 -eq 0 && test $r3 -eq 0"
        check "$isa zygote, $to child: closing its fd 3 is its own business (status $r2)" \
            bash -c "test $r2 -eq 3 && grep -q 'close(3): 0' two.out && ! test -e b/two.txt"
        rm -f a/* b/* c/*
    done
done

# a zygote's child is a program like any other: stopped by fuel, saved,
# resumed on the other ISA (when there is one) with the same output
rm -f a/*
"$G" run --fork --fuel=300 --snapshot=child.snap --dir a::data --env ZYGOTE=mig z-x86_64.zygote mig > mig1.out 2>&1; rc=$?
gate_on "${isas[-1]}" resume --dir a::data child.snap > mig2.out 2>&1; rc2=$?
check "a zygote's child stopped by fuel (status $rc) resumes on ${isas[-1]} (status $rc2) with the output of a run from scratch" \
    bash -c "test $rc -eq 75 && test $rc2 -eq 0 && cat mig1.out mig2.out | grep -v '^gate' | sed 's/mig/NAME/g' | cmp -s - ref.norm && test \"\$(cat a/mig.txt)\" = 'mig mig'"

"$G" inspect z-x86_64.zygote > insp.out 2>&1
check "gate inspect says a zygote is one, and which preopens its children need" \
    grep -q 'a zygote (gate run --fork); its children must be granted --dir HOST::data' insp.out

# an authority during the initialisation: pending in each child, or a trap
"$G" init --init=init_clock --preopen data zygote.wasm -o zc.zygote 2> zc.err; rc=$?
check "pending: the clock read by init is pending (status $rc)" grep -q "first call to wasi_snapshot_preview1.clock_time_get" zc.err
for to in "${isas[@]}"; do
    gate_on $to run --fork --dir a::data zc.zygote four > four.out 2>&1; rc=$?
    check "pending: a $to child reads its own clock, then runs _start (status $rc)" \
        bash -c "test $rc -eq 0 && grep -q 'clock read during init: plausible' four.out && test -e a/four.txt"
done
"$G" init --trap --init=init_clock --preopen data zygote.wasm -o zt.zygote 2> zt.err; rc=$?
check "trap: --trap makes the clock a trap, and saves nothing (status $rc)" \
    bash -c "test $rc -eq 1 && grep -q 'not yet in the world: wasi_snapshot_preview1.clock_time_get' zt.err && ! test -e zt.zygote"
"$G" init --trap --init=init_marked --preopen data zygote.wasm -o zm.zygote 2> zm.err; rc=$?
check "marker: gate.zygote_ready ends the initialisation, even with --trap (status $rc)" \
    grep -q "first call to gate.zygote_ready" zm.err
gate_on "${isas[-1]}" run --fork --dir b::data zm.zygote five > five.out 2>&1; rc=$?
check "marker: the child continues after the marker (status $rc)" \
    bash -c "test $rc -eq 0 && grep -q 'clock read during init: plausible' five.out && test -e b/five.txt"
"$G" init --trap --until-import=wasi_snapshot_preview1.clock_time_get --init=init_clock --preopen data zygote.wasm -o zu.zygote 2> zu.err; rc=$?
check "--until-import stops at that import in --trap mode (status $rc)" grep -q "first call to wasi_snapshot_preview1.clock_time_get" zu.err
"$G" init zygote.wasm -o zs.zygote 2> zs.err; rc=$?
check "default: _start runs until the program's first authority (its arguments)" \
    grep -q "first call to wasi_snapshot_preview1.args_sizes_get" zs.err
"$G" run --fork zs.zygote six seven > six.out 2>&1; rc=$?
check "default: the child gets its own arguments" bash -c "test $rc -eq 3 && grep -q 'argc 3: six seven' six.out"

# an initialisation that never ends is stopped by --timeout, not waited for
printf '(module (func (export "_start") (loop $l (br $l))))' > loop.wat
wat2wasm loop.wat -o loop.wasm
timeout 120 "$G" init --timeout=200ms loop.wasm -o loop.zygote 2> loop.err; rc=$?
check "--timeout: an initialisation that runs for ever is refused (status $rc)" \
    bash -c "test $rc -eq 1 && grep -q 'did not finish within' loop.err && ! test -e loop.zygote"

printf '(module (func (export "_start")))' > ends.wat
wat2wasm ends.wat -o ends.wasm
"$G" init ends.wasm -o ends.zygote 2> ends.err; rc=$?
check "a program that runs to its end without an authority is not saved as a zygote (status $rc)" \
    bash -c "test $rc -eq 1 && grep -q 'ran to its end' ends.err && ! test -e ends.zygote"

# what a child must be granted, and hostile files
"$G" run --fork --dir b::other z-x86_64.zygote x > wrong.out 2>&1; rc=$?
check "a child granted another preopen than the zygote saw is refused (status $rc)" \
    bash -c "test $rc -eq 1 && grep -q 'saw preopen \"data\" as fd 3' wrong.out"
"$G" run --fork z-x86_64.zygote x > none.out 2>&1; rc=$?
check "a child granted no preopen is refused (status $rc)" bash -c "test $rc -eq 1 && grep -q 'granted nothing' none.out"
"$G" run --fork zygote.wasm x > notz.out 2>&1; rc=$?
check "--fork of a module that is not a zygote is refused (status $rc)" test $rc -eq 1
"$G" run --fuel=100000 --snapshot=run.snap --dir a::data zygote.wasm x > /dev/null 2>&1
"$G" run --fork --dir a::data run.snap x > runsnap.out 2>&1; rc=$?
check "--fork of a running program's snapshot is refused (status $rc)" \
    bash -c "test $rc -eq 1 && grep -q 'takes a zygote' runsnap.out"
size=$(stat -c %s z-x86_64.zygote)
bad_files=0
for cut in 0 8 100 $((size / 2)) $((size - 9)) $((size - 1)); do
    head -c $cut z-x86_64.zygote > cut.zygote
    timeout 20 "$G" run --fork --dir a::data cut.zygote x > cut.out 2>&1; rc=$?
    [ $rc -eq 1 ] || [ $rc -eq 2 ] || bad_files=$((bad_files + 1))
done
check "cut zygote files are refused with a message, never a crash" test $bad_files -eq 0
off=$(grep -boa 'gate.zygote' z-x86_64.zygote | head -1 | cut -d: -f1)
python3 - "$off" <<'PY'
import sys
off = int(sys.argv[1]) + len("gate.zygote")
b = bytearray(open("z-x86_64.zygote", "rb").read())
b[off] = 0x7f          # the name count
open("flip.zygote", "wb").write(b)
PY
timeout 20 "$G" run --fork --dir a::data flip.zygote x > flip.out 2>&1; rc=$?
check "a flipped byte in gate.zygote is refused (status $rc)" test $rc -eq 1
echo "zygote: $pass passed, $fail failed"
[ $fail -eq 0 ]
