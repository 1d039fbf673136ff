/*
 * zygote.c - what zygotes buy (bench/run.sh "Zygotes", docs/zygotes.md).
 *
 *   zygote first INIT PROG.wasm [--preopen HOST::GUEST] ARGS...
 *       time to the end of a run (the programs print their answer last)
 *       from scratch (instantiate, _start) and as a zygote's child (fork
 *       with fresh WASI imports, the pending call or _start), medians;
 *       INIT is the zygote's init export ("_start": until the program's
 *       first authority); the children's output is compared with a run
 *       from scratch
 *   zygote fork FILL.wasm
 *       fork time from a zygote with 1 MiB and with 256 MiB of initialised
 *       memory, and the memory a child that writes one page costs
 *
 * Prints "key value" lines.  Programs' stdout goes to a file, not the
 * terminal.
 */
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../libgate.h"

static double now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e6 + ts.tv_nsec / 1e3;
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
    if (fread(b, 1, (size_t)n, f) != (size_t)n)
        exit(2);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static void die(const char *what, const gate_error *err)
{
    fprintf(stderr, "zygote: %s: %s\n", what, err->message);
    exit(1);
}

static gate_module *load(gate_engine *eng, const char *path)
{
    size_t len;
    uint8_t *b = slurp(path, &len);
    gate_error err;
    gate_module *m = gate_module_new(eng, b, len, &err);
    if (!m)
        die(path, &err);
    free(b);
    return m;
}

/* RSS in KiB */
static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    long pages = 0, res = 0;
    if (f && fscanf(f, "%ld %ld", &pages, &res) != 2)
        res = 0;
    if (f)
        fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

/* ---- first ---------------------------------------------------------------- */

static int pargc;
static const char **pargv;
static const char *dir_host, *dir_guest;

static gate_imports *wasi(gate_engine *eng)
{
    gate_imports *imp = gate_imports_new(eng);
    gate_wasi_config wc = { .argc = pargc, .argv = pargv, .npreopens = dir_host ? 1 : 0,
                            .preopen_host = &dir_host, .preopen_guest = &dir_guest };
    gate_error err;
    if (gate_imports_wasi(imp, &wc, &err) != GATE_OK)
        die("wasi", &err);
    return imp;
}

