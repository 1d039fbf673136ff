/*
 * engine.c - engines, modules and the public entry points that are not
 * built yet (they answer GATE_ERR_NOT_IMPLEMENTED, as libgate.h says).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <xxhash.h>

#include "runtime.h"

const char *gate_version(void)
{
    return "0.1.0";
}

const char *gate_status_name(gate_status s)
{
    switch (s) {
    case GATE_OK: return "ok";
    case GATE_TRAPPED: return "trapped";
    case GATE_EXITED: return "exited";
    case GATE_SUSPENDED: return "suspended";
    case GATE_ERR_MALFORMED: return "malformed";
    case GATE_ERR_INVALID: return "invalid";
    case GATE_ERR_LIMIT: return "limit";
    case GATE_ERR_UNLINKABLE: return "unlinkable";
    case GATE_ERR_INSTANTIATE: return "instantiate";
    case GATE_ERR_NOMEM: return "out of memory";
    case GATE_ERR_ARG: return "bad argument";
    case GATE_ERR_IO: return "i/o";
    case GATE_ERR_TARGET: return "target";
    case GATE_ERR_OBJECT: return "object";
    case GATE_ERR_SNAPSHOT: return "snapshot";
    case GATE_ERR_STATE: return "state";
    case GATE_ERR_NOT_IMPLEMENTED: return "not implemented yet";
    case GATE_ERR_NOT_FOUND: return "not found";
    }
    return "unknown status";
}

char *gate_error_format(const gate_error *e, char *buf, size_t size)
{
    size_t n = 0;
    if (!size)
        return buf;
    buf[0] = 0;
    if (e->offset != UINT64_MAX)
        n += (size_t)snprintf(buf + n, size - n, "offset 0x%llx: ",
                              (unsigned long long)e->offset);
    if (n < size && e->func_index != GATE_NO_FUNC)
        n += (size_t)snprintf(buf + n, size - n, "func %u: ", e->func_index);
    if (n < size)
        snprintf(buf + n, size - n, "%s: %s", gate_status_name(e->status), e->message);
    return buf;
}

static void err_reset(gate_error *err)
{
    if (err) {
        err->status = GATE_OK;
        err->offset = UINT64_MAX;
        err->func_index = GATE_NO_FUNC;
        err->message[0] = 0;
    }
}

static void *default_alloc(void *ud, void *ptr, size_t osize, size_t nsize)
{
    (void)ud;
    (void)osize;
    if (nsize == 0) {
        free(ptr);
        return NULL;
    }
    void *p = realloc(ptr, nsize);
    /* big buffers (snapshots, module copies, code) are written once from
       end to end: transparent huge pages save most of their page faults */
    if (p && nsize >= ((size_t)4 << 20))
        gx_advise_huge(p, nsize);
    return p;
}

void gate_config_init(gate_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->target = GATE_TARGET_HOST;
    cfg->bounds = GATE_BOUNDS_GUARD;
    cfg->safepoint_checks = 1;
    cfg->cpu_features = -1;
}

gate_engine *gate_engine_new(const gate_config *cfg, gate_error *err)
{
    gate_config def;
    err_reset(err);
    if (!cfg) {
        gate_config_init(&def);
        cfg = &def;
    }
    if (cfg->target > GATE_TARGET_ARM64) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "unknown target %d",
                (int)cfg->target);
        return NULL;
    }
    if (cfg->object_key && (cfg->object_key_len < 16 || cfg->object_key_len > 64)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "object key of %zu bytes: 16 to 64 are allowed", cfg->object_key_len);
        return NULL;
    }
    gx_alloc a = { cfg->alloc ? cfg->alloc : default_alloc, cfg->alloc_ud };
    gate_engine *eng = gx_malloc(&a, sizeof *eng);
    if (!eng) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    memset(eng, 0, sizeof *eng);
    eng->cfg = *cfg;
    if (cfg->object_key) {
        memcpy(eng->key, cfg->object_key, cfg->object_key_len);
        eng->cfg.object_key = eng->key;
    } else {
        eng->cfg.object_key_len = 0;
    }
    eng->alloc = a;
    gd_limits_from_config(&eng->lim, cfg);
    pthread_mutex_init(&eng->lock, NULL);
    pthread_mutex_init(&eng->pool_lock, NULL);
    eng->sigs = NULL;
    eng->nsigs = eng->capsigs = 0;
    return eng;
}

