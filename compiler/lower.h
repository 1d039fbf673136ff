/*
 * lower.h - what both backends do alike around the value stack and the
 * control flow of vstack.h and control.h: calls and returns with their
 * argument and result moves, runtime helpers, the stop checks' slow
 * paths, function prologues and frames, br_table, the dispatch of every
 * instruction by its lowering class (opcodes.def), and the backend
 * contract itself.  A backend is then a macro-assembler: it implements
 * the hooks below and the per-class lowerings, each for its ISA.
 *
 * Header-only, included after control.h.  The backend defines
 *     GC_STATE        its state type, whose first member is a gc_vstack
 *     OUT_REG         the register the outgoing area is addressed from
 *     NRESULT_REGS    how many results of a call come back in registers
 *     PER_VALUE       code bytes reserved per live value and instruction
 *     ISA_NAME        for "not supported by the ... backend yet"
 * and these hooks (besides those of vstack.h and control.h):
 *   moves
 *     store_val_out(c, i, w)      stack value i to outgoing word w
 *     store_result(c, i, w)       stack value i to the caller's result word w
 *     load_out(c, r, t, w)        outgoing word w into register r (type t)
 *   calls and helpers
 *     emit_call_direct(c)         a call to be patched; returns the site
 *     emit_call_import(c, f)      a call of import f through its funcref
 *     emit_call_indirect(c, ins, ri)   checks and the call; releases ri
 *     emit_helper_call(c, h)      the call of runtime helper h (vmctx first)
 *     reload_pinned(c)            the pinned registers after a call
 *     arg_imm(c, n, w, k)         helper argument n (1..) = constant k
 *     arg_slot(c, n, k)           helper argument n = the word in slot k
 *     arg_fbits(c, n, d, x)       helper argument n = the bits of float register x
 *     take_result(c, t)           a helper's result into a new register
 *     pop_reg(c), in_reg(c, v, i) a value into a register of its own (TEMP)
 *     arg_out_addr(c, n, w)       helper argument n = the address of outgoing word w
 *   SIMD
 *     v128_const(c, bytes)        a new register (TEMP) holding the 16 bytes
 *   frames and traps
 *     emit_prologue(c)            frame, vmctx, stack-exhaustion check
 *     zero_locals(c, from, to)    locals [from, to) = 0
 *     patch_frame(c, bytes)       the frame size into the prologue
 *     emit_epilogue(c)            frame gone, return
 *     emit_stop_test(c, st)       the inline test of a stop check (st->at)
 *     emit_trap(c, wasm, code)    an instruction that always traps
 *   br_table
 *     table_index(c, ri)          where the index is kept (before ri is freed)
 *     emit_table_jump(c, ri, n, &to_default)   bounds check and indirect
 *                                 jump; returns where the table goes
 *   vmctx loads (general registers)
 *     ld_vm(c, r, off)            r = [vmctx + off]
 *     ld_index(c, r, base, i)     r = [base + 8i]
 *     ld_u32(c, r, base, off)     r = zero-extended 32 bits at [base + off]
 *   the contract
 *     isa_begin_module(c)         CPU features and such
 *     patch_call(c, at, target)   a direct call's place resolved
 *   lowerings (each pops its operands and pushes its result)
 *     lower_alu/mul/divrem/shift/cmp/eqz/bitcount    integer classes
 *     lower_fbin/funop/fcmp, lower_convert           float and conversions
 *     lower_load, lower_store, lower_global, lower_select,
 *     lower_ref_is_null, lower_simd
 */
#ifndef GATE_LOWER_H
#define GATE_LOWER_H

#include "control.h"

