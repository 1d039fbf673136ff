#!/usr/bin/env bash
# Tests of the gate command and WASI: C programs built for wasm32-wasi with
# clang, run by build/gate, their output, exit status and stderr checked.
# Last line: "cli: N passed, N failed".
#   test/run-cli.sh BUILD
set -uo pipefail
build=${1:-build}
gate=$build/gate
out=$build/cli
rm -rf "$out"; mkdir -p "$out"
pass=0 fail=0 skipped=0
ok()   { pass=$((pass + 1)); echo "ok   $1"; }
bad()  { fail=$((fail + 1)); echo "FAIL $1${2:+: $2}"; }
check() { local name=$1; shift; if "$@"; then ok "$name"; else bad "$name"; fi; }

wasm() { clang --target=wasm32-wasi -O2 -o "$out/$1.wasm" "$2" 2>"$out/$1.cc.log"; }
if ! wasm wasi_test test/wasi/wasi_test.c || ! wasm trap test/wasi/trap.c ||
   ! wasm hello examples/hello.c || ! wasm waitgo test/wasi/waitgo.c; then
    cat "$out"/*.cc.log
    echo "cli: 0 passed, 1 failed"
    exit 1
fi

# WASI: files, directories, args, env, clocks, random, the sandbox, exit code
sb=$out/sandbox
mkdir -p "$sb"; ln -s /etc "$sb/link"; echo secret > "$out/secret"
"$gate" run --dir "$sb::sandbox" --env GATE_TEST=yes "$out/wasi_test.wasm" one "two words" \
    > "$out/wasi.out" 2> "$out/wasi.err"; rc=$?
check "wasi: exit status of exit(7)" test $rc -eq 7
if diff -u test/wasi/wasi_test.expected "$out/wasi.out" > "$out/wasi.diff"; then
    ok "wasi: output"
else
    bad "wasi: output" "$(head -20 "$out/wasi.diff")"
fi
check "wasi: nothing escaped the sandbox" test ! -e "$out/made"
# the same without openat2 (kernels before 5.6, qemu-user): paths are
# resolved one component at a time instead
rm -rf "$sb"; mkdir -p "$sb"; ln -s /etc "$sb/link"
GATE_NO_OPENAT2=1 "$gate" run --dir "$sb::sandbox" --env GATE_TEST=yes "$out/wasi_test.wasm" one "two words" \
    > "$out/wasi2.out" 2> "$out/wasi2.err"; rc=$?
check "wasi without openat2: exit status and output" \
    eval 'test $rc -eq 7 && cmp -s test/wasi/wasi_test.expected "$out/wasi2.out" && test ! -e "$out/made"'
# path resolution: symlinks in and out, "..", loops, trailing slashes
if wasm paths test/wasi/paths.c; then
    for m in 0 1; do
        args=$(bash test/wasi/paths-tree.sh "$out/ptree")
        # shellcheck disable=SC2086
        GATE_NO_OPENAT2=$m "$gate" run --dir "$out/ptree/sb::sandbox" "$out/paths.wasm" $args \
            > "$out/paths$m.out" 2>&1
        if diff -u test/wasi/paths.expected "$out/paths$m.out" > "$out/paths.diff" &&
           [ ! -e "$out/ptree/outside/new" ]; then
            ok "wasi paths ($([ $m = 0 ] && echo openat2 || echo component walk))"
        else
            bad "wasi paths (GATE_NO_OPENAT2=$m)" "$(head -20 "$out/paths.diff")"
        fi
    done
else
    bad "paths.c builds" "$(head -5 "$out/paths.cc.log")"
fi

# the same output and exit code as node's WASI
if ! wasm programs test/wasi/programs.c; then
    bad "programs.c builds" "$(head -5 "$out/programs.cc.log")"
elif command -v node > /dev/null; then
    for mode in a b; do
        rm -rf "$out/data"; mkdir -p "$out/data"
        printf 'one\ntwo\nthree\n' > "$out/data/input.txt"; touch "$out/data/zzz" "$out/data/aaa"
        printf 'some input\nfor the program\n' > "$out/stdin.txt"
        MODE=$mode node --no-warnings test/wasi/node-wasi.mjs "$out/data" "$out/programs.wasm" \
            x "y z" < "$out/stdin.txt" > "$out/node.out" 2>&1; nrc=$?
        "$gate" run --dir "$out/data::data" --env MODE=$mode "$out/programs.wasm" x "y z" \
            < "$out/stdin.txt" > "$out/gate.out" 2>&1; grc=$?
        check "node parity ($mode): exit code ($grc vs node $nrc)" test $grc -eq $nrc
        if diff -u "$out/node.out" "$out/gate.out" > "$out/parity.diff"; then
            ok "node parity ($mode): output"
        else
            bad "node parity ($mode): output" "$(head -20 "$out/parity.diff")"
        fi
    done
    node --no-warnings test/wasi/node-wasi.mjs "$out" "$out/hello.wasm" 100000 > "$out/hn.out"
    "$gate" run "$out/hello.wasm" 100000 > "$out/hg.out"
    check "node parity: hello.c 100000" cmp -s "$out/hn.out" "$out/hg.out"
else
    echo "skip node parity: node is not installed"
    skipped=$((skipped + 5))
fi

# a program gives the same output as its native build
gcc -O2 -o "$out/hello.native" examples/hello.c
"$out/hello.native" 5000 > "$out/hello.want"
"$gate" run "$out/hello.wasm" 5000 > "$out/hello.got"; rc=$?
check "run: exit status 0" test $rc -eq 0
check "run: output equals the native build's" cmp -s "$out/hello.want" "$out/hello.got"

# a trap: message, backtrace with names, status 134, output before it kept
"$gate" run "$out/trap.wasm" > "$out/trap.out" 2> "$out/trap.err"; rc=$?
check "trap: exit status 134" test $rc -eq 134
check "trap: stdout before the trap" grep -qx before "$out/trap.out"
check "trap: message" grep -q "trap: integer divide by zero" "$out/trap.err"
check "trap: backtrace names divide <- middle <- main" \
    bash -c "grep -q '#0 func .*<divide>' '$out/trap.err' && grep -q '#1 func .*<middle>' '$out/trap.err' && grep -q '#2 func .*<main>' '$out/trap.err'"
check "trap: wasm offset" grep -q "at wasm offset 0x" "$out/trap.err"

# --invoke
r=$("$gate" run --invoke add test/data/run.wasm 40 2)
check "invoke: add 40 2 = 42" test "$r" = 42
r=$("$gate" run --invoke sum test/data/run.wasm 100000)
check "invoke: i64 result" test "$r" = 4999950000
"$gate" run --invoke add test/data/run.wasm 40 x > /dev/null 2>&1; rc=$?
check "invoke: bad argument is a usage error" test $rc -eq 2
"$gate" run --invoke nope test/data/run.wasm > /dev/null 2>&1; rc=$?
check "invoke: unknown export is an error" test $rc -eq 2
"$gate" run --invoke runaway test/data/run.wasm > /dev/null 2> "$out/exh.err"; rc=$?
check "invoke: stack exhaustion traps" bash -c "test $rc -eq 134 && grep -q 'stack exhausted' '$out/exh.err'"

# limits: a small stack runs out sooner, a big one later; memory caps grow
d1=$("$gate" run --stack-size 1m --invoke depth test/data/run.wasm 20000 2>/dev/null); r1=$?
d2=$("$gate" run --stack-size 64m --invoke depth test/data/run.wasm 200000 2>/dev/null); r2=$?
check "stack size: 1 MiB traps at depth 20000, 64 MiB reaches 200000" \
    bash -c "test $r1 -eq 134 && test $r2 -eq 0 && test '$d2' = 200000"
g=$("$gate" run --max-memory-pages 2 --invoke grow test/data/run.wasm 1)
g2=$("$gate" run --max-memory-pages 2 --invoke grow test/data/run.wasm 2)
check "max memory pages: grow within the cap works, past it fails" \
    bash -c "test '$g' = 1 && test '$g2' = -1"
"$gate" run --stack-size 1k --invoke add test/data/run.wasm 1 2 > /dev/null 2>&1; rc=$?
check "stack size below the minimum: an error" test $rc -ne 0

# bad input
head -c 100 "$out/hello.wasm" > "$out/cut.wasm"
"$gate" run "$out/cut.wasm" > /dev/null 2> "$out/cut.err"; rc=$?
check "bad module: status 1 with an offset" bash -c "test $rc -eq 1 && grep -q 'offset 0x' '$out/cut.err'"
"$gate" run "$out/does-not-exist.wasm" > /dev/null 2>&1; rc=$?
check "missing file: status 2" test $rc -eq 2
"$gate" run --dir /nonexistent-dir "$out/hello.wasm" > /dev/null 2>&1; rc=$?
check "missing preopen: status 2" test $rc -eq 2
"$gate" frobnicate > /dev/null 2>&1; rc=$?
check "unknown command: status 2" test $rc -eq 2
"$gate" help > "$out/help.txt"; rc=$?
check "help: status 0 and lists run" bash -c "test $rc -eq 0 && grep -q 'run \[options\]' '$out/help.txt'"
for c in inspect validate dump objdump; do
    "$gate" $c test/data/run.wasm > "$out/$c.txt" 2>&1; rc=$?
    check "$c: status 0" test $rc -eq 0
done
check "objdump: safe points and trap sites annotated" \
    bash -c "grep -q 'safe point @wasm' '$out/objdump.txt' && grep -q 'trap: memory out of bounds' '$out/objdump.txt'"
for t in x86_64 arm64; do
    "$gate" objdump --target $t test/data/run.wasm > "$out/objdump-$t.txt" 2>&1; rc=$?
    check "objdump --target $t: that ISA's code, trap sites, safe points, the count" \
        bash -c "test $rc -eq 0 && grep -q ': $t, ' '$out/objdump-$t.txt' && grep -q 'trap: integer overflow' '$out/objdump-$t.txt' && grep -q 'safe point @wasm' '$out/objdump-$t.txt' && grep -q '^$t: [1-9][0-9]* instructions' '$out/objdump-$t.txt'"
done
"$gate" objdump --target sparc test/data/run.wasm > /dev/null 2>&1; rc=$?
check "objdump --target sparc: status 2" test $rc -eq 2

# AOT objects and the compile cache
"$gate" compile "$out/hello.wasm" -o "$out/hello.gobj" > /dev/null; rc=$?
check "compile: status 0" test $rc -eq 0
"$gate" run "$out/hello.gobj" 5000 > "$out/hello.obj.out"; rc=$?
check "run an object: same output" bash -c "test $rc -eq 0 && cmp -s '$out/hello.want' '$out/hello.obj.out'"
check "inspect an object" bash -c "'$gate' inspect '$out/hello.gobj' | grep -q 'compiled ahead of time'"
"$gate" compile --target arm64 "$out/hello.wasm" -o "$out/hello-arm.gobj" > "$out/arm.log" 2>&1; rc=$?
check "compile --target arm64: an object for the other ISA" \
    bash -c "test $rc -eq 0 && grep -q '(arm64)' '$out/arm.log' && test -s '$out/hello-arm.gobj'"
"$gate" run "$out/hello-arm.gobj" 10 > /dev/null 2> "$out/arm-run.err"; rc=$?
check "an arm64 object is refused on x86-64" \
    bash -c "test $rc -eq 1 && grep -q 'another target' '$out/arm-run.err'"
head -c 3000 "$out/hello.gobj" > "$out/cut.gobj"
"$gate" run "$out/cut.gobj" > /dev/null 2> "$out/cutobj.err"; rc=$?
check "truncated object: rejected" bash -c "test $rc -eq 1 && grep -q 'object' '$out/cutobj.err'"
cache=$out/cache
"$gate" run --cache-dir "$cache" "$out/hello.wasm" 5000 > "$out/c1.out"
objs=("$cache"/*.gobj)
check "cache: an object is stored" test -f "${objs[0]}"
"$gate" run --cache-dir "$cache" "$out/hello.wasm" 5000 > "$out/c2.out"
check "cache: second run same output" cmp -s "$out/c1.out" "$out/c2.out"
printf 'garbage' | dd of="${objs[0]}" bs=1 seek=200 conv=notrunc 2>/dev/null
"$gate" run --cache-dir "$cache" "$out/hello.wasm" 5000 > "$out/c3.out"; rc=$?
check "cache: a corrupted entry is recompiled, not trusted" \
    bash -c "test $rc -eq 0 && cmp -s '$out/c1.out' '$out/c3.out'"

# suspend, snapshot, resume: the combined output equals one uninterrupted
# run.  waitgo.c works until data/go exists, made only after the stop, so
# the deadline and the signal always find it running, on any machine.
wg=$out/wg; rm -rf "$wg"; mkdir -p "$wg"; touch "$wg/go"
"$gate" run --dir "$wg::data" "$out/waitgo.wasm" 30000000 > "$out/whole.out"
rm -f "$out/h.snap" "$wg/go"
"$gate" run --dir "$wg::data" --suspend-after=300ms --snapshot="$out/h.snap" "$out/waitgo.wasm" 30000000 \
    > "$out/part0.out" 2> "$out/part0.err"; rc=$?
check "suspend: exit status 75 and a snapshot" bash -c "test $rc -eq 75 && test -s '$out/h.snap'"
check "suspend: says where it stopped" grep -q "stopped in func .* at wasm offset 0x" "$out/part0.err"
check "snapshot: a valid wasm module (wasm-validate)" wasm-validate "$out/h.snap"
# (the stop lands wherever waitgo is: in main's loop or in the access()
# it calls, so main is some frame, not always the innermost)
check "snapshot: inspect shows the frames" \
    bash -c "'$gate' inspect '$out/h.snap' | grep -q '#[0-9]* func [0-9]* <main> +0x'"
check "snapshot: inspect shows the preopen it asks for" \
    bash -c "'$gate' inspect '$out/h.snap' | grep -q 'preopen \"data\" (needs --dir HOST::data)'"
touch "$wg/go"
hops=0 rc=75
cat "$out/part0.out" > "$out/joined.out"
while [ $rc -eq 75 ] && [ $hops -lt 60 ]; do
    hops=$((hops + 1))
    "$gate" resume --dir "$wg::data" --suspend-after=200ms --snapshot="$out/h.snap" "$out/h.snap" \
        >> "$out/joined.out" 2>> "$out/resume.err"; rc=$?
done
check "resume: finished after $hops hop(s) with status 0" bash -c "test $rc -eq 0"
check "resume: joined output equals the uninterrupted run" cmp -s "$out/whole.out" "$out/joined.out"
# SIGINT saves instead of killing
rm -f "$out/i.snap" "$wg/go" "$out/int0.out"
"$gate" run --dir "$wg::data" --snapshot="$out/i.snap" "$out/waitgo.wasm" 30000000 > "$out/int0.out" 2>/dev/null &
pid=$!
for _ in $(seq 600); do grep -q waiting "$out/int0.out" 2>/dev/null && break; sleep 0.1; done
kill -INT $pid; wait $pid; rc=$?
check "SIGINT: stopped and saved (75)" bash -c "test $rc -eq 75 && test -s '$out/i.snap'"
touch "$wg/go"
"$gate" resume --dir "$wg::data" "$out/i.snap" > "$out/int1.out" 2>/dev/null; rc=$?
cat "$out/int0.out" "$out/int1.out" > "$out/intj.out"
check "SIGINT: resumed output equals the uninterrupted run" \
    bash -c "test $rc -eq 0 && cmp -s '$out/whole.out' '$out/intj.out'"
# blocking host calls give way to a stop: a long sleep (poll_oneoff) and a
# read from a pipe nobody writes yet are stopped by the deadline, saved as
# a pending call, and run again on resume (the sleep with what was left)
if wasm sleeper test/wasi/sleeper.c && wasm readline test/wasi/readline.c &&
   wasm flood test/wasi/flood.c; then
    rm -f "$out/sl.snap"
    timeout 60 "$gate" run --suspend-after=300ms --snapshot="$out/sl.snap" "$out/sleeper.wasm" \
        > /dev/null 2> "$out/sl.err"; r1=$?
    timeout 60 "$gate" resume --suspend-after=300ms "$out/sl.snap" > /dev/null 2>> "$out/sl.err"; r2=$?
    check "a 600 s sleep stops at the deadline, twice, as a pending call" \
        bash -c "test $r1 -eq 75 && test $r2 -eq 75 && '$gate' inspect '$out/sl.snap' | grep -q 'pending host call: .*poll_oneoff.*called again on resume'"
    rm -f "$out/rl.snap"
    sleep 60 | timeout 60 "$gate" run --suspend-after=300ms --snapshot="$out/rl.snap" "$out/readline.wasm" \
        > "$out/rl.out" 2> "$out/rl.err"; r1=${PIPESTATUS[1]}
    echo "a line" | timeout 60 "$gate" resume "$out/rl.snap" >> "$out/rl.out" 2>> "$out/rl.err"; r2=$?
    check "a read of an empty pipe stops at the deadline; resumed, it reads the line" \
        bash -c "test $r1 -eq 75 && test $r2 -eq 0 && grep -q '^got a line' '$out/rl.out'"
    # a second SIGINT while the first one's stop waits (a write to a pipe
    # nobody reads) ends gate at once with a message
    rm -f "$out/fl.fifo"; mkfifo "$out/fl.fifo"
    sleep 60 < "$out/fl.fifo" & holder=$!
    "$gate" run --snapshot="$out/fl.snap" "$out/flood.wasm" > "$out/fl.fifo" 2> "$out/fl.err" &
    pid=$!
    for _ in $(seq 600); do grep -q flooding "$out/fl.err" 2>/dev/null && break; sleep 0.1; done
    sleep 0.3; kill -INT $pid; sleep 0.3; kill -INT $pid
    for _ in $(seq 600); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
    kill -KILL $pid 2>/dev/null; wait $pid; rc=$?
    kill $holder 2>/dev/null; wait $holder 2>/dev/null
    check "SIGINT twice during a blocked write: gate ends at once (130) and says so" \
        bash -c "test $rc -eq 130 && grep -q 'second signal while stopping' '$out/fl.err'"
else
    bad "sleeper.c, readline.c and flood.c build"
fi
# the calls on open files and links (fileops.c): pread/pwrite, sync,
# advise, allocate, truncate, times, readlink/symlink/link, fd_renumber
fo_files() {    # what fileops leaves in DIR, as text
    (cd "$1" && find . -printf '%p %y %l\n' | sort && head -c 5 f && echo && cat spare &&
     test "$(stat -c %i f)" = "$(stat -c %i h)" && echo "h is f" && test ! -s out && echo "out empty")
}
if wasm fileops test/wasi/fileops.c; then
    rm -rf "$out/fo"; mkdir -p "$out/fo"
    "$gate" run --dir "$out/fo::data" "$out/fileops.wasm" > "$out/fo.out" 2> "$out/fo.err"; rc=$?
    if [ $rc -eq 0 ] && diff -u test/wasi/fileops.expected "$out/fo.out" > "$out/fo.diff"; then
        ok "fileops: every result, error cases included"
    else
        bad "fileops: output (status $rc)" "$(head -20 "$out/fo.diff")"
    fi
    fo_files "$out/fo" > "$out/fo.files"
    check "fileops: the files it leaves (hard link, symlinks beneath only, stdout and stderr renumbered onto files)" \
        bash -c "grep -qx './l l f' '$out/fo.files' && grep -qx './d/back l ../f' '$out/fo.files' && ! grep -q 'abs\|up \|d/out' '$out/fo.files' && grep -qx 'still to the file' '$out/fo.files' && grep -qx 'stderr by another number' '$out/fo.err' && grep -qx 'h is f' '$out/fo.files' && grep -qx 'out empty' '$out/fo.files' && grep -qx 01234 '$out/fo.files'"
    # stopped by fuel about forty times (deterministic), each stop saved and
    # resumed: the same output and the same files
    rm -rf "$out/fo2"; mkdir -p "$out/fo2"
    "$gate" run --dir "$out/fo2::data" --fuel=5000 --snapshot="$out/fo.snap" "$out/fileops.wasm" \
        > "$out/fo2.out" 2>/dev/null; rc=$?
    n=0
    while [ $rc -eq 75 ] && [ $n -lt 300 ]; do
        n=$((n + 1))
        "$gate" resume --dir "$out/fo2::data" --fuel=5000 --snapshot="$out/fo.snap" "$out/fo.snap" \
            >> "$out/fo2.out" 2>/dev/null; rc=$?
    done
    fo_files "$out/fo2" > "$out/fo2.files"
    check "fileops: stopped and resumed $n times, the same output and files" \
        bash -c "test $rc -eq 0 && test $n -ge 20 && cmp -s '$out/fo.out' '$out/fo2.out' && cmp -s '$out/fo.files' '$out/fo2.files'"
    if command -v node > /dev/null; then
        # node up to where its WASI hangs; the lines where it is wrong are
        # listed in docs/wasi.md
        known='readlink into 1 byte\|symlink to /etc/passwd\|symlink ../f in data/d'
        rm -rf "$out/fon" "$out/fog"; mkdir -p "$out/fon" "$out/fog"
        MODE=node timeout 60 node --no-warnings test/wasi/node-wasi.mjs "$out/fon" "$out/fileops.wasm" \
            2>&1 | grep -v "$known" > "$out/fon.out"
        "$gate" run --env MODE=node --dir "$out/fog::data" "$out/fileops.wasm" 2>&1 |
            grep -v "$known" > "$out/fog.out"
        if diff -u "$out/fon.out" "$out/fog.out" > "$out/fon.diff"; then
            ok "fileops: the same results as node's WASI where node is right"
        else
            bad "fileops: node parity" "$(head -20 "$out/fon.diff")"
        fi
    fi
else
    bad "fileops.c builds" "$(head -5 "$out/fileops.cc.log")"
fi
# directories and trailing slashes (dirs.c), and node where it is right
if wasm dirs test/wasi/dirs.c; then
    rm -rf "$out/dd"; mkdir -p "$out/dd"
    "$gate" run --dir "$out/dd::data" "$out/dirs.wasm" > "$out/dd.out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && diff -u test/wasi/dirs.expected "$out/dd.out" > "$out/dd.diff"; then
        ok "dirs: trailing slashes, directories opened for writing, no position on a directory"
    else
        bad "dirs: output (status $rc)" "$(head -20 "$out/dd.diff")"
    fi
    if command -v node > /dev/null; then
        known='listing of the empty d\|rmdir \. \|lseek on'
        rm -rf "$out/ddn"; mkdir -p "$out/ddn"
        timeout 60 node --no-warnings test/wasi/node-wasi.mjs "$out/ddn" "$out/dirs.wasm" 2>&1 |
            grep -v "$known" > "$out/ddn.out"
        if grep -v "$known" "$out/dd.out" | diff -u "$out/ddn.out" - > "$out/ddn.diff"; then
            ok "dirs: the same results as node's WASI where node is right"
        else
            bad "dirs: node parity" "$(head -20 "$out/ddn.diff")"
        fi
    fi
else
    bad "dirs.c builds" "$(head -5 "$out/dirs.cc.log")"
fi
# the rights model (rights.c): what fd_fdstat_get reports, rights
# intersected at path_open, only dropped, checked by every call, and kept
# across stops
if wasm rights test/wasi/rights.c; then
    rm -rf "$out/rr"; mkdir -p "$out/rr"
    "$gate" run --dir "$out/rr::data" "$out/rights.wasm" > "$out/rr.out" 2>&1; rc=$?
    if [ $rc -eq 0 ] && diff -u test/wasi/rights.expected "$out/rr.out" > "$out/rr.diff"; then
        ok "rights: reported, intersected, only dropped, checked (ENOTCAPABLE)"
    else
        bad "rights: output (status $rc)" "$(head -20 "$out/rr.diff")"
    fi
    rm -rf "$out/rr2"; mkdir -p "$out/rr2"
    "$gate" run --dir "$out/rr2::data" --fuel=3000 --snapshot="$out/rr.snap" "$out/rights.wasm" \
        > "$out/rr2.out" 2>/dev/null; rc=$?
    n=0
    while [ $rc -eq 75 ] && [ $n -lt 300 ]; do
        n=$((n + 1))
        "$gate" resume --dir "$out/rr2::data" --fuel=3000 --snapshot="$out/rr.snap" "$out/rr.snap" \
            >> "$out/rr2.out" 2>/dev/null; rc=$?
    done
    check "rights: dropped rights stay dropped across $n stops and resumes" \
        bash -c "test $rc -eq 0 && test $n -ge 20 && cmp -s test/wasi/rights.expected '$out/rr2.out'"
    if command -v node > /dev/null; then
        # every answer as node's; the rights bits themselves differ (docs/wasi.md)
        rm -rf "$out/rrn"; mkdir -p "$out/rrn"
        timeout 60 node --no-warnings test/wasi/node-wasi.mjs "$out/rrn" "$out/rights.wasm" 2>&1 |
            grep -v ' 0x' > "$out/rrn.out"
        if grep -v ' 0x' "$out/rr.out" | diff -u "$out/rrn.out" - > "$out/rrn.diff"; then
            ok "rights: every call answers as under node's WASI"
        else
            bad "rights: node parity" "$(head -20 "$out/rrn.diff")"
        fi
    fi
else
    bad "rights.c builds" "$(head -5 "$out/rights.cc.log")"
fi
# sockets (echo.c on gate run --tcplisten): one connection answered, the
# error cases; waiting for a connection gives way to a stop, and after a
# restore the socket is reported lost (EBADF)
if wasm echo test/wasi/echo.c; then
    for try in 1 2 3 4 5; do
        port=$((20000 + (RANDOM % 20000)))
        "$gate" run --tcplisten "127.0.0.1:$port" "$out/echo.wasm" > "$out/echo.out" \
            2> "$out/echo.err" & pid=$!
        reply=""
        for k in $(seq 1 300); do
            if exec 5<>"/dev/tcp/127.0.0.1/$port"; then
                echo "hello there" >&5; read -r reply <&5; exec 5>&-; break
            fi 2>/dev/null
            kill -0 $pid 2>/dev/null || break
            sleep 0.1
        done
        wait $pid; rc=$?
        grep -q "Address already in use" "$out/echo.err" || break
    done
    check "sockets: a connection answered (HELLO THERE); ENOTSOCK, EBADF, EINVAL, ENOTCAPABLE" \
        bash -c "test $rc -eq 0 && test '$reply' = 'HELLO THERE' && diff -u test/wasi/echo.expected '$out/echo.out'"
    port=$((20000 + (RANDOM % 20000)))
    timeout 60 "$gate" run --tcplisten "127.0.0.1:$port" --suspend-after=300ms \
        --snapshot="$out/echo.snap" "$out/echo.wasm" > /dev/null 2>&1; rc=$?
    "$gate" resume "$out/echo.snap" > "$out/echo2.out" 2> "$out/echo2.err"; rc2=$?
    check "sockets: a stop while waiting for a connection (75), the socket lost on resume" \
        bash -c "test $rc -eq 75 && test $rc2 -eq 3 && grep -qx 'accept: Bad file descriptor' '$out/echo2.out' && grep -q 'a socket: it cannot move: reported lost' '$out/echo2.err'"
else
    bad "echo.c builds" "$(head -5 "$out/echo.cc.log")"
fi
# poll_oneoff on descriptors (polling.c): a file, stdout, a bad
# descriptor, a timeout, stdin once input comes; a stop while waiting for
# stdin, and the wait goes on after the resume
if wasm polling test/wasi/polling.c; then
    rm -rf "$out/pp"; mkdir -p "$out/pp"
    (sleep 0.3; echo hi; sleep 1) | "$gate" run --dir "$out/pp::data" "$out/polling.wasm" \
        > "$out/pp.out" 2>&1; rc=$?
    check "poll: descriptors ready or not, stdin when input comes" \
        bash -c "test $rc -eq 0 && diff -u test/wasi/polling.expected '$out/pp.out'"
    # stdin a FIFO this shell keeps open: no input and no end, so the
    # program waits until the deadline stops it, however slow the machine
    rm -f "$out/pp.fifo"; mkfifo "$out/pp.fifo"; exec 7<>"$out/pp.fifo"
    timeout 60 "$gate" run --suspend-after=300ms --snapshot="$out/pp.snap" \
        "$out/polling.wasm" wait < "$out/pp.fifo" > /dev/null 2>&1; rc=$?
    exec 7>&-
    (sleep 0.2; echo late; sleep 1) | "$gate" resume "$out/pp.snap" > "$out/pp2.out" 2>&1; rc2=$?
    if command -v node > /dev/null; then
        # node where it is right: not on files, stdout or a bad descriptor
        (sleep 0.3; echo hi; sleep 1) | timeout 60 node --no-warnings test/wasi/node-wasi.mjs \
            "$out/pp" "$out/polling.wasm" 2>&1 | grep -v 'a file and stdout\|a bad descriptor' \
            > "$out/ppn.out"
        if grep -v 'a file and stdout\|a bad descriptor' "$out/pp.out" | diff -u "$out/ppn.out" - \
            > "$out/ppn.diff"; then
            ok "poll: the same as node's WASI where node is right"
        else
            bad "poll: node parity" "$(head -20 "$out/ppn.diff")"
        fi
    fi
    check "poll: a stop while waiting (75), the wait resumed until input comes" \
        bash -c "test $rc -eq 75 && test $rc2 -eq 0 && grep -q 'read *late' '$out/pp2.out'"
else
    bad "polling.c builds" "$(head -5 "$out/polling.cc.log")"
fi
# open files come back at their offsets
if wasm copy test/wasi/copy.c; then
    rm -rf "$out/cp"; mkdir -p "$out/cp"
    for k in 1 2 3 4 5 6 7 8; do echo "line $k of the input" >> "$out/cp/in.txt"; done
    # fuel stops it about every line (deterministic: 10 stops on any machine)
    "$gate" run --dir "$out/cp::data" --fuel=3000000 --snapshot="$out/c.snap" \
        "$out/copy.wasm" > "$out/c0.out" 2>/dev/null; rc=$?
    n=0
    while [ $rc -eq 75 ] && [ $n -lt 30 ]; do
        n=$((n + 1))
        "$gate" resume --dir "$out/cp::data" --fuel=3000000 --snapshot="$out/c.snap" "$out/c.snap" \
            >> "$out/c0.out" 2>"$out/c.err"; rc=$?
    done
    check "files: reopened (granted again) and positioned across $n resume(s)" \
        bash -c "test $rc -eq 0 && test $n -ge 5 && grep -q 'copied 8 lines' '$out/c0.out' && test \$(wc -l < '$out/cp/out.txt') -eq 8 && grep -q '^8: line 8 of the input' '$out/cp/out.txt' && grep -q 'preopen \"data\": reattached' '$out/c.err'"
    # without the grant the program's files are lost: its writes fail (EBADF)
    rm -f "$out/cp/out.txt"
    "$gate" run --dir "$out/cp::data" --fuel=3000000 --snapshot="$out/c.snap" \
        "$out/copy.wasm" > /dev/null 2>&1
    "$gate" resume --fuel=1000000000000 "$out/c.snap" > "$out/c1.out" 2> "$out/c1.err"; rc=$?
    check "files: not granted at resume, the preopen and its files are reported lost" \
        bash -c "grep -q 'preopen \"data\" not granted: reported lost' '$out/c1.err' && grep -q 'file \"in.txt\" beneath' '$out/c1.err' && test \$(wc -l < '$out/cp/out.txt') -lt 8"
else
    bad "copy.c builds"
fi
# a stack of 100,001 frames of a 450 KB function: stopped, saved,
# restored, resumed, saved again (each costs one pass over the function,
# not one per frame; timeouts are hang guards only)
{
    echo '(module (func $rec (export "rec") (param $n i32) (result i32)'
    yes '    i32.const 7 drop' | head -n 150000
    echo '    local.get $n i32.eqz'
    echo '    if (result i32) (loop $l (br $l)) i32.const 0'
    echo '    else local.get $n i32.const 1 i32.sub call $rec i32.const 1 i32.add end))'
} > "$out/bigrec.wat"
if wat2wasm "$out/bigrec.wat" -o "$out/bigrec.wasm"; then
    timeout 120 "$gate" run --no-cache --stack-size 64m --fuel=200000 --snapshot="$out/deep.snap" \
        --invoke rec "$out/bigrec.wasm" 100000 > /dev/null 2> "$out/deep.err"; r1=$?
    timeout 120 "$gate" resume --fuel=10 --snapshot="$out/deep2.snap" "$out/deep.snap" \
        > /dev/null 2>> "$out/deep.err"; r2=$?
    check "100,001 frames in a 450 KB function: saved, restored, resumed and saved again" \
        bash -c "test $r1 -eq 75 && test $r2 -eq 75 && grep -q '100001 frame(s) deep' '$out/deep.err' && test -s '$out/deep2.snap'"
else
    bad "bigrec.wat builds"
fi
# fuel: deterministic stops, the same snapshot bytes twice, same output
"$gate" run "$out/hello.wasm" 6000000 > "$out/hello-whole.out"
rm -f "$out/f1.snap" "$out/f2.snap"
"$gate" run --fuel=100000000 --snapshot="$out/f1.snap" "$out/hello.wasm" 6000000 > "$out/f1.out" 2>/dev/null; r1=$?
"$gate" run --fuel=100000000 --snapshot="$out/f2.snap" "$out/hello.wasm" 6000000 > "$out/f2.out" 2>/dev/null; r2=$?
# identical stopped state (frames, slots, memory); the WASI section holds
# the clock reading, so the files themselves differ there
check "fuel: stops (75), deterministically (identical stopped state)" \
    bash -c "test $r1 -eq 75 && test $r2 -eq 75 && cmp -s <('$gate' inspect '$out/f1.snap' | sed 1,3d) <('$gate' inspect '$out/f2.snap' | sed 1,3d) && cmp -s <(head -c \$(grep -abo gate.wasi '$out/f1.snap' | cut -d: -f1) '$out/f1.snap') <(head -c \$(grep -abo gate.wasi '$out/f2.snap' | cut -d: -f1) '$out/f2.snap')"
n=0 rc=75
while [ $rc -eq 75 ] && [ $n -lt 100 ]; do
    n=$((n + 1))
    "$gate" resume --fuel=100000000 --snapshot="$out/f1.snap" "$out/f1.snap" >> "$out/f1.out" 2>/dev/null; rc=$?
done
check "fuel: $n refills later the output equals the uninterrupted run" \
    bash -c "test $rc -eq 0 && cmp -s '$out/hello-whole.out' '$out/f1.out'"

# test programs (recursive, float-heavy, memory-growing, function-pointer
# heavy) stopped at random moments and resumed through a chain of
# snapshots: the joined output equals an uninterrupted run.  The stops are
# spread over the program's own run time, so there are at least 5 hops on
# any machine; the durations used are printed on failure.
chain() {
    local p=$1 scale=$2
    if ! wasm "$p" "bench/programs/$p.c"; then
        bad "$p builds" "$(head -5 "$out/$p.cc.log")"
        return
    fi
    local t0 t1 rc hops=0 used="" d
    "$gate" run "$out/$p.wasm" "$scale" > /dev/null        # fills the cache
    t0=$(date +%s%N)
    "$gate" run "$out/$p.wasm" "$scale" > "$out/$p.whole"
    t1=$(date +%s%N)
    local ms=$(( (t1 - t0) / 1000000 ))
    local lo=$(( ms / 14 )) hi=$(( ms / 8 ))
    [ $lo -lt 5 ] && lo=5
    [ $hi -le $lo ] && hi=$(( lo + 1 ))
    rm -f "$out/$p.snap"
    d=$(( lo + RANDOM % (hi - lo) )); used="$d"
    "$gate" run --suspend-after=${d}ms --snapshot="$out/$p.snap" "$out/$p.wasm" "$scale" \
        > "$out/$p.joined" 2> "$out/$p.chain.err"; rc=$?
    while [ $rc -eq 75 ] && [ $hops -lt 200 ]; do
        hops=$((hops + 1))
        d=$(( lo + RANDOM % (hi - lo) )); used="$used $d"
        "$gate" resume --suspend-after=${d}ms --snapshot="$out/$p.snap" "$out/$p.snap" \
            >> "$out/$p.joined" 2>> "$out/$p.chain.err"; rc=$?
    done
    if [ $rc -eq 0 ] && [ $hops -ge 5 ] && cmp -s "$out/$p.whole" "$out/$p.joined"; then
        ok "$p: stopped at random moments, $hops snapshots later the output equals one run"
    else
        bad "$p: chain of snapshots" "status $rc after $hops hops (run ${ms} ms; stops after: $used ms); $(tail -2 "$out/$p.chain.err")"
    fi
}
chain recurse 4
chain fpkern 4
chain membound 4
chain funcptr 4

# SIMD (test/wasi/simd.c): the same source as v128 code and as scalar
# code prints the same (and what node prints, where it is installed),
# stopped by fuel inside its vector loops and resumed from each snapshot
if clang --target=wasm32-wasi -O2 -msimd128 -o "$out/simd.wasm" test/wasi/simd.c 2> "$out/simd.cc.log" &&
   clang --target=wasm32-wasi -O2 -o "$out/simd-scalar.wasm" test/wasi/simd.c 2>> "$out/simd.cc.log"; then
    "$gate" run --no-cache "$out/simd.wasm" > "$out/simd.out" 2>&1; rc=$?
    "$gate" run --no-cache "$out/simd-scalar.wasm" > "$out/simd-scalar.out" 2>&1
    check "SIMD: simd.c as v128 code gives test/wasi/simd.expected" \
        bash -c "test $rc -eq 0 && cmp -s test/wasi/simd.expected '$out/simd.out'"
    check "SIMD: simd.c as scalar code gives the same" cmp -s "$out/simd.out" "$out/simd-scalar.out"
    check "SIMD: simd.wasm uses v128 instructions, the scalar build none" \
        bash -c "'$gate' objdump '$out/simd.wasm' > /dev/null && wasm-objdump -d '$out/simd.wasm' | grep -q 'f32x4.mul' && ! wasm-objdump -d '$out/simd-scalar.wasm' | grep -q 'v128\|f32x4'"
    "$gate" run --no-cache --deterministic --explicit-bounds "$out/simd.wasm" > "$out/simd-det.out" 2>&1
    check "SIMD: the same with --deterministic --explicit-bounds" cmp -s "$out/simd.out" "$out/simd-det.out"
    if command -v node > /dev/null; then
        node --no-warnings test/wasi/node-wasi.mjs "$out" "$out/simd.wasm" > "$out/simd-node.out" 2>/dev/null
        check "SIMD: node prints the same" cmp -s "$out/simd.out" "$out/simd-node.out"
    fi
    n=0
    "$gate" run --fuel=3000 --snapshot="$out/simd.snap" "$out/simd.wasm" > "$out/simd-chain.out" 2>/dev/null; rc=$?
    while [ $rc -eq 75 ] && [ $n -lt 300 ]; do
        n=$((n + 1))
        "$gate" resume --fuel=3000 --snapshot="$out/simd.snap" "$out/simd.snap" >> "$out/simd-chain.out" 2>/dev/null; rc=$?
    done
    check "SIMD: stopped $n times by fuel (v128 values live), each snapshot resumed: the same output" \
        bash -c "test $rc -eq 0 && test $n -ge 20 && cmp -s '$out/simd.out' '$out/simd-chain.out'"
    "$gate" run --fuel=3000 --snapshot="$out/simd1.snap" "$out/simd.wasm" > /dev/null 2>&1
    check "SIMD: gate inspect shows v128 slots" \
        bash -c "'$gate' inspect '$out/simd1.snap' | grep -q 'v128:i32x4:0x'"
else
    bad "simd.c builds with -msimd128" "$(head -3 "$out/simd.cc.log")"
fi
if clang --target=wasm32-wasi -O2 -msimd128 -o "$out/simdnan.wasm" test/wasi/simdnan.c 2> "$out/simdnan.cc.log"; then
    "$gate" run --no-cache --deterministic "$out/simdnan.wasm" > "$out/simdnan-det.out" 2>&1
    check "SIMD deterministic: canonical NaNs from v128 float operations (test/wasi/simdnan.expected)" \
        cmp -s test/wasi/simdnan.expected "$out/simdnan-det.out"
    "$gate" run --no-cache "$out/simdnan.wasm" > "$out/simdnan-plain.out" 2>&1
    check "SIMD deterministic: the default mode keeps the CPU's NaNs (they differ here)" \
        bash -c "! cmp -s '$out/simdnan-plain.out' test/wasi/simdnan.expected"
else
    bad "simdnan.c builds with -msimd128" "$(head -3 "$out/simdnan.cc.log")"
fi

# deterministic mode: every NaN an operation makes is the canonical one
if wasm nanbits test/wasi/nanbits.c; then
    "$gate" run --no-cache --deterministic "$out/nanbits.wasm" 0 > "$out/nan-det.out"; rc=$?
    if [ $rc -eq 0 ] && diff -u test/wasi/nanbits.expected "$out/nan-det.out" > "$out/nan.diff"; then
        ok "deterministic: canonical NaN bits (test/wasi/nanbits.expected)"
    else
        bad "deterministic: canonical NaN bits" "$(head -12 "$out/nan.diff")"
    fi
    "$gate" run --no-cache "$out/nanbits.wasm" 0 > "$out/nan-plain.out"
    check "deterministic: the default mode keeps the CPU's NaNs (they differ here)" \
        bash -c "! cmp -s '$out/nan-plain.out' test/wasi/nanbits.expected"
    "$gate" compile "$out/nanbits.wasm" -o "$out/nan.gobj" > /dev/null
    "$gate" run --deterministic "$out/nan.gobj" 0 > /dev/null 2> "$out/nanobj.err"; rc=$?
    check "deterministic: an object compiled without it is refused" \
        bash -c "test $rc -eq 1 && grep -q 'NaN mode' '$out/nanobj.err'"
else
    bad "nanbits.c builds"
fi

# damaged snapshots are refused
head -c 5000 "$out/h.snap" > "$out/cut.snap" 2>/dev/null || true
"$gate" run --fuel=1000000 --snapshot="$out/d.snap" "$out/hello.wasm" 6000000 > /dev/null 2>&1   # fuel: deterministic
cp "$out/d.snap" "$out/flip.snap"
printf '\x55' | dd of="$out/flip.snap" bs=1 seek=3000 conv=notrunc 2>/dev/null
"$gate" resume "$out/flip.snap" > /dev/null 2> "$out/flip.err"; rc=$?
check "snapshot: a flipped byte is refused" bash -c "test $rc -eq 1 && grep -q 'checksum' '$out/flip.err'"
head -c 4000 "$out/d.snap" > "$out/cut.snap"
"$gate" resume "$out/cut.snap" > /dev/null 2>&1; rc=$?
check "snapshot: a truncated one is refused" test $rc -eq 1

# the embedding example, against the build tree and against an installed copy
"$build/examples/host" "$build/examples/guest.wasm" > "$out/host.out" 2>&1; rc=$?
check "example host: runs" test $rc -eq 0
"$build/examples/world" "$build/examples/scripts.wasm" > "$out/world-example.out" 2>&1
check "examples/world.c: scripts in frames of 2 ms, one looping for ever, one trapping" \
    cmp -s examples/world.expected "$out/world-example.out"
"$build/examples/host-cpp" "$build/examples/guest.wasm" > "$out/host-cpp.out" 2>&1; rc=$?
check "example C++ host (examples/host.cpp, libgate.h unchanged): the C host's output (status $rc)" \
    bash -c "test $rc -eq 0 && cmp -s examples/host.expected '$out/host-cpp.out'"
if diff -u examples/host.expected "$out/host.out" > "$out/host.diff"; then
    ok "example host: output"
else
    bad "example host: output" "$(head -20 "$out/host.diff")"
fi
prefix=$(cd "$out" && pwd)/prefix
if make --no-print-directory -s install BUILD="$build" PREFIX="$prefix" > "$out/install.log" 2>&1; then
    ok "make install PREFIX=..."
    export PKG_CONFIG_PATH="$prefix/lib/pkgconfig"
    check "pkg-config finds gate" pkg-config --exists gate
    # static: libgate.a plus the private libraries pkg-config lists
    priv=$(pkg-config --libs-only-l --static gate | sed 's/-lgate//')
    if cc -o "$out/host-installed" examples/host.c $(pkg-config --cflags gate) \
        -L"$prefix/lib" -Wl,-Bstatic -lgate -Wl,-Bdynamic $priv -lm ${EXTRA_LDFLAGS:-} \
        > "$out/host-installed.log" 2>&1; then
        ok "example builds against the installed libgate.a (pkg-config --static)"
        "$out/host-installed" "$build/examples/guest.wasm" > "$out/host2.out" 2>&1
        check "installed example: same output" cmp -s examples/host.expected "$out/host2.out"
    else
        bad "example builds against the installed copy" "$(head -5 "$out/host-installed.log")"
    fi
    if cc -o "$out/host-shared" examples/host.c $(pkg-config --cflags --libs gate) -lm ${EXTRA_LDFLAGS:-} \
        -Wl,-rpath,"$prefix/lib" > "$out/host-shared.log" 2>&1; then
        "$out/host-shared" "$build/examples/guest.wasm" > "$out/host3.out" 2>&1
        check "example linked with libgate.so: same output" cmp -s examples/host.expected "$out/host3.out"
    else
        bad "example links with libgate.so" "$(head -5 "$out/host-shared.log")"
    fi
    check "gate installed and runs" bash -c "\"$prefix/bin/gate\" version > /dev/null"
else
    bad "make install" "$(tail -5 "$out/install.log")"
fi

echo "cli: $pass passed, $fail failed, $skipped skipped"
[ $fail -eq 0 ]
