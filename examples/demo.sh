#!/usr/bin/env bash
# The README's main command (`make demo`): build a real wasm32-wasi program
# from C, then validate, inspect, compile ahead of time, run (from the
# module and from the object), trap with a backtrace, reject damaged
# input, and embed.  Suspend, snapshot and resume join with issue 5.
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
echo "== 5. gate objdump: native code with safe points and trap sites"
"$gate" objdump "$out/hello.wasm" > "$out/hello.objdump"
grep -m1 -A18 '<main>' "$out/hello.objdump" || true
echo "... ($(wc -l < "$out/hello.objdump") lines in $out/hello.objdump)"

echo
echo "== 6. a trap: message, wasm offset and backtrace; exit status 134"
clang --target=wasm32-wasi -O2 -o "$out/trap.wasm" "$here/../test/wasi/trap.c"
set +e
"$gate" run "$out/trap.wasm"
echo "exit status $?"
set -e

echo
echo "== 7. damaged copies are rejected with what and where"
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
echo "== 8. embedding: examples/host.c with host functions through libffi"
make --no-print-directory -s BUILD="$build" examples
"$build/examples/host" "$build/examples/guest.wasm"
echo
echo "demo: ok"