static void store_val_out(gc_ctx *c, uint32_t i, uint32_t w);
static void store_result(gc_ctx *c, uint32_t i, uint32_t w);
static void load_out(gc_ctx *c, int r, uint8_t t, uint32_t w);
static size_t emit_call_direct(gc_ctx *c);
static void emit_call_import(gc_ctx *c, uint32_t f);
static bool emit_call_indirect(gc_ctx *c, const gv_insn *ins, int ri);
static void emit_helper_call(gc_ctx *c, int h);
static void reload_pinned(gc_ctx *c);
static void arg_imm(gc_ctx *c, int n, int w, int64_t k);
static void arg_slot(gc_ctx *c, int n, uint32_t k);
static void arg_fbits(gc_ctx *c, int n, int d, int x);
static int take_result(gc_ctx *c, uint8_t t);
static void arg_out_addr(gc_ctx *c, int n, uint32_t w);
static int v128_const(gc_ctx *c, const uint8_t *bytes);
static bool emit_prologue(gc_ctx *c);
static void zero_locals(gc_ctx *c, uint32_t from, uint32_t to);
static void patch_frame(gc_ctx *c, uint32_t bytes);
static void emit_epilogue(gc_ctx *c);
static void emit_stop_test(gc_ctx *c, gc_stub *st);
static bool emit_trap(gc_ctx *c, uint64_t wasm, uint32_t code);
static int table_index(gc_ctx *c, int ri);
static size_t emit_table_jump(gc_ctx *c, int ri, uint32_t n, size_t *to_default);
static void ld_vm(gc_ctx *c, int r, uint32_t off);
static void ld_index(gc_ctx *c, int r, int base, uint32_t i);
static void ld_u32(gc_ctx *c, int r, int base, uint32_t off);
static bool isa_begin_module(gc_ctx *c);
static bool patch_call(gc_ctx *c, size_t at, size_t target);
static int pop_reg(gc_ctx *c);
static int in_reg(gc_ctx *c, gc_val *v, uint32_t index);
static bool lower(gc_ctx *c, const gv_insn *ins);

static bool lower_alu(gc_ctx *c, int kind, int w);
static bool lower_mul(gc_ctx *c, int w);
static bool lower_divrem(gc_ctx *c, const gv_insn *ins, int kind, int w);
static bool lower_shift(gc_ctx *c, int kind, int w);
static bool lower_cmp(gc_ctx *c, int kind, int w);
static bool lower_eqz(gc_ctx *c, int w);
static bool lower_bitcount(gc_ctx *c, int kind, int w);
static bool lower_fbin(gc_ctx *c, int kind, int d);
static bool lower_funop(gc_ctx *c, int kind, int d);
static bool lower_fcmp(gc_ctx *c, int kind, int d);
static bool lower_convert(gc_ctx *c, const gv_insn *ins, int kind, int w);
static bool lower_load(gc_ctx *c, const gv_insn *ins);
static bool lower_store(gc_ctx *c, const gv_insn *ins);
static bool lower_global(gc_ctx *c, const gv_insn *ins);
static bool lower_select(gc_ctx *c);
static bool lower_ref_is_null(gc_ctx *c);
static bool lower_simd(gc_ctx *c, const gv_insn *ins);

static bool unsupported(gc_ctx *c, uint64_t off, const char *what)
{
    return gx_fail(c->err, GATE_ERR_NOT_IMPLEMENTED, off, c->func,
                   "%s is not supported by the " ISA_NAME " backend yet", what);
}

/* ---- calls and returns --------------------------------------------------- */

static inline bool has_v128(const uint8_t *t, uint32_t n)
{
    return n && memchr(t, GT_V128, n) != NULL;
}

/* A value of type t from an area's words at [base + disp] (ascending) into
   its slots from k: a v128's halves change places (slots go down). */
static void area_to_slots(gc_ctx *c, int base, int64_t disp, uint32_t k, uint8_t t)
{
    if (t != GT_V128) {
        copy_words(c, base, disp, 1, FRAME_REG, slot_disp(k), -1, 1);
        return;
    }
    copy_words(c, base, disp, 1, FRAME_REG, slot_disp(k + 1), -1, 1);
    copy_words(c, base, disp + 8, 1, FRAME_REG, slot_disp(k), -1, 1);
}

/* Results go straight from wherever they are to the caller's area (many
   results: all into their slots, then one copy). */
static bool emit_return(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    uint32_t n = ft->nresults;
    if (n > COPY_UNROLL && !has_v128(ft->results, n)) {
        flush(c);
        copy_words(c, FRAME_REG, slot_disp(val_slot(s, s->nvals - n)), -1, FRAME_REG, 16, 1,
                   slot_span(s, s->nvals - n, s->nvals));
    } else {
        for (uint32_t i = 0, w = 0; i < n; w += slot_width(ft->results[i]), i++)
            store_result(c, s->nvals - n + i, w);
    }
    emit_epilogue(c);
    return true;
}

