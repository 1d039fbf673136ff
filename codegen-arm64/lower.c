/*
 * lower.c - the ARM64 backend: lowering of validated wasm to AArch64.
 *
 * A first, simple lowering: every value lives in its canonical slot
 * between instructions (so every point is already what a safe point
 * needs); each instruction loads its operands into scratch registers,
 * computes, and stores its result.  The frame layout is the x86-64 one
 * (docs/design.md): x28 vmctx, x27 memory base, x29 frame pointer,
 *     [x29+16+8i] arguments/results   [x29+8] return address   [x29] caller fp
 *     [x29-8] vmctx   [x29-16-8k] slot k (locals, then the operand stack)
 *     [sp+8i] outgoing arguments/results
 * Guard pages or explicit bounds checks; SIMD: not yet.
 */
#include "arm64.h"
#include "../compiler/backend.h"

typedef struct actl {
    uint16_t op;
    bool dead_entry;            /* the block began in unreachable code */
    uint32_t height;            /* operand depth below its params */
    uint32_t nparams, nresults;
    size_t *fix;                /* branches to patch to the end */
    uint32_t nfix, capfix;
    size_t loop_pc;
    size_t else_fix;
} actl;

typedef struct astub {
    size_t at, at_fuel, back;       /* at_fuel: SIZE_MAX without fuel */
    uint32_t wasm, slots;
} astub;

typedef struct acall {
    size_t at;
    uint32_t func;
} acall;

typedef struct astate {
    actl *ctls;
    uint32_t nctls, capctls;
    uint32_t nlocals, depth;
    bool dead;
    size_t frame_patch;
    uint32_t maxout;
    astub *stubs;
    uint32_t nstubs, capstubs;
    acall *calls;
    uint32_t ncalls, capcalls;
} astate;

#define ST(c) ((astate *)(c)->be)

static bool oom(gc_ctx *c)
{
    return gx_fail(c->err, GATE_ERR_NOMEM, UINT64_MAX, c->func, "out of memory");
}

static bool grow(gc_ctx *c, void **p, uint32_t *cap, uint32_t need, size_t each)
{
    if (need <= *cap)
        return true;
    uint32_t n = *cap ? *cap * 2 : 16;
    while (n < need)
        n *= 2;
    void *q = gx_realloc(&c->alloc, *p, (size_t)*cap * each, (size_t)n * each);
    if (!q)
        return oom(c);
    *p = q;
    *cap = n;
    return true;
}

static bool unsupported(gc_ctx *c, uint64_t off, const char *what)
{
    return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, off, c->func,
                   "%s is not supported by the ARM64 backend yet", what);
}

/* ---- slots ---------------------------------------------------------------- */

enum { K_X, K_W, K_S, K_D };        /* how a slot is loaded or stored */

static int kind_of(uint8_t t)
{
    return t == GT_I32 ? K_W : t == GT_F32 ? K_S : t == GT_F64 ? K_D : K_X;
}

/* ldr/str reg, [x29 - 16 - 8k] */
static void slot_ls(gc_ctx *c, bool load, int kind, int reg, uint32_t k)
{
    int64_t off = -16 - 8 * (int64_t)k;
    int op = kind >= K_S ? (load ? LS_FLD : LS_FST) : (load ? LS_LD : LS_ST);
    int size = kind == K_W || kind == K_S ? 2 : 3;
    if (!load && kind == K_W)
        size = 3;                   /* i32 slots hold the zero-extended value */
    if (off >= -256) {
        a64_ldst_unscaled(&c->buf, op, size, reg, X29, (int32_t)off);
    } else {
        a64_mov_imm(&c->buf, 1, X16, (uint64_t)(-off));
        a64_addsub_rr(&c->buf, AS_SUB, 1, X16, X29, X16);
        a64_ldst(&c->buf, op, size, reg, X16, 0);
    }
}

static void ld(gc_ctx *c, int kind, int reg, uint32_t k) { slot_ls(c, true, kind, reg, k); }
static void st(gc_ctx *c, int kind, int reg, uint32_t k) { slot_ls(c, false, kind, reg, k); }

/* operand i counted from the top (0 = top) before the instruction */
static uint32_t opnd(gc_ctx *c, uint32_t from_top)
{
    astate *s = ST(c);
    return s->nlocals + s->depth - 1 - from_top;
}

/* ldr/str x, [x29 + off] for off >= 0 (argument area) or [sp + off] */
static void area_ls(gc_ctx *c, bool load, int reg, int base, uint32_t off)
{
    if (a64_ldst_uimm(off, 3)) {
        a64_ldst(&c->buf, load ? LS_LD : LS_ST, 3, reg, base, off);
    } else {
        a64_mov_imm(&c->buf, 1, X16, off);
        a64_addsub_rrx(&c->buf, AS_ADD, 1, X16, base, X16, EXT_UXTX, 0);
        a64_ldst(&c->buf, load ? LS_LD : LS_ST, 3, reg, X16, 0);
    }
}

/* x = [x28 + off] */
static void ld_vm(gc_ctx *c, int reg, uint32_t off)
{
    a64_ldst(&c->buf, LS_LD, 3, reg, X28, off);
}

static void reload_pinned(gc_ctx *c)
{
    a64_ldst_unscaled(&c->buf, LS_LD, 3, X28, X29, -8);
    ld_vm(c, X27, VM_MEM_BASE);
}

/* ---- traps, helpers, stop checks ----------------------------------------- */

/* udf at a trap site: the signal handler turns it into the trap */
static bool trap_here(gc_ctx *c, uint64_t wasm, int code)
{
    if (!gc_add_trap(c, (uint32_t)c->buf.n, (uint32_t)wasm, (uint32_t)code))
        return false;
    a64_udf(&c->buf, (uint16_t)code);
    return true;
}

/* b.<not cond> over a trap */
static bool trap_if(gc_ctx *c, int cond, uint64_t wasm, int code)
{
    size_t skip = a64_bcond(&c->buf, cond ^ 1);
    if (!trap_here(c, wasm, code))
        return false;
    return a64_patch(&c->buf, skip, c->buf.n);
}

static uint32_t live_slots(gc_ctx *c)
{
    return ST(c)->nlocals + ST(c)->depth;
}

