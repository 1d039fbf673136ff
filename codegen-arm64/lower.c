/*
 * lower.c - the ARM64 half of the lowering: the hooks and per-class
 * lowerings that compiler/vstack.h, control.h and lower.h call.
 *
 * Frame of a compiled function (slots are 8 bytes, in wasm order), the
 * x86-64 layout register for register (docs/design.md):
 *
 *     [x29 + 16 + 8*i]   argument i in, result i out (caller's area)
 *     [x29 + 8]          return address (x30)
 *     [x29]              caller's x29
 *     [x29 - 8]          vmctx of this instance (reloaded into x28 after calls)
 *     [x29 - 16 - 8*k]   slot k: locals first, then the operand stack
 *     ...
 *     [sp + 8*i]         outgoing area: arguments and results of calls
 *
 * Pinned registers: x28 = vmctx, x27 = linear memory base, x26 = x29 -
 * 16384, the slot base: slot k is [x26 + 16368 - 8k], one instruction for
 * every k below 2047 (slots 0..29 are reached from x29 directly).
 * Operand-stack values live in a register cache (x0-x15 for integers and
 * references, v2-v7 and v16-v31 for floats) or as constants until a
 * control-flow edge, a call or register pressure puts them in their
 * canonical slots.  x16 x17 v0 v1 are scratch inside one lowering.  A
 * comparison leaves its result in the flags; br_if, if, select and eqz use
 * the condition directly, anything else first turns it into 0 or 1.  An
 * i32 in a register always has its top 32 bits clear (W-form results).
 *
 * Every merge point (block end, loop header, branch) and every safe point
 * (call, loop header, function entry, memory.grow) sees all values in
 * their canonical slots, which is what the safe-point maps describe.
 *
 * Conditional branches reach +-1 MiB.  A function whose labels are farther
 * apart is compiled again with every conditional branch to a label emitted
 * as the inverse condition over a plain b (+-128 MiB): gc_ctx.far_branches.
 */
#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "../compiler/backend.h"
#include "arm64.h"

/* the register cache: values in x0-x15, v2-v7 and v16-v31 */
static const int8_t gpr_pool[] = { X0, X1, X2, X3, X4, X5, X6, X7,
                                   X8, X9, X10, X11, X12, X13, X14, X15 };
static const int8_t fpr_pool[] = { 2, 3, 4, 5, 6, 7, 16, 17, 18, 19, 20, 21, 22, 23,
                                   24, 25, 26, 27, 28, 29, 30, 31 };
#define NGPR ((int)sizeof gpr_pool)
#define NFPR ((int)sizeof fpr_pool)

#include "../compiler/vstack.h"
#define FRAME_REG X29
#include "../compiler/control.h"

/* The value stack (compiler/vstack.h); ARM64 needs nothing else. */
typedef struct astate {
    gc_vstack vs;
} astate;

#define GC_STATE astate
#define OUT_REG SP
#define NRESULT_REGS 8u
#define PER_VALUE 64u
#define ISA_NAME "ARM64"
#include "../compiler/lower.h"

/* x26 = x29 - SLOT_BIAS (sub x26, x29, #4, lsl #12) */
#define SLOT_BIAS 16384
#define SLOT_NEAR 2046

/* ---- slots ---------------------------------------------------------------- */

enum { SK_X, SK_W, SK_S, SK_D };    /* how a slot is loaded or stored */

/* ldr/str reg, slot k.  i32 slots hold the zero-extended value, so W
   values are stored as X; floats are stored as D (writing an S register
   clears the rest, so an f32's D view is its zero-extended bits). */
static void slot_ls(gc_ctx *c, bool load, int kind, int reg, uint32_t k)
{
    int op = kind >= SK_S ? (load ? LS_FLD : LS_FST) : (load ? LS_LD : LS_ST);
    int size = load && (kind == SK_W || kind == SK_S) ? 2 : 3;
    if (k < 30) {
        a64_ldst_unscaled(&c->buf, op, size, reg, X29, -16 - 8 * (int32_t)k);
    } else if (k <= SLOT_NEAR) {
        a64_ldst(&c->buf, op, size, reg, X26, SLOT_BIAS - 16 - 8 * k);
    } else {
        int t = reg == X16 && kind < SK_S ? X17 : X16;
        a64_mov_imm(&c->buf, 1, t, 16 + 8 * (uint64_t)k);
        a64_addsub_rr(&c->buf, AS_SUB, 1, t, X29, t);
        a64_ldst(&c->buf, op, size, reg, t, 0);
    }
}

static void ld(gc_ctx *c, int kind, int reg, uint32_t k) { slot_ls(c, true, kind, reg, k); }

/* ldr/str q reg, [base + off] (unscaled, or x17 = the address) */
static void q_ls(gc_ctx *c, bool load, int reg, int base, int64_t off)
{
    int op = load ? LS_QLD : LS_QST;
    if (a64_ldst_simm9(off)) {
        a64_ldst_unscaled(&c->buf, op, 0, reg, base, (int32_t)off);
        return;
    }
    a64_mov_imm(&c->buf, 1, X17, (uint64_t)(off < 0 ? -off : off));
    a64_addsub_rrx(&c->buf, off < 0 ? AS_SUB : AS_ADD, 1, X17, base, X17, EXT_UXTX, 0);
    a64_ldst_unscaled(&c->buf, op, 0, reg, X17, 0);
}

/* A v128 in frame slots k, k+1 is 16 plain bytes at slot k + 1 (slots go
   down: slot k holds the high half, k + 1 the low); in an area (ascending
   words) it is 16 plain bytes too, the low half first, which is also the
   portable order of a snapshot's slots. */
static void v128_load_slot(gc_ctx *c, int v, uint32_t k)
{
    q_ls(c, true, v, X29, -16 - 8 * ((int64_t)k + 1));
}

static void v128_store_slot(gc_ctx *c, int v, uint32_t k)
{
    q_ls(c, false, v, X29, -16 - 8 * ((int64_t)k + 1));
}

static void st(gc_ctx *c, int kind, int reg, uint32_t k) { slot_ls(c, false, kind, reg, k); }

static int load_kind(uint8_t t)
{
    return t == GT_I32 ? SK_W : t == GT_F32 ? SK_S : t == GT_F64 ? SK_D : SK_X;
}

/* ldr/str reg, [base + off], off >= 0 (the argument area from x29, the
   outgoing area from sp); x17 forms a far address. */
static void area_ls(gc_ctx *c, bool load, int kind, int reg, int base, uint32_t off)
{
    int op = kind >= SK_S ? (load ? LS_FLD : LS_FST) : (load ? LS_LD : LS_ST);
    int size = load && (kind == SK_W || kind == SK_S) ? 2 : 3;
    if (a64_ldst_uimm(off, size)) {
        a64_ldst(&c->buf, op, size, reg, base, off);
    } else {
        a64_mov_imm(&c->buf, 1, X17, off);
        a64_addsub_rrx(&c->buf, AS_ADD, 1, X17, base, X17, EXT_UXTX, 0);
        a64_ldst(&c->buf, op, size, reg, X17, 0);
    }
}

/* rd = [rn + scale*index] for a table indexed by a module index (size
   log2 of the element); x17 holds a far offset. */
static void ld_scaled(gc_ctx *c, int size, int rd, int rn, uint32_t index)
{
    uint64_t off = (uint64_t)index << size;
    if (a64_ldst_uimm((int64_t)off, size)) {
        a64_ldst(&c->buf, LS_LD, size, rd, rn, (uint32_t)off);
    } else {
        a64_mov_imm(&c->buf, 1, X17, index);
        a64_ldst_rr(&c->buf, LS_LD, size, rd, rn, X17, EXT_UXTX, 1);
    }
}

/* r = [vmctx + off]; r = [base + 8i]; r = the 32 bits at [base + off] */
static void ld_vm(gc_ctx *c, int r, uint32_t off)
{
    a64_ldst(&c->buf, LS_LD, 3, r, X28, off);
}

static void ld_index(gc_ctx *c, int r, int base, uint32_t i)
{
    ld_scaled(c, 3, r, base, i);
}

static void ld_u32(gc_ctx *c, int r, int base, uint32_t off)
{
    a64_ldst(&c->buf, LS_LD, 2, r, base, off);
}

/* ---- values and the register cache --------------------------------------- */

/* The bits of a constant as stored in a slot (i32 and f32 zero-extended). */
static uint64_t const_bits(const gc_val *v)
{
    return v->type == GT_I32 || v->type == GT_F32 ? (uint64_t)(uint32_t)v->k : (uint64_t)v->k;
}

/* Stores stack entry i, wherever it is, as 8 bytes with str ... reg: into
   its own slot (base < 0) or at [base + off]. */
static void store_val(gc_ctx *c, uint32_t i, int base, uint32_t off)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[i];
    int r = X16, kind = SK_X;
    if (__builtin_expect(v->type == GT_V128, 0)) {
        if (v->kind == K_REG) {
            if (base < 0)
                v128_store_slot(c, v->reg, val_slot(s, i));
            else
                q_ls(c, false, v->reg, base, off);
            return;
        }
        /* in slots: the two words, in the same order to slots, low half
           (slot k + 1) first to an area */
        uint32_t k = v->kind == K_SLOT ? val_slot(s, i) : local_slot(s, (uint32_t)v->k);
        for (uint32_t h = 0; h < 2; h++) {
            if (base < 0) {
                ld(c, SK_X, X16, k + h);
                st(c, SK_X, X16, val_slot(s, i) + h);
            } else {
                ld(c, SK_X, X16, k + 1 - h);
                area_ls(c, false, SK_X, X16, base, off + 8 * h);
            }
        }
        return;
    }
    switch (v->kind) {
    case K_REG:
        r = v->reg;
        kind = is_fp(v->type) ? SK_D : SK_X;
        break;
    case K_CONST:
        if (const_bits(v) == 0)
            r = XZR;
        else
            a64_mov_imm(&c->buf, 1, X16, const_bits(v));
        break;
    case K_LOCAL:
        ld(c, SK_X, X16, local_slot(s, (uint32_t)v->k));
        break;
    case K_SLOT:
        ld(c, SK_X, X16, val_slot(s, i));
        break;
    case K_FLAGS:
        a64_cset(&c->buf, 0, X16, (int)v->k);
        break;
    }
    if (base < 0)
        st(c, kind, r, val_slot(s, i));
    else
        area_ls(c, false, kind, r, base, off);
}

