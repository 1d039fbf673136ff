/*
 * vstack.h - the single-pass compiler's value stack, shared by both
 * backends: where each operand-stack value is (its slot, a register, a
 * constant, the flags, or still in a local), which registers hold what,
 * the control frames with their fixups, dead code, and the watermarks and
 * chains that keep every search bounded by what it touches.
 *
 * Header-only: a backend includes it after defining its register pools
 *     static const int8_t gpr_pool[], fpr_pool[];  #define NGPR, NFPR
 * and defines the one ISA hook it calls:
 *     static void store_slot(gc_ctx *c, uint32_t i);
 * which emits the store of stack value i (wherever it is) into its slot.
 * The backend's own state starts with a gc_vstack (VS(c) reaches it).
 */
#ifndef GATE_VSTACK_H
#define GATE_VSTACK_H

#include <assert.h>
#include <stddef.h>
#include <string.h>

#include "backend.h"

/* Where a value is: its stack slot, a register, a constant (k), the flags
   (a comparison, k = the condition meaning true), or still in local k's
   slot (a local.get not yet loaded; a write of that local first puts such
   values in their slots). */
enum { K_SLOT, K_REG, K_CONST, K_FLAGS, K_LOCAL };

#define GC_NONE UINT32_MAX
enum { FREE = -1, TEMP = -2 };      /* owner[]: a stack index, or these */

typedef struct gc_val {
    uint8_t kind, type;
    int8_t reg;
    uint32_t lprev;             /* K_LOCAL: the next deferred read of the same
                                   local further down, or GC_NONE */
    int64_t k;
} gc_val;

typedef struct gc_ctl {
    uint16_t op;
    bool dead_entry;            /* entered while the code was unreachable */
    uint32_t height;            /* operand stack height below the params */
    uint32_t nparams, nresults;
    size_t loop_pc;
    size_t else_fix;            /* SIZE_MAX: none */
    size_t *fix;                /* forward branches to the end */
    uint32_t nfix, capfix;
    uint32_t bt_mark;           /* br_table: this label's stub is bt_stub when */
    size_t bt_stub;             /* bt_mark is the br_table's number */
} gc_ctl;

/* The out-of-line part of a stop check (compiler/lower.h): the jumps in,
   the place to return to, the safe point's wasm offset and slot count. */
typedef struct gc_stub {
    size_t at[2];
    uint32_t nat;
    size_t back;
    uint32_t wasm, slots;
} gc_stub;

typedef struct gc_lchain {
    uint32_t head, gen;
} gc_lchain;

typedef struct gc_vstack {
    gc_val *vals;
    uint32_t nvals, capvals;
    /* vals[0..clean) are all in their slots: what flushes scan starts
       here, so each costs what it writes, not the depth of the stack */
    uint32_t clean;
    /* no value below lowgpr (lowfpr) is in a general (FP) register: where
       the search for a register to take back starts */
    uint32_t lowgpr, lowfpr;
    /* per local, the topmost deferred read of it (K_LOCAL) on the stack,
       valid where gen matches (so nothing is cleared per function): a
       local.set spills exactly those, however deep the stack */
    gc_lchain *lch;
    uint32_t caplocals, gen;
    uint32_t brtables;          /* br_tables lowered so far (their marks) */
    /* vals[lz_lo..lz_hi) are values in their slots whose entries are not
       written yet: their types are in ltypes (so a call's or a block's
       1,000 results cost one memcpy).  The region lies below clean and
       more than GC_LAZY_WINDOW below the top, where nothing but pops
       reach; pops and truncations write its entries as the top comes near. */
    uint32_t lz_lo, lz_hi;
    uint8_t *ltypes;
    uint32_t capltypes;
    gc_ctl *ctls;
    uint32_t nctls, capctls;
    int32_t owner[32];          /* general registers: stack index, FREE, TEMP */
    int32_t fowner[32];         /* FP registers */
    bool dead;
    uint32_t nlocals;
    uint32_t maxout;            /* words of the outgoing area */
    size_t frame_patch;
    gc_stub *stubs;             /* stop checks' slow paths, at the function's end */
    uint32_t nstubs, capstubs;
    /* Two slots per v128 (../shared/DESIGN.md): once a function has a
       v128 local or value it is wide, and slotof[i] is stack entry i's
       first slot (slotof[nvals] the next free one), lslot[l] local l's
       (lslot[nlocals] = nlslots).  A function without one never pays. */
    bool wide, wide_locals;
    uint32_t *slotof, capslotof;
    uint32_t *lslot, caplslot;
    uint32_t nlslots;
} gc_vstack;

