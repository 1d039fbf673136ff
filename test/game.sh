#!/usr/bin/env bash
# examples/game: a game engine's scripts as processes of one world.  30
# frames with a script that loops for ever (preempted by the frame's
# budget) and one that allocates without end (stopped by its sponsor);
# frames compared with examples/game/expected/*.png pixel for pixel; the
# game saved at frame 15 and loaded on the other ISA (ARM_BUILD, qemu)
# gives the same frames bit for bit; a hot reload keeps the script's state.
# Last line: "game: N passed, N failed".
#   test/game.sh HOST_BUILD [ARM_BUILD]
set -uo pipefail
host=${1:-build} arm=${2:-}
cd "$(dirname "$0")/.."
out=$(realpath -m "${arm:-$host}/game")
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local what=$1; shift; if "$@" > "$out/check.log" 2>&1; then ok "$what"; else bad "$what" "$(head -3 "$out/check.log")"; fi; }
unset QEMU_LD_PREFIX
E=$(realpath "$host/examples")
scripts=$E/game
eng_on() { if [ "$1" = x86_64 ]; then "$E/engine" "${@:2}"; else qemu-aarch64 "$(realpath "$arm/examples/engine")" "${@:2}"; fi; }
isas=(x86_64)
[ -n "$arm" ] && isas=(x86_64 arm64)
for isa in "${isas[@]}"; do
    mkdir -p "$out/$isa"
    eng_on $isa --frames 1-30 --png 5,15,30 --out "$out/$isa" "$scripts" > "$out/$isa/frames.txt" 2> "$out/$isa/events.txt"; rc=$?
    check "$isa: 30 frames, the same as examples/game/frames.expected (status $rc)" \
        bash -c "test $rc -eq 0 && cmp -s examples/game/frames.expected '$out/$isa/frames.txt'"
    for f in 05 15 30; do
        check "$isa: frame $f is examples/game/expected/frame-$f.png, pixel for pixel" \
            "$E/engine" --compare "examples/game/expected/frame-$f.png" "$out/$isa/frame-$f.png"
    done
    check "$isa: the script that allocates without end was stopped by its sponsor, alone" \
        bash -c "grep -q 'script hog ended: .*unreachable' '$out/$isa/events.txt' && grep -q '^frame 30: 3 draws' '$out/$isa/frames.txt'"
    check "$isa: the script that loops for ever did not stop a frame (it drew on frames 1-8, then spun)" \
        bash -c "grep -q '^frame 8: 4 draws' '$out/$isa/frames.txt' && grep -q '^frame 9: 3 draws' '$out/$isa/frames.txt' && test \$(grep -c '^frame' '$out/$isa/frames.txt') -eq 30"
done
# save game on one ISA, load on the other
for from in "${isas[@]}"; do
    for to in "${isas[@]}"; do
        eng_on $from --frames 1-15 --save-at 15 "$out/save.gworld" "$scripts" > "$out/a.txt" 2> "$out/a.err"; r1=$?
        mkdir -p "$out/load"
        eng_on $to --frames 16-30 --load "$out/save.gworld" --png 30 --out "$out/load" "$scripts" > "$out/b.txt" 2> "$out/b.err"; r2=$?
        check "saved on $from at frame 15, loaded on $to: frames 16-30 bit for bit (status $r1, $r2)" \
            bash -c "test $r1 -eq 0 && test $r2 -eq 0 && cat '$out/a.txt' '$out/b.txt' | cmp -s - examples/game/frames.expected && '$E/engine' --compare examples/game/expected/frame-30.png '$out/load/frame-30.png'"
    done
done
# hot reload: the same version reloaded keeps its state exactly; version 2
# (the same layout) takes the state over and draws its own way
"$E/engine" --frames 1-30 --reload-at 20 "$scripts/bouncer.wasm" "$scripts" > "$out/same.txt" 2> "$out/same.err"
check "hot reload of the same version at frame 20: its state kept, every frame the same" \
    bash -c "cmp -s examples/game/frames.expected '$out/same.txt' && grep -q 'reloaded, its state kept' '$out/same.err'"
mkdir -p "$out/v2"
"$E/engine" --frames 1-30 --reload-at 20 "$scripts/bouncer2.wasm" --png 25 --out "$out/v2" "$scripts" > "$out/v2.txt" 2> "$out/v2.err"
check "hot reload of version 2 at frame 20: frames 1-19 unchanged, then version 2's, from the old state" \
    bash -c "head -19 examples/game/frames.expected | cmp -s - <(head -19 '$out/v2.txt') && ! cmp -s examples/game/frames.expected '$out/v2.txt' && '$E/engine' --compare examples/game/expected/frame-25-reloaded.png '$out/v2/frame-25.png'"
"$E/engine" --frames 1-30 --reload-at 20 "$scripts/bouncer3.wasm" "$scripts" > "$out/v3.txt" 2> "$out/v3.err"
check "hot reload of version 3 (another layout, migrate_1): the state converted, every frame the same" \
    bash -c "cmp -s examples/game/frames.expected '$out/v3.txt' && grep -q 'its state migrated' '$out/v3.err'"
head -c 1000 "$out/save.gworld" > "$out/cut.gworld"
"$E/engine" --frames 16-17 --load "$out/cut.gworld" "$scripts" > /dev/null 2> "$out/cut.err"; rc=$?
check "a damaged saved game is refused with a message (status $rc)" bash -c "test $rc -eq 1 && test -s '$out/cut.err'"
echo "game: $pass passed, $fail failed"
[ $fail -eq 0 ]
