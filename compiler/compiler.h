/*
 * compiler.h - internal header of compiler/: byte reader, module decoder,
 * function validator, and the small utilities (allocator, arena, errors)
 * every other folder builds on.
 *
 * Prefixes: gx_ utilities, gr_ byte reader, gd_ module decoder,
 * gv_ function-body validator, GOP_ opcodes, GIMM_ immediate kinds.
 */
#ifndef GATE_COMPILER_H
#define GATE_COMPILER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "../libgate.h"

/* ------------------------------------------------------------------ */
/* Allocation, arenas, errors (util.c)                                 */
/* ------------------------------------------------------------------ */

typedef struct gx_alloc {
    gate_alloc_fn fn;
    void *ud;
} gx_alloc;

void *gx_malloc(const gx_alloc *a, size_t n);
void *gx_realloc(const gx_alloc *a, void *p, size_t on, size_t nn);
void gx_free(const gx_alloc *a, void *p, size_t n);

/* Bump allocator: everything a module owns, freed at once. */
typedef struct gx_chunk gx_chunk;
typedef struct gx_arena {
    gx_alloc alloc;
    gx_chunk *head;
    size_t used, cap;
} gx_arena;

void gx_arena_init(gx_arena *ar, const gx_alloc *a);
void *gx_arena_get(gx_arena *ar, size_t n);   /* zeroed, 16-byte aligned */
void gx_arena_free(gx_arena *ar);
/* Asks for transparent huge pages over the 2 MiB-aligned part of [p, p+n):
   for big buffers written once from end to end. */
void gx_advise_huge(void *p, size_t n);

/* Writes bytes to path atomically and durably: a new temporary file
   beside it (O_EXCL, mode 0600), fsync, rename over path, fsync of the
   directory.  Only a regular file is ever replaced: when path is a
   device, FIFO, directory or symbolic link nothing is written. */
bool gx_write_atomic(const char *path, const uint8_t *bytes, size_t len, gate_error *err);
/* Same, for name in directory dirfd (shown: the path for messages). */
bool gx_write_atomic_at(int dirfd, const char *name, const char *shown, const uint8_t *bytes,
                        size_t len, gate_error *err);
/* Opens path's directory (O_RDONLY); *name: its last component. */
int gx_open_parent(const char *path, const char **name);