#define VS(c) ((gc_vstack *)(c)->be)
#define GC_LAZY_WINDOW 32u

static inline uint32_t val_slot(const gc_vstack *s, uint32_t i)
{
    return __builtin_expect(s->wide, 0) ? s->slotof[i] : s->nlocals + i;
}

/* Slots a value of type t takes: a v128's low 64 bits in the first, its
   high 64 bits in the second (the portable order; the backends' slot
   loads and stores of v128 keep it). */
static inline uint32_t slot_width(uint8_t t)
{
    return t == GT_V128 ? 2 : 1;
}

static void store_slot(gc_ctx *c, uint32_t i);

static inline bool is_fp(uint8_t t)
{
    return t == GT_F32 || t == GT_F64;
}

/* The register file a value of type t lives in: general registers, or
   the FP/vector ones (xmm, v), where v128 values will live too. */
enum { RC_GPR, RC_FPR };
static inline int reg_class(uint8_t t)
{
    /* v128 0x7b, f64 0x7c, f32 0x7d: one compare */
    _Static_assert(GT_F64 == GT_V128 + 1 && GT_F32 == GT_V128 + 2, "value type codes");
    return (uint8_t)(t - GT_V128) <= 2 ? RC_FPR : RC_GPR;
}

/* Where things are, in slots of 8 bytes (the safe-point maps and
   snapshots count the same way): locals first, then the operand stack.
   One place says it, so that a v128 can take two (../shared/DESIGN.md). */
static inline uint32_t local_slot(const gc_vstack *s, uint32_t l)
{
    return __builtin_expect(s->wide_locals, 0) ? s->lslot[l] : l;
}

/* The slots of the stack entries [from, to). */
static inline uint32_t slot_span(const gc_vstack *s, uint32_t from, uint32_t to)
{
    return val_slot(s, to) - val_slot(s, from);
}

static inline bool oom(gc_ctx *c)
{
    return gx_fail(c->err, GATE_ERR_NOMEM, UINT64_MAX, c->func, "out of memory");
}

static bool grow(gc_ctx *c, void **p, uint32_t *cap, uint32_t need, size_t each)
{
    if (need <= *cap)
        return true;
    uint32_t ncap = *cap ? *cap : 16;
    while (ncap < need)
        ncap *= 2;
    void *np = gx_realloc(&c->alloc, *p, (size_t)*cap * each, (size_t)ncap * each);
    if (!np)
        return oom(c);
    *p = np;
    *cap = ncap;
    return true;
}

/* ---- deferred local reads ------------------------------------------------ */

static inline uint32_t lhead_get(const gc_vstack *s, uint32_t l)
{
    return s->lch[l].gen == s->gen ? s->lch[l].head : GC_NONE;
}

static inline void lhead_set(gc_vstack *s, uint32_t l, uint32_t v)
{
    s->lch[l] = (gc_lchain){ v, s->gen };
}

/* ---- registers ----------------------------------------------------------- */

static inline int32_t *owners(gc_vstack *s, int cls)
{
    return cls == RC_FPR ? s->fowner : s->owner;
}

static inline void release(gc_ctx *c, uint8_t type, int r)
{
    if (r < 0)
        return;
    owners(VS(c), reg_class(type))[r] = FREE;     /* r is from a pool: below 32 */
}

