#!/usr/bin/env bash
# examples/document: a to-do list whose file is its own program, used in a
# terminal (tmux) as a person would type: made, edited, quit (saved),
# opened again, moved to the other ISA (ARM_BUILD, under qemu-aarch64)
# and back, upgraded from version 1 to version 2 by asking the old
# program for its data; damaged documents are refused and left alone.
# Waits are for what the screen shows, with generous hang guards only.
# Last line: "document: N passed, N failed".
#   test/document.sh HOST_BUILD [ARM_BUILD]
set -uo pipefail
host=${1:-build} arm=${2:-}
cd "$(dirname "$0")/.."
out=$(realpath -m "${arm:-$host}/document")
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0
ok()  { pass=$((pass + 1)); echo "ok   $1"; }
bad() { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
H=$(realpath "$host/examples")
A=${arm:+$(realpath "$arm/examples")}
unset QEMU_LD_PREFIX
if ! command -v tmux > /dev/null; then
    echo "document: 0 passed, 0 failed, 1 skipped (tmux is not installed)"; exit 0
fi
nsock=0
sock=$out/tmux.0.sock
T() { tmux -S "$sock" "$@"; }
# a terminal running "$@" (a tmux server of its own each time); the pane
# stays after the command ends
t_start() {
    T kill-server 2> /dev/null
    nsock=$((nsock + 1)) sock=$out/tmux.$nsock.sock
    T new-session -d -s doc -x 110 -y 45 "cd '$out' && $* ; echo \"[exit \$?]\"; sleep 600"
}
screen_() { T capture-pane -p -t doc -S -200 2> /dev/null; }
t_wait() {  # a line the screen must show; 120 s hang guard
    for _ in $(seq 1 1200); do screen_ | grep -qF -- "$1" && return 0; sleep 0.1; done
    return 1
}
t_type() { T send-keys -t doc -l -- "$1"; T send-keys -t doc Enter; }
step() {    # what, text to type, line to wait for
    t_type "$2"
    if t_wait "$3"; then ok "$1"; else bad "$1" "waited for \"$3\"; the screen: $(screen_ | grep -v '^$' | tail -4 | tr '\n' '|')"; fi
}
doc_on() { if [ "$1" = x86_64 ]; then echo "'$H/doc'"; else echo "qemu-aarch64 '$A/doc'"; fi; }
last=x86_64
[ -n "$arm" ] && last=arm64

t_start "$(doc_on x86_64) --new '$H/document/notes1.wasm' todo.gdoc"
t_wait "notes 1.0:" && ok "a new document: the editor's first screen" || bad "a new document" "$(screen_ | head -5)"
step "add a note" "add buy milk" "added 1"
step "add another" "add write the tests" "added 2"
step "list them" "list" "(2 notes)"
step "mark one done" "done 1" "done 1"
step "quit saves the document" "quit" "doc: saved todo.gdoc"
t_wait "[exit 0]" && ok "the launcher ends with status 0" || bad "launcher status" "$(screen_ | tail -3)"
if wasm-validate --enable-all "$out/todo.gdoc" 2> /dev/null; then ok "the document is a valid wasm module"; else bad "the document is not valid wasm"; fi

t_start "$(doc_on $last) todo.gdoc"
t_wait "welcome back: 2 notes" && ok "opened on $last: the editor continues after its save" || bad "reopen on $last" "$(screen_ | head -5)"
step "$last: the notes are there, the first done" "list" "1 [x] buy milk"
step "$last: add a note" "add call home" "added 3"
step "$last: quit saves it" "quit" "doc: saved todo.gdoc"

t_start "$(doc_on x86_64) todo.gdoc"
t_wait "welcome back: 3 notes" && ok "back on x86_64: three notes" || bad "back on x86_64" "$(screen_ | head -5)"
step "x86_64: list" "list" "3 [ ] call home"
step "x86_64: quit" "quit" "doc: saved todo.gdoc"

# the old program interrogated, the new one made from its answer
"$H/doc" --export "$out/todo.gdoc" > "$out/v1.data" 2> "$out/export.err"
if printf 'x|buy milk\n |write the tests\n |call home\n' | cmp -s - "$out/v1.data"; then
    ok "--export asks version 1 for its data"
else
    bad "--export" "$(head -3 "$out/v1.data" "$out/export.err")"
fi
cp "$out/todo.gdoc" "$out/todo-v1.gdoc"
eval "$(doc_on $last) --upgrade '$H/document/notes2.wasm' '$out/todo.gdoc'" > "$out/up.out" 2> "$out/up.err"; rc=$?
if [ $rc -eq 0 ] && grep -q "imported 3 notes from an older version" "$out/up.out"; then
    ok "--upgrade on $last: version 2 imported version 1's three notes"
else
    bad "--upgrade (status $rc)" "$(cat "$out/up.out" "$out/up.err" | head -4)"
fi
t_start "$(doc_on x86_64) todo.gdoc"
t_wait "welcome back to notes 2.0: 3 notes" && ok "the upgraded document opens as version 2" || bad "open v2" "$(screen_ | head -5)"
step "version 2: an urgent note" "add! pay rent" "added 4 (urgent)"
step "version 2: urgent first, the old notes kept" "list" "(4 notes, 3 to do)"
if screen_ | grep -A1 -F "4 [ ] ! pay rent" | grep -qF "1 [x]   buy milk"; then ok "version 2 lists the urgent note first"; else bad "v2 order" "$(screen_ | tail -8 | tr '\n' '|')"; fi
step "version 2: quit saves" "quit" "doc: saved todo.gdoc"
T kill-server 2> /dev/null

# damaged documents: refused, never changed
cp "$out/todo.gdoc" "$out/good.gdoc"
size=$(stat -c %s "$out/good.gdoc")
head -c $((size / 2)) "$out/good.gdoc" > "$out/cut.gdoc"
cp "$out/cut.gdoc" "$out/cut0.gdoc"
echo quit | "$H/doc" "$out/cut.gdoc" > /dev/null 2> "$out/cut.err"; rc=$?
if [ $rc -eq 1 ] && cmp -s "$out/cut.gdoc" "$out/cut0.gdoc" && grep -q "offset" "$out/cut.err"; then
    ok "a cut document is refused with where, and left as it was"
else
    bad "cut document (status $rc)" "$(head -2 "$out/cut.err")"
fi
echo quit | "$H/doc" "$out/nothing.gdoc" > /dev/null 2>&1; rc=$?
[ $rc -eq 1 ] && ok "a missing document is an error (status 1)" || bad "missing document (status $rc)"
"$H/doc" --new "$H/document/notes1.wasm" "$out/good.gdoc" < /dev/null > /dev/null 2>&1; rc=$?
if [ $rc -eq 1 ] && cmp -s "$out/good.gdoc" "$out/todo.gdoc"; then ok "--new never overwrites a document"; else bad "--new overwrote (status $rc)"; fi
echo "document: $pass passed, $fail failed"
[ $fail -eq 0 ]
