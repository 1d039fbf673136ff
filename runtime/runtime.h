/* runtime.h - internal header of runtime/: engine, module, instance. */
#ifndef GATE_RUNTIME_H
#define GATE_RUNTIME_H

#include <ffi.h>
#include <pthread.h>

#include "../compiler/backend.h"

/* freed memory reservations an engine keeps for reuse: mapping and
   unmapping 8 GiB costs more than resetting the pages that were used */
#define RT_MEM_POOL 16

struct gate_engine {
    gate_config cfg;            /* cfg.object_key points at key below */
    uint8_t key[64];            /* object key (cfg.object_key_len bytes) */
    gx_alloc alloc;
    gd_limits_cfg lim;
    pthread_mutex_t lock;       /* guards the signature table */
    char **sigs;                /* interned signature strings; id = index + 1 */
    uint32_t nsigs, capsigs;
    /* instances whose instantiation failed after they put function
       references into another instance's table: kept until the end */
    gate_instance **graveyard;
    uint32_t ngrave, capgrave;
    /* reservations of freed linear memories, all pages inaccessible and
       zero again, for the next instances (instance.c: memory_new) */
    pthread_mutex_t pool_lock;
    struct { void *base; size_t size; } pool[RT_MEM_POOL];
    uint32_t npool;
};

struct gate_module {
    gate_engine *eng;
    _Atomic int refs;           /* the handle, plus one per instance (instances
                                   are made on a world's workers at once) */
    uint8_t *bytes;             /* private copy of the module */
    size_t size;
    uint64_t hash;              /* XXH3-64 of bytes, once has_hash (rt_module_hash) */
    bool has_hash;
    gd_module info;
    gc_code code;               /* compiled for the host, when it could be */
    uint8_t *exec;              /* code mapped read+execute */
    size_t exec_size;
    gate_error compile_err;     /* why there is no code, if there is none */
    int cpu_used;               /* GC_CPU_* the code relies on */
    bool from_object;           /* loaded from an AOT object */
    /* code taken from a module whose code section starts elsewhere
       (engine.c: copy_code): what to add to the wasm offsets the code
       passes to helpers; its maps are already moved */
    uint32_t code_shift;
    uint32_t *sigids;           /* engine signature id per type index */
    /* the initial memory as a memfd that instances map copy-on-write
       (instance.c: memory_image); state 0 not looked at, 1 made, -1 none */
    int image_state;
    int image_fd;
    size_t image_len;
};
void rt_module_image_free(gate_module *mod);
/* The module hash, computed on first use (restoring a big snapshot need
   not pay for it). */
uint64_t rt_module_hash(gate_module *mod);

/* A function reference: what tables hold and ref.func yields (FR_*). */
typedef struct gate_funcref {
    void *code;
    void *vm;                   /* callee's vmctx, or a host record */
    uint32_t sig;
    uint32_t pad;
} gate_funcref;

/* Table object (TB_*), shared by the instances that import it. */
typedef struct rt_table {
    void **elems;
    uint32_t size, pad;
    uint64_t max;
    uint32_t cap;
    uint8_t type;
    int refs;
} rt_table;

/* Memory object (MO_*): a guarded reservation, shared like tables. */
typedef struct rt_memory {
    uint8_t *base;
    uint64_t pages;
    uint64_t bytes;             /* pages * 64 KiB, for explicit checks */
    uint64_t max;               /* pages it may grow to */
    uint64_t decl_max;          /* declared maximum, UINT64_MAX if none */
    size_t reserved;
    int refs;
    /* fork: a memfd holding the memory as it was at the last fork; the
       owner and every child map it copy-on-write */
    int template_fd;            /* -1: none */
    uint64_t template_pages;
    bool template_stale;        /* the owner ran since the template was made */
} rt_memory;

typedef struct rt_global {
    uint64_t bits[2];
    uint8_t type;
    bool mut;
    int refs;
} rt_global;