/* The n arguments (the top of the stack) straight from wherever they are
   to the outgoing area (many: all into their slots, then one copy);
   popped.  Words are slots: a v128 takes two. */
static void args_out(gc_ctx *c, const uint8_t *types, uint32_t n)
{
    gc_vstack *s = VS(c);
    if (n > COPY_UNROLL && !has_v128(types, n)) {
        flush(c);
        copy_words(c, FRAME_REG, slot_disp(val_slot(s, s->nvals - n)), -1, OUT_REG, 0, 1,
                   slot_span(s, s->nvals - n, s->nvals));
    } else {
        for (uint32_t i = s->nvals - n, w = 0; i < s->nvals; w += slot_width(s->vals[i].type), i++)
            store_val_out(c, i, w);
    }
    truncate_to(c, s->nvals - n);
}

/* Results come back in the outgoing area: the first ones into registers,
   the others into their slots (many: all of them in one copy, and the
   stack stays clean). */
static bool results_in(gc_ctx *c, const gd_functype *ft)
{
    gc_vstack *s = VS(c);
    uint32_t n = ft->nresults;
    uint32_t nreg = n < NRESULT_REGS ? n : NRESULT_REGS;
    if (n - nreg > COPY_UNROLL && !has_v128(ft->results, n)) {
        copy_words(c, OUT_REG, 0, 1, FRAME_REG, slot_disp(val_slot(s, s->nvals)), -1, n);
        return push_slots(c, ft->results, n);
    }
    for (uint32_t i = 0, w = 0; i < n; w += slot_width(ft->results[i]), i++) {
        uint8_t t = ft->results[i];
        if (i < nreg) {
            int r = alloc_reg(c, t);
            load_out(c, r, t, w);
            if (!push_reg(c, t, r))
                return false;
        } else {
            area_to_slots(c, OUT_REG, 8 * (int64_t)w, val_slot(s, s->nvals), t);
            if (!push_val(c, K_SLOT, t, -1, 0))
                return false;
        }
    }
    return true;
}

/* The outgoing area holds a call's arguments and then its results. */
static void note_call(gc_ctx *c, const gd_functype *ft)
{
    uint32_t a = types_slots(ft->params, ft->nparams), r = types_slots(ft->results, ft->nresults);
    note_out(c, a > r ? a : r);
}

/* After the call instruction: the return address is the safe point. */
static bool after_call(gc_ctx *c, const gv_insn *ins, uint32_t live, uint32_t kind,
                       const gd_functype *ft)
{
    if (!gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)ins->offset, live, kind))
        return false;
    reload_pinned(c);
    return results_in(c, ft);
}

static bool lower_call(gc_ctx *c, const gv_insn *ins)
{
    uint32_t f = ins->imm.index;
    const gd_functype *ft = gd_func_type(c->m, f);
    note_call(c, ft);
    args_out(c, ft->params, ft->nparams);
    flush(c);
    uint32_t live = live_slots(c);
    if (f < c->m->nfunc_imports) {
        /* through the funcref: the callee may belong to another instance */
        emit_call_import(c, f);
        return after_call(c, ins, live, GC_SP_CALL_IMPORT, ft);
    }
    if (!gc_add_call(c, emit_call_direct(c), f))
        return false;
    return after_call(c, ins, live, GC_SP_CALL, ft);
}

static bool lower_call_indirect(gc_ctx *c, const gv_insn *ins)
{
    const gd_functype *ft = &c->m->types[ins->imm.callind.type];
    int ri = pop_reg(c);
    note_call(c, ft);
    args_out(c, ft->params, ft->nparams);
    flush(c);
    uint32_t live = live_slots(c);
    if (!emit_call_indirect(c, ins, ri))
        return false;
    return after_call(c, ins, live, GC_SP_CALL_INDIRECT, ft);
}

/* ---- runtime helpers and stop checks ------------------------------------- */

/* A helper call; with a safe point at its return address (memory.grow). */
static bool call_helper_sp(gc_ctx *c, int h, bool safepoint, uint64_t wasm)
{
    emit_helper_call(c, h);
    if (safepoint &&
        !gc_add_safepoint(c, (uint32_t)c->buf.n, (uint32_t)wasm, live_slots(c), GC_SP_GROW))
        return false;
    reload_pinned(c);
    return true;
}

