/* world.h - internal header of world/: worlds, processes, sponsors. */
#ifndef GATE_WORLD_H
#define GATE_WORLD_H

#include <assert.h>
#include <pthread.h>

#include "../runtime/runtime.h"

/* budget kinds, in gate_budget's order */
enum { GW_FUEL, GW_MEMORY, GW_TABLES, GW_PROCS, GW_MSGS, GW_NB };

/* why a slice ended */
#define GW_STACK_POOL 64
#define GW_MAX_MSGS 65536           /* queued for one process */
#define GW_TOPIC_MAX 255            /* bytes of a topic name */
#define GW_MAX_TOPICS 65536

typedef struct gw_msg {
    struct gw_msg *next;
    gate_pid from;
    uint32_t tag, len;
    gate_sponsor *payer;        /* charged GW_MSGS until received, or NULL */
    uint8_t *moved;             /* pages moved out of the sender (len bytes), or NULL */
    uint32_t dlen;              /* bytes of data[] (0 for moved pages) */
    uint8_t data[];
} gw_msg;
/* a message's bytes */
static inline const uint8_t *gw_msg_bytes(const gw_msg *m)
{
    return m->moved ? m->moved : m->data;
}

#define GW_MAX_STREAMS 65536
#define GW_MOVE_MIN ((uint32_t)1 << 20)    /* send_move moves pages from here on */

typedef struct gw_stream {
    uint32_t id;
    gate_pid writer, reader;
    bool wclosed, rclosed;
    uint32_t cap, head, len;    /* a ring of cap bytes, len of them queued */
    gate_sponsor *payer;        /* charged cap bytes (GW_MSGS) */
    uint8_t data[];
} gw_stream;

typedef struct gw_reg {
    char name[64], version[32];
    unsigned ver[3];
    gate_module *module;
    char **depends;
    size_t ndepends;
    bool one_copy;
    gate_grants *grants;
    char entry[128];
    gate_instance *zygote;      /* forked for each spawn, or NULL */
} gw_reg;

typedef struct gw_topic {
    char name[GW_TOPIC_MAX + 1];
    uint32_t len;
    gate_pid *subs;
    uint32_t nsubs, capsubs;
} gw_topic;

enum { GW_Y_NONE, GW_Y_PREEMPT, GW_Y_WAIT, GW_Y_YIELD, GW_Y_PORTABLE, GW_Y_DONE };

struct gate_sponsor {
    gate_world *w;
    gate_sponsor *parent;
    char name[64];
    uint64_t limit[GW_NB];      /* GATE_UNLIMITED: none */
    uint64_t used[GW_NB];       /* spent (fuel) or held now (the rest) */
    uint64_t given[GW_NB];      /* limits of its children, taken from it */
    uint32_t index;             /* in w->sponsors */
    bool freed;
};

typedef struct gw_worker gw_worker;

typedef struct gw_proc {
    gate_world *w;
    gate_pid pid;
    char name[64];
    gate_sponsor *sp;
    gate_proc_state state;
    gw_worker *wk;              /* its worker, for good */
    struct gw_proc *qnext, *qprev;  /* run queue */
    struct gw_proc *pnext;      /* w->pending */
    bool queued;
    size_t heapi;               /* timer heap slot, SIZE_MAX: none */
    uint64_t wake;              /* monotonic ns (WAITING) */
    /* what to run */
    gate_module *mod;           /* a reference of its own */
    gate_imports *imp;
    bool own_imp;
    char *entry;
    gate_val *args;
    size_t nargs;
    gate_limits lim;
    gate_instance *inst;        /* from its first dispatch */
    bool fresh_fork;            /* a zygote's child not dispatched yet */
    /* its stack: [guard][C frames][guard][wasm stack] */
    uint8_t *map;
    size_t map_len;
    rt_stack wstack;
    void *ctx;                  /* saved stack pointer while parked */
    rt_vm *entry_vm;            /* rt_entry_vm while parked */
    bool native;                /* parked in a hook, frames in place */
    bool portable_req;          /* convert to portable form (snapshots) */
    bool kill, pause_req;
    bool released_pending;      /* ended without running: release outside the lock */
    int yield;                  /* GW_Y_*: why the last slice ended */
    uint64_t slice_fuel;
    /* the end */
    gate_status status;
    int exit_code;
    gate_trap_info trap;
    uint32_t nbt, bt_func[16], bt_off[16];
    char message[256];
    uint64_t fuel_used, slices, overruns, memory;
    gate_pid *monitors;
    uint32_t nmon, capmon;
    /* messages */
    gw_msg *mhead, *mtail;
    uint64_t mbytes;
    uint32_t nmsg;
    bool in_recv, wake_pending;
    int32_t recv_tag;
    int64_t wait_stream;        /* the stream it is parked on, or -1 */
    gate_grants *grants;        /* its own copy, or NULL: everything */
    gate_pid parent;            /* the process that spawned it, or 0 */
    char regname[64];           /* the registry entry it came from, or "" */
} gw_proc;

struct gw_worker {
    gate_world *w;
    pthread_t th;
    unsigned idx;
    pthread_cond_t cv;          /* monotonic clock */
    gw_proc *head, *tail;
    gw_proc **heap;             /* WAITING processes by wake time */
    size_t nheap, capheap;
    gw_proc **convert;          /* to convert to portable form (snapshots) */
    size_t nconvert, capconvert;
    gw_proc *cur;
    uint64_t slice_id, stopped_id, overrun_id, slice_start;
    void *sched_ctx;
    bool busy, idle;
    size_t nprocs;
};

