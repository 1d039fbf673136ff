/*
 * unit_world.c - worlds: slices, fairness, sponsors, limits, watchdogs,
 * traps and monitors, blocking calls, no nested dispatch, world snapshots.
 * The modules are test/world/NAME.wat, built next to this binary.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <unistd.h>

#include "unit.h"
#include "../libgate.h"

/* cmocka installs its own signal handlers for each test: ours go back on
   top (runtime/signals.c) */
void rt_signals_reinstall(void);

static char data_dir[4096];

static uint8_t *slurp(const char *name, size_t *len)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/world/%s", data_dir, name);
    FILE *f = fopen(path, "rb");
    assert_non_null(f);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    assert_int_equal(fread(b, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static gate_module *load(gate_engine *eng, const char *name)
{
    size_t len;
    uint8_t *b = slurp(name, &len);
    gate_error err;
    gate_module *m = gate_module_new(eng, b, len, &err);
    if (!m)
        fail_msg("%s: %s", name, err.message);
    free(b);
    return m;
}

static gate_engine *engine(int fuel)
{
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = fuel;
    gate_engine *e = gate_engine_new(&cfg, NULL);
    assert_non_null(e);
    rt_signals_reinstall();
    return e;
}

static gate_world *world(gate_engine *eng, unsigned workers, uint64_t slice_fuel)
{
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = workers;
    c.slice_fuel = slice_fuel;
    /* slices end by fuel; the time budget (the watchdog's) is only a net,
       wide enough for an emulator */
    c.slice_ns = 20000000000ull;
    gate_error err;
    gate_world *w = gate_world_new(eng, &c, &err);
    if (!w)
        fail_msg("world: %s", err.message);
    return w;
}

static gate_pid spawn(gate_world *w, gate_module *m, const char *entry, const gate_val *args,
                      size_t nargs, gate_imports *imp, gate_sponsor *sp)
{
    gate_spawn s = { .module = m, .imports = imp, .own_imports = imp != NULL, .entry = entry,
                     .args = args, .nargs = nargs, .sponsor = sp };
    gate_pid pid = 0;
    gate_error err;
    gate_status st = gate_world_spawn(w, &s, &pid, &err);
    if (st != GATE_OK)
        fail_msg("spawn %s: %s", entry, err.message);
    return pid;
}

static gate_proc_info info(gate_world *w, gate_pid pid)
{
    gate_proc_info i;
    assert_int_equal(gate_world_proc(w, pid, &i), GATE_OK);
    return i;
}

/* ---- host functions of host.wat ------------------------------------------ */

static pthread_mutex_t marks_lock = PTHREAD_MUTEX_INITIALIZER;
static int32_t marks[256];
static int nmarks;
static int child_ran_inside_spawn = -1;
static gate_proc_state child_state_after_spawn;
static gate_module *child_mod;
static atomic_int overran;

static bool marked(int32_t v)
{
    pthread_mutex_lock(&marks_lock);
    bool r = false;
    for (int i = 0; i < nmarks; i++)
        r |= marks[i] == v;
    pthread_mutex_unlock(&marks_lock);
    return r;
}

static gate_status h_mark(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ctx; (void)ud; (void)r;
    pthread_mutex_lock(&marks_lock);
    if (nmarks < 256)
        marks[nmarks++] = a[0].of.i32;
    pthread_mutex_unlock(&marks_lock);
    return GATE_OK;
}

static gate_imports *host_imports(gate_engine *eng);

static gate_status h_spawn(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ud; (void)a; (void)r;
    gate_world *w = gate_call_world(ctx);
    assert_non_null(w);
    assert_int_not_equal(gate_call_pid(ctx), 0);
    gate_spawn s = { .module = child_mod, .imports = host_imports(gate_call_instance(ctx) ? NULL : NULL),
                     .own_imports = 1, .entry = "child" };
    gate_pid pid;
    if (gate_world_spawn(w, &s, &pid, NULL) != GATE_OK)
        return GATE_TRAPPED;
    /* the child is queued, not run inside this call */
    child_ran_inside_spawn = marked(99);
    gate_proc_info i;
    gate_world_proc(w, pid, &i);
    child_state_after_spawn = i.state;
    return GATE_OK;
}

/* A host call that ignores stop requests until the watchdog reports its
   slice overrun (a generous hang guard only). */
static gate_status h_block(gate_call_ctx *ctx, void *ud, const gate_val *a, gate_val *r)
{
    (void)ud; (void)a; (void)r;
    gate_world *w = gate_call_world(ctx);
    gate_pid self = gate_call_pid(ctx);
    gate_proc_info i = { 0 };
    for (int n = 0; n < 120000; n++) {
        gate_world_proc(w, self, &i);
        if (i.overruns && gate_call_stop_requested(ctx))
            break;
        usleep(1000);
    }
    if (i.overruns && gate_call_stop_requested(ctx))
        atomic_store(&overran, 1);
    return GATE_OK;
}

static gate_engine *host_eng;

static gate_imports *host_imports(gate_engine *unused)
{
    (void)unused;
    gate_imports *imp = gate_imports_new(host_eng);
    assert_int_equal(gate_imports_func_raw(imp, "t", "mark", "v(i)", h_mark, NULL, NULL), GATE_OK);
    assert_int_equal(gate_imports_func_raw(imp, "t", "spawn", "v()", h_spawn, NULL, NULL), GATE_OK);
    assert_int_equal(gate_imports_func_raw(imp, "t", "block", "v()", h_block, NULL, NULL), GATE_OK);
    return imp;
}

static void marks_reset(void)
{
    pthread_mutex_lock(&marks_lock);
    nmarks = 0;
    pthread_mutex_unlock(&marks_lock);
}

/* ---- tests ----------------------------------------------------------- */

/* N CPU-bound processes on one worker each get their share of the fuel:
   every slice is slice_fuel units, so the shares are exact. */
static void fair_shares(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 10000);
    gate_pid p[4];
    for (int i = 0; i < 4; i++)
        p[i] = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_run(w, 0, 400), GATE_SUSPENDED);
    uint64_t total = 0;
    for (int i = 0; i < 4; i++)
        total += info(w, p[i]).fuel_used;
    for (int i = 0; i < 4; i++) {
        gate_proc_info in = info(w, p[i]);
        assert_int_equal(in.slices, 100);
        assert_true(in.state == GATE_PROC_RUNNABLE);
        double share = (double)in.fuel_used / (double)total;
        assert_true(share > 0.25 * 0.9 && share < 0.25 * 1.1);
    }
    /* the root sponsor was charged what they used */
    gate_budget used;
    gate_sponsor_usage(gate_world_root(w), &used, NULL);
    assert_int_equal(used.fuel, total);
    assert_int_equal(used.processes, 4);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Two workers: every process still gets slices, and a run ends when its
   slice budget is used up. */
static void two_workers(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 2, 10000);
    gate_pid p[6];
    for (int i = 0; i < 6; i++)
        p[i] = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    gate_val arg = { .type = GATE_I32, .of.i32 = 100000 };
    gate_pid c = spawn(w, m, "count", &arg, 1, NULL, NULL);
    gate_proc_info ci;
    assert_int_equal(gate_world_wait(w, c, &ci), GATE_OK);
    assert_int_equal(ci.status, GATE_OK);
    assert_int_equal(gate_world_run(w, 0, 120), GATE_SUSPENDED);
    for (int i = 0; i < 6; i++)
        assert_true(info(w, p[i]).slices >= 1);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Preempting a process 10,000 frames deep parks it where it is; it goes on
   from there in the next slice. */
static void deep_preemption(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 5000);
    gate_val arg = { .type = GATE_I32, .of.i32 = 10000 };
    gate_pid d = spawn(w, m, "deep", &arg, 1, NULL, NULL);
    gate_pid s = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_run(w, 0, 200), GATE_SUSPENDED);
    gate_proc_info di = info(w, d), si = info(w, s);
    assert_int_equal(di.slices, 100);
    assert_int_equal(si.slices, 100);
    assert_int_equal(di.fuel_used, si.fuel_used);
    assert_int_equal(di.state, GATE_PROC_RUNNABLE);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Out of fuel, a sponsor's process waits; a refill lets it go on. */