/* helper h(vm = x0, x1...) with the caller's frame in vm->fp */
static bool call_helper(gc_ctx *c, int h, bool safepoint, uint64_t wasm, uint32_t live)
{
    a64_ldst(&c->buf, LS_ST, 3, X29, X28, VM_FP);
    a64_mov_rr(&c->buf, 1, X0, X28);
    ld_vm(c, X16, VM_HELPERS);
    a64_ldst(&c->buf, LS_LD, 3, X16, X16, 8 * (uint32_t)h);
    a64_blr(&c->buf, X16);
    if (safepoint && !gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)wasm, live))
        return false;
    reload_pinned(c);
    return true;
}

/*
 * The stop check of loop headers and function entries:
 *     [ldr x16, [x28, #fuel]; subs x16, x16, #1; str x16, [x28, #fuel]; b.mi stub]
 *     ldr x16, [x28, #stack_limit]; cmp sp, x16; b.lo stub
 * with the stub (the slow path's call, a safe point) after the body.
 */
static bool stop_check(gc_ctx *c, uint64_t wasm)
{
    astate *s = ST(c);
    if (!grow(c, (void **)&s->stubs, &s->capstubs, s->nstubs + 1, sizeof *s->stubs))
        return false;
    astub *t = &s->stubs[s->nstubs++];
    t->at_fuel = SIZE_MAX;
    if (c->fuel) {
        ld_vm(c, X16, VM_FUEL);
        a64_addsub_ri(&c->buf, AS_SUBS, 1, X16, X16, 1, 0);
        a64_ldst(&c->buf, LS_ST, 3, X16, X28, VM_FUEL);
        t->at_fuel = a64_bcond(&c->buf, COND_MI);
    }
    ld_vm(c, X16, VM_STACK_LIMIT);
    a64_addsub_rrx(&c->buf, AS_SUBS, 1, XZR, SP, X16, EXT_UXTX, 0);
    t->at = a64_bcond(&c->buf, COND_LO);
    t->back = c->buf.n;
    t->wasm = (uint32_t)wasm;
    t->slots = live_slots(c);
    return true;
}

static bool emit_stubs(gc_ctx *c)
{
    astate *s = ST(c);
    for (uint32_t i = 0; i < s->nstubs; i++) {
        astub *t = &s->stubs[i];
        if (!gc_reserve(&c->buf, GC_RED_ZONE))
            return oom(c);
        if (!a64_patch(&c->buf, t->at, c->buf.n) ||
            (t->at_fuel != SIZE_MAX && !a64_patch(&c->buf, t->at_fuel, c->buf.n)))
            return gx_fail(c->err, GATE_ERR_LIMIT, t->wasm, c->func, "function too large");
        a64_mov_imm(&c->buf, 0, X1, t->wasm);
        if (!call_helper(c, GH_SLOWPATH, true, t->wasm, t->slots))
            return false;
        size_t b = a64_b(&c->buf);
        if (!a64_patch(&c->buf, b, t->back))
            return gx_fail(c->err, GATE_ERR_LIMIT, t->wasm, c->func, "function too large");
    }
    s->nstubs = 0;
    return true;
}

/* Bulk memory and table operations: helper(vm, [imm], operands..., offset) */
static bool lower_helper(gc_ctx *c, const gv_insn *ins, int h, int nops, int64_t imm1,
                         int64_t imm2, uint8_t result)
{
    astate *s = ST(c);
    int n = 1;
    bool has_imm = !(h == GH_MEMORY_GROW || h == GH_MEMORY_FILL || h == GH_MEMORY_COPY);
    if (has_imm)
        a64_mov_imm(&c->buf, 1, n++, (uint64_t)(imm1 | imm2 << 32));
    for (int i = 0; i < nops; i++)
        ld(c, K_X, n++, opnd(c, (uint32_t)(nops - 1 - i)));
    s->depth -= (uint32_t)nops;
    a64_mov_imm(&c->buf, 0, n, ins->offset);
    if (!call_helper(c, h, h == GH_MEMORY_GROW, ins->offset, live_slots(c)))
        return false;
    if (result) {
        if (result == GT_I32)           /* AAPCS64 leaves x0's top half unspecified */
            a64_mov_rr(&c->buf, 0, X0, X0);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
    }
    return true;
}

/* ---- control ------------------------------------------------------------- */

static bool add_fix(gc_ctx *c, actl *k, size_t at)
{
    if (!grow(c, (void **)&k->fix, &k->capfix, k->nfix + 1, sizeof *k->fix))
        return false;
    k->fix[k->nfix++] = at;
    return true;
}

static bool patch(gc_ctx *c, size_t at, size_t to)
{
    return a64_patch(&c->buf, at, to) ||
           gx_fail(c->err, GATE_ERR_LIMIT, UINT64_MAX, c->func, "branch out of range");
}

/* Moves the top n values down to the label's place. */
static void move_down(gc_ctx *c, uint32_t n, uint32_t height)
{
    astate *s = ST(c);
    uint32_t from = s->depth - n;
    if (from == height)
        return;
    for (uint32_t i = 0; i < n; i++) {
        ld(c, K_X, X0, s->nlocals + from + i);
        st(c, K_X, X0, s->nlocals + height + i);
    }
}

static bool branch(gc_ctx *c, uint32_t d)
{
    astate *s = ST(c);
    actl *k = &s->ctls[s->nctls - 1 - d];
    move_down(c, k->op == GOP_LOOP ? k->nparams : k->nresults, k->height);
    size_t b = a64_b(&c->buf);
    if (k->op == GOP_LOOP)
        return patch(c, b, k->loop_pc);
    return add_fix(c, k, b);
}

static bool push_ctl(gc_ctx *c, uint16_t op, uint32_t np, uint32_t nr)
{
    astate *s = ST(c);
    uint32_t old = s->capctls;
    if (!grow(c, (void **)&s->ctls, &s->capctls, s->nctls + 1, sizeof *s->ctls))
        return false;
    if (s->capctls > old)           /* new entries own no fixup arrays yet */
        memset(s->ctls + old, 0, (size_t)(s->capctls - old) * sizeof *s->ctls);
    actl *k = &s->ctls[s->nctls++];
    size_t *fix = k->fix;
    uint32_t capfix = k->capfix;
    *k = (actl){ .op = op, .dead_entry = s->dead, .height = s->depth - np, .nparams = np,
                 .nresults = nr, .fix = fix, .capfix = capfix, .else_fix = SIZE_MAX };
    return true;
}

