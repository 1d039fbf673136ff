/*
 * libgate.h - the one public header of libgate, an embeddable WebAssembly
 * engine: single-pass ahead-of-time compilation to x86-64 and ARM64,
 * programs that can be stopped at any safe point, saved as an
 * architecture-neutral snapshot and resumed on either CPU type.
 *
 * Conventions
 *   - Every handle is opaque.  Nothing here touches global state: all
 *     allocation goes through the allocator hook of the engine.
 *   - Functions that can fail return gate_status (or NULL) and, when the
 *     caller passes a gate_error, fill it with what went wrong and where
 *     (byte offset into the module or snapshot, function index).
 *   - What a build cannot do yet (a module using SIMD, a WebAssembly
 *     feature that is not part of 2.0) is refused with
 *     GATE_ERR_NOT_IMPLEMENTED and a message naming it.
 */
#ifndef LIBGATE_H
#define LIBGATE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define GATE_VERSION_MAJOR 0
#define GATE_VERSION_MINOR 1
#define GATE_VERSION_PATCH 0

/* "0.1.0" */
const char *gate_version(void);

/* ------------------------------------------------------------------ */
/* Status codes and errors                                            */
/* ------------------------------------------------------------------ */

typedef enum gate_status {
    GATE_OK = 0,
    GATE_TRAPPED,             /* the program trapped: see gate_trap_info   */
    GATE_EXITED,              /* the program called WASI proc_exit         */
    GATE_SUSPENDED,           /* stopped at a safe point; can be resumed   */
    GATE_ERR_MALFORMED,       /* bytes are not a well-formed module        */
    GATE_ERR_INVALID,         /* well-formed but fails validation          */
    GATE_ERR_LIMIT,           /* exceeds an implementation limit           */
    GATE_ERR_UNLINKABLE,      /* imports do not match what is provided     */
    GATE_ERR_INSTANTIATE,     /* instantiation failed (segment out of range) */
    GATE_ERR_NOMEM,           /* the allocator said no                     */
    GATE_ERR_ARG,             /* a bad argument from the caller            */
    GATE_ERR_IO,              /* a file could not be read or written       */
    GATE_ERR_TARGET,          /* wrong or unsupported target ISA           */
    GATE_ERR_OBJECT,          /* bad AOT object (truncated, tampered, version) */
    GATE_ERR_SNAPSHOT,        /* bad snapshot (truncated, forged, mismatched) */
    GATE_ERR_STATE,           /* call not allowed in the instance's state  */
    GATE_ERR_NOT_IMPLEMENTED, /* a feature this build does not have yet    */
    GATE_ERR_NOT_FOUND        /* what was asked for is not there           */
} gate_status;

/* A short constant name for a status: "malformed", "invalid", ... */
const char *gate_status_name(gate_status s);

#define GATE_NO_FUNC UINT32_MAX

typedef struct gate_error {
    gate_status status;
    uint64_t offset;          /* byte offset in the input, or UINT64_MAX    */
    uint32_t func_index;      /* function concerned, or GATE_NO_FUNC        */
    char message[256];        /* "what" in words, without the offset        */
} gate_error;

/* Formats "offset 0x1f: func 3: message" into buf; returns buf. */
char *gate_error_format(const gate_error *e, char *buf, size_t size);

/* ------------------------------------------------------------------ */
/* Values                                                              */
/* ------------------------------------------------------------------ */

/* Numbers are the binary encodings of the value types. */
typedef enum gate_valtype {
    GATE_I32 = 0x7f,
    GATE_I64 = 0x7e,
    GATE_F32 = 0x7d,
    GATE_F64 = 0x7c,
    GATE_V128 = 0x7b,
    GATE_FUNCREF = 0x70,
    GATE_EXTERNREF = 0x6f
} gate_valtype;

typedef struct gate_val {
    gate_valtype type;
    union {
        int32_t i32;
        int64_t i64;
        float f32;
        double f64;
        uint8_t v128[16];
        void *ref;            /* funcref: opaque; externref: host pointer   */
    } of;
} gate_val;

/* ------------------------------------------------------------------ */
/* Engine and configuration                                            */
/* ------------------------------------------------------------------ */

/*
 * Allocator hook, realloc-style (as in Lua): nsize == 0 frees ptr and
 * returns NULL; otherwise returns a block of nsize bytes holding the first
 * min(osize, nsize) bytes of ptr (ptr may be NULL, then osize is 0).
 */
typedef void *(*gate_alloc_fn)(void *ud, void *ptr, size_t osize, size_t nsize);

typedef enum gate_target {
    GATE_TARGET_HOST = 0,
    GATE_TARGET_X86_64 = 1,
    GATE_TARGET_ARM64 = 2
} gate_target;

typedef enum gate_bounds_mode {
    GATE_BOUNDS_GUARD = 0,    /* 8 GiB guarded reservation, no checks      */
    GATE_BOUNDS_EXPLICIT = 1  /* explicit checks, memory sized to fit      */
} gate_bounds_mode;

