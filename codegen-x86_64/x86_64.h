/*
 * x86_64.h - internal header of codegen-x86_64/: registers, condition
 * codes and one encoder per instruction form (emit.c).
 *
 * Encoders write into a gc_buf without bounds checks: the caller reserves
 * space once per wasm instruction (GC_RED_ZONE bytes), never per byte.
 * Raw opcode bits appear only in emit.c.
 */
#ifndef GATE_X86_64_H
#define GATE_X86_64_H

#include <string.h>

#include "../compiler/compiler.h"

/* General-purpose registers, in encoding order. */
enum {
    RAX, RCX, RDX, RBX, RSP, RBP, RSI, RDI,
    R8, R9, R10, R11, R12, R13, R14, R15
};
/* xmm0..xmm15 are 0..15 in the float encoders. */

/* Condition codes (the low nibble of Jcc/SETcc/CMOVcc). */
enum {
    CC_O = 0x0, CC_NO = 0x1, CC_B = 0x2, CC_AE = 0x3, CC_E = 0x4, CC_NE = 0x5,
    CC_BE = 0x6, CC_A = 0x7, CC_S = 0x8, CC_NS = 0x9, CC_P = 0xa, CC_NP = 0xb,
    CC_L = 0xc, CC_GE = 0xd, CC_LE = 0xe, CC_G = 0xf
};

/* A memory operand: [base + index*scale + disp]; index < 0 means none. */
typedef struct xmem {
    int8_t base, index;
    uint8_t scale;          /* 1, 2, 4, 8 */
    int32_t disp;
} xmem;

static inline xmem xm(int base, int32_t disp)
{
    return (xmem){ (int8_t)base, -1, 1, disp };
}

static inline xmem xmi(int base, int index, int scale, int32_t disp)
{
    return (xmem){ (int8_t)base, (int8_t)index, (uint8_t)scale, disp };
}

/* Two-operand integer ALU operations: the /digit of 0x81 and the
   opcode base of the r/m,reg forms (op*8 + 1). */
enum { ALU_ADD = 0, ALU_OR = 1, ALU_AND = 4, ALU_SUB = 5, ALU_XOR = 6, ALU_CMP = 7 };
/* Shift group (0xd3 /digit). */
enum { SH_ROL = 0, SH_ROR = 1, SH_SHL = 4, SH_SHR = 5, SH_SAR = 7 };
/* Scalar SSE arithmetic (0x0f second byte). */
enum {
    SSE_SQRT = 0x51, SSE_AND = 0x54, SSE_ANDN = 0x55, SSE_OR = 0x56, SSE_XOR = 0x57,
    SSE_ADD = 0x58, SSE_MUL = 0x59, SSE_SUB = 0x5c, SSE_MIN = 0x5d, SSE_DIV = 0x5e,
    SSE_MAX = 0x5f
};
/* Load kinds for x_load. */
enum {
    LD_U8, LD_S8, LD_U16, LD_S16, LD_U32, LD_S32, LD_64
};

/* w: 1 for 64-bit operands, 0 for 32-bit.  Register numbers 0..15. */
void x_alu_rr(gc_buf *b, int op, int w, int dst, int src);       /* op dst, src */
void x_alu_ri(gc_buf *b, int op, int w, int dst, int32_t imm);   /* op dst, imm */
void x_alu_rm(gc_buf *b, int op, int w, int dst, xmem m);        /* op dst, [m] */
void x_alu_mi(gc_buf *b, int op, int w, xmem m, int32_t imm);    /* op [m], imm */
void x_test_rr(gc_buf *b, int w, int a, int c);
void x_mov_rr(gc_buf *b, int w, int dst, int src);
void x_mov_ri(gc_buf *b, int w, int dst, int64_t imm);           /* shortest form */
void x_load_any(gc_buf *b, int kind, int w, int dst, xmem m);    /* mov/movzx/movsx */
void x_store_any(gc_buf *b, int bytes, int src, xmem m);         /* 1, 2, 4, 8 */

/* The forms the code generator emits most (stack slots, the context):
   32/64-bit mov without an index register, inline.  `opc` 0x8b loads,
   0x89 stores; SIB only for an rsp/r12 base. */
static inline void x_mov_mem_fast(gc_buf *b, int w, uint8_t opc, int reg, xmem m)
{
    uint8_t *p = b->p + b->n;
    unsigned rex = (w ? 8u : 0u) | ((unsigned)reg >> 1 & 4) | ((unsigned)m.base >> 3 & 1);
    if (rex)
        *p++ = (uint8_t)(0x40 | rex);
    *p++ = opc;
    unsigned base = (unsigned)m.base & 7;
    unsigned rm = ((unsigned)reg & 7) << 3 | base;
    if (m.disp == 0 && base != RBP) {
        *p++ = (uint8_t)rm;
        if (base == RSP)
            *p++ = 0x24;
    } else if (m.disp >= -128 && m.disp <= 127) {
        *p++ = (uint8_t)(0x40 | rm);
        if (base == RSP)
            *p++ = 0x24;
        *p++ = (uint8_t)(int8_t)m.disp;
    } else {
        *p++ = (uint8_t)(0x80 | rm);
        if (base == RSP)
            *p++ = 0x24;
        uint32_t d = (uint32_t)m.disp;
        memcpy(p, &d, 4);
        p += 4;
    }
    b->n = (size_t)(p - b->p);
}