static bool emit_return(gc_ctx *c)
{
    astate *s = ST(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        ld(c, K_X, X0, s->nlocals + s->depth - ft->nresults + i);
        area_ls(c, false, X0, X29, 16 + 8 * i);
    }
    a64_mov_sp(&c->buf, 1, SP, X29);
    a64_ldstp(&c->buf, LS_LD, PAIR_POST, X29, X30, SP, 16);
    a64_ret(&c->buf);
    return true;
}

static bool lower_end(gc_ctx *c)
{
    astate *s = ST(c);
    actl *k = &s->ctls[s->nctls - 1];
    for (uint32_t i = 0; i < k->nfix; i++)
        if (!patch(c, k->fix[i], c->buf.n))
            return false;
    if (k->else_fix != SIZE_MAX && !patch(c, k->else_fix, c->buf.n))
        return false;
    s->depth = k->height + k->nresults;
    s->dead = k->dead_entry;
    s->nctls--;
    if (s->nctls == 0 && !s->dead)
        return emit_return(c);
    return true;
}

/* ---- instructions -------------------------------------------------------- */

/*
 * x16 = memory base + the i32 address in w0 (+ the offset when it does not
 * fit the access's scaled immediate); returns the immediate left to use.
 * With guard pages the access that follows is a trap site.  In explicit
 * bounds mode it is checked first instead:
 *     mov x17, #offset+bytes; add x17, x17, w0, uxtw
 *     ldr x16, [x28, #mem]; ldr x16, [x16, #bytes]; cmp x17, x16; b.ls ok; udf
 */
