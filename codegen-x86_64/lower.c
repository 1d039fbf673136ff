/*
 * lower.c - the x86-64 half of the lowering: the hooks and per-class
 * lowerings that compiler/vstack.h, control.h and lower.h call.
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

/* The value stack (compiler/vstack.h), then what only x86-64 needs: the
   optional instructions the code may use. */
typedef struct xstate {
    gc_vstack vs;
    bool lzcnt, popcnt, bmi1;
    bool avx, sse42;            /* VEX forms of SIMD; pcmpgtq */
} xstate;

#define ST(c) ((xstate *)(c)->be)
#define GC_STATE xstate
#define OUT_REG RSP
#define NRESULT_REGS 4u
#define PER_VALUE 32u
#define ISA_NAME "x86-64"
#include "../compiler/lower.h"

/* ---- slots ---------------------------------------------------------------- */

/* slot k, a value's stack slot, outgoing word i, the caller's word i */
static xmem slot(uint32_t k)
{
    return xm(RBP, -16 - 8 * (int32_t)k);
}

static xmem stack_slot(gc_vstack *s, uint32_t i)
{
    return slot(val_slot(s, i));
}

static xmem out_slot(uint32_t i)
{
    return xm(RSP, 8 * (int32_t)i);
}

static xmem in_slot(uint32_t i)
{
    return xm(RBP, 16 + 8 * (int32_t)i);
}

/* ---- values and the register cache --------------------------------------- */

/* Materialises a 64-bit constant into a GPR. */
static void load_const(gc_ctx *c, int r, uint8_t type, int64_t k)
{
    x_mov_ri(&c->buf, type != GT_I32, r, type == GT_I32 ? (int64_t)(uint32_t)k : k);
}

/* ---- v128 in slots and areas --------------------------------------------- */

/* A v128 in frame slots k, k+1 is 16 plain bytes at slot(k + 1) (slots
   go down: slot k holds the high half, k + 1 the low); in an area
   (ascending words) it is 16 plain bytes too, the low half first, which
   is also the portable order of a snapshot's slots. */
static void v128_load_slot(gc_ctx *c, int x, uint32_t k)
{
    x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_LD, x, slot(k + 1));
}

static void v128_store_slot(gc_ctx *c, int x, uint32_t k)
{
    x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_ST, x, slot(k + 1));
}

/* The two words of a v128 in slots k, k+1 to m and the word after it
   (step 8: an area, low half first) or before it (step -8: slots, in
   the same order). */
static void v128_copy_words(gc_ctx *c, uint32_t k, xmem m, int step)
{
    x_load(&c->buf, LD_64, 1, RAX, slot(step > 0 ? k + 1 : k));
    x_store(&c->buf, 8, RAX, m);
    x_load(&c->buf, LD_64, 1, RAX, slot(step > 0 ? k : k + 1));
    m.disp += step;
    x_store(&c->buf, 8, RAX, m);
}

/* Stack entry i, a v128, to m: its first slot's word (step -8) or the
   start of 16 bytes in an area (step 8). */
static void store_v128(gc_ctx *c, uint32_t i, xmem m, int step)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[i];
    if (v->kind == K_REG) {
        if (step < 0)
            m.disp -= 8;            /* the pair's lower address */
        x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_ST, v->reg, m);
        return;
    }
    assert(v->kind == K_SLOT || v->kind == K_LOCAL);
    v128_copy_words(c, v->kind == K_SLOT ? val_slot(s, i) : local_slot(s, (uint32_t)v->k), m,
                    step);
}

/* Writes stack entry i, wherever it is, to the 8 bytes at m (rax is the
   scratch register; a v128 takes m and the word at m + step);
   ownership is the caller's business. */
static void store_val_step(gc_ctx *c, uint32_t i, xmem m, int step)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[i];
    /* a v128 is never a constant or the flags: the other kinds ask */
    switch (v->kind) {
    case K_FLAGS:
        x_setcc(&c->buf, (int)v->k, RAX);
        x_movzx8(&c->buf, RAX, RAX);
        x_store(&c->buf, 8, RAX, m);
        break;
    case K_REG:
        if (reg_class(v->type) == RC_GPR)
            x_store(&c->buf, 8, v->reg, m);
        else if (__builtin_expect(v->type == GT_V128, 0))
            store_v128(c, i, m, step);
        else
            x_movs_store(&c->buf, v->type == GT_F64, v->reg, m);
        break;
    case K_LOCAL:
        if (__builtin_expect(v->type == GT_V128, 0)) {
            store_v128(c, i, m, step);
            break;
        }
        x_load(&c->buf, LD_64, 1, RAX, slot(local_slot(s, (uint32_t)v->k)));
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
        if (__builtin_expect(v->type == GT_V128, 0)) {
            store_v128(c, i, m, step);
            break;
        }
        x_load(&c->buf, LD_64, 1, RAX, stack_slot(s, i));
        x_store(&c->buf, 8, RAX, m);
        break;
    }
}

/* The hook of compiler/vstack.h: value i into its own slot. */
static void store_slot(gc_ctx *c, uint32_t i)
{
    store_val_step(c, i, stack_slot(VS(c), i), -8);
}

