/*
 * world.c - many processes on one machine: workers, slices, sponsors, the
 * watchdog (docs/world.md).
 *
 * A process is an instance with a stack of its own: a small region for
 * the C frames of the call that runs it (gate_call, gate_resume) above a
 * guard, then the wasm stack the runtime uses for it (rt_stack_override).
 * A worker switches to that stack to run a slice (gw_switch, one register
 * save and restore); the slice ends when a stop check of the process calls
 * the preempt hook (fuel used up, or the stop word raised by the watchdog
 * or by the end of a run) or a blocking WASI call calls the wait hook: the
 * hook switches back to the worker, and the frames stay where they are.
 * A process stays on its worker: C code on its stack may keep addresses
 * of that thread's thread-local variables across a switch.
 *
 * Locking: one mutex per world guards queues, states, sponsors and the
 * process table; a process's instance is touched only by its worker while
 * it runs, or by anyone between runs.
 */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "../snapshot/snapshot.h"
#include "world.h"

void gw_switch(void **save_sp, void *to_sp);
void gw_boot(void);

#define GLUE_SIZE ((size_t)256 << 10)       /* C frames of the running call */
#define GUARD RT_STACK_GUARD
#define DEFAULT_STACK ((size_t)1 << 20)

uint64_t gw_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void abs_time(struct timespec *ts, uint64_t mono_ns)
{
    ts->tv_sec = (time_t)(mono_ns / 1000000000u);
    ts->tv_nsec = (long)(mono_ns % 1000000000u);
}

void gw_err_reset(gate_error *err)
{
    if (err) {
        err->status = GATE_OK;
        err->offset = UINT64_MAX;
        err->func_index = GATE_NO_FUNC;
        err->message[0] = 0;
    }
}

static void *w_alloc(gate_world *w, size_t n)
{
    void *p = gx_malloc(&w->eng->alloc, n);
    if (p)
        memset(p, 0, n);
    return p;
}

static void w_free(gate_world *w, void *p, size_t n)
{
    gx_free(&w->eng->alloc, p, n);
}

static char *w_strdup(gate_world *w, const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = gx_malloc(&w->eng->alloc, n);
    if (d)
        memcpy(d, s, n);
    return d;
}

static void w_strfree(gate_world *w, char *s)
{
    if (s)
        w_free(w, s, strlen(s) + 1);
}

const char *gate_proc_state_name(gate_proc_state s)
{
    static const char *const n[] = { "new", "runnable", "running", "waiting", "no fuel",
                                     "paused", "done" };
    return (unsigned)s < sizeof n / sizeof n[0] ? n[s] : "?";
}

/* ---- queues and timers (under the lock) ---------------------------------- */

void gw_runq_push(gw_worker *wk, gw_proc *p, bool front)
{
    assert(!p->queued);
    p->queued = true;
    p->qnext = p->qprev = NULL;
    if (front) {
        p->qnext = wk->head;
        if (wk->head)
            wk->head->qprev = p;
        wk->head = p;
        if (!wk->tail)
            wk->tail = p;
    } else {
        p->qprev = wk->tail;
        if (wk->tail)
            wk->tail->qnext = p;
        else
            wk->head = p;
        wk->tail = p;
    }
    pthread_cond_signal(&wk->cv);
}

static void runq_remove(gw_worker *wk, gw_proc *p)
{
    if (!p->queued)
        return;
    if (p->qprev)
        p->qprev->qnext = p->qnext;
    else
        wk->head = p->qnext;
    if (p->qnext)
        p->qnext->qprev = p->qprev;
    else
        wk->tail = p->qprev;
    p->qnext = p->qprev = NULL;
    p->queued = false;
}

static gw_proc *runq_pop(gw_worker *wk)
{
    gw_proc *p = wk->head;
    if (p)
        runq_remove(wk, p);
    return p;
}

static void heap_swap(gw_worker *wk, size_t a, size_t b)
{
    gw_proc *t = wk->heap[a];
    wk->heap[a] = wk->heap[b];
    wk->heap[b] = t;
    wk->heap[a]->heapi = a;
    wk->heap[b]->heapi = b;
}

