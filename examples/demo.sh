#!/usr/bin/env bash
# The README's main command (`make demo`): build a real wasm32-wasi program
# from C, compile it ahead of time, run it, stop it after a while, save it
# as a snapshot, look inside, resume it in new processes until it finishes
# (the joined output equals one uninterrupted run), then show a trap's
# backtrace, damaged input being refused, an embedding host, and the
# program moving x86-64 -> ARM64 (qemu) -> x86-64 by CLI and by C API.
set -euo pipefail
build=${1:-build}
gate=$build/gate
out=$build/examples
mkdir -p "$out"
here=$(dirname "$0")

echo "== 1. compile examples/hello.c to wasm32-wasi with clang"
clang --target=wasm32-wasi -O2 -Wl,--strip-debug -o "$out/hello.wasm" "$here/hello.c"
ls -l "$out/hello.wasm"

echo
echo "== 2. gate validate, gate inspect"
"$gate" validate "$out/hello.wasm"
"$gate" inspect "$out/hello.wasm" | head -16

echo
echo "== 3. gate compile: ahead of time to an object"
"$gate" compile "$out/hello.wasm" -o "$out/hello.gobj"

echo
echo "== 4. gate run, from the module and from the object"
"$gate" run --no-cache "$out/hello.wasm" 100000 | tail -3 > "$out/run1.txt"
"$gate" run "$out/hello.gobj" 100000 | tail -3 > "$out/run2.txt"
cat "$out/run1.txt"
cmp -s "$out/run1.txt" "$out/run2.txt" && echo "(identical output from the object)"

echo
echo "== 5. suspend and resume: stop after 300 ms, snapshot, resume in new processes"
"$gate" run "$out/hello.wasm" 6000000 > "$out/whole.txt"
rm -f "$out/hello.snap"
set +e
"$gate" run --suspend-after=300ms --snapshot="$out/hello.snap" "$out/hello.wasm" 6000000 > "$out/joined.txt"
rc=$?
echo "exit status $rc (75: stopped and saved)"
echo "-- gate inspect $out/hello.snap (the portable frames):"
"$gate" inspect "$out/hello.snap" | sed -n '/^snapshot/,$p'
wasm-validate "$out/hello.snap" && echo "(wasm-validate: the snapshot is a valid wasm module)"
hop=0
while [ $rc -eq 75 ] && [ $hop -lt 50 ]; do
    hop=$((hop + 1))
    "$gate" resume --suspend-after=300ms --snapshot="$out/hello.snap" "$out/hello.snap" >> "$out/joined.txt" 2> "$out/resume.err"
    rc=$?
    echo "resume #$hop: exit status $rc, $(grep -o 'stopped in func [0-9]* <[^>]*>' "$out/resume.err" || echo finished)"
done
set -e
tail -2 "$out/joined.txt"
cmp -s "$out/whole.txt" "$out/joined.txt" && echo "(the joined output of all hops equals one uninterrupted run)"

echo
echo "== 6. gate objdump: native code with safe points and trap sites"
"$gate" objdump "$out/hello.wasm" > "$out/hello.objdump"
grep -m1 -A18 '<main>' "$out/hello.objdump" || true
echo "... ($(wc -l < "$out/hello.objdump") lines in $out/hello.objdump)"

echo
echo "== 7. a trap: message, wasm offset and backtrace; exit status 134"
clang --target=wasm32-wasi -O2 -o "$out/trap.wasm" "$here/../test/wasi/trap.c"
set +e
"$gate" run "$out/trap.wasm"
echo "exit status $?"
set -e

