/* unit_api.c - the public API around modules, the allocator hook, and the
   validator iterator that the compiler drives. */
#include "unit.h"
#include "../runtime/runtime.h"
#include "data/small_wasm.h"

/* An allocator that tracks live bytes and can fail after `budget` calls. */
typedef struct tracker {
    long live_bytes, calls, budget;
} tracker;

static void *track(void *ud, void *p, size_t osize, size_t nsize)
{
    tracker *t = ud;
    if (nsize == 0) {
        if (p)
            t->live_bytes -= (long)osize;
        free(p);
        return NULL;
    }
    if (t->budget >= 0 && t->calls >= t->budget)
        return NULL;
    t->calls++;
    void *n = realloc(p, nsize);
    if (n)
        t->live_bytes += (long)nsize - (long)(p ? osize : 0);
    return n;
}

static void allocator_hook_balances(void **state)
{
    (void)state;
    tracker t = { 0, 0, -1 };
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.alloc = track;
    cfg.alloc_ud = &t;
    gate_error e;
    gate_engine *eng = gate_engine_new(&cfg, &e);
    assert_non_null(eng);
    gate_module *mod = gate_module_new(eng, small_wasm, sizeof small_wasm, &e);
    assert_non_null(mod);
    assert_true(t.live_bytes > 0);
    gate_module_free(mod);
    gate_engine_free(eng);
    assert_int_equal(t.live_bytes, 0);
}

static void allocation_failures_are_clean(void **state)
{
    (void)state;
    int succeeded = 0;
    for (long budget = 0; budget < 64 && !succeeded; budget++) {
        tracker t = { 0, 0, budget };
        gate_config cfg;
        gate_config_init(&cfg);
        cfg.alloc = track;
        cfg.alloc_ud = &t;
        gate_error e;
        gate_engine *eng = gate_engine_new(&cfg, &e);
        if (!eng) {
            assert_int_equal(e.status, GATE_ERR_NOMEM);
            continue;
        }
        gate_module *mod = gate_module_new(eng, small_wasm, sizeof small_wasm, &e);
        if (mod) {
            succeeded = 1;
            gate_module_free(mod);
        } else {
            assert_int_equal(e.status, GATE_ERR_NOMEM);
        }
        gate_engine_free(eng);
        assert_int_equal(t.live_bytes, 0);
    }
    assert_true(succeeded);
}

static void imports_exports_hash(void **state)
{
    (void)state;
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_module *mod = gate_module_new(eng, small_wasm, sizeof small_wasm, &e);
    assert_non_null(mod);
    assert_int_equal(gate_module_import_count(mod), 2);
    assert_int_equal(gate_module_export_count(mod), 2);
    gate_extern_desc d;
    assert_int_equal(gate_module_import(mod, 1, &d), GATE_OK);
    assert_string_equal(d.module, "env");
    assert_string_equal(d.name, "g");
    assert_int_equal(d.kind, GATE_EXTERN_GLOBAL);
    assert_int_equal(d.type, GATE_I32);
    assert_int_equal(d.mutable_, 0);
    assert_int_equal(gate_module_export(mod, 1, &d), GATE_OK);
    assert_string_equal(d.name, "mem");
    assert_int_equal(d.kind, GATE_EXTERN_MEMORY);
    assert_int_equal(d.min, 1);
    assert_int_equal(d.max, 2);
    assert_int_equal(gate_module_export(mod, 2, &d), GATE_ERR_ARG);
    /* the hash is a pure function of the bytes */
    gate_module *again = gate_module_new(eng, small_wasm, sizeof small_wasm, &e);
    assert_true(gate_module_hash(mod) == gate_module_hash(again));
    gate_module_free(again);
    gate_module_free(mod);
    gate_engine_free(eng);
}

static void errors_format_and_planned(void **state)
{
    (void)state;
    gate_error e;
    char buf[300];
    gate_engine *eng = gate_engine_new(NULL, &e);
    assert_null(gate_module_new(eng, (const uint8_t *)"\0asm\2\0\0\0", 8, &e));
    assert_int_equal(e.status, GATE_ERR_MALFORMED);
    assert_string_equal(gate_error_format(&e, buf, sizeof buf),
                        "offset 0x4: malformed: unknown binary version 2");
    gate_module *mod = gate_module_new(eng, small_wasm, sizeof small_wasm, &e);
    /* small.wat uses SIMD, which both backends compile; it imports env.f */
    assert_null(gate_instance_new(mod, NULL, NULL, &e));
    assert_int_equal(e.status, GATE_ERR_UNLINKABLE);
    assert_non_null(strstr(e.message, "env.f"));
    assert_null(gate_instance_fork(NULL, &e));
    assert_int_equal(e.status, GATE_ERR_STATE);
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.target = (gate_target)7;
    assert_null(gate_engine_new(&cfg, &e));
    assert_int_equal(e.status, GATE_ERR_ARG);
    gate_module_free(mod);
    gate_engine_free(eng);
}