static bool mem_addr(gc_ctx *c, const gv_insn *ins, int size, uint32_t *off)
{
    if (c->explicit_bounds) {
        a64_mov_imm(&c->buf, 1, X17, (uint64_t)ins->imm.mem.offset + (1u << size));
        a64_addsub_rrx(&c->buf, AS_ADD, 1, X17, X17, X0, EXT_UXTW, 0);
        ld_vm(c, X16, VM_MEM);
        a64_ldst(&c->buf, LS_LD, 3, X16, X16, MO_BYTES);
        a64_cmp_rr(&c->buf, 1, X17, X16);
        if (!trap_if(c, COND_HI, ins->offset, GATE_TRAP_MEMORY_OUT_OF_BOUNDS))
            return false;
    }
    a64_addsub_rrx(&c->buf, AS_ADD, 1, X16, X27, X0, EXT_UXTW, 0);
    *off = ins->imm.mem.offset;
    if (!a64_ldst_uimm(*off, size)) {
        a64_mov_imm(&c->buf, 1, X17, *off);
        a64_addsub_rr(&c->buf, AS_ADD, 1, X16, X16, X17);
        *off = 0;
    }
    return c->explicit_bounds ||
           gc_add_trap(c, (uint32_t)c->buf.n, (uint32_t)ins->offset,
                       GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
}

static bool lower_load(gc_ctx *c, const gv_insn *ins)
{
    static const struct { uint8_t op, size; } L[] = {
        [GOP_I32_LOAD - GOP_I32_LOAD] = { LS_LD, 2 },
        [GOP_I64_LOAD - GOP_I32_LOAD] = { LS_LD, 3 },
        [GOP_F32_LOAD - GOP_I32_LOAD] = { LS_FLD, 2 },
        [GOP_F64_LOAD - GOP_I32_LOAD] = { LS_FLD, 3 },
        [GOP_I32_LOAD8_S - GOP_I32_LOAD] = { LS_LDS32, 0 },
        [GOP_I32_LOAD8_U - GOP_I32_LOAD] = { LS_LD, 0 },
        [GOP_I32_LOAD16_S - GOP_I32_LOAD] = { LS_LDS32, 1 },
        [GOP_I32_LOAD16_U - GOP_I32_LOAD] = { LS_LD, 1 },
        [GOP_I64_LOAD8_S - GOP_I32_LOAD] = { LS_LDS64, 0 },
        [GOP_I64_LOAD8_U - GOP_I32_LOAD] = { LS_LD, 0 },
        [GOP_I64_LOAD16_S - GOP_I32_LOAD] = { LS_LDS64, 1 },
        [GOP_I64_LOAD16_U - GOP_I32_LOAD] = { LS_LD, 1 },
        [GOP_I64_LOAD32_S - GOP_I32_LOAD] = { LS_LDS64, 2 },
        [GOP_I64_LOAD32_U - GOP_I32_LOAD] = { LS_LD, 2 },
    };
    unsigned i = ins->op - GOP_I32_LOAD;
    uint32_t at = opnd(c, 0);
    ld(c, K_W, X0, at);
    uint32_t off;
    if (!mem_addr(c, ins, L[i].size, &off))
        return false;
    a64_ldst(&c->buf, L[i].op, L[i].size, X0, X16, off);
    uint8_t t = gop_table[ins->op].sig[2] == 'I' ? GT_I64 : gop_table[ins->op].sig[2] == 'f'
              ? GT_F32 : gop_table[ins->op].sig[2] == 'F' ? GT_F64 : GT_I32;
    int kind = kind_of(t);
    if (kind == K_W && L[i].op == LS_LDS32)
        a64_mov_rr(&c->buf, 0, X0, X0);            /* ldrsb w: zero the top half */
    st(c, kind == K_W ? K_X : kind, X0, at);
    return true;
}

static bool lower_store(gc_ctx *c, const gv_insn *ins)
{
    static const struct { uint8_t op, size, kind; } S[] = {
        [GOP_I32_STORE - GOP_I32_STORE] = { LS_ST, 2, K_X },
        [GOP_I64_STORE - GOP_I32_STORE] = { LS_ST, 3, K_X },
        [GOP_F32_STORE - GOP_I32_STORE] = { LS_FST, 2, K_S },
        [GOP_F64_STORE - GOP_I32_STORE] = { LS_FST, 3, K_D },
        [GOP_I32_STORE8 - GOP_I32_STORE] = { LS_ST, 0, K_X },
        [GOP_I32_STORE16 - GOP_I32_STORE] = { LS_ST, 1, K_X },
        [GOP_I64_STORE8 - GOP_I32_STORE] = { LS_ST, 0, K_X },
        [GOP_I64_STORE16 - GOP_I32_STORE] = { LS_ST, 1, K_X },
        [GOP_I64_STORE32 - GOP_I32_STORE] = { LS_ST, 2, K_X },
    };
    unsigned i = ins->op - GOP_I32_STORE;
    ld(c, S[i].kind, X1, opnd(c, 0));
    ld(c, K_W, X0, opnd(c, 1));
    uint32_t off;
    if (!mem_addr(c, ins, S[i].size, &off))
        return false;
    a64_ldst(&c->buf, S[i].op, S[i].size, X1, X16, off);
    ST(c)->depth -= 2;
    return true;
}

/* binary integer op: x0 = x0 op x1 */
static bool int_binop(gc_ctx *c, const gv_insn *ins, int sf)
{
    uint32_t a = opnd(c, 1);
    ld(c, sf ? K_X : K_W, X0, a);
    ld(c, sf ? K_X : K_W, X1, opnd(c, 0));
    gc_buf *b = &c->buf;
    uint16_t op = ins->op;
    unsigned k = sf ? (unsigned)(op - GOP_I64_ADD) : (unsigned)(op - GOP_I32_ADD);
    switch (k) {
    case 0: a64_addsub_rr(b, AS_ADD, sf, X0, X0, X1); break;
    case 1: a64_addsub_rr(b, AS_SUB, sf, X0, X0, X1); break;
    case 2: a64_mul(b, sf, X0, X0, X1); break;
    case 3: case 5: {                      /* div_s, rem_s */
        a64_cmp_ri(b, sf, X1, 0, 0);
        if (!trap_if(c, COND_EQ, ins->offset, GATE_TRAP_DIV_BY_ZERO))
            return false;
        if (k == 3) {                      /* INT_MIN / -1 overflows */
            a64_cmn_ri(b, sf, X1, 1, 0);
            size_t skip = a64_bcond(b, COND_NE);
            a64_mov_imm(b, sf, X2, sf ? (uint64_t)1 << 63 : (uint64_t)1 << 31);
            a64_cmp_rr(b, sf, X0, X2);
            if (!trap_if(c, COND_EQ, ins->offset, GATE_TRAP_INT_OVERFLOW) ||
                !patch(c, skip, b->n))
                return false;
            a64_div(b, 1, sf, X0, X0, X1);
        } else {                           /* x - (x / y) * y; INT_MIN % -1 = 0 */
            a64_div(b, 1, sf, X2, X0, X1);
            a64_msub(b, sf, X0, X2, X1, X0);
        }
        break;
    }
    case 4: case 6:                        /* div_u, rem_u */
        a64_cmp_ri(b, sf, X1, 0, 0);
        if (!trap_if(c, COND_EQ, ins->offset, GATE_TRAP_DIV_BY_ZERO))
            return false;
        if (k == 4) {
            a64_div(b, 0, sf, X0, X0, X1);
        } else {
            a64_div(b, 0, sf, X2, X0, X1);
            a64_msub(b, sf, X0, X2, X1, X0);
        }
        break;
    case 7: a64_logic_rr(b, LG_AND, sf, X0, X0, X1); break;
    case 8: a64_logic_rr(b, LG_ORR, sf, X0, X0, X1); break;
    case 9: a64_logic_rr(b, LG_EOR, sf, X0, X0, X1); break;
    case 10: a64_shift_rr(b, SHIFT_LSL, sf, X0, X0, X1); break;
    case 11: a64_shift_rr(b, SHIFT_ASR, sf, X0, X0, X1); break;
    case 12: a64_shift_rr(b, SHIFT_LSR, sf, X0, X0, X1); break;
    case 13:                               /* rotl = rotr by -n */
        a64_neg(b, sf, X1, X1);
        a64_shift_rr(b, SHIFT_ROR, sf, X0, X0, X1);
        break;
    case 14: a64_shift_rr(b, SHIFT_ROR, sf, X0, X0, X1); break;
    }
    st(c, K_X, X0, a);
    ST(c)->depth--;
    return true;
}

static bool int_unop(gc_ctx *c, uint16_t op, int sf)
{
    uint32_t a = opnd(c, 0);
    ld(c, sf ? K_X : K_W, X0, a);
    gc_buf *b = &c->buf;
    unsigned k = sf ? (unsigned)(op - GOP_I64_CLZ) : (unsigned)(op - GOP_I32_CLZ);
    if (k == 0) {
        a64_clz(b, sf, X0, X0);
    } else if (k == 1) {
        a64_rbit(b, sf, X0, X0);
        a64_clz(b, sf, X0, X0);
    } else {
        a64_fmov_vr(b, 1, 0, X0);           /* d0 = x0 (w0 zero-extended) */
        a64_cnt8b(b, 0, 0);
        a64_addv8b(b, 0, 0);
        a64_fmov_rv(b, 0, X0, 0);
    }
    st(c, K_X, X0, a);
    return true;
}

/* comparison: x0 = cond ? 1 : 0 */
static bool int_cmp(gc_ctx *c, int sf, int cond)
{
    uint32_t a = opnd(c, 1);
    ld(c, sf ? K_X : K_W, X0, a);
    ld(c, sf ? K_X : K_W, X1, opnd(c, 0));
    a64_cmp_rr(&c->buf, sf, X0, X1);
    a64_cset(&c->buf, 0, X0, cond);
    st(c, K_X, X0, a);
    ST(c)->depth--;
    return true;
}

/* Deterministic mode: a NaN in d0/s0 becomes the canonical positive quiet
   NaN:  fcmp d0, d0; b.vc 1f; mov x0, #canonical; fmov d0, x0; 1: */
static bool canonical_nan(gc_ctx *c, int d)
{
    if (!c->deterministic)
        return true;
    a64_fcmp(&c->buf, d, 0, 0);
    size_t ok = a64_bcond(&c->buf, COND_VC);
    a64_mov_imm(&c->buf, d, X0, d ? 0x7ff8000000000000ull : 0x7fc00000u);
    a64_fmov_vr(&c->buf, d, 0, X0);
    return patch(c, ok, c->buf.n);
}

static bool float_binop(gc_ctx *c, int fop, int d)
{
    uint32_t a = opnd(c, 1);
    ld(c, d ? K_D : K_S, 0, a);
    ld(c, d ? K_D : K_S, 1, opnd(c, 0));
    a64_fp2(&c->buf, fop, d, 0, 0, 1);
    if (!canonical_nan(c, d))
        return false;
    st(c, d ? K_D : K_S, 0, a);
    ST(c)->depth--;
    return true;
}

static bool float_cmp(gc_ctx *c, int d, int cond)
{
    uint32_t a = opnd(c, 1);
    ld(c, d ? K_D : K_S, 0, a);
    ld(c, d ? K_D : K_S, 1, opnd(c, 0));
    a64_fcmp(&c->buf, d, 0, 1);
    a64_cset(&c->buf, 0, X0, cond);
    st(c, K_X, X0, a);
    ST(c)->depth--;
    return true;
}

static bool float_unop(gc_ctx *c, int fop, int d)
{
    uint32_t a = opnd(c, 0);
    ld(c, d ? K_D : K_S, 0, a);
    a64_fp1(&c->buf, fop, d, 0, 0);
    /* abs and neg only move bits: they keep a NaN's bits, as the spec says */
    if (fop != FP_ABS && fop != FP_NEG && !canonical_nan(c, d))
        return false;
    st(c, d ? K_D : K_S, 0, a);
    return true;
}

static bool lower_call(gc_ctx *c, const gv_insn *ins, const gd_functype *ft, int indirect)
{
    astate *s = ST(c);
    uint32_t n = ft->nparams > ft->nresults ? ft->nparams : ft->nresults;
    if (n > s->maxout)
        s->maxout = n;
    if (indirect) {
        ld(c, K_W, X2, opnd(c, 0));                 /* the table index */
        s->depth--;
    }
    for (uint32_t i = 0; i < ft->nparams; i++) {
        ld(c, K_X, X0, s->nlocals + s->depth - ft->nparams + i);
        area_ls(c, false, X0, SP, 8 * i);
    }
    s->depth -= ft->nparams;
    uint32_t live = live_slots(c);
    gc_buf *b = &c->buf;
    if (indirect) {
        uint32_t tab = ins->imm.callind.table;
        ld_vm(c, X16, VM_TABLES);
        a64_ldst(b, LS_LD, 3, X16, X16, 8 * tab);
        a64_ldst(b, LS_LD, 2, X17, X16, TB_SIZE);
        a64_cmp_rr(b, 0, X2, X17);
        if (!trap_if(c, COND_HS, ins->offset, GATE_TRAP_TABLE_OUT_OF_BOUNDS))
            return false;
        a64_ldst(b, LS_LD, 3, X16, X16, TB_ELEMS);
        a64_ldst_rr(b, LS_LD, 3, X16, X16, X2, EXT_UXTW, 1);
        a64_cmp_ri(b, 1, X16, 0, 0);
        if (!trap_if(c, COND_EQ, ins->offset, GATE_TRAP_INDIRECT_NULL))
            return false;
        ld_vm(c, X17, VM_SIGIDS);
        a64_ldst(b, LS_LD, 2, X17, X17, 4 * ins->imm.callind.type);
        a64_ldst(b, LS_LD, 2, X1, X16, FR_SIG);
        a64_cmp_rr(b, 0, X1, X17);
        if (!trap_if(c, COND_NE, ins->offset, GATE_TRAP_INDIRECT_TYPE))
            return false;
        a64_ldst(b, LS_LD, 3, X28, X16, FR_VM);
        ld_vm(c, X27, VM_MEM_BASE);                 /* the callee's memory */
        a64_ldst(b, LS_LD, 3, X16, X16, FR_CODE);
        a64_blr(b, X16);
    } else if (ins->imm.index < c->m->nfunc_imports) {
        ld_vm(c, X16, VM_FUNCS);
        a64_ldst(b, LS_LD, 3, X16, X16, 8 * ins->imm.index);
        a64_ldst(b, LS_LD, 3, X28, X16, FR_VM);
        ld_vm(c, X27, VM_MEM_BASE);                 /* the callee's memory */
        a64_ldst(b, LS_LD, 3, X16, X16, FR_CODE);
        a64_blr(b, X16);
    } else {
        if (!grow(c, (void **)&s->calls, &s->capcalls, s->ncalls + 1, sizeof *s->calls))
            return false;
        s->calls[s->ncalls++] = (acall){ a64_bl(b), ins->imm.index };
    }
    if (!gc_add_safepoint(c, (uint32_t)b->n, (uint32_t)ins->offset, live))
        return false;
    reload_pinned(c);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        area_ls(c, true, X0, SP, 8 * i);
        st(c, K_X, X0, s->nlocals + s->depth + i);
    }
    s->depth += ft->nresults;
    return true;
}