/* Fills err (if any) and returns false, so callers can `return gx_fail(...)`. */
bool gx_fail(gate_error *err, gate_status st, uint64_t offset, uint32_t func,
             const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* ------------------------------------------------------------------ */
/* Code buffer (util.c)                                                */
/* ------------------------------------------------------------------ */

/*
 * Machine code under construction.  Encoders write without checks; the
 * code generator calls gc_reserve(b, GC_RED_ZONE) once per instruction it
 * lowers, which is more than any single lowering emits.
 */
#define GC_RED_ZONE 256
typedef struct gc_buf {
    uint8_t *p;
    size_t n, cap;
    gx_alloc alloc;
    bool mapped;            /* p is an anonymous mapping of cap bytes, grown
                               with mremap (code that will run in place) */
} gc_buf;

void gc_init(gc_buf *b, const gx_alloc *a);
/* A buffer in its own mapping (huge pages where the kernel has them) of
   about `hint` bytes to start with; the mapping becomes the executable code
   once compiled, with no copy. */
bool gc_init_mapped(gc_buf *b, const gx_alloc *a, size_t hint);
bool gc_grow(gc_buf *b, size_t need);
static inline bool gc_reserve(gc_buf *b, size_t need)
{
    return b->cap - b->n >= need || gc_grow(b, need);
}
void gc_release(gc_buf *b);
static inline void gc_u8(gc_buf *b, uint8_t v) { b->p[b->n++] = v; }
static inline void gc_u32(gc_buf *b, uint32_t v)
{
    uint8_t le[4] = { (uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24) };
    memcpy(b->p + b->n, le, 4);
    b->n += 4;
}

/* ------------------------------------------------------------------ */
/* Opcodes: generated from opcodes.def                                 */
/* ------------------------------------------------------------------ */

typedef enum gop {
#define OP(id, pfx, code, name, imm, sig, x, cls, kind, w) GOP_##id,
#include "opcodes.def"
#undef OP
    GOP_COUNT
} gop;

typedef enum gimm {
    GIMM_NONE, GIMM_BLOCK, GIMM_LABEL, GIMM_BRTABLE, GIMM_FUNC, GIMM_CALLIND,
    GIMM_SELECT_T, GIMM_LOCAL, GIMM_GLOBAL, GIMM_TABLE, GIMM_MEMARG,
    GIMM_MEM0, GIMM_I32, GIMM_I64, GIMM_F32, GIMM_F64, GIMM_REFTYPE,
    GIMM_MEMINIT, GIMM_DATA, GIMM_MEMCOPY, GIMM_TABLEINIT, GIMM_ELEM,
    GIMM_TABLECOPY, GIMM_V128, GIMM_SHUFFLE, GIMM_LANE, GIMM_MEMARG_LANE
} gimm;

typedef struct gop_info {
    const char *name;
    const char *sig;     /* "pops:pushes", or NULL: validator special-cases */
    uint8_t prefix;      /* 0, 0xfc, 0xfd */
    uint16_t code;
    uint8_t imm;         /* gimm */
    uint8_t x;           /* log2 natural alignment, or lane count */
    uint8_t lclass;      /* gl_class: how a backend lowers it */
    uint8_t lkind;       /* which operation of the class (GK_*) */
    uint8_t lw;          /* 64-bit form; conversions: bit 0 result, bit 1 operand */
} gop_info;

/* Lowering classes and their operations (opcodes.def's CLASS and KIND). */
typedef enum gl_class {
    GL_NONE, GL_ALU, GL_MUL, GL_DIVREM, GL_SHIFT, GL_CMP, GL_EQZ, GL_BITCOUNT,
    GL_FBIN, GL_FUNOP, GL_FCMP, GL_CONVERT, GL_LOAD, GL_STORE, GL_SIMD
} gl_class;
enum { GK_ADD, GK_SUB, GK_AND, GK_OR, GK_XOR };                         /* ALU */
enum { GK_DIV_S, GK_DIV_U, GK_REM_S, GK_REM_U };                        /* DIVREM */
enum { GK_SHL, GK_SHR_S, GK_SHR_U, GK_ROTL, GK_ROTR };                  /* SHIFT */
enum { GK_EQ, GK_NE, GK_LT_S, GK_LT_U, GK_GT_S, GK_GT_U, GK_LE_S, GK_LE_U,
       GK_GE_S, GK_GE_U };                                              /* CMP */
enum { GK_CLZ, GK_CTZ, GK_POPCNT };                                     /* BITCOUNT */
enum { GK_FADD, GK_FSUB, GK_FMUL, GK_FDIV, GK_FMIN, GK_FMAX, GK_COPYSIGN };  /* FBIN */
enum { GK_ABS, GK_NEG, GK_CEIL, GK_FLOOR, GK_FTRUNC, GK_NEAREST, GK_SQRT };   /* FUNOP */
enum { GK_FEQ, GK_FNE, GK_FLT, GK_FGT, GK_FLE, GK_FGE };                /* FCMP */
enum { GK_WRAP, GK_EXTEND_S, GK_EXTEND_U, GK_SEXT8, GK_SEXT16, GK_SEXT32,
       GK_CONVERT_S, GK_CONVERT_U, GK_DEMOTE, GK_PROMOTE, GK_REINTERPRET_I,
       GK_REINTERPRET_F, GK_TRUNC_S, GK_TRUNC_U, GK_TRUNC_SAT_S, GK_TRUNC_SAT_U };        /* CONVERT */
enum { GK_INT, GK_SINT, GK_FLOAT };     /* LOAD, STORE: zero- or sign-extended, float */

extern const gop_info gop_table[GOP_COUNT];

/* ------------------------------------------------------------------ */
/* Byte reader (read.c)                                                */
/* ------------------------------------------------------------------ */

/* Reads [pos, end) of base; offsets reported are absolute (base + delta). */
typedef struct gr_reader {
    const uint8_t *base;
    size_t pos, end;
    uint64_t delta;        /* added to pos in error offsets */
    gate_error *err;
} gr_reader;

static inline uint64_t gr_off(const gr_reader *r) { return r->delta + r->pos; }
/* The out-of-line parts; gr_byte, gr_u32, gr_s32 and gr_opcode below
   handle the one-byte case inline (the common one by far). */
bool gr_byte_slow(gr_reader *r, uint8_t *out);
bool gr_u32_slow(gr_reader *r, uint32_t *out);
bool gr_s32_slow(gr_reader *r, int32_t *out);
bool gr_opcode_slow(gr_reader *r, uint16_t *op);
extern const uint16_t gr_op_by_key[768];   /* GOP_* + 1; 0: illegal */

static inline bool gr_byte(gr_reader *r, uint8_t *out)
{
    if (__builtin_expect(r->pos < r->end, 1)) {
        *out = r->base[r->pos++];
        return true;
    }
    return gr_byte_slow(r, out);
}

static inline bool gr_u32(gr_reader *r, uint32_t *out)
{
    if (__builtin_expect(r->pos < r->end && !(r->base[r->pos] & 0x80), 1)) {
        *out = r->base[r->pos++];
        return true;
    }
    /* two or three bytes (function and local indices of big modules),
       away from the end: no check per byte */
    if (r->pos + 3 <= r->end) {
        const uint8_t *p = r->base + r->pos;
        if (!(p[1] & 0x80)) {
            *out = (uint32_t)(p[0] & 0x7f) | (uint32_t)p[1] << 7;
            r->pos += 2;
            return true;
        }
        if (!(p[2] & 0x80)) {
            *out = (uint32_t)(p[0] & 0x7f) | (uint32_t)(p[1] & 0x7f) << 7 | (uint32_t)p[2] << 14;
            r->pos += 3;
            return true;
        }
    }
    return gr_u32_slow(r, out);
}

/* Signed LEB128 of one to four bytes (28 bits: within every signed width
   the wasm format reads), inline; false, with nothing read, when the
   number is longer or near the end: then the general reader decides. */
static inline bool gr_sleb_short(gr_reader *r, int64_t *out)
{
    if (__builtin_expect(r->pos < r->end && !(r->base[r->pos] & 0x80), 1)) {
        uint8_t b = r->base[r->pos++];
        *out = (b & 0x40) ? (int64_t)b - 128 : (int64_t)b;
        return true;
    }
    if (r->pos + 4 <= r->end) {
        const uint8_t *p = r->base + r->pos;
        uint64_t v = p[0] & 0x7f;
        for (unsigned i = 1; i < 4; i++) {
            v |= (uint64_t)(p[i] & 0x7f) << (7 * i);
            if (!(p[i] & 0x80)) {
                if (p[i] & 0x40)
                    v |= ~(uint64_t)0 << (7 * (i + 1));
                *out = (int64_t)v;
                r->pos += i + 1;
                return true;
            }
        }
    }
    return false;
}

static inline bool gr_s32(gr_reader *r, int32_t *out)
{
    int64_t v;
    if (gr_sleb_short(r, &v)) {
        *out = (int32_t)v;
        return true;
    }
    return gr_s32_slow(r, out);
}

static inline bool gr_opcode(gr_reader *r, uint16_t *op)
{
    if (__builtin_expect(r->pos < r->end, 1)) {
        uint8_t b = r->base[r->pos];
        if (b != 0xfc && b != 0xfd && gr_op_by_key[b]) {
            r->pos++;
            *op = gr_op_by_key[b] - 1;
            return true;
        }
    }
    return gr_opcode_slow(r, op);
}

bool gr_bytes(gr_reader *r, size_t n, const uint8_t **out);
bool gr_s33_slow(gr_reader *r, int64_t *out);
bool gr_s64_slow(gr_reader *r, int64_t *out);
/* s33 (block types) and s64 (i64.const): short ones inline */
static inline bool gr_s33(gr_reader *r, int64_t *out)
{
    return gr_sleb_short(r, out) || gr_s33_slow(r, out);
}
static inline bool gr_s64(gr_reader *r, int64_t *out)
{
    return gr_sleb_short(r, out) || gr_s64_slow(r, out);
}
bool gr_fixed32(gr_reader *r, uint32_t *out);
bool gr_fixed64(gr_reader *r, uint64_t *out);
/* A u32-length-prefixed UTF-8 name; *out points into the input. */
bool gr_name(gr_reader *r, const uint8_t **out, uint32_t *len);
bool gx_utf8_valid(const uint8_t *s, size_t n);
/* gr_opcode: one opcode, a byte or a 0xfc/0xfd prefix and a u32 sub-opcode. */

/* ------------------------------------------------------------------ */
/* Module (decode.c)                                                   */
/* ------------------------------------------------------------------ */

/* Value type codes are the binary ones; 0 is "unknown" (unreachable code). */
enum {
    GT_UNKNOWN = 0,
    GT_I32 = 0x7f, GT_I64 = 0x7e, GT_F32 = 0x7d, GT_F64 = 0x7c,
    GT_V128 = 0x7b, GT_FUNCREF = 0x70, GT_EXTERNREF = 0x6f
};
static inline bool gt_is_ref(uint8_t t) { return t == GT_FUNCREF || t == GT_EXTERNREF; }
static inline bool gt_is_num(uint8_t t) { return t >= GT_F64 && t <= GT_I32; }

typedef struct gd_functype {
    uint32_t nparams, nresults;
    const uint8_t *params, *results;   /* value type codes */
} gd_functype;

typedef struct gd_limits {
    uint64_t min, max;                 /* max = UINT64_MAX when absent */
} gd_limits;

/* A constant expression: one constant instruction, then end. */
typedef struct gd_const {
    uint16_t op;          /* GOP_I32_CONST, ..., GOP_REF_FUNC, GOP_GLOBAL_GET */
    uint8_t type;
    uint64_t offset;      /* of the instruction, for errors */
    union {
        uint64_t bits;    /* i32/i64/f32/f64 bit patterns */
        uint32_t index;   /* ref.func, global.get */
        uint8_t v128[16];
    } u;
} gd_const;

typedef struct gd_func {
    uint32_t type;
    uint32_t body_len;    /* defined functions: locals + code, without size */
    uint64_t body_off;    /* absolute offset of the body in the module */
} gd_func;

typedef struct gd_table { uint8_t elem; gd_limits lim; } gd_table;
typedef struct gd_memory { gd_limits lim; } gd_memory;
typedef struct gd_global { uint8_t type; bool mut; gd_const init; } gd_global;

typedef struct gd_import {
    const char *module, *name;        /* NUL-terminated copies; names may */
    uint32_t module_len, name_len;    /* hold NULs, so lengths are kept  */
    uint8_t kind;                     /* gate_extern_kind */
    uint32_t index;                   /* in the kind's index space */
} gd_import;

typedef struct gd_export {
    const char *name;
    uint32_t name_len;
    uint8_t kind;
    uint32_t index;
} gd_export;

enum { GD_SEG_ACTIVE, GD_SEG_PASSIVE, GD_SEG_DECLARATIVE };

typedef struct gd_elem {
    uint8_t mode, type;
    uint32_t table;
    gd_const offset;
    uint32_t count;
    gd_const *items;      /* ref.func / ref.null / global.get */
} gd_elem;

typedef struct gd_data {
    uint8_t mode;
    gd_const offset;
    uint32_t len;
    uint64_t bytes_off;   /* absolute offset of the bytes */
} gd_data;

typedef struct gd_custom {
    const char *name;
    uint64_t off;         /* payload after the name */
    uint32_t len;
} gd_custom;

typedef struct gd_module {
    gx_arena arena;
    const uint8_t *bytes;           /* the module (owned by the caller) */
    size_t size;

    uint32_t ntypes;  gd_functype *types;
    uint32_t nimports; gd_import *imports;
    uint32_t nfuncs, nfunc_imports;  gd_func *funcs;      /* imports first */
    uint32_t ntables, ntable_imports; gd_table *tables;
    uint32_t nmems, nmem_imports;   gd_memory *mems;
    uint32_t nglobals, nglobal_imports; gd_global *globals;
    uint32_t nexports; gd_export *exports;
    bool has_start; uint32_t start;
    uint32_t nelems; gd_elem *elems;
    bool has_datacount; uint32_t datacount;
    uint32_t ndata; gd_data *data;
    uint32_t ncustom; gd_custom *custom;
    uint8_t *declared;              /* bitmap: funcs usable by ref.func */
    const char **func_names;        /* from the "name" section, or NULL */
    uint64_t code_off;              /* code section payload, 0 if absent */
} gd_module;

/* Built-in implementation limits (docs/limits.md). */
#define GD_MAX_TYPES          1000000u
#define GD_MAX_FUNCS          1000000u
#define GD_MAX_IMPORTS        100000u
#define GD_MAX_EXPORTS        100000u
#define GD_MAX_GLOBALS        1000000u
#define GD_MAX_TABLES         100000u
#define GD_MAX_ELEMS          10000000u
#define GD_MAX_ELEM_ITEMS     10000000u
#define GD_MAX_DATA           100000u
#define GD_MAX_PARAMS         1000u
#define GD_MAX_RESULTS        1000u
#define GD_MAX_NAME           100000u
#define GD_MAX_CUSTOM         10000u
#define GD_MAX_MEM_PAGES      65536u
#define GD_MAX_BRTABLE        65520u
#define GD_DEF_MODULE_SIZE    (1024u * 1024u * 1024u)
#define GD_DEF_FUNC_SIZE      7654321u
#define GD_DEF_LOCALS         50000u
#define GD_DEF_NESTING        10000u
#define GD_MAX_OPERANDS       1000000u

typedef struct gd_limits_cfg {
    uint64_t max_module_size;
    uint32_t max_function_size, max_locals, max_nesting;
} gd_limits_cfg;

void gd_limits_from_config(gd_limits_cfg *out, const gate_config *cfg);

/*
 * Decodes every section in one forward pass and checks everything that
 * does not need a function body walk.  Function bodies are only framed
 * here; gv_func_* validates them (gd_validate_all does all of them).
 * On failure returns false with err set; *m must still be gd_module_free'd.
 */
bool gd_decode(gd_module *m, const gx_alloc *a, const uint8_t *bytes,
               size_t size, const gd_limits_cfg *lim, gate_error *err);
void gd_module_free(gd_module *m);
/* Function name from the name section, or NULL. */
const char *gd_func_name(const gd_module *m, uint32_t f);
bool gd_validate_all(const gd_module *m, const gx_alloc *a,
                     const gd_limits_cfg *lim, gate_error *err);

static inline const gd_functype *gd_func_type(const gd_module *m, uint32_t f)
{
    return &m->types[m->funcs[f].type];
}

/* Signature string "R(P...)" like "i(iI)", written into buf. */
const char *gd_sig_string(const gd_functype *t, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Function-body validator (validate.c)                                */
/* ------------------------------------------------------------------ */

/*
 * The validator is an iterator: each gv_next call decodes one instruction,
 * checks it, and updates the operand-type stack and the control stack.
 * The single-pass compiler drives the same iterator, so what validation
 * knows at each instruction (types of every local and operand-stack entry,
 * the shape of each enclosing block) is what the compiler sees; nothing is
 * decoded twice and nothing per instruction is stored.
 */

typedef struct gv_ctrl {
    uint16_t op;              /* GOP_BLOCK, GOP_LOOP, GOP_IF, GOP_ELSE, or
                                 GOP_CALL for the function's own frame */
    bool unreachable;
    uint32_t height;          /* operand stack height at entry (after params popped) */
    uint32_t nparams, nresults;
    const uint8_t *params, *results;
    uint64_t offset;          /* of the opening instruction */
} gv_ctrl;

typedef struct gv_insn {
    uint16_t op;              /* gop */
    uint64_t offset;          /* absolute offset of the opcode */
    union {
        int32_t i32;
        int64_t i64;
        uint32_t f32;         /* bit pattern */
        uint64_t f64;
        uint8_t v128[16];
        uint32_t index;       /* local, global, func, table, elem, data, label depth */
        uint8_t type;         /* ref.null, select t */
        /* block, loop, if; else and end: the frame they close */
        struct { uint32_t nparams, nresults; const uint8_t *params, *results; } block;
        struct { uint32_t type, table; } callind;
        struct { uint32_t align, offset; uint8_t lane; } mem;
        struct { uint32_t a, b; } pair;   /* table.init elem,table; table.copy dst,src; memory.init data */
        struct { uint32_t count; const uint32_t *targets; } brtable; /* count+1 depths, last is the default; valid until the next gv_next */
        uint8_t lane;
    } imm;
} gv_insn;

typedef struct gv_func {
    const gd_module *m;
    gx_alloc alloc;
    gd_limits_cfg lim;
    gate_error *err;
    uint32_t func;            /* index in the function space */
    gr_reader r;
    uint32_t nlocals;         /* params included */
    uint8_t *locals;          /* type of each local */
    uint32_t nlocals_cap;
    uint8_t *vals;            /* operand stack types */
    uint32_t nvals, capvals, maxvals;
    gv_ctrl *ctrls;
    uint32_t nctrls, capctrls, maxctrls;
    uint32_t *targets;        /* br_table depths */
    uint32_t captargets;
    bool done;
} gv_func;

/* Starts a walk over defined function `func` (function-space index). */
bool gv_begin(gv_func *v, const gd_module *m, const gx_alloc *a,
              const gd_limits_cfg *lim, uint32_t func, gate_error *err);
/* 1: one instruction decoded into *ins; 0: body finished; -1: error. */
/* The next function with the same validator (its buffers are kept); after
   a failure, still gv_end. */
bool gv_restart(gv_func *v, uint32_t func);
int gv_next(gv_func *v, gv_insn *ins);
void gv_end(gv_func *v);


#endif /* GATE_COMPILER_H */