/* Walks func 2 of small.wat and checks what the compiler will see. */
static void iterator_exposes_types(void **state)
{
    (void)state;
    gate_error e = { 0 };
    gd_module m;
    gx_alloc a = { track, NULL };
    tracker t = { 0, 0, -1 };
    a.ud = &t;
    gd_limits_cfg lim;
    gd_limits_from_config(&lim, NULL);
    assert_true(gd_decode(&m, &a, small_wasm, sizeof small_wasm, &lim, &e));
    gv_func v;
    assert_true(gv_begin(&v, &m, &a, &lim, 2, &e));
    /* param i32, then locals i64 f32 f64 v128 */
    assert_int_equal(v.nlocals, 5);
    assert_int_equal(v.locals[0], GT_I32);
    assert_int_equal(v.locals[4], GT_V128);
    gv_insn ins;
    int saw_call = 0, saw_brtable = 0, n = 0;
    while (gv_next(&v, &ins) > 0) {
        n++;
        if (ins.op == GOP_CALL) {
            /* env.f: (i32 i64) -> i32, inside block $b */
            saw_call = 1;
            assert_int_equal(ins.imm.index, 0);
            assert_int_equal(v.nvals, 1);
            assert_int_equal(v.vals[0], GT_I32);
            assert_int_equal(v.nctrls, 2);
            assert_int_equal(v.ctrls[1].op, GOP_BLOCK);
            assert_int_equal(v.ctrls[1].nresults, 1);
        }
        if (ins.op == GOP_BR_TABLE) {
            saw_brtable = 1;
            assert_int_equal(ins.imm.brtable.count, 1);
            assert_int_equal(ins.imm.brtable.targets[0], 0);
            assert_int_equal(ins.imm.brtable.targets[1], 0);
            assert_true(v.ctrls[v.nctrls - 1].unreachable);
        }
        if (ins.op == GOP_V128_CONST) {
            /* i32x4 1 2 3 4, then 5 6 7 8, little-endian lanes */
            assert_int_equal(ins.imm.v128[4], ins.imm.v128[0] + 1);
            assert_int_equal(ins.imm.v128[1], 0);
        }
    }
    assert_true(v.done);
    assert_true(saw_call && saw_brtable);
    assert_int_equal(n, 22);
    assert_int_equal(v.maxvals, 3);
    assert_int_equal(v.maxctrls, 3);
    gv_end(&v);
    gd_module_free(&m);
    assert_int_equal(t.live_bytes, 0);
}