void gate_engine_free(gate_engine *eng)
{
    if (!eng)
        return;
    for (uint32_t i = 0; i < eng->ngrave; i++)
        gate_instance_free(eng->graveyard[i]);
    gx_free(&eng->alloc, eng->graveyard, (size_t)eng->capgrave * sizeof *eng->graveyard);
    for (uint32_t i = 0; i < eng->nsigs; i++)
        gx_free(&eng->alloc, eng->sigs[i], strlen(eng->sigs[i]) + 1);
    gx_free(&eng->alloc, eng->sigs, (size_t)eng->capsigs * sizeof *eng->sigs);
    for (uint32_t i = 0; i < eng->npool; i++)
        munmap(eng->pool[i].base, eng->pool[i].size);
    pthread_mutex_destroy(&eng->pool_lock);
    pthread_mutex_destroy(&eng->lock);
    explicit_bzero(eng->key, sizeof eng->key);
    gx_free(&eng->alloc, eng, sizeof *eng);
}

/* Keeps a failed instance alive until the engine goes (see runtime.h). */
void rt_bury(gate_engine *eng, gate_instance *inst)
{
    pthread_mutex_lock(&eng->lock);
    if (eng->ngrave == eng->capgrave) {
        uint32_t cap = eng->capgrave ? eng->capgrave * 2 : 8;
        gate_instance **n = gx_realloc(&eng->alloc, eng->graveyard,
                                       (size_t)eng->capgrave * sizeof *n, (size_t)cap * sizeof *n);
        if (n) {
            eng->graveyard = n;
            eng->capgrave = cap;
        }
    }
    if (eng->ngrave < eng->capgrave)
        eng->graveyard[eng->ngrave++] = inst;
    pthread_mutex_unlock(&eng->lock);
}

/*
 * Engine-wide signature ids: call_indirect and import checks compare one
 * integer.  The key is the signature string; 0 means "out of memory".
 */
uint32_t rt_sig_id(gate_engine *eng, const gd_functype *t)
{
    char stack[256];
    size_t need = (size_t)t->nparams + t->nresults + 4;
    char *key = need <= sizeof stack ? stack : gx_malloc(&eng->alloc, need);
    if (!key)
        return 0;
    gd_sig_string(t, key, need);
    uint32_t id = 0;
    pthread_mutex_lock(&eng->lock);
    for (uint32_t i = 0; i < eng->nsigs && !id; i++)
        if (!strcmp(eng->sigs[i], key))
            id = i + 1;
    if (!id) {
        if (eng->nsigs == eng->capsigs) {
            uint32_t cap = eng->capsigs ? eng->capsigs * 2 : 16;
            char **n = gx_realloc(&eng->alloc, eng->sigs, (size_t)eng->capsigs * sizeof *n,
                                  (size_t)cap * sizeof *n);
            if (n) {
                eng->sigs = n;
                eng->capsigs = cap;
            }
        }
        size_t len = strlen(key) + 1;
        char *copy = eng->nsigs < eng->capsigs ? gx_malloc(&eng->alloc, len) : NULL;
        if (copy) {
            memcpy(copy, key, len);
            eng->sigs[eng->nsigs++] = copy;
            id = eng->nsigs;
        }
    }
    pthread_mutex_unlock(&eng->lock);
    if (key != stack)
        gx_free(&eng->alloc, key, need);
    return id;
}

/*
 * Whether code compiled from module a runs module b unchanged: the same
 * types, the same function, table, memory and global declarations
 * (imported and defined) and byte-identical function bodies.  A snapshot
 * keeps all of these from its program; only initial values, segments and
 * sizes differ, and the code reads those at run time.
 */
