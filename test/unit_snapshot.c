/* unit_snapshot.c - snapshots: a stopped instance saved to bytes is a
   valid wasm module, restores into a new instance (another engine), and
   resumes to the same result; damaged or forged snapshots are refused. */
#include <stdio.h>
#include <unistd.h>
#include <xxhash.h>

#include "unit.h"
#include "../runtime/runtime.h"
#include "data/run_wasm.h"
#include "data/spectest_wasm.h"
#include "data/stripes_wasm.h"

static gate_engine *eng;
static gate_module *mod;
static uint8_t *snap;
static size_t snap_len;

static int64_t spin_ref(int depth, int64_t iters)
{
    return iters * 3 + (int64_t)depth * (depth + 1) / 2 + depth;
}

/* A stopped spin(20, N) with some memory touched. */
static int setup(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    eng = gate_engine_new(NULL, &e);
    mod = gate_module_new(eng, run_wasm, sizeof run_wasm, &e);
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &e);
    if (!in)
        return -1;
    gate_val st[2] = { { .type = GATE_I32, .of.i32 = 1000 },
                       { .type = GATE_I32, .of.i32 = 0x5a5a5a5a } };
    gate_call(in, "store32", st, 2, NULL, 0, &e);
    st[0].of.i32 = 65000;
    gate_call(in, "store32", st, 2, NULL, 0, &e);
    /* stopped by a deadline, deep in the loop at the bottom */
    gate_set_deadline(in, 20 * 1000 * 1000);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 20 },
                      { .type = GATE_I64, .of.i64 = unit_busy(300000000) } }, r;
    if (gate_call(in, "spin", a, 2, &r, 1, &e) != GATE_SUSPENDED)
        return -1;
    if (gate_snapshot(in, &snap, &snap_len, &e) != GATE_OK) {
        printf("snapshot: %s\n", e.message);
        return -1;
    }
    gate_instance_free(in);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gate_free_buffer(eng, snap, snap_len);
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}

static void is_a_valid_wasm_module(void **state)
{
    (void)state;
    gate_error e;
    assert_int_equal(gate_validate(eng, snap, snap_len, &e), GATE_OK);
    /* and wabt agrees, when it is installed */
    FILE *f = fopen("build/test-snapshot.wasm", "wb");
    if (f) {
        fwrite(snap, 1, snap_len, f);
        fclose(f);
        if (system("command -v wasm-validate > /dev/null 2>&1") == 0)
            assert_int_equal(system("wasm-validate build/test-snapshot.wasm"), 0);
        remove("build/test-snapshot.wasm");
    }
}

static void restores_and_resumes_elsewhere(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.bounds = GATE_BOUNDS_EXPLICIT;        /* even a differently built engine */
    gate_engine *other = gate_engine_new(&cfg, &e);
    gate_instance *in = gate_snapshot_restore(other, snap, snap_len, NULL, &e);
    if (!in)
        fail_msg("restore: %s", e.message);
    assert_true(gate_is_suspended(in));
    assert_int_equal(in->susp.nframes, 21);
    /* memory came along */
    uint32_t v = 0;
    assert_int_equal(gate_memory_read(in, 1000, &v, 4), GATE_OK);
    assert_int_equal(v, 0x5a5a5a5a);
    assert_int_equal(gate_memory_read(in, 65000, &v, 4), GATE_OK);
    assert_int_equal(v, 0x5a5a5a5a);
    gate_val r;
    assert_int_equal(gate_resume(in, &r, 1, &e), GATE_OK);
    assert_true(r.of.i64 == spin_ref(20, unit_busy(300000000)));
    /* and it can be snapshotted again, idle this time */
    uint8_t *again;
    size_t alen;
    assert_int_equal(gate_snapshot(in, &again, &alen, &e), GATE_OK);
    gate_instance *idle = gate_snapshot_restore(other, again, alen, NULL, &e);
    assert_non_null(idle);
    assert_false(gate_is_suspended(idle));
    gate_instance_free(idle);
    gate_free_buffer(other, again, alen);
    gate_instance_free(in);
    gate_engine_free(other);
}

