/* unit_host.c - host functions through libffi and the raw form, with
   every value type, multi-value results, the call context, and host
   errors becoming traps (never crashes). */
#include <math.h>

#include "unit.h"
#include "../runtime/runtime.h"
#include "data/host_wasm.h"

static int32_t f_i32(int32_t x) { return x * 3 + 1; }
static int64_t f_i64(int64_t x) { return x ^ (int64_t)0x0123456789abcdefLL; }
static float f_f32(float x) { return x * 0.5f; }
static double f_f64(double x) { return -x; }
static void *f_ext(void *p) { return (char *)p + 16; }
static double f_mix(int32_t a, int64_t b, float c, double d) { return a + (double)b + c + d; }
static int32_t f_ctx(gate_call_ctx *ctx, int32_t off)
{
    /* reads the caller's memory through the context */
    uint8_t *mem = gate_memory_data(gate_call_instance(ctx), NULL);
    return mem ? mem[off] + 1000 : -1;
}
static int32_t f_fail(gate_call_ctx *ctx, int32_t x)
{
    gate_call_trap(ctx, "host refused");
    return x;
}

static gate_status r_i32(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud;
    r[0].type = GATE_I32;
    r[0].of.i32 = a[0].of.i32 - 7;
    return GATE_OK;
}
static gate_status r_i64(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud;
    r[0].type = GATE_I64;
    r[0].of.i64 = (int64_t)((uint64_t)a[0].of.i64 * 2);
    return GATE_OK;
}
static gate_status r_f32(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud;
    r[0].type = GATE_F32;
    r[0].of.f32 = a[0].of.f32 + 1.5f;
    return GATE_OK;
}
static gate_status r_f64(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud;
    r[0].type = GATE_F64;
    r[0].of.f64 = sqrt(a[0].of.f64);
    return GATE_OK;
}
static gate_status r_ext(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c;
    r[0].type = GATE_EXTERNREF;
    r[0].of.ref = a[0].of.ref == ud ? NULL : ud;
    return GATE_OK;
}
static gate_status r_multi(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud;
    r[0].type = GATE_I64;
    r[0].of.i64 = a[1].of.i64 * 2;
    r[1].type = GATE_I32;
    r[1].of.i32 = a[0].of.i32 + 1;
    return GATE_OK;
}
static gate_status r_fail(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c; (void)ud; (void)a; (void)r;
    return GATE_TRAPPED;
}

/* stops at its call (once, on the second call) with the mode in *ud */
static int stopper_calls, stopper_mode, stopper_stopped;
static gate_status r_stopper(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)ud;
    stopper_calls++;
    if (stopper_calls == 2 && !stopper_stopped) {
        stopper_stopped = 1;
        gate_call_request_stop(c, (gate_host_resume)stopper_mode);
    }
    r[0].type = GATE_I32;
    r[0].of.i32 = a[0].of.i32 * 2;
    return GATE_OK;
}

static gate_engine *eng;
static gate_module *mod;
static gate_imports *imp;
static gate_instance *inst;
static char token[64];

static int setup(void **state)
{
    (void)state;
    gate_error e;
    eng = gate_engine_new(NULL, &e);
    mod = gate_module_new(eng, host_wasm, sizeof host_wasm, &e);
    imp = gate_imports_new(eng);
    if (!mod || !imp)
        return -1;
    gate_status st = GATE_OK;
    st |= gate_imports_func(imp, "ffi", "i32", "i(i)", (void (*)(void))f_i32, &e);
    st |= gate_imports_func(imp, "ffi", "i64", "I(I)", (void (*)(void))f_i64, &e);
    st |= gate_imports_func(imp, "ffi", "f32", "f(f)", (void (*)(void))f_f32, &e);
    st |= gate_imports_func(imp, "ffi", "f64", "F(F)", (void (*)(void))f_f64, &e);
    st |= gate_imports_func(imp, "ffi", "ext", "e(e)", (void (*)(void))f_ext, &e);
    st |= gate_imports_func(imp, "ffi", "mix", "F(iIfF)", (void (*)(void))f_mix, &e);
    st |= gate_imports_func(imp, "ffi", "ctx", "i(*i)", (void (*)(void))f_ctx, &e);
    st |= gate_imports_func(imp, "ffi", "fail", "i(*i)", (void (*)(void))f_fail, &e);
    st |= gate_imports_func_raw(imp, "raw", "i32", "i(i)", r_i32, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "i64", "I(I)", r_i64, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "f32", "f(f)", r_f32, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "f64", "F(F)", r_f64, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "ext", "e(e)", r_ext, token, &e);
    st |= gate_imports_func_raw(imp, "raw", "multi", "Ii(iI)", r_multi, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "fail", "v()", r_fail, NULL, &e);
    st |= gate_imports_func_raw(imp, "raw", "stopper", "i(i)", r_stopper, NULL, &e);
    if (st != GATE_OK)
        return -1;
    inst = gate_instance_new(mod, imp, NULL, &e);
    return inst ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}

