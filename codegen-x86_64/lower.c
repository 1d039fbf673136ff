/*
 * lower.c - x86-64 lowering of wasm instructions (the backend contract).
 *
 * Frame of a compiled function (slots are 8 bytes, in wasm order):
 *
 *     [rbp + 16 + 8*i]   argument i in, result i out (caller's area)
 *     [rbp + 8]          return address
 *     [rbp]              caller's rbp
 *     [rbp - 8]          vmctx of this instance (reloaded into r15 after calls)
 *     [rbp - 16 - 8*k]   slot k: locals first, then the operand stack
 *     ...
 *     [rsp + 8*i]        outgoing area: arguments and results of calls
 *
 * Pinned registers: r15 = vmctx, r14 = linear memory base.  Operand-stack
 * values live in a register cache (rbx rsi rdi r8-r13 for integers and
 * references, xmm2-xmm15 for floats) or as constants until a control-flow
 * edge, a call or register pressure puts them in their canonical slots.
 * rax rcx rdx and xmm0 xmm1 are scratch inside one lowering.  A comparison
 * leaves its result in the flags; br_if, if, select and eqz use the
 * condition code directly, anything else first turns it into 0 or 1.
 *
 * Every merge point (block end, loop header, branch) and every safe point
 * (call, loop header, function entry, memory.grow) sees all values in
 * their canonical slots, which is what the safe-point maps describe.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "../compiler/backend.h"
#include "x86_64.h"

/* the register cache: values in rbx rsi rdi r8-r13, xmm2-xmm15 */
static const int8_t gpr_pool[] = { RBX, RSI, RDI, R8, R9, R10, R11, R12, R13 };
static const int8_t fpr_pool[] = { 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15 };
#define NGPR ((int)sizeof gpr_pool)
#define NFPR ((int)sizeof fpr_pool)

#include "../compiler/vstack.h"
#define FRAME_REG RBP
#include "../compiler/control.h"

/* The out-of-line part of a stop check: its jumps in, the place to return
   to, and the safe point's wasm offset and slot count. */
typedef struct xstub {
    size_t jcc[2];
    uint32_t njcc;
    size_t back;
    uint32_t wasm, slots;
} xstub;

/* The value stack (compiler/vstack.h), then what only x86-64 needs. */
typedef struct xstate {
    gc_vstack vs;
    xstub *stubs;            /* stop checks' slow paths, at the function's end */
    uint32_t nstubs, capstubs;
} xstate;


#define ST(c) ((xstate *)(c)->be)

static xmem slot(uint32_t k)
{
    return xm(RBP, -16 - 8 * (int32_t)k);
}

static xmem stack_slot(gc_vstack *s, uint32_t i)
{
    return slot(s->nlocals + i);
}

static xmem out_slot(uint32_t i)
{
    return xm(RSP, 8 * (int32_t)i);
}

static xmem in_slot(uint32_t i)
{
    return xm(RBP, 16 + 8 * (int32_t)i);
}

/* ---- register cache ------------------------------------------------------ */


/* Materialises a 64-bit constant into a GPR. */
static void load_const(gc_ctx *c, int r, uint8_t type, int64_t k)
{
    x_mov_ri(&c->buf, type != GT_I32, r, type == GT_I32 ? (int64_t)(uint32_t)k : k);
}

/* Writes stack entry i, wherever it is, to the 8 bytes at m (rax is the
   scratch register); ownership is the caller's business. */
static void store_val(gc_ctx *c, uint32_t i, xmem m)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[i];
    switch (v->kind) {
    case K_FLAGS:
        x_setcc(&c->buf, (int)v->k, RAX);
        x_movzx8(&c->buf, RAX, RAX);
        x_store(&c->buf, 8, RAX, m);
        break;
    case K_REG:
        if (is_fp(v->type))
            x_movs_store(&c->buf, v->type == GT_F64, v->reg, m);
        else
            x_store(&c->buf, 8, v->reg, m);
        break;
    case K_LOCAL:
        x_load(&c->buf, LD_64, 1, RAX, slot((uint32_t)v->k));
        x_store(&c->buf, 8, RAX, m);
        break;
    case K_CONST: {
        int64_t k = v->type == GT_I32 || v->type == GT_F32 ? (int64_t)(uint32_t)v->k : v->k;
        if (k >= INT32_MIN && k <= INT32_MAX) {
            x_store_i32(&c->buf, 8, (int32_t)k, m);
        } else {
            x_mov_ri(&c->buf, 1, RAX, k);
            x_store(&c->buf, 8, RAX, m);
        }
        break;
    }
    case K_SLOT:
        x_load(&c->buf, LD_64, 1, RAX, stack_slot(s, i));
        x_store(&c->buf, 8, RAX, m);
        break;
    }
}

/* The hook of compiler/vstack.h: value i into its own slot. */
static void store_slot(gc_ctx *c, uint32_t i)
{
    store_val(c, i, stack_slot(VS(c), i));
}

/* Makes v live in a register of its own (TEMP); loads or materialises. */
static int in_reg(gc_ctx *c, gc_val *v, uint32_t index)
{
    if (v->kind == K_REG)
        return v->reg;
    int r;
    if (is_fp(v->type)) {
        r = alloc_fpr(c);
        if (v->kind == K_SLOT) {
            x_movs_load(&c->buf, v->type == GT_F64, r, stack_slot(VS(c), index));
        } else if (v->kind == K_LOCAL) {
            x_movs_load(&c->buf, v->type == GT_F64, r, slot((uint32_t)v->k));
        } else {
            x_mov_ri(&c->buf, v->type == GT_F64, RAX,
                     v->type == GT_F64 ? v->k : (int64_t)(uint32_t)v->k);
            x_movd_xr(&c->buf, v->type == GT_F64, r, RAX);
        }
    } else {
        r = alloc_gpr(c);
        if (v->kind == K_SLOT)
            x_load(&c->buf, v->type == GT_I32 ? LD_U32 : LD_64, 1, r, stack_slot(VS(c), index));
        else if (v->kind == K_LOCAL)
            x_load(&c->buf, v->type == GT_I32 ? LD_U32 : LD_64, 1, r, slot((uint32_t)v->k));
        else
            load_const(c, r, v->type, v->k);
    }
    v->kind = K_REG;
    v->reg = (int8_t)r;
    return r;
}

static inline __attribute__((always_inline)) int pop_reg(gc_ctx *c)
{
    gc_val v = pop(c);
    return in_reg(c, &v, VS(c)->nvals);
}

/* Turns a flags value on top of the stack into 0 or 1 in a register. */
static void materialize_flags(gc_ctx *c)
{
    gc_val *v = &VS(c)->vals[VS(c)->nvals - 1];
    int r = alloc_gpr(c);               /* may spill with movs: flags survive */
    x_setcc(&c->buf, (int)v->k, r);
    x_movzx8(&c->buf, r, r);
    top_now_in(c, r);
}

/* Pops an i32 condition; returns the condition code that means "true". */
static gc_cond pop_cond(gc_ctx *c)
{
    if (top_is_flags(c))
        return (gc_cond){ (int)pop(c).k, -1 };
    int r = pop_reg(c);
    x_test_rr(&c->buf, 0, r, r);
    release(c, GT_I32, r);
    return (gc_cond){ CC_NE, -1 };
}

/* the jumps of compiler/control.h: rel32 forms reach everything */
static size_t jump_when(gc_ctx *c, gc_cond k, bool truth)
{
    return x_jcc32(&c->buf, truth ? k.cc : k.cc ^ 1);
}

static size_t skip_unless(gc_ctx *c, gc_cond k)
{
    return x_jcc32(&c->buf, k.cc ^ 1);
}

static size_t emit_jump(gc_ctx *c)
{
    return x_jmp32(&c->buf);
}

static bool patch(gc_ctx *c, size_t at, size_t target)
{
    x_patch32(&c->buf, at, target);
    return true;
}

/* ---- traps, safe points, helpers ----------------------------------------- */

static bool trap_here(gc_ctx *c, uint64_t wasm_off, uint32_t code)
{
    return gc_add_trap(c, (uint32_t)c->buf.n, (uint32_t)wasm_off, code);
}

/* jcc over a ud2 that traps with `code` when cc holds. */
static bool trap_if(gc_ctx *c, int cc, uint64_t wasm_off, uint32_t code)
{
    size_t f = x_jcc32(&c->buf, cc ^ 1);
    if (!trap_here(c, wasm_off, code))
        return false;
    x_ud2(&c->buf);
    x_patch32(&c->buf, f, c->buf.n);
    return true;
}

/* Reloads the pinned registers after anything that may have changed them. */
static void reload_pinned(gc_ctx *c)
{
    x_load(&c->buf, LD_64, 1, R15, xm(RBP, -8));
    x_load(&c->buf, LD_64, 1, R14, xm(R15, VM_MEM_BASE));
}

/*
 * Calls runtime helper h (SysV ABI) with vmctx in rdi; the caller has
 * flushed and loaded rsi, rdx, rcx, r8 as needed.  Helpers are reached
 * through a table in the vmctx so the code stays position-independent.
 */