/* Puts stack entry i into its canonical slot. */
static void spill(gc_ctx *c, uint32_t i)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[i];
    if (v->kind == K_SLOT)
        return;
    store_slot(c, i);
    /* a deferred read is spilled by a flush or by a write of its local,
       both of which spill every read of that local: its chain empties */
    if (v->kind == K_LOCAL)
        lhead_set(s, (uint32_t)v->k, GC_NONE);
    if (v->kind == K_REG) {
        assert(owners(s, reg_class(v->type))[v->reg] == (int32_t)i);
        owners(s, reg_class(v->type))[v->reg] = FREE;
    }
    v->kind = K_SLOT;
    v->reg = -1;
}

/* Everything into its slot.  Stores and moves only: the flags survive. */
static void flush(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    for (uint32_t i = s->clean; i < s->nvals; i++)
        if (s->vals[i].kind != K_SLOT)
            spill(c, i);
    s->clean = s->nvals;
}

/* A free register of the pool (TEMP from now on), else the deepest stack
   value held in one is spilled and its register taken. */
static int take_reg(gc_ctx *c, int cls)
{
    gc_vstack *s = VS(c);
    int32_t *own = owners(s, cls);
    const int8_t *pool = cls == RC_FPR ? fpr_pool : gpr_pool;
    int n = cls == RC_FPR ? NFPR : NGPR;
    for (int i = 0; i < n; i++)
        if (own[pool[i]] == FREE) {
            own[pool[i]] = TEMP;
            return pool[i];
        }
    uint32_t *low = cls == RC_FPR ? &s->lowfpr : &s->lowgpr;
    for (uint32_t i = s->clean > *low ? s->clean : *low; i < s->nvals; i++)
        if (s->vals[i].kind == K_REG && reg_class(s->vals[i].type) == cls) {
            int r = s->vals[i].reg;
            spill(c, i);
            own[r] = TEMP;
            *low = i + 1;
            return r;
        }
    assert(!"no register to take: at most 3 temps are held at once");
    return pool[0];
}

static inline int alloc_gpr(gc_ctx *c) { return take_reg(c, RC_GPR); }
static inline int alloc_fpr(gc_ctx *c) { return take_reg(c, RC_FPR); }
static inline int alloc_reg(gc_ctx *c, uint8_t type) { return take_reg(c, reg_class(type)); }

/* ---- pushing and popping ------------------------------------------------- */

/* Entries of the lazy region the top has come near are written (at most
   what the top moved down by since the last call, plus the window). */
static void lazy_settle(gc_vstack *s)
{
    uint32_t top = s->nvals > GC_LAZY_WINDOW ? s->nvals - GC_LAZY_WINDOW : 0;
    while (s->lz_hi > s->lz_lo && s->lz_hi > top) {
        uint32_t i = --s->lz_hi;
        s->vals[i] = (gc_val){ .kind = K_SLOT, .type = s->ltypes[i], .reg = -1 };
    }
    if (s->lz_hi == s->lz_lo)
        s->lz_lo = s->lz_hi = 0;
}

/* The stack becomes wide (a first v128 value): the entries so far take
   one slot each. */
static bool go_wide(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    if (!grow(c, (void **)&s->slotof, &s->capslotof, s->capvals + 2, sizeof *s->slotof))
        return false;
    for (uint32_t i = 0; i <= s->nvals; i++)
        s->slotof[i] = s->nlslots + i;
    s->wide = true;
    return true;
}

/* Slots of the n entries pushed last (types from vals).  A wide stack
   keeps room for capvals + 2 slot numbers, so push_val writes one
   without asking. */
static bool wide_pushed(gc_ctx *c, uint32_t n, const uint8_t *types)
{
    gc_vstack *s = VS(c);
    if (!s->wide && !go_wide(c))
        return false;
    if (!grow(c, (void **)&s->slotof, &s->capslotof, s->capvals + 2, sizeof *s->slotof))
        return false;
    for (uint32_t i = s->nvals - n; i < s->nvals; i++)
        s->slotof[i + 1] = s->slotof[i] + slot_width(types[i - (s->nvals - n)]);
    return true;
}