/* else and end carry the types of the frame they close, for the compiler */
static void end_carries_block_types(void **state)
{
    (void)state;
    gate_error e = { 0 };
    gd_module m;
    gx_alloc a = { track, NULL };
    tracker t = { 0, 0, -1 };
    a.ud = &t;
    gd_limits_cfg lim;
    gd_limits_from_config(&lim, NULL);
    /* (func (result i64) i32.const 1 if (result i64) i64.const 2 else
       i64.const 3 end) */
    mb mod = { 0 }, p = { 0 };
    mb_header(&mod);
    mb_bytes(&p, "\x01\x60\x00\x01\x7e", 5);
    mb_section(&mod, 1, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x00", 2);
    mb_section(&mod, 3, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x0c\x00\x41\x01\x04\x7e\x42\x02\x05\x42\x03\x0b\x0b", 14);
    mb_section(&mod, 10, &p);
    assert_true(gd_decode(&m, &a, mod.b, mod.n, &lim, &e));
    gv_func v;
    assert_true(gv_begin(&v, &m, &a, &lim, 0, &e));
    gv_insn ins;
    int ends = 0, elses = 0;
    while (gv_next(&v, &ins) > 0) {
        if (ins.op == GOP_ELSE || ins.op == GOP_END) {
            assert_int_equal(ins.imm.block.nparams, 0);
            assert_int_equal(ins.imm.block.nresults, 1);
            assert_int_equal(ins.imm.block.results[0], GT_I64);
            ends += ins.op == GOP_END;
            elses += ins.op == GOP_ELSE;
        }
    }
    assert_true(v.done);
    assert_int_equal(ends, 2);      /* the if's and the function's */
    assert_int_equal(elses, 1);
    gv_end(&v);
    gd_module_free(&m);
    mb_free(&mod);
    mb_free(&p);
    assert_int_equal(t.live_bytes, 0);
}

/* opcodes.def's lowering columns agree with the signatures: the width and
   the kind of value of every class, the access size of loads and stores,
   SIMD exactly the 0xfd prefix */
static void lowering_classes_match_signatures(void **state)
{
    (void)state;
    int classed = 0;
    for (unsigned op = 0; op < GOP_COUNT; op++) {
        const gop_info *oi = &gop_table[op];
        const char *sig = oi->sig;
        assert_int_equal(oi->lclass == GL_SIMD, oi->prefix == 0xfd);
        switch (oi->lclass) {
        case GL_ALU: case GL_MUL: case GL_DIVREM: case GL_SHIFT: case GL_CMP: case GL_EQZ:
        case GL_BITCOUNT:
            assert_int_equal(sig[0], oi->lw ? 'I' : 'i');
            classed++;
            break;
        case GL_FBIN: case GL_FUNOP: case GL_FCMP:
            assert_int_equal(sig[0], oi->lw ? 'F' : 'f');
            classed++;
            break;
        case GL_CONVERT: {
            const char *res = strchr(sig, ':') + 1;
            assert_true(sig[0] == 'I' || sig[0] == 'F' ? (oi->lw & 2) : !(oi->lw & 2));
            assert_true(res[0] == 'I' || res[0] == 'F' ? (oi->lw & 1) : !(oi->lw & 1));
            classed++;
            break;
        }
        case GL_LOAD: {
            char r = strchr(sig, ':')[1];
            assert_int_equal(oi->lkind == GK_FLOAT, r == 'f' || r == 'F');
            assert_int_equal(oi->lw, r == 'I' || r == 'F');
            assert_true(oi->x <= 3 && (oi->x == 3 ? oi->lw : 1));
            classed++;
            break;
        }
        case GL_STORE:
            assert_int_equal(oi->lkind == GK_FLOAT, sig[1] == 'f' || sig[1] == 'F');
            assert_int_equal(oi->lw, sig[1] == 'I' || sig[1] == 'F');
            classed++;
            break;
        }
    }
    /* every numeric operator of wasm 1.0 and 2.0 but the constants */
    assert_int_equal(classed, 159);
}

static gate_status body(const char *code, size_t n)
{
    mb m = { 0 }, b = { 0 };
    gate_error e;
    mb_bytes(&b, code, n);
    mb_one_func(&m, &b);
    gate_status st = check(m.b, m.n, &e);
    mb_free(&m);
    mb_free(&b);
    return st;
}

static void stack_polymorphism(void **state)
{
    (void)state;
    /* unreachable; i32.add; drop; end */
    assert_int_equal(body("\x00\x00\x6a\x1a\x0b", 5), GATE_OK);
    /* unreachable; i64.const 0; i32.add: a known i64 is not an i32 */
    assert_int_equal(body("\x00\x00\x42\x00\x6a\x1a\x0b", 7), GATE_ERR_INVALID);
    /* unreachable; select; drop: both operands unknown is fine */
    assert_int_equal(body("\x00\x00\x1b\x1a\x0b", 5), GATE_OK);
    /* ref.null func; ref.null func; i32.const 1; select: untyped select of refs */
    assert_int_equal(body("\x00\xd0\x70\xd0\x70\x41\x01\x1b\x1a\x0b", 10), GATE_ERR_INVALID);
    /* same with select (result funcref) */
    assert_int_equal(body("\x00\xd0\x70\xd0\x70\x41\x01\x1c\x01\x70\x1a\x0b", 12), GATE_OK);
    /* i32.const 1; end: a value left over in a [] -> [] function */
    assert_int_equal(body("\x00\x41\x01\x0b", 4), GATE_ERR_INVALID);
    /* end; nop: code after the function's end */
    assert_int_equal(body("\x00\x0b\x01", 3), GATE_ERR_MALFORMED);
    /* block without end */
    assert_int_equal(body("\x00\x02\x40\x0b", 4), GATE_ERR_MALFORMED);
    /* else outside if */
    assert_int_equal(body("\x00\x05\x0b", 3), GATE_ERR_MALFORMED);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(allocator_hook_balances),
        cmocka_unit_test(allocation_failures_are_clean),
        cmocka_unit_test(imports_exports_hash),
        cmocka_unit_test(errors_format_and_planned),
        cmocka_unit_test(iterator_exposes_types),
        cmocka_unit_test(stack_polymorphism),
        cmocka_unit_test(end_carries_block_types),
        cmocka_unit_test(lowering_classes_match_signatures),
    };
    return cmocka_run_group_tests_name("api", tests, NULL, NULL);
}
