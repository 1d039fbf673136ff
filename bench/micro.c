/*
 * micro.c - what a host pays outside generated code: compile throughput,
 * instantiate, fork, the time to stop a busy program, and snapshot write
 * and restore throughput.  Prints "key value unit" lines for bench/run.sh.
 *
 *   micro compile FILE [REPS [TARGET]]  decode + validate + compile FILE
 *                                  (TARGET x86_64|arm64: that backend, through
 *                                  gate_module_write_object)
 *   micro costs MICRO.wasm [MB]    the rest, with MB (default 256) of
 *                                  touched memory for the snapshot part
 */
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "libgate.h"

static double now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static double median(double *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_d);
    return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static uint8_t *read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n + 1 + 64);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n) {
        fclose(f);
        free(b);
        return NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void die(const char *what, const gate_error *e)
{
    fprintf(stderr, "micro: %s: %s\n", what, e ? e->message : "failed");
    exit(1);
}

/* ---- compile ------------------------------------------------------------- */

/* target HOST: gate_module_new; another target: gate_module_write_object
   for it (its backend compiles the module; the object is written in
   memory), timed alone. */
static int compile_speed(const char *path, int reps, gate_target target)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) {
        perror(path);
        return 1;
    }
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    if (!eng)
        die("engine", &e);
    double *t = malloc(sizeof *t * (size_t)reps);
    /* one warm-up compile, not counted (node-compile.mjs does the same) */
    gate_module_free(gate_module_new(eng, b, len, &e));
    for (int i = 0; i < reps; i++) {
        double t0 = now_us();
        gate_module *m = gate_module_new(eng, b, len, &e);
        t[i] = now_us() - t0;
        if (!m)
            die(path, &e);
        if (target != GATE_TARGET_HOST) {
            uint8_t *obj;
            size_t olen;
            t0 = now_us();
            if (gate_module_write_object(m, target, &obj, &olen, &e) != GATE_OK)
                die(path, &e);
            t[i] = now_us() - t0;
            gate_free_buffer(eng, obj, olen);
        }
        gate_module_free(m);
    }
    double med = median(t, reps);
    printf("compile_ms %.3f ms\ncompile_mbps %.1f MB/s\nsize %zu bytes\n", med / 1e3,
           len / med, len);
    free(t);
    free(b);
    gate_engine_free(eng);
    return 0;
}

/* ---- costs --------------------------------------------------------------- */

/* Appends a data section with one active 1 MiB segment at 1 MiB. */
static uint8_t *with_data(const uint8_t *m, size_t n, size_t *out_len)
{
    const uint32_t size = 1 << 20;
    uint8_t *b = malloc(n + size + 32);
    memcpy(b, m, n);
    size_t p = n;
    uint8_t hdr[] = { 11, 0, 0, 0, 0, 1, 0, 0x41, 0x80, 0x80, 0xc0, 0x00, 0x0b,
                      0x80, 0x80, 0x40 };
    /* section size: everything after the 5-byte LEB, padded */
    uint32_t sec = (uint32_t)(sizeof hdr - 5) + size;
    hdr[1] = 0x80 | (sec & 0x7f);
    hdr[2] = 0x80 | ((sec >> 7) & 0x7f);
    hdr[3] = 0x80 | ((sec >> 14) & 0x7f);
    hdr[4] = (uint8_t)(sec >> 21);
    memcpy(b + p, hdr, sizeof hdr);
    p += sizeof hdr;
    uint64_t x = 88172645463325252ull;
    for (uint32_t i = 0; i < size; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        b[p + i] = (uint8_t)(x | 1);
    }
    *out_len = p + size;
    return b;
}

/* Sum of the smaps_rollup fields that are this process's own pages. */
static long private_kb(void)
{
    FILE *f = fopen("/proc/self/smaps_rollup", "r");
    if (!f)
        return -1;
    char line[256];
    long sum = 0, kb;
    while (fgets(line, sizeof line, f))
        if (sscanf(line, "Private_Dirty: %ld kB", &kb) == 1 ||
            sscanf(line, "Private_Clean: %ld kB", &kb) == 1)
            sum += kb;
    fclose(f);
    return sum;
}

typedef struct stopper {
    gate_instance *inst;
    double t_req;
    int delay_us;
} stopper;

static void *stop_later(void *p)
{
    stopper *s = p;
    usleep((useconds_t)s->delay_us);
    s->t_req = now_us();
    gate_request_stop(s->inst);
    return NULL;
}

static void call(gate_instance *in, const char *f, gate_val *a, size_t na)
{
    gate_error e;
    if (gate_call(in, f, a, na, NULL, 0, &e) != GATE_OK)
        die(f, &e);
}