/*
 * Operations on tables and bulk memory call runtime helpers with up to
 * four operands taken from the stack, after vmctx and the immediates
 * (two are packed into one argument), and the wasm offset last.  The
 * helper traps by itself when it must.
 */
static bool lower_helper(gc_ctx *c, const gv_insn *ins, int h, int nops, int64_t imm1,
                         int64_t imm2, uint8_t result)
{
    gc_vstack *s = VS(c);
    int n = 1;
    flush(c);
    if (!(h == GH_MEMORY_GROW || h == GH_MEMORY_FILL || h == GH_MEMORY_COPY))
        arg_imm(c, n++, 1, (int64_t)((uint64_t)imm1 | (uint64_t)imm2 << 32));
    for (int i = 0; i < nops; i++)
        arg_slot(c, n++, val_slot(s, s->nvals - (uint32_t)nops + (uint32_t)i));
    truncate_to(c, s->nvals - (uint32_t)nops);     /* flushed: nothing to release */
    arg_imm(c, n, 0, (int64_t)ins->offset);
    if (!call_helper_sp(c, h, h == GH_MEMORY_GROW, ins->offset))
        return false;
    return !result || push_reg(c, result, take_result(c, result));
}

/* Float-to-int truncations through a helper, which checks and converts:
   argument 1 the opcode, 2 the float's bits, 3 the wasm offset. */
static bool trunc_helper(gc_ctx *c, const gv_insn *ins, uint8_t from, uint8_t to)
{
    int x = pop_reg(c);
    flush(c);
    arg_fbits(c, 2, from == GT_F64, x);
    release(c, from, x);
    arg_imm(c, 1, 0, ins->op);
    arg_imm(c, 3, 0, (int64_t)ins->offset);
    if (!call_helper_sp(c, GH_TRUNC, false, 0))
        return false;
    return push_reg(c, to, take_result(c, to));
}

/* ---- SIMD through the runtime ------------------------------------------- */

/*
 * What a backend does not lower itself goes to rt_simd (runtime/simd.c),
 * the portable definition of every 0xfd instruction that does not touch
 * memory: the operands are stored in the outgoing area as the callee's
 * arguments would be (a v128 as 16 little-endian bytes), the helper gets
 * their addresses and writes the result over the first, which is loaded
 * back.  The same C code on both ISAs: the reference the native forms are
 * tested against.
 */
static bool simd_call(gc_ctx *c, uint16_t op, uint32_t lane, uint32_t nin, bool swap)
{
    gc_vstack *s = VS(c);
    const char *sig = gop_table[op].sig;
    uint8_t rt = 0;
    switch (strchr(sig, ':')[1]) {
    case 'V': rt = GT_V128; break;
    case 'i': rt = GT_I32; break;
    case 'I': rt = GT_I64; break;
    case 'f': rt = GT_F32; break;
    case 'F': rt = GT_F64; break;
    }
    assert(rt && nin <= 3 && s->nvals >= nin);
    flush(c);
    uint32_t base = s->nvals - nin, at[3] = { 0, 0, 0 }, w = 0;
    for (uint32_t k = 0; k < nin; k++) {
        at[k] = w;
        store_val_out(c, base + k, w);
        w += slot_width(s->vals[base + k].type);
    }
    note_out(c, w > 2 ? w : 2);
    truncate_to(c, base);
    arg_imm(c, 1, 0, (int64_t)(op | lane << 16 | (uint32_t)c->deterministic << 24));
    arg_out_addr(c, 2, 0);
    if (swap) {
        uint32_t t = at[0];
        at[0] = at[1], at[1] = t;
    }
    for (uint32_t k = 0; k < 3; k++) {
        if (k < nin)
            arg_out_addr(c, 3 + (int)k, at[k]);
        else
            arg_imm(c, 3 + (int)k, 1, 0);
    }
    if (!call_helper_sp(c, GH_SIMD, false, 0))
        return false;
    int r = alloc_reg(c, rt);
    load_out(c, r, rt, 0);
    return push_reg(c, rt, r);
}

/* A widening operation (extend, extmul), from its name: the lanes it
   reads ("..._i8x16_s" 0, i16x8 1, i32x4 2), whether the high half, and
   whether unsigned. */
typedef struct gc_widen {
    int from;
    bool high, u;
} gc_widen;

