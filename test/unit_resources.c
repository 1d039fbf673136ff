/*
 * unit_resources.c - a host object behind an import that did not come
 * along with a moved program: provided again (reattached), reported lost
 * (the program sees the host's error code), or kept suspended (the
 * program stops at its first use, and resumes where it is provided).
 * The module is test/resources/dev.wat, built next to this binary.
 */
#include "unit.h"
#include "../libgate.h"

void rt_signals_reinstall(void);

static char data_dir[4096];

static gate_module *load(gate_engine *eng)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/resources/dev.wasm", data_dir);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    uint8_t buf[4096];
    size_t n = fread(buf, 1, sizeof buf, f);
    fclose(f);
    gate_error err;
    gate_module *m = gate_module_new(eng, buf, n, &err);
    if (!m)
        fail_msg("%s", err.message);
    return m;
}

static int reads;

static gate_status dev_read(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c, (void)ud;
    reads++;
    r[0].type = GATE_I32;
    r[0].of.i32 = a[0].of.i32 + 1;      /* 1 + 2 + ... + 10 = 55 */
    return GATE_OK;
}

static gate_imports *real(gate_engine *eng)
{
    gate_imports *imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_func_raw(imp, "dev", "read", "i(i)", dev_read, NULL, NULL),
                     GATE_OK);
    return imp;
}

/* A snapshot of the program stopped by fuel after some reads. */
static uint8_t *stopped(gate_engine *eng, gate_module *m, size_t *len)
{
    gate_imports *imp = real(eng);
    gate_error err;
    gate_instance *inst = gate_instance_new(m, imp, NULL, &err);
    assert_non_null(inst);
    assert_int_equal(gate_set_fuel(inst, 450), GATE_OK);
    gate_val r[1];
    reads = 0;
    assert_int_equal(gate_call(inst, "run", NULL, 0, r, 1, &err), GATE_SUSPENDED);
    assert_true(reads > 0 && reads < 10);
    uint8_t *snap;
    assert_int_equal(gate_snapshot(inst, &snap, len, &err), GATE_OK);
    gate_instance_free(inst);
    gate_imports_free(imp);
    return snap;
}

static int32_t resume_with(gate_engine *eng, const uint8_t *snap, size_t len, gate_imports *imp,
                           gate_status want, uint8_t **again, size_t *alen)
{
    gate_error err;
    gate_instance *inst = gate_snapshot_restore(eng, snap, len, imp, &err);
    if (!inst)
        fail_msg("restore: %s", err.message);
    gate_set_fuel(inst, UINT64_MAX);
    gate_val r[1] = { 0 };
    gate_status st = gate_resume(inst, r, 1, &err);
    assert_int_equal(st, want);
    if (again)
        assert_int_equal(gate_snapshot(inst, again, alen, &err), GATE_OK);
    gate_instance_free(inst);
    return r[0].of.i32;
}

static void policies(void **state)
{
    (void)state;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;
    gate_engine *eng = gate_engine_new(&cfg, NULL);
    rt_signals_reinstall();
    gate_module *m = load(eng);
    size_t len;
    uint8_t *snap = stopped(eng, m, &len);
    int before = reads;
    /* reattached */
    gate_imports *imp = real(eng);
    reads = 0;
    assert_int_equal(resume_with(eng, snap, len, imp, GATE_OK, NULL, NULL), 55);
    assert_int_equal(reads, 10 - before);
    gate_imports_free(imp);
    /* reported lost: the program sees -9 for each read left and counts them */
    imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_lost(imp, "dev", NULL, -9, NULL), GATE_OK);
    int32_t got = resume_with(eng, snap, len, imp, GATE_OK, NULL, NULL);
    int sum_before = before * (before + 1) / 2;
    assert_int_equal(got, (10 - before) * 1000 + sum_before);
    gate_imports_free(imp);
    /* kept suspended: stopped at its next read, then resumed where the
       device is there */
    imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_suspended(imp, "dev", "read", NULL), GATE_OK);
    uint8_t *held;
    size_t hlen;
    resume_with(eng, snap, len, imp, GATE_SUSPENDED, &held, &hlen);
    gate_imports_free(imp);
    imp = real(eng);
    reads = 0;
    assert_int_equal(resume_with(eng, held, hlen, imp, GATE_OK, NULL, NULL), 55);
    assert_int_equal(reads, 10 - before);
    gate_imports_free(imp);
    /* no imports to bind into: refused */
    imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_lost(NULL, "dev", NULL, -1, NULL), GATE_ERR_ARG);
    gate_imports_free(imp);
    gate_free_buffer(eng, held, hlen);
    gate_free_buffer(eng, snap, len);
    gate_module_free(m);
    gate_engine_free(eng);
}

int main(int argc, char **argv)
{
    (void)argc;
    snprintf(data_dir, sizeof data_dir, "%s", argv[0]);
    char *slash = strrchr(data_dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(data_dir, ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(policies),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