static void sponsor_fuel(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 100000);
    gate_budget b;
    gate_budget_unlimited(&b);
    b.fuel = 250000;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "game", &b, NULL);
    assert_non_null(sp);
    gate_pid p = spawn(w, m, "spin", NULL, 0, NULL, sp);
    gate_pid q = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_run(w, 0, 10), GATE_SUSPENDED);
    gate_proc_info pi = info(w, p);
    assert_int_equal(pi.state, GATE_PROC_NO_FUEL);
    assert_true(pi.fuel_used >= 250000 && pi.fuel_used <= 250001);
    assert_int_equal(pi.slices, 3);
    /* the other sponsor's process ran on */
    assert_int_equal(info(w, q).slices, 7);
    gate_budget used, lim;
    gate_sponsor_usage(sp, &used, &lim);
    assert_int_equal(used.fuel, 250000);
    assert_int_equal(lim.fuel, 250000);
    assert_int_equal(gate_sponsor_refill(sp, 100000), GATE_OK);
    assert_int_equal(info(w, p).state, GATE_PROC_RUNNABLE);
    assert_int_equal(gate_world_run(w, 0, 10), GATE_SUSPENDED);
    pi = info(w, p);
    assert_int_equal(pi.state, GATE_PROC_NO_FUEL);
    assert_true(pi.fuel_used >= 350000 && pi.fuel_used <= 350002);
    /* a child sponsor takes its budget from its parent */
    b.fuel = 200000;
    assert_null(gate_sponsor_new(sp, "too big", &b, NULL));
    gate_budget_unlimited(&b);
    assert_null(gate_sponsor_new(sp, "unlimited under limited", &b, NULL));
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* memory.grow past the sponsor's memory budget returns -1; the process
   limit refuses a spawn; an ended process gives both back. */
static void sponsor_limits(void **state)
{
    (void)state;
    host_eng = engine(1);
    gate_module *m = load(host_eng, "host.wasm");
    gate_module *s = load(host_eng, "spin.wasm");
    gate_world *w = world(host_eng, 1, 10000);
    gate_budget b;
    gate_budget_unlimited(&b);
    b.memory = 2 * 65536;
    b.processes = 2;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "small", &b, NULL);
    marks_reset();
    gate_pid p = spawn(w, m, "grow2", NULL, 0, host_imports(NULL), sp);
    gate_spawn sp2 = { .module = s, .entry = "spin", .sponsor = sp };
    gate_pid q;
    assert_int_equal(gate_world_spawn(w, &sp2, &q, NULL), GATE_OK);
    gate_error err;
    /* a third process: over the limit */
    assert_int_equal(gate_world_spawn(w, &sp2, NULL, &err), GATE_ERR_LIMIT);
    if (!strstr(err.message, "budget for another process"))
        fail_msg("%s", err.message);
    gate_proc_info pi;
    assert_int_equal(gate_world_wait(w, p, &pi), GATE_OK);
    assert_int_equal(pi.status, GATE_OK);
    pthread_mutex_lock(&marks_lock);
    assert_int_equal(nmarks, 2);
    assert_int_equal(marks[0], 1);      /* 1 -> 2 pages: paid */
    assert_int_equal(marks[1], -1);     /* 2 -> 3: over the budget */
    pthread_mutex_unlock(&marks_lock);
    gate_budget used;
    gate_sponsor_usage(sp, &used, NULL);
    /* the spin process holds its one page; the ended one gave back two */
    assert_int_equal(used.memory, 65536);
    assert_int_equal(used.processes, 1);
    assert_int_equal(gate_world_spawn(w, &sp2, NULL, &err), GATE_OK);
    assert_int_equal(gate_world_spawn(w, &sp2, NULL, &err), GATE_ERR_LIMIT);
    gate_world_free(w);
    gate_module_free(m);
    gate_module_free(s);
    gate_engine_free(host_eng);
}

static pthread_mutex_t ev_lock = PTHREAD_MUTEX_INITIALIZER;
static struct { gate_pid watcher, pid; gate_status st; gate_trap_code code; uint32_t nbt; } evs[32];
static int nevs;

static void on_end(void *ud, gate_pid watcher, const gate_proc_info *ended)
{
    (void)ud;
    pthread_mutex_lock(&ev_lock);
    if (nevs < 32) {
        evs[nevs].watcher = watcher;
        evs[nevs].pid = ended->pid;
        evs[nevs].st = ended->status;
        evs[nevs].code = ended->trap.code;
        evs[nevs].nbt = ended->nbt;
        nevs++;
    }
    pthread_mutex_unlock(&ev_lock);
}

/* A trap ends only its process; its status and backtrace are kept, and
   the process that monitors it is told. */
