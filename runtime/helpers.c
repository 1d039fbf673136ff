/*
 * helpers.c - runtime helpers that compiled code calls (GH_* in
 * compiler/backend.h): bulk memory, tables, float-to-int truncation, the
 * slow path of stop checks, and host calls.  Each runs on the wasm stack
 * with the System V ABI, gets the current vmctx first and the wasm offset
 * of the instruction last, and raises traps with rt_trap.
 */
#include <math.h>
#include <stdatomic.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>

#include "runtime.h"

void rt_trap(rt_vm *vm, uint32_t code, uint32_t wasm_off)
{
    rt_trap_msg(vm, code, wasm_off, "");
}

/* A trap with a message (a killed process; "": none). */
void rt_trap_msg(rt_vm *vm, uint32_t code, uint32_t wasm_off, const char *msg)
{
    rt_vm *entry = rt_entry_vm;
    gate_module *mod = vm->inst ? vm->inst->mod : NULL;
    if (mod)
        wasm_off += mod->code_shift;
    entry->trap.code = (gate_trap_code)code;
    entry->trap.wasm_offset = wasm_off;
    entry->trap.func_index = mod ? gd_func_at(&mod->info, wasm_off) : GATE_NO_FUNC;
    snprintf(entry->trap.message, sizeof entry->trap.message, "%s", msg);
    rt_backtrace(entry, mod, wasm_off, vm->fp);
    RT_TRAP_EXIT(entry, 1);
}

static uint32_t h_memory_grow(rt_vm *vm, uint32_t delta, uint32_t off)
{
    (void)off;
    rt_memory *m = vm->mem;
    uint64_t old = m->pages;
    if (delta == 0)
        return (uint32_t)old;
    if (old + delta > m->max)
        return UINT32_MAX;
    /* a world process's sponsor pays for the pages, or the growth fails */
    if (!rt_charge(vm->inst, RT_CHARGE_MEMORY, (int64_t)delta * 65536))
        return UINT32_MAX;
    if (mprotect(m->base + old * 65536, (size_t)delta * 65536, PROT_READ | PROT_WRITE)) {
        rt_charge(vm->inst, RT_CHARGE_MEMORY, -(int64_t)delta * 65536);
        return UINT32_MAX;
    }
    m->pages = old + delta;
    m->bytes = m->pages * 65536;
    return (uint32_t)old;
}

static void check_mem(rt_vm *vm, uint64_t at, uint64_t n, uint32_t off)
{
    if (at + n > vm->mem->pages * 65536)
        rt_trap(vm, GATE_TRAP_MEMORY_OUT_OF_BOUNDS, off);
}

static void h_memory_fill(rt_vm *vm, uint32_t d, uint32_t val, uint32_t n, uint32_t off)
{
    check_mem(vm, d, n, off);
    memset(vm->mem->base + d, (int)(val & 0xff), n);
}

static void h_memory_copy(rt_vm *vm, uint32_t d, uint32_t s, uint32_t n, uint32_t off)
{
    check_mem(vm, d, n, off);
    check_mem(vm, s, n, off);
    memmove(vm->mem->base + d, vm->mem->base + s, n);
}

static void h_memory_init(rt_vm *vm, uint64_t seg, uint32_t d, uint32_t s, uint32_t n,
                          uint32_t off)
{
    gate_instance *inst = vm->inst;
    const gd_data *ds = &inst->mod->info.data[seg];
    uint64_t len = inst->data_dropped[seg] ? 0 : ds->len;
    if ((uint64_t)s + n > len)
        rt_trap(vm, GATE_TRAP_MEMORY_OUT_OF_BOUNDS, off);
    check_mem(vm, d, n, off);
    memcpy(vm->mem->base + d, inst->mod->bytes + ds->bytes_off + s, n);
}

static void h_data_drop(rt_vm *vm, uint64_t seg, uint32_t off)
{
    (void)off;
    vm->inst->data_dropped[seg] = 1;
}

static rt_table *table(rt_vm *vm, uint64_t t)
{
    return vm->tables[(uint32_t)t];
}

