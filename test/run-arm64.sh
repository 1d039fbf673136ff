#!/usr/bin/env bash
# The test suite of the aarch64 build, under qemu-aarch64 on this machine
# (`make check-arm64`): the unit tests, the spec suite plain, with explicit
# bounds/fuel/deterministic NaNs, and in stress mode, objects
# cross-compiled both ways, the test programs against x86-64's output, and
# migration both ways.  What cannot run under qemu is skipped with its reason.
# Last line: "N passed, N failed, N skipped".
#   test/run-arm64.sh BUILD
set -uo pipefail
build=${1:-build/arm64}
cd "$(dirname "$0")/.."
# The programs run with the arm64 multiarch libc (libc6:arm64, which the
# -dev:arm64 packages bring) and its own /lib/ld-linux-aarch64.so.1, not
# with QEMU_LD_PREFIX=/usr/aarch64-linux-gnu: that loader comes from
# libc6-arm64-cross, another glibc build than the libc.so.6 it then finds
# through ld.so.cache, and with the two mixed pthread_create never returns.
unset QEMU_LD_PREFIX
export RUN_WRAP=qemu-aarch64 SPEC_WRAP=qemu-aarch64
skipped=0
echo "== unit tests (aarch64, qemu)"
bash test/run-unit.sh "$build"/test/unit_* | tee "$build/unit.log"
echo "== spec tests (aarch64, qemu)"
SPEC_RESULTS="$build/spec-results.tsv" bash test/spec.sh "$build" --label "spec-arm64" \
    | tee "$build/spec.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
echo "== spec tests again (aarch64, qemu): explicit bounds checks, fuel metering, deterministic NaNs"
SPEC_RESULTS="$build/spec-results-explicit.tsv" bash test/spec.sh "$build" --explicit-bounds --fuel --deterministic \
    --label "spec-arm64-explicit" | tee "$build/spec2.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
# Stress mode restores every stopped call into a fresh instance; memory
# reservations come from the engine's pool (under qemu each new 8 GiB
# reservation costs real memory for qemu's page flags).
echo "== spec tests in stress mode (aarch64, qemu)"
SPEC_RESULTS="$build/spec-results-stress.tsv" bash test/spec.sh "$build" --stress 1 --label "spec-arm64-stress" \
    | tee "$build/spec3.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
# Cross-ISA stress: each call's first stop is snapshotted on one ISA,
# sent to a spec-runner of the other ISA (--peer) that restores it,
# finishes the call there and sends the instance back by snapshot.
host_runner=$(cd "${build%/arm64}" 2>/dev/null && pwd)/spec-runner
if [ -x "$host_runner" ]; then
    echo "== spec tests, cross-ISA stress: stopped on x86-64, finished on ARM64"
    SPEC_WRAP= SPEC_RESULTS="$build/spec-results-x2a.tsv" bash test/spec.sh "${build%/arm64}" --stress 1 \
        --stress-peer "qemu-aarch64 $(pwd)/$build/spec-runner" --label "spec-stress-x86-to-arm64" \
        | tee "$build/spec4.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
    echo "== spec tests, cross-ISA stress: stopped on ARM64, finished on x86-64"
    SPEC_RESULTS="$build/spec-results-a2x.tsv" bash test/spec.sh "$build" --stress 1 \
        --stress-peer "$host_runner" --label "spec-stress-arm64-to-x86" \
        | tee "$build/spec5.log" | grep -v '\.wast  *[0-9]* passed, 0 failed'
else
    echo "skip cross-ISA stress: needs the x86-64 spec-runner (make test)"
    echo "spec-stress-x86-to-arm64: 0 passed, 0 failed, 1 skipped" > "$build/spec4.log"
    echo "spec-stress-arm64-to-x86: 0 passed, 0 failed, 1 skipped" > "$build/spec5.log"
fi
# cross compilation: objects the x86-64 build wrote for arm64 run here
# unchanged, and the other way round
echo "== cross compilation (objects for the other ISA)"
host=${build%/arm64}
cp=0 cf=0 cs=0
hello=$host/cli/hello.wasm
if [ -x "$host/gate" ] && [ -s "$hello" ] && [ -x "$host/cli/hello.native" ]; then
    "$host/cli/hello.native" 20000 > "$build/hello.want"
    if "$host/gate" compile --target arm64 "$hello" -o "$build/hello-arm.gobj" > /dev/null &&
       qemu-aarch64 "$build/gate" run "$build/hello-arm.gobj" 20000 > "$build/hello-arm.out" &&
       cmp -s "$build/hello.want" "$build/hello-arm.out"; then
        echo "ok   x86-64 gate compile --target arm64: the object runs in the aarch64 build, same output"
        cp=$((cp + 1))
    else
        echo "FAIL x86-64 gate compile --target arm64: object run under qemu"
        cf=$((cf + 1))
    fi
    if qemu-aarch64 "$build/gate" compile --target x86_64 "$hello" -o "$build/hello-x86.gobj" > /dev/null &&
       "$host/gate" run "$build/hello-x86.gobj" 20000 > "$build/hello-x86.out" &&
       cmp -s "$build/hello.want" "$build/hello-x86.out"; then
        echo "ok   aarch64 gate compile --target x86_64: the object runs in the x86-64 build, same output"
        cp=$((cp + 1))
    else
        echo "FAIL aarch64 gate compile --target x86_64: object run natively"
        cf=$((cf + 1))
    fi