static void trap_isolated(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 10000);
    nevs = 0;
    gate_world_on_end(w, on_end, NULL);
    gate_pid sup = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    gate_pid t = spawn(w, m, "trap", NULL, 0, NULL, NULL);
    gate_val arg = { .type = GATE_I32, .of.i32 = 1000000 };
    gate_pid c = spawn(w, m, "count", &arg, 1, NULL, NULL);
    assert_int_equal(gate_world_monitor(w, sup, t), GATE_OK);
    gate_proc_info ti, ci;
    assert_int_equal(gate_world_wait(w, t, &ti), GATE_OK);
    assert_int_equal(gate_world_wait(w, c, &ci), GATE_OK);
    assert_int_equal(ti.status, GATE_TRAPPED);
    assert_int_equal(ti.trap.code, GATE_TRAP_UNREACHABLE);
    assert_true(ti.nbt >= 3);           /* $t2, $t1, trap */
    assert_int_equal(ci.status, GATE_OK);
    assert_int_equal(info(w, sup).state, GATE_PROC_RUNNABLE);
    pthread_mutex_lock(&ev_lock);
    int seen_t = 0, seen_sup = 0, seen_c = 0;
    for (int i = 0; i < nevs; i++) {
        if (evs[i].pid == t && evs[i].watcher == 0)
            seen_t++;
        if (evs[i].pid == t && evs[i].watcher == sup && evs[i].st == GATE_TRAPPED &&
            evs[i].code == GATE_TRAP_UNREACHABLE)
            seen_sup++;
        if (evs[i].pid == c && evs[i].watcher == 0 && evs[i].st == GATE_OK)
            seen_c++;
    }
    pthread_mutex_unlock(&ev_lock);
    assert_int_equal(seen_t, 1);
    assert_int_equal(seen_sup, 1);
    assert_int_equal(seen_c, 1);
    /* kill: the spinning supervisor ends with "killed" */
    assert_int_equal(gate_world_kill(w, sup), GATE_OK);
    gate_proc_info si;
    assert_int_equal(gate_world_wait(w, sup, &si), GATE_OK);
    assert_int_equal(si.status, GATE_TRAPPED);
    assert_non_null(strstr(si.message, "killed"));
    assert_int_equal(gate_world_reap(w, t), GATE_OK);
    assert_int_equal(gate_world_proc(w, t, &ti), GATE_ERR_NOT_FOUND);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A host function that spawns only queues: the child runs after it. */
static void no_nested_dispatch(void **state)
{
    (void)state;
    host_eng = engine(1);
    gate_module *m = load(host_eng, "host.wasm");
    child_mod = m;
    gate_world *w = world(host_eng, 1, 10000);
    marks_reset();
    child_ran_inside_spawn = -1;
    gate_spawn s = { .module = m, .imports = host_imports(NULL), .own_imports = 1,
                     .entry = "parent" };
    gate_pid p;
    assert_int_equal(gate_world_spawn(w, &s, &p, NULL), GATE_OK);
    assert_int_equal(gate_world_run(w, 0, 0), GATE_OK);
    assert_int_equal(child_ran_inside_spawn, 0);
    assert_int_equal(child_state_after_spawn, GATE_PROC_NEW);
    pthread_mutex_lock(&marks_lock);
    /* the parent's mark (1) comes before the child's (99) */
    assert_int_equal(nmarks, 2);
    assert_int_equal(marks[0], 1);
    assert_int_equal(marks[1], 99);
    pthread_mutex_unlock(&marks_lock);
    assert_int_equal(info(w, p).status, GATE_OK);
    /* from a host function, runs are refused */
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(host_eng);
}

/* Without fuel, slices end by time: a process in an infinite loop does
   not keep another from finishing.  A host call that blocks past the
   watchdog's margin is stopped (asked to return) and counted. */
static void watchdog_time_slices(void **state)
{
    (void)state;
    host_eng = engine(0);
    gate_module *m = load(host_eng, "spin.wasm");
    gate_module *h = load(host_eng, "host.wasm");
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = 1;
    c.slice_ns = 1000000;
    c.watchdog_ns = 5000000;
    gate_world *w = gate_world_new(host_eng, &c, NULL);
    assert_non_null(w);
    gate_pid s = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    gate_val arg = { .type = GATE_I32, .of.i32 = (int32_t)unit_busy(50000000) };
    gate_pid k = spawn(w, m, "count", &arg, 1, NULL, NULL);
    atomic_store(&overran, 0);
    marks_reset();
    gate_pid b = spawn(w, h, "block", NULL, 0, host_imports(NULL), NULL);
    alarm(300);     /* hang guard only */
    gate_proc_info ki, bi;
    assert_int_equal(gate_world_wait(w, k, &ki), GATE_OK);
    assert_int_equal(ki.status, GATE_OK);
    assert_int_equal(gate_world_wait(w, b, &bi), GATE_OK);
    assert_int_equal(bi.status, GATE_OK);
    assert_int_equal(atomic_load(&overran), 1);
    assert_true(bi.overruns >= 1);
    assert_true(marked(2));
    gate_proc_info si = info(w, s);
    assert_true(si.slices >= 2);
    assert_int_equal(si.state, GATE_PROC_RUNNABLE);
    alarm(0);
    gate_world_free(w);
    gate_module_free(m);
    gate_module_free(h);
    gate_engine_free(host_eng);
}

/* poll_oneoff parks the process: its worker runs someone else; a kill
   wakes it. */
static gate_pid sleeper(gate_world *w, gate_module *m, int64_t ns)
{
    gate_imports *imp = gate_imports_new(gate_world_engine(w));
    gate_wasi_config wc = { 0 };
    assert_int_equal(gate_imports_wasi(imp, &wc, NULL), GATE_OK);
    gate_val arg = { .type = GATE_I64, .of.i64 = ns };
    gate_spawn s = { .module = m, .imports = imp, .own_imports = 1, .entry = "sleep3",
                     .args = &arg, .nargs = 1 };
    gate_pid z;
    assert_int_equal(gate_world_spawn(w, &s, &z, NULL), GATE_OK);
    return z;
}

static void blocking_call_parks(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *sl = load(eng, "sleep.wasm");
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 10000);
    gate_pid z = sleeper(w, sl, 3600000000000ll);
    gate_pid p = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_run(w, 0, 3), GATE_SUSPENDED);
    assert_int_equal(info(w, z).state, GATE_PROC_WAITING);
    assert_int_equal(info(w, z).slices, 1);
    assert_int_equal(info(w, p).slices, 2);
    alarm(300);     /* hang guard only */
    gate_pid y = sleeper(w, sl, 30000000);
    gate_proc_info yi;
    assert_int_equal(gate_world_wait(w, y, &yi), GATE_OK);
    assert_int_equal(yi.status, GATE_OK);
    /* three sleeps and a yield: a handful of slices; the spinner ran
       while it slept */
    assert_true(yi.slices >= 4 && yi.slices <= 8);
    assert_true(info(w, p).slices >= 4);
    assert_int_equal(info(w, z).state, GATE_PROC_WAITING);
    assert_int_equal(gate_world_kill(w, z), GATE_OK);
    gate_proc_info zi;
    assert_int_equal(gate_world_wait(w, z, &zi), GATE_OK);
    assert_int_equal(zi.status, GATE_TRAPPED);
    assert_non_null(strstr(zi.message, "killed"));
    alarm(0);
    gate_world_free(w);
    gate_module_free(sl);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A paused process is out of the schedule until continued; a killed
   process that never ran ends without running. */
