/*
 * snapshot.c - a stopped (or idle) instance as a self-contained wasm
 * module, and back.  Layout: docs/snapshot-format.md.
 *
 *   original sections, in order, with
 *     memory   min = the current size in pages
 *     table    min = the current size
 *     global   initialisers = the current values
 *     start    dropped (the program already started)
 *     element  the original segments kept in place (their indices are in
 *              the code); those already applied or dropped become
 *              declarative, i.e. dropped at instantiation; then one active
 *              segment per defined table with its current contents
 *     data     likewise: applied or dropped segments become empty passive
 *              segments, then the memory's non-zero runs as active segments
 *     datacount updated
 *   custom "gate.state"    run state (suspended or idle, entry function)
 *   custom "gate.stack"    the portable stack: frames of typed slots
 *   custom "gate.wasi"     WASI state, when the instance uses WASI
 *   custom "gate.objects"  AOT objects named for the program, per target
 *   custom "gate.checksum" xxh64 of every byte before this section
 *
 * Any wasm tool can parse it; the reader checks everything against the
 * module before a frame is built (restore never trusts a native address:
 * references are function indices, continuations come from the map).
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <xxhash.h>

#include "snapshot.h"

#define GS_VERSION 3u
#define GS_MAX_FRAMES 10000000u    /* the reader's bound, which the writer keeps too */
#define ZERO_BLOCK 64        /* aligned all-zero blocks of this size split segments */
#define RUN_GAP 65536        /* ... when at least this many bytes of them follow */

/* ---- byte building ---------------------------------------------------- */

void gs_reserve(gs_buf *b, size_t n)
{
    if (b->oom || b->cap - b->n >= n)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->n < n)
        cap *= 2;
    uint8_t *np = gx_realloc(&b->alloc, b->p, b->cap, cap);
    if (!np) {
        b->oom = true;
        return;
    }
    b->p = np;
    b->cap = cap;
}

void gs_bytes(gs_buf *b, const void *p, size_t n)
{
    gs_reserve(b, n);
    if (b->oom)
        return;
    if (n)
        memcpy(b->p + b->n, p, n);
    b->n += n;
}

void gs_u8(gs_buf *b, uint8_t v) { gs_bytes(b, &v, 1); }
void gs_u32(gs_buf *b, uint32_t v) { gs_bytes(b, &v, 4); }
void gs_u64(gs_buf *b, uint64_t v) { gs_bytes(b, &v, 8); }

void gs_leb(gs_buf *b, uint64_t v)
{
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        gs_u8(b, (uint8_t)(c | (v ? 0x80 : 0)));
    } while (v);
}

void gs_sleb(gs_buf *b, int64_t v)
{
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;   /* arithmetic shift on the compilers we use */
        bool done = (v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40));
        gs_u8(b, (uint8_t)(c | (done ? 0 : 0x80)));
        if (done)
            break;
    }
}

void gs_str(gs_buf *b, const char *s)
{
    uint32_t n = (uint32_t)strlen(s);
    gs_u32(b, n);
    gs_bytes(b, s, n);
}

void gs_free(gs_buf *b)
{
    gx_free(&b->alloc, b->p, b->cap);
    b->p = NULL;
    b->n = b->cap = 0;
}

static void section(gs_buf *out, uint8_t id, const gs_buf *body)
{
    gs_u8(out, id);
    gs_leb(out, body->n);
    gs_bytes(out, body->p, body->n);
}

static void custom(gs_buf *out, const char *name, const gs_buf *payload)
{
    gs_buf b = { .alloc = out->alloc };
    gs_leb(&b, strlen(name));
    gs_bytes(&b, name, strlen(name));
    gs_bytes(&b, payload->p, payload->n);
    out->oom |= b.oom;
    section(out, 0, &b);
    gs_free(&b);
}

/* ---- slot types --------------------------------------------------------- */

/* Refuses frame i: "frame N (func F at wasm offset X): what". */
static bool frame_fail(gate_error *err, uint32_t i, const rt_frame *f, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool frame_fail(gate_error *err, uint32_t i, const rt_frame *f, const char *fmt, ...)
{
    char what[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    return gx_fail(err, GATE_ERR_SNAPSHOT, f->wasm, f->func,
                   "frame %u (func %u at wasm offset 0x%x): %s", i, f->func, f->wasm, what);
}

static bool before(const rt_frame *f, uint32_t x, uint32_t y)
{
    return f[x].func != f[y].func ? f[x].func < f[y].func : f[x].wasm < f[y].wasm;
}

/* Sorts frame indices by (function, offset): a bottom-up merge sort into
   tmp and back (no library sort: qsort may ask the kernel how much memory
   there is, which --sandbox forbids). */
static void sort_places(const rt_frame *f, uint32_t *idx, uint32_t *tmp, uint32_t n)
{
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                tmp[k++] = before(f, idx[j], idx[i]) ? idx[j++] : idx[i++];
            while (i < mid)
                tmp[k++] = idx[i++];
            while (j < hi)
                tmp[k++] = idx[j++];
        }
        memcpy(idx, tmp, (size_t)n * 4);
    }
}

