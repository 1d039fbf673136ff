/*
 * backend.h - the contract between the target-independent single-pass
 * driver (compile.c) and a backend (codegen-x86_64/, codegen-arm64/),
 * plus what both share with the runtime: the instance context layout,
 * and the safe-point and trap maps a compiled module carries.
 */
#ifndef GATE_BACKEND_H
#define GATE_BACKEND_H

#include "compiler.h"

/*
 * The instance context ("vmctx") that generated code reaches through a
 * pinned register.  Only the first fields are at fixed offsets; the
 * runtime owns the rest (runtime/runtime.h).
 *
 *   0  mem_base     linear memory 0 (a guarded reservation)
 *   8  stack_limit  the stop word: function entries and loop headers
 *                   compare the stack pointer against it
 *  16  mem          memory object: +0 base, +8 pages
 *  24  funcs        gate_funcref* per function index
 *  32  tables       table object* per table index
 *  40  globals      cell* per global index (imports share cells)
 *  48  sigids       engine-wide signature id per type index
 *  56  host_sp      host stack pointer saved by the entry trampoline
 *  64  helpers      table of runtime helpers (GH_* order)
 *  72  real_limit   the lowest stack pointer a frame may have; below it
 *                   is a trap (stack_limit equals it unless a stop is asked)
 *  80  fp           frame pointer of the wasm frame that last called a
 *                   runtime helper (for backtraces and frame walking)
 *  88  fuel         remaining fuel when metering is compiled in
 */
enum {
    VM_MEM_BASE = 0, VM_STACK_LIMIT = 8, VM_MEM = 16, VM_FUNCS = 24, VM_TABLES = 32,
    VM_GLOBALS = 40, VM_SIGIDS = 48, VM_HOST_SP = 56, VM_HELPERS = 64, VM_REAL_LIMIT = 72,
    VM_FP = 80, VM_FUEL = 88
};
/* funcref: what a table element and ref.func point at */
enum { FR_CODE = 0, FR_VM = 8, FR_SIG = 16 };
/* table object */
enum { TB_ELEMS = 0, TB_SIZE = 8 };
/* memory object: base, size in pages, size in bytes */
enum { MO_BASE = 0, MO_PAGES = 8, MO_BYTES = 16 };

/* Trap codes match gate_trap_code. */

/* What a safe point is, so that a restored frame can be checked against
   what the program could have been doing there (snapshot restore). */
enum {
    GC_SP_ENTRY,            /* the stop check at a function's entry (wasm: body start) */
    GC_SP_LOOP,             /* the stop check at a loop header */
    GC_SP_CALL,             /* call of a defined function */
    GC_SP_CALL_IMPORT,      /* call of an imported function (a host call) */
    GC_SP_CALL_INDIRECT,    /* call_indirect */
    GC_SP_GROW,             /* memory.grow */
    GC_SP_NKINDS
};

/* A place where a program may be stopped: keyed by (func, wasm offset). */
typedef struct gc_safepoint {
    uint32_t native;        /* code offset just after the call (return address) */
    uint32_t func;
    uint32_t wasm;          /* wasm offset of the instruction */
    uint32_t nslots;        /* live slots: locals + operand stack */
    uint32_t kind;          /* GC_SP_* */
} gc_safepoint;

/* A native instruction that can trap, and what the trap means. */
typedef struct gc_trapsite {
    uint32_t native;
    uint32_t func;
    uint32_t wasm;
    uint32_t code;          /* gate_trap_code */
} gc_trapsite;

/* Runtime helpers called from generated code, indexed by GH_*. */
enum {
    GH_MEMORY_GROW, GH_MEMORY_FILL, GH_MEMORY_COPY, GH_MEMORY_INIT, GH_DATA_DROP,
    GH_TABLE_GROW, GH_TABLE_FILL, GH_TABLE_COPY, GH_TABLE_INIT, GH_ELEM_DROP,
    GH_TABLE_GET, GH_TABLE_SET, GH_SLOWPATH, GH_TRUNC, GH_SIMD, GH_COUNT
};

/* Output of compiling a module for one target. */
typedef struct gc_code {
    gx_alloc alloc;
    uint8_t *code;
    size_t size, cap;
    uint32_t *func_off;     /* per defined function: entry offset */
    uint32_t *func_frame;   /* per defined function: frame size below rbp */
    uint32_t nfuncs;
    gc_safepoint *sp;
    uint32_t nsp, capsp;
    gc_trapsite *traps;
    uint32_t ntraps, captraps;
    int cpu_features;       /* GC_CPU_* the code relies on */
    bool mapped;            /* code is its own page-aligned mapping of cap
                               bytes (gc_options.map_code) */
} gc_code;

/* A direct call at code offset `at` to defined function `func`, patched
   once every function has its place (the driver drops a function's own
   when it compiles it again for far branches, as it does its maps). */
typedef struct gc_reloc {
    size_t at;
    uint32_t func;
} gc_reloc;

