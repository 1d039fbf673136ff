/*
 * entry-aarch64.S - crossing between the host (AAPCS64) and compiled wasm
 * code on ARM64.  The frame layout is the x86-64 one (runtime/
 * entry-x86_64.S), register for register:
 *
 *     x28 = vmctx (r15), x27 = memory base (r14), x29 = frame pointer (rbp),
 *     x30 = return address (pushed by `call` on x86-64).
 *
 * A wasm function starts with `stp x29, x30, [sp, #-16]!; mov x29, sp`, so
 * [x29] is the caller's frame, [x29+8] the return address, its arguments
 * and results are at [x29+16+8i] (the caller's sp), its vmctx at [x29-8]
 * and its slots at [x29-16-8k]: the frame walker reads both ISAs alike.
 *
 * uint32_t gate_enter_aarch64(rt_vm *entry_vm, void *code, uint64_t *area,
 *                             uint64_t nslots, void *stack_top, rt_vm *callee_vm)
 *   Saves the host's callee-saved registers (x19-x30, d8-d15) and its sp in
 *   entry_vm->host_sp, switches to stack_top (or stays on this stack when it
 *   is NULL: a host function calling back into wasm), copies nslots
 *   argument slots, calls code, copies the result slots back to area and
 *   returns 0.  A trap leaves through gate_trap_exit_aarch64 instead.
 *
 *   new stack:   [x29+16] nslots
 *                [x29+8]  area
 *                [x29]    entry_vm
 *                [x29-8]  entry_vm     (where a wasm frame keeps its vmctx)
 *                [sp..]   argument/result slots
 */
#define HOST_SP 56

/* The host's callee-saved registers (x19-x30, d8-d15) in a 160-byte save
   area, whose address goes to entry_vm->host_sp (x0): what
   gate_host_return_aarch64 undoes. */
.macro SAVE_HOST
    stp x29, x30, [sp, #-160]!
    stp x19, x20, [sp, #16]
    stp x21, x22, [sp, #32]
    stp x23, x24, [sp, #48]
    stp x25, x26, [sp, #64]
    stp x27, x28, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0, #HOST_SP]
.endm

    .text
    .globl gate_enter_aarch64
    .type gate_enter_aarch64, %function
    .p2align 2
gate_enter_aarch64:
    SAVE_HOST
    cbnz x4, 1f
    mov x4, sp
1:  sub x9, x4, #32
    and x9, x9, #-16
    mov x29, x9
    str x0, [x29]
    str x2, [x29, #8]
    str x3, [x29, #16]
    stur x0, [x29, #-8]
    lsl x10, x3, #3
    add x10, x10, #15
    and x10, x10, #-16
    sub x9, x29, #16
    sub x9, x9, x10
    mov sp, x9
    mov x12, #0
2:  cmp x12, x3
    b.hs 3f
    ldr x13, [x2, x12, lsl #3]
    str x13, [x9, x12, lsl #3]
    add x12, x12, #1
    b 2b
3:  mov x28, x5
    ldr x27, [x28]
    blr x1
    .globl gate_enter_ret_aarch64
gate_enter_ret_aarch64:              /* rebuilt outermost frames return here */
    ldr x2, [x29, #8]
    ldr x3, [x29, #16]
    mov x9, sp
    mov x12, #0
4:  cmp x12, x3
    b.hs 5f
    ldr x13, [x9, x12, lsl #3]
    str x13, [x2, x12, lsl #3]
    add x12, x12, #1
    b 4b
5:  ldr x0, [x29]
    ldr x9, [x0, #HOST_SP]
    mov sp, x9
    mov w0, #0
    b gate_host_return_aarch64
    .size gate_enter_aarch64, .-gate_enter_aarch64

/* The common epilogue: sp at the save area of an enter or a resume. */
    .type gate_host_return_aarch64, %function
    .p2align 2
gate_host_return_aarch64:
    ldp d14, d15, [sp, #144]
    ldp d12, d13, [sp, #128]
    ldp d10, d11, [sp, #112]
    ldp d8, d9, [sp, #96]
    ldp x27, x28, [sp, #80]
    ldp x25, x26, [sp, #64]
    ldp x23, x24, [sp, #48]
    ldp x21, x22, [sp, #32]
    ldp x19, x20, [sp, #16]
    ldp x29, x30, [sp], #160
    ret
    .size gate_host_return_aarch64, .-gate_host_return_aarch64

/*
 * uint32_t gate_resume_aarch64(rt_vm *entry_vm, void *sp, void *fp, void *pc,
 *                              void *vm, void *lr)
 *   Continues frames that were rebuilt on the wasm stack: saves the host
 *   context exactly as gate_enter_aarch64 does (so its epilogue, reached
 *   when the outermost rebuilt frame returns to gate_enter_ret_aarch64,
 *   returns from here), then jumps to pc with the frame's sp and x29, and
 *   x30 = lr (where a restarted host call returns to; 0 otherwise).
 */
    .globl gate_resume_aarch64
    .type gate_resume_aarch64, %function
    .p2align 2
gate_resume_aarch64:
    SAVE_HOST
    mov sp, x1
    mov x29, x2
    mov x28, x4
    ldr x27, [x28]
    mov x30, x5
    br x3
    .size gate_resume_aarch64, .-gate_resume_aarch64

/* void gate_trap_exit_aarch64(rt_vm *entry_vm, uint32_t status): unwinds to
   the gate_enter_aarch64 that entry_vm->host_sp belongs to. */
    .globl gate_trap_exit_aarch64
    .type gate_trap_exit_aarch64, %function
    .p2align 2
gate_trap_exit_aarch64:
    ldr x9, [x0, #HOST_SP]
    mov sp, x9
    mov w0, w1
    b gate_host_return_aarch64
    .size gate_trap_exit_aarch64, .-gate_trap_exit_aarch64

/* Host functions: x28 = host record, argument/result slots at sp (the
   caller's outgoing area), the calling wasm frame in x29 (its vmctx at
   [x29-8]), the return address in x30.  Calls
   gate_rt_host_call(record, slots, caller vmctx, return address, caller fp);
   the caller reloads x28 and x27 from its frame afterwards. */
    .globl gate_host_stub_aarch64
    .type gate_host_stub_aarch64, %function
    .p2align 2
gate_host_stub_aarch64:
    ldur x2, [x29, #-8]
    mov x3, x30
    mov x4, x29
    stp x29, x30, [sp, #-16]!
    mov x29, sp
    mov x0, x28
    add x1, x29, #16
    bl gate_rt_host_call
    ldp x29, x30, [sp], #16
    ret
    .size gate_host_stub_aarch64, .-gate_host_stub_aarch64

    .section .note.GNU-stack,"",%progbits