/* The hook of compiler/vstack.h: value i into its own slot. */
static void store_slot(gc_ctx *c, uint32_t i)
{
    store_val(c, i, -1, 0);
}

/* Makes v (stack index `index`) live in a register of its own (TEMP). */
static int in_reg(gc_ctx *c, gc_val *v, uint32_t index)
{
    if (v->kind == K_REG)
        return v->reg;
    int r = alloc_reg(c, v->type);
    if (v->kind == K_SLOT || v->kind == K_LOCAL) {
        uint32_t k = v->kind == K_SLOT ? val_slot(VS(c), index) : local_slot(VS(c), (uint32_t)v->k);
        if (__builtin_expect(v->type == GT_V128, 0))
            v128_load_slot(c, r, k);    /* never a constant: v128.const makes a register */
        else
            ld(c, load_kind(v->type), r, k);
    } else if (v->kind == K_FLAGS) {
        a64_cset(&c->buf, 0, r, (int)v->k);
    } else if (is_fp(v->type)) {
        if (const_bits(v) == 0) {
            a64_fmov_vr(&c->buf, v->type == GT_F64, r, XZR);
        } else {
            a64_mov_imm(&c->buf, v->type == GT_F64, X16, const_bits(v));
            a64_fmov_vr(&c->buf, v->type == GT_F64, r, X16);
        }
    } else {
        a64_mov_imm(&c->buf, v->type != GT_I32, r, const_bits(v));
    }
    v->kind = K_REG;
    v->reg = (int8_t)r;
    return r;
}

static int pop_reg(gc_ctx *c)
{
    gc_val v = pop(c);
    return in_reg(c, &v, VS(c)->nvals);
}

/* Turns a flags value on top of the stack into 0 or 1 in a register. */
static void materialize_flags(gc_ctx *c)
{
    gc_val *v = &VS(c)->vals[VS(c)->nvals - 1];
    int r = alloc_gpr(c);               /* may spill with str: flags survive */
    a64_cset(&c->buf, 0, r, (int)v->k);
    top_now_in(c, r);
}

/* A branch condition: the flags (reg < 0, cc means true) or an i32 in a
   register (true when not zero: cbnz). */

static gc_cond pop_cond(gc_ctx *c)
{
    if (top_is_flags(c))
        return (gc_cond){ (int)pop(c).k, -1 };
    return (gc_cond){ COND_NE, pop_reg(c) };
}

/* ---- branches ------------------------------------------------------------ */

/* Points the branch at `at` to `to`.  Out of range: in near mode the
   function is compiled again with far branches (c->retry_far), in far
   mode it is too large. */
static bool patch(gc_ctx *c, size_t at, size_t to)
{
    if (a64_patch(&c->buf, at, to))
        return true;
    if (!c->far_branches) {
        c->retry_far = true;
        return false;
    }
    return gx_fail(c->err, GATE_ERR_LIMIT, UINT64_MAX, c->func,
                   "function too large (a branch spans more than 128 MiB)");
}

/* A branch to a label taken when k holds (truth) or fails (!truth);
   returns the offset to patch.  Far mode: the inverse over a plain b. */
static size_t jump_when(gc_ctx *c, gc_cond k, bool truth)
{
    gc_buf *b = &c->buf;
    if (!c->far_branches)
        return k.reg >= 0 ? a64_cbz(b, truth, 0, k.reg) : a64_bcond(b, truth ? k.cc : k.cc ^ 1);
    size_t skip = k.reg >= 0 ? a64_cbz(b, !truth, 0, k.reg)
                             : a64_bcond(b, truth ? k.cc ^ 1 : k.cc);
    size_t j = a64_b(b);
    a64_patch(b, skip, b->n);
    return j;
}

static size_t skip_unless(gc_ctx *c, gc_cond k)
{
    return k.reg >= 0 ? a64_cbz(&c->buf, 0, 0, k.reg) : a64_bcond(&c->buf, k.cc ^ 1);
}

static size_t emit_jump(gc_ctx *c)
{
    return a64_b(&c->buf);
}

/* ---- traps, safe points, helpers ----------------------------------------- */

/* udf at a trap site: the signal handler turns it into the trap */
static bool emit_trap(gc_ctx *c, uint64_t wasm, uint32_t code)
{
    if (!gc_add_trap(c, (uint32_t)c->buf.n, (uint32_t)wasm, code))
        return false;
    a64_udf(&c->buf, (uint16_t)code);
    return true;
}

/* b.<not cond> over a udf that traps with `code` when cond holds */
static bool trap_if(gc_ctx *c, int cond, uint64_t wasm, uint32_t code)
{
    size_t skip = a64_bcond(&c->buf, cond ^ 1);
    if (!emit_trap(c, wasm, code))
        return false;
    return a64_patch(&c->buf, skip, c->buf.n);
}

/* cbnz over a udf: traps when register r is zero */
static bool trap_if_zero(gc_ctx *c, int sf, int r, uint64_t wasm, uint32_t code)
{
    size_t skip = a64_cbz(&c->buf, 1, sf, r);
    if (!emit_trap(c, wasm, code))
        return false;
    return a64_patch(&c->buf, skip, c->buf.n);
}

/* Reloads the pinned registers after anything that may have changed them. */
static void reload_pinned(gc_ctx *c)
{
    a64_ldst_unscaled(&c->buf, LS_LD, 3, X28, X29, -8);
    ld_vm(c, X27, VM_MEM_BASE);
    a64_addsub_ri(&c->buf, AS_SUB, 1, X26, X29, SLOT_BIAS >> 12, 1);
}

/* Calls runtime helper h (AAPCS64) with vmctx in x0, through the table in
   the vmctx (the code stays position-independent); arguments in x1.. */
static void emit_helper_call(gc_ctx *c, int h)
{
    a64_ldst(&c->buf, LS_ST, 3, X29, X28, VM_FP);
    a64_mov_rr(&c->buf, 1, X0, X28);
    ld_vm(c, X16, VM_HELPERS);
    a64_ldst(&c->buf, LS_LD, 3, X16, X16, 8 * (uint32_t)h);
    a64_blr(&c->buf, X16);
}

static void arg_imm(gc_ctx *c, int n, int w, int64_t k)
{
    a64_mov_imm(&c->buf, w, X0 + n, (uint64_t)k);
}

static void arg_slot(gc_ctx *c, int n, uint32_t k)
{
    ld(c, SK_X, X0 + n, k);
}

static void arg_out_addr(gc_ctx *c, int n, uint32_t w)
{
    a64_addsub_ri(&c->buf, AS_ADD, 1, X0 + n, SP, 8 * w, 0);
}

static void arg_fbits(gc_ctx *c, int n, int d, int x)
{
    a64_fmov_rv(&c->buf, d, X0 + n, x);
}

/* AAPCS64 leaves x0's top half unspecified: W results are moved as W */
static int take_result(gc_ctx *c, uint8_t t)
{
    int r = alloc_gpr(c);
    a64_mov_rr(&c->buf, t != GT_I32, r, X0);
    return r;
}

/*     [ldr x16, [x28, #fuel]; subs x16, x16, #1; str x16, [x28, #fuel]; b.mi stub]
 *     ldr x16, [x28, #stack_limit]; cmp sp, x16; b.lo stub */
static void emit_stop_test(gc_ctx *c, gc_stub *st)
{
    if (c->fuel) {
        ld_vm(c, X16, VM_FUEL);
        a64_addsub_ri(&c->buf, AS_SUBS, 1, X16, X16, 1, 0);
        a64_ldst(&c->buf, LS_ST, 3, X16, X28, VM_FUEL);
        st->at[st->nat++] = jump_when(c, (gc_cond){ COND_MI, -1 }, true);
    }
    ld_vm(c, X16, VM_STACK_LIMIT);
    a64_addsub_rrx(&c->buf, AS_SUBS, 1, XZR, SP, X16, EXT_UXTX, 0);
    st->at[st->nat++] = jump_when(c, (gc_cond){ COND_LO, -1 }, true);
}

/* ---- moves ----------------------------------------------------------------- */

/* ldr/str x16 at [base + off]: a slot (x29, off < 0) or an area */
static void word_ls(gc_ctx *c, bool load, int base, int64_t off)
{
    if (base == X29 && off < 0)
        slot_ls(c, load, SK_X, X16, (uint32_t)((-16 - off) / 8));
    else
        area_ls(c, load, SK_X, X16, base, (uint32_t)off);
}

/* rd = base + off (base x29 or sp); x17 holds a far offset */
static void addr_of(gc_ctx *c, int rd, int base, int64_t off)
{
    uint64_t mag = off < 0 ? (uint64_t)-off : (uint64_t)off;
    if (mag < 4096) {
        a64_addsub_ri(&c->buf, off < 0 ? AS_SUB : AS_ADD, 1, rd, base, (uint32_t)mag, 0);
    } else {
        a64_mov_imm(&c->buf, 1, X17, mag);
        a64_addsub_rrx(&c->buf, off < 0 ? AS_SUB : AS_ADD, 1, rd, base, X17, EXT_UXTX, 0);
    }
}

/*
 * Copies n words, word i from [sb + sd + 8*ss*i] to [db + dd + 8*ds*i]
 * (ss, ds: +1 or -1; bases x29 or sp), in increasing i, so a move down
 * between overlapping slot ranges is right.  Up to COPY_UNROLL words are
 * straight-line code; more are a loop, so what a branch, call or return
 * emits is bounded whatever the number of values (a label or a signature
 * may have 1,000).  Uses x16, x17 and two registers of the cache, which
 * the callers have flushed.
 *     add/sub p, sb, #sd; add/sub q, db, #dd; mov x17, #n
 *  L: ldr x16, [p]; str x16, [q]; add/sub p, p, #8; add/sub q, q, #8
 *     sub x17, x17, #1; cbnz x17, L
 */
