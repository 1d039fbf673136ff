/*
 * instance.c - imports, linking, instantiation, and calls into compiled
 * code.
 *
 * Linear memory is a reservation of 8 GiB + 64 KiB, inaccessible past the
 * current size: a 32-bit address plus a 32-bit offset plus the access
 * width always lands inside it, so compiled code needs no bounds checks.
 * Wasm runs on a per-thread stack with a guard region below it; the
 * function prologue's stack check keeps a margin above the guard for
 * runtime helpers and host functions.
 */
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "runtime.h"


/* gcc says __SANITIZE_ADDRESS__, clang (the fuzzers) __has_feature */
#if defined(__SANITIZE_ADDRESS__)
#define RT_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define RT_ASAN 1
#endif
#endif
#if defined(RT_ASAN)
#include <sanitizer/asan_interface.h>
/* A trap, exit or stop leaves C frames (helpers, host functions) on the
   wasm stack without returning: clear the poison ASan left for them,
   after such an end and before the stack is taken again from the host. */
static void stack_unpoison(uint8_t *stack, size_t size)
{
    __asan_unpoison_memory_region(stack, size);
}
#else
static void stack_unpoison(uint8_t *stack, size_t size)
{
    (void)stack;
    (void)size;
}
#endif

#define MEM_RESERVE ((size_t)8 << 30 | (size_t)64 << 10)
#define STACK_SIZE RT_STACK_DEFAULT
#define STACK_MIN RT_STACK_MIN
#define STACK_MAX RT_STACK_MAX
#define STACK_GUARD RT_STACK_GUARD
#define STACK_MARGIN ((size_t)256 << 10)

static _Thread_local uint8_t *tls_stack;
static _Thread_local size_t tls_stack_size;
_Thread_local const rt_proc_hooks *rt_next_hooks;
_Thread_local void *rt_next_hooks_ud;
_Thread_local const rt_stack *rt_stack_override;

/* The size of the stack thread_stack returned (a world process's own, or
   the thread's). */
static size_t stack_size_of(void)
{
    return rt_stack_override ? rt_stack_override->size : tls_stack_size;
}

static void err_set(gate_error *err, gate_status st, const char *fmt, const char *a,
                    const char *b)
{
    if (err) {
        err->status = GATE_OK;
        gx_fail(err, st, UINT64_MAX, GATE_NO_FUNC, fmt, a, b);
    }
}

/* ---- imports ------------------------------------------------------------- */

gate_imports *gate_imports_new(gate_engine *eng)
{
    gate_imports *imp = gx_malloc(&eng->alloc, sizeof *imp);
    if (imp)
        memset(imp, 0, sizeof *imp), imp->eng = eng;
    return imp;
}

static char *dup_str(gate_engine *eng, const char *s)
{
    size_t n = strlen(s) + 1;
    char *p = gx_malloc(&eng->alloc, n);
    if (p)
        memcpy(p, s, n);
    return p;
}

void gate_imports_free(gate_imports *imp)
{
    if (!imp)
        return;
    gx_alloc *a = &imp->eng->alloc;
    for (uint32_t i = 0; i < imp->n; i++) {
        rt_import *it = &imp->items[i];
        gx_free(a, it->module, strlen(it->module) + 1);
        if (it->name)
            gx_free(a, it->name, strlen(it->name) + 1);
        if (it->host && !it->borrowed) {
            if (it->host->sig)
                gx_free(a, it->host->sig, strlen(it->host->sig) + 1);
            gx_free(a, it->host, sizeof *it->host);
        }
    }
    gx_free(a, imp->items, (size_t)imp->cap * sizeof *imp->items);
    gx_free(a, imp->fallback, sizeof *imp->fallback);
    for (uint32_t i = 0; i < imp->nowned; i++)
        if (imp->owned_free[i])
            imp->owned_free[i](imp->owned[i]);
    gx_free(a, imp, sizeof *imp);
}

