/*
 * run.c - `gate run`: a WASI command (_start) or one export (--invoke).
 *
 *   gate run [options] PROG.wasm [ARGS...]
 *     --invoke NAME          call export NAME with ARGS parsed by its types
 *     --dir HOST[::GUEST]    preopen a host directory (as GUEST)
 *     --env KEY=VALUE        an environment variable for the program
 *     --tcplisten HOST:PORT  a listening TCP socket the program accepts on
 *     --max-memory-pages N   cap linear memory
 *     --stack-size BYTES     the wasm stack (suffixes k, m; default 8m)
 *     --explicit-bounds      bounds-check every access instead of guard pages
 *     --cache-dir DIR        where compiled objects are kept (default
 *                            $GATE_CACHE_DIR, $XDG_CACHE_HOME/gate or ~/.cache/gate)
 *     --no-cache             always compile
 *     --sandbox              once loaded, confine the process to the system
 *                            calls the runtime and WASI need (seccomp)
 *     --trust-object         run PROG.gobj even if this user's gate did not
 *                            make it (seal missing or not verifying)
 *     --deterministic        NaN results canonicalised (the same bits on every CPU)
 *     --no-loop-checks       no stop checks at loop headers (for measuring
 *                            what they cost; implies --no-cache)
 *     --suspend-after=DUR    stop the program after DUR (e.g. 250ms, 2s) ...
 *     --fuel=N               stop after N units of work (function entries and
 *                            loop iterations: deterministic) ...
 *     --snapshot=FILE        ... and save it to FILE, exiting with status 75;
 *                            SIGINT/SIGTERM then also stop and save it
 *
 * PROG may be a wasm module or an object from `gate compile`.  A module's
 * compiled code is cached by module hash, target and options, so the
 * next run of the same module loads it instead of compiling.
 *
 * Exit status: the program's (proc_exit, 0 when _start returns); 134 after
 * a trap, which prints the trap, its wasm offset and a backtrace; 75 when
 * it was stopped and saved; 1 when the module is rejected; 2 for usage or
 * I/O errors.  `gate resume` (resume.c) continues a saved program.
 */
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <xxhash.h>

#include "cli.h"

#define MAX_OPT 256

static int usage_run(void)
{
    fprintf(stderr, "usage: gate run [--invoke NAME] [--dir HOST[::GUEST]] [--env K=V]\n"
                    "                [--tcplisten HOST:PORT]\n"
                    "                [--max-memory-pages N] [--stack-size BYTES] [--explicit-bounds]\n"
                    "                [--cache-dir DIR | --no-cache] [--trust-object] [--no-loop-checks]\n"
                    "                [--deterministic] [--sandbox]\n"
                    "                [--suspend-after=DURATION] [--fuel=N] [--snapshot=FILE]\n"
                    "                PROG.wasm|PROG.gobj [ARGS...]\n"
                    "       gate run --fork [options] PROG.zygote [ARGS...]\n");
    return 2;
}

/* The cache directory: --cache-dir or the private directory, created
   and checked private to the user (trust.c); NULL: no cache. */
static const char *cache_dir(const char *opt, char *buf, size_t size)
{
    if (opt)
        return cli_private_dir(opt) ? opt : NULL;
    return cli_private(buf, size);
}

/*
 * Loads PROG: an object when its seal verifies (or with --trust-object);
 * a module from the cache when a sealed object for the same bytes,
 * target and options is there, else compiled and then stored (sealed,
 * atomically) for next time.  A cache entry that does not verify (a
 * rewritten one) is compiled again and replaced.
 */