typedef struct gate_config {
    gate_alloc_fn alloc;      /* NULL: malloc/realloc/free                  */
    void *alloc_ud;
    gate_target target;       /* code to produce                            */
    gate_bounds_mode bounds;
    int deterministic;        /* 1: every NaN a float operation produces is
                                 the canonical positive quiet NaN, so
                                 programs that look at NaN bits behave the
                                 same on every CPU (docs/c-api.md)        */
    int safepoint_checks;     /* 1 (default): stop checks at loop headers;
                                 0: none there (for measuring their cost
                                 only: a loop without a call can then not
                                 be stopped)                             */
    int cpu_features;         /* -1 (default): detect; 0: baseline only
                                 (x86-64: bit 0 LZCNT, 1 POPCNT, 2 BMI1,
                                 3 AVX (VEX forms of SIMD), 4 SSE4.2;
                                 SSE4.1 is the baseline of SIMD code)    */
    int fuel;                 /* 1: compile fuel metering into the code
                                 (gate_set_fuel); 0 (default): none      */
    uint32_t stress_stop_every; /* testing: stop at every Nth stop check
                                   (0: never) as if a stop were requested */
    /* Object authentication (docs/aot-format.md): with a key (16..64
       bytes, copied into the engine), every object this engine writes is
       sealed with HMAC-SHA-256 under it, and gate_module_load_object
       loads only objects whose seal verifies.  NULL (default): objects
       are loaded as they are; the embedder vouches for where they came
       from.  An object holds machine code that will run. */
    const uint8_t *object_key;
    size_t object_key_len;
    /* Decoder limits; 0 means the built-in default (see docs/limits.md).  */
    uint64_t max_module_size;
    uint32_t max_function_size;
    uint32_t max_locals;
    uint32_t max_nesting;     /* control-frame depth in one function       */
} gate_config;

/* Fills *cfg with the defaults. */
void gate_config_init(gate_config *cfg);

typedef struct gate_engine gate_engine;

/* cfg may be NULL for the defaults.  The config is copied. */
gate_engine *gate_engine_new(const gate_config *cfg, gate_error *err);
void gate_engine_free(gate_engine *eng);

/* ------------------------------------------------------------------ */
/* Modules                                                             */
/* ------------------------------------------------------------------ */

typedef struct gate_module gate_module;

/* Decodes and validates without keeping anything. */
gate_status gate_validate(gate_engine *eng, const uint8_t *bytes, size_t len,
                          gate_error *err);

/*
 * Decodes and validates a module and compiles it for the engine's target
 * (x86-64 or ARM64, the host's).  The bytes are copied; the caller may free them.
 */
gate_module *gate_module_new(gate_engine *eng, const uint8_t *bytes,
                             size_t len, gate_error *err);
void gate_module_free(gate_module *mod);

/* XXH3-64 (xxhash) of the module bytes (module identity, cache key). */
uint64_t gate_module_hash(const gate_module *mod);

typedef enum gate_extern_kind {
    GATE_EXTERN_FUNC = 0,
    GATE_EXTERN_TABLE = 1,
    GATE_EXTERN_MEMORY = 2,
    GATE_EXTERN_GLOBAL = 3
} gate_extern_kind;

/* Description of one import or export.  Strings are owned by the module. */
typedef struct gate_extern_desc {
    const char *module;       /* imports only; NUL-terminated, but names   */
    const char *name;         /* may contain NULs: the lengths are exact  */
    size_t module_len, name_len;
    gate_extern_kind kind;
    uint32_t index;           /* index in the kind's index space            */
    /* func: signature string such as "i(iI)" (results then params) */
    const char *signature;
    /* table, memory: limits; table: element type; global: type, mutable */
    uint64_t min, max;        /* max == UINT64_MAX when absent              */
    gate_valtype type;
    int mutable_;
} gate_extern_desc;

uint32_t gate_module_import_count(const gate_module *mod);
uint32_t gate_module_export_count(const gate_module *mod);
gate_status gate_module_import(const gate_module *mod, uint32_t i,
                               gate_extern_desc *out);
gate_status gate_module_export(const gate_module *mod, uint32_t i,
                               gate_extern_desc *out);

/* Ahead-of-time objects (docs/aot-format.md). */
gate_status gate_module_write_object(const gate_module *mod, gate_target t,
                                     uint8_t **out, size_t *out_len,
                                     gate_error *err);
gate_module *gate_module_load_object(gate_engine *eng, const uint8_t *bytes,
                                     size_t len, gate_error *err);
/* Frees a buffer returned by libgate (object, snapshot). */
void gate_free_buffer(gate_engine *eng, uint8_t *buf, size_t len);

/* ------------------------------------------------------------------ */
/* Imports and host functions                                          */
/* ------------------------------------------------------------------ */

typedef struct gate_imports gate_imports;
typedef struct gate_instance gate_instance;

/* What a host function that asked to stop wants on resume. */
typedef enum gate_host_resume {
    GATE_HOST_RESTART = 0,    /* call the host function again               */
    GATE_HOST_COMPLETE = 1    /* its results were already produced          */
} gate_host_resume;

/* Context of a host call: lets the host trap or ask the program to stop. */
typedef struct gate_call_ctx gate_call_ctx;
gate_instance *gate_call_instance(gate_call_ctx *ctx);
/* Record a message, then return GATE_TRAPPED from the host function. */
void gate_call_trap(gate_call_ctx *ctx, const char *message);
/* Ends the program (WASI proc_exit): the call returns GATE_EXITED. */
void gate_call_exit(gate_call_ctx *ctx, int code);
/* Asks the program to stop at this very call: when the host function
   returns, the call returns GATE_SUSPENDED, stopped at the import's call
   (a snapshot keeps the pending call).  On resume, GATE_HOST_COMPLETE
   delivers the results the function produced now; GATE_HOST_RESTART calls
   it again with the same arguments (its results now are dropped). */
void gate_call_request_stop(gate_call_ctx *ctx, gate_host_resume how);