static rt_import *add_import(gate_imports *imp, const char *module, const char *name)
{
    if (imp->n == imp->cap) {
        uint32_t cap = imp->cap ? imp->cap * 2 : 8;
        rt_import *n = gx_realloc(&imp->eng->alloc, imp->items, (size_t)imp->cap * sizeof *n,
                                  (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        imp->items = n;
        imp->cap = cap;
    }
    rt_import *it = &imp->items[imp->n];
    memset(it, 0, sizeof *it);
    it->module = dup_str(imp->eng, module);
    it->name = name ? dup_str(imp->eng, name) : NULL;
    if (!it->module || (name && !it->name))
        return NULL;
    imp->n++;
    return it;
}

gate_status gate_imports_instance(gate_imports *imp, const char *module_name,
                                  gate_instance *inst, gate_error *err)
{
    if (inst && inst->zygote) {
        err_set(err, GATE_ERR_STATE, "a zygote's exports cannot be imported: it does not run"
                "%s%s", "", "");
        return GATE_ERR_STATE;
    }
    rt_import *it = add_import(imp, module_name, NULL);
    if (!it) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    it->kind = 255;
    it->inst = inst;
    return GATE_OK;
}

/* "R(P...)": i I f F, e externref, r funcref, v no result; a leading '*'
   in the parameters marks a gate_call_ctx* first argument (libffi only) */
static bool parse_sig(rt_host *h, const char *sig)
{
    const char *p = sig;
    h->with_ctx = false;
    uint32_t n = 0;
    uint8_t res[32], par[32];
    uint32_t nr = 0, np = 0;
    for (; *p && *p != '('; p++) {
        uint8_t t = *p == 'i' ? GT_I32 : *p == 'I' ? GT_I64 : *p == 'f' ? GT_F32
                  : *p == 'F' ? GT_F64 : *p == 'e' ? GT_EXTERNREF : *p == 'r' ? GT_FUNCREF : 0;
        if (*p == 'v')
            continue;
        if (!t || nr >= 32)
            return false;
        res[nr++] = t;
    }
    if (*p++ != '(')
        return false;
    if (*p == '*') {
        h->with_ctx = true;
        p++;
    }
    for (; *p && *p != ')'; p++) {
        uint8_t t = *p == 'i' ? GT_I32 : *p == 'I' ? GT_I64 : *p == 'f' ? GT_F32
                  : *p == 'F' ? GT_F64 : *p == 'e' ? GT_EXTERNREF : *p == 'r' ? GT_FUNCREF : 0;
        if (!t || np >= 32)
            return false;
        par[np++] = t;
    }
    if (*p != ')' || p[1])
        return false;
    memcpy(h->types, par, np);
    memcpy(h->types + np, res, nr);
    n = np + nr;
    (void)n;
    h->type.nparams = np;
    h->type.params = h->types;
    h->type.nresults = nr;
    h->type.results = h->types + np;
    return true;
}

/* Registers host record h (signature parsed or to parse) as module.name. */
static gate_status add_host(gate_imports *imp, const char *module, const char *name,
                            const char *sig, rt_host *h, gate_raw_fn fn, void *ud,
                            gate_error *err)
{
    h->fn = fn;
    h->ud = ud;
    h->sig = dup_str(imp->eng, sig);
    rt_import *it = h->sig ? add_import(imp, module, name) : NULL;
    if (!it) {
        if (h->sig)
            gx_free(&imp->eng->alloc, h->sig, strlen(h->sig) + 1);
        gx_free(&imp->eng->alloc, h, sizeof *h);
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    it->kind = GATE_EXTERN_FUNC;
    it->host = h;
    it->fr.code = RT_HOST_STUB;
    it->fr.vm = h;
    it->fr.sig = rt_sig_id(imp->eng, &h->type);
    return GATE_OK;
}

gate_status gate_imports_func_raw(gate_imports *imp, const char *module, const char *name,
                                  const char *sig, gate_raw_fn fn, void *ud, gate_error *err)
{
    rt_host *h = gx_malloc(&imp->eng->alloc, sizeof *h);
    if (!h) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    if (!fn || !parse_sig(h, sig) || h->with_ctx) {
        gx_free(&imp->eng->alloc, h, sizeof *h);
        err_set(err, GATE_ERR_ARG, "bad signature \"%s\" (or no function)%s", sig, "");
        return GATE_ERR_ARG;
    }
    return add_host(imp, module, name, sig, h, fn, ud, err);
}

gate_status rt_imports_stub(gate_imports *imp, const char *module, const char *name,
                            const gd_functype *ft, gate_raw_fn fn, void *ud, gate_error *err)
{
    if (ft->nparams > 64 || ft->nresults > 64) {
        err_set(err, GATE_ERR_ARG, "%s.%s: more than 64 parameters or results", module, name);
        return GATE_ERR_ARG;
    }
    rt_host *h = gx_malloc(&imp->eng->alloc, sizeof *h);
    if (!h) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    memcpy(h->types, ft->params, ft->nparams);
    memcpy(h->types + ft->nparams, ft->results, ft->nresults);
    h->type.nparams = ft->nparams;
    h->type.params = h->types;
    h->type.nresults = ft->nresults;
    h->type.results = h->types + ft->nparams;
    return add_host(imp, module, name, "", h, fn, ud, err);
}

gate_status rt_imports_borrow(gate_imports *dst, const gate_imports *src, gate_error *err)
{
    for (uint32_t i = 0; src && i < src->n; i++) {
        const rt_import *s = &src->items[i];
        rt_import *it = add_import(dst, s->module, s->name);
        if (!it) {
            err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
            return GATE_ERR_NOMEM;
        }
        char *mod = it->module, *name = it->name;
        *it = *s;
        it->module = mod;
        it->name = name;
        it->borrowed = true;
    }
    return GATE_OK;
}

gate_status rt_imports_fallback(gate_imports *imp, gate_raw_fn fn, void *ud, gate_error *err)
{
    rt_host *h = imp->fallback ? imp->fallback : gx_malloc(&imp->eng->alloc, sizeof *h);
    if (!h) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    h->fn = fn;
    h->ud = ud;
    h->any_sig = true;
    imp->fallback = h;
    return GATE_OK;
}

/* ---- resources that did not come along (docs/wasi.md) ------------------- */

static gate_status suspended_fn(gate_call_ctx *ctx, void *ud, const gate_val *args,
                                gate_val *results)
{
    (void)ud, (void)args, (void)results;
    /* where the stop cannot be taken, the call traps rather than answer */
    gate_call_trap(ctx, "a resource kept suspended was used where the program cannot stop");
    ctx->must_stop = true;
    gate_call_request_stop(ctx, GATE_HOST_RESTART);
    return GATE_OK;
}

static gate_status lost_fn(gate_call_ctx *ctx, void *ud, const gate_val *args,
                           gate_val *results)
{
    (void)args;
    const rt_host *h = ctx->host;
    if (!h->type.nresults || h->type.results[0] != GT_I32) {
        gate_call_trap(ctx, "a lost resource was used (its import returns no i32 to say so)");
        return GATE_TRAPPED;
    }
    for (uint32_t i = 0; i < h->type.nresults; i++) {
        results[i].type = (gate_valtype)h->type.results[i];
        memset(&results[i].of, 0, sizeof results[i].of);
    }
    results[0].of.i32 = (int32_t)(intptr_t)ud;
    return GATE_OK;
}

/* module.name (name NULL: every function of module nothing else binds),
   whatever its type, to fn */
static gate_status add_any(gate_imports *imp, const char *module, const char *name,
                           gate_raw_fn fn, void *ud, gate_error *err)
{
    if (!imp || !module) {
        err_set(err, GATE_ERR_ARG, "no imports or no module name%s%s", "", "");
        return GATE_ERR_ARG;
    }
    rt_host *h = gx_malloc(&imp->eng->alloc, sizeof *h);
    rt_import *it = h ? add_import(imp, module, name) : NULL;
    if (!it) {
        gx_free(&imp->eng->alloc, h, sizeof *h);
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    h->fn = fn;
    h->ud = ud;
    h->any_sig = true;
    h->sig = dup_str(imp->eng, "*");
    it->kind = GATE_EXTERN_FUNC;
    it->host = h;
    return GATE_OK;
}

gate_status gate_imports_suspended(gate_imports *imp, const char *module, const char *name,
                                   gate_error *err)
{
    return add_any(imp, module, name, suspended_fn, NULL, err);
}

gate_status gate_imports_lost(gate_imports *imp, const char *module, const char *name,
                              int32_t code, gate_error *err)
{
    return add_any(imp, module, name, lost_fn, (void *)(intptr_t)code, err);
}

static ffi_type *ffi_of(uint8_t t)
{
    switch (t) {
    case GT_I32: return &ffi_type_sint32;
    case GT_I64: return &ffi_type_sint64;
    case GT_F32: return &ffi_type_float;
    case GT_F64: return &ffi_type_double;
    default: return &ffi_type_pointer;
    }
}

/*
 * A plain C function: arguments and result are converted from the slots
 * by libffi according to the signature string (one result at most).
 */
static gate_status ffi_trampoline(gate_call_ctx *ctx, void *ud, const gate_val *args,
                                  gate_val *results)
{
    rt_host *h = ud;
    void *argp[65];
    uint32_t k = 0;
    if (h->with_ctx)
        argp[k++] = &ctx;
    for (uint32_t i = 0; i < h->type.nparams; i++)
        argp[k++] = (void *)&args[i].of;
    union { ffi_arg a; int64_t i64; float f32; double f64; void *p; } rv;
    memset(&rv, 0, sizeof rv);
    ffi_call(&h->cif, h->cfn, &rv, argp);
    if (h->type.nresults) {
        uint8_t t = h->type.results[0];
        results[0].type = (gate_valtype)t;
        switch (t) {
        case GT_I32: results[0].of.i32 = (int32_t)rv.a; break;
        case GT_I64: results[0].of.i64 = rv.i64; break;
        case GT_F32: results[0].of.f32 = rv.f32; break;
        case GT_F64: results[0].of.f64 = rv.f64; break;
        default: results[0].of.ref = rv.p; break;
        }
    }
    if (ctx->message[0])
        return GATE_TRAPPED;
    return ctx->exited ? GATE_EXITED : GATE_OK;
}

gate_status gate_imports_func(gate_imports *imp, const char *module, const char *name,
                              const char *sig, void (*fn)(void), gate_error *err)
{
    rt_host *h = gx_malloc(&imp->eng->alloc, sizeof *h);
    if (!h) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(h, 0, sizeof *h);
    h->cfn = fn;
    if (!fn || !parse_sig(h, sig) || h->type.nresults > 1) {
        gx_free(&imp->eng->alloc, h, sizeof *h);
        err_set(err, GATE_ERR_ARG, "bad signature \"%s\" (or no function)%s", sig, "");
        return GATE_ERR_ARG;
    }
    uint32_t k = 0;
    if (h->with_ctx)
        h->atypes[k++] = &ffi_type_pointer;
    for (uint32_t i = 0; i < h->type.nparams; i++)
        h->atypes[k++] = ffi_of(h->type.params[i]);
    ffi_type *rt = h->type.nresults ? ffi_of(h->type.results[0]) : &ffi_type_void;
    if (ffi_prep_cif(&h->cif, FFI_DEFAULT_ABI, k, rt, h->atypes) != FFI_OK) {
        gx_free(&imp->eng->alloc, h, sizeof *h);
        err_set(err, GATE_ERR_ARG, "libffi cannot call signature \"%s\"%s", sig, "");
        return GATE_ERR_ARG;
    }
    return add_host(imp, module, name, sig, h, ffi_trampoline, h, err);
}

gate_status rt_imports_any(gate_imports *imp, const char *module, gate_raw_fn fn, void *ud,
                           void *state, void (*state_free)(void *), gate_error *err)
{
    if (imp->nowned == 4) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    gate_status st = add_any(imp, module, NULL, fn, ud, err);
    if (st != GATE_OK)
        return st;
    imp->owned[imp->nowned] = state;
    imp->owned_free[imp->nowned++] = state_free;
    return GATE_OK;
}

/* A per-instance host record for a wildcard import with the import's type. */
static bool bind_any(gate_instance *inst, const rt_host *tmpl, const gd_import *im)
{
    gate_engine *eng = inst->eng;
    const gd_functype *ft = gd_func_type(&inst->mod->info, im->index);
    if (ft->nparams > 64 || ft->nresults > 64)
        return false;
    uint32_t n = inst->nhosts;
    rt_host **hs = gx_realloc(&eng->alloc, inst->hosts, n * sizeof *hs, (n + 1) * sizeof *hs);
    if (!hs)
        return false;
    inst->hosts = hs;
    rt_host *h = gx_malloc(&eng->alloc, sizeof *h);
    if (!h)
        return false;
    *h = *tmpl;
    h->sig = NULL;
    h->type = *ft;
    h->func = im->index;
    hs[n] = h;
    inst->nhosts = n + 1;
    gate_funcref *fr = &inst->host_frs[im->index];
    fr->code = RT_HOST_STUB;
    fr->vm = h;
    fr->sig = inst->mod->sigids[inst->mod->info.funcs[im->index].type];
    inst->funcs[im->index] = fr;
    return true;
}

/* An export of inst by exact name and kind; -1 if none. */
static int64_t find_export(const gate_instance *inst, const char *name, size_t len, int kind)
{
    const gd_module *m = &inst->mod->info;
    for (uint32_t i = 0; i < m->nexports; i++)
        if (m->exports[i].name_len == len && !memcmp(m->exports[i].name, name, len) &&
            (kind < 0 || m->exports[i].kind == kind))
            return i;
    return -1;
}

/* ---- linking --------------------------------------------------------- */

static bool limits_match(uint64_t min, uint64_t max, const gd_limits *want)
{
    if (min < want->min)
        return false;
    if (want->max != UINT64_MAX && (max == UINT64_MAX || max > want->max))
        return false;
    return true;
}

static gate_status ready_fn(gate_call_ctx *ctx, void *ud, const gate_val *args,
                           gate_val *results)
{
    (void)ctx, (void)ud, (void)args, (void)results;
    return GATE_OK;
}
static const gd_functype no_params = { 0 };
static rt_host ready_host = { .fn = ready_fn };

static bool link_one(gate_instance *inst, gate_imports *imp, const gd_import *im,
                     gate_error *err)
{
    const gd_module *m = &inst->mod->info;
    for (uint32_t i = imp ? imp->n : 0; i-- > 0;) {
        rt_import *it = &imp->items[i];
        if (strcmp(it->module, im->module))
            continue;
        if (it->kind == 255) {
            gate_instance *src = it->inst;
            if (src->zygote)
                break;          /* a zygote does not run: not linkable */
            int64_t e = find_export(src, im->name, im->name_len, -1);
            if (e < 0)
                continue;
            const gd_export *ex = &src->mod->info.exports[e];
            if (ex->kind != im->kind)
                break;
            switch (im->kind) {
            case GATE_EXTERN_FUNC: {
                gate_funcref *fr = src->funcs[ex->index];
                if (fr->sig != inst->mod->sigids[m->funcs[im->index].type])
                    break;
                inst->funcs[im->index] = fr;
                return true;
            }
            case GATE_EXTERN_TABLE: {
                rt_table *t = src->tables[ex->index];
                const gd_table *want = &m->tables[im->index];
                if (t->type != want->elem || !limits_match(t->size, t->max, &want->lim))
                    break;
                t->refs++;
                inst->tables[im->index] = t;
                return true;
            }
            case GATE_EXTERN_MEMORY: {
                rt_memory *mem = src->mem;
                if (!limits_match(mem->pages, mem->decl_max, &m->mems[0].lim))
                    break;
                mem->refs++;
                inst->mem = mem;
                return true;
            }
            default: {
                rt_global *g = src->global_objs[ex->index];
                const gd_global *want = &m->globals[im->index];
                if (g->type != want->type || g->mut != want->mut)
                    break;
                g->refs++;
                inst->global_objs[im->index] = g;
                inst->globals[im->index] = g->bits;
                return true;
            }
            }
            break;
        }
        if (it->host && it->host->any_sig)
            continue;           /* wildcards only when nothing else matches */
        if (!it->name || strlen(it->name) != im->name_len || memcmp(it->name, im->name, im->name_len))
            continue;
        if (it->kind == GATE_EXTERN_FUNC && im->kind == GATE_EXTERN_FUNC &&
            it->fr.sig == inst->mod->sigids[m->funcs[im->index].type]) {
            inst->funcs[im->index] = &it->fr;
            if (it->host && it->host->wasi)
                inst->wasi = it->host->ud;
            return true;
        }
        break;
    }
    for (uint32_t i = imp ? imp->n : 0; im->kind == GATE_EXTERN_FUNC && i-- > 0;) {
        rt_import *it = &imp->items[i];
        if (it->host && it->host->any_sig && !strcmp(it->module, im->module) &&
            (!it->name || (strlen(it->name) == im->name_len &&
                           !memcmp(it->name, im->name, im->name_len))) &&
            bind_any(inst, it->host, im)) {
            if (it->host->wasi)
                inst->wasi = it->host->ud;
            return true;
        }
    }
    if (imp && imp->fallback && im->kind == GATE_EXTERN_FUNC && bind_any(inst, imp->fallback, im))
        return true;
    /* gate.zygote_ready(): where a program marks the end of its
       initialisation (docs/zygotes.md); outside a zygote it does nothing */
    if (im->kind == GATE_EXTERN_FUNC && !strcmp(im->module, "gate") &&
        im->name_len == 12 && !memcmp(im->name, "zygote_ready", 12) &&
        inst->mod->sigids[m->funcs[im->index].type] == rt_sig_id(inst->eng, &no_params)) {
        gate_funcref *fr = &inst->host_frs[im->index];
        fr->code = RT_HOST_STUB;
        fr->vm = &ready_host;
        fr->sig = inst->mod->sigids[m->funcs[im->index].type];
        inst->funcs[im->index] = fr;
        return true;
    }
    char what[300];
    snprintf(what, sizeof what, "%s.%s", im->module, im->name);
    err_set(err, GATE_ERR_UNLINKABLE, "unknown import or incompatible import type: %s%s", what, "");
    return false;
}

/* ---- memory, tables, globals ------------------------------------------ */

/*
 * Guard mode reserves 8 GiB + 64 KiB so no access can leave the
 * reservation; explicit mode (every access checked by the code) reserves
 * only the maximum size.  Either way the base never moves.  A freed
 * memory's reservation goes back to its engine's pool with the pages it
 * used replaced by fresh inaccessible ones (one mmap over what was used),
 * so the next instance of that size takes it as it is: a reused
 * reservation is as zero and as inaccessible as a new one.
 */
static void *reservation_get(gate_engine *eng, size_t size)
{
    void *p = NULL;
    pthread_mutex_lock(&eng->pool_lock);
    for (uint32_t i = eng->npool; i-- > 0;)
        if (eng->pool[i].size == size) {
            p = eng->pool[i].base;
            eng->pool[i] = eng->pool[--eng->npool];
            break;
        }
    pthread_mutex_unlock(&eng->pool_lock);
    if (!p) {
        p = mmap(NULL, size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            p = NULL;
    }
    return p;
}

static void reservation_put(gate_engine *eng, void *base, size_t size, size_t used)
{
    used = (used + 4095) & ~(size_t)4095;
    if (used > size)
        used = size;
    if (used && mmap(base, used, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | MAP_FIXED,
                     -1, 0) == MAP_FAILED) {
        munmap(base, size);
        return;
    }
    pthread_mutex_lock(&eng->pool_lock);
    if (eng->npool < RT_MEM_POOL) {
        eng->pool[eng->npool].base = base;
        eng->pool[eng->npool].size = size;
        eng->npool++;
        base = NULL;
    }
    pthread_mutex_unlock(&eng->pool_lock);
    if (base)
        munmap(base, size);
}

static rt_memory *memory_new(gate_engine *eng, uint64_t pages, uint64_t max)
{
    rt_memory *m = gx_malloc(&eng->alloc, sizeof *m);
    if (!m)
        return NULL;
    memset(m, 0, sizeof *m);
    size_t reserve = MEM_RESERVE;
    if (eng->cfg.bounds == GATE_BOUNDS_EXPLICIT)
        reserve = max ? (size_t)max * 65536 : 65536;
    void *p = reservation_get(eng, reserve);
    if (!p) {
        gx_free(&eng->alloc, m, sizeof *m);
        return NULL;
    }
    if (pages && mprotect(p, pages * 65536, PROT_READ | PROT_WRITE)) {
        reservation_put(eng, p, reserve, (size_t)pages * 65536);
        gx_free(&eng->alloc, m, sizeof *m);
        return NULL;
    }
    m->base = p;
    m->pages = pages;
    m->bytes = pages * 65536;
    m->template_fd = -1;
    m->max = max;
    m->reserved = reserve;
    m->refs = 1;
    return m;
}

/*
 * The initial memory image of a module.  When every active data segment
 * has a constant offset and fits the initial memory, their bytes are
 * written once into a memfd, and each instance maps it copy-on-write
 * instead of copying the segments: instantiation then costs the same for
 * 1 KiB or 100 MiB of data, and pages no instance writes stay shared.
 */
static pthread_mutex_t image_lock = PTHREAD_MUTEX_INITIALIZER;
enum { IMAGE_MIN_DATA = 16384 };     /* below this, copying is cheaper */

static int memory_image(gate_module *mod, size_t *len)
{
    pthread_mutex_lock(&image_lock);
    if (mod->image_state == 0) {
        const gd_module *m = &mod->info;
        mod->image_state = -1;
        uint64_t min = m->nmems && !m->nmem_imports ? m->mems[0].lim.min * 65536 : 0;
        uint64_t end = 0, total = 0;
        bool ok = min > 0;
        for (uint32_t d = 0; ok && d < m->ndata; d++) {
            const gd_data *ds = &m->data[d];
            if (ds->mode != GD_SEG_ACTIVE)
                continue;
            uint64_t off = (uint32_t)ds->offset.u.bits;
            ok = ds->offset.op == GOP_I32_CONST && off + ds->len <= min;
            if (off + ds->len > end)
                end = off + ds->len;
            total += ds->len;
        }
        int fd = -1;
        size_t n = (size_t)((end + 4095) & ~(uint64_t)4095);
        if (ok && total >= IMAGE_MIN_DATA &&
            (fd = memfd_create("gate-image", MFD_CLOEXEC)) >= 0 && ftruncate(fd, (off_t)n) == 0) {
            for (uint32_t d = 0; ok && d < m->ndata; d++) {
                const gd_data *ds = &m->data[d];
                if (ds->mode != GD_SEG_ACTIVE)
                    continue;
                uint64_t off = (uint32_t)ds->offset.u.bits;
                for (uint32_t done = 0; ok && done < ds->len;) {
                    ssize_t w = pwrite(fd, mod->bytes + ds->bytes_off + done, ds->len - done,
                                       (off_t)(off + done));
                    ok = w > 0;
                    done += ok ? (uint32_t)w : 0;
                }
            }
            if (ok) {
                mod->image_fd = fd;
                mod->image_len = n;
                mod->image_state = 1;
                fd = -1;
            }
        }
        if (fd >= 0)
            close(fd);
    }
    int fd = mod->image_state > 0 ? mod->image_fd : -1;
    *len = mod->image_len;
    pthread_mutex_unlock(&image_lock);
    return fd;
}

void rt_module_image_free(gate_module *mod)
{
    if (mod->image_state > 0)
        close(mod->image_fd);
    mod->image_state = 0;
}

static void memory_unref(gate_engine *eng, rt_memory *m)
{
    if (m && --m->refs == 0) {
        if (m->template_fd >= 0)
            close(m->template_fd);
        reservation_put(eng, m->base, m->reserved, (size_t)m->bytes);
        gx_free(&eng->alloc, m, sizeof *m);
    }
}

static void table_unref(gate_engine *eng, rt_table *t)
{
    if (t && --t->refs == 0) {
        gx_free(&eng->alloc, t->elems, (size_t)t->cap * sizeof(void *));
        gx_free(&eng->alloc, t, sizeof *t);
    }
}

static void global_unref(gate_engine *eng, rt_global *g)
{
    if (g && --g->refs == 0)
        gx_free(&eng->alloc, g, sizeof *g);
}

static uint64_t const_bits(gate_instance *inst, const gd_const *k)
{
    switch (k->op) {
    case GOP_GLOBAL_GET:
        return inst->globals[k->u.index][0];
    case GOP_REF_FUNC:
    case GOP_REF_NULL:
        return (uint64_t)(uintptr_t)rt_const_ref(inst, k);
    default:
        return k->u.bits;
    }
}

/* ---- thread stack ----------------------------------------------------- */

/*
 * The calling thread's wasm stack, of at least `size` bytes (0: the
 * default).  It is replaced by a bigger one only between calls, never
 * while wasm runs on it.
 */
static uint8_t *thread_stack(size_t size)
{
    if (rt_stack_override)
        return rt_stack_override->base;
    if (!size)
        size = STACK_SIZE;
    if (tls_stack && (tls_stack_size >= size || rt_entry_vm))
        return tls_stack;
    if (tls_stack) {
        munmap(tls_stack, tls_stack_size + STACK_GUARD);
        tls_stack = NULL;
    }
    void *p = mmap(NULL, size + STACK_GUARD, PROT_NONE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    if (mprotect((uint8_t *)p + STACK_GUARD, size, PROT_READ | PROT_WRITE)) {
        munmap(p, size + STACK_GUARD);
        return NULL;
    }
    rt_worker_thread_init();
    tls_stack = p;
    tls_stack_size = size;
    return p;
}

/* Charges (delta > 0) or gives back bytes of kind (RT_CHARGE_*) through
   a world process's hooks; without hooks everything is granted. */
bool rt_charge(gate_instance *inst, int kind, int64_t delta)
{
    if (!inst->hooks || !inst->hooks->charge || !delta)
        return true;
    if (!inst->hooks->charge(inst->hooks_ud, kind, delta))
        return false;
    inst->charged[kind] += (uint64_t)delta;
    return true;
}

/* An alternate signal stack for this thread, so that faults are handled
   even near a stack's guard. */
void rt_worker_thread_init(void)
{
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        static const size_t alt = 64 * 1024;
        void *a = mmap(NULL, alt, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (a != MAP_FAILED) {
            stack_t ss = { .ss_sp = a, .ss_size = alt, .ss_flags = 0 };
            sigaltstack(&ss, NULL);
        }
    }
}

static void set_limits(rt_vm *vm, uint8_t *stack)
{
    vm->real_limit = (uintptr_t)stack + STACK_GUARD + STACK_MARGIN;
    /* a pending stop request (or stress testing) keeps the stop word raised */
    vm->stack_limit = atomic_load(&vm->stop_req) || vm->stress_every ? UINTPTR_MAX
                                                                       : vm->real_limit;
}

/* ---- instantiation ---------------------------------------------------- */

/*
 * Instantiation failed after the first `applied` element segments ran.
 * If one of them put references to this instance's functions into an
 * imported table, those stay callable (Wasm 2.0 keeps partial writes), so
 * the instance is kept until the engine goes instead of freed.
 */
static void fail_partial(gate_instance *inst, uint32_t applied)
{
    const gd_module *m = &inst->mod->info;
    for (uint32_t e = 0; e < applied && e < m->nelems; e++)
        if (m->elems[e].mode == GD_SEG_ACTIVE && m->elems[e].table < m->ntable_imports &&
            m->elems[e].count) {
            rt_bury(inst->eng, inst);
            return;
        }
    gate_instance_free(inst);
}

static uint32_t run_start(gate_instance *inst, gate_error *err);

gate_instance *gate_instance_new(gate_module *mod, gate_imports *imp, const gate_limits *lim,
                                 gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!mod || !mod->exec) {
        if (mod)
            *err = mod->compile_err;
        else
            err_set(err, GATE_ERR_ARG, "no module%s%s", "", "");
        return NULL;
    }
    gate_engine *eng = mod->eng;
    const gd_module *m = &mod->info;
    rt_signals_install();
    size_t stack_size = lim && lim->stack_size ? (size_t)lim->stack_size : 0;
    if (stack_size && (stack_size < STACK_MIN || stack_size > STACK_MAX)) {
        err_set(err, GATE_ERR_ARG, "stack size must be between 512 KiB and 1 GiB%s%s", "", "");
        return NULL;
    }
    uint8_t *stack = thread_stack(stack_size);
    gate_instance *inst = gx_malloc(&eng->alloc, sizeof *inst);
    if (!inst || !stack) {
        gx_free(&eng->alloc, inst, sizeof *inst);
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return NULL;
    }
    memset(inst, 0, sizeof *inst);
    inst->eng = eng;
    inst->mod = mod;
    inst->stack_size = stack_size;
    if (lim)
        inst->lim = *lim;
    inst->prog_ndata = m->ndata;
    inst->prog_nelems = m->nelems;
    inst->hooks = rt_next_hooks;
    inst->hooks_ud = rt_next_hooks_ud;
    mod->refs++;
    size_t nf = m->nfuncs, nt = m->ntables, ng = m->nglobals;
    inst->own_funcs = gx_malloc(&eng->alloc, (nf + 1) * sizeof *inst->own_funcs);
    inst->funcs = gx_malloc(&eng->alloc, (nf + 1) * sizeof *inst->funcs);
    inst->tables = gx_malloc(&eng->alloc, (nt + 1) * sizeof *inst->tables);
    inst->globals = gx_malloc(&eng->alloc, (ng + 1) * sizeof *inst->globals);
    inst->global_objs = gx_malloc(&eng->alloc, (ng + 1) * sizeof *inst->global_objs);
    inst->host_frs = gx_malloc(&eng->alloc, (m->nfunc_imports + 1) * sizeof *inst->host_frs);
    inst->data_dropped = gx_malloc(&eng->alloc, m->ndata + 1);
    inst->elem_dropped = gx_malloc(&eng->alloc, m->nelems + 1);
    if (!inst->own_funcs || !inst->funcs || !inst->tables || !inst->globals ||
        !inst->global_objs || !inst->data_dropped || !inst->elem_dropped || !inst->host_frs) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        gate_instance_free(inst);
        return NULL;
    }
    memset(inst->funcs, 0, (nf + 1) * sizeof *inst->funcs);
    memset(inst->tables, 0, (nt + 1) * sizeof *inst->tables);
    memset(inst->global_objs, 0, (ng + 1) * sizeof *inst->global_objs);
    memset(inst->data_dropped, 0, m->ndata + 1);
    memset(inst->elem_dropped, 0, m->nelems + 1);
    rt_vm *vm = &inst->vm;
    vm->inst = inst;
    vm->funcs = inst->funcs;
    vm->tables = inst->tables;
    vm->globals = inst->globals;
    vm->sigids = mod->sigids;
    vm->helpers = gate_rt_helpers;
    vm->stress_every = eng->cfg.stress_stop_every;
    vm->fuel = INT64_MAX;           /* unmetered until gate_set_fuel */
    set_limits(vm, stack);

    /* imports */
    for (uint32_t i = 0; i < m->nimports; i++)
        if (!link_one(inst, imp, &m->imports[i], err)) {
            gate_instance_free(inst);
            return NULL;
        }
    /* defined functions */
    for (uint32_t f = m->nfunc_imports; f < nf; f++) {
        gate_funcref *fr = &inst->own_funcs[f];
        fr->code = mod->exec + mod->code.func_off[f - m->nfunc_imports];
        fr->vm = vm;
        fr->sig = mod->sigids[m->funcs[f].type];
        inst->funcs[f] = fr;
    }
    /* memory */
    if (m->nmems && !inst->mem) {
        uint64_t max = m->mems[0].lim.max == UINT64_MAX ? 65536 : m->mems[0].lim.max;
        if (lim && lim->max_memory_pages && lim->max_memory_pages < max)
            max = lim->max_memory_pages;
        if (m->mems[0].lim.min > max || !(inst->mem = memory_new(eng, m->mems[0].lim.min, max))) {
            err_set(err, GATE_ERR_INSTANTIATE, "cannot allocate memory%s%s", "", "");
            gate_instance_free(inst);
            return NULL;
        }
        inst->mem->decl_max = m->mems[0].lim.max;
    }
    vm->mem = inst->mem;
    vm->mem_base = inst->mem ? inst->mem->base : NULL;
    /* tables: one budget of elements for all of them together */
    inst->table_limit = lim && lim->max_table_elems ? lim->max_table_elems : 10000000u;
    for (uint32_t t = m->ntable_imports; t < nt; t++)
        inst->table_elems += m->tables[t].lim.min;
    if (inst->table_elems > inst->table_limit) {
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "the module's tables need %llu elements together, more than the limit of %llu",
                (unsigned long long)inst->table_elems, (unsigned long long)inst->table_limit);
        gate_instance_free(inst);
        return NULL;
    }
    /* a world process's sponsor pays for what the instance owns */
    uint64_t own_mem = m->nmems > m->nmem_imports ? m->mems[0].lim.min * 65536 : 0;
    if (!rt_charge(inst, RT_CHARGE_MEMORY, (int64_t)own_mem) ||
        !rt_charge(inst, RT_CHARGE_TABLE, (int64_t)(inst->table_elems * sizeof(void *)))) {
        gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                "the sponsor's budget cannot pay for %llu bytes of memory and %llu table "
                "elements", (unsigned long long)own_mem, (unsigned long long)inst->table_elems);
        gate_instance_free(inst);
        return NULL;
    }
    for (uint32_t t = m->ntable_imports; t < nt; t++) {
        const gd_table *td = &m->tables[t];
        rt_table *tb = gx_malloc(&eng->alloc, sizeof *tb);
        if (!tb) {
            err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
            gate_instance_free(inst);
            return NULL;
        }
        memset(tb, 0, sizeof *tb);
        tb->refs = 1;
        tb->type = td->elem;
        tb->max = td->lim.max;
        tb->size = (uint32_t)td->lim.min;
        tb->cap = tb->size;
        tb->elems = gx_malloc(&eng->alloc, (size_t)tb->cap * sizeof(void *) + 8);
        inst->tables[t] = tb;
        if (!tb->elems) {
            err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
            gate_instance_free(inst);
            return NULL;
        }
        memset(tb->elems, 0, (size_t)tb->cap * sizeof(void *));
    }
    /* globals */
    for (uint32_t g = m->nglobal_imports; g < ng; g++) {
        rt_global *go = gx_malloc(&eng->alloc, sizeof *go);
        if (!go) {
            err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
            gate_instance_free(inst);
            return NULL;
        }
        memset(go, 0, sizeof *go);
        go->refs = 1;
        go->type = m->globals[g].type;
        go->mut = m->globals[g].mut;
        inst->global_objs[g] = go;
        inst->globals[g] = go->bits;
        const gd_const *init = &m->globals[g].init;
        if (go->type == GT_V128 && init->op == GOP_V128_CONST)
            memcpy(go->bits, init->u.v128, 16);
        else if (go->type == GT_V128)       /* global.get of an imported v128 */
            memcpy(go->bits, inst->globals[init->u.index], 16);
        else
            go->bits[0] = const_bits(inst, init);
    }
    /* element segments, then data segments, in order; a failure traps */
    for (uint32_t e = 0; e < m->nelems; e++) {
        const gd_elem *es = &m->elems[e];
        if (es->mode == GD_SEG_ACTIVE) {
            uint32_t off = (uint32_t)const_bits(inst, &es->offset);
            if (!rt_table_init_range(inst, inst->tables[es->table], es, off, 0, es->count)) {
                err_set(err, GATE_ERR_INSTANTIATE, "out of bounds table access%s%s", "", "");
                fail_partial(inst, e);
                return NULL;
            }
        }
        if (es->mode != GD_SEG_PASSIVE)
            inst->elem_dropped[e] = 1;
    }
    /* the module's memory image, mapped, holds every active segment */
    size_t image_len = 0;
    int image_fd = inst->mem && !m->nmem_imports ? memory_image(mod, &image_len) : -1;
    bool imaged = image_fd >= 0 &&
        mmap(inst->mem->base, image_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
             image_fd, 0) != MAP_FAILED;
    for (uint32_t d = 0; d < m->ndata; d++) {
        const gd_data *ds = &m->data[d];
        if (ds->mode != GD_SEG_ACTIVE)
            continue;
        uint64_t off = (uint32_t)const_bits(inst, &ds->offset);
        if (off + ds->len > inst->mem->pages * 65536) {
            err_set(err, GATE_ERR_INSTANTIATE, "out of bounds memory access%s%s", "", "");
            fail_partial(inst, m->nelems);
            return NULL;
        }
        if (!imaged)
            memcpy(inst->mem->base + off, mod->bytes + ds->bytes_off, ds->len);
        inst->data_dropped[d] = 1;
    }
    if (m->has_start && run_start(inst, err) != GATE_OK) {
        fail_partial(inst, m->nelems);
        return NULL;
    }
    return inst;
}

void gate_instance_free(gate_instance *inst)
{
    if (!inst)
        return;
    gate_engine *eng = inst->eng;
    const gd_module *m = &inst->mod->info;
    size_t nf = m->nfuncs, nt = m->ntables, ng = m->nglobals;
    rt_deadline_cancel(inst);
    rt_susp_free(inst, &inst->susp);
    free(inst->objname[1]);
    free(inst->objname[2]);
    if (inst->tables)
        for (uint32_t t = 0; t < nt; t++)
            table_unref(eng, inst->tables[t]);
    if (inst->global_objs)
        for (uint32_t g = 0; g < ng; g++)
            global_unref(eng, inst->global_objs[g]);
    memory_unref(eng, inst->mem);
    gx_free(&eng->alloc, inst->own_funcs, (nf + 1) * sizeof *inst->own_funcs);
    gx_free(&eng->alloc, inst->funcs, (nf + 1) * sizeof *inst->funcs);
    gx_free(&eng->alloc, inst->tables, (nt + 1) * sizeof *inst->tables);
    gx_free(&eng->alloc, inst->globals, (ng + 1) * sizeof *inst->globals);
    gx_free(&eng->alloc, inst->global_objs, (ng + 1) * sizeof *inst->global_objs);
    gx_free(&eng->alloc, inst->data_dropped, m->ndata + 1);
    gx_free(&eng->alloc, inst->elem_dropped, m->nelems + 1);
    for (uint32_t i = 0; i < inst->nhosts; i++)
        gx_free(&eng->alloc, inst->hosts[i], sizeof *inst->hosts[i]);
    gx_free(&eng->alloc, inst->hosts, inst->nhosts * sizeof *inst->hosts);
    gx_free(&eng->alloc, inst->host_frs, (m->nfunc_imports + 1) * sizeof *inst->host_frs);
    rt_zygote_names_free(eng, inst->zpre, inst->nzpre, inst->nzpre);
    gate_module *mod = inst->mod;
    gate_imports *own = inst->own_imports;
    gx_free(&eng->alloc, inst, sizeof *inst);
    gate_imports_free(own);
    gate_module_free(mod);
}

/* ---- calls ------------------------------------------------------------ */

static gate_status finish(gate_instance *inst, uint32_t rc, uint8_t *stack, bool nested,
                          gate_error *err);

/* Runs funcref fr with area holding the arguments; results replace them. */
static gate_status invoke(gate_instance *inst, gate_funcref *fr, uint64_t *area, uint32_t n,
                          uint32_t entry_func, gate_error *err)
{
    if (inst->susp.active) {
        err_set(err, GATE_ERR_STATE, "the instance is suspended: resume it first%s%s", "", "");
        return GATE_ERR_STATE;
    }
    uint8_t *stack = thread_stack(inst->stack_size);
    if (!stack) {
        err_set(err, GATE_ERR_NOMEM, "cannot allocate a stack%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    rt_vm *prev = rt_entry_vm;
    uintptr_t saved_sp = inst->vm.host_sp;
    set_limits(&inst->vm, stack);
    if (fr->code != RT_HOST_STUB)
        set_limits((rt_vm *)fr->vm, stack);
    rt_entry_vm = &inst->vm;
    memset(&inst->vm.trap, 0, sizeof inst->vm.trap);
    inst->vm.nbt = 0;
    if (inst->mem)
        inst->mem->template_stale = true;
    /* stress testing stops a call at most this many times (deep recursion
       would otherwise make every stop walk the whole stack) */
    inst->vm.stress_left = 16;
    if (!prev)      /* a call from the host owns the whole stack */
        stack_unpoison(stack + STACK_GUARD, stack_size_of());
    uint32_t rc = RT_ENTER(&inst->vm, fr->code, area, n,
                           prev ? NULL : stack + STACK_GUARD + stack_size_of(), fr->vm);
    rt_entry_vm = prev;
    inst->vm.host_sp = saved_sp;
    if (rc == 3)
        inst->susp.entry_func = entry_func;
    return finish(inst, rc, stack, prev != NULL, err);
}

/* What a return from the entry trampoline means. */
static gate_status finish(gate_instance *inst, uint32_t rc, uint8_t *stack, bool nested,
                          gate_error *err)
{
    if (rc && !nested)
        stack_unpoison(stack + STACK_GUARD, stack_size_of());
    if (rc == 3) {
        inst->susp.active = true;
        if (err) {
            err->status = GATE_OK;
            gx_fail(err, GATE_SUSPENDED, UINT64_MAX, GATE_NO_FUNC, "suspended in %u frame(s)",
                    inst->susp.nframes);
        }
        return GATE_SUSPENDED;
    }
    if (rc == 2) {
        inst->exit_code = inst->vm.exit_code;
        if (err) {
            err->status = GATE_OK;
            gx_fail(err, GATE_EXITED, UINT64_MAX, GATE_NO_FUNC, "exited with status %d",
                    inst->exit_code);
        }
        return GATE_EXITED;
    }
    if (rc) {
        if (err) {
            static const char *const names[] = {
                "", "unreachable", "out of bounds memory access", "out of bounds table access",
                "uninitialized element", "indirect call type mismatch", "integer divide by zero",
                "integer overflow", "invalid conversion to integer", "call stack exhausted",
                "uninitialized element", "host function trapped" };
            uint32_t code = inst->vm.trap.code;
            err->status = GATE_OK;
            if (inst->vm.trap.message[0])
                gx_fail(err, GATE_TRAPPED, inst->vm.trap.wasm_offset, inst->vm.trap.func_index,
                        "%s: %s", code < sizeof names / sizeof names[0] ? names[code] : "trap",
                        inst->vm.trap.message);
            else
                gx_fail(err, GATE_TRAPPED, inst->vm.trap.wasm_offset, inst->vm.trap.func_index,
                        "%s", code < sizeof names / sizeof names[0] ? names[code] : "trap");
        }
        return GATE_TRAPPED;
    }
    return GATE_OK;
}

/* Instantiation cannot return a stopped program: the start function runs
   to its end, and a stop asked meanwhile applies to the next call. */
static uint32_t run_start(gate_instance *inst, gate_error *err)
{
    uint64_t area[1] = { 0 };
    inst->vm.no_stop = true;
    uint32_t st = invoke(inst, inst->funcs[inst->mod->info.start], area, 0, GATE_NO_FUNC, err);
    inst->vm.no_stop = false;
    return st;
}

/* The bytes of a value of type t in a gate_val and in the area. */
static size_t val_bytes(uint8_t t)
{
    return t == GT_I32 || t == GT_F32 ? 4 : t == GT_V128 ? 16 : 8;
}

gate_status gate_call_n(gate_instance *inst, const char *name, size_t name_len,
                        const gate_val *args, size_t nargs, gate_val *results, size_t nresults,
                        gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (inst->zygote) {
        err_set(err, GATE_ERR_STATE, "a zygote does not run: fork it (gate_instance_fork_imports)"
                "%s%s", "", "");
        return GATE_ERR_STATE;
    }
    int64_t e = find_export(inst, name, name_len, GATE_EXTERN_FUNC);
    if (e < 0) {
        err_set(err, GATE_ERR_ARG, "no exported function \"%.200s\"%s", name, "");
        return GATE_ERR_ARG;
    }
    uint32_t f = inst->mod->info.exports[e].index;
    const gd_functype *ft = gd_func_type(&inst->mod->info, f);
    if (nargs != ft->nparams || nresults < ft->nresults) {
        err_set(err, GATE_ERR_ARG, "wrong number of arguments or results for \"%.200s\"%s",
                name, "");
        return GATE_ERR_ARG;
    }
    /* the area's words are slots: a v128 takes two (low, high) */
    uint32_t np = 0, nr = 0;
    for (uint32_t i = 0; i < ft->nparams; i++)
        np += ft->params[i] == GT_V128 ? 2 : 1;
    for (uint32_t i = 0; i < ft->nresults; i++)
        nr += ft->results[i] == GT_V128 ? 2 : 1;
    uint32_t n = np > nr ? np : nr;
    uint64_t small[16];
    uint64_t *area = n <= 16 ? small : gx_malloc(&inst->eng->alloc, (size_t)n * 8);
    if (!area) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    for (uint32_t i = 0, w = 0; i < ft->nparams; w += ft->params[i] == GT_V128 ? 2 : 1, i++) {
        if ((uint8_t)args[i].type != ft->params[i]) {
            if (area != small)
                gx_free(&inst->eng->alloc, area, (size_t)n * 8);
            err_set(err, GATE_ERR_ARG, "argument type mismatch for \"%.200s\"%s", name, "");
            return GATE_ERR_ARG;
        }
        area[w] = 0;
        memcpy(&area[w], &args[i].of, val_bytes(ft->params[i]));
    }
    gate_status st = invoke(inst, inst->funcs[f], area, n, f, err);
    if (st == GATE_OK)
        for (uint32_t i = 0, w = 0; i < ft->nresults; w += ft->results[i] == GT_V128 ? 2 : 1, i++) {
            results[i].type = (gate_valtype)ft->results[i];
            memset(&results[i].of, 0, sizeof results[i].of);
            memcpy(&results[i].of, &area[w], val_bytes(ft->results[i]));
        }
    if (area != small)
        gx_free(&inst->eng->alloc, area, (size_t)n * 8);
    return st;
}

gate_status gate_call(gate_instance *inst, const char *export_name, const gate_val *args,
                      size_t nargs, gate_val *results, size_t nresults, gate_error *err)
{
    return gate_call_n(inst, export_name, strlen(export_name), args, nargs, results, nresults,
                       err);
}

/* ---- stopping and resuming ---------------------------------------------- */

void gate_request_stop(gate_instance *inst)
{
    /* only stores: safe from another thread and from a signal handler */
    atomic_store(&inst->vm.stop_req, 1);
    __atomic_store_n(&inst->vm.stack_limit, UINTPTR_MAX, __ATOMIC_SEQ_CST);
}

gate_status gate_set_deadline(gate_instance *inst, uint64_t ns_from_now)
{
    return rt_deadline_set(inst, ns_from_now);
}

/*
 * Fuel: each function entry and loop iteration costs one unit when the
 * engine compiles fuel metering in.  At zero the program stops at that
 * safe point (GATE_SUSPENDED); gate_set_fuel refills, gate_resume goes on.
 */
gate_status gate_set_fuel(gate_instance *inst, uint64_t fuel)
{
    if (!inst->eng->cfg.fuel)
        return GATE_ERR_STATE;
    int64_t f = fuel > (uint64_t)INT64_MAX ? INT64_MAX : (int64_t)fuel;
    /* a program stopped out of fuel owes the unit it could not pay */
    if (inst->susp.active && inst->susp.reason == RT_STOP_FUEL && f != INT64_MAX)
        f--;
    inst->vm.fuel = f;
    return GATE_OK;
}

uint64_t gate_get_fuel(const gate_instance *inst)
{
    return inst->vm.fuel > 0 ? (uint64_t)inst->vm.fuel : 0;
}

int gate_is_suspended(const gate_instance *inst)
{
    return inst->susp.active;
}

gate_status gate_resume(gate_instance *inst, gate_val *results, size_t nresults,
                        gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!inst->susp.active) {
        err_set(err, GATE_ERR_STATE, "the instance is not suspended%s%s", "", "");
        return GATE_ERR_STATE;
    }
    if (inst->zygote) {
        err_set(err, GATE_ERR_STATE, "a zygote does not run: fork it (gate_instance_fork_imports)"
                "%s%s", "", "");
        return GATE_ERR_STATE;
    }
    if (rt_entry_vm) {
        err_set(err, GATE_ERR_STATE, "cannot resume from inside a call%s%s", "", "");
        return GATE_ERR_STATE;
    }
    const gd_module *m = &inst->mod->info;
    uint32_t f = inst->susp.entry_func;
    const gd_functype *ft = f < m->nfuncs ? gd_func_type(m, f) : NULL;
    uint32_t np = 0, nr = ft ? ft->nresults : 0, nrw = 0;
    for (uint32_t i = 0; ft && i < ft->nparams; i++)
        np += ft->params[i] == GT_V128 ? 2 : 1;
    for (uint32_t i = 0; i < nr; i++)
        nrw += ft->results[i] == GT_V128 ? 2 : 1;
    if (nresults < nr) {
        err_set(err, GATE_ERR_ARG, "the call returns more results than there is room for%s%s",
                "", "");
        return GATE_ERR_ARG;
    }
    uint32_t n = np > nrw ? np : nrw;
    uint64_t small[16];
    uint64_t *area = n <= 16 ? small : gx_malloc(&inst->eng->alloc, (size_t)n * 8);
    uint8_t *stack = thread_stack(inst->stack_size);
    if (!area || !stack) {
        if (area && area != small)
            gx_free(&inst->eng->alloc, area, (size_t)n * 8);
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return GATE_ERR_NOMEM;
    }
    memset(area, 0, (size_t)n * 8);
    /* the frames move from the instance onto the stack */
    rt_susp s = inst->susp;
    memset(&inst->susp, 0, sizeof inst->susp);
    atomic_store(&inst->vm.stop_req, 0);
    set_limits(&inst->vm, stack);
    memset(&inst->vm.trap, 0, sizeof inst->vm.trap);
    inst->vm.nbt = 0;
    uintptr_t saved_sp = inst->vm.host_sp;
    if (inst->mem)
        inst->mem->template_stale = true;
    rt_entry_vm = &inst->vm;
    /* the builder takes the whole stack (no call is running on it) */
    stack_unpoison(stack + STACK_GUARD, stack_size_of());
    gate_status rc = rt_resume_frames(inst, &s, area, n, stack + STACK_GUARD + stack_size_of(),
                                      err);
    rt_entry_vm = NULL;
    inst->vm.host_sp = saved_sp;
    gate_status st;
    if (rc == GATE_ERR_SNAPSHOT || rc == GATE_ERR_TARGET) {
        inst->susp = s;             /* nothing ran: still suspended */
        st = rc;
    } else {
        rt_susp_free(inst, &s);
        if (rc == 3)
            inst->susp.entry_func = f;
        st = finish(inst, (uint32_t)rc, stack, false, err);
        if (st == GATE_OK)
            for (uint32_t i = 0, w = 0; i < nr; w += ft->results[i] == GT_V128 ? 2 : 1, i++) {
                results[i].type = (gate_valtype)ft->results[i];
                memset(&results[i].of, 0, sizeof results[i].of);
                memcpy(&results[i].of, &area[w], val_bytes(ft->results[i]));
            }
    }
    if (area != small)
        gx_free(&inst->eng->alloc, area, (size_t)n * 8);
    return st;
}

gate_status gate_abandon(gate_instance *inst)
{
    if (!inst || !inst->susp.active || rt_entry_vm || inst->zygote)
        return GATE_ERR_STATE;
    rt_susp_free(inst, &inst->susp);
    atomic_store(&inst->vm.stop_req, 0);
    return GATE_OK;
}

uint32_t gate_trap_backtrace(const gate_instance *inst, uint32_t *funcs, uint32_t *offsets,
                             uint32_t max)
{
    uint32_t n = inst->vm.nbt;
    for (uint32_t i = 0; i < n && i < max; i++) {
        funcs[i] = inst->vm.bt_func[i];
        offsets[i] = inst->vm.bt_off[i];
    }
    return n;
}

const char *gate_module_func_name(const gate_module *mod, uint32_t func)
{
    return gd_func_name(&mod->info, func);
}

int gate_exit_code(const gate_instance *inst)
{
    return inst->exit_code;
}

gate_status gate_trap_info_get(const gate_instance *inst, gate_trap_info *out)
{
    *out = inst->vm.trap;
    return GATE_OK;
}

gate_status gate_instance_global(gate_instance *inst, const char *name, gate_val *out)
{
    int64_t e = find_export(inst, name, strlen(name), GATE_EXTERN_GLOBAL);
    if (e < 0)
        return GATE_ERR_ARG;
    uint32_t g = inst->mod->info.exports[e].index;
    rt_global *go = inst->global_objs[g];
    out->type = (gate_valtype)go->type;
    memset(&out->of, 0, sizeof out->of);
    memcpy(&out->of, go->bits, go->type == GT_I32 || go->type == GT_F32 ? 4 : 8);
    return GATE_OK;
}

uint8_t *gate_memory_data(gate_instance *inst, uint64_t *size)
{
    if (size)
        *size = inst->mem ? inst->mem->pages * 65536 : 0;
    return inst->mem ? inst->mem->base : NULL;
}

gate_status gate_memory_read(gate_instance *inst, uint64_t offset, void *dst, size_t len)
{
    if (!inst->mem || offset > inst->mem->pages * 65536 ||
        len > inst->mem->pages * 65536 - offset)
        return GATE_ERR_ARG;
    memcpy(dst, inst->mem->base + offset, len);
    return GATE_OK;
}

gate_status gate_memory_write(gate_instance *inst, uint64_t offset, const void *src, size_t len)
{
    if (!inst->mem || offset > inst->mem->pages * 65536 ||
        len > inst->mem->pages * 65536 - offset)
        return GATE_ERR_ARG;
    memcpy(inst->mem->base + offset, src, len);
    return GATE_OK;
}

/* ---- fork ---------------------------------------------------------------- */

/*
 * Makes (or refreshes) the memfd template of m from its current contents
 * and maps the owner's pages from it copy-on-write, so the owner and its
 * children share every page none of them has written.
 */
static pthread_mutex_t template_lock = PTHREAD_MUTEX_INITIALIZER;

static bool memory_template(rt_memory *m)
{
    if (m->template_fd >= 0 && !m->template_stale && m->template_pages == m->pages)
        return true;
    size_t size = (size_t)m->pages * 65536;
    int fd = memfd_create("gate-memory", MFD_CLOEXEC);
    if (fd < 0)
        return false;
    bool ok = ftruncate(fd, (off_t)size) == 0;
    for (size_t done = 0; ok && done < size;) {
        ssize_t w = pwrite(fd, m->base + done, size - done, (off_t)done);
        ok = w > 0;
        done += ok ? (size_t)w : 0;
    }
    if (ok && size &&
        mmap(m->base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED, fd, 0) == MAP_FAILED)
        ok = false;
    if (!ok) {
        close(fd);
        return false;
    }
    if (m->template_fd >= 0)
        close(m->template_fd);
    m->template_fd = fd;
    m->template_pages = m->pages;
    m->template_stale = false;
    return true;
}

/* A copy of an instance's memory, mapped from the template.  Forks of
   one parent may run on several threads at once (a world's spawns). */
static rt_memory *memory_fork(gate_engine *eng, rt_memory *parent)
{
    rt_memory *m = memory_new(eng, 0, parent->max);
    if (!m)
        return NULL;
    size_t size = (size_t)parent->pages * 65536;
    pthread_mutex_lock(&template_lock);
    bool ok = memory_template(parent) &&
              (!size || mmap(m->base, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_FIXED,
                             parent->template_fd, 0) != MAP_FAILED);
    pthread_mutex_unlock(&template_lock);
    if (!ok) {
        memory_unref(eng, m);
        return NULL;
    }
    m->pages = parent->pages;
    m->bytes = parent->bytes;
    m->decl_max = parent->decl_max;
    return m;
}

/* The parent's imported functions and the child's, by the parent's
   reference (a child with imports of its own links them anew). */
typedef struct fork_pair { uintptr_t from; void *to; } fork_pair;
typedef struct fork_map { fork_pair *v; uint32_t n; } fork_map;

static int cmp_pair(const void *a, const void *b)
{
    uintptr_t x = ((const fork_pair *)a)->from, y = ((const fork_pair *)b)->from;
    return x < y ? -1 : x > y;
}

/* The child's reference for the parent's reference r. */
static void *fork_ref(const gate_instance *parent, gate_instance *child, const fork_map *map,
                      void *r)
{
    const gd_module *m = &parent->mod->info;
    if (r >= (void *)parent->own_funcs && r < (void *)(parent->own_funcs + m->nfuncs))
        return &child->own_funcs[(gate_funcref *)r - parent->own_funcs];
    for (uint32_t lo = 0, hi = map->n; lo < hi;) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (map->v[mid].from == (uintptr_t)r)
            return map->v[mid].to;
        if (map->v[mid].from < (uintptr_t)r)
            lo = mid + 1;
        else
            hi = mid;
    }
    return r;           /* null, or a function that is the same for both */
}

/* imp NULL: the child shares the parent's imports; else it links its own */
static gate_instance *fork_impl(gate_instance *p, gate_imports *imp, gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!p || rt_entry_vm == &p->vm) {
        err_set(err, GATE_ERR_STATE, "fork needs an idle or stopped instance%s%s", "", "");
        return NULL;
    }
    gate_engine *eng = p->eng;
    const gd_module *m = &p->mod->info;
    if (imp && imp->eng != eng) {
        err_set(err, GATE_ERR_ARG, "the imports belong to another engine%s%s", "", "");
        return NULL;
    }
    if (!imp && p->zygote) {
        err_set(err, GATE_ERR_STATE,
                "a zygote forks only with imports of the child's own (gate_instance_fork_imports)"
                "%s%s", "", "");
        return NULL;
    }
    if (m->nmem_imports || m->ntable_imports || (!imp && p->nhosts)) {
        err_set(err, GATE_ERR_STATE,
                "fork of instances with imported memories or tables is not supported yet%s%s",
                "", "");
        return NULL;
    }
    fork_map map = { NULL, 0 };
    gate_instance *c = gx_malloc(&eng->alloc, sizeof *c);
    if (!c) {
        err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
        return NULL;
    }
    memset(c, 0, sizeof *c);
    c->eng = eng;
    c->mod = p->mod;
    c->stack_size = p->stack_size;
    c->lim = p->lim;
    c->prog_ndata = p->prog_ndata;
    c->table_elems = p->table_elems;
    c->table_limit = p->table_limit;
    c->prog_nelems = p->prog_nelems;
    p->mod->refs++;
    size_t nf = m->nfuncs, nt = m->ntables, ng = m->nglobals;
    c->own_funcs = gx_malloc(&eng->alloc, (nf + 1) * sizeof *c->own_funcs);
    c->funcs = gx_malloc(&eng->alloc, (nf + 1) * sizeof *c->funcs);
    c->tables = gx_malloc(&eng->alloc, (nt + 1) * sizeof *c->tables);
    c->globals = gx_malloc(&eng->alloc, (ng + 1) * sizeof *c->globals);
    c->global_objs = gx_malloc(&eng->alloc, (ng + 1) * sizeof *c->global_objs);
    c->host_frs = gx_malloc(&eng->alloc, (m->nfunc_imports + 1) * sizeof *c->host_frs);
    c->data_dropped = gx_malloc(&eng->alloc, m->ndata + 1);
    c->elem_dropped = gx_malloc(&eng->alloc, m->nelems + 1);
    if (!c->own_funcs || !c->funcs || !c->tables || !c->globals || !c->global_objs ||
        !c->host_frs || !c->data_dropped || !c->elem_dropped)
        goto nomem;
    memset(c->tables, 0, (nt + 1) * sizeof *c->tables);
    memset(c->global_objs, 0, (ng + 1) * sizeof *c->global_objs);
    memcpy(c->data_dropped, p->data_dropped, m->ndata + 1);
    memcpy(c->elem_dropped, p->elem_dropped, m->nelems + 1);
    c->vm = p->vm;                      /* limits, helpers, signature ids, fuel */
    c->vm.inst = c;
    c->vm.funcs = c->funcs;
    c->vm.tables = c->tables;
    c->vm.globals = c->globals;
    c->vm.host_sp = 0;
    atomic_store(&c->vm.stop_req, 0);
    c->wasi = imp ? NULL : p->wasi;     /* shared with the parent, or the child's own */
    for (uint32_t i = 0; imp && i < m->nimports; i++)
        if (!link_one(c, imp, &m->imports[i], err)) {
            gate_instance_free(c);
            return NULL;
        }
    for (uint32_t f = 0; f < nf; f++) {
        if (f < m->nfunc_imports) {
            if (!imp)
                c->funcs[f] = p->funcs[f];
        } else {
            c->own_funcs[f] = p->own_funcs[f];
            c->own_funcs[f].vm = &c->vm;
            c->funcs[f] = &c->own_funcs[f];
        }
    }
    if (p->mem && !(c->mem = memory_fork(eng, p->mem))) {
        err_set(err, GATE_ERR_NOMEM, "cannot map the memory copy-on-write%s%s", "", "");
        gate_instance_free(c);
        return NULL;
    }
    c->vm.mem = c->mem;
    c->vm.mem_base = c->mem ? c->mem->base : NULL;
    if (imp && m->nfunc_imports) {
        map.v = gx_malloc(&eng->alloc, (size_t)m->nfunc_imports * sizeof *map.v);
        if (!map.v)
            goto nomem;
        for (uint32_t f = 0; f < m->nfunc_imports; f++)
            if ((void *)p->funcs[f] != (void *)c->funcs[f])
                map.v[map.n++] = (fork_pair){ (uintptr_t)p->funcs[f], c->funcs[f] };
        qsort(map.v, map.n, sizeof *map.v, cmp_pair);
    }
    for (uint32_t t = 0; t < nt; t++) {
        const rt_table *pt = p->tables[t];
        rt_table *ct = gx_malloc(&eng->alloc, sizeof *ct);
        if (!ct)
            goto nomem;
        *ct = *pt;
        ct->refs = 1;
        ct->elems = gx_malloc(&eng->alloc, (size_t)pt->cap * sizeof(void *) + 8);
        c->tables[t] = ct;
        if (!ct->elems)
            goto nomem;
        for (uint32_t k = 0; k < pt->size; k++)
            ct->elems[k] = fork_ref(p, c, &map, pt->elems[k]);
    }
    for (uint32_t g = 0; g < ng; g++) {
        if (g < m->nglobal_imports) {
            if (imp)
                continue;           /* linked above */
            rt_global *go = p->global_objs[g];
            go->refs++;
            c->global_objs[g] = go;
            c->globals[g] = go->bits;
            continue;
        }
        rt_global *go = gx_malloc(&eng->alloc, sizeof *go);
        if (!go)
            goto nomem;
        *go = *p->global_objs[g];
        go->refs = 1;
        if (gt_is_ref(go->type))
            go->bits[0] = (uint64_t)(uintptr_t)fork_ref(p, c, &map, (void *)(uintptr_t)go->bits[0]);
        c->global_objs[g] = go;
        c->globals[g] = go->bits;
    }
    if (p->susp.active) {               /* a stopped call is cloned too */
        rt_susp *s = &c->susp;
        *s = p->susp;
        s->frames = gx_malloc(&eng->alloc, (size_t)s->nframes * sizeof *s->frames + 1);
        if (!s->frames) {
            memset(s, 0, sizeof *s);
            goto nomem;
        }
        for (uint32_t i = 0; i < s->nframes; i++) {
            s->frames[i] = p->susp.frames[i];
            s->frames[i].slots = gx_malloc(&eng->alloc, (size_t)s->frames[i].nslots * 8 + 8);
            if (!s->frames[i].slots) {
                s->nframes = i;
                goto nomem;
            }
            memcpy(s->frames[i].slots, p->susp.frames[i].slots,
                   (size_t)s->frames[i].nslots * 8);
        }
        /* references in slots are native pointers: map them to the child's.
           Slot types are not stored, so only pointers into the parent's own
           function table can be references, and they are mapped. */
        for (uint32_t i = 0; i < s->nframes; i++)
            for (uint32_t k = 0; k < s->frames[i].nslots; k++) {
                void *r = (void *)(uintptr_t)s->frames[i].slots[k];
                void *n = fork_ref(p, c, &map, r);
                if (n != r)
                    s->frames[i].slots[k] = (uint64_t)(uintptr_t)n;
            }
        /* and the pending call's function references (its arguments to
           restart with, or its results), whose types are known */
        if (s->pending && s->callee < m->nfunc_imports) {
            const gd_functype *ft = gd_func_type(m, s->callee);
            const uint8_t *t = s->pending == RT_PENDING_RESTART ? ft->params : ft->results;
            for (uint32_t k = 0; k < s->npend; k++)
                if (t[k] == GT_FUNCREF)
                    s->pend[k] = (uint64_t)(uintptr_t)fork_ref(p, c, &map,
                                                               (void *)(uintptr_t)s->pend[k]);
        }
    }
    gx_free(&eng->alloc, map.v, (size_t)m->nfunc_imports * sizeof *map.v);
    return c;
nomem:
    gx_free(&eng->alloc, map.v, (size_t)m->nfunc_imports * sizeof *map.v);
    err_set(err, GATE_ERR_NOMEM, "out of memory%s%s", "", "");
    gate_instance_free(c);
    return NULL;
}

gate_instance *gate_instance_fork(gate_instance *inst, gate_error *err)
{
    return fork_impl(inst, NULL, err);
}

gate_instance *gate_instance_fork_imports(gate_instance *inst, gate_imports *imp,
                                          gate_error *err)
{
    if (!imp) {
        err_set(err, GATE_ERR_ARG, "no imports for the child%s%s", "", "");
        return NULL;
    }
    gate_instance *c = fork_impl(inst, imp, err);
    if (c && inst->zygote && !rt_zygote_check_preopens(inst->zpre, inst->nzpre, c, err)) {
        gate_instance_free(c);
        return NULL;
    }
    return c;
}
