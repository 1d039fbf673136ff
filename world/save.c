/*
 * save.c - a whole world in one file, and back (docs/world.md).
 *
 * The file is a valid wasm module with custom sections only:
 *   "gate.world"        version, slices and workers, the next pid, the
 *                       sponsors (tree by parent index, limits and spent
 *                       fuel), then every process: pid, name, sponsor,
 *                       state, counters, worker and queue position, its
 *                       monitors, and what it is: not started (module
 *                       index, entry, arguments, limits), live (its
 *                       snapshot follows) or ended (status, trap,
 *                       backtrace, message); then the queued messages
 *                       and the topics with their subscribers
 *   "gate.world.module" per module of a process not started: its bytes
 *   "gate.world.proc"   per live process, in order: its snapshot
 *   "gate.world.sum"    XXH3-64 of every byte before it
 * Processes parked with their frames in place are first converted to the
 * portable form, each on its own worker (a stop check unwinds, a blocking
 * call returns and asks to be restarted); they go on from it later.
 * Everything read is checked: counts against the bytes left, indices
 * against what was read, names against their buffers.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../snapshot/snapshot.h"
#include "world.h"

#define WORLD_VERSION 1

/* K_FORKED: live, forked from a zygote and not dispatched yet: its
   entry and arguments follow (as K_NEW's) */
enum { K_NEW = 0, K_LIVE = 1, K_DONE = 2, K_FORKED = 3 };

/* ---- converting parked processes to the portable form ----------------- */

/* Under the lock, workers idle: every process parked with its frames in
   place is run once by its worker, which unwinds it into its instance. */
static gate_status convert_all(gate_world *w, gate_error *err)
{
    size_t want = 0;
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        if (p->state == GATE_PROC_DONE || !p->inst || !p->native)
            continue;
        gw_worker *wk = p->wk;
        if (wk->nconvert == wk->capconvert) {
            size_t cap = wk->capconvert ? wk->capconvert * 2 : 16;
            gw_proc **n = gx_realloc(&w->eng->alloc, wk->convert,
                                     wk->capconvert * sizeof *n, cap * sizeof *n);
            if (!n) {
                for (unsigned k = 0; k < w->nwk; k++)
                    w->wk[k].nconvert = 0;
                gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
                return GATE_ERR_NOMEM;
            }
            wk->convert = n;
            wk->capconvert = cap;
        }
        p->portable_req = true;
        gate_request_stop(p->inst);
        wk->convert[wk->nconvert++] = p;
        want++;
    }
    if (!want)
        return GATE_OK;
    w->converting = true;
    for (unsigned k = 0; k < w->nwk; k++)
        pthread_cond_broadcast(&w->wk[k].cv);
    for (;;) {
        bool left = false;
        for (unsigned k = 0; k < w->nwk; k++)
            left |= w->wk[k].nconvert != 0 || w->wk[k].busy;
        if (!left)
            break;
        pthread_cond_wait(&w->main_cv, &w->lock);
    }
    w->converting = false;
    gate_status st = GATE_OK;
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        if (!p->portable_req)
            continue;
        p->portable_req = false;
        /* a blocking call unwound to be restarted: it runs again next,
           after the queue, as it does in a world restored from the file */
        if (p->state == GATE_PROC_WAITING) {
            gw_heap_remove(p->wk, p);
            gw_make_runnable(w, p, false);
        }
        if (p->native || !p->inst->susp.active) {
            gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                    "process %u (%s) could not be stopped in portable form", p->pid, p->name);
            st = GATE_ERR_STATE;
        }
    }
    return st;
}

/* ---- writing ------------------------------------------------------------ */