/* Whether a stop of the calling program was asked (gate_request_stop, a
   deadline, a world's watchdog or the end of its slice): a host function
   that blocks should poll this and return (or ask to stop). */
int gate_call_stop_requested(gate_call_ctx *ctx);

/* Raw host function: values in, values out; returns GATE_OK or GATE_TRAPPED. */
typedef gate_status (*gate_raw_fn)(gate_call_ctx *ctx, void *ud,
                                   const gate_val *args, gate_val *results);

gate_imports *gate_imports_new(gate_engine *eng);
void gate_imports_free(gate_imports *imp);

/*
 * Binds module.name to a plain C function through libffi.  sig is
 * "R(P...)" with i=i32 I=i64 f=f32 F=f64 and v for no result, e.g.
 * "i(iI)".  If the first parameter of fn is a gate_call_ctx*, start the
 * parameter list with '*': "v(*i)".
 */
gate_status gate_imports_func(gate_imports *imp, const char *module,
                              const char *name, const char *sig,
                              void (*fn)(void), gate_error *err);
gate_status gate_imports_func_raw(gate_imports *imp, const char *module,
                                  const char *name, const char *sig,
                                  gate_raw_fn fn, void *ud, gate_error *err);
/* A host object that did not come along with a moved program (a restored
   snapshot), for module.name (name NULL: every function of module that
   nothing more specific binds), whatever its type (docs/wasi.md):
   suspended: the program stops at its first call to it (GATE_SUSPENDED,
     a restartable call: a snapshot now resumes where the host provides
     it); where it cannot stop, the call traps;
   lost: the call returns code as its first result (an i32; its other
     results 0), for the program to handle; one without an i32 result
     traps. */
gate_status gate_imports_suspended(gate_imports *imp, const char *module, const char *name,
                                   gate_error *err);
gate_status gate_imports_lost(gate_imports *imp, const char *module, const char *name,
                              int32_t code, gate_error *err);
/* Makes every export of inst importable as module_name.* */
gate_status gate_imports_instance(gate_imports *imp, const char *module_name,
                                  gate_instance *inst, gate_error *err);

/* WASI preview1 (docs/wasi.md). */
typedef struct gate_wasi_config {
    int argc;
    const char *const *argv;
    int envc;
    const char *const *envp;          /* "KEY=VALUE" */
    int npreopens;
    const char *const *preopen_host;  /* host directory */
    const char *const *preopen_guest; /* name the program sees */
    int nsockets;                     /* listening sockets the host opened */
    const int *socket_fds;            /* (sock_accept on them; the WASI state
                                         keeps its own duplicates) */
} gate_wasi_config;
gate_status gate_imports_wasi(gate_imports *imp, const gate_wasi_config *cfg,
                              gate_error *err);

/* ------------------------------------------------------------------ */
/* Instances and calls (x86-64 and ARM64 hosts)                       */
/* ------------------------------------------------------------------ */

typedef struct gate_limits {
    uint32_t max_memory_pages;   /* 0: the module's maximum or 65536       */
    uint64_t stack_size;         /* wasm stack in bytes, 512 KiB..1 GiB;
                                    0: 8 MiB (the stack is per thread)     */
    uint32_t max_table_elems;    /* all tables together; 0: 10,000,000     */
} gate_limits;

gate_instance *gate_instance_new(gate_module *mod, gate_imports *imp,
                                 const gate_limits *lim, gate_error *err);
void gate_instance_free(gate_instance *inst);

gate_status gate_call(gate_instance *inst, const char *export_name,
                      const gate_val *args, size_t nargs,
                      gate_val *results, size_t nresults, gate_error *err);

/* Same, for export names that may contain NUL bytes. */
gate_status gate_call_n(gate_instance *inst, const char *name, size_t name_len,
                        const gate_val *args, size_t nargs, gate_val *results,
                        size_t nresults, gate_error *err);

/* The current value of an exported global. */
gate_status gate_instance_global(gate_instance *inst, const char *name, gate_val *out);

/* Continues a call that returned GATE_SUSPENDED, where it stopped.  The
   results are those of the original call.  Not from inside a call. */
gate_status gate_resume(gate_instance *inst, gate_val *results,
                        size_t nresults, gate_error *err);

typedef enum gate_trap_code {
    GATE_TRAP_NONE = 0,
    GATE_TRAP_UNREACHABLE,
    GATE_TRAP_MEMORY_OUT_OF_BOUNDS,
    GATE_TRAP_TABLE_OUT_OF_BOUNDS,
    GATE_TRAP_INDIRECT_NULL,
    GATE_TRAP_INDIRECT_TYPE,
    GATE_TRAP_DIV_BY_ZERO,
    GATE_TRAP_INT_OVERFLOW,
    GATE_TRAP_INVALID_CONVERSION,
    GATE_TRAP_STACK_EXHAUSTED,
    GATE_TRAP_UNINITIALIZED_ELEMENT,
    GATE_TRAP_HOST
} gate_trap_code;

typedef struct gate_trap_info {
    gate_trap_code code;
    uint32_t func_index;
    uint32_t wasm_offset;     /* code offset of the faulting instruction   */
    char message[128];
} gate_trap_info;

gate_status gate_trap_info_get(const gate_instance *inst, gate_trap_info *out);
/* The frames of the last trap, innermost first: function index and wasm
   offset (of the faulting instruction, then of each call).  Returns the
   number of frames (at most 32), filling up to max. */
