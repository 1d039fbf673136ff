/*
 * shapes.c - adversarial modules for the compiler: shapes whose cost per
 * byte of input a careless single-pass compiler makes quadratic or
 * hundreds of times that of ordinary code.  Each is WebAssembly text
 * (wat2wasm turns it into a module) exporting `f` (param i32) (result
 * i32), and the first line says what f returns for each argument:
 *
 *   ;; f(0) = N  f(1) = M
 *
 *   shapes NAME [SCALE]      the module on stdout (SCALE 1: about 1 MB)
 *   shapes list              the names
 *   shapes deep              the deep recursion of the restore benchmark
 *
 * test/run-cli.sh compiles every shape for both ISAs and runs it (the
 * time limits there are hang guards); bench/run.sh measures how fast each
 * compiles against ordinary code (bench/results.md, "Adversarial shapes").
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static long scale = 1;

static void rep(const char *s, long n)
{
    for (long i = 0; i < n; i++)
        fputs(s, stdout);
}

/* type $r: 1000 i32 results; $p: 1000 i32 params and the same results */
static void many_types(int n)
{
    printf("  (type $r (func (result");
    rep(" i32", n);
    printf(")))\n  (type $p (func (param");
    rep(" i32", n);
    printf(") (result");
    rep(" i32", n);
    printf(")))\n");
}

/* 1000 constants 0..999 (their sum 499500) */
static void consts(int n)
{
    for (int i = 0; i < n; i++)
        printf("    i32.const %d\n", i);
}

static long sum_to(long n) { return n * (n - 1) / 2; }

/* Values live across loops: every loop header is a merge point, so a
   compiler that writes back its whole register cache there does
   values x loops work. */
static void wide(void)
{
    long v = 300000 * scale, l = 4000 * scale;
    printf(";; f(0) = %ld  f(1) = %ld\n(module (func (export \"f\") (param i32) (result i32)\n", v, v);
    rep("    i32.const 1\n", v);
    rep("    (loop)\n", l);
    rep("    i32.add\n", v - 1);
    printf("))\n");
}

/* br_if, 4 bytes each, to a label of 1000 results that lie one value
   above the label's height: each one moves 1000 values. */
static void brif_results(void)
{
    long k = 200000 * scale;
    printf(";; f(0) = %ld  f(1) = %ld\n(module\n", sum_to(1000), sum_to(1000));
    many_types(1000);
    printf("  (func (export \"f\") (param i32) (result i32)\n    block (type $r)\n    i32.const 7\n");
    consts(1000);
    rep("    local.get 0 br_if 0\n", k);
    printf("    br 0 end\n");
    rep("    i32.add\n", 999);
    printf("))\n");
}

/* One br_table in each of many functions, to 1000 nested labels of 1000
   results each: a stub per target that moves every value is a million
   moves from 10 KB. */
static void brtable_results(void)
{
    long nf = 40 * scale;
    int d = 1000;
    printf(";; f(0) = %ld  f(1) = %ld\n(module\n", sum_to(1000), sum_to(1000));
    many_types(1000);
    for (long f = 0; f < nf; f++) {
        printf("  (func $g%ld (param i32) (result i32)\n", f);
        rep("    block (type $r)\n", d);
        printf("    i32.const 7\n");
        consts(1000);
        printf("    local.get 0 br_table");
        for (int i = 0; i < d; i++)
            printf(" %d", (i * 7 + (int)f) % d);
        printf(" 0\n");
        rep("    end\n", d);
        rep("    i32.add\n", 999);
        printf("  )\n");
    }
    printf("  (func (export \"f\") (param i32) (result i32) local.get 0 call $g%ld))\n", nf - 1);
}

/* Branch to the function's own label (a return) with 1000 results, from
   under one extra value, many times. */
static void return_results(void)
{
    long k = 200000 * scale;
    printf(";; f(0) = %ld  f(1) = %ld\n(module\n", sum_to(1000), sum_to(1000));
    many_types(1000);
    printf("  (func $g (type $r)\n    i32.const 7\n");
    consts(1000);
    rep("    i32.const 1 br_if 0\n", k);   /* depth 0: the function */
    printf("    return)\n");
    printf("  (func $h (type $r) (block (type $r) (call $g)))\n");
    printf("  (func (export \"f\") (param i32) (result i32) call $h\n");
    rep("    i32.add\n", 999);
    printf("  ))\n");
}

/* Calls of a function of 1000 parameters and 1000 results, 3 bytes each. */
static void call_many(void)
{
    long k = 100000 * scale;
    printf(";; f(0) = %ld  f(1) = %ld\n(module\n", sum_to(1000), sum_to(1000));
    many_types(1000);
    printf("  (func $id (type $p)\n");
    for (int i = 0; i < 1000; i++)
        printf("    local.get %d\n", i);
    printf("  )\n  (func (export \"f\") (param i32) (result i32)\n");
    consts(1000);
    rep("    call $id\n", k);
    rep("    i32.add\n", 999);
    printf("  ))\n");
}

/* 10,000 nested blocks (the nesting limit) around 100,000 br_tables: a
   compiler that sizes anything by the nesting depth per br_table does
   10^9 steps. */
static void deep_brtable(void)
{
    long d = 9990, k = 100000 * scale;
    printf(";; f(0) = 3  f(1) = 3\n(module (func (export \"f\") (param i32) (result i32)\n");
    rep("    block\n", d);
    rep("    block local.get 0 br_table 0 0 end\n", k);
    rep("    end\n", d);
    printf("    i32.const 3))\n");
}