/* Makes v live in a register of its own (TEMP); loads or materialises. */
static int in_reg(gc_ctx *c, gc_val *v, uint32_t index)
{
    if (v->kind == K_REG)
        return v->reg;
    int r;
    if (reg_class(v->type) == RC_GPR) {
        r = alloc_gpr(c);
        if (v->kind == K_SLOT)
            x_load(&c->buf, v->type == GT_I32 ? LD_U32 : LD_64, 1, r, stack_slot(VS(c), index));
        else if (v->kind == K_LOCAL)
            x_load(&c->buf, v->type == GT_I32 ? LD_U32 : LD_64, 1, r,
                   slot(local_slot(VS(c), (uint32_t)v->k)));
        else
            load_const(c, r, v->type, v->k);
    } else if (__builtin_expect(v->type == GT_V128, 0)) {
        /* never a constant: v128.const makes a register */
        r = alloc_fpr(c);
        v128_load_slot(c, r, v->kind == K_SLOT ? val_slot(VS(c), index)
                                               : local_slot(VS(c), (uint32_t)v->k));
    } else {
        r = alloc_fpr(c);
        if (v->kind == K_SLOT) {
            x_movs_load(&c->buf, v->type == GT_F64, r, stack_slot(VS(c), index));
        } else if (v->kind == K_LOCAL) {
            x_movs_load(&c->buf, v->type == GT_F64, r, slot(local_slot(VS(c), (uint32_t)v->k)));
        } else {
            x_mov_ri(&c->buf, v->type == GT_F64, RAX,
                     v->type == GT_F64 ? v->k : (int64_t)(uint32_t)v->k);
            x_movd_xr(&c->buf, v->type == GT_F64, r, RAX);
        }
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

/* ---- branches ------------------------------------------------------------ */

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

/* Calls runtime helper h (SysV ABI) with vmctx in rdi, through the table
   in the vmctx (the code stays position-independent); the arguments are
   in rsi, rdx, rcx, r8, r9. */
static void emit_helper_call(gc_ctx *c, int h)
{
    x_store(&c->buf, 8, RBP, xm(R15, VM_FP));
    x_mov_rr(&c->buf, 1, RDI, R15);
    x_load(&c->buf, LD_64, 1, RAX, xm(R15, VM_HELPERS));
    x_call_m(&c->buf, xm(RAX, 8 * h));
}

/* ud2 at a trap site: the signal handler turns it into the trap */
static bool emit_trap(gc_ctx *c, uint64_t wasm, uint32_t code)
{
    if (!trap_here(c, wasm, code))
        return false;
    x_ud2(&c->buf);
    return true;
}

/* r = [vmctx + off]; r = [base + 8i]; r = the 32 bits at [base + off] */
static void ld_vm(gc_ctx *c, int r, uint32_t off)
{
    x_load(&c->buf, LD_64, 1, r, xm(R15, (int32_t)off));
}

static void ld_index(gc_ctx *c, int r, int base, uint32_t i)
{
    x_load(&c->buf, LD_64, 1, r, xm(base, 8 * (int32_t)i));
}

static void ld_u32(gc_ctx *c, int r, int base, uint32_t off)
{
    x_load(&c->buf, LD_U32, 0, r, xm(base, (int32_t)off));
}

static const int8_t argreg[] = { RDI, RSI, RDX, RCX, R8, R9 };

static void arg_imm(gc_ctx *c, int n, int w, int64_t k)
{
    x_mov_ri(&c->buf, w, argreg[n], k);
}

static void arg_slot(gc_ctx *c, int n, uint32_t k)
{
    x_load(&c->buf, LD_64, 1, argreg[n], slot(k));
}

static void arg_fbits(gc_ctx *c, int n, int d, int x)
{
    x_movd_rx(&c->buf, d, argreg[n], x);
}

static void arg_out_addr(gc_ctx *c, int n, uint32_t w)
{
    x_lea(&c->buf, 1, argreg[n], out_slot(w));
}

static int take_result(gc_ctx *c, uint8_t t)
{
    int r = alloc_gpr(c);
    x_mov_rr(&c->buf, t != GT_I32, r, RAX);
    return r;
}

/*     [sub qword [r15 + fuel], 1; js stub]  cmp rsp, [r15 + stack_limit]; jb stub */
static void emit_stop_test(gc_ctx *c, gc_stub *st)
{
    if (c->fuel) {
        x_alu_mi(&c->buf, ALU_SUB, 1, xm(R15, VM_FUEL), 1);
        st->at[st->nat++] = x_jcc32(&c->buf, CC_S);
    }
    x_alu_rm(&c->buf, ALU_CMP, 1, RSP, xm(R15, VM_STACK_LIMIT));
    st->at[st->nat++] = x_jcc32(&c->buf, CC_B);
}

/* ---- moves ----------------------------------------------------------------- */

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

/* Result w of the function, from stack value i. */
static void store_result(gc_ctx *c, uint32_t i, uint32_t w)
{
    store_val_step(c, i, in_slot(w), 8);
}

static void store_val_out(gc_ctx *c, uint32_t i, uint32_t w)
{
    store_val_step(c, i, out_slot(w), 8);
}

static void load_out(gc_ctx *c, int r, uint8_t t, uint32_t w)
{
    if (t == GT_V128)
        x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_LD, r, out_slot(w));
    else if (is_fp(t))
        x_movs_load(&c->buf, t == GT_F64, r, out_slot(w));
    else
        x_load(&c->buf, t == GT_I32 ? LD_U32 : LD_64, 1, r, out_slot(w));
}

/* ---- calls --------------------------------------------------------------- */

static size_t emit_call_direct(gc_ctx *c)
{
    return x_call32(&c->buf);
}

static void emit_call_import(gc_ctx *c, uint32_t f)
{
    x_load(&c->buf, LD_64, 1, RCX, xm(R15, VM_FUNCS));
    x_load(&c->buf, LD_64, 1, RCX, xm(RCX, 8 * (int32_t)f));
    x_load(&c->buf, LD_64, 1, R15, xm(RCX, FR_VM));
    x_load(&c->buf, LD_64, 1, R14, xm(R15, VM_MEM_BASE));   /* the callee's memory */
    x_call_m(&c->buf, xm(RCX, FR_CODE));
}

/* rcx = table; bounds; rcx = funcref; null; signature; the call */
static bool emit_call_indirect(gc_ctx *c, const gv_insn *ins, int ri)
{
    x_mov_rr(&c->buf, 0, RDX, ri);
    release(c, GT_I32, ri);
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
    return true;
}

/* ---- memory -------------------------------------------------------------- */

/*
 * The operand for wasm address ra + offset, size bytes.  Explicit bounds
 * mode first traps unless addr + offset + size <= memory bytes:
 *     mov rax, offset+size; add rax, ra; mov rcx, [r15+mem]; cmp rax, [rcx+bytes]; ja trap
 */
static bool mem_access(gc_ctx *c, const gv_insn *ins, int size, int ra, xmem *m)
{
    uint32_t offset = ins->imm.mem.offset;
    if (c->explicit_bounds) {
        x_mov_ri(&c->buf, 1, RAX, (int64_t)offset + size);
        x_alu_rr(&c->buf, ALU_ADD, 1, RAX, ra);
        x_load(&c->buf, LD_64, 1, RCX, xm(R15, VM_MEM));
        x_alu_rm(&c->buf, ALU_CMP, 1, RAX, xm(RCX, MO_BYTES));
        if (!trap_if(c, CC_A, ins->offset, GATE_TRAP_MEMORY_OUT_OF_BOUNDS))
            return false;
    }
    if (offset <= INT32_MAX) {
        *m = xmi(R14, ra, 1, (int32_t)offset);
    } else {
        x_mov_ri(&c->buf, 0, RAX, offset);
        x_alu_rr(&c->buf, ALU_ADD, 1, RAX, ra);
        *m = xmi(R14, RAX, 1, 0);
    }
    return true;
}

/* The access itself can fault only in guard mode. */
static bool access_trap(gc_ctx *c, uint64_t wasm_off)
{
    return c->explicit_bounds || trap_here(c, wasm_off, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
}

static bool lower_load(gc_ctx *c, const gv_insn *ins)
{
    const gop_info *oi = &gop_table[ins->op];
    static const uint8_t zx[4] = { LD_U8, LD_U16, LD_U32, LD_64 };
    static const uint8_t sx[4] = { LD_S8, LD_S16, LD_S32, LD_64 };
    int ra = pop_reg(c);
    xmem m;
    if (!mem_access(c, ins, 1 << oi->x, ra, &m))
        return false;
    if (oi->lkind == GK_FLOAT) {
        int x = alloc_fpr(c);
        if (!access_trap(c, ins->offset))
            return false;
        x_movs_load(&c->buf, oi->lw, x, m);
        release(c, GT_I32, ra);
        return push_reg(c, oi->lw ? GT_F64 : GT_F32, x);
    }
    if (!access_trap(c, ins->offset))
        return false;
    /* sign-extending loads into an i32 extend to 32 bits only */
    x_load(&c->buf, (oi->lkind == GK_SINT ? sx : zx)[oi->x], oi->lw, ra, m);
    return push_reg(c, oi->lw ? GT_I64 : GT_I32, ra);
}

static bool lower_store(gc_ctx *c, const gv_insn *ins)
{
    int bytes = 1 << gop_table[ins->op].x;
    gc_val v = pop(c);
    int rv = in_reg(c, &v, VS(c)->nvals);
    int ra = pop_reg(c);
    xmem m;
    if (!mem_access(c, ins, bytes, ra, &m) || !access_trap(c, ins->offset))
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

/* add sub and or xor (GK_*) */
static const uint8_t alu_op[] = { ALU_ADD, ALU_SUB, ALU_AND, ALU_OR, ALU_XOR };

static bool lower_alu(gc_ctx *c, int kind, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    int op = alu_op[kind];
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (fits_imm(&b)) {
        x_alu_ri(&c->buf, op, w, ra, (int32_t)b.k);
    } else if (b.kind == K_LOCAL) {
        x_alu_rm(&c->buf, op, w, ra, slot(local_slot(VS(c), (uint32_t)b.k)));
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

/* eq ne lt_s lt_u gt_s gt_u le_s le_u ge_s ge_u */
static const uint8_t icond[] = { CC_E, CC_NE, CC_L, CC_B, CC_G, CC_A, CC_LE, CC_BE,
                                 CC_GE, CC_AE };

static bool lower_cmp(gc_ctx *c, int kind, int w)
{
    int cc = icond[kind];
    gc_val b = pop(c);
    int ra = pop_reg(c);
    if (fits_imm(&b)) {
        x_alu_ri(&c->buf, ALU_CMP, w, ra, (int32_t)b.k);
    } else if (b.kind == K_LOCAL) {
        x_alu_rm(&c->buf, ALU_CMP, w, ra, slot(local_slot(VS(c), (uint32_t)b.k)));
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

/* shl shr_s shr_u rotl rotr */
static const uint8_t shift_op[] = { SH_SHL, SH_SAR, SH_SHR, SH_ROL, SH_ROR };

static bool lower_shift(gc_ctx *c, int kind, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    int op = shift_op[kind];
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
static bool lower_divrem(gc_ctx *c, const gv_insn *ins, int kind, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    bool is_signed = kind == GK_DIV_S || kind == GK_REM_S;
    bool rem = kind == GK_REM_S || kind == GK_REM_U;
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

static bool lower_bitcount(gc_ctx *c, int kind, int w)
{
    uint8_t t = w ? GT_I64 : GT_I32;
    int ra = pop_reg(c);
    int bits = w ? 64 : 32;
    bool clz = kind == GK_CLZ, ctz = kind == GK_CTZ;
    if (clz && ST(c)->lzcnt) {
        x_bitcount(&c->buf, BC_LZCNT, w, ra, ra);
    } else if (ctz && ST(c)->bmi1) {
        x_bitcount(&c->buf, BC_TZCNT, w, ra, ra);
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
    } else if (ST(c)->popcnt) {
        x_bitcount(&c->buf, BC_POPCNT, w, ra, ra);
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

static bool lower_minmax(gc_ctx *c, int is_max, int d);
static bool lower_fbits(gc_ctx *c, bool neg, bool copysign, int d);

/* add sub mul div min max copysign */
static bool lower_fbin(gc_ctx *c, int kind, int d)
{
    static const uint8_t sse_op[] = { SSE_ADD, SSE_SUB, SSE_MUL, SSE_DIV };
    if (kind == GK_FMIN || kind == GK_FMAX)
        return lower_minmax(c, kind == GK_FMAX, d);
    if (kind == GK_COPYSIGN)
        return lower_fbits(c, false, true, d);
    int op = sse_op[kind];
    uint8_t t = d ? GT_F64 : GT_F32;
    gc_val b = pop(c);
    int xa = pop_reg(c);
    if (b.kind == K_LOCAL) {
        x_sse_rm(&c->buf, op, d, xa, slot(local_slot(VS(c), (uint32_t)b.k)));
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
static bool lower_fbits(gc_ctx *c, bool neg, bool copysign, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    int xb = -1;
    if (copysign)
        xb = pop_reg(c);
    int xa = pop_reg(c);
    x_movd_rx(&c->buf, d, RAX, xa);
    int top = d ? 63 : 31;
    if (neg) {
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

/* abs neg ceil floor trunc nearest sqrt */
static bool lower_funop(gc_ctx *c, int kind, int d)
{
    /* roundss/sd modes, with 8: do not report inexact */
    static const uint8_t mode[] = { [GK_CEIL] = 2, [GK_FLOOR] = 1, [GK_FTRUNC] = 3,
                                    [GK_NEAREST] = 0 };
    if (kind == GK_ABS || kind == GK_NEG)
        return lower_fbits(c, kind == GK_NEG, false, d);
    int x = pop_reg(c);
    if (kind == GK_SQRT)
        x_sse_rr(&c->buf, SSE_SQRT, d, x, x);
    else
        x_rounds(&c->buf, d, x, x, (uint8_t)(mode[kind] | 8));
    canon_nan(c, d, x);
    return push_reg(c, d ? GT_F64 : GT_F32, x);
}

static bool lower_fcmp(gc_ctx *c, int kind, int d)
{
    uint8_t t = d ? GT_F64 : GT_F32;
    int xb = pop_reg(c);
    int xa = pop_reg(c);
    int r = alloc_gpr(c);
    switch (kind) {
    case GK_FEQ: /* ZF and not PF */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_E, RAX);
        x_setcc(&c->buf, CC_NP, RCX);
        x_alu_rr(&c->buf, ALU_AND, 0, RAX, RCX);
        break;
    case GK_FNE: /* not ZF or PF */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_NE, RAX);
        x_setcc(&c->buf, CC_P, RCX);
        x_alu_rr(&c->buf, ALU_OR, 0, RAX, RCX);
        break;
    case GK_FLT: /* b > a */
        x_ucomis(&c->buf, d, xb, xa);
        x_setcc(&c->buf, CC_A, RAX);
        break;
    case GK_FGT:
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_A, RAX);
        break;
    case GK_FLE: /* b >= a */
        x_ucomis(&c->buf, d, xb, xa);
        x_setcc(&c->buf, CC_AE, RAX);
        break;
    default: /* GK_FGE */
        x_ucomis(&c->buf, d, xa, xb);
        x_setcc(&c->buf, CC_AE, RAX);
        break;
    }
    x_movzx8(&c->buf, r, RAX);
    release(c, t, xa);
    release(c, t, xb);
    return push_reg(c, GT_I32, r);
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

/* Conversions (GK_*; w: bit 0 a 64-bit result, bit 1 a 64-bit operand). */
static bool lower_convert(gc_ctx *c, const gv_insn *ins, int kind, int w)
{
    int d = w & 1, src64 = w >> 1;
    int r, x;
    switch (kind) {
    case GK_WRAP:
        r = pop_reg(c);
        x_mov_rr(&c->buf, 0, r, r);
        return push_reg(c, GT_I32, r);
    case GK_EXTEND_S:
        r = pop_reg(c);
        x_movsx(&c->buf, 4, 1, r, r);
        return push_reg(c, GT_I64, r);
    case GK_EXTEND_U:
        return push_reg(c, GT_I64, pop_reg(c));     /* already zero-extended */
    case GK_SEXT8: case GK_SEXT16: case GK_SEXT32:
        r = pop_reg(c);
        x_movsx(&c->buf, kind == GK_SEXT8 ? 1 : kind == GK_SEXT16 ? 2 : 4, d, r, r);
        return push_reg(c, d ? GT_I64 : GT_I32, r);
    case GK_TRUNC_S: case GK_TRUNC_U: case GK_TRUNC_SAT_S: case GK_TRUNC_SAT_U:
        return trunc_helper(c, ins, src64 ? GT_F64 : GT_F32, d ? GT_I64 : GT_I32);
    case GK_CONVERT_S: case GK_CONVERT_U:
        r = pop_reg(c);
        x = alloc_fpr(c);
        x_sse_pd_rr(&c->buf, SSE_XOR, 0, x, x);   /* break the dependency */
        if (src64 && kind == GK_CONVERT_U)
            cvt_u64(c, d, x, r);
        else    /* a u32 is zero-extended in its register: convert it as i64 */
            x_cvtsi2s(&c->buf, d, src64 || kind == GK_CONVERT_U, x, r);
        release(c, src64 ? GT_I64 : GT_I32, r);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    case GK_DEMOTE: case GK_PROMOTE:
        x = pop_reg(c);
        x_cvts2s(&c->buf, d, x, x);
        canon_nan(c, d, x);
        VS(c)->fowner[x] = TEMP;
        return push_reg(c, d ? GT_F64 : GT_F32, x);
    case GK_REINTERPRET_I:
        x = pop_reg(c);
        r = alloc_gpr(c);
        x_movd_rx(&c->buf, d, r, x);
        release(c, GT_F64, x);
        return push_reg(c, d ? GT_I64 : GT_I32, r);
    default: /* GK_REINTERPRET_F */
        r = pop_reg(c);
        x = alloc_fpr(c);
        x_movd_xr(&c->buf, d, x, r);
        release(c, GT_I64, r);
        return push_reg(c, d ? GT_F64 : GT_F32, x);
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
    if (g->type == GT_V128) {
        if (ins->op == GOP_GLOBAL_GET) {
            int x = alloc_fpr(c);
            x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_LD, x, xm(RAX, 0));
            return push_reg(c, GT_V128, x);
        }
        gc_val v = pop(c);
        int r = in_reg(c, &v, VS(c)->nvals);     /* never a constant: rax kept */
        x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_ST, r, xm(RAX, 0));
        release(c, GT_V128, r);
        return true;
    }
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
    if (reg_class(b.type) == RC_FPR) {
        size_t keep = x_jcc32(&c->buf, cc);
        x_movaps(&c->buf, ra, rb);
        x_patch32(&c->buf, keep, c->buf.n);
    } else {
        x_cmov(&c->buf, cc ^ 1, 1, ra, rb);
    }
    release(c, b.type, rb);
    return push_reg(c, b.type, ra);
}

static bool lower_ref_is_null(gc_ctx *c)
{
    int r = pop_reg(c);
    x_test_rr(&c->buf, 1, r, r);
    x_setcc(&c->buf, CC_E, RAX);
    x_movzx8(&c->buf, r, RAX);
    VS(c)->owner[r] = TEMP;
    return push_reg(c, GT_I32, r);
}

/* ---- SIMD ---------------------------------------------------------------- */

/* The 0xfd instructions (v128 values in xmm registers, two slots each). */
static int v128_const(gc_ctx *c, const uint8_t *bytes)
{
    int x = alloc_fpr(c);
    uint64_t lo, hi;
    memcpy(&lo, bytes, 8);
    memcpy(&hi, bytes + 8, 8);
    if (!lo && !hi) {
        x_vec_rr(&c->buf, 0x66, 0, V_PXOR, x, x);
        return x;
    }
    x_mov_ri(&c->buf, 1, RAX, (int64_t)lo);
    x_movd_xr(&c->buf, 1, x, RAX);
    if (hi) {
        if (hi != lo)
            x_mov_ri(&c->buf, 1, RAX, (int64_t)hi);
        x_vec_rr(&c->buf, 0x66, 1, V_PINSRQ, x, RAX);
        gc_u8(&c->buf, 1);
    }
    return x;
}

/*
 * The 0xfd instructions that are one SSE2..SSE4.1 instruction, dst = dst
 * op src (66-prefixed unless the table says 0x100 | prefix), with wasm's
 * exact semantics whatever the operands (no NaN rules are involved, or
 * the instruction's are wasm's).  Float arithmetic is here only outside
 * deterministic mode: x86's default NaN is not the canonical one.
 */
typedef struct vbin {
    uint32_t code;          /* 0: not one of these */
    bool fp;            /* produces NaNs: not in deterministic mode */
    bool swap;          /* dst is wasm's second operand */
} vbin;

static const vbin vbins[GOP_COUNT] = {
    [GOP_I8X16_ADD] = { 0x0ffc }, [GOP_I16X8_ADD] = { 0x0ffd }, [GOP_I32X4_ADD] = { 0x0ffe },
    [GOP_I64X2_ADD] = { 0x0fd4 }, [GOP_I8X16_SUB] = { 0x0ff8 }, [GOP_I16X8_SUB] = { 0x0ff9 },
    [GOP_I32X4_SUB] = { 0x0ffa }, [GOP_I64X2_SUB] = { 0x0ffb }, [GOP_I16X8_MUL] = { 0x0fd5 },
    [GOP_I32X4_MUL] = { 0x0f3840 },
    [GOP_I8X16_ADD_SAT_S] = { 0x0fec }, [GOP_I16X8_ADD_SAT_S] = { 0x0fed },
    [GOP_I8X16_ADD_SAT_U] = { 0x0fdc }, [GOP_I16X8_ADD_SAT_U] = { 0x0fdd },
    [GOP_I8X16_SUB_SAT_S] = { 0x0fe8 }, [GOP_I16X8_SUB_SAT_S] = { 0x0fe9 },
    [GOP_I8X16_SUB_SAT_U] = { 0x0fd8 }, [GOP_I16X8_SUB_SAT_U] = { 0x0fd9 },
    [GOP_I8X16_MIN_S] = { 0x0f3838 }, [GOP_I16X8_MIN_S] = { 0x0fea }, [GOP_I32X4_MIN_S] = { 0x0f3839 },
    [GOP_I8X16_MIN_U] = { 0x0fda }, [GOP_I16X8_MIN_U] = { 0x0f383a }, [GOP_I32X4_MIN_U] = { 0x0f383b },
    [GOP_I8X16_MAX_S] = { 0x0f383c }, [GOP_I16X8_MAX_S] = { 0x0fee }, [GOP_I32X4_MAX_S] = { 0x0f383d },
    [GOP_I8X16_MAX_U] = { 0x0fde }, [GOP_I16X8_MAX_U] = { 0x0f383e }, [GOP_I32X4_MAX_U] = { 0x0f383f },
    [GOP_I8X16_AVGR_U] = { 0x0fe0 }, [GOP_I16X8_AVGR_U] = { 0x0fe3 },
    [GOP_I8X16_EQ] = { 0x0f74 }, [GOP_I16X8_EQ] = { 0x0f75 }, [GOP_I32X4_EQ] = { 0x0f76 },
    [GOP_I64X2_EQ] = { 0x0f3829 },
    [GOP_I8X16_GT_S] = { 0x0f64 }, [GOP_I16X8_GT_S] = { 0x0f65 }, [GOP_I32X4_GT_S] = { 0x0f66 },
    [GOP_I8X16_LT_S] = { 0x0f64, false, true }, [GOP_I16X8_LT_S] = { 0x0f65, false, true },
    [GOP_I32X4_LT_S] = { 0x0f66, false, true },
    [GOP_V128_AND] = { 0x0fdb }, [GOP_V128_OR] = { 0x0feb }, [GOP_V128_XOR] = { 0x0fef },
    [GOP_V128_ANDNOT] = { 0x0fdf, false, true },       /* pandn: ~dst & src */
    [GOP_I32X4_DOT_I16X8_S] = { 0x0ff5 },
    [GOP_I8X16_NARROW_I16X8_S] = { 0x0f63 }, [GOP_I8X16_NARROW_I16X8_U] = { 0x0f67 },
    [GOP_I16X8_NARROW_I32X4_S] = { 0x0f6b }, [GOP_I16X8_NARROW_I32X4_U] = { 0x0f382b },
    [GOP_F32X4_ADD] = { 0x0f58 | 1u << 31, true }, [GOP_F64X2_ADD] = { 0x0f58, true },
    [GOP_F32X4_SUB] = { 0x0f5c | 1u << 31, true }, [GOP_F64X2_SUB] = { 0x0f5c, true },
    [GOP_F32X4_MUL] = { 0x0f59 | 1u << 31, true }, [GOP_F64X2_MUL] = { 0x0f59, true },
    [GOP_F32X4_DIV] = { 0x0f5e | 1u << 31, true }, [GOP_F64X2_DIV] = { 0x0f5e, true },
    /* pmin(a, b) = b < a ? b : a = minps(b, a); pmax likewise: operand bits */
    [GOP_F32X4_PMIN] = { 0x0f5d | 1u << 31, false, true }, [GOP_F64X2_PMIN] = { 0x0f5d, false, true },
    [GOP_F32X4_PMAX] = { 0x0f5f | 1u << 31, false, true }, [GOP_F64X2_PMAX] = { 0x0f5f, false, true },
};

static const vbin *find_vbin(uint16_t op)
{
    return vbins[op].code ? &vbins[op] : NULL;
}

/* Two v128 operands popped into registers of their own: *a (the result's,
   wasm's first or, swapped, its second) and *b. */
static void pop_vv(gc_ctx *c, bool swap, int *a, int *b)
{
    gc_val vb = pop(c);
    int rb = in_reg(c, &vb, VS(c)->nvals);
    int ra = pop_reg(c);
    *a = swap ? rb : ra;
    *b = swap ? ra : rb;
}

static void vop(gc_ctx *c, uint32_t code, int dst, int src)
{
    x_vec_rr(&c->buf, code >> 31 ? 0 : 0x66, 0, code & 0x7fffffff, dst, src);
}

/* d = s1 op s2 for an instruction whose VEX form takes two sources: one
   VEX instruction with AVX; else a copy of s1 (when d is another
   register, which must not be s2) and the two-operand form.  An imm8
   follows when imm >= 0. */
static void vop3i(gc_ctx *c, uint32_t code, int d, int s1, int s2, int imm)
{
    uint8_t pfx = code >> 31 ? 0 : 0x66;
    code &= 0x7fffffff;
    if (ST(c)->avx) {
        x_vex_rr(&c->buf, pfx, 0, code, d, s1, s2);
    } else {
        if (d != s1) {
            assert(d != s2);
            x_movaps(&c->buf, d, s1);
        }
        x_vec_rr(&c->buf, pfx, 0, code, d, s2);
    }
    if (imm >= 0)
        gc_u8(&c->buf, (uint8_t)imm);
}

static void vop3(gc_ctx *c, uint32_t code, int d, int s1, int s2)
{
    vop3i(c, code, d, s1, s2, -1);
}

#define PS(op) ((op) | 1u << 31)      /* no prefix (ps forms) */

/* Deterministic mode: every NaN lane of x becomes the canonical NaN
   (cmpunord into xmm0, then blendvps/pd from a constant). */
static void canon_v(gc_ctx *c, int x, bool d)
{
    if (!c->deterministic)
        return;
    x_movaps(&c->buf, 0, x);
    vop(c, d ? 0x0fc2 : PS(0x0fc2), 0, 0);
    gc_u8(&c->buf, 3);
    int k = v128_const(c, d ? canon_f64x2 : canon_f32x4);
    vop(c, d ? 0x0f3815 : 0x0f3814, x, k);
    release(c, GT_V128, k);
}

static bool is_f64x2(uint16_t op)
{
    return !strncmp(gop_table[op].name, "f64x2", 5);
}

/* op x, imm8 with ModRM.reg = digit: psrld x, 1 (66 0F 72 /2 ib) ... */
static void vshift_imm(gc_ctx *c, uint32_t code, int digit, int x, uint8_t imm)
{
    x_vec_rr(&c->buf, 0x66, 0, code, digit, x);
    gc_u8(&c->buf, imm);
}

/* The address of a v128 memory access popped and checked: *m, *ra (the
   caller releases it after the access, which comes right away). */
static bool vmem(gc_ctx *c, const gv_insn *ins, int bytes, xmem *m, int *ra)
{
    *ra = pop_reg(c);
    return mem_access(c, ins, bytes, *ra, m) && access_trap(c, ins->offset);
}

static bool push_v(gc_ctx *c, int x)
{
    return push_reg(c, GT_V128, x);
}

/* Lane shape of an i8x16/i16x8/i32x4/i64x2 opcode from a table of four. */
static int shape_of(uint16_t op, const uint16_t ops[4])
{
    for (int k = 0; k < 4; k++)
        if (ops[k] == op)
            return k;
    return -1;
}

/* Memory forms: loads that splat, extend, zero or replace one lane, and
   stores of one lane, each one or two instructions on the access. */
static bool simd_memory(gc_ctx *c, const gv_insn *ins, bool *ok)
{
    gc_buf *b = &c->buf;
    xmem m;
    int ra, x;
    int lane = ins->imm.mem.lane;
    switch (ins->op) {
    case GOP_V128_LOAD32_ZERO: case GOP_V128_LOAD64_ZERO: case GOP_V128_LOAD32_SPLAT:
    case GOP_V128_LOAD64_SPLAT: {
        bool q = ins->op == GOP_V128_LOAD64_ZERO || ins->op == GOP_V128_LOAD64_SPLAT;
        x = alloc_fpr(c);
        if (!(*ok = vmem(c, ins, q ? 8 : 4, &m, &ra)))
            return true;
        if (q)
            x_vec_rm(b, 0xf3, 0, 0x0f7e, x, m);           /* movq x, [m] */
        else
            x_vec_rm(b, 0x66, 0, 0x0f6e, x, m);           /* movd x, [m] */
        release(c, GT_I32, ra);
        if (ins->op == GOP_V128_LOAD32_SPLAT || ins->op == GOP_V128_LOAD64_SPLAT) {
            vop(c, 0x0f70, x, x);
            gc_u8(b, q ? 0x44 : 0);
        }
        *ok = push_v(c, x);
        return true;
    }
    case GOP_V128_LOAD8X8_S: case GOP_V128_LOAD8X8_U: case GOP_V128_LOAD16X4_S:
    case GOP_V128_LOAD16X4_U: case GOP_V128_LOAD32X2_S: case GOP_V128_LOAD32X2_U: {
        static const uint32_t pmov[6] = { 0x0f3820, 0x0f3830, 0x0f3823, 0x0f3833, 0x0f3825,
                                          0x0f3835 };
        x = alloc_fpr(c);
        if (!(*ok = vmem(c, ins, 8, &m, &ra)))
            return true;
        x_vec_rm(b, 0x66, 0, pmov[ins->op - GOP_V128_LOAD8X8_S], x, m);
        release(c, GT_I32, ra);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_V128_LOAD8_LANE: case GOP_V128_LOAD16_LANE: case GOP_V128_LOAD32_LANE:
    case GOP_V128_LOAD64_LANE: {
        int k = ins->op - GOP_V128_LOAD8_LANE;
        gc_val v = pop(c);
        x = in_reg(c, &v, VS(c)->nvals);
        if (!(*ok = vmem(c, ins, 1 << k, &m, &ra)))
            return true;
        if (k == 1)
            x_vec_rm(b, 0x66, 0, 0x0fc4, x, m);           /* pinsrw x, [m], lane */
        else
            x_vec_rm(b, 0x66, k == 3, k == 0 ? 0x0f3a20 : 0x0f3a22, x, m);
        gc_u8(b, (uint8_t)lane);
        release(c, GT_I32, ra);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_V128_STORE8_LANE: case GOP_V128_STORE16_LANE: case GOP_V128_STORE32_LANE:
    case GOP_V128_STORE64_LANE: {
        static const uint32_t pextr[4] = { 0x0f3a14, 0x0f3a15, 0x0f3a16, 0x0f3a16 };
        int k = ins->op - GOP_V128_STORE8_LANE;
        gc_val v = pop(c);
        x = in_reg(c, &v, VS(c)->nvals);
        if (!(*ok = vmem(c, ins, 1 << k, &m, &ra)))
            return true;
        x_vec_rm(b, 0x66, k == 3, pextr[k], x, m);        /* pextrb/w/d/q [m], x, lane */
        gc_u8(b, (uint8_t)lane);
        release(c, GT_I32, ra);
        release(c, GT_V128, x);
        return true;
    }
    }
    return false;
}

/* Single instructions and short sequences; false: not here. */
static bool simd_native(gc_ctx *c, const gv_insn *ins, bool *ok)
{
    gc_buf *b = &c->buf;
    const vbin *vb = find_vbin(ins->op);
    int x, y;
    *ok = true;
    if (ins->op == GOP_I8X16_SWIZZLE) {
        /* indices of 16 and more get the top bit (paddusb 0x70): pshufb
           makes those lanes 0 */
        static const uint8_t k70[16] = { 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70,
                                         0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70, 0x70 };
        pop_vv(c, false, &x, &y);
        int k = v128_const(c, k70);
        vop(c, 0x0fdc, y, k);
        vop(c, 0x0f3800, x, y);
        release(c, GT_V128, k);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    if (simd_memory(c, ins, ok))
        return true;
    if (vb) {
        pop_vv(c, vb->swap, &x, &y);
        vop3(c, vb->code, x, x, y);
        if (vb->fp)
            canon_v(c, x, is_f64x2(ins->op));
        release(c, GT_V128, y);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    switch (ins->op) {
    case GOP_V128_NOT:
        x = pop_reg(c);
        vop(c, 0x0f76, 0, 0);                   /* pcmpeqd xmm0, xmm0: all ones */
        vop(c, 0x0fef, x, 0);
        *ok = push_reg(c, GT_V128, x);
        return true;
    case GOP_V128_BITSELECT: {
        /* (a & m) | (b & ~m) = ((a ^ b) & m) ^ b */
        int m = pop_reg(c);
        pop_vv(c, false, &x, &y);
        vop(c, 0x0fef, x, y);
        vop(c, 0x0fdb, x, m);
        vop(c, 0x0fef, x, y);
        release(c, GT_V128, y);
        release(c, GT_V128, m);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_V128_ANY_TRUE:
        x = pop_reg(c);
        vop(c, 0x0f3817, x, x);                 /* ptest: ZF when all zero */
        release(c, GT_V128, x);
        *ok = push_val(c, K_FLAGS, GT_I32, -1, CC_NE);
        return true;
    case GOP_I8X16_ALL_TRUE: case GOP_I16X8_ALL_TRUE: case GOP_I32X4_ALL_TRUE:
    case GOP_I64X2_ALL_TRUE: {
        static const uint32_t eq[4] = { 0x0f74, 0x0f75, 0x0f76, 0x0f3829 };
        x = pop_reg(c);
        vop(c, 0x0fef, 0, 0);
        vop(c, eq[(ins->op == GOP_I16X8_ALL_TRUE) + 2 * (ins->op == GOP_I32X4_ALL_TRUE) +
                  3 * (ins->op == GOP_I64X2_ALL_TRUE)], 0, x);     /* lanes equal to 0 */
        vop(c, 0x0f3817, 0, 0);
        release(c, GT_V128, x);
        *ok = push_val(c, K_FLAGS, GT_I32, -1, CC_E);
        return true;
    }
    case GOP_I8X16_SHUFFLE: {
        /* pshufb of each operand by its half of the indices (0x80: a
           zero lane), or'ed; one pshufb when all come from one side */
        const uint8_t *ix = ins->imm.v128;
        uint8_t ma[16], mb[16];
        bool usea = false, useb = false;
        for (int i = 0; i < 16; i++) {
            ma[i] = ix[i] < 16 ? ix[i] : 0x80;
            mb[i] = ix[i] >= 16 ? (uint8_t)(ix[i] - 16) : 0x80;
            usea |= ix[i] < 16;
            useb |= ix[i] >= 16;
        }
        pop_vv(c, false, &x, &y);
        int k = v128_const(c, usea ? ma : mb);
        vop(c, 0x0f3800, usea ? x : y, k);
        if (usea && useb) {
            release(c, GT_V128, k);
            k = v128_const(c, mb);
            vop(c, 0x0f3800, y, k);
            vop(c, 0x0feb, x, y);
        }
        release(c, GT_V128, k);
        if (!usea) {
            release(c, GT_V128, x);
            x = y;
        } else {
            release(c, GT_V128, y);
        }
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I8X16_SPLAT: case GOP_I16X8_SPLAT: {
        int r = pop_reg(c);
        x = alloc_fpr(c);
        x_movd_xr(b, 0, x, r);
        release(c, GT_I32, r);
        if (ins->op == GOP_I8X16_SPLAT) {
            vop(c, 0x0fef, 0, 0);
            vop(c, 0x0f3800, x, 0);                        /* pshufb by zeros */
        } else {
            x_vec_rr(b, 0xf2, 0, 0x0f70, x, x);             /* pshuflw x, x, 0 */
            gc_u8(b, 0);
            vop(c, 0x0f70, x, x);
            gc_u8(b, 0);
        }
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_SPLAT: case GOP_F64X2_SPLAT:
        x = pop_reg(c);                                     /* the float's register */
        vop(c, 0x0f70, x, x);
        gc_u8(b, ins->op == GOP_F64X2_SPLAT ? 0x44 : 0);
        *ok = push_v(c, x);
        return true;
    case GOP_I8X16_EXTRACT_LANE_S: case GOP_I8X16_EXTRACT_LANE_U:
    case GOP_I16X8_EXTRACT_LANE_S: case GOP_I16X8_EXTRACT_LANE_U: {
        bool w16 = ins->op >= GOP_I16X8_EXTRACT_LANE_S;
        x = pop_reg(c);
        int r = alloc_gpr(c);
        if (w16)
            x_vec_rr(b, 0x66, 0, 0x0fc5, r, x);            /* pextrw r, x, lane */
        else
            x_vec_rr(b, 0x66, 0, 0x0f3a14, x, r);          /* pextrb r, x, lane */
        gc_u8(b, ins->imm.lane);
        if (ins->op == GOP_I8X16_EXTRACT_LANE_S || ins->op == GOP_I16X8_EXTRACT_LANE_S)
            x_movsx(b, w16 ? 2 : 1, 0, r, r);
        release(c, GT_V128, x);
        *ok = push_reg(c, GT_I32, r);
        return true;
    }
    case GOP_F32X4_EXTRACT_LANE: case GOP_F64X2_EXTRACT_LANE: {
        bool d = ins->op == GOP_F64X2_EXTRACT_LANE;
        x = pop_reg(c);
        if (ins->imm.lane) {                                /* the lane to the bottom */
            vop(c, 0x0f70, x, x);
            gc_u8(b, d ? 0xee : ins->imm.lane);
        }
        *ok = push_reg(c, d ? GT_F64 : GT_F32, x);
        return true;
    }
    case GOP_I8X16_REPLACE_LANE: case GOP_I16X8_REPLACE_LANE: {
        int r = pop_reg(c);
        x = pop_reg(c);
        x_vec_rr(b, 0x66, 0, ins->op == GOP_I8X16_REPLACE_LANE ? 0x0f3a20 : 0x0fc4, x, r);
        gc_u8(b, ins->imm.lane);
        release(c, GT_I32, r);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_REPLACE_LANE: case GOP_F64X2_REPLACE_LANE: {
        bool d = ins->op == GOP_F64X2_REPLACE_LANE;
        y = pop_reg(c);
        x = pop_reg(c);
        if (!d) {
            vop(c, 0x0f3a21, x, y);                         /* insertps */
            gc_u8(b, (uint8_t)(ins->imm.lane << 4));
        } else if (ins->imm.lane) {
            vop(c, 0x0f6c, x, y);                           /* punpcklqdq */
        } else {
            x_vec_rr(b, 0xf2, 0, 0x0f10, x, y);             /* movsd x, y */
        }
        release(c, d ? GT_F64 : GT_F32, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I8X16_BITMASK: case GOP_I16X8_BITMASK: case GOP_I32X4_BITMASK:
    case GOP_I64X2_BITMASK: {
        x = pop_reg(c);
        int r = alloc_gpr(c);
        if (ins->op == GOP_I16X8_BITMASK)
            vop(c, 0x0f63, x, x);                           /* packsswb: signs to bytes */
        if (ins->op == GOP_I32X4_BITMASK)
            x_vec_rr(b, 0, 0, 0x0f50, r, x);                /* movmskps */
        else if (ins->op == GOP_I64X2_BITMASK)
            x_vec_rr(b, 0x66, 0, 0x0f50, r, x);             /* movmskpd */
        else
            x_vec_rr(b, 0x66, 0, 0x0fd7, r, x);             /* pmovmskb */
        if (ins->op == GOP_I16X8_BITMASK)
            x_movzx8(b, r, r);
        release(c, GT_V128, x);
        *ok = push_reg(c, GT_I32, r);
        return true;
    }
    case GOP_I8X16_NEG: case GOP_I16X8_NEG: case GOP_I32X4_NEG: case GOP_I64X2_NEG: {
        static const uint16_t negs[4] = { GOP_I8X16_NEG, GOP_I16X8_NEG, GOP_I32X4_NEG,
                                          GOP_I64X2_NEG };
        static const uint32_t psub[4] = { 0x0ff8, 0x0ff9, 0x0ffa, 0x0ffb };
        x = pop_reg(c);
        y = alloc_fpr(c);
        vop(c, 0x0fef, y, y);
        vop(c, psub[shape_of(ins->op, negs)], y, x);
        release(c, GT_V128, x);
        *ok = push_v(c, y);
        return true;
    }
    case GOP_I8X16_ABS: case GOP_I16X8_ABS: case GOP_I32X4_ABS:
        x = pop_reg(c);
        vop(c, ins->op == GOP_I8X16_ABS ? 0x0f381c : ins->op == GOP_I16X8_ABS ? 0x0f381d : 0x0f381e,
            x, x);
        *ok = push_v(c, x);
        return true;
    case GOP_I16X8_SHL: case GOP_I16X8_SHR_S: case GOP_I16X8_SHR_U: case GOP_I32X4_SHL:
    case GOP_I32X4_SHR_S: case GOP_I32X4_SHR_U: case GOP_I64X2_SHL: case GOP_I64X2_SHR_U: {
        /* the count mod the lane width, in xmm0 */
        int sh = ins->op == GOP_I16X8_SHL || ins->op == GOP_I32X4_SHL || ins->op == GOP_I64X2_SHL ? 0
               : ins->op == GOP_I16X8_SHR_U || ins->op == GOP_I32X4_SHR_U ||
                 ins->op == GOP_I64X2_SHR_U ? 1 : 2;
        int lw = ins->op <= GOP_I16X8_SHR_U && ins->op >= GOP_I16X8_SHL ? 1
               : ins->op <= GOP_I32X4_SHR_U && ins->op >= GOP_I32X4_SHL ? 2 : 3;
        static const uint32_t codes[3][3] = { { 0x0ff1, 0x0ff2, 0x0ff3 },   /* psll w d q */
                                              { 0x0fd1, 0x0fd2, 0x0fd3 },   /* psrl */
                                              { 0x0fe1, 0x0fe2, 0 } };      /* psra */
        gc_vstack *vs = VS(c);
        if (vs->vals[vs->nvals - 1].kind == K_CONST) {
            /* a constant count: psllw/d/q, psrlw/d/q, psraw/d x, imm8
               (66 0F 71/72/73 /6, /2, /4) */
            int k = (int)(pop(c).k & ((8 << lw) - 1));
            static const int digit[3] = { 6, 2, 4 };
            x = pop_reg(c);
            vshift_imm(c, 0x0f70 + (uint32_t)lw, digit[sh], x, (uint8_t)k);
            *ok = push_v(c, x);
            return true;
        }
        int r = pop_reg(c);
        x = pop_reg(c);
        x_alu_ri(b, ALU_AND, 0, r, (8 << lw) - 1);
        x_movd_xr(b, 0, 0, r);
        release(c, GT_I32, r);
        vop(c, codes[sh][lw - 1], x, 0);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I16X8_EXTEND_LOW_I8X16_S: case GOP_I16X8_EXTEND_HIGH_I8X16_S:
    case GOP_I16X8_EXTEND_LOW_I8X16_U: case GOP_I16X8_EXTEND_HIGH_I8X16_U:
    case GOP_I32X4_EXTEND_LOW_I16X8_S: case GOP_I32X4_EXTEND_HIGH_I16X8_S:
    case GOP_I32X4_EXTEND_LOW_I16X8_U: case GOP_I32X4_EXTEND_HIGH_I16X8_U:
    case GOP_I64X2_EXTEND_LOW_I32X4_S: case GOP_I64X2_EXTEND_HIGH_I32X4_S:
    case GOP_I64X2_EXTEND_LOW_I32X4_U: case GOP_I64X2_EXTEND_HIGH_I32X4_U: {
        gc_widen wd = widen_of(ins->op);
        bool high = wd.high, u = wd.u;
        int from = wd.from;
        static const uint32_t pmov[3] = { 0x0f3820, 0x0f3823, 0x0f3825 };  /* +0x10: zx */
        x = pop_reg(c);
        if (high) {
            vop(c, 0x0f70, x, x);
            gc_u8(b, 0xee);
        }
        vop(c, pmov[from] + (u ? 0x10 : 0), x, x);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_EQ: case GOP_F32X4_NE: case GOP_F32X4_LT: case GOP_F32X4_GT:
    case GOP_F32X4_LE: case GOP_F32X4_GE: case GOP_F64X2_EQ: case GOP_F64X2_NE:
    case GOP_F64X2_LT: case GOP_F64X2_GT: case GOP_F64X2_LE: case GOP_F64X2_GE: {
        /* cmpps/cmppd: eq 0, lt 1, le 2, neq (unordered: true) 4; gt and
           ge are lt and le with the operands the other way */
        bool d = ins->op >= GOP_F64X2_EQ;
        int k = ins->op - (d ? GOP_F64X2_EQ : GOP_F32X4_EQ);      /* eq ne lt gt le ge */
        static const uint8_t pred[6] = { 0, 4, 1, 1, 2, 2 };
        pop_vv(c, k == 3 || k == 5, &x, &y);
        x_vec_rr(b, d ? 0x66 : 0, 0, 0x0fc2, x, y);
        gc_u8(b, pred[k]);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_ABS: case GOP_F64X2_ABS: case GOP_F32X4_NEG: case GOP_F64X2_NEG: {
        /* the sign bit cleared (and with ones shifted right by one) or
           flipped (xor with a one shifted to the top) */
        bool d = ins->op == GOP_F64X2_ABS || ins->op == GOP_F64X2_NEG;
        bool abs = ins->op == GOP_F32X4_ABS || ins->op == GOP_F64X2_ABS;
        x = pop_reg(c);
        vop(c, 0x0f76, 0, 0);
        if (abs)
            vshift_imm(c, d ? 0x0f73 : 0x0f72, 2, 0, 1);
        else
            vshift_imm(c, d ? 0x0f73 : 0x0f72, 6, 0, d ? 63 : 31);
        vop(c, abs ? 0x0fdb : 0x0fef, x, 0);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_MIN: case GOP_F64X2_MIN: case GOP_F32X4_MAX: case GOP_F64X2_MAX: {
        /* minps/maxps give their second operand for a NaN and for equal
           zeros: both orders, merged (a NaN and -0 win for min, +0 for
           max), NaN lanes made quiet with the payload cleared */
        bool d = ins->op == GOP_F64X2_MIN || ins->op == GOP_F64X2_MAX;
        bool mx = ins->op == GOP_F32X4_MAX || ins->op == GOP_F64X2_MAX;
        uint32_t mm = d ? (mx ? 0x0f5f : 0x0f5d) : PS(mx ? 0x0f5f : 0x0f5d);
        uint32_t orr = d ? 0x0f56 : PS(0x0f56), andn = d ? 0x0f55 : PS(0x0f55);
        uint32_t cmp = d ? 0x0fc2 : PS(0x0fc2);
        pop_vv(c, false, &x, &y);
        vop3(c, mm, 0, y, x);                   /* xmm0 = op(b, a) */
        vop3(c, mm, x, x, y);                   /* x = op(a, b) */
        if (mx) {
            vop3(c, d ? 0x0f57 : PS(0x0f57), x, x, 0);      /* the difference */
            vop3(c, orr, 0, 0, x);                          /* NaNs through */
            vop3(c, d ? 0x0f5c : PS(0x0f5c), 0, 0, x);      /* signs, quiet NaNs */
            vop3i(c, cmp, x, x, 0, 3);                      /* cmpunord */
        } else {
            vop3(c, orr, 0, 0, x);                          /* -0 and NaNs through */
            vop3i(c, cmp, x, x, 0, 3);
            vop3(c, orr, 0, 0, x);
        }
        vshift_imm(c, d ? 0x0f73 : 0x0f72, 2, x, d ? 13 : 10);
        vop3(c, andn, x, x, 0);
        canon_v(c, x, d);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I64X2_GT_S: case GOP_I64X2_LT_S: case GOP_I64X2_GE_S: case GOP_I64X2_LE_S: {
        /* pcmpgtq (SSE4.2): gt; lt with the operands swapped; ge and le
           the negations of lt and gt */
        if (!ST(c)->sse42)
            return false;
        bool swap = ins->op == GOP_I64X2_LT_S || ins->op == GOP_I64X2_GE_S;
        pop_vv(c, swap, &x, &y);
        vop3(c, 0x0f3837, x, x, y);
        if (ins->op == GOP_I64X2_GE_S || ins->op == GOP_I64X2_LE_S) {
            vop(c, 0x0f76, 0, 0);
            vop(c, 0x0fef, x, 0);
        }
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I64X2_MUL:
        /* lo(a)*lo(b) + (hi(a)*lo(b) + lo(a)*hi(b)) << 32, by pmuludq */
        pop_vv(c, false, &x, &y);
        x_movaps(b, 0, x);
        vshift_imm(c, 0x0f73, 2, 0, 32);
        vop(c, 0x0ff4, 0, y);
        x_movaps(b, 1, y);
        vshift_imm(c, 0x0f73, 2, 1, 32);
        vop(c, 0x0ff4, 1, x);
        vop(c, 0x0fd4, 0, 1);
        vshift_imm(c, 0x0f73, 6, 0, 32);
        vop(c, 0x0ff4, x, y);
        vop(c, 0x0fd4, x, 0);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    case GOP_I64X2_ABS:
        /* the sign of each high dword spread over its lane: (x ^ s) - s */
        x = pop_reg(c);
        vop(c, 0x0f70, 0, x);
        gc_u8(b, 0xf5);
        vshift_imm(c, 0x0f72, 4, 0, 31);
        vop(c, 0x0fef, x, 0);
        vop(c, 0x0ffb, x, 0);
        *ok = push_v(c, x);
        return true;
    case GOP_I64X2_SHR_S: case GOP_I8X16_SHL: case GOP_I8X16_SHR_S: case GOP_I8X16_SHR_U: {
        /* i64x2.shr_s: ((x >>> k) ^ m) - m with m = 1 << 63 >>> k;
           i8x16: shl and shr_u on words, the bits that crossed bytes
           masked off; shr_s on the bytes unpacked into words */
        bool q = ins->op == GOP_I64X2_SHR_S;
        int bits = q ? 63 : 7;
        gc_vstack *vs = VS(c);
        bool konst = vs->vals[vs->nvals - 1].kind == K_CONST;
        int k = 0, r = -1;
        if (konst)
            k = (int)(pop(c).k & bits);
        else
            r = pop_reg(c);
        x = pop_reg(c);
        if (!konst) {
            x_alu_ri(b, ALU_AND, 0, r, bits);
            if (ins->op == GOP_I8X16_SHR_S)
                x_alu_ri(b, ALU_ADD, 0, r, 8);
            x_movd_xr(b, 0, 0, r);                          /* the count in xmm0 */
        }
        if (q) {
            static const uint8_t top[16] = { 0, 0, 0, 0, 0, 0, 0, 0x80, 0, 0, 0, 0, 0, 0, 0, 0x80 };
            int m = v128_const(c, top);
            if (konst) {
                vshift_imm(c, 0x0f73, 2, m, (uint8_t)k);
                vshift_imm(c, 0x0f73, 2, x, (uint8_t)k);
            } else {
                vop(c, 0x0fd3, m, 0);
                vop(c, 0x0fd3, x, 0);
            }
            vop(c, 0x0fef, x, m);
            vop(c, 0x0ffb, x, m);
            release(c, GT_V128, m);
        } else if (ins->op == GOP_I8X16_SHR_S) {
            x_movaps(b, 1, x);
            vop(c, 0x0f68, 1, 1);                           /* punpckhbw: high bytes */
            vop(c, 0x0f60, x, x);                           /* punpcklbw: low bytes */
            if (konst) {
                vshift_imm(c, 0x0f71, 4, x, (uint8_t)(k + 8));
                vshift_imm(c, 0x0f71, 4, 1, (uint8_t)(k + 8));
            } else {
                vop(c, 0x0fe1, x, 0);
                vop(c, 0x0fe1, 1, 0);
            }
            vop(c, 0x0f63, x, 1);                           /* packsswb */
        } else {
            bool left = ins->op == GOP_I8X16_SHL;
            int m;
            if (konst) {
                uint8_t mk[16];
                memset(mk, left ? (uint8_t)(0xff << k) : (uint8_t)(0xff >> k), 16);
                m = v128_const(c, mk);
                vshift_imm(c, 0x0f71, left ? 6 : 2, x, (uint8_t)k);
            } else {
                /* the byte mask from the count: 0xff << k or >> k, times 0x01010101 */
                m = alloc_fpr(c);
                x_mov_rr(b, 0, RCX, r);
                x_mov_ri(b, 0, RAX, 0xff);
                x_shift_cl(b, left ? SH_SHL : SH_SHR, 0, RAX);
                x_alu_ri(b, ALU_AND, 0, RAX, 0xff);
                x_imul_rri(b, 0, RAX, RAX, 0x01010101);
                x_movd_xr(b, 0, m, RAX);
                vop(c, 0x0f70, m, m);
                gc_u8(b, 0);
                vop(c, left ? 0x0ff1 : 0x0fd1, x, 0);
            }
            vop(c, 0x0fdb, x, m);
            release(c, GT_V128, m);
        }
        if (r >= 0)
            release(c, GT_I32, r);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I8X16_POPCNT: {
        /* a table of the 16 nibbles' counts, looked up twice by pshufb */
        static const uint8_t lut[16] = { 0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4 };
        static const uint8_t k0f[16] = { 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15, 15,
                                         15, 15 };
        x = pop_reg(c);
        int m = v128_const(c, k0f);
        int t = v128_const(c, lut);
        x_movaps(b, 0, x);
        vshift_imm(c, 0x0f71, 2, 0, 4);
        vop(c, 0x0fdb, 0, m);                               /* high nibbles */
        vop(c, 0x0fdb, x, m);                               /* low nibbles */
        x_movaps(b, 1, t);
        vop(c, 0x0f3800, 1, x);
        vop(c, 0x0f3800, t, 0);
        vop(c, 0x0ffc, t, 1);
        release(c, GT_V128, m);
        release(c, GT_V128, x);
        *ok = push_v(c, t);
        return true;
    }
    case GOP_I16X8_EXTADD_PAIRWISE_I8X16_S: case GOP_I16X8_EXTADD_PAIRWISE_I8X16_U:
    case GOP_I32X4_EXTADD_PAIRWISE_I16X8_S: {
        /* pmaddubsw (unsigned first operand, signed second) by ones,
           pmaddwd by ones */
        static const uint8_t one8[16] = { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 };
        static const uint8_t one16[16] = { 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0 };
        x = pop_reg(c);
        int m = v128_const(c, ins->op == GOP_I32X4_EXTADD_PAIRWISE_I16X8_S ? one16 : one8);
        if (ins->op == GOP_I16X8_EXTADD_PAIRWISE_I8X16_S) {
            vop(c, 0x0f3804, m, x);
            release(c, GT_V128, x);
            x = m;
        } else {
            vop(c, ins->op == GOP_I32X4_EXTADD_PAIRWISE_I16X8_S ? 0x0ff5 : 0x0f3804, x, m);
            release(c, GT_V128, m);
        }
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I32X4_EXTADD_PAIRWISE_I16X8_U:
        /* the high words shifted down plus the low words blended out */
        x = pop_reg(c);
        x_movaps(b, 0, x);
        vshift_imm(c, 0x0f72, 2, 0, 16);
        vop(c, 0x0fef, 1, 1);
        vop(c, 0x0f3a0e, x, 1);
        gc_u8(b, 0xaa);                                     /* pblendw */
        vop(c, 0x0ffe, x, 0);
        *ok = push_v(c, x);
        return true;
    case GOP_F64X2_PROMOTE_LOW_F32X4: case GOP_F32X4_DEMOTE_F64X2_ZERO:
        x = pop_reg(c);
        vop(c, ins->op == GOP_F64X2_PROMOTE_LOW_F32X4 ? PS(0x0f5a) : 0x0f5a, x, x);
        canon_v(c, x, ins->op == GOP_F64X2_PROMOTE_LOW_F32X4);
        *ok = push_v(c, x);
        return true;
    case GOP_F32X4_CONVERT_I32X4_U:
        /* the low 16 bits of each lane converted exactly, the rest halved,
           converted and doubled, the two added */
        x = pop_reg(c);
        vop(c, 0x0fef, 0, 0);
        vop(c, 0x0f3a0e, 0, x);
        gc_u8(b, 0x55);
        vop(c, 0x0ffa, x, 0);
        vop(c, PS(0x0f5b), 0, 0);
        vshift_imm(c, 0x0f72, 2, x, 1);
        vop(c, PS(0x0f5b), x, x);
        vop(c, PS(0x0f58), x, x);
        vop(c, PS(0x0f58), x, 0);
        *ok = push_v(c, x);
        return true;
    case GOP_I32X4_TRUNC_SAT_F32X4_S:
        /* NaN lanes to 0, cvttps2dq, its 0x80000000 for positive
           overflow turned into 0x7fffffff */
        x = pop_reg(c);
        x_movaps(b, 0, x);
        x_vec_rr(b, 0, 0, 0x0fc2, 0, 0);
        gc_u8(b, 0);                                        /* cmpeqps: not NaN */
        vop(c, 0x0fdb, x, 0);
        vop(c, 0x0fef, 0, x);
        x_vec_rr(b, 0xf3, 0, 0x0f5b, x, x);                 /* cvttps2dq */
        vop(c, 0x0fdb, 0, x);
        vshift_imm(c, 0x0f72, 4, 0, 31);
        vop(c, 0x0fef, x, 0);
        *ok = push_v(c, x);
        return true;
    case GOP_I32X4_TRUNC_SAT_F64X2_S_ZERO: {
        /* NaN lanes to 0 and the top clamped by minpd, then cvttpd2dq
           (its 0x80000000 is right for the bottom; lanes 2, 3 zero) */
        static const uint8_t max32[16] = { 0, 0, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x41,
                                           0, 0, 0xc0, 0xff, 0xff, 0xff, 0xdf, 0x41 };
        x = pop_reg(c);
        int m = v128_const(c, max32);
        x_movaps(b, 0, x);
        vop(c, 0x0fc2, 0, 0);
        gc_u8(b, 0);                                        /* cmpeqpd */
        vop(c, 0x0f54, 0, m);                               /* andpd */
        vop(c, 0x0f5d, x, 0);                               /* minpd */
        vop(c, 0x0fe6, x, x);                               /* cvttpd2dq */
        release(c, GT_V128, m);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F64X2_CONVERT_LOW_I32X4_U: {
        /* 2^52 + u as a double (the u32 under an exponent), minus 2^52 */
        static const uint8_t hi52[16] = { 0, 0, 0x30, 0x43, 0, 0, 0x30, 0x43,
                                          0, 0, 0x30, 0x43, 0, 0, 0x30, 0x43 };
        static const uint8_t two52[16] = { 0, 0, 0, 0, 0, 0, 0x30, 0x43,
                                           0, 0, 0, 0, 0, 0, 0x30, 0x43 };
        x = pop_reg(c);
        int m = v128_const(c, hi52);
        vop(c, PS(0x0f14), x, m);                           /* unpcklps */
        release(c, GT_V128, m);
        m = v128_const(c, two52);
        vop(c, 0x0f5c, x, m);                               /* subpd */
        release(c, GT_V128, m);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I32X4_TRUNC_SAT_F32X4_U:
        /* NaN and negatives to 0 (maxps with 0); lanes from 2^31 up
           converted as x - 2^31 and added to cvttps2dq's 0x80000000;
           lanes from 2^32 up 0xffffffff */
        x = pop_reg(c);
        vop(c, 0x0fef, 0, 0);
        vop(c, PS(0x0f5f), x, 0);                           /* maxps x, 0 */
        vop(c, 0x0f76, 0, 0);
        vshift_imm(c, 0x0f72, 2, 0, 1);
        vop(c, PS(0x0f5b), 0, 0);                           /* xmm0 = 2^31 */
        x_movaps(b, 1, x);
        vop(c, PS(0x0f5c), 1, 0);                           /* xmm1 = x - 2^31 */
        vop(c, PS(0x0fc2), 0, 1);
        gc_u8(b, 2);                                        /* 2^31 <= xmm1: overflow */
        x_vec_rr(b, 0xf3, 0, 0x0f5b, 1, 1);                 /* cvttps2dq */
        vop(c, 0x0fef, 1, 0);
        vop(c, 0x0fef, 0, 0);
        vop(c, 0x0f383d, 1, 0);                             /* pmaxsd: below 2^31 to 0 */
        x_vec_rr(b, 0xf3, 0, 0x0f5b, x, x);
        vop(c, 0x0ffe, x, 1);
        *ok = push_v(c, x);
        return true;
    case GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO: {
        /* clamped to [0, 2^32 - 1] (NaN to 0), truncated, plus 2^52: the
           low dword of each double is the result; shufps packs them */
        static const uint8_t max32[16] = { 0, 0, 0xe0, 0xff, 0xff, 0xff, 0xef, 0x41,
                                           0, 0, 0xe0, 0xff, 0xff, 0xff, 0xef, 0x41 };
        static const uint8_t two52[16] = { 0, 0, 0, 0, 0, 0, 0x30, 0x43,
                                           0, 0, 0, 0, 0, 0, 0x30, 0x43 };
        x = pop_reg(c);
        vop(c, 0x0fef, 0, 0);
        vop(c, 0x0f5f, x, 0);                               /* maxpd x, 0 */
        int m = v128_const(c, max32);
        vop(c, 0x0f5d, x, m);                               /* minpd */
        release(c, GT_V128, m);
        vop(c, 0x0f3a09, x, x);
        gc_u8(b, 3);                                        /* roundpd: truncate */
        m = v128_const(c, two52);
        vop(c, 0x0f58, x, m);                               /* addpd */
        release(c, GT_V128, m);
        vop(c, PS(0x0fc6), x, 0);
        gc_u8(b, 0x88);                                     /* shufps */
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_SQRT: case GOP_F64X2_SQRT:
        x = pop_reg(c);
        x_vec_rr(b, ins->op == GOP_F64X2_SQRT ? 0x66 : 0, 0, 0x0f51, x, x);   /* sqrtps/pd */
        canon_v(c, x, ins->op == GOP_F64X2_SQRT);
        *ok = push_v(c, x);
        return true;
    case GOP_F32X4_CEIL: case GOP_F32X4_FLOOR: case GOP_F32X4_TRUNC: case GOP_F32X4_NEAREST:
    case GOP_F64X2_CEIL: case GOP_F64X2_FLOOR: case GOP_F64X2_TRUNC: case GOP_F64X2_NEAREST: {
        /* roundps/pd x, x, mode (SSE4.1): nearest 0, floor 1, ceil 2, trunc 3 */
        bool d = ins->op >= GOP_F64X2_CEIL && ins->op <= GOP_F64X2_NEAREST;
        uint16_t o = ins->op;
        uint8_t mode = o == GOP_F32X4_NEAREST || o == GOP_F64X2_NEAREST ? 0
                     : o == GOP_F32X4_FLOOR || o == GOP_F64X2_FLOOR ? 1
                     : o == GOP_F32X4_CEIL || o == GOP_F64X2_CEIL ? 2 : 3;
        x = pop_reg(c);
        vop(c, d ? 0x0f3a09 : 0x0f3a08, x, x);
        gc_u8(b, mode);
        canon_v(c, x, d);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_F32X4_CONVERT_I32X4_S:
        x = pop_reg(c);
        x_vec_rr(b, 0, 0, 0x0f5b, x, x);                    /* cvtdq2ps */
        *ok = push_v(c, x);
        return true;
    case GOP_F64X2_CONVERT_LOW_I32X4_S:
        x = pop_reg(c);
        x_vec_rr(b, 0xf3, 0, 0x0fe6, x, x);                 /* cvtdq2pd */
        *ok = push_v(c, x);
        return true;
    case GOP_I16X8_EXTMUL_LOW_I8X16_S: case GOP_I16X8_EXTMUL_HIGH_I8X16_S:
    case GOP_I16X8_EXTMUL_LOW_I8X16_U: case GOP_I16X8_EXTMUL_HIGH_I8X16_U:
    case GOP_I32X4_EXTMUL_LOW_I16X8_S: case GOP_I32X4_EXTMUL_HIGH_I16X8_S:
    case GOP_I32X4_EXTMUL_LOW_I16X8_U: case GOP_I32X4_EXTMUL_HIGH_I16X8_U:
    case GOP_I64X2_EXTMUL_LOW_I32X4_S: case GOP_I64X2_EXTMUL_HIGH_I32X4_S:
    case GOP_I64X2_EXTMUL_LOW_I32X4_U: case GOP_I64X2_EXTMUL_HIGH_I32X4_U: {
        /* both extended, then multiplied: pmullw, pmulld, pmuldq/pmuludq
           (these take the even dwords, which the extension put there) */
        gc_widen wd = widen_of(ins->op);
        bool high = wd.high, u = wd.u;
        int from = wd.from;
        static const uint32_t pmov[3] = { 0x0f3820, 0x0f3823, 0x0f3825 };
        static const uint32_t mul[3] = { 0x0fd5, 0x0f3840, 0x0f3828 };
        pop_vv(c, false, &x, &y);
        for (int k = 0; k < 2; k++) {
            int r = k ? y : x;
            if (high) {
                vop(c, 0x0f70, r, r);
                gc_u8(b, 0xee);
            }
            vop(c, pmov[from] + (u ? 0x10 : 0), r, r);
        }
        vop(c, from == 2 && u ? 0x0ff4 : mul[from], x, y);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I16X8_Q15MULR_SAT_S: {
        /* pmulhrsw, then 0x8000 * 0x8000 (which it gives as 0x8000)
           saturated to 0x7fff by flipping those lanes */
        static const uint8_t k8000[16] = { 0, 0x80, 0, 0x80, 0, 0x80, 0, 0x80,
                                           0, 0x80, 0, 0x80, 0, 0x80, 0, 0x80 };
        pop_vv(c, false, &x, &y);
        vop(c, 0x0f380b, x, y);
        release(c, GT_V128, y);
        y = v128_const(c, k8000);
        vop(c, 0x0f75, y, x);
        vop(c, 0x0fef, x, y);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I8X16_NE: case GOP_I16X8_NE: case GOP_I32X4_NE: case GOP_I64X2_NE: {
        static const uint16_t nes[4] = { GOP_I8X16_NE, GOP_I16X8_NE, GOP_I32X4_NE, GOP_I64X2_NE };
        static const uint32_t eq[4] = { 0x0f74, 0x0f75, 0x0f76, 0x0f3829 };
        pop_vv(c, false, &x, &y);
        vop(c, eq[shape_of(ins->op, nes)], x, y);
        vop(c, 0x0f76, 0, 0);
        vop(c, 0x0fef, x, 0);
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I8X16_GE_U: case GOP_I16X8_GE_U: case GOP_I32X4_GE_U:
    case GOP_I8X16_LE_U: case GOP_I16X8_LE_U: case GOP_I32X4_LE_U:
    case GOP_I8X16_GE_S: case GOP_I16X8_GE_S: case GOP_I32X4_GE_S:
    case GOP_I8X16_LE_S: case GOP_I16X8_LE_S: case GOP_I32X4_LE_S:
    case GOP_I8X16_GT_U: case GOP_I16X8_GT_U: case GOP_I32X4_GT_U:
    case GOP_I8X16_LT_U: case GOP_I16X8_LT_U: case GOP_I32X4_LT_U: {
        /* a >= b: max(a, b) == a; a <= b: min(a, b) == a; a > b
           unsigned: not (a <= b); a < b: not (a >= b) */
        static const uint16_t ops[18] = {
            GOP_I8X16_GE_U, GOP_I16X8_GE_U, GOP_I32X4_GE_U, GOP_I8X16_LE_U, GOP_I16X8_LE_U,
            GOP_I32X4_LE_U, GOP_I8X16_GE_S, GOP_I16X8_GE_S, GOP_I32X4_GE_S, GOP_I8X16_LE_S,
            GOP_I16X8_LE_S, GOP_I32X4_LE_S, GOP_I8X16_LT_U, GOP_I16X8_LT_U, GOP_I32X4_LT_U,
            GOP_I8X16_GT_U, GOP_I16X8_GT_U, GOP_I32X4_GT_U };
        /* pmaxu, pminu, pmaxs, pmins: b, w, d */
        static const uint32_t mm[12] = { 0x0fde, 0x0f383e, 0x0f383f, 0x0fda, 0x0f383a, 0x0f383b,
                                         0x0f383c, 0x0fee, 0x0f383d, 0x0f3838, 0x0fea, 0x0f3839 };
        static const uint32_t eq[3] = { 0x0f74, 0x0f75, 0x0f76 };
        int k = 0;
        while (ops[k] != ins->op)
            k++;
        pop_vv(c, false, &x, &y);
        vop(c, mm[k % 12], y, x);
        vop(c, eq[k % 3], x, y);
        if (k >= 12) {                          /* the negations */
            vop(c, 0x0f76, 0, 0);
            vop(c, 0x0fef, x, 0);
        }
        release(c, GT_V128, y);
        *ok = push_v(c, x);
        return true;
    }
    case GOP_I32X4_SPLAT: case GOP_I64X2_SPLAT: {
        int r = pop_reg(c);
        x = alloc_fpr(c);
        x_movd_xr(b, ins->op == GOP_I64X2_SPLAT, x, r);
        release(c, ins->op == GOP_I64X2_SPLAT ? GT_I64 : GT_I32, r);
        vop(c, 0x0f70, x, x);
        gc_u8(b, ins->op == GOP_I64X2_SPLAT ? 0x44 : 0);      /* pshufd */
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    case GOP_I32X4_EXTRACT_LANE: case GOP_I64X2_EXTRACT_LANE: {
        bool q = ins->op == GOP_I64X2_EXTRACT_LANE;
        x = pop_reg(c);
        int r = alloc_gpr(c);
        x_vec_rr(b, 0x66, q, V_PEXTRQ, x, r);                  /* pextrd/pextrq r, x */
        gc_u8(b, ins->imm.lane);
        release(c, GT_V128, x);
        *ok = push_reg(c, q ? GT_I64 : GT_I32, r);
        return true;
    }
    case GOP_I32X4_REPLACE_LANE: case GOP_I64X2_REPLACE_LANE: {
        bool q = ins->op == GOP_I64X2_REPLACE_LANE;
        int r = pop_reg(c);
        x = pop_reg(c);
        x_vec_rr(b, 0x66, q, V_PINSRQ, x, r);                  /* pinsrd/pinsrq x, r */
        gc_u8(b, ins->imm.lane);
        release(c, q ? GT_I64 : GT_I32, r);
        *ok = push_reg(c, GT_V128, x);
        return true;
    }
    }
    return false;
}

static bool lower_simd(gc_ctx *c, const gv_insn *ins)
{
    bool ok;
    if (simd_native(c, ins, &ok))
        return ok;
    if (ins->op == GOP_V128_LOAD) {
        int ra = pop_reg(c);
        xmem m;
        if (!mem_access(c, ins, 16, ra, &m))
            return false;
        int x = alloc_fpr(c);
        if (!access_trap(c, ins->offset))
            return false;
        x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_LD, x, m);
        release(c, GT_I32, ra);
        return push_reg(c, GT_V128, x);
    }
    if (ins->op == GOP_V128_STORE) {
        gc_val v = pop(c);
        int rv = in_reg(c, &v, VS(c)->nvals);
        int ra = pop_reg(c);
        xmem m;
        if (!mem_access(c, ins, 16, ra, &m) || !access_trap(c, ins->offset))
            return false;
        x_vec_rm(&c->buf, 0xf3, 0, V_MOVDQU_ST, rv, m);
        release(c, GT_V128, rv);
        release(c, GT_I32, ra);
        return true;
    }
    return simd_generic(c, ins);
}

/* ---- frames and the contract --------------------------------------------- */

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
    f |= (cc >> 20) & 1 ? GC_CPU_SSE42 : 0;
    /* AVX: the CPU has it (bit 28) and the OS saves the xmm/ymm state
       (OSXSAVE, bit 27, and XCR0 bits 1 and 2) */
    if ((cc >> 28 & 1) && (cc >> 27 & 1)) {
        unsigned lo, hi;
        __asm__("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        (void)hi;
        f |= (lo & 6) == 6 ? GC_CPU_AVX : 0;
    }
#endif
    return f;
}

static bool isa_begin_module(gc_ctx *c)
{
    int f = c->cpu_features < 0 ? gc_x86_host_features() : c->cpu_features;
    c->out->cpu_features = f;
    ST(c)->lzcnt = f & GC_CPU_LZCNT;
    ST(c)->popcnt = f & GC_CPU_POPCNT;
    ST(c)->bmi1 = f & GC_CPU_BMI1;
    ST(c)->avx = f & GC_CPU_AVX;
    ST(c)->sse42 = f & GC_CPU_SSE42;
    return true;
}

/* push rbp; mov rbp, rsp; sub rsp, FRAME (patched); mov [rbp-8], r15;
   then the stack-exhaustion check, before anything is written to the
   new frame */
static bool emit_prologue(gc_ctx *c)
{
    x_push(&c->buf, RBP);
    x_mov_rr(&c->buf, 1, RBP, RSP);
    x_alu_ri(&c->buf, ALU_SUB, 1, RSP, 0x7fffffff);
    VS(c)->frame_patch = c->buf.n - 4;
    x_store(&c->buf, 8, R15, xm(RBP, -8));
    x_alu_rm(&c->buf, ALU_CMP, 1, RSP, xm(R15, VM_REAL_LIMIT));
    return trap_if(c, CC_B, c->m->funcs[c->func].body_off, GATE_TRAP_STACK_EXHAUSTED);
}

/* Many: lea rdi, [lowest slot]; mov ecx, n; rep stosq (nothing is
   allocated in rdi or rcx yet). */
static void zero_locals(gc_ctx *c, uint32_t from, uint32_t to)
{
    uint32_t n = to - from;
    if (n > 0)
        x_alu_rr(&c->buf, ALU_XOR, 0, RAX, RAX);
    if (n > 8) {
        x_lea(&c->buf, 1, RDI, slot(to - 1));
        x_mov_ri(&c->buf, 0, RCX, n);
        x_rep_stosq(&c->buf);
    } else {
        for (uint32_t i = from; i < to; i++)
            x_store(&c->buf, 8, RAX, slot(i));
    }
}

static void patch_frame(gc_ctx *c, uint32_t bytes)
{
    memcpy(c->buf.p + VS(c)->frame_patch, &bytes, 4);
}

static void emit_epilogue(gc_ctx *c)
{
    x_mov_rr(&c->buf, 1, RSP, RBP);
    x_pop(&c->buf, RBP);
    x_ret(&c->buf);
}

static bool patch_call(gc_ctx *c, size_t at, size_t target)
{
    x_patch32(&c->buf, at, target);
    return true;
}

/* br_table's index goes to edx (the stubs use rax, rcx and the cache). */
static int table_index(gc_ctx *c, int ri)
{
    x_mov_rr(&c->buf, 0, RDX, ri);
    return RDX;
}

/*     cmp edx, n; jae default
 *     lea rax, [rip + table]; movsxd rdx, [rax + rdx*4]; add rax, rdx; jmp rax */
static size_t emit_table_jump(gc_ctx *c, int ri, uint32_t n, size_t *to_default)
{
    x_alu_ri(&c->buf, ALU_CMP, 0, ri, (int32_t)n);
    *to_default = x_jcc32(&c->buf, CC_AE);
    size_t lea = x_lea_rip(&c->buf, RAX);
    x_load(&c->buf, LD_S32, 1, RDX, xmi(RAX, ri, 4, 0));
    x_alu_rr(&c->buf, ALU_ADD, 1, RAX, RDX);
    x_jmp_r(&c->buf, RAX);
    while (c->buf.n & 3)
        x_int3(&c->buf);
    x_patch32(&c->buf, lea, c->buf.n);
    return c->buf.n;
}

GC_BACKEND(gc_backend_x86_64, "x86_64", GATE_TARGET_X86_64);