static void custom(gs_buf *out, const char *name, const gs_buf *payload)
{
    size_t nl = strlen(name);
    gs_u8(out, 0);
    uint64_t size = 0;
    /* name length (leb) + name + payload */
    uint8_t tmp[10];
    size_t ln = 0;
    uint64_t v = nl;
    do {
        tmp[ln++] = (uint8_t)((v & 0x7f) | (v >> 7 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    size = ln + nl + payload->n;
    gs_leb(out, size);
    gs_bytes(out, tmp, ln);
    gs_bytes(out, name, nl);
    gs_bytes(out, payload->p, payload->n);
}

static void put_str(gs_buf *b, const char *s)
{
    gs_str(b, s ? s : "");
}

/* a process's entry and arguments */
static void put_entry(gs_buf *b, const gw_proc *p)
{
    put_str(b, p->entry);
    gs_u32(b, (uint32_t)p->nargs);
    for (size_t k = 0; k < p->nargs; k++) {
        gs_u8(b, (uint8_t)p->args[k].type);
        uint8_t bits[16] = { 0 };
        memcpy(bits, &p->args[k].of, p->args[k].type == GATE_V128 ? 16 : 8);
        gs_bytes(b, bits, 16);
    }
}

/* Position of p in its worker's queue, or UINT64_MAX. */
static uint64_t queue_pos(const gw_proc *p)
{
    uint64_t i = 0;
    for (const gw_proc *q = p->wk->head; q; q = q->qnext, i++)
        if (q == p)
            return i;
    return UINT64_MAX;
}

gate_status gate_world_snapshot(gate_world *w, uint8_t **out, size_t *out_len, gate_error *err)
{
    gw_err_reset(err);
    if (!w || !out || !out_len) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return GATE_ERR_ARG;
    }
    if (gw_in_dispatch()) {
        gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                "a world is saved between runs, not from a host function");
        return GATE_ERR_STATE;
    }
    gx_alloc *a = &w->eng->alloc;
    pthread_mutex_lock(&w->lock);
    if (w->running) {
        pthread_mutex_unlock(&w->lock);
        gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC, "the world is running");
        return GATE_ERR_STATE;
    }
    gate_status st = convert_all(w, err);
    if (st != GATE_OK) {
        pthread_mutex_unlock(&w->lock);
        return st;
    }
    gs_buf meta = { .alloc = *a }, o = { .alloc = *a };
    static const uint8_t head[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    gs_bytes(&o, head, 8);
    gs_u32(&meta, WORLD_VERSION);
    gs_u8(&meta, (uint8_t)(w->fuel | (w->eng->cfg.deterministic ? 2 : 0) |
                           (w->eng->cfg.bounds == GATE_BOUNDS_EXPLICIT ? 4 : 0)));
    gs_u64(&meta, w->cfg.slice_fuel);
    gs_u64(&meta, w->cfg.slice_ns);
    gs_u64(&meta, w->cfg.watchdog_ns);
    gs_u32(&meta, w->nwk);
    gs_u32(&meta, w->next_pid);
    gs_u32(&meta, w->nsponsors);
    for (uint32_t i = 0; i < w->nsponsors; i++) {
        gate_sponsor *s = w->sponsors[i];
        put_str(&meta, s->name);
        gs_u32(&meta, s->parent ? s->parent->index : UINT32_MAX);
        gs_u8(&meta, s->freed);
        for (int k = 0; k < GW_NB; k++) {
            gs_u64(&meta, s->limit[k]);
            gs_u64(&meta, s->given[k]);
            gs_u64(&meta, k == GW_FUEL || k == GW_MSGS ? s->used[k] : 0);
        }
    }
    /* modules of processes not started yet, each once */
    gate_module **mods = NULL;
    uint32_t nmods = 0;
    for (uint32_t i = 0; i < w->nprocs; i++)
        if (w->procs[i]->state != GATE_PROC_DONE && !w->procs[i]->inst)
            nmods++;
    mods = gx_malloc(a, (size_t)nmods * sizeof *mods + 1);
    if (!mods) {
        pthread_mutex_unlock(&w->lock);
        gs_free(&meta);
        gs_free(&o);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return GATE_ERR_NOMEM;
    }
    nmods = 0;
    gs_buf procs = { .alloc = *a };
    uint32_t nlive = 0;
    gs_u32(&meta, w->nprocs);
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *p = w->procs[i];
        gs_u32(&meta, p->pid);
        put_str(&meta, p->name);
        gs_u32(&meta, p->sp->index);
        gs_u8(&meta, (uint8_t)p->state);
        gs_u8(&meta, p->pause_req);
        gs_u64(&meta, p->fuel_used);
        gs_u64(&meta, p->slices);
        gs_u64(&meta, p->overruns);
        gs_u32(&meta, p->wk->idx);
        gs_u64(&meta, p->queued ? queue_pos(p) : UINT64_MAX);
        gs_u32(&meta, p->parent);
        put_str(&meta, p->regname);
        gs_u32(&meta, p->nmon);
        for (uint32_t k = 0; k < p->nmon; k++)
            gs_u32(&meta, p->monitors[k]);
        if (p->state == GATE_PROC_DONE) {
            gs_u8(&meta, K_DONE);
            gs_u32(&meta, (uint32_t)p->status);
            gs_u32(&meta, (uint32_t)p->exit_code);
            gs_u32(&meta, (uint32_t)p->trap.code);
            gs_u32(&meta, p->trap.func_index);
            gs_u32(&meta, p->trap.wasm_offset);
            put_str(&meta, p->trap.message);
            put_str(&meta, p->message);
            gs_u32(&meta, p->nbt);
            for (uint32_t k = 0; k < p->nbt; k++) {
                gs_u32(&meta, p->bt_func[k]);
                gs_u32(&meta, p->bt_off[k]);
            }
            gs_u64(&meta, p->memory);
        } else if (!p->inst) {
            uint32_t m = 0;
            while (m < nmods && mods[m] != p->mod)
                m++;
            if (m == nmods)
                mods[nmods++] = p->mod;
            gs_u8(&meta, K_NEW);
            gs_u32(&meta, m);
            put_entry(&meta, p);
            gs_u32(&meta, p->lim.max_memory_pages);
            gs_u64(&meta, p->lim.stack_size);
            gs_u32(&meta, p->lim.max_table_elems);
            /* its WASI state (arguments, environment, preopens by guest
               name) as a module with a gate.wasi section, for whoever
               grants it again */
            const struct gate_wasi *ws = rt_imports_wasi(p->imp);
            gs_u8(&meta, ws != NULL);
            if (ws) {
                gs_buf wb = { .alloc = *a }, mini = { .alloc = *a };
                rt_wasi_save(ws, &wb);
                gs_bytes(&mini, head, 8);
                custom(&mini, "gate.wasi", &wb);
                gs_u32(&meta, (uint32_t)mini.n);
                gs_bytes(&meta, mini.p, mini.n);
                gs_free(&wb);
                gs_free(&mini);
            }
        } else {
            /* a child of a zygote that has not run yet, with its entry */
            bool forked = p->fresh_fork;
            gs_u8(&meta, forked ? K_FORKED : K_LIVE);
            if (forked)
                put_entry(&meta, p);
            uint8_t *snap;
            size_t slen;
            st = gate_snapshot(p->inst, &snap, &slen, err);
            if (st != GATE_OK)
                break;
            gs_buf one = { .alloc = *a };
            gs_u32(&one, p->pid);
            gs_bytes(&one, snap, slen);
            gx_free(a, snap, slen);
            custom(&procs, "gate.world.proc", &one);
            gs_free(&one);
            nlive++;
        }
    }
    if (st == GATE_OK) {
        /* queued messages, oldest first, and every subscription */
        uint32_t nbox = 0;
        for (uint32_t i = 0; i < w->nprocs; i++)
            nbox += w->procs[i]->nmsg != 0;
        gs_u32(&meta, nbox);
        for (uint32_t i = 0; i < w->nprocs; i++) {
            gw_proc *p = w->procs[i];
            if (!p->nmsg)
                continue;
            gs_u32(&meta, p->pid);
            gs_u32(&meta, p->nmsg);
            for (gw_msg *m = p->mhead; m; m = m->next) {
                gs_u32(&meta, m->from);
                gs_u32(&meta, m->tag);
                gs_u32(&meta, m->payer ? m->payer->index : UINT32_MAX);
                gs_u32(&meta, m->len);
                gs_bytes(&meta, gw_msg_bytes(m), m->len);
            }
        }
        gs_u32(&meta, w->next_stream);
        gs_u32(&meta, w->nstreams);
        for (uint32_t i = 0; i < w->nstreams; i++) {
            gw_stream *t = w->streams[i];
            gs_u32(&meta, t->id);
            gs_u32(&meta, t->writer);
            gs_u32(&meta, t->reader);
            gs_u8(&meta, (uint8_t)(t->wclosed | t->rclosed << 1));
            gs_u32(&meta, t->cap);
            gs_u32(&meta, t->payer ? t->payer->index : UINT32_MAX);
            gs_u32(&meta, t->len);
            for (uint32_t k = 0; k < t->len; k++)
                gs_u8(&meta, t->data[(t->head + k) % t->cap]);
        }
        gs_u32(&meta, w->ntopics);
        for (uint32_t i = 0; i < w->ntopics; i++) {
            gw_topic *t = &w->topics[i];
            gs_u32(&meta, t->len);
            gs_bytes(&meta, t->name, t->len);
            gs_u32(&meta, t->nsubs);
            for (uint32_t k = 0; k < t->nsubs; k++)
                gs_u32(&meta, t->subs[k]);
        }
        custom(&o, "gate.world", &meta);
        for (uint32_t m = 0; m < nmods; m++) {
            gs_buf mb = { .alloc = *a };
            gs_bytes(&mb, mods[m]->bytes, mods[m]->size);
            custom(&o, "gate.world.module", &mb);
            gs_free(&mb);
        }
        gs_bytes(&o, procs.p, procs.n);
    }
    pthread_mutex_unlock(&w->lock);
    gx_free(a, mods, (size_t)nmods * sizeof *mods + 1);
    gs_free(&meta);
    gs_free(&procs);
    if (st != GATE_OK) {
        gs_free(&o);
        return st;
    }
    gs_buf sum = { .alloc = *a };
    gs_u64(&sum, XXH3_64bits(o.p, o.n));
    custom(&o, "gate.world.sum", &sum);
    gs_free(&sum);
    if (o.oom) {
        gs_free(&o);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return GATE_ERR_NOMEM;
    }
    (void)nlive;
    /* a buffer of exactly n bytes, as gate_free_buffer frees it */
    uint8_t *buf = gx_malloc(a, o.n);
    if (!buf) {
        gs_free(&o);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return GATE_ERR_NOMEM;
    }
    memcpy(buf, o.p, o.n);
    *out = buf;
    *out_len = o.n;
    gs_free(&o);
    return GATE_OK;
}