uint32_t gate_trap_backtrace(const gate_instance *inst, uint32_t *funcs, uint32_t *offsets,
                             uint32_t max);
/* A function's name from the module's name section, or NULL. */
const char *gate_module_func_name(const gate_module *mod, uint32_t func);
/* WASI exit code after GATE_EXITED. */
int gate_exit_code(const gate_instance *inst);

/* Linear memory 0: pointer valid until the next call into the instance. */
uint8_t *gate_memory_data(gate_instance *inst, uint64_t *size);
gate_status gate_memory_read(gate_instance *inst, uint64_t offset, void *dst,
                             size_t len);
gate_status gate_memory_write(gate_instance *inst, uint64_t offset,
                              const void *src, size_t len);

/* ------------------------------------------------------------------ */
/* Stopping, fuel, deadlines                                          */
/* ------------------------------------------------------------------ */

/*
 * Asks a running instance to stop at its next safe point.  Thread-safe and
 * async-signal-safe: it only writes one word of the instance.
 */
void gate_request_stop(gate_instance *inst);
/* Whether the instance holds a stopped call (gate_resume continues it). */
int gate_is_suspended(const gate_instance *inst);
/* Gives up the stopped call: its frames are dropped, the instance is idle
   with its memory, tables and globals as the call left them (to
   interrogate a saved program: call an export that reads its state).
   GATE_ERR_STATE when nothing is stopped, from inside a call, or for a
   zygote. */
gate_status gate_abandon(gate_instance *inst);
/* Fuel: a deterministic work budget (one unit per function entry and
   per loop iteration), for engines with gate_config.fuel = 1; otherwise
   GATE_ERR_STATE.  Out of fuel, a call returns GATE_SUSPENDED; refill and
   gate_resume.  UINT64_MAX = unmetered (the default). */
gate_status gate_set_fuel(gate_instance *inst, uint64_t fuel);
uint64_t gate_get_fuel(const gate_instance *inst);
/* Wall-clock deadline in nanoseconds from now; 0 clears it. */
gate_status gate_set_deadline(gate_instance *inst, uint64_t ns_from_now);

/* ------------------------------------------------------------------ */
/* Snapshots (docs/snapshot-format.md) and fork                      */
/* ------------------------------------------------------------------ */

/* Serialises a stopped or idle instance (a valid wasm module, see docs). */
gate_status gate_snapshot(gate_instance *inst, uint8_t **out, size_t *out_len,
                          gate_error *err);
/* Same, written atomically to path (temporary file, fsync, rename). */
gate_status gate_snapshot_save(gate_instance *inst, const char *path,
                               gate_error *err);
/* Restores a snapshot into a new instance, on this engine's target. */
gate_instance *gate_snapshot_restore(gate_engine *eng, const uint8_t *bytes,
                                     size_t len, gate_imports *imp,
                                     gate_error *err);
/* Same, running the snapshot's program with the compiled code of `code`
   (a module of the same program: from gate_module_load_object, say)
   instead of compiling it, when that code fits: the same types, function,
   table, memory and global declarations and function bodies, compiled
   for this CPU with this engine's options.  When it does not fit (or code
   is NULL) the snapshot's module is compiled, never run with code made
   for another program.  *used (if not NULL): 1 when the code was used. */
gate_instance *gate_snapshot_restore_code(gate_engine *eng, const uint8_t *bytes,
                                          size_t len, const gate_module *code,
                                          gate_imports *imp, int *used,
                                          gate_error *err);
/* Same, with limits: a snapshot keeps the limits of the instance it was
   taken from (memory pages, stack size, table elements) and the restored
   instance has them; lim (may be NULL; 0 fields: as recorded) can only
   tighten them: a field wider than the recorded limit is GATE_ERR_ARG. */
gate_instance *gate_snapshot_restore_limits(gate_engine *eng, const uint8_t *bytes,
                                            size_t len, const gate_module *code,
                                            gate_imports *imp, const gate_limits *lim,
                                            int *used, gate_error *err);
/* What a snapshot records of the run it was taken from, read without
   restoring it: its limits, whether fuel metering was compiled in
   (fuel: 1) with fuel_left units left (UINT64_MAX: unmetered), and
   whether NaNs were canonical (deterministic: 1).  A restoring host
   uses these to configure its engine the same way. */
typedef struct gate_snapshot_info {
    int suspended;
    gate_limits lim;
    int fuel;
    uint64_t fuel_left;
    int deterministic;
    int zygote;             /* a zygote's (gate_zygote_restore; children
                               restore it with imports of their own) */
} gate_snapshot_info;
gate_status gate_snapshot_read_info(const uint8_t *bytes, size_t len, gate_snapshot_info *out,
                                    gate_error *err);
/* Names the AOT object to resume this program with on target t (HOST:
   this CPU's); every later snapshot of inst carries the name (custom
   section gate.objects), and instances restored from it keep it.  NULL
   removes it. */
gate_status gate_snapshot_name_object(gate_instance *inst, gate_target t, const char *name);
/* The object a snapshot names for target t (HOST: this CPU's) into buf:
   GATE_OK, GATE_ERR_NOT_FOUND when it names none, GATE_ERR_SNAPSHOT when
   the section is malformed, GATE_ERR_ARG when buf is too small. */
gate_status gate_snapshot_object_name(const uint8_t *snap, size_t len, gate_target t,
                                      char *buf, size_t cap);