struct gate_world {
    gate_engine *eng;
    gate_world_config cfg;
    bool fuel;                  /* the engine meters fuel */
    size_t stack_size;
    pthread_mutex_t lock;
    pthread_cond_t main_cv;     /* realtime clock */
    pthread_cond_t wd_cv;       /* monotonic clock */
    gw_worker *wk;
    unsigned nwk;
    gw_proc **procs;            /* by pid, ascending */
    uint32_t nprocs, capprocs;
    gate_pid next_pid;
    uint64_t nlive;
    gate_sponsor **sponsors;    /* [0] is the root */
    uint32_t nsponsors, capsponsors;
    bool running, quit, converting, stop_run;
    uint64_t slices_left;
    pthread_t watchdog;
    bool has_watchdog;
    uint64_t overruns;
    gate_world_event_fn on_end;
    void *on_end_ud;
    /* stacks of ended processes, for the next ones (under the lock) */
    struct { uint8_t *base; size_t len; } stackpool[GW_STACK_POOL];
    uint32_t nstackpool;
    gw_proc *pending;           /* ended without running, to release */
    gw_topic *topics;
    uint32_t ntopics, captopics;
    uint64_t msgs_sent;
    gw_reg *reg;
    uint32_t nreg, capreg;
    gate_world_imports_fn imports_for;
    void *imports_ud;
    gw_stream **streams;
    uint32_t nstreams, capstreams, next_stream;
};

extern const rt_proc_hooks gw_hooks;
uint64_t gw_avail(const gate_sponsor *s, int k);
bool gw_take(gate_sponsor *s, int k, uint64_t n);
void gw_give_back(gate_sponsor *s, int k, uint64_t n);
gate_sponsor *gw_sponsor_add(gate_world *w, gate_sponsor *parent, const char *name,
                             const uint64_t lim[GW_NB], gate_error *err);
void gw_wake_starved(gate_world *w, gate_sponsor *s);
gw_proc *gw_find(gate_world *w, gate_pid pid);
gw_proc *gw_proc_add(gate_world *w, gate_pid pid, const char *name, gate_sponsor *sp,
                     gate_error *err);
void gw_kill_locked(gate_world *w, gw_proc *p);
gate_status gw_run(gate_world *w, uint64_t ns, uint64_t max_slices, gate_pid until);
void gw_release_pending(gate_world *w);
void gw_cond_wait_until(pthread_cond_t *cv, pthread_mutex_t *m, uint64_t mono_deadline);
void gw_fill_info(gw_proc *p, gate_proc_info *out);
/* an error as the public entry points start with it: none yet */
void gw_err_reset(gate_error *err);
uint64_t gw_now_ns(void);
/* Under the lock: p, parked in a blocking kernel call, runs again (or,
   still on its way to park, does not park). */
void gw_wake(gate_world *w, gw_proc *p);
/* Whether name (len bytes) matches one of n patterns: exact, a prefix
   ending in '*' ("chat.*"), or "*". */
bool gw_pattern_match(const char *const *pats, size_t n, const char *name, size_t len);
/* For the kernel services: the calling world process (NULL: the caller is
   not one), a range of its memory (NULL: out of bounds), an i32 result. */
gw_proc *gw_caller(gate_call_ctx *ctx);
uint8_t *gw_guest(gate_call_ctx *ctx, uint32_t ptr, uint64_t len);
gate_status gw_ret(gate_val *res, int32_t v);
void gw_runq_push(gw_worker *wk, gw_proc *p, bool front);
void gw_make_runnable(gate_world *w, gw_proc *p, bool front);
gw_worker *gw_pick_worker(gate_world *w);
void gw_stack_free(gw_proc *p);
void gw_heap_remove(gw_worker *wk, gw_proc *p);
/* msg.c, under the lock */
int gw_deliver(gate_world *w, gw_proc *to, gate_pid from, uint32_t tag, const void *data,
               uint32_t len, gate_sponsor *payer);
void gw_msg_free(gate_world *w, gw_msg *m);
void gw_mailbox_clear(gate_world *w, gw_proc *p);
gw_topic *gw_topic_get(gate_world *w, const char *name, size_t len);
int gw_subscribe(gate_world *w, gw_topic *t, gate_pid pid);
void gw_unsubscribe_all(gate_world *w, gate_pid pid);
void gw_topics_free(gate_world *w);
gate_grants *gw_grants_copy(gate_world *w, const gate_grants *g);
void gw_grants_free(gate_world *w, gate_grants *g);
void gw_registry_free(gate_world *w);
gate_status gw_k_spawn(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gw_stream *gw_stream_find(gate_world *w, uint32_t id);
gw_stream *gw_stream_new(gate_world *w, uint32_t id, gate_pid writer, gate_pid reader,
                         uint32_t cap, gate_sponsor *payer);
void gw_streams_end(gate_world *w, gate_pid pid);
void gw_streams_free(gate_world *w);
gate_status gw_k_stream_open(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gate_status gw_k_stream_write(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gate_status gw_k_stream_read(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gate_status gw_k_stream_close(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gate_status gw_k_procs(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
gate_status gw_k_modules(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res);
bool gw_in_dispatch(void);

#endif
