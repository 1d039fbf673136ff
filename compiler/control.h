/*
 * control.h - structured control flow for both backends, on the value
 * stack of vstack.h: blocks, loops, if/else, block ends with their
 * merges, branches that move a label's values, and how a br_table's
 * targets find their stubs.  Every merge point and safe point sees all
 * values in their canonical slots, which is what the safe-point maps
 * describe.
 *
 * Header-only, included after vstack.h.  The backend defines
 *     FRAME_REG                      the register slots are addressed from
 *     static gc_cond pop_cond(gc_ctx *c);
 *         pops a condition: flags (reg < 0, cc true) or an i32 register
 *     static size_t jump_when(gc_ctx *c, gc_cond k, bool truth);
 *         a jump taken when the condition is `truth`, to be patched (may
 *         be a long form in a function compiled for far branches)
 *     static size_t skip_unless(gc_ctx *c, gc_cond k);
 *         a short jump over the next few instructions, taken when the
 *         condition is false
 *     static size_t emit_jump(gc_ctx *c);      an unconditional jump
 *     static bool patch(gc_ctx *c, size_t at, size_t target);
 *     static bool emit_return(gc_ctx *c);      results out, frame gone
 *     static bool stop_check(gc_ctx *c, uint64_t wasm_off);
 *     static void materialize_flags(gc_ctx *c);   the flags on top into 0/1
 *     static void store_local(gc_ctx *c, uint32_t l, gc_val *v);
 *     static void copy_words(gc_ctx *c, int sb, int64_t sd, int ss,
 *                            int db, int64_t dd, int ds, uint32_t n);
 *         n words, word i from [sb + sd + 8*ss*i] to [db + dd + 8*ds*i],
 *         in increasing i (a move down between overlapping ranges is right)
 */
#ifndef GATE_CONTROL_H
#define GATE_CONTROL_H

#include "vstack.h"

typedef struct gc_cond {
    int cc, reg;            /* reg >= 0: the value in reg, true when nonzero */
} gc_cond;

static gc_cond pop_cond(gc_ctx *c);
static size_t jump_when(gc_ctx *c, gc_cond k, bool truth);
static size_t skip_unless(gc_ctx *c, gc_cond k);
static size_t emit_jump(gc_ctx *c);
static bool patch(gc_ctx *c, size_t at, size_t target);
static bool emit_return(gc_ctx *c);
static bool stop_check(gc_ctx *c, uint64_t wasm_off);
static void materialize_flags(gc_ctx *c);
static void store_local(gc_ctx *c, uint32_t l, gc_val *v);
static void copy_words(gc_ctx *c, int sb, int64_t sd, int ss, int db, int64_t dd, int ds,
                       uint32_t n);

/* Moves of more values than this are a loop (copy_words). */
#define COPY_UNROLL 16u

/* where slot k's word is, from FRAME_REG: [fp - 16 - 8k] */
static inline int64_t slot_disp(uint32_t k)
{
    return -16 - 8 * (int64_t)k;
}

/* The top n values down to `height` (their label's place); flushed already. */
static void move_down(gc_ctx *c, uint32_t n, uint32_t height)
{
    gc_vstack *s = VS(c);
    uint32_t from = s->nvals - n;
    if (from == height)
        return;
    copy_words(c, FRAME_REG, slot_disp(val_slot(s, from)), -1, FRAME_REG,
               slot_disp(val_slot(s, height)), -1, slot_span(s, from, s->nvals));
}

static inline uint32_t label_arity(const gc_ctl *k)
{
    return k->op == GOP_LOOP ? k->nparams : k->nresults;
}

/* Branch to the label of frame depth d; values flushed already. */
static bool branch(gc_ctx *c, uint32_t d)
{
    gc_vstack *s = VS(c);
    assert(d < s->nctls);
    gc_ctl *k = &s->ctls[s->nctls - 1 - d];
    move_down(c, label_arity(k), k->height);
    size_t j = emit_jump(c);
    if (k->op == GOP_LOOP)
        return patch(c, j, k->loop_pc);
    return add_fix(c, k, j);
}

