/*
 * decode.c - the module decoder: one forward pass over the sections,
 * checking everything that does not need a walk over a function body.
 *
 *   magic version { id size payload }*
 *
 * Each index space (functions, tables, memories, globals) is built from
 * the imports plus the space's own section, at the first section that
 * comes after that section's place in the order, so later sections can
 * check indices without a second pass.
 */
#include <string.h>

#include "compiler.h"

/* Section order: datacount (12) sits between element (9) and code (10). */
static const uint8_t section_order[13] = {
    [1] = 1, [2] = 2, [3] = 3, [4] = 4, [5] = 5, [6] = 6, [7] = 7,
    [8] = 8, [9] = 9, [12] = 10, [10] = 11, [11] = 12,
};
static const char *const section_name[13] = {
    "custom", "type", "import", "function", "table", "memory", "global",
    "export", "start", "element", "code", "data", "data count",
};

typedef struct dctx {
    gd_module *m;
    const gd_limits_cfg *lim;
    gate_error *err;
    /* import descriptors, kept until the index spaces are built */
    uint32_t *imp_type;          /* func: type index */
    gd_table *imp_table;
    gd_memory *imp_mem;
    gd_global *imp_global;
    bool built_funcs, built_tables, built_mems, built_globals;
    uint32_t nfunc_decl, ntable_decl, nmem_decl, nglobal_decl;
    uint32_t *func_decl_types;
    gd_table *table_decl;
    gd_memory *mem_decl;
    gd_global *global_decl;
    bool saw_code;
} dctx;

static bool fail(dctx *c, gate_status st, uint64_t off, const char *what)
{
    return gx_fail(c->err, st, off, GATE_NO_FUNC, "%s", what);
}

static void *alloc_n(dctx *c, size_t n, size_t each, uint64_t off)
{
    if (each && n > SIZE_MAX / each) {
        fail(c, GATE_ERR_NOMEM, off, "allocation too large");
        return NULL;
    }
    void *p = gx_arena_get(&c->m->arena, n * each);
    if (!p)
        fail(c, GATE_ERR_NOMEM, off, "out of memory");
    return p;
}

static bool read_count(dctx *c, gr_reader *r, uint32_t max, const char *what,
                       uint32_t *out)
{
    uint64_t at = gr_off(r);
    if (!gr_u32(r, out))
        return false;
    if (*out > max)
        return gx_fail(c->err, GATE_ERR_LIMIT, at, GATE_NO_FUNC,
                       "%u %s exceed the limit of %u", *out, what, max);
    /* Every entry takes at least one byte: a count beyond the bytes left
       is malformed, and this bounds what we allocate before reading. */
    if (*out > r->end - r->pos)
        return fail(c, GATE_ERR_MALFORMED, at, "unexpected end of section or function");
    return true;
}

static bool read_valtype(dctx *c, gr_reader *r, uint8_t *out)
{
    uint64_t at = gr_off(r);
    uint8_t b;
    if (!gr_byte(r, &b))
        return false;
    switch (b) {
    case GT_I32: case GT_I64: case GT_F32: case GT_F64: case GT_V128:
    case GT_FUNCREF: case GT_EXTERNREF:
        *out = b;
        return true;
    }
    return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                   "malformed value type 0x%02x", b);
}

static bool read_reftype(dctx *c, gr_reader *r, uint8_t *out)
{
    uint64_t at = gr_off(r);
    uint8_t b;
    if (!gr_byte(r, &b))
        return false;
    if (b != GT_FUNCREF && b != GT_EXTERNREF)
        return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                       "malformed reference type 0x%02x", b);
    *out = b;
    return true;
}

static bool read_limits(dctx *c, gr_reader *r, gd_limits *l)
{
    uint64_t at = gr_off(r);
    uint8_t flags;
    uint32_t v;
    if (!gr_byte(r, &flags))
        return false;
    if (flags > 1)
        return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                       "malformed limits flags 0x%02x", flags);
    if (!gr_u32(r, &v))
        return false;
    l->min = v;
    l->max = UINT64_MAX;
    if (flags & 1) {
        if (!gr_u32(r, &v))
            return false;
        l->max = v;
        if (l->min > l->max)
            return fail(c, GATE_ERR_INVALID, at,
                        "size minimum must not be greater than maximum");
    }
    return true;
}

static bool read_table(dctx *c, gr_reader *r, gd_table *t)
{
    return read_reftype(c, r, &t->elem) && read_limits(c, r, &t->lim);
}