static bool call_helper_sp(gc_ctx *c, int h, bool safepoint, uint64_t wasm_off)
{
    x_store(&c->buf, 8, RBP, xm(R15, VM_FP));
    x_mov_rr(&c->buf, 1, RDI, R15);
    x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_HELPERS));
    x_call_m(&c->buf, xm(RAX, 8 * h));
    /* the safe point is the return address, before anything else runs */
    if (safepoint &&
        !gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)wasm_off, live_slots(c), GC_SP_GROW))
        return false;
    reload_pinned(c);
    return true;
}

static void call_helper(gc_ctx *c, int h)
{
    call_helper_sp(c, h, false, 0);
}

/*
 * The stop check of loop headers and function entries:
 *     [sub qword [r15 + fuel], 1; js stub]  cmp rsp, [r15 + stack_limit]; jb stub
 * with the call of the slow path (a safe point) in a stub after the
 * function's body, so the hot path falls through.  A stop request raises
 * stack_limit so the test fails; the slow path sees why.  Values are in
 * their slots here (flushed), as a safe point needs.
 */
static bool stop_check(gc_ctx *c, uint64_t wasm_off)
{
    xstate *s = ST(c);
    if (!grow(c, (void **)&s->stubs, &s->capstubs, s->nstubs + 1, sizeof *s->stubs))
        return false;
    xstub *st = &s->stubs[s->nstubs++];
    st->njcc = 0;
    if (c->fuel) {
        x_alu_mi(&c->buf, ALU_SUB, 1, xm(R15, VM_FUEL), 1);
        st->jcc[st->njcc++] = x_jcc32(&c->buf, CC_S);
    }
    x_alu_rm(&c->buf, ALU_CMP, 1, RSP, xm(R15, VM_STACK_LIMIT));
    st->jcc[st->njcc++] = x_jcc32(&c->buf, CC_B);
    st->back = c->buf.n;
    st->wasm = (uint32_t)wasm_off;
    st->slots = live_slots(c);
    return true;
}

/* The stubs of the function's stop checks, in order (the safe-point map
   stays sorted: they follow every safe point of the body). */
static bool emit_stubs(gc_ctx *c)
{
    xstate *s = ST(c);
    for (uint32_t i = 0; i < s->nstubs; i++) {
        xstub *st = &s->stubs[i];
        if (!gc_reserve(&c->buf, GC_RED_ZONE))
            return oom(c);
        for (uint32_t k = 0; k < st->njcc; k++)
            x_patch32(&c->buf, st->jcc[k], c->buf.n);
        x_mov_ri(&c->buf, 0, RSI, st->wasm);
        x_store(&c->buf, 8, RBP, xm(R15, VM_FP));
        x_mov_rr(&c->buf, 1, RDI, R15);
        x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_HELPERS));
        x_call_m(&c->buf, xm(RAX, 8 * GH_SLOWPATH));
        if (!gc_add_safepoint(c, (uint32_t)c->buf.n, st->wasm, st->slots,
                              st->wasm == c->m->funcs[c->func].body_off ? GC_SP_ENTRY
                                                                        : GC_SP_LOOP))
            return false;
        reload_pinned(c);
        x_patch32(&c->buf, x_jmp32(&c->buf), st->back);
    }
    s->nstubs = 0;
    return true;
}

/* ---- control ------------------------------------------------------------- */

/* Moves the top n values (all in slots) down to the slots at `height`. */
/*
 * Copies n words, word i from [sb + sd + 8*ss*i] to [db + dd + 8*ds*i]
 * (ss, ds: +1 or -1), in increasing i, so a move down between overlapping
 * slot ranges is right.  Up to COPY_UNROLL words are straight-line code;
 * more are a loop, so what a branch, call or return emits is bounded
 * whatever the number of values (a label or a signature may have 1,000).
 * Clobbers rax, rcx, rdx (none of them in the register cache).
 *     mov ecx, n | mov rcx, -n  [lea rdx, [positive side]]
 *  L: mov rax, [src]; mov [dst], rax  [add rdx, 8]; sub/add rcx, 1; jnz L
 */
#define COPY_UNROLL 16u
static void copy_words(gc_ctx *c, int sb, int64_t sd, int ss, int db, int64_t dd, int ds,
                       uint32_t n)
{
    gc_buf *b = &c->buf;
    if (n <= COPY_UNROLL) {
        for (uint32_t i = 0; i < n; i++) {
            x_load(b, LD_64, 1, RAX, xm(sb, (int32_t)(sd + 8 * ss * (int64_t)i)));
            x_store(b, 8, RAX, xm(db, (int32_t)(dd + 8 * ds * (int64_t)i)));
        }
        return;
    }
    /* rcx counts n..1 (i = n - rcx) when some side goes down, else -n..-1
       (i = n + rcx); a side going the other way steps rdx */
    bool down = ss < 0 || ds < 0;
    int64_t span = 8 * (int64_t)n;
    xmem src, dst;
    if (down) {
        x_mov_ri(b, 0, RCX, n);
        if (ss > 0)
            x_lea(b, 1, RDX, xm(sb, (int32_t)sd));
        if (ds > 0)
            x_lea(b, 1, RDX, xm(db, (int32_t)dd));
        src = ss < 0 ? xmi(sb, RCX, 8, (int32_t)(sd - span)) : xm(RDX, 0);
        dst = ds < 0 ? xmi(db, RCX, 8, (int32_t)(dd - span)) : xm(RDX, 0);
    } else {
        x_mov_ri(b, 1, RCX, -(int64_t)n);
        src = xmi(sb, RCX, 8, (int32_t)(sd + span));
        dst = xmi(db, RCX, 8, (int32_t)(dd + span));
    }
    size_t top = b->n;
    x_load(b, LD_64, 1, RAX, src);
    x_store(b, 8, RAX, dst);
    if (down && (ss > 0 || ds > 0))
        x_alu_ri(b, ALU_ADD, 1, RDX, 8);
    x_alu_ri(b, down ? ALU_SUB : ALU_ADD, 1, RCX, 1);
    x_patch32(b, x_jcc32(b, CC_NE), top);
}

/* Results go straight from wherever they are to the caller's area (many
   results: all into their slots, then one copy). */
static bool emit_return(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    if (ft->nresults > COPY_UNROLL) {
        flush(c);
        copy_words(c, RBP, slot_disp(s->nlocals + s->nvals - ft->nresults), -1, RBP, 16, 1,
                   ft->nresults);
    }
    for (uint32_t i = 0; ft->nresults <= COPY_UNROLL && i < ft->nresults; i++) {
        uint32_t k = s->nvals - ft->nresults + i;
        gc_val *v = &s->vals[k];
        if (v->kind == K_FLAGS)
            materialize_flags(c);
        if (v->kind == K_REG && is_fp(v->type)) {
            x_movs_store(&c->buf, v->type == GT_F64, v->reg, in_slot(i));
        } else if (v->kind == K_REG) {
            x_store(&c->buf, 8, v->reg, in_slot(i));
        } else {
            if (v->kind == K_CONST)
                load_const(c, RAX, v->type, v->k);
            else if (v->kind == K_LOCAL)
                x_load(&c->buf, LD_64, 1, RAX, slot((uint32_t)v->k));
            else
                x_load(&c->buf, LD_64, 1, RAX, stack_slot(s, k));
            x_store(&c->buf, 8, RAX, in_slot(i));
        }
    }
    x_mov_rr(&c->buf, 1, RSP, RBP);
    x_pop(&c->buf, RBP);
    x_ret(&c->buf);
    return true;
}

/* ---- calls --------------------------------------------------------------- */

/* Stores the n arguments (top of stack) straight from wherever they are to
   the outgoing area, and pops them. */
static void args_out(gc_ctx *c, uint32_t n)
{
    gc_vstack *s = VS(c);
    if (n > COPY_UNROLL) {
        /* many: all into their slots, then one copy */
        flush(c);
        copy_words(c, RBP, slot_disp(s->nlocals + s->nvals - n), -1, RSP, 0, 1, n);
    } else {
        for (uint32_t i = 0; i < n; i++)
            store_val(c, s->nvals - n + i, out_slot(i));
    }
    truncate_to(c, s->nvals - n);
}

/* Results come back in the outgoing area: the first ones into registers,
   the others into their slots (many: in one copy). */
static bool results_in(gc_ctx *c, const gd_functype *ft)
{
    gc_vstack *s = VS(c);
    uint32_t nreg = ft->nresults < 4 ? ft->nresults : 4;
    bool bulk = ft->nresults - nreg > COPY_UNROLL;
    if (bulk)       /* all of them: the stack stays clean */
        nreg = 0;
    if (bulk)
        copy_words(c, RSP, 8 * (int64_t)nreg, 1, RBP, slot_disp(s->nlocals + s->nvals + nreg), -1,
                   ft->nresults - nreg);
    for (uint32_t i = 0; i < ft->nresults; i++) {
        uint8_t t = ft->results[i];
        if (i < nreg) {
            int r;
            if (is_fp(t)) {
                r = alloc_fpr(c);
                x_movs_load(&c->buf, t == GT_F64, r, out_slot(i));
            } else {
                r = alloc_gpr(c);
                x_load(&c->buf, t == GT_I32 ? LD_U32 : LD_64, 1, r, out_slot(i));
            }
            if (!push_reg(c, t, r))
                return false;
        } else if (bulk) {
            return push_slots(c, ft->results + i, ft->nresults - i);
        } else {
            x_load(&c->buf, LD_64, 1, RAX, out_slot(i));
            x_store(&c->buf, 8, RAX, stack_slot(s, s->nvals));
            if (!push_val(c, K_SLOT, t, -1, 0))
                return false;
        }
    }
    return true;
}