uint8_t *gs_frame_types(const gate_module *mod, const rt_frame *fr, uint32_t n, size_t *total,
                        uint32_t *bad, gate_error *err)
{
    const gd_module *m = &mod->info;
    const gx_alloc *a = &mod->eng->alloc;
    size_t sum = 0;
    for (uint32_t i = 0; i < n; i++)
        sum += fr[i].nslots;
    uint32_t *order = gx_malloc(a, (size_t)n * 8 + 8);      /* and the sort's space */
    size_t *off = gx_malloc(a, (size_t)n * sizeof *off + 1);
    uint8_t *out = gx_malloc(a, sum + 1);
    *total = sum;
    *bad = n;
    if (!order || !off || !out) {
        gx_free(a, order, (size_t)n * 8 + 8);
        gx_free(a, off, (size_t)n * sizeof *off + 1);
        gx_free(a, out, sum + 1);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    for (uint32_t i = 0, at = 0; i < n; at += fr[i].nslots, i++)
        order[i] = i, off[i] = at;
    sort_places(fr, order, order + n, n);
    bool ok = true;
    for (uint32_t g = 0; ok && g < n;) {
        /* one walk of this function's body, stopping at each frame's offset */
        uint32_t func = fr[order[g]].func;
        gv_func v;
        gv_insn ins;
        if (func < m->nfunc_imports || func >= m->nfuncs ||
            !gv_begin(&v, m, &mod->eng->alloc, &mod->eng->lim, func, err)) {
            *bad = order[g];
            ok = false;
            break;
        }
        uint32_t body = (uint32_t)m->funcs[func].body_off;
        for (; ok && g < n && fr[order[g]].func == func; g++) {
            const rt_frame *f = &fr[order[g]];
            bool entry = f->wasm == body;
            while (!entry && gr_off(&v.r) < f->wasm && gv_next(&v, &ins) > 0)
                ;
            ok = entry || gr_off(&v.r) == f->wasm;
            uint8_t *t = out + off[order[g]];
            /* slots in wasm order, values' types: a v128 takes two slots,
               both typed v128 (low half first) */
            uint32_t nv = v.nlocals + (entry ? 0 : v.nvals);
            for (uint32_t k = 0, j = 0; ok && k < f->nslots; j++) {
                ok = j < nv;
                uint8_t ty = !ok ? GT_UNKNOWN : j < v.nlocals ? v.locals[j] : v.vals[j - v.nlocals];
                ok = ok && ty != GT_UNKNOWN && (ty != GT_V128 || k + 1 < f->nslots);
                t[k++] = ty;
                if (ok && ty == GT_V128)
                    t[k++] = ty;
            }
            if (!ok)
                *bad = order[g];
        }
        gv_end(&v);
    }
    gx_free(a, order, (size_t)n * 8 + 8);
    if (!ok) {
        gx_free(a, off, (size_t)n * sizeof *off + 1);
        gx_free(a, out, sum + 1);
        if (*bad < n)
            frame_fail(err, *bad, &fr[*bad], "no safe point with %u slots there",
                       fr[*bad].nslots);
        return NULL;
    }
    gx_free(a, off, (size_t)n * sizeof *off + 1);
    return out;
}

/* ---- writing ------------------------------------------------------------ */

/* A reference as a portable value: function index + 1, 0 for null. */
static bool ref_out(const gate_instance *inst, uint8_t type, uint64_t raw, uint64_t *out)
{
    if (!raw) {
        *out = 0;
        return true;
    }
    if (type != GT_FUNCREF)
        return false;            /* host references cannot move */
    const gd_module *m = &inst->mod->info;
    for (uint32_t f = 0; f < m->nfuncs; f++)
        if ((uint64_t)(uintptr_t)inst->funcs[f] == raw) {
            *out = (uint64_t)f + 1;
            return true;
        }
    return false;                /* another instance's function */
}

static void const_expr(gs_buf *b, const gate_instance *inst, uint8_t type, const uint64_t *cell,
                       bool *ok)
{
    uint64_t r = 0, bits = cell[0];
    switch (type) {
    case GT_V128: gs_u8(b, 0xfd); gs_leb(b, 12); gs_bytes(b, cell, 16); break;
    case GT_I32: gs_u8(b, 0x41); gs_sleb(b, (int32_t)(uint32_t)bits); break;
    case GT_I64: gs_u8(b, 0x42); gs_sleb(b, (int64_t)bits); break;
    case GT_F32: gs_u8(b, 0x43); gs_bytes(b, &bits, 4); break;
    case GT_F64: gs_u8(b, 0x44); gs_bytes(b, &bits, 8); break;
    default:
        if (!ref_out(inst, type, bits, &r))
            *ok = false;
        if (r) {
            gs_u8(b, 0xd2);
            gs_leb(b, r - 1);
        } else {
            gs_u8(b, 0xd0);
            gs_u8(b, type);
        }
        break;
    }
    gs_u8(b, 0x0b);
}

static void limits(gs_buf *b, uint64_t min, uint64_t max)
{
    gs_u8(b, max == UINT64_MAX ? 0 : 1);
    gs_leb(b, min);
    if (max != UINT64_MAX)
        gs_leb(b, max);
}

/* Element section: the original segments in place (applied or dropped
   ones as declarative), then one active segment per defined table.  Only
   the program's own segments are kept: a restored instance's module also
   has the tables of the snapshot it came from, written afresh here. */
static void write_elems(gs_buf *o, gs_buf *b, const gate_instance *inst, bool *ok)
{
    const gd_module *m = &inst->mod->info;
    uint32_t ntab = m->ntables - m->ntable_imports, nprog = inst->prog_nelems;
    if (nprog + ntab == 0)
        return;
    b->n = 0;
    gs_leb(b, nprog + ntab);
    for (uint32_t e = 0; e < nprog; e++) {
        const gd_elem *es = &m->elems[e];
        bool alive = es->mode == GD_SEG_PASSIVE && !inst->elem_dropped[e];
        gs_leb(b, alive ? 5 : 7);          /* passive / declarative, expressions */
        gs_u8(b, es->type);
        gs_leb(b, es->count);
        for (uint32_t k = 0; k < es->count; k++) {
            const gd_const *it = &es->items[k];
            if (it->op == GOP_REF_FUNC) {
                gs_u8(b, 0xd2);
                gs_leb(b, it->u.index);
            } else if (it->op == GOP_GLOBAL_GET) {
                gs_u8(b, 0x23);
                gs_leb(b, it->u.index);
            } else {
                gs_u8(b, 0xd0);
                gs_u8(b, es->type);
            }
            gs_u8(b, 0x0b);
        }
    }
    for (uint32_t t = m->ntable_imports; t < m->ntables; t++) {
        const rt_table *tb = inst->tables[t];
        gs_leb(b, 6);                      /* active, table index, expressions */
        gs_leb(b, t);
        gs_u8(b, 0x41);
        gs_sleb(b, 0);
        gs_u8(b, 0x0b);
        gs_u8(b, tb->type);
        gs_leb(b, tb->size);
        for (uint32_t k = 0; k < tb->size; k++)
            const_expr(b, inst, tb->type, (const uint64_t[]){ (uint64_t)(uintptr_t)tb->elems[k] },
                       ok);
    }
    section(o, 9, b);
}

/*
 * Memory as data segments: one per run of 64-byte aligned blocks that are
 * not all zeros, runs closer than a page (RUN_GAP) merged so that any
 * memory of up to 4 GiB needs at most 65,536 segments, each trimmed to its
 * first and last non-zero byte.  Scanned a
 * word at a time; the runs are found once, then written straight into the
 * output at their final place.
 */
typedef struct gs_run {
    uint64_t start, end;
} gs_run;

static bool block_zero(const uint8_t *p)
{
    uint64_t w[8];
    memcpy(w, p, sizeof w);
    return !(w[0] | w[1] | w[2] | w[3] | w[4] | w[5] | w[6] | w[7]);
}

static gs_run *memory_runs(const gx_alloc *a, const uint8_t *mem, uint64_t size, uint32_t *nruns,
                           size_t *cap, bool *oom)
{
    gs_run *runs = NULL;
    size_t n = 0, c = 0;
    for (uint64_t k = 0; k < size; k += ZERO_BLOCK) {
        if (block_zero(mem + k))
            continue;
        uint64_t j = k + ZERO_BLOCK;
        for (;;) {
            while (j < size && !block_zero(mem + j))
                j += ZERO_BLOCK;
            /* a zero gap shorter than RUN_GAP does not end the run */
            uint64_t g = j;
            while (g < size && g - j < RUN_GAP && block_zero(mem + g))
                g += ZERO_BLOCK;
            if (g >= size || g - j >= RUN_GAP)
                break;
            j = g;
        }
        uint64_t s = k, e = j;
        while (!mem[s])
            s++;
        while (!mem[e - 1])
            e--;
        if (n == c) {
            size_t nc = c ? c * 2 : 64;
            gs_run *r = gx_realloc(a, runs, c * sizeof *runs, nc * sizeof *runs);
            if (!r) {
                gx_free(a, runs, c * sizeof *runs);
                *oom = true;
                *nruns = 0;
                *cap = 0;
                return NULL;
            }
            runs = r;
            c = nc;
        }
        runs[n].start = s;
        runs[n].end = e;
        n++;
        k = j;
    }
    *nruns = (uint32_t)n;
    *cap = c;
    return runs;
}

static size_t leb_len(uint64_t v)
{
    size_t n = 1;
    while (v >>= 7)
        n++;
    return n;
}

static size_t sleb_len(int64_t v)
{
    size_t n = 1;
    for (;;) {
        uint8_t c = v & 0x7f;
        v >>= 7;
        if ((v == 0 && !(c & 0x40)) || (v == -1 && (c & 0x40)))
            return n;
        n++;
    }
}

/* Data count, the code section as it was (if any), then data: the
   program's own segments in place (applied or dropped ones empty), then
   memory runs.  The count depends on the memory's contents, never on how
   many snapshots came before (a restored module's runs are not kept). */
static void write_data(gs_buf *o, gs_buf *b, const gate_instance *inst, const uint8_t *code,
                       size_t code_len)
{
    const gate_module *mod = inst->mod;
    const gd_module *m = &mod->info;
    const uint8_t *mem = inst->mem ? inst->mem->base : NULL;
    uint64_t size = inst->mem ? inst->mem->pages * 65536 : 0;
    uint32_t nruns = 0;
    size_t cap = 0;
    gs_run *runs = memory_runs(&o->alloc, mem, size, &nruns, &cap, &o->oom);
    if (o->oom)
        return;
    uint32_t nprog = inst->prog_ndata;
    b->n = 0;
    gs_leb(b, nprog + nruns);
    section(o, 12, b);
    if (code)
        gs_bytes(o, code, code_len);
    /* the original segments, built apart (small), then the runs in place */
    b->n = 0;
    gs_leb(b, nprog + nruns);
    for (uint32_t d = 0; d < nprog; d++) {
        const gd_data *ds = &m->data[d];
        bool alive = ds->mode == GD_SEG_PASSIVE && !inst->data_dropped[d];
        gs_leb(b, 1);                      /* passive */
        gs_leb(b, alive ? ds->len : 0);
        if (alive)
            gs_bytes(b, mod->bytes + ds->bytes_off, ds->len);
    }
    uint64_t body = b->n;
    for (uint32_t r = 0; r < nruns; r++) {
        uint64_t len = runs[r].end - runs[r].start;
        body += 3 + sleb_len((int32_t)(uint32_t)runs[r].start) + leb_len(len) + len;
    }
    gs_reserve(o, 1 + leb_len(body) + body);
    gs_u8(o, 11);
    gs_leb(o, body);
    gs_bytes(o, b->p, b->n);
    for (uint32_t r = 0; r < nruns; r++) {
        uint64_t a = runs[r].start, z = runs[r].end;
        gs_u8(o, 0);                       /* active, memory 0 */
        gs_u8(o, 0x41);
        gs_sleb(o, (int32_t)(uint32_t)a);
        gs_u8(o, 0x0b);
        gs_leb(o, z - a);
        gs_bytes(o, mem + a, z - a);
    }
    gx_free(&o->alloc, runs, cap * sizeof *runs);
}

gate_status gate_snapshot(gate_instance *inst, uint8_t **out, size_t *out_len, gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!inst)
        return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "no instance"), GATE_ERR_ARG;
    if (rt_entry_vm == &inst->vm)
        return gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                       "the instance is running"), GATE_ERR_STATE;
    const gate_module *mod = inst->mod;
    const gd_module *m = &mod->info;
    if (m->nmem_imports || m->ntable_imports)
        return gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                       "instances with imported memories or tables cannot be snapshotted yet"),
               GATE_ERR_STATE;
    gs_buf o = { .alloc = inst->eng->alloc };
    gs_buf b = { .alloc = inst->eng->alloc };
    bool ok = true;
    gs_bytes(&o, "\0asm\1\0\0\0", 8);
    bool elem_done = false, data_done = false;
    gr_reader r = { .base = mod->bytes, .pos = 8, .end = mod->size };
    gate_error scratch = { 0 };
    r.err = &scratch;
    while (r.pos < r.end) {
        uint8_t id;
        uint32_t len;
        size_t start = r.pos;
        if (!gr_byte(&r, &id) || !gr_u32(&r, &len))
            break;
        size_t body = r.pos;
        r.pos += len;
        b.n = 0;
        switch (id) {
        case 5:      /* memory: the current size */
            gs_leb(&b, m->nmems);
            for (uint32_t i = 0; i < m->nmems; i++)
                limits(&b, inst->mem->pages, m->mems[i].lim.max);
            section(&o, 5, &b);
            break;
        case 4:      /* tables: the current sizes */
            gs_leb(&b, m->ntables);
            for (uint32_t i = 0; i < m->ntables; i++) {
                gs_u8(&b, m->tables[i].elem);
                limits(&b, inst->tables[i]->size, m->tables[i].lim.max);
            }
            section(&o, 4, &b);
            break;
        case 6:      /* globals: the current values */
            gs_leb(&b, m->nglobals - m->nglobal_imports);
            for (uint32_t g = m->nglobal_imports; g < m->nglobals; g++) {
                gs_u8(&b, m->globals[g].type);
                gs_u8(&b, m->globals[g].mut);
                const_expr(&b, inst, m->globals[g].type, inst->globals[g], &ok);
            }
            section(&o, 6, &b);
            break;
        case 8:      /* start: dropped */
            break;
        case 9:
            write_elems(&o, &b, inst, &ok);
            elem_done = true;
            break;
        case 12:     /* data count: the originals plus the memory runs (below) */
            break;
        case 11:     /* data: written after the code section, see below */
            break;
        case 10:
            if (!elem_done)
                write_elems(&o, &b, inst, &ok);
            elem_done = true;
            write_data(&o, &b, inst, mod->bytes + start, r.pos - start);
            data_done = true;
            break;
        case 0: {    /* custom: as they were, but not an older snapshot's state */
            gr_reader cr = { .base = mod->bytes, .pos = body, .end = r.pos, .err = &scratch };
            const uint8_t *name;
            uint32_t nlen;
            if (gr_name(&cr, &name, &nlen) && nlen >= 5 && !memcmp(name, "gate.", 5))
                break;
            gs_bytes(&o, mod->bytes + start, r.pos - start);
            break;
        }
        default:     /* type, import, function, export: as they were */
            gs_bytes(&o, mod->bytes + start, r.pos - start);
            break;
        }
    }
    if (!elem_done)
        write_elems(&o, &b, inst, &ok);
    if (!data_done)
        write_data(&o, &b, inst, NULL, 0);
    /* gate.state */
    b.n = 0;
    gs_u32(&b, GS_VERSION);
    gs_u32(&b, inst->susp.active ? 1 : 0);
    gs_u32(&b, inst->susp.active ? inst->susp.entry_func : GATE_NO_FUNC);
    gs_u32(&b, inst->susp.reason);
    gs_u64(&b, rt_module_hash((gate_module *)mod));
    gs_u32(&b, inst->lim.max_memory_pages);
    gs_u64(&b, inst->lim.stack_size);
    gs_u32(&b, inst->lim.max_table_elems);
    gs_u32(&b, (inst->eng->cfg.fuel ? 1u : 0u) | (inst->eng->cfg.deterministic ? 2u : 0u));
    gs_u64(&b, inst->eng->cfg.fuel ? gate_get_fuel(inst) : UINT64_MAX);
    gs_u32(&b, inst->prog_ndata);
    gs_u32(&b, inst->prog_nelems);
    custom(&o, "gate.state", &b);
    /* gate.stack */
    b.n = 0;
    if (inst->susp.active && inst->susp.nframes > GS_MAX_FRAMES) {
        gs_free(&o);
        gs_free(&b);
        return gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                       "%u frames: a snapshot holds at most %u", inst->susp.nframes,
                       GS_MAX_FRAMES), GATE_ERR_LIMIT;
    }
    gs_u32(&b, inst->susp.active ? inst->susp.nframes : 0);
    size_t ntypes = 0;
    uint32_t badf;
    uint8_t *types = !inst->susp.active ? NULL
                   : gs_frame_types(mod, inst->susp.frames, inst->susp.nframes, &ntypes, &badf, err);
    if (inst->susp.active && !types)
        ok = false;
    for (uint32_t i = 0, at = 0; types && i < inst->susp.nframes && ok; i++) {
        const rt_frame *f = &inst->susp.frames[i];
        const uint8_t *t = types + at;
        at += f->nslots;
        /* offsets relative to the function body: the body bytes are the
           same in every module written from this one */
        gs_u32(&b, f->func);
        gs_u32(&b, (uint32_t)(f->wasm - m->funcs[f->func].body_off));
        gs_u32(&b, f->nslots);
        for (uint32_t k = 0; k < f->nslots; k++) {
            uint64_t v = f->slots[k];
            if (t[k] == GT_V128) {
                /* a v128's slots hold its high half first (slots go down
                   in the frame): the portable order is low, high */
                gs_u8(&b, GT_V128);
                gs_u64(&b, f->slots[k + 1]);
                gs_u8(&b, GT_V128);
                gs_u64(&b, v);
                k++;
                continue;
            }
            if (t[k] == GT_I32 || t[k] == GT_F32)
                v &= 0xffffffffu;
            else if (gt_is_ref(t[k]) && !ref_out(inst, t[k], v, &v))
                ok = false;
            gs_u8(&b, t[k]);
            gs_u64(&b, v);
        }
    }
    if (types)
        gx_free(&inst->eng->alloc, types, ntypes + 1);
    /* a pending host call: u8 kind, u32 callee, u32 count, typed values */
    const rt_susp *sp = &inst->susp;
    gs_u8(&b, sp->active ? sp->pending : 0);
    if (sp->active && sp->pending) {
        const gd_functype *ct = gd_func_type(m, sp->callee);
        const uint8_t *pt = sp->pending == RT_PENDING_RESTART ? ct->params : ct->results;
        gs_u32(&b, sp->callee);
        gs_u32(&b, sp->npend);
        for (uint32_t k = 0; k < sp->npend; k++) {
            uint64_t v = sp->pend[k];
            if (pt[k] == GT_I32 || pt[k] == GT_F32)
                v &= 0xffffffffu;
            else if (gt_is_ref(pt[k]) && !ref_out(inst, pt[k], v, &v))
                ok = false;
            gs_u8(&b, pt[k]);
            gs_u64(&b, v);
        }
    }
    custom(&o, "gate.stack", &b);
    if (inst->wasi) {
        b.n = 0;
        rt_wasi_save(inst->wasi, &b);
        custom(&o, "gate.wasi", &b);
    }
    /* gate.zygote: a zygote, and the preopen names its initialisation saw */
    if (inst->zygote) {
        b.n = 0;
        gs_u32(&b, inst->nzpre);
        for (uint32_t i = 0; i < inst->nzpre; i++) {
            gs_u32(&b, (uint32_t)strlen(inst->zpre[i]));
            gs_bytes(&b, inst->zpre[i], strlen(inst->zpre[i]));
        }
        custom(&o, "gate.zygote", &b);
    }
    /* gate.objects: the AOT objects the host named for this program */
    uint32_t nobj = 0;
    for (int t = 1; t <= 2; t++)
        nobj += inst->objname[t] != NULL;
    if (nobj) {
        b.n = 0;
        gs_u32(&b, nobj);
        for (int t = 1; t <= 2; t++)
            if (inst->objname[t]) {
                gs_u32(&b, (uint32_t)t);
                gs_u32(&b, (uint32_t)strlen(inst->objname[t]));
                gs_bytes(&b, inst->objname[t], strlen(inst->objname[t]));
            }
        custom(&o, "gate.objects", &b);
    }
    /* gate.checksum: xxh64 of everything before it */
    b.n = 0;
    gs_u64(&b, XXH3_64bits(o.p, o.n));
    custom(&o, "gate.checksum", &b);
    bool oom = o.oom || b.oom;
    gs_free(&b);
    if (!ok || oom) {
        gs_free(&o);
        if (err->status == GATE_OK)
            gx_fail(err, oom ? GATE_ERR_NOMEM : GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC, "%s",
                    oom ? "out of memory"
                        : "the state holds references that cannot move (host references or "
                          "another instance's functions)");
        return err->status;
    }
    /* what the reader decodes first must decode: a snapshot that could not
       be restored is never handed out as written (function bodies are the
       program's own, already validated, so decoding is the check) */
    gd_module chk;
    gate_error derr = { .status = GATE_OK };
    bool decodes = gd_decode(&chk, &inst->eng->alloc, o.p, o.n, &inst->eng->lim, &derr);
    gd_module_free(&chk);
    if (!decodes) {
        gs_free(&o);
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "this state cannot be saved as a snapshot that restores: %s", derr.message);
        return err->status;
    }
    *out = o.p;
    *out_len = o.n;
    return GATE_OK;
}