static bool read_memory(dctx *c, gr_reader *r, gd_memory *mem)
{
    uint64_t at = gr_off(r);
    if (!read_limits(c, r, &mem->lim))
        return false;
    if (mem->lim.min > GD_MAX_MEM_PAGES ||
        (mem->lim.max != UINT64_MAX && mem->lim.max > GD_MAX_MEM_PAGES))
        return fail(c, GATE_ERR_INVALID, at,
                    "memory size must be at most 65536 pages (4GiB)");
    return true;
}

static bool read_global_type(dctx *c, gr_reader *r, gd_global *g)
{
    uint64_t at;
    uint8_t mut;
    if (!read_valtype(c, r, &g->type))
        return false;
    at = gr_off(r);
    if (!gr_byte(r, &mut))
        return false;
    if (mut > 1)
        return fail(c, GATE_ERR_MALFORMED, at, "malformed mutability");
    g->mut = mut;
    return true;
}

/* Marks function f as usable by ref.func inside function bodies. */
static void declare_func(gd_module *m, uint32_t f)
{
    m->declared[f >> 3] |= (uint8_t)(1u << (f & 7));
}

/*
 * A constant expression of type `want`: exactly one constant instruction
 * and `end`.  Only imported, immutable globals may be read (Wasm 2.0).
 */
static bool read_const(dctx *c, gr_reader *r, uint8_t want, gd_const *k)
{
    gd_module *m = c->m;
    uint16_t op;
    memset(k, 0, sizeof *k);
    k->offset = gr_off(r);
    if (!gr_opcode(r, &op))
        return false;
    switch (op) {
    case GOP_I32_CONST: {
        int32_t v;
        if (!gr_s32(r, &v))
            return false;
        k->op = GOP_I32_CONST; k->type = GT_I32; k->u.bits = (uint32_t)v;
        break;
    }
    case GOP_I64_CONST: {
        int64_t v;
        if (!gr_s64(r, &v))
            return false;
        k->op = GOP_I64_CONST; k->type = GT_I64; k->u.bits = (uint64_t)v;
        break;
    }
    case GOP_F32_CONST: {
        uint32_t v;
        if (!gr_fixed32(r, &v))
            return false;
        k->op = GOP_F32_CONST; k->type = GT_F32; k->u.bits = v;
        break;
    }
    case GOP_F64_CONST:
        if (!gr_fixed64(r, &k->u.bits))
            return false;
        k->op = GOP_F64_CONST; k->type = GT_F64;
        break;
    case GOP_V128_CONST: {
        const uint8_t *p;
        if (!gr_bytes(r, 16, &p))
            return false;
        memcpy(k->u.v128, p, 16);
        k->op = GOP_V128_CONST; k->type = GT_V128;
        break;
    }
    case GOP_REF_NULL:
        if (!read_reftype(c, r, &k->type))
            return false;
        k->op = GOP_REF_NULL;
        break;
    case GOP_REF_FUNC: {
        uint64_t at = gr_off(r);
        if (!gr_u32(r, &k->u.index))
            return false;
        if (k->u.index >= m->nfuncs)
            return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                           "unknown function %u", k->u.index);
        declare_func(m, k->u.index);
        k->op = GOP_REF_FUNC; k->type = GT_FUNCREF;
        break;
    }
    case GOP_GLOBAL_GET: {
        uint64_t at = gr_off(r);
        if (!gr_u32(r, &k->u.index))
            return false;
        if (k->u.index >= m->nglobal_imports)
            return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                           "unknown global %u", k->u.index);
        if (c->imp_global[k->u.index].mut)
            return fail(c, GATE_ERR_INVALID, at, "constant expression required");
        k->op = GOP_GLOBAL_GET; k->type = c->imp_global[k->u.index].type;
        break;
    }
    case GOP_END:
        return fail(c, GATE_ERR_INVALID, k->offset, "type mismatch: empty constant expression");
    default:
        return gx_fail(c->err, GATE_ERR_INVALID, k->offset, GATE_NO_FUNC,
                       "constant expression required, found %s", gop_table[op].name);
    }
    uint64_t at = gr_off(r);
    if (!gr_opcode(r, &op))
        return false;
    if (op != GOP_END)
        return fail(c, GATE_ERR_INVALID, at,
                    "constant expression required: one instruction, then end");
    if (k->type != want)
        return fail(c, GATE_ERR_INVALID, k->offset, "type mismatch in constant expression");
    return true;
}

/* ---- index spaces ---------------------------------------------------- */

/* memcpy that accepts NULL when there is nothing to copy. */
static void copy_n(void *dst, const void *src, size_t n)
{
    if (n)
        memcpy(dst, src, n);
}