static void heap_up(gw_worker *wk, size_t i)
{
    while (i && wk->heap[(i - 1) / 2]->wake > wk->heap[i]->wake) {
        heap_swap(wk, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static void heap_down(gw_worker *wk, size_t i)
{
    for (;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < wk->nheap && wk->heap[l]->wake < wk->heap[m]->wake)
            m = l;
        if (r < wk->nheap && wk->heap[r]->wake < wk->heap[m]->wake)
            m = r;
        if (m == i)
            return;
        heap_swap(wk, i, m);
        i = m;
    }
}

static bool heap_add(gw_worker *wk, gw_proc *p)
{
    gate_world *w = wk->w;
    if (wk->nheap == wk->capheap) {
        size_t cap = wk->capheap ? wk->capheap * 2 : 16;
        gw_proc **n = gx_realloc(&w->eng->alloc, wk->heap, wk->capheap * sizeof *n,
                                 cap * sizeof *n);
        if (!n)
            return false;
        wk->heap = n;
        wk->capheap = cap;
    }
    p->heapi = wk->nheap;
    wk->heap[wk->nheap++] = p;
    heap_up(wk, p->heapi);
    pthread_cond_signal(&wk->cv);
    return true;
}

void gw_heap_remove(gw_worker *wk, gw_proc *p)
{
    size_t i = p->heapi;
    if (i == SIZE_MAX)
        return;
    p->heapi = SIZE_MAX;
    wk->nheap--;
    if (i == wk->nheap)
        return;
    wk->heap[i] = wk->heap[wk->nheap];
    wk->heap[i]->heapi = i;
    heap_up(wk, i);
    heap_down(wk, wk->heap[i]->heapi);
}

/* Processes whose timers expired become runnable. */
static void timers_expire(gw_worker *wk, uint64_t now)
{
    while (wk->nheap && wk->heap[0]->wake <= now) {
        gw_proc *p = wk->heap[0];
        gw_heap_remove(wk, p);
        p->state = GATE_PROC_RUNNABLE;
        gw_runq_push(wk, p, false);
    }
}

/* A process that may run now goes to its queue (or waits for fuel). */
void gw_make_runnable(gate_world *w, gw_proc *p, bool front)
{
    if (p->pause_req && !p->kill) {
        p->state = GATE_PROC_PAUSED;
        return;
    }
    if (w->fuel && !p->kill && gw_avail(p->sp, GW_FUEL) == 0) {
        p->state = GATE_PROC_NO_FUEL;
        return;
    }
    p->state = GATE_PROC_RUNNABLE;
    gw_runq_push(p->wk, p, front);
}

void gw_wake_starved(gate_world *w, gate_sponsor *s)
{
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        if (p->state == GATE_PROC_NO_FUEL && p->sp == s)
            gw_make_runnable(w, p, false);
    }
}

/* ---- the process table ------------------------------------------------- */

gw_proc *gw_find(gate_world *w, gate_pid pid)
{
    uint32_t lo = 0, hi = w->nprocs;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (w->procs[mid]->pid < pid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->nprocs && w->procs[lo]->pid == pid ? w->procs[lo] : NULL;
}

/* The worker with the fewest processes. */
gw_worker *gw_pick_worker(gate_world *w)
{
    gw_worker *best = &w->wk[0];
    for (unsigned i = 1; i < w->nwk; i++)
        if (w->wk[i].nprocs < best->nprocs)
            best = &w->wk[i];
    return best;
}

gw_proc *gw_proc_add(gate_world *w, gate_pid pid, const char *name, gate_sponsor *sp,
                     gate_error *err)
{
    if (w->nprocs == w->capprocs) {
        uint32_t cap = w->capprocs ? w->capprocs * 2 : 64;
        gw_proc **n = gx_realloc(&w->eng->alloc, w->procs, (size_t)w->capprocs * sizeof *n,
                                 (size_t)cap * sizeof *n);
        if (!n) {
            gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
            return NULL;
        }
        w->procs = n;
        w->capprocs = cap;
    }
    gw_proc *p = w_alloc(w, sizeof *p);
    if (!p) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    p->w = w;
    p->pid = pid;
    p->sp = sp;
    p->heapi = SIZE_MAX;
    p->wait_stream = -1;
    p->state = GATE_PROC_NEW;
    if (name && *name)
        snprintf(p->name, sizeof p->name, "%s", name);
    else
        snprintf(p->name, sizeof p->name, "p%u", pid);
    p->wk = gw_pick_worker(w);
    p->wk->nprocs++;
    /* pids only grow: the table stays sorted */
    assert(!w->nprocs || w->procs[w->nprocs - 1]->pid < pid);
    w->procs[w->nprocs++] = p;
    if (pid >= w->next_pid)
        w->next_pid = pid + 1;
    sp->used[GW_PROCS]++;
    return p;
}

/* ---- hooks: on the process's stack -------------------------------------- */

/* Back to the worker; returns when the worker switches to p again. */
static void park(gw_proc *p, int why)
{
    p->yield = why;
    gw_switch(&p->ctx, p->wk->sched_ctx);
}

static bool hook_preempt(void *ud, int why)
{
    gw_proc *p = ud;
    (void)why;
    if (p->portable_req)
        return true;
    p->native = true;
    park(p, GW_Y_PREEMPT);
    p->native = false;
    return p->portable_req;
}

static void hook_wait(void *ud, uint64_t ns)
{
    gw_proc *p = ud;
    if (p->portable_req || atomic_load(&p->inst->vm.kill_req))
        return;
    uint64_t now = gw_now_ns();
    p->wake = ns > UINT64_MAX - now ? UINT64_MAX : now + ns;
    p->native = true;
    park(p, ns ? GW_Y_WAIT : GW_Y_YIELD);
    p->native = false;
}

static bool hook_charge(void *ud, int kind, int64_t delta)
{
    gw_proc *p = ud;
    gate_world *w = p->w;
    int k = kind == RT_CHARGE_MEMORY ? GW_MEMORY : GW_TABLES;
    bool ok = true;
    pthread_mutex_lock(&w->lock);
    if (delta > 0)
        ok = gw_take(p->sp, k, (uint64_t)delta);
    else
        gw_give_back(p->sp, k, (uint64_t)-delta);
    pthread_mutex_unlock(&w->lock);
    return ok;
}

const rt_proc_hooks gw_hooks = { hook_preempt, hook_wait, hook_charge };

void gw_wake(gate_world *w, gw_proc *p)
{
    if (p->state == GATE_PROC_WAITING) {
        gw_heap_remove(p->wk, p);
        gw_make_runnable(w, p, false);
    } else {
        p->wake_pending = true;     /* still on its way to park */
    }
}

bool gw_pattern_match(const char *const *pats, size_t n, const char *name, size_t len)
{
    for (size_t i = 0; i < n; i++) {
        const char *pat = pats[i];
        size_t pl = pat ? strlen(pat) : 0;
        if (pl && pat[pl - 1] == '*' ? len >= pl - 1 && !memcmp(pat, name, pl - 1)
                                     : pl && pl == len && !memcmp(pat, name, len))
            return true;
    }
    return false;
}

gw_proc *gw_caller(gate_call_ctx *ctx)
{
    gate_instance *inst = gate_call_instance(ctx);
    return inst && inst->hooks == &gw_hooks ? inst->hooks_ud : NULL;
}

uint8_t *gw_guest(gate_call_ctx *ctx, uint32_t ptr, uint64_t len)
{
    uint64_t size;
    uint8_t *base = gate_memory_data(gate_call_instance(ctx), &size);
    if (!base || (uint64_t)ptr + len > size)
        return NULL;
    return base + ptr;
}

gate_status gw_ret(gate_val *res, int32_t v)
{
    res[0].type = GATE_I32;
    res[0].of.i32 = v;
    return GATE_OK;
}

gate_pid gate_call_pid(gate_call_ctx *ctx)
{
    gate_instance *inst = gate_call_instance(ctx);
    return inst && inst->hooks == &gw_hooks ? ((gw_proc *)inst->hooks_ud)->pid : 0;
}

gate_world *gate_call_world(gate_call_ctx *ctx)
{
    gate_instance *inst = gate_call_instance(ctx);
    return inst && inst->hooks == &gw_hooks ? ((gw_proc *)inst->hooks_ud)->w : NULL;
}

/* ---- a process's life, on its own stack ---------------------------------- */

static void record_end(gw_proc *p, gate_status st, const gate_error *err)
{
    p->status = st;
    if (err && err->status != GATE_OK)
        gate_error_format(err, p->message, sizeof p->message);
    else
        snprintf(p->message, sizeof p->message, "%s", gate_status_name(st));
    if (p->inst) {
        if (st == GATE_EXITED)
            p->exit_code = gate_exit_code(p->inst);
        if (st == GATE_TRAPPED) {
            gate_trap_info_get(p->inst, &p->trap);
            p->nbt = gate_trap_backtrace(p->inst, p->bt_func, p->bt_off, 16);
            if (p->nbt > 16)
                p->nbt = 16;
        }
    }
}

static void proc_main(void *arg)
{
    gw_proc *p = arg;
    gate_world *w = p->w;
    gate_error err = { .status = GATE_OK, .offset = UINT64_MAX, .func_index = GATE_NO_FUNC };
    gate_val res[16];
    gate_status st;
    if (!p->inst) {
        rt_next_hooks = &gw_hooks;
        rt_next_hooks_ud = p;
        p->inst = gate_instance_new(p->mod, p->imp, &p->lim, &err);
        rt_next_hooks = NULL;
        rt_next_hooks_ud = NULL;
        if (!p->inst) {
            record_end(p, err.status, &err);
            park(p, GW_Y_DONE);
            abort();        /* never continued */
        }
        if (w->fuel)
            p->inst->vm.fuel = (int64_t)p->slice_fuel;
        if (p->kill)
            atomic_store(&p->inst->vm.kill_req, 1);
        st = gate_call(p->inst, p->entry, p->args, p->nargs, res, 16, &err);
    } else if (p->fresh_fork) {
        /* a zygote's child: the zygote's pending call (its initialisation
           or the entry itself), then the entry; until the entry starts it
           stays a fresh fork, so that a world saved meanwhile calls the
           entry after its restore too */
        if (w->fuel)
            p->inst->vm.fuel = (int64_t)p->slice_fuel;
        st = GATE_OK;
        bool entry_done = false;
        if (p->kill || atomic_load(&p->inst->vm.kill_req))
            st = GATE_SUSPENDED;            /* killed before it ran: ends below */
        else if (p->inst->susp.active) {
            uint32_t f = p->inst->susp.entry_func;
            st = gate_resume(p->inst, res, 16, &err);
            while (st == GATE_SUSPENDED && !atomic_load(&p->inst->vm.kill_req)) {
                park(p, GW_Y_PORTABLE);
                if (atomic_load(&p->inst->vm.kill_req))
                    break;
                st = gate_resume(p->inst, res, 16, &err);
            }
            const gd_module *m = &p->inst->mod->info;
            for (uint32_t e = 0; e < m->nexports; e++)
                entry_done |= m->exports[e].kind == GATE_EXTERN_FUNC && m->exports[e].index == f &&
                              !strcmp(m->exports[e].name, p->entry);
        }
        p->fresh_fork = false;
        if (st == GATE_OK && !entry_done)
            st = gate_call(p->inst, p->entry, p->args, p->nargs, res, 16, &err);
    } else {
        st = gate_resume(p->inst, res, 16, &err);
    }
    /* a portable stop (stress, a host function's request, a snapshot):
       the frames are saved in the instance; they are rebuilt here */
    while (st == GATE_SUSPENDED && !atomic_load(&p->inst->vm.kill_req)) {
        park(p, GW_Y_PORTABLE);
        if (atomic_load(&p->inst->vm.kill_req))
            break;          /* killed while saved: it does not run again */
        st = gate_resume(p->inst, res, 16, &err);
    }
    if (st == GATE_SUSPENDED) {
        err.status = GATE_OK;
        gx_fail(&err, GATE_TRAPPED, UINT64_MAX, GATE_NO_FUNC, "host function trapped: killed");
        p->trap.code = GATE_TRAP_HOST;
        snprintf(p->trap.message, sizeof p->trap.message, "killed");
        p->status = GATE_TRAPPED;
        gate_error_format(&err, p->message, sizeof p->message);
    } else {
        record_end(p, st, &err);
    }
    park(p, GW_Y_DONE);
    abort();
}

/* Lays out a new stack so that the first switch to it runs fn(arg). */
static void *stack_init(uint8_t *top, void (*fn)(void *), void *arg)
{
    uintptr_t t = (uintptr_t)top & ~(uintptr_t)15;
#if defined(__x86_64__)
    uint64_t *s = (uint64_t *)(t - 72);
    memset(s, 0, 72);
    s[2] = (uint64_t)(uintptr_t)fn;     /* r13 */
    s[3] = (uint64_t)(uintptr_t)arg;    /* r12 */
    s[6] = (uint64_t)(uintptr_t)gw_boot;
#else
    uint64_t *s = (uint64_t *)(t - 160);
    memset(s, 0, 160);
    s[0] = (uint64_t)(uintptr_t)fn;     /* x19 */
    s[1] = (uint64_t)(uintptr_t)arg;    /* x20 */
    s[11] = (uint64_t)(uintptr_t)gw_boot;   /* x30 */
#endif
    return s;
}

/* [guard][C frames][guard][wasm stack]: the runtime's guard is the one
   below the wasm stack. */
static bool stack_alloc(gw_proc *p)
{
    gate_world *w = p->w;
    size_t wasm = p->lim.stack_size ? (size_t)p->lim.stack_size : w->stack_size;
    size_t len = GUARD + GLUE_SIZE + GUARD + wasm;
    uint8_t *m = NULL;
    /* a stack of an ended process, as threads reuse stacks: what it holds
       is never readable by wasm code, whose frames initialise their slots */
    for (uint32_t i = w->nstackpool; i-- > 0;)
        if (w->stackpool[i].len == len) {
            m = w->stackpool[i].base;
            w->stackpool[i] = w->stackpool[--w->nstackpool];
            break;
        }
    if (!m) {
        m = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (m == MAP_FAILED)
            return false;
        if (mprotect(m + GUARD, GLUE_SIZE, PROT_READ | PROT_WRITE) ||
            mprotect(m + GUARD + GLUE_SIZE + GUARD, wasm, PROT_READ | PROT_WRITE)) {
            munmap(m, len);
            return false;
        }
    }
    p->map = m;
    p->map_len = len;
    p->wstack.base = m + GUARD + GLUE_SIZE;
    p->wstack.size = wasm;
    p->ctx = stack_init(m + GUARD + GLUE_SIZE, proc_main, p);
    return true;
}

void gw_stack_free(gw_proc *p)
{
    gate_world *w = p->w;
    if (p->map && w->nstackpool < GW_STACK_POOL) {
        w->stackpool[w->nstackpool].base = p->map;
        w->stackpool[w->nstackpool++].len = p->map_len;
    } else if (p->map) {
        munmap(p->map, p->map_len);
    }
    p->map = NULL;
}

/* ---- workers ----------------------------------------------------------- */

static bool has_work(gw_worker *wk)
{
    gate_world *w = wk->w;
    if (w->converting)
        return wk->nconvert != 0;
    return w->running && wk->head && w->slices_left != 0;
}

/* Runs p for one slice on this worker: switches to its stack and back. */
static void dispatch(gw_worker *wk, gw_proc *p)
{
    gate_world *w = wk->w;
    gate_instance *inst = p->inst;
    if (inst && p->native && !p->portable_req && !atomic_load(&inst->vm.kill_req)) {
        /* parked by a stop check or a wait: the stop word goes down again */
        atomic_store(&inst->vm.stop_req, 0);
        inst->vm.stack_limit = inst->vm.stress_every ? UINTPTR_MAX : inst->vm.real_limit;
    }
    if (w->fuel && inst && !w->converting)
        inst->vm.fuel = (int64_t)p->slice_fuel;
    rt_stack_override = &p->wstack;
    rt_entry_vm = p->entry_vm;
    gw_switch(&wk->sched_ctx, p->ctx);
    p->entry_vm = rt_entry_vm;
    rt_entry_vm = NULL;
    rt_stack_override = NULL;
}

/* After a slice, under the lock: charges it and queues p by why it ended.
   Returns true when p ended (the caller reports it outside the lock). */
static bool settle(gw_worker *wk, gw_proc *p)
{
    gate_world *w = wk->w;
    if (w->fuel && p->inst && !w->converting) {
        int64_t left = p->inst->vm.fuel;
        uint64_t used = left >= (int64_t)p->slice_fuel ? 0 : (uint64_t)((int64_t)p->slice_fuel - left);
        /* what the program did not spend of the slice stays with its sponsor */
        p->fuel_used += used;
        if (p->sp->limit[GW_FUEL] != GATE_UNLIMITED) {
            uint64_t a = gw_avail(p->sp, GW_FUEL);
            p->sp->used[GW_FUEL] += used < a ? used : a;
        } else {
            p->sp->used[GW_FUEL] += used;
        }
    }
    if (w->converting) {
        /* a conversion for a snapshot keeps the process where it was */
        return false;
    }
    switch (p->yield) {
    case GW_Y_PREEMPT:
    case GW_Y_PORTABLE:
        gw_make_runnable(w, p, false);
        return false;
    case GW_Y_YIELD:
        p->wake_pending = false;
        gw_make_runnable(w, p, false);
        return false;
    case GW_Y_WAIT:
        if (p->kill || p->wake_pending) {
            /* a message came while it was on its way to park */
            p->wake_pending = false;
            gw_make_runnable(w, p, false);
        } else {
            /* a wait for ever needs no timer: only a message or a kill
               ends it, and it does not keep a run from ending */
            p->state = GATE_PROC_WAITING;
            if (p->wake != UINT64_MAX && !heap_add(wk, p))
                gw_make_runnable(w, p, false);     /* out of memory: it polls again */
        }
        return false;
    default:
        p->state = GATE_PROC_DONE;
        gw_mailbox_clear(w, p);
        gw_unsubscribe_all(w, p->pid);
        gw_streams_end(w, p->pid);
        gw_stack_free(p);
        gw_give_back(p->sp, GW_PROCS, 1);
        if (p->inst) {
            gw_give_back(p->sp, GW_MEMORY, p->inst->charged[RT_CHARGE_MEMORY]);
            gw_give_back(p->sp, GW_TABLES, p->inst->charged[RT_CHARGE_TABLE]);
            p->memory = p->inst->mem ? p->inst->mem->pages * 65536 : 0;
        }
        wk->nprocs--;
        w->nlive--;
        return true;
    }
}

/* What an ended process leaves: its instance and imports are freed, its
   record stays until reaped. */
static void release(gate_world *w, gw_proc *p)
{
    if (p->inst) {
        p->inst->hooks = NULL;
        gate_instance_free(p->inst);
        p->inst = NULL;
    }
    if (p->imp && p->own_imp)
        gate_imports_free(p->imp);
    p->imp = NULL;
    if (p->mod)
        gate_module_free(p->mod);
    p->mod = NULL;
    (void)w;
}

void gw_fill_info(gw_proc *p, gate_proc_info *out)
{
    memset(out, 0, sizeof *out);
    out->pid = p->pid;
    snprintf(out->name, sizeof out->name, "%s", p->name);
    out->state = p->state;
    out->sponsor = p->sp;
    out->status = p->status;
    out->exit_code = p->exit_code;
    out->trap = p->trap;
    out->nbt = p->nbt;
    memcpy(out->bt_func, p->bt_func, sizeof out->bt_func);
    memcpy(out->bt_off, p->bt_off, sizeof out->bt_off);
    snprintf(out->message, sizeof out->message, "%s", p->message);
    out->fuel_used = p->fuel_used;
    out->slices = p->slices;
    out->overruns = p->overruns;
    out->memory = p->inst && p->inst->mem ? p->inst->mem->pages * 65536 : p->memory;
}

static void report_end(gate_world *w, gw_proc *p)
{
    gate_proc_info info;
    pthread_mutex_lock(&w->lock);
    gw_fill_info(p, &info);
    gate_world_event_fn fn = w->on_end;
    void *ud = w->on_end_ud;
    uint32_t nmon = p->nmon;
    gate_pid mon[64];
    if (nmon > 64)
        nmon = 64;
    if (nmon)
        memcpy(mon, p->monitors, nmon * sizeof *mon);
    /* monitoring processes are told by a message */
    uint32_t down[4] = { p->pid, (uint32_t)info.status, (uint32_t)info.exit_code,
                         (uint32_t)info.trap.code };
    for (uint32_t i = 0; i < nmon; i++)
        if (mon[i])
            gw_deliver(w, gw_find(w, mon[i]), p->pid, GATE_MSG_DOWN, down, sizeof down, NULL);
    pthread_mutex_unlock(&w->lock);
    if (fn) {
        fn(ud, 0, &info);
        for (uint32_t i = 0; i < nmon; i++)
            fn(ud, mon[i], &info);
    }
}

static inline void cpu_relax(void)
{
#if defined(__x86_64__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ volatile("yield");
#endif
}

static void *worker_main(void *arg)
{
    gw_worker *wk = arg;
    gate_world *w = wk->w;
    rt_worker_thread_init();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        bool spun = false;
        while (!w->quit && !has_work(wk)) {
            wk->idle = true;
            pthread_cond_broadcast(&w->main_cv);
            if (w->running && w->nwk > 1 && !spun) {
                /* a message from another worker usually comes within a
                   few microseconds: wait for it awake for a while (a
                   sleep and a wake-up by the kernel cost tens) */
                spun = true;
                pthread_mutex_unlock(&w->lock);
                for (int i = 0; i < 4000 && !__atomic_load_n(&wk->head, __ATOMIC_ACQUIRE) &&
                                !__atomic_load_n(&w->quit, __ATOMIC_ACQUIRE); i++)
                    cpu_relax();
                pthread_mutex_lock(&w->lock);
                continue;
            }
            if (w->running && wk->nheap) {
                struct timespec ts;
                abs_time(&ts, wk->heap[0]->wake);
                pthread_cond_timedwait(&wk->cv, &w->lock, &ts);
                timers_expire(wk, gw_now_ns());
            } else {
                pthread_cond_wait(&wk->cv, &w->lock);
            }
            wk->idle = false;
        }
        if (w->quit)
            break;
        gw_proc *p;
        if (w->converting) {
            p = wk->convert[--wk->nconvert];
        } else {
            if (wk->nheap)
                timers_expire(wk, gw_now_ns());
            p = runq_pop(wk);
            if (w->slices_left != UINT64_MAX)
                w->slices_left--;
            p->state = GATE_PROC_RUNNING;
            p->slices++;
            p->slice_fuel = w->cfg.slice_fuel;
            if (w->fuel) {
                uint64_t a = gw_avail(p->sp, GW_FUEL);
                if (a < p->slice_fuel)
                    p->slice_fuel = a ? a : 1;
            }
            if (!p->map && !stack_alloc(p)) {
                /* no stack: it ends here */
                p->status = GATE_ERR_NOMEM;
                snprintf(p->message, sizeof p->message, "out of memory: no stack for the process");
                p->yield = GW_Y_DONE;
                bool ended = settle(wk, p);
                pthread_mutex_unlock(&w->lock);
                if (ended) {
                    release(w, p);
                    report_end(w, p);
                }
                pthread_mutex_lock(&w->lock);
                pthread_cond_broadcast(&w->main_cv);
                continue;
            }
        }
        wk->cur = p;
        wk->slice_id++;
        wk->slice_start = gw_now_ns();
        wk->busy = true;
        pthread_mutex_unlock(&w->lock);
        dispatch(wk, p);
        pthread_mutex_lock(&w->lock);
        wk->cur = NULL;
        bool ended = settle(wk, p);
        if (ended) {
            /* still busy: a wait for p returns after its report */
            pthread_mutex_unlock(&w->lock);
            release(w, p);
            report_end(w, p);
            pthread_mutex_lock(&w->lock);
        }
        wk->busy = false;
        /* the host waits for ends, for the slice budget and for idleness:
           it is woken only when one of those may have come */
        if (ended || w->slices_left == 0 || w->converting || !wk->head)
            pthread_cond_broadcast(&w->main_cv);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* The watchdog: ends time slices (engines without fuel), and stops a
   slice that overruns its time by the margin, counting the overrun. */
static void *watchdog_main(void *arg)
{
    gate_world *w = arg;
    pthread_mutex_lock(&w->lock);
    while (!w->quit) {
        uint64_t now = gw_now_ns(), next = UINT64_MAX;
        for (unsigned i = 0; i < w->nwk; i++) {
            gw_worker *wk = &w->wk[i];
            gw_proc *p = wk->cur;
            if (!wk->busy || !p || !p->inst || w->converting)
                continue;
            uint64_t t = now - wk->slice_start;
            uint64_t end = w->fuel ? w->cfg.slice_ns + w->cfg.watchdog_ns : w->cfg.slice_ns;
            if (t >= end && wk->stopped_id != wk->slice_id) {
                wk->stopped_id = wk->slice_id;
                gate_request_stop(p->inst);
            }
            if (t >= w->cfg.slice_ns + w->cfg.watchdog_ns && wk->overrun_id != wk->slice_id) {
                wk->overrun_id = wk->slice_id;
                p->overruns++;
                w->overruns++;
                gate_request_stop(p->inst);
            }
            uint64_t at = wk->slice_start + (t < end ? end : w->cfg.slice_ns + w->cfg.watchdog_ns);
            if (at > now && at < next)
                next = at;
        }
        uint64_t tick = w->cfg.slice_ns / 4 > 100000 ? w->cfg.slice_ns / 4 : 100000;
        if (next == UINT64_MAX || !w->running)
            next = now + (w->running ? tick : 1000000000u);
        struct timespec ts;
        abs_time(&ts, next);
        pthread_cond_timedwait(&w->wd_cv, &w->lock, &ts);
    }
    pthread_mutex_unlock(&w->lock);
    return NULL;
}

/* ---- the world -------------------------------------------------------- */

void gate_world_config_init(gate_world_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
}

static void config_defaults(gate_world_config *c)
{
    if (!c->workers) {
        long n = sysconf(_SC_NPROCESSORS_ONLN);
        c->workers = n > 0 && n < 256 ? (unsigned)n : 1;
    }
    if (c->workers > 256)
        c->workers = 256;
    if (!c->slice_fuel)
        c->slice_fuel = 100000;
    if (!c->slice_ns)
        c->slice_ns = 2000000;
    if (!c->watchdog_ns)
        c->watchdog_ns = 10000000;
    if (!c->mailbox_bytes)
        c->mailbox_bytes = (uint64_t)1 << 20;
    if (!c->stream_bytes || c->stream_bytes > ((uint64_t)1 << 30))
        c->stream_bytes = (uint64_t)64 << 10;
}

gate_world *gate_world_new(gate_engine *eng, const gate_world_config *cfg, gate_error *err)
{
    gw_err_reset(err);
    gate_world_config c;
    if (cfg)
        c = *cfg;
    else
        gate_world_config_init(&c);
    if (!eng) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "no engine");
        return NULL;
    }
    if (c.stack_size && (c.stack_size < RT_STACK_MIN || c.stack_size > RT_STACK_MAX)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "stack size must be between 512 KiB and 1 GiB");
        return NULL;
    }
    config_defaults(&c);
    gate_world *w = gx_malloc(&eng->alloc, sizeof *w);
    if (!w) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    memset(w, 0, sizeof *w);
    w->eng = eng;
    w->cfg = c;
    w->fuel = eng->cfg.fuel != 0;
    w->stack_size = c.stack_size ? (size_t)c.stack_size : DEFAULT_STACK;
    w->next_pid = 1;
    w->next_stream = 1;
    w->slices_left = UINT64_MAX;
    pthread_mutex_init(&w->lock, NULL);
    pthread_cond_init(&w->main_cv, NULL);
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&w->wd_cv, &ca);
    uint64_t unl[GW_NB] = { GATE_UNLIMITED, GATE_UNLIMITED, GATE_UNLIMITED, GATE_UNLIMITED,
                            GATE_UNLIMITED };
    if (!gw_sponsor_add(w, NULL, "root", unl, err))
        goto fail;
    rt_signals_install();
    w->wk = w_alloc(w, c.workers * sizeof *w->wk);
    if (!w->wk) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < c.workers; i++) {
        gw_worker *wk = &w->wk[i];
        wk->w = w;
        wk->idx = i;
        wk->idle = true;
        pthread_cond_init(&wk->cv, &ca);
    }
    pthread_condattr_destroy(&ca);
    for (unsigned i = 0; i < c.workers; i++) {
        if (pthread_create(&w->wk[i].th, NULL, worker_main, &w->wk[i])) {
            gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot start a worker thread");
            w->nwk = i;
            gate_world_free(w);
            return NULL;
        }
        w->nwk = i + 1;
    }
    if (pthread_create(&w->watchdog, NULL, watchdog_main, w)) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot start the watchdog");
        gate_world_free(w);
        return NULL;
    }
    w->has_watchdog = true;
    return w;
