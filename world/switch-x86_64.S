/*
 * switch-x86_64.S - the world's stack switch (world/world.c).
 *
 * void gw_switch(void **save_sp, void *to_sp)
 *   Pushes the System V callee-saved registers on the current stack,
 *   stores the stack pointer in *save_sp, takes to_sp and pops the same
 *   registers from it: a switch costs the same at any stack depth.
 *
 * A new stack is laid out by gw_stack_init (world.c) so that the first
 * switch to it "returns" into gw_boot with r13 = function, r12 = its
 * argument; the function never returns.
 */
    .text
    .globl gw_switch
    .type gw_switch, @function
gw_switch:
    push %rbp
    push %rbx
    push %r12
    push %r13
    push %r14
    push %r15
    mov %rsp, (%rdi)
    mov %rsi, %rsp
    pop %r15
    pop %r14
    pop %r13
    pop %r12
    pop %rbx
    pop %rbp
    ret
    .size gw_switch, .-gw_switch

    .globl gw_boot
    .type gw_boot, @function
gw_boot:
    mov %r12, %rdi
    call *%r13
    ud2
    .size gw_boot, .-gw_boot

    .section .note.GNU-stack,"",@progbits