static gc_widen widen_of(uint16_t op)
{
    const char *name = gop_table[op].name, *p = strrchr(name, '_');
    size_t n = strlen(name);
    while (p > name && p[-1] != '_')
        p--;
    return (gc_widen){ !strncmp(p, "i8x16", 5) ? 0 : !strncmp(p, "i16x8", 5) ? 1 : 2,
                       strstr(name, "high") != NULL, name[n - 1] == 'u' };
}

/* The canonical NaN in every lane (deterministic mode). */
static const uint8_t canon_f32x4[16] = { 0, 0, 0xc0, 0x7f, 0, 0, 0xc0, 0x7f,
                                         0, 0, 0xc0, 0x7f, 0, 0, 0xc0, 0x7f };
static const uint8_t canon_f64x2[16] = { 0, 0, 0, 0, 0, 0, 0xf8, 0x7f,
                                         0, 0, 0, 0, 0, 0, 0xf8, 0x7f };

static bool push_v128(gc_ctx *c, const uint8_t *bytes)
{
    return push_reg(c, GT_V128, v128_const(c, bytes));
}

/* The same instruction with another opcode (a memory access of the
   scalar width, or a lane operation), lowered as usual. */
static bool lower_as(gc_ctx *c, const gv_insn *ins, uint16_t op);

/*
 * The 0xfd instructions a backend leaves to the shared code: constants,
 * the memory forms made of a scalar access and a lane operation, and the
 * rest through rt_simd.
 */
static bool simd_generic(gc_ctx *c, const gv_insn *ins)
{
    static const uint16_t ld_zx[4] = { GOP_I32_LOAD8_U, GOP_I32_LOAD16_U, GOP_I32_LOAD,
                                       GOP_I64_LOAD };
    static const uint16_t st_n[4] = { GOP_I32_STORE8, GOP_I32_STORE16, GOP_I32_STORE,
                                      GOP_I64_STORE };
    static const uint16_t splat[4] = { GOP_I8X16_SPLAT, GOP_I16X8_SPLAT, GOP_I32X4_SPLAT,
                                       GOP_I64X2_SPLAT };
    static const uint16_t repl[4] = { GOP_I8X16_REPLACE_LANE, GOP_I16X8_REPLACE_LANE,
                                      GOP_I32X4_REPLACE_LANE, GOP_I64X2_REPLACE_LANE };
    static const uint16_t extr[4] = { GOP_I8X16_EXTRACT_LANE_U, GOP_I16X8_EXTRACT_LANE_U,
                                      GOP_I32X4_EXTRACT_LANE, GOP_I64X2_EXTRACT_LANE };
    int x = gop_table[ins->op].x;
    switch (ins->op) {
    case GOP_V128_CONST:
        return push_v128(c, ins->imm.v128);
    case GOP_V128_LOAD8_SPLAT: case GOP_V128_LOAD16_SPLAT:
    case GOP_V128_LOAD32_SPLAT: case GOP_V128_LOAD64_SPLAT:
        return lower_as(c, ins, ld_zx[x]) && lower_as(c, ins, splat[x]);
    case GOP_V128_LOAD8X8_S: case GOP_V128_LOAD8X8_U: case GOP_V128_LOAD16X4_S:
    case GOP_V128_LOAD16X4_U: case GOP_V128_LOAD32X2_S: case GOP_V128_LOAD32X2_U: {
        static const uint16_t ext[6] = {
            GOP_I16X8_EXTEND_LOW_I8X16_S, GOP_I16X8_EXTEND_LOW_I8X16_U,
            GOP_I32X4_EXTEND_LOW_I16X8_S, GOP_I32X4_EXTEND_LOW_I16X8_U,
            GOP_I64X2_EXTEND_LOW_I32X4_S, GOP_I64X2_EXTEND_LOW_I32X4_U };
        return lower_as(c, ins, GOP_I64_LOAD) && lower_as(c, ins, GOP_I64X2_SPLAT) &&
               lower_as(c, ins, ext[ins->op - GOP_V128_LOAD8X8_S]);
    }
    case GOP_V128_LOAD32_ZERO: case GOP_V128_LOAD64_ZERO: {
        /* splat, then only lane 0 kept */
        uint8_t mask[16] = { 0 };
        memset(mask, 0xff, x == 2 ? 4 : 8);
        return lower_as(c, ins, ld_zx[x]) && lower_as(c, ins, splat[x]) &&
               push_v128(c, mask) && lower_as(c, ins, GOP_V128_AND);
    }
    case GOP_V128_LOAD8_LANE: case GOP_V128_LOAD16_LANE:
    case GOP_V128_LOAD32_LANE: case GOP_V128_LOAD64_LANE: {
        /* the vector aside in a register (TEMP: nothing takes it), the
           scalar loaded, both pushed back in wasm order for replace_lane */
        gc_val v = pop(c);
        int vr = in_reg(c, &v, VS(c)->nvals);
        if (!lower_as(c, ins, ld_zx[x]))
            return false;
        gc_val sv = pop(c);
        assert(sv.kind == K_REG);
        gv_insn rl = *ins;
        rl.op = repl[x];
        rl.imm.lane = ins->imm.mem.lane;
        return push_reg(c, GT_V128, vr) && push_reg(c, sv.type, sv.reg) && lower(c, &rl);
    }
    case GOP_V128_STORE8_LANE: case GOP_V128_STORE16_LANE:
    case GOP_V128_STORE32_LANE: case GOP_V128_STORE64_LANE: {
        gv_insn el = *ins;
        el.op = extr[x];
        el.imm.lane = ins->imm.mem.lane;
        return lower(c, &el) && lower_as(c, ins, st_n[x]);
    }
    case GOP_I8X16_SHUFFLE:
        return push_v128(c, ins->imm.v128) && simd_call(c, ins->op, 0, 3, false);
    }
    const char *sig = gop_table[ins->op].sig;
    uint32_t lane = gop_table[ins->op].imm == GIMM_LANE ? ins->imm.lane : 0;
    return simd_call(c, ins->op, lane, (uint32_t)(strchr(sig, ':') - sig), false);
}