/* The vmctx: its first fields are laid out as compiler/backend.h says. */
typedef struct rt_vm {
    uint8_t *mem_base;          /* VM_MEM_BASE */
    uintptr_t stack_limit;      /* VM_STACK_LIMIT */
    rt_memory *mem;             /* VM_MEM */
    gate_funcref **funcs;       /* VM_FUNCS */
    rt_table **tables;          /* VM_TABLES */
    uint64_t **globals;         /* VM_GLOBALS */
    uint32_t *sigids;           /* VM_SIGIDS */
    uintptr_t host_sp;          /* VM_HOST_SP */
    const void *const *helpers; /* VM_HELPERS */
    uintptr_t real_limit;       /* VM_REAL_LIMIT */
    uintptr_t fp;               /* VM_FP */
    int64_t fuel;               /* VM_FUEL */
    gate_instance *inst;
    _Atomic int stop_req;       /* gate_request_stop was called */
    _Atomic int kill_req;       /* a world kills the process: trap at the
                                   next stop check or blocking call */
    uint32_t stress_every, stress_count;   /* gate_config.stress_stop_every */
    uint32_t stress_left;       /* stress stops left in this call */
    bool no_stop;               /* running the start function: not stoppable */
    /* set when a trap unwinds */
    gate_trap_info trap;
    int exit_code;              /* set with an unwind of status 2 (exit) */
    uint32_t nbt;               /* backtrace of the last trap, innermost first */
    uint32_t bt_func[32], bt_off[32];
    gate_module *bt_mod[32];
} rt_vm;

/*
 * How a world process (world/) hooks into its instance.  Each runs on the
 * process's own stack, inside the call, and may switch to the worker's
 * stack and back (the process is parked meanwhile, its frames in place).
 */
enum { RT_CHARGE_MEMORY = 0, RT_CHARGE_TABLE = 1 };
typedef struct rt_proc_hooks {
    /* a stop check with reason why (RT_STOP_*) that is not a stress stop:
       parks the process until it is continued.  true: stop in portable
       form now (walk the frames, unwind); false: run on */
    bool (*preempt)(void *ud, int why);
    /* a blocking host call would wait up to ns (0: only yields): parks
       the process until then or until it is woken, stopped or killed */
    void (*wait)(void *ud, uint64_t ns);
    /* bytes of kind RT_CHARGE_* taken (delta > 0) or given back; false:
       the sponsor refuses (the growth fails as wasm says) */
    bool (*charge)(void *ud, int kind, int64_t delta);
} rt_proc_hooks;
/* A world sets these on its worker thread around gate_instance_new, so
   that the new instance has its hooks before its start function runs,
   and points rt_stack_override at the process's own wasm stack (base as
   mmap returned it, with the 64 KiB guard at the bottom; size above it)
   while one of its processes runs. */
typedef struct rt_stack { uint8_t *base; size_t size; } rt_stack;
extern _Thread_local const rt_proc_hooks *rt_next_hooks;
extern _Thread_local void *rt_next_hooks_ud;
extern _Thread_local const rt_stack *rt_stack_override;
#define RT_STACK_GUARD ((size_t)64 << 10)

/* What a host function sees of its caller (gate_call_ctx). */
struct gate_call_ctx {
    gate_instance *inst;        /* the calling instance */
    int stop_how;               /* -1, or the gate_host_resume asked for */
    const struct rt_host *host; /* the host record called */
    bool must_stop;             /* the stop asked for must be taken at this
                                   call, else the call traps with message */
    int exit_code;
    bool exited;
    char message[128];
};

/* A stopped frame in portable form: slots are raw 8-byte values in wasm
   order (locals, then the operand stack); references are still native
   pointers here and become indices only in a snapshot. */
typedef struct rt_frame {
    uint32_t func, wasm, nslots;
    uint64_t *slots;
} rt_frame;

enum { RT_STOP_REQUEST = 1, RT_STOP_FUEL = 2 };
/* the wasm stack: default, smallest and largest size (gate_limits.stack_size) */
#define RT_STACK_DEFAULT ((size_t)8 << 20)
#define RT_STACK_MIN ((size_t)512 << 10)
#define RT_STACK_MAX ((size_t)1 << 30)

/* A host call that asked to stop: the innermost frame is stopped at the
   call; on resume the results are delivered (complete) or the host
   function is called again with the same arguments (restart). */
enum { RT_PENDING_NONE = 0, RT_PENDING_COMPLETE = 1, RT_PENDING_RESTART = 2 };

typedef struct rt_susp {
    bool active;
    uint32_t reason;            /* RT_STOP_* */
    uint32_t entry_func;        /* the function gate_call started */
    rt_frame *frames;           /* outermost first */
    uint32_t nframes;
    uint8_t pending;            /* RT_PENDING_* */
    uint32_t callee;            /* the imported function called */
    uint32_t npend;
    uint64_t pend[64];          /* its results (complete) or arguments (restart) */
} rt_susp;

/* A host function bound in a gate_imports. */
typedef struct rt_host rt_host;
struct rt_host {
    gate_raw_fn fn;
    void *ud;
    void (*cfn)(void);          /* plain C function called through libffi */
    bool with_ctx;              /* cfn's first parameter is a gate_call_ctx* */
    ffi_cif cif;
    ffi_type *atypes[65];
    bool any_sig;               /* binds whatever signature the import has */
    bool wasi;                  /* a WASI function: ud is its gate_wasi state */
    uint32_t func;              /* a per-instance record: the import's function index */
    uint32_t tag;               /* what the binder says it is (WASI: which function) */
    char *sig;                  /* "R(P...)" */
    gd_functype type;
    uint8_t types[64];
};