/* Branch to depth d when k holds; values flushed already. */
static bool branch_if(gc_ctx *c, gc_cond k, uint32_t d)
{
    gc_vstack *s = VS(c);
    gc_ctl *l = &s->ctls[s->nctls - 1 - d];
    uint32_t n = label_arity(l);
    if (n == 0 || s->nvals - n == l->height) {
        /* nothing to move: one conditional jump to the label */
        size_t f = jump_when(c, k, true);
        if (l->op == GOP_LOOP)
            return patch(c, f, l->loop_pc);
        return add_fix(c, l, f);
    }
    size_t skip = skip_unless(c, k);
    if (!branch(c, d))
        return false;
    return patch(c, skip, c->buf.n);
}

/*
 * br_table's stubs, after the backend's dispatch and its table of n
 * 32-bit offsets (from the table's start) at `table`: one stub per
 * distinct label, made on first use; the label keeps it under this
 * br_table's mark, so nothing here is sized by the nesting depth.  Each
 * stub may move all of its label's values: `reserve` is the code space
 * one needs.
 */
static bool br_table_stubs(gc_ctx *c, const gv_insn *ins, size_t table, size_t reserve)
{
    gc_vstack *s = VS(c);
    uint32_t n = ins->imm.brtable.count;
    const uint32_t *tg = ins->imm.brtable.targets;
    uint32_t mark = ++s->brtables;
    for (uint32_t i = 0; i < n; i++) {
        gc_ctl *k = &s->ctls[s->nctls - 1 - tg[i]];
        if (k->bt_mark != mark) {
            if (!gc_reserve(&c->buf, reserve))
                return oom(c);
            k->bt_mark = mark;
            k->bt_stub = c->buf.n;
            if (!branch(c, tg[i]))
                return false;
        }
        int32_t rel = (int32_t)((int64_t)k->bt_stub - (int64_t)table);
        memcpy(c->buf.p + table + (size_t)i * 4, &rel, 4);
    }
    return true;
}

/* The end of a frame whose types come with the instruction. */
static bool lower_end(gc_ctx *c, const gv_insn *ins)
{
    gc_vstack *s = VS(c);
    gc_ctl *k = &s->ctls[s->nctls - 1];
    const uint8_t *results = ins->imm.block.results;
    uint32_t nresults = ins->imm.block.nresults;
    assert(s->nctls > 0 && nresults == k->nresults);
    bool live = !s->dead;
    if (live && s->nctls > 1)
        flush(c);
    if (s->nctls == 1) {
        /* the function's end */
        if (live && !emit_return(c))
            return false;
        for (uint32_t i = 0; i < k->nfix; i++)
            if (!patch(c, k->fix[i], c->buf.n))
                return false;
        if (k->nfix) {
            truncate_to(c, 0);
            if (!push_slots(c, results, nresults) || !emit_return(c))
                return false;
        }
        k->nfix = 0;
        s->nctls--;
        return true;
    }
    bool reached = live || k->nfix > 0;
    if (k->else_fix != SIZE_MAX) {
        /* if without else: the false edge arrives here with params == results */
        if (!patch(c, k->else_fix, c->buf.n))
            return false;
        reached = true;
    }
    for (uint32_t i = 0; i < k->nfix; i++)
        if (!patch(c, k->fix[i], c->buf.n))
            return false;
    uint32_t height = k->height;
    bool dead_entry = k->dead_entry;
    k->nfix = 0;
    s->nctls--;
    if (live && !dead_entry && s->clean == s->nvals && s->nvals >= height &&
        s->nvals - height == nresults) {
        /* the results are the stack's top, all in their slots, which is
           what every branch here left too: nothing to redo (a block may
           have 1,000 results, nested 1,000 deep) */
        return true;
    }
    truncate_to(c, height);
    if (dead_entry) {
        s->dead = true;
        return true;
    }
    s->dead = !reached;
    return push_slots(c, results, nresults);
}