fail:
    for (uint32_t i = 0; i < w->nsponsors; i++)
        w_free(w, w->sponsors[i], sizeof *w->sponsors[i]);
    gx_free(&eng->alloc, w->sponsors, (size_t)w->capsponsors * sizeof *w->sponsors);
    pthread_mutex_destroy(&w->lock);
    gx_free(&eng->alloc, w, sizeof *w);
    return NULL;
}

static void proc_free(gate_world *w, gw_proc *p)
{
    release(w, p);
    gw_stack_free(p);
    w_strfree(w, p->entry);
    if (p->args)
        w_free(w, p->args, p->nargs * sizeof *p->args);
    if (p->monitors)
        w_free(w, p->monitors, p->capmon * sizeof *p->monitors);
    gw_mailbox_clear(w, p);
    gw_grants_free(w, p->grants);
    w_free(w, p, sizeof *p);
}

/* Every live process is killed (it traps at its next stop check) and the
   world runs until they have ended; then threads and records go. */
void gate_world_free(gate_world *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        if (p->state != GATE_PROC_DONE)
            gw_kill_locked(w, p);
    }
    pthread_mutex_unlock(&w->lock);
    if (w->nwk == w->cfg.workers && w->has_watchdog)
        gw_run(w, 0, 0, 0);
    pthread_mutex_lock(&w->lock);
    w->quit = true;
    for (unsigned i = 0; i < w->nwk; i++)
        pthread_cond_broadcast(&w->wk[i].cv);
    pthread_cond_broadcast(&w->wd_cv);
    pthread_mutex_unlock(&w->lock);
    for (unsigned i = 0; i < w->nwk; i++)
        pthread_join(w->wk[i].th, NULL);
    if (w->has_watchdog)
        pthread_join(w->watchdog, NULL);
    for (uint32_t i = 0; i < w->nprocs; i++)
        proc_free(w, w->procs[i]);
    gx_free(&w->eng->alloc, w->procs, (size_t)w->capprocs * sizeof *w->procs);
    for (unsigned i = 0; i < w->cfg.workers && w->wk; i++) {
        pthread_cond_destroy(&w->wk[i].cv);
        gx_free(&w->eng->alloc, w->wk[i].heap, w->wk[i].capheap * sizeof *w->wk[i].heap);
        gx_free(&w->eng->alloc, w->wk[i].convert, w->wk[i].capconvert * sizeof *w->wk[i].convert);
    }
    if (w->wk)
        w_free(w, w->wk, w->cfg.workers * sizeof *w->wk);
    for (uint32_t i = 0; i < w->nsponsors; i++)
        w_free(w, w->sponsors[i], sizeof *w->sponsors[i]);
    gx_free(&w->eng->alloc, w->sponsors, (size_t)w->capsponsors * sizeof *w->sponsors);
    for (uint32_t i = 0; i < w->nstackpool; i++)
        munmap(w->stackpool[i].base, w->stackpool[i].len);
    gw_topics_free(w);
    gw_registry_free(w);
    gw_streams_free(w);
    pthread_cond_destroy(&w->main_cv);
    pthread_cond_destroy(&w->wd_cv);
    pthread_mutex_destroy(&w->lock);
    gx_free(&w->eng->alloc, w, sizeof *w);
}