/* 1000 locals read early and kept on the stack under 250,000 values, then
   100,000 local.sets: a compiler that looks through the whole stack for
   pending reads at each local.set does 10^10 steps. */
static void local_sets(void)
{
    long n = 250000 * scale, k = 100000 * scale;
    int nl = 1000;
    /* locals start 0 (f's argument is 0 or 1 and local 0 is the argument);
       the sum: the argument + n ones */
    printf(";; f(0) = %ld  f(1) = %ld\n(module (func (export \"f\") (param i32) (result i32)\n",
           n, n + 1);
    printf("    (local");
    rep(" i32", nl - 1);
    printf(")\n");
    for (int i = 0; i < nl; i++)
        printf("    local.get %d\n", i);
    rep("    i32.const 1\n", n);
    for (long i = 0; i < k; i++)
        printf("    i32.const %ld local.set %ld\n", i, 1 + i % (nl - 1));
    rep("    i32.add\n", n + nl - 1);
    printf("))\n");
}

/* if/else nested to the limit, each arm a constant or the next level. */
static void nested_ifs(void)
{
    long d = 9990, nf = 20 * scale;
    printf(";; f(0) = %ld  f(1) = 3\n(module\n", 2 * d);
    for (long f = 0; f < nf; f++) {
        printf("  (func $g%ld (param i32) (result i32)\n", f);
        /* f(0): every level takes else (+2); f(1): the first then (+1) */
        for (long i = 0; i < d; i++)
            printf("    i32.const 2 local.get 0 if (param i32) (result i32) i32.const 1 i32.add local.get 0 br_if 0 else\n");
        printf("    i32.const 0\n");
        rep("    i32.add end\n", d);
        printf("  )\n");
    }
    printf("  (func (export \"f\") (param i32) (result i32) local.get 0 call $g%ld))\n", nf - 1);
}

/* 50,000 small functions in a table. */
static void many_funcs(void)
{
    long n = 50000 * scale;
    printf(";; f(0) = %ld  f(1) = %ld\n(module (type $t (func (param i32) (result i32)))\n"
           "  (table %ld funcref)\n", n - 1, n, n);
    for (long i = 0; i < n; i++)
        printf("  (func $f%ld (param i32) (result i32) local.get 0 i32.const %ld i32.add)\n", i, i);
    printf("  (elem (i32.const 0) func");
    for (long i = 0; i < n; i++)
        printf(" $f%ld", i);
    printf(")\n  (func (export \"f\") (param i32) (result i32)\n"
           "    local.get 0 i32.const %ld call_indirect (type $t)))\n", n - 1);
}

/* One br_table of 65,520 targets (the limit) over 100 labels, repeated. */
static void big_brtable(void)
{
    long nf = 15 * scale;
    int d = 100, n = 65520;
    printf(";; f(0) = 0  f(1) = 1\n(module\n");
    for (long f = 0; f < nf; f++) {
        printf("  (func $g%ld (param i32) (result i32)\n", f);
        rep("    block\n", d);
        printf("    local.get 0 br_table");
        for (int i = 0; i < n; i++)
            printf(" %d", i % d);
        printf(" 0\n");
        /* label k lands after k+1 ends: f(0) goes to depth 0, f(1) to 1 */
        printf("    end i32.const 0 return\n    end i32.const 1 return\n");
        rep("    end\n", d - 2);
        printf("    i32.const 2)\n");
    }
    printf("  (func (export \"f\") (param i32) (result i32) local.get 0 call $g%ld))\n", nf - 1);
}

/* Not a compile shape: the deep stack of `make bench`'s restore timing
   (and test/run-cli.sh's 100,001 frames), a recursion of a 450 KB function
   whose bottom frame spins until it is stopped: rec(n). */
static void deep(void)
{
    printf("(module (func $rec (export \"rec\") (param $n i32) (result i32)\n");
    rep("    i32.const 7 drop\n", 150000);
    printf("    local.get $n i32.eqz\n"
           "    if (result i32) (loop $l (br $l)) i32.const 0\n"
           "    else local.get $n i32.const 1 i32.sub call $rec i32.const 1 i32.add end))\n");
}

static const struct { const char *name; void (*fn)(void); } shapes[] = {
    { "wide", wide },
    { "brif_results", brif_results },
    { "brtable_results", brtable_results },
    { "return_results", return_results },
    { "call_many", call_many },
    { "deep_brtable", deep_brtable },
    { "local_sets", local_sets },
    { "nested_ifs", nested_ifs },
    { "many_funcs", many_funcs },
    { "big_brtable", big_brtable },
};

int main(int argc, char **argv)
{
    if (argc < 2 || argc > 3) {
        fprintf(stderr, "usage: shapes NAME [SCALE] | shapes list\n");
        return 2;
    }
    if (argc == 3) {
        char *end;
        scale = strtol(argv[2], &end, 10);
        if (*end || scale < 1 || scale > 100) {
            fprintf(stderr, "shapes: SCALE must be 1..100\n");
            return 2;
        }
    }
    if (!strcmp(argv[1], "deep")) {
        deep();
        return fflush(stdout) ? 1 : 0;
    }
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++) {
        if (!strcmp(argv[1], "list")) {
            puts(shapes[i].name);
            continue;
        }
        if (!strcmp(argv[1], shapes[i].name)) {
            shapes[i].fn();
            return fflush(stdout) ? 1 : 0;
        }
    }
    if (!strcmp(argv[1], "list"))
        return 0;
    fprintf(stderr, "shapes: no shape named %s (shapes list)\n", argv[1]);
    return 2;
}