static gate_module *load_cached(gate_engine *eng, const char *dir, const uint8_t *bytes,
                                size_t len, bool explicit_bounds, bool fuel, bool det,
                                gate_error *err)
{
    if (!dir || (len >= 8 && !memcmp(bytes, "GATEOBJ", 8)))
        return cli_load(eng, bytes, len, err);
    char path[4200];
    unsigned long long h = XXH3_64bits(bytes, len);
    snprintf(path, sizeof path, "%s/%016llx-%s-%s%s%s.gobj", dir, h,
             RT_HOST_TARGET == GATE_TARGET_ARM64 ? "arm64" : "x86_64",
             explicit_bounds ? "explicit" : "guard", fuel ? "-fuel" : "", det ? "-det" : "");
    size_t olen;
    FILE *f = fopen(path, "rb");
    if (f) {
        fclose(f);
        uint8_t *obj = cli_read_file(path, &olen);
        gate_error e2;
        gate_module *m = obj ? gate_module_load_object(eng, obj, olen, &e2) : NULL;
        free(obj);
        /* the same bytes, not only the same hash */
        if (m && m->size == len && !memcmp(m->bytes, bytes, len))
            return m;
        gate_module_free(m);
    }
    gate_module *m = gate_module_new(eng, bytes, len, err);
    uint8_t *obj;
    if (m && m->exec && gate_module_write_object(m, GATE_TARGET_HOST, &obj, &olen, NULL) == GATE_OK) {
        gate_error werr = { .status = GATE_OK };
        gx_write_atomic(path, obj, olen, &werr);  /* a cache: failure to write is not an error */
        gate_free_buffer(eng, obj, olen);
    }
    return m;
}

/* SIGINT/SIGTERM stop the program at its next safe point instead. */
static gate_instance *volatile stop_target;

static volatile sig_atomic_t stop_asked;

/* The first SIGINT/SIGTERM asks for a stop (and a save); a second one
   while it is pending ends gate at once, so a user always has a way out
   (of a host call that does not return, say). */
static void on_signal(int sig)
{
    if (stop_target && !stop_asked) {
        stop_asked = 1;
        gate_request_stop(stop_target);     /* async-signal-safe: two stores */
        return;
    }
    static const char msg[] = "gate: second signal while stopping: ending now, nothing saved\n";
    ssize_t w = write(2, msg, sizeof msg - 1);
    (void)w;
    _exit(128 + sig);
}

