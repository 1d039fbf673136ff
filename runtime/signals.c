/*
 * signals.c - faults in compiled code become traps.
 *
 * Signal dispositions are process-wide, so this is the one place with
 * process-wide state: the previous handlers (to chain to for faults that
 * are not ours) and a lock-free registry of code ranges that the handler
 * can read.  A fault whose pc is in registered code at a trap site
 * (memory access, ud2/udf) is redirected to gate_trap_exit_<isa>, which
 * unwinds to the entry trampoline of the current thread.
 */
#include <signal.h>
#include <stdatomic.h>
#include <string.h>
#include <ucontext.h>

#include "runtime.h"

#define MAX_CODE 4096

static _Atomic(gate_module *) code_mods[MAX_CODE];
static struct sigaction prev[32];
static pthread_once_t once = PTHREAD_ONCE_INIT;

_Thread_local rt_vm *rt_entry_vm;

bool rt_code_register(gate_module *mod)
{
    for (int i = 0; i < MAX_CODE; i++) {
        gate_module *expect = NULL;
        if (atomic_compare_exchange_strong(&code_mods[i], &expect, mod))
            return true;
    }
    return false;
}

void rt_code_unregister(gate_module *mod)
{
    for (int i = 0; i < MAX_CODE; i++) {
        gate_module *expect = mod;
        if (atomic_compare_exchange_strong(&code_mods[i], &expect, NULL))
            return;
    }
}

gate_module *rt_code_owner(uintptr_t pc)
{
    for (int i = 0; i < MAX_CODE; i++) {
        gate_module *m = atomic_load(&code_mods[i]);
        if (m && pc >= (uintptr_t)m->exec && pc < (uintptr_t)m->exec + m->code.size)
            return m;
    }
    return NULL;
}

/*
 * Records where a trap happened: the innermost frame from the trap site,
 * then each caller from its return address (a safe point) by following
 * the saved frame pointers:  [fp] = caller's fp, [fp + 8] = return address.
 * Only reads memory; safe in a signal handler.
 */
void rt_backtrace(rt_vm *entry, gate_module *mod, uint32_t wasm_off, uintptr_t fp)
{
    uint32_t n = 0;
    if (mod) {
        entry->bt_mod[n] = mod;
        entry->bt_off[n] = wasm_off;
        entry->bt_func[n++] = gd_func_at(&mod->info, wasm_off);
    }
    while (fp && n < 32) {
        uintptr_t ret = ((uintptr_t *)fp)[1];
        gate_module *m = rt_code_owner(ret);
        if (!m)
            break;              /* the entry trampoline */
        const gc_safepoint *sp = gc_find_safepoint(&m->code, (uint32_t)(ret - (uintptr_t)m->exec));
        if (!sp)
            break;
        entry->bt_mod[n] = m;
        entry->bt_off[n] = sp->wasm;
        entry->bt_func[n++] = sp->func;
        fp = ((uintptr_t *)fp)[0];
    }
    entry->nbt = n;
}

static void chain(int sig, siginfo_t *si, void *ctx)
{
    struct sigaction *p = &prev[sig];
    if (p->sa_flags & SA_SIGINFO) {
        if (p->sa_sigaction) {
            p->sa_sigaction(sig, si, ctx);
            return;
        }
    } else if (p->sa_handler != SIG_IGN && p->sa_handler != SIG_DFL) {
        p->sa_handler(sig);
        return;
    }
    /* default action: restore it and let the fault happen again */
    signal(sig, SIG_DFL);
}

/* The interrupted context's pc and frame pointer, and a redirection of it
   to RT_TRAP_EXIT(vm, 1). */
#if defined(__x86_64__)
#define CTX_PC(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RIP])
#define CTX_FP(uc) ((uintptr_t)(uc)->uc_mcontext.gregs[REG_RBP])
static void ctx_trap_exit(ucontext_t *uc, rt_vm *vm)
{
    uc->uc_mcontext.gregs[REG_RIP] = (greg_t)(uintptr_t)gate_trap_exit_x86_64;
    uc->uc_mcontext.gregs[REG_RDI] = (greg_t)(uintptr_t)vm;
    uc->uc_mcontext.gregs[REG_RSI] = 1;
}
#elif defined(__aarch64__)
#define CTX_PC(uc) ((uintptr_t)(uc)->uc_mcontext.pc)
#define CTX_FP(uc) ((uintptr_t)(uc)->uc_mcontext.regs[29])
static void ctx_trap_exit(ucontext_t *uc, rt_vm *vm)
{
    uc->uc_mcontext.pc = (uintptr_t)gate_trap_exit_aarch64;
    uc->uc_mcontext.regs[0] = (uintptr_t)vm;
    uc->uc_mcontext.regs[1] = 1;
}
#endif

static void handler(int sig, siginfo_t *si, void *ctx)
{
    ucontext_t *uc = ctx;
    uintptr_t pc = CTX_PC(uc);
    rt_vm *vm = rt_entry_vm;
    gate_module *m = vm ? rt_code_owner(pc) : NULL;
    const gc_trapsite *t = m ? gc_find_trap(&m->code, (uint32_t)(pc - (uintptr_t)m->exec)) : NULL;
    if (t) {
        vm->trap.code = (gate_trap_code)t->code;
        vm->trap.func_index = t->func;
        vm->trap.wasm_offset = t->wasm;
        vm->trap.message[0] = 0;
        rt_backtrace(vm, m, t->wasm, CTX_FP(uc));
        ctx_trap_exit(uc, vm);
        return;
    }
    chain(sig, si, ctx);
}

static void install(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_NODEFER;
    sigemptyset(&sa.sa_mask);
    static const int sigs[] = { SIGSEGV, SIGBUS, SIGILL, SIGFPE };
    for (unsigned i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, &prev[sigs[i]]);
}

void rt_signals_install(void)
{
    pthread_once(&once, install);
}

/* For hosts (and test frameworks) that replaced the handlers after
   libgate installed them: installs them again, chaining to the new ones. */
void rt_signals_reinstall(void)
{
    pthread_once(&once, install);
    install();
}