else
    echo "skip cross compilation: needs the x86-64 build's gate and its cli test programs (make test)"
    cs=1
fi
# the WASI test and the test programs give the same results as on x86-64
echo "== WASI and test programs (aarch64 gate under qemu vs the x86-64 results)"
cli=$host/cli
if [ -s "$cli/recurse.wasm" ]; then
    # qemu-user 7.2 has no openat2: the sandbox resolves paths component
    # by component there (as on kernels before 5.6)
    sb=$build/sandbox
    rm -rf "$sb" "$build/made"; mkdir -p "$sb"; ln -s /etc "$sb/link"
    qemu-aarch64 "$build/gate" run --dir "$sb::sandbox" --env GATE_TEST=yes "$cli/wasi_test.wasm" \
        one "two words" > "$build/wasi.out" 2> "$build/wasi.err"; rc=$?
    if [ $rc -eq 7 ] && cmp -s test/wasi/wasi_test.expected "$build/wasi.out"; then
        echo "ok   wasi_test.c: the same output and exit status as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL wasi_test.c (status $rc)"; diff test/wasi/wasi_test.expected "$build/wasi.out" | head
        cf=$((cf + 1))
    fi
    args=$(bash test/wasi/paths-tree.sh "$build/ptree")
    # shellcheck disable=SC2086
    qemu-aarch64 "$build/gate" run --dir "$build/ptree/sb::sandbox" "$cli/paths.wasm" $args \
        > "$build/paths.out" 2>&1
    if cmp -s test/wasi/paths.expected "$build/paths.out" && [ ! -e "$build/ptree/outside/new" ]; then
        echo "ok   paths.c: path resolution beneath the sandbox as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL paths.c"; diff test/wasi/paths.expected "$build/paths.out" | head; cf=$((cf + 1))
    fi
    rm -rf "$build/dd"; mkdir -p "$build/dd"
    qemu-aarch64 "$build/gate" run --dir "$build/dd::data" "$cli/dirs.wasm" > "$build/dd.out" 2>&1
    if cmp -s test/wasi/dirs.expected "$build/dd.out"; then
        echo "ok   dirs.c: directories and trailing slashes as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL dirs.c"; diff test/wasi/dirs.expected "$build/dd.out" | head; cf=$((cf + 1))
    fi
    rm -rf "$build/rr"; mkdir -p "$build/rr"
    qemu-aarch64 "$build/gate" run --dir "$build/rr::data" "$cli/rights.wasm" > "$build/rr.out" 2>&1
    if cmp -s test/wasi/rights.expected "$build/rr.out"; then
        echo "ok   rights.c: the rights model as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL rights.c"; diff test/wasi/rights.expected "$build/rr.out" | head; cf=$((cf + 1))
    fi
    rm -rf "$build/pp"; mkdir -p "$build/pp"
    (sleep 0.5; echo hi; sleep 1) | qemu-aarch64 "$build/gate" run --dir "$build/pp::data" \
        "$cli/polling.wasm" > "$build/pp.out" 2>&1
    if cmp -s test/wasi/polling.expected "$build/pp.out"; then
        echo "ok   polling.c: poll_oneoff on descriptors as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL polling.c"; diff test/wasi/polling.expected "$build/pp.out" | head; cf=$((cf + 1))
    fi
    # a socket preopened with --tcplisten, one connection answered
    reply="" rc=1
    for try in 1 2 3 4 5; do
        port=$((20000 + (RANDOM % 20000)))
        qemu-aarch64 "$build/gate" run --tcplisten "127.0.0.1:$port" "$cli/echo.wasm" \
            > "$build/echo.out" 2> "$build/echo.err" & pid=$!
        for k in $(seq 1 300); do
            if exec 5<>"/dev/tcp/127.0.0.1/$port"; then
                echo "hello there" >&5; read -r reply <&5; exec 5>&-; break
            fi 2>/dev/null
            kill -0 $pid 2>/dev/null || break
            sleep 0.1
        done
        wait $pid; rc=$?
        grep -q "Address already in use" "$build/echo.err" || break
    done
    if [ $rc -eq 0 ] && [ "$reply" = "HELLO THERE" ] && cmp -s test/wasi/echo.expected "$build/echo.out"; then
        echo "ok   echo.c: sockets as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL echo.c (status $rc, reply '$reply')"; diff test/wasi/echo.expected "$build/echo.out" | head
        cf=$((cf + 1))
    fi
    rm -rf "$build/fo"; mkdir -p "$build/fo"
    qemu-aarch64 "$build/gate" run --dir "$build/fo::data" "$cli/fileops.wasm" \
        > "$build/fo.out" 2> "$build/fo.err"; rc=$?
    if [ $rc -eq 0 ] && cmp -s test/wasi/fileops.expected "$build/fo.out" &&
       grep -qx 'still to the file' "$build/fo/spare"; then
        echo "ok   fileops.c: pread/pwrite, links, times and renumbering as on x86-64"; cp=$((cp + 1))
    else
        echo "FAIL fileops.c (status $rc)"; diff test/wasi/fileops.expected "$build/fo.out" | head
        cf=$((cf + 1))
    fi
    for mode in a b; do
        for isa in x86 arm; do
            rm -rf "$build/data"; mkdir -p "$build/data"
            printf 'one\ntwo\nthree\n' > "$build/data/input.txt"; touch "$build/data/zzz" "$build/data/aaa"
            printf 'some input\nfor the program\n' > "$build/stdin.txt"
            if [ $isa = x86 ]; then g=("$host/gate"); else g=(qemu-aarch64 "$build/gate"); fi
            "${g[@]}" run --dir "$build/data::data" --env MODE=$mode "$cli/programs.wasm" x "y z" \
                < "$build/stdin.txt" > "$build/programs-$isa.out" 2>&1
            echo "status $?" >> "$build/programs-$isa.out"
        done
        if cmp -s "$build/programs-x86.out" "$build/programs-arm.out"; then
            echo "ok   programs.c ($mode): the same output and exit status as on x86-64"; cp=$((cp + 1))
        else
            echo "FAIL programs.c ($mode) differs"
            diff "$build/programs-x86.out" "$build/programs-arm.out" | head; cf=$((cf + 1))
        fi
    done
    for p in recurse fpkern membound funcptr; do
        [ -s "$cli/$p.wasm" ] || continue
        "$host/gate" run "$cli/$p.wasm" 1 > "$build/$p-x86.out" 2>&1
        qemu-aarch64 "$build/gate" run "$cli/$p.wasm" 1 > "$build/$p-arm.out" 2>&1
        if cmp -s "$build/$p-x86.out" "$build/$p-arm.out"; then
            echo "ok   bench/programs/$p.c: same output as on x86-64"; cp=$((cp + 1))
        else
            echo "FAIL bench/programs/$p.c differs"; cf=$((cf + 1))
        fi
    done
    if [ -s "$cli/simd.wasm" ] && [ -s "$cli/simdnan.wasm" ]; then
        qemu-aarch64 "$build/gate" run "$cli/simd.wasm" > "$build/simd.out" 2>&1
        if cmp -s test/wasi/simd.expected "$build/simd.out"; then
            echo "ok   simd.c (v128 code): the same output as on x86-64"; cp=$((cp + 1))
        else
            echo "FAIL simd.c on ARM64 differs"; diff test/wasi/simd.expected "$build/simd.out" | head; cf=$((cf + 1))
        fi
        qemu-aarch64 "$build/gate" run --deterministic "$cli/simdnan.wasm" > "$build/simdnan.out" 2>&1
        if cmp -s test/wasi/simdnan.expected "$build/simdnan.out"; then
            echo "ok   simdnan.c --deterministic: the same v128 NaN bits as on x86-64"; cp=$((cp + 1))
        else
            echo "FAIL simdnan.c --deterministic differs"; diff test/wasi/simdnan.expected "$build/simdnan.out" | head; cf=$((cf + 1))
        fi
    fi
    if [ -s "$cli/nanbits.wasm" ]; then
        qemu-aarch64 "$build/gate" run --deterministic "$cli/nanbits.wasm" 0 > "$build/nan.out" 2>&1
        if cmp -s test/wasi/nanbits.expected "$build/nan.out"; then
            echo "ok   nanbits.c --deterministic: the same NaN bits as on x86-64"; cp=$((cp + 1))
        else
            echo "FAIL nanbits.c --deterministic differs"; diff test/wasi/nanbits.expected "$build/nan.out" | head
            cf=$((cf + 1))
        fi
    fi