static void copy_words(gc_ctx *c, int sb, int64_t sd, int ss, int db, int64_t dd, int ds,
                       uint32_t n)
{
    gc_buf *b = &c->buf;
    if (n <= COPY_UNROLL) {
        for (uint32_t i = 0; i < n; i++) {
            word_ls(c, true, sb, sd + 8 * ss * (int64_t)i);
            word_ls(c, false, db, dd + 8 * ds * (int64_t)i);
        }
        return;
    }
    int p = alloc_gpr(c), q = alloc_gpr(c);
    addr_of(c, p, sb, sd);
    addr_of(c, q, db, dd);
    a64_mov_imm(b, 1, X17, n);
    size_t top = b->n;
    a64_ldst(b, LS_LD, 3, X16, p, 0);
    a64_ldst(b, LS_ST, 3, X16, q, 0);
    a64_addsub_ri(b, ss < 0 ? AS_SUB : AS_ADD, 1, p, p, 8, 0);
    a64_addsub_ri(b, ds < 0 ? AS_SUB : AS_ADD, 1, q, q, 8, 0);
    a64_addsub_ri(b, AS_SUB, 1, X17, X17, 1, 0);
    a64_patch(b, a64_cbz(b, 1, 1, X17), top);
    release(c, GT_I64, p);
    release(c, GT_I64, q);
}

/* Result w of the function, from stack value i. */
static void store_result(gc_ctx *c, uint32_t i, uint32_t w)
{
    store_val(c, i, X29, 16 + 8 * w);
}

static void store_val_out(gc_ctx *c, uint32_t i, uint32_t w)
{
    store_val(c, i, SP, 8 * w);
}

static void load_out(gc_ctx *c, int r, uint8_t t, uint32_t w)
{
    if (t == GT_V128)
        q_ls(c, true, r, SP, 8 * (int64_t)w);
    else
        area_ls(c, true, load_kind(t), r, SP, 8 * w);
}

/* ---- calls --------------------------------------------------------------- */

static size_t emit_call_direct(gc_ctx *c)
{
    return a64_bl(&c->buf);
}

static void emit_call_import(gc_ctx *c, uint32_t f)
{
    ld_vm(c, X16, VM_FUNCS);
    ld_index(c, X16, X16, f);
    a64_ldst(&c->buf, LS_LD, 3, X28, X16, FR_VM);
    ld_vm(c, X27, VM_MEM_BASE);                 /* the callee's memory */
    a64_ldst(&c->buf, LS_LD, 3, X16, X16, FR_CODE);
    a64_blr(&c->buf, X16);
}

/* x16 = table; bounds; x16 = funcref; null; signature; the call */
static bool emit_call_indirect(gc_ctx *c, const gv_insn *ins, int ri)
{
    gc_buf *b = &c->buf;
    ld_vm(c, X16, VM_TABLES);
    ld_index(c, X16, X16, ins->imm.callind.table);
    a64_ldst(b, LS_LD, 2, X17, X16, TB_SIZE);
    a64_cmp_rr(b, 0, ri, X17);
    if (!trap_if(c, COND_HS, ins->offset, GATE_TRAP_TABLE_OUT_OF_BOUNDS))
        return false;
    a64_ldst(b, LS_LD, 3, X16, X16, TB_ELEMS);
    a64_ldst_rr(b, LS_LD, 3, X16, X16, ri, EXT_UXTW, 1);
    if (!trap_if_zero(c, 1, X16, ins->offset, GATE_TRAP_INDIRECT_NULL))
        return false;
    /* the index register is free now: it takes the expected signature
       (ld_scaled may need x17 for a type index past 4095) */
    ld_vm(c, ri, VM_SIGIDS);
    ld_scaled(c, 2, ri, ri, ins->imm.callind.type);
    a64_ldst(b, LS_LD, 2, X17, X16, FR_SIG);
    a64_cmp_rr(b, 0, ri, X17);
    release(c, GT_I32, ri);
    if (!trap_if(c, COND_NE, ins->offset, GATE_TRAP_INDIRECT_TYPE))
        return false;
    a64_ldst(b, LS_LD, 3, X28, X16, FR_VM);
    ld_vm(c, X27, VM_MEM_BASE);                     /* the callee's memory */
    a64_ldst(b, LS_LD, 3, X16, X16, FR_CODE);
    a64_blr(b, X16);
    return true;
}

/* ---- memory -------------------------------------------------------------- */

/* The next instruction is an access that faults into the guard pages. */
static bool access_trap(gc_ctx *c, uint64_t wasm)
{
    return c->explicit_bounds ||
           gc_add_trap(c, (uint32_t)c->buf.n, (uint32_t)wasm, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
}

/*
 * The access to wasm address ra + offset.  With guard pages the access is
 * a trap site:  ldr rt, [x27, wa, uxtw]  or  add x16, x27, wa, uxtw;
 * ldr rt, [x16, #offset].  In explicit bounds mode it is checked first:
 *     mov x17, #offset+bytes; add x17, x17, wa, uxtw
 *     ldr x16, [x28, #mem]; ldr x16, [x16, #bytes]; cmp x17, x16; b.ls ok; udf
 */
static bool mem_access(gc_ctx *c, const gv_insn *ins, int op, int size, int rt, int ra)
{
    gc_buf *b = &c->buf;
    uint32_t off = ins->imm.mem.offset;
    if (c->explicit_bounds) {
        a64_mov_imm(b, 1, X17, (uint64_t)off + (1u << size));
        a64_addsub_rrx(b, AS_ADD, 1, X17, X17, ra, EXT_UXTW, 0);
        ld_vm(c, X16, VM_MEM);
        a64_ldst(b, LS_LD, 3, X16, X16, MO_BYTES);
        a64_cmp_rr(b, 1, X17, X16);
        if (!trap_if(c, COND_HI, ins->offset, GATE_TRAP_MEMORY_OUT_OF_BOUNDS))
            return false;
    }
    /* q: 16 bytes with size 0 in the encodings, register offsets only */
    bool q = op == LS_QLD || op == LS_QST;
    int esize = q ? 0 : size;
    if (off == 0) {
        if (!access_trap(c, ins->offset))
            return false;
        a64_ldst_rr(b, op, esize, rt, X27, ra, EXT_UXTW, 0);
        return true;
    }
    a64_addsub_rrx(b, AS_ADD, 1, X16, X27, ra, EXT_UXTW, 0);
    if (q || !a64_ldst_uimm(off, size)) {
        a64_mov_imm(b, 1, X17, off);
        if (!access_trap(c, ins->offset))
            return false;
        a64_ldst_rr(b, op, esize, rt, X16, X17, EXT_UXTX, 0);
        return true;
    }
    if (!access_trap(c, ins->offset))
        return false;
    a64_ldst(b, op, size, rt, X16, off);
    return true;
}

static bool lower_load(gc_ctx *c, const gv_insn *ins)
{
    const gop_info *oi = &gop_table[ins->op];
    int op = oi->lkind == GK_FLOAT ? LS_FLD
             : oi->lkind == GK_SINT ? (oi->lw ? LS_LDS64 : LS_LDS32) : LS_LD;
    uint8_t t = oi->lkind == GK_FLOAT ? (oi->lw ? GT_F64 : GT_F32) : oi->lw ? GT_I64 : GT_I32;
    int ra = pop_reg(c);
    /* integer results reuse the address register (ldrsb w clears the top) */
    int rt = is_fp(t) ? alloc_fpr(c) : ra;
    if (!mem_access(c, ins, op, oi->x, rt, ra))
        return false;
    if (rt != ra)
        release(c, GT_I32, ra);
    return push_reg(c, t, rt);
}

static bool lower_store(gc_ctx *c, const gv_insn *ins)
{
    const gop_info *oi = &gop_table[ins->op];
    int op = oi->lkind == GK_FLOAT ? LS_FST : LS_ST;
    gc_val v = pop(c);
    int rv;
    if (v.kind == K_CONST && const_bits(&v) == 0) {
        rv = XZR;                       /* zero bits of any type: str wzr/xzr */
        op = LS_ST;
    } else {
        rv = in_reg(c, &v, VS(c)->nvals);
    }
    int ra = pop_reg(c);
    if (!mem_access(c, ins, op, oi->x, rv, ra))
        return false;
    if (rv != XZR)
        release(c, v.type, rv);
    release(c, GT_I32, ra);
    return true;
}

/* ---- integer arithmetic -------------------------------------------------- */

/* add sub and or xor (GK_*): the immediate forms when b is a constant
   that fits */
static bool lower_alu(gc_ctx *c, int op, int sf)
{
    static const uint8_t lg[] = { [GK_AND] = LG_AND, [GK_OR] = LG_ORR, [GK_XOR] = LG_EOR };
    uint8_t t = sf ? GT_I64 : GT_I32;
    gc_buf *b = &c->buf;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    if (v.kind == K_CONST) {
        uint64_t k = sf ? (uint64_t)v.k : (uint32_t)v.k;
        uint64_t nk = sf ? 0 - k : (uint32_t)(0 - k);
        uint32_t imm, fields;
        int lsl12;
        if (op <= GK_SUB) {
            if (a64_addsub_imm(k, &imm, &lsl12)) {
                a64_addsub_ri(b, op == GK_ADD ? AS_ADD : AS_SUB, sf, ra, ra, imm, lsl12);
                return push_reg(c, t, ra);
            }
            if (a64_addsub_imm(nk, &imm, &lsl12)) {
                a64_addsub_ri(b, op == GK_ADD ? AS_SUB : AS_ADD, sf, ra, ra, imm, lsl12);
                return push_reg(c, t, ra);
            }
        } else if (a64_logical_imm(k, sf, &fields)) {
            a64_logic_ri(b, lg[op], sf, ra, ra, fields);
            return push_reg(c, t, ra);
        }
    }
    int rb = in_reg(c, &v, VS(c)->nvals + 1);
    if (op <= GK_SUB)
        a64_addsub_rr(b, op == GK_ADD ? AS_ADD : AS_SUB, sf, ra, ra, rb);
    else
        a64_logic_rr(b, lg[op], sf, ra, ra, rb);
    release(c, t, rb);
    return push_reg(c, t, ra);
}

static bool lower_mul(gc_ctx *c, int sf)
{
    uint8_t t = sf ? GT_I64 : GT_I32;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    uint64_t k = sf ? (uint64_t)v.k : (uint32_t)v.k;
    if (v.kind == K_CONST && k != 0 && (k & (k - 1)) == 0) {
        int n = 0;
        while (!(k & 1))
            k >>= 1, n++;
        if (n)
            a64_shift_ri(&c->buf, SHIFT_LSL, sf, ra, ra, n);
        return push_reg(c, t, ra);
    }
    int rb = in_reg(c, &v, VS(c)->nvals + 1);
    a64_mul(&c->buf, sf, ra, ra, rb);
    release(c, t, rb);
    return push_reg(c, t, ra);
}

/* eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
static const uint8_t icond[] = { COND_EQ, COND_NE, COND_LT, COND_LO, COND_GT,
                                 COND_HI, COND_LE, COND_LS, COND_GE, COND_HS };

static bool lower_cmp(gc_ctx *c, int kind, int sf)
{
    int cond = icond[kind];
    uint8_t t = sf ? GT_I64 : GT_I32;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    uint64_t k = sf ? (uint64_t)v.k : (uint32_t)v.k;
    uint64_t nk = sf ? 0 - k : (uint32_t)(0 - k);
    uint32_t imm;
    int lsl12;
    if (v.kind == K_CONST && a64_addsub_imm(k, &imm, &lsl12)) {
        a64_cmp_ri(&c->buf, sf, ra, imm, lsl12);
    } else if (v.kind == K_CONST && k != 0 && a64_addsub_imm(nk, &imm, &lsl12)) {
        a64_cmn_ri(&c->buf, sf, ra, imm, lsl12);   /* the same flags as cmp #-k */
    } else {
        int rb = in_reg(c, &v, VS(c)->nvals + 1);
        a64_cmp_rr(&c->buf, sf, ra, rb);
        release(c, t, rb);
    }
    release(c, t, ra);
    return push_val(c, K_FLAGS, GT_I32, -1, cond);
}