static void refuse(const uint8_t *b, size_t n, const char *msg)
{
    gate_error e;
    gate_instance *in = gate_snapshot_restore(eng, b, n, NULL, &e);
    if (in) {
        gate_instance_free(in);
        fail_msg("bad snapshot restored (%s)", msg);
    }
    if (!strstr(e.message, msg))
        fail_msg("want \"%s\", got \"%s\"", msg, e.message);
}

static void damaged_snapshots(void **state)
{
    (void)state;
    uint8_t *b = malloc(snap_len);
    for (size_t n = 0; n < snap_len; n += 1 + n / 8)
        refuse(snap, n, "");                  /* every truncation */
    for (size_t i = 0; i < snap_len; i += 7) {
        memcpy(b, snap, snap_len);
        b[i] ^= 0x04;
        refuse(b, snap_len, "");              /* every bit flip */
    }
    free(b);
}

/* Finds gate.stack's payload, changes a u32 in it, fixes the checksum. */
static void forge(size_t frame_field, uint32_t value, const char *msg)
{
    uint8_t *b = malloc(snap_len);
    memcpy(b, snap, snap_len);
    uint8_t *p = memmem(b, snap_len, "gate.stack", 10);
    assert_non_null(p);
    p += 10 + 4;                              /* name, frame count */
    memcpy(p + frame_field, &value, 4);
    uint64_t sum = XXH3_64bits(b, snap_len - 24);
    memcpy(b + snap_len - 8, &sum, 8);
    refuse(b, snap_len, msg);
    free(b);
}

static void forged_frames(void **state)
{
    (void)state;
    forge(0, 0, "");                          /* frame 0 in an imported/other function */
    forge(4, 3, "safe point");                /* a wasm offset that is no safe point */
    forge(8, 200, "");                        /* too many slots */
    forge(8, 0, "");                          /* too few slots */
    /* a slot's type byte changed: i32 where the function has f64 */
    uint8_t *b = malloc(snap_len);
    memcpy(b, snap, snap_len);
    uint8_t *p = memmem(b, snap_len, "gate.stack", 10) + 10 + 4 + 12;
    p[0] = p[0] == GT_I32 ? GT_I64 : GT_I32;
    uint64_t sum = XXH3_64bits(b, snap_len - 24);
    memcpy(b + snap_len - 8, &sum, 8);
    refuse(b, snap_len, "does not fit its type");
    free(b);
}

/* Section boundaries of a module: ends[i] = offset just past section i. */
static size_t section_ends(const uint8_t *b, size_t n, size_t *ends, size_t max)
{
    size_t pos = 8, k = 0;
    while (pos < n && k < max) {
        pos++;                                /* id */
        uint64_t size = 0;
        unsigned shift = 0;
        while (pos < n) {
            uint8_t c = b[pos++];
            size |= (uint64_t)(c & 0x7f) << shift;
            shift += 7;
            if (!(c & 0x80))
                break;
        }
        pos += size;
        ends[k++] = pos;
    }
    return k;
}

static void truncated_at_every_section_boundary(void **state)
{
    (void)state;
    size_t ends[64];
    size_t k = section_ends(snap, snap_len, ends, 64);
    assert_true(k >= 8);                      /* type ... data, gate.*, checksum */
    assert_int_equal(ends[k - 1], snap_len);
    for (size_t i = 0; i < k; i++)
        for (int d = -1; d <= 1; d++)
            if (ends[i] + d < snap_len)
                refuse(snap, ends[i] + d, "");
    refuse(snap, 0, "");
    refuse(snap, 8, "");
}

/* Another module's snapshot payload with this one's state sections
   (checksum recomputed): the frames do not fit, refused. */
static uint8_t *splice_state(const uint8_t *mod_bytes, size_t mod_len, size_t *out_len)
{
    const uint8_t *st = memmem(snap, snap_len, "\x0agate.state", 11);
    const uint8_t *ck = memmem(snap, snap_len, "\x0dgate.checksum", 14);
    assert_non_null(st);
    assert_non_null(ck);
    /* gate.state starts two bytes (id 0, one-byte size) before its name */
    size_t from = (size_t)(st - snap) - 2, to = (size_t)(ck - snap) - 2;
    size_t n = mod_len + (to - from) + 24;
    uint8_t *b = malloc(n);
    memcpy(b, mod_bytes, mod_len);
    memcpy(b + mod_len, snap + from, to - from);
    uint8_t *c = b + mod_len + (to - from);
    memcpy(c, snap + to, 24);                 /* id, size, name, then the sum */
    uint64_t sum = XXH3_64bits(b, n - 24);
    memcpy(b + n - 8, &sum, 8);
    *out_len = n;
    return b;
}