static bool lower_call(gc_ctx *c, const gv_insn *ins)
{
    uint32_t f = ins->imm.index;
    const gd_functype *ft = gd_func_type(c->m, f);
    note_out(c, ft->nparams > ft->nresults ? ft->nparams : ft->nresults);
    args_out(c, ft->nparams);
    flush(c);
    uint32_t live = live_slots(c);
    if (f < c->m->nfunc_imports) {
        /* through the funcref: the callee may belong to another instance */
        x_load(&c->buf, LD_64, 1, RCX, xm(R15, VM_FUNCS));
        x_load(&c->buf, LD_64, 1, RCX, xm(RCX, 8 * (int32_t)f));
        x_load(&c->buf, LD_64, 1, R15, xm(RCX, FR_VM));
        x_load(&c->buf, LD_64, 1, R14, xm(R15, VM_MEM_BASE));   /* the callee's memory */
        x_call_m(&c->buf, xm(RCX, FR_CODE));
    } else {
        if (!add_call(c, x_call32(&c->buf), f))
            return false;
    }
    if (!gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)ins->offset, live,
                          f < c->m->nfunc_imports ? GC_SP_CALL_IMPORT : GC_SP_CALL))
        return false;
    reload_pinned(c);
    return results_in(c, ft);
}

static bool lower_call_indirect(gc_ctx *c, const gv_insn *ins)
{
    const gd_functype *ft = &c->m->types[ins->imm.callind.type];
    gc_val iv = pop(c);
    int ri = in_reg(c, &iv, VS(c)->nvals);
    note_out(c, ft->nparams > ft->nresults ? ft->nparams : ft->nresults);
    args_out(c, ft->nparams);
    flush(c);
    x_mov_rr(&c->buf, 0, RDX, ri);
    release(c, GT_I32, ri);
    uint32_t live = live_slots(c);
    /* rcx = table; bounds; rcx = funcref; null; signature */
    x_load(&c->buf, LD_64, 1, RCX, xm(R15, VM_TABLES));
    x_load(&c->buf, LD_64, 1, RCX, xm(RCX, 8 * (int32_t)ins->imm.callind.table));
    x_alu_rm(&c->buf, ALU_CMP, 0, RDX, xm(RCX, TB_SIZE));
    if (!trap_if(c, CC_AE, ins->offset, GATE_TRAP_TABLE_OUT_OF_BOUNDS))
        return false;
    x_load(&c->buf, LD_64, 1, RCX, xm(RCX, TB_ELEMS));
    x_load(&c->buf, LD_64, 1, RCX, xmi(RCX, RDX, 8, 0));
    x_test_rr(&c->buf, 1, RCX, RCX);
    if (!trap_if(c, CC_E, ins->offset, GATE_TRAP_INDIRECT_NULL))
        return false;
    x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_SIGIDS));
    x_load(&c->buf, LD_U32, 0, RAX, xm(RAX, 4 * (int32_t)ins->imm.callind.type));
    x_alu_rm(&c->buf, ALU_CMP, 0, RAX, xm(RCX, FR_SIG));
    if (!trap_if(c, CC_NE, ins->offset, GATE_TRAP_INDIRECT_TYPE))
        return false;
    x_load(&c->buf, LD_64, 1, R15, xm(RCX, FR_VM));
    x_load(&c->buf, LD_64, 1, R14, xm(R15, VM_MEM_BASE));       /* the callee's memory */
    x_call_m(&c->buf, xm(RCX, FR_CODE));
    if (!gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)ins->offset, live, GC_SP_CALL_INDIRECT))
        return false;
    reload_pinned(c);
    return results_in(c, ft);
}

/* ---- memory -------------------------------------------------------------- */

/*
 * Explicit bounds mode: trap unless addr + offset + size <= memory bytes.
 *     mov rax, offset+size; add rax, ra; mov rcx, [r15+mem]; cmp rax, [rcx+bytes]; ja trap
 */