void cli_stop_on_signals(gate_instance *inst)
{
    stop_target = inst;
    stop_asked = 0;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* --suspend-after: false, with a message, when no deadline can be set
   (the watchdog thread could not start): the run would never stop. */
bool cli_deadline(gate_instance *inst, uint64_t ns)
{
    gate_status st = gate_set_deadline(inst, ns);
    if (st != GATE_OK)
        fprintf(stderr, "gate: --suspend-after: cannot set the deadline (%s); not running\n",
                gate_status_name(st));
    return st == GATE_OK;
}

/* "250ms", "2s", "1.5s", "100us", "10m"; a plain number is seconds. */
bool cli_duration(const char *s, uint64_t *ns)
{
    char *end;
    double v = strtod(s, &end);
    double mul = 1e9;
    if (!strcmp(end, "ns")) mul = 1;
    else if (!strcmp(end, "us")) mul = 1e3;
    else if (!strcmp(end, "ms")) mul = 1e6;
    else if (!strcmp(end, "s") || !*end) mul = 1e9;
    else if (!strcmp(end, "m")) mul = 60e9;
    else return false;
    if (end == s || v < 0 || v * mul > 1e18)
        return false;
    *ns = (uint64_t)(v * mul);
    return *ns > 0;
}

static void print_trap(gate_instance *inst, gate_module *mod, const gate_error *err)
{
    uint32_t funcs[32], offs[32];
    fprintf(stderr, "gate: trap: %s\n", err->message);
    uint32_t n = gate_trap_backtrace(inst, funcs, offs, 32);
    for (uint32_t i = 0; i < n && i < 32; i++) {
        const char *name = funcs[i] == GATE_NO_FUNC ? NULL : gate_module_func_name(mod, funcs[i]);
        fprintf(stderr, "  #%u func %u%s%s%s at wasm offset 0x%x\n", i, funcs[i],
                name ? " <" : "", name ? name : "", name ? ">" : "", offs[i]);
    }
}

/* Parses a command-line argument as a value of type t. */
static int parse_arg(const char *s, uint8_t t, gate_val *v)
{
    char *end;
    errno = 0;
    memset(v, 0, sizeof *v);
    v->type = (gate_valtype)t;
    switch (t) {
    case GT_I32: {
        long long x = strtoll(s, &end, 0);
        if (*end || errno || x < INT32_MIN || x > UINT32_MAX)
            return 0;
        v->of.i32 = (int32_t)x;
        return 1;
    }
    case GT_I64: {
        long long x = strtoll(s, &end, 0);
        if (*end || errno)
            return 0;
        v->of.i64 = x;
        return 1;
    }
    case GT_F32:
        v->of.f32 = strtof(s, &end);
        return !*end;
    case GT_F64:
        v->of.f64 = strtod(s, &end);
        return !*end;
    default:
        return 0;
    }
}

static void print_val(const gate_val *v)
{
    switch (v->type) {
    case GATE_I32: printf("%" PRId32 "\n", v->of.i32); break;
    case GATE_I64: printf("%" PRId64 "\n", v->of.i64); break;
    case GATE_F32: printf("%.9g\n", (double)v->of.f32); break;
    case GATE_F64: printf("%.17g\n", v->of.f64); break;
    default: printf("ref %p\n", v->of.ref); break;
    }
}

/*
 * What happened to a call or a resume: prints results or the trap, saves
 * a stopped program; returns the exit status.
 */
int cli_outcome(const char *file, gate_instance *inst, gate_module *mod, gate_status st,
                const gate_error *err, const char *snapshot, const gate_val *res, uint32_t nres)
{
    fflush(stdout);
    switch (st) {
    case GATE_OK:
        for (uint32_t k = 0; k < nres; k++)
            print_val(&res[k]);
        return 0;
    case GATE_EXITED:
        return gate_exit_code(inst) & 0xff;
    case GATE_TRAPPED:
        print_trap(inst, mod, err);
        return 134;
    case GATE_SUSPENDED: {
        const rt_frame *f = &inst->susp.frames[inst->susp.nframes - 1];
        const char *name = gate_module_func_name(mod, f->func);
        fprintf(stderr, "gate: %s: stopped in func %u%s%s%s at wasm offset 0x%x, %u frame(s) "
                "deep\n", inst->susp.reason == RT_STOP_FUEL ? "out of fuel" : "stop requested",
                f->func, name ? " <" : "", name ? name : "", name ? ">" : "", f->wasm,
                inst->susp.nframes);
        if (!snapshot) {
            fprintf(stderr, "gate: no --snapshot file: the stopped program is lost\n");
            return 2;
        }
        gate_error e2;
        if (!cli_save_snapshot(inst, snapshot, &e2)) {
            cli_report(snapshot, &e2);
            return 2;
        }
        fprintf(stderr, "gate: snapshot written to %s; continue with: gate resume %s\n",
                snapshot, snapshot);
        return 75;
    }
    case GATE_ERR_SNAPSHOT:
        cli_report(file, err);         /* a frame the program could not have made */
        return 1;
    default:
        cli_report(file, err);
        return 2;
    }
}

int cli_run(int argc, char **argv)
{
    const char *invoke = NULL, *prog = NULL, *cache_opt = NULL, *snapshot = NULL;
    const char *objnames[3] = { NULL, NULL, NULL };    /* per gate_target */
    uint64_t suspend_after = 0, fuel = 0;
    bool no_cache = false;
    char cache_buf[4096];
    const char *dirs_host[MAX_OPT], *dirs_guest[MAX_OPT], *envs[MAX_OPT];
    char *dir_copies[MAX_OPT], *dir_reals[MAX_OPT];
    bool trust_object = false, sandbox = cli_sandbox_default(), fork = false;
    uint8_t key[32];
    int ndirs = 0, nenvs = 0, i, nsocks = 0;
    int socks[16];
    gate_config cfg;
    gate_limits lim = { 0 };
    gate_config_init(&cfg);
    for (i = 2; i < argc && argv[i][0] == '-'; i++) {
        const char *o = argv[i];
        if (!strcmp(o, "--")) {
            i++;
            break;
        }
        if (!strncmp(o, "--snapshot=", 11)) {
            snapshot = o + 11;
            continue;
        }
        if (!strncmp(o, "--name-object=", 14)) {
            int t = cli_object_target(o + 14);
            if (t < 0)
                return 2;
            objnames[t] = o + 14;
            continue;
        }
        if (!strncmp(o, "--suspend-after=", 16)) {
            if (!cli_duration(o + 16, &suspend_after))
                return usage_run();
            continue;
        }
        if (!strncmp(o, "--fuel=", 7)) {
            char *end;
            fuel = strtoull(o + 7, &end, 10);
            if (*end || !fuel)
                return usage_run();
            cfg.fuel = 1;
            continue;
        }
        if (!strcmp(o, "--explicit-bounds")) {
            cfg.bounds = GATE_BOUNDS_EXPLICIT;
            continue;
        }
        if (!strcmp(o, "--no-cache")) {
            no_cache = true;
            continue;
        }
        if (!strcmp(o, "--sandbox")) {
            sandbox = true;
            continue;
        }
        if (!strcmp(o, "--trust-object")) {
            trust_object = true;
            no_cache = true;            /* nothing unsealed goes into the cache */
            continue;
        }
        if (!strcmp(o, "--deterministic")) {
            cfg.deterministic = 1;
            continue;
        }
        if (!strcmp(o, "--fork")) {
            fork = true;
            continue;
        }
        if (!strcmp(o, "--no-loop-checks")) {
            cfg.safepoint_checks = 0;
            no_cache = true;
            continue;
        }
        if (i + 1 >= argc)
            return usage_run();
        const char *val = argv[++i];
        if (!strcmp(o, "--invoke")) {
            invoke = val;
        } else if (!strcmp(o, "--dir")) {
            if (ndirs == MAX_OPT)
                return usage_run();
            char *host, *guest;
            if (!cli_parse_dir(val, &host, &guest, &dir_copies[ndirs])) {
                for (int k = 0; k < ndirs; k++)
                    free(dir_copies[k]), free(dir_reals[k]);
                return 2;
            }
            dir_reals[ndirs] = host;
            dirs_guest[ndirs] = guest;
            dirs_host[ndirs++] = host;
        } else if (!strcmp(o, "--snapshot")) {
            snapshot = val;
        } else if (!strcmp(o, "--suspend-after")) {
            if (!cli_duration(val, &suspend_after))
                return usage_run();
        } else if (!strcmp(o, "--cache-dir")) {
            cache_opt = val;
        } else if (!strcmp(o, "--env")) {
            if (nenvs == MAX_OPT || !strchr(val, '='))
                return usage_run();
            envs[nenvs++] = val;
        } else if (!strcmp(o, "--tcplisten")) {
            if (nsocks == 16)
                return usage_run();
            if ((socks[nsocks] = cli_tcp_listen(val)) < 0)
                return 2;
            nsocks++;
        } else if (!strcmp(o, "--stack-size")) {
            if (!cli_parse_stack(val, &lim.stack_size))
                return usage_run();
        } else if (!strcmp(o, "--max-memory-pages")) {
            if (!cli_parse_pages(val, &lim.max_memory_pages))
                return usage_run();
        } else {
            fprintf(stderr, "gate run: unknown option %s\n", o);
            return usage_run();
        }
    }
    if (i >= argc || ((suspend_after || fuel) && !snapshot))
        return usage_run();
    prog = argv[i++];
    int rc = 2;
    size_t len;
    gate_error err;
    uint8_t *bytes = cli_read_file(prog, &len);
    bool is_object = bytes && len >= 8 && !memcmp(bytes, "GATEOBJ", 8);
    gate_module *mod = NULL;
    gate_imports *imp = NULL;
    gate_instance *inst = NULL;
    gate_engine *eng = NULL;
    if (!bytes)
        goto out;
    /* a zygote (gate init): the engine as it was made with */
    if (fork) {
        gate_snapshot_info info;
        if (is_object || gate_snapshot_read_info(bytes, len, &info, &err) != GATE_OK) {
            if (is_object)
                fprintf(stderr, "gate run: %s: --fork takes a zygote (gate init), not an "
                        "object\n", prog);
            else
                cli_report(prog, &err);
            rc = 1;
            goto out;
        }
        if (!info.zygote) {
            fprintf(stderr, "gate run: %s: --fork takes a zygote (gate init); this snapshot is "
                    "of a running program (gate resume)\n", prog);
            rc = 1;
            goto out;
        }
        cfg.fuel |= info.fuel;
        cfg.deterministic |= info.deterministic;
    }
    /* objects run only sealed with this user's key (or --trust-object);
       a module runs without a key too, compiled each time */
    if (!trust_object && !cli_object_key(key)) {
        if (is_object)
            goto out;
        fprintf(stderr, "gate run: no object key: compiling without the cache\n");
        trust_object = no_cache = true;
    }
    if (!trust_object) {
        cfg.object_key = key;
        cfg.object_key_len = sizeof key;
    }
    eng = gate_engine_new(&cfg, &err);
    if (!eng) {
        cli_report(prog, &err);
        goto out;
    }
    mod = load_cached(eng, no_cache ? NULL : cache_dir(cache_opt, cache_buf, sizeof cache_buf),
                      bytes, len, cfg.bounds == GATE_BOUNDS_EXPLICIT, cfg.fuel != 0,
                      cfg.deterministic != 0, &err);
    if (!mod) {
        cli_report(prog, &err);
        if (is_object && err.status == GATE_ERR_OBJECT)
            fprintf(stderr, "gate run: %s runs only when this user's gate made it "
                    "(gate compile); --trust-object runs it anyway\n", prog);
        rc = 1;
        goto out;
    }
    imp = gate_imports_new(eng);
    const char **wargv = calloc((size_t)(argc - i) + 1, sizeof *wargv);
    if (!imp || !wargv) {
        free(wargv);
        goto out;
    }
    wargv[0] = prog;
    for (int k = i; k < argc; k++)
        wargv[k - i + 1] = argv[k];
    gate_wasi_config wc = { .argc = invoke ? 1 : argc - i + 1, .argv = wargv,
                            .envc = nenvs, .envp = envs, .npreopens = ndirs,
                            .preopen_host = dirs_host, .preopen_guest = dirs_guest,
                            .nsockets = nsocks, .socket_fds = socks };
    gate_status st = gate_imports_wasi(imp, &wc, &err);
    free(wargv);
    if (st != GATE_OK) {
        cli_report(prog, &err);
        goto out;
    }
    /* a child of a zygote: its memory and stopped call with the
       arguments, environment and directories given now */
    inst = fork ? gate_snapshot_restore_limits(eng, bytes, len, mod, imp, &lim, NULL, &err)
                : gate_instance_new(mod, imp, &lim, &err);
    explicit_bzero(key, sizeof key);
    if (!inst) {
        cli_report(prog, &err);
        rc = err.status == GATE_TRAPPED ? 134 : 1;
        goto out;
    }
    if (fork && invoke && gate_is_suspended(inst)) {
        fprintf(stderr, "gate run: %s is stopped at its pending call: --fork runs it without "
                "--invoke\n", prog);
        goto out;
    }
    if (fuel)
        gate_set_fuel(inst, fuel);
    /* snapshots name the objects to resume with: this one when PROG is an
       object, and those given with --name-object */
    if (is_object)
        gate_snapshot_name_object(inst, GATE_TARGET_HOST, prog);
    for (int t = 1; t <= 2; t++)
        if (objnames[t])
            gate_snapshot_name_object(inst, (gate_target)t, objnames[t]);
    if (invoke) {
        /* find the export's type to parse the arguments */
        const gd_module *m = &mod->info;
        const gd_functype *ft = NULL;
        for (uint32_t e = 0; e < m->nexports; e++)
            if (m->exports[e].kind == GATE_EXTERN_FUNC && !strcmp(m->exports[e].name, invoke))
                ft = gd_func_type(m, m->exports[e].index);
        if (!ft) {
            fprintf(stderr, "gate run: %s: no exported function \"%s\"\n", prog, invoke);
            goto out;
        }
        if ((uint32_t)(argc - i) != ft->nparams || ft->nparams > 64 || ft->nresults > 64) {
            fprintf(stderr, "gate run: %s takes %u argument(s)\n", invoke, ft->nparams);
            goto out;
        }
        gate_val args[64], res[64];
        for (uint32_t k = 0; k < ft->nparams; k++)
            if (!parse_arg(argv[i + (int)k], ft->params[k], &args[k])) {
                fprintf(stderr, "gate run: argument %u (\"%s\") is not a valid %s\n", k + 1,
                        argv[i + (int)k], ft->params[k] == GT_I32 ? "i32" : ft->params[k] == GT_I64
                        ? "i64" : ft->params[k] == GT_F32 ? "f32" : ft->params[k] == GT_F64
                        ? "f64" : "value of that type");
                goto out;
            }
        if (snapshot)
            cli_stop_on_signals(inst);
        if (suspend_after && !cli_deadline(inst, suspend_after))
            goto out;
        if (sandbox && !cli_sandbox(snapshot))
            goto out;
        st = gate_call(inst, invoke, args, ft->nparams, res, ft->nresults, &err);
        rc = cli_outcome(prog, inst, mod, st, &err, snapshot, res, ft->nresults);
    } else {
        if (snapshot)
            cli_stop_on_signals(inst);
        if (suspend_after && !cli_deadline(inst, suspend_after))
            goto out;
        if (sandbox && !cli_sandbox(snapshot))
            goto out;
        st = GATE_OK;
        bool done = false;
        if (gate_is_suspended(inst)) {
            /* the zygote's pending call, then the rest of its
               initialisation (or of _start) */
            uint32_t f = inst->susp.entry_func;
            const gd_functype *ft = gd_func_type(&inst->mod->info, f);
            gate_val res[64];
            if (ft->nresults > 64)
                goto out;
            st = gate_resume(inst, res, 64, &err);
            const gate_module *im = inst->mod;
            bool was_start = false;
            for (uint32_t e = 0; e < im->info.nexports; e++)
                was_start |= im->info.exports[e].kind == GATE_EXTERN_FUNC &&
                             im->info.exports[e].index == f &&
                             !strcmp(im->info.exports[e].name, "_start");
            if ((done = st != GATE_OK || was_start))
                rc = cli_outcome(prog, inst, inst->mod, st, &err, snapshot, res, ft->nresults);
        }
        if (!done) {
            st = gate_call(inst, "_start", NULL, 0, NULL, 0, &err);
            rc = cli_outcome(prog, inst, mod, st, &err, snapshot, NULL, 0);
        }
    }
    stop_target = NULL;
out:
    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    for (int k = 0; k < ndirs; k++)
        free(dir_copies[k]), free(dir_reals[k]);
    return rc;
}

/* GATE_SANDBOX=1 in the environment: --sandbox for every run and resume
   (the test suite runs the CLI tests again that way) */
bool cli_sandbox_default(void)
{
    const char *e = getenv("GATE_SANDBOX");
    return e && !strcmp(e, "1");
}

/* --sandbox: the snapshot's directory is opened now, so that a stop can
   still be saved once path calls need a directory descriptor */
static int snap_dirfd = -1;
static const char *snap_name;

bool cli_sandbox(const char *snapshot)
{
    if (snapshot) {
        snap_dirfd = gx_open_parent(snapshot, &snap_name);
        if (snap_dirfd < 0 || !*snap_name) {
            fprintf(stderr, "gate: %s: cannot open its directory\n", snapshot);
            return false;
        }
    }
    gate_error err;
    if (gate_sandbox_enter(NULL, 0, &err) != GATE_OK) {
        fprintf(stderr, "gate: --sandbox: %s\n", err.message);
        return false;
    }
    return true;
}

bool cli_save_snapshot(gate_instance *inst, const char *path, gate_error *err)
{
    if (snap_dirfd < 0)
        return gate_snapshot_save(inst, path, err) == GATE_OK;
    uint8_t *buf;
    size_t len;
    if (gate_snapshot(inst, &buf, &len, err) != GATE_OK)
        return false;
    err->status = GATE_OK;
    bool ok = gx_write_atomic_at(snap_dirfd, snap_name, path, buf, len, err);
    gate_free_buffer(inst->eng, buf, len);
    return ok;
}