gate_engine *gate_world_engine(gate_world *w)
{
    return w ? w->eng : NULL;
}

/* Under the lock. */
void gw_kill_locked(gate_world *w, gw_proc *p)
{
    if (p->state == GATE_PROC_DONE || p->kill)
        return;
    p->kill = true;
    if (!p->map && !p->inst) {
        /* never ran: it ends without running */
        runq_remove(p->wk, p);
        p->yield = GW_Y_DONE;
        p->status = GATE_TRAPPED;
        p->trap.code = GATE_TRAP_HOST;
        snprintf(p->trap.message, sizeof p->trap.message, "killed");
        snprintf(p->message, sizeof p->message, "trapped: killed before it ran");
        settle(p->wk, p);
        p->released_pending = true;
        p->pnext = w->pending;
        w->pending = p;
        return;
    }
    if (p->inst) {
        atomic_store(&p->inst->vm.kill_req, 1);
        gate_request_stop(p->inst);
    }
    if (p->state == GATE_PROC_WAITING) {
        gw_heap_remove(p->wk, p);
        gw_make_runnable(w, p, true);
    } else if (p->state == GATE_PROC_NO_FUEL || p->state == GATE_PROC_PAUSED ||
               p->state == GATE_PROC_NEW) {
        if (!p->queued)
            gw_make_runnable(w, p, true);
    }
}