static void wrong_module(void **state)
{
    (void)state;
    size_t n;
    uint8_t *b = splice_state(spectest_wasm, sizeof spectest_wasm, &n);
    refuse(b, n, "bad gate.state");      /* its entry function does not exist */
    free(b);
    /* the right module with its state sections is accepted: the splice
       itself is sound */
    size_t ends[64];
    size_t k = section_ends(snap, snap_len, ends, 64);
    const uint8_t *st = memmem(snap, snap_len, "\x0agate.state", 11);
    size_t body = 0;
    for (size_t i = 0; i < k; i++)
        if (ends[i] <= (size_t)(st - snap) - 2)
            body = ends[i];
    b = splice_state(snap, body, &n);
    assert_int_equal(n, snap_len);
    assert_memory_equal(b, snap, n);
    free(b);
}

/* Sums smaps fields over the mappings inside [lo, hi). */
static void smaps_sum(uintptr_t lo, uintptr_t hi, size_t *shared_kb, size_t *private_dirty_kb)
{
    FILE *f = fopen("/proc/self/smaps", "r");
    assert_non_null(f);
    char line[256];
    bool in = false;
    *shared_kb = *private_dirty_kb = 0;
    while (fgets(line, sizeof line, f)) {
        unsigned long a, b;
        size_t kb;
        if (sscanf(line, "%lx-%lx ", &a, &b) == 2 && strchr(line, '-') < strchr(line, ' '))
            in = a >= lo && b <= hi;
        else if (in && (sscanf(line, "Shared_Clean: %zu kB", &kb) == 1 ||
                        sscanf(line, "Shared_Dirty: %zu kB", &kb) == 1))
            *shared_kb += kb;         /* memfd pages count as dirty */
        else if (in && sscanf(line, "Private_Dirty: %zu kB", &kb) == 1)
            *private_dirty_kb += kb;
    }
    fclose(f);
}

/* A program restored from a snapshot, then forked: the child maps the
   parent's pages and copies only those it writes. */
/* A snapshot names objects per target; restoring with the code of a module
   of the same program uses it (maps moved to the snapshot's layout), with
   another program's it compiles instead; the result is the same. */
static void named_objects_and_shared_code(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *in = gate_snapshot_restore(eng, snap, snap_len, NULL, &e);
    assert_non_null(in);
    char name[64];
    assert_int_equal(gate_snapshot_object_name(snap, snap_len, GATE_TARGET_HOST, name, sizeof name),
                     GATE_ERR_NOT_FOUND);
    assert_int_equal(gate_snapshot_name_object(in, GATE_TARGET_ARM64, "prog-arm64.gobj"), GATE_OK);
    assert_int_equal(gate_snapshot_name_object(in, GATE_TARGET_X86_64, "prog-x86_64.gobj"), GATE_OK);
    assert_int_equal(gate_snapshot_name_object(in, GATE_TARGET_ARM64, ""), GATE_ERR_ARG);
    uint8_t *s2;
    size_t l2;
    assert_int_equal(gate_snapshot(in, &s2, &l2, &e), GATE_OK);
    gate_instance_free(in);
    assert_int_equal(gate_snapshot_object_name(s2, l2, GATE_TARGET_ARM64, name, sizeof name), GATE_OK);
    assert_string_equal(name, "prog-arm64.gobj");
    assert_int_equal(gate_snapshot_object_name(s2, l2, GATE_TARGET_X86_64, name, sizeof name), GATE_OK);
    assert_string_equal(name, "prog-x86_64.gobj");
    assert_int_equal(gate_snapshot_object_name(s2, l2, GATE_TARGET_ARM64, name, 4), GATE_ERR_SNAPSHOT);

    gate_val r, want;
    int used = -1;
    /* the program's own module: its code is used */
    gate_instance *a = gate_snapshot_restore_code(eng, s2, l2, mod, NULL, &used, &e);
    assert_non_null(a);
    assert_int_equal(used, 1);
    assert_int_equal(gate_resume(a, &want, 1, &e), GATE_OK);
    assert_true(want.of.i64 == spin_ref(20, unit_busy(300000000)));
    /* names survive a restore */
    uint8_t *s3;
    size_t l3;
    assert_int_equal(gate_snapshot(a, &s3, &l3, &e), GATE_OK);
    assert_int_equal(gate_snapshot_object_name(s3, l3, GATE_TARGET_ARM64, name, sizeof name), GATE_OK);
    gate_free_buffer(eng, s3, l3);
    gate_instance_free(a);
    /* another program's module: compiled instead, same result */
    gate_module *other = gate_module_new(eng, spectest_wasm, sizeof spectest_wasm, &e);
    assert_non_null(other);
    gate_instance *b = gate_snapshot_restore_code(eng, s2, l2, other, NULL, &used, &e);
    assert_non_null(b);
    assert_int_equal(used, 0);
    assert_int_equal(gate_resume(b, &r, 1, &e), GATE_OK);
    assert_true(r.of.i64 == want.of.i64);
    gate_instance_free(b);
    gate_module_free(other);
    gate_free_buffer(eng, s2, l2);
}