static void *h_table_get(rt_vm *vm, uint64_t t, uint32_t i, uint32_t off)
{
    rt_table *tb = table(vm, t);
    if (i >= tb->size)
        rt_trap(vm, GATE_TRAP_TABLE_OUT_OF_BOUNDS, off);
    return tb->elems[i];
}

static void h_table_set(rt_vm *vm, uint64_t t, uint32_t i, void *ref, uint32_t off)
{
    rt_table *tb = table(vm, t);
    if (i >= tb->size)
        rt_trap(vm, GATE_TRAP_TABLE_OUT_OF_BOUNDS, off);
    tb->elems[i] = ref;
}

static uint32_t h_table_grow(rt_vm *vm, uint64_t t, void *ref, uint32_t n, uint32_t off)
{
    (void)off;
    rt_table *tb = table(vm, t);
    gate_instance *inst = vm->inst;
    uint64_t old = tb->size, want = old + n;
    if (want > tb->max || inst->table_elems + n > inst->table_limit)
        return UINT32_MAX;
    if (!rt_charge(inst, RT_CHARGE_TABLE, (int64_t)n * (int64_t)sizeof(void *)))
        return UINT32_MAX;
    if (want > tb->cap) {
        uint64_t cap = tb->cap ? tb->cap : 8;
        while (cap < want)
            cap *= 2;
        gx_alloc *a = &vm->inst->eng->alloc;
        void **e = gx_realloc(a, tb->elems, (size_t)tb->cap * sizeof(void *),
                              (size_t)cap * sizeof(void *));
        if (!e) {
            rt_charge(inst, RT_CHARGE_TABLE, -(int64_t)n * (int64_t)sizeof(void *));
            return UINT32_MAX;
        }
        tb->elems = e;
        tb->cap = (uint32_t)cap;
    }
    for (uint64_t i = old; i < want; i++)
        tb->elems[i] = ref;
    tb->size = (uint32_t)want;
    inst->table_elems += n;
    return (uint32_t)old;
}

static void h_table_fill(rt_vm *vm, uint64_t t, uint32_t i, void *ref, uint32_t n, uint32_t off)
{
    rt_table *tb = table(vm, t);
    if ((uint64_t)i + n > tb->size)
        rt_trap(vm, GATE_TRAP_TABLE_OUT_OF_BOUNDS, off);
    for (uint32_t k = 0; k < n; k++)
        tb->elems[i + k] = ref;
}

static void h_table_copy(rt_vm *vm, uint64_t tables, uint32_t d, uint32_t s, uint32_t n,
                         uint32_t off)
{
    rt_table *dt = table(vm, tables & 0xffffffffu), *st = table(vm, tables >> 32);
    if ((uint64_t)d + n > dt->size || (uint64_t)s + n > st->size)
        rt_trap(vm, GATE_TRAP_TABLE_OUT_OF_BOUNDS, off);
    memmove(dt->elems + d, st->elems + s, (size_t)n * sizeof(void *));
}

void *rt_const_ref(gate_instance *inst, const gd_const *k)
{
    switch (k->op) {
    case GOP_REF_FUNC:
        return inst->funcs[k->u.index];
    case GOP_GLOBAL_GET:
        return (void *)(uintptr_t)inst->globals[k->u.index][0];
    default:
        return NULL;
    }
}

/* Copies elements [s, s+n) of segment e into table t at d; false if out of range. */
bool rt_table_init_range(gate_instance *inst, rt_table *t, const gd_elem *e, uint64_t d,
                         uint64_t s, uint64_t n)
{
    uint32_t len = inst->elem_dropped[e - inst->mod->info.elems] ? 0 : e->count;
    if (s + n > len || d + n > t->size)
        return false;
    for (uint64_t i = 0; i < n; i++)
        t->elems[d + i] = rt_const_ref(inst, &e->items[s + i]);
    return true;
}

static void h_table_init(rt_vm *vm, uint64_t ids, uint32_t d, uint32_t s, uint32_t n,
                         uint32_t off)
{
    gate_instance *inst = vm->inst;
    const gd_elem *e = &inst->mod->info.elems[ids & 0xffffffffu];
    if (!rt_table_init_range(inst, table(vm, ids >> 32), e, d, s, n))
        rt_trap(vm, GATE_TRAP_TABLE_OUT_OF_BOUNDS, off);
}