gate_status gate_snapshot_save(gate_instance *inst, const char *path, gate_error *err)
{
    uint8_t *buf;
    size_t len;
    gate_status st = gate_snapshot(inst, &buf, &len, err);
    if (st != GATE_OK)
        return st;
    if (err)
        err->status = GATE_OK;
    bool ok = gx_write_atomic(path, buf, len, err);
    gx_free(&inst->eng->alloc, buf, len);
    if (!ok)
        return err ? err->status : GATE_ERR_IO;
    return GATE_OK;
}

/* ---- reading ------------------------------------------------------------ */

static const gd_custom *find_custom(const gd_module *m, const char *name)
{
    for (uint32_t i = 0; i < m->ncustom; i++)
        if (!strcmp(m->custom[i].name, name))
            return &m->custom[i];
    return NULL;
}

bool gate_is_snapshot(const uint8_t *bytes, size_t len);
bool gate_is_snapshot(const uint8_t *bytes, size_t len)
{
    static const char tag[] = "\x0dgate.checksum";
    return len > 40 && memmem(bytes + len - 40 > bytes ? bytes + len - 40 : bytes, 40, tag,
                              sizeof tag - 1) != NULL;
}

/* Checks the trailing checksum section before anything else is parsed. */
static bool check_sum(const uint8_t *b, size_t len, gate_error *err)
{
    /* id 0, size 23 (1 + 13 + 8 + ...), name "gate.checksum", u64 */
    static const char name[] = "gate.checksum";
    size_t tail = 1 + 1 + 1 + 13 + 8;       /* id, size, name length, name, sum */
    if (len < 8 + tail || b[len - tail] != 0 || b[len - tail + 1] != 22 ||
        b[len - tail + 2] != 13 || memcmp(b + len - tail + 3, name, 13))
        return gx_fail(err, GATE_ERR_SNAPSHOT, len, GATE_NO_FUNC,
                       "not a snapshot, or truncated: no checksum section at the end");
    uint64_t sum;
    memcpy(&sum, b + len - 8, 8);
    if (sum != XXH3_64bits(b, len - tail))
        return gx_fail(err, GATE_ERR_SNAPSHOT, len - 8, GATE_NO_FUNC,
                       "checksum mismatch: the snapshot is corrupted");
    return true;
}