/* Shared by the driver and the backend while compiling one module. */
typedef struct gc_ctx {
    const gd_module *m;
    gx_alloc alloc;
    gd_limits_cfg lim;
    gate_error *err;
    gc_buf buf;
    gc_code *out;
    /* the function being compiled, as the driver gives it: what the
       backend knows of the validator's view */
    uint32_t func;
    const uint8_t *locals;  /* type of each local, params first */
    uint32_t nlocals;
    uint32_t maxvals;       /* the operand stack's greatest height (end_func) */
    void *be;               /* backend state */
    gc_reloc *calls;        /* direct calls, resolved once every function is laid out */
    uint32_t ncalls, capcalls;
    bool explicit_bounds;   /* check every access instead of guard pages */
    bool fuel;              /* count fuel at every stop check */
    bool no_loop_checks;    /* measurement only: no stop check at loop headers */
    bool deterministic;     /* NaN results canonicalised (gate_config.deterministic) */
    int cpu_features;       /* -1: detect; else GC_CPU_* bits to use */
    bool far_branches;      /* this function is compiled for long branches */
    bool retry_far;         /* set by a backend failing without an error: a
                               branch is out of range, compile it again with
                               far_branches */
} gc_ctx;

/* Optional CPU features a backend may use (x86-64: LZCNT, POPCNT, BMI1). */
enum { GC_CPU_LZCNT = 1, GC_CPU_POPCNT = 2, GC_CPU_BMI1 = 4, GC_CPU_AVX = 8, GC_CPU_SSE42 = 16 };

/*
 * The backend contract: constants and the functions the driver calls, in
 * order, for each module: begin_module; per function begin_func, then
 * lower for every instruction gv_next yields, then end_func; then
 * patch_call for every direct call (gc_add_call) once the functions'
 * places are known; free_module always.
 */
typedef struct gc_backend {
    const char *name;
    gate_target target;
    bool (*begin_module)(gc_ctx *c);
    bool (*begin_func)(gc_ctx *c);
    bool (*lower)(gc_ctx *c, const gv_insn *ins);
    bool (*end_func)(gc_ctx *c);
    bool (*patch_call)(gc_ctx *c, size_t at, size_t target);
    void (*free_module)(gc_ctx *c);
} gc_backend;

extern const gc_backend gc_backend_x86_64;
extern const gc_backend gc_backend_arm64;
/* GC_CPU_* bits this x86-64 host has (0 elsewhere). */
int gc_x86_host_features(void);

/* compile.c */
typedef struct gc_options {
    bool explicit_bounds;
    bool fuel;
    bool no_loop_checks;    /* measurement only (gate_config.safepoint_checks = 0) */
    bool deterministic;
    int cpu_features;       /* -1: detect */
    bool map_code;          /* generate into a mapping the caller will make
                               executable in place (gc_code.mapped) */
} gc_options;

bool gc_compile(const gd_module *m, const gc_backend *be, const gx_alloc *a,
                const gd_limits_cfg *lim, const gc_options *opt, gc_code *out,
                gate_error *err);
void gc_code_free(gc_code *out);
bool gc_add_safepoint_slow(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t nslots,
                           uint32_t kind);
bool gc_add_trap_slow(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t code);
/* A direct call to patch when the module's code is laid out. */
bool gc_add_call(gc_ctx *c, size_t at, uint32_t func);
/* Records in code order; the array grows out of line. */
static inline bool gc_add_safepoint(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t nslots,
                                    uint32_t kind)
{
    gc_code *o = c->out;
    if (__builtin_expect(o->nsp < o->capsp, 1)) {
        o->sp[o->nsp++] = (gc_safepoint){ native, c->func, wasm, nslots, kind };
        return true;
    }
    return gc_add_safepoint_slow(c, native, wasm, nslots, kind);
}
static inline bool gc_add_trap(gc_ctx *c, uint32_t native, uint32_t wasm, uint32_t code)
{
    gc_code *o = c->out;
    if (__builtin_expect(o->ntraps < o->captraps, 1)) {
        o->traps[o->ntraps++] = (gc_trapsite){ native, c->func, wasm, code };
        return true;
    }
    return gc_add_trap_slow(c, native, wasm, code);
}
const gc_trapsite *gc_find_trap(const gc_code *code, uint32_t native);
/* The value-stack height a block starts at: below its np parameters; in
   dead code, whose stack may lack them, never below the enclosing frame's
   own height (floor), whose values must survive the block's end. */
static inline uint32_t gc_block_height(uint32_t nvals, uint32_t np, uint32_t floor)
{
    uint32_t h = nvals >= np ? nvals - np : 0;
    return h < floor ? floor : h;
}
/* The safe point whose return address is `native`, or NULL. */
uint32_t gc_safepoint_from(const gc_code *code, uint32_t native);
const gc_safepoint *gc_find_safepoint(const gc_code *code, uint32_t native);
/* The defined function whose body holds wasm offset `off`, or GATE_NO_FUNC. */
uint32_t gd_func_at(const gd_module *m, uint64_t off);

#endif /* GATE_BACKEND_H */
