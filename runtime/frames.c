/*
 * frames.c - the frame walker and frame builder.  Both backends lay frames
 * out alike (docs/design.md: x86-64 rbp/r15 are ARM64 x29/x28), so this is
 * one file; only the entry's return label, the resume trampoline and how a
 * restarted host call gets its return address differ.
 *
 * Walking: from the innermost stopped frame (its rbp and the address its
 * runtime call returns to), each frame gives
 *     function + wasm offset  <- the safe point at its continuation address
 *     slots                   <- [rbp - 16 - 8k], k < the safe point's slot count
 *     the caller              <- [rbp] (saved rbp) and [rbp + 8] (return address)
 * until the return address is the entry trampoline's.
 *
 * Building: the same frames laid down again on a (possibly different)
 * stack, outermost first, each one's return address taken from the map of
 * the code that will run:
 *
 *     entry save area (vm, result area, slot count), outgoing slots
 *     [ret = gate_enter_ret] [saved rbp] [vm] [slots...] ... [frame rsp]
 *     [ret = caller's continuation] [saved rbp] [vm] [slots...] ...
 *     innermost frame: resumed by jumping to its own continuation.
 */
#include <string.h>

#include "runtime.h"

#if defined(__x86_64__)
#define ENTER_RET gate_enter_ret_x86_64
#define RESUME(vm, sp, fp, pc, callee, lr) ((void)(lr), gate_resume_x86_64(vm, sp, fp, pc, callee))
#else
#define ENTER_RET gate_enter_ret_aarch64
#define RESUME(vm, sp, fp, pc, callee, lr) gate_resume_aarch64(vm, sp, fp, pc, callee, lr)
#endif

void rt_susp_free(gate_instance *inst, rt_susp *s)
{
    for (uint32_t i = 0; i < s->nframes; i++)
        gx_free(&inst->eng->alloc, s->frames[i].slots, (size_t)s->frames[i].nslots * 8 + 8);
    gx_free(&inst->eng->alloc, s->frames, (size_t)s->nframes * sizeof *s->frames + 1);
    memset(s, 0, sizeof *s);
}

bool rt_walk_frames(rt_vm *vm, uintptr_t pc, uintptr_t fp, rt_susp *out)
{
    gate_instance *inst = vm->inst;
    gate_module *mod = inst->mod;
    gx_alloc *a = &inst->eng->alloc;
    rt_frame tmp[64];
    rt_frame *fr = tmp;
    uint32_t n = 0, cap = 64;
    bool ok = false;
    while (1) {
        if (pc == (uintptr_t)ENTER_RET) {
            ok = n > 0;
            break;
        }
        /* only this instance's own frames can be captured (no host frames,
           no frames of other instances in between) */
        if (rt_code_owner(pc) != mod || ((uintptr_t *)fp)[-1] != (uintptr_t)vm)
            break;
        const gc_safepoint *sp = gc_find_safepoint(&mod->code, (uint32_t)(pc - (uintptr_t)mod->exec));
        if (!sp)
            break;
        if (n == cap) {
            rt_frame *g = gx_malloc(a, (size_t)cap * 2 * sizeof *g);
            if (!g)
                break;
            memcpy(g, fr, (size_t)n * sizeof *g);
            if (fr != tmp)
                gx_free(a, fr, (size_t)cap * sizeof *fr);
            fr = g;
            cap *= 2;
        }
        rt_frame *f = &fr[n];
        f->func = sp->func;
        f->wasm = sp->wasm;
        f->nslots = sp->nslots;
        f->slots = gx_malloc(a, (size_t)sp->nslots * 8 + 8);
        if (!f->slots)
            break;
        for (uint32_t k = 0; k < sp->nslots; k++)
            f->slots[k] = *(uint64_t *)(fp - 16 - 8 * (uintptr_t)k);
        n++;
        uintptr_t next = ((uintptr_t *)fp)[0];
        pc = ((uintptr_t *)fp)[1];
        if (next <= fp)
            break;          /* frames only go up the stack */
        fp = next;
    }
    if (ok) {
        out->frames = gx_malloc(a, (size_t)n * sizeof *out->frames + 1);
        ok = out->frames != NULL;
    }
    if (ok) {
        for (uint32_t i = 0; i < n; i++)       /* outermost first */
            out->frames[i] = fr[n - 1 - i];
        out->nframes = n;
    } else {
        for (uint32_t i = 0; i < n; i++)
            gx_free(a, fr[i].slots, (size_t)fr[i].nslots * 8 + 8);
    }
    if (fr != tmp)
        gx_free(a, fr, (size_t)cap * sizeof *fr);
    return ok;
}

/* The safe point (func, wasm) of this module's code (func is a defined
   function).  Safe points are in code order and a function's lie within
   its code (its stop-check stubs included), so: a binary search for the
   function's first one, then a walk over its own. */