static int bench_first(int argc, char **argv)
{
    if (argc < 4)
        return 2;
    const char *init = argv[2], *prog = argv[3];
    int i = 4;
    if (i + 1 < argc && !strcmp(argv[i], "--preopen")) {
        static char host[4096];
        snprintf(host, sizeof host, "%s", argv[i + 1]);
        char *sep = strstr(host, "::");
        dir_host = host;
        dir_guest = sep ? (*sep = 0, sep + 2) : host;
        i += 2;
    }
    pargc = argc - i + 1;
    pargv = calloc((size_t)pargc + 1, sizeof *pargv);
    pargv[0] = prog;
    for (int k = i; k < argc; k++)
        pargv[k - i + 1] = argv[k];
    gate_engine *eng = gate_engine_new(NULL, NULL);
    gate_module *mod = load(eng, prog);
    /* the programs' output goes to files: the first of each kind is kept */
    int saved = dup(1);
    const int reps = 9;
    double scratch[9], child[9];
    bool start_init = !strcmp(init, "_start");
    for (int r = 0; r < reps; r++) {
        int fd = open(r ? "/dev/null" : "zygote-scratch.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        close(fd);
        gate_imports *imp = wasi(eng);
        gate_error err;
        double t0 = now_us();
        gate_instance *inst = gate_instance_new(mod, imp, NULL, &err);
        if (!inst)
            die("instantiate", &err);
        gate_status st = gate_call(inst, "_start", NULL, 0, NULL, 0, &err);
        if (st != GATE_OK && st != GATE_EXITED)
            die("run", &err);
        fflush(stdout);
        scratch[r] = now_us() - t0;
        gate_instance_free(inst);
        gate_imports_free(imp);
    }
    const char *pre[1] = { dir_guest };
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = init;
    zc.preopens = pre;
    zc.npreopens = dir_guest ? 1 : 0;
    gate_error err;
    double t0 = now_us();
    gate_instance *z = gate_zygote_new(mod, &zc, &err);
    double zinit = now_us() - t0;
    if (!z)
        die("zygote", &err);
    char pend[128] = "";
    gate_zygote_pending(z, pend, sizeof pend);
    double forks[9];
    for (int r = 0; r < reps; r++) {
        int fd = open(r ? "/dev/null" : "zygote-child.out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
        dup2(fd, 1);
        close(fd);
        gate_imports *imp = wasi(eng);
        double a = now_us();
        gate_instance *c = gate_instance_fork_imports(z, imp, &err);
        if (!c)
            die("fork", &err);
        double b = now_us();
        if (gate_is_suspended(c)) {
            gate_status st = gate_resume(c, NULL, 0, &err);
            if (st != GATE_OK && st != GATE_EXITED)
                die("resume", &err);
            if (st == GATE_OK && !start_init)
                st = gate_call(c, "_start", NULL, 0, NULL, 0, &err);
            if (st != GATE_OK && st != GATE_EXITED)
                die("run", &err);
        } else {
            gate_status st = gate_call(c, "_start", NULL, 0, NULL, 0, &err);
            if (st != GATE_OK && st != GATE_EXITED)
                die("run", &err);
        }
        fflush(stdout);
        child[r] = now_us() - a;
        forks[r] = b - a;
        gate_instance_free(c);
        gate_imports_free(imp);
    }
    dup2(saved, 1);
    close(saved);
    size_t la, lb;
    uint8_t *oa = slurp("zygote-scratch.out", &la), *ob = slurp("zygote-child.out", &lb);
    double ms = median(scratch, reps) / 1000, mc = median(child, reps) / 1000;
    printf("scratch_ms %.3f\n", ms);
    printf("child_ms %.3f\n", mc);
    printf("speedup %.1f\n", ms / mc);
    printf("zygote_init_ms %.3f\n", zinit / 1000);
    printf("child_fork_first_us %.1f\n", forks[0]);    /* makes the memory template */
    printf("child_fork_us %.1f\n", median(forks + 1, reps - 1));
    printf("pending %s\n", pend[0] ? pend : "(idle)");
    /* -1: neither printed anything */
    printf("same_output %d\n", !la && !lb ? -1 : la == lb && !memcmp(oa, ob, la));
    free(oa);
    free(ob);
    gate_instance_free(z);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(pargv);
    return 0;
}

/* ---- fork ----------------------------------------------------------------- */

static void bench_fork_size(gate_engine *eng, gate_module *mod, const char *init, const char *tag)
{
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = init;
    gate_error err;
    gate_instance *z = gate_zygote_new(mod, &zc, &err);
    if (!z)
        die(init, &err);
    gate_imports *imp = gate_imports_new(eng);
    double t0 = now_us();
    gate_instance *c = gate_instance_fork_imports(z, imp, &err);
    double first = now_us() - t0;
    if (!c)
        die("fork", &err);
    gate_instance_free(c);
    enum { N = 401 };
    static double v[N];
    for (int r = 0; r < N; r++) {
        double a = now_us();
        c = gate_instance_fork_imports(z, imp, &err);
        v[r] = now_us() - a;
        if (!c)
            die("fork", &err);
        gate_instance_free(c);
    }
    printf("fork_%s_first_us %.1f\n", tag, first);
    printf("fork_%s_us %.2f\n", tag, median(v, N));
    /* children alive at once, each writing one page */
    enum { K = 200 };
    static gate_instance *kids[K];
    long before = rss_kib();
    for (int k = 0; k < K; k++) {
        kids[k] = gate_instance_fork_imports(z, imp, &err);
        if (!kids[k] || gate_call(kids[k], "poke", NULL, 0, NULL, 0, &err) != GATE_OK)
            die("poke", &err);
    }
    long after = rss_kib();
    printf("child_%s_kib %.1f\n", tag, (double)(after - before) / K);
    for (int k = 0; k < K; k++)
        gate_instance_free(kids[k]);
    gate_imports_free(imp);
    gate_instance_free(z);
}

static int bench_fork(int argc, char **argv)
{
    if (argc < 3)
        return 2;
    gate_engine *eng = gate_engine_new(NULL, NULL);
    gate_module *mod = load(eng, argv[2]);
    bench_fork_size(eng, mod, "init1", "1mib");
    bench_fork_size(eng, mod, "init256", "256mib");
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && !strcmp(argv[1], "first"))
        return bench_first(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "fork"))
        return bench_fork(argc, argv);
    fprintf(stderr, "usage: zygote first INIT PROG.wasm [--preopen HOST::GUEST] ARGS...\n"
                    "       zygote fork FILL.wasm\n");
    return 2;
}