static bool same_code(const gd_module *a, const gd_module *b)
{
    if (a->ntypes != b->ntypes || a->nfuncs != b->nfuncs || a->nfunc_imports != b->nfunc_imports ||
        a->ntables != b->ntables || a->ntable_imports != b->ntable_imports ||
        a->nmems != b->nmems || a->nmem_imports != b->nmem_imports ||
        a->nglobals != b->nglobals || a->nglobal_imports != b->nglobal_imports)
        return false;
    for (uint32_t i = 0; i < a->ntypes; i++) {
        const gd_functype *x = &a->types[i], *y = &b->types[i];
        if (x->nparams != y->nparams || x->nresults != y->nresults ||
            (x->nparams && memcmp(x->params, y->params, x->nparams)) ||
            (x->nresults && memcmp(x->results, y->results, x->nresults)))
            return false;
    }
    for (uint32_t i = 0; i < a->nfuncs; i++) {
        const gd_func *x = &a->funcs[i], *y = &b->funcs[i];
        if (x->type != y->type ||
            (i >= a->nfunc_imports &&
             (x->body_len != y->body_len ||
              x->body_off - a->code_off != y->body_off - b->code_off ||
              memcmp(a->bytes + x->body_off, b->bytes + y->body_off, x->body_len))))
            return false;
    }
    for (uint32_t i = 0; i < a->ntables; i++)
        if (a->tables[i].elem != b->tables[i].elem)
            return false;
    for (uint32_t i = 0; i < a->nglobals; i++)
        if (a->globals[i].type != b->globals[i].type || a->globals[i].mut != b->globals[i].mut)
            return false;
    return true;
}

/* The code of donor fits mod, on an engine that compiles the same way. */
static bool can_share(const gate_module *mod, const gate_module *donor)
{
    const gate_config *a = &mod->eng->cfg, *b = &donor->eng->cfg;
    return donor->exec && donor->compile_err.status == GATE_OK && a->bounds == b->bounds &&
           !a->fuel == !b->fuel && !a->deterministic == !b->deterministic &&
           a->safepoint_checks == b->safepoint_checks &&
           (donor->cpu_used & ~a->cpu_features) == 0 && same_code(&donor->info, &mod->info);
}

static bool copy_code(gc_code *dst, const gc_code *src, gx_alloc *a)
{
    memset(dst, 0, sizeof *dst);
    dst->alloc = *a;
    dst->code = gx_malloc(a, src->size + 1);
    dst->func_off = gx_malloc(a, (size_t)src->nfuncs * 4 + 4);
    dst->func_frame = gx_malloc(a, (size_t)src->nfuncs * 4 + 4);
    dst->sp = gx_malloc(a, (size_t)src->nsp * sizeof *dst->sp + 1);
    dst->traps = gx_malloc(a, (size_t)src->ntraps * sizeof *dst->traps + 1);
    dst->cap = src->size + 1;
    dst->nfuncs = src->nfuncs;
    dst->capsp = src->nsp;
    dst->captraps = src->ntraps;
    if (!dst->code || !dst->func_off || !dst->func_frame || !dst->sp || !dst->traps)
        return false;
    memcpy(dst->code, src->code, src->size);
    dst->size = src->size;
    memcpy(dst->func_off, src->func_off, (size_t)src->nfuncs * 4);
    memcpy(dst->func_frame, src->func_frame, (size_t)src->nfuncs * 4);
    memcpy(dst->sp, src->sp, (size_t)src->nsp * sizeof *dst->sp);
    memcpy(dst->traps, src->traps, (size_t)src->ntraps * sizeof *dst->traps);
    dst->nsp = src->nsp;
    dst->ntraps = src->ntraps;
    dst->cpu_features = src->cpu_features;
    return true;
}

/*
 * Compiles for this host (or takes a copy of donor's code when it fits,
 * *shared set) and maps the code read+execute (never writable and
 * executable at once).  A module the backend cannot compile yet (SIMD)
 * still loads; instantiating it reports why.
 */