/* What the party that restores a snapshot grants its WASI state.  A
   snapshot names its preopens by guest name only: dir_host[i] is opened
   for the preopen named dir_guest[i]; a preopen with no grant, and every
   file beneath it, is reported lost to the program (EBADF).  Files are
   reopened beneath their granted preopen as they were opened (read,
   write), never created or truncated, and only when they are regular
   files; report (optional) is told the outcome of each preopen (path
   NULL) and file: host is the granted directory, why NULL when it was
   reattached, else why it is lost.  A socket is always lost: preopen
   NULL, path "a socket". */
typedef struct gate_wasi_grants {
    int ndirs;
    const char *const *dir_host;
    const char *const *dir_guest;
    /* preopens (guest names; "*": every one not granted) kept suspended
       instead of lost: the program stops at its first use of one (or of a
       file beneath it), as a restartable call, and stays resumable — a
       later restore may grant it (gate_wasi_waiting_for names it) */
    int nsuspend;
    const char *const *suspend;
    void (*report)(void *ud, const char *preopen, const char *path, const char *host,
                   const char *why);
    void *report_ud;
} gate_wasi_grants;
/* WASI imports with the state saved in a snapshot (arguments,
   environment, the descriptor table), with the grants above (NULL: none,
   so every preopen is lost).  GATE_ERR_NOT_FOUND: the snapshot has no
   WASI state; GATE_ERR_SNAPSHOT: it is malformed. */
gate_status gate_imports_wasi_from_snapshot(gate_imports *imp, const uint8_t *snap, size_t len,
                                            const gate_wasi_grants *grants, gate_error *err);
/* 1 when inst is stopped at its first use of a preopen kept suspended,
   with the preopen's guest name in buf; else 0. */
int gate_wasi_waiting_for(const gate_instance *inst, char *buf, size_t cap);
/* Copy-on-write clone of a stopped or idle instance: linear memory is
   mapped from a memfd template, so pages neither writes are shared; tables,
   globals and a stopped call are copied.  This clone shares everything
   else with its parent: its imports, so its host objects and its WASI
   state (descriptors, preopens, arguments).  The first fork after the
   parent ran copies its memory into the template once; later forks only
   map it.  Not for zygotes. */
gate_instance *gate_instance_fork(gate_instance *inst, gate_error *err);
/* The same clone with authorities of its own: every import is linked
   again from imp (which must outlive the child), so the child's WASI
   state, descriptors and host functions are imp's and nobody else's
   unless the host passes the same imports on purpose.  A call the parent
   was stopped in (a zygote's pending call) is made again in the child,
   to the child's import. */
gate_instance *gate_instance_fork_imports(gate_instance *inst, gate_imports *imp,
                                          gate_error *err);

/* ------------------------------------------------------------------ */
/* Zygotes: initialised once, forked many times (docs/zygotes.md)      */
/* ------------------------------------------------------------------ */

/* What a zygote's initialisation does when it reaches an authority (any
   function import the host did not give as live: WASI, the world's
   kernel services, host functions). */
typedef enum gate_zygote_mode {
    GATE_ZYGOTE_PEND = 0,   /* the initialisation ends there, stopped at
                               the call; each child makes it with its own
                               authority */
    GATE_ZYGOTE_TRAP = 1    /* it traps: "not yet in the world: M.N" */
} gate_zygote_mode;
typedef struct gate_zygote_config {
    gate_zygote_mode mode;
    const char *init;           /* export called after the start function,
                                   with no arguments ("_start", "init");
                                   NULL: the start function only */
    const char *until_module;   /* with until_name: the import whose first */
    const char *until_name;     /* call ends the initialisation (pending in
                                   every child) in either mode; the import
                                   gate.zygote_ready() always does */
    gate_imports *live;         /* what the zygote may use while it is
                                   initialised (pure host functions): NULL,
                                   nothing; must outlive the zygote */
    /* The preopens (guest names only, fds 3, 4, ...) the initialisation
       sees: fd_prestat_get and fd_prestat_dir_name answer with these
       names, every other use of them is an authority.  Every child must be
       granted exactly these, in this order (a C library reads them once). */
    const char *const *preopens;
    int npreopens;
    gate_limits limits;         /* the children's too */
    uint64_t timeout_ns;        /* the initialisation's wall-clock budget
                                   (0: none); past it, GATE_ERR_LIMIT */
} gate_zygote_config;
void gate_zygote_config_init(gate_zygote_config *cfg);
/* Instantiates mod as a zygote and runs its initialisation.  A zygote is
   idle (its init returned) or stopped at a pending call; it never runs
   again (gate_call and gate_resume refuse it) and is forked with
   gate_instance_fork_imports any number of times; gate_snapshot saves it.
   A trap or an exit during the initialisation is an error (message, func
   and offset of the trap). */
gate_instance *gate_zygote_new(gate_module *mod, const gate_zygote_config *cfg,
                               gate_error *err);
/* A zygote from its snapshot (code: as gate_snapshot_restore_code). */
gate_instance *gate_zygote_restore(gate_engine *eng, const uint8_t *bytes, size_t len,
                                   const gate_module *code, gate_error *err);
int gate_is_zygote(const gate_instance *inst);
/* The import a zygote's children call first (the pending call), as
   "module.name" in buf; 0 when the zygote is idle. */
int gate_zygote_pending(const gate_instance *z, char *buf, size_t cap);

/* ------------------------------------------------------------------ */
/* Worlds: many processes on one machine (docs/world.md)              */
/* ------------------------------------------------------------------ */