typedef struct rt_import {
    char *module, *name;
    uint8_t kind;               /* gate_extern_kind, or 255: an instance */
    gate_instance *inst;        /* kind 255: all exports of inst */
    rt_host *host;
    bool borrowed;              /* host belongs to another gate_imports */
    gate_funcref fr;
} rt_import;

struct gate_imports {
    gate_engine *eng;
    rt_import *items;
    uint32_t n, cap;
    /* state owned by the imports (WASI): freed with them */
    void *owned[4];
    void (*owned_free[4])(void *);
    uint32_t nowned;
    /* binds every function import that nothing else does (a zygote's) */
    struct rt_host *fallback;
};

/* Binds every function of `module` that nothing more specific provides to
   fn, with whatever signature the importer declares; owns `state`. */
gate_status rt_imports_any(gate_imports *imp, const char *module, gate_raw_fn fn, void *ud,
                           void *state, void (*state_free)(void *), gate_error *err);

struct gate_instance {
    gate_engine *eng;
    gate_module *mod;
    size_t stack_size;          /* wasm stack wanted (0: default) */
    gate_limits lim;            /* as given (0 fields: defaults); snapshots keep them */
    /* how many data and element segments are the program's own: a
       restored snapshot's module has more (its memory and tables as
       segments), which its own snapshots leave out */
    uint32_t prog_ndata, prog_nelems;
    /* elements of all its tables together, and what they may reach
       (gate_limits.max_table_elems: one budget for every table) */
    uint64_t table_elems, table_limit;
    rt_susp susp;               /* the stopped call, if any */
    struct gate_wasi *wasi;     /* its WASI state, when linked to WASI */
    char *objname[3];           /* per gate_target: the object its snapshots name */
    rt_vm vm;
    gate_funcref *own_funcs;    /* defined functions */
    gate_funcref **funcs;
    rt_table **tables;
    rt_memory *mem;
    uint64_t **globals;
    rt_global **global_objs;
    uint8_t *data_dropped, *elem_dropped;
    int exit_code;
    /* host records made at link time for wildcard imports */
    rt_host **hosts;
    gate_funcref *host_frs;
    uint32_t nhosts;
    const rt_proc_hooks *hooks; /* a world process's, or NULL */
    void *hooks_ud;
    uint64_t charged[2];        /* bytes charged through hooks (RT_CHARGE_*) */
    /* a zygote (zygote.c): does not run again, only forks; its imports
       (the stubs of what is not live yet) are its own */
    bool zygote;
    gate_imports *own_imports;
    /* the preopens a zygote's initialisation saw, by guest name only (fd
       3, 4, ...): its children must be granted these, in this order */
    char **zpre;
    uint32_t nzpre;
};

/* zygote.c / instance.c: the imports of a zygote.  rt_imports_stub binds
   module.name with the type ft to fn (ud per binding); rt_imports_borrow
   appends every item of src to dst (dst does not free src's hosts). */
gate_status rt_imports_stub(gate_imports *imp, const char *module, const char *name,
                            const gd_functype *ft, gate_raw_fn fn, void *ud, gate_error *err);
gate_status rt_imports_borrow(gate_imports *dst, const gate_imports *src, gate_error *err);
/* Binds every function import nothing else binds to fn (ctx->host->func
   says which import it is). */
gate_status rt_imports_fallback(gate_imports *imp, gate_raw_fn fn, void *ud, gate_error *err);
/* abi/wasi.c: the guest name of preopen fd, or NULL */
const char *rt_wasi_preopen(const struct gate_wasi *w, uint32_t fd);
uint32_t rt_wasi_nfds(const struct gate_wasi *w);
/* zygote.c: whether child's WASI preopens are the zygote's names (names,
   n); err says which differs */
bool rt_zygote_check_preopens(char *const *names, uint32_t n, const gate_instance *child,
                              gate_error *err);
void rt_zygote_names_free(gate_engine *eng, char **names, uint32_t n, uint32_t cap);


/* instance.c: sponsor charges of a world process (true without hooks) */
bool rt_charge(gate_instance *inst, int kind, int64_t delta);
/* An alternate signal stack for the calling thread (a world's workers). */
void rt_worker_thread_init(void);

/* engine.c */
uint32_t rt_sig_id(gate_engine *eng, const gd_functype *t);
void rt_bury(gate_engine *eng, gate_instance *inst);

