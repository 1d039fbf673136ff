#!/usr/bin/env bash
# Rebuilds small.wasm and small_wasm.h from small.wat (needs wabt, python3).
set -euo pipefail
cd "$(dirname "$0")"
wat2wasm small.wat -o small.wasm
python3 - <<'PY'
b = bytearray(open('small.wasm', 'rb').read())
name, payload = b"note", b"a custom section"
body = bytes([len(name)]) + name + payload
b += bytes([0, len(body)]) + body
open('small.wasm', 'wb').write(b)
out = ["/* test/data/small.wasm: small.wat compiled by wat2wasm 1.0.32, plus a",
       " * custom section \"note\".  Regenerate with test/data/regen.sh. */",
       "static const unsigned char small_wasm[] = {"]
for i in range(0, len(b), 12):
    out.append("    " + " ".join("0x%02x," % x for x in b[i:i + 12]))
out.append("};")
open('small_wasm.h', 'w').write("\n".join(out) + "\n")
PY
wat2wasm spectest.wat -o spectest.wasm
python3 - <<'PY'
b = open('spectest.wasm', 'rb').read()
out = ["/* test/data/spectest.wasm from spectest.wat (wat2wasm 1.0.32). */",
       "static const unsigned char spectest_wasm[] = {"]
for i in range(0, len(b), 12):
    out.append("    " + " ".join("0x%02x," % x for x in b[i:i + 12]))
out.append("};")
open('spectest_wasm.h', 'w').write("\n".join(out) + "\n")
PY
wat2wasm run.wat -o run.wasm
python3 - <<'PY'
b = open('run.wasm', 'rb').read()
out = ["/* test/data/run.wasm from run.wat (wat2wasm 1.0.32). */",
       "static const unsigned char run_wasm[] = {"]
for i in range(0, len(b), 12):
    out.append("    " + " ".join("0x%02x," % x for x in b[i:i + 12]))
out.append("};")
open('run_wasm.h', 'w').write("\n".join(out) + "\n")
PY
