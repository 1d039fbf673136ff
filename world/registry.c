/*
 * registry.c - the modules a world's processes may spawn by name, with
 * what each may do (docs/world.md), and the kernel service spawn.
 *
 * A process gets nothing it was not granted: its grants come from the
 * registry entry it was spawned from (or from the host that spawned it),
 * never from the process that asks.  Spawning is charged to the asking
 * process's sponsor, so its process budget stops a fork bomb.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "world.h"

static bool parse_version(const char *s, unsigned v[3])
{
    v[0] = v[1] = v[2] = 0;
    for (int i = 0; i < 3; i++) {
        if (*s < '0' || *s > '9')
            return false;
        unsigned long n = 0;
        while (*s >= '0' && *s <= '9' && n < 1000000)
            n = n * 10 + (unsigned)(*s++ - '0');
        v[i] = (unsigned)n;
        if (i < 2) {
            if (*s != '.')
                return false;
            s++;
        }
    }
    return *s == 0;
}

static int vcmp(const unsigned a[3], const unsigned b[3])
{
    for (int i = 0; i < 3; i++)
        if (a[i] != b[i])
            return a[i] < b[i] ? -1 : 1;
    return 0;
}

static gw_reg *reg_find(gate_world *w, const char *name, size_t len)
{
    for (uint32_t i = 0; i < w->nreg; i++)
        if (strlen(w->reg[i].name) == len && !memcmp(w->reg[i].name, name, len))
            return &w->reg[i];
    return NULL;
}

/* "name" or "name@>=X.Y.Z": false when it is not well formed */
static bool parse_dep(const char *d, size_t *nl, unsigned min[3])
{
    const char *at = strchr(d, '@');
    min[0] = min[1] = min[2] = 0;
    *nl = at ? (size_t)(at - d) : strlen(d);
    if (*nl == 0 || *nl >= 64)
        return false;
    return !at || (at[1] == '>' && at[2] == '=' && parse_version(at + 3, min));
}