typedef struct rd {
    const uint8_t *p;
    size_t n, pos;
    bool bad;
} rd;

static uint32_t rd32(rd *r)
{
    uint32_t v = 0;
    if (r->n - r->pos < 4) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p + r->pos, 4);
    r->pos += 4;
    return v;
}

static uint64_t rd64(rd *r)
{
    uint64_t v = 0;
    if (r->n - r->pos < 8) {
        r->bad = true;
        return 0;
    }
    memcpy(&v, r->p + r->pos, 8);
    r->pos += 8;
    return v;
}

static uint8_t rd8(rd *r)
{
    if (r->pos >= r->n) {
        r->bad = true;
        return 0;
    }
    return r->p[r->pos++];
}

/*
 * Frame i's place in the chain, checked against the kind of safe point
 * the compiled code has there (never against a byte that only looks like
 * an opcode): every frame but the innermost is stopped at a call of a
 * defined function that is the next frame's function, or at a
 * call_indirect whose type is that function's, so parameters and results
 * agree in number and type; the innermost is stopped at a loop header or
 * its function's entry, or, with a pending host call, at a call of that
 * import (direct, or indirect with the import's type).
 */
static const char *const sp_kind_name[GC_SP_NKINDS] = {
    "a function entry", "a loop header", "a call", "a host call", "a call_indirect",
    "memory.grow"
};