else
    echo "skip WASI and test programs: needs the x86-64 cli test build (make test)"
    cs=$((cs + 1))
fi
echo "cross: $cp passed, $cf failed, $cs skipped" > "$build/cross.log"
num() { sed -n "s/.* \([0-9][0-9]*\) $1.*/\1/p" <<<"$2"; }
tp=0 tf=0 ts=$skipped
# random modules against wabt's interpreter: on ARM64 (plain, explicit
# bounds + fuel + deterministic, stress), then stopped on x86-64 and
# finished on ARM64
echo "== random modules against wabt's interpreter (aarch64, qemu; seeds 1-${DIFF_SEEDS:-1000})"
bash test/fuzz/difftest.sh "$build" 1 "${DIFF_SEEDS:-1000}" --all-modes > "$build/difftest.log" 2>&1
tail -4 "$build/difftest.log"
if [ -x "$host_runner" ]; then
    SPEC_WRAP= bash test/fuzz/difftest.sh "${build%/arm64}" 1 "${DIFF_SEEDS:-1000}" --stress 1 \
        --stress-peer "qemu-aarch64 $(pwd)/$build/spec-runner" 2>&1 | tail -1 | \
        sed 's/^[a-z-]*:/difftest-x86-to-arm64:/' | tee "$build/difftest2.log"