/*
 * A world runs processes (instances, each with its own imports, stack
 * and sponsor) on N worker threads.  A dispatch runs one process for one
 * slice: slice_fuel units on an engine with fuel (deterministic), else
 * slice_ns of time.  A process whose slice ends is parked with its frames
 * where they are (its own stack; a switch costs the same at any depth)
 * and queued again.  A host function never runs another process: spawn
 * only queues, a blocking WASI call (poll_oneoff, sched_yield) parks.
 * A process stays on the worker it was first given to.
 */
typedef struct gate_world gate_world;
typedef struct gate_sponsor gate_sponsor;
typedef uint32_t gate_pid;          /* 0: no process */

typedef struct gate_world_config {
    unsigned workers;       /* threads; 0: one per CPU; 1 is deterministic
                               with a fuel engine */
    uint64_t slice_fuel;    /* fuel engines: units per slice (0: 100,000) */
    uint64_t slice_ns;      /* a slice's time budget (0: 2 ms); engines
                               without fuel are preempted when it ends */
    uint64_t watchdog_ns;   /* margin past slice_ns after which the
                               watchdog stops the slice and counts an
                               overrun (0: 10 ms) */
    uint64_t stack_size;    /* each process's wasm stack (0: 1 MiB) */
    uint64_t mailbox_bytes; /* bytes queued for one process (0: 1 MiB) */
    uint64_t stream_bytes;  /* the buffer of a stream (0: 64 KiB) */
} gate_world_config;
void gate_world_config_init(gate_world_config *cfg);

/* The engine must outlive the world. */
gate_world *gate_world_new(gate_engine *eng, const gate_world_config *cfg, gate_error *err);
gate_engine *gate_world_engine(gate_world *w);
/* Ends every process (none runs any more), frees them and the world. */
void gate_world_free(gate_world *w);

/* What a sponsor may spend; GATE_UNLIMITED for no bound. */
#define GATE_UNLIMITED UINT64_MAX
typedef struct gate_budget {
    uint64_t fuel;          /* units (fuel engines): consumed */
    uint64_t memory;        /* bytes of linear memory its processes own */
    uint64_t tables;        /* bytes of table elements (8 per element) */
    uint64_t processes;     /* live processes */
    uint64_t messages;      /* bytes of queued messages */
} gate_budget;
void gate_budget_unlimited(gate_budget *b);

/* The root sponsor: unlimited unless set (gate_sponsor_set_root). */
gate_sponsor *gate_world_root(gate_world *w);
/* A child of parent with part of its budget: each limited amount is
   taken from what parent has left (GATE_ERR_LIMIT when it has less; an
   unlimited child needs an unlimited parent) and given back when the
   child is freed.  name: for lists and snapshots (copied). */
gate_sponsor *gate_sponsor_new(gate_sponsor *parent, const char *name, const gate_budget *b,
                               gate_error *err);
/* Gives the sponsor's unspent budget back to its parent; its processes
   must have ended (GATE_ERR_STATE otherwise). */
gate_status gate_sponsor_free(gate_sponsor *s);
/* Adds fuel to a sponsor (from its parent's when that is limited);
   processes suspended for want of fuel run again. */
gate_status gate_sponsor_refill(gate_sponsor *s, uint64_t fuel);
/* What the sponsor used and may use (processes: live now). */
gate_status gate_sponsor_usage(gate_sponsor *s, gate_budget *used, gate_budget *limit);
const char *gate_sponsor_name(const gate_sponsor *s);

/* What a process may do with the kernel services (import module "gate",
   gate_imports_world).  Patterns are exact names, a prefix ending in '*'
   ("chat.*") or "*".  NULL grants in a gate_spawn: everything (a process
   the host trusts). */
typedef struct gate_grants {
    int send;                       /* send to a pid */
    int monitor;                    /* be told when a pid ends */
    int kill_any;                   /* kill any process, not only its children */
    int list;                       /* list the processes and the registry */
    const char *const *publish;     /* topics it may publish to */
    size_t npublish;
    const char *const *subscribe;   /* topics it may subscribe to */
    size_t nsubscribe;
    const char *const *spawn;       /* registry names it may spawn */
    size_t nspawn;
} gate_grants;

typedef struct gate_spawn {
    gate_module *module;
    gate_imports *imports;  /* linked at the process's first dispatch */
    int own_imports;        /* 1: the world frees imports with the process
                               (when the spawn succeeds) */
    const char *entry;      /* export to call; NULL: "_start" */
    const gate_val *args;   /* copied */
    size_t nargs;
    gate_limits limits;     /* stack_size 0: the world's */
    gate_sponsor *sponsor;  /* NULL: the root */
    const char *name;       /* NULL: "p<pid>" */
    const gate_grants *grants;  /* copied; NULL: everything */
    /* Instead of module: a zygote (gate_zygote_new), forked now with
       imports (required: the child's own) into a process with a fresh pid,
       an empty mailbox and no subscriptions, charged to the sponsor for
       the memory and tables it starts with.  It resumes the zygote's
       pending call, or calls entry when the zygote was idle; limits are
       the zygote's.  The zygote is not the world's: the host keeps it. */
    gate_instance *zygote;
} gate_spawn;
/* Queues a new process (from the host or from a host function: it never
   runs inside the caller).  GATE_ERR_LIMIT when the sponsor's process or
   memory budget cannot take it. */
gate_status gate_world_spawn(gate_world *w, const gate_spawn *s, gate_pid *pid, gate_error *err);