/* block, loop, if, else, end */
static bool lower_control(gc_ctx *c, const gv_insn *ins)
{
    gc_vstack *s = VS(c);
    switch (ins->op) {
    case GOP_BLOCK:
    case GOP_LOOP: {
        if (!s->dead)
            flush(c);
        if (!push_ctl(c, ins->op, ins->imm.block.nparams, ins->imm.block.nresults))
            return false;
        if (ins->op == GOP_LOOP && !s->dead) {
            s->ctls[s->nctls - 1].loop_pc = c->buf.n;
            return c->no_loop_checks || stop_check(c, ins->offset);
        }
        return true;
    }
    case GOP_IF: {
        if (s->dead)
            return push_ctl(c, GOP_IF, ins->imm.block.nparams, ins->imm.block.nresults);
        gc_cond k = pop_cond(c);
        flush(c);           /* stores and moves only: the flags survive */
        size_t f = jump_when(c, k, false);
        if (k.reg >= 0)
            release(c, GT_I32, k.reg);
        if (!push_ctl(c, GOP_IF, ins->imm.block.nparams, ins->imm.block.nresults))
            return false;
        s->ctls[s->nctls - 1].else_fix = f;
        return true;
    }
    case GOP_ELSE: {
        gc_ctl *k = &s->ctls[s->nctls - 1];
        assert(k->op == GOP_IF && ins->imm.block.nparams == k->nparams);
        if (k->dead_entry)
            return true;
        if (!s->dead) {
            flush(c);
            if (!add_fix(c, k, emit_jump(c)))
                return false;
        }
        truncate_to(c, k->height);
        if (!patch(c, k->else_fix, c->buf.n))
            return false;
        k->else_fix = SIZE_MAX;
        s->dead = false;
        return push_slots(c, ins->imm.block.params, ins->imm.block.nparams);
    }
    case GOP_END:
        return lower_end(c, ins);
    }
    return true;
}

/*
 * What every backend does alike before and instead of its own lowering:
 * room for the instruction (per_value bytes of code for each live value,
 * more than any lowering emits for one), a comparison left in the flags
 * made a value unless this instruction branches or selects on it,
 * control, dead code, and the instructions that only move values.
 * Returns with *done false for the backend to lower ins itself.
 */
static bool lower_common(gc_ctx *c, const gv_insn *ins, size_t per_value, bool *done)
{
    gc_vstack *s = VS(c);
    uint16_t op = ins->op;
    *done = true;
    if (!gc_reserve(&c->buf, GC_RED_ZONE + per_value * ((size_t)stack_slots(s) + 8)))
        return oom(c);
    if (!s->dead && top_is_flags(c) && op != GOP_BR_IF && op != GOP_IF && op != GOP_SELECT &&
        op != GOP_SELECT_T && op != GOP_I32_EQZ)
        materialize_flags(c);
    if (op == GOP_BLOCK || op == GOP_LOOP || op == GOP_IF || op == GOP_ELSE || op == GOP_END)
        return lower_control(c, ins);
    if (s->dead)
        return true;
    switch (op) {
    case GOP_NOP:
        return true;
    case GOP_BR:
        flush(c);
        if (!branch(c, ins->imm.index))
            return false;
        set_dead(c);
        return true;
    case GOP_BR_IF: {
        gc_cond k = pop_cond(c);
        flush(c);           /* stores and moves only: the flags survive */
        bool ok = branch_if(c, k, ins->imm.index);
        if (k.reg >= 0)
            release(c, GT_I32, k.reg);
        return ok;
    }
    case GOP_RETURN:
        if (!emit_return(c))
            return false;
        set_dead(c);
        return true;
    case GOP_DROP: {
        gc_val v = pop(c);
        if (v.kind == K_REG)
            release(c, v.type, v.reg);
        return true;
    }
    case GOP_LOCAL_GET:     /* loaded where it is used */
        return push_local(c, c->locals[ins->imm.index], ins->imm.index);
    case GOP_LOCAL_SET:
    case GOP_LOCAL_TEE: {
        gc_val v = pop(c);
        local_written(c, ins->imm.index);    /* its readers get the old value */
        store_local(c, ins->imm.index, &v);
        if (op == GOP_LOCAL_TEE) {
            if (v.kind == K_REG)
                return push_reg(c, v.type, v.reg);
            if (v.kind == K_LOCAL)
                return push_local(c, v.type, (uint32_t)v.k);
            return push_val(c, v.kind, v.type, -1, v.k);
        }
        if (v.kind == K_REG)
            release(c, v.type, v.reg);
        return true;
    }
    case GOP_I32_CONST:
        return push_val(c, K_CONST, GT_I32, -1, (int64_t)(uint32_t)ins->imm.i32);
    case GOP_I64_CONST:
        return push_val(c, K_CONST, GT_I64, -1, ins->imm.i64);
    case GOP_F32_CONST:
        return push_val(c, K_CONST, GT_F32, -1, ins->imm.f32);
    case GOP_F64_CONST:
        return push_val(c, K_CONST, GT_F64, -1, (int64_t)ins->imm.f64);
    case GOP_REF_NULL:
        return push_val(c, K_CONST, ins->imm.type, -1, 0);
    }
    *done = false;
    return true;
}

#endif /* GATE_CONTROL_H */