else
    echo "difftest-x86-to-arm64: 0 passed, 0 failed, 1 skipped (needs the x86-64 spec-runner)" > "$build/difftest2.log"
fi
echo "== untrusted snapshots, objects and outputs (aarch64, qemu)"
bash test/attacks.sh "$build" | tee "$build/attacks.log" | grep -v '^ok '
echo "== adversarial compile shapes (aarch64, qemu)"
bash test/shapes.sh "$build" | tee "$build/shapes.log" | grep -v '^ok '
echo "== a world saved on one ISA and resumed on the other, in turns (test/world.sh)"
if [ -x "$host/gate" ]; then
    bash test/world.sh "$host" "$build" | tee "$build/world.log" | grep -v '^ok '
else
    echo "world: 0 passed, 0 failed, 1 skipped (needs the x86-64 gate)" > "$build/world.log"
fi
echo "== zygotes made on one ISA and forked on the other (test/zygote.sh)"
if [ -x "$host/gate" ]; then
    bash test/zygote.sh "$host" "$build" | tee "$build/zygote.log" | grep -v '^ok '
else
    echo "zygote: 0 passed, 0 failed, 1 skipped (needs the x86-64 gate)" > "$build/zygote.log"
fi
echo "== resources reattached, lost or kept suspended across ISAs (test/resources.sh)"
if [ -x "$host/gate" ]; then
    bash test/resources.sh "$host" "$build" | tee "$build/resources.log" | grep -v '^ok '
else
    echo "resources: 0 passed, 0 failed, 1 skipped (needs the x86-64 gate)" > "$build/resources.log"
fi
echo "== a document that carries its program, moved between ISAs in a terminal (test/document.sh)"
if [ -x "$host/examples/doc" ]; then
    bash test/document.sh "$host" "$build" | tee "$build/document.log" | grep -v '^ok '
else
    echo "document: 0 passed, 0 failed, 1 skipped (needs the x86-64 examples)" > "$build/document.log"
fi
echo "== a game engine's scripts: frames, save games across ISAs (test/game.sh)"
if [ -x "$host/examples/engine" ]; then
    bash test/game.sh "$host" "$build" | tee "$build/game.log" | grep -v '^ok '
else
    echo "game: 0 passed, 0 failed, 1 skipped (needs the x86-64 examples)" > "$build/game.log"
fi
echo "== the C++ host (examples/host.cpp, aarch64 g++), under qemu"
if qemu-aarch64 "$build/examples/host-cpp" "$build/examples/guest.wasm" > "$build/host-cpp.out" 2>&1 &&
   cmp -s examples/host.expected "$build/host-cpp.out"; then
    echo "cpphost: 1 passed, 0 failed" > "$build/cpphost.log"
else
    echo "FAIL examples/host.cpp on aarch64: $(diff examples/host.expected "$build/host-cpp.out" | head -3)"
    echo "cpphost: 0 passed, 1 failed" > "$build/cpphost.log"
fi
echo "== migration between x86-64 and ARM64"
bash test/migrate.sh "$host" "$build" | tee "$build/migrate.log"
for log in unit spec spec2 spec3 spec4 spec5 cross difftest difftest2 attacks shapes world zygote resources document game cpphost migrate; do
    line=$(tail -1 "$build/$log.log")
    p=$(num passed "$line") f=$(num failed "$line") s=$(num skipped "$line")
    tp=$((tp + ${p:-0})) tf=$((tf + ${f:-1})) ts=$((ts + ${s:-0}))
done
echo "arm64: $tp passed, $tf failed, $ts skipped"
[ $tf -eq 0 ]
