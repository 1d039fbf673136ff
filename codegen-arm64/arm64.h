/*
 * arm64.h - internal header of codegen-arm64/: registers, condition
 * codes, the immediate-fit predicates and one encoder per instruction
 * form (emit.c).
 *
 * Encoders write into a gc_buf without bounds checks: the caller reserves
 * space once per wasm instruction (GC_RED_ZONE bytes), never per word.
 * Every instruction is one 32-bit word, stored little-endian.  Encoders do
 * not check their immediates either: the caller asks the predicate first
 * (a64_addsub_imm, a64_logical_imm, a64_ldst_uimm, ...) and falls back to
 * a register when it says no.  Raw opcode bits appear only in emit.c.
 */
#ifndef GATE_ARM64_H
#define GATE_ARM64_H

#include "../compiler/compiler.h"

/*
 * General-purpose registers, in encoding order.  Number 31 is the stack
 * pointer in some operand positions and the zero register in the others;
 * the encoding decides, not the number.  Each prototype below says which,
 * in the comment: "31 = SP" or "31 = ZR" per operand; where nothing is said
 * 31 is ZR.  In short:
 *   SP: rn (and rd of the non-flag-setting forms) of add/sub immediate and
 *       extended register, rd of and/orr/eor immediate, the base register
 *       of every load and store, both operands of a64_mov_sp.
 *   ZR: everything else: shifted-register forms, rd of adds/subs/ands
 *       (so cmp/cmn/tst), rn of logical immediate, move wide, bitfield,
 *       multiply/divide, csel, the data register of loads/stores, cbz/tbz,
 *       int<->fp moves and conversions.
 * x29 is the frame pointer and x30 the link register by convention.
 */
enum {
    X0, X1, X2, X3, X4, X5, X6, X7, X8, X9, X10, X11, X12, X13, X14, X15,
    X16, X17, X18, X19, X20, X21, X22, X23, X24, X25, X26, X27, X28, X29, X30,
    XZR = 31, SP = 31
};
/* v0..v31 (as s, d, or the NEON .8b arrangement) are 0..31 in the float
   encoders; 31 is always v31 there. */

/* Condition codes (the cond field of b.cond, csel, fcsel); cc ^ 1 is the
   inverse (except AL/NV). */
enum {
    COND_EQ = 0x0, COND_NE = 0x1, COND_HS = 0x2, COND_LO = 0x3, COND_MI = 0x4,
    COND_PL = 0x5, COND_VS = 0x6, COND_VC = 0x7, COND_HI = 0x8, COND_LS = 0x9,
    COND_GE = 0xa, COND_LT = 0xb, COND_GT = 0xc, COND_LE = 0xd, COND_AL = 0xe,
    COND_NV = 0xf
};

/* Shift kinds of the shifted-register forms (and of lslv/lsrv/asrv/rorv
   and the immediate shifts).  Add/sub take LSL/LSR/ASR; logical ops all. */
enum { SHIFT_LSL = 0, SHIFT_LSR = 1, SHIFT_ASR = 2, SHIFT_ROR = 3 };

/* Extend kinds of the extended-register forms (the option field).  In
   add/sub, *XTB/H/W extend a W register; UXTX/SXTX take an X register.
   In register-offset loads/stores only UXTW, SXTW (W index) and
   UXTX ("lsl", X index), SXTX (X index) exist. */
enum {
    EXT_UXTB = 0, EXT_UXTH = 1, EXT_UXTW = 2, EXT_UXTX = 3,
    EXT_SXTB = 4, EXT_SXTH = 5, EXT_SXTW = 6, EXT_SXTX = 7
};

/* Add/sub operations: op (bit 30) and S (bit 29). */
enum { AS_ADD = 0, AS_ADDS = 1, AS_SUB = 2, AS_SUBS = 3 };
/* Logical operations: opc (bits 30:29) and N (bit 21).  The immediate
   forms exist for AND, ORR, EOR and ANDS only. */