static bool bounds_check(gc_ctx *c, int ra, uint32_t offset, int size, uint64_t wasm_off)
{
    if (!c->explicit_bounds)
        return true;
    x_mov_ri(&c->buf, 1, RAX, (int64_t)offset + size);
    x_alu_rr(&c->buf, ALU_ADD, 1, RAX, ra);
    x_load(&c->buf, LD_64, 1, RCX, xm(R15, VM_MEM));
    x_alu_rm(&c->buf, ALU_CMP, 1, RAX, xm(RCX, MO_BYTES));
    return trap_if(c, CC_A, wasm_off, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
}

/* The access itself can fault only in guard mode. */
static bool access_trap(gc_ctx *c, uint64_t wasm_off)
{
    return c->explicit_bounds || trap_here(c, wasm_off, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
}

/* Effective address operand for a wasm address in register ra. */
static xmem mem_operand(gc_ctx *c, int ra, uint32_t offset)
{
    if (offset <= INT32_MAX)
        return xmi(R14, ra, 1, (int32_t)offset);
    x_mov_ri(&c->buf, 0, RAX, offset);
    x_alu_rr(&c->buf, ALU_ADD, 1, RAX, ra);
    return xmi(R14, RAX, 1, 0);
}

static bool lower_load(gc_ctx *c, const gv_insn *ins)
{
    static const struct { uint16_t op; uint8_t kind, type; } L[] = {
        { GOP_I32_LOAD, LD_U32, GT_I32 }, { GOP_I64_LOAD, LD_64, GT_I64 },
        { GOP_F32_LOAD, 0, GT_F32 }, { GOP_F64_LOAD, 0, GT_F64 },
        { GOP_I32_LOAD8_S, LD_S8, GT_I32 }, { GOP_I32_LOAD8_U, LD_U8, GT_I32 },
        { GOP_I32_LOAD16_S, LD_S16, GT_I32 }, { GOP_I32_LOAD16_U, LD_U16, GT_I32 },
        { GOP_I64_LOAD8_S, LD_S8, GT_I64 }, { GOP_I64_LOAD8_U, LD_U8, GT_I64 },
        { GOP_I64_LOAD16_S, LD_S16, GT_I64 }, { GOP_I64_LOAD16_U, LD_U16, GT_I64 },
        { GOP_I64_LOAD32_S, LD_S32, GT_I64 }, { GOP_I64_LOAD32_U, LD_U32, GT_I64 },
    };
    unsigned i = 0;
    while (L[i].op != ins->op)
        i++;
    int ra = pop_reg(c);
    if (!bounds_check(c, ra, ins->imm.mem.offset, 1 << gop_table[ins->op].x, ins->offset))
        return false;
    xmem m = mem_operand(c, ra, ins->imm.mem.offset);
    if (is_fp(L[i].type)) {
        int x = alloc_fpr(c);
        if (!access_trap(c, ins->offset))
            return false;
        x_movs_load(&c->buf, L[i].type == GT_F64, x, m);
        release(c, GT_I32, ra);
        return push_reg(c, L[i].type, x);
    }
    if (!access_trap(c, ins->offset))
        return false;
    /* sign-extending loads into an i32 extend to 32 bits only */
    x_load(&c->buf, L[i].kind, L[i].type == GT_I64, ra, m);
    return push_reg(c, L[i].type, ra);
}

static bool lower_store(gc_ctx *c, const gv_insn *ins)
{
    int bytes;
    switch (ins->op) {
    case GOP_I32_STORE8: case GOP_I64_STORE8: bytes = 1; break;
    case GOP_I32_STORE16: case GOP_I64_STORE16: bytes = 2; break;
    case GOP_I32_STORE: case GOP_F32_STORE: case GOP_I64_STORE32: bytes = 4; break;
    default: bytes = 8; break;
    }
    gc_val v = pop(c);
    int rv = in_reg(c, &v, VS(c)->nvals);
    int ra = pop_reg(c);
    if (!bounds_check(c, ra, ins->imm.mem.offset, bytes, ins->offset))
        return false;
    xmem m = mem_operand(c, ra, ins->imm.mem.offset);
    if (!access_trap(c, ins->offset))
        return false;
    if (is_fp(v.type))
        x_movs_store(&c->buf, v.type == GT_F64, rv, m);
    else
        x_store(&c->buf, bytes, rv, m);
    release(c, v.type, rv);
    release(c, GT_I32, ra);
    return true;
}

/* ---- integer arithmetic -------------------------------------------------- */

static bool fits_imm(const gc_val *v)
{
    if (v->kind != K_CONST)
        return false;
    if (v->type == GT_I32)
        return true;
    return v->k >= INT32_MIN && v->k <= INT32_MAX;
}

static bool lower_alu(gc_ctx *c, int op, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (fits_imm(&b)) {
        x_alu_ri(&c->buf, op, w, ra, (int32_t)b.k);
    } else if (b.kind == K_LOCAL) {
        x_alu_rm(&c->buf, op, w, ra, slot((uint32_t)b.k));
    } else {
        int rb = in_reg(c, &b, VS(c)->nvals + 1);
        x_alu_rr(&c->buf, op, w, ra, rb);
        release(c, t, rb);
    }
    return push_reg(c, t, ra);
}

static bool lower_mul(gc_ctx *c, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (fits_imm(&b)) {
        x_imul_rri(&c->buf, w, ra, ra, (int32_t)b.k);
    } else {
        int rb = in_reg(c, &b, VS(c)->nvals + 1);
        x_imul_rr(&c->buf, w, ra, rb);
        release(c, t, rb);
    }
    return push_reg(c, t, ra);
}

static bool lower_cmp(gc_ctx *c, int cc, int w)
{
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (fits_imm(&b)) {
        x_alu_ri(&c->buf, ALU_CMP, w, ra, (int32_t)b.k);
    } else if (b.kind == K_LOCAL) {
        x_alu_rm(&c->buf, ALU_CMP, w, ra, slot((uint32_t)b.k));
    } else {
        int rb = in_reg(c, &b, VS(c)->nvals + 1);
        x_alu_rr(&c->buf, ALU_CMP, w, ra, rb);
        release(c, w ? GT_I64 : GT_I32, rb);
    }
    release(c, w ? GT_I64 : GT_I32, ra);
    return push_val(c, K_FLAGS, GT_I32, -1, cc);
}

static bool lower_eqz(gc_ctx *c, int w)
{
    if (!w && top_is_flags(c)) {
        int cc = (int)pop(c).k;
        return push_val(c, K_FLAGS, GT_I32, -1, cc ^ 1);
    }
    int ra = pop_reg(c);
    x_test_rr(&c->buf, w, ra, ra);
    release(c, w ? GT_I64 : GT_I32, ra);
    return push_val(c, K_FLAGS, GT_I32, -1, CC_E);
}

static bool lower_shift(gc_ctx *c, int op, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (b.kind == K_CONST) {
        x_shift_ri(&c->buf, op, w, ra, (uint8_t)(b.k & (w ? 63 : 31)));
    } else {
        int rb = in_reg(c, &b, VS(c)->nvals + 1);
        x_mov_rr(&c->buf, 0, RCX, rb);
        release(c, t, rb);
        x_shift_cl(&c->buf, op, w, ra);
    }
    return push_reg(c, t, ra);
}

/*
 *   div:  trap if b == 0; (signed) trap if a == MIN && b == -1
 *   rem:  trap if b == 0; (signed) result 0 if b == -1
 */
static bool lower_divrem(gc_ctx *c, const gv_insn *ins, int w, int is_signed, int rem)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    int rb = pop_reg(c);
    int ra = pop_reg(c);
    x_test_rr(&c->buf, w, rb, rb);
    if (!trap_if(c, CC_E, ins->offset, GATE_TRAP_DIV_BY_ZERO))
        return false;
    size_t skip_neg1 = SIZE_MAX, done = SIZE_MAX;
    if (is_signed) {
        x_alu_ri(&c->buf, ALU_CMP, w, rb, -1);
        skip_neg1 = x_jcc32(&c->buf, CC_NE);
        if (rem) {
            x_mov_ri(&c->buf, 0, ra, 0);
            done = x_jmp32(&c->buf);
        } else {
            if (w)
                x_mov_ri(&c->buf, 1, RAX, INT64_MIN);
            else
                x_mov_ri(&c->buf, 0, RAX, (int64_t)(uint32_t)INT32_MIN);
            x_alu_rr(&c->buf, ALU_CMP, w, ra, RAX);
            if (!trap_if(c, CC_E, ins->offset, GATE_TRAP_INT_OVERFLOW))
                return false;
        }
        x_patch32(&c->buf, skip_neg1, c->buf.n);
    }
    x_mov_rr(&c->buf, w, RAX, ra);
    if (is_signed)
        x_cdq(&c->buf, w);
    else
        x_alu_rr(&c->buf, ALU_XOR, 0, RDX, RDX);
    x_div(&c->buf, w, is_signed, rb);
    x_mov_rr(&c->buf, w, ra, rem ? RDX : RAX);
    if (done != SIZE_MAX)
        x_patch32(&c->buf, done, c->buf.n);
    release(c, t, rb);
    return push_reg(c, t, ra);
}

static bool lower_bitcount(gc_ctx *c, uint16_t op, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    int ra = pop_reg(c);
    int bits = w ? 64 : 32;
    bool clz = op == GOP_I32_CLZ || op == GOP_I64_CLZ;
    bool ctz = op == GOP_I32_CTZ || op == GOP_I64_CTZ;
    if (clz && c->features_lzcnt) {
        x_bitcount(&c->buf, 0xbd, w, ra, ra);
    } else if (ctz && c->features_bmi1) {
        x_bitcount(&c->buf, 0xbc, w, ra, ra);
    } else if (clz) {
        /* clz = (bits-1) - bsr(x), and bits when x == 0 */
        x_mov_ri(&c->buf, w, RCX, -1);
        x_bsr_bsf(&c->buf, 1, w, RAX, ra);
        x_cmov(&c->buf, CC_E, w, RAX, RCX);
        x_mov_ri(&c->buf, 0, ra, bits - 1);
        x_alu_rr(&c->buf, ALU_SUB, w, ra, RAX);
    } else if (ctz) {
        x_mov_ri(&c->buf, 0, RCX, bits);
        x_bsr_bsf(&c->buf, 0, w, ra, ra);
        x_cmov(&c->buf, CC_E, w, ra, RCX);
    } else if (c->features_popcnt) {
        x_bitcount(&c->buf, 0xb8, w, ra, ra);
    } else {
        /* SWAR popcount: x -= (x >> 1) & 0x55..; pairs, nibbles, then * 0x0101.. >> (bits-8) */
        int64_t m1 = 0x5555555555555555LL, m2 = 0x3333333333333333LL, m4 = 0x0f0f0f0f0f0f0f0fLL;
        x_mov_rr(&c->buf, w, RAX, ra);
        x_shift_ri(&c->buf, SH_SHR, w, RAX, 1);
        x_mov_ri(&c->buf, w, RCX, w ? m1 : (int64_t)(uint32_t)m1);
        x_alu_rr(&c->buf, ALU_AND, w, RAX, RCX);
        x_alu_rr(&c->buf, ALU_SUB, w, ra, RAX);
        x_mov_ri(&c->buf, w, RCX, w ? m2 : (int64_t)(uint32_t)m2);
        x_mov_rr(&c->buf, w, RAX, ra);
        x_alu_rr(&c->buf, ALU_AND, w, RAX, RCX);
        x_shift_ri(&c->buf, SH_SHR, w, ra, 2);
        x_alu_rr(&c->buf, ALU_AND, w, ra, RCX);
        x_alu_rr(&c->buf, ALU_ADD, w, ra, RAX);
        x_mov_rr(&c->buf, w, RAX, ra);
        x_shift_ri(&c->buf, SH_SHR, w, RAX, 4);
        x_alu_rr(&c->buf, ALU_ADD, w, ra, RAX);
        x_mov_ri(&c->buf, w, RCX, w ? m4 : (int64_t)(uint32_t)m4);
        x_alu_rr(&c->buf, ALU_AND, w, ra, RCX);
        x_mov_ri(&c->buf, w, RCX, w ? 0x0101010101010101LL : 0x01010101);
        x_imul_rr(&c->buf, w, ra, RCX);
        x_shift_ri(&c->buf, SH_SHR, w, ra, (uint8_t)(bits - 8));
    }
    return push_reg(c, t, ra);
}

/* ---- floating point ------------------------------------------------------ */

/*
 * Deterministic mode: a NaN result becomes the canonical positive quiet
 * NaN (x86 makes negative ones, ARM64 positive ones, and they propagate
 * payloads differently):
 *     ucomis x, x; jnp 1f; mov rax, canonical; movq x, rax; 1:
 */
static void canon_nan(gc_ctx *c, int d, int x)
{
    if (!c->deterministic)
        return;
    x_ucomis(&c->buf, d, x, x);
    size_t ok = x_jcc32(&c->buf, CC_NP);
    x_mov_ri(&c->buf, d, RAX, d ? (int64_t)0x7ff8000000000000 : 0x7fc00000);
    x_movd_xr(&c->buf, d, x, RAX);
    x_patch32(&c->buf, ok, c->buf.n);
}

static bool lower_fbin(gc_ctx *c, int op, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    gc_val b = pop(c);
    int xa = pop_reg(c);
    if (b.kind == K_LOCAL) {
        x_sse_rm(&c->buf, op, d, xa, slot((uint32_t)b.k));
    } else if (b.kind == K_SLOT) {
        x_sse_rm(&c->buf, op, d, xa, stack_slot(VS(c), VS(c)->nvals + 1));
    } else {
        int xb = in_reg(c, &b, VS(c)->nvals + 1);
        x_sse_rr(&c->buf, op, d, xa, xb);
        release(c, t, xb);
    }
    canon_nan(c, d, xa);
    return push_reg(c, t, xa);
}

/*
 * min/max with wasm semantics: NaN if either is NaN, and -0 < +0.
 *     ucomis a, b; jp nan; jne plain
 *     (equal: +-0 or same value) min: orps a, b / max: andps a, b; jmp done
 *   nan: adds a, b; jmp done
 *   plain: mins/maxs a, b
 */
static bool lower_minmax(gc_ctx *c, int is_max, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    int xb = pop_reg(c);
    int xa = pop_reg(c);
    x_ucomis(&c->buf, d, xa, xb);
    size_t to_nan = x_jcc32(&c->buf, CC_P);
    size_t to_plain = x_jcc32(&c->buf, CC_NE);
    x_sse_pd_rr(&c->buf, is_max ? SSE_AND : SSE_OR, d, xa, xb);
    size_t done1 = x_jmp32(&c->buf);
    x_patch32(&c->buf, to_nan, c->buf.n);
    x_sse_rr(&c->buf, SSE_ADD, d, xa, xb);
    if (c->deterministic) {          /* only this path makes NaNs */
        x_mov_ri(&c->buf, d, RAX, d ? (int64_t)0x7ff8000000000000 : 0x7fc00000);
        x_movd_xr(&c->buf, d, xa, RAX);
    }
    size_t done2 = x_jmp32(&c->buf);
    x_patch32(&c->buf, to_plain, c->buf.n);
    x_sse_rr(&c->buf, is_max ? SSE_MAX : SSE_MIN, d, xa, xb);
    x_patch32(&c->buf, done1, c->buf.n);
    x_patch32(&c->buf, done2, c->buf.n);
    release(c, t, xb);
    return push_reg(c, t, xa);
}

/* abs, neg, copysign: on the bits, in rax/rcx. */
static bool lower_fbits(gc_ctx *c, uint16_t op, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    bool copysign = op == GOP_F32_COPYSIGN || op == GOP_F64_COPYSIGN;
    int xb = -1;
    if (copysign)
        xb = pop_reg(c);
    int xa = pop_reg(c);
    x_movd_rx(&c->buf, d, RAX, xa);
    int top = d ? 63 : 31;
    if (op == GOP_F32_NEG || op == GOP_F64_NEG) {
        x_mov_ri(&c->buf, d, RCX, d ? INT64_MIN : (int64_t)0x80000000u);
        x_alu_rr(&c->buf, ALU_XOR, d, RAX, RCX);
    } else {
        /* clear the sign: shl 1; shr 1 */
        x_shift_ri(&c->buf, SH_SHL, d, RAX, 1);
        x_shift_ri(&c->buf, SH_SHR, d, RAX, 1);
        if (copysign) {
            x_movd_rx(&c->buf, d, RCX, xb);
            x_shift_ri(&c->buf, SH_SHR, d, RCX, (uint8_t)top);
            x_shift_ri(&c->buf, SH_SHL, d, RCX, (uint8_t)top);
            x_alu_rr(&c->buf, ALU_OR, d, RAX, RCX);
            release(c, t, xb);
        }
    }
    x_movd_xr(&c->buf, d, xa, RAX);
    return push_reg(c, t, xa);
}

static bool lower_fcmp(gc_ctx *c, uint16_t op, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    int xb = pop_reg(c);
    int xa = pop_reg(c);
    int r = alloc_gpr(c);
    unsigned k = d ? (unsigned)(op - GOP_F64_EQ) : (unsigned)(op - GOP_F32_EQ);
    switch (k) {
    case 0: /* eq: ZF and not PF */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_E, RAX);
        x_setcc(&c->buf, CC_NP, RCX);
        x_alu_rr(&c->buf, ALU_AND, 0, RAX, RCX);
        break;
    case 1: /* ne: not ZF or PF */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_NE, RAX);
        x_setcc(&c->buf, CC_P, RCX);
        x_alu_rr(&c->buf, ALU_OR, 0, RAX, RCX);
        break;
    case 2: /* lt: b > a */
        x_ucomis(&c->buf, d, xb, xa);
        x_setcc(&c->buf, CC_A, RAX);
        break;
    case 3: /* gt */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_A, RAX);
        break;
    case 4: /* le: b >= a */
        x_ucomis(&c->buf, d, xb, xa);
        x_setcc(&c->buf, CC_AE, RAX);
        break;
    default: /* ge */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_AE, RAX);
        break;
    }
    x_movzx8(&c->buf, r, RAX);
    release(c, t, xa);
    release(c, t, xb);
    return push_reg(c, GT_I32, r);
}