static bool lower_eqz(gc_ctx *c, int sf)
{
    if (!sf && top_is_flags(c)) {
        int cc = (int)pop(c).k;
        return push_val(c, K_FLAGS, GT_I32, -1, cc ^ 1);
    }
    int ra = pop_reg(c);
    a64_cmp_ri(&c->buf, sf, ra, 0, 0);
    release(c, sf ? GT_I64 : GT_I32, ra);
    return push_val(c, K_FLAGS, GT_I32, -1, COND_EQ);
}

/* shl shr_s shr_u rotl rotr; rotl is a rotate right by -n */
static const int8_t shift_op[] = { SHIFT_LSL, SHIFT_ASR, SHIFT_LSR, -1, SHIFT_ROR };

static bool lower_shift(gc_ctx *c, int op, int sf)
{
    int kind = shift_op[op];
    uint8_t t = sf ? GT_I64 : GT_I32;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    int mask = sf ? 63 : 31;
    if (v.kind == K_CONST) {
        int n = (int)(v.k & mask);
        if (kind < 0)
            n = -n & mask, kind = SHIFT_ROR;
        if (n)
            a64_shift_ri(&c->buf, kind, sf, ra, ra, n);
    } else {
        int rb = in_reg(c, &v, VS(c)->nvals + 1);
        if (kind < 0) {
            a64_neg(&c->buf, 0, X16, rb);
            a64_shift_rr(&c->buf, SHIFT_ROR, sf, ra, ra, X16);
        } else {
            a64_shift_rr(&c->buf, kind, sf, ra, ra, rb);   /* the count is taken mod size */
        }
        release(c, t, rb);
    }
    return push_reg(c, t, ra);
}

/*
 *   div:  trap if b == 0; (signed) trap if a == MIN && b == -1
 *   rem:  trap if b == 0; a - (a / b) * b, which is 0 for MIN % -1
 *         (sdiv gives MIN there instead of trapping)
 */
static bool lower_divrem(gc_ctx *c, const gv_insn *ins, int kind, int sf)
{
    bool is_signed = kind == GK_DIV_S || kind == GK_REM_S;
    bool rem = kind == GK_REM_S || kind == GK_REM_U;
    uint8_t t = sf ? GT_I64 : GT_I32;
    gc_buf *b = &c->buf;
    int rb = pop_reg(c);
    int ra = pop_reg(c);
    if (!trap_if_zero(c, sf, rb, ins->offset, GATE_TRAP_DIV_BY_ZERO))
        return false;
    if (is_signed && !rem) {
        a64_cmn_ri(b, sf, rb, 1, 0);
        size_t skip = a64_bcond(b, COND_NE);
        a64_cmp_ri(b, sf, ra, 1, 0);               /* overflows (V) only for MIN */
        if (!trap_if(c, COND_VS, ins->offset, GATE_TRAP_INT_OVERFLOW))
            return false;
        a64_patch(b, skip, b->n);
    }
    if (rem) {
        a64_div(b, is_signed, sf, X16, ra, rb);
        a64_msub(b, sf, ra, X16, rb, ra);
    } else {
        a64_div(b, is_signed, sf, ra, ra, rb);
    }
    release(c, t, rb);
    return push_reg(c, t, ra);
}

static bool lower_bitcount(gc_ctx *c, int kind, int sf)
{
    gc_buf *b = &c->buf;
    int ra = pop_reg(c);
    if (kind == GK_CLZ) {
        a64_clz(b, sf, ra, ra);
    } else if (kind == GK_CTZ) {
        a64_rbit(b, sf, ra, ra);
        a64_clz(b, sf, ra, ra);
    } else {
        /* fmov d0, x; cnt v0.8b, v0.8b; addv b0, v0.8b; fmov w, s0 */
        a64_fmov_vr(b, 1, 0, ra);
        a64_cnt8b(b, 0, 0);
        a64_addv8b(b, 0, 0);
        a64_fmov_rv(b, 0, ra, 0);
    }
    return push_reg(c, sf ? GT_I64 : GT_I32, ra);
}

/* ---- floating point ------------------------------------------------------ */

/*
 * Deterministic mode: a NaN result becomes the canonical positive quiet
 * NaN (x86 makes negative ones, ARM64 positive ones, and they propagate
 * payloads differently):
 *     fcmp x, x; b.vc 1f; mov x16, #canonical; fmov x, x16; 1:
 */
static void canon_nan(gc_ctx *c, int d, int x)
{
    if (!c->deterministic)
        return;
    a64_fcmp(&c->buf, d, x, x);
    size_t ok = a64_bcond(&c->buf, COND_VC);
    a64_mov_imm(&c->buf, d, X16, d ? 0x7ff8000000000000ull : 0x7fc00000u);
    a64_fmov_vr(&c->buf, d, x, X16);
    a64_patch(&c->buf, ok, c->buf.n);
}

static bool lower_copysign(gc_ctx *c, int d);

/* add sub mul div min max copysign; ARM's fmin/fmax return NaN for a NaN
   operand and order -0 below +0, as wasm wants */
static bool lower_fbin(gc_ctx *c, int kind, int d)
{
    static const uint8_t fp2[] = { FP_ADD, FP_SUB, FP_MUL, FP_DIV, FP_MIN, FP_MAX };
    if (kind == GK_COPYSIGN)
        return lower_copysign(c, d);
    int fop = fp2[kind];
    uint8_t t = d ? GT_F64 : GT_F32;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    int rb = in_reg(c, &v, VS(c)->nvals + 1);
    a64_fp2(&c->buf, fop, d, ra, ra, rb);
    release(c, t, rb);
    canon_nan(c, d, ra);
    return push_reg(c, t, ra);
}

/* abs neg ceil floor trunc nearest sqrt; abs and neg only move bits: they
   keep a NaN's bits, as the spec says */
static bool lower_funop(gc_ctx *c, int kind, int d)
{
    static const uint8_t fp1[] = { FP_ABS, FP_NEG, FP_RINTP, FP_RINTM, FP_RINTZ, FP_RINTN,
                                   FP_SQRT };
    int fop = fp1[kind];
    int x = pop_reg(c);
    a64_fp1(&c->buf, fop, d, x, x);
    if (fop != FP_ABS && fop != FP_NEG)
        canon_nan(c, d, x);
    return push_reg(c, d ? GT_F64 : GT_F32, x);
}

/* copysign on the bits: x16 = a, x17 = b's sign bit, inserted into x16 */
static bool lower_copysign(gc_ctx *c, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    gc_buf *b = &c->buf;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    int rb = in_reg(c, &v, VS(c)->nvals + 1);
    int sign = d ? 63 : 31;
    a64_fmov_rv(b, d, X16, ra);
    a64_fmov_rv(b, d, X17, rb);
    a64_ubfm(b, 1, X17, X17, sign, sign);
    a64_bfm(b, 1, X16, X17, (64 - sign) & 63, 0);
    a64_fmov_vr(b, d, ra, X16);
    release(c, t, rb);
    return push_reg(c, t, ra);
}

/* eq ne lt gt le ge: unordered makes all but ne false (the inverse
   conditions are exactly the negations, so eqz can flip them); mi is
   "less" and excludes unordered, ls too */
static bool lower_fcmp(gc_ctx *c, int kind, int d)
{
    static const uint8_t fcond[] = { COND_EQ, COND_NE, COND_MI, COND_GT, COND_LS, COND_GE };
    int cond = fcond[kind];
    uint8_t t = d ? GT_F64 : GT_F32;
    gc_val v = pop(c);
    int ra = pop_reg(c);
    if (v.kind == K_CONST && const_bits(&v) == 0) {
        a64_fcmp_zero(&c->buf, d, ra);
    } else {
        int rb = in_reg(c, &v, VS(c)->nvals + 1);
        a64_fcmp(&c->buf, d, ra, rb);
        release(c, t, rb);
    }
    release(c, t, ra);
    return push_val(c, K_FLAGS, GT_I32, -1, cond);
}