/*
 * The stop check of loop headers and function entries: an inline test
 * (emit_stop_test: fuel, then the stack pointer against stack_limit, which
 * a stop request raises) that jumps to a stub after the function's body,
 * so the hot path falls through; the stub calls the slow path (a safe
 * point) and jumps back.  Values are in their slots here, as a safe point
 * needs.
 */
static bool stop_check(gc_ctx *c, uint64_t wasm)
{
    gc_vstack *s = VS(c);
    if (!grow(c, (void **)&s->stubs, &s->capstubs, s->nstubs + 1, sizeof *s->stubs))
        return false;
    gc_stub *st = &s->stubs[s->nstubs++];
    st->nat = 0;
    emit_stop_test(c, st);
    assert(st->nat >= 1 && st->nat <= 2);
    st->back = c->buf.n;
    st->wasm = (uint32_t)wasm;
    st->slots = live_slots(c);
    return true;
}

/* The stubs, in order (the safe-point map stays sorted: they follow every
   safe point of the body). */
static bool emit_stubs(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    for (uint32_t i = 0; i < s->nstubs; i++) {
        gc_stub *st = &s->stubs[i];
        if (!gc_reserve(&c->buf, GC_RED_ZONE))
            return oom(c);
        for (uint32_t k = 0; k < st->nat; k++)
            if (!patch(c, st->at[k], c->buf.n))
                return false;
        arg_imm(c, 1, 0, st->wasm);
        emit_helper_call(c, GH_SLOWPATH);
        if (!gc_add_safepoint(c, (uint32_t)c->buf.n, st->wasm, st->slots,
                              st->wasm == c->m->funcs[c->func].body_off ? GC_SP_ENTRY
                                                                        : GC_SP_LOOP))
            return false;
        reload_pinned(c);
        if (!patch(c, emit_jump(c), st->back))
            return false;
    }
    s->nstubs = 0;
    return true;
}

/* ---- br_table ------------------------------------------------------------ */

/* A bounds check, then a jump through a table of 32-bit offsets placed in
   the code; each entry leads to a stub that moves the label's values (if
   any) and jumps; one stub per distinct target (control.h). */