gate_status gate_world_spawn(gate_world *w, const gate_spawn *s, gate_pid *pid, gate_error *err)
{
    gw_err_reset(err);
    if (!w || !s || (!s->module && !s->zygote)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return GATE_ERR_ARG;
    }
    gate_instance *z = s->zygote;
    gate_module *mod = z ? z->mod : s->module;
    if (z && (!gate_is_zygote(z) || !s->imports)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                !gate_is_zygote(z) ? "spawn from an instance that is not a zygote"
                                   : "a zygote's child needs imports of its own");
        return GATE_ERR_ARG;
    }
    if (mod->eng != w->eng) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "the module belongs to another engine");
        return GATE_ERR_ARG;
    }
    if (s->nargs > 64 || (s->nargs && !s->args)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "at most 64 arguments");
        return GATE_ERR_ARG;
    }
    if (s->limits.stack_size &&
        (s->limits.stack_size < RT_STACK_MIN || s->limits.stack_size > RT_STACK_MAX)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "stack size must be between 512 KiB and 1 GiB");
        return GATE_ERR_ARG;
    }
    gate_sponsor *sp = s->sponsor ? s->sponsor : w->sponsors[0];
    if (sp->w != w || sp->freed) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "the sponsor is not this world's");
        return GATE_ERR_ARG;
    }
    const gd_module *m = &mod->info;
    uint64_t mem = m->nmems > m->nmem_imports ? m->mems[0].lim.min * 65536 : 0, tables = 0;
    /* a zygote's child is forked now (copy-on-write, microseconds): a
       fresh pid, an empty mailbox, no subscriptions, its own imports; it
       costs its sponsor the memory and tables it starts with */
    gate_instance *child = NULL;
    if (z) {
        /* the budget first: a spawn that cannot be paid for costs no fork */
        uint64_t zmem = z->mem ? z->mem->pages * 65536 : 0;
        pthread_mutex_lock(&w->lock);
        bool room = gw_avail(sp, GW_PROCS) > 0 && gw_avail(sp, GW_MEMORY) >= zmem;
        pthread_mutex_unlock(&w->lock);
        if (!room) {
            gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                    "sponsor \"%.60s\" has no budget for another process of %llu bytes",
                    sp->name, (unsigned long long)zmem);
            return GATE_ERR_LIMIT;
        }
        if (!(child = gate_instance_fork_imports(z, s->imports, err)))
            return err->status;
        mem = child->mem && !m->nmem_imports ? child->mem->pages * 65536 : 0;
        tables = child->table_elems * sizeof(void *);
    }
    char *entry = w_strdup(w, s->entry ? s->entry : "_start");
    gate_val *args = s->nargs ? w_alloc(w, s->nargs * sizeof *args) : NULL;
    if (!entry || (s->nargs && !args)) {
        w_strfree(w, entry);
        gate_instance_free(child);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return GATE_ERR_NOMEM;
    }
    if (s->nargs)
        memcpy(args, s->args, s->nargs * sizeof *args);
    pthread_mutex_lock(&w->lock);
    gate_status st = GATE_OK;
    if (gw_avail(sp, GW_PROCS) == 0) {
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "sponsor \"%.60s\" has no budget for another process (%llu live)", sp->name,
                (unsigned long long)sp->used[GW_PROCS]);
        st = GATE_ERR_LIMIT;
    } else if (gw_avail(sp, GW_MEMORY) < mem || gw_avail(sp, GW_TABLES) < tables) {
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "sponsor \"%.60s\" cannot pay for the %llu bytes of memory (and %llu of "
                "tables) it starts with", sp->name, (unsigned long long)mem,
                (unsigned long long)tables);
        st = GATE_ERR_LIMIT;
    }
    gw_proc *p = NULL;
    if (st == GATE_OK && !(p = gw_proc_add(w, w->next_pid, s->name, sp, err)))
        st = GATE_ERR_NOMEM;
    if (st != GATE_OK) {
        pthread_mutex_unlock(&w->lock);
        w_strfree(w, entry);
        if (args)
            w_free(w, args, s->nargs * sizeof *args);
        gate_instance_free(child);
        return st;
    }
    p->mod = mod;
    mod->refs++;
    p->imp = s->imports;
    p->own_imp = s->own_imports != 0;
    p->entry = entry;
    p->args = args;
    p->nargs = s->nargs;
    p->lim = z ? z->lim : s->limits;
    p->grants = gw_grants_copy(w, s->grants);
    if (child) {
        gw_take(sp, GW_MEMORY, mem);
        gw_take(sp, GW_TABLES, tables);
        child->charged[RT_CHARGE_MEMORY] = mem;
        child->charged[RT_CHARGE_TABLE] = tables;
        child->hooks = &gw_hooks;
        child->hooks_ud = p;
        if (w->fuel)
            child->vm.fuel = (int64_t)w->cfg.slice_fuel;
        p->inst = child;
        p->fresh_fork = true;
    }
    /* spawned from a host function of one of its processes: its child */
    if (rt_entry_vm && rt_entry_vm->inst && rt_entry_vm->inst->hooks == &gw_hooks)
        p->parent = ((gw_proc *)rt_entry_vm->inst->hooks_ud)->pid;
    w->nlive++;
    gw_make_runnable(w, p, false);
    if (p->state == GATE_PROC_RUNNABLE)
        p->state = GATE_PROC_NEW;       /* queued, not dispatched yet */
    if (pid)
        *pid = p->pid;
    pthread_mutex_unlock(&w->lock);
    return GATE_OK;
}

