/* unit_grants.c - a snapshot's WASI state grants nothing: preopens come
   back only where the restorer grants a directory to their guest name,
   files only beneath a granted preopen, as they were opened, never created
   or truncated, never a FIFO or device; and a guest never changes the
   flags of the host's standard streams. */
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "unit.h"
#include "../runtime/runtime.h"

static char dir[64];

static int setup(void **state)
{
    (void)state;
    rt_signals_reinstall();
    snprintf(dir, sizeof dir, "/tmp/gate-grants-XXXXXX");
    return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    return system(cmd);
}

/* gate.wasi payloads, written field by field */
static void u32(mb *m, uint32_t v) { mb_bytes(m, &v, 4); }
static void str(mb *m, const char *s)
{
    u32(m, (uint32_t)strlen(s));
    mb_bytes(m, s, strlen(s));
}
static void head(mb *m, uint32_t nfds)
{
    uint64_t clock = 0;
    mb_bytes(m, &clock, 8);
    u32(m, 0);                          /* argc */
    u32(m, 0);                          /* envc */
    u32(m, nfds);
    for (int i = 0; i < 3; i++)
        mb_bytes(m, "\x01\x00\x00", 3); /* stdio */
}
static void preopen(mb *m, const char *guest)
{
    mb_bytes(m, "\x02\x00\x00", 3);
    str(m, guest);
}
static void file(mb *m, uint32_t dirfd, const char *path, uint8_t access, uint64_t off)
{
    mb_bytes(m, "\x03\x00\x00", 3);
    u32(m, dirfd);
    str(m, path);
    mb_byte(m, access);
    mb_bytes(m, &off, 8);
}

/* A "snapshot" that is only a module header and the gate.wasi section:
   all gate_imports_wasi_from_snapshot reads. */
static void wrap(mb *out, const mb *payload)
{
    mb sec = { 0 };
    mb_u32(&sec, 9);
    mb_bytes(&sec, "gate.wasi", 9);
    mb_bytes(&sec, payload->b, payload->n);
    mb_header(out);
    mb_section(out, 0, &sec);
    mb_free(&sec);
}

typedef struct outcome {
    int n;
    char what[8][160];
} outcome;

static void on_report(void *ud, const char *preopen, const char *path, const char *host,
                      const char *why)
{
    outcome *o = ud;
    (void)host;
    if (o->n < 8)
        snprintf(o->what[o->n++], sizeof o->what[0], "%s|%s|%s", preopen, path ? path : "-",
                 why ? why : "reattached");
}

/* Restores payload with the given grants; the status, outcomes in *o. */
static gate_status restore(const mb *payload, int ndirs, const char **host, const char **guest,
                           outcome *o)
{
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_imports *imp = gate_imports_new(eng);
    mb snap = { 0 };
    wrap(&snap, payload);
    memset(o, 0, sizeof *o);
    gate_wasi_grants gr = { .ndirs = ndirs, .dir_host = host, .dir_guest = guest,
                            .report = on_report, .report_ud = o };
    gate_status st = gate_imports_wasi_from_snapshot(imp, snap.b, snap.n, &gr, &e);
    mb_free(&snap);
    gate_imports_free(imp);
    gate_engine_free(eng);
    return st;
}

static void path_in(char *buf, size_t n, const char *name)
{
    snprintf(buf, n, "%s/%s", dir, name);
}

/* Writes text to dir/name; its path in f. */
static void put_file(char *f, size_t n, const char *name, const char *text)
{
    path_in(f, n, name);
    FILE *fp = fopen(f, "w");
    assert_non_null(fp);
    fputs(text, fp);
    fclose(fp);
}

/* The attack: a preopen named "/" and /etc/passwd beneath it.  With no
   grant nothing is opened: both are lost. */
static void forged_preopen_opens_nothing(void **state)
{
    (void)state;
    mb p = { 0 };
    head(&p, 5);
    preopen(&p, "/");
    file(&p, 3, "etc/passwd", 1, 0);
    outcome o;
    assert_int_equal(restore(&p, 0, NULL, NULL, &o), GATE_OK);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.what[0], "/|-|not granted");
    assert_string_equal(o.what[1], "/|etc/passwd|its preopen was not granted");
    /* granted something else under another name: still nothing */
    const char *h[] = { dir }, *g[] = { "data" };
    assert_int_equal(restore(&p, 1, h, g, &o), GATE_OK);
    assert_string_equal(o.what[0], "/|-|not granted");
    mb_free(&p);
}

/* Granted by guest name: the preopen and its file come back. */
static void granted_preopen_reattaches(void **state)
{
    (void)state;
    char f[128];
    put_file(f, sizeof f, "in.txt", "0123456789");
    mb p = { 0 };
    head(&p, 5);
    preopen(&p, "data");
    file(&p, 3, "in.txt", 1, 4);
    outcome o;
    const char *h[] = { dir }, *g[] = { "data" };
    assert_int_equal(restore(&p, 1, h, g, &o), GATE_OK);
    assert_int_equal(o.n, 2);
    assert_string_equal(o.what[0], "data|-|reattached");
    assert_string_equal(o.what[1], "data|in.txt|reattached");
    mb_free(&p);
}