/* Conversions (GK_*; w: bit 0 a 64-bit result, bit 1 a 64-bit operand). */
static bool lower_convert(gc_ctx *c, const gv_insn *ins, int kind, int w)
{
    gc_buf *b = &c->buf;
    int d = w & 1, src64 = w >> 1;
    int r, x;
    switch (kind) {
    case GK_WRAP:
        r = pop_reg(c);
        a64_mov_rr(b, 0, r, r);
        return push_reg(c, GT_I32, r);
    case GK_EXTEND_S:
        r = pop_reg(c);
        a64_sxt(b, 4, 1, r, r);
        return push_reg(c, GT_I64, r);
    case GK_EXTEND_U:
        return push_reg(c, GT_I64, pop_reg(c));       /* already zero-extended */
    case GK_SEXT8: case GK_SEXT16: case GK_SEXT32:
        r = pop_reg(c);
        a64_sxt(b, kind == GK_SEXT8 ? 1 : kind == GK_SEXT16 ? 2 : 4, d, r, r);
        return push_reg(c, d ? GT_I64 : GT_I32, r);
    case GK_REINTERPRET_I:
        x = pop_reg(c);
        r = alloc_gpr(c);
        a64_fmov_rv(b, d, r, x);
        release(c, GT_F64, x);
        return push_reg(c, d ? GT_I64 : GT_I32, r);
    case GK_REINTERPRET_F:
        r = pop_reg(c);
        x = alloc_fpr(c);
        a64_fmov_vr(b, d, x, r);
        release(c, GT_I64, r);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    case GK_DEMOTE: case GK_PROMOTE:
        x = pop_reg(c);
        a64_fcvt(b, d, x, x);
        canon_nan(c, d, x);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    case GK_TRUNC_S: case GK_TRUNC_U:
        return trunc_helper(c, ins, src64 ? GT_F64 : GT_F32, d ? GT_I64 : GT_I32);
    case GK_CONVERT_S: case GK_CONVERT_U:
        r = pop_reg(c);
        x = alloc_fpr(c);
        if (kind == GK_CONVERT_U)
            a64_ucvtf(b, d, src64, x, r);
        else
            a64_scvtf(b, d, src64, x, r);
        release(c, GT_I64, r);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    default:
        /* the saturating forms are fcvtzs/fcvtzu: ARM saturates and turns
           NaN into 0, as wasm wants */
        x = pop_reg(c);
        r = alloc_gpr(c);
        if (kind == GK_TRUNC_SAT_U)
            a64_fcvtzu(b, src64, d, r, x);
        else
            a64_fcvtzs(b, src64, d, r, x);
        release(c, GT_F64, x);
        return push_reg(c, d ? GT_I64 : GT_I32, r);
    }
}

/* ---- variables, references, tables --------------------------------------- */

static void store_local(gc_ctx *c, uint32_t l, gc_val *v)
{
    uint32_t i = local_slot(VS(c), l);
    if (v->type == GT_V128) {
        v128_store_slot(c, in_reg(c, v, VS(c)->nvals), i);
        return;
    }
    if (v->kind == K_CONST && const_bits(v) == 0) {
        st(c, SK_X, XZR, i);
        return;
    }
    int r = in_reg(c, v, VS(c)->nvals);
    st(c, is_fp(v->type) ? SK_D : SK_X, r, i);
}

/* x16 = the address of global i's cell */
static void global_cell(gc_ctx *c, uint32_t i)
{
    ld_vm(c, X16, VM_GLOBALS);
    ld_index(c, X16, X16, i);
}

static bool lower_global(gc_ctx *c, const gv_insn *ins)
{
    const gd_global *g = &c->m->globals[ins->imm.index];
    gc_buf *b = &c->buf;
    if (g->type == GT_V128) {
        if (ins->op == GOP_GLOBAL_GET) {
            int v = alloc_fpr(c);
            global_cell(c, ins->imm.index);
            a64_ldst_unscaled(b, LS_QLD, 0, v, X16, 0);
            return push_reg(c, GT_V128, v);
        }
        gc_val val = pop(c);
        int r = in_reg(c, &val, VS(c)->nvals);
        global_cell(c, ins->imm.index);
        a64_ldst_unscaled(b, LS_QST, 0, r, X16, 0);
        release(c, GT_V128, r);
        return true;
    }
    if (ins->op == GOP_GLOBAL_GET) {
        int r = alloc_reg(c, g->type);
        global_cell(c, ins->imm.index);
        int k = load_kind(g->type);
        a64_ldst(b, k >= SK_S ? LS_FLD : LS_LD, k == SK_W || k == SK_S ? 2 : 3, r, X16, 0);
        return push_reg(c, g->type, r);
    }
    gc_val v = pop(c);
    int r = v.kind == K_CONST && const_bits(&v) == 0 ? XZR : in_reg(c, &v, VS(c)->nvals);
    global_cell(c, ins->imm.index);
    a64_ldst(b, r != XZR && is_fp(v.type) ? LS_FST : LS_ST, 3, r, X16, 0);
    if (r != XZR)
        release(c, v.type, r);
    return true;
}

static bool lower_select(gc_ctx *c)
{
    gc_cond k = pop_cond(c);
    gc_val v = pop(c);
    int rb = in_reg(c, &v, VS(c)->nvals);
    int ra = pop_reg(c);
    if (k.reg >= 0) {
        /* after the operands are loaded: the flags must reach the csel */
        a64_cmp_ri(&c->buf, 0, k.reg, 0, 0);
        release(c, GT_I32, k.reg);
    }
    if (v.type == GT_V128) {
        size_t keep = a64_bcond(&c->buf, k.cc);
        a64_mov16(&c->buf, ra, rb);
        a64_patch(&c->buf, keep, c->buf.n);
    } else if (is_fp(v.type))
        a64_fcsel(&c->buf, v.type == GT_F64, ra, ra, rb, k.cc);
    else
        a64_csel(&c->buf, 1, ra, ra, rb, k.cc);
    release(c, v.type, rb);
    return push_reg(c, v.type, ra);
}

static bool lower_ref_is_null(gc_ctx *c)
{
    gc_val v = pop(c);
    int r = in_reg(c, &v, VS(c)->nvals);
    a64_cmp_ri(&c->buf, 1, r, 0, 0);
    release(c, v.type, r);
    return push_val(c, K_FLAGS, GT_I32, -1, COND_EQ);
}

/* ---- SIMD ---------------------------------------------------------------- */

/* The 0xfd instructions (v128 values in v registers, two slots each). */
static int v128_const(gc_ctx *c, const uint8_t *bytes)
{
    int v = alloc_fpr(c);
    uint64_t lo, hi;
    memcpy(&lo, bytes, 8);
    memcpy(&hi, bytes + 8, 8);
    if (lo)
        a64_mov_imm(&c->buf, 1, X16, lo);
    a64_fmov_vr(&c->buf, 1, v, lo ? X16 : XZR);     /* the high half cleared */
    if (hi) {
        if (hi != lo)
            a64_mov_imm(&c->buf, 1, X16, hi);
        a64_ins_d(&c->buf, v, 1, X16);
    }
    return v;
}

/*
 * The 0xfd instructions that are one NEON instruction, three-same
 * (vd = vn op vm) or two-register (vd = op vn), with wasm's exact
 * semantics.  Float arithmetic is here only outside deterministic mode:
 * NEON propagates a NaN operand's payload, wasm's deterministic mode
 * wants the canonical NaN.
 */
typedef struct vneon {
    bool is;                    /* false: not one of these */
    uint8_t u, size, opc;
    bool unary, fp, swap;       /* fp: makes NaNs; swap: vn is wasm's second */
} vneon;