gate_status gate_world_save(gate_world *w, const char *path, gate_error *err)
{
    uint8_t *buf;
    size_t len;
    gate_status st = gate_world_snapshot(w, &buf, &len, err);
    if (st != GATE_OK)
        return st;
    if (err)
        err->status = GATE_OK;
    bool ok = gx_write_atomic(path, buf, len, err);
    gate_free_buffer(w->eng, buf, len);
    return ok ? GATE_OK : err ? err->status : GATE_ERR_IO;
}

/* ---- reading ------------------------------------------------------------ */

typedef struct rd {
    const uint8_t *p, *end, *base;
    gate_error *err;
    bool bad;
} rd;

static bool rd_fail(rd *r, const char *what)
{
    if (!r->bad)
        gx_fail(r->err, GATE_ERR_SNAPSHOT, (uint64_t)(r->p - r->base), GATE_NO_FUNC,
                "world file: %s", what);
    r->bad = true;
    return false;
}

static bool rd_need(rd *r, size_t n, const char *what)
{
    if (r->bad)
        return false;
    if ((size_t)(r->end - r->p) < n)
        return rd_fail(r, what);
    return true;
}

static uint8_t rd_u8(rd *r, const char *what)
{
    if (!rd_need(r, 1, what))
        return 0;
    return *r->p++;
}

static uint32_t rd_u32(rd *r, const char *what)
{
    uint32_t v = 0;
    if (rd_need(r, 4, what)) {
        memcpy(&v, r->p, 4);
        r->p += 4;
    }
    return v;
}

static uint64_t rd_u64(rd *r, const char *what)
{
    uint64_t v = 0;
    if (rd_need(r, 8, what)) {
        memcpy(&v, r->p, 8);
        r->p += 8;
    }
    return v;
}

static uint64_t rd_leb(rd *r, const char *what)
{
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
        uint8_t c = rd_u8(r, what);
        if (r->bad)
            return 0;
        v |= (uint64_t)(c & 0x7f) << shift;
        if (!(c & 0x80))
            return v;
    }
    rd_fail(r, what);
    return 0;
}

/* A string into buf (cap bytes with the NUL): longer ones are refused. */
static void rd_str(rd *r, char *buf, size_t cap, const char *what)
{
    uint32_t n = rd_u32(r, what);
    buf[0] = 0;
    if (r->bad)
        return;
    if (n >= cap) {
        rd_fail(r, what);
        return;
    }
    if (!rd_need(r, n, what))
        return;
    if (memchr(r->p, 0, n)) {
        rd_fail(r, what);
        return;
    }
    memcpy(buf, r->p, n);
    buf[n] = 0;
    r->p += n;
}

typedef struct sect {
    const uint8_t *p;
    size_t n;
    size_t off;
} sect;