gate_status gate_world_register(gate_world *w, const gate_registry_entry *e, gate_error *err)
{
    gw_err_reset(err);
    if (!w || !e || !e->name || (!e->module && !e->zygote) || !e->version) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return GATE_ERR_ARG;
    }
    if (e->zygote && !gate_is_zygote(e->zygote)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "registry: \"%.60s\": the instance "
                "is not a zygote", e->name);
        return GATE_ERR_ARG;
    }
    gate_module *mod = e->zygote ? e->zygote->mod : e->module;
    unsigned v[3];
    size_t nl = strlen(e->name);
    if (nl == 0 || nl >= 64 || strchr(e->name, '@') || !parse_version(e->version, v)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "registry: \"%.60s\" %.20s: want a name (no '@') and a MAJOR.MINOR.PATCH version",
                e->name, e->version);
        return GATE_ERR_ARG;
    }
    if (mod->eng != w->eng) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "registry: \"%.60s\": the module "
                "belongs to another engine", e->name);
        return GATE_ERR_ARG;
    }
    if (e->hash && gate_module_hash(mod) != e->hash) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                "registry: \"%.60s\": the module's hash is %016llx, not the %016llx registered",
                e->name, (unsigned long long)gate_module_hash(mod),
                (unsigned long long)e->hash);
        return GATE_ERR_ARG;
    }
    for (size_t i = 0; i < e->ndepends; i++) {
        size_t dl;
        unsigned mv[3];
        if (!e->depends[i] || !parse_dep(e->depends[i], &dl, mv)) {
            gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC,
                    "registry: \"%.60s\": dependency \"%.60s\": want NAME or NAME@>=X.Y.Z",
                    e->name, e->depends[i] ? e->depends[i] : "");
            return GATE_ERR_ARG;
        }
    }
    pthread_mutex_lock(&w->lock);
    gate_status st = GATE_OK;
    if (reg_find(w, e->name, nl)) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "registry: \"%.60s\" is registered",
                e->name);
        st = GATE_ERR_ARG;
    } else if (w->nreg == w->capreg) {
        uint32_t cap = w->capreg ? w->capreg * 2 : 8;
        gw_reg *n = gx_realloc(&w->eng->alloc, w->reg, (size_t)w->capreg * sizeof *n,
                               (size_t)cap * sizeof *n);
        if (!n) {
            gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
            st = GATE_ERR_NOMEM;
        } else {
            w->reg = n;
            w->capreg = cap;
        }
    }
    if (st == GATE_OK) {
        gw_reg *r = &w->reg[w->nreg];
        memset(r, 0, sizeof *r);
        snprintf(r->name, sizeof r->name, "%s", e->name);
        snprintf(r->version, sizeof r->version, "%u.%u.%u", v[0], v[1], v[2]);
        memcpy(r->ver, v, sizeof v);
        snprintf(r->entry, sizeof r->entry, "%s", e->entry ? e->entry : "_start");
        r->one_copy = e->one_copy != 0;
        r->depends = e->ndepends ? gx_malloc(&w->eng->alloc, e->ndepends * sizeof *r->depends)
                                 : NULL;
        for (size_t i = 0; r->depends && i < e->ndepends; i++) {
            size_t l = strlen(e->depends[i]) + 1;
            r->depends[i] = gx_malloc(&w->eng->alloc, l);
            if (r->depends[i])
                memcpy(r->depends[i], e->depends[i], l);
            r->ndepends = i + 1;
        }
        /* without grants a registered module may do nothing it asks for
           unless the host trusts it (grants NULL in the entry) */
        r->grants = e->grants ? gw_grants_copy(w, e->grants) : NULL;
        r->module = mod;
        mod->refs++;
        r->zygote = e->zygote;
        w->nreg++;
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

void gate_world_set_imports(gate_world *w, gate_world_imports_fn fn, void *ud)
{
    if (!w)
        return;
    pthread_mutex_lock(&w->lock);
    w->imports_for = fn;
    w->imports_ud = ud;
    pthread_mutex_unlock(&w->lock);
}

static void reg_clear(gate_world *w, gw_reg *r)
{
    for (size_t k = 0; k < r->ndepends; k++)
        if (r->depends[k])
            gx_free(&w->eng->alloc, r->depends[k], strlen(r->depends[k]) + 1);
    if (r->depends)
        gx_free(&w->eng->alloc, r->depends, r->ndepends * sizeof *r->depends);
    gw_grants_free(w, r->grants);
    gate_module_free(r->module);
}

gate_status gate_world_unregister(gate_world *w, const char *name)
{
    if (!w || !name)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_reg *r = reg_find(w, name, strlen(name));
    if (r) {
        reg_clear(w, r);
        *r = w->reg[--w->nreg];
    }
    pthread_mutex_unlock(&w->lock);
    return r ? GATE_OK : GATE_ERR_NOT_FOUND;
}

void gw_registry_free(gate_world *w)
{
    for (uint32_t i = 0; i < w->nreg; i++)
        reg_clear(w, &w->reg[i]);
    gx_free(&w->eng->alloc, w->reg, (size_t)w->capreg * sizeof *w->reg);
    w->reg = NULL;
    w->nreg = w->capreg = 0;
}

static bool name_granted(const gate_grants *g, const char *name, size_t len)
{
    return !g || gw_pattern_match(g->spawn, g->nspawn, name, len);
}

/* spawn(name, name_len) -> pid, or -GATE_E* */
gate_status gw_k_spawn(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    gw_ret(res, 0);
    if (!p) {
        res[0].of.i32 = -GATE_ENOTCAPABLE;
        return GATE_OK;
    }
    gate_world *w = p->w;
    uint32_t len = (uint32_t)args[1].of.i32;
    const uint8_t *src = len && len < 64 ? gw_guest(ctx, (uint32_t)args[0].of.i32, len) : NULL;
    if (!src) {
        res[0].of.i32 = -GATE_EFAULT;
        return GATE_OK;
    }
    char name[64];
    memcpy(name, src, len);
    name[len] = 0;
    if (strlen(name) != len || !name_granted(p->grants, name, len)) {
        res[0].of.i32 = -GATE_ENOTCAPABLE;
        return GATE_OK;
    }
    pthread_mutex_lock(&w->lock);
    gw_reg *r = reg_find(w, name, len);
    int e = r ? 0 : GATE_ENOPROC;
    for (size_t i = 0; r && !e && i < r->ndepends; i++) {
        size_t dl;
        unsigned min[3];
        parse_dep(r->depends[i], &dl, min);
        gw_reg *d = reg_find(w, r->depends[i], dl);
        if (!d || vcmp(d->ver, min) < 0)
            e = GATE_ENOPROC;
    }
    for (uint32_t i = 0; r && !e && r->one_copy && i < w->nprocs; i++)
        if (w->procs[i]->state != GATE_PROC_DONE && !strcmp(w->procs[i]->regname, name))
            e = GATE_EAGAIN;
    gate_module *mod = r && !e ? r->module : NULL;
    gate_instance *zyg = r && !e ? r->zygote : NULL;
    gate_grants *grants = r && !e ? r->grants : NULL;
    char entry[128];
    snprintf(entry, sizeof entry, "%s", r ? r->entry : "");
    gate_world_imports_fn fn = w->imports_for;
    void *fud = w->imports_ud;
    if (mod)
        mod->refs++;                /* held across the unlocked part */
    pthread_mutex_unlock(&w->lock);
    if (e) {
        res[0].of.i32 = -e;
        return GATE_OK;
    }
    gate_error err = { .status = GATE_OK, .offset = UINT64_MAX, .func_index = GATE_NO_FUNC };
    const gate_grants *ignored = NULL;
    gate_imports *imp = fn ? fn(fud, name, NULL, 0, &ignored, &err) : gate_imports_new(w->eng);
    if (imp && !fn)
        gate_imports_world(imp, &err);
    gate_pid pid = 0;
    gate_spawn s = { .module = mod, .imports = imp, .own_imports = 1, .entry = entry,
                     .sponsor = p->sp, .name = name, .grants = grants, .zygote = zyg };
    /* a registry entry without grants is trusted: everything (NULL) */
    gate_status st = imp ? gate_world_spawn(w, &s, &pid, &err) : GATE_ERR_NOMEM;
    gate_module_free(mod);
    if (st != GATE_OK) {
        if (imp)
            gate_imports_free(imp);
        res[0].of.i32 = st == GATE_ERR_LIMIT ? -GATE_EAGAIN : -GATE_ENOPROC;
        return GATE_OK;
    }
    pthread_mutex_lock(&w->lock);
    gw_proc *c = gw_find(w, pid);
    if (c)
        snprintf(c->regname, sizeof c->regname, "%s", name);
    pthread_mutex_unlock(&w->lock);
    res[0].of.i32 = (int32_t)pid;
    return GATE_OK;
}

/* The records procs and modules write: as many as fit in cap bytes; the
   number there are. */
static uint8_t *out_buf(gate_call_ctx *ctx, const gate_val *args, uint32_t *cap)
{
    *cap = (uint32_t)args[1].of.i32;
    return gw_guest(ctx, (uint32_t)args[0].of.i32, *cap);
}

static gw_proc *lister(gate_call_ctx *ctx, gate_val *res)
{
    gw_proc *p = gw_caller(ctx);
    gw_ret(res, 0);
    if (!p || (p->grants && !p->grants->list)) {
        res[0].of.i32 = -GATE_ENOTCAPABLE;
        return NULL;
    }
    return p;
}

/* procs(buf, cap) -> count: pid, state (u32 each), name[64] */
gate_status gw_k_procs(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = lister(ctx, res);
    if (!p)
        return GATE_OK;
    uint32_t cap;
    uint8_t *out = out_buf(ctx, args, &cap);
    if (!out) {
        res[0].of.i32 = -GATE_EFAULT;
        return GATE_OK;
    }
    gate_world *w = p->w;
    uint32_t n = 0, at = 0;
    pthread_mutex_lock(&w->lock);
    for (uint32_t i = 0; i < w->nprocs; i++) {
        gw_proc *q = w->procs[i];
        if (q->state == GATE_PROC_DONE)
            continue;
        if (at + 72 <= cap) {
            uint32_t st = (uint32_t)q->state;
            memcpy(out + at, &q->pid, 4);
            memcpy(out + at + 4, &st, 4);
            memset(out + at + 8, 0, 64);
            memcpy(out + at + 8, q->name, strnlen(q->name, 63));
            at += 72;
        }
        n++;
    }
    pthread_mutex_unlock(&w->lock);
    res[0].of.i32 = (int32_t)n;
    return GATE_OK;
}

/* modules(buf, cap) -> count: name[64], version[32] */
gate_status gw_k_modules(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = lister(ctx, res);
    if (!p)
        return GATE_OK;
    uint32_t cap;
    uint8_t *out = out_buf(ctx, args, &cap);
    if (!out) {
        res[0].of.i32 = -GATE_EFAULT;
        return GATE_OK;
    }
    gate_world *w = p->w;
    pthread_mutex_lock(&w->lock);
    uint32_t n = w->nreg;
    for (uint32_t i = 0; i < n && (i + 1) * 96 <= cap; i++) {
        memset(out + i * 96, 0, 96);
        memcpy(out + i * 96, w->reg[i].name, strnlen(w->reg[i].name, 63));
        memcpy(out + i * 96 + 64, w->reg[i].version, strnlen(w->reg[i].version, 31));
    }
    pthread_mutex_unlock(&w->lock);
    res[0].of.i32 = (int32_t)n;
    return GATE_OK;
}
