/*
 * zygote.c - instances initialised once and forked with fresh authorities.
 *
 * A zygote is linked with the host's live imports (if any) and, for every
 * other function import, a stub: an authority that is not live yet.  Its
 * initialisation (the start function, then the init export) runs until
 * it returns or reaches a stub.  A stub either traps ("not yet in the
 * world") or stops the zygote at that call as a restartable host call, so
 * that every child, forked with gate_instance_fork_imports, makes the
 * call again with an import of its own.  The import named until_* (and
 * gate.zygote_ready) always stops it there.  docs/zygotes.md.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>

#include "../libgate.h"
#include "runtime.h"

typedef struct zy_state {
    gate_engine *eng;
    gate_zygote_mode mode;
    char *const *names;         /* the zygote's preopen names (its instance owns them) */
    uint32_t nnames;
} zy_state;

static void zy_free(void *p)
{
    zy_state *z = p;
    if (z)
        gx_free(&z->eng->alloc, z, sizeof *z);
}

static const gd_import *import_of(const gd_module *m, uint32_t func)
{
    for (uint32_t i = 0; i < m->nimports; i++)
        if (m->imports[i].kind == GATE_EXTERN_FUNC && m->imports[i].index == func)
            return &m->imports[i];
    return NULL;
}

static bool is_ready(const gd_import *im)
{
    return im && !strcmp(im->module, "gate") && im->name_len == 12 &&
           !memcmp(im->name, "zygote_ready", 12);
}

/* Stops the zygote at this call (restarted in each child), or traps when
   it cannot stop here. */
static gate_status stop_here(gate_call_ctx *ctx, const gd_import *im)
{
    gate_instance *inst = gate_call_instance(ctx);
    char msg[128];
    if (inst->vm.no_stop || rt_entry_vm != &inst->vm) {
        snprintf(msg, sizeof msg, "not yet in the world: %.30s.%.30s (%s cannot stop)",
                 im ? im->module : "?", im ? im->name : "?",
                 inst->vm.no_stop ? "a start function" : "another instance's call");
        gate_call_trap(ctx, msg);
        return GATE_TRAPPED;
    }
    /* if the stop cannot be taken after all (frames of another instance
       in between, no memory), the call traps with this */
    snprintf(msg, sizeof msg, "not yet in the world: %.30s.%.30s (the zygote cannot stop here)",
             im ? im->module : "?", im ? im->name : "?");
    gate_call_trap(ctx, msg);
    ctx->must_stop = true;
    gate_call_request_stop(ctx, GATE_HOST_RESTART);
    return GATE_OK;
}

/* Every function import the host did not give as live. */
static gate_status zy_stub(gate_call_ctx *ctx, void *ud, const gate_val *args,
                           gate_val *results)
{
    (void)args, (void)results;
    const zy_state *z = ud;
    gate_instance *inst = gate_call_instance(ctx);
    const gd_import *im = import_of(&inst->mod->info, ctx->host->func);
    if (z->mode == GATE_ZYGOTE_TRAP && !is_ready(im)) {
        char msg[128];
        snprintf(msg, sizeof msg, "not yet in the world: %.50s.%.50s", im ? im->module : "?",
                 im ? im->name : "?");
        gate_call_trap(ctx, msg);
        return GATE_TRAPPED;
    }
    return stop_here(ctx, im);
}

/* The import until_module.until_name. */
static gate_status zy_until(gate_call_ctx *ctx, void *ud, const gate_val *args,
                            gate_val *results)
{
    (void)args, (void)results;
    gate_instance *inst = gate_call_instance(ctx);
    const gd_module *m = &inst->mod->info;
    const gd_import *im = NULL;
    for (uint32_t f = 0; f < m->nfunc_imports && !im; f++)
        if (inst->funcs[f]->vm == (const void *)ctx->host)
            im = import_of(m, f);
    (void)ud;
    return stop_here(ctx, im);
}

/* fd_prestat_get(fd, buf) and fd_prestat_dir_name(fd, buf, len) from the
   names the zygote was given: names are not authority */
