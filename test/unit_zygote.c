/*
 * unit_zygote.c - zygotes: initialisation with authorities that are not
 * live yet (pending in each child, or a trap), children forked with
 * imports of their own (WASI descriptors, preopens, arguments,
 * environment, host objects), zygote snapshots, the zygote discipline.
 * The modules are test/zygote/NAME.wat and test/wasi/zygote.c, built
 * next to this binary.
 */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../libgate.h"

void rt_signals_reinstall(void);

static char data_dir[4096];

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static gate_module *load(gate_engine *eng, const char *name)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/zygote/%s", data_dir, name);
    size_t len;
    uint8_t *b = slurp(path, &len);
    if (!b)
        fail_msg("%s: cannot read it", path);
    gate_error err;
    gate_module *m = gate_module_new(eng, b, len, &err);
    if (!m)
        fail_msg("%s: %s", name, err.message);
    free(b);
    return m;
}

static gate_engine *engine(void)
{
    gate_engine *e = gate_engine_new(NULL, NULL);
    assert_non_null(e);
    rt_signals_reinstall();
    return e;
}

/* ---- host objects: each child's are its own ------------------------------ */

typedef struct host_obj {
    int32_t secret;
    int calls;
} host_obj;

static gate_status h_add(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c, (void)ud;
    r[0].type = GATE_I32;
    r[0].of.i32 = a[0].of.i32 + a[1].of.i32;
    return GATE_OK;
}

static gate_status h_secret(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c, (void)a;
    host_obj *o = ud;
    o->calls++;
    r[0].type = GATE_I32;
    r[0].of.i32 = o->secret;
    return GATE_OK;
}

static gate_status h_ready(gate_call_ctx *c, void *ud, const gate_val *a, gate_val *r)
{
    (void)c, (void)a, (void)r;
    ((host_obj *)ud)->calls += 1000;
    return GATE_OK;
}

/* env.add (live for the zygote when live != 0) and, with o, env.secret and env.ready */
static gate_imports *host_imports(gate_engine *eng, bool add, host_obj *o)
{
    gate_imports *imp = gate_imports_new(eng);
    assert_non_null(imp);
    if (add)
        assert_int_equal(gate_imports_func_raw(imp, "env", "add", "i(ii)", h_add, NULL, NULL),
                         GATE_OK);
    if (o) {
        assert_int_equal(gate_imports_func_raw(imp, "env", "secret", "i()", h_secret, o, NULL),
                         GATE_OK);
        assert_int_equal(gate_imports_func_raw(imp, "env", "ready", "v()", h_ready, o, NULL),
                         GATE_OK);
    }
    return imp;
}

static int32_t call_i32(gate_instance *inst, const char *name)
{
    gate_val r[1];
    gate_error err;
    gate_status st = gate_call(inst, name, NULL, 0, r, 1, &err);
    if (st != GATE_OK)
        fail_msg("%s: %s", name, err.message);
    return r[0].of.i32;
}

static int32_t finish_i32(gate_instance *c, const char *getter)
{
    gate_error err;
    gate_val r[1];
    if (gate_is_suspended(c)) {
        gate_status st = gate_resume(c, r, 1, &err);
        if (st != GATE_OK)
            fail_msg("resume: %s", err.message);
    }
    return call_i32(c, getter);
}

