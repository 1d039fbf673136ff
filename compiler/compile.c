/*
 * compile.c - the target-independent single-pass driver.  It walks every
 * function body once with the validator iterator and hands each
 * instruction, already checked and typed, to the backend.
 */
#include <string.h>
#include <sys/mman.h>

#include "backend.h"

static bool grow_array(gc_ctx *c, void **p, uint32_t *cap, uint32_t n, size_t each)
{
    if (n < *cap)
        return true;
    uint32_t ncap = *cap ? *cap * 2 : 256;
    void *np = gx_realloc(&c->alloc, *p, (size_t)*cap * each, (size_t)ncap * each);
    if (!np)
        return gx_fail(c->err, GATE_ERR_NOMEM, UINT64_MAX, c->func, "out of memory");
    *p = np;
    *cap = ncap;
    return true;
}

bool gc_add_safepoint_slow(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t nslots,
                           uint32_t kind)
{
    gc_code *o = c->out;
    if (!grow_array(c, (void **)&o->sp, &o->capsp, o->nsp, sizeof *o->sp))
        return false;
    o->sp[o->nsp++] = (gc_safepoint){ native, c->func, wasm, nslots, kind };
    return true;
}

bool gc_add_trap_slow(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t code)
{
    gc_code *o = c->out;
    if (!grow_array(c, (void **)&o->traps, &o->captraps, o->ntraps, sizeof *o->traps))
        return false;
    o->traps[o->ntraps++] = (gc_trapsite){ native, c->func, wasm, code };
    return true;
}

bool gc_add_call(gc_ctx *c, size_t at, uint32_t func)
{
    if (!grow_array(c, (void **)&c->calls, &c->capcalls, c->ncalls, sizeof *c->calls))
        return false;
    c->calls[c->ncalls++] = (gc_reloc){ at, func };
    return true;
}

/* Trap sites are added in code order, so the table is sorted by offset. */
const gc_trapsite *gc_find_trap(const gc_code *code, uint32_t native)
{
    uint32_t lo = 0, hi = code->ntraps;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (code->traps[mid].native < native)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < code->ntraps && code->traps[lo].native == native ? &code->traps[lo] : NULL;
}