const gc_safepoint *rt_safepoint_of(const gate_module *mod, uint32_t func, uint32_t wasm)
{
    const gc_code *c = &mod->code;
    if (func < mod->info.nfunc_imports || func >= mod->info.nfuncs || !c->nsp)
        return NULL;
    uint32_t i = gc_safepoint_from(c, c->func_off[func - mod->info.nfunc_imports]);
    for (; i < c->nsp && c->sp[i].func == func; i++)
        if (c->sp[i].wasm == wasm)
            return &c->sp[i];
    return NULL;
}

gate_status rt_resume_frames(gate_instance *inst, const rt_susp *s, uint64_t *area,
                             uint32_t nslots, uint8_t *stack_top, gate_error *err)
{
    rt_vm *vm = &inst->vm;
    const gate_module *mod = inst->mod;
    const gd_module *m = &mod->info;
    uintptr_t rbp_e = ((uintptr_t)stack_top - 32) & ~(uintptr_t)15;
    uintptr_t rsp = rbp_e - 16 - (((uintptr_t)nslots * 8 + 15) & ~(uintptr_t)15);
    uintptr_t ret = (uintptr_t)ENTER_RET, rbp = rbp_e;
    ((uintptr_t *)rbp_e)[0] = (uintptr_t)vm;
    ((uintptr_t *)rbp_e)[1] = (uintptr_t)area;
    ((uintptr_t *)rbp_e)[2] = nslots;
    ((uintptr_t *)rbp_e)[-1] = (uintptr_t)vm;
    for (uint32_t i = 0; i < s->nframes; i++) {
        const rt_frame *f = &s->frames[i];
        const gc_safepoint *sp = rt_safepoint_of(mod, f->func, f->wasm);
        /* restore checked the kinds (snapshot.c: frame_link_ok); a frame
           walked here is at one by construction */
        if (!sp || sp->nslots != f->nslots ||
            (i + 1 < s->nframes && sp->kind != GC_SP_CALL && sp->kind != GC_SP_CALL_INDIRECT)) {
            gx_fail(err, GATE_ERR_SNAPSHOT, f->wasm, f->func,
                    "frame %u (func %u at wasm offset 0x%x): not a safe point with %u slots "
                    "of the code that runs", i, f->func, f->wasm, f->nslots);
            return GATE_ERR_SNAPSHOT;
        }
        uint32_t frame = mod->code.func_frame[f->func - m->nfunc_imports];
        uintptr_t fbp = rsp - 16;
        if (fbp - frame < vm->real_limit) {
            gx_fail(err, GATE_ERR_SNAPSHOT, f->wasm, f->func,
                    "frame %u (func %u at wasm offset 0x%x): the stopped stack is deeper "
                    "than this stack allows", i, f->func, f->wasm);
            return GATE_ERR_SNAPSHOT;
        }
        ((uintptr_t *)fbp)[1] = ret;
        ((uintptr_t *)fbp)[0] = rbp;
        ((uintptr_t *)fbp)[-1] = (uintptr_t)vm;
        for (uint32_t k = 0; k < f->nslots; k++)
            *(uint64_t *)(fbp - 16 - 8 * (uintptr_t)k) = f->slots[k];
        rbp = fbp;
        rsp = fbp - frame;
        ret = (uintptr_t)mod->exec + sp->native;
    }
    /* a pending host call: its results go to the caller's outgoing slots;
       a restart calls the host stub again, returning to the continuation */
    void *callee_vm = vm;
    uintptr_t lr = 0;
    if (s->pending) {
        const gate_funcref *fr = s->callee < m->nfunc_imports ? inst->funcs[s->callee] : NULL;
        const gd_functype *ft = fr ? gd_func_type(m, s->callee) : NULL;
        uint32_t want = !ft ? UINT32_MAX
                      : s->pending == RT_PENDING_RESTART ? ft->nparams : ft->nresults;
        if (!fr || fr->code != RT_HOST_STUB || s->npend != want) {
            gx_fail(err, GATE_ERR_SNAPSHOT, UINT64_MAX, s->callee,
                    "the pending call does not match a host function import");
            return GATE_ERR_SNAPSHOT;
        }
        for (uint32_t i = 0; i < s->npend; i++)
            ((uint64_t *)rsp)[i] = s->pend[i];
        if (s->pending == RT_PENDING_RESTART) {
#if defined(__x86_64__)
            rsp -= 8;
            *(uintptr_t *)rsp = ret;                 /* the stub returns here */
#else
            lr = ret;                                /* the stub returns here */
#endif
            ret = (uintptr_t)RT_HOST_STUB;
            callee_vm = fr->vm;                      /* vmctx register = the host record */
        }
    }
    /* jump into the innermost frame's continuation */
    uint32_t rc = RESUME(vm, (void *)rsp, (void *)rbp, (void *)ret, callee_vm, (void *)lr);
    return (gate_status)rc;
}
