/* unit_run.c - running compiled code: traps reach the C caller and the
   instance keeps working; safe-point and trap maps are as designed. */
#include "unit.h"
#include "../runtime/runtime.h"
#include "data/run_wasm.h"
#include "data/caller_wasm.h"
#include "data/deadparams_wasm.h"

typedef struct env {
    gate_engine *eng;
    gate_module *mod;
    gate_instance *inst;
} env;

static int setup_mode(void **state, gate_bounds_mode bounds)
{
    static env e;
    gate_error err;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.bounds = bounds;
    e.eng = gate_engine_new(&cfg, &err);
    e.mod = e.eng ? gate_module_new(e.eng, run_wasm, sizeof run_wasm, &err) : NULL;
    e.inst = e.mod ? gate_instance_new(e.mod, NULL, NULL, &err) : NULL;
    *state = &e;
    return e.inst ? 0 : -1;
}

static int setup_guard(void **state)
{
    return setup_mode(state, GATE_BOUNDS_GUARD);
}

static int setup_explicit(void **state)
{
    return setup_mode(state, GATE_BOUNDS_EXPLICIT);
}

static int teardown(void **state)
{
    env *e = *state;
    gate_instance_free(e->inst);
    gate_module_free(e->mod);
    gate_engine_free(e->eng);
    return 0;
}

/* cmocka installs its own fault handlers right before each test function:
   every test puts libgate's back on top first (they chain to cmocka's for
   faults outside wasm code). */

static gate_status call1(gate_instance *in, const char *name, int32_t a, gate_val *r,
                         gate_error *err)
{
    gate_val v = { .type = GATE_I32, .of.i32 = a };
    return gate_call(in, name, &v, 1, r, 1, err);
}

static int32_t add(gate_instance *in, int32_t a, int32_t b)
{
    gate_val v[2] = { { .type = GATE_I32, .of.i32 = a }, { .type = GATE_I32, .of.i32 = b } };
    gate_val r;
    gate_error err;
    assert_int_equal(gate_call(in, "add", v, 2, &r, 1, &err), GATE_OK);
    return r.of.i32;
}