/* Whether nothing can run any more: no queue holds a process, no worker
   runs one, no timer is pending. */
static bool world_idle(gate_world *w)
{
    for (unsigned i = 0; i < w->nwk; i++) {
        gw_worker *wk = &w->wk[i];
        if (wk->head || wk->busy || wk->nheap)
            return false;
    }
    return true;
}

/* Runs until idle, ns passed, max_slices dispatched or process `until`
   ended. */
gate_status gw_run(gate_world *w, uint64_t ns, uint64_t max_slices, gate_pid until)
{
    uint64_t deadline = ns ? gw_now_ns() + ns : UINT64_MAX;
    pthread_mutex_lock(&w->lock);
    if (w->running) {
        /* another thread runs the world: one run at a time */
        pthread_mutex_unlock(&w->lock);
        return GATE_ERR_STATE;
    }
    w->running = true;
    w->slices_left = max_slices ? max_slices : UINT64_MAX;
    for (unsigned i = 0; i < w->nwk; i++)
        pthread_cond_broadcast(&w->wk[i].cv);
    pthread_cond_broadcast(&w->wd_cv);
    gate_status st = GATE_OK;
    w->stop_run = false;
    for (;;) {
        if (w->stop_run) {
            st = GATE_SUSPENDED;
            break;
        }
        if (until) {
            gw_proc *p = gw_find(w, until);
            if (!p || (p->state == GATE_PROC_DONE && !(p->wk->busy && p->wk->cur == NULL)))
                break;
        }
        if (world_idle(w))
            break;
        bool busy = false;
        for (unsigned i = 0; i < w->nwk; i++)
            busy |= w->wk[i].busy;
        if (w->slices_left == 0 && !busy) {
            st = GATE_SUSPENDED;
            break;
        }
        uint64_t now = gw_now_ns();
        if (now >= deadline) {
            st = GATE_SUSPENDED;
            break;
        }
        struct timespec ts;
        abs_time(&ts, deadline);
        if (deadline == UINT64_MAX)
            pthread_cond_wait(&w->main_cv, &w->lock);
        else
            gw_cond_wait_until(&w->main_cv, &w->lock, deadline);
    }
    /* the end of a run: every slice stops at its next stop check */
    w->running = false;
    for (unsigned i = 0; i < w->nwk; i++) {
        gw_worker *wk = &w->wk[i];
        if (wk->busy && wk->cur && wk->cur->inst)
            gate_request_stop(wk->cur->inst);
    }
    for (;;) {
        bool busy = false;
        for (unsigned i = 0; i < w->nwk; i++)
            busy |= w->wk[i].busy;
        if (!busy)
            break;
        pthread_cond_wait(&w->main_cv, &w->lock);
    }
    if (st == GATE_OK && !world_idle(w))
        st = GATE_SUSPENDED;
    w->slices_left = UINT64_MAX;
    pthread_mutex_unlock(&w->lock);
    /* processes killed before they ran leave their resources here */
    gw_release_pending(w);
    return st;
}

