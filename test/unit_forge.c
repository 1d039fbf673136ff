/* unit_forge.c - snapshots edited the way an attacker would: frames the
   program could not have produced are refused at restore, whatever bytes
   of the module they point at (issue: a frame "stopped" at a function's
   entry, whose local-group count byte reads as call or call_indirect). */
#include <stdio.h>
#include <xxhash.h>

#include "unit.h"
#include "../runtime/runtime.h"

/*
 * The module, built byte by byte so that each body starts with a chosen
 * local-group count:
 *   import 0 env.stop : [] -> [i64]   (asks the program to stop at its call)
 *   func 1 spin  : loop br 0 end        (runs until its fuel is gone)
 *   func 2 a     : 16 local groups, the first of 1 local: "10 01" = call 1
 *                  body: call 1
 *   func 3 a2    : 17 groups, the first of 0 locals: "11 00" = call_indirect 0
 *                  body: i32.const 0; call_indirect (type 0) (table 0)
 *   func 4 c     : 16 groups, the first of 0 locals: "10 00" = call 0
 *                  body: call 0; drop
 */
static void groups(mb *p, uint32_t n, uint32_t first)
{
    mb_u32(p, n);
    mb_u32(p, first);
    mb_byte(p, 0x7f);
    for (uint32_t i = 1; i < n; i++)
        mb_bytes(p, "\x01\x7f", 2);
}

static void body(mb *code, const mb *b)
{
    mb_u32(code, (uint32_t)b->n);
    mb_bytes(code, b->b, b->n);
}