static bool frame_link_ok(const gate_module *mod, const rt_susp *s, uint32_t i,
                          gate_error *err)
{
    const gd_module *m = &mod->info;
    const rt_frame *f = &s->frames[i];
    const gc_safepoint *sp = rt_safepoint_of(mod, f->func, f->wasm);
    err->status = GATE_OK;
    if (!sp || sp->nslots != f->nslots)
        return frame_fail(err, i, f, "no safe point with %u slots there", f->nslots);
    /* the call's immediate, read from the module where the map says a
       call instruction starts */
    uint32_t idx = UINT32_MAX;
    if (sp->kind == GC_SP_CALL || sp->kind == GC_SP_CALL_IMPORT ||
        sp->kind == GC_SP_CALL_INDIRECT) {
        gr_reader r = { .base = mod->bytes, .pos = f->wasm + 1, .end = mod->size, .err = err };
        uint8_t op = f->wasm < mod->size ? mod->bytes[f->wasm] : 0;
        if (op != (sp->kind == GC_SP_CALL_INDIRECT ? 0x11 : 0x10) || !gr_u32(&r, &idx))
            return frame_fail(err, i, f, "the code map and the module disagree");
    }
    const char *want;
    if (i + 1 == s->nframes && s->pending) {
        /* stopped at the call of the pending host function */
        if (sp->kind == GC_SP_CALL_IMPORT && idx == s->callee)
            return true;
        if (sp->kind == GC_SP_CALL_INDIRECT && idx < m->ntypes &&
            mod->sigids[idx] == mod->sigids[m->funcs[s->callee].type])
            return true;
        want = "a call of the pending host function";
    } else if (i + 1 == s->nframes) {
        if (sp->kind == GC_SP_ENTRY || sp->kind == GC_SP_LOOP)
            return true;
        want = "a loop header or its function's entry";
    } else {
        uint32_t callee = s->frames[i + 1].func;
        if (sp->kind == GC_SP_CALL && idx == callee)
            return true;
        if (sp->kind == GC_SP_CALL_INDIRECT && idx < m->ntypes &&
            mod->sigids[idx] == mod->sigids[m->funcs[callee].type])
            return true;
        want = "a call of the next frame's function";
    }
    return frame_fail(err, i, f, "stopped at %s, not at %s", sp_kind_name[sp->kind], want);
}

static const uint8_t *scan_custom(const uint8_t *b, size_t len, const char *name, size_t *n);

/*
 * gate.objects: u32 count, then per entry u32 target (1 x86-64, 2 ARM64),
 * u32 length, the name (no NUL, 1..4095 bytes).  Copies the name for
 * target t into buf; returns 1 found, 0 none, -1 malformed.
 */
static int object_name(const uint8_t *p, size_t n, gate_target t, char *buf, size_t cap)
{
    rd r = { p, n, 0, false };
    uint32_t count = rd32(&r);
    if (r.bad || count > 2)
        return -1;
    int found = 0;
    for (uint32_t i = 0; i < count; i++) {
        uint32_t target = rd32(&r), l = rd32(&r);
        if (r.bad || target < 1 || target > 2 || l == 0 || l > 4095 || l > r.n - r.pos ||
            memchr(r.p + r.pos, 0, l))
            return -1;
        if (target == (uint32_t)t && !found) {
            if (l >= cap)
                return -1;
            memcpy(buf, r.p + r.pos, l);
            buf[l] = 0;
            found = 1;
        }
        r.pos += l;
    }
    return r.pos == n ? found : -1;
}

gate_status gate_snapshot_object_name(const uint8_t *snap, size_t len, gate_target t,
                                      char *buf, size_t cap)
{
    if (!snap || !buf || !cap)
        return GATE_ERR_ARG;
    if (t == GATE_TARGET_HOST)
        t = (gate_target)RT_HOST_TARGET;
    size_t n;
    const uint8_t *p = scan_custom(snap, len, "gate.objects", &n);
    int r = p ? object_name(p, n, t, buf, cap) : 0;
    return r > 0 ? GATE_OK : r < 0 ? GATE_ERR_SNAPSHOT : GATE_ERR_NOT_FOUND;
}

gate_status gate_snapshot_name_object(gate_instance *inst, gate_target t, const char *name)
{
    if (t == GATE_TARGET_HOST)
        t = (gate_target)RT_HOST_TARGET;
    if (!inst || (t != GATE_TARGET_X86_64 && t != GATE_TARGET_ARM64) ||
        (name && (!*name || strlen(name) > 4095)))
        return GATE_ERR_ARG;
    char *copy = name ? strdup(name) : NULL;
    if (name && !copy)
        return GATE_ERR_NOMEM;
    free(inst->objname[t]);
    inst->objname[t] = copy;
    return GATE_OK;
}

gate_instance *gate_snapshot_restore(gate_engine *eng, const uint8_t *bytes, size_t len,
                                     gate_imports *imp, gate_error *err)
{
    return gate_snapshot_restore_code(eng, bytes, len, NULL, imp, NULL, err);
}

/* gate.state, parsed and checked (its layout: docs/snapshot-format.md) */
typedef struct gs_state {
    uint32_t suspended, entry, reason, modes, prog_ndata, prog_nelems;
    uint64_t hash, fuel_left;
    gate_limits lim;
} gs_state;

static bool state_read(const uint8_t *p, size_t n, gs_state *s)
{
    rd st = { p, n, 0, false };
    uint32_t version = rd32(&st);
    s->suspended = rd32(&st);
    s->entry = rd32(&st);
    s->reason = rd32(&st);
    s->hash = rd64(&st);
    s->lim.max_memory_pages = rd32(&st);
    s->lim.stack_size = rd64(&st);
    s->lim.max_table_elems = rd32(&st);
    s->modes = rd32(&st);
    s->fuel_left = rd64(&st);
    s->prog_ndata = rd32(&st);
    s->prog_nelems = rd32(&st);
    return !st.bad && st.pos == n && version == GS_VERSION && s->suspended <= 1 &&
           s->reason <= RT_STOP_FUEL && s->lim.max_memory_pages <= 65536 &&
           (s->lim.stack_size == 0 ||
            (s->lim.stack_size >= RT_STACK_MIN && s->lim.stack_size <= RT_STACK_MAX)) &&
           s->modes <= 3;
}