static int costs(const char *path, int mb)
{
    size_t n, len;
    uint8_t *raw = read_file(path, &n);
    if (!raw) {
        perror(path);
        return 1;
    }
    uint8_t *bytes = with_data(raw, n, &len);
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_module *mod = eng ? gate_module_new(eng, bytes, len, &e) : NULL;
    if (!mod)
        die("module", &e);
    enum { BATCH = 100, ROUNDS = 15 };
    static gate_instance *ins[BATCH];
    double t[ROUNDS];

    /* instantiate (1 MiB of data), then free */
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_us();
        for (int i = 0; i < BATCH; i++)
            if (!(ins[i] = gate_instance_new(mod, NULL, NULL, &e)))
                die("instantiate", &e);
        t[r] = (now_us() - t0) / BATCH;
        for (int i = 0; i < BATCH; i++)
            gate_instance_free(ins[i]);
    }
    printf("instantiate_us %.2f us\n", median(t, ROUNDS));
    for (int r = 0; r < ROUNDS; r++) {
        for (int i = 0; i < BATCH; i++)
            ins[i] = gate_instance_new(mod, NULL, NULL, &e);
        double t0 = now_us();
        for (int i = 0; i < BATCH; i++)
            gate_instance_free(ins[i]);
        t[r] = (now_us() - t0) / BATCH;
    }
    printf("free_us %.2f us\n", median(t, ROUNDS));

    /* fork of a prepared instance: it ran and touched 64 pages */
    gate_instance *parent = gate_instance_new(mod, NULL, NULL, &e);
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = 0 }, { .type = GATE_I32, .of.i32 = 64 } };
    call(parent, "touch", a, 2);
    gate_instance_free(gate_instance_fork(parent, &e));   /* makes the template */
    for (int r = 0; r < ROUNDS; r++) {
        double t0 = now_us();
        for (int i = 0; i < BATCH; i++)
            if (!(ins[i] = gate_instance_fork(parent, &e)))
                die("fork", &e);
        t[r] = (now_us() - t0) / BATCH;
        for (int i = 0; i < BATCH; i++)
            gate_instance_free(ins[i]);
    }
    printf("fork_us %.2f us\n", median(t, ROUNDS));
    /* memory per forked instance that ran: each writes one page */
    long before = private_kb();
    for (int i = 0; i < BATCH; i++) {
        ins[i] = gate_instance_fork(parent, &e);
        gate_val w[2] = { { .type = GATE_I32, .of.i32 = 8192 * 16 }, { .type = GATE_I32, .of.i32 = 1 } };
        call(ins[i], "touch", w, 2);
    }
    long after = private_kb();
    printf("fork_private_kb %.1f KiB\n", (after - before) / (double)BATCH);
    for (int i = 0; i < BATCH; i++)
        gate_instance_free(ins[i]);

    /* time to stop a busy program, from the request to the call's return */
    const int trials = 41;
    double lat[41];
    for (int k = 0; k < trials; k++) {
        stopper s = { .inst = parent, .delay_us = 500 + 97 * k };
        pthread_t th;
        pthread_create(&th, NULL, stop_later, &s);
        gate_val r;
        gate_status st = gate_call(parent, "spin", NULL, 0, &r, 1, &e);
        double t1 = now_us();
        pthread_join(th, NULL);
        if (st != GATE_SUSPENDED)
            die("spin did not stop", &e);
        lat[k] = t1 - s.t_req;
        /* drop the stopped call: a fork of the parent would carry it */
        gate_instance_free(parent);
        parent = gate_instance_new(mod, NULL, NULL, &e);
    }
    printf("stop_us %.2f us\n", median(lat, trials));

    /* snapshot write and restore with `mb` MiB of touched memory */
    gate_val f[2] = { { .type = GATE_I32, .of.i32 = 32 + mb * 16 },
                      { .type = GATE_I64, .of.i64 = 12345 } };
    call(parent, "fill", f, 2);
    double touched = mb + 1.0;                  /* plus the 1 MiB data segment */
    uint8_t *snap = NULL;
    size_t slen = 0;
    double ts[3], tr[3], tf[3];
    for (int r = 0; r < 3; r++) {
        if (snap)
            gate_free_buffer(eng, snap, slen);
        double t0 = now_us();
        if (gate_snapshot(parent, &snap, &slen, &e) != GATE_OK)
            die("snapshot", &e);
        ts[r] = now_us() - t0;
    }
    printf("snapshot_mbps %.0f MB/s\nsnapshot_mb %.1f MB\n", touched / (median(ts, 3) / 1e6),
           slen / 1048576.0);
    char tmp[] = "/tmp/gate-bench-XXXXXX";
    int fd = mkstemp(tmp);
    if (fd >= 0) {
        close(fd);
        double t0 = now_us();
        if (gate_snapshot_save(parent, tmp, &e) != GATE_OK)
            die("snapshot save", &e);
        printf("snapshot_save_mbps %.0f MB/s\n", touched / ((now_us() - t0) / 1e6));
        unlink(tmp);
    }
    gate_instance *back = NULL;
    for (int r = 0; r < 3; r++) {
        if (back)
            gate_instance_free(back);
        double t0 = now_us();
        if (!(back = gate_snapshot_restore(eng, snap, slen, NULL, &e)))
            die("restore", &e);
        tr[r] = now_us() - t0;
    }
    printf("restore_mbps %.0f MB/s\n", touched / (median(tr, 3) / 1e6));
    /* fork of the restored program: pages shared, not copied */
    gate_instance_free(gate_instance_fork(back, &e));
    for (int r = 0; r < 3; r++) {
        double t0 = now_us();
        gate_instance *k = gate_instance_fork(back, &e);
        tf[r] = now_us() - t0;
        if (!k)
            die("fork of restored", &e);
        gate_instance_free(k);
    }
    long b0 = private_kb();
    gate_instance *kid = gate_instance_fork(back, &e);
    gate_val g;
    if (gate_call(kid, "get", NULL, 0, &g, 1, &e) != GATE_OK)
        die("get", &e);
    printf("fork_restored_us %.2f us\nfork_restored_private_kb %ld KiB\n", median(tf, 3),
           private_kb() - b0);
    gate_instance_free(kid);
    gate_instance_free(back);
    gate_free_buffer(eng, snap, slen);
    gate_instance_free(parent);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    free(raw);
    return 0;
}