static void pause_and_kill(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_world *w = world(eng, 1, 10000);
    gate_pid a = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    gate_pid b = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_run(w, 0, 4), GATE_SUSPENDED);
    assert_int_equal(gate_world_pause(w, a), GATE_OK);
    assert_int_equal(gate_world_run(w, 0, 4), GATE_SUSPENDED);
    assert_int_equal(info(w, a).slices, 2);
    assert_int_equal(info(w, a).state, GATE_PROC_PAUSED);
    assert_int_equal(info(w, b).slices, 6);
    assert_int_equal(gate_world_continue(w, a), GATE_OK);
    assert_int_equal(gate_world_run(w, 0, 4), GATE_SUSPENDED);
    assert_int_equal(info(w, a).slices, 4);
    gate_pid c = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    assert_int_equal(gate_world_kill(w, c), GATE_OK);
    gate_proc_info ci = info(w, c);
    assert_int_equal(ci.state, GATE_PROC_DONE);
    assert_int_equal(ci.slices, 0);
    assert_int_equal(gate_world_kill(w, a), GATE_OK);
    assert_int_equal(gate_world_kill(w, b), GATE_OK);
    assert_int_equal(gate_world_run(w, 0, 0), GATE_OK);
    assert_int_equal(info(w, a).status, GATE_TRAPPED);
    gate_budget used;
    gate_sponsor_usage(gate_world_root(w), &used, NULL);
    assert_int_equal(used.processes, 0);
    assert_int_equal(used.memory, 0);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Restored processes get fresh WASI imports from their snapshots; ones
   not started yet get fresh ones. */
static gate_imports *restore_imports(void *ud, const char *name, const uint8_t *snap,
                                     size_t len, const gate_grants **grants, gate_error *err)
{
    gate_engine *eng = ud;
    (void)name;
    (void)grants;
    gate_imports *imp = gate_imports_new(eng);
    gate_imports_world(imp, NULL);
    gate_imports_func_raw(imp, "t", "mark", "v(i)", h_mark, NULL, NULL);
    if (snap) {
        gate_status st = gate_imports_wasi_from_snapshot(imp, snap, len, NULL, err);
        if (st == GATE_ERR_NOT_FOUND) {
            err->status = GATE_OK;
        } else if (st != GATE_OK) {
            gate_imports_free(imp);
            return NULL;
        }
    } else {
        gate_wasi_config wc = { 0 };
        gate_imports_wasi(imp, &wc, err);
    }
    return imp;
}

/* A world saved between runs, with processes parked deep in recursion,
   waiting in poll_oneoff, not started and ended, goes on from the file
   as the original goes on. */
static void world_snapshot(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    gate_module *m = load(eng, "spin.wasm");
    gate_module *sl = load(eng, "sleep.wasm");
    gate_world *w = world(eng, 1, 10000);
    gate_budget b;
    gate_budget_unlimited(&b);
    b.fuel = 1000000;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "child", &b, NULL);
    gate_val arg = { .type = GATE_I32, .of.i32 = 1000 };
    gate_pid d = spawn(w, m, "deep", &arg, 1, NULL, sp);
    gate_pid s1 = spawn(w, m, "spin", NULL, 0, NULL, NULL);
    gate_pid t = spawn(w, m, "trap", NULL, 0, NULL, NULL);
    gate_pid z = sleeper(w, sl, 3600000000000ll);
    assert_int_equal(gate_world_run(w, 0, 20), GATE_SUSPENDED);
    gate_pid n = spawn(w, m, "spin", NULL, 0, NULL, NULL);   /* not started */
    uint8_t *buf;
    size_t len;
    gate_error err;
    if (gate_world_snapshot(w, &buf, &len, &err) != GATE_OK)
        fail_msg("snapshot: %s", err.message);
    gate_proc_info before[5];
    gate_pid pids[5] = { d, s1, t, z, n };
    for (int i = 0; i < 5; i++)
        before[i] = info(w, pids[i]);
    assert_int_equal(before[2].state, GATE_PROC_DONE);
    /* unwound out of poll_oneoff for the file: it restarts the call next */
    assert_int_equal(before[3].state, GATE_PROC_RUNNABLE);
    assert_int_equal(before[4].state, GATE_PROC_NEW);
    /* the original goes on from the portable form */
    assert_int_equal(gate_world_run(w, 0, 20), GATE_SUSPENDED);
    gate_proc_info after_orig[5];
    for (int i = 0; i < 5; i++)
        after_orig[i] = info(w, pids[i]);
    assert_int_equal(after_orig[3].state, GATE_PROC_WAITING);
    assert_int_equal(after_orig[3].slices, 2);
    gate_world_free(w);
    /* the copy does the same */
    gate_world *c = gate_world_restore(eng, NULL, buf, len, restore_imports, eng, &err);
    if (!c)
        fail_msg("restore: %s", err.message);
    for (int i = 0; i < 5; i++) {
        gate_proc_info x = info(c, pids[i]);
        assert_string_equal(x.name, before[i].name);
        assert_int_equal(x.slices, before[i].slices);
        assert_int_equal(x.fuel_used, before[i].fuel_used);
    }
    gate_proc_info ti = info(c, t);
    assert_int_equal(ti.status, GATE_TRAPPED);
    assert_int_equal(ti.trap.code, GATE_TRAP_UNREACHABLE);
    assert_int_equal(gate_world_run(c, 0, 20), GATE_SUSPENDED);
    for (int i = 0; i < 5; i++) {
        gate_proc_info x = info(c, pids[i]);
        if (x.slices != after_orig[i].slices)
            for (int k = 0; k < 5; k++)
                print_message("pid %u %s: before %llu orig %llu %s copy %llu %s\n", pids[k],
                              before[k].name, (unsigned long long)before[k].slices,
                              (unsigned long long)after_orig[k].slices,
                              gate_proc_state_name(after_orig[k].state),
                              (unsigned long long)info(c, pids[k]).slices,
                              gate_proc_state_name(info(c, pids[k]).state));
        assert_int_equal(x.slices, after_orig[i].slices);
        assert_int_equal(x.fuel_used, after_orig[i].fuel_used);
    }
    gate_budget used;
    gate_sponsor *csp = info(c, d).sponsor;
    assert_string_equal(gate_sponsor_name(csp), "child");
    gate_sponsor_usage(csp, &used, NULL);
    assert_int_equal(used.fuel, info(c, d).fuel_used);
    /* spawn after restore: pids go on */
    gate_pid fresh = spawn(c, m, "spin", NULL, 0, NULL, NULL);
    assert_true(fresh > n);
    gate_world_free(c);
    /* damaged files are refused with where and why */
    for (size_t cut = 0; cut < len; cut += len / 97 + 1) {
        gate_world *bad = gate_world_restore(eng, NULL, buf, cut, restore_imports, eng, &err);
        assert_null(bad);
        assert_int_equal(err.status, GATE_ERR_SNAPSHOT);
    }
    for (size_t at = 8; at < len; at += len / 89 + 1) {
        buf[at] ^= 0x5a;
        gate_world *bad = gate_world_restore(eng, NULL, buf, len, restore_imports, eng, &err);
        assert_null(bad);
        assert_non_null(strstr(err.message, "world file"));
        buf[at] ^= 0x5a;
    }
    gate_free_buffer(eng, buf, len);
    gate_module_free(m);
    gate_module_free(sl);
    gate_engine_free(eng);
}