static const char *zy_preopen(const zy_state *z, uint32_t fd)
{
    return fd >= 3 && fd - 3 < z->nnames ? z->names[fd - 3] : NULL;
}

static gate_status zy_result(gate_val *res, int32_t v)
{
    res[0].type = GATE_I32;
    res[0].of.i32 = v;
    return GATE_OK;
}

enum { W_SUCCESS = 0, W_BADF = 8, W_FAULT = 21, W_NAMETOOLONG = 37 };

static gate_status zy_prestat_get(gate_call_ctx *ctx, void *ud, const gate_val *args,
                                  gate_val *res)
{
    gate_instance *inst = gate_call_instance(ctx);
    const char *name = zy_preopen(ud, (uint32_t)args[0].of.i32);
    if (!name)
        return zy_result(res, W_BADF);
    uint32_t rec[2] = { 0, (uint32_t)strlen(name) };    /* tag 0: a directory */
    if (gate_memory_write(inst, (uint32_t)args[1].of.i32, rec, 8) != GATE_OK)
        return zy_result(res, W_FAULT);
    return zy_result(res, W_SUCCESS);
}

static gate_status zy_prestat_name(gate_call_ctx *ctx, void *ud, const gate_val *args,
                                   gate_val *res)
{
    gate_instance *inst = gate_call_instance(ctx);
    const char *name = zy_preopen(ud, (uint32_t)args[0].of.i32);
    if (!name)
        return zy_result(res, W_BADF);
    size_t len = strlen(name);
    if ((uint32_t)args[2].of.i32 < len)
        return zy_result(res, W_NAMETOOLONG);
    if (gate_memory_write(inst, (uint32_t)args[1].of.i32, name, len) != GATE_OK)
        return zy_result(res, W_FAULT);
    return zy_result(res, W_SUCCESS);
}

/* names[0..n) and the array, allocated for cap names (+1) */
void rt_zygote_names_free(gate_engine *eng, char **names, uint32_t n, uint32_t cap)
{
    for (uint32_t i = 0; names && i < n; i++)
        gx_free(&eng->alloc, names[i], strlen(names[i]) + 1);
    if (names)
        gx_free(&eng->alloc, names, (cap + 1) * sizeof *names);
}

bool rt_zygote_check_preopens(char *const *names, uint32_t n, const gate_instance *child,
                              gate_error *err)
{
    if (!child->wasi)
        return true;        /* the child has no WASI: nothing to agree on */
    /* a program that never asks for its preopens' names cannot have kept them */
    const gd_module *m = &child->mod->info;
    bool asks = false;
    for (uint32_t i = 0; i < m->nimports && !asks; i++)
        asks = m->imports[i].kind == GATE_EXTERN_FUNC &&
               !strcmp(m->imports[i].module, "wasi_snapshot_preview1") &&
               m->imports[i].name_len == 14 && !memcmp(m->imports[i].name, "fd_prestat_get", 14);
    if (!asks)
        return true;
    uint32_t top = rt_wasi_nfds(child->wasi);
    if (top < 3 + n)
        top = 3 + n;
    for (uint32_t fd = 3; fd < top; fd++) {
        const char *g = rt_wasi_preopen(child->wasi, fd);
        const char *want = fd - 3 < n ? names[fd - 3] : NULL;
        if (want && (!g || strcmp(g, want)))
            return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                           "the zygote's initialisation saw preopen \"%.100s\" as fd %u; the "
                           "child is granted %s%.100s%s there (grant the zygote's preopens, "
                           "in its order)", want, fd, g ? "\"" : "nothing", g ? g : "",
                           g ? "\"" : "");
        if (!want && g)
            return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                           "the child is granted preopen \"%.100s\" (fd %u), which the "
                           "zygote's initialisation did not see (it saw %u): its C "
                           "library would never find it", g, fd, n);
    }
    return true;
}

void gate_zygote_config_init(gate_zygote_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->mode = GATE_ZYGOTE_PEND;
}