static gate_val call1(const char *name, gate_val a)
{
    gate_val r;
    gate_error e;
    memset(&r, 0, sizeof r);
    if (gate_call(inst, name, &a, 1, &r, 1, &e) != GATE_OK)
        fail_msg("%s: %s", name, e.message);
    return r;
}

static void every_type_both_ways(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_val v = { .type = GATE_I32, .of.i32 = -5 };
    assert_int_equal(call1("ffi_i32", v).of.i32, -14);
    assert_int_equal(call1("raw_i32", v).of.i32, -12);
    v.type = GATE_I64;
    v.of.i64 = INT64_MIN + 3;
    assert_true(call1("ffi_i64", v).of.i64 == ((INT64_MIN + 3) ^ (int64_t)0x0123456789abcdefLL));
    assert_true(call1("raw_i64", v).of.i64 == (int64_t)((uint64_t)(INT64_MIN + 3) * 2));
    v.type = GATE_F32;
    v.of.f32 = 3.0f;
    assert_true(call1("ffi_f32", v).of.f32 == 1.5f);
    assert_true(call1("raw_f32", v).of.f32 == 4.5f);
    v.type = GATE_F64;
    v.of.f64 = 2.25;
    assert_true(call1("ffi_f64", v).of.f64 == -2.25);
    assert_true(call1("raw_f64", v).of.f64 == 1.5);
    v.type = GATE_EXTERNREF;
    v.of.ref = token;
    assert_ptr_equal(call1("ffi_ext", v).of.ref, token + 16);
    assert_null(call1("raw_ext", v).of.ref);
    v.of.ref = NULL;
    assert_ptr_equal(call1("raw_ext", v).of.ref, token);
    gate_val m[4] = { { .type = GATE_I32, .of.i32 = 1 }, { .type = GATE_I64, .of.i64 = 2 },
                      { .type = GATE_F32, .of.f32 = 0.5f }, { .type = GATE_F64, .of.f64 = 0.25 } };
    gate_val r;
    gate_error e;
    assert_int_equal(gate_call(inst, "ffi_mix", m, 4, &r, 1, &e), GATE_OK);
    assert_true(r.of.f64 == 3.75);
    /* multi-value from a raw host function: (3, 10) -> (20, 4) -> 24 */
    m[0].of.i32 = 3;
    m[1].of.i64 = 10;
    assert_int_equal(gate_call(inst, "raw_multi", m, 2, &r, 1, &e), GATE_OK);
    assert_int_equal(r.of.i64, 24);
}

static void context_reads_caller_memory(void **state)
{
    (void)state;
    rt_signals_reinstall();
    uint8_t b = 42;
    assert_int_equal(gate_memory_write(inst, 100, &b, 1), GATE_OK);
    gate_val v = { .type = GATE_I32, .of.i32 = 100 };
    assert_int_equal(call1("ffi_ctx", v).of.i32, 1042);
}