/* helpers.c: the GH_* table, and traps raised from C */
extern const void *const gate_rt_helpers[GH_COUNT];

/* Every 0xfd instruction that does not touch memory, portably (simd.c):
   op_imm = opcode | lane << 16 | deterministic << 24; the operands at a,
   b, c in wasm order, little-endian (v128: 16 bytes); the result at res. */
void rt_simd(void *vm, uint32_t op_imm, void *res, const void *a, const void *b, const void *c);
/* Does not return: unwinds to the entry trampoline.  Not declared
   _Noreturn so that ASan does not treat the wasm stack as a fiber switch. */
void rt_trap(rt_vm *vm, uint32_t code, uint32_t wasm_off);
void rt_trap_msg(rt_vm *vm, uint32_t code, uint32_t wasm_off, const char *msg);
bool rt_table_init_range(gate_instance *inst, rt_table *t, const gd_elem *e, uint64_t d,
                         uint64_t s, uint64_t n);
void *rt_const_ref(gate_instance *inst, const gd_const *k);

/* frames.c: native frames <-> portable frames */
bool rt_walk_frames(rt_vm *vm, uintptr_t pc, uintptr_t fp, rt_susp *out);
gate_status rt_resume_frames(gate_instance *inst, const rt_susp *s, uint64_t *area,
                             uint32_t nslots, uint8_t *stack_top, gate_error *err);
void rt_susp_free(gate_instance *inst, rt_susp *s);
/* The safe point of defined function func at wasm offset wasm, or NULL. */
const gc_safepoint *rt_safepoint_of(const gate_module *mod, uint32_t func, uint32_t wasm);
/* engine.c: gate_module_new, taking a copy of donor's compiled code
   instead of compiling when it fits (*shared says whether it did) */
gate_module *rt_module_new(gate_engine *eng, const uint8_t *bytes, size_t len,
                           const gate_module *donor, bool *shared, gate_error *err);
/* deadline.c: the watchdog thread behind gate_set_deadline */
gate_status rt_deadline_set(gate_instance *inst, uint64_t ns_from_now);
void rt_deadline_cancel(gate_instance *inst);
extern char gate_enter_ret_x86_64[];
uint32_t gate_resume_x86_64(rt_vm *entry_vm, void *rsp, void *rbp, void *pc, rt_vm *vm);

/* signals.c */
gate_module *rt_code_owner(uintptr_t pc);
void rt_backtrace(rt_vm *entry, gate_module *mod, uint32_t wasm_off, uintptr_t fp);
void rt_signals_install(void);
void rt_signals_reinstall(void);
bool rt_code_register(gate_module *mod);
void rt_code_unregister(gate_module *mod);
extern _Thread_local rt_vm *rt_entry_vm;

/* entry-x86_64.S */
uint32_t gate_enter_x86_64(rt_vm *entry_vm, void *code, uint64_t *area, uint64_t nslots,
                           void *stack_top, void *callee_vm);
void gate_trap_exit_x86_64(rt_vm *entry_vm, uint32_t status);
void gate_host_stub_x86_64(void);

/* entry-aarch64.S: the same four crossings with the same frame layout */
uint32_t gate_enter_aarch64(rt_vm *entry_vm, void *code, uint64_t *area, uint64_t nslots,
                            void *stack_top, void *callee_vm);
extern char gate_enter_ret_aarch64[];
uint32_t gate_resume_aarch64(rt_vm *entry_vm, void *sp, void *fp, void *pc, void *vm, void *lr);
void gate_trap_exit_aarch64(rt_vm *entry_vm, uint32_t status);
void gate_host_stub_aarch64(void);

/* The host ISA's crossings.  RT_HOST_STUB is what a host function's table
   entry points to. */
#if defined(__x86_64__)
#define RT_HOST_TARGET GATE_TARGET_X86_64
#define RT_ENTER gate_enter_x86_64
#define RT_TRAP_EXIT gate_trap_exit_x86_64
#define RT_HOST_STUB ((void *)gate_host_stub_x86_64)
#elif defined(__aarch64__)
#define RT_HOST_TARGET GATE_TARGET_ARM64
#define RT_ENTER gate_enter_aarch64
#define RT_TRAP_EXIT gate_trap_exit_aarch64
#define RT_HOST_STUB ((void *)gate_host_stub_aarch64)
#else
#error "libgate runs on x86-64 and aarch64 hosts"
#endif
void gate_rt_host_call(rt_host *h, uint64_t *area, rt_vm *caller, uintptr_t ret,
                       uintptr_t fp);

#endif
