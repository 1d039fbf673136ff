#!/usr/bin/env bash
# The README's main command (`make demo`).  For now: build a real wasm32-wasi
# program from C, then decode, validate and summarise it with `gate`, and
# show what happens to a damaged copy.  Later milestones extend this to
# compile, run, suspend, snapshot and resume it.
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
echo "== 2. gate validate"
"$gate" validate "$out/hello.wasm"

echo
echo "== 3. gate inspect"
"$gate" inspect "$out/hello.wasm"

echo
echo "== 4. gate dump (first 25 lines): offsets and operand-stack types"
"$gate" dump "$out/hello.wasm" > "$out/hello.dump"
head -25 "$out/hello.dump"
echo "... ($(wc -l < "$out/hello.dump") lines in $out/hello.dump)"

echo
echo "== 5. damaged copies are rejected with what and where"
head -c 2000 "$out/hello.wasm" > "$out/truncated.wasm"
"$gate" validate "$out/truncated.wasm" || true
cp "$out/hello.wasm" "$out/flipped.wasm"
# turn the first i32.add (0x6a) of the code section into an illegal opcode
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
echo "demo: ok"