static void h_elem_drop(rt_vm *vm, uint64_t seg, uint32_t off)
{
    (void)off;
    vm->inst->elem_dropped[seg] = 1;
}

/*
 * Stop checks land here when the stop word says so.  If a stop was asked
 * and the stack holds only this instance's frames, they are captured in
 * portable form and the call unwinds with "suspended"; otherwise (a host
 * function or another instance in between) the program runs on and the
 * request stays pending for the next safe point.
 */
static void h_slowpath(rt_vm *vm, uint32_t off)
{
    if (atomic_load(&vm->kill_req) && vm == rt_entry_vm)
        rt_trap_msg(vm, GATE_TRAP_HOST, off, "killed");
    int why = atomic_load(&vm->stop_req) ? RT_STOP_REQUEST : vm->fuel < 0 ? RT_STOP_FUEL : 0;
    bool stress = false;
    if (!why && vm->stress_every && vm->stress_left &&
        ++vm->stress_count % vm->stress_every == 0) {
        why = RT_STOP_REQUEST;
        vm->stress_left--;
        stress = true;
    }
    if (!why || vm != rt_entry_vm || vm->no_stop)
        return;
    gate_instance *inst = vm->inst;
    /* a world process parks with its frames in place (stress stops take
       the portable path, so that both are tested) */
    if (inst->hooks && inst->hooks->preempt && !stress) {
        bool portable = inst->hooks->preempt(inst->hooks_ud, why);
        if (atomic_load(&vm->kill_req))
            rt_trap_msg(vm, GATE_TRAP_HOST, off, "killed");
        if (!portable)
            return;
        why = RT_STOP_REQUEST;
    }
    rt_susp_free(inst, &inst->susp);
    if (!rt_walk_frames(vm, (uintptr_t)__builtin_return_address(0), vm->fp, &inst->susp))
        return;
    inst->susp.reason = (uint32_t)why;
    RT_TRAP_EXIT(vm, 3);
}

/*
 * Float to integer.  `op` is the GOP_ of the instruction; the float comes
 * as its bit pattern.  Trapping forms trap on NaN and out-of-range values;
 * saturating forms clamp and map NaN to 0.
 */
static uint64_t h_trunc(rt_vm *vm, uint32_t op, uint64_t bits, uint32_t off)
{
    bool from32 = op == GOP_I32_TRUNC_F32_S || op == GOP_I32_TRUNC_F32_U ||
                  op == GOP_I64_TRUNC_F32_S || op == GOP_I64_TRUNC_F32_U ||
                  op == GOP_I32_TRUNC_SAT_F32_S || op == GOP_I32_TRUNC_SAT_F32_U ||
                  op == GOP_I64_TRUNC_SAT_F32_S || op == GOP_I64_TRUNC_SAT_F32_U;
    bool to64 = op == GOP_I64_TRUNC_F32_S || op == GOP_I64_TRUNC_F32_U ||
                op == GOP_I64_TRUNC_F64_S || op == GOP_I64_TRUNC_F64_U ||
                op == GOP_I64_TRUNC_SAT_F32_S || op == GOP_I64_TRUNC_SAT_F32_U ||
                op == GOP_I64_TRUNC_SAT_F64_S || op == GOP_I64_TRUNC_SAT_F64_U;
    bool sat = op >= GOP_I32_TRUNC_SAT_F32_S && op <= GOP_I64_TRUNC_SAT_F64_U;
    bool is_signed = op == GOP_I32_TRUNC_F32_S || op == GOP_I32_TRUNC_F64_S ||
                     op == GOP_I64_TRUNC_F32_S || op == GOP_I64_TRUNC_F64_S ||
                     op == GOP_I32_TRUNC_SAT_F32_S || op == GOP_I32_TRUNC_SAT_F64_S ||
                     op == GOP_I64_TRUNC_SAT_F32_S || op == GOP_I64_TRUNC_SAT_F64_S;
    double x;
    if (from32) {
        float f;
        uint32_t b32 = (uint32_t)bits;
        memcpy(&f, &b32, 4);
        x = f;
    } else {
        memcpy(&x, &bits, 8);
    }
    if (isnan(x)) {
        if (sat)
            return 0;
        rt_trap(vm, GATE_TRAP_INVALID_CONVERSION, off);
    }
    double t = trunc(x);
    double lo, hi;      /* valid iff lo <= t < hi */
    if (is_signed) {
        lo = to64 ? -9223372036854775808.0 : -2147483648.0;
        hi = to64 ? 9223372036854775808.0 : 2147483648.0;
    } else {
        lo = 0.0;
        hi = to64 ? 18446744073709551616.0 : 4294967296.0;
    }
    if (!(t >= lo && t < hi)) {
        if (!sat)
            rt_trap(vm, GATE_TRAP_INT_OVERFLOW, off);
        if (t < lo)
            return is_signed ? (to64 ? (uint64_t)INT64_MIN : (uint32_t)INT32_MIN) : 0;
        return is_signed ? (to64 ? (uint64_t)INT64_MAX : (uint32_t)INT32_MAX)
                         : (to64 ? UINT64_MAX : UINT32_MAX);
    }
    if (is_signed)
        return to64 ? (uint64_t)(int64_t)t : (uint32_t)(int32_t)t;
    return to64 ? (uint64_t)t : (uint32_t)t;
}