static void fork_of_restored_shares_pages(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_instance *in = gate_snapshot_restore(eng, snap, snap_len, NULL, &e);
    assert_non_null(in);
    gate_val r;
    assert_int_equal(gate_resume(in, &r, 1, &e), GATE_OK);
    gate_val g = { .type = GATE_I32, .of.i32 = 3 };   /* to its maximum, 4 pages */
    assert_int_equal(gate_call(in, "grow", &g, 1, &r, 1, &e), GATE_OK);
    size_t size = (size_t)in->mem->pages * 65536;
    uint8_t *fill = malloc(size);
    for (size_t i = 0; i < size; i++)
        fill[i] = (uint8_t)(i * 7 + 1);
    assert_int_equal(gate_memory_write(in, 0, fill, size), GATE_OK);
    uint8_t *idle;
    size_t idle_len;
    assert_int_equal(gate_snapshot(in, &idle, &idle_len, &e), GATE_OK);
    gate_instance_free(in);

    gate_instance *parent = gate_snapshot_restore(eng, idle, idle_len, NULL, &e);
    assert_non_null(parent);
    gate_instance *child = gate_instance_fork(parent, &e);
    assert_non_null(child);
    assert_int_equal(child->mem->pages, parent->mem->pages);
    /* both read every page */
    assert_memory_equal(child->mem->base, fill, size);
    assert_memory_equal(parent->mem->base, fill, size);
    uintptr_t lo = (uintptr_t)child->mem->base;
    size_t shared, dirty;
    smaps_sum(lo, lo + size, &shared, &dirty);
    printf("  child of a restored %zu KiB memory: %zu KiB shared, %zu KiB private dirty\n",
           size / 1024, shared, dirty);
    assert_true(shared >= size / 1024 * 9 / 10);
    assert_true(dirty <= 64);
    /* a write copies one page, in the child only */
    gate_val st[2] = { { .type = GATE_I32, .of.i32 = 4096 * 10 },
                       { .type = GATE_I32, .of.i32 = 0x01020304 } };
    assert_int_equal(gate_call(child, "store32", st, 2, NULL, 0, &e), GATE_OK);
    size_t dirty2;
    smaps_sum(lo, lo + size, &shared, &dirty2);
    assert_true(dirty2 >= dirty + 4 && dirty2 <= dirty + 64);
    assert_memory_equal(parent->mem->base, fill, size);
    gate_instance_free(child);
    gate_instance_free(parent);
    gate_free_buffer(eng, idle, idle_len);
    free(fill);
}

/* A snapshot's segment count depends on the memory, never on how many
   snapshots came before: 100 fuel hops, each restored from the last. */