/* Stubs for mod's imports: live ones first (borrowed), the until import
   before them all, every other function import to the fallback. */
static gate_imports *stub_imports(gate_engine *eng, const gd_module *m,
                                  const gate_zygote_config *cfg, char *const *names,
                                  uint32_t nnames, gate_error *err)
{
    gate_imports *zs = gate_imports_new(eng);
    zy_state *z = zs ? gx_malloc(&eng->alloc, sizeof *z) : NULL;
    if (!z) {
        gate_imports_free(zs);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    z->eng = eng;
    z->mode = cfg->mode;
    z->names = names;
    z->nnames = nnames;
    zs->owned[zs->nowned] = z;
    zs->owned_free[zs->nowned++] = zy_free;
    if (rt_imports_fallback(zs, zy_stub, z, err) != GATE_OK ||
        (cfg->live && rt_imports_borrow(zs, cfg->live, err) != GATE_OK)) {
        gate_imports_free(zs);
        return NULL;
    }
    for (uint32_t i = 0; i < m->nimports; i++) {
        const gd_import *im = &m->imports[i];
        if (im->kind != GATE_EXTERN_FUNC || strcmp(im->module, "wasi_snapshot_preview1"))
            continue;
        gate_raw_fn fn = im->name_len == 14 && !memcmp(im->name, "fd_prestat_get", 14)
                             ? zy_prestat_get
                         : im->name_len == 19 && !memcmp(im->name, "fd_prestat_dir_name", 19)
                             ? zy_prestat_name : NULL;
        const gd_functype *ft = gd_func_type(m, im->index);
        bool i32s = ft->nresults == 1 && ft->results[0] == GT_I32 &&
                    ft->nparams == (fn == zy_prestat_get ? 2u : 3u);
        for (uint32_t k = 0; i32s && k < ft->nparams; k++)
            i32s = ft->params[k] == GT_I32;
        if (fn && i32s &&
            rt_imports_stub(zs, im->module, im->name, ft, fn, z, err) != GATE_OK) {
            gate_imports_free(zs);
            return NULL;
        }
    }
    if (cfg->until_module && cfg->until_name) {
        bool found = false;
        for (uint32_t i = 0; i < m->nimports; i++) {
            const gd_import *im = &m->imports[i];
            if (im->kind != GATE_EXTERN_FUNC || strcmp(im->module, cfg->until_module) ||
                strlen(cfg->until_name) != im->name_len ||
                memcmp(im->name, cfg->until_name, im->name_len))
                continue;
            found = true;
            if (rt_imports_stub(zs, im->module, im->name, gd_func_type(m, im->index), zy_until,
                                z, err) != GATE_OK) {
                gate_imports_free(zs);
                return NULL;
            }
        }
        if (!found) {
            gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                    "the module imports no function %.100s.%.100s", cfg->until_module,
                    cfg->until_name);
            gate_imports_free(zs);
            return NULL;
        }
    }
    return zs;
}

