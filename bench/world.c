/*
 * world.c - what a world costs (docs/world.md): spawning, one preemption
 * and resume at stack depth 10 and 10,000 (against the portable stop and
 * resume of a lone instance), memory per parked process, and how many
 * live processes fit.  Prints "key value unit" lines for bench/run.sh.
 *
 *   world costs SPIN.wasm              (test/world/spin.wat)
 *   world many SPIN.wasm guard|explicit N
 *   world msgs MSG.wasm                (test/world/msg.wat): round trips on
 *                                      one worker and across two, one-way
 *                                      messages per second, a publish to
 *                                      1000 subscribers, and a round trip
 *                                      through pipes between two OS processes
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "libgate.h"

static double now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e9 + t.tv_nsec;
}

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long size = 0, res = 0;
    if (f) {
        if (fscanf(f, "%ld %ld", &size, &res) != 2)
            res = 0;
        fclose(f);
    }
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        perror(path);
        exit(2);
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (!b || fread(b, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static gate_engine *engine(int fuel, int explicit_bounds)
{
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = fuel;
    cfg.bounds = explicit_bounds ? GATE_BOUNDS_EXPLICIT : GATE_BOUNDS_GUARD;
    gate_error err;
    gate_engine *e = gate_engine_new(&cfg, &err);
    if (!e) {
        fprintf(stderr, "engine: %s\n", err.message);
        exit(2);
    }
    return e;
}

static gate_world *world(gate_engine *eng, uint64_t slice_fuel)
{
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = 1;
    c.slice_fuel = slice_fuel;
    c.slice_ns = 60000000000ull;
    gate_error err;
    gate_world *w = gate_world_new(eng, &c, &err);
    if (!w) {
        fprintf(stderr, "world: %s\n", err.message);
        exit(2);
    }
    return w;
}

static gate_pid spawn(gate_world *w, gate_module *m, const char *entry, int32_t arg, int nargs,
                      uint32_t max_pages)
{
    gate_val a = { .type = GATE_I32, .of.i32 = arg };
    gate_spawn s = { .module = m, .entry = entry, .args = &a, .nargs = (size_t)nargs };
    s.limits.max_memory_pages = max_pages;
    gate_pid pid = 0;
    gate_error err;
    if (gate_world_spawn(w, &s, &pid, &err) != GATE_OK)
        return 0;
    return pid;
}

/* ns per slice of two processes at depth `depth` preempting each other
   after every unit of fuel. */
static double preempt_ns(gate_engine *eng, gate_module *m, int32_t depth)
{
    gate_world *w = world(eng, 1);
    spawn(w, m, "deep", depth, 1, 0);
    spawn(w, m, "deep", depth, 1, 0);
    /* both reach their depth (one slice per call) and spin */
    gate_world_run(w, 0, (uint64_t)depth * 2 + 1000);
    const uint64_t n = 400000;
    double t0 = now_ns();
    gate_world_run(w, 0, n);
    double t = (now_ns() - t0) / (double)n;
    gate_world_free(w);
    return t;
}

/* ns per stop and resume of a lone instance at depth `depth` through the
   portable form (fuel 1: the call stops at the next safe point). */
static double portable_ns(gate_module *m, int32_t depth)
{
    gate_error err;
    gate_instance *inst = gate_instance_new(m, NULL, NULL, &err);
    gate_val a = { .type = GATE_I32, .of.i32 = depth };
    gate_set_fuel(inst, (uint64_t)depth + 100);
    gate_status st = gate_call(inst, "deep", &a, 1, NULL, 0, &err);
    int n = depth >= 10000 ? 2000 : 100000;
    double t0 = now_ns();
    for (int i = 0; i < n && st == GATE_SUSPENDED; i++) {
        gate_set_fuel(inst, 1);
        st = gate_resume(inst, NULL, 0, &err);
    }
    double t = (now_ns() - t0) / n;
    gate_instance_free(inst);
    return t;
}