/* ---- a deep stack: stop, save, restore, resume --------------------------- */

/* `rec` of path (test/run-cli.sh's bigrec: a recursion of one big function
   that spins at the bottom) called with depth: stopped by fuel at the
   bottom, snapshotted; then restored, resumed to the next stop and
   snapshotted again.  Each part timed alone (medians of 3). */
static int deep(const char *path, int depth)
{
    size_t len;
    uint8_t *b = read_file(path, &len);
    if (!b) {
        perror(path);
        return 1;
    }
    gate_error e;
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = 1;
    gate_engine *eng = gate_engine_new(&cfg, &e);
    gate_module *mod = eng ? gate_module_new(eng, b, len, &e) : NULL;
    if (!mod)
        die("module", &e);
    gate_limits lim = { .stack_size = 64u << 20 };
    double tsave[3], trest[3], tresume[3], tsave2[3];
    size_t slen = 0;
    for (int r = 0; r < 3; r++) {
        gate_instance *in = gate_instance_new(mod, NULL, &lim, &e);
        if (!in)
            die("instantiate", &e);
        gate_set_fuel(in, 200000u + 2u * (uint64_t)depth);
        gate_val a = { .type = GATE_I32, .of.i32 = depth }, res;
        if (gate_call(in, "rec", &a, 1, &res, 1, &e) != GATE_SUSPENDED)
            die("rec did not stop", &e);
        uint8_t *snap;
        double t0 = now_us();
        if (gate_snapshot(in, &snap, &slen, &e) != GATE_OK)
            die("snapshot", &e);
        tsave[r] = now_us() - t0;
        gate_instance_free(in);
        t0 = now_us();
        gate_instance *back = gate_snapshot_restore(eng, snap, slen, NULL, &e);
        trest[r] = now_us() - t0;
        if (!back)
            die("restore", &e);
        gate_set_fuel(back, 1000);
        t0 = now_us();
        if (gate_resume(back, &res, 1, &e) != GATE_SUSPENDED)
            die("resume did not stop", &e);
        tresume[r] = now_us() - t0;
        uint8_t *snap2;
        size_t slen2;
        t0 = now_us();
        if (gate_snapshot(back, &snap2, &slen2, &e) != GATE_OK)
            die("snapshot again", &e);
        tsave2[r] = now_us() - t0;
        gate_free_buffer(eng, snap2, slen2);
        gate_free_buffer(eng, snap, slen);
        gate_instance_free(back);
    }
    printf("deep_frames %d\ndeep_func_bytes %zu\ndeep_snapshot_mb %.1f MB\n", depth + 1, len,
           slen / 1048576.0);
    printf("deep_save_ms %.1f ms\ndeep_restore_ms %.1f ms\ndeep_resume_ms %.1f ms\n"
           "deep_save_again_ms %.1f ms\n", median(tsave, 3) / 1e3, median(trest, 3) / 1e3,
           median(tresume, 3) / 1e3, median(tsave2, 3) / 1e3);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(b);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 3 && !strcmp(argv[1], "deep"))
        return deep(argv[2], argc > 3 ? atoi(argv[3]) : 100000);
    if (argc >= 3 && !strcmp(argv[1], "compile"))
        return compile_speed(argv[2], argc > 3 ? atoi(argv[3]) : 5,
                             argc > 4 && !strcmp(argv[4], "arm64") ? GATE_TARGET_ARM64
                             : argc > 4 && !strcmp(argv[4], "x86_64") ? GATE_TARGET_X86_64
                             : GATE_TARGET_HOST);
    if (argc >= 3 && !strcmp(argv[1], "costs"))
        return costs(argv[2], argc > 3 ? atoi(argv[3]) : 256);
    fprintf(stderr, "usage: micro compile FILE [REPS [x86_64|arm64]] | micro costs MICRO.wasm [MB]"
                    " | micro deep BIGREC.wasm [DEPTH]\n");
    return 2;
}