static void trap_in_deep_recursion(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_val r;
    gate_error err;
    gate_trap_info ti;
    assert_int_equal(call1(e->inst, "depth", 20000, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, 20000);
    assert_int_equal(call1(e->inst, "deep", 20000, &r, &err), GATE_TRAPPED);
    gate_trap_info_get(e->inst, &ti);
    assert_int_equal(ti.code, GATE_TRAP_UNREACHABLE);
    assert_true(ti.wasm_offset > 0 && ti.wasm_offset < sizeof run_wasm);
    assert_int_equal(run_wasm[ti.wasm_offset], 0x00);     /* the unreachable opcode */
    assert_non_null(strstr(err.message, "unreachable"));
    /* the same instance keeps working, many times over */
    for (int i = 0; i < 1000; i++) {
        assert_int_equal(call1(e->inst, "deep", i % 50, &r, &err), GATE_TRAPPED);
        assert_int_equal(add(e->inst, i, 1), i + 1);
    }
}

static void out_of_bounds_at_the_edge(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_val r;
    gate_error err;
    gate_trap_info ti;
    gate_val st[2] = { { .type = GATE_I32, .of.i32 = 65532 },
                       { .type = GATE_I32, .of.i32 = 0x12345678 } };
    assert_int_equal(gate_call(e->inst, "store32", st, 2, NULL, 0, &err), GATE_OK);
    assert_int_equal(call1(e->inst, "load32", 65532, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, 0x12345678);
    assert_int_equal(call1(e->inst, "load8", 65535, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, 0x12);
    /* one byte past the end, on every width */
    assert_int_equal(call1(e->inst, "load32", 65533, &r, &err), GATE_TRAPPED);
    gate_trap_info_get(e->inst, &ti);
    assert_int_equal(ti.code, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
    assert_int_equal(run_wasm[ti.wasm_offset], 0x28);      /* i32.load */
    assert_int_equal(call1(e->inst, "load8", 65536, &r, &err), GATE_TRAPPED);
    assert_int_equal(call1(e->inst, "load8", -1, &r, &err), GATE_TRAPPED);
    /* address + offset beyond 4 GiB lands in the guard region */
    assert_int_equal(call1(e->inst, "load_far", -1, &r, &err), GATE_TRAPPED);
    gate_trap_info_get(e->inst, &ti);
    assert_int_equal(ti.code, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* grow by one page: the old edge is now inside */
    assert_int_equal(call1(e->inst, "grow", 1, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, 1);
    assert_int_equal(call1(e->inst, "load32", 65533, &r, &err), GATE_OK);
    assert_int_equal(call1(e->inst, "load32", 131069, &r, &err), GATE_TRAPPED);
    /* past the declared maximum of 4 pages, grow fails with -1 */
    assert_int_equal(call1(e->inst, "grow", 3, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, -1);
    uint64_t size;
    assert_non_null(gate_memory_data(e->inst, &size));
    assert_int_equal(size, 2 * 65536);
}

static void stack_exhaustion(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_val r;
    gate_error err;
    gate_trap_info ti;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(gate_call(e->inst, "runaway", NULL, 0, &r, 1, &err), GATE_TRAPPED);
        gate_trap_info_get(e->inst, &ti);
        assert_int_equal(ti.code, GATE_TRAP_STACK_EXHAUSTED);
        assert_int_equal(add(e->inst, 40, 2), 42);
        assert_int_equal(call1(e->inst, "depth", 1000, &r, &err), GATE_OK);
    }
    /* and a new instance of the same module works too */
    gate_instance *fresh = gate_instance_new(e->mod, NULL, NULL, &err);
    assert_non_null(fresh);
    assert_int_equal(add(fresh, 1, 2), 3);
    assert_int_equal(call1(fresh, "load32", 65532, &r, &err), GATE_OK);
    assert_int_equal(r.of.i32, 0);                  /* its own, fresh memory */
    gate_instance_free(fresh);
}

static void arithmetic_traps(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_val v[2] = { { .type = GATE_I32, .of.i32 = 7 }, { .type = GATE_I32, .of.i32 = 0 } };
    gate_val r;
    gate_error err;
    gate_trap_info ti;
    assert_int_equal(gate_call(e->inst, "div", v, 2, &r, 1, &err), GATE_TRAPPED);
    gate_trap_info_get(e->inst, &ti);
    assert_int_equal(ti.code, GATE_TRAP_DIV_BY_ZERO);
    v[0].of.i32 = INT32_MIN;
    v[1].of.i32 = -1;
    assert_int_equal(gate_call(e->inst, "div", v, 2, &r, 1, &err), GATE_TRAPPED);
    gate_trap_info_get(e->inst, &ti);
    assert_int_equal(ti.code, GATE_TRAP_INT_OVERFLOW);
    v[0].of.i32 = -7;
    v[1].of.i32 = 2;
    assert_int_equal(gate_call(e->inst, "div", v, 2, &r, 1, &err), GATE_OK);
    assert_int_equal(r.of.i32, -3);
    /* bad calls from C are errors, not crashes */
    assert_int_equal(gate_call(e->inst, "div", v, 1, &r, 1, &err), GATE_ERR_ARG);
    assert_int_equal(gate_call(e->inst, "nope", v, 2, &r, 1, &err), GATE_ERR_ARG);
    v[0].type = GATE_I64;
    assert_int_equal(gate_call(e->inst, "div", v, 2, &r, 1, &err), GATE_ERR_ARG);
}

/*
 * The maps: every function entry, loop header, call and memory.grow has a
 * safe point keyed by its wasm offset, with locals + operand stack slots;
 * every load and store has a trap site.
 */
static void safepoint_and_trap_maps(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    const gd_module *m = &e->mod->info;
    const gc_code *code = &e->mod->code;
    uint32_t want_sp = 0, want_traps = 0, found;
    for (uint32_t f = m->nfunc_imports; f < m->nfuncs; f++) {
        gv_func v;
        gv_insn ins;
        gate_error err;
        assert_true(gv_begin(&v, m, &e->eng->alloc, &e->eng->lim, f, &err));
        uint32_t nlocals = v.nlocals;
        /* function entry: the params are in place, the stack is empty */
        found = 0;
        for (uint32_t i = 0; i < code->nsp; i++)
            if (code->sp[i].func == f && code->sp[i].wasm == m->funcs[f].body_off) {
                found++;
                assert_int_equal(code->sp[i].nslots, nlocals);
            }
        assert_int_equal(found, 1);
        want_sp++;
        while (gv_next(&v, &ins) > 0) {
            bool sp = ins.op == GOP_CALL || ins.op == GOP_LOOP || ins.op == GOP_MEMORY_GROW;
            bool mem = (ins.op >= GOP_I32_LOAD && ins.op <= GOP_I64_STORE32);
            if (sp) {
                found = 0;
                for (uint32_t i = 0; i < code->nsp; i++)
                    if (code->sp[i].func == f && code->sp[i].wasm == ins.offset) {
                        found++;
                        assert_true(code->sp[i].nslots >= nlocals);
                        assert_true(code->sp[i].native > 0 && code->sp[i].native <= code->size);
                    }
                assert_int_equal(found, 1);
                want_sp++;
            }
            if (mem) {
                found = 0;
                for (uint32_t i = 0; i < code->ntraps; i++)
                    if (code->traps[i].func == f && code->traps[i].wasm == ins.offset &&
                        code->traps[i].code == GATE_TRAP_MEMORY_OUT_OF_BOUNDS)
                        found++;
                assert_int_equal(found, 1);
                want_traps++;
            }
        }
        gv_end(&v);
    }
    assert_int_equal(code->nsp, want_sp);
    assert_true(code->ntraps >= want_traps);
    /* trap sites are sorted, so the signal handler can binary-search them */
    for (uint32_t i = 1; i < code->ntraps; i++)
        assert_true(code->traps[i - 1].native < code->traps[i].native);
    for (uint32_t i = 0; i < code->ntraps; i++)
        assert_ptr_equal(gc_find_trap(code, code->traps[i].native), &code->traps[i]);
}

static void loops_and_results(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_val r;
    gate_error err;
    assert_int_equal(call1(e->inst, "sum", 100000, &r, &err), GATE_OK);
    assert_int_equal(r.type, GATE_I64);
    assert_true(r.of.i64 == 4999950000LL);
}

/* A function longer than a conditional branch reaches on ARM64 (+-1 MiB):
   a forward br_if and an if's false edge over 1.2 MiB of code, a backward
   br_if to the loop header, and the loop's stop-check stubs at the end.
   The backend compiles it again with long branches; with fuel too. */
static size_t leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        p[n++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

/* An instance of module bytes w[0..n) in an engine of its own (fuel
   metering compiled in when fuel); the caller frees the instance, the
   module and the engine with free_built. */
static gate_instance *build(const uint8_t *w, size_t n, int fuel)
{
    gate_error err;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = fuel;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    assert_non_null(eng);
    gate_module *mod = gate_module_new(eng, w, n, &err);
    if (!mod)
        fail_msg("%s", err.message);
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &err);
    gate_module_free(mod);          /* the instance holds it */
    assert_non_null(in);
    return in;
}

static void free_built(gate_instance *in)
{
    gate_engine *eng = in->mod->eng;
    gate_instance_free(in);
    gate_engine_free(eng);
}

static void long_branches(void **state)
{
    (void)state;
    rt_signals_reinstall();
    enum { N = 100000 };
    static const uint8_t head[] = { 0x01, 0x01, 0x7f,                   /* local i32 */
        0x02, 0x40, 0x20, 0x00, 0x45, 0x0d, 0x00,                       /* block; br_if n==0 */
        0x03, 0x40, 0x20, 0x00, 0x41, 0x01, 0x71, 0x04, 0x40 };         /* loop; if n&1 */
    static const uint8_t step[] = { 0x20, 0x01, 0x41, 0x01, 0x6a, 0x21, 0x01 };  /* acc++ */
    static const uint8_t tail[] = { 0x0b,                               /* end if */
        0x20, 0x00, 0x41, 0x01, 0x6b, 0x22, 0x00, 0x0d, 0x00,           /* br_if --n */
        0x0b, 0x0b, 0x20, 0x01, 0x0b };                                 /* acc */
    size_t body = sizeof head + (size_t)N * sizeof step + sizeof tail;
    uint8_t *w = malloc(body + 64);
    assert_non_null(w);
    static const uint8_t pre[] = { 0, 'a', 's', 'm', 1, 0, 0, 0,
        0x01, 0x06, 0x01, 0x60, 0x01, 0x7f, 0x01, 0x7f,                 /* (i32) -> i32 */
        0x03, 0x02, 0x01, 0x00,
        0x07, 0x07, 0x01, 0x03, 'f', 'a', 'r', 0x00, 0x00 };
    size_t n = sizeof pre;
    memcpy(w, pre, n);
    uint8_t sz[5];
    size_t lb = leb(sz, (uint32_t)body);
    w[n++] = 0x0a;
    n += leb(w + n, (uint32_t)(1 + lb + body));
    w[n++] = 1;
    memcpy(w + n, sz, lb);
    n += lb;
    memcpy(w + n, head, sizeof head);
    n += sizeof head;
    for (int i = 0; i < N; i++, n += sizeof step)
        memcpy(w + n, step, sizeof step);
    memcpy(w + n, tail, sizeof tail);
    n += sizeof tail;
    for (int fuel = 0; fuel < 2; fuel++) {
        gate_error err;
        gate_instance *in = build(w, n, fuel);
        if (fuel)
            assert_int_equal(gate_set_fuel(in, 1000000), GATE_OK);
        gate_val r;
        assert_int_equal(call1(in, "far", 3, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 2 * N);
        assert_int_equal(call1(in, "far", 0, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 0);
        assert_int_equal(call1(in, "far", 4, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 2 * N);
        free_built(in);
    }
    free(w);
}

/* Module indices past what a scaled 12-bit offset reaches on ARM64
   (call_indirect of type 4999, global 4500): the far forms of the loads. */
static size_t sleb(uint8_t *p, int32_t v)
{
    size_t n = 0;
    for (;;) {
        uint8_t b = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(b & 0x40)) || (v == -1 && (b & 0x40))) {
            p[n++] = b;
            return n;
        }
        p[n++] = b | 0x80;
    }
}

static void section(uint8_t *w, size_t *n, uint8_t id, const uint8_t *body, size_t len)
{
    w[(*n)++] = id;
    *n += leb(w + *n, (uint32_t)len);
    memcpy(w + *n, body, len);
    *n += len;
}

static void far_indices(void **state)
{
    (void)state;
    rt_signals_reinstall();
    enum { NTYPES = 5000, NGLOBALS = 4600 };
    uint8_t *w = malloc(200000), *sec = malloc(100000);
    assert_non_null(w);
    assert_non_null(sec);
    static const uint8_t magic[] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    size_t n = sizeof magic, k = 0;
    memcpy(w, magic, n);
    k = leb(sec, NTYPES);
    for (int i = 0; i < NTYPES; i++) {                  /* () -> i32, many times */
        static const uint8_t t[] = { 0x60, 0x00, 0x01, 0x7f };
        memcpy(sec + k, t, sizeof t);
        k += sizeof t;
    }
    section(w, &n, 1, sec, k);
    k = 0;
    sec[k++] = 2;
    k += leb(sec + k, NTYPES - 1);                      /* func 0: type 4999 */
    sec[k++] = 0;                                       /* func 1: type 0 */
    section(w, &n, 3, sec, k);
    static const uint8_t table[] = { 1, 0x70, 0x00, 0x01 };
    section(w, &n, 4, table, sizeof table);
    k = leb(sec, NGLOBALS);
    for (int i = 0; i < NGLOBALS; i++) {                /* (mut i32) = i */
        sec[k++] = 0x7f;
        sec[k++] = 0x01;
        sec[k++] = 0x41;
        k += sleb(sec + k, i);
        sec[k++] = 0x0b;
    }
    section(w, &n, 6, sec, k);
    static const uint8_t exp[] = { 1, 2, 'c', 'i', 0x00, 1 };
    section(w, &n, 7, exp, sizeof exp);
    static const uint8_t elem[] = { 1, 0x00, 0x41, 0x00, 0x0b, 1, 0x00 };
    section(w, &n, 9, elem, sizeof elem);
    k = 0;
    sec[k++] = 2;
    static const uint8_t f0[] = { 4, 0, 0x41, 42, 0x0b };   /* 42 */
    memcpy(sec + k, f0, sizeof f0);
    k += sizeof f0;
    uint8_t f1[32];                                     /* call_indirect + global.get */
    size_t m = 0;
    f1[m++] = 0;
    f1[m++] = 0x41;
    f1[m++] = 0x00;
    f1[m++] = 0x11;
    m += leb(f1 + m, NTYPES - 1);
    f1[m++] = 0x00;
    f1[m++] = 0x23;
    m += leb(f1 + m, 4500);
    f1[m++] = 0x6a;
    f1[m++] = 0x24;                                     /* global.set 4501 (a copy) */
    m += leb(f1 + m, 4501);
    f1[m++] = 0x23;
    m += leb(f1 + m, 4501);
    f1[m++] = 0x0b;
    sec[k++] = (uint8_t)m;
    memcpy(sec + k, f1, m);
    k += m;
    section(w, &n, 10, sec, k);
    gate_error err;
    gate_instance *in = build(w, n, 0);
    gate_val r;
    assert_int_equal(gate_call(in, "ci", NULL, 0, &r, 1, &err), GATE_OK);
    assert_int_equal(r.of.i32, 42 + 4500);
    free_built(in);
    free(sec);
    free(w);
}

/* A call into another instance (imported, or through a table) runs with
   the callee's memory, and the caller's is back after the call. */
static void calls_into_another_instance_use_its_memory(void **state)
{
    env *e = *state;
    rt_signals_reinstall();
    gate_error err;
    gate_val st[2] = { { .type = GATE_I32, .of.i32 = 64 }, { .type = GATE_I32, .of.i32 = 42 } };
    assert_int_equal(gate_call(e->inst, "store32", st, 2, NULL, 0, &err), GATE_OK);
    gate_imports *imp = gate_imports_new(e->eng);
    assert_int_equal(gate_imports_instance(imp, "run", e->inst, &err), GATE_OK);
    gate_module *m = gate_module_new(e->eng, caller_wasm, sizeof caller_wasm, &err);
    assert_non_null(m);
    gate_instance *a = gate_instance_new(m, imp, NULL, &err);
    assert_non_null(a);
    gate_val r;
    for (int i = 0; i < 3; i++) {
        assert_int_equal(call1(a, "direct", 64, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 42);
        assert_int_equal(call1(a, "indirect", 64, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 42);
        assert_int_equal(call1(a, "own", 0, &r, &err), GATE_OK);
        assert_int_equal(r.of.i32, 0x07070707);
    }
    gate_instance_free(a);
    gate_module_free(m);
    gate_imports_free(imp);
}

/*
 * Blocks, loops and ifs with parameters in unreachable code must not take
 * the enclosing frames' values with them at their end (the results are
 * wabt's wasm-interp's on test/data/deadparams.wat; gate returned 287 for
 * 61, and crashed compiling after_br, before the fix), with and without
 * fuel metering; test/run-arm64.sh runs it on ARM64.
 */
static void dead_code_with_params(void **state)
{
    (void)state;
    static const struct { const char *name; int64_t want; } cases[] = {
        { "after_br", 61 }, { "after_br_table_0", 965 }, { "after_br_table_1", 965 },
        { "after_br_table_2", 965 }, { "after_return_0", 1 }, { "after_return_1", 86 },
        { "after_dead_end", 86 }, { "nested_dead", 154 }, { "after_unreachable_0", 108 },
    };
    for (int fuel = 0; fuel <= 1; fuel++) {
        rt_signals_reinstall();
        gate_instance *in = build(deadparams_wasm, sizeof deadparams_wasm, fuel);
        for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
            gate_val r;
            gate_error err;
            assert_int_equal(gate_call(in, cases[i].name, NULL, 0, &r, 1, &err), GATE_OK);
            int64_t got = r.type == GATE_I64 ? r.of.i64 : r.of.i32;
            if (got != cases[i].want)
                fail_msg("%s: %lld, want %lld", cases[i].name, (long long)got,
                         (long long)cases[i].want);
        }
        free_built(in);
    }
}

/* Table limits are one budget for all of an instance's tables: 100
   tables of 200,000 elements each are refused at instantiation (they
   used to reserve 8 GB), and table.grow stops at the budget. */
static void tables_share_one_budget(void **state)
{
    (void)state;
    mb m = { 0 }, p = { 0 };
    mb_header(&m);
    mb_u32(&p, 100);
    for (int i = 0; i < 100; i++) {
        mb_bytes(&p, "\x70\x00", 2);
        mb_u32(&p, 200000);
    }
    mb_section(&m, 4, &p);
    gate_error err;
    gate_engine *eng = gate_engine_new(NULL, &err);
    gate_module *mod = gate_module_new(eng, m.b, m.n, &err);
    assert_non_null(mod);
    assert_null(gate_instance_new(mod, NULL, NULL, &err));
    assert_int_equal(err.status, GATE_ERR_LIMIT);
    assert_non_null(strstr(err.message, "tables need 20000000 elements together"));
    gate_module_free(mod);
    /* (table 2 funcref) (table 3 funcref)
       (func (export "grow") (param i32 i32) (result i32)
         ref.null func local.get 1 table.grow (table index from param 0: 0 or 1) */
    static const uint8_t w[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        1, 7, 1, 0x60, 2, 0x7f, 0x7f, 1, 0x7f,
        3, 2, 1, 0,
        4, 7, 2, 0x70, 0, 2, 0x70, 0, 3,
        7, 8, 1, 4, 'g', 'r', 'o', 'w', 0, 0,
        10, 24, 1, 22, 0,
        0x20, 0, 0x04, 0x7f,                      /* local.get 0; if (result i32) */
        0xd0, 0x70, 0x20, 1, 0xfc, 15, 1,         /* ref.null; local.get 1; table.grow 1 */
        0x05, 0xd0, 0x70, 0x20, 1, 0xfc, 15, 0,   /* else ... table.grow 0 */
        0x0b, 0x0b,
    };
    mod = gate_module_new(eng, w, sizeof w, &err);
    if (!mod)
        fail_msg("%s", err.message);
    gate_limits lim = { .max_table_elems = 10 };
    gate_instance *in = gate_instance_new(mod, NULL, &lim, &err);
    assert_non_null(in);
    rt_signals_reinstall();
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 0 }, { .type = GATE_I32, .of.i32 = 4 } }, r;
    assert_int_equal(gate_call(in, "grow", a, 2, &r, 1, &err), GATE_OK);
    assert_int_equal(r.of.i32, 2);                /* table 0: 2 -> 6; 9 in all */
    a[0].of.i32 = 1;
    a[1].of.i32 = 2;
    assert_int_equal(gate_call(in, "grow", a, 2, &r, 1, &err), GATE_OK);
    assert_int_equal(r.of.i32, -1);               /* 11 would pass the budget of 10 */
    a[1].of.i32 = 1;
    assert_int_equal(gate_call(in, "grow", a, 2, &r, 1, &err), GATE_OK);
    assert_int_equal(r.of.i32, 3);                /* exactly 10 */
    gate_instance_free(in);
    gate_module_free(mod);
    gate_engine_free(eng);
    mb_free(&m);
    mb_free(&p);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trap_in_deep_recursion),
        cmocka_unit_test(out_of_bounds_at_the_edge),
        cmocka_unit_test(stack_exhaustion),
        cmocka_unit_test(arithmetic_traps),
        cmocka_unit_test(safepoint_and_trap_maps),
        cmocka_unit_test(loops_and_results),
        cmocka_unit_test(calls_into_another_instance_use_its_memory),
        cmocka_unit_test(long_branches),
        cmocka_unit_test(far_indices),
        cmocka_unit_test(dead_code_with_params),
        cmocka_unit_test(tables_share_one_budget),
    };
    int failed = cmocka_run_group_tests_name("run (guard pages)", tests, setup_guard, teardown);
    failed += cmocka_run_group_tests_name("run (explicit bounds checks)", tests, setup_explicit,
                                          teardown);
    return failed;
}