gate_status gate_snapshot_read_info(const uint8_t *bytes, size_t len, gate_snapshot_info *out,
                                    gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!bytes || !out) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "no snapshot");
        return GATE_ERR_ARG;
    }
    if (!check_sum(bytes, len, err))
        return GATE_ERR_SNAPSHOT;
    size_t n;
    const uint8_t *p = scan_custom(bytes, len, "gate.state", &n);
    gs_state s;
    if (!p || !state_read(p, n, &s)) {
        gx_fail(err, GATE_ERR_SNAPSHOT, p ? (uint64_t)(p - bytes) : UINT64_MAX, GATE_NO_FUNC,
                p ? "bad gate.state section (or a snapshot of another format version)"
                  : "no gate.state section");
        return GATE_ERR_SNAPSHOT;
    }
    memset(out, 0, sizeof *out);
    out->suspended = (int)s.suspended;
    out->lim = s.lim;
    out->fuel = (s.modes & 1) != 0;
    out->deterministic = (s.modes & 2) != 0;
    out->fuel_left = s.fuel_left;
    out->zygote = scan_custom(bytes, len, "gate.zygote", &n) != NULL;
    return GATE_OK;
}

/* The recorded limits, tightened by lim; false (GATE_ERR_ARG) to widen. */
static bool tighten(gate_limits *have, const gate_limits *lim, gate_error *err)
{
    if (!lim)
        return true;
    if (lim->max_memory_pages) {
        if (have->max_memory_pages && lim->max_memory_pages > have->max_memory_pages)
            return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                           "a memory limit of %u pages is wider than the snapshot's %u: "
                           "a restore can only tighten limits", lim->max_memory_pages,
                           have->max_memory_pages);
        have->max_memory_pages = lim->max_memory_pages;
    }
    if (lim->stack_size) {
        uint64_t cur = have->stack_size ? have->stack_size : RT_STACK_DEFAULT;
        if (lim->stack_size > cur)
            return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                           "a stack of %llu bytes is larger than the snapshot's %llu: "
                           "a restore can only tighten limits",
                           (unsigned long long)lim->stack_size, (unsigned long long)cur);
        have->stack_size = lim->stack_size;
    }
    if (lim->max_table_elems) {
        if (have->max_table_elems && lim->max_table_elems > have->max_table_elems)
            return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                           "a table limit of %u elements is wider than the snapshot's %u: "
                           "a restore can only tighten limits", lim->max_table_elems,
                           have->max_table_elems);
        have->max_table_elems = lim->max_table_elems;
    }
    return true;
}

gate_instance *gate_snapshot_restore_code(gate_engine *eng, const uint8_t *bytes, size_t len,
                                          const gate_module *code, gate_imports *imp,
                                          int *used, gate_error *err)
{
    return gate_snapshot_restore_limits(eng, bytes, len, code, imp, NULL, used, err);
}