/* Float-to-int truncation (trapping and saturating) goes through a helper. */
static bool lower_trunc_helper(gc_ctx *c, const gv_insn *ins, uint8_t from, uint8_t to)
{
    int xa = pop_reg(c);
    flush(c);
    x_movd_rx(&c->buf, from == GT_F64, RDX, xa);
    release(c, from, xa);
    x_mov_ri(&c->buf, 0, RSI, ins->op);
    x_mov_ri(&c->buf, 0, RCX, (int64_t)ins->offset);
    call_helper(c, GH_TRUNC);
    int r = alloc_gpr(c);
    x_mov_rr(&c->buf, to == GT_I64, r, RAX);
    return push_reg(c, to, r);
}

/* u64 -> float: halve with the low bit kept when the top bit is set. */
static void cvt_u64(gc_ctx *c, int d, int x, int ra)
{
    x_alu_rr(&c->buf, ALU_XOR, 0, RAX, RAX);
    x_test_rr(&c->buf, 1, ra, ra);
    size_t neg = x_jcc32(&c->buf, CC_S);
    x_cvtsi2s(&c->buf, d, 1, x, ra);
    size_t done = x_jmp32(&c->buf);
    x_patch32(&c->buf, neg, c->buf.n);
    x_mov_rr(&c->buf, 1, RAX, ra);
    x_shift_ri(&c->buf, SH_SHR, 1, RAX, 1);
    x_mov_rr(&c->buf, 1, RCX, ra);
    x_alu_ri(&c->buf, ALU_AND, 1, RCX, 1);
    x_alu_rr(&c->buf, ALU_OR, 1, RAX, RCX);
    x_cvtsi2s(&c->buf, d, 1, x, RAX);
    x_sse_rr(&c->buf, SSE_ADD, d, x, x);
    x_patch32(&c->buf, done, c->buf.n);
}

static bool lower_convert(gc_ctx *c, uint16_t op)
{
    switch (op) {
    case GOP_F32_CONVERT_I32_S: case GOP_F64_CONVERT_I32_S:
    case GOP_F32_CONVERT_I32_U: case GOP_F64_CONVERT_I32_U:
    case GOP_F32_CONVERT_I64_S: case GOP_F64_CONVERT_I64_S:
    case GOP_F32_CONVERT_I64_U: case GOP_F64_CONVERT_I64_U: {
        int d = op >= GOP_F64_CONVERT_I32_S;
        bool src64 = op == GOP_F32_CONVERT_I64_S || op == GOP_F64_CONVERT_I64_S ||
                     op == GOP_F32_CONVERT_I64_U || op == GOP_F64_CONVERT_I64_U;
        bool u = op == GOP_F32_CONVERT_I32_U || op == GOP_F64_CONVERT_I32_U ||
                 op == GOP_F32_CONVERT_I64_U || op == GOP_F64_CONVERT_I64_U;
        int ra = pop_reg(c);
        int x = alloc_fpr(c);
        x_sse_pd_rr(&c->buf, SSE_XOR, 0, x, x);   /* break the dependency */
        if (src64 && u)
            cvt_u64(c, d, x, ra);
        else    /* a u32 is zero-extended in its register: convert it as i64 */
            x_cvtsi2s(&c->buf, d, src64 || u, x, ra);
        release(c, src64 ? GT_I64 : GT_I32, ra);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    }
    case GOP_F32_DEMOTE_F64: case GOP_F64_PROMOTE_F32: {
        int to_d = op == GOP_F64_PROMOTE_F32;
        int x = pop_reg(c);
        x_cvts2s(&c->buf, to_d, x, x);
        canon_nan(c, to_d, x);
        VS(c)->fowner[x] = TEMP;
        return push_reg(c, to_d ? GT_F64 : GT_F32, x);
    }
    case GOP_I32_REINTERPRET_F32: case GOP_I64_REINTERPRET_F64: {
        int w = op == GOP_I64_REINTERPRET_F64;
        int x = pop_reg(c);
        int r = alloc_gpr(c);
        x_movd_rx(&c->buf, w, r, x);
        release(c, GT_F64, x);
        return push_reg(c, w ? GT_I64 : GT_I32, r);
    }
    default: { /* F32_REINTERPRET_I32, F64_REINTERPRET_I64 */
        int w = op == GOP_F64_REINTERPRET_I64;
        int r = pop_reg(c);
        int x = alloc_fpr(c);
        x_movd_xr(&c->buf, w, x, r);
        release(c, GT_I64, r);
        return push_reg(c, w ? GT_F64 : GT_F32, x);
    }
    }
}