static bool compile_host(gate_module *mod, const gate_module *donor, bool *shared,
                         gate_error *err)
{
    gate_engine *eng = mod->eng;
    const gd_module *m = &mod->info;
    mod->sigids = gx_malloc(&eng->alloc, ((size_t)m->ntypes + 1) * 4);
    if (!mod->sigids)
        return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (!(mod->sigids[i] = rt_sig_id(eng, &m->types[i])))
            return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
#if defined(__x86_64__) || defined(__aarch64__)
#if defined(__x86_64__)
    const gc_backend *be = &gc_backend_x86_64;
#else
    const gc_backend *be = &gc_backend_arm64;
#endif
    gate_error cerr = { .status = GATE_OK, .offset = UINT64_MAX, .func_index = GATE_NO_FUNC };
    gc_options opt = { .explicit_bounds = eng->cfg.bounds == GATE_BOUNDS_EXPLICIT,
                       .fuel = eng->cfg.fuel != 0,
                       .no_loop_checks = eng->cfg.safepoint_checks == 0,
                       .deterministic = eng->cfg.deterministic != 0,
                       .cpu_features = eng->cfg.cpu_features,
                       .map_code = true };
    *shared = donor && can_share(mod, donor);
    if (*shared) {
        /* the compiler validated while compiling; without it, validate here */
        if (!gd_validate_all(m, &eng->alloc, &eng->lim, err))
            return false;
        if (!copy_code(&mod->code, &donor->code, &eng->alloc))
            return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        /* the bodies are the same bytes, moved as a whole: the maps' wasm
           offsets move with them (mod 2^32), helpers' through code_shift */
        uint32_t shift = (uint32_t)(m->code_off - donor->info.code_off);
        mod->code_shift = shift + donor->code_shift;
        for (uint32_t i = 0; i < mod->code.nsp; i++)
            mod->code.sp[i].wasm += shift;
        for (uint32_t i = 0; i < mod->code.ntraps; i++)
            mod->code.traps[i].wasm += shift;
    } else if (!gc_compile(m, be, &eng->alloc, &eng->lim, &opt, &mod->code, &cerr)) {
        if (cerr.status != GATE_ERR_NOT_IMPLEMENTED) {
            *err = cerr;
            return false;
        }
        mod->compile_err = cerr;
        return true;
    }
    void *p;
    size_t sz;
    if (mod->code.mapped) {
        /* generated in its own mapping: made executable where it is */
        p = mod->code.code;
        sz = mod->code.cap;
    } else {
        sz = (mod->code.size + 4095) & ~(size_t)4095;
        if (sz == 0)
            sz = 4096;
        p = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED)
            return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot map code");
        if (mod->code.size)
            memcpy(p, mod->code.code, mod->code.size);
    }
    __builtin___clear_cache((char *)p, (char *)p + sz);   /* ARM64: I-cache; x86: nothing */
    if (mprotect(p, sz, PROT_READ | PROT_EXEC)) {
        if (p != mod->code.code)
            munmap(p, sz);
        return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot protect code");
    }
    mod->exec = p;
    mod->exec_size = sz;
    mod->cpu_used = mod->code.cpu_features;
    if (!rt_code_register(mod)) {
        if (p != mod->code.code)
            munmap(p, sz);
        mod->exec = NULL;
        return gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                       "too many modules with code loaded");
    }
    return true;
#else
    (void)donor;
    gx_fail(&mod->compile_err, GATE_ERR_TARGET, UINT64_MAX, GATE_NO_FUNC,
            "no backend runs on this host yet");
    return true;
#endif
}

gate_status gate_validate(gate_engine *eng, const uint8_t *bytes, size_t len,
                          gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err_reset(err);
    if (!eng || (!bytes && len))
        return gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument"),
               GATE_ERR_ARG;
    gd_module m;
    bool ok = gd_decode(&m, &eng->alloc, bytes, len, &eng->lim, err) &&
              gd_validate_all(&m, &eng->alloc, &eng->lim, err);
    gd_module_free(&m);
    return ok ? GATE_OK : err->status;
}

gate_module *gate_module_new(gate_engine *eng, const uint8_t *bytes, size_t len,
                             gate_error *err)
{
    return rt_module_new(eng, bytes, len, NULL, NULL, err);
}