static bool lower_convert(gc_ctx *c, const gv_insn *ins)
{
    gc_buf *b = &c->buf;
    uint16_t op = ins->op;
    uint32_t a = opnd(c, 0);
    switch (op) {
    case GOP_I32_WRAP_I64:
        ld(c, K_W, X0, a);
        st(c, K_X, X0, a);
        return true;
    case GOP_I64_EXTEND_I32_S:
        ld(c, K_W, X0, a);
        a64_sxt(b, 4, 1, X0, X0);
        st(c, K_X, X0, a);
        return true;
    case GOP_I64_EXTEND_I32_U:
        return true;                               /* slots are zero-extended */
    case GOP_I32_EXTEND8_S: case GOP_I32_EXTEND16_S:
        ld(c, K_W, X0, a);
        a64_sxt(b, op == GOP_I32_EXTEND8_S ? 1 : 2, 0, X0, X0);
        st(c, K_X, X0, a);
        return true;
    case GOP_I64_EXTEND8_S: case GOP_I64_EXTEND16_S: case GOP_I64_EXTEND32_S:
        ld(c, K_X, X0, a);
        a64_sxt(b, op == GOP_I64_EXTEND8_S ? 1 : op == GOP_I64_EXTEND16_S ? 2 : 4, 1, X0, X0);
        st(c, K_X, X0, a);
        return true;
    case GOP_I32_REINTERPRET_F32: case GOP_F32_REINTERPRET_I32:
        ld(c, K_W, X0, a);                         /* the bits, unchanged */
        st(c, K_X, X0, a);
        return true;
    case GOP_I64_REINTERPRET_F64: case GOP_F64_REINTERPRET_I64:
        return true;
    case GOP_F32_DEMOTE_F64: case GOP_F64_PROMOTE_F32: {
        int to_d = op == GOP_F64_PROMOTE_F32;
        ld(c, to_d ? K_S : K_D, 0, a);
        a64_fcvt(b, to_d, 0, 0);
        if (!canonical_nan(c, to_d))
            return false;
        st(c, to_d ? K_D : K_S, 0, a);
        return true;
    }
    default:
        break;
    }
    if (op >= GOP_F32_CONVERT_I32_S && op <= GOP_F64_CONVERT_I64_U) {
        int d = op >= GOP_F64_CONVERT_I32_S;
        unsigned k = d ? (unsigned)(op - GOP_F64_CONVERT_I32_S) : (unsigned)(op - GOP_F32_CONVERT_I32_S);
        int sf = k >= 2, u = k & 1;                /* i32_s, i32_u, i64_s, i64_u */
        ld(c, sf ? K_X : K_W, X0, a);
        if (u)
            a64_ucvtf(b, d, sf, 0, X0);
        else
            a64_scvtf(b, d, sf, 0, X0);
        st(c, d ? K_D : K_S, 0, a);
        return true;
    }
    /* float -> int: saturating forms map to fcvtzs/fcvtzu (ARM saturates and
       turns NaN into 0, as wasm wants); trapping ones go to the helper */
    if (op >= GOP_I32_TRUNC_SAT_F32_S && op <= GOP_I64_TRUNC_SAT_F64_U) {
        unsigned k = (unsigned)(op - GOP_I32_TRUNC_SAT_F32_S);
        int sf = k >= 4, d = (k & 2) != 0, u = k & 1;
        ld(c, d ? K_D : K_S, 0, a);
        if (u)
            a64_fcvtzu(b, d, sf, X0, 0);
        else
            a64_fcvtzs(b, d, sf, X0, 0);
        st(c, K_X, X0, a);
        return true;
    }
    /* trapping truncation: h_trunc(vm, op, bits, offset) */
    ld(c, K_X, X2, a);
    a64_mov_imm(b, 0, X1, op);
    a64_mov_imm(b, 0, X3, ins->offset);
    if (!call_helper(c, GH_TRUNC, false, 0, 0))
        return false;
    if (gop_table[op].sig[2] == 'i')
        a64_mov_rr(b, 0, X0, X0);
    st(c, K_X, X0, a);
    return true;
}