/* Builds every space whose own section comes before section order `ord`. */
static bool build_spaces(dctx *c, unsigned ord)
{
    gd_module *m = c->m;
    if (ord > 3 && !c->built_funcs) {
        c->built_funcs = true;
        uint64_t n = (uint64_t)m->nfunc_imports + c->nfunc_decl;
        if (n > GD_MAX_FUNCS)
            return fail(c, GATE_ERR_LIMIT, 0, "too many functions");
        m->nfuncs = (uint32_t)n;
        if (!(m->funcs = alloc_n(c, n, sizeof *m->funcs, 0)))
            return false;
        if (!(m->declared = alloc_n(c, n / 8 + 1, 1, 0)))
            return false;
        for (uint32_t i = 0; i < m->nfunc_imports; i++)
            m->funcs[i].type = c->imp_type[i];
        for (uint32_t i = 0; i < c->nfunc_decl; i++)
            m->funcs[m->nfunc_imports + i].type = c->func_decl_types[i];
    }
    if (ord > 4 && !c->built_tables) {
        c->built_tables = true;
        uint64_t n = (uint64_t)m->ntable_imports + c->ntable_decl;
        if (n > GD_MAX_TABLES)
            return fail(c, GATE_ERR_LIMIT, 0, "too many tables");
        m->ntables = (uint32_t)n;
        if (!(m->tables = alloc_n(c, n, sizeof *m->tables, 0)))
            return false;
        copy_n(m->tables, c->imp_table, m->ntable_imports * sizeof *m->tables);
        copy_n(m->tables + m->ntable_imports, c->table_decl,
               c->ntable_decl * sizeof *m->tables);
    }
    if (ord > 5 && !c->built_mems) {
        c->built_mems = true;
        uint64_t n = (uint64_t)m->nmem_imports + c->nmem_decl;
        if (n > 1)
            return fail(c, GATE_ERR_INVALID, 0, "multiple memories");
        m->nmems = (uint32_t)n;
        if (!(m->mems = alloc_n(c, n, sizeof *m->mems, 0)))
            return false;
        copy_n(m->mems, c->imp_mem, m->nmem_imports * sizeof *m->mems);
        copy_n(m->mems + m->nmem_imports, c->mem_decl,
               c->nmem_decl * sizeof *m->mems);
    }
    if (ord > 6 && !c->built_globals) {
        c->built_globals = true;
        uint64_t n = (uint64_t)m->nglobal_imports + c->nglobal_decl;
        m->nglobals = (uint32_t)n;
        if (!(m->globals = alloc_n(c, n, sizeof *m->globals, 0)))
            return false;
        copy_n(m->globals, c->imp_global, m->nglobal_imports * sizeof *m->globals);
        copy_n(m->globals + m->nglobal_imports, c->global_decl,
               c->nglobal_decl * sizeof *m->globals);
    }
    return true;
}

/* ---- sections ------------------------------------------------------- */

static bool sec_type(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    if (!read_count(c, r, GD_MAX_TYPES, "types", &m->ntypes))
        return false;
    if (!(m->types = alloc_n(c, m->ntypes, sizeof *m->types, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < m->ntypes; i++) {
        gd_functype *t = &m->types[i];
        uint64_t at = gr_off(r);
        uint8_t form;
        if (!gr_byte(r, &form))
            return false;
        if (form == 0x5e || form == 0x5f || form == 0x50 || form == 0x4f || form == 0x4e)
            return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, at, GATE_NO_FUNC,
                           "type %u uses the GC proposal (%s), not supported", i,
                           form == 0x5e ? "array" : form == 0x5f ? "struct"
                           : form == 0x4e ? "rec group" : "subtype");
        if (form != 0x60)
            return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "malformed function type form 0x%02x (want 0x60)", form);
        uint32_t np, nr;
        uint8_t *p;
        if (!read_count(c, r, GD_MAX_PARAMS, "parameters", &np))
            return false;
        if (!(p = alloc_n(c, np, 1, at)))
            return false;
        for (uint32_t k = 0; k < np; k++)
            if (!read_valtype(c, r, &p[k]))
                return false;
        t->params = p;
        t->nparams = np;
        if (!read_count(c, r, GD_MAX_RESULTS, "results", &nr))
            return false;
        if (!(p = alloc_n(c, nr, 1, at)))
            return false;
        for (uint32_t k = 0; k < nr; k++)
            if (!read_valtype(c, r, &p[k]))
                return false;
        t->results = p;
        t->nresults = nr;
    }
    return true;
}

static char *copy_name(dctx *c, const uint8_t *s, uint32_t n, uint64_t at)
{
    char *p = alloc_n(c, (size_t)n + 1, 1, at);
    if (p)
        memcpy(p, s, n);
    return p;
}