static inline __attribute__((always_inline)) bool push_val(gc_ctx *c, uint8_t kind,
                                                          uint8_t type, int reg, int64_t k)
{
    gc_vstack *s = VS(c);
    if (__builtin_expect(s->nvals == s->capvals, 0) &&
        (!grow(c, (void **)&s->vals, &s->capvals, s->nvals + 1, sizeof *s->vals) ||
         (s->wide && !grow(c, (void **)&s->slotof, &s->capslotof, s->capvals + 2,
                           sizeof *s->slotof))))
        return false;
    if (__builtin_expect(s->wide || type == GT_V128, 0)) {
        /* its slots, from the entries below */
        if (__builtin_expect(!s->wide, 0) && !go_wide(c))
            return false;
        s->slotof[s->nvals + 1] = s->slotof[s->nvals] + slot_width(type);
    }
    s->vals[s->nvals] = (gc_val){ .kind = kind, .type = type, .reg = (int8_t)reg, .k = k };
    if (kind == K_REG)          /* reg is from a pool (hot: no assert) */
        owners(s, reg_class(type))[reg] = (int32_t)s->nvals;
    s->nvals++;
    return true;
}

static inline __attribute__((always_inline)) bool push_reg(gc_ctx *c, uint8_t type, int reg)
{
    return push_val(c, K_REG, type, reg, 0);
}

/* A deferred read of local l, linked into that local's chain. */
static inline __attribute__((always_inline)) bool push_local(gc_ctx *c, uint8_t t, uint32_t l)
{
    gc_vstack *s = VS(c);
    if (!push_val(c, K_LOCAL, t, -1, l))
        return false;
    s->vals[s->nvals - 1].lprev = lhead_get(s, l);
    lhead_set(s, l, s->nvals - 1);
    return true;
}

/* Pops the top entry; a register it held becomes TEMP (still reserved). */
static inline __attribute__((always_inline)) gc_val pop(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    gc_val v = s->vals[--s->nvals];   /* validated code never pops an empty stack */
    if (s->clean > s->nvals)
        s->clean = s->nvals;
    if (s->lowgpr > s->nvals)
        s->lowgpr = s->nvals;
    if (s->lowfpr > s->nvals)
        s->lowfpr = s->nvals;
    if (v.kind == K_LOCAL)
        lhead_set(s, (uint32_t)v.k, v.lprev);     /* it was the topmost */
    if (__builtin_expect(s->lz_hi != s->lz_lo, 0))
        lazy_settle(s);
    if (v.kind == K_REG)
        owners(s, reg_class(v.type))[v.reg] = TEMP;
    return v;
}

/* The top value, a comparison so far, now in register r (0 or 1). */
static inline void top_now_in(gc_ctx *c, int r)
{
    gc_vstack *s = VS(c);
    gc_val *v = &s->vals[s->nvals - 1];
    v->kind = K_REG;
    v->reg = (int8_t)r;
    s->owner[r] = (int32_t)(s->nvals - 1);
    if (s->lowgpr > s->nvals - 1)
        s->lowgpr = s->nvals - 1;
}

static inline bool top_is_flags(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    return s->nvals && s->vals[s->nvals - 1].kind == K_FLAGS;
}

/* Drops everything above `height` (dead code follows, or a block ends). */
static void truncate_to(gc_ctx *c, uint32_t height)
{
    gc_vstack *s = VS(c);
    while (s->nvals > height && s->nvals > s->clean) {
        gc_val v = pop(c);
        if (v.kind == K_REG)
            release(c, v.type, v.reg);
    }
    if (s->nvals > height) {
        /* the rest are in their slots: nothing to release, all at once */
        s->nvals = s->clean = height;
        if (s->lowgpr > height)
            s->lowgpr = height;
        if (s->lowfpr > height)
            s->lowfpr = height;
        if (s->lz_hi > height)
            s->lz_hi = height > s->lz_lo ? height : s->lz_lo;
        lazy_settle(s);
    }
}