/*
 * A host function asked to stop: the wasm caller is stopped at its call,
 * with the call's results (complete) or arguments (restart) kept pending.
 * If the stack cannot be captured (another instance in between, the start
 * function), the stop is asked for the next stop check instead and false
 * is returned (the call then returns its results).
 */
static bool host_stop(rt_host *h, const uint64_t *results, const uint64_t *args,
                      rt_vm *caller, uintptr_t ret, uintptr_t fp, int how)
{
    gate_instance *inst = caller->inst;
    if (caller != rt_entry_vm || caller->no_stop) {
        gate_request_stop(inst);
        return false;
    }
    const gd_module *m = &inst->mod->info;
    uint32_t callee = GATE_NO_FUNC;
    for (uint32_t f = 0; f < m->nfunc_imports; f++)
        if (inst->funcs[f]->vm == h)
            callee = f;
    rt_susp_free(inst, &inst->susp);
    if (callee == GATE_NO_FUNC || !rt_walk_frames(caller, ret, fp, &inst->susp)) {
        rt_susp_free(inst, &inst->susp);
        gate_request_stop(inst);
        return false;
    }
    inst->susp.reason = RT_STOP_REQUEST;
    inst->susp.callee = callee;
    if (how == GATE_HOST_RESTART) {
        inst->susp.pending = RT_PENDING_RESTART;
        inst->susp.npend = h->type.nparams;
        memcpy(inst->susp.pend, args, (size_t)h->type.nparams * 8);
    } else {
        inst->susp.pending = RT_PENDING_COMPLETE;
        inst->susp.npend = h->type.nresults;
        memcpy(inst->susp.pend, results, (size_t)h->type.nresults * 8);
    }
    RT_TRAP_EXIT(caller, 3);
    return true;
}

/* A trap at the call instruction of the wasm caller, with message. */
static void host_trap(const char *message, uintptr_t ret, uintptr_t fp)
{
    rt_vm *entry = rt_entry_vm;
    gate_module *m = rt_code_owner(ret);
    const gc_safepoint *sp =
        m ? gc_find_safepoint(&m->code, (uint32_t)(ret - (uintptr_t)m->exec)) : NULL;
    entry->trap.code = GATE_TRAP_HOST;
    entry->trap.func_index = sp ? sp->func : GATE_NO_FUNC;
    entry->trap.wasm_offset = sp ? sp->wasm : 0;
    snprintf(entry->trap.message, sizeof entry->trap.message, "%s",
             message[0] ? message : "host function trapped");
    rt_backtrace(entry, sp ? m : NULL, sp ? sp->wasm : 0, fp);
    RT_TRAP_EXIT(entry, 1);
}