/* ---- variables, references, tables --------------------------------------- */

static bool lower_local_get(gc_ctx *c, uint32_t i)
{
    uint8_t t = c->v->locals[i];
    if (t == GT_I32 || t == GT_I64 || is_fp(t))
        return push_local(c, t, i);     /* loaded where it is used */
    if (is_fp(t)) {
        int x = alloc_fpr(c);
        x_movs_load(&c->buf, t == GT_F64, x, slot(i));
        return push_reg(c, t, x);
    }
    int r = alloc_gpr(c);
    x_load(&c->buf, t == GT_I32 ? LD_U32 : LD_64, 1, r, slot(i));
    return push_reg(c, t, r);
}

static void store_local(gc_ctx *c, uint32_t i, gc_val *v)
{
    if (v->kind == K_CONST && fits_imm(v)) {
        int64_t k = v->type == GT_I32 ? (int64_t)(uint32_t)v->k : v->k;
        if (k <= INT32_MAX && k >= INT32_MIN) {
            x_store_i32(&c->buf, 8, (int32_t)k, slot(i));
            return;
        }
    }
    int r = in_reg(c, v, VS(c)->nvals);
    if (is_fp(v->type))
        x_movs_store(&c->buf, v->type == GT_F64, r, slot(i));
    else
        x_store(&c->buf, 8, r, slot(i));
}

static bool lower_global(gc_ctx *c, const gv_insn *ins)
{
    const gd_global *g = &c->m->globals[ins->imm.index];
    x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_GLOBALS));
    x_load(&c->buf, LD_64, 1, RAX, xm(RAX, 8 * (int32_t)ins->imm.index));
    if (ins->op == GOP_GLOBAL_GET) {
        if (is_fp(g->type)) {
            int x = alloc_fpr(c);
            x_movs_load(&c->buf, g->type == GT_F64, x, xm(RAX, 0));
            return push_reg(c, g->type, x);
        }
        int r = alloc_gpr(c);
        x_load(&c->buf, g->type == GT_I32 ? LD_U32 : LD_64, 1, r, xm(RAX, 0));
        return push_reg(c, g->type, r);
    }
    gc_val v = pop(c);
    int r = in_reg(c, &v, VS(c)->nvals);
    /* in_reg may have used rax for a constant: reload the cell address */
    x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_GLOBALS));
    x_load(&c->buf, LD_64, 1, RAX, xm(RAX, 8 * (int32_t)ins->imm.index));
    if (is_fp(g->type))
        x_movs_store(&c->buf, g->type == GT_F64, r, xm(RAX, 0));
    else
        x_store(&c->buf, 8, r, xm(RAX, 0));
    release(c, v.type, r);
    return true;
}

static bool lower_select(gc_ctx *c)
{
    int cc;
    int rc = -1;
    if (top_is_flags(c))
        cc = (int)pop(c).k;
    else
        rc = pop_reg(c), cc = CC_NE;
    gc_val b = pop(c);
    int rb = in_reg(c, &b, VS(c)->nvals);
    int ra = pop_reg(c);
    if (rc >= 0) {
        /* after the operands are loaded (constants use xor-free movs anyway) */
        x_test_rr(&c->buf, 0, rc, rc);
        release(c, GT_I32, rc);
    }
    if (is_fp(b.type)) {
        size_t keep = x_jcc32(&c->buf, cc);
        x_movaps(&c->buf, ra, rb);
        x_patch32(&c->buf, keep, c->buf.n);
    } else {
        x_cmov(&c->buf, cc ^ 1, 1, ra, rb);
    }
    release(c, b.type, rb);
    return push_reg(c, b.type, ra);
}

/*
 * Operations on tables and bulk memory call runtime helpers with up to
 * four operands taken from the stack (rsi, rdx, rcx, r8 after vmctx),
 * plus immediates.  The helper traps by itself when it must.
 */
static bool lower_helper(gc_ctx *c, const gv_insn *ins, int h, int nops, int64_t imm1,
                         int64_t imm2, uint8_t result)
{
    static const int8_t argreg[] = { RSI, RDX, RCX, R8, R9 };
    int nargs = 0;
    flush(c);
    gc_vstack *s = VS(c);
    /* immediates first (two are packed into one register), then the
       stack operands bottom first, then the wasm offset */
    bool has_imm = !(h == GH_MEMORY_GROW || h == GH_MEMORY_FILL || h == GH_MEMORY_COPY);
    if (has_imm)
        x_mov_ri(&c->buf, 1, argreg[nargs++], imm1 | imm2 << 32);
    for (int i = 0; i < nops; i++)
        x_load(&c->buf, LD_64, 1, argreg[nargs++], stack_slot(s, s->nvals - nops + i));
    truncate_to(c, s->nvals - nops);     /* flushed: nothing to release */
    x_mov_ri(&c->buf, 0, argreg[nargs], (int64_t)ins->offset);
    if (!call_helper_sp(c, h, h == GH_MEMORY_GROW, ins->offset))
        return false;
    if (!result)
        return true;
    int r = alloc_gpr(c);
    x_mov_rr(&c->buf, result != GT_I32, r, RAX);
    return push_reg(c, result, r);
}

/* ---- the contract -------------------------------------------------------- */

/* cpuid: leaf 0x80000001 ecx bit 5 LZCNT, leaf 7 ebx bit 3 BMI1 (TZCNT),
   leaf 1 ecx bit 23 POPCNT.  Not on an x86-64 host: the baseline. */
int gc_x86_host_features(void)
{
    int f = 0;
#if defined(__x86_64__)
    unsigned a, b, cc, d;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(cc), "=d"(d) : "a"(0x80000001u), "c"(0));
    f |= (cc >> 5) & 1 ? GC_CPU_LZCNT : 0;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(cc), "=d"(d) : "a"(7u), "c"(0));
    f |= (b >> 3) & 1 ? GC_CPU_BMI1 : 0;
    __asm__("cpuid" : "=a"(a), "=b"(b), "=c"(cc), "=d"(d) : "a"(1u), "c"(0));
    f |= (cc >> 23) & 1 ? GC_CPU_POPCNT : 0;
#endif
    return f;
}

static bool x_begin_module(gc_ctx *c)
{
    xstate *s = gx_malloc(&c->alloc, sizeof *s);
    if (!s)
        return oom(c);
    memset(s, 0, sizeof *s);
    c->be = s;
    /* cpuid leaf 0x80000001 ecx bit 5: lzcnt; leaf 7 ebx bit 3: bmi1;
       leaf 1 ecx bit 23: popcnt.  Only when compiling for this host. */
    int f = c->cpu_features < 0 ? gc_x86_host_features() : c->cpu_features;
    c->out->cpu_features = f;
    c->features_lzcnt = f & GC_CPU_LZCNT;
    c->features_popcnt = f & GC_CPU_POPCNT;
    c->features_bmi1 = f & GC_CPU_BMI1;
    return true;
}

static bool x_begin_func(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    if (!vs_begin_func(c))
        return false;
    ST(c)->nstubs = 0;
    for (uint32_t i = 0; i < s->nlocals; i++)
        if (c->v->locals[i] == GT_V128)
            return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, c->m->funcs[c->func].body_off,
                           c->func, "v128 is not supported by the x86-64 backend yet");
    if (!gc_reserve(&c->buf, GC_RED_ZONE + 16 * (size_t)s->nlocals))
        return oom(c);
    /* push rbp; mov rbp, rsp; sub rsp, FRAME (patched); mov [rbp-8], r15 */
    x_push(&c->buf, RBP);
    x_mov_rr(&c->buf, 1, RBP, RSP);
    x_alu_ri(&c->buf, ALU_SUB, 1, RSP, 0x7fffffff);
    s->frame_patch = c->buf.n - 4;
    x_store(&c->buf, 8, R15, xm(RBP, -8));
    /* stack exhaustion: before anything is written to the new frame */
    x_alu_rm(&c->buf, ALU_CMP, 1, RSP, xm(R15, VM_REAL_LIMIT));
    if (!trap_if(c, CC_B, c->m->funcs[c->func].body_off, GATE_TRAP_STACK_EXHAUSTED))
        return false;
    /* params from the caller's area, zeroes for the other locals */
    copy_words(c, RBP, 16, 1, RBP, slot_disp(0), -1, ft->nparams);
    uint32_t nzero = s->nlocals - ft->nparams;
    if (nzero > 0)
        x_alu_rr(&c->buf, ALU_XOR, 0, RAX, RAX);
    if (nzero > 8) {
        /* lea rdi, [lowest slot]; mov ecx, n; rep stosq (nothing is
           allocated in rdi or rcx yet) */
        x_lea(&c->buf, 1, RDI, slot(s->nlocals - 1));
        x_mov_ri(&c->buf, 0, RCX, nzero);
        x_rep_stosq(&c->buf);
    } else {
        for (uint32_t i = ft->nparams; i < s->nlocals; i++)
            x_store(&c->buf, 8, RAX, slot(i));
    }
    if (!push_ctl(c, GOP_CALL, 0, ft->nresults))
        return false;
    /* function entry: a safe point with the params in place */
    return stop_check(c, c->m->funcs[c->func].body_off);
}