typedef struct rproc {
    gate_pid pid;
    char name[64];
    uint32_t sponsor;
    uint8_t state, paused, kind;
    uint64_t fuel_used, slices, overruns, qpos;
    uint32_t worker, parent;
    char regname[64];
    uint32_t nmon;
    gate_pid mon[64];
    /* done */
    uint32_t status, exit_code, trap_code, trap_func, trap_off, nbt;
    char trap_msg[128], message[256];
    uint32_t bt_func[16], bt_off[16];
    uint64_t memory;
    /* new */
    uint32_t module;
    char entry[256];
    uint32_t nargs;
    gate_val args[64];
    gate_limits lim;
    sect wasi;          /* new: its WASI state as a small module, or empty */
    /* live */
    sect snap;
} rproc;

/* an entry and its arguments (put_entry) */
static bool rd_entry(rd *m, rproc *q)
{
    rd_str(m, q->entry, sizeof q->entry, "entry name");
    q->nargs = rd_u32(m, "argument count");
    if (!m->bad && q->nargs > 64)
        rd_fail(m, "argument count");
    for (uint32_t k = 0; k < q->nargs && !m->bad; k++) {
        uint8_t t = rd_u8(m, "argument type");
        if (!rd_need(m, 16, "argument"))
            break;
        if (t != GATE_I32 && t != GATE_I64 && t != GATE_F32 && t != GATE_F64 && t != GATE_V128) {
            rd_fail(m, "argument type");
            break;
        }
        q->args[k].type = (gate_valtype)t;
        memcpy(&q->args[k].of, m->p, t == GATE_V128 ? 16 : 8);
        m->p += 16;
    }
    return !m->bad;
}

/* the entry and arguments read for q, into p */
static bool take_entry(gx_alloc *a, gw_proc *p, const rproc *q, gate_error *err)
{
    p->entry = gx_malloc(a, strlen(q->entry) + 1);
    p->args = q->nargs ? gx_malloc(a, q->nargs * sizeof *p->args) : NULL;
    if (!p->entry || (q->nargs && !p->args))
        return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
    memcpy(p->entry, q->entry, strlen(q->entry) + 1);
    if (q->nargs)
        memcpy(p->args, q->args, q->nargs * sizeof *p->args);
    p->nargs = q->nargs;
    return true;
}

static int cmp_qpos(const void *a, const void *b)
{
    const rproc *x = *(rproc *const *)a, *y = *(rproc *const *)b;
    if (x->qpos != y->qpos)
        return x->qpos < y->qpos ? -1 : 1;
    return x->pid < y->pid ? -1 : x->pid > y->pid;
}

