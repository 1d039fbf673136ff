/*
 * switch-aarch64.S - the world's stack switch (world/world.c).
 *
 * void gw_switch(void **save_sp, void *to_sp)
 *   Saves the AAPCS64 callee-saved registers (x19-x30, d8-d15) on the
 *   current stack, stores sp in *save_sp, takes to_sp and restores the
 *   same registers from it.
 *
 * A new stack is laid out by gw_stack_init (world.c) so that the first
 * switch to it returns into gw_boot with x19 = function, x20 = its
 * argument; the function never returns.
 */
    .text
    .globl gw_switch
    .type gw_switch, %function
gw_switch:
    sub sp, sp, #160
    stp x19, x20, [sp, #0]
    stp x21, x22, [sp, #16]
    stp x23, x24, [sp, #32]
    stp x25, x26, [sp, #48]
    stp x27, x28, [sp, #64]
    stp x29, x30, [sp, #80]
    stp d8, d9, [sp, #96]
    stp d10, d11, [sp, #112]
    stp d12, d13, [sp, #128]
    stp d14, d15, [sp, #144]
    mov x9, sp
    str x9, [x0]
    mov sp, x1
    ldp x19, x20, [sp, #0]
    ldp x21, x22, [sp, #16]
    ldp x23, x24, [sp, #32]
    ldp x25, x26, [sp, #48]
    ldp x27, x28, [sp, #64]
    ldp x29, x30, [sp, #80]
    ldp d8, d9, [sp, #96]
    ldp d10, d11, [sp, #112]
    ldp d12, d13, [sp, #128]
    ldp d14, d15, [sp, #144]
    add sp, sp, #160
    ret
    .size gw_switch, .-gw_switch

    .globl gw_boot
    .type gw_boot, %function
gw_boot:
    mov x0, x20
    blr x19
    brk #0
    .size gw_boot, .-gw_boot

    .section .note.GNU-stack,"",@progbits