#define V3(o, u, sz, opc) [GOP_##o] = { true, u, sz, opc, false, false, false }
#define V3S(o, u, sz, opc) [GOP_##o] = { true, u, sz, opc, false, false, true }
#define V3F(o, u, sz, opc) [GOP_##o] = { true, u, sz, opc, false, true, false }
#define V2(o, u, sz, opc) [GOP_##o] = { true, u, sz, opc, true, false, false }
#define V2F(o, u, sz, opc) [GOP_##o] = { true, u, sz, opc, true, true, false }
static const vneon vneons[GOP_COUNT] = {
    V3(I8X16_ADD, 0, 0, 0x10), V3(I16X8_ADD, 0, 1, 0x10), V3(I32X4_ADD, 0, 2, 0x10),
    V3(I64X2_ADD, 0, 3, 0x10), V3(I8X16_SUB, 1, 0, 0x10), V3(I16X8_SUB, 1, 1, 0x10),
    V3(I32X4_SUB, 1, 2, 0x10), V3(I64X2_SUB, 1, 3, 0x10), V3(I16X8_MUL, 0, 1, 0x13),
    V3(I32X4_MUL, 0, 2, 0x13),
    V3(I8X16_ADD_SAT_S, 0, 0, 0x01), V3(I16X8_ADD_SAT_S, 0, 1, 0x01),
    V3(I8X16_ADD_SAT_U, 1, 0, 0x01), V3(I16X8_ADD_SAT_U, 1, 1, 0x01),
    V3(I8X16_SUB_SAT_S, 0, 0, 0x05), V3(I16X8_SUB_SAT_S, 0, 1, 0x05),
    V3(I8X16_SUB_SAT_U, 1, 0, 0x05), V3(I16X8_SUB_SAT_U, 1, 1, 0x05),
    V3(I8X16_MAX_S, 0, 0, 0x0c), V3(I16X8_MAX_S, 0, 1, 0x0c), V3(I32X4_MAX_S, 0, 2, 0x0c),
    V3(I8X16_MAX_U, 1, 0, 0x0c), V3(I16X8_MAX_U, 1, 1, 0x0c), V3(I32X4_MAX_U, 1, 2, 0x0c),
    V3(I8X16_MIN_S, 0, 0, 0x0d), V3(I16X8_MIN_S, 0, 1, 0x0d), V3(I32X4_MIN_S, 0, 2, 0x0d),
    V3(I8X16_MIN_U, 1, 0, 0x0d), V3(I16X8_MIN_U, 1, 1, 0x0d), V3(I32X4_MIN_U, 1, 2, 0x0d),
    V3(I8X16_AVGR_U, 1, 0, 0x02), V3(I16X8_AVGR_U, 1, 1, 0x02),
    V3(I8X16_EQ, 1, 0, 0x11), V3(I16X8_EQ, 1, 1, 0x11), V3(I32X4_EQ, 1, 2, 0x11),
    V3(I64X2_EQ, 1, 3, 0x11),
    V3(I8X16_GT_S, 0, 0, 0x06), V3(I16X8_GT_S, 0, 1, 0x06), V3(I32X4_GT_S, 0, 2, 0x06),
    V3(I64X2_GT_S, 0, 3, 0x06), V3(I8X16_GT_U, 1, 0, 0x06), V3(I16X8_GT_U, 1, 1, 0x06),
    V3(I32X4_GT_U, 1, 2, 0x06),
    V3(I8X16_GE_S, 0, 0, 0x07), V3(I16X8_GE_S, 0, 1, 0x07), V3(I32X4_GE_S, 0, 2, 0x07),
    V3(I64X2_GE_S, 0, 3, 0x07), V3(I8X16_GE_U, 1, 0, 0x07), V3(I16X8_GE_U, 1, 1, 0x07),
    V3(I32X4_GE_U, 1, 2, 0x07),
    V3S(I8X16_LT_S, 0, 0, 0x06), V3S(I16X8_LT_S, 0, 1, 0x06), V3S(I32X4_LT_S, 0, 2, 0x06),
    V3S(I64X2_LT_S, 0, 3, 0x06), V3S(I8X16_LT_U, 1, 0, 0x06), V3S(I16X8_LT_U, 1, 1, 0x06),
    V3S(I32X4_LT_U, 1, 2, 0x06),
    V3S(I8X16_LE_S, 0, 0, 0x07), V3S(I16X8_LE_S, 0, 1, 0x07), V3S(I32X4_LE_S, 0, 2, 0x07),
    V3S(I64X2_LE_S, 0, 3, 0x07), V3S(I8X16_LE_U, 1, 0, 0x07), V3S(I16X8_LE_U, 1, 1, 0x07),
    V3S(I32X4_LE_U, 1, 2, 0x07),
    V3(V128_AND, 0, 0, 0x03), V3(V128_ANDNOT, 0, 1, 0x03), V3(V128_OR, 0, 2, 0x03),
    V3(V128_XOR, 1, 0, 0x03),
    V3(F32X4_EQ, 0, 0, 0x1c), V3(F64X2_EQ, 0, 1, 0x1c), V3(F32X4_GE, 1, 0, 0x1c),
    V3(F64X2_GE, 1, 1, 0x1c), V3(F32X4_GT, 1, 2, 0x1c), V3(F64X2_GT, 1, 3, 0x1c),
    V3S(F32X4_LE, 1, 0, 0x1c), V3S(F64X2_LE, 1, 1, 0x1c), V3S(F32X4_LT, 1, 2, 0x1c),
    V3S(F64X2_LT, 1, 3, 0x1c),
    V3F(F32X4_ADD, 0, 0, 0x1a), V3F(F64X2_ADD, 0, 1, 0x1a), V3F(F32X4_SUB, 0, 2, 0x1a),
    V3F(F64X2_SUB, 0, 3, 0x1a), V3F(F32X4_MUL, 1, 0, 0x1b), V3F(F64X2_MUL, 1, 1, 0x1b),
    V3F(F32X4_DIV, 1, 0, 0x1f), V3F(F64X2_DIV, 1, 1, 0x1f), V3F(F32X4_MAX, 0, 0, 0x1e),
    V3F(F64X2_MAX, 0, 1, 0x1e), V3F(F32X4_MIN, 0, 2, 0x1e), V3F(F64X2_MIN, 0, 3, 0x1e),
    V3(I16X8_Q15MULR_SAT_S, 1, 1, 0x16),                    /* sqrdmulh */
    V2(I16X8_EXTADD_PAIRWISE_I8X16_S, 0, 0, 0x02), V2(I16X8_EXTADD_PAIRWISE_I8X16_U, 1, 0, 0x02),
    V2(I32X4_EXTADD_PAIRWISE_I16X8_S, 0, 1, 0x02), V2(I32X4_EXTADD_PAIRWISE_I16X8_U, 1, 1, 0x02),
    V2(F32X4_CONVERT_I32X4_S, 0, 0, 0x1d), V2(F32X4_CONVERT_I32X4_U, 1, 0, 0x1d),
    V2(I32X4_TRUNC_SAT_F32X4_S, 0, 2, 0x1b), V2(I32X4_TRUNC_SAT_F32X4_U, 1, 2, 0x1b),
    V2(I8X16_ABS, 0, 0, 0x0b), V2(I16X8_ABS, 0, 1, 0x0b), V2(I32X4_ABS, 0, 2, 0x0b),
    V2(I64X2_ABS, 0, 3, 0x0b), V2(I8X16_NEG, 1, 0, 0x0b), V2(I16X8_NEG, 1, 1, 0x0b),
    V2(I32X4_NEG, 1, 2, 0x0b), V2(I64X2_NEG, 1, 3, 0x0b), V2(I8X16_POPCNT, 0, 0, 0x05),
    V2(V128_NOT, 1, 0, 0x05),
    V2(F32X4_ABS, 0, 2, 0x0f), V2(F64X2_ABS, 0, 3, 0x0f), V2(F32X4_NEG, 1, 2, 0x0f),
    V2(F64X2_NEG, 1, 3, 0x0f),
    V2F(F32X4_SQRT, 1, 2, 0x1f), V2F(F64X2_SQRT, 1, 3, 0x1f),
    V2F(F32X4_NEAREST, 0, 0, 0x18), V2F(F64X2_NEAREST, 0, 1, 0x18),
    V2F(F32X4_FLOOR, 0, 0, 0x19), V2F(F64X2_FLOOR, 0, 1, 0x19),
    V2F(F32X4_CEIL, 0, 2, 0x18), V2F(F64X2_CEIL, 0, 3, 0x18),
    V2F(F32X4_TRUNC, 0, 2, 0x19), V2F(F64X2_TRUNC, 0, 3, 0x19),
};
#undef V3
#undef V3S
#undef V3F
#undef V2
#undef V2F

static const vneon *find_vneon(uint16_t op)
{
    return vneons[op].is ? &vneons[op] : NULL;
}

/* Deterministic mode: every NaN lane of x becomes the canonical NaN
   (fcmeq x, x is the ordered lanes; bif takes the constant elsewhere). */
static void canon_v(gc_ctx *c, int x, bool d)
{
    if (!c->deterministic)
        return;
    a64_v3same(&c->buf, 0, d, 0x1c, 0, x, x);           /* fcmeq v0, x, x */
    int k = v128_const(c, d ? canon_f64x2 : canon_f32x4);
    a64_v3same(&c->buf, 1, 3, 0x03, x, k, 0);           /* bif x, k, v0 */
    release(c, GT_V128, k);
}