void gw_release_pending(gate_world *w)
{
    for (;;) {
        pthread_mutex_lock(&w->lock);
        gw_proc *p = w->pending;
        if (p) {
            w->pending = p->pnext;
            p->pnext = NULL;
            p->released_pending = false;
        }
        pthread_mutex_unlock(&w->lock);
        if (!p)
            return;
        release(w, p);
        report_end(w, p);
    }
}

/* pthread_cond_timedwait on the realtime clock that main_cv uses. */
void gw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, uint64_t mono_deadline)
{
    uint64_t now = gw_now_ns();
    uint64_t left = mono_deadline > now ? mono_deadline - now : 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t t = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec + left;
    ts.tv_sec = (time_t)(t / 1000000000u);
    ts.tv_nsec = (long)(t % 1000000000u);
    pthread_cond_timedwait(cv, m, &ts);
}

bool gw_in_dispatch(void)
{
    return rt_entry_vm != NULL || rt_stack_override != NULL;
}

void gate_world_stop(gate_world *w)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    if (w->running) {
        w->stop_run = true;
        pthread_cond_broadcast(&w->main_cv);
    }
    pthread_mutex_unlock(&w->lock);
}

gate_status gate_world_run(gate_world *w, uint64_t ns, uint64_t max_slices)
{
    if (!w || gw_in_dispatch())
        return !w ? GATE_ERR_ARG : GATE_ERR_STATE;
    return gw_run(w, ns, max_slices, 0);
}