/* Called by the host stub (gate_host_stub_<isa>) with the argument/result slots. */
void gate_rt_host_call(rt_host *h, uint64_t *area, rt_vm *caller, uintptr_t ret,
                       uintptr_t fp)
{
    gate_val args[64], res[64];
    for (uint32_t i = 0; i < h->type.nparams; i++) {
        args[i].type = (gate_valtype)h->type.params[i];
        memset(&args[i].of, 0, sizeof args[i].of);
        memcpy(&args[i].of, &area[i], 8);
    }
    memset(res, 0, sizeof(gate_val) * (h->type.nresults ? h->type.nresults : 1));
    gate_call_ctx ctx = { .inst = caller->inst, .stop_how = -1, .host = h };
    uint64_t saved_args[64];
    memcpy(saved_args, area, (size_t)h->type.nparams * 8);
    gate_status st = h->fn(&ctx, h->ud, args, res);
    if (st == GATE_EXITED || ctx.exited) {
        ctx.stop_how = -1;
        rt_vm *entry = rt_entry_vm;
        entry->exit_code = ctx.exit_code;
        RT_TRAP_EXIT(entry, 2);
        return;
    }
    if (st != GATE_OK) {
        host_trap(ctx.message, ret, fp);
        return;
    }
    for (uint32_t i = 0; i < h->type.nresults; i++) {
        area[i] = 0;
        memcpy(&area[i], &res[i].of, h->type.results[i] == GT_F32 || h->type.results[i] == GT_I32 ? 4 : 8);
    }
    /* a call that must not return (a zygote's authority) traps when the
       stop cannot be taken here; ctx.message says what it is */
    if (ctx.stop_how >= 0 && !host_stop(h, area, saved_args, caller, ret, fp, ctx.stop_how) &&
        ctx.must_stop)
        host_trap(ctx.message, ret, fp);
}

gate_instance *gate_call_instance(gate_call_ctx *ctx)
{
    return ctx ? ctx->inst : NULL;
}

/*
 * A host function asks the program to stop at this call: when the host
 * function returns, the program stops with its caller's frame innermost.
 * On resume, GATE_HOST_COMPLETE delivers the results it returned;
 * GATE_HOST_RESTART calls it again with the same arguments.
 */
void gate_call_request_stop(gate_call_ctx *ctx, gate_host_resume how)
{
    if (ctx)
        ctx->stop_how = how == GATE_HOST_RESTART ? GATE_HOST_RESTART : GATE_HOST_COMPLETE;
}

int gate_call_stop_requested(gate_call_ctx *ctx)
{
    return ctx && ctx->inst && atomic_load(&ctx->inst->vm.stop_req) != 0;
}

void gate_call_exit(gate_call_ctx *ctx, int code)
{
    ctx->exited = true;
    ctx->exit_code = code;
}

void gate_call_trap(gate_call_ctx *ctx, const char *message)
{
    snprintf(ctx->message, sizeof ctx->message, "%s", message ? message : "host trap");
}

const void *const gate_rt_helpers[GH_COUNT] = {
    [GH_MEMORY_GROW] = (const void *)h_memory_grow,
    [GH_MEMORY_FILL] = (const void *)h_memory_fill,
    [GH_MEMORY_COPY] = (const void *)h_memory_copy,
    [GH_MEMORY_INIT] = (const void *)h_memory_init,
    [GH_DATA_DROP] = (const void *)h_data_drop,
    [GH_TABLE_GROW] = (const void *)h_table_grow,
    [GH_TABLE_FILL] = (const void *)h_table_fill,
    [GH_TABLE_COPY] = (const void *)h_table_copy,
    [GH_TABLE_INIT] = (const void *)h_table_init,
    [GH_ELEM_DROP] = (const void *)h_elem_drop,
    [GH_TABLE_GET] = (const void *)h_table_get,
    [GH_TABLE_SET] = (const void *)h_table_set,
    [GH_SLOWPATH] = (const void *)h_slowpath,
    [GH_TRUNC] = (const void *)h_trunc,
    [GH_SIMD] = (const void *)rt_simd,
};