static int cmp_d(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

static int costs(const char *path)
{
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    gate_engine *eng = engine(1, 0);
    gate_error err;
    gate_module *m = gate_module_new(eng, bytes, len, &err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 2;
    }
    /* spawning: the call that queues a process */
    {
        gate_world *w = world(eng, 100000);
        enum { N = 10000 };
        static double t[N];
        for (int i = 0; i < N; i++) {
            double t0 = now_ns();
            spawn(w, m, "count", 0, 1, 0);
            t[i] = now_ns() - t0;
        }
        qsort(t, N, sizeof *t, cmp_d);
        printf("spawn_us %.2f us\n", t[N / 2] / 1000);
        /* and each one's life: instance, stack, its call, its end */
        double t0 = now_ns();
        gate_world_run(w, 0, 0);
        printf("lifecycle_us %.2f us\n", (now_ns() - t0) / N / 1000);
        gate_world_free(w);
    }
    printf("preempt_depth10_ns %.0f ns\n", preempt_ns(eng, m, 10));
    printf("preempt_depth10000_ns %.0f ns\n", preempt_ns(eng, m, 10000));
    printf("portable_depth10_ns %.0f ns\n", portable_ns(m, 10));
    printf("portable_depth10000_ns %.0f ns\n", portable_ns(m, 10000));
    /* memory of a parked process: 2000 spinning, each parked once */
    {
        gate_world *w = world(eng, 1000);
        long r0 = rss_kib();
        for (int i = 0; i < 2000; i++)
            spawn(w, m, "spin", 0, 0, 0);
        gate_world_run(w, 0, 2000);
        printf("idle_process_kib %.1f KiB\n", (double)(rss_kib() - r0) / 2000);
        gate_world_free(w);
    }
    gate_module_free(m);
    gate_engine_free(eng);
    free(bytes);
    return 0;
}

/* Spawns up to n processes, each run for one slice and left parked
   (paused, out of the run queue). */
static int many(const char *path, int explicit_bounds, long n)
{
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    gate_engine *eng = engine(1, explicit_bounds);
    gate_error err;
    gate_module *m = gate_module_new(eng, bytes, len, &err);
    if (!m)
        return 2;
    gate_world *w = world(eng, 1000);
    long r0 = rss_kib();
    double t0 = now_ns();
    long live = 0;
    const long chunk = 1000;
    bool full = false;
    while (live < n && !full) {
        long k = 0;
        gate_pid first = 0, pid = 0;
        for (; k < chunk && live + k < n; k++) {
            if (!(pid = spawn(w, m, "spin", 0, 0, explicit_bounds ? 16 : 0))) {
                full = true;
                break;
            }
            if (!first)
                first = pid;
        }
        gate_world_run(w, 0, (uint64_t)k);
        /* one that could not start (no stack, no memory) ended at once */
        for (long i = 0; i < k; i++) {
            gate_proc_info in;
            if (gate_world_proc(w, first + (gate_pid)i, &in) != GATE_OK)
                continue;
            if (in.state == GATE_PROC_RUNNABLE && in.slices == 1) {
                /* parked in its loop; out of the queue, so that the next
                   chunk's processes get the next slices */
                gate_world_pause(w, in.pid);
                live++;
            } else if (!full) {
                fprintf(stderr, "the limit: process %u: %s\n", in.pid, in.message);
                full = true;
            }
        }
    }
    const char *mode = explicit_bounds ? "explicit" : "guard";
    printf("live_%s %ld processes\n", mode, live);
    printf("live_%s_kib_each %.1f KiB\n", mode, live ? (double)(rss_kib() - r0) / live : 0.0);
    printf("live_%s_s %.2f s\n", mode, (now_ns() - t0) / 1e9);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
    free(bytes);
    return 0;
}


static void nomark(void) {}

static gate_status h_mark(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ctx; (void)ud; (void)a; (void)r;
    nomark();
    return GATE_OK;
}

static gate_pid mspawn(gate_world *w, gate_module *m, const char *entry, const int32_t *a,
                       int n)
{
    gate_val v[4];
    for (int i = 0; i < n; i++)
        v[i] = (gate_val){ .type = GATE_I32, .of.i32 = a[i] };
    gate_imports *imp = gate_imports_new(gate_world_engine(w));
    gate_imports_world(imp, NULL);
    gate_imports_func_raw(imp, "t", "mark", "v(i)", h_mark, NULL, NULL);
    gate_spawn s = { .module = m, .imports = imp, .own_imports = 1, .entry = entry, .args = v,
                     .nargs = (size_t)n };
    gate_pid pid = 0;
    if (gate_world_spawn(w, &s, &pid, NULL) != GATE_OK)
        exit(3);
    return pid;
}

static gate_world *mworld(gate_engine *eng, unsigned workers)
{
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = workers;
    c.slice_fuel = 1000000000;
    c.slice_ns = 60000000000ull;
    c.mailbox_bytes = (uint64_t)1 << 30;
    gate_world *w = gate_world_new(eng, &c, NULL);
    if (!w)
        exit(2);
    return w;
}

static double roundtrip_ns(gate_engine *eng, gate_module *m, unsigned workers, int n)
{
    gate_world *w = mworld(eng, workers);
    int32_t a[2] = { n, 0 };
    gate_pid pong = mspawn(w, m, "pong", a, 1);
    a[0] = (int32_t)pong;
    a[1] = n;
    gate_pid ping = mspawn(w, m, "ping", a, 2);
    double t0 = now_ns();
    gate_world_wait(w, ping, NULL);
    double t = (now_ns() - t0) / n;
    gate_world_free(w);
    return t;
}

static double pipe_roundtrip_ns(int n)
{
    int ab[2], ba[2];
    if (pipe(ab) || pipe(ba))
        return 0;
    pid_t c = fork();
    if (c == 0) {
        char b[4];
        for (int i = 0; i < n; i++)
            if (read(ab[0], b, 4) != 4 || write(ba[1], b, 4) != 4)
                _exit(1);
        _exit(0);
    }
    char b[4] = { 0 };
    double t0 = now_ns();
    for (int i = 0; i < n; i++)
        if (write(ab[1], b, 4) != 4 || read(ba[0], b, 4) != 4)
            break;
    double t = (now_ns() - t0) / n;
    waitpid(c, NULL, 0);
    close(ab[0]); close(ab[1]); close(ba[0]); close(ba[1]);
    return t;
}

static int msgs(const char *path)
{
    size_t len;
    uint8_t *bytes = slurp(path, &len);
    gate_engine *eng = engine(1, 0);
    gate_error err;
    gate_module *m = gate_module_new(eng, bytes, len, &err);
    if (!m) {
        fprintf(stderr, "%s: %s\n", path, err.message);
        return 2;
    }
    printf("roundtrip_1worker_ns %.0f ns\n", roundtrip_ns(eng, m, 1, 200000));
    printf("roundtrip_2workers_ns %.0f ns\n", roundtrip_ns(eng, m, 2, 50000));
    printf("roundtrip_pipe_ns %.0f ns\n", pipe_roundtrip_ns(100000));
    /* one way: 50,000 messages of 16 bytes */
    int sizes[1] = { 16 };
    for (int k = 0; k < 1; k++) {
        gate_world *w = mworld(eng, 1);
        int n = 50000;
        int32_t a[3] = { n, 0, 0 };
        gate_pid d = mspawn(w, m, "drain", a, 1);
        a[0] = (int32_t)d;
        a[1] = n;
        a[2] = sizes[k];
        gate_pid f = mspawn(w, m, "flood", a, 3);
        double t0 = now_ns();
        gate_world_wait(w, f, NULL);
        gate_world_wait(w, d, NULL);
        double t = now_ns() - t0;
        printf("msgs_per_s %.0f messages/s\n", n / (t / 1e9));
        gate_world_free(w);
    }
    /* frames written whole by one process and looked at page by page by
       another, copied and moved: where moving the pages wins */
    static const int lens[] = { 65536, 262144, 1048576, 4194304 };
    for (int k = 0; k < 4; k++)
        for (int move = 0; move < 2; move++) {
            gate_world *w = mworld(eng, 1);
            int n = (int)(((size_t)256 << 20) / (size_t)lens[k]);
            int32_t a[4] = { n, lens[k], 0, 0 };
            gate_pid d = mspawn(w, m, "drainm", a, 2);
            a[0] = (int32_t)d;
            a[1] = n;
            a[2] = lens[k];
            a[3] = move;
            gate_pid f = mspawn(w, m, "floodm", a, 4);
            double t0 = now_ns();
            gate_world_wait(w, f, NULL);
            gate_world_wait(w, d, NULL);
            double t = now_ns() - t0;
            printf("%s_%dk_mbps %.0f MB/s\n", move ? "move" : "copy", lens[k] / 1024,
                   (double)n * lens[k] / (t / 1e3));
            gate_world_free(w);
        }
    /* a publish reaching 1000 processes parked in recv */
    {
        gate_world *w = mworld(eng, 1);
        int32_t none[1] = { 0 };
        for (int i = 0; i < 1000; i++)
            mspawn(w, m, "sub", none, 0);
        gate_world_run(w, 0, 0);
        size_t reached = 0;
        double t0 = now_ns();
        gate_world_publish(w, "news", 77, "hello", 5, &reached);
        double tp = now_ns() - t0;
        t0 = now_ns();
        gate_world_run(w, 0, 0);
        double tr = now_ns() - t0;
        printf("publish_1000_us %.1f us\n", tp / 1000);
        printf("publish_1000_received_us %.1f us\n", tr / 1000);
        printf("publish_reached %zu processes\n", reached);
        gate_world_free(w);
    }
    gate_module_free(m);
    gate_engine_free(eng);
    free(bytes);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "costs"))
        return costs(argv[2]);
    if (argc == 3 && !strcmp(argv[1], "msgs"))
        return msgs(argv[2]);
    if (argc == 5 && !strcmp(argv[1], "many"))
        return many(argv[2], !strcmp(argv[3], "explicit"), atol(argv[4]));
    fprintf(stderr, "usage: world costs SPIN.wasm | world many SPIN.wasm guard|explicit N\n");
    return 2;
}