static bool a_lower(gc_ctx *c, const gv_insn *ins)
{
    astate *s = ST(c);
    gc_buf *b = &c->buf;
    uint16_t op = ins->op;
    if (!gc_reserve(b, GC_RED_ZONE + 64 * (size_t)(s->depth + 8)))
        return oom(c);
    if (gop_table[op].prefix == 0xfd)
        return unsupported(c, ins->offset, "SIMD");
    /* control first: it runs in dead code too */
    switch (op) {
    case GOP_BLOCK: case GOP_LOOP:
        if (!push_ctl(c, op, ins->imm.block.nparams, ins->imm.block.nresults))
            return false;
        if (op == GOP_LOOP && !s->dead) {
            s->ctls[s->nctls - 1].loop_pc = b->n;
            return stop_check(c, ins->offset);
        }
        return true;
    case GOP_IF: {
        if (s->dead)
            return push_ctl(c, op, ins->imm.block.nparams, ins->imm.block.nresults);
        ld(c, K_W, X0, opnd(c, 0));
        s->depth--;
        size_t f = a64_cbz(b, 0, 0, X0);
        if (!push_ctl(c, op, ins->imm.block.nparams, ins->imm.block.nresults))
            return false;
        s->ctls[s->nctls - 1].else_fix = f;
        return true;
    }
    case GOP_ELSE: {
        actl *k = &s->ctls[s->nctls - 1];
        if (k->dead_entry)
            return true;
        if (!s->dead && !add_fix(c, k, a64_b(b)))
            return false;
        if (!patch(c, k->else_fix, b->n))
            return false;
        k->else_fix = SIZE_MAX;
        s->depth = k->height + k->nparams;
        s->dead = false;
        return true;
    }
    case GOP_END:
        return lower_end(c);
    }
    if (s->dead)
        return true;
    switch (op) {
    case GOP_UNREACHABLE:
        if (!trap_here(c, ins->offset, GATE_TRAP_UNREACHABLE))
            return false;
        s->dead = true;
        return true;
    case GOP_NOP:
        return true;
    case GOP_BR:
        if (!branch(c, ins->imm.index))
            return false;
        s->dead = true;
        return true;
    case GOP_BR_IF: {
        ld(c, K_W, X0, opnd(c, 0));
        s->depth--;
        size_t skip = a64_cbz(b, 0, 0, X0);
        if (!branch(c, ins->imm.index))
            return false;
        return patch(c, skip, b->n);
    }
    case GOP_BR_TABLE: {
        ld(c, K_W, X1, opnd(c, 0));
        s->depth--;
        uint32_t n = ins->imm.brtable.count;
        for (uint32_t i = 0; i < n; i++) {
            if (!gc_reserve(b, GC_RED_ZONE + 64 * (size_t)(s->depth + 8)))
                return oom(c);
            a64_mov_imm(b, 0, X2, i);
            a64_cmp_rr(b, 0, X1, X2);
            size_t next = a64_bcond(b, COND_NE);
            if (!branch(c, ins->imm.brtable.targets[i]) || !patch(c, next, b->n))
                return false;
        }
        if (!branch(c, ins->imm.brtable.targets[n]))
            return false;
        s->dead = true;
        return true;
    }
    case GOP_RETURN:
        if (!emit_return(c))
            return false;
        s->dead = true;
        return true;
    case GOP_CALL:
        return lower_call(c, ins, gd_func_type(c->m, ins->imm.index), 0);
    case GOP_CALL_INDIRECT:
        return lower_call(c, ins, &c->m->types[ins->imm.callind.type], 1);
    case GOP_DROP:
        s->depth--;
        return true;
    case GOP_SELECT: case GOP_SELECT_T:
        ld(c, K_W, X2, opnd(c, 0));
        ld(c, K_X, X0, opnd(c, 2));
        ld(c, K_X, X1, opnd(c, 1));
        a64_cmp_ri(b, 0, X2, 0, 0);
        a64_csel(b, 1, X0, X0, X1, COND_NE);
        st(c, K_X, X0, opnd(c, 2));
        s->depth -= 2;
        return true;
    case GOP_LOCAL_GET:
        ld(c, K_X, X0, ins->imm.index);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
        return true;
    case GOP_LOCAL_SET: case GOP_LOCAL_TEE:
        ld(c, K_X, X0, opnd(c, 0));
        st(c, K_X, X0, ins->imm.index);
        if (op == GOP_LOCAL_SET)
            s->depth--;
        return true;
    case GOP_GLOBAL_GET: case GOP_GLOBAL_SET:
        /* the value first: a slot far from x29 is reached through x16 */
        if (op == GOP_GLOBAL_SET)
            ld(c, K_X, X0, opnd(c, 0));
        ld_vm(c, X17, VM_GLOBALS);
        a64_ldst(b, LS_LD, 3, X17, X17, 8 * ins->imm.index);
        if (op == GOP_GLOBAL_GET) {
            a64_ldst(b, LS_LD, 3, X0, X17, 0);
            st(c, K_X, X0, s->nlocals + s->depth);
            s->depth++;
        } else {
            a64_ldst(b, LS_ST, 3, X0, X17, 0);
            s->depth--;
        }
        return true;
    case GOP_I32_CONST: case GOP_I64_CONST: case GOP_F32_CONST: case GOP_F64_CONST: {
        uint64_t v = op == GOP_I32_CONST ? (uint32_t)ins->imm.i32
                   : op == GOP_I64_CONST ? (uint64_t)ins->imm.i64
                   : op == GOP_F32_CONST ? (uint32_t)ins->imm.f32 : (uint64_t)ins->imm.f64;
        a64_mov_imm(b, 1, X0, v);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
        return true;
    }
    case GOP_REF_NULL:
        st(c, K_X, XZR, s->nlocals + s->depth);
        s->depth++;
        return true;
    case GOP_REF_IS_NULL:
        ld(c, K_X, X0, opnd(c, 0));
        a64_cmp_ri(b, 1, X0, 0, 0);
        a64_cset(b, 0, X0, COND_EQ);
        st(c, K_X, X0, opnd(c, 0));
        return true;
    case GOP_REF_FUNC:
        ld_vm(c, X16, VM_FUNCS);
        a64_ldst(b, LS_LD, 3, X0, X16, 8 * ins->imm.index);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
        return true;
    case GOP_MEMORY_SIZE:
        ld_vm(c, X16, VM_MEM);
        a64_ldst(b, LS_LD, 2, X0, X16, MO_PAGES);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
        return true;
    case GOP_MEMORY_GROW: return lower_helper(c, ins, GH_MEMORY_GROW, 1, 0, 0, GT_I32);
    case GOP_MEMORY_FILL: return lower_helper(c, ins, GH_MEMORY_FILL, 3, 0, 0, 0);
    case GOP_MEMORY_COPY: return lower_helper(c, ins, GH_MEMORY_COPY, 3, 0, 0, 0);
    case GOP_MEMORY_INIT: return lower_helper(c, ins, GH_MEMORY_INIT, 3, ins->imm.pair.a, 0, 0);
    case GOP_DATA_DROP: return lower_helper(c, ins, GH_DATA_DROP, 0, ins->imm.index, 0, 0);
    case GOP_TABLE_GET:
        return lower_helper(c, ins, GH_TABLE_GET, 1, ins->imm.index, 0,
                            c->m->tables[ins->imm.index].elem);
    case GOP_TABLE_SET: return lower_helper(c, ins, GH_TABLE_SET, 2, ins->imm.index, 0, 0);
    case GOP_TABLE_SIZE:
        ld_vm(c, X16, VM_TABLES);
        a64_ldst(b, LS_LD, 3, X16, X16, 8 * ins->imm.index);
        a64_ldst(b, LS_LD, 2, X0, X16, TB_SIZE);
        st(c, K_X, X0, s->nlocals + s->depth);
        s->depth++;
        return true;
    case GOP_TABLE_GROW: return lower_helper(c, ins, GH_TABLE_GROW, 2, ins->imm.index, 0, GT_I32);
    case GOP_TABLE_FILL: return lower_helper(c, ins, GH_TABLE_FILL, 3, ins->imm.index, 0, 0);
    case GOP_TABLE_COPY:
        return lower_helper(c, ins, GH_TABLE_COPY, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_TABLE_INIT:
        return lower_helper(c, ins, GH_TABLE_INIT, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_ELEM_DROP: return lower_helper(c, ins, GH_ELEM_DROP, 0, ins->imm.index, 0, 0);
    case GOP_I32_EQZ: case GOP_I64_EQZ: {
        int sf = op == GOP_I64_EQZ;
        ld(c, sf ? K_X : K_W, X0, opnd(c, 0));
        a64_cmp_ri(b, sf, X0, 0, 0);
        a64_cset(b, 0, X0, COND_EQ);
        st(c, K_X, X0, opnd(c, 0));
        return true;
    }
    }
    static const uint8_t icond[10] = { COND_EQ, COND_NE, COND_LT, COND_LO, COND_GT,
                                       COND_HI, COND_LE, COND_LS, COND_GE, COND_HS };
    if (op >= GOP_I32_EQ && op <= GOP_I32_GE_U)
        return int_cmp(c, 0, icond[op - GOP_I32_EQ]);
    if (op >= GOP_I64_EQ && op <= GOP_I64_GE_U)
        return int_cmp(c, 1, icond[op - GOP_I64_EQ]);
    /* eq ne lt gt le ge; unordered makes all but ne false */
    static const uint8_t fcond[6] = { COND_EQ, COND_NE, COND_MI, COND_GT, COND_LS, COND_GE };
    if (op >= GOP_F32_EQ && op <= GOP_F32_GE)
        return float_cmp(c, 0, fcond[op - GOP_F32_EQ]);
    if (op >= GOP_F64_EQ && op <= GOP_F64_GE)
        return float_cmp(c, 1, fcond[op - GOP_F64_EQ]);
    if (op >= GOP_I32_CLZ && op <= GOP_I32_POPCNT)
        return int_unop(c, op, 0);
    if (op >= GOP_I64_CLZ && op <= GOP_I64_POPCNT)
        return int_unop(c, op, 1);
    if (op >= GOP_I32_ADD && op <= GOP_I32_ROTR)
        return int_binop(c, ins, 0);
    if (op >= GOP_I64_ADD && op <= GOP_I64_ROTR)
        return int_binop(c, ins, 1);
    for (int d = 0; d < 2; d++) {
        uint16_t base = d ? GOP_F64_ABS : GOP_F32_ABS;
        /* abs neg ceil floor trunc nearest sqrt add sub mul div min max copysign */
        if (op < base || op > base + 13)
            continue;
        switch (op - base) {
        case 0: return float_unop(c, FP_ABS, d);
        case 1: return float_unop(c, FP_NEG, d);
        case 2: return float_unop(c, FP_RINTP, d);
        case 3: return float_unop(c, FP_RINTM, d);
        case 4: return float_unop(c, FP_RINTZ, d);
        case 5: return float_unop(c, FP_RINTN, d);
        case 6: return float_unop(c, FP_SQRT, d);
        case 7: return float_binop(c, FP_ADD, d);
        case 8: return float_binop(c, FP_SUB, d);
        case 9: return float_binop(c, FP_MUL, d);
        case 10: return float_binop(c, FP_DIV, d);
        case 11: return float_binop(c, FP_MIN, d);
        case 12: return float_binop(c, FP_MAX, d);
        default: {                                  /* copysign, on the bits */
            uint32_t a = opnd(c, 1);
            ld(c, K_X, X0, a);
            ld(c, K_X, X1, opnd(c, 0));
            int sign = d ? 63 : 31;
            a64_ubfm(b, 1, X1, X1, sign, sign);     /* x1 = sign bit of b */
            a64_bfm(b, 1, X0, X1, (64 - sign) & 63, 0);  /* insert it at bit `sign` */
            st(c, K_X, X0, a);
            s->depth--;
            return true;
        }
        }
    }
    if (op >= GOP_I32_WRAP_I64 && op <= GOP_I64_EXTEND32_S)
        return lower_convert(c, ins);
    if (op >= GOP_I32_TRUNC_SAT_F32_S && op <= GOP_I64_TRUNC_SAT_F64_U)
        return lower_convert(c, ins);
    if (op >= GOP_I32_LOAD && op <= GOP_I64_LOAD32_U)
        return lower_load(c, ins);
    if (op >= GOP_I32_STORE && op <= GOP_I64_STORE32)
        return lower_store(c, ins);
    return unsupported(c, ins->offset, gop_table[op].name);
}

/* ---- the contract -------------------------------------------------------- */

static bool a_begin_module(gc_ctx *c)
{
    astate *s = gx_malloc(&c->alloc, sizeof *s);
    if (!s)
        return oom(c);
    memset(s, 0, sizeof *s);
    c->be = s;
    c->out->cpu_features = 0;
    return true;
}

static bool a_begin_func(gc_ctx *c)
{
    astate *s = ST(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    s->depth = 0;
    s->nctls = 0;
    s->nstubs = 0;
    s->dead = false;
    s->maxout = 0;
    s->nlocals = c->v->nlocals;
    for (uint32_t i = 0; i < s->nlocals; i++)
        if (c->v->locals[i] == GT_V128)
            return unsupported(c, c->m->funcs[c->func].body_off, "v128");
    if (!gc_reserve(&c->buf, GC_RED_ZONE + 16 * (size_t)s->nlocals))
        return oom(c);
    gc_buf *b = &c->buf;
    /* stp x29, x30, [sp, #-16]!; mov x29, sp; movz/movk x16, frame; sub sp, sp, x16 */
    a64_ldstp(b, LS_ST, PAIR_PRE, X29, X30, SP, -16);
    a64_mov_sp(b, 1, X29, SP);
    s->frame_patch = b->n;
    a64_movz(b, 1, X16, 0, 0);
    a64_movk(b, 1, X16, 0, 16);
    a64_addsub_rrx(b, AS_SUB, 1, SP, SP, X16, EXT_UXTX, 0);
    a64_ldst_unscaled(b, LS_ST, 3, X28, X29, -8);
    /* stack exhaustion, before the frame is written */
    ld_vm(c, X16, VM_REAL_LIMIT);
    a64_addsub_rrx(b, AS_SUBS, 1, XZR, SP, X16, EXT_UXTX, 0);
    if (!trap_if(c, COND_LO, c->m->funcs[c->func].body_off, GATE_TRAP_STACK_EXHAUSTED))
        return false;
    for (uint32_t i = 0; i < ft->nparams; i++) {
        area_ls(c, true, X0, X29, 16 + 8 * i);
        st(c, K_X, X0, i);
    }
    for (uint32_t i = ft->nparams; i < s->nlocals; i++)
        st(c, K_X, XZR, i);
    if (!push_ctl(c, GOP_CALL, 0, ft->nresults))
        return false;
    return stop_check(c, c->m->funcs[c->func].body_off);
}

static bool a_end_func(gc_ctx *c)
{
    astate *s = ST(c);
    uint64_t frame = 8 * (1 + (uint64_t)s->nlocals + c->v->maxvals + s->maxout);
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > 0x7fff0000u)
        return gx_fail(c->err, GATE_ERR_LIMIT, c->m->funcs[c->func].body_off, c->func,
                       "stack frame too large");
    gc_buf at = { .p = c->buf.p + s->frame_patch, .n = 0, .cap = 8 };
    a64_movz(&at, 1, X16, (uint16_t)frame, 0);
    a64_movk(&at, 1, X16, (uint16_t)(frame >> 16), 16);
    c->out->func_frame[c->func - c->m->nfunc_imports] = (uint32_t)frame;
    return emit_stubs(c);
}

static bool a_end_module(gc_ctx *c)
{
    astate *s = ST(c);
    for (uint32_t i = 0; i < s->ncalls; i++)
        if (!a64_patch(&c->buf, s->calls[i].at,
                       c->out->func_off[s->calls[i].func - c->m->nfunc_imports]))
            return gx_fail(c->err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                           "code too large for direct calls (128 MiB)");
    return true;
}

static void a_free_module(gc_ctx *c)
{
    astate *s = ST(c);
    if (!s)
        return;
    for (uint32_t i = 0; i < s->capctls; i++)
        gx_free(&c->alloc, s->ctls[i].fix, (size_t)s->ctls[i].capfix * sizeof(size_t));
    gx_free(&c->alloc, s->ctls, (size_t)s->capctls * sizeof *s->ctls);
    gx_free(&c->alloc, s->stubs, (size_t)s->capstubs * sizeof *s->stubs);
    gx_free(&c->alloc, s->calls, (size_t)s->capcalls * sizeof *s->calls);
    gx_free(&c->alloc, s, sizeof *s);
    c->be = NULL;
}

const gc_backend gc_backend_arm64 = {
    .name = "arm64",
    .target = GATE_TARGET_ARM64,
    .begin_module = a_begin_module,
    .begin_func = a_begin_func,
    .lower = a_lower,
    .end_func = a_end_func,
    .end_module = a_end_module,
    .free_module = a_free_module,
};