/* ---- messages ------------------------------------------------------------ */

static gate_imports *msg_imports(gate_engine *eng)
{
    gate_imports *imp = gate_imports_new(eng);
    assert_int_equal(gate_imports_world(imp, NULL), GATE_OK);
    assert_int_equal(gate_imports_func_raw(imp, "t", "mark", "v(i)", h_mark, NULL, NULL), GATE_OK);
    return imp;
}

static gate_pid mspawn(gate_world *w, gate_module *m, const char *entry, int32_t a0, int32_t a1,
                       int nargs, const gate_grants *g)
{
    gate_val a[2] = { { .type = GATE_I32, .of.i32 = a0 }, { .type = GATE_I32, .of.i32 = a1 } };
    gate_spawn s = { .module = m, .imports = msg_imports(gate_world_engine(w)), .own_imports = 1,
                     .entry = entry, .args = a, .nargs = (size_t)nargs, .grants = g };
    gate_pid pid = 0;
    gate_error err;
    if (gate_world_spawn(w, &s, &pid, &err) != GATE_OK)
        fail_msg("spawn %s: %s", entry, err.message);
    return pid;
}

static int32_t mark_at(int i)
{
    pthread_mutex_lock(&marks_lock);
    int32_t v = i < nmarks ? marks[i] : INT32_MIN;
    pthread_mutex_unlock(&marks_lock);
    return v;
}

/* FIFO between two processes, a selective receive by tag, a buffer too
   small (the message stays), a timeout, and round trips that all arrive
   exactly once. */