static bool lower_br_table(gc_ctx *c, const gv_insn *ins)
{
    gc_vstack *s = VS(c);
    uint32_t n = ins->imm.brtable.count;
    const uint32_t *tg = ins->imm.brtable.targets;
    int ri = pop_reg(c);
    flush(c);
    int idx = table_index(c, ri);
    release(c, GT_I32, ri);         /* the stubs move values with scratch registers */
    if (n == 0) {
        if (!branch(c, tg[0]))
            return false;
        set_dead(c);
        return true;
    }
    if (!gc_reserve(&c->buf, GC_RED_ZONE + (size_t)n * 4 + 64))
        return oom(c);
    size_t to_default;
    size_t table = emit_table_jump(c, idx, n, &to_default);
    memset(c->buf.p + table, 0, (size_t)n * 4);
    c->buf.n += (size_t)n * 4;
    size_t room = GC_RED_ZONE + PER_VALUE * (size_t)(stack_slots(s) + 8);
    if (!br_table_stubs(c, ins, table, room))
        return false;
    if (!gc_reserve(&c->buf, room))
        return oom(c);
    if (!patch(c, to_default, c->buf.n) || !branch(c, tg[n]))
        return false;
    set_dead(c);
    return true;
}

/* ---- the dispatch -------------------------------------------------------- */