gate_world *gate_world_restore(gate_engine *eng, const gate_world_config *cfg,
                               const uint8_t *bytes, size_t len, gate_world_imports_fn imports_for,
                               void *ud, gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    gw_err_reset(err);
    if (!eng || (!bytes && len)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return NULL;
    }
    rd r = { bytes, bytes + len, bytes, err, false };
    static const uint8_t head[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    if (len < 8 || memcmp(bytes, head, 8)) {
        rd_fail(&r, "not a wasm module");
        return NULL;
    }
    r.p += 8;
    /* sections: all custom; the sum last */
    sect meta = { 0 }, *modsec = NULL, *procsec = NULL;
    uint32_t nmodsec = 0, nprocsec = 0, capm = 0, capp = 0;
    gx_alloc *a = &eng->alloc;
    bool summed = false;
    gate_world *w = NULL;
    rproc *rp = NULL;
    rproc **order = NULL;
    gate_module **mods = NULL;
    uint32_t nprocs = 0, nmods_made = 0;
    while (r.p < r.end && !r.bad) {
        const uint8_t *start = r.p;
        if (rd_u8(&r, "section id") != 0) {
            r.p = start;
            rd_fail(&r, "a section that is not custom");
            break;
        }
        uint64_t size = rd_leb(&r, "section size");
        if (!rd_need(&r, size, "section runs past the end"))
            break;
        const uint8_t *send = r.p + size;
        rd sr = { r.p, send, bytes, err, false };
        uint64_t nl = rd_leb(&sr, "section name");
        if (sr.bad || !rd_need(&sr, nl, "section name")) {
            r.bad = true;
            break;
        }
        char name[32] = "";
        if (nl < sizeof name)
            memcpy(name, sr.p, nl), name[nl] = 0;
        sr.p += nl;
        sect s = { sr.p, (size_t)(send - sr.p), (size_t)(sr.p - bytes) };
        if (summed) {
            rd_fail(&r, "bytes after gate.world.sum");
            break;
        }
        if (!strcmp(name, "gate.world")) {
            if (meta.p) {
                rd_fail(&r, "two gate.world sections");
                break;
            }
            meta = s;
        } else if (!strcmp(name, "gate.world.module") || !strcmp(name, "gate.world.proc")) {
            bool ism = name[11] == 'm';
            sect **arr = ism ? &modsec : &procsec;
            uint32_t *n = ism ? &nmodsec : &nprocsec, *cap = ism ? &capm : &capp;
            if (*n == *cap) {
                uint32_t nc = *cap ? *cap * 2 : 16;
                sect *na = gx_realloc(a, *arr, (size_t)*cap * sizeof *na, (size_t)nc * sizeof *na);
                if (!na) {
                    gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
                    r.bad = true;
                    break;
                }
                *arr = na;
                *cap = nc;
            }
            (*arr)[(*n)++] = s;
        } else if (!strcmp(name, "gate.world.sum")) {
            uint64_t want;
            if (s.n != 8) {
                rd_fail(&r, "gate.world.sum is not 8 bytes");
                break;
            }
            memcpy(&want, s.p, 8);
            if (want != XXH3_64bits(bytes, (size_t)(start - bytes))) {
                r.p = start;
                rd_fail(&r, "checksum mismatch (the file was changed or cut)");
                break;
            }
            summed = true;
        }
        r.p = send;
    }
    if (!r.bad && !summed)
        rd_fail(&r, "no gate.world.sum section (cut short?)");
    if (!r.bad && !meta.p)
        rd_fail(&r, "no gate.world section");
    if (r.bad)
        goto fail;
    rd m = { meta.p, meta.p + meta.n, bytes, err, false };
    if (rd_u32(&m, "version") != WORLD_VERSION) {
        rd_fail(&m, "unknown version");
        goto fail;
    }
    uint8_t flags = rd_u8(&m, "engine flags");
    if (!m.bad && flags > 7) {
        rd_fail(&m, "engine flags");
        goto fail;
    }
    gate_world_config c;
    if (cfg) {
        c = *cfg;
    } else {
        gate_world_config_init(&c);
    }
    uint64_t sf = rd_u64(&m, "slice fuel"), sn = rd_u64(&m, "slice time"),
             wd = rd_u64(&m, "watchdog margin");
    if (!c.slice_fuel)
        c.slice_fuel = sf;
    if (!c.slice_ns)
        c.slice_ns = sn;
    if (!c.watchdog_ns)
        c.watchdog_ns = wd;
    uint32_t nwk = rd_u32(&m, "worker count");
    if (!m.bad && (nwk == 0 || nwk > 256))
        rd_fail(&m, "worker count");
    if (!c.workers)
        c.workers = nwk;      /* the same schedule as before, with one worker */
    uint32_t next_pid = rd_u32(&m, "next pid");
    uint32_t nsp = rd_u32(&m, "sponsor count");
    if (m.bad)
        goto fail;
    /* each sponsor takes at least 4 + 4 + 1 + 120 bytes */
    if (nsp == 0 || nsp > (size_t)(m.end - m.p) / 129) {
        rd_fail(&m, "sponsor count");
        goto fail;
    }
    w = gate_world_new(eng, &c, err);
    if (!w)
        goto fail;
    pthread_mutex_lock(&w->lock);
    for (uint32_t i = 0; i < nsp && !m.bad; i++) {
        char name[64];
        rd_str(&m, name, sizeof name, "sponsor name");
        uint32_t parent = rd_u32(&m, "sponsor parent");
        uint8_t freed = rd_u8(&m, "sponsor state");
        uint64_t lim[GW_NB], given[GW_NB], used[GW_NB];
        for (int k = 0; k < GW_NB; k++) {
            lim[k] = rd_u64(&m, "sponsor limit");
            given[k] = rd_u64(&m, "sponsor budget given");
            used[k] = rd_u64(&m, "sponsor budget used");
        }
        if (m.bad)
            break;
        if ((i == 0) != (parent == UINT32_MAX) || (i && parent >= i) || freed > 1) {
            rd_fail(&m, "sponsor tree");
            break;
        }
        gate_sponsor *s = w->sponsors[0];
        if (i) {
            uint64_t unl[GW_NB];
            for (int k = 0; k < GW_NB; k++)
                unl[k] = GATE_UNLIMITED;
            /* the budgets are set as recorded: the parent's "given" too */
            s = gw_sponsor_add(w, w->sponsors[parent], name, unl, err);
            if (!s) {
                m.bad = true;
                break;
            }
        }
        snprintf(s->name, sizeof s->name, "%s", name);
        s->freed = freed;
        for (int k = 0; k < GW_NB; k++) {
            s->limit[k] = lim[k];
            s->given[k] = given[k];
            /* what processes, queued messages and streams hold is charged
               again as they come back: only spent fuel is as recorded */
            s->used[k] = k == GW_FUEL ? used[k] : 0;
        }
    }
    pthread_mutex_unlock(&w->lock);
    if (m.bad)
        goto fail;
    nprocs = rd_u32(&m, "process count");
    /* each process takes at least 58 bytes */
    if (m.bad || nprocs > (size_t)(m.end - m.p) / 50) {
        rd_fail(&m, "process count");
        goto fail;
    }
    rp = gx_malloc(a, (size_t)nprocs * sizeof *rp + 1);
    order = gx_malloc(a, (size_t)nprocs * sizeof *order + 1);
    if (!rp || !order) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        goto fail;
    }
    memset(rp, 0, (size_t)nprocs * sizeof *rp);
    uint32_t live = 0;
    for (uint32_t i = 0; i < nprocs && !m.bad; i++) {
        rproc *q = &rp[i];
        q->pid = rd_u32(&m, "pid");
        rd_str(&m, q->name, sizeof q->name, "process name");
        q->sponsor = rd_u32(&m, "process sponsor");
        q->state = rd_u8(&m, "process state");
        q->paused = rd_u8(&m, "process paused");
        q->fuel_used = rd_u64(&m, "fuel used");
        q->slices = rd_u64(&m, "slices");
        q->overruns = rd_u64(&m, "overruns");
        q->worker = rd_u32(&m, "worker");
        q->qpos = rd_u64(&m, "queue position");
        q->parent = rd_u32(&m, "parent");
        rd_str(&m, q->regname, sizeof q->regname, "registry name");
        q->nmon = rd_u32(&m, "monitor count");
        if (m.bad)
            break;
        if (q->pid == 0 || q->pid >= next_pid || (i && q->pid <= rp[i - 1].pid) ||
            q->sponsor >= nsp || q->state > GATE_PROC_DONE || q->paused > 1 || q->nmon > 64) {
            rd_fail(&m, "process record");
            break;
        }
        for (uint32_t k = 0; k < q->nmon; k++)
            q->mon[k] = rd_u32(&m, "monitor");
        q->kind = rd_u8(&m, "process kind");
        if (m.bad)
            break;
        if ((q->kind == K_DONE) != (q->state == GATE_PROC_DONE) || q->kind > K_FORKED) {
            rd_fail(&m, "process kind");
            break;
        }
        if (q->kind == K_DONE) {
            q->status = rd_u32(&m, "status");
            q->exit_code = rd_u32(&m, "exit code");
            q->trap_code = rd_u32(&m, "trap code");
            q->trap_func = rd_u32(&m, "trap function");
            q->trap_off = rd_u32(&m, "trap offset");
            rd_str(&m, q->trap_msg, sizeof q->trap_msg, "trap message");
            rd_str(&m, q->message, sizeof q->message, "message");
            q->nbt = rd_u32(&m, "backtrace length");
            if (!m.bad && q->nbt > 16) {
                rd_fail(&m, "backtrace length");
                break;
            }
            for (uint32_t k = 0; k < q->nbt; k++) {
                q->bt_func[k] = rd_u32(&m, "backtrace");
                q->bt_off[k] = rd_u32(&m, "backtrace");
            }
            q->memory = rd_u64(&m, "memory");
            if (!m.bad && (q->status > GATE_ERR_NOT_FOUND || q->trap_code > GATE_TRAP_HOST))
                rd_fail(&m, "status");
        } else if (q->kind == K_NEW) {
            q->module = rd_u32(&m, "module index");
            if (!m.bad && q->module >= nmodsec) {
                rd_fail(&m, "module index");
                break;
            }
            if (!rd_entry(&m, q))
                break;
            q->lim.max_memory_pages = rd_u32(&m, "limits");
            q->lim.stack_size = rd_u64(&m, "limits");
            q->lim.max_table_elems = rd_u32(&m, "limits");
            if (!m.bad && q->lim.stack_size &&
                (q->lim.stack_size < RT_STACK_MIN || q->lim.stack_size > RT_STACK_MAX))
                rd_fail(&m, "stack size");
            uint8_t hw = rd_u8(&m, "WASI state flag");
            if (!m.bad && hw > 1)
                rd_fail(&m, "WASI state flag");
            if (hw) {
                uint32_t n = rd_u32(&m, "WASI state size");
                if (rd_need(&m, n, "WASI state")) {
                    q->wasi.p = m.p;
                    q->wasi.n = n;
                    q->wasi.off = (size_t)(m.p - bytes);
                    m.p += n;
                }
            }
        } else {
            if (q->kind == K_FORKED && !rd_entry(&m, q))
                break;
            if (live >= nprocsec) {
                rd_fail(&m, "more live processes than gate.world.proc sections");
                break;
            }
            sect s = procsec[live++];
            rd ps = { s.p, s.p + s.n, bytes, err, false };
            uint32_t pid = rd_u32(&ps, "process snapshot pid");
            if (ps.bad || pid != q->pid) {
                m.p = s.p;
                rd_fail(&m, "gate.world.proc sections out of order");
                break;
            }
            q->snap.p = s.p + 4;
            q->snap.n = s.n - 4;
            q->snap.off = s.off + 4;
        }
    }
    if (!m.bad && live != nprocsec)
        rd_fail(&m, "gate.world.proc sections without a process");
    /* mailboxes and topics: checked now, applied once the processes exist */
    const uint8_t *boxes = m.p;
    uint32_t nbox = rd_u32(&m, "mailbox count");
    for (uint32_t i = 0; i < nbox && !m.bad; i++) {
        rd_u32(&m, "mailbox pid");
        uint32_t n = rd_u32(&m, "message count");
        if (!m.bad && n > GW_MAX_MSGS)
            rd_fail(&m, "message count");
        for (uint32_t k = 0; k < n && !m.bad; k++) {
            rd_u32(&m, "message sender");
            rd_u32(&m, "message tag");
            uint32_t payer = rd_u32(&m, "message payer");
            uint32_t ml = rd_u32(&m, "message length");
            if (!m.bad && payer != UINT32_MAX && payer >= nsp)
                rd_fail(&m, "message payer");
            if (rd_need(&m, ml, "message bytes"))
                m.p += ml;
        }
    }
    const uint8_t *streams_at = m.p;
    rd_u32(&m, "next stream");
    uint32_t nstr = rd_u32(&m, "stream count");
    if (!m.bad && nstr > GW_MAX_STREAMS)
        rd_fail(&m, "stream count");
    for (uint32_t i = 0; i < nstr && !m.bad; i++) {
        rd_u32(&m, "stream id");
        rd_u32(&m, "stream writer");
        rd_u32(&m, "stream reader");
        uint8_t fl = rd_u8(&m, "stream state");
        uint32_t cap = rd_u32(&m, "stream size");
        uint32_t payer = rd_u32(&m, "stream payer");
        uint32_t ml = rd_u32(&m, "stream bytes");
        if (!m.bad && (fl > 3 || cap == 0 || cap > ((uint32_t)1 << 30) || ml > cap ||
                       (payer != UINT32_MAX && payer >= nsp)))
            rd_fail(&m, "stream record");
        if (rd_need(&m, ml, "stream bytes"))
            m.p += ml;
    }
    uint32_t ntop = rd_u32(&m, "topic count");
    if (!m.bad && ntop > GW_MAX_TOPICS)
        rd_fail(&m, "topic count");
    for (uint32_t i = 0; i < ntop && !m.bad; i++) {
        uint32_t ml = rd_u32(&m, "topic name length");
        if (!m.bad && (ml == 0 || ml > GW_TOPIC_MAX))
            rd_fail(&m, "topic name length");
        if (rd_need(&m, ml, "topic name"))
            m.p += ml;
        uint32_t n = rd_u32(&m, "subscriber count");
        if (!m.bad && n > (size_t)(m.end - m.p) / 4)
            rd_fail(&m, "subscriber count");
        m.p += m.bad ? 0 : (size_t)n * 4;
    }
    if (!m.bad && m.p != m.end)
        rd_fail(&m, "bytes after the topics");
    if (m.bad)
        goto fail;
    mods = gx_malloc(a, (size_t)nmodsec * sizeof *mods + 1);
    if (!mods) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        goto fail;
    }
    for (; nmods_made < nmodsec; nmods_made++) {
        mods[nmods_made] = gate_module_new(eng, modsec[nmods_made].p, modsec[nmods_made].n, err);
        if (!mods[nmods_made]) {
            char what[200];
            snprintf(what, sizeof what, "%.190s", err->message);
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_SNAPSHOT, modsec[nmods_made].off, GATE_NO_FUNC,
                    "world file: module %u: %s", nmods_made, what);
            goto fail;
        }
    }
    /* the processes, in pid order */
    for (uint32_t i = 0; i < nprocs; i++) {
        rproc *q = &rp[i];
        pthread_mutex_lock(&w->lock);
        gw_proc *p = gw_proc_add(w, q->pid, q->name, w->sponsors[q->sponsor], err);
        pthread_mutex_unlock(&w->lock);
        if (!p)
            goto fail;
        snprintf(p->name, sizeof p->name, "%s", q->name);
        p->fuel_used = q->fuel_used;
        p->slices = q->slices;
        p->overruns = q->overruns;
        p->pause_req = q->paused;
        for (uint32_t k = 0; k < q->nmon; k++)
            if (gate_world_monitor(w, q->mon[k], q->pid) != GATE_OK && q->kind != K_DONE) {
                /* a watcher that is not there any more: dropped */
            }
        if (q->kind == K_DONE) {
            pthread_mutex_lock(&w->lock);
            p->state = GATE_PROC_DONE;
            p->status = (gate_status)q->status;
            p->exit_code = (int)q->exit_code;
            p->trap.code = (gate_trap_code)q->trap_code;
            p->trap.func_index = q->trap_func;
            p->trap.wasm_offset = q->trap_off;
            snprintf(p->trap.message, sizeof p->trap.message, "%s", q->trap_msg);
            snprintf(p->message, sizeof p->message, "%s", q->message);
            p->nbt = q->nbt;
            memcpy(p->bt_func, q->bt_func, sizeof p->bt_func);
            memcpy(p->bt_off, q->bt_off, sizeof p->bt_off);
            p->memory = q->memory;
            gw_give_back(p->sp, GW_PROCS, 1);
            p->wk->nprocs--;
            pthread_mutex_unlock(&w->lock);
            continue;
        }
        bool is_live = q->kind == K_LIVE || q->kind == K_FORKED;
        const uint8_t *snap = is_live ? q->snap.p : q->wasi.p;
        size_t slen = is_live ? q->snap.n : q->wasi.n;
        const gate_grants *grants = NULL;
        gate_imports *imp = imports_for ? imports_for(ud, q->name, snap, slen, &grants, err) : NULL;
        if (err->status != GATE_OK)
            goto fail;
        p->grants = gw_grants_copy(w, grants);
        p->imp = imp;
        p->own_imp = true;
        if (q->kind == K_NEW) {
            p->mod = mods[q->module];
            p->mod->refs++;
            if (!take_entry(a, p, q, err))
                goto fail;
            p->lim = q->lim;
        } else {
            gate_instance *inst = gate_snapshot_restore(eng, snap, slen, imp, err);
            if (!inst) {
                char what[200];
                snprintf(what, sizeof what, "%.190s", err->message);
                uint64_t off = err->offset;
                err->status = GATE_OK;
                gx_fail(err, GATE_ERR_SNAPSHOT, off == UINT64_MAX ? q->snap.off : q->snap.off + off,
                        GATE_NO_FUNC, "world file: process %u (%s): %s", q->pid, q->name, what);
                goto fail;
            }
            inst->hooks = &gw_hooks;
            inst->hooks_ud = p;
            p->inst = inst;
            p->lim = inst->lim;
            if (q->kind == K_FORKED) {
                /* its pending call (if any) and entry run at its first dispatch */
                p->fresh_fork = true;
                if (!take_entry(a, p, q, err))
                    goto fail;
            }
            uint64_t mem = inst->mem && inst->mod->info.nmem_imports == 0
                               ? inst->mem->pages * 65536 : 0;
            if (!rt_charge(inst, RT_CHARGE_MEMORY, (int64_t)mem) ||
                !rt_charge(inst, RT_CHARGE_TABLE, (int64_t)(inst->table_elems * sizeof(void *)))) {
                gx_fail(err, GATE_ERR_LIMIT, q->snap.off, GATE_NO_FUNC,
                        "world file: process %u (%s): its sponsor's budget cannot pay for its "
                        "memory", q->pid, q->name);
                goto fail;
            }
        }
        w->nlive++;
    }
    /* messages, in their order, and subscriptions */
    {
        rd b = { boxes, m.end, bytes, err, false };
        nbox = rd_u32(&b, "mailbox count");
        pthread_mutex_lock(&w->lock);
        for (uint32_t i = 0; i < nbox; i++) {
            gw_proc *to = gw_find(w, rd_u32(&b, "mailbox pid"));
            uint32_t n = rd_u32(&b, "message count");
            for (uint32_t k = 0; k < n; k++) {
                uint32_t from = rd_u32(&b, "message sender"), tag = rd_u32(&b, "message tag");
                uint32_t payer = rd_u32(&b, "message payer"), ml = rd_u32(&b, "message length");
                int dr = gw_deliver(w, to, from, tag, b.p, ml,
                                   payer == UINT32_MAX ? NULL : w->sponsors[payer]);
                b.p += ml;
                if (dr && to && to->state != GATE_PROC_DONE) {
                    pthread_mutex_unlock(&w->lock);
                    gx_fail(err, GATE_ERR_LIMIT, (uint64_t)(b.p - bytes), GATE_NO_FUNC,
                            "world file: a message for process %u does not fit its mailbox "
                            "or its sender's budget", to->pid);
                    goto fail;
                }
            }
        }
        rd sb = { streams_at, m.end, bytes, err, false };
        uint32_t next_stream = rd_u32(&sb, "next stream");
        nstr = rd_u32(&sb, "stream count");
        for (uint32_t i = 0; i < nstr; i++) {
            uint32_t id = rd_u32(&sb, "stream id");
            gate_pid wr = rd_u32(&sb, "stream writer"), re = rd_u32(&sb, "stream reader");
            uint8_t fl = rd_u8(&sb, "stream state");
            uint32_t cap = rd_u32(&sb, "stream size"), payer = rd_u32(&sb, "stream payer");
            uint32_t ml = rd_u32(&sb, "stream bytes");
            gw_stream *t = gw_stream_find(w, id) ? NULL
                           : gw_stream_new(w, id, wr, re, cap,
                                           payer == UINT32_MAX ? NULL : w->sponsors[payer]);
            if (!t) {
                pthread_mutex_unlock(&w->lock);
                gx_fail(err, GATE_ERR_SNAPSHOT, (uint64_t)(sb.p - bytes), GATE_NO_FUNC,
                        "world file: stream %u: a duplicate, or its writer's budget cannot pay",
                        id);
                goto fail;
            }
            t->wclosed = fl & 1;
            t->rclosed = (fl >> 1) & 1;
            memcpy(t->data, sb.p, ml);
            t->len = ml;
            sb.p += ml;
        }
        if (next_stream > w->next_stream)
            w->next_stream = next_stream;
        b.p = sb.p;
        ntop = rd_u32(&b, "topic count");
        for (uint32_t i = 0; i < ntop; i++) {
            uint32_t ml = rd_u32(&b, "topic name length");
            gw_topic *t = gw_topic_get(w, (const char *)b.p, ml);
            b.p += ml;
            uint32_t n = rd_u32(&b, "subscriber count");
            for (uint32_t k = 0; k < n; k++) {
                gw_proc *sp = gw_find(w, rd_u32(&b, "subscriber"));
                if (t && sp && sp->state != GATE_PROC_DONE)
                    gw_subscribe(w, t, sp->pid);
            }
        }
        for (uint32_t i = 0; i < nprocs; i++) {
            gw_proc *p = gw_find(w, rp[i].pid);
            if (p) {
                p->parent = rp[i].parent;
                snprintf(p->regname, sizeof p->regname, "%s", rp[i].regname);
            }
        }
        pthread_mutex_unlock(&w->lock);
    }
    /* the queues as they were */
    uint32_t nq = 0;
    for (uint32_t i = 0; i < nprocs; i++)
        if (rp[i].kind != K_DONE)
            order[nq++] = &rp[i];
    qsort(order, nq, sizeof *order, cmp_qpos);
    pthread_mutex_lock(&w->lock);
    w->next_pid = next_pid;
    for (uint32_t i = 0; i < nq; i++) {
        gw_proc *p = gw_find(w, order[i]->pid);
        assert(p);
        gw_make_runnable(w, p, false);
        if (p->state == GATE_PROC_RUNNABLE && !p->inst)
            p->state = GATE_PROC_NEW;
    }
    pthread_mutex_unlock(&w->lock);
    for (uint32_t i = 0; i < nmods_made; i++)
        gate_module_free(mods[i]);
    gx_free(a, mods, (size_t)nmodsec * sizeof *mods + 1);
    gx_free(a, rp, (size_t)nprocs * sizeof *rp + 1);
    gx_free(a, order, (size_t)nprocs * sizeof *order + 1);
    gx_free(a, modsec, (size_t)capm * sizeof *modsec);
    gx_free(a, procsec, (size_t)capp * sizeof *procsec);
    return w;