/* Runs the world on its workers until nothing can run (GATE_OK: every
   process ended, waits for ever, is paused or out of fuel), or ns passed
   (0: no bound) or max_slices dispatches were made (0: no bound):
   GATE_SUSPENDED, every process parked where it was.  Not from a host
   function. */
gate_status gate_world_run(gate_world *w, uint64_t ns, uint64_t max_slices);
/* From another thread: the run in progress ends now (GATE_SUSPENDED), its
   slices stopped at their next stop checks.  Not from a signal handler. */
void gate_world_stop(gate_world *w);

typedef enum gate_proc_state {
    GATE_PROC_NEW = 0,      /* not dispatched yet */
    GATE_PROC_RUNNABLE,     /* queued */
    GATE_PROC_RUNNING,
    GATE_PROC_WAITING,      /* parked in a blocking call */
    GATE_PROC_NO_FUEL,      /* its sponsor is out of fuel */
    GATE_PROC_PAUSED,       /* gate_world_pause */
    GATE_PROC_DONE
} gate_proc_state;
const char *gate_proc_state_name(gate_proc_state s);

typedef struct gate_proc_info {
    gate_pid pid;
    char name[64];
    gate_proc_state state;
    gate_sponsor *sponsor;
    /* DONE: GATE_OK (its entry returned), GATE_EXITED, GATE_TRAPPED, or
       the error that ended it (instantiation, budget) */
    gate_status status;
    int exit_code;
    gate_trap_info trap;
    uint32_t nbt;           /* backtrace of a trap, innermost first */
    uint32_t bt_func[16], bt_off[16];
    char message[256];      /* the status in words */
    uint64_t fuel_used, slices, memory, overruns;
} gate_proc_info;
gate_status gate_world_proc(gate_world *w, gate_pid pid, gate_proc_info *out);
/* Pids of every process not yet reaped, ascending; returns how many
   there are (fills up to max). */
size_t gate_world_procs(gate_world *w, gate_pid *pids, size_t max);
/* Runs the world until pid is done (or nothing can run) and fills out. */
gate_status gate_world_wait(gate_world *w, gate_pid pid, gate_proc_info *out);
/* Forgets a process that is done. */
gate_status gate_world_reap(gate_world *w, gate_pid pid);
/* Ends a process at its next stop check or blocking call (it traps with
   "killed"). */
gate_status gate_world_kill(gate_world *w, gate_pid pid);
/* Takes a process out of the schedule at its next stop check, and back. */
gate_status gate_world_pause(gate_world *w, gate_pid pid);
gate_status gate_world_continue(gate_world *w, gate_pid pid);
/* watcher learns when target ends (an event; messages in docs/world.md). */
gate_status gate_world_monitor(gate_world *w, gate_pid watcher, gate_pid target);
/* a and b each learn when the other ends (a monitor both ways). */
gate_status gate_world_link(gate_world *w, gate_pid a, gate_pid b);
/* Called on a worker, outside every dispatch, once for each process that
   ends (watcher 0) and once for each process monitoring it. */
typedef void (*gate_world_event_fn)(void *ud, gate_pid watcher, const gate_proc_info *ended);
void gate_world_on_end(gate_world *w, gate_world_event_fn fn, void *ud);
/* From a host function: the calling process and its world (0/NULL when
   the instance is not a world's). */
gate_pid gate_call_pid(gate_call_ctx *ctx);
gate_world *gate_call_world(gate_call_ctx *ctx);

/* Messages (docs/world.md).  A message is copied into the receiver's
   mailbox, FIFO between any two processes; its bytes are charged to the
   sender's sponsor (messages budget) until received.  From the host
   (sender pid 0, charged to no one): */
gate_status gate_world_send(gate_world *w, gate_pid to, uint32_t tag, const void *data, size_t len);
gate_status gate_world_publish(gate_world *w, const char *topic, uint32_t tag, const void *data,
                               size_t len, size_t *delivered);
gate_status gate_world_subscribe(gate_world *w, gate_pid pid, const char *topic);
/* The kernel services, import module "gate", for world processes (guest
   declarations: abi/guest/gate.h; a call from an instance that is not a
   world's returns GATE_ENOTCAPABLE):
     self() -> pid
     send(pid, tag, ptr, len) -> 0 | GATE_E*
     send_move(pid, tag, ptr, len) -> 0 | GATE_E*: the same, the pages moved
          (ptr, len whole 4 KiB pages, 1 MiB or more — below that a copy is
          faster; else copied) and the sender's range left zeroed; a
          page-aligned recv buffer takes them as they are
     recv(buf, cap, tag (GATE_TAG_ANY), timeout_ns i64 (-1: for ever), info) -> 0 |
          GATE_ETIMEDOUT | GATE_E2BIG; info: from, tag, len (u32 each); parks
     publish(topic, topic_len, tag, ptr, len) -> delivered | -GATE_E*
     subscribe(topic, topic_len), unsubscribe(topic, topic_len) -> 0 | GATE_E*
     monitor(pid) -> 0 | GATE_E*: its end arrives as a GATE_MSG_DOWN message
     link(pid) -> 0 | GATE_E*: a monitor both ways
     kill(pid) -> 0 | GATE_E*: a process it spawned, or any with kill_any
     spawn(name, name_len) -> pid | -GATE_E*: a registered module by name,
          charged to the caller's sponsor, with the registry's grants
     stream_open(pid) -> id | -GATE_E*: a bounded byte stream to pid, which
          is told by a GATE_MSG_STREAM message (id, writer: u32 each)
     stream_write(id, ptr, len, timeout_ns i64) -> written | -GATE_E*: parks
          while the stream is full
     stream_read(id, ptr, cap, timeout_ns i64) -> read (0: the end) |
          -GATE_E*: parks while it is empty
     stream_close(id) -> 0 | -GATE_E*
     procs(buf, cap) -> count | -GATE_E*: 72-byte records (pid, state,
          name[64]) of the live processes, as many as fit
     modules(buf, cap) -> count | -GATE_E*: 96-byte records (name[64],
          version[32]) of the registry
   Each is checked against the caller's grants. */