enum {
    LG_AND = 0, LG_ORR = 1, LG_EOR = 2, LG_ANDS = 3,
    LG_BIC = 4, LG_ORN = 5, LG_EON = 6, LG_BICS = 7
};
/* Scalar floating point, two sources (the opcode field). */
enum {
    FP_MUL = 0, FP_DIV = 1, FP_ADD = 2, FP_SUB = 3, FP_MAX = 4, FP_MIN = 5,
    FP_MAXNM = 6, FP_MINNM = 7, FP_NMUL = 8
};
/* Scalar floating point, one source (the opcode field; fcvt is separate). */
enum {
    FP_MOV = 0x00, FP_ABS = 0x01, FP_NEG = 0x02, FP_SQRT = 0x03,
    FP_RINTN = 0x08, FP_RINTP = 0x09, FP_RINTM = 0x0a, FP_RINTZ = 0x0b,
    FP_RINTA = 0x0c, FP_RINTX = 0x0e, FP_RINTI = 0x0f
};
/*
 * Load/store kinds: V (bit 26) and opc (bits 23:22) of the load/store
 * encodings, with a size of 0..3 (8, 16, 32, 64 bits):
 *   LS_ST    strb/strh/str w/str x       LS_LD    ldrb/ldrh/ldr w/ldr x
 *                                                 (zero-extending)
 *   LS_LDS64 ldrsb/ldrsh/ldrsw into an X register   (size 0..2)
 *   LS_LDS32 ldrsb/ldrsh into a W register          (size 0..1)
 *   LS_FST   str b/h/s/d                  LS_FLD   ldr b/h/s/d
 * Other combinations are not loads (LS_LDS64 with size 3 is prfm) or are
 * unallocated.  In the pair encoders only LS_ST, LS_LD (X registers) and
 * LS_FST, LS_FLD (D registers) exist.
 */
enum { LS_ST = 0, LS_LD = 1, LS_LDS64 = 2, LS_LDS32 = 3, LS_FST = 4, LS_FLD = 5 };
/* str q / ldr q: size 0 with these (the 128-bit forms; a64_ldst's scaled
   offset does not apply, use the unscaled or register-offset forms) */
enum { LS_QST = 6, LS_QLD = 7 };
/* Pair addressing modes (bits 24:23). */
enum { PAIR_POST = 1, PAIR_OFF = 2, PAIR_PRE = 3 };

/* ------------------------------------------------------------------ */
/* Immediate-fit predicates: true when the value can be encoded, and   */
/* then (when the pointer is not NULL) the fields the encoder takes.   */
/* ------------------------------------------------------------------ */

/* A bitmask immediate of and/orr/eor/ands: a rotated run of ones
   replicated in 2, 4, ..., 64-bit elements (never 0 or all ones).
   is64 = 0 looks at the low 32 bits only.  *n_immr_imms = N:immr:imms
   (13 bits, N at bit 12), the canonical encoding. */
bool a64_logical_imm(uint64_t value, int is64, uint32_t *n_immr_imms);
/* add/sub #imm12 or #imm12, lsl #12. */
bool a64_addsub_imm(uint64_t v, uint32_t *imm12, int *lsl12);
/* [xn, #offset] with offset = uimm12 << size_log2. */
bool a64_ldst_uimm(int64_t offset, int size_log2);
/* [xn, #offset] unscaled (ldur/stur): -256..255. */
bool a64_ldst_simm9(int64_t offset);
/* ldp/stp offset: simm7 << size_log2 (size_log2 3: -512..504, by 8). */
bool a64_ldp_simm7(int64_t offset, int size_log2);
/* Branch displacements in bytes from the branch: b/bl +-128 MiB,
   b.cond/cbz/cbnz +-1 MiB, tbz/tbnz +-32 KiB, all multiples of 4; adr
   +-1 MiB, any byte. */
