/*
 * emit.c - x86-64 encoders, one per instruction form.  This is the only
 * file of the backend with raw opcode bits; each encoder has the assembly
 * it produces in its comment.
 *
 * Layout of an instruction:
 *   [66|F2|F3] [REX 0100WRXB] opcode... ModRM [SIB] [disp8|disp32] [imm]
 */
#include <string.h>

#include "x86_64.h"

/* An instruction is written through a local cursor, and the buffer's
   length is set once at the end (byte stores through the cursor cannot
   make the compiler reload the gc_buf between bytes).  GC_RED_ZONE
   guarantees the room. */
typedef struct xi {
    uint8_t *p;
} xi;

static inline xi xi_at(gc_buf *b)
{
    return (xi){ b->p + b->n };
}

static inline void xi_u8(xi *i, uint8_t v)
{
    *i->p++ = v;
}

static inline void xi_u32(xi *i, uint32_t v)
{
    memcpy(i->p, &v, 4);          /* little-endian host (x86-64, arm64) */
    i->p += 4;
}

static inline void xi_put(gc_buf *b, const xi *i)
{
    b->n = (size_t)(i->p - b->p);
}

/* REX: W = 64-bit operand, R = ModRM.reg bit 3, X = SIB.index bit 3,
   B = ModRM.rm / SIB.base bit 3.  `byte` forces a REX so that registers
   4..7 mean spl/bpl/sil/dil rather than ah/ch/dh/bh. */
static inline void xi_rex(xi *i, int w, int reg, int index, int base, int byte)
{
    uint8_t r = 0x40;
    if (w)
        r |= 8;
    if (reg & 8)
        r |= 4;
    if (index >= 0 && (index & 8))
        r |= 2;
    if (base & 8)
        r |= 1;
    if (r != 0x40 || byte)
        xi_u8(i, r);
}

static void rex(gc_buf *b, int w, int reg, int index, int base, int byte)
{
    xi i = xi_at(b);
    xi_rex(&i, w, reg, index, base, byte);
    xi_put(b, &i);
}

/* ModRM (+SIB, +displacement) for [base + index*scale + disp]. */
static inline void xi_modrm_mem(xi *i, int reg, xmem m)
{
    int mod;
    if (m.disp == 0 && (m.base & 7) != RBP)
        mod = 0;                      /* rbp/r13 need an explicit disp8 of 0 */
    else if (m.disp >= -128 && m.disp <= 127)
        mod = 1;
    else
        mod = 2;
    if (m.index >= 0 || (m.base & 7) == RSP) {
        /* SIB; index 100 without REX.X means "no index" */
        int idx = m.index >= 0 ? (m.index & 7) : 4;
        int ss = m.scale == 8 ? 3 : m.scale == 4 ? 2 : m.scale == 2 ? 1 : 0;
        xi_u8(i, (uint8_t)(mod << 6 | (reg & 7) << 3 | 4));
        xi_u8(i, (uint8_t)(ss << 6 | idx << 3 | (m.base & 7)));
    } else {
        xi_u8(i, (uint8_t)(mod << 6 | (reg & 7) << 3 | (m.base & 7)));
    }
    if (mod == 1)
        xi_u8(i, (uint8_t)(int8_t)m.disp);
    else if (mod == 2)
        xi_u32(i, (uint32_t)m.disp);
}

static bool fits8(int64_t v)
{
    return v >= -128 && v <= 127;
}