static bool x_end_func(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    uint64_t frame = 8 * (1 + (uint64_t)s->nlocals + c->v->maxvals + s->maxout);
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > 0x7fff0000u)
        return gx_fail(c->err, GATE_ERR_LIMIT, c->m->funcs[c->func].body_off, c->func,
                       "stack frame too large");
    uint32_t f = (uint32_t)frame;
    memcpy(c->buf.p + s->frame_patch, &f, 4);
    c->out->func_frame[c->func - c->m->nfunc_imports] = f;
    return emit_stubs(c);
}

static bool x_end_module(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    for (uint32_t i = 0; i < s->ncalls; i++)
        x_patch32(&c->buf, s->calls[i].at,
                  c->out->func_off[s->calls[i].func - c->m->nfunc_imports]);
    return true;
}

static void x_free_module(gc_ctx *c)
{
    xstate *s = ST(c);
    if (!s)
        return;
    vs_free(c);
    gx_free(&c->alloc, s->stubs, (size_t)s->capstubs * sizeof *s->stubs);
    gx_free(&c->alloc, s, sizeof *s);
    c->be = NULL;
}

/*
 * br_table: a bounds check, then a jump through a table of 32-bit offsets
 * placed in the code; each entry leads to a stub that moves the label's
 * values (if any) and jumps.  One stub per distinct target.
 *     mov edx, idx; cmp edx, n; jae default
 *     lea rax, [rip + table]; movsxd rdx, [rax + rdx*4]; add rax, rdx; jmp rax
 */
static bool lower_br_table(gc_ctx *c, const gv_insn *ins)
{
    gc_vstack *s = VS(c);
    uint32_t n = ins->imm.brtable.count;
    const uint32_t *tg = ins->imm.brtable.targets;
    int ri = pop_reg(c);
    flush(c);
    x_mov_rr(&c->buf, 0, RDX, ri);
    release(c, GT_I32, ri);
    if (n == 0) {
        if (!branch(c, tg[0]))
            return false;
        set_dead(c);
        return true;
    }
    if (!gc_reserve(&c->buf, GC_RED_ZONE + (size_t)n * 4 + 64))
        return oom(c);
    x_alu_ri(&c->buf, ALU_CMP, 0, RDX, (int32_t)n);
    size_t to_default = x_jcc32(&c->buf, CC_AE);
    size_t lea = x_lea_rip(&c->buf, RAX);
    x_load(&c->buf, LD_S32, 1, RDX, xmi(RAX, RDX, 4, 0));
    x_alu_rr(&c->buf, ALU_ADD, 1, RAX, RDX);
    x_jmp_r(&c->buf, RAX);
    while (c->buf.n & 3)
        x_int3(&c->buf);
    size_t table = c->buf.n;
    x_patch32(&c->buf, lea, table);
    memset(c->buf.p + table, 0, (size_t)n * 4);
    c->buf.n += (size_t)n * 4;
    if (!br_table_stubs(c, ins, table, GC_RED_ZONE + 32 * (size_t)(s->nvals + 8)))
        return false;
    if (!gc_reserve(&c->buf, GC_RED_ZONE + 32 * (size_t)(s->nvals + 8)))
        return oom(c);
    x_patch32(&c->buf, to_default, c->buf.n);
    if (!branch(c, tg[n]))
        return false;
    set_dead(c);
    return true;
}