static void build(mb *m)
{
    mb p = { 0 }, code = { 0 }, b = { 0 };
    mb_header(m);
    mb_bytes(&p, "\x02\x60\x00\x00\x60\x00\x01\x7e", 8);
    mb_section(m, 1, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x03" "env" "\x04" "stop" "\x00\x01", 12);
    mb_section(m, 2, &p);
    p.n = 0;
    mb_bytes(&p, "\x04\x00\x00\x00\x00", 5);
    mb_section(m, 3, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x70\x00\x01", 4);
    mb_section(m, 4, &p);
    p.n = 0;
    static const char exports[] = "\x03\x01" "a" "\x00\x02" "\x02" "a2" "\x00\x03" "\x01" "c"
                                  "\x00\x04";
    mb_bytes(&p, exports, sizeof exports - 1);
    mb_section(m, 7, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x00\x41\x00\x0b\x01\x01", 7);
    mb_section(m, 9, &p);
    mb_u32(&code, 4);
    mb_bytes(&b, "\x00\x03\x40\x0c\x00\x0b\x0b", 7);
    body(&code, &b);
    b.n = 0;
    groups(&b, 16, 1);
    mb_bytes(&b, "\x10\x01\x0b", 3);
    body(&code, &b);
    b.n = 0;
    groups(&b, 17, 0);
    mb_bytes(&b, "\x41\x00\x11\x00\x00\x0b", 6);
    body(&code, &b);
    b.n = 0;
    groups(&b, 16, 0);
    mb_bytes(&b, "\x10\x00\x1a\x0b", 4);
    body(&code, &b);
    mb_section(m, 10, &code);
    mb_free(&p);
    mb_free(&code);
    mb_free(&b);
}

/* env.stop: returns 0x4141414141414141 and asks to stop at its call. */
static gate_status host_stop(gate_call_ctx *ctx, void *ud, const gate_val *args,
                             gate_val *res)
{
    (void)ud;
    (void)args;
    res[0].type = GATE_I64;
    res[0].of.i64 = 0x4141414141414141ll;
    gate_call_request_stop(ctx, GATE_HOST_COMPLETE);
    return GATE_OK;
}

static gate_engine *eng;
static gate_module *mod;

static gate_imports *imports(void)
{
    gate_imports *imp = gate_imports_new(eng);
    gate_error e;
    assert_int_equal(gate_imports_func_raw(imp, "env", "stop", "I()", host_stop, NULL, &e),
                     GATE_OK);
    return imp;
}

static int setup(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;
    gate_error e;
    eng = gate_engine_new(&cfg, &e);
    mb m = { 0 };
    build(&m);
    mod = gate_module_new(eng, m.b, m.n, &e);
    mb_free(&m);
    if (!mod)
        printf("module: %s\n", e.message);
    return mod ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}

/* GATE_WRITE_SEEDS=DIR: the snapshots are also written there, as seeds
   for the snapshot fuzzer (test/fuzz/run.sh). */
static void seed(const char *name, const uint8_t *s, size_t n)
{
    const char *dir = getenv("GATE_WRITE_SEEDS");
    char path[4096];
    if (!dir)
        return;
    snprintf(path, sizeof path, "%s/forge-%s.snap", dir, name);
    FILE *f = fopen(path, "wb");
    if (f) {
        fwrite(s, 1, n, f);
        fclose(f);
    }
}

/* A snapshot of export `name` stopped (by fuel, or by the host). */
static uint8_t *stopped(const char *name, size_t *len)
{
    gate_error e;
    gate_imports *imp = imports();
    gate_instance *in = gate_instance_new(mod, imp, NULL, &e);
    assert_non_null(in);
    gate_set_fuel(in, 20);
    assert_int_equal(gate_call(in, name, NULL, 0, NULL, 0, &e), GATE_SUSPENDED);
    uint8_t *s;
    assert_int_equal(gate_snapshot(in, &s, len, &e), GATE_OK);
    seed(name, s, *len);
    gate_instance_free(in);
    gate_imports_free(imp);
    return s;
}

/* Restores b; NULL msg: must restore; else must be refused saying msg. */
static void restore(const uint8_t *b, size_t n, const char *msg)
{
    gate_error e;
    gate_imports *imp = imports();
    gate_instance *in = gate_snapshot_restore(eng, b, n, imp, &e);
    if (msg && in)
        fail_msg("forged snapshot restored (want \"%s\")", msg);
    if (!msg && !in)
        fail_msg("honest snapshot refused: %s", e.message);
    if (msg && !strstr(e.message, msg))
        fail_msg("want \"%s\", got \"%s\"", msg, e.message);
    if (msg)
        assert_int_equal(e.status, GATE_ERR_SNAPSHOT);
    gate_instance_free(in);
    gate_imports_free(imp);
}

/* Sets frame `frame`'s body-relative offset to rel (frames before it must
   have no slots with other sizes: every slot is 9 bytes), fixes the sum. */
static uint8_t *with_offset(const uint8_t *s, size_t n, uint32_t frame, uint32_t rel)
{
    uint8_t *b = malloc(n);
    memcpy(b, s, n);
    uint8_t *p = memmem(b, n, "gate.stack", 10);
    assert_non_null(p);
    p += 10 + 4;
    for (uint32_t i = 0; i < frame; i++) {
        uint32_t slots;
        memcpy(&slots, p + 8, 4);
        p += 12 + 9 * (size_t)slots;
    }
    memcpy(p + 4, &rel, 4);
    uint64_t sum = XXH3_64bits(b, n - 24);
    memcpy(b + n - 8, &sum, 8);
    return b;
}

/* Stops export `name`, checks the honest snapshot restores, then moves
   the outermost frame to its function's entry and wants it refused. */
static void entry_forgery(const char *name, const char *msg)
{
    size_t n;
    uint8_t *s = stopped(name, &n);
    restore(s, n, NULL);
    uint8_t *f = with_offset(s, n, 0, 0);
    restore(f, n, msg);
    free(f);
    gate_free_buffer(eng, s, n);
}

static void caller_at_entry_read_as_call(void **state)
{
    (void)state;
    entry_forgery("a", "stopped at a function entry, not at a call");
}

static void caller_at_entry_read_as_call_indirect(void **state)
{
    (void)state;
    entry_forgery("a2", "stopped at a function entry, not at a call");
}

static void pending_results_at_entry(void **state)
{
    (void)state;
    entry_forgery("c", "not at a call of the pending host function");
}

/* Every safe point in the maps has the kind of the instruction it is at. */
static void safe_point_kinds(void **state)
{
    (void)state;
    const gc_code *c = &mod->code;
    const gd_module *m = &mod->info;
    int seen[GC_SP_NKINDS] = { 0 };
    for (uint32_t i = 0; i < c->nsp; i++) {
        const gc_safepoint *sp = &c->sp[i];
        assert_true(sp->kind < GC_SP_NKINDS);
        seen[sp->kind]++;
        uint8_t op = mod->bytes[sp->wasm];
        switch (sp->kind) {
        case GC_SP_ENTRY: assert_int_equal(sp->wasm, m->funcs[sp->func].body_off); break;
        case GC_SP_LOOP: assert_int_equal(op, 0x03); break;
        case GC_SP_CALL: case GC_SP_CALL_IMPORT: assert_int_equal(op, 0x10); break;
        case GC_SP_CALL_INDIRECT: assert_int_equal(op, 0x11); break;
        default: fail_msg("unexpected kind %u", sp->kind);
        }
    }
    assert_int_equal(seen[GC_SP_ENTRY], 4);
    assert_int_equal(seen[GC_SP_LOOP], 1);
    assert_int_equal(seen[GC_SP_CALL], 1);
    assert_int_equal(seen[GC_SP_CALL_IMPORT], 1);
    assert_int_equal(seen[GC_SP_CALL_INDIRECT], 1);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(safe_point_kinds),
        cmocka_unit_test(caller_at_entry_read_as_call),
        cmocka_unit_test(caller_at_entry_read_as_call_indirect),
        cmocka_unit_test(pending_results_at_entry),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