/* Live imports run during the initialisation; the zygote is idle. */
static void test_live_imports(void **state)
{
    (void)state;
    gate_engine *eng = engine();
    gate_module *m = load(eng, "host.wasm");
    gate_imports *live = host_imports(eng, true, NULL);
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = "init_live";
    zc.live = live;
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    if (!z)
        fail_msg("%s", err.message);
    assert_true(gate_is_zygote(z));
    assert_false(gate_is_suspended(z));
    assert_int_equal(gate_zygote_pending(z, NULL, 0), 0);
    /* the discipline: a zygote does not run, and is not shared */
    gate_val r[1];
    assert_int_equal(gate_call(z, "get", NULL, 0, r, 1, &err), GATE_ERR_STATE);
    assert_null(gate_instance_fork(z, &err));
    assert_int_equal(err.status, GATE_ERR_STATE);
    host_obj o1 = { 11, 0 }, o2 = { 22, 0 };
    gate_imports *i1 = host_imports(eng, true, &o1), *i2 = host_imports(eng, true, &o2);
    gate_instance *c1 = gate_instance_fork_imports(z, i1, &err);
    gate_instance *c2 = gate_instance_fork_imports(z, i2, &err);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_false(gate_is_zygote(c1));
    assert_int_equal(call_i32(c1, "get"), 42);
    assert_int_equal(call_i32(c2, "get"), 42);
    /* memory is each child's own */
    gate_val v = { .type = GATE_I32, .of.i32 = 5 };
    assert_int_equal(gate_call(c1, "poke", &v, 1, NULL, 0, &err), GATE_OK);
    assert_int_equal(call_i32(c1, "peek"), 5);
    assert_int_equal(call_i32(c2, "peek"), 0);
    gate_instance *c3 = gate_instance_fork_imports(z, i2, &err);
    assert_int_equal(call_i32(c3, "peek"), 0);
    /* an import in a table is the child's own import */
    assert_int_equal(call_i32(c1, "via_table"), 11);
    assert_int_equal(call_i32(c3, "via_table"), 22);
    assert_int_equal(o1.calls, 1);
    assert_int_equal(o2.calls, 1);
    /* nobody links to a zygote's exports: it does not run */
    gate_imports *li = gate_imports_new(eng);
    assert_int_equal(gate_imports_instance(li, "z", z, &err), GATE_ERR_STATE);
    gate_imports_free(li);
    gate_instance_free(c1);
    gate_instance_free(c2);
    gate_instance_free(c3);
    gate_instance_free(z);
    gate_imports_free(i1);
    gate_imports_free(i2);
    gate_imports_free(live);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* An authority in the middle of the initialisation: pending in each
   child, which makes the call to its own host object; or a trap. */
static void test_pending_authority(void **state)
{
    (void)state;
    gate_engine *eng = engine();
    gate_module *m = load(eng, "host.wasm");
    gate_imports *live = host_imports(eng, true, NULL);
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = "init_secret";
    zc.live = live;
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    if (!z)
        fail_msg("%s", err.message);
    assert_true(gate_is_suspended(z));
    char buf[128];
    assert_int_equal(gate_zygote_pending(z, buf, sizeof buf), 1);
    assert_string_equal(buf, "env.secret");
    assert_int_equal(gate_resume(z, NULL, 0, &err), GATE_ERR_STATE);
    host_obj o1 = { 1000, 0 }, o2 = { 2000, 0 };
    gate_imports *i1 = host_imports(eng, true, &o1), *i2 = host_imports(eng, true, &o2);
    gate_instance *c1 = gate_instance_fork_imports(z, i1, &err);
    gate_instance *c2 = gate_instance_fork_imports(z, i2, &err);
    assert_non_null(c1);
    assert_non_null(c2);
    assert_int_equal(finish_i32(c1, "get"), 103);
    assert_int_equal(call_i32(c1, "peek"), 1000);
    assert_int_equal(finish_i32(c2, "get"), 103);
    assert_int_equal(call_i32(c2, "peek"), 2000);
    assert_int_equal(o1.calls, 1);
    assert_int_equal(o2.calls, 1);
    /* the zygote survives its children */
    gate_instance_free(c1);
    gate_instance_free(c2);
    gate_instance *c3 = gate_instance_fork_imports(z, i1, &err);
    assert_int_equal(finish_i32(c3, "get"), 103);
    assert_int_equal(o1.calls, 2);
    gate_instance_free(c3);
    gate_instance_free(z);
    /* the host's choice: a trap, and no zygote */
    zc.mode = GATE_ZYGOTE_TRAP;
    z = gate_zygote_new(m, &zc, &err);
    assert_null(z);
    assert_int_equal(err.status, GATE_TRAPPED);
    assert_non_null(strstr(err.message, "not yet in the world: env.secret"));
    gate_imports_free(i1);
    gate_imports_free(i2);
    gate_imports_free(live);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* until_*: the marked import ends the initialisation in either mode,
   even when the host gave it as live; each child makes the call. */
static void test_until_import(void **state)
{
    (void)state;
    gate_engine *eng = engine();
    gate_module *m = load(eng, "host.wasm");
    host_obj zo = { 5, 0 };
    gate_imports *live = host_imports(eng, true, &zo);
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.mode = GATE_ZYGOTE_TRAP;
    zc.init = "init_ready";
    zc.live = live;
    zc.until_module = "env";
    zc.until_name = "ready";
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    if (!z)
        fail_msg("%s", err.message);
    assert_int_equal(zo.calls, 0);
    char buf[64];
    assert_int_equal(gate_zygote_pending(z, buf, sizeof buf), 1);
    assert_string_equal(buf, "env.ready");
    host_obj o1 = { 30, 0 };
    gate_imports *i1 = host_imports(eng, true, &o1);
    gate_instance *c1 = gate_instance_fork_imports(z, i1, &err);
    assert_non_null(c1);
    assert_int_equal(finish_i32(c1, "get"), 37);
    assert_int_equal(o1.calls, 1001);
    assert_int_equal(zo.calls, 0);
    gate_instance_free(c1);
    gate_instance_free(z);
    /* an import the module does not have */
    zc.until_name = "nothing";
    assert_null(gate_zygote_new(m, &zc, &err));
    assert_int_equal(err.status, GATE_ERR_ARG);
    gate_imports_free(i1);
    gate_imports_free(live);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A start function cannot stop: an authority there traps in either mode. */
static void test_start_function(void **state)
{
    (void)state;
    gate_engine *eng = engine();
    gate_module *m = load(eng, "start.wasm");
    gate_error err;
    assert_null(gate_zygote_new(m, NULL, &err));
    assert_int_equal(err.status, GATE_TRAPPED);
    assert_non_null(strstr(err.message, "not yet in the world: env.secret"));
    assert_non_null(strstr(err.message, "start function"));
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A zygote saved and restored forks the same children; the file says it
   is a zygote's. */
static void test_snapshot(void **state)
{
    (void)state;
    gate_engine *eng = engine();
    gate_module *m = load(eng, "host.wasm");
    gate_imports *live = host_imports(eng, true, NULL);
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = "init_secret";
    zc.live = live;
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    assert_non_null(z);
    uint8_t *snap;
    size_t len;
    assert_int_equal(gate_snapshot(z, &snap, &len, &err), GATE_OK);
    gate_instance_free(z);
    gate_snapshot_info info;
    assert_int_equal(gate_snapshot_read_info(snap, len, &info, &err), GATE_OK);
    assert_true(info.zygote);
    assert_true(info.suspended);
    gate_instance *r = gate_zygote_restore(eng, snap, len, NULL, &err);
    if (!r)
        fail_msg("%s", err.message);
    assert_true(gate_is_zygote(r));
    char buf[64];
    assert_int_equal(gate_zygote_pending(r, buf, sizeof buf), 1);
    assert_string_equal(buf, "env.secret");
    host_obj o = { 77, 0 };
    gate_imports *i1 = host_imports(eng, true, &o);
    for (int k = 0; k < 3; k++) {
        gate_instance *c = gate_instance_fork_imports(r, i1, &err);
        assert_non_null(c);
        assert_int_equal(finish_i32(c, "get"), 103);
        assert_int_equal(call_i32(c, "peek"), 77);
        gate_instance_free(c);
    }
    assert_int_equal(o.calls, 3);
    /* a child restored straight from the file, as gate run --fork does */
    gate_instance *c = gate_snapshot_restore(eng, snap, len, i1, &err);
    assert_non_null(c);
    assert_false(gate_is_zygote(c));
    assert_int_equal(finish_i32(c, "get"), 103);
    gate_instance_free(c);
    /* a snapshot of a running program is not a zygote */
    gate_instance *plain = gate_instance_new(m, i1, NULL, &err);
    uint8_t *ps;
    size_t plen;
    assert_int_equal(gate_snapshot(plain, &ps, &plen, &err), GATE_OK);
    assert_int_equal(gate_snapshot_read_info(ps, plen, &info, &err), GATE_OK);
    assert_false(info.zygote);
    /* cut anywhere: refused, never a crash */
    for (size_t cut = 0; cut < len; cut += 1 + cut / 8) {
        gate_instance *t = gate_zygote_restore(eng, snap, cut, NULL, &err);
        assert_null(t);
        assert_int_not_equal(err.status, GATE_OK);
    }
    gate_free_buffer(eng, ps, plen);
    gate_instance_free(plain);
    gate_instance_free(r);
    gate_free_buffer(eng, snap, len);
    gate_imports_free(i1);
    gate_imports_free(live);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* ---- WASI: a C program's children own their descriptors ------------------ */

static char tmp_root[64];

static void mkdir_in(char *out, size_t cap, const char *name)
{
    snprintf(out, cap, "%s/%s", tmp_root, name);
    mkdir(out, 0700);
}

static gate_imports *wasi_child(gate_engine *eng, const char *name, bool close3,
                                const char *env, const char *host_dir, const char *guest)
{
    gate_imports *imp = gate_imports_new(eng);
    const char *argv[3] = { "zygote", name, "close" };
    const char *envp[1] = { env };
    gate_wasi_config wc = { .argc = close3 ? 3 : 2, .argv = argv, .envc = env ? 1 : 0,
                            .envp = envp, .npreopens = host_dir ? 1 : 0,
                            .preopen_host = &host_dir, .preopen_guest = &guest };
    gate_error err;
    if (gate_imports_wasi(imp, &wc, &err) != GATE_OK)
        fail_msg("wasi: %s", err.message);
    return imp;
}

static int run_child(gate_instance *c)
{
    gate_error err;
    gate_status st = gate_is_suspended(c) ? gate_resume(c, NULL, 0, &err)
                                          : gate_call(c, "_start", NULL, 0, NULL, 0, &err);
    if (st == GATE_EXITED)
        return gate_exit_code(c);
    if (st != GATE_OK)
        fail_msg("child: %s", err.message);
    return 0;
}

static void expect_file(const char *dir, const char *name, const char *want)
{
    char path[300];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    size_t len;
    uint8_t *b = slurp(path, &len);
    if (!b)
        fail_msg("%s was not written", path);
    b[len] = 0;
    assert_string_equal((char *)b, want);
    free(b);
}

static void test_wasi_children(void **state)
{
    (void)state;
    snprintf(tmp_root, sizeof tmp_root, "/tmp/gate-zygote-XXXXXX");
    assert_non_null(mkdtemp(tmp_root));
    char da[128], db[128], dc[128];
    mkdir_in(da, sizeof da, "a");
    mkdir_in(db, sizeof db, "b");
    mkdir_in(dc, sizeof dc, "c");
    gate_engine *eng = engine();
    gate_module *m = load(eng, "zygote.wasm");
    const char *pre[1] = { "data" };
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = "init";
    zc.preopens = pre;
    zc.npreopens = 1;
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    if (!z)
        fail_msg("%s", err.message);
    assert_false(gate_is_suspended(z));
    /* two children forked before either runs; the first closes fd 3 */
    gate_imports *ia = wasi_child(eng, "one", true, "ZYGOTE=1", da, "data");
    gate_imports *ib = wasi_child(eng, "two", false, "ZYGOTE=2", db, "data");
    gate_instance *ca = gate_instance_fork_imports(z, ia, &err);
    gate_instance *cb = gate_instance_fork_imports(z, ib, &err);
    assert_non_null(ca);
    assert_non_null(cb);
    assert_int_equal(run_child(ca), 3);         /* its fd 3 is gone */
    assert_int_equal(run_child(cb), 0);         /* its sibling's is not */
    expect_file(db, "two.txt", "two 2\n");
    char path[300];
    snprintf(path, sizeof path, "%s/one.txt", da);
    assert_int_not_equal(access(path, F_OK), 0);
    /* and the zygote's children after them see nothing of theirs */
    gate_imports *ic = wasi_child(eng, "three", false, NULL, dc, "data");
    gate_instance *cc = gate_instance_fork_imports(z, ic, &err);
    assert_int_equal(run_child(cc), 0);
    expect_file(dc, "three.txt", "three -\n");
    /* a child granted other preopens than the zygote saw is refused */
    gate_imports *iw = wasi_child(eng, "four", false, NULL, dc, "other");
    assert_null(gate_instance_fork_imports(z, iw, &err));
    assert_int_equal(err.status, GATE_ERR_ARG);
    assert_non_null(strstr(err.message, "\"data\""));
    gate_imports *in = wasi_child(eng, "five", false, NULL, NULL, NULL);
    assert_null(gate_instance_fork_imports(z, in, &err));
    /* a zygote that saw no preopens has no child with one */
    gate_zygote_config z0c = zc;
    z0c.npreopens = 0;
    gate_instance *z0 = gate_zygote_new(m, &z0c, &err);
    assert_non_null(z0);
    assert_null(gate_instance_fork_imports(z0, ic, &err));
    assert_non_null(strstr(err.message, "did not see"));
    gate_instance *c0 = gate_instance_fork_imports(z0, in, &err);
    assert_non_null(c0);
    gate_instance_free(c0);
    gate_instance_free(z0);
    gate_instance_free(ca);
    gate_instance_free(cb);
    gate_instance_free(cc);
    gate_imports_free(ia);
    gate_imports_free(ib);
    gate_imports_free(ic);
    gate_imports_free(iw);
    gate_imports_free(in);
    gate_instance_free(z);
    /* the clock during the initialisation: pending, or a trap */
    zc.init = "init_clock";
    z = gate_zygote_new(m, &zc, &err);
    assert_non_null(z);
    char buf[100];
    assert_int_equal(gate_zygote_pending(z, buf, sizeof buf), 1);
    assert_string_equal(buf, "wasi_snapshot_preview1.clock_time_get");
    ic = wasi_child(eng, "six", false, NULL, dc, "data");
    cc = gate_instance_fork_imports(z, ic, &err);
    assert_int_equal(run_child(cc), 0);         /* the rest of init */
    assert_false(gate_is_suspended(cc));
    assert_int_equal(run_child(cc), 0);         /* then _start */
    expect_file(dc, "six.txt", "six -\n");
    gate_instance_free(cc);
    gate_imports_free(ic);
    gate_instance_free(z);
    zc.mode = GATE_ZYGOTE_TRAP;
    assert_null(gate_zygote_new(m, &zc, &err));
    assert_non_null(strstr(err.message, "not yet in the world: "
                                        "wasi_snapshot_preview1.clock_time_get"));
    gate_module_free(m);
    gate_engine_free(eng);
    char cmd[200];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_root);
    assert_int_equal(system(cmd), 0);
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
        cmocka_unit_test(test_live_imports),
        cmocka_unit_test(test_pending_authority),
        cmocka_unit_test(test_until_import),
        cmocka_unit_test(test_start_function),
        cmocka_unit_test(test_snapshot),
        cmocka_unit_test(test_wasi_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