static void host_errors_become_traps(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_val v = { .type = GATE_I32, .of.i32 = 1 }, r;
    gate_error e;
    gate_trap_info ti;
    for (int i = 0; i < 100; i++) {
        assert_int_equal(gate_call(inst, "ffi_fail", &v, 1, &r, 1, &e), GATE_TRAPPED);
        gate_trap_info_get(inst, &ti);
        assert_int_equal(ti.code, GATE_TRAP_HOST);
        assert_non_null(strstr(e.message, "host refused"));
        assert_int_equal(gate_call(inst, "raw_fail", NULL, 0, NULL, 0, &e), GATE_TRAPPED);
        assert_int_equal(gate_call(inst, "deep_fail", NULL, 0, &r, 1, &e), GATE_TRAPPED);
        /* the deep trap's backtrace goes through the wasm frames (32 kept) */
        uint32_t f[32], o[32];
        assert_int_equal(gate_trap_backtrace(inst, f, o, 32), 32);
        assert_int_equal(f[0], f[1]);           /* $deep called $deep ... */
        /* and ordinary calls still work after each */
        assert_int_equal(call1("raw_i32", v).of.i32, -6);
    }
}

static void bad_bindings(void **state)
{
    (void)state;
    gate_error e;
    gate_imports *bad = gate_imports_new(eng);
    assert_int_equal(gate_imports_func(bad, "m", "n", "ii(i)", (void (*)(void))f_i32, &e),
                     GATE_ERR_ARG);       /* libffi: one result at most */
    assert_int_equal(gate_imports_func(bad, "m", "n", "i(x)", (void (*)(void))f_i32, &e),
                     GATE_ERR_ARG);
    assert_int_equal(gate_imports_func(bad, "m", "n", "i(i", (void (*)(void))f_i32, &e),
                     GATE_ERR_ARG);
    assert_int_equal(gate_imports_func(bad, "m", "n", "i(i)", NULL, &e), GATE_ERR_ARG);
    assert_int_equal(gate_imports_func_raw(bad, "m", "n", "i(*i)", r_i32, NULL, &e),
                     GATE_ERR_ARG);
    /* a signature that does not match the import is unlinkable */
    gate_imports_free(bad);
    bad = gate_imports_new(eng);
    gate_imports_func_raw(bad, "ffi", "i32", "I(I)", r_i64, NULL, &e);
    assert_null(gate_instance_new(mod, bad, NULL, &e));
    assert_int_equal(e.status, GATE_ERR_UNLINKABLE);
    gate_imports_free(bad);
}

/* A host function asks to stop at its call: complete delivers its
   results on resume, restart calls it again; also through a snapshot. */
static void host_asks_to_stop(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_val v = { .type = GATE_I32, .of.i32 = 5 }, r;
    for (int mode = GATE_HOST_RESTART; mode <= GATE_HOST_COMPLETE; mode++) {
        for (int via_snapshot = 0; via_snapshot < 2; via_snapshot++) {
            stopper_calls = stopper_stopped = 0;
            stopper_mode = mode;
            gate_instance *in = gate_instance_new(mod, imp, NULL, &e);
            assert_int_equal(gate_call(in, "call_stopper", &v, 1, &r, 1, &e), GATE_SUSPENDED);
            assert_int_equal(stopper_calls, 2);
            assert_int_equal(in->susp.pending,
                             mode == GATE_HOST_RESTART ? RT_PENDING_RESTART : RT_PENDING_COMPLETE);
            if (via_snapshot) {
                uint8_t *snap;
                size_t len;
                assert_int_equal(gate_snapshot(in, &snap, &len, &e), GATE_OK);
                gate_instance_free(in);
                in = gate_snapshot_restore(eng, snap, len, imp, &e);
                gate_free_buffer(eng, snap, len);
                if (!in)
                    fail_msg("restore: %s", e.message);
                assert_int_equal(in->susp.npend, 1);
            }
            assert_int_equal(gate_resume(in, &r, 1, &e), GATE_OK);
            assert_int_equal(r.of.i32, 3 * 10 + 1);
            /* restart calls the host function again; complete does not */
            assert_int_equal(stopper_calls, mode == GATE_HOST_RESTART ? 4 : 3);
            gate_instance_free(in);
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_type_both_ways),
        cmocka_unit_test(context_reads_caller_memory),
        cmocka_unit_test(host_errors_become_traps),
        cmocka_unit_test(bad_bindings),
        cmocka_unit_test(host_asks_to_stop),
    };
    return cmocka_run_group_tests_name("host calls", tests, setup, teardown);
}