/* Safe points are added in code order too: the first at or after native. */
uint32_t gc_safepoint_from(const gc_code *code, uint32_t native)
{
    uint32_t lo = 0, hi = code->nsp;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (code->sp[mid].native < native)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

const gc_safepoint *gc_find_safepoint(const gc_code *code, uint32_t native)
{
    uint32_t i = gc_safepoint_from(code, native);
    return i < code->nsp && code->sp[i].native == native ? &code->sp[i] : NULL;
}

uint32_t gd_func_at(const gd_module *m, uint64_t off)
{
    uint32_t lo = m->nfunc_imports, hi = m->nfuncs;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (m->funcs[mid].body_off + m->funcs[mid].body_len <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nfuncs && off >= m->funcs[lo].body_off ? lo : GATE_NO_FUNC;
}

bool gc_compile(const gd_module *m, const gc_backend *be, const gx_alloc *a,
                const gd_limits_cfg *lim, const gc_options *opt, gc_code *out,
                gate_error *err)
{
    memset(out, 0, sizeof *out);
    out->alloc = *a;
    gc_ctx c = { .m = m, .alloc = *a, .lim = *lim, .err = err, .out = out,
                 .explicit_bounds = opt && opt->explicit_bounds,
                 .fuel = opt && opt->fuel,
                 .no_loop_checks = opt && opt->no_loop_checks,
                 .deterministic = opt && opt->deterministic,
                 .cpu_features = opt ? opt->cpu_features : -1 };
    if (opt && opt->map_code) {
        /* about two bytes of x86-64 per byte of wasm code, to start with */
        size_t wasm = 0;
        if (m->nfuncs > m->nfunc_imports)
            wasm = m->funcs[m->nfuncs - 1].body_off + m->funcs[m->nfuncs - 1].body_len -
                   m->funcs[m->nfunc_imports].body_off;
        if (!gc_init_mapped(&c.buf, a, 2 * wasm + 65536))
            return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot map code");
    } else
        gc_init(&c.buf, a);
    out->nfuncs = m->nfuncs - m->nfunc_imports;
    out->func_off = gx_malloc(a, (size_t)out->nfuncs * 4 + 4);
    out->func_frame = gx_malloc(a, (size_t)out->nfuncs * 4 + 4);
    if (!out->func_off || !out->func_frame) {
        gc_release(&c.buf);
        gc_code_free(out);
        return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
    }
    bool ok = be->begin_module(&c);
    /* one validator walks every function: its stacks are reused */
    gv_func v;
    bool v_live = false;
    for (uint32_t f = m->nfunc_imports; ok && f < m->nfuncs; f++) {
        gv_insn ins;
        int st = 1;
        c.func = f;
        c.far_branches = false;
        size_t at = c.buf.n;
        uint32_t nsp = out->nsp, ntraps = out->ntraps, ncalls = c.ncalls;
    again:
        if (!(v_live ? gv_restart(&v, f) : gv_begin(&v, m, a, lim, f, err))) {
            ok = false;
            break;
        }
        v_live = true;
        out->func_off[f - m->nfunc_imports] = (uint32_t)at;
        c.locals = v.locals;
        c.nlocals = v.nlocals;
        ok = be->begin_func(&c);
        while (ok && (st = gv_next(&v, &ins)) > 0)
            ok = be->lower(&c, &ins);
        if (ok && st < 0)
            ok = false;
        c.maxvals = v.maxvals;
        if (ok)
            ok = be->end_func(&c);
        if (!ok && c.retry_far && !c.far_branches) {
            /* a branch did not reach: the function again, with long branches */
            c.retry_far = false;
            c.far_branches = true;
            c.buf.n = at;
            out->nsp = nsp;
            out->ntraps = ntraps;
            c.ncalls = ncalls;
            ok = true;
            goto again;
        }
        if (!ok && c.retry_far)
            ok = gx_fail(err, GATE_ERR_LIMIT, m->funcs[f].body_off, f, "function too large");
    }
    if (v_live)
        gv_end(&v);
    for (uint32_t i = 0; ok && i < c.ncalls; i++)
        ok = be->patch_call(&c, c.calls[i].at, out->func_off[c.calls[i].func - m->nfunc_imports]);
    gx_free(a, c.calls, (size_t)c.capcalls * sizeof *c.calls);
    be->free_module(&c);
    if (ok && c.buf.mapped) {
        /* give back the unused tail of the mapping */
        size_t keep = (c.buf.n + 4095) & ~(size_t)4095;
        if (keep == 0)
            keep = 4096;
        if (keep < c.buf.cap && munmap(c.buf.p + keep, c.buf.cap - keep) == 0)
            c.buf.cap = keep;
    }
    out->code = c.buf.p;
    out->size = c.buf.n;
    out->cap = c.buf.cap;
    out->mapped = c.buf.mapped;
    if (!ok) {
        gc_code_free(out);
        return false;
    }
    return true;
}

void gc_code_free(gc_code *out)
{
    if (out->mapped) {
        if (out->code)
            munmap(out->code, out->cap);
    } else
        gx_free(&out->alloc, out->code, out->cap);
    gx_free(&out->alloc, out->func_off, (size_t)out->nfuncs * 4 + 4);
    gx_free(&out->alloc, out->func_frame, (size_t)out->nfuncs * 4 + 4);
    gx_free(&out->alloc, out->sp, (size_t)out->capsp * sizeof *out->sp);
    gx_free(&out->alloc, out->traps, (size_t)out->captraps * sizeof *out->traps);
    memset(out, 0, sizeof *out);
}