fail:
    if (w)
        gate_world_free(w);
    for (uint32_t i = 0; mods && i < nmods_made; i++)
        gate_module_free(mods[i]);
    if (mods)
        gx_free(a, mods, (size_t)nmodsec * sizeof *mods + 1);
    if (rp)
        gx_free(a, rp, (size_t)nprocs * sizeof *rp + 1);
    if (order)
        gx_free(a, order, (size_t)nprocs * sizeof *order + 1);
    gx_free(a, modsec, (size_t)capm * sizeof *modsec);
    gx_free(a, procsec, (size_t)capp * sizeof *procsec);
    if (err->status == GATE_OK)
        gx_fail(err, GATE_ERR_SNAPSHOT, UINT64_MAX, GATE_NO_FUNC, "world file: cannot restore");
    return NULL;
}

gate_status gate_world_read_info(const uint8_t *bytes, size_t len, gate_world_info *out,
                                 gate_error *err)
{
    gw_err_reset(err);
    if (!bytes || !out)
        return GATE_ERR_ARG;
    memset(out, 0, sizeof *out);
    rd r = { bytes, bytes + len, bytes, err, false };
    static const uint8_t head[8] = { 0, 'a', 's', 'm', 1, 0, 0, 0 };
    if (len < 8 || memcmp(bytes, head, 8)) {
        rd_fail(&r, "not a wasm module");
        return GATE_ERR_SNAPSHOT;
    }
    r.p += 8;
    while (r.p < r.end && !r.bad) {
        if (rd_u8(&r, "section id") != 0)
            return rd_fail(&r, "a section that is not custom"), GATE_ERR_SNAPSHOT;
        uint64_t size = rd_leb(&r, "section size");
        if (!rd_need(&r, size, "section runs past the end"))
            break;
        const uint8_t *send = r.p + size;
        rd sr = { r.p, send, bytes, err, false };
        uint64_t nl = rd_leb(&sr, "section name");
        if (!sr.bad && nl == 10 && rd_need(&sr, nl, "name") && !memcmp(sr.p, "gate.world", 10)) {
            sr.p += nl;
            uint32_t v = rd_u32(&sr, "version");
            uint8_t flags = rd_u8(&sr, "engine flags");
            rd_u64(&sr, "slice fuel");
            rd_u64(&sr, "slice time");
            rd_u64(&sr, "watchdog");
            uint32_t nwk = rd_u32(&sr, "workers");
            if (sr.bad || v != WORLD_VERSION) {
                r.bad = true;
                if (!sr.bad)
                    rd_fail(&sr, "unknown version");
                return GATE_ERR_SNAPSHOT;
            }
            out->fuel = flags & 1;
            out->deterministic = (flags >> 1) & 1;
            out->explicit_bounds = (flags >> 2) & 1;
            out->workers = nwk;
            return GATE_OK;
        }
        r.p = send;
    }
    if (!r.bad)
        rd_fail(&r, "no gate.world section");
    return GATE_ERR_SNAPSHOT;
}