static bool sec_import(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    if (!read_count(c, r, GD_MAX_IMPORTS, "imports", &m->nimports))
        return false;
    size_t n = m->nimports;
    if (!(m->imports = alloc_n(c, n, sizeof *m->imports, gr_off(r))) ||
        !(c->imp_type = alloc_n(c, n, sizeof *c->imp_type, gr_off(r))) ||
        !(c->imp_table = alloc_n(c, n, sizeof *c->imp_table, gr_off(r))) ||
        !(c->imp_mem = alloc_n(c, n, sizeof *c->imp_mem, gr_off(r))) ||
        !(c->imp_global = alloc_n(c, n, sizeof *c->imp_global, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < m->nimports; i++) {
        gd_import *im = &m->imports[i];
        const uint8_t *s;
        uint32_t len;
        uint64_t at = gr_off(r);
        if (!gr_name(r, &s, &len) || !(im->module = copy_name(c, s, len, at)))
            return false;
        im->module_len = len;
        at = gr_off(r);
        if (!gr_name(r, &s, &len) || !(im->name = copy_name(c, s, len, at)))
            return false;
        im->name_len = len;
        at = gr_off(r);
        if (!gr_byte(r, &im->kind))
            return false;
        switch (im->kind) {
        case GATE_EXTERN_FUNC: {
            uint64_t ta = gr_off(r);
            uint32_t t;
            if (!gr_u32(r, &t))
                return false;
            if (t >= m->ntypes)
                return gx_fail(c->err, GATE_ERR_INVALID, ta, GATE_NO_FUNC,
                               "unknown type %u", t);
            im->index = m->nfunc_imports;
            c->imp_type[m->nfunc_imports++] = t;
            break;
        }
        case GATE_EXTERN_TABLE:
            im->index = m->ntable_imports;
            if (!read_table(c, r, &c->imp_table[m->ntable_imports++]))
                return false;
            break;
        case GATE_EXTERN_MEMORY:
            im->index = m->nmem_imports;
            if (!read_memory(c, r, &c->imp_mem[m->nmem_imports++]))
                return false;
            break;
        case GATE_EXTERN_GLOBAL:
            im->index = m->nglobal_imports;
            if (!read_global_type(c, r, &c->imp_global[m->nglobal_imports++]))
                return false;
            break;
        default:
            return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "malformed import kind 0x%02x", im->kind);
        }
    }
    return true;
}

static bool sec_function(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    if (!read_count(c, r, GD_MAX_FUNCS, "functions", &c->nfunc_decl))
        return false;
    if (!(c->func_decl_types = alloc_n(c, c->nfunc_decl, 4, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < c->nfunc_decl; i++) {
        uint64_t at = gr_off(r);
        if (!gr_u32(r, &c->func_decl_types[i]))
            return false;
        if (c->func_decl_types[i] >= m->ntypes)
            return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                           "unknown type %u", c->func_decl_types[i]);
    }
    return true;
}

static bool sec_table(dctx *c, gr_reader *r)
{
    if (!read_count(c, r, GD_MAX_TABLES, "tables", &c->ntable_decl))
        return false;
    if (!(c->table_decl = alloc_n(c, c->ntable_decl, sizeof *c->table_decl, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < c->ntable_decl; i++)
        if (!read_table(c, r, &c->table_decl[i]))
            return false;
    return true;
}

static bool sec_memory(dctx *c, gr_reader *r)
{
    if (!read_count(c, r, GD_MAX_TABLES, "memories", &c->nmem_decl))
        return false;
    if (!(c->mem_decl = alloc_n(c, c->nmem_decl, sizeof *c->mem_decl, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < c->nmem_decl; i++)
        if (!read_memory(c, r, &c->mem_decl[i]))
            return false;
    return true;
}

static bool sec_global(dctx *c, gr_reader *r)
{
    if (!read_count(c, r, GD_MAX_GLOBALS - c->m->nglobal_imports, "globals",
                    &c->nglobal_decl))
        return false;
    if (!(c->global_decl = alloc_n(c, c->nglobal_decl, sizeof *c->global_decl, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < c->nglobal_decl; i++) {
        gd_global *g = &c->global_decl[i];
        if (!read_global_type(c, r, g) || !read_const(c, r, g->type, &g->init))
            return false;
    }
    return true;
}

/* FNV-1a, for the duplicate-export check. */
static uint32_t name_hash(const uint8_t *s, uint32_t n)
{
    uint32_t h = 2166136261u;
    for (uint32_t i = 0; i < n; i++)
        h = (h ^ s[i]) * 16777619u;
    return h;
}

static bool sec_export(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    if (!read_count(c, r, GD_MAX_EXPORTS, "exports", &m->nexports))
        return false;
    if (!(m->exports = alloc_n(c, m->nexports, sizeof *m->exports, gr_off(r))))
        return false;
    /* open-addressing set of export indices + 1, at most half full */
    uint32_t cap = 16;
    while (cap < 2 * m->nexports)
        cap *= 2;
    uint32_t *set = alloc_n(c, cap, 4, gr_off(r));
    if (!set)
        return false;
    for (uint32_t i = 0; i < m->nexports; i++) {
        gd_export *e = &m->exports[i];
        const uint8_t *s;
        uint32_t len;
        uint64_t at = gr_off(r);
        if (!gr_name(r, &s, &len) || !(e->name = copy_name(c, s, len, at)))
            return false;
        e->name_len = len;
        for (uint32_t h = name_hash(s, len) & (cap - 1);; h = (h + 1) & (cap - 1)) {
            if (!set[h]) {
                set[h] = i + 1;
                break;
            }
            const gd_export *o = &m->exports[set[h] - 1];
            if (o->name_len == len && !memcmp(o->name, e->name, len))
                return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                               "duplicate export name \"%s\"", e->name);
        }
        uint64_t ka = gr_off(r);
        if (!gr_byte(r, &e->kind))
            return false;
        uint64_t ia = gr_off(r);
        if (!gr_u32(r, &e->index))
            return false;
        uint32_t limit;
        const char *what;
        switch (e->kind) {
        case GATE_EXTERN_FUNC: limit = m->nfuncs; what = "function"; break;
        case GATE_EXTERN_TABLE: limit = m->ntables; what = "table"; break;
        case GATE_EXTERN_MEMORY: limit = m->nmems; what = "memory"; break;
        case GATE_EXTERN_GLOBAL: limit = m->nglobals; what = "global"; break;
        default:
            return gx_fail(c->err, GATE_ERR_MALFORMED, ka, GATE_NO_FUNC,
                           "malformed export kind 0x%02x", e->kind);
        }
        if (e->index >= limit)
            return gx_fail(c->err, GATE_ERR_INVALID, ia, GATE_NO_FUNC,
                           "unknown %s %u", what, e->index);
        if (e->kind == GATE_EXTERN_FUNC)
            declare_func(m, e->index);
    }
    return true;
}

static bool sec_start(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    uint64_t at = gr_off(r);
    if (!gr_u32(r, &m->start))
        return false;
    if (m->start >= m->nfuncs)
        return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                       "unknown function %u", m->start);
    const gd_functype *t = gd_func_type(m, m->start);
    if (t->nparams || t->nresults)
        return fail(c, GATE_ERR_INVALID, at, "start function must have type [] -> []");
    m->has_start = true;
    return true;
}

static bool check_table(dctx *c, uint32_t t, uint8_t type, uint64_t at)
{
    if (t >= c->m->ntables)
        return gx_fail(c->err, GATE_ERR_INVALID, at, GATE_NO_FUNC,
                       "unknown table %u", t);
    if (c->m->tables[t].elem != type)
        return fail(c, GATE_ERR_INVALID, at, "type mismatch: element segment and table types differ");
    return true;
}

static bool sec_elem(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    uint64_t total = 0;
    if (!read_count(c, r, GD_MAX_ELEMS, "element segments", &m->nelems))
        return false;
    if (!(m->elems = alloc_n(c, m->nelems, sizeof *m->elems, gr_off(r))))
        return false;
    for (uint32_t i = 0; i < m->nelems; i++) {
        gd_elem *e = &m->elems[i];
        uint64_t at = gr_off(r);
        uint32_t flags;
        if (!gr_u32(r, &flags))
            return false;
        if (flags > 7)
            return gx_fail(c->err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "malformed elements segment kind %u", flags);
        bool exprs = flags & 4;
        e->mode = (flags & 1) ? ((flags & 2) ? GD_SEG_DECLARATIVE : GD_SEG_PASSIVE)
                              : GD_SEG_ACTIVE;
        e->type = GT_FUNCREF;
        uint64_t tat = gr_off(r);
        if (e->mode == GD_SEG_ACTIVE) {
            if ((flags & 2) && !gr_u32(r, &e->table))
                return false;
            if (!read_const(c, r, GT_I32, &e->offset))
                return false;
        }
        /* kinds 1, 2, 3 carry an elemkind byte, 5, 6, 7 a reftype */
        if (flags & 3) {
            uint64_t kat = gr_off(r);
            if (exprs) {
                if (!read_reftype(c, r, &e->type))
                    return false;
            } else {
                uint8_t kind;
                if (!gr_byte(r, &kind))
                    return false;
                if (kind != 0)
                    return gx_fail(c->err, GATE_ERR_MALFORMED, kat, GATE_NO_FUNC,
                                   "malformed element kind 0x%02x", kind);
            }
        }
        if (e->mode == GD_SEG_ACTIVE && !check_table(c, e->table, e->type, tat))
            return false;
        if (!read_count(c, r, GD_MAX_ELEM_ITEMS, "elements", &e->count))
            return false;
        total += e->count;
        if (total > GD_MAX_ELEM_ITEMS)
            return fail(c, GATE_ERR_LIMIT, at, "too many elements in all segments");
        if (!(e->items = alloc_n(c, e->count, sizeof *e->items, at)))
            return false;
        for (uint32_t k = 0; k < e->count; k++) {
            gd_const *it = &e->items[k];
            if (exprs) {
                if (!read_const(c, r, e->type, it))
                    return false;
                continue;
            }
            it->offset = gr_off(r);
            if (!gr_u32(r, &it->u.index))
                return false;
            if (it->u.index >= m->nfuncs)
                return gx_fail(c->err, GATE_ERR_INVALID, it->offset, GATE_NO_FUNC,
                               "unknown function %u", it->u.index);
            declare_func(m, it->u.index);
            it->op = GOP_REF_FUNC;
            it->type = GT_FUNCREF;
        }
    }
    return true;
}

static bool sec_datacount(dctx *c, gr_reader *r)
{
    c->m->has_datacount = true;
    return gr_u32(r, &c->m->datacount);
}

static bool sec_code(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    uint64_t at = gr_off(r);
    uint32_t n;
    c->saw_code = true;
    if (!gr_u32(r, &n))
        return false;
    if (n != c->nfunc_decl)
        return fail(c, GATE_ERR_MALFORMED, at,
                    "function and code section have inconsistent lengths");
    m->code_off = at;
    for (uint32_t i = 0; i < n; i++) {
        gd_func *f = &m->funcs[m->nfunc_imports + i];
        uint64_t fat = gr_off(r);
        const uint8_t *body;
        if (!gr_u32(r, &f->body_len))
            return false;
        if (f->body_len > c->lim->max_function_size)
            return gx_fail(c->err, GATE_ERR_LIMIT, fat, m->nfunc_imports + i,
                           "function body of %u bytes exceeds the limit of %u",
                           f->body_len, c->lim->max_function_size);
        f->body_off = gr_off(r);
        if (!gr_bytes(r, f->body_len, &body))
            return false;
        if (f->body_len == 0)
            return gx_fail(c->err, GATE_ERR_MALFORMED, fat, m->nfunc_imports + i,
                           "unexpected end: empty function body");
    }
    return true;
}

static bool sec_data(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    uint64_t at = gr_off(r);
    if (!read_count(c, r, GD_MAX_DATA, "data segments", &m->ndata))
        return false;
    if (m->has_datacount && m->ndata != m->datacount)
        return fail(c, GATE_ERR_MALFORMED, at,
                    "data count and data section have inconsistent lengths");
    if (!(m->data = alloc_n(c, m->ndata, sizeof *m->data, at)))
        return false;
    for (uint32_t i = 0; i < m->ndata; i++) {
        gd_data *d = &m->data[i];
        uint64_t sat = gr_off(r);
        uint32_t flags, mem = 0;
        const uint8_t *p;
        if (!gr_u32(r, &flags))
            return false;
        if (flags > 2)
            return gx_fail(c->err, GATE_ERR_MALFORMED, sat, GATE_NO_FUNC,
                           "malformed data segment kind %u", flags);
        d->mode = flags == 1 ? GD_SEG_PASSIVE : GD_SEG_ACTIVE;
        if (flags == 2 && !gr_u32(r, &mem))
            return false;
        if (d->mode == GD_SEG_ACTIVE) {
            if (mem >= m->nmems)
                return gx_fail(c->err, GATE_ERR_INVALID, sat, GATE_NO_FUNC,
                               "unknown memory %u", mem);
            if (!read_const(c, r, GT_I32, &d->offset))
                return false;
        }
        if (!gr_u32(r, &d->len))
            return false;
        d->bytes_off = gr_off(r);
        if (!gr_bytes(r, d->len, &p))
            return false;
    }
    return true;
}

static bool sec_custom(dctx *c, gr_reader *r)
{
    gd_module *m = c->m;
    const uint8_t *s;
    uint32_t len;
    uint64_t at = gr_off(r);
    if (!gr_name(r, &s, &len))
        return false;
    if (m->ncustom >= GD_MAX_CUSTOM)
        return fail(c, GATE_ERR_LIMIT, at, "too many custom sections");
    if ((m->ncustom & (m->ncustom - 1)) == 0) {
        /* grow the array at powers of two; the arena keeps old copies */
        uint32_t cap = m->ncustom ? m->ncustom * 2 : 4;
        gd_custom *n = alloc_n(c, cap, sizeof *n, at);
        if (!n)
            return false;
        if (m->ncustom)
            memcpy(n, m->custom, m->ncustom * sizeof *n);
        m->custom = n;
    }
    gd_custom *cs = &m->custom[m->ncustom++];
    if (!(cs->name = copy_name(c, s, len, at)))
        return false;
    cs->off = gr_off(r);
    cs->len = (uint32_t)(r->end - r->pos);
    r->pos = r->end;           /* custom payloads are not interpreted here */
    return true;
}

/*
 * The "name" custom section's function names (subsection 1).  Custom
 * sections are not validated by the spec, so a damaged name section is
 * ignored from the first bad byte on, never an error.
 */
static void read_names(dctx *c, const gd_custom *cs)
{
    gd_module *m = c->m;
    gate_error scratch = { 0 };
    gr_reader r = { .base = m->bytes, .pos = cs->off, .end = cs->off + cs->len,
                    .err = &scratch };
    while (r.pos < r.end) {
        uint8_t id;
        uint32_t len, n;
        if (!gr_byte(&r, &id) || !gr_u32(&r, &len) || len > r.end - r.pos)
            return;
        if (id != 1) {
            r.pos += len;
            continue;
        }
        gr_reader s = r;
        s.end = r.pos + len;
        if (!gr_u32(&s, &n))
            return;
        if (!m->func_names &&
            !(m->func_names = gx_arena_get(&m->arena, (size_t)m->nfuncs * sizeof(char *) + 1)))
            return;
        for (uint32_t i = 0; i < n; i++) {
            uint32_t f, nlen;
            const uint8_t *p;
            if (!gr_u32(&s, &f) || !gr_name(&s, &p, &nlen))
                return;
            if (f < m->nfuncs)
                m->func_names[f] = copy_name(c, p, nlen, 0);
        }
        return;
    }
}

const char *gd_func_name(const gd_module *m, uint32_t f)
{
    return m->func_names && f < m->nfuncs ? m->func_names[f] : NULL;
}

void gd_limits_from_config(gd_limits_cfg *out, const gate_config *cfg)
{
    out->max_module_size = cfg && cfg->max_module_size ? cfg->max_module_size
                                                       : GD_DEF_MODULE_SIZE;
    out->max_function_size = cfg && cfg->max_function_size ? cfg->max_function_size
                                                            : GD_DEF_FUNC_SIZE;
    out->max_locals = cfg && cfg->max_locals ? cfg->max_locals : GD_DEF_LOCALS;
    out->max_nesting = cfg && cfg->max_nesting ? cfg->max_nesting : GD_DEF_NESTING;
}

bool gd_decode(gd_module *m, const gx_alloc *a, const uint8_t *bytes,
               size_t size, const gd_limits_cfg *lim, gate_error *err)
{
    static const uint8_t magic[4] = { 0x00, 0x61, 0x73, 0x6d };
    memset(m, 0, sizeof *m);
    gx_arena_init(&m->arena, a);
    m->bytes = bytes;
    m->size = size;
    dctx c = { .m = m, .lim = lim, .err = err };
    if (size > lim->max_module_size)
        return gx_fail(err, GATE_ERR_LIMIT, 0, GATE_NO_FUNC,
                       "module of %zu bytes exceeds the limit of %llu", size,
                       (unsigned long long)lim->max_module_size);
    gr_reader r = { .base = bytes, .pos = 0, .end = size, .err = err };
    const uint8_t *p;
    if (!gr_bytes(&r, 4, &p))
        return false;
    if (memcmp(p, magic, 4))
        return fail(&c, GATE_ERR_MALFORMED, 0, "magic header not detected");
    uint32_t version;
    if (!gr_fixed32(&r, &version))
        return false;
    /* the component model's binaries: version 0x0d, layer 1 */
    if ((version & 0xffff) == 0x0d && version >> 16 == 1)
        return gx_fail(err, GATE_ERR_NOT_IMPLEMENTED, 4, GATE_NO_FUNC,
                       "a WebAssembly component, not a core module: not supported");
    if (version != 1)
        return gx_fail(err, GATE_ERR_MALFORMED, 4, GATE_NO_FUNC,
                       "unknown binary version %u", version);
    unsigned last = 0;
    while (r.pos < r.end) {
        uint64_t at = gr_off(&r);
        uint8_t id;
        uint32_t len;
        if (!gr_byte(&r, &id))
            return false;
        if (id > 12)
            return gx_fail(err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "malformed section id %u", id);
        if (!gr_u32(&r, &len))
            return false;
        if (len > r.end - r.pos)
            return gx_fail(err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                           "unexpected end: %s section of %u bytes runs past the end",
                           section_name[id], len);
        gr_reader s = { .base = bytes, .pos = r.pos, .end = r.pos + len, .err = err };
        r.pos += len;
        bool ok;
        if (id == 0) {
            ok = sec_custom(&c, &s);
        } else {
            unsigned ord = section_order[id];
            if (ord <= last)
                return gx_fail(err, GATE_ERR_MALFORMED, at, GATE_NO_FUNC,
                               "unexpected content after last section: %s section "
                               "out of order or repeated", section_name[id]);
            last = ord;
            if (!build_spaces(&c, ord))
                return false;
            switch (id) {
            case 1: ok = sec_type(&c, &s); break;
            case 2: ok = sec_import(&c, &s); break;
            case 3: ok = sec_function(&c, &s); break;
            case 4: ok = sec_table(&c, &s); break;
            case 5: ok = sec_memory(&c, &s); break;
            case 6: ok = sec_global(&c, &s); break;
            case 7: ok = sec_export(&c, &s); break;
            case 8: ok = sec_start(&c, &s); break;
            case 9: ok = sec_elem(&c, &s); break;
            case 10: ok = sec_code(&c, &s); break;
            case 11: ok = sec_data(&c, &s); break;
            default: ok = sec_datacount(&c, &s); break;
            }
        }
        if (!ok)
            return false;
        if (s.pos != s.end)
            return gx_fail(err, GATE_ERR_MALFORMED, gr_off(&s), GATE_NO_FUNC,
                           "section size mismatch: %s section has %zu bytes left over",
                           section_name[id], s.end - s.pos);
    }
    if (!build_spaces(&c, 99))
        return false;
    if (!c.saw_code && c.nfunc_decl)
        return fail(&c, GATE_ERR_MALFORMED, size,
                    "function and code section have inconsistent lengths");
    if (m->has_datacount && !m->data && m->datacount)
        return fail(&c, GATE_ERR_MALFORMED, size,
                    "data count and data section have inconsistent lengths");
    for (uint32_t i = 0; i < m->ncustom; i++)
        if (!strcmp(m->custom[i].name, "name"))
            read_names(&c, &m->custom[i]);
    return true;
}

void gd_module_free(gd_module *m)
{
    gx_arena_free(&m->arena);
}

bool gd_validate_all(const gd_module *m, const gx_alloc *a,
                     const gd_limits_cfg *lim, gate_error *err)
{
    gv_func v;
    if (m->nfuncs == m->nfunc_imports)
        return true;
    /* one validator for all functions: its stacks are reused */
    if (!gv_begin(&v, m, a, lim, m->nfunc_imports, err))
        return false;
    bool ok = true;
    for (uint32_t f = m->nfunc_imports; ok && f < m->nfuncs; f++) {
        if (f > m->nfunc_imports && !gv_restart(&v, f)) {
            ok = false;
            break;
        }
        gv_insn ins;
        int st;
        while ((st = gv_next(&v, &ins)) > 0)
            ;
        ok = st == 0;
    }
    gv_end(&v);
    return ok;
}

const char *gd_sig_string(const gd_functype *t, char *buf, size_t size)
{
    static const char code[] = "FfIi";   /* 0x7c..0x7f */
    size_t n = 0;
#define PUT(ch) do { if (n + 1 < size) buf[n++] = (ch); } while (0)
    if (t->nresults == 0)
        PUT('v');
    for (uint32_t i = 0; i < t->nresults; i++) {
        uint8_t ty = t->results[i];
        PUT(gt_is_num(ty) ? code[ty - GT_F64] : ty == GT_V128 ? 'V' : ty == GT_FUNCREF ? 'r' : 'e');
    }
    PUT('(');
    for (uint32_t i = 0; i < t->nparams; i++) {
        uint8_t ty = t->params[i];
        PUT(gt_is_num(ty) ? code[ty - GT_F64] : ty == GT_V128 ? 'V' : ty == GT_FUNCREF ? 'r' : 'e');
    }
    PUT(')');
#undef PUT
    if (size)
        buf[n] = 0;
    return buf;
}