/* Pushes n values in their slots (all at once: a block may have 1,000). */
static bool push_slots(gc_ctx *c, const uint8_t *types, uint32_t n)
{
    gc_vstack *s = VS(c);
    if (!grow(c, (void **)&s->vals, &s->capvals, s->nvals + n, sizeof *s->vals))
        return false;
    bool clean = s->clean == s->nvals;
    uint32_t base = s->nvals, end = s->nvals + n;
    const uint8_t *types0 = types;
    uint32_t n0 = n;
    if (clean && n > 2 * GC_LAZY_WINDOW) {
        /* all of them but the top window lazily: their types in one copy
           (the lazy region grows from below: the entries between it and
           here are in their slots, as the whole stack is, and get their
           types recorded too) */
        if (!grow(c, (void **)&s->ltypes, &s->capltypes, end, 1))
            return false;
        uint32_t lo = s->lz_hi != s->lz_lo ? s->lz_hi : base;
        if (s->lz_hi == s->lz_lo)
            s->lz_lo = base;
        for (uint32_t i = lo; i < base; i++)
            s->ltypes[i] = s->vals[i].type;
        memcpy(s->ltypes + base, types, n);
        s->lz_hi = end - GC_LAZY_WINDOW;
        types += s->lz_hi - base;
        s->nvals = s->lz_hi;
        n = GC_LAZY_WINDOW;
    }
    /* kind, type and reg only (a slot value has no k or lprev), as one
       word per value: byte stores into a just-cleared entry stall */
    _Static_assert(offsetof(gc_val, kind) == 0 && offsetof(gc_val, type) == 1 &&
                   offsetof(gc_val, reg) == 2 && sizeof(gc_val) == 16, "gc_val layout");
    for (uint32_t i = 0; i < n; i++) {
        uint32_t w = K_SLOT | (uint32_t)types[i] << 8 | 0xffu << 16;   /* reg -1 */
        memcpy(&s->vals[s->nvals + i], &w, 4);
    }
    s->nvals += n;
    if (clean)
        s->clean = s->nvals;
    if (__builtin_expect(s->wide, 0) || (n0 && memchr(types0, GT_V128, n0)))
        return wide_pushed(c, n0, types0);
    return true;
}

/* Before local l is written: the values still reading it take its old
   value into their slots. */
static void local_written(gc_ctx *c, uint32_t l)
{
    gc_vstack *s = VS(c);
    for (uint32_t k = lhead_get(s, l); k != GC_NONE;) {
        uint32_t next = s->vals[k].lprev;
        assert(s->vals[k].kind == K_LOCAL && s->vals[k].k == (int64_t)l);
        spill(c, k);
        k = next;
    }
}

/* Slots of the operand stack (its values, when no v128 is there). */
static inline uint32_t stack_slots(const gc_vstack *s)
{
    return val_slot(s, s->nvals) - s->nlslots;
}

/* Slots of a list of types (a call's arguments or results). */
static inline uint32_t types_slots(const uint8_t *t, uint32_t n)
{
    uint32_t w = n;
    for (uint32_t i = 0; i < n; i++)
        w += t[i] == GT_V128;
    return w;
}

static inline uint32_t live_slots(gc_ctx *c)
{
    return val_slot(VS(c), VS(c)->nvals);
}

static inline void note_out(gc_ctx *c, uint32_t n)
{
    if (n > VS(c)->maxout)
        VS(c)->maxout = n;
}

/* ---- control frames ------------------------------------------------------ */