static inline void x_load(gc_buf *b, int kind, int w, int dst, xmem m)
{
    if ((kind == LD_64 || kind == LD_U32) && m.index < 0)
        x_mov_mem_fast(b, kind == LD_64, 0x8b, dst, m);
    else
        x_load_any(b, kind, w, dst, m);
}

static inline void x_store(gc_buf *b, int bytes, int src, xmem m)
{
    if ((bytes == 8 || bytes == 4) && m.index < 0)
        x_mov_mem_fast(b, bytes == 8, 0x89, src, m);
    else
        x_store_any(b, bytes, src, m);
}
void x_store_i32(gc_buf *b, int bytes, int32_t imm, xmem m);     /* 4 or 8 (sign-ext) */
void x_lea(gc_buf *b, int w, int dst, xmem m);
size_t x_lea_rip(gc_buf *b, int dst);                           /* lea dst, [rip+rel32] */
void x_rep_stosq(gc_buf *b);                                    /* rcx x rax -> [rdi] */
void x_shift_cl(gc_buf *b, int op, int w, int dst);
void x_shift_ri(gc_buf *b, int op, int w, int dst, uint8_t imm);
void x_imul_rr(gc_buf *b, int w, int dst, int src);
void x_imul_rri(gc_buf *b, int w, int dst, int src, int32_t imm);
void x_div(gc_buf *b, int w, int is_signed, int src);            /* rdx:rax / src */
void x_cdq(gc_buf *b, int w);                                    /* cdq / cqo */
void x_neg(gc_buf *b, int w, int r);
void x_not(gc_buf *b, int w, int r);
/* F3 0F xx: lzcnt, tzcnt, popcnt */
enum { BC_LZCNT = 0xbd, BC_TZCNT = 0xbc, BC_POPCNT = 0xb8 };
void x_bitcount(gc_buf *b, int op, int w, int dst, int src);     /* BC_* */
void x_bsr_bsf(gc_buf *b, int bsr, int w, int dst, int src);
void x_setcc(gc_buf *b, int cc, int dst);                        /* 8-bit */
void x_movzx8(gc_buf *b, int dst, int src);                      /* movzx dst32, src8 */
void x_movsx(gc_buf *b, int from_bytes, int w, int dst, int src);/* movsx/movsxd */
void x_cmov(gc_buf *b, int cc, int w, int dst, int src);
void x_push(gc_buf *b, int r);
void x_pop(gc_buf *b, int r);
void x_ret(gc_buf *b);
void x_ud2(gc_buf *b);
void x_int3(gc_buf *b);
void x_call_r(gc_buf *b, int r);
void x_call_m(gc_buf *b, xmem m);
void x_jmp_r(gc_buf *b, int r);
/* Branches with rel32 fields; return the offset of the field to patch. */
size_t x_jmp32(gc_buf *b);
size_t x_jcc32(gc_buf *b, int cc);
size_t x_call32(gc_buf *b);
/* Points the rel32 field at `field` to `target` (offsets in b). */
void x_patch32(gc_buf *b, size_t field, size_t target);

/* Scalar floating point: d = 1 for f64 (F2 prefix), 0 for f32 (F3). */
void x_sse_rr(gc_buf *b, int op, int d, int dst, int src);       /* addsd dst, src ... */
void x_sse_rm(gc_buf *b, int op, int d, int dst, xmem m);        /* addsd xmm, [m] ... */
void x_sse_pd_rr(gc_buf *b, int op, int d, int dst, int src);    /* andps/andpd ... (packed) */
void x_movs_load(gc_buf *b, int d, int dst, xmem m);            /* movss/movsd xmm, [m] */
void x_movs_store(gc_buf *b, int d, int src, xmem m);           /* movss/movsd [m], xmm */
void x_movaps(gc_buf *b, int dst, int src);
void x_ucomis(gc_buf *b, int d, int a, int c);
void x_cvtsi2s(gc_buf *b, int d, int w, int dst, int src);      /* int -> float */
void x_cvtts2si(gc_buf *b, int d, int w, int dst, int src);     /* float -> int, truncating */
void x_cvts2s(gc_buf *b, int to_d, int dst, int src);           /* cvtss2sd / cvtsd2ss */
void x_movd_xr(gc_buf *b, int w, int dst_xmm, int src);         /* movd/movq xmm, r */
void x_movd_rx(gc_buf *b, int w, int dst, int src_xmm);         /* movd/movq r, xmm */
void x_rounds(gc_buf *b, int d, int dst, int src, uint8_t mode);/* SSE4.1 roundss/sd */
/* vector instructions: prefix 0, 0x66, 0xf2 or 0xf3; op 0x0fXX, 0x0f38XX or
   0x0f3aXX (an imm8 after it is the caller's gc_u8); w sets REX.W */
void x_vec_rr(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int rm);
void x_vec_rm(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, xmem m);
/* the same opcodes VEX-encoded (AVX, 128-bit): reg = vvvv op rm */
void x_vex_rr(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int vvvv, int rm);
void x_vex_rm(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int vvvv, xmem m);
enum {
    V_MOVDQU_LD = 0x0f6f, V_MOVDQU_ST = 0x0f7f, V_PSHUFD = 0x0f70, V_PXOR = 0x0fef,
    V_PINSRQ = 0x0f3a22, V_PEXTRQ = 0x0f3a16
};

#endif /* GATE_X86_64_H */
