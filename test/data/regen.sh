#!/usr/bin/env bash
# Rebuilds the test modules and their C headers from the .wat sources
# (needs wabt and python3).  small.wasm gets a custom section appended.
set -euo pipefail
cd "$(dirname "$0")"

# to_header NAME: NAME.wasm -> NAME_wasm.h with `static const unsigned char NAME_wasm[]`
to_header() {
    python3 - "$1" <<'PY'
import sys
name = sys.argv[1]
b = open(name + '.wasm', 'rb').read()
out = ["/* test/data/%s.wasm from %s.wat (wat2wasm 1.0.32); see regen.sh. */" % (name, name),
       "static const unsigned char %s_wasm[] = {" % name]
for i in range(0, len(b), 12):
    out.append("    " + " ".join("0x%02x," % x for x in b[i:i + 12]))
out.append("};")
open(name + '_wasm.h', 'w').write("\n".join(out) + "\n")
PY
}

wat2wasm small.wat -o small.wasm
python3 - <<'PY'
b = bytearray(open('small.wasm', 'rb').read())
name, payload = b"note", b"a custom section"
body = bytes([len(name)]) + name + payload
b += bytes([0, len(body)]) + body
open('small.wasm', 'wb').write(b)
PY
to_header small
for m in spectest run host caller deadparams stripes; do
    wat2wasm "$m.wat" -o "$m.wasm"
    to_header "$m"
done