static bool x_lower(gc_ctx *c, const gv_insn *ins)
{
    gc_vstack *s = VS(c);
    uint16_t op = ins->op;
    bool done;
    if (!lower_common(c, ins, 32, &done))
        return false;
    if (done)
        return true;
    if (gop_table[op].prefix == 0xfd)
        return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, ins->offset, c->func,
                       "SIMD is not supported by the x86-64 backend yet");

    switch (op) {
    case GOP_UNREACHABLE:
        if (!trap_here(c, ins->offset, GATE_TRAP_UNREACHABLE))
            return false;
        x_ud2(&c->buf);
        set_dead(c);
        return true;
    case GOP_BR_TABLE:
        return lower_br_table(c, ins);
    case GOP_CALL:
        return lower_call(c, ins);
    case GOP_CALL_INDIRECT:
        return lower_call_indirect(c, ins);
    case GOP_SELECT:
    case GOP_SELECT_T:
        return lower_select(c);
    case GOP_LOCAL_GET:
        return lower_local_get(c, ins->imm.index);
    case GOP_GLOBAL_GET:
    case GOP_GLOBAL_SET:
        return lower_global(c, ins);
    case GOP_REF_IS_NULL: {
        gc_val v = pop(c);
        int r = in_reg(c, &v, s->nvals);
        x_test_rr(&c->buf, 1, r, r);
        x_setcc(&c->buf, CC_E, RAX);
        x_movzx8(&c->buf, r, RAX);
        s->owner[r] = TEMP;
        return push_reg(c, GT_I32, r);
    }
    case GOP_REF_FUNC: {
        int r = alloc_gpr(c);
        x_load(&c->buf, LD_64, 1, r, xm(R15, VM_FUNCS));
        x_load(&c->buf, LD_64, 1, r, xm(r, 8 * (int32_t)ins->imm.index));
        return push_reg(c, GT_FUNCREF, r);
    }
    case GOP_MEMORY_SIZE: {
        int r = alloc_gpr(c);
        x_load(&c->buf, LD_64, 1, r, xm(R15, VM_MEM));
        x_load(&c->buf, LD_U32, 0, r, xm(r, MO_PAGES));
        return push_reg(c, GT_I32, r);
    }
    case GOP_MEMORY_GROW:
        return lower_helper(c, ins, GH_MEMORY_GROW, 1, 0, 0, GT_I32);
    case GOP_MEMORY_FILL:
        return lower_helper(c, ins, GH_MEMORY_FILL, 3, 0, 0, 0);
    case GOP_MEMORY_COPY:
        return lower_helper(c, ins, GH_MEMORY_COPY, 3, 0, 0, 0);
    case GOP_MEMORY_INIT:
        return lower_helper(c, ins, GH_MEMORY_INIT, 3, ins->imm.pair.a, 0, 0);
    case GOP_DATA_DROP:
        return lower_helper(c, ins, GH_DATA_DROP, 0, ins->imm.index, 0, 0);
    case GOP_TABLE_GET:
        return lower_helper(c, ins, GH_TABLE_GET, 1, ins->imm.index, 0,
                            c->m->tables[ins->imm.index].elem);
    case GOP_TABLE_SET:
        return lower_helper(c, ins, GH_TABLE_SET, 2, ins->imm.index, 0, 0);
    case GOP_TABLE_SIZE: {
        int r = alloc_gpr(c);
        x_load(&c->buf, LD_64, 1, r, xm(R15, VM_TABLES));
        x_load(&c->buf, LD_64, 1, r, xm(r, 8 * (int32_t)ins->imm.index));
        x_load(&c->buf, LD_U32, 0, r, xm(r, TB_SIZE));
        return push_reg(c, GT_I32, r);
    }
    case GOP_TABLE_GROW:
        return lower_helper(c, ins, GH_TABLE_GROW, 2, ins->imm.index, 0, GT_I32);
    case GOP_TABLE_FILL:
        return lower_helper(c, ins, GH_TABLE_FILL, 3, ins->imm.index, 0, 0);
    case GOP_TABLE_COPY:
        return lower_helper(c, ins, GH_TABLE_COPY, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_TABLE_INIT:
        return lower_helper(c, ins, GH_TABLE_INIT, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_ELEM_DROP:
        return lower_helper(c, ins, GH_ELEM_DROP, 0, ins->imm.index, 0, 0);

    case GOP_I32_EQZ: return lower_eqz(c, 0);
    case GOP_I64_EQZ: return lower_eqz(c, 1);
    case GOP_I32_EQ: return lower_cmp(c, CC_E, 0);
    case GOP_I32_NE: return lower_cmp(c, CC_NE, 0);
    case GOP_I32_LT_S: return lower_cmp(c, CC_L, 0);
    case GOP_I32_LT_U: return lower_cmp(c, CC_B, 0);
    case GOP_I32_GT_S: return lower_cmp(c, CC_G, 0);
    case GOP_I32_GT_U: return lower_cmp(c, CC_A, 0);
    case GOP_I32_LE_S: return lower_cmp(c, CC_LE, 0);
    case GOP_I32_LE_U: return lower_cmp(c, CC_BE, 0);
    case GOP_I32_GE_S: return lower_cmp(c, CC_GE, 0);
    case GOP_I32_GE_U: return lower_cmp(c, CC_AE, 0);
    case GOP_I64_EQ: return lower_cmp(c, CC_E, 1);
    case GOP_I64_NE: return lower_cmp(c, CC_NE, 1);
    case GOP_I64_LT_S: return lower_cmp(c, CC_L, 1);
    case GOP_I64_LT_U: return lower_cmp(c, CC_B, 1);
    case GOP_I64_GT_S: return lower_cmp(c, CC_G, 1);
    case GOP_I64_GT_U: return lower_cmp(c, CC_A, 1);
    case GOP_I64_LE_S: return lower_cmp(c, CC_LE, 1);
    case GOP_I64_LE_U: return lower_cmp(c, CC_BE, 1);
    case GOP_I64_GE_S: return lower_cmp(c, CC_GE, 1);
    case GOP_I64_GE_U: return lower_cmp(c, CC_AE, 1);
    case GOP_F32_EQ: case GOP_F32_NE: case GOP_F32_LT: case GOP_F32_GT:
    case GOP_F32_LE: case GOP_F32_GE:
        return lower_fcmp(c, op, 0);
    case GOP_F64_EQ: case GOP_F64_NE: case GOP_F64_LT: case GOP_F64_GT:
    case GOP_F64_LE: case GOP_F64_GE:
        return lower_fcmp(c, op, 1);

    case GOP_I32_CLZ: case GOP_I32_CTZ: case GOP_I32_POPCNT:
        return lower_bitcount(c, op, 0);
    case GOP_I64_CLZ: case GOP_I64_CTZ: case GOP_I64_POPCNT:
        return lower_bitcount(c, op, 1);
    case GOP_I32_ADD: return lower_alu(c, ALU_ADD, 0);
    case GOP_I32_SUB: return lower_alu(c, ALU_SUB, 0);
    case GOP_I32_AND: return lower_alu(c, ALU_AND, 0);
    case GOP_I32_OR: return lower_alu(c, ALU_OR, 0);
    case GOP_I32_XOR: return lower_alu(c, ALU_XOR, 0);
    case GOP_I64_ADD: return lower_alu(c, ALU_ADD, 1);
    case GOP_I64_SUB: return lower_alu(c, ALU_SUB, 1);
    case GOP_I64_AND: return lower_alu(c, ALU_AND, 1);
    case GOP_I64_OR: return lower_alu(c, ALU_OR, 1);
    case GOP_I64_XOR: return lower_alu(c, ALU_XOR, 1);
    case GOP_I32_MUL: return lower_mul(c, 0);
    case GOP_I64_MUL: return lower_mul(c, 1);
    case GOP_I32_DIV_S: return lower_divrem(c, ins, 0, 1, 0);
    case GOP_I32_DIV_U: return lower_divrem(c, ins, 0, 0, 0);
    case GOP_I32_REM_S: return lower_divrem(c, ins, 0, 1, 1);
    case GOP_I32_REM_U: return lower_divrem(c, ins, 0, 0, 1);
    case GOP_I64_DIV_S: return lower_divrem(c, ins, 1, 1, 0);
    case GOP_I64_DIV_U: return lower_divrem(c, ins, 1, 0, 0);
    case GOP_I64_REM_S: return lower_divrem(c, ins, 1, 1, 1);
    case GOP_I64_REM_U: return lower_divrem(c, ins, 1, 0, 1);
    case GOP_I32_SHL: return lower_shift(c, SH_SHL, 0);
    case GOP_I32_SHR_S: return lower_shift(c, SH_SAR, 0);
    case GOP_I32_SHR_U: return lower_shift(c, SH_SHR, 0);
    case GOP_I32_ROTL: return lower_shift(c, SH_ROL, 0);
    case GOP_I32_ROTR: return lower_shift(c, SH_ROR, 0);
    case GOP_I64_SHL: return lower_shift(c, SH_SHL, 1);
    case GOP_I64_SHR_S: return lower_shift(c, SH_SAR, 1);
    case GOP_I64_SHR_U: return lower_shift(c, SH_SHR, 1);
    case GOP_I64_ROTL: return lower_shift(c, SH_ROL, 1);
    case GOP_I64_ROTR: return lower_shift(c, SH_ROR, 1);

    case GOP_F32_ADD: return lower_fbin(c, SSE_ADD, 0);
    case GOP_F32_SUB: return lower_fbin(c, SSE_SUB, 0);
    case GOP_F32_MUL: return lower_fbin(c, SSE_MUL, 0);
    case GOP_F32_DIV: return lower_fbin(c, SSE_DIV, 0);
    case GOP_F64_ADD: return lower_fbin(c, SSE_ADD, 1);
    case GOP_F64_SUB: return lower_fbin(c, SSE_SUB, 1);
    case GOP_F64_MUL: return lower_fbin(c, SSE_MUL, 1);
    case GOP_F64_DIV: return lower_fbin(c, SSE_DIV, 1);
    case GOP_F32_MIN: return lower_minmax(c, 0, 0);
    case GOP_F32_MAX: return lower_minmax(c, 1, 0);
    case GOP_F64_MIN: return lower_minmax(c, 0, 1);
    case GOP_F64_MAX: return lower_minmax(c, 1, 1);
    case GOP_F32_ABS: case GOP_F32_NEG: case GOP_F32_COPYSIGN:
        return lower_fbits(c, op, 0);
    case GOP_F64_ABS: case GOP_F64_NEG: case GOP_F64_COPYSIGN:
        return lower_fbits(c, op, 1);
    case GOP_F32_SQRT: case GOP_F64_SQRT: {
        int d = op == GOP_F64_SQRT;
        int x = pop_reg(c);
        x_sse_rr(&c->buf, SSE_SQRT, d, x, x);
        canon_nan(c, d, x);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    }
    case GOP_F32_CEIL: case GOP_F32_FLOOR: case GOP_F32_TRUNC: case GOP_F32_NEAREST:
    case GOP_F64_CEIL: case GOP_F64_FLOOR: case GOP_F64_TRUNC: case GOP_F64_NEAREST: {
        int d = op >= GOP_F64_CEIL;
        unsigned k = d ? (unsigned)(op - GOP_F64_CEIL) : (unsigned)(op - GOP_F32_CEIL);
        static const uint8_t mode[4] = { 2, 1, 3, 0 };   /* ceil floor trunc nearest */
        int x = pop_reg(c);
        x_rounds(&c->buf, d, x, x, (uint8_t)(mode[k] | 8));
        canon_nan(c, d, x);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    }

    case GOP_I32_WRAP_I64: {
        int r = pop_reg(c);
        x_mov_rr(&c->buf, 0, r, r);
        return push_reg(c, GT_I32, r);
    }
    case GOP_I64_EXTEND_I32_S: {
        int r = pop_reg(c);
        x_movsx(&c->buf, 4, 1, r, r);
        return push_reg(c, GT_I64, r);
    }
    case GOP_I64_EXTEND_I32_U: {
        int r = pop_reg(c);      /* already zero-extended */
        return push_reg(c, GT_I64, r);
    }
    case GOP_I32_EXTEND8_S: case GOP_I32_EXTEND16_S: {
        int r = pop_reg(c);
        x_movsx(&c->buf, op == GOP_I32_EXTEND8_S ? 1 : 2, 0, r, r);
        return push_reg(c, GT_I32, r);
    }
    case GOP_I64_EXTEND8_S: case GOP_I64_EXTEND16_S: case GOP_I64_EXTEND32_S: {
        int r = pop_reg(c);
        x_movsx(&c->buf, op == GOP_I64_EXTEND8_S ? 1 : op == GOP_I64_EXTEND16_S ? 2 : 4, 1, r, r);
        return push_reg(c, GT_I64, r);
    }
    case GOP_I32_TRUNC_F32_S: case GOP_I32_TRUNC_F32_U:
    case GOP_I32_TRUNC_SAT_F32_S: case GOP_I32_TRUNC_SAT_F32_U:
        return lower_trunc_helper(c, ins, GT_F32, GT_I32);
    case GOP_I32_TRUNC_F64_S: case GOP_I32_TRUNC_F64_U:
    case GOP_I32_TRUNC_SAT_F64_S: case GOP_I32_TRUNC_SAT_F64_U:
        return lower_trunc_helper(c, ins, GT_F64, GT_I32);
    case GOP_I64_TRUNC_F32_S: case GOP_I64_TRUNC_F32_U:
    case GOP_I64_TRUNC_SAT_F32_S: case GOP_I64_TRUNC_SAT_F32_U:
        return lower_trunc_helper(c, ins, GT_F32, GT_I64);
    case GOP_I64_TRUNC_F64_S: case GOP_I64_TRUNC_F64_U:
    case GOP_I64_TRUNC_SAT_F64_S: case GOP_I64_TRUNC_SAT_F64_U:
        return lower_trunc_helper(c, ins, GT_F64, GT_I64);
    }
    if (op >= GOP_F32_CONVERT_I32_S && op <= GOP_F64_REINTERPRET_I64)
        return lower_convert(c, op);
    if (op >= GOP_I32_LOAD && op <= GOP_I64_LOAD32_U)
        return lower_load(c, ins);
    if (op >= GOP_I32_STORE && op <= GOP_I64_STORE32)
        return lower_store(c, ins);
    return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, ins->offset, c->func,
                   "%s is not supported by the x86-64 backend yet", gop_table[op].name);
}

const gc_backend gc_backend_x86_64 = {
    .name = "x86_64",
    .target = GATE_TARGET_X86_64,
    .begin_module = x_begin_module,
    .begin_func = x_begin_func,
    .lower = x_lower,
    .end_func = x_end_func,
    .end_module = x_end_module,
    .free_module = x_free_module,
};