/* prefix, REX, opcode bytes, ModRM with a register operand */
static inline __attribute__((always_inline)) void op_rr(gc_buf *b, uint8_t prefix, int w, const uint8_t *op, int nop, int reg,
                  int rm, int byte)
{
    xi i = xi_at(b);
    if (prefix)
        xi_u8(&i, prefix);
    xi_rex(&i, w, reg, -1, rm, byte);
    for (int k = 0; k < nop; k++)
        xi_u8(&i, op[k]);
    xi_u8(&i, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    xi_put(b, &i);
}

/* prefix, REX, opcode bytes, ModRM with a memory operand */
static inline __attribute__((always_inline)) void op_rm(gc_buf *b, uint8_t prefix, int w, const uint8_t *op, int nop, int reg,
                  xmem m, int byte)
{
    xi i = xi_at(b);
    if (prefix)
        xi_u8(&i, prefix);
    xi_rex(&i, w, reg, m.index, m.base, byte);
    for (int k = 0; k < nop; k++)
        xi_u8(&i, op[k]);
    xi_modrm_mem(&i, reg, m);
    xi_put(b, &i);
}

#define OP1(x) (const uint8_t[]){ x }, 1
#define OP2(x, y) (const uint8_t[]){ x, y }, 2
#define OP3(x, y, z) (const uint8_t[]){ x, y, z }, 3

/* add/or/and/sub/xor/cmp dst, src   (op*8+1 /r) */
void x_alu_rr(gc_buf *b, int op, int w, int dst, int src)
{
    op_rr(b, 0, w, OP1((uint8_t)(op * 8 + 1)), src, dst, 0);
}

/* add/or/and/sub/xor/cmp dst, imm   (83 /op ib | 81 /op id) */
void x_alu_ri(gc_buf *b, int op, int w, int dst, int32_t imm)
{
    if (fits8(imm)) {
        op_rr(b, 0, w, OP1(0x83), op, dst, 0);
        gc_u8(b, (uint8_t)(int8_t)imm);
    } else {
        op_rr(b, 0, w, OP1(0x81), op, dst, 0);
        gc_u32(b, (uint32_t)imm);
    }
}

/* add/or/and/sub/xor/cmp dst, [m]   (op*8+3 /r) */
void x_alu_rm(gc_buf *b, int op, int w, int dst, xmem m)
{
    op_rm(b, 0, w, OP1((uint8_t)(op * 8 + 3)), dst, m, 0);
}

/* add/or/and/sub/xor/cmp [m], imm   (83 /op ib | 81 /op id) */
void x_alu_mi(gc_buf *b, int op, int w, xmem m, int32_t imm)
{
    if (fits8(imm)) {
        op_rm(b, 0, w, OP1(0x83), op, m, 0);
        gc_u8(b, (uint8_t)(int8_t)imm);
    } else {
        op_rm(b, 0, w, OP1(0x81), op, m, 0);
        gc_u32(b, (uint32_t)imm);
    }
}

/* test a, c   (85 /r) */
void x_test_rr(gc_buf *b, int w, int a, int c)
{
    op_rr(b, 0, w, OP1(0x85), c, a, 0);
}

/* mov dst, src   (89 /r) */
void x_mov_rr(gc_buf *b, int w, int dst, int src)
{
    op_rr(b, 0, w, OP1(0x89), src, dst, 0);
}

/* mov r32, imm32 (B8+r, zero-extends) | mov r64, simm32 (C7 /0) | movabs r64, imm64 */
void x_mov_ri(gc_buf *b, int w, int dst, int64_t imm)
{
    if (!w || (imm >= 0 && imm <= (int64_t)UINT32_MAX)) {
        rex(b, 0, 0, -1, dst, 0);
        gc_u8(b, (uint8_t)(0xb8 + (dst & 7)));
        gc_u32(b, (uint32_t)imm);
    } else if (imm >= INT32_MIN && imm <= INT32_MAX) {
        op_rr(b, 0, 1, OP1(0xc7), 0, dst, 0);
        gc_u32(b, (uint32_t)imm);
    } else {
        rex(b, 1, 0, -1, dst, 0);
        gc_u8(b, (uint8_t)(0xb8 + (dst & 7)));
        gc_u32(b, (uint32_t)imm);
        gc_u32(b, (uint32_t)((uint64_t)imm >> 32));
    }
}

/* mov r, [m] (8B) | movzx (0F B6/B7) | movsx (0F BE/BF) | movsxd (63) */
void x_load_any(gc_buf *b, int kind, int w, int dst, xmem m)
{
    switch (kind) {
    case LD_U8:  op_rm(b, 0, 0, OP2(0x0f, 0xb6), dst, m, 0); break;
    case LD_S8:  op_rm(b, 0, w, OP2(0x0f, 0xbe), dst, m, 0); break;
    case LD_U16: op_rm(b, 0, 0, OP2(0x0f, 0xb7), dst, m, 0); break;
    case LD_S16: op_rm(b, 0, w, OP2(0x0f, 0xbf), dst, m, 0); break;
    case LD_U32: op_rm(b, 0, 0, OP1(0x8b), dst, m, 0); break;
    case LD_S32: op_rm(b, 0, 1, OP1(0x63), dst, m, 0); break;
    default:     op_rm(b, 0, 1, OP1(0x8b), dst, m, 0); break;
    }
}

/* mov byte/word/dword/qword [m], src   (88 | 66 89 | 89 | REX.W 89) */
void x_store_any(gc_buf *b, int bytes, int src, xmem m)
{
    switch (bytes) {
    case 1: op_rm(b, 0, 0, OP1(0x88), src, m, src >= 4 && src < 8); break;
    case 2: op_rm(b, 0x66, 0, OP1(0x89), src, m, 0); break;
    case 4: op_rm(b, 0, 0, OP1(0x89), src, m, 0); break;
    default: op_rm(b, 0, 1, OP1(0x89), src, m, 0); break;
    }
}

/* mov dword/qword [m], simm32   (C7 /0 id) */
void x_store_i32(gc_buf *b, int bytes, int32_t imm, xmem m)
{
    op_rm(b, 0, bytes == 8, OP1(0xc7), 0, m, 0);
    gc_u32(b, (uint32_t)imm);
}

/* lea dst, [m]   (8D /r) */
void x_lea(gc_buf *b, int w, int dst, xmem m)
{
    op_rm(b, 0, w, OP1(0x8d), dst, m, 0);
}

/* rol/ror/shl/shr/sar dst, cl   (D3 /op) */
void x_shift_cl(gc_buf *b, int op, int w, int dst)
{
    op_rr(b, 0, w, OP1(0xd3), op, dst, 0);
}

/* rol/ror/shl/shr/sar dst, imm8   (C1 /op ib) */
void x_shift_ri(gc_buf *b, int op, int w, int dst, uint8_t imm)
{
    op_rr(b, 0, w, OP1(0xc1), op, dst, 0);
    gc_u8(b, imm);
}

/* imul dst, src   (0F AF /r) */
void x_imul_rr(gc_buf *b, int w, int dst, int src)
{
    op_rr(b, 0, w, OP2(0x0f, 0xaf), dst, src, 0);
}

/* imul dst, src, imm   (6B /r ib | 69 /r id) */
void x_imul_rri(gc_buf *b, int w, int dst, int src, int32_t imm)
{
    if (fits8(imm)) {
        op_rr(b, 0, w, OP1(0x6b), dst, src, 0);
        gc_u8(b, (uint8_t)(int8_t)imm);
    } else {
        op_rr(b, 0, w, OP1(0x69), dst, src, 0);
        gc_u32(b, (uint32_t)imm);
    }
}

/* div src (F7 /6) | idiv src (F7 /7) */
void x_div(gc_buf *b, int w, int is_signed, int src)
{
    op_rr(b, 0, w, OP1(0xf7), is_signed ? 7 : 6, src, 0);
}

/* cdq (99) | cqo (REX.W 99) */
void x_cdq(gc_buf *b, int w)
{
    if (w)
        gc_u8(b, 0x48);
    gc_u8(b, 0x99);
}

/* neg r   (F7 /3) */
void x_neg(gc_buf *b, int w, int r)
{
    op_rr(b, 0, w, OP1(0xf7), 3, r, 0);
}

/* not r   (F7 /2) */
void x_not(gc_buf *b, int w, int r)
{
    op_rr(b, 0, w, OP1(0xf7), 2, r, 0);
}

/* lzcnt (F3 0F BD) | tzcnt (F3 0F BC) | popcnt (F3 0F B8) dst, src */
void x_bitcount(gc_buf *b, int op, int w, int dst, int src)
{
    op_rr(b, 0xf3, w, OP2(0x0f, (uint8_t)op), dst, src, 0);
}

/* bsr (0F BD) | bsf (0F BC) dst, src */
void x_bsr_bsf(gc_buf *b, int bsr, int w, int dst, int src)
{
    op_rr(b, 0, w, OP2(0x0f, bsr ? 0xbd : 0xbc), dst, src, 0);
}

/* setcc dst8   (0F 90+cc /0) */
void x_setcc(gc_buf *b, int cc, int dst)
{
    op_rr(b, 0, 0, OP2(0x0f, (uint8_t)(0x90 + cc)), 0, dst, dst >= 4 && dst < 8);
}

/* movzx dst32, src8   (0F B6 /r) */
void x_movzx8(gc_buf *b, int dst, int src)
{
    op_rr(b, 0, 0, OP2(0x0f, 0xb6), dst, src, src >= 4 && src < 8);
}

/* movsx dst, src8 (0F BE) | src16 (0F BF) | movsxd dst64, src32 (63) */
void x_movsx(gc_buf *b, int from_bytes, int w, int dst, int src)
{
    if (from_bytes == 1)
        op_rr(b, 0, w, OP2(0x0f, 0xbe), dst, src, src >= 4 && src < 8);
    else if (from_bytes == 2)
        op_rr(b, 0, w, OP2(0x0f, 0xbf), dst, src, 0);
    else
        op_rr(b, 0, 1, OP1(0x63), dst, src, 0);
}

/* cmovcc dst, src   (0F 40+cc /r) */
void x_cmov(gc_buf *b, int cc, int w, int dst, int src)
{
    op_rr(b, 0, w, OP2(0x0f, (uint8_t)(0x40 + cc)), dst, src, 0);
}

/* push r (50+r) */
void x_push(gc_buf *b, int r)
{
    rex(b, 0, 0, -1, r, 0);
    gc_u8(b, (uint8_t)(0x50 + (r & 7)));
}

/* pop r (58+r) */
void x_pop(gc_buf *b, int r)
{
    rex(b, 0, 0, -1, r, 0);
    gc_u8(b, (uint8_t)(0x58 + (r & 7)));
}

/* ret (C3) */
void x_ret(gc_buf *b)
{
    gc_u8(b, 0xc3);
}

/* ud2 (0F 0B) */
void x_ud2(gc_buf *b)
{
    gc_u8(b, 0x0f);
    gc_u8(b, 0x0b);
}

/* int3 (CC) */
void x_int3(gc_buf *b)
{
    gc_u8(b, 0xcc);
}

/* call r (FF /2) */
void x_call_r(gc_buf *b, int r)
{
    op_rr(b, 0, 0, OP1(0xff), 2, r, 0);
}

/* call [m] (FF /2) */
void x_call_m(gc_buf *b, xmem m)
{
    op_rm(b, 0, 0, OP1(0xff), 2, m, 0);
}

/* jmp r (FF /4) */
void x_jmp_r(gc_buf *b, int r)
{
    op_rr(b, 0, 0, OP1(0xff), 4, r, 0);
}

/* lea dst, [rip + disp32]   (REX.W 8D /r, mod 00 rm 101); returns the
   disp field for x_patch32 (it is the last field: rel to the next insn) */
size_t x_lea_rip(gc_buf *b, int dst)
{
    rex(b, 1, dst, -1, 0, 0);
    gc_u8(b, 0x8d);
    gc_u8(b, (uint8_t)(0x05 | (dst & 7) << 3));
    gc_u32(b, 0);
    return b->n - 4;
}

/* rep stosq   (F3 REX.W AB): rcx qwords of rax to [rdi], upwards */
void x_rep_stosq(gc_buf *b)
{
    gc_u8(b, 0xf3);
    gc_u8(b, 0x48);
    gc_u8(b, 0xab);
}

/* jmp rel32 (E9) */
size_t x_jmp32(gc_buf *b)
{
    gc_u8(b, 0xe9);
    gc_u32(b, 0);
    return b->n - 4;
}

/* jcc rel32 (0F 80+cc) */
size_t x_jcc32(gc_buf *b, int cc)
{
    gc_u8(b, 0x0f);
    gc_u8(b, (uint8_t)(0x80 + cc));
    gc_u32(b, 0);
    return b->n - 4;
}

/* call rel32 (E8) */
size_t x_call32(gc_buf *b)
{
    gc_u8(b, 0xe8);
    gc_u32(b, 0);
    return b->n - 4;
}

void x_patch32(gc_buf *b, size_t field, size_t target)
{
    uint32_t rel = (uint32_t)((int64_t)target - (int64_t)(field + 4));
    b->p[field] = (uint8_t)rel;
    b->p[field + 1] = (uint8_t)(rel >> 8);
    b->p[field + 2] = (uint8_t)(rel >> 16);
    b->p[field + 3] = (uint8_t)(rel >> 24);
}

/* addss/addsd ... dst, src   (F3|F2 0F op /r) */
void x_sse_rr(gc_buf *b, int op, int d, int dst, int src)
{
    op_rr(b, d ? 0xf2 : 0xf3, 0, OP2(0x0f, (uint8_t)op), dst, src, 0);
}

/* addss/addsd ... dst, [m]   (F3|F2 0F op /r) */
void x_sse_rm(gc_buf *b, int op, int d, int dst, xmem m)
{
    op_rm(b, d ? 0xf2 : 0xf3, 0, OP2(0x0f, (uint8_t)op), dst, m, 0);
}

/* andps/andpd, xorps/xorpd ... dst, src   ([66] 0F op /r) */
void x_sse_pd_rr(gc_buf *b, int op, int d, int dst, int src)
{
    op_rr(b, d ? 0x66 : 0, 0, OP2(0x0f, (uint8_t)op), dst, src, 0);
}

/* movss/movsd xmm, [m]   (F3|F2 0F 10 /r) */
void x_movs_load(gc_buf *b, int d, int dst, xmem m)
{
    op_rm(b, d ? 0xf2 : 0xf3, 0, OP2(0x0f, 0x10), dst, m, 0);
}

/* movss/movsd [m], xmm   (F3|F2 0F 11 /r) */
void x_movs_store(gc_buf *b, int d, int src, xmem m)
{
    op_rm(b, d ? 0xf2 : 0xf3, 0, OP2(0x0f, 0x11), src, m, 0);
}

/* movaps dst, src   (0F 28 /r) */
void x_movaps(gc_buf *b, int dst, int src)
{
    op_rr(b, 0, 0, OP2(0x0f, 0x28), dst, src, 0);
}

/* ucomiss (0F 2E) | ucomisd (66 0F 2E) a, c */
void x_ucomis(gc_buf *b, int d, int a, int c)
{
    op_rr(b, d ? 0x66 : 0, 0, OP2(0x0f, 0x2e), a, c, 0);
}

/* cvtsi2ss/cvtsi2sd xmm, r32/r64   (F3|F2 [REX.W] 0F 2A /r) */
void x_cvtsi2s(gc_buf *b, int d, int w, int dst, int src)
{
    op_rr(b, d ? 0xf2 : 0xf3, w, OP2(0x0f, 0x2a), dst, src, 0);
}

/* cvttss2si/cvttsd2si r32/r64, xmm   (F3|F2 [REX.W] 0F 2C /r) */
void x_cvtts2si(gc_buf *b, int d, int w, int dst, int src)
{
    op_rr(b, d ? 0xf2 : 0xf3, w, OP2(0x0f, 0x2c), dst, src, 0);
}

/* cvtss2sd (F3 0F 5A) | cvtsd2ss (F2 0F 5A) dst, src */
void x_cvts2s(gc_buf *b, int to_d, int dst, int src)
{
    op_rr(b, to_d ? 0xf3 : 0xf2, 0, OP2(0x0f, 0x5a), dst, src, 0);
}

/* movd/movq xmm, r   (66 [REX.W] 0F 6E /r) */
void x_movd_xr(gc_buf *b, int w, int dst_xmm, int src)
{
    op_rr(b, 0x66, w, OP2(0x0f, 0x6e), dst_xmm, src, 0);
}

/* movd/movq r, xmm   (66 [REX.W] 0F 7E /r) */
void x_movd_rx(gc_buf *b, int w, int dst, int src_xmm)
{
    op_rr(b, 0x66, w, OP2(0x0f, 0x7e), src_xmm, dst, 0);
}

/* roundss/roundsd dst, src, mode   (66 0F 3A 0A|0B /r ib) */
void x_rounds(gc_buf *b, int d, int dst, int src, uint8_t mode)
{
    op_rr(b, 0x66, 0, OP3(0x0f, 0x3a, d ? 0x0b : 0x0a), dst, src, 0);
    gc_u8(b, mode);
}

/* ---- vector (SSE2..SSE4.1) ---------------------------------------------- */

/* The opcode bytes of op: 0x0fXX, 0x0f38XX or 0x0f3aXX. */
static int vec_op(uint32_t op, uint8_t *bytes)
{
    if (op > 0xffff) {
        bytes[0] = 0x0f, bytes[1] = (uint8_t)(op >> 8), bytes[2] = (uint8_t)op;
        return 3;
    }
    bytes[0] = 0x0f, bytes[1] = (uint8_t)op;
    return 2;
}

/* [pfx] [REX] op /r with register operands: reg is ModRM.reg, rm ModRM.rm */
void x_vec_rr(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int rm)
{
    uint8_t o[3];
    int n = vec_op(op, o);
    op_rr(b, pfx, w, o, n, reg, rm, 0);
}

/* [pfx] [REX] op /r with a memory operand */
void x_vec_rm(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, xmem m)
{
    uint8_t o[3];
    int n = vec_op(op, o);
    op_rm(b, pfx, w, o, n, reg, m, 0);
}

/* VEX (AVX, 128-bit): the two-byte form C5 when the opcode is in the 0F
   map, W is 0 and neither X nor B is needed, else the three-byte C4;
   vvvv names the first source (inverted), pp the 66/F3/F2 prefix. */
static inline void xi_vex(xi *i, uint8_t pfx, int w, uint32_t op, int reg, int vvvv, int index,
                          int base)
{
    uint8_t pp = pfx == 0x66 ? 1 : pfx == 0xf3 ? 2 : pfx == 0xf2 ? 3 : 0;
    uint8_t map = op > 0xffff ? ((op >> 8 & 0xff) == 0x38 ? 2 : 3) : 1;
    uint8_t r = reg & 8 ? 0 : 0x80, x = index >= 0 && (index & 8) ? 0 : 0x40,
            bb = base & 8 ? 0 : 0x20;
    uint8_t v = (uint8_t)((~vvvv & 15) << 3 | pp);
    if (map == 1 && !w && x && bb) {
        xi_u8(i, 0xc5);
        xi_u8(i, (uint8_t)(r | v));
    } else {
        xi_u8(i, 0xc4);
        xi_u8(i, (uint8_t)(r | x | bb | map));
        xi_u8(i, (uint8_t)((w ? 0x80 : 0) | v));
    }
    xi_u8(i, (uint8_t)op);
}

/* v-op reg, vvvv, rm with register operands */
void x_vex_rr(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int vvvv, int rm)
{
    xi i = xi_at(b);
    xi_vex(&i, pfx, w, op, reg, vvvv, -1, rm);
    xi_u8(&i, (uint8_t)(0xc0 | (reg & 7) << 3 | (rm & 7)));
    xi_put(b, &i);
}

/* v-op reg, vvvv, [m] */
void x_vex_rm(gc_buf *b, uint8_t pfx, int w, uint32_t op, int reg, int vvvv, xmem m)
{
    xi i = xi_at(b);
    xi_vex(&i, pfx, w, op, reg, vvvv, m.index, m.base);
    xi_modrm_mem(&i, reg, m);
    xi_put(b, &i);
}