gate_instance *gate_snapshot_restore_limits(gate_engine *eng, const uint8_t *bytes, size_t len,
                                            const gate_module *code, gate_imports *imp,
                                            const gate_limits *lim, int *used, gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (used)
        *used = 0;
    if (!check_sum(bytes, len, err))
        return NULL;
    bool shared = false;
    gate_module *mod = rt_module_new(eng, bytes, len, code, &shared, err);
    if (!mod)
        return NULL;
    if (used)
        *used = shared;
    const gd_module *m = &mod->info;
    const gd_custom *cs = find_custom(m, "gate.state"), *ck = find_custom(m, "gate.stack");
    if (!cs || !ck) {
        gx_fail(err, GATE_ERR_SNAPSHOT, UINT64_MAX, GATE_NO_FUNC,
                "a gate.state or gate.stack section is missing");
        gate_module_free(mod);
        return NULL;
    }
    gs_state gst;
    if (!state_read(mod->bytes + cs->off, cs->len, &gst) ||
        (gst.suspended && (gst.entry >= m->nfuncs || gst.entry < m->nfunc_imports))) {
        gx_fail(err, GATE_ERR_SNAPSHOT, cs->off, GATE_NO_FUNC,
                "bad gate.state section (or a snapshot of another format version)");
        gate_module_free(mod);
        return NULL;
    }
    /* the program's own segments come first; the rest are the memory and
       tables the snapshot carries (active segments), dropped by the next
       snapshot */
    bool segs = gst.prog_ndata <= m->ndata && gst.prog_nelems <= m->nelems;
    for (uint32_t d = gst.prog_ndata; segs && d < m->ndata; d++)
        segs = m->data[d].mode == GD_SEG_ACTIVE;
    for (uint32_t e = gst.prog_nelems; segs && e < m->nelems; e++)
        segs = m->elems[e].mode == GD_SEG_ACTIVE;
    if (!segs) {
        gx_fail(err, GATE_ERR_SNAPSHOT, cs->off, GATE_NO_FUNC,
                "gate.state: the program's segment counts do not fit the module");
        gate_module_free(mod);
        return NULL;
    }
    uint32_t suspended = gst.suspended, entry = gst.entry, reason = gst.reason;
    gate_limits have = gst.lim;
    if (!tighten(&have, lim, err)) {
        gate_module_free(mod);
        return NULL;
    }
    if (m->nmems && have.max_memory_pages && m->mems[0].lim.min > have.max_memory_pages) {
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "the program's memory has %llu pages, more than the limit of %u",
                (unsigned long long)m->mems[0].lim.min, have.max_memory_pages);
        gate_module_free(mod);
        return NULL;
    }
    gate_instance *inst = gate_instance_new(mod, imp, &have, err);
    gate_module_free(mod);          /* the instance holds it */
    if (!inst)
        return NULL;
    inst->prog_ndata = gst.prog_ndata;
    inst->prog_nelems = gst.prog_nelems;
    /* the objects it names stay named in the snapshots it makes */
    const gd_custom *co = find_custom(m, "gate.objects");
    for (int t = 1; co && t <= 2; t++) {
        char name[4096];
        int r = object_name(mod->bytes + co->off, co->len, (gate_target)t, name, sizeof name);
        if (r < 0) {
            gx_fail(err, GATE_ERR_SNAPSHOT, co->off, GATE_NO_FUNC, "bad gate.objects section");
            gate_instance_free(inst);
            return NULL;
        }
        if (r > 0 && gate_snapshot_name_object(inst, (gate_target)t, name) != GATE_OK) {
            gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
            gate_instance_free(inst);
            return NULL;
        }
    }
    /* a zygote's: the preopen names its initialisation saw, which the
       imports of a child must grant (a zygote keeps them) */
    const gd_custom *cz = find_custom(m, "gate.zygote");
    if (cz) {
        rd z = { mod->bytes + cz->off, cz->len, 0, false };
        uint32_t nz = rd32(&z);
        bool ok = !z.bad && nz <= 4096;
        char **names = ok ? gx_malloc(&eng->alloc, (nz + 1) * sizeof *names) : NULL;
        uint32_t k = 0;
        for (; names && k < nz; k++) {
            uint32_t nl = rd32(&z);
            if (z.bad || nl == 0 || nl > 4096 || nl > z.n - z.pos ||
                memchr(z.p + z.pos, 0, nl) || !(names[k] = gx_malloc(&eng->alloc, nl + 1)))
                break;
            memcpy(names[k], z.p + z.pos, nl);
            names[k][nl] = 0;
            z.pos += nl;
        }
        if (!names || k < nz || z.bad || z.pos != z.n) {
            rt_zygote_names_free(eng, names, k, nz);
            gx_fail(err, GATE_ERR_SNAPSHOT, cz->off + (names ? z.pos : 0), GATE_NO_FUNC,
                    "bad gate.zygote section");
            gate_instance_free(inst);
            return NULL;
        }
        inst->zpre = names;
        inst->nzpre = nz;
        if (inst->wasi) {           /* a child: checked, then forgotten */
            ok = rt_zygote_check_preopens(names, nz, inst, err);
            rt_zygote_names_free(eng, names, nz, nz);
            inst->zpre = NULL;
            inst->nzpre = 0;
            if (!ok) {
                gate_instance_free(inst);
                return NULL;
            }
        }
    }
    if (!suspended)
        return inst;
    /* the portable stack, checked frame by frame */
    rd r = { mod->bytes + ck->off, ck->len, 0, false };
    uint32_t n = rd32(&r);
    rt_susp s = { 0 };
    gx_alloc *a = &eng->alloc;
    if (r.bad || n == 0 || n > GS_MAX_FRAMES || (uint64_t)n * 12 > ck->len) {
        gx_fail(err, GATE_ERR_SNAPSHOT, ck->off, GATE_NO_FUNC, "bad frame count in gate.stack");
        goto fail;
    }
    s.frames = gx_malloc(a, (size_t)n * sizeof *s.frames + 1);
    if (!s.frames)
        goto nomem;
    memset(s.frames, 0, (size_t)n * sizeof *s.frames);
    s.nframes = n;
    for (uint32_t i = 0; i < n; i++) {
        rt_frame *f = &s.frames[i];
        uint64_t at = ck->off + r.pos;
        f->func = rd32(&r);
        uint32_t rel = rd32(&r);
        f->nslots = rd32(&r);
        if (r.bad || f->func < m->nfunc_imports || f->func >= m->nfuncs ||
            rel >= m->funcs[f->func].body_len || f->nslots > (r.n - r.pos) / 9) {
            gx_fail(err, GATE_ERR_SNAPSHOT, at, GATE_NO_FUNC, "frame %u: bad header", i);
            goto fail;
        }
        f->wasm = (uint32_t)(m->funcs[f->func].body_off + rel);
        /* the outermost frame is the entry function; each caller is stopped
           at a call; the innermost at a loop or the function's entry */
        if (i == 0 && f->func != entry) {
            frame_fail(err, i, f, "the outermost frame is not the called function %u", entry);
            goto fail;
        }
        f->slots = gx_malloc(a, (size_t)f->nslots * 8 + 8);
        if (!f->slots)
            goto nomem;
        /* the values are read below, once every frame's types are known */
        f->slots[0] = r.pos;
        r.pos += (size_t)f->nslots * 9;
    }
    {
        /* the slot types of every frame, one walk per function */
        size_t ntypes;
        uint32_t badf;
        uint8_t *types = gs_frame_types(mod, s.frames, n, &ntypes, &badf, err);
        if (!types)
            goto fail;
        size_t end = r.pos, at = 0;
        for (uint32_t i = 0; i < n; i++) {
            rt_frame *f = &s.frames[i];
            const uint8_t *want = types + at;
            at += f->nslots;
            r.pos = f->nslots ? (size_t)f->slots[0] : r.pos;
            for (uint32_t k = 0; k < f->nslots; k++) {
                uint8_t t = rd8(&r);
                uint64_t v = rd64(&r);
                bool good = t == want[k];
                if (good && (t == GT_I32 || t == GT_F32))
                    good = v <= UINT32_MAX;
                if (good && t == GT_EXTERNREF)
                    good = v == 0;               /* host references do not move */
                if (good && t == GT_FUNCREF) {
                    good = v <= m->nfuncs;
                    v = good && v ? (uint64_t)(uintptr_t)inst->funcs[v - 1] : 0;
                }
                uint64_t hi = 0;
                if (good && t == GT_V128) {
                    /* low half first in the file, high half first in a frame */
                    good = k + 1 < f->nslots && want[k + 1] == GT_V128 && rd8(&r) == GT_V128;
                    hi = rd64(&r);
                }
                if (!good) {
                    frame_fail(err, i, f, "slot %u: value does not fit its type", k);
                    gx_free(a, types, ntypes + 1);
                    goto fail;
                }
                if (t == GT_V128) {
                    f->slots[k] = hi;
                    f->slots[++k] = v;
                    continue;
                }
                f->slots[k] = v;
            }
        }
        gx_free(a, types, ntypes + 1);
        r.pos = end;
    }
    s.pending = rd8(&r);
    if (s.pending > RT_PENDING_RESTART) {
        gx_fail(err, GATE_ERR_SNAPSHOT, ck->off + r.pos, GATE_NO_FUNC, "bad pending call kind");
        goto fail;
    }
    if (s.pending) {
        s.callee = rd32(&r);
        s.npend = rd32(&r);
        const gd_functype *ct = !r.bad && s.callee < m->nfunc_imports ? gd_func_type(m, s.callee)
                                                                       : NULL;
        const uint8_t *pt = !ct ? NULL : s.pending == RT_PENDING_RESTART ? ct->params : ct->results;
        uint32_t want = !ct ? UINT32_MAX : s.pending == RT_PENDING_RESTART ? ct->nparams
                                                                           : ct->nresults;
        if (!ct || s.npend != want || s.npend > 64) {
            gx_fail(err, GATE_ERR_SNAPSHOT, ck->off + r.pos, GATE_NO_FUNC,
                    "the pending call does not match an imported function");
            goto fail;
        }
        for (uint32_t k = 0; k < s.npend; k++) {
            uint8_t t = rd8(&r);
            uint64_t v = rd64(&r);
            bool good = !r.bad && t == pt[k];
            if (good && (t == GT_I32 || t == GT_F32))
                good = v <= UINT32_MAX;
            if (good && t == GT_EXTERNREF)
                good = v == 0;
            if (good && t == GT_FUNCREF) {
                good = v <= m->nfuncs;
                v = good && v ? (uint64_t)(uintptr_t)inst->funcs[v - 1] : 0;
            }
            if (!good) {
                gx_fail(err, GATE_ERR_SNAPSHOT, ck->off + r.pos - 9, GATE_NO_FUNC,
                        "pending value %u does not fit its type", k);
                goto fail;
            }
            s.pend[k] = v;
        }
    }
    for (uint32_t i = 0; i < n; i++)
        if (!frame_link_ok(mod, &s, i, err))
            goto fail;
    if (r.pos != r.n) {
        gx_fail(err, GATE_ERR_SNAPSHOT, ck->off + r.pos, GATE_NO_FUNC,
                "bytes left over in gate.stack");
        goto fail;
    }
    s.active = true;
    s.entry_func = entry;
    s.reason = reason;
    inst->susp = s;
    return inst;
nomem:
    gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
fail:
    rt_susp_free(inst, &s);
    gate_instance_free(inst);
    return NULL;
}

/* The payload of custom section `name`, by a scan of section headers only. */
static const uint8_t *scan_custom(const uint8_t *b, size_t len, const char *name, size_t *n)
{
    gate_error scratch = { 0 };
    gr_reader r = { .base = b, .pos = 8, .end = len, .err = &scratch };
    if (len < 8 || memcmp(b, "\0asm", 4))
        return NULL;
    while (r.pos < r.end) {
        uint8_t id;
        uint32_t sz;
        if (!gr_byte(&r, &id) || !gr_u32(&r, &sz) || sz > r.end - r.pos)
            return NULL;
        size_t end = r.pos + sz;
        if (id == 0) {
            gr_reader c = r;
            c.end = end;
            const uint8_t *nm;
            uint32_t nl;
            if (gr_name(&c, &nm, &nl) && nl == strlen(name) && !memcmp(nm, name, nl)) {
                *n = end - c.pos;
                return b + c.pos;
            }
        }
        r.pos = end;
    }
    return NULL;
}