bool a64_branch26(int64_t rel);
bool a64_branch19(int64_t rel);
bool a64_branch14(int64_t rel);
bool a64_adr21(int64_t rel);

/*
 * rd = imm in the shortest sequence found: one movz, movn or orr (bitmask
 * immediate) when one does; else movz/movn and movk for the halfwords that
 * differ, or orr and movk, or (64-bit, equal halves) the low half then
 * orr rd, rd, rd, lsl #32, whichever is shorter.  is64 = 0 sets wd to the
 * low 32 bits.  rd 0..30 (31 would be ZR for movz but SP for orr).
 * Returns the number of instructions (1..4).
 */
int a64_mov_imm(gc_buf *b, int is64, int rd, uint64_t imm);

/* ------------------------------------------------------------------ */
/* Integer data processing.  sf: 1 for 64-bit (X) operands, 0 for     */
/* 32-bit (W).                                                          */
/* ------------------------------------------------------------------ */

void a64_addsub_rr(gc_buf *b, int op, int sf, int rd, int rn, int rm);   /* add rd, rn, rm */
void a64_addsub_rrs(gc_buf *b, int op, int sf, int rd, int rn, int rm,
                    int shift, int amount);       /* add rd, rn, rm, lsl #amount (not ror) */
void a64_addsub_rrx(gc_buf *b, int op, int sf, int rd, int rn, int rm,
                    int ext, int amount);         /* add rd, rn, wm, sxtw #amount (0..4);
                                                     rn 31 = SP, rd 31 = SP (add/sub) or
                                                     ZR (adds/subs) */
void a64_addsub_ri(gc_buf *b, int op, int sf, int rd, int rn, uint32_t imm12,
                   int lsl12);                    /* add rd, rn, #imm12{, lsl #12}; rn 31 =
                                                     SP, rd 31 = SP (add/sub) or ZR (adds/subs) */
void a64_cmp_rr(gc_buf *b, int sf, int rn, int rm);                      /* subs zr, rn, rm */
void a64_cmp_ri(gc_buf *b, int sf, int rn, uint32_t imm12, int lsl12);   /* rn 31 = SP */
void a64_cmn_rr(gc_buf *b, int sf, int rn, int rm);                      /* adds zr, rn, rm */
void a64_cmn_ri(gc_buf *b, int sf, int rn, uint32_t imm12, int lsl12);   /* rn 31 = SP */
void a64_neg(gc_buf *b, int sf, int rd, int rm);                         /* sub rd, zr, rm */
void a64_logic_rr(gc_buf *b, int op, int sf, int rd, int rn, int rm);    /* and rd, rn, rm */
void a64_logic_rrs(gc_buf *b, int op, int sf, int rd, int rn, int rm,
                   int shift, int amount);        /* and rd, rn, rm, ror #amount */
void a64_logic_ri(gc_buf *b, int op, int sf, int rd, int rn,
                  uint32_t n_immr_imms);          /* and rd, rn, #bitmask (a64_logical_imm);
                                                     rd 31 = SP (and/orr/eor) or ZR (ands) */
void a64_tst_rr(gc_buf *b, int sf, int rn, int rm);                      /* ands zr, rn, rm */
void a64_tst_ri(gc_buf *b, int sf, int rn, uint32_t n_immr_imms);        /* ands zr, rn, #mask */
void a64_mvn(gc_buf *b, int sf, int rd, int rm);                         /* orn rd, zr, rm */
void a64_mov_rr(gc_buf *b, int sf, int rd, int rm);                      /* orr rd, zr, rm;
                                                     mov wd, wm zero-extends into xd */
void a64_mov_sp(gc_buf *b, int sf, int rd, int rn);                      /* add rd, rn, #0:
                                                     31 = SP in both (mov x29, sp) */