/* Files are never created or truncated by a restore, whatever the record
   says; access bits beyond read/write/directory are refused outright. */
static void restore_never_creates_or_truncates(void **state)
{
    (void)state;
    char f[128];
    put_file(f, sizeof f, "keep.txt", "precious");
    const char *h[] = { dir }, *g[] = { "data" };
    outcome o;
    mb p = { 0 };
    head(&p, 6);
    preopen(&p, "data");
    file(&p, 3, "keep.txt", 3, 0);          /* read/write: reopened, not truncated */
    file(&p, 3, "new.txt", 2, 0);           /* write: not created */
    assert_int_equal(restore(&p, 1, h, g, &o), GATE_OK);
    assert_string_equal(o.what[1], "data|keep.txt|reattached");
    assert_string_equal(o.what[2], "data|new.txt|No such file or directory");
    struct stat st;
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_size, 8);
    path_in(f, sizeof f, "new.txt");
    assert_int_not_equal(stat(f, &st), 0);
    mb_free(&p);
    /* the old attack's bits (O_CREAT | O_TRUNC as host flags) in the
       access byte: the section is refused */
    mb q = { 0 };
    head(&q, 5);
    preopen(&q, "data");
    file(&q, 3, "keep.txt", (uint8_t)(O_CREAT | O_TRUNC | 2), 0);
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_imports *imp = gate_imports_new(eng);
    mb snap = { 0 };
    wrap(&snap, &q);
    gate_wasi_grants gr = { .ndirs = 1, .dir_host = h, .dir_guest = g };
    assert_int_equal(gate_imports_wasi_from_snapshot(imp, snap.b, snap.n, &gr, &e),
                     GATE_ERR_SNAPSHOT);
    assert_non_null(strstr(e.message, "gate.wasi"));
    mb_free(&snap);
    mb_free(&q);
    gate_imports_free(imp);
    gate_engine_free(eng);
    path_in(f, sizeof f, "keep.txt");
    assert_int_equal(stat(f, &st), 0);
    assert_int_equal(st.st_size, 8);
}

/* A FIFO (or a directory) where the file was: not opened, no hang; and a
   path that climbs out of the preopen is refused by the resolver. */
static void fifo_and_escape_are_lost(void **state)
{
    (void)state;
    char f[128];
    path_in(f, sizeof f, "fifo");
    assert_int_equal(mkfifo(f, 0600), 0);
    const char *h[] = { dir }, *g[] = { "data" };
    outcome o;
    mb p = { 0 };
    head(&p, 7);
    preopen(&p, "data");
    file(&p, 3, "fifo", 1, 0);
    file(&p, 3, "fifo", 2, 0);
    file(&p, 3, "../../etc/passwd", 1, 0);
    assert_int_equal(restore(&p, 1, h, g, &o), GATE_OK);
    assert_string_equal(o.what[1], "data|fifo|not a regular file");
    assert_true(strstr(o.what[2], "data|fifo|") != NULL);
    assert_true(strstr(o.what[2], "reattached") == NULL);
    assert_true(strstr(o.what[3], "reattached") == NULL);
    mb_free(&p);
}

/*
 * A guest setting O_NONBLOCK/O_APPEND on stdout: fd_fdstat_set_flags(1, 5)
 * from wasm; the host's stdout keeps its flags.
 *   (import "wasi_snapshot_preview1" "fd_fdstat_set_flags" (func (param i32 i32) (result i32)))
 *   (func (export "f") (result i32) i32.const 1 i32.const 5 call 0)
 */
/* Renumbered descriptors: a file under 1 whose preopen comes after it, a
   standard stream under another number; a forged stream number, a file
   beneath a descriptor that is not a preopen, and a file that names
   itself as its preopen are refused. */
static gate_status restore_raw(const mb *payload, const char **h, const char **g, char *msg)
{
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_imports *imp = gate_imports_new(eng);
    mb snap = { 0 };
    wrap(&snap, payload);
    gate_wasi_grants gr = { .ndirs = 1, .dir_host = h, .dir_guest = g };
    gate_status st = gate_imports_wasi_from_snapshot(imp, snap.b, snap.n, &gr, &e);
    if (st != GATE_OK)
        snprintf(msg, 256, "%s", e.message);
    mb_free(&snap);
    gate_imports_free(imp);
    gate_engine_free(eng);
    return st;
}