/* Single instructions and short sequences; false: not here. */
static bool simd_native(gc_ctx *c, const gv_insn *ins, bool *ok)
{
    gc_buf *b = &c->buf;
    const vneon *vn = find_vneon(ins->op);
    *ok = true;
    if (vn) {
        bool d = !strncmp(gop_table[ins->op].name, "f64x2", 5);
        if (vn->unary) {
            int x = pop_reg(c);
            a64_v2misc(b, vn->u, vn->size, vn->opc, x, x);
            if (vn->fp)
                canon_v(c, x, d);
            *ok = push_reg(c, GT_V128, x);
            return true;
        }
        gc_val vb = pop(c);
        int y = in_reg(c, &vb, VS(c)->nvals);
        int x = pop_reg(c);
        if (vn->swap)
            a64_v3same(b, vn->u, vn->size, vn->opc, x, y, x);
        else
            a64_v3same(b, vn->u, vn->size, vn->opc, x, x, y);
        if (vn->fp)
            canon_v(c, x, d);
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    int size = -1, x, y;
    switch (ins->op) {
    case GOP_V128_BITSELECT: {
        int m = pop_reg(c);
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v3same(b, 1, 1, 0x03, m, x, y);                 /* bsl m, a, b */
        release(c, GT_V128, x);
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, m);
        return true;
    }
    case GOP_V128_ANY_TRUE: case GOP_I8X16_ALL_TRUE: case GOP_I16X8_ALL_TRUE:
    case GOP_I32X4_ALL_TRUE: case GOP_I64X2_ALL_TRUE: {
        /* any: umaxp over the words, the low 64 bits not zero; all: no
           lane equal to zero (cmeq #0, then the same) */
        x = pop_reg(c);
        int src = x;
        if (ins->op != GOP_V128_ANY_TRUE) {
            size = ins->op == GOP_I8X16_ALL_TRUE ? 0 : ins->op == GOP_I16X8_ALL_TRUE ? 1
                 : ins->op == GOP_I32X4_ALL_TRUE ? 2 : 3;
            a64_v2misc(b, 0, size, 0x09, 0, x);             /* cmeq v0, x, #0 */
            src = 0;
        }
        a64_v3same(b, 1, 2, 0x14, 0, src, src);             /* umaxp v0.4s */
        a64_fmov_rv(b, 1, X16, 0);
        a64_cmp_ri(b, 1, X16, 0, 0);
        release(c, GT_V128, x);
        *ok = push_val(c, K_FLAGS, GT_I32, -1, ins->op == GOP_V128_ANY_TRUE ? COND_NE : COND_EQ);
        return true;
    }
    case GOP_I8X16_NE: case GOP_I16X8_NE: case GOP_I32X4_NE: case GOP_I64X2_NE:
    case GOP_F32X4_NE: case GOP_F64X2_NE: {
        bool f = ins->op == GOP_F32X4_NE || ins->op == GOP_F64X2_NE;
        size = ins->op == GOP_I8X16_NE ? 0 : ins->op == GOP_I16X8_NE ? 1
             : ins->op == GOP_I32X4_NE ? 2 : ins->op == GOP_I64X2_NE ? 3 : ins->op == GOP_F64X2_NE;
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v3same(b, f ? 0 : 1, size, f ? 0x1c : 0x11, x, x, y);   /* fcmeq / cmeq */
        a64_v2misc(b, 1, 0, 0x05, x, x);                              /* mvn */
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_SHUFFLE: case GOP_I8X16_SWIZZLE: {
        /* tbl over {v0, v1} = a, b by the indices (a constant), or over
           a alone (swizzle): indices past the table give 0 */
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        if (ins->op == GOP_I8X16_SWIZZLE) {
            a64_tbl(b, 1, x, x, y);
        } else {
            a64_mov16(b, 0, x);
            a64_mov16(b, 1, y);
            release(c, GT_V128, y);
            y = v128_const(c, ins->imm.v128);
            a64_tbl(b, 2, x, 0, y);
        }
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_SHL: case GOP_I8X16_SHR_S: case GOP_I8X16_SHR_U:
    case GOP_I16X8_SHL: case GOP_I16X8_SHR_S: case GOP_I16X8_SHR_U:
    case GOP_I32X4_SHL: case GOP_I32X4_SHR_S: case GOP_I32X4_SHR_U:
    case GOP_I64X2_SHL: case GOP_I64X2_SHR_S: case GOP_I64X2_SHR_U: {
        /* sshl/ushl by the count mod the lane width in every lane, negated
           for a right shift */
        static const uint16_t shl[4] = { GOP_I8X16_SHL, GOP_I16X8_SHL, GOP_I32X4_SHL,
                                         GOP_I64X2_SHL };
        static const uint16_t sar[4] = { GOP_I8X16_SHR_S, GOP_I16X8_SHR_S, GOP_I32X4_SHR_S,
                                         GOP_I64X2_SHR_S };
        static const uint16_t shr[4] = { GOP_I8X16_SHR_U, GOP_I16X8_SHR_U, GOP_I32X4_SHR_U,
                                         GOP_I64X2_SHR_U };
        int kind = 0;
        for (int k = 0; k < 4; k++)
            if (ins->op == shl[k] || ins->op == sar[k] || ins->op == shr[k])
                size = k, kind = ins->op == shl[k] ? 0 : ins->op == sar[k] ? 1 : 2;
        gc_vstack *vs = VS(c);
        if (vs->vals[vs->nvals - 1].kind == K_CONST) {
            /* a constant count: shl / sshr / ushr #k (nothing for 0) */
            int k = (int)(pop(c).k & ((8 << size) - 1));
            x = pop_reg(c);
            if (k)
                a64_vshift_imm(b, kind, size, x, x, k);
            *ok = push_reg(c, GT_V128, x);
            return true;
        }
        int r = pop_reg(c);
        x = pop_reg(c);
        uint32_t imm;
        bool okimm = a64_logical_imm((uint64_t)(8 << size) - 1, 0, &imm);
        assert(okimm);
        (void)okimm;
        a64_logic_ri(b, LG_AND, 0, X16, r, imm);
        release(c, GT_I32, r);
        a64_dup_g(b, size, 0, X16);
        if (kind)
            a64_v2misc(b, 1, size, 0x0b, 0, 0);             /* neg */
        a64_v3same(b, kind == 2, size, 0x08, x, x, 0);       /* sshl / ushl */
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I16X8_EXTEND_LOW_I8X16_S: case GOP_I16X8_EXTEND_HIGH_I8X16_S:
    case GOP_I16X8_EXTEND_LOW_I8X16_U: case GOP_I16X8_EXTEND_HIGH_I8X16_U:
    case GOP_I32X4_EXTEND_LOW_I16X8_S: case GOP_I32X4_EXTEND_HIGH_I16X8_S:
    case GOP_I32X4_EXTEND_LOW_I16X8_U: case GOP_I32X4_EXTEND_HIGH_I16X8_U:
    case GOP_I64X2_EXTEND_LOW_I32X4_S: case GOP_I64X2_EXTEND_HIGH_I32X4_S:
    case GOP_I64X2_EXTEND_LOW_I32X4_U: case GOP_I64X2_EXTEND_HIGH_I32X4_U: {
        gc_widen wd = widen_of(ins->op);
        x = pop_reg(c);
        a64_vshll(b, wd.high, wd.u, wd.from, x, x);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I16X8_EXTMUL_LOW_I8X16_S: case GOP_I16X8_EXTMUL_HIGH_I8X16_S:
    case GOP_I16X8_EXTMUL_LOW_I8X16_U: case GOP_I16X8_EXTMUL_HIGH_I8X16_U:
    case GOP_I32X4_EXTMUL_LOW_I16X8_S: case GOP_I32X4_EXTMUL_HIGH_I16X8_S:
    case GOP_I32X4_EXTMUL_LOW_I16X8_U: case GOP_I32X4_EXTMUL_HIGH_I16X8_U:
    case GOP_I64X2_EXTMUL_LOW_I32X4_S: case GOP_I64X2_EXTMUL_HIGH_I32X4_S:
    case GOP_I64X2_EXTMUL_LOW_I32X4_U: case GOP_I64X2_EXTMUL_HIGH_I32X4_U: {
        gc_widen wd = widen_of(ins->op);
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v3diff(b, wd.high, wd.u, wd.from, 0x0c, x, x, y);  /* smull/umull{2} */
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I32X4_DOT_I16X8_S: {
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v3diff(b, 0, 0, 1, 0x0c, 0, x, y);              /* smull v0.4s, a.4h, b.4h */
        a64_v3diff(b, 1, 0, 1, 0x0c, 1, x, y);              /* smull2 v1.4s */
        a64_v3same(b, 0, 2, 0x17, x, 0, 1);                 /* addp x.4s, v0, v1 */
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_NARROW_I16X8_S: case GOP_I8X16_NARROW_I16X8_U:
    case GOP_I16X8_NARROW_I32X4_S: case GOP_I16X8_NARROW_I32X4_U: {
        /* sqxtn / sqxtun of a into the low half, of b into the high half */
        bool u = ins->op == GOP_I8X16_NARROW_I16X8_U || ins->op == GOP_I16X8_NARROW_I32X4_U;
        size = ins->op <= GOP_I8X16_NARROW_I16X8_U && ins->op >= GOP_I8X16_NARROW_I16X8_S ? 0 : 1;
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v2misc_q(b, 0, u, size, u ? 0x12 : 0x14, x, x);
        a64_v2misc_q(b, 1, u, size, u ? 0x12 : 0x14, x, y);
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I32X4_TRUNC_SAT_F64X2_S_ZERO: case GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO: {
        bool u = ins->op == GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO;
        x = pop_reg(c);
        a64_v2misc(b, u, 3, 0x1b, x, x);                    /* fcvtzs/fcvtzu .2d */
        a64_v2misc_q(b, 0, u, 2, 0x14, x, x);               /* sqxtn/uqxtn .2s (top zeroed) */
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_F64X2_CONVERT_LOW_I32X4_S: case GOP_F64X2_CONVERT_LOW_I32X4_U: {
        bool u = ins->op == GOP_F64X2_CONVERT_LOW_I32X4_U;
        x = pop_reg(c);
        a64_vshll(b, 0, u, 2, x, x);                         /* sxtl/uxtl .2d */
        a64_v2misc(b, u, 1, 0x1d, x, x);                    /* scvtf/ucvtf .2d */
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_F32X4_DEMOTE_F64X2_ZERO: case GOP_F64X2_PROMOTE_LOW_F32X4:
        x = pop_reg(c);
        a64_v2misc_q(b, 0, 0, 1, ins->op == GOP_F32X4_DEMOTE_F64X2_ZERO ? 0x16 : 0x17, x, x);
        canon_v(c, x, ins->op == GOP_F64X2_PROMOTE_LOW_F32X4);
        *ok = push_reg(c, GT_V128, x);                      /* fcvtn / fcvtl */
        return true;
    case GOP_F32X4_PMIN: case GOP_F64X2_PMIN: case GOP_F32X4_PMAX: case GOP_F64X2_PMAX: {
        /* pmin: a > b ? b : a; pmax: b > a ? b : a (operand bits) */
        bool d = ins->op == GOP_F64X2_PMIN || ins->op == GOP_F64X2_PMAX;
        bool mx = ins->op == GOP_F32X4_PMAX || ins->op == GOP_F64X2_PMAX;
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v3same(b, 1, 2 | d, 0x1c, 0, mx ? y : x, mx ? x : y);   /* fcmgt v0 */
        a64_v3same(b, 1, 1, 0x03, 0, y, x);                            /* bsl v0, b, a */
        a64_mov16(b, x, 0);
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_BITMASK: case GOP_I16X8_BITMASK: case GOP_I32X4_BITMASK:
    case GOP_I64X2_BITMASK: {
        /* each lane's sign spread (sshr), and'ed with its bit's value,
           summed across the vector (bytes: the two halves zipped into
           16-bit lanes first) */
        static const uint8_t bits8[16] = { 1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128 };
        static const uint8_t bits16[16] = { 1, 0, 2, 0, 4, 0, 8, 0, 16, 0, 32, 0, 64, 0, 128, 0 };
        static const uint8_t bits32[16] = { 1, 0, 0, 0, 2, 0, 0, 0, 4, 0, 0, 0, 8, 0, 0, 0 };
        static const uint8_t bits64[16] = { 1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0 };
        size = ins->op == GOP_I8X16_BITMASK ? 0 : ins->op == GOP_I16X8_BITMASK ? 1
             : ins->op == GOP_I32X4_BITMASK ? 2 : 3;
        static const uint8_t *const bits[4] = { bits8, bits16, bits32, bits64 };
        x = pop_reg(c);
        int m = v128_const(c, bits[size]);
        a64_vshift_imm(b, 1, size, x, x, (8 << size) - 1);
        a64_v3same(b, 0, 0, 0x03, x, x, m);                 /* and */
        release(c, GT_V128, m);
        if (size == 0) {
            a64_ext16(b, 0, x, x, 8);
            a64_zip1(b, 0, x, x, 0);                        /* byte i | byte i+8 << 8 */
            a64_addv(b, 1, 0, x);
        } else if (size == 3) {
            a64_v3same(b, 0, 3, 0x17, 0, x, x);             /* addp .2d */
        } else {
            a64_addv(b, size, 0, x);
        }
        release(c, GT_V128, x);
        int r = alloc_gpr(c);
        a64_fmov_rv(b, size == 3, r, 0);
        *ok = push_reg(c, GT_I32, r);
        return true;
    }
    case GOP_I64X2_MUL: {
        /* the cross products by a 32-bit mul of a with b's halves swapped,
           summed pairwise and shifted up, plus umlal of the low halves */
        gc_val vb = pop(c);
        y = in_reg(c, &vb, VS(c)->nvals);
        x = pop_reg(c);
        a64_v2misc(b, 0, 2, 0x00, 0, y);                    /* rev64 v0.4s, b */
        a64_v3same(b, 0, 2, 0x13, 0, 0, x);                 /* mul v0.4s, v0, a */
        a64_v2misc_q(b, 0, 0, 2, 0x12, 1, x);               /* xtn v1.2s, a.2d */
        a64_v3same(b, 0, 2, 0x17, 0, 0, 0);                 /* addp v0.4s */
        a64_v2misc_q(b, 0, 0, 2, 0x12, y, y);               /* xtn b.2s */
        a64_v2misc_q(b, 0, 1, 2, 0x13, x, 0);               /* shll x.2d, v0.2s, #32 */
        a64_v3diff(b, 0, 1, 2, 0x08, x, 1, y);              /* umlal x.2d, v1.2s, b.2s */
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_F32X4_SPLAT: case GOP_F64X2_SPLAT:
        x = pop_reg(c);
        a64_dup_elem(b, 0, ins->op == GOP_F64X2_SPLAT ? 3 : 2, x, x, 0);
        *ok = push_reg(c, GT_V128, x);
        return true;
    case GOP_F32X4_EXTRACT_LANE: case GOP_F64X2_EXTRACT_LANE: {
        bool d = ins->op == GOP_F64X2_EXTRACT_LANE;
        x = pop_reg(c);
        if (ins->imm.lane)
            a64_dup_elem(b, 1, d ? 3 : 2, x, x, ins->imm.lane);
        *ok = push_reg(c, d ? GT_F64 : GT_F32, x);
        return true;
    }
    case GOP_F32X4_REPLACE_LANE: case GOP_F64X2_REPLACE_LANE: {
        bool d = ins->op == GOP_F64X2_REPLACE_LANE;
        y = pop_reg(c);
        x = pop_reg(c);
        a64_ins_elem(b, d ? 3 : 2, x, ins->imm.lane, y, 0);
        release(c, d ? GT_F64 : GT_F32, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_SPLAT: case GOP_I16X8_SPLAT: case GOP_I32X4_SPLAT: case GOP_I64X2_SPLAT: {
        size = ins->op - GOP_I8X16_SPLAT;
        int r = pop_reg(c);
        x = alloc_fpr(c);
        a64_dup_g(b, size, x, r);
        release(c, size == 3 ? GT_I64 : GT_I32, r);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I8X16_EXTRACT_LANE_S: case GOP_I8X16_EXTRACT_LANE_U: size = 0; break;
    case GOP_I16X8_EXTRACT_LANE_S: case GOP_I16X8_EXTRACT_LANE_U: size = 1; break;
    case GOP_I32X4_EXTRACT_LANE: size = 2; break;
    case GOP_I64X2_EXTRACT_LANE: size = 3; break;
    case GOP_I8X16_REPLACE_LANE: case GOP_I16X8_REPLACE_LANE: case GOP_I32X4_REPLACE_LANE:
    case GOP_I64X2_REPLACE_LANE: {
        size = ins->op == GOP_I8X16_REPLACE_LANE ? 0 : ins->op == GOP_I16X8_REPLACE_LANE ? 1
             : ins->op == GOP_I32X4_REPLACE_LANE ? 2 : 3;
        int r = pop_reg(c);
        x = pop_reg(c);
        a64_ins_g(b, size, ins->imm.lane, x, r);
        release(c, size == 3 ? GT_I64 : GT_I32, r);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    default:
        return false;
    }
    /* extract_lane: umov, or smov into a W register (the top cleared) */
    bool sgn = ins->op == GOP_I8X16_EXTRACT_LANE_S || ins->op == GOP_I16X8_EXTRACT_LANE_S;
    x = pop_reg(c);
    int r = alloc_gpr(c);
    a64_mov_lane(b, sgn, size, ins->imm.lane, r, x);
    release(c, GT_V128, x);
    *ok = push_reg(c, size == 3 ? GT_I64 : GT_I32, r);
    return true;
}

static bool lower_simd(gc_ctx *c, const gv_insn *ins)
{
    bool ok;
    if (simd_native(c, ins, &ok))
        return ok;
    if (ins->op == GOP_V128_LOAD) {
        int ra = pop_reg(c);
        int v = alloc_fpr(c);
        if (!mem_access(c, ins, LS_QLD, 4, v, ra))
            return false;
        release(c, GT_I32, ra);
        return push_reg(c, GT_V128, v);
    }
    if (ins->op == GOP_V128_STORE) {
        gc_val val = pop(c);
        int rv = in_reg(c, &val, VS(c)->nvals);
        int ra = pop_reg(c);
        if (!mem_access(c, ins, LS_QST, 4, rv, ra))
            return false;
        release(c, GT_V128, rv);
        release(c, GT_I32, ra);
        return true;
    }
    return simd_generic(c, ins);
}

/* ---- frames and the contract --------------------------------------------- */

static bool isa_begin_module(gc_ctx *c)
{
    c->out->cpu_features = 0;
    return true;
}

/* stp x29, x30, [sp, #-16]!; mov x29, sp; movz/movk x16, FRAME (patched);
   sub sp, sp, x16; stur x28, [x29, #-8]; sub x26, x29, #SLOT_BIAS; then
   the stack-exhaustion check, before anything is written to the new frame */
static bool emit_prologue(gc_ctx *c)
{
    gc_buf *b = &c->buf;
    a64_ldstp(b, LS_ST, PAIR_PRE, X29, X30, SP, -16);
    a64_mov_sp(b, 1, X29, SP);
    VS(c)->frame_patch = b->n;
    a64_movz(b, 1, X16, 0, 0);
    a64_movk(b, 1, X16, 0, 16);
    a64_addsub_rrx(b, AS_SUB, 1, SP, SP, X16, EXT_UXTX, 0);
    a64_ldst_unscaled(b, LS_ST, 3, X28, X29, -8);
    a64_addsub_ri(b, AS_SUB, 1, X26, X29, SLOT_BIAS >> 12, 1);
    ld_vm(c, X16, VM_REAL_LIMIT);
    a64_addsub_rrx(b, AS_SUBS, 1, XZR, SP, X16, EXT_UXTX, 0);
    return trap_if(c, COND_LO, c->m->funcs[c->func].body_off, GATE_TRAP_STACK_EXHAUSTED);
}

/* Many: x16 = the lowest slot; an odd one alone, then stp xzr, xzr pairs. */
static void zero_locals(gc_ctx *c, uint32_t from, uint32_t to)
{
    gc_buf *b = &c->buf;
    uint32_t n = to - from;
    if (n > 16) {
        a64_mov_imm(b, 1, X16, 16 + 8 * (uint64_t)(to - 1));
        a64_addsub_rr(b, AS_SUB, 1, X16, X29, X16);
        if (n & 1) {
            a64_ldst(b, LS_ST, 3, XZR, X16, 0);
            a64_addsub_ri(b, AS_ADD, 1, X16, X16, 8, 0);
        }
        a64_mov_imm(b, 1, X17, n / 2);
        size_t loop = b->n;
        a64_ldstp(b, LS_ST, PAIR_POST, XZR, XZR, X16, 16);
        a64_addsub_ri(b, AS_SUBS, 1, X17, X17, 1, 0);
        a64_patch(b, a64_bcond(b, COND_NE), loop);
    } else {
        for (uint32_t i = from; i < to; i++)
            st(c, SK_X, XZR, i);
    }
}

static void patch_frame(gc_ctx *c, uint32_t bytes)
{
    gc_buf at = { .p = c->buf.p + VS(c)->frame_patch, .n = 0, .cap = 8 };
    a64_movz(&at, 1, X16, (uint16_t)bytes, 0);
    a64_movk(&at, 1, X16, (uint16_t)(bytes >> 16), 16);
}

static void emit_epilogue(gc_ctx *c)
{
    a64_mov_sp(&c->buf, 1, SP, X29);
    a64_ldstp(&c->buf, LS_LD, PAIR_POST, X29, X30, SP, 16);
    a64_ret(&c->buf);
}

static bool patch_call(gc_ctx *c, size_t at, size_t target)
{
    if (a64_patch(&c->buf, at, target))
        return true;
    return gx_fail(c->err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                   "code too large for direct calls (128 MiB)");
}

/* br_table's index stays where it is (the stubs move values with x16) */
static int table_index(gc_ctx *c, int ri)
{
    (void)c;
    return ri;
}

/*     cmp wi, #n; b.hs default
 *     adr x16, table; ldrsw x17, [x16, wi, uxtw #2]; add x16, x16, x17; br x16 */
static size_t emit_table_jump(gc_ctx *c, int ri, uint32_t n, size_t *to_default)
{
    gc_buf *b = &c->buf;
    uint32_t imm;
    int lsl12;
    if (a64_addsub_imm(n, &imm, &lsl12)) {
        a64_cmp_ri(b, 0, ri, imm, lsl12);
    } else {
        a64_mov_imm(b, 0, X16, n);
        a64_cmp_rr(b, 0, ri, X16);
    }
    *to_default = jump_when(c, (gc_cond){ COND_HS, -1 }, true);
    size_t adr = a64_adr(b, X16);
    a64_ldst_rr(b, LS_LDS64, 2, X17, X16, ri, EXT_UXTW, 1);
    a64_addsub_rr(b, AS_ADD, 1, X16, X16, X17);
    a64_br(b, X16);
    a64_patch(b, adr, b->n);
    return b->n;
}

GC_BACKEND(gc_backend_arm64, "arm64", GATE_TARGET_ARM64);