void a64_shift_rr(gc_buf *b, int shift, int sf, int rd, int rn, int rm); /* lslv/lsrv/asrv/rorv */
void a64_shift_ri(gc_buf *b, int shift, int sf, int rd, int rn, int amount);
                                                  /* lsl/lsr/asr/ror rd, rn, #amount via
                                                     ubfm/sbfm/extr; amount 0..31|63
                                                     (lsl #0 disassembles as lsr #0) */
void a64_sbfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms);
void a64_bfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms);
void a64_ubfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms);
void a64_extr(gc_buf *b, int sf, int rd, int rn, int rm, int lsb);
void a64_sxt(gc_buf *b, int from_bytes, int sf, int rd, int rn);   /* sxtb/sxth/sxtw (4: sf=1) */
void a64_uxt(gc_buf *b, int from_bytes, int rd, int rn);           /* uxtb/uxth wd, wn */
void a64_madd(gc_buf *b, int sf, int rd, int rn, int rm, int ra);  /* rd = ra + rn*rm */
void a64_msub(gc_buf *b, int sf, int rd, int rn, int rm, int ra);  /* rd = ra - rn*rm */
void a64_mul(gc_buf *b, int sf, int rd, int rn, int rm);           /* madd rd, rn, rm, zr */
void a64_mulh(gc_buf *b, int is_signed, int rd, int rn, int rm);   /* smulh/umulh xd, xn, xm */
void a64_div(gc_buf *b, int is_signed, int sf, int rd, int rn, int rm);  /* sdiv/udiv */
void a64_clz(gc_buf *b, int sf, int rd, int rn);
void a64_rbit(gc_buf *b, int sf, int rd, int rn);
void a64_rev(gc_buf *b, int sf, int rd, int rn);                   /* bytes of wn / xn */
void a64_rev16(gc_buf *b, int sf, int rd, int rn);                 /* bytes in each halfword */
void a64_rev32(gc_buf *b, int rd, int rn);                         /* bytes in each word of xn */
void a64_csel(gc_buf *b, int sf, int rd, int rn, int rm, int cond);  /* rd = cond ? rn : rm */
void a64_csinc(gc_buf *b, int sf, int rd, int rn, int rm, int cond); /* ... : rm + 1 */
void a64_csinv(gc_buf *b, int sf, int rd, int rn, int rm, int cond); /* ... : ~rm */
void a64_csneg(gc_buf *b, int sf, int rd, int rn, int rm, int cond); /* ... : -rm */
void a64_cset(gc_buf *b, int sf, int rd, int cond);    /* rd = cond ? 1 : 0  (not AL/NV) */
void a64_csetm(gc_buf *b, int sf, int rd, int cond);   /* rd = cond ? -1 : 0 (not AL/NV) */
void a64_movz(gc_buf *b, int sf, int rd, uint16_t imm, int shift);  /* shift 0/16 (/32/48) */
void a64_movn(gc_buf *b, int sf, int rd, uint16_t imm, int shift);  /* rd = ~(imm << shift) */
void a64_movk(gc_buf *b, int sf, int rd, uint16_t imm, int shift);

/* ------------------------------------------------------------------ */
/* Loads and stores: op LS_*, size 0..3 (bytes 1 << size); rn 31 = SP, */
/* rt 31 = ZR (LS_ST/LD/LDS*) or v31 (LS_F*).                          */
/* ------------------------------------------------------------------ */

/* The forms the code generator emits most (every slot and context
   access), inline like x86-64's x_mov_mem_fast: the bits every
   single-register form shares (size 111 V 0 mode opc), then
     ldr|str|ldrs rt, [rn|sp, #offset]   (size 111 V 01 opc imm12 Rn Rt),
     offset a multiple of the size with a64_ldst_uimm(offset, size);
     ldur|stur|ldurs rt, [rn|sp, #offset]   (size 111 V 00 opc 0 imm9 00 Rn Rt),
     offset with a64_ldst_simm9(offset). */