gate_status gate_imports_wasi_from_snapshot(gate_imports *imp, const uint8_t *snap, size_t len,
                                            const gate_wasi_grants *grants, gate_error *err)
{
    size_t n;
    if (grants && grants->ndirs && (!grants->dir_host || !grants->dir_guest || grants->ndirs < 0)) {
        if (err) {
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "grants without directories");
        }
        return GATE_ERR_ARG;
    }
    const uint8_t *p = scan_custom(snap, len, "gate.wasi", &n);
    if (!p) {
        if (err) {
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_NOT_FOUND, UINT64_MAX, GATE_NO_FUNC,
                    "the snapshot has no WASI state");
        }
        return GATE_ERR_NOT_FOUND;
    }
    return rt_wasi_restore(imp, p, n, grants, err);
}

bool gs_describe(FILE *out, const gate_module *mod)
{
    const gd_module *m = &mod->info;
    const gd_custom *cs = find_custom(m, "gate.state"), *ck = find_custom(m, "gate.stack");
    if (!cs || !ck)
        return false;
    gs_state gst;
    if (!state_read(mod->bytes + cs->off, cs->len, &gst)) {
        fprintf(out, "snapshot of another format version, or a bad gate.state section\n");
        return true;
    }
    uint32_t suspended = gst.suspended, entry = gst.entry, reason = gst.reason;
    uint64_t orig = gst.hash;
    fprintf(out, "snapshot version %u, %s", GS_VERSION, suspended ? "suspended" : "idle");
    if (suspended) {
        const char *nm = entry < m->nfuncs ? gd_func_name(m, entry) : NULL;
        fprintf(out, " in a call of func %u%s%s%s (%s)", entry, nm ? " <" : "", nm ? nm : "",
                nm ? ">" : "", reason == RT_STOP_FUEL ? "out of fuel" : "stop requested");
    }
    fprintf(out, "\noriginal module xxh64:%016llx\n", (unsigned long long)orig);
    fprintf(out, "limits: memory ");
    if (gst.lim.max_memory_pages)
        fprintf(out, "%u pages", gst.lim.max_memory_pages);
    else
        fprintf(out, "the module's maximum");
    fprintf(out, ", stack %llu KiB, tables ", (unsigned long long)(gst.lim.stack_size ? gst.lim.stack_size
                                                                 : RT_STACK_DEFAULT) >> 10);
    if (gst.lim.max_table_elems)
        fprintf(out, "%u elements", gst.lim.max_table_elems);
    else
        fprintf(out, "the default");
    fprintf(out, "; fuel metering %s", gst.modes & 1 ? "on" : "off");
    if ((gst.modes & 1) && gst.fuel_left != UINT64_MAX)
        fprintf(out, " (%llu left)", (unsigned long long)gst.fuel_left);
    fprintf(out, "; NaNs %s\n", gst.modes & 2 ? "canonical (deterministic)" : "as the CPU makes them");
    const gd_custom *cw = find_custom(m, "gate.wasi");
    if (cw)
        rt_wasi_describe(out, mod->bytes + cw->off, cw->len);
    const gd_custom *cz = find_custom(m, "gate.zygote");
    if (cz) {
        /* a zygote: the preopen names its initialisation saw (checked as
           restore checks them; a bad section is only mentioned here) */
        rd z = { mod->bytes + cz->off, cz->len, 0, false };
        uint32_t nz = rd32(&z);
        fprintf(out, "a zygote (gate run --fork); its children must be granted %s", nz ? "" : "no preopen");
        for (uint32_t k = 0; k < nz && k < 4096 && !z.bad; k++) {
            uint32_t nl = rd32(&z);
            if (z.bad || nl > z.n - z.pos)
                break;
            fprintf(out, "%s--dir HOST::%.*s", k ? ", " : "", (int)nl, (const char *)z.p + z.pos);
            z.pos += nl;
        }
        fprintf(out, "%s\n", z.bad ? " (a bad gate.zygote section)" : "");
    }
    const gd_custom *co = find_custom(m, "gate.objects");
    for (int t = 1; co && t <= 2; t++) {
        char name[4096];
        if (object_name(mod->bytes + co->off, co->len, (gate_target)t, name, sizeof name) > 0)
            fprintf(out, "object for %s: %s (used only when named with --object)\n",
                    t == GATE_TARGET_ARM64 ? "arm64" : "x86_64", name);
    }
    if (m->nmems)
        fprintf(out, "memory %llu pages (%llu KiB)\n", (unsigned long long)m->mems[0].lim.min,
                (unsigned long long)m->mems[0].lim.min * 64);
    rd r = { mod->bytes + ck->off, ck->len, 0, false };
    uint32_t n = rd32(&r);
    fprintf(out, "stack %u frame(s), innermost first:\n", n);
    /* collect frame starts, then print from the innermost */
    size_t *starts = gx_malloc(&mod->eng->alloc, (size_t)n * sizeof *starts + 1);
    if (!starts)
        return true;
    for (uint32_t i = 0; i < n && !r.bad; i++) {
        starts[i] = r.pos;
        rd32(&r);
        rd32(&r);
        uint32_t ns = rd32(&r);
        if (ns > (r.n - r.pos) / 9)
            r.bad = true;
        else
            r.pos += (size_t)ns * 9;
    }
    for (uint32_t i = n; i-- > 0 && !r.bad;) {
        rd f = { r.p, r.n, starts[i], false };
        uint32_t func = rd32(&f), rel = rd32(&f), ns = rd32(&f);
        const char *nm = func < m->nfuncs ? gd_func_name(m, func) : NULL;
        fprintf(out, "  #%u func %u%s%s%s +0x%x:", n - 1 - i, func, nm ? " <" : "", nm ? nm : "",
                nm ? ">" : "", rel);
        for (uint32_t k = 0; k < ns; k++) {
            uint8_t t = rd8(&f);
            uint64_t v = rd64(&f);
            switch (t) {
            case GT_I32: fprintf(out, " i32:%d", (int32_t)(uint32_t)v); break;
            case GT_I64: fprintf(out, " i64:%lld", (long long)v); break;
            case GT_F32: { float x; uint32_t b32 = (uint32_t)v; memcpy(&x, &b32, 4);
                           fprintf(out, " f32:%g", (double)x); break; }
            case GT_F64: { double x; memcpy(&x, &v, 8); fprintf(out, " f64:%g", x); break; }
            case GT_FUNCREF: fprintf(out, v ? " funcref:%llu" : " funcref:null",
                                     (unsigned long long)(v - 1)); break;
            case GT_V128: {
                /* two slots, low half first: shown as i32x4 */
                uint64_t hi = 0;
                if (k + 1 < ns && rd8(&f) == GT_V128)
                    hi = rd64(&f), k++;
                fprintf(out, " v128:i32x4:0x%08x,0x%08x,0x%08x,0x%08x", (uint32_t)v,
                        (uint32_t)(v >> 32), (uint32_t)hi, (uint32_t)(hi >> 32));
                break;
            }
            default: fprintf(out, " externref:null"); break;
            }
        }
        fputc('\n', out);
    }
    gx_free(&mod->eng->alloc, starts, (size_t)n * sizeof *starts + 1);
    uint8_t pending = rd8(&r);
    if (!r.bad && pending) {
        uint32_t callee = rd32(&r), np = rd32(&r);
        const char *nm = callee < m->nfuncs ? gd_func_name(m, callee) : NULL;
        fprintf(out, "pending host call: func %u%s%s%s, %s with %u value(s)\n", callee,
                nm ? " <" : "", nm ? nm : "", nm ? ">" : "",
                pending == RT_PENDING_RESTART ? "called again on resume" : "its results delivered",
                np);
    }
    return true;
}