static void segments_constant_over_100_hops(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;
    gate_engine *fe = gate_engine_new(&cfg, &e);
    gate_module *m = gate_module_new(fe, run_wasm, sizeof run_wasm, &e);
    gate_instance *in = gate_instance_new(m, NULL, NULL, &e);
    assert_non_null(in);
    for (int32_t at = 0; at < 60000; at += 5000) {      /* some memory to save */
        gate_val st[2] = { { .type = GATE_I32, .of.i32 = at }, { .type = GATE_I32, .of.i32 = at + 1 } };
        assert_int_equal(gate_call(in, "store32", st, 2, NULL, 0, &e), GATE_OK);
    }
    int64_t iters = 200000;
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 5 }, { .type = GATE_I64, .of.i64 = iters } }, r;
    gate_set_fuel(in, 1000);
    gate_status st = gate_call(in, "spin", a, 2, &r, 1, &e);
    uint32_t ndata = 0, nelems = 0;
    int hops = 0;
    for (; st == GATE_SUSPENDED && hops < 300; hops++) {
        uint8_t *s;
        size_t n;
        assert_int_equal(gate_snapshot(in, &s, &n, &e), GATE_OK);
        gate_instance_free(in);
        in = gate_snapshot_restore(fe, s, n, NULL, &e);
        gate_free_buffer(fe, s, n);
        if (!in)
            fail_msg("hop %d: %s", hops, e.message);
        if (hops == 0) {
            ndata = in->mod->info.ndata;
            nelems = in->mod->info.nelems;
        } else if (in->mod->info.ndata != ndata || in->mod->info.nelems != nelems) {
            fail_msg("hop %d: %u data and %u element segments, after %u and %u", hops,
                     in->mod->info.ndata, in->mod->info.nelems, ndata, nelems);
        }
        gate_set_fuel(in, 1000);
        st = gate_resume(in, &r, 1, &e);
    }
    assert_int_equal(st, GATE_OK);
    assert_true(hops >= 100);
    assert_true(r.of.i64 == spin_ref(5, iters));
    assert_true(ndata == 1);                /* the 12 stores, 5,000 bytes apart: one run */
    gate_instance_free(in);
    gate_module_free(m);
    gate_engine_free(fe);
}

/* Memory in 64-byte stripes (data, zeros, data...) over 256 MiB: one
   merged run, not two million segments; every byte comes back. */
static void striped_memory_snapshots(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_module *m = gate_module_new(eng, stripes_wasm, sizeof stripes_wasm, &e);
    gate_instance *in = gate_instance_new(m, NULL, NULL, &e);
    assert_non_null(in);
    int32_t n = (int32_t)(unit_busy(256 << 20) & ~(int64_t)127);
    gate_val a = { .type = GATE_I32, .of.i32 = n }, r;
    assert_int_equal(gate_call(in, "fill", &a, 1, NULL, 0, &e), GATE_OK);
    uint8_t *s;
    size_t len;
    assert_int_equal(gate_snapshot(in, &s, &len, &e), GATE_OK);
    gate_instance *back = gate_snapshot_restore(eng, s, len, NULL, &e);
    if (!back)
        fail_msg("restore: %s", e.message);
    assert_true(back->mod->info.ndata <= 2);
    assert_int_equal(gate_call(back, "check", &a, 1, &r, 1, &e), GATE_OK);
    assert_int_equal(r.of.i32, 0);
    gate_instance_free(back);
    gate_free_buffer(eng, s, len);
    gate_instance_free(in);
    gate_module_free(m);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(is_a_valid_wasm_module),
        cmocka_unit_test(restores_and_resumes_elsewhere),
        cmocka_unit_test(damaged_snapshots),
        cmocka_unit_test(forged_frames),
        cmocka_unit_test(truncated_at_every_section_boundary),
        cmocka_unit_test(wrong_module),
        cmocka_unit_test(fork_of_restored_shares_pages),
        cmocka_unit_test(named_objects_and_shared_code),
        cmocka_unit_test(segments_constant_over_100_hops),
        cmocka_unit_test(striped_memory_snapshots),
    };
    return cmocka_run_group_tests_name("snapshot", tests, setup, teardown);
}