static inline uint32_t a64_ldst_bits(int op, int size)
{
    return (uint32_t)size << 30 | 0x38000000 | (uint32_t)(op >> 2) << 26 |
           (uint32_t)(op & 3) << 22;
}
static inline void a64_ldst(gc_buf *b, int op, int size, int rt, int rn, uint32_t offset)
{
    gc_u32(b, a64_ldst_bits(op, size) | 1u << 24 | (offset >> size) << 10 |
                  ((uint32_t)rn & 31) << 5 | ((uint32_t)rt & 31));
}
static inline void a64_ldst_unscaled(gc_buf *b, int op, int size, int rt, int rn, int32_t offset)
{
    gc_u32(b, a64_ldst_bits(op, size) | ((uint32_t)offset & 0x1ff) << 12 |
                  ((uint32_t)rn & 31) << 5 | ((uint32_t)rt & 31));
}
void a64_ldst_rr(gc_buf *b, int op, int size, int rt, int rn, int rm, int ext, int scaled);
                                     /* ldr rt, [rn, xm{, lsl #size}] (EXT_UXTX),
                                        ldr rt, [rn, wm, uxtw|sxtw {#size}], [rn, xm, sxtx ..] */
void a64_ldstp(gc_buf *b, int op, int mode, int rt1, int rt2, int rn, int32_t offset);
                                     /* stp x|d rt1, rt2, [rn, #offset]{!} | [rn], #offset;
                                        a64_ldp_simm7(offset, 3).  Unpredictable, so never
                                        to be emitted: ldp with rt1 == rt2, and pre/post
                                        index with rn (not SP) == rt1 or rt2 */

/* ------------------------------------------------------------------ */
/* Branches and the rest                                               */
/* ------------------------------------------------------------------ */

/* Branches with a displacement field are emitted pointing at themselves;
   they return their offset in b for a64_patch. */
size_t a64_b(gc_buf *b);
size_t a64_bl(gc_buf *b);
size_t a64_bcond(gc_buf *b, int cond);
size_t a64_cbz(gc_buf *b, int nz, int sf, int rt);           /* cbz / cbnz (nz) */
size_t a64_tbz(gc_buf *b, int nz, int rt, int bit);          /* tbz / tbnz rt, #bit (0..63) */
size_t a64_adr(gc_buf *b, int rd);                           /* adr xd, . */
/* Points the b/bl/b.cond/cbz/cbnz/tbz/tbnz/adr at `at` to `target`
   (offsets in b); false, with the instruction unchanged, when the target
   is out of the instruction's range or `at` holds none of these. */
bool a64_patch(gc_buf *b, size_t at, size_t target);
void a64_adrp(gc_buf *b, int rd, int32_t pages);             /* adrp xd, page(.) + pages*4096 */
void a64_br(gc_buf *b, int rn);
void a64_blr(gc_buf *b, int rn);
void a64_ret(gc_buf *b);                                     /* ret (x30) */
void a64_udf(gc_buf *b, uint16_t imm);
void a64_brk(gc_buf *b, uint16_t imm);
void a64_dmb_ish(gc_buf *b);
void a64_nop(gc_buf *b);

/* ------------------------------------------------------------------ */
/* Scalar floating point: d = 1 for double (d registers), 0 for single */
/* (s registers).  sf as above for the integer side.                   */
/* ------------------------------------------------------------------ */

void a64_fp2(gc_buf *b, int op, int d, int rd, int rn, int rm);   /* fadd d0, d1, d2 ... */
void a64_fp1(gc_buf *b, int op, int d, int rd, int rn);           /* fsqrt/fabs/frintm d0, d1 ...
                                                                     FP_MOV: fmov d0, d1 */