echo
echo "== 8. damaged copies are rejected with what and where"
head -c 2000 "$out/hello.wasm" > "$out/truncated.wasm"
"$gate" validate "$out/truncated.wasm" || true
cp "$out/hello.wasm" "$out/flipped.wasm"
python3 - "$out/flipped.wasm" <<'PY' || true
import sys
p = sys.argv[1]
b = bytearray(open(p, 'rb').read())
i = b.index(b'\x6a', len(b) // 3)
b[i] = 0xff
open(p, 'wb').write(b)
PY
"$gate" validate "$out/flipped.wasm" || true

echo
echo "== 9. embedding: examples/host.c with host functions through libffi"
make --no-print-directory -s BUILD="$build" examples
"$build/examples/host" "$build/examples/guest.wasm"
echo
echo "== 10. migration between CPU types: run on x86-64, stop, resume on ARM64"
echo "   (the aarch64 build of gate under qemu-aarch64), stop again, finish on x86-64"
arm=$build/arm64
if [ "$(uname -m)" = x86_64 ] && [ -x "$arm/gate" ] && command -v qemu-aarch64 > /dev/null; then
    a64() { qemu-aarch64 "$arm/gate" "$@"; }
    "$gate" run "$out/hello.wasm" 300000 > "$out/mig-whole.txt"
    rm -f "$out/mig.snap"
    set +e
    echo "-- hop 1, x86-64: gate run --fuel=12000000 --snapshot=mig.snap hello.wasm 300000"
    "$gate" run --fuel=12000000 --snapshot="$out/mig.snap" "$out/hello.wasm" 300000 > "$out/mig-joined.txt"
    echo "   exit status $? ($(wc -l < "$out/mig-joined.txt") lines of output so far); the frames it saved:"
    "$gate" inspect "$out/mig.snap" | sed -n '/^snapshot/,$p' | sed 's/^/   /'
    echo "-- hop 2, ARM64: qemu-aarch64 build/arm64/gate resume --fuel=12000000 mig.snap"
    a64 resume --fuel=12000000 "$out/mig.snap" >> "$out/mig-joined.txt"
    echo "   exit status $? ($(wc -l < "$out/mig-joined.txt") lines so far); the frames, read by the ARM64 gate:"
    a64 inspect "$out/mig.snap" | sed -n '/^snapshot/,$p' | sed 's/^/   /'
    echo "-- hop 3, x86-64: gate resume mig.snap"
    "$gate" resume "$out/mig.snap" >> "$out/mig-joined.txt"
    echo "   exit status $?"
    set -e
    tail -2 "$out/mig-joined.txt"
    if cmp -s "$out/mig-whole.txt" "$out/mig-joined.txt"; then
        echo "(the output of the three hops on two CPU types equals one uninterrupted run)"
    else
        echo "demo: the joined output differs from one run"; exit 1
    fi
    echo "-- the same through the C API (examples/migrate.c): a host function stops the"
    echo "   program at its own call, 300 frames deep; hops alternate x86-64 and ARM64"
    mx=$build/examples/migrate ma=$arm/examples/migrate mw=$build/examples/migrate.wasm
    if [ -x "$ma" ]; then
        echo "   one run:  $("$mx" "$mw" whole 300)"
        set +e
        "$mx" "$mw" start 300 "$out/api.snap" > /dev/null; rc=$? hop=1
        while [ $rc -eq 75 ]; do
            if [ $((hop % 2)) = 1 ]; then r=$(qemu-aarch64 "$ma" resume "$out/api.snap"); rc=$?; where=ARM64
            else r=$("$mx" resume "$out/api.snap"); rc=$?; where=x86-64; fi
            hop=$((hop + 1))
            echo "   hop $hop on $where: $r"
        done
        set -e
    fi
else
    echo "(skipped: needs an x86-64 host, qemu-aarch64 and the aarch64 build in $arm)"
fi

echo
echo "== 11. untrusted input: a snapshot grants nothing, objects run only from this user"
set +e
mkdir -p "$out/granted"
clang --target=wasm32-wasi -O2 -o "$out/waitgo.wasm" "$here/../test/wasi/waitgo.c"
rm -f "$out/granted/go"
"$gate" run --dir "$out/granted::data" --fuel=300000 --snapshot="$out/g.snap" "$out/waitgo.wasm" > /dev/null 2>&1
echo "-- gate inspect g.snap: what it asks for (no host path is in it)"
"$gate" inspect "$out/g.snap" | grep -E "^wasi|fd [0-9]+:|^limits"
echo "-- gate resume g.snap without a grant (stopped again by fuel):"
"$gate" resume --fuel=300000 --snapshot="$out/g2.snap" "$out/g.snap" 2>&1 >/dev/null | grep "preopen"
touch "$out/granted/go"
echo "-- gate resume --dir $out/granted::data g.snap:"
"$gate" resume --dir "$out/granted::data" "$out/g.snap" 2>&1 | tail -3
echo "-- an object sealed with someone else's key is refused; --trust-object runs it:"
GATE_CACHE_DIR=$out/other-user "$gate" compile "$out/hello.wasm" -o "$out/foreign.gobj" > /dev/null
"$gate" run "$out/foreign.gobj" 10 2>&1 | head -2
"$gate" run --trust-object "$out/foreign.gobj" 10 | tail -1
echo "-- under --sandbox (seccomp) the same program runs; a forbidden call would end it"
"$gate" run --sandbox "$out/hello.wasm" 100000 | tail -1
set -e

echo
echo "== 12. a world: many processes, slices, sponsors, saved whole and moved (docs/world.md)"
set +e
"$build/examples/world" "$build/examples/scripts.wasm"
clang --target=wasm32-wasi -O2 -o "$out/worldproc.wasm" "$here/../test/wasi/worldproc.c"
cat > "$out/world.json" <<'JSON'
{ "workers": 1, "slice_fuel": 5000,
  "sponsors": [ { "name": "apps", "processes": 50 } ],
  "processes": [ { "name": "w", "module": "worldproc.wasm", "args": ["{i}"], "count": 20,
                   "sponsor": "apps" } ] }
JSON
echo "-- gate world: 20 processes, stopped after 40 slices and saved"
"$gate" world --slices 40 --save "$out/w.gworld" "$out/world.json" > "$out/world1.out"
echo "   $(wc -l < "$out/world1.out") lines printed before the save; $(stat -c %s "$out/w.gworld") bytes"
if [ -x "$arm/gate" ] && command -v qemu-aarch64 > /dev/null; then
    echo "-- resumed on ARM64 (qemu) for 40 slices, saved again, finished on x86-64"
    qemu-aarch64 "$arm/gate" world --resume "$out/w.gworld" --slices 40 --save "$out/w2.gworld" > "$out/world2.out"
    "$gate" world --resume "$out/w2.gworld" --status > "$out/world3.out" 2> "$out/world3.err"
    tail -4 "$out/world3.err"
else
    "$gate" world --resume "$out/w.gworld" --status > "$out/world3.out" 2> "$out/world3.err"
fi
"$gate" world "$out/world.json" > "$out/world-full.out"
if cmp -s <(cat "$out"/world[123].out 2>/dev/null | sort) <(sort "$out/world-full.out"); then
    echo "   every process printed the same lines as in one uninterrupted run"
fi
set -e

echo
echo "== 13. zygotes: initialised once with no authorities, forked with fresh ones (docs/zygotes.md)"
echo "   bench/zygote/people.c parses 200,000 embedded records before its first output"
bash "$here/../bench/zygote/gendata.sh" 200000 > "$out/people-data.c"
clang --target=wasm32-wasi -O2 -o "$out/people.wasm" "$here/../bench/zygote/people.c" "$out/people-data.c"
who=$(sed -n 1000p "$out/people-data.c" | cut -d, -f1 | tr -d '"')
"$gate" init --init=init "$out/people.wasm" -o "$out/people.zygote"
"$gate" run "$out/people.wasm" "$who" > /dev/null          # the code caches
"$gate" run --fork "$out/people.zygote" "$who" > /dev/null
t0=$(date +%s%N)
"$gate" run "$out/people.wasm" "$who" | sed 's/^/   from scratch:    /'
t1=$(date +%s%N)
"$gate" run --fork "$out/people.zygote" "$who" | sed 's/^/   from the zygote: /'
t2=$(date +%s%N)
echo "   from scratch $(( (t1 - t0) / 1000000 )) ms, from the zygote $(( (t2 - t1) / 1000000 )) ms"
echo "-- each child's arguments, environment and directory are its own:"
clang --target=wasm32-wasi -O2 -o "$out/zygote.wasm" "$here/../test/wasi/zygote.c"
mkdir -p "$out/zdir"
"$gate" init --init=init --preopen data "$out/zygote.wasm" -o "$out/sieve.zygote"
"$gate" run --fork --dir "$out/zdir::data" --env ZYGOTE=child "$out/sieve.zygote" child | sed 's/^/   /'
echo "   $out/zdir/child.txt: $(cat "$out/zdir/child.txt")"

echo
echo "== 14. a document that carries its program (examples/document): edit, save, move, upgrade"
rm -f "$out/todo.gdoc"
printf 'add buy milk\nadd write the tests\ndone 1\nquit\n' |
    "$build/examples/doc" --new "$build/examples/document/notes1.wasm" "$out/todo.gdoc" > /dev/null
if [ -x "$arm/examples/doc" ] && command -v qemu-aarch64 > /dev/null; then
    echo "-- opened on ARM64 (qemu): the editor continues where it saved itself"
    printf 'list\nadd call home\nquit\n' | qemu-aarch64 "$arm/examples/doc" "$out/todo.gdoc" | sed 's/^/   /'
fi
echo "-- upgraded to version 2 (the old program is asked for its data), opened on x86-64"
"$build/examples/doc" --upgrade "$build/examples/document/notes2.wasm" "$out/todo.gdoc" > /dev/null
printf 'add! pay rent\nlist\nquit\n' | "$build/examples/doc" "$out/todo.gdoc" | sed 's/^/   /'

echo
echo "== 15. a game engine's scripts (examples/game): 30 frames, a save game loaded on ARM64"
"$build/examples/engine" --frames 1-15 --save-at 15 "$out/game.gworld" --png 15 --out "$out" \
    "$build/examples/game" 2>&1 | grep -v '^frame ' | sed 's/^/   /'
if [ -x "$arm/examples/engine" ] && command -v qemu-aarch64 > /dev/null; then
    qemu-aarch64 "$arm/examples/engine" --frames 16-30 --load "$out/game.gworld" --png 30 --out "$out" \
        "$build/examples/game" 2> /dev/null | tail -1 | sed 's/^/   on ARM64: /'
fi
echo "   frames written: $out/frame-15.png, $out/frame-30.png"

echo
echo "demo: ok"
