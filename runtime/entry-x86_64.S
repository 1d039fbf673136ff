/*
 * entry-x86_64.S - crossing between the host (System V ABI) and compiled
 * wasm code (pinned r15 = vmctx, r14 = memory base, arguments and results
 * in an area at the caller's stack pointer; see codegen-x86_64/lower.c).
 *
 * uint32_t gate_enter_x86_64(rt_vm *entry_vm, void *code, uint64_t *area,
 *                            uint64_t nslots, void *stack_top, rt_vm *callee_vm)
 *   Saves the host's callee-saved registers and stack pointer in
 *   entry_vm->host_sp, switches to stack_top (or stays on this stack when it
 *   is NULL: a host function calling back into wasm), copies nslots
 *   argument slots, calls code, copies the result slots back to area and
 *   returns 0.  A trap leaves through gate_trap_exit_x86_64 instead.
 *
 *   new stack:   [rbp+16] nslots          rbp survives the wasm code: every
 *                [rbp+8]  area            compiled function saves it
 *                [rbp]    entry_vm
 *                [rbp-8]  entry_vm        where a wasm frame keeps its vmctx, for
 *                                         a host function called directly
 *                [rsp..]  argument/result slots
 */
    .text
    .globl gate_enter_x86_64
    .type gate_enter_x86_64, @function
gate_enter_x86_64:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, 56(%rdi)
    test %r8, %r8
    jnz 1f
    mov %rsp, %r8
1:  lea -32(%r8), %rbp
    and $-16, %rbp
    mov %rdi, 0(%rbp)
    mov %rdx, 8(%rbp)
    mov %rcx, 16(%rbp)
    mov %rdi, -8(%rbp)
    lea -16(%rbp), %rsp
    lea 15(,%rcx,8), %rax
    and $-16, %rax
    sub %rax, %rsp
    xor %eax, %eax
2:  cmp %rcx, %rax
    jae 3f
    mov (%rdx,%rax,8), %r10
    mov %r10, (%rsp,%rax,8)
    inc %rax
    jmp 2b
3:  mov %r9, %r15
    mov 0(%r15), %r14
    call *%rsi
    .globl gate_enter_ret_x86_64
gate_enter_ret_x86_64:              /* rebuilt outermost frames return here */
    mov 8(%rbp), %rdx
    mov 16(%rbp), %rcx
    xor %eax, %eax
4:  cmp %rcx, %rax
    jae 5f
    mov (%rsp,%rax,8), %r10
    mov %r10, (%rdx,%rax,8)
    inc %rax
    jmp 4b
5:  mov 0(%rbp), %rdi
    mov 56(%rdi), %rsp
    xor %eax, %eax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size gate_enter_x86_64, .-gate_enter_x86_64

/*
 * uint32_t gate_resume_x86_64(rt_vm *entry_vm, void *rsp, void *rbp, void *pc,
 *                             rt_vm *vm)
 *   Continues frames that were rebuilt on the wasm stack: saves the host
 *   context exactly as gate_enter_x86_64 does (so its epilogue, reached when
 *   the outermost rebuilt frame returns to gate_enter_ret_x86_64, returns
 *   from here), then jumps to pc with the frame's rsp and rbp.
 */
    .globl gate_resume_x86_64
    .type gate_resume_x86_64, @function
gate_resume_x86_64:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, 56(%rdi)
    mov %rsi, %rsp
    mov %rdx, %rbp
    mov %r8, %r15
    mov 0(%r15), %r14
    jmp *%rcx
    .size gate_resume_x86_64, .-gate_resume_x86_64

/* void gate_trap_exit_x86_64(rt_vm *entry_vm, uint32_t status): unwinds to
   the gate_enter_x86_64 that entry_vm->host_sp belongs to. */
    .globl gate_trap_exit_x86_64
    .type gate_trap_exit_x86_64, @function
gate_trap_exit_x86_64:
    mov 56(%rdi), %rsp
    mov %esi, %eax
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size gate_trap_exit_x86_64, .-gate_trap_exit_x86_64

/* Host functions: r15 = host record, argument/result slots at 8(%rsp),
   the calling wasm frame's rbp in rbp (its vmctx is at -8(%rbp)). */
    .globl gate_host_stub_x86_64
    .type gate_host_stub_x86_64, @function
gate_host_stub_x86_64:
    mov -8(%rbp), %rdx          /* the caller's vmctx */
    mov (%rsp), %rcx            /* return address into the caller */
    mov %rbp, %r8               /* the caller's frame, for backtraces */
    push %rbp
    mov %rsp, %rbp
    mov %r15, %rdi
    lea 16(%rbp), %rsi
    call gate_rt_host_call
    pop %rbp
    ret
    .size gate_host_stub_x86_64, .-gate_host_stub_x86_64

    .section .note.GNU-stack,"",@progbits