static void renumbered_descriptors(void **state)
{
    (void)state;
    char f[128], msg[256] = "";
    put_file(f, sizeof f, "log.txt", "log");
    const char *h[] = { dir }, *g[] = { "data" };
    outcome o;
    /* fd 1 a file beneath preopen 3; fd 4 the host's stderr */
    mb p = { 0 };
    uint64_t clock = 0, off = 3;
    mb_bytes(&p, &clock, 8);
    u32(&p, 0);
    u32(&p, 0);
    u32(&p, 5);
    mb_bytes(&p, "\x01\x00\x00", 3);
    file(&p, 3, "log.txt", 2, off);
    mb_bytes(&p, "\x00\x00\x00", 3);     /* 2: closed */
    preopen(&p, "data");
    mb_bytes(&p, "\x04\x00\x00\x02", 4); /* 4: stderr */
    assert_int_equal(restore(&p, 1, h, g, &o), GATE_OK);
    assert_string_equal(o.what[1], "data|log.txt|reattached");
    mb_free(&p);
    struct { const char *what; uint8_t bad[4]; size_t n; } forged[] = {
        { "stream 3", { 4, 0, 0, 3 }, 4 },
    };
    for (size_t i = 0; i < sizeof forged / sizeof forged[0]; i++) {
        mb q = { 0 };
        head(&q, 5);
        preopen(&q, "data");
        mb_bytes(&q, forged[i].bad, forged[i].n);
        assert_int_equal(restore_raw(&q, h, g, msg), GATE_ERR_SNAPSHOT);
        mb_free(&q);
    }
    /* beneath a descriptor that is a file, not a preopen */
    mb q = { 0 };
    head(&q, 6);
    preopen(&q, "data");
    file(&q, 5, "log.txt", 1, 0);
    file(&q, 3, "log.txt", 1, 0);
    assert_int_equal(restore_raw(&q, h, g, msg), GATE_ERR_SNAPSHOT);
    assert_non_null(strstr(msg, "not a preopen"));
    mb_free(&q);
    /* a socket, also one renumbered onto 1: restored, lost */
    mb sk = { 0 };
    uint64_t zero = 0;
    mb_bytes(&sk, &zero, 8);
    u32(&sk, 0);
    u32(&sk, 0);
    u32(&sk, 5);
    mb_bytes(&sk, "\x01\x00\x00", 3);
    mb_bytes(&sk, "\x05\x00\x00", 3);    /* 1: a socket */
    mb_bytes(&sk, "\x01\x00\x00", 3);
    preopen(&sk, "data");
    mb_bytes(&sk, "\x05\x00\x00", 3);    /* 4: a socket */
    assert_int_equal(restore_raw(&sk, h, g, msg), GATE_OK);
    mb_free(&sk);
    /* beneath itself */
    mb r = { 0 };
    head(&r, 5);
    preopen(&r, "data");
    file(&r, 4, "log.txt", 1, 0);
    assert_int_equal(restore_raw(&r, h, g, msg), GATE_ERR_SNAPSHOT);
    mb_free(&r);
}

static void stdio_flags_stay_the_hosts(void **state)
{
    (void)state;
    static const uint8_t wasm[] = {
        0, 'a', 's', 'm', 1, 0, 0, 0,
        1, 11, 2, 0x60, 2, 0x7f, 0x7f, 1, 0x7f, 0x60, 0, 1, 0x7f,
        2, 46, 1, 22, 'w', 'a', 's', 'i', '_', 's', 'n', 'a', 'p', 's', 'h', 'o', 't', '_',
        'p', 'r', 'e', 'v', 'i', 'e', 'w', '1', 19, 'f', 'd', '_', 'f', 'd', 's', 't', 'a',
        't', '_', 's', 'e', 't', '_', 'f', 'l', 'a', 'g', 's', 0, 0,
        3, 2, 1, 1,
        7, 5, 1, 1, 'f', 0, 1,
        10, 10, 1, 8, 0, 0x41, 1, 0x41, 5, 0x10, 0, 0x0b,
    };
    int before = fcntl(1, F_GETFL);
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_module *mod = gate_module_new(eng, wasm, sizeof wasm, &e);
    if (!mod)
        fail_msg("module: %s", e.message);
    gate_imports *imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_wasi(imp, NULL, &e), GATE_OK);
    gate_instance *in = gate_instance_new(mod, imp, NULL, &e);
    assert_non_null(in);
    gate_val r;
    assert_int_equal(gate_call(in, "f", NULL, 0, &r, 1, &e), GATE_OK);
    assert_int_equal(r.of.i32, 0);
    assert_int_equal(fcntl(1, F_GETFL), before);
    gate_instance_free(in);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forged_preopen_opens_nothing),
        cmocka_unit_test(granted_preopen_reattaches),
        cmocka_unit_test(restore_never_creates_or_truncates),
        cmocka_unit_test(fifo_and_escape_are_lost),
        cmocka_unit_test(stdio_flags_stay_the_hosts),
        cmocka_unit_test(renumbered_descriptors),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