gate_status gate_world_proc(gate_world *w, gate_pid pid, gate_proc_info *out)
{
    if (!w || !out)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *p = gw_find(w, pid);
    if (p)
        gw_fill_info(p, out);
    pthread_mutex_unlock(&w->lock);
    return p ? GATE_OK : GATE_ERR_NOT_FOUND;
}

size_t gate_world_procs(gate_world *w, gate_pid *pids, size_t max)
{
    if (!w)
        return 0;
    pthread_mutex_lock(&w->lock);
    size_t n = w->nprocs;
    for (size_t i = 0; i < n && i < max; i++)
        pids[i] = w->procs[i]->pid;
    pthread_mutex_unlock(&w->lock);
    return n;
}

gate_status gate_world_wait(gate_world *w, gate_pid pid, gate_proc_info *out)
{
    if (!w)
        return GATE_ERR_ARG;
    if (gw_in_dispatch())
        return GATE_ERR_STATE;
    pthread_mutex_lock(&w->lock);
    bool known = gw_find(w, pid) != NULL;
    pthread_mutex_unlock(&w->lock);
    if (!known)
        return GATE_ERR_NOT_FOUND;
    gw_run(w, 0, 0, pid);
    gate_proc_info tmp;
    gate_status st = gate_world_proc(w, pid, out ? out : &tmp);
    if (st == GATE_OK && (out ? out : &tmp)->state != GATE_PROC_DONE)
        return GATE_SUSPENDED;
    return st;
}

gate_status gate_world_reap(gate_world *w, gate_pid pid)
{
    if (!w)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gate_status st = GATE_ERR_NOT_FOUND;
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        if (p->pid != pid)
            continue;
        if (p->state != GATE_PROC_DONE || p->released_pending) {
            st = GATE_ERR_STATE;
            break;
        }
        memmove(&w->procs[i], &w->procs[i + 1], (w->nprocs - i - 1) * sizeof *w->procs);
        w->nprocs--;
        pthread_mutex_unlock(&w->lock);
        proc_free(w, p);
        return GATE_OK;
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

gate_status gate_world_kill(gate_world *w, gate_pid pid)
{
    if (!w)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *p = gw_find(w, pid);
    if (p)
        gw_kill_locked(w, p);
    pthread_mutex_unlock(&w->lock);
    if (p && !gw_in_dispatch())
        gw_release_pending(w);
    return p ? GATE_OK : GATE_ERR_NOT_FOUND;
}

gate_status gate_world_pause(gate_world *w, gate_pid pid)
{
    if (!w)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *p = gw_find(w, pid);
    gate_status st = p ? GATE_OK : GATE_ERR_NOT_FOUND;
    if (p && p->state == GATE_PROC_DONE)
        st = GATE_ERR_STATE;
    if (st == GATE_OK) {
        p->pause_req = true;
        if (p->queued) {
            runq_remove(p->wk, p);
            p->state = GATE_PROC_PAUSED;
        } else if (p->state == GATE_PROC_NO_FUEL) {
            p->state = GATE_PROC_PAUSED;
        } else if (p->state == GATE_PROC_RUNNING && p->inst) {
            gate_request_stop(p->inst);
        }
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

gate_status gate_world_continue(gate_world *w, gate_pid pid)
{
    if (!w)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *p = gw_find(w, pid);
    gate_status st = p ? GATE_OK : GATE_ERR_NOT_FOUND;
    if (p) {
        p->pause_req = false;
        if (p->state == GATE_PROC_PAUSED)
            gw_make_runnable(w, p, false);
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

gate_status gate_world_monitor(gate_world *w, gate_pid watcher, gate_pid target)
{
    if (!w)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *t = gw_find(w, target);
    gate_status st = t && (watcher == 0 || gw_find(w, watcher)) ? GATE_OK : GATE_ERR_NOT_FOUND;
    if (st == GATE_OK && t->state == GATE_PROC_DONE)
        st = GATE_ERR_STATE;
    if (st == GATE_OK && t->nmon >= 64)
        st = GATE_ERR_LIMIT;
    if (st == GATE_OK && t->nmon == t->capmon) {
        uint32_t cap = t->capmon ? t->capmon * 2 : 4;
        gate_pid *n = gx_realloc(&w->eng->alloc, t->monitors, t->capmon * sizeof *n,
                                 cap * sizeof *n);
        if (!n) {
            st = GATE_ERR_NOMEM;
        } else {
            t->monitors = n;
            t->capmon = cap;
        }
    }
    if (st == GATE_OK)
        t->monitors[t->nmon++] = watcher;
    pthread_mutex_unlock(&w->lock);
    return st;
}

gate_status gate_world_link(gate_world *w, gate_pid a, gate_pid b)
{
    if (!w || !a || !b || a == b)
        return GATE_ERR_ARG;
    gate_status st = gate_world_monitor(w, a, b);
    return st == GATE_OK ? gate_world_monitor(w, b, a) : st;
}

void gate_world_on_end(gate_world *w, gate_world_event_fn fn, void *ud)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->on_end = fn;
    w->on_end_ud = ud;
    pthread_mutex_unlock(&w->lock);
}