static void messages(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    gate_world *w = world(eng, 1, 10000);
    marks_reset();
    gate_pid c = mspawn(w, m, "collect", 4, 0, 1, NULL);
    uint8_t b = 'a';
    assert_int_equal(gate_world_send(w, c, 5, &b, 1), GATE_OK);
    b = 'b';
    assert_int_equal(gate_world_send(w, c, 5, &b, 1), GATE_OK);
    b = 'c';
    assert_int_equal(gate_world_send(w, c, 6, &b, 1), GATE_OK);
    b = 'd';
    assert_int_equal(gate_world_send(w, c, 7, &b, 1), GATE_OK);
    assert_int_equal(gate_world_send(w, 999, 5, &b, 1), GATE_ERR_NOT_FOUND);
    gate_proc_info ci;
    assert_int_equal(gate_world_wait(w, c, &ci), GATE_OK);
    assert_int_equal(ci.status, GATE_OK);
    /* tag 6 first (selective), then the rest in the order sent */
    int32_t want[] = { 6, 'c', 5, 'a', 5, 'b', 7, 'd' };
    for (int i = 0; i < 8; i++)
        assert_int_equal(mark_at(i), want[i]);
    marks_reset();
    gate_pid s = mspawn(w, m, "small", 0, 0, 0, NULL);
    assert_int_equal(gate_world_send(w, s, 1, "hello", 5), GATE_OK);
    gate_world_wait(w, s, NULL);
    assert_int_equal(mark_at(0), GATE_E2BIG);
    assert_int_equal(mark_at(1), 5);
    assert_int_equal(mark_at(2), 0);
    marks_reset();
    gate_pid t = mspawn(w, m, "timeout", 0, 0, 0, NULL);
    alarm(300);
    gate_world_wait(w, t, NULL);
    assert_int_equal(mark_at(0), GATE_ETIMEDOUT);
    /* 500 round trips between two processes */
    marks_reset();
    gate_pid pong = mspawn(w, m, "pong", 500, 0, 1, NULL);
    gate_pid ping = mspawn(w, m, "ping", (int32_t)pong, 500, 2, NULL);
    gate_proc_info pi;
    assert_int_equal(gate_world_wait(w, ping, &pi), GATE_OK);
    assert_int_equal(pi.status, GATE_OK);
    assert_int_equal(mark_at(0), 500);
    gate_world_wait(w, pong, NULL);
    alarm(0);
    gate_budget used;
    gate_sponsor_usage(gate_world_root(w), &used, NULL);
    assert_int_equal(used.messages, 0);     /* all received: nothing held */
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A full mailbox and a spent budget refuse; topics reach every
   subscriber; a monitor gets a DOWN message; grants are enforced. */
static void mailboxes_topics_grants(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = 1;
    c.slice_fuel = 10000;
    c.slice_ns = 20000000000ull;
    c.mailbox_bytes = 1000;
    gate_world *w = gate_world_new(eng, &c, NULL);
    marks_reset();
    gate_pid idle = mspawn(w, m, "timeout", 0, 0, 0, NULL);
    char buf[100] = { 0 };
    int sent = 0;
    while (gate_world_send(w, idle, 1, buf, sizeof buf) == GATE_OK)
        sent++;
    assert_int_equal(sent, 10);         /* 1000 bytes: full */
    assert_int_equal(gate_world_kill(w, idle), GATE_OK);     /* it never ran */
    assert_int_equal(gate_world_send(w, idle, 1, buf, 1), GATE_ERR_NOT_FOUND);
    /* a sponsor's message budget */
    gate_budget b;
    gate_budget_unlimited(&b);
    b.messages = 8;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "chatty", &b, NULL);
    gate_pid sink = mspawn(w, m, "pong", 1000, 0, 1, NULL);
    gate_val a = { .type = GATE_I32, .of.i32 = (int32_t)sink };
    gate_spawn s1 = { .module = m, .imports = msg_imports(eng), .own_imports = 1,
                      .entry = "sendto", .args = &a, .nargs = 1, .sponsor = sp };
    gate_pid x;
    assert_int_equal(gate_world_spawn(w, &s1, &x, NULL), GATE_OK);
    gate_world_wait(w, x, NULL);
    assert_int_equal(mark_at(0), 0);      /* 4 bytes of 8: sent */
    /* three subscribers, one publisher; the sender is not told its own */
    marks_reset();
    gate_pid subs[3];
    for (int i = 0; i < 3; i++)
        subs[i] = mspawn(w, m, "sub", 0, 0, 0, NULL);
    /* all three wait in recv for ever: nothing can run */
    assert_int_equal(gate_world_run(w, 0, 0), GATE_OK);
    for (int i = 0; i < 3; i++)
        assert_int_equal(info(w, subs[i]).state, GATE_PROC_WAITING);
    gate_pid pb = mspawn(w, m, "pub", 0, 0, 0, NULL);
    gate_world_wait(w, pb, NULL);
    for (int i = 0; i < 3; i++)
        gate_world_wait(w, subs[i], NULL);
    int zeros = 0, seventy7 = 0, three = 0;
    for (int i = 0; i < 7; i++) {
        int32_t v = mark_at(i);
        zeros += v == 0;
        seventy7 += v == 77;
        three += v == 3;
    }
    assert_int_equal(zeros, 3);     /* three subscribe calls */
    assert_int_equal(seventy7, 3);  /* three deliveries */
    assert_int_equal(three, 1);     /* publish said three */
    size_t n;
    assert_int_equal(gate_world_publish(w, "news", 1, "x", 1, &n), GATE_OK);
    assert_int_equal(n, 0);         /* they ended: unsubscribed */
    /* a monitor learns of a trap by a message */
    marks_reset();
    gate_pid victim = mspawn(w, m, "timeout", 0, 0, 0, NULL);
    gate_pid watcher = mspawn(w, m, "watch", (int32_t)victim, 0, 1, NULL);
    assert_int_equal(gate_world_run(w, 0, 2), GATE_SUSPENDED);
    gate_world_kill(w, victim);
    gate_world_wait(w, watcher, NULL);
    int k = 0;
    while (mark_at(k) != INT32_MIN && mark_at(k) != 0)
        k++;
    assert_int_equal(mark_at(k), 0);                 /* monitor: ok */
    assert_int_equal(mark_at(k + 1), (int32_t)victim);   /* DOWN from the victim */
    assert_int_equal(mark_at(k + 2), GATE_TRAPPED);
    /* a link: each end learns of the other's end */
    marks_reset();
    gate_pid lb = mspawn(w, m, "timeout", 0, 0, 0, NULL);
    gate_pid la = mspawn(w, m, "linker", (int32_t)lb, 0, 1, NULL);
    assert_int_equal(gate_world_link(w, la, la), GATE_ERR_ARG);
    gate_world_wait(w, lb, NULL);
    gate_world_wait(w, la, NULL);
    assert_int_equal(mark_at(0), 0);                 /* la: linked */
    assert_int_equal(mark_at(1), GATE_ETIMEDOUT);    /* lb: its timeout, then it ends */
    assert_int_equal(mark_at(2), (int32_t)lb);       /* la: DOWN from lb */
    assert_int_equal(mark_at(3), GATE_OK);
    /* grants: no send, only "chat.*" topics */
    marks_reset();
    static const char *const chat[] = { "chat.*" };
    gate_grants g = { .send = 0, .publish = chat, .npublish = 1, .subscribe = chat,
                      .nsubscribe = 1 };
    gate_pid u1 = mspawn(w, m, "sendto", (int32_t)sink, 0, 1, &g);
    gate_world_wait(w, u1, NULL);
    gate_pid u2 = mspawn(w, m, "pub", 0, 0, 0, &g);
    gate_world_wait(w, u2, NULL);
    gate_pid u3 = mspawn(w, m, "sub", 0, 0, 0, &g);
    gate_world_wait(w, u3, NULL);
    assert_int_equal(mark_at(0), GATE_ENOTCAPABLE);
    assert_int_equal(mark_at(1), -GATE_ENOTCAPABLE);
    assert_int_equal(mark_at(2), GATE_ENOTCAPABLE);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Round trips saved mid-flight, with messages queued and processes
   parked in recv, and restored: every message delivered exactly once. */
static void messages_across_snapshot(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    gate_world *w = world(eng, 1, 300);
    marks_reset();
    gate_pid pong = mspawn(w, m, "pong", 300, 0, 1, NULL);
    gate_pid ping = mspawn(w, m, "ping", (int32_t)pong, 300, 2, NULL);
    gate_pid sub = mspawn(w, m, "sub", 0, 0, 0, NULL);
    assert_int_equal(gate_world_run(w, 0, 150), GATE_SUSPENDED);
    assert_int_equal(gate_world_send(w, sub, 9, "q", 1), GATE_OK);   /* queued, not received */
    uint8_t *buf;
    size_t len;
    gate_error err;
    if (gate_world_snapshot(w, &buf, &len, &err) != GATE_OK)
        fail_msg("snapshot: %s", err.message);
    gate_world_free(w);
    marks_reset();
    gate_world *c = gate_world_restore(eng, NULL, buf, len, restore_imports, eng, &err);
    if (!c)
        fail_msg("restore: %s", err.message);
    alarm(300);
    gate_proc_info pi;
    assert_int_equal(gate_world_wait(c, ping, &pi), GATE_OK);
    assert_int_equal(pi.status, GATE_OK);
    gate_world_wait(c, sub, NULL);
    alarm(0);
    /* the sub's subscribe mark came before the save; after: the queued
       message (tag 9), and ping's count of right answers */
    int found_ping = 0, found_sub = 0;
    for (int i = 0; mark_at(i) != INT32_MIN; i++) {
        found_ping += mark_at(i) == 300;
        found_sub += mark_at(i) == 9;
    }
    assert_int_equal(found_ping, 1);
    assert_int_equal(found_sub, 1);
    gate_world_free(c);
    gate_free_buffer(eng, buf, len);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* The registry: a fork bomb stops at its sponsor's process budget; one
   copy only; a missing dependency; a name not granted; a pinned hash. */
static gate_imports *reg_imports(void *ud, const char *name, const uint8_t *snap, size_t len,
                                 const gate_grants **grants, gate_error *err)
{
    (void)name; (void)snap; (void)len; (void)grants; (void)err;
    return msg_imports(ud);
}

static void registry(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    gate_world *w = world(eng, 1, 100000);
    gate_world_set_imports(w, reg_imports, eng);
    static const gate_grants nothing = { 0 };
    gate_registry_entry child = { .name = "child", .version = "1.2.3", .module = m,
                                  .entry = "timeout", .grants = &nothing };
    assert_int_equal(gate_world_register(w, &child, NULL), GATE_OK);
    gate_registry_entry single = { .name = "single", .version = "1.0.0", .module = m,
                                   .entry = "timeout", .one_copy = 1, .grants = &nothing };
    assert_int_equal(gate_world_register(w, &single, NULL), GATE_OK);
    static const char *const deps[] = { "child@>=1.2.0", "nowhere" };
    gate_registry_entry needy = { .name = "needy", .version = "0.1.0", .module = m,
                                  .depends = deps, .ndepends = 2, .grants = &nothing };
    assert_int_equal(gate_world_register(w, &needy, NULL), GATE_OK);
    gate_registry_entry pinned = { .name = "pinned", .version = "1.0.0", .module = m,
                                   .hash = gate_module_hash(m) ^ 1 };
    gate_error err;
    assert_int_equal(gate_world_register(w, &pinned, &err), GATE_ERR_ARG);
    assert_non_null(strstr(err.message, "hash"));
    gate_registry_entry bad = { .name = "x@y", .version = "1.0", .module = m };
    assert_int_equal(gate_world_register(w, &bad, NULL), GATE_ERR_ARG);
    assert_int_equal(gate_world_register(w, &child, NULL), GATE_ERR_ARG);   /* twice */
    assert_int_equal(gate_world_unregister(w, "needy"), GATE_OK);
    assert_int_equal(gate_world_unregister(w, "needy"), GATE_ERR_NOT_FOUND);
    assert_int_equal(gate_world_register(w, &needy, NULL), GATE_OK);   /* edited: back */
    gate_budget b;
    gate_budget_unlimited(&b);
    b.processes = 5;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "bomber", &b, NULL);
    static const char *const may[] = { "child", "single", "needy" };
    gate_grants g = { .spawn = may, .nspawn = 3 };
    gate_val a0 = { .type = GATE_I32, .of.i32 = 0 };
    gate_spawn s = { .module = m, .imports = msg_imports(eng), .own_imports = 1,
                     .entry = "bomb", .sponsor = sp, .grants = &g, .args = &a0, .nargs = 0 };
    gate_pid bomber;
    marks_reset();
    assert_int_equal(gate_world_spawn(w, &s, &bomber, NULL), GATE_OK);
    alarm(300);
    gate_world_wait(w, bomber, NULL);
    /* the bomber and four children fill the budget of five */
    for (int i = 0; i < 4; i++)
        assert_true(mark_at(i) > (int32_t)bomber);
    assert_int_equal(mark_at(4), -GATE_EAGAIN);
    assert_int_equal(mark_at(5), -GATE_EAGAIN);
    assert_int_equal(mark_at(6), -GATE_EAGAIN);     /* single: no room either */
    assert_int_equal(mark_at(7), -GATE_EAGAIN);
    assert_int_equal(mark_at(8), -GATE_ENOPROC);    /* needy: "nowhere" is missing */
    assert_int_equal(mark_at(9), -GATE_ENOTCAPABLE);   /* "news": not granted */
    gate_proc_info ci = info(w, (gate_pid)mark_at(0));
    assert_string_equal(ci.name, "child");
    assert_true(ci.sponsor == sp);
    gate_world_run(w, 0, 0);
    /* without a process budget: six children; one copy of "single" only */
    marks_reset();
    s.imports = msg_imports(eng);
    s.sponsor = NULL;
    assert_int_equal(gate_world_spawn(w, &s, &bomber, NULL), GATE_OK);
    gate_world_wait(w, bomber, NULL);
    for (int i = 0; i < 6; i++)
        assert_true(mark_at(i) > (int32_t)bomber);
    assert_true(mark_at(6) > 0);                    /* single, the first */
    assert_int_equal(mark_at(7), -GATE_EAGAIN);     /* single, the second */
    assert_int_equal(mark_at(8), -GATE_ENOPROC);
    alarm(0);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A byte stream of 16 bytes between two processes: the writer parks when
   it is full, the reader when it is empty; saved with bytes in flight and
   restored, the reader gets every byte once. */
static void streams(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    uint32_t want_sum = 0;
    for (uint32_t i = 0; i < 1000; i += 7)
        for (uint32_t k = 0; k < 7 && i + k < 1000; k++)
            want_sum += (i + k) & 255;
    for (int saved = 0; saved < 2; saved++) {
        gate_world_config c;
        gate_world_config_init(&c);
        c.workers = 1;
        c.slice_fuel = 100000;
        c.slice_ns = 20000000000ull;
        c.stream_bytes = 16;
        gate_world *w = gate_world_new(eng, &c, NULL);
        marks_reset();
        gate_pid r = mspawn(w, m, "sreader", 0, 0, 0, NULL);
        gate_pid wr = mspawn(w, m, "swriter", (int32_t)r, 1000, 2, NULL);
        if (saved) {
            assert_int_equal(gate_world_run(w, 0, 11), GATE_SUSPENDED);
            uint8_t *buf;
            size_t len;
            gate_error err;
            if (gate_world_snapshot(w, &buf, &len, &err) != GATE_OK)
                fail_msg("snapshot: %s", err.message);
            gate_world_free(w);
            w = gate_world_restore(eng, NULL, buf, len, restore_imports, eng, &err);
            if (!w)
                fail_msg("restore: %s", err.message);
            gate_free_buffer(eng, buf, len);
        }
        alarm(300);
        gate_proc_info ri, wi;
        assert_int_equal(gate_world_wait(w, r, &ri), GATE_OK);
        assert_int_equal(gate_world_wait(w, wr, &wi), GATE_OK);
        alarm(0);
        assert_int_equal(ri.status, GATE_OK);
        assert_int_equal(wi.status, GATE_OK);
        /* many slices: each side parked on the other */
        assert_true(ri.slices > 20 && wi.slices > 20);
        int32_t got_n = INT32_MIN, got_sum = INT32_MIN, wrote = INT32_MIN;
        for (int i = 0; mark_at(i) != INT32_MIN; i++) {
            if (mark_at(i) == 1000 && wrote == INT32_MIN)
                wrote = 1000;
        }
        /* the reader marks count then sum; the writer its total */
        for (int i = 0; mark_at(i + 1) != INT32_MIN; i++)
            if (mark_at(i) == 1000 && mark_at(i + 1) == (int32_t)want_sum) {
                got_n = 1000;
                got_sum = mark_at(i + 1);
            }
        assert_int_equal(wrote, 1000);
        assert_int_equal(got_n, 1000);
        assert_int_equal(got_sum, (int32_t)want_sum);
        gate_budget used;
        gate_sponsor_usage(gate_world_root(w), &used, NULL);
        assert_int_equal(used.messages, 0);     /* the stream is gone */
        gate_world_free(w);
    }
    gate_module_free(m);
    gate_engine_free(eng);
}

/* Large messages move their pages: the sender's range reads as zeros,
   the receiver's page-aligned buffer holds the bytes; an unaligned one
   gets a copy; small ones are copied, with the same effect for both. */
static void moved_messages(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "msg.wasm");
    gate_world *w = world(eng, 1, 100000);
    struct { int32_t len, off; } cases[] = { { 1 << 20, 0 }, { 1 << 20, 8 }, { 65536, 0 },
                                             { 4000, 0 } };
    for (int i = 0; i < 4; i++) {
        marks_reset();
        gate_pid r = mspawn(w, m, "mreceiver", cases[i].off, 0, 1, NULL);
        gate_pid s = mspawn(w, m, "mover", (int32_t)r, cases[i].len, 2, NULL);
        gate_world_wait(w, s, NULL);
        gate_world_wait(w, r, NULL);
        assert_int_equal(mark_at(0), 0);        /* sent */
        assert_int_equal(mark_at(1), 0);        /* the sender's range: zeros */
        assert_int_equal(mark_at(2), 0);
        assert_int_equal(mark_at(3), cases[i].len);
        assert_int_equal(mark_at(4), 0x5a);
        assert_int_equal(mark_at(5), 7);
    }
    gate_budget used;
    gate_sponsor_usage(gate_world_root(w), &used, NULL);
    assert_int_equal(used.messages, 0);
    gate_world_free(w);
    gate_module_free(m);
    gate_engine_free(eng);
}

/* A zygote registered by name: each spawn forks it into a process with
   its own pid (its pending self() is answered for it), charged to the
   spawner's sponsor, so a fork bomb stops at the sponsor's process
   limit; the world saved and restored with such children in it. */
static void zygote_fork_bomb(void **state)
{
    (void)state;
    gate_engine *eng = engine(1);
    host_eng = eng;
    gate_module *m = load(eng, "bomb.wasm");
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    zc.init = "init";
    gate_error err;
    gate_instance *z = gate_zygote_new(m, &zc, &err);
    if (!z)
        fail_msg("zygote: %s", err.message);
    char pend[64];
    assert_int_equal(gate_zygote_pending(z, pend, sizeof pend), 1);
    assert_string_equal(pend, "gate.self");
    gate_world *w = world(eng, 1, 100000);
    gate_world_set_imports(w, reg_imports, eng);
    static const char *const may[] = { "bomb" };
    static const gate_grants g = { .spawn = may, .nspawn = 1 };
    gate_registry_entry e = { .name = "bomb", .version = "1.0.0", .zygote = z, .grants = &g };
    assert_int_equal(gate_world_register(w, &e, &err), GATE_OK);
    gate_budget b;
    gate_budget_unlimited(&b);
    b.processes = 20;
    gate_sponsor *sp = gate_sponsor_new(gate_world_root(w), "bombs", &b, NULL);
    gate_spawn s = { .zygote = z, .imports = msg_imports(eng), .own_imports = 1, .sponsor = sp,
                     .grants = &g, .name = "bomb" };
    gate_pid first;
    marks_reset();
    assert_int_equal(gate_world_spawn(w, &s, &first, &err), GATE_OK);
    gate_proc_info pi = info(w, first);
    assert_int_equal(pi.state, GATE_PROC_NEW);
    alarm(300);
    assert_int_equal(gate_world_run(w, 0, 0), GATE_OK);    /* all wait: the bomb is stopped */
    gate_budget used, lim;
    gate_sponsor_usage(sp, &used, &lim);
    assert_int_equal(used.processes, 20);
    assert_true(used.memory >= 20 * 65536);
    /* each child: the zygote's state, its own pid, then its spawns */
    int state_ok = 0, eagain = 0, spawned = 0;
    gate_pid seen[64] = { 0 };
    int nseen = 0;
    for (int i = 0; i < 80 && mark_at(i) != INT32_MIN; i++) {
        int32_t v = mark_at(i);
        if (v == 1234)
            state_ok++;
        else if (v == -GATE_EAGAIN)
            eagain++;
        else if (v >= 1000000 && nseen < 64)
            seen[nseen++] = (gate_pid)(v - 1000000);
        else if (v > 0)
            spawned++;
    }
    assert_int_equal(state_ok, 20);
    assert_int_equal(spawned, 19);
    assert_int_equal(eagain, 21);
    assert_int_equal(nseen, 20);
    for (int i = 0; i < nseen; i++)
        for (int k = 0; k < i; k++)
            assert_int_not_equal(seen[i], seen[k]);     /* every pid its own */
    /* a child not dispatched yet survives a save and a restore */
    gate_world_kill(w, first);
    gate_world_run(w, 0, 0);
    gate_pid late;
    marks_reset();
    assert_int_equal(gate_world_spawn(w, &(gate_spawn){ .zygote = z, .imports = msg_imports(eng),
                                                         .own_imports = 1, .sponsor = sp,
                                                         .grants = &g, .name = "late" },
                                      &late, &err), GATE_OK);
    uint8_t *wf;
    size_t wl;
    assert_int_equal(gate_world_snapshot(w, &wf, &wl, &err), GATE_OK);
    gate_world_free(w);
    gate_instance_free(z);          /* the restored world needs no zygote */
    gate_world_config c;
    gate_world_config_init(&c);
    c.workers = 1;
    c.slice_fuel = 100000;
    c.slice_ns = 20000000000ull;
    /* the file cut or changed anywhere: refused, never a crash */
    uint8_t *bad = malloc(wl);
    for (size_t cut = 0; cut < wl; cut += 1 + wl / 61) {
        memcpy(bad, wf, wl);
        assert_null(gate_world_restore(eng, &c, bad, cut, reg_imports, eng, &err));
        bad[cut] ^= 0x5a;
        gate_world *t = gate_world_restore(eng, &c, bad, wl, reg_imports, eng, &err);
        if (t) {
            fail_msg("a world file with byte %zu changed was restored", cut);
            gate_world_free(t);
        }
    }
    free(bad);
    w = gate_world_restore(eng, &c, wf, wl, reg_imports, eng, &err);
    if (!w)
        fail_msg("restore: %s", err.message);
    gate_free_buffer(eng, wf, wl);
    gate_world_run(w, 0, 0);
    assert_int_equal(mark_at(0), 1234);
    assert_int_equal(mark_at(1), 1000000 + (int32_t)late);
    assert_int_equal(mark_at(2), -GATE_ENOPROC);       /* no registry in a world file */
    assert_int_equal(mark_at(4), INT32_MIN);           /* it ran once, after the restore */
    alarm(0);
    gate_world_free(w);
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
        snprintf(data_dir, sizeof data_dir, ".");
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(fair_shares),
        cmocka_unit_test(two_workers),
        cmocka_unit_test(deep_preemption),
        cmocka_unit_test(sponsor_fuel),
        cmocka_unit_test(sponsor_limits),
        cmocka_unit_test(trap_isolated),
        cmocka_unit_test(no_nested_dispatch),
        cmocka_unit_test(watchdog_time_slices),
        cmocka_unit_test(blocking_call_parks),
        cmocka_unit_test(pause_and_kill),
        cmocka_unit_test(world_snapshot),
        cmocka_unit_test(messages),
        cmocka_unit_test(mailboxes_topics_grants),
        cmocka_unit_test(messages_across_snapshot),
        cmocka_unit_test(registry),
        cmocka_unit_test(streams),
        cmocka_unit_test(moved_messages),
        cmocka_unit_test(zygote_fork_bomb),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