gate_instance *gate_zygote_new(gate_module *mod, const gate_zygote_config *cfg,
                               gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    gate_zygote_config dflt;
    if (!cfg) {
        gate_zygote_config_init(&dflt);
        cfg = &dflt;
    }
    if (!mod || (cfg->live && cfg->live->eng != mod->eng)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                mod ? "the live imports belong to another engine" : "no module");
        return NULL;
    }
    if (!mod->exec) {
        *err = mod->compile_err;
        return NULL;
    }
    if (mod->info.nmem_imports || mod->info.ntable_imports) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "a zygote cannot import its memory or tables: its children could not own them");
        return NULL;
    }
    if (cfg->npreopens < 0 || cfg->npreopens > 4096 || (cfg->npreopens && !cfg->preopens)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "bad preopen names");
        return NULL;
    }
    for (int i = 0; i < cfg->npreopens; i++)
        if (!cfg->preopens[i] || !cfg->preopens[i][0] || strlen(cfg->preopens[i]) > 4096) {
            gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "preopen name %d is empty", i);
            return NULL;
        }
    gate_engine *eng = mod->eng;
    uint32_t np = (uint32_t)cfg->npreopens;
    char **names = gx_malloc(&eng->alloc, (np + 1) * sizeof *names);
    uint32_t k = 0;
    for (; names && k < np; k++) {
        size_t l = strlen(cfg->preopens[k]) + 1;
        if (!(names[k] = gx_malloc(&eng->alloc, l)))
            break;
        memcpy(names[k], cfg->preopens[k], l);
    }
    if (!names || k < np) {
        rt_zygote_names_free(eng, names, k, np);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    gate_imports *zs = stub_imports(eng, &mod->info, cfg, names, np, err);
    if (!zs) {
        rt_zygote_names_free(eng, names, np, np);
        return NULL;
    }
    gate_instance *z = gate_instance_new(mod, zs, &cfg->limits, err);
    if (!z) {
        rt_zygote_names_free(eng, names, np, np);
        gate_imports_free(zs);
        return NULL;
    }
    z->own_imports = zs;
    z->zpre = names;
    z->nzpre = np;
    if (cfg->init) {
        gate_val res[64];
        if (cfg->timeout_ns)
            gate_set_deadline(z, cfg->timeout_ns);
        gate_status st = gate_call(z, cfg->init, NULL, 0, res, 64, err);
        gate_set_deadline(z, 0);
        if (st == GATE_OK && atomic_load(&z->vm.stop_req)) {
            /* a stop was asked that could not be taken: refused */
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                    "the initialisation was asked to stop where it could not");
            st = GATE_ERR_STATE;
        }
        if (st == GATE_SUSPENDED && !z->susp.pending) {
            /* stopped by its deadline, not at an authority */
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                    "the initialisation did not finish within its %.3f s", cfg->timeout_ns / 1e9);
            st = GATE_ERR_LIMIT;
        }
        if (st == GATE_EXITED) {
            err->status = GATE_OK;
            gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                    "the program exited (status %d) during its initialisation",
                    gate_exit_code(z));
        } else if (st == GATE_TRAPPED) {
            char what[200];
            snprintf(what, sizeof what, "%.190s", err->message);
            uint32_t f = err->func_index;
            uint64_t off = err->offset;
            err->status = GATE_OK;
            gx_fail(err, GATE_TRAPPED, off, f, "the initialisation trapped: %s", what);
        } else if (st != GATE_OK && st != GATE_SUSPENDED) {
            /* err says why (no such export, wrong type) */
        } else {
            st = GATE_OK;
        }
        if (st != GATE_OK) {
            gate_instance_free(z);
            return NULL;
        }
    }
    z->zygote = true;
    return z;
}

gate_instance *gate_zygote_restore(gate_engine *eng, const uint8_t *bytes, size_t len,
                                   const gate_module *code, gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (!eng || !bytes) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return NULL;
    }
    /* the stubs of a restored zygote are never called (it does not run):
       they trap should that ever change */
    gate_zygote_config cfg;
    gate_zygote_config_init(&cfg);
    cfg.mode = GATE_ZYGOTE_TRAP;
    gd_module none = { 0 };
    gate_imports *zs = stub_imports(eng, &none, &cfg, NULL, 0, err);
    if (!zs)
        return NULL;
    gate_instance *z = gate_snapshot_restore_code(eng, bytes, len, code, zs, NULL, err);
    if (!z) {
        gate_imports_free(zs);
        return NULL;
    }
    z->own_imports = zs;
    z->zygote = true;
    return z;
}

int gate_is_zygote(const gate_instance *inst)
{
    return inst && inst->zygote;
}

int gate_zygote_pending(const gate_instance *z, char *buf, size_t cap)
{
    if (!z || !z->susp.active || !z->susp.pending)
        return 0;
    const gd_import *im = import_of(&z->mod->info, z->susp.callee);
    if (!im)
        return 0;
    if (buf && cap)
        snprintf(buf, cap, "%s.%.*s", im->module, (int)im->name_len, im->name);
    return 1;
}