gate_status gate_imports_world(gate_imports *imp, gate_error *err);
enum {
    GATE_ENOPROC = 1,       /* no such process (or it ended) */
    GATE_EAGAIN = 2,        /* mailbox full, or the sponsor's budget spent */
    GATE_ENOTCAPABLE = 3,   /* not granted */
    GATE_EFAULT = 4,        /* a pointer outside the caller's memory */
    GATE_ETIMEDOUT = 5,
    GATE_E2BIG = 6          /* the message is larger than the buffer */
};
/* A process's end, to its monitors: from = the pid that ended; 16 bytes:
   pid, gate_status, exit code, gate_trap_code (u32 each). */
#define GATE_MSG_DOWN 0xffff0001u
/* A stream opened to the receiver: 8 bytes, stream id and writer pid. */
#define GATE_MSG_STREAM 0xffff0002u
/* recv's tag for "the first message, whatever its tag" (not a tag) */
#define GATE_TAG_ANY 0xffffffffu

typedef gate_imports *(*gate_world_imports_fn)(void *ud, const char *name, const uint8_t *snap,
                                               size_t snap_len, const gate_grants **grants,
                                               gate_error *err);

/* The registry: modules a process may spawn by name (kernel service
   spawn), each with what its processes are granted.  A module is known by
   name and version; `hash` (gate_module_hash) must match when not 0;
   each dependency ("name" or "name@>=1.2.0") must be registered (with at
   least that version) when it is spawned; one_copy: at most one live
   process of it.  The world keeps a reference to the module. */
typedef struct gate_registry_entry {
    const char *name;
    const char *version;            /* "MAJOR.MINOR.PATCH" */
    gate_module *module;
    uint64_t hash;                  /* 0: not pinned */
    const char *const *depends;
    size_t ndepends;
    int one_copy;
    const gate_grants *grants;      /* what its processes may do (copied);
                                       NULL: everything (trusted) */
    const char *entry;              /* NULL: "_start" */
    /* a zygote to fork for each spawn instead of instantiating module
       (which may then be NULL); the host keeps it until it unregisters
       the entry and no run is in progress */
    gate_instance *zygote;
} gate_registry_entry;
gate_status gate_world_register(gate_world *w, const gate_registry_entry *e, gate_error *err);
/* Takes a module out of the registry (its running processes go on); to
   change an entry, unregister it and register it again. */
gate_status gate_world_unregister(gate_world *w, const char *name);
/* Where a spawned process's imports come from: the same callback as for
   restoring (snap NULL), asked with the registry name; *grants is ignored
   (the registry's grants hold). */
void gate_world_set_imports(gate_world *w, gate_world_imports_fn fn, void *ud);

/* The whole world in one file (a valid wasm module; docs/world.md):
   every sponsor, every process (live ones as snapshots, parked calls
   pending), between runs.  Restoring asks imports_for for each process's
   imports: snap is its snapshot (live) or a module holding only its WASI
   state (not started yet; NULL when it had none), for
   gate_imports_wasi_from_snapshot with the grants of the restoring party;
   the world frees what it returns, and copies *grants (left NULL:
   everything) — a world file grants nothing.  A world is restored with
   the worker count it had unless cfg says otherwise.  Queued messages and
   subscriptions come back; a message is delivered exactly once. */
gate_status gate_world_snapshot(gate_world *w, uint8_t **out, size_t *out_len, gate_error *err);
gate_status gate_world_save(gate_world *w, const char *path, gate_error *err);
/* What a world file needs of the engine that restores it. */
typedef struct gate_world_info {
    int fuel;               /* its engine metered fuel */
    int deterministic;
    int explicit_bounds;    /* its engine checked bounds explicitly */
    unsigned workers;
} gate_world_info;
gate_status gate_world_read_info(const uint8_t *bytes, size_t len, gate_world_info *out,
                                 gate_error *err);
gate_world *gate_world_restore(gate_engine *eng, const gate_world_config *cfg,
                               const uint8_t *bytes, size_t len, gate_world_imports_fn imports_for,
                               void *ud, gate_error *err);

/* ------------------------------------------------------------------ */
/* The sandbox (docs/wasi.md)                                          */
/* ------------------------------------------------------------------ */

/* Confines this whole process, for good, to the system calls the runtime
   and WASI make once modules are loaded, preopens opened and instances
   made (seccomp-bpf with no_new_privs, on every thread), plus the extra
   system call numbers the host needs itself.  Path calls are allowed only
   relative to a directory descriptor.  A forbidden call ends the process
   with status 159 and "gate: sandbox: forbidden system call N" on stderr.
   Fails (GATE_ERR_NOT_IMPLEMENTED) where the kernel (or an emulator)
   cannot install the filter; nothing is changed then. */
gate_status gate_sandbox_enter(const int *extra_syscalls, size_t nextra, gate_error *err);

#ifdef __cplusplus
}
#endif
#endif /* LIBGATE_H */