static bool lower(gc_ctx *c, const gv_insn *ins)
{
    const gop_info *oi = &gop_table[ins->op];
    bool done;
    if (!lower_common(c, ins, PER_VALUE, &done))
        return false;
    if (done)
        return true;
    int kind = oi->lkind, w = oi->lw;
    switch ((gl_class)oi->lclass) {
    case GL_ALU: return lower_alu(c, kind, w);
    case GL_MUL: return lower_mul(c, w);
    case GL_DIVREM: return lower_divrem(c, ins, kind, w);
    case GL_SHIFT: return lower_shift(c, kind, w);
    case GL_CMP: return lower_cmp(c, kind, w);
    case GL_EQZ: return lower_eqz(c, w);
    case GL_BITCOUNT: return lower_bitcount(c, kind, w);
    case GL_FBIN: return lower_fbin(c, kind, w);
    case GL_FUNOP: return lower_funop(c, kind, w);
    case GL_FCMP: return lower_fcmp(c, kind, w);
    case GL_CONVERT: return lower_convert(c, ins, kind, w);
    case GL_LOAD: return lower_load(c, ins);
    case GL_STORE: return lower_store(c, ins);
    case GL_SIMD: return lower_simd(c, ins);
    case GL_NONE: break;
    }
    uint32_t x = ins->imm.index;
    int r;
    switch (ins->op) {
    case GOP_UNREACHABLE:
        if (!emit_trap(c, ins->offset, GATE_TRAP_UNREACHABLE))
            return false;
        set_dead(c);
        return true;
    case GOP_BR_TABLE: return lower_br_table(c, ins);
    case GOP_CALL: return lower_call(c, ins);
    case GOP_CALL_INDIRECT: return lower_call_indirect(c, ins);
    case GOP_SELECT: case GOP_SELECT_T: return lower_select(c);
    case GOP_GLOBAL_GET: case GOP_GLOBAL_SET: return lower_global(c, ins);
    case GOP_REF_IS_NULL: return lower_ref_is_null(c);
    case GOP_REF_FUNC:
        r = alloc_gpr(c);
        ld_vm(c, r, VM_FUNCS);
        ld_index(c, r, r, x);
        return push_reg(c, GT_FUNCREF, r);
    case GOP_MEMORY_SIZE:
        r = alloc_gpr(c);
        ld_vm(c, r, VM_MEM);
        ld_u32(c, r, r, MO_PAGES);
        return push_reg(c, GT_I32, r);
    case GOP_TABLE_SIZE:
        r = alloc_gpr(c);
        ld_vm(c, r, VM_TABLES);
        ld_index(c, r, r, x);
        ld_u32(c, r, r, TB_SIZE);
        return push_reg(c, GT_I32, r);
    case GOP_MEMORY_GROW: return lower_helper(c, ins, GH_MEMORY_GROW, 1, 0, 0, GT_I32);
    case GOP_MEMORY_FILL: return lower_helper(c, ins, GH_MEMORY_FILL, 3, 0, 0, 0);
    case GOP_MEMORY_COPY: return lower_helper(c, ins, GH_MEMORY_COPY, 3, 0, 0, 0);
    case GOP_MEMORY_INIT: return lower_helper(c, ins, GH_MEMORY_INIT, 3, ins->imm.pair.a, 0, 0);
    case GOP_DATA_DROP: return lower_helper(c, ins, GH_DATA_DROP, 0, x, 0, 0);
    case GOP_TABLE_GET:
        return lower_helper(c, ins, GH_TABLE_GET, 1, x, 0, c->m->tables[x].elem);
    case GOP_TABLE_SET: return lower_helper(c, ins, GH_TABLE_SET, 2, x, 0, 0);
    case GOP_TABLE_GROW: return lower_helper(c, ins, GH_TABLE_GROW, 2, x, 0, GT_I32);
    case GOP_TABLE_FILL: return lower_helper(c, ins, GH_TABLE_FILL, 3, x, 0, 0);
    case GOP_TABLE_COPY:
        return lower_helper(c, ins, GH_TABLE_COPY, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_TABLE_INIT:
        return lower_helper(c, ins, GH_TABLE_INIT, 3, ins->imm.pair.a, ins->imm.pair.b, 0);
    case GOP_ELEM_DROP: return lower_helper(c, ins, GH_ELEM_DROP, 0, x, 0, 0);
    }
    return unsupported(c, ins->offset, oi->name);
}

static bool lower_as(gc_ctx *c, const gv_insn *ins, uint16_t op)
{
    gv_insn as = *ins;
    as.op = op;
    return lower(c, &as);
}

/* ---- the contract -------------------------------------------------------- */

static bool begin_module(gc_ctx *c)
{
    GC_STATE *s = gx_malloc(&c->alloc, sizeof *s);
    if (!s)
        return oom(c);
    memset(s, 0, sizeof *s);
    c->be = s;
    return isa_begin_module(c);
}

static bool begin_func(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    const gd_functype *ft = gd_func_type(c->m, c->func);
    uint64_t entry = c->m->funcs[c->func].body_off;
    if (!vs_begin_func(c))
        return false;
    if (!gc_reserve(&c->buf, GC_RED_ZONE + PER_VALUE / 2 * (size_t)s->nlslots))
        return oom(c);
    if (!emit_prologue(c))
        return false;
    /* params from the caller's area, zeroes for the other locals (slots:
       the area's words are in the slots' order, v128 halves included) */
    uint32_t pslots = local_slot(s, ft->nparams);
    if (!has_v128(ft->params, ft->nparams))
        copy_words(c, FRAME_REG, 16, 1, FRAME_REG, slot_disp(0), -1, pslots);
    else
        for (uint32_t i = 0; i < ft->nparams; i++)
            area_to_slots(c, FRAME_REG, 16 + 8 * (int64_t)local_slot(s, i), local_slot(s, i),
                          ft->params[i]);
    zero_locals(c, pslots, s->nlslots);
    if (!push_ctl(c, GOP_CALL, 0, ft->nresults))
        return false;
    /* function entry: a safe point with the params in place */
    return stop_check(c, entry);
}

/* The frame: vmctx, the slots of locals and operand stack, the outgoing
   area; 16-byte aligned. */
static bool end_func(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    /* wide: two slots per value at most, and room for the one v128 the
       SIMD lowerings may push beyond the validator's height (a mask) */
    uint64_t vals = s->wide ? 2 * (uint64_t)c->maxvals + 2 : c->maxvals;
    uint64_t frame = 8 * (1 + (uint64_t)s->nlslots + vals + s->maxout);
    frame = (frame + 15) & ~(uint64_t)15;
    if (frame > 0x7fff0000u)
        return gx_fail(c->err, GATE_ERR_LIMIT, c->m->funcs[c->func].body_off, c->func,
                       "stack frame too large");
    patch_frame(c, (uint32_t)frame);
    c->out->func_frame[c->func - c->m->nfunc_imports] = (uint32_t)frame;
    return emit_stubs(c);
}

static void free_module(gc_ctx *c)
{
    GC_STATE *s = c->be;
    if (!s)
        return;
    vs_free(c);
    gx_free(&c->alloc, s, sizeof *s);
    c->be = NULL;
}

#define GC_BACKEND(sym, nm, tgt)                                                       \
    const gc_backend sym = { .name = nm, .target = tgt, .begin_module = begin_module, \
                             .begin_func = begin_func, .lower = lower,               \
                             .end_func = end_func, .patch_call = patch_call,         \
                             .free_module = free_module }

#endif /* GATE_LOWER_H */