static bool push_ctl(gc_ctx *c, uint16_t op, uint32_t np, uint32_t nr)
{
    gc_vstack *s = VS(c);
    uint32_t old = s->capctls;
    if (!grow(c, (void **)&s->ctls, &s->capctls, s->nctls + 1, sizeof *s->ctls))
        return false;
    if (s->capctls > old)           /* new entries own no fixup arrays yet */
        memset(s->ctls + old, 0, (size_t)(s->capctls - old) * sizeof *s->ctls);
    /* a frame keeps its fixup array from one block to the next */
    uint32_t floor = s->nctls ? s->ctls[s->nctls - 1].height : 0;
    gc_ctl *k = &s->ctls[s->nctls++];
    size_t *fix = k->fix;
    uint32_t capfix = k->capfix;
    *k = (gc_ctl){ .op = op, .dead_entry = s->dead,
                   .height = gc_block_height(s->nvals, np, floor),
                   .nparams = np, .nresults = nr, .fix = fix, .capfix = capfix,
                   .else_fix = SIZE_MAX };
    return true;
}

static bool add_fix(gc_ctx *c, gc_ctl *k, size_t at)
{
    if (!grow(c, (void **)&k->fix, &k->capfix, k->nfix + 1, sizeof *k->fix))
        return false;
    k->fix[k->nfix++] = at;
    return true;
}

static void set_dead(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    truncate_to(c, s->ctls[s->nctls - 1].height);
    s->dead = true;
}

/* ---- per function and module --------------------------------------------- */

/* A new function: an empty stack, every register free, every local chain
   empty (a new generation), no stop-check stubs. */
static bool vs_begin_func(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    for (int i = 0; i < 32; i++)
        s->owner[i] = s->fowner[i] = FREE;
    s->nvals = s->clean = 0;
    s->lowgpr = s->lowfpr = 0;
    s->lz_lo = s->lz_hi = 0;
    s->nctls = 0;
    s->dead = false;
    s->maxout = 0;
    s->nstubs = 0;
    s->nlocals = s->nlslots = c->nlocals;
    s->wide = s->wide_locals = false;
    if (c->nlocals && memchr(c->locals, GT_V128, c->nlocals)) {
        s->wide_locals = true;
        if (!grow(c, (void **)&s->lslot, &s->caplslot, s->nlocals + 1, sizeof *s->lslot))
            return false;
        s->lslot[0] = 0;
        for (uint32_t l = 0; l < s->nlocals; l++)
            s->lslot[l + 1] = s->lslot[l] + slot_width(c->locals[l]);
        s->nlslots = s->lslot[s->nlocals];
        if (!go_wide(c))
            return false;
    }
    uint32_t old = s->caplocals;
    if (!grow(c, (void **)&s->lch, &s->caplocals, s->nlocals, sizeof *s->lch))
        return false;
    if (s->caplocals > old)
        memset(s->lch + old, 0, (size_t)(s->caplocals - old) * sizeof *s->lch);
    if (++s->gen == 0) {            /* entries of generation 0 are never valid */
        if (s->lch)
            memset(s->lch, 0, (size_t)s->caplocals * sizeof *s->lch);
        s->gen = 1;
    }
    return true;
}

static void vs_free(gc_ctx *c)
{
    gc_vstack *s = VS(c);
    for (uint32_t i = 0; i < s->capctls; i++)
        gx_free(&c->alloc, s->ctls[i].fix, (size_t)s->ctls[i].capfix * sizeof(size_t));
    gx_free(&c->alloc, s->ctls, (size_t)s->capctls * sizeof *s->ctls);
    gx_free(&c->alloc, s->vals, (size_t)s->capvals * sizeof *s->vals);
    gx_free(&c->alloc, s->stubs, (size_t)s->capstubs * sizeof *s->stubs);
    gx_free(&c->alloc, s->lch, (size_t)s->caplocals * sizeof *s->lch);
    gx_free(&c->alloc, s->ltypes, s->capltypes);
    gx_free(&c->alloc, s->slotof, (size_t)s->capslotof * sizeof *s->slotof);
    gx_free(&c->alloc, s->lslot, (size_t)s->caplslot * sizeof *s->lslot);
}

#endif /* GATE_VSTACK_H */
