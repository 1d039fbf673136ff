/*
 * validate.c - the function-body validator, written as an iterator.
 *
 * It follows the algorithm of the spec's validation appendix: a stack of
 * operand types (GT_UNKNOWN for values conjured in unreachable code) and
 * a stack of control frames.  Nothing recurses: nesting depth is bounded
 * by max_nesting and lives in a heap array.
 *
 * Each gv_next() decodes one instruction, checks its immediates and its
 * types, and leaves the operand-type stack as it is after the instruction;
 * the compiler reads v->vals / v->ctrls around each call.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "compiler.h"

/* One-type block results point here. */
static const uint8_t single_type[7] = {
    GT_I32, GT_I64, GT_F32, GT_F64, GT_V128, GT_FUNCREF, GT_EXTERNREF
};

static const uint8_t *single(uint8_t t)
{
    for (int i = 0; i < 7; i++)
        if (single_type[i] == t)
            return &single_type[i];
    return NULL;
}

static bool fail(gv_func *v, gate_status st, uint64_t off, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static bool fail(gv_func *v, gate_status st, uint64_t off, const char *fmt, ...)
{
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return gx_fail(v->err, st, off, v->func, "%s", msg);
}

static const char *tname(uint8_t t)
{
    switch (t) {
    case GT_I32: return "i32";
    case GT_I64: return "i64";
    case GT_F32: return "f32";
    case GT_F64: return "f64";
    case GT_V128: return "v128";
    case GT_FUNCREF: return "funcref";
    case GT_EXTERNREF: return "externref";
    }
    return "unknown";
}

/* ---- operand and control stacks ---------------------------------------- */

static bool grow(gv_func *v, void **p, uint32_t *cap, uint32_t need, size_t each,
                 uint32_t limit, const char *what, uint64_t off)
{
    if (need <= *cap)
        return true;
    if (need > limit)
        return fail(v, GATE_ERR_LIMIT, off, "%s deeper than the limit of %u", what, limit);
    uint32_t ncap = *cap ? *cap : 64;
    if (ncap > limit)
        ncap = limit;
    while (ncap < need)
        ncap = ncap > limit / 2 ? limit : ncap * 2;
    void *n = gx_realloc(&v->alloc, *p, (size_t)*cap * each, (size_t)ncap * each);
    if (!n)
        return fail(v, GATE_ERR_NOMEM, off, "out of memory");
    *p = n;
    *cap = ncap;
    return true;
}

static bool push(gv_func *v, uint8_t t, uint64_t off)
{
    if (v->nvals == v->capvals &&
        !grow(v, (void **)&v->vals, &v->capvals, v->nvals + 1, 1,
              GD_MAX_OPERANDS, "operand stack", off))
        return false;
    v->vals[v->nvals++] = t;
    if (v->nvals > v->maxvals)
        v->maxvals = v->nvals;
    return true;
}

static bool pop(gv_func *v, uint8_t *t, uint64_t off)
{
    gv_ctrl *c = &v->ctrls[v->nctrls - 1];
    if (v->nvals == c->height) {
        if (c->unreachable) {
            *t = GT_UNKNOWN;
            return true;
        }
        return fail(v, GATE_ERR_INVALID, off, "type mismatch: operand stack is empty");
    }
    *t = v->vals[--v->nvals];
    return true;
}

static bool pop_expect(gv_func *v, uint8_t want, uint8_t *got, uint64_t off)
{
    uint8_t t = GT_UNKNOWN;
    if (!pop(v, &t, off))
        return false;
    if (t != want && t != GT_UNKNOWN && want != GT_UNKNOWN)
        return fail(v, GATE_ERR_INVALID, off, "type mismatch: expected %s, found %s",
                    tname(want), tname(t));
    if (got)
        *got = t;
    return true;
}

/* push and pop_expect with the common case inline */
static inline bool push1(gv_func *v, uint8_t t, uint64_t off)
{
    if (__builtin_expect(v->nvals < v->capvals, 1)) {
        v->vals[v->nvals++] = t;
        if (v->nvals > v->maxvals)
            v->maxvals = v->nvals;
        return true;
    }
    return push(v, t, off);
}

static inline bool pop1(gv_func *v, uint8_t want, uint64_t off)
{
    if (__builtin_expect(v->nvals > v->ctrls[v->nctrls - 1].height &&
                         v->vals[v->nvals - 1] == want, 1)) {
        v->nvals--;
        return true;
    }
    return pop_expect(v, want, NULL, off);
}

/* Many types at once (a call or a label may have 1,000): one comparison
   when the stack holds them exactly, one value at a time otherwise (for
   the unknowns of unreachable code and the error). */
static bool pop_types(gv_func *v, const uint8_t *ts, uint32_t n, uint64_t off)
{
    if (n == 0)
        return true;
    if (v->nvals - v->ctrls[v->nctrls - 1].height >= n &&
        memcmp(v->vals + v->nvals - n, ts, n) == 0) {
        v->nvals -= n;
        return true;
    }
    for (uint32_t i = n; i-- > 0;)
        if (!pop_expect(v, ts[i], NULL, off))
            return false;
    return true;
}

static bool push_types(gv_func *v, const uint8_t *ts, uint32_t n, uint64_t off)
{
    if (n == 0)
        return true;
    if (v->capvals - v->nvals >= n) {
        memcpy(v->vals + v->nvals, ts, n);
        v->nvals += n;
        if (v->nvals > v->maxvals)
            v->maxvals = v->nvals;
        return true;
    }
    for (uint32_t i = 0; i < n; i++)
        if (!push(v, ts[i], off))
            return false;
    return true;
}

static bool push_ctrl(gv_func *v, uint16_t op, uint32_t np, const uint8_t *p,
                      uint32_t nr, const uint8_t *res, uint64_t off)
{
    if (v->nctrls == v->capctrls &&
        !grow(v, (void **)&v->ctrls, &v->capctrls, v->nctrls + 1, sizeof(gv_ctrl),
              v->lim.max_nesting, "block nesting", off))
        return false;
    gv_ctrl *c = &v->ctrls[v->nctrls++];
    if (v->nctrls > v->maxctrls)
        v->maxctrls = v->nctrls;
    c->op = op;
    c->unreachable = false;
    c->height = v->nvals;
    c->nparams = np;
    c->params = p;
    c->nresults = nr;
    c->results = res;
    c->offset = off;
    return push_types(v, p, np, off);
}

static bool pop_ctrl(gv_func *v, gv_ctrl *out, uint64_t off)
{
    gv_ctrl *c = &v->ctrls[v->nctrls - 1];
    if (!pop_types(v, c->results, c->nresults, off))
        return false;
    if (v->nvals != c->height)
        return fail(v, GATE_ERR_INVALID, off,
                    "type mismatch: %u value(s) left on the stack at end of block",
                    v->nvals - c->height);
    *out = *c;
    v->nctrls--;
    return true;
}

static void set_unreachable(gv_func *v)
{
    gv_ctrl *c = &v->ctrls[v->nctrls - 1];
    v->nvals = c->height;
    c->unreachable = true;
}

static void label_types(const gv_ctrl *c, uint32_t *n, const uint8_t **ts)
{
    if (c->op == GOP_LOOP) {
        *n = c->nparams;
        *ts = c->params;
    } else {
        *n = c->nresults;
        *ts = c->results;
    }
}

/* ---- immediates -------------------------------------------------------- */

static bool read_index(gv_func *v, uint32_t limit, const char *what, uint32_t *out)
{
    uint64_t at = gr_off(&v->r);
    if (!gr_u32(&v->r, out))
        return false;
    if (*out >= limit)
        return fail(v, GATE_ERR_INVALID, at, "unknown %s %u", what, *out);
    return true;
}

static bool zero_byte(gv_func *v)
{
    uint64_t at = gr_off(&v->r);
    uint8_t b;
    if (!gr_byte(&v->r, &b))
        return false;
    if (b != 0)
        return fail(v, GATE_ERR_MALFORMED, at, "zero byte expected");
    return true;
}

static bool need_memory(gv_func *v, uint64_t at)
{
    if (v->m->nmems == 0)
        return fail(v, GATE_ERR_INVALID, at, "unknown memory 0");
    return true;
}

static bool need_datacount(gv_func *v, uint64_t at)
{
    if (!v->m->has_datacount)
        return fail(v, GATE_ERR_MALFORMED, at, "data count section required");
    return true;
}

static bool read_blocktype(gv_func *v, gv_insn *ins)
{
    uint64_t at = gr_off(&v->r);
    int64_t bt;
    if (!gr_s33(&v->r, &bt))
        return false;
    ins->imm.block.nparams = 0;
    ins->imm.block.params = NULL;
    if (bt >= 0) {
        if ((uint64_t)bt >= v->m->ntypes)
            return fail(v, GATE_ERR_INVALID, at, "unknown type %lld", (long long)bt);
        const gd_functype *t = &v->m->types[bt];
        ins->imm.block.nparams = t->nparams;
        ins->imm.block.params = t->params;
        ins->imm.block.nresults = t->nresults;
        ins->imm.block.results = t->results;
        return true;
    }
    if (bt == -0x40) {
        ins->imm.block.nresults = 0;
        ins->imm.block.results = NULL;
        return true;
    }
    /* a single value type, encoded as a negative s33 */
    const uint8_t *s = bt >= -0x40 ? single((uint8_t)(bt & 0x7f)) : NULL;
    if (!s)
        return fail(v, GATE_ERR_MALFORMED, at, "malformed block type");
    ins->imm.block.nresults = 1;
    ins->imm.block.results = s;
    return true;
}

static bool read_memarg(gv_func *v, gv_insn *ins, uint8_t natural)
{
    uint64_t at = gr_off(&v->r);
    if (!gr_u32(&v->r, &ins->imm.mem.align) || !gr_u32(&v->r, &ins->imm.mem.offset))
        return false;
    if (!need_memory(v, at))
        return false;
    if (ins->imm.mem.align > natural)
        return fail(v, GATE_ERR_INVALID, at,
                    "alignment must not be larger than natural (2^%u > %u bytes)",
                    ins->imm.mem.align < 32 ? ins->imm.mem.align : 31, 1u << natural);
    return true;
}

static bool read_lane(gv_func *v, uint8_t *out, unsigned lanes)
{
    uint64_t at = gr_off(&v->r);
    if (!gr_byte(&v->r, out))
        return false;
    if (*out >= lanes)
        return fail(v, GATE_ERR_INVALID, at, "invalid lane index %u (of %u lanes)", *out, lanes);
    return true;
}

static bool read_reftype(gv_func *v, uint8_t *out)
{
    uint64_t at = gr_off(&v->r);
    if (!gr_byte(&v->r, out))
        return false;
    if (!gt_is_ref(*out))
        return fail(v, GATE_ERR_MALFORMED, at, "malformed reference type 0x%02x", *out);
    return true;
}

static bool is_declared(const gd_module *m, uint32_t f)
{
    return m->declared[f >> 3] & (1u << (f & 7));
}

/* Decodes and checks the immediates of ins->op (everything but types). */
static bool immediates(gv_func *v, gv_insn *ins)
{
    const gd_module *m = v->m;
    const gop_info *oi = &gop_table[ins->op];
    gr_reader *r = &v->r;
    uint64_t at = gr_off(r);
    switch ((gimm)oi->imm) {
    case GIMM_NONE:
        return true;
    case GIMM_BLOCK:
        return read_blocktype(v, ins);
    case GIMM_LABEL:
        return read_index(v, v->nctrls, "label", &ins->imm.index);
    case GIMM_BRTABLE: {
        uint32_t n;
        if (!gr_u32(r, &n))
            return false;
        if (n > GD_MAX_BRTABLE)
            return fail(v, GATE_ERR_LIMIT, at, "br_table of %u targets exceeds the limit of %u",
                        n, GD_MAX_BRTABLE);
        if (n + 1 > v->captargets &&
            !grow(v, (void **)&v->targets, &v->captargets, n + 1, 4, GD_MAX_BRTABLE + 1,
                  "br_table", at))
            return false;
        for (uint32_t i = 0; i <= n; i++)
            if (!read_index(v, v->nctrls, "label", &v->targets[i]))
                return false;
        ins->imm.brtable.count = n;
        ins->imm.brtable.targets = v->targets;
        return true;
    }
    case GIMM_FUNC:
        if (!read_index(v, m->nfuncs, "function", &ins->imm.index))
            return false;
        if (ins->op == GOP_REF_FUNC && !is_declared(m, ins->imm.index))
            return fail(v, GATE_ERR_INVALID, at, "undeclared function reference %u",
                        ins->imm.index);
        return true;
    case GIMM_CALLIND:
        if (!read_index(v, m->ntypes, "type", &ins->imm.callind.type) ||
            !read_index(v, m->ntables, "table", &ins->imm.callind.table))
            return false;
        if (m->tables[ins->imm.callind.table].elem != GT_FUNCREF)
            return fail(v, GATE_ERR_INVALID, at, "type mismatch: call_indirect through a table of externref");
        return true;
    case GIMM_SELECT_T: {
        uint32_t n;
        if (!gr_u32(r, &n))
            return false;
        if (n != 1)
            return fail(v, GATE_ERR_INVALID, at, "invalid result arity %u for select", n);
        uint64_t tat = gr_off(r);
        uint8_t t;
        if (!gr_byte(r, &t))
            return false;
        if (!single(t))
            return fail(v, GATE_ERR_MALFORMED, tat, "malformed value type 0x%02x", t);
        ins->imm.type = t;
        return true;
    }
    case GIMM_LOCAL:
        return read_index(v, v->nlocals, "local", &ins->imm.index);
    case GIMM_GLOBAL:
        return read_index(v, m->nglobals, "global", &ins->imm.index);
    case GIMM_TABLE:
        return read_index(v, m->ntables, "table", &ins->imm.index);
    case GIMM_MEMARG:
        return read_memarg(v, ins, oi->x);
    case GIMM_MEMARG_LANE:
        return read_memarg(v, ins, oi->x) && read_lane(v, &ins->imm.mem.lane, 16u >> oi->x);
    case GIMM_MEM0:
        return zero_byte(v) && need_memory(v, at);
    case GIMM_I32:
        return gr_s32(r, &ins->imm.i32);
    case GIMM_I64:
        return gr_s64(r, &ins->imm.i64);
    case GIMM_F32:
        return gr_fixed32(r, &ins->imm.f32);
    case GIMM_F64:
        return gr_fixed64(r, &ins->imm.f64);
    case GIMM_V128: {
        const uint8_t *p;
        if (!gr_bytes(r, 16, &p))
            return false;
        memcpy(ins->imm.v128, p, 16);
        return true;
    }
    case GIMM_SHUFFLE:
        for (int i = 0; i < 16; i++)
            if (!read_lane(v, &ins->imm.v128[i], 32))
                return false;
        return true;
    case GIMM_LANE:
        return read_lane(v, &ins->imm.lane, oi->x);
    case GIMM_REFTYPE:
        return read_reftype(v, &ins->imm.type);
    case GIMM_MEMINIT:
        if (!gr_u32(r, &ins->imm.pair.a) || !zero_byte(v))
            return false;
        if (!need_datacount(v, at) || !need_memory(v, at))
            return false;
        if (ins->imm.pair.a >= m->datacount)
            return fail(v, GATE_ERR_INVALID, at, "unknown data segment %u", ins->imm.pair.a);
        return true;
    case GIMM_DATA:
        if (!gr_u32(r, &ins->imm.index) || !need_datacount(v, at))
            return false;
        if (ins->imm.index >= m->datacount)
            return fail(v, GATE_ERR_INVALID, at, "unknown data segment %u", ins->imm.index);
        return true;
    case GIMM_MEMCOPY:
        return zero_byte(v) && zero_byte(v) && need_memory(v, at);
    case GIMM_TABLEINIT:
        if (!read_index(v, m->nelems, "elem segment", &ins->imm.pair.a) ||
            !read_index(v, m->ntables, "table", &ins->imm.pair.b))
            return false;
        if (m->elems[ins->imm.pair.a].type != m->tables[ins->imm.pair.b].elem)
            return fail(v, GATE_ERR_INVALID, at, "type mismatch: table.init of %s into %s",
                        tname(m->elems[ins->imm.pair.a].type),
                        tname(m->tables[ins->imm.pair.b].elem));
        return true;
    case GIMM_ELEM:
        return read_index(v, m->nelems, "elem segment", &ins->imm.index);
    case GIMM_TABLECOPY:
        if (!read_index(v, m->ntables, "table", &ins->imm.pair.a) ||
            !read_index(v, m->ntables, "table", &ins->imm.pair.b))
            return false;
        if (m->tables[ins->imm.pair.a].elem != m->tables[ins->imm.pair.b].elem)
            return fail(v, GATE_ERR_INVALID, at, "type mismatch: table.copy between %s and %s",
                        tname(m->tables[ins->imm.pair.b].elem),
                        tname(m->tables[ins->imm.pair.a].elem));
        return true;
    }
    return fail(v, GATE_ERR_MALFORMED, at, "bad immediate kind");
}

/* ---- types -------------------------------------------------------------- */

static uint8_t sig_type(char c)
{
    switch (c) {
    case 'i': return GT_I32;
    case 'I': return GT_I64;
    case 'f': return GT_F32;
    case 'F': return GT_F64;
    default: return GT_V128;
    }
}

/* The opcode table's "pops:pushes" strings, decoded once: the types
   popped (at most 3 here) and pushed (at most 1); npop 0xff means the
   signature is longer and goes the slow way. */
typedef struct gv_sig {
    uint8_t npop, npush, pop[3], push;
} gv_sig;
static gv_sig sigs[GOP_COUNT];

__attribute__((constructor)) static void decode_sigs(void)
{
    for (int op = 0; op < GOP_COUNT; op++) {
        const char *sig = gop_table[op].sig;
        gv_sig *g = &sigs[op];
        g->npop = 0xff;
        if (!sig)
            continue;
        const char *colon = strchr(sig, ':');
        size_t np = (size_t)(colon - sig), nq = strlen(colon + 1);
        if (np > 3 || nq > 1)
            continue;
        g->npop = (uint8_t)np;
        g->npush = (uint8_t)nq;
        for (size_t i = 0; i < np; i++)
            g->pop[i] = sig_type(sig[i]);
        if (nq)
            g->push = sig_type(colon[1]);
    }
}

/* The general case of apply_sig: GT_UNKNOWN operands, errors, more
   operands than the table form holds. */
static bool apply_sig_slow(gv_func *v, const char *sig, uint64_t off)
{
    const char *colon = strchr(sig, ':');
    for (const char *p = colon; p-- > sig;)
        if (!pop_expect(v, sig_type(*p), NULL, off))
            return false;
    for (const char *p = colon + 1; *p; p++)
        if (!push(v, sig_type(*p), off))
            return false;
    return true;
}

/* Applies a "pops:pushes" signature from the opcode table. */
static inline __attribute__((always_inline)) bool apply_sig(gv_func *v, uint16_t op,
                                                           const char *sig, uint64_t off)
{
    /* the common case: at most 3 pops, all present above the block's base
       with exactly the wanted types, at most one push */
    const gv_sig *g = &sigs[op];
    uint32_t np = g->npop;
    if (__builtin_expect(np != 0xff && v->nvals - v->ctrls[v->nctrls - 1].height >= np &&
                         (!g->npush || v->nvals - np < v->capvals), 1)) {
        const uint8_t *top = v->vals + v->nvals - np;
        bool fits = true;
        switch (np) {
        case 3: fits = top[2] == g->pop[2]; /* fall through */
        case 2: fits &= top[1] == g->pop[1]; /* fall through */
        case 1: fits &= top[0] == g->pop[0]; /* fall through */
        default: break;
        }
        if (__builtin_expect(fits, 1)) {
            v->nvals -= np;
            if (g->npush) {
                v->vals[v->nvals++] = g->push;
                if (v->nvals > v->maxvals)
                    v->maxvals = v->nvals;
            }
            return true;
        }
    }
    return apply_sig_slow(v, sig, off);
}

/* The check for br_table: every target has the default's arity, and the
   top of the stack fits each target's label types. */
static bool check_br_table(gv_func *v, const gv_insn *ins, uint64_t off)
{
    uint32_t n = ins->imm.brtable.count;
    const uint32_t *tg = ins->imm.brtable.targets;
    uint32_t arity, k;
    const uint8_t *ts;
    const uint8_t *checked = NULL;
    label_types(&v->ctrls[v->nctrls - 1 - tg[n]], &arity, &ts);
    for (uint32_t i = 0; i <= n; i++) {
        label_types(&v->ctrls[v->nctrls - 1 - tg[i]], &k, &ts);
        if (k != arity)
            return fail(v, GATE_ERR_INVALID, off,
                        "type mismatch: br_table targets have %u and %u values", arity, k);
        /* the same types as a target checked already, or exactly what the
           stack holds: nothing to do (65,520 targets of 1,000 values each
           would otherwise be 65 million steps) */
        if (k == 0 || ts == checked)
            continue;
        if (v->nvals - v->ctrls[v->nctrls - 1].height >= k &&
            memcmp(v->vals + v->nvals - k, ts, k) == 0) {
            checked = ts;
            continue;
        }
        /* pop the label's types, then push back what was popped */
        uint8_t popped[16];
        uint8_t *buf = popped;
        if (k > sizeof popped) {
            buf = gx_malloc(&v->alloc, k);
            if (!buf)
                return fail(v, GATE_ERR_NOMEM, off, "out of memory");
        }
        bool ok = true;
        for (uint32_t j = k; ok && j-- > 0;)
            ok = pop_expect(v, ts[j], &buf[j], off);
        for (uint32_t j = 0; ok && j < k; j++)
            ok = push(v, buf[j], off);
        if (buf != popped)
            gx_free(&v->alloc, buf, k);
        if (!ok)
            return false;
    }
    label_types(&v->ctrls[v->nctrls - 1 - tg[n]], &k, &ts);
    if (!pop_types(v, ts, k, off))
        return false;
    set_unreachable(v);
    return true;
}

static bool types(gv_func *v, gv_insn *ins)
{
    const gd_module *m = v->m;
    uint64_t off = ins->offset;
    uint8_t t = GT_UNKNOWN, t1 = GT_UNKNOWN, t2 = GT_UNKNOWN;
    const char *sig = gop_table[ins->op].sig;
    if (sig)
        return apply_sig(v, ins->op, sig, off);

    switch (ins->op) {
    case GOP_UNREACHABLE:
        set_unreachable(v);
        return true;
    case GOP_NOP:
        return true;
    case GOP_BLOCK:
    case GOP_LOOP:
        return pop_types(v, ins->imm.block.params, ins->imm.block.nparams, off) &&
               push_ctrl(v, ins->op, ins->imm.block.nparams, ins->imm.block.params,
                         ins->imm.block.nresults, ins->imm.block.results, off);
    case GOP_IF:
        return pop_expect(v, GT_I32, NULL, off) &&
               pop_types(v, ins->imm.block.params, ins->imm.block.nparams, off) &&
               push_ctrl(v, GOP_IF, ins->imm.block.nparams, ins->imm.block.params,
                         ins->imm.block.nresults, ins->imm.block.results, off);
    case GOP_ELSE: {
        gv_ctrl c;
        if (v->ctrls[v->nctrls - 1].op != GOP_IF)
            return fail(v, GATE_ERR_MALFORMED, off, "else without a matching if");
        if (!pop_ctrl(v, &c, off))
            return false;
        /* the compiler learns the block's types from the instruction */
        ins->imm.block.nparams = c.nparams;
        ins->imm.block.params = c.params;
        ins->imm.block.nresults = c.nresults;
        ins->imm.block.results = c.results;
        if (!push_ctrl(v, GOP_ELSE, c.nparams, c.params, c.nresults, c.results, off))
            return false;
        v->ctrls[v->nctrls - 1].offset = c.offset;
        return true;
    }
    case GOP_END: {
        gv_ctrl c;
        if (!pop_ctrl(v, &c, off))
            return false;
        ins->imm.block.nparams = c.nparams;
        ins->imm.block.params = c.params;
        ins->imm.block.nresults = c.nresults;
        ins->imm.block.results = c.results;
        if (c.op == GOP_IF) {
            /* an if without else passes its params through as results */
            bool same = c.nparams == c.nresults;
            for (uint32_t i = 0; same && i < c.nparams; i++)
                same = c.params[i] == c.results[i];
            if (!same)
                return fail(v, GATE_ERR_INVALID, off,
                            "type mismatch: if without else must leave its inputs as results");
        }
        if (v->nctrls == 0) {
            v->done = true;
            if (v->r.pos != v->r.end)
                return fail(v, GATE_ERR_MALFORMED, gr_off(&v->r),
                            "section size mismatch: operators after the end of the function");
            /* the function's results stay on the type stack for the compiler */
            return push_types(v, c.results, c.nresults, off);
        }
        return push_types(v, c.results, c.nresults, off);
    }
    case GOP_BR: {
        uint32_t n;
        const uint8_t *ts;
        label_types(&v->ctrls[v->nctrls - 1 - ins->imm.index], &n, &ts);
        if (!pop_types(v, ts, n, off))
            return false;
        set_unreachable(v);
        return true;
    }
    case GOP_BR_IF: {
        uint32_t n;
        const uint8_t *ts;
        label_types(&v->ctrls[v->nctrls - 1 - ins->imm.index], &n, &ts);
        return pop_expect(v, GT_I32, NULL, off) && pop_types(v, ts, n, off) &&
               push_types(v, ts, n, off);
    }
    case GOP_BR_TABLE:
        return pop_expect(v, GT_I32, NULL, off) && check_br_table(v, ins, off);
    case GOP_RETURN:
        if (!pop_types(v, v->ctrls[0].results, v->ctrls[0].nresults, off))
            return false;
        set_unreachable(v);
        return true;
    case GOP_CALL: {
        const gd_functype *ft = gd_func_type(m, ins->imm.index);
        return pop_types(v, ft->params, ft->nparams, off) &&
               push_types(v, ft->results, ft->nresults, off);
    }
    case GOP_CALL_INDIRECT: {
        const gd_functype *ft = &m->types[ins->imm.callind.type];
        return pop_expect(v, GT_I32, NULL, off) &&
               pop_types(v, ft->params, ft->nparams, off) &&
               push_types(v, ft->results, ft->nresults, off);
    }
    case GOP_DROP:
        return pop(v, &t, off);
    case GOP_SELECT:
        if (!pop_expect(v, GT_I32, NULL, off) || !pop(v, &t1, off) || !pop(v, &t2, off))
            return false;
        if (gt_is_ref(t1) || gt_is_ref(t2))
            return fail(v, GATE_ERR_INVALID, off,
                        "type mismatch: select without a type needs numeric or vector operands");
        if (t1 != t2 && t1 != GT_UNKNOWN && t2 != GT_UNKNOWN)
            return fail(v, GATE_ERR_INVALID, off, "type mismatch: select of %s and %s",
                        tname(t2), tname(t1));
        return push(v, t1 == GT_UNKNOWN ? t2 : t1, off);
    case GOP_SELECT_T:
        return pop_expect(v, GT_I32, NULL, off) && pop_expect(v, ins->imm.type, NULL, off) &&
               pop_expect(v, ins->imm.type, NULL, off) && push(v, ins->imm.type, off);
    case GOP_LOCAL_GET:
        return push(v, v->locals[ins->imm.index], off);
    case GOP_LOCAL_SET:
        return pop_expect(v, v->locals[ins->imm.index], NULL, off);
    case GOP_LOCAL_TEE:
        return pop_expect(v, v->locals[ins->imm.index], NULL, off) &&
               push(v, v->locals[ins->imm.index], off);
    case GOP_GLOBAL_GET:
        return push(v, m->globals[ins->imm.index].type, off);
    case GOP_GLOBAL_SET:
        if (!m->globals[ins->imm.index].mut)
            return fail(v, GATE_ERR_INVALID, off, "global is immutable: global %u",
                        ins->imm.index);
        return pop_expect(v, m->globals[ins->imm.index].type, NULL, off);
    case GOP_TABLE_GET:
        return pop_expect(v, GT_I32, NULL, off) &&
               push(v, m->tables[ins->imm.index].elem, off);
    case GOP_TABLE_SET:
        return pop_expect(v, m->tables[ins->imm.index].elem, NULL, off) &&
               pop_expect(v, GT_I32, NULL, off);
    case GOP_REF_NULL:
        return push(v, ins->imm.type, off);
    case GOP_REF_IS_NULL:
        if (!pop(v, &t, off))
            return false;
        if (t != GT_UNKNOWN && !gt_is_ref(t))
            return fail(v, GATE_ERR_INVALID, off, "type mismatch: ref.is_null of %s", tname(t));
        return push(v, GT_I32, off);
    case GOP_REF_FUNC:
        return push(v, GT_FUNCREF, off);
    case GOP_TABLE_INIT:
    case GOP_TABLE_COPY:
        return pop_expect(v, GT_I32, NULL, off) && pop_expect(v, GT_I32, NULL, off) &&
               pop_expect(v, GT_I32, NULL, off);
    case GOP_ELEM_DROP:
        return true;
    case GOP_TABLE_GROW:
        return pop_expect(v, GT_I32, NULL, off) &&
               pop_expect(v, m->tables[ins->imm.index].elem, NULL, off) &&
               push(v, GT_I32, off);
    case GOP_TABLE_SIZE:
        return push(v, GT_I32, off);
    case GOP_TABLE_FILL:
        return pop_expect(v, GT_I32, NULL, off) &&
               pop_expect(v, m->tables[ins->imm.index].elem, NULL, off) &&
               pop_expect(v, GT_I32, NULL, off);
    }
    return fail(v, GATE_ERR_MALFORMED, off, "opcode %s has no type rule", gop_table[ins->op].name);
}

/* ---- the iterator ------------------------------------------------------- */

bool gv_begin(gv_func *v, const gd_module *m, const gx_alloc *a,
              const gd_limits_cfg *lim, uint32_t func, gate_error *err)
{
    memset(v, 0, sizeof *v);
    v->m = m;
    v->alloc = *a;
    v->lim = *lim;
    v->err = err;
    if (!gv_restart(v, func)) {
        gv_end(v);
        return false;
    }
    return true;
}

bool gv_restart(gv_func *v, uint32_t func)
{
    const gd_module *m = v->m;
    gate_error *err = v->err;
    v->func = func;
    v->nvals = v->maxvals = 0;
    v->nctrls = v->maxctrls = 0;
    v->done = false;
    const gd_func *f = &m->funcs[func];
    const gd_functype *ft = &m->types[f->type];
    v->r = (gr_reader){ .base = m->bytes, .pos = f->body_off,
                        .end = f->body_off + f->body_len, .err = err };
    /* locals: the params, then run-length groups */
    uint64_t at = gr_off(&v->r);
    if (ft->nparams > 0) {
        if (!grow(v, (void **)&v->locals, &v->nlocals_cap, ft->nparams, 1, UINT32_MAX,
                  "locals", at))
            goto fail;
        memcpy(v->locals, ft->params, ft->nparams);
    }
    v->nlocals = ft->nparams;
    uint32_t ngroups;
    if (!gr_u32(&v->r, &ngroups))
        goto fail;
    for (uint32_t g = 0; g < ngroups; g++) {
        uint32_t n;
        uint8_t t;
        at = gr_off(&v->r);
        if (!gr_u32(&v->r, &n))
            goto fail;
        if ((uint64_t)v->nlocals + n > v->lim.max_locals) {
            fail(v, GATE_ERR_LIMIT, at, "too many locals: more than %u", v->lim.max_locals);
            goto fail;
        }
        uint64_t tat = gr_off(&v->r);
        if (!gr_byte(&v->r, &t))
            goto fail;
        if (!single(t)) {
            fail(v, GATE_ERR_MALFORMED, tat, "malformed value type 0x%02x", t);
            goto fail;
        }
        if (n == 0)
            continue;
        if (!grow(v, (void **)&v->locals, &v->nlocals_cap, v->nlocals + n, 1, UINT32_MAX,
                  "locals", at))
            goto fail;
        memset(v->locals + v->nlocals, t, n);
        v->nlocals += n;
    }
    if (!push_ctrl(v, GOP_CALL, 0, NULL, ft->nresults, ft->results, f->body_off))
        goto fail;
    return true;
fail:
    if (err && err->func_index == GATE_NO_FUNC)
        err->func_index = func;
    return false;
}

int gv_next(gv_func *v, gv_insn *ins)
{
    if (v->done)
        return 0;
    gr_reader *r = &v->r;
    uint64_t at = gr_off(r);
    if (r->pos >= r->end) {
        fail(v, GATE_ERR_MALFORMED, at, "unexpected end of section or function: "
             "%u block(s) not closed", v->nctrls);
        goto fail;
    }
    if (!gr_opcode(r, &ins->op))
        goto fail;
    ins->offset = at;
    /* the most frequent instructions first, immediates and types in one
       place (one dispatch instead of two); the same checks and messages
       as immediates() and types() */
    switch (ins->op) {
    case GOP_LOCAL_GET:
        if (!read_index(v, v->nlocals, "local", &ins->imm.index) ||
            !push1(v, v->locals[ins->imm.index], at))
            goto fail;
        return 1;
    case GOP_LOCAL_SET:
        if (!read_index(v, v->nlocals, "local", &ins->imm.index) ||
            !pop1(v, v->locals[ins->imm.index], at))
            goto fail;
        return 1;
    case GOP_LOCAL_TEE:
        if (!read_index(v, v->nlocals, "local", &ins->imm.index) ||
            !pop1(v, v->locals[ins->imm.index], at) ||
            !push1(v, v->locals[ins->imm.index], at))
            goto fail;
        return 1;
    case GOP_GLOBAL_GET:
        if (!read_index(v, v->m->nglobals, "global", &ins->imm.index) ||
            !push1(v, v->m->globals[ins->imm.index].type, at))
            goto fail;
        return 1;
    case GOP_I32_CONST:
        if (!gr_s32(r, &ins->imm.i32) || !push1(v, GT_I32, at))
            goto fail;
        return 1;
    case GOP_I64_CONST:
        if (!gr_s64(r, &ins->imm.i64) || !push1(v, GT_I64, at))
            goto fail;
        return 1;
    default: {
        const gop_info *oi = &gop_table[ins->op];
        if (oi->sig && oi->imm == GIMM_NONE) {
            if (!apply_sig(v, ins->op, oi->sig, at))
                goto fail;
            return 1;
        }
        if (oi->sig && oi->imm == GIMM_MEMARG) {
            if (!read_memarg(v, ins, oi->x) || !apply_sig(v, ins->op, oi->sig, at))
                goto fail;
            return 1;
        }
        break;
    }
    }
    if (!immediates(v, ins) || !types(v, ins))
        goto fail;
    return 1;
fail:
    if (v->err && v->err->func_index == GATE_NO_FUNC)
        v->err->func_index = v->func;
    return -1;
}

void gv_end(gv_func *v)
{
    gx_free(&v->alloc, v->locals, v->nlocals_cap);
    gx_free(&v->alloc, v->vals, v->capvals);
    gx_free(&v->alloc, v->ctrls, (size_t)v->capctrls * sizeof(gv_ctrl));
    gx_free(&v->alloc, v->targets, (size_t)v->captargets * 4);
    v->locals = NULL;
    v->vals = NULL;
    v->ctrls = NULL;
    v->targets = NULL;
}