void a64_fcvt(gc_buf *b, int to_d, int rd, int rn);               /* fcvt d0, s1 | s0, d1 */
void a64_fcmp(gc_buf *b, int d, int rn, int rm);
void a64_fcmp_zero(gc_buf *b, int d, int rn);                     /* fcmp d0, #0.0 */
void a64_fcsel(gc_buf *b, int d, int rd, int rn, int rm, int cond);
void a64_scvtf(gc_buf *b, int d, int sf, int rd, int rn);         /* scvtf d0, x1 */
void a64_ucvtf(gc_buf *b, int d, int sf, int rd, int rn);
void a64_fcvtzs(gc_buf *b, int d, int sf, int rd, int rn);        /* fcvtzs x0, d1 */
void a64_fcvtzu(gc_buf *b, int d, int sf, int rd, int rn);
void a64_fmov_vr(gc_buf *b, int sf, int vd, int rn);              /* fmov s0, w1 | d0, x1 */
void a64_ext16(gc_buf *b, int vd, int vn, int vm, int imm4);      /* ext vd.16b, vn.16b, vm.16b, #imm4 */
void a64_ins_d(gc_buf *b, int vd, int index, int rn);
void a64_mov16(gc_buf *b, int vd, int vn);                       /* mov vd.16b, vn.16b (orr) */
/* NEON on 128-bit vectors (Q = 1): size 0-3 for b h s d lanes (floats:
   bit 1 the "a" bit of the opcode, bit 0 sz) */
void a64_v3same(gc_buf *b, int u, int size, int opc, int vd, int vn, int vm);  /* add v0.4s, v1.4s, v2.4s ... */
void a64_v2misc(gc_buf *b, int u, int size, int opc, int vd, int vn);          /* abs/neg/cnt/fsqrt ... */
void a64_dup_g(gc_buf *b, int size, int vd, int rn);               /* dup vd.T, wn|xn */
void a64_mov_lane(gc_buf *b, int sgn, int size, int index, int rd, int vn);   /* umov/smov wd|xd, vn.T[i] */
void a64_ins_g(gc_buf *b, int size, int index, int vd, int rn);    /* mov vd.T[i], wn|xn */
void a64_v2misc_q(gc_buf *b, int q, int u, int size, int opc, int vd, int vn);  /* sqxtn{2} ... (q: the upper half) */
void a64_v3diff(gc_buf *b, int q, int u, int size, int opc, int vd, int vn, int vm); /* smull{2} ... */
void a64_vshll(gc_buf *b, int q, int u, int size, int vd, int vn); /* sxtl{2}/uxtl{2} vd, vn (size: of vn's lanes) */
void a64_tbl(gc_buf *b, int nregs, int vd, int vn, int vm);
void a64_zip1(gc_buf *b, int size, int vd, int vn, int vm);         /* zip1 vd.T, vn.T, vm.T */
void a64_addv(gc_buf *b, int size, int vd, int vn);                /* addv b|h|s vd, vn.T */
void a64_vshift_imm(gc_buf *b, int kind, int size, int vd, int vn, int shift);  /* shl (0) / sshr (1) / ushr (2) #shift, 1..width-1 */        /* tbl vd.16b, {vn..vn+nregs-1}.16b, vm.16b */
void a64_dup_elem(gc_buf *b, int scalar, int size, int vd, int vn, int index); /* dup vd.T, vn.T[i] | mov sd, vn.s[i] */
void a64_ins_elem(gc_buf *b, int size, int vd, int di, int vn, int si);        /* mov vd.T[di], vn.T[si] */            /* mov vd.d[index], xn */
void a64_fmov_rv(gc_buf *b, int sf, int rd, int vn);              /* fmov w0, s1 | x0, d1 */
/* NEON, for popcount: fmov d0, x0; cnt v0.8b, v0.8b; addv b0, v0.8b; fmov w0, s0 */
void a64_cnt8b(gc_buf *b, int vd, int vn);                        /* cnt vd.8b, vn.8b */
void a64_addv8b(gc_buf *b, int vd, int vn);                       /* addv bd, vn.8b */
void a64_uaddlv8b(gc_buf *b, int vd, int vn);                     /* uaddlv hd, vn.8b */

#endif /* GATE_ARM64_H */