gate_module *rt_module_new(gate_engine *eng, const uint8_t *bytes, size_t len,
                           const gate_module *donor, bool *shared, gate_error *err)
{
    bool shared_local;
    if (!shared)
        shared = &shared_local;
    *shared = false;
    gate_error local;
    if (!err)
        err = &local;
    err_reset(err);
    if (!eng || (!bytes && len)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return NULL;
    }
    gate_module *mod = gx_malloc(&eng->alloc, sizeof *mod);
    uint8_t *copy = gx_malloc(&eng->alloc, len);
    if (!mod || !copy) {
        gx_free(&eng->alloc, mod, sizeof *mod);
        gx_free(&eng->alloc, copy, len);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    memset(mod, 0, sizeof *mod);
    if (len)
        memcpy(copy, bytes, len);
    mod->eng = eng;
    mod->refs = 1;
    mod->bytes = copy;
    mod->size = len;
    /* the compiler validates each function as it lowers it; a module it
       cannot compile (yet) is validated on its own */
    if (!gd_decode(&mod->info, &eng->alloc, copy, len, &eng->lim, err) ||
        !compile_host(mod, donor, shared, err) ||
        (mod->compile_err.status != GATE_OK &&
         !gd_validate_all(&mod->info, &eng->alloc, &eng->lim, err))) {
        gate_module_free(mod);
        return NULL;
    }
    return mod;
}

void gate_module_free(gate_module *mod)
{
    if (!mod || --mod->refs > 0)
        return;
    gx_alloc a = mod->eng->alloc;
    rt_module_image_free(mod);
    if (mod->exec) {
        rt_code_unregister(mod);
        if (mod->exec != mod->code.code)     /* else gc_code_free unmaps it */
            munmap(mod->exec, mod->exec_size);
    }
    if (mod->code.func_off)
        gc_code_free(&mod->code);
    gx_free(&a, mod->sigids, ((size_t)mod->info.ntypes + 1) * 4);
    gd_module_free(&mod->info);
    gx_free(&a, mod->bytes, mod->size);
    gx_free(&a, mod, sizeof *mod);
}

uint64_t rt_module_hash(gate_module *mod)
{
    if (!mod->has_hash) {
        mod->hash = XXH3_64bits(mod->bytes, mod->size);
        mod->has_hash = true;
    }
    return mod->hash;
}

uint64_t gate_module_hash(const gate_module *mod)
{
    return rt_module_hash((gate_module *)mod);
}

uint32_t gate_module_import_count(const gate_module *mod)
{
    return mod->info.nimports;
}

uint32_t gate_module_export_count(const gate_module *mod)
{
    return mod->info.nexports;
}

/* Fills the kind-specific part of a description from the index spaces. */
static void describe(const gate_module *mod, gate_extern_desc *d)
{
    const gd_module *m = &mod->info;
    d->signature = NULL;
    d->min = 0;
    d->max = UINT64_MAX;
    d->type = 0;
    d->mutable_ = 0;
    switch (d->kind) {
    case GATE_EXTERN_FUNC:
        break;
    case GATE_EXTERN_TABLE:
        d->min = m->tables[d->index].lim.min;
        d->max = m->tables[d->index].lim.max;
        d->type = (gate_valtype)m->tables[d->index].elem;
        break;
    case GATE_EXTERN_MEMORY:
        d->min = m->mems[d->index].lim.min;
        d->max = m->mems[d->index].lim.max;
        break;
    case GATE_EXTERN_GLOBAL:
        d->type = (gate_valtype)m->globals[d->index].type;
        d->mutable_ = m->globals[d->index].mut;
        break;
    }
}

gate_status gate_module_import(const gate_module *mod, uint32_t i,
                               gate_extern_desc *out)
{
    if (i >= mod->info.nimports)
        return GATE_ERR_ARG;
    const gd_import *im = &mod->info.imports[i];
    out->module = im->module;
    out->module_len = im->module_len;
    out->name = im->name;
    out->name_len = im->name_len;
    out->kind = (gate_extern_kind)im->kind;
    out->index = im->index;
    describe(mod, out);
    return GATE_OK;
}

gate_status gate_module_export(const gate_module *mod, uint32_t i,
                               gate_extern_desc *out)
{
    if (i >= mod->info.nexports)
        return GATE_ERR_ARG;
    const gd_export *ex = &mod->info.exports[i];
    out->module = NULL;
    out->module_len = 0;
    out->name = ex->name;
    out->name_len = ex->name_len;
    out->kind = (gate_extern_kind)ex->kind;
    out->index = ex->index;
    describe(mod, out);
    return GATE_OK;
}

void gate_free_buffer(gate_engine *eng, uint8_t *buf, size_t len)
{
    gx_free(&eng->alloc, buf, len);
}
