/*
 * emit.c - AArch64 encoders, one per instruction form.  This is the only
 * file of the backend with raw opcode bits; each encoder has the assembly
 * it produces in its comment.
 *
 * Every instruction is one 32-bit word, written little-endian.  Fields
 * used below (bit positions):
 *   sf 31 (64-bit)   Rd/Rt 4:0   Rn 9:5   Rt2/Ra 14:10   Rm 20:16
 *   imm12 21:10   imm9 20:12   imm7 21:15   imm16 20:5   imm19 23:5
 *   imm26 25:0    N:immr:imms 22:10   shift 23:22   cond 15:12 (3:0 b.cond)
 *   size 31:30 and V 26 of loads/stores, type 23:22 of floating point.
 */
#include "arm64.h"

/* register fields */
#define RD(r) ((uint32_t)(r) & 31)
#define RN(r) (((uint32_t)(r) & 31) << 5)
#define RM(r) (((uint32_t)(r) & 31) << 16)
#define RA(r) (((uint32_t)(r) & 31) << 10)
#define SF(sf) ((sf) ? 1u << 31 : 0u)
#define FTYPE(d) ((d) ? 1u << 22 : 0u)

static inline void put(gc_buf *b, uint32_t insn)
{
    gc_u32(b, insn);
}

static inline uint32_t get(const gc_buf *b, size_t at)
{
    const uint8_t *p = b->p + at;
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static inline void set(gc_buf *b, size_t at, uint32_t insn)
{
    b->p[at] = (uint8_t)insn;
    b->p[at + 1] = (uint8_t)(insn >> 8);
    b->p[at + 2] = (uint8_t)(insn >> 16);
    b->p[at + 3] = (uint8_t)(insn >> 24);
}

/* ------------------------------------------------------------------ */
/* Immediate-fit predicates                                            */
/* ------------------------------------------------------------------ */

/*
 * DecodeBitMasks in reverse.  A bitmask immediate is a 2, 4, ..., 64-bit
 * element replicated; the element is a run of 1..e-1 ones rotated right
 * by immr.  The element size is the value's smallest period; imms holds
 * ones-1 under a prefix that encodes the size (N=1: 64; imms 0xxxxx: 32,
 * 10xxxx: 16, 110xxx: 8, 1110xx: 4, 11110x: 2).
 */
bool a64_logical_imm(uint64_t value, int is64, uint32_t *n_immr_imms)
{
    if (!is64) {
        value &= 0xffffffffu;
        value |= value << 32;
    }
    if (value == 0 || value == ~(uint64_t)0)
        return false;
    unsigned e = 64;
    while (e > 2) {
        unsigned h = e / 2;
        uint64_t m = ((uint64_t)1 << h) - 1;
        if ((value & m) != ((value >> h) & m))
            break;
        e = h;
    }
    uint64_t mask = e == 64 ? ~(uint64_t)0 : ((uint64_t)1 << e) - 1;
    uint64_t elem = value & mask;
    unsigned ones = (unsigned)__builtin_popcountll(elem);     /* 1..e-1 */
    uint64_t run = ((uint64_t)1 << ones) - 1;
    unsigned r;
    if (elem & 1)   /* the run wraps round (or starts at bit 0) */
        r = ones - (unsigned)__builtin_ctzll(~elem);
    else
        r = e - (unsigned)__builtin_ctzll(elem);
    uint64_t rot = r == 0 ? run : ((run >> r) | (run << (e - r))) & mask;
    if (rot != elem)
        return false;         /* more than one run */
    if (n_immr_imms) {
        uint32_t imms = ((~(2 * e - 1)) & 0x3f) | (ones - 1);
        *n_immr_imms = (e == 64 ? 1u << 12 : 0) | r << 6 | imms;
    }
    return true;
}

bool a64_addsub_imm(uint64_t v, uint32_t *imm12, int *lsl12)
{
    uint32_t i;
    int s;
    if (v <= 0xfff) {
        i = (uint32_t)v;
        s = 0;
    } else if ((v & 0xfff) == 0 && v <= 0xfff000) {
        i = (uint32_t)(v >> 12);
        s = 1;
    } else {
        return false;
    }
    if (imm12)
        *imm12 = i;
    if (lsl12)
        *lsl12 = s;
    return true;
}

bool a64_ldst_uimm(int64_t offset, int size_log2)
{
    return offset >= 0 && (offset & ((1 << size_log2) - 1)) == 0 &&
           (offset >> size_log2) <= 0xfff;
}

bool a64_ldst_simm9(int64_t offset)
{
    return offset >= -256 && offset <= 255;
}

bool a64_ldp_simm7(int64_t offset, int size_log2)
{
    return (offset & ((1 << size_log2) - 1)) == 0 && offset >= -(64 << size_log2) &&
           offset <= (63 << size_log2);
}

static bool branch_fits(int64_t rel, int bits)
{
    int64_t lim = (int64_t)1 << (bits + 1);      /* bytes: the field counts words */
    return (rel & 3) == 0 && rel >= -lim && rel < lim;
}

bool a64_branch26(int64_t rel) { return branch_fits(rel, 26); }
bool a64_branch19(int64_t rel) { return branch_fits(rel, 19); }
bool a64_branch14(int64_t rel) { return branch_fits(rel, 14); }

bool a64_adr21(int64_t rel)
{
    return rel >= -((int64_t)1 << 20) && rel < ((int64_t)1 << 20);
}

/* ------------------------------------------------------------------ */
/* Add/sub, logical                                                    */
/* ------------------------------------------------------------------ */

/* add|adds|sub|subs rd, rn, rm{, lsl|lsr|asr #amount}   (sf op S 01011 shift 0 Rm imm6 Rn Rd) */
void a64_addsub_rrs(gc_buf *b, int op, int sf, int rd, int rn, int rm, int shift, int amount)
{
    put(b, SF(sf) | (uint32_t)op << 29 | 0x0b000000 | (uint32_t)shift << 22 | RM(rm) |
               (uint32_t)amount << 10 | RN(rn) | RD(rd));
}

/* add|adds|sub|subs rd, rn, rm */
void a64_addsub_rr(gc_buf *b, int op, int sf, int rd, int rn, int rm)
{
    a64_addsub_rrs(b, op, sf, rd, rn, rm, SHIFT_LSL, 0);
}

/* add|adds|sub|subs rd|sp, rn|sp, wm|xm, uxtb..sxtx #amount
   (sf op S 01011 001 Rm option imm3 Rn Rd) */
void a64_addsub_rrx(gc_buf *b, int op, int sf, int rd, int rn, int rm, int ext, int amount)
{
    put(b, SF(sf) | (uint32_t)op << 29 | 0x0b200000 | RM(rm) | (uint32_t)ext << 13 |
               (uint32_t)amount << 10 | RN(rn) | RD(rd));
}

/* add|adds|sub|subs rd|sp, rn|sp, #imm12{, lsl #12}   (sf op S 100010 sh imm12 Rn Rd) */
void a64_addsub_ri(gc_buf *b, int op, int sf, int rd, int rn, uint32_t imm12, int lsl12)
{
    put(b, SF(sf) | (uint32_t)op << 29 | 0x11000000 | (lsl12 ? 1u << 22 : 0) | imm12 << 10 |
               RN(rn) | RD(rd));
}

/* cmp rn, rm   (subs zr, rn, rm) */
void a64_cmp_rr(gc_buf *b, int sf, int rn, int rm)
{
    a64_addsub_rr(b, AS_SUBS, sf, XZR, rn, rm);
}

/* cmp rn|sp, #imm12{, lsl #12}   (subs zr, rn, #imm) */
void a64_cmp_ri(gc_buf *b, int sf, int rn, uint32_t imm12, int lsl12)
{
    a64_addsub_ri(b, AS_SUBS, sf, XZR, rn, imm12, lsl12);
}

/* cmn rn, rm   (adds zr, rn, rm) */
void a64_cmn_rr(gc_buf *b, int sf, int rn, int rm)
{
    a64_addsub_rr(b, AS_ADDS, sf, XZR, rn, rm);
}

/* cmn rn|sp, #imm12{, lsl #12}   (adds zr, rn, #imm) */
void a64_cmn_ri(gc_buf *b, int sf, int rn, uint32_t imm12, int lsl12)
{
    a64_addsub_ri(b, AS_ADDS, sf, XZR, rn, imm12, lsl12);
}

/* neg rd, rm   (sub rd, zr, rm) */
void a64_neg(gc_buf *b, int sf, int rd, int rm)
{
    a64_addsub_rr(b, AS_SUB, sf, rd, XZR, rm);
}

/* and|orr|eor|ands|bic|orn|eon|bics rd, rn, rm{, lsl|lsr|asr|ror #amount}
   (sf opc 01010 shift N Rm imm6 Rn Rd) */
void a64_logic_rrs(gc_buf *b, int op, int sf, int rd, int rn, int rm, int shift, int amount)
{
    put(b, SF(sf) | (uint32_t)(op & 3) << 29 | 0x0a000000 | (uint32_t)shift << 22 |
               (uint32_t)(op >> 2) << 21 | RM(rm) | (uint32_t)amount << 10 | RN(rn) | RD(rd));
}

/* and|orr|eor|ands|bic|orn|eon|bics rd, rn, rm */
void a64_logic_rr(gc_buf *b, int op, int sf, int rd, int rn, int rm)
{
    a64_logic_rrs(b, op, sf, rd, rn, rm, SHIFT_LSL, 0);
}

/* and|orr|eor rd|sp, rn, #bitmask | ands rd, rn, #bitmask   (sf opc 100100 N immr imms Rn Rd) */
void a64_logic_ri(gc_buf *b, int op, int sf, int rd, int rn, uint32_t n_immr_imms)
{
    put(b, SF(sf) | (uint32_t)op << 29 | 0x12000000 | n_immr_imms << 10 | RN(rn) | RD(rd));
}

/* tst rn, rm   (ands zr, rn, rm) */
void a64_tst_rr(gc_buf *b, int sf, int rn, int rm)
{
    a64_logic_rr(b, LG_ANDS, sf, XZR, rn, rm);
}

/* tst rn, #bitmask   (ands zr, rn, #bitmask) */
void a64_tst_ri(gc_buf *b, int sf, int rn, uint32_t n_immr_imms)
{
    a64_logic_ri(b, LG_ANDS, sf, XZR, rn, n_immr_imms);
}

/* mvn rd, rm   (orn rd, zr, rm) */
void a64_mvn(gc_buf *b, int sf, int rd, int rm)
{
    a64_logic_rr(b, LG_ORN, sf, rd, XZR, rm);
}

/* mov rd, rm   (orr rd, zr, rm) */
void a64_mov_rr(gc_buf *b, int sf, int rd, int rm)
{
    a64_logic_rr(b, LG_ORR, sf, rd, XZR, rm);
}

/* mov rd|sp, rn|sp   (add rd, rn, #0) */
void a64_mov_sp(gc_buf *b, int sf, int rd, int rn)
{
    a64_addsub_ri(b, AS_ADD, sf, rd, rn, 0, 0);
}

/* ------------------------------------------------------------------ */
/* Shifts, bitfields, multiply/divide, bit operations, selects         */
/* ------------------------------------------------------------------ */

/* lslv|lsrv|asrv|rorv rd, rn, rm   (sf 0 0 11010110 Rm 0010 op2 Rn Rd) */
void a64_shift_rr(gc_buf *b, int shift, int sf, int rd, int rn, int rm)
{
    put(b, SF(sf) | 0x1ac02000 | RM(rm) | (uint32_t)shift << 10 | RN(rn) | RD(rd));
}

/* sbfm rd, rn, #immr, #imms   (sf 00 100110 N immr imms Rn Rd, N = sf) */
void a64_sbfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms)
{
    put(b, SF(sf) | (sf ? 1u << 22 : 0) | 0x13000000 | (uint32_t)immr << 16 |
               (uint32_t)imms << 10 | RN(rn) | RD(rd));
}

/* bfm rd, rn, #immr, #imms   (sf 01 100110 N immr imms Rn Rd) */
void a64_bfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms)
{
    put(b, SF(sf) | (sf ? 1u << 22 : 0) | 0x33000000 | (uint32_t)immr << 16 |
               (uint32_t)imms << 10 | RN(rn) | RD(rd));
}

/* ubfm rd, rn, #immr, #imms   (sf 10 100110 N immr imms Rn Rd) */
void a64_ubfm(gc_buf *b, int sf, int rd, int rn, int immr, int imms)
{
    put(b, SF(sf) | (sf ? 1u << 22 : 0) | 0x53000000 | (uint32_t)immr << 16 |
               (uint32_t)imms << 10 | RN(rn) | RD(rd));
}

/* extr rd, rn, rm, #lsb   (sf 00 100111 N 0 Rm imms Rn Rd) */
void a64_extr(gc_buf *b, int sf, int rd, int rn, int rm, int lsb)
{
    put(b, SF(sf) | (sf ? 1u << 22 : 0) | 0x13800000 | RM(rm) | (uint32_t)lsb << 10 |
               RN(rn) | RD(rd));
}

/* lsl rd, rn, #n (ubfm #(-n mod size), #(size-1-n)) | lsr (ubfm #n, #size-1) |
   asr (sbfm #n, #size-1) | ror (extr rd, rn, rn, #n) */
void a64_shift_ri(gc_buf *b, int shift, int sf, int rd, int rn, int amount)
{
    int size = sf ? 64 : 32;
    switch (shift) {
    case SHIFT_LSL: a64_ubfm(b, sf, rd, rn, (size - amount) & (size - 1), size - 1 - amount);
                    break;
    case SHIFT_LSR: a64_ubfm(b, sf, rd, rn, amount, size - 1); break;
    case SHIFT_ASR: a64_sbfm(b, sf, rd, rn, amount, size - 1); break;
    default:        a64_extr(b, sf, rd, rn, rn, amount); break;
    }
}

/* sxtb|sxth rd, wn (sbfm #0, #7|#15) | sxtw xd, wn (sbfm #0, #31) */
void a64_sxt(gc_buf *b, int from_bytes, int sf, int rd, int rn)
{
    a64_sbfm(b, sf, rd, rn, 0, from_bytes * 8 - 1);
}

/* uxtb|uxth wd, wn   (ubfm wd, wn, #0, #7|#15) */
void a64_uxt(gc_buf *b, int from_bytes, int rd, int rn)
{
    a64_ubfm(b, 0, rd, rn, 0, from_bytes * 8 - 1);
}

/* madd rd, rn, rm, ra   (sf 00 11011 000 Rm 0 Ra Rn Rd) */
void a64_madd(gc_buf *b, int sf, int rd, int rn, int rm, int ra)
{
    put(b, SF(sf) | 0x1b000000 | RM(rm) | RA(ra) | RN(rn) | RD(rd));
}

/* msub rd, rn, rm, ra   (sf 00 11011 000 Rm 1 Ra Rn Rd) */
void a64_msub(gc_buf *b, int sf, int rd, int rn, int rm, int ra)
{
    put(b, SF(sf) | 0x1b008000 | RM(rm) | RA(ra) | RN(rn) | RD(rd));
}

/* mul rd, rn, rm   (madd rd, rn, rm, zr) */
void a64_mul(gc_buf *b, int sf, int rd, int rn, int rm)
{
    a64_madd(b, sf, rd, rn, rm, XZR);
}

/* smulh|umulh xd, xn, xm   (1 00 11011 U 10 Rm 0 11111 Rn Rd) */
void a64_mulh(gc_buf *b, int is_signed, int rd, int rn, int rm)
{
    put(b, (is_signed ? 0x9b400000u : 0x9bc00000u) | RM(rm) | RA(XZR) | RN(rn) | RD(rd));
}

/* sdiv|udiv rd, rn, rm   (sf 0 0 11010110 Rm 00001 o1 Rn Rd) */
void a64_div(gc_buf *b, int is_signed, int sf, int rd, int rn, int rm)
{
    put(b, SF(sf) | 0x1ac00800 | RM(rm) | (is_signed ? 1u << 10 : 0) | RN(rn) | RD(rd));
}

/* one-source data processing: sf 1 0 11010110 00000 opcode Rn Rd */
static void dp1(gc_buf *b, int sf, uint32_t opcode, int rd, int rn)
{
    put(b, SF(sf) | 0x5ac00000 | opcode << 10 | RN(rn) | RD(rd));
}

/* clz rd, rn */
void a64_clz(gc_buf *b, int sf, int rd, int rn)
{
    dp1(b, sf, 4, rd, rn);
}

/* rbit rd, rn */
void a64_rbit(gc_buf *b, int sf, int rd, int rn)
{
    dp1(b, sf, 0, rd, rn);
}

/* rev wd, wn (opcode 2) | rev xd, xn (opcode 3) */
void a64_rev(gc_buf *b, int sf, int rd, int rn)
{
    dp1(b, sf, sf ? 3 : 2, rd, rn);
}

/* rev16 rd, rn */
void a64_rev16(gc_buf *b, int sf, int rd, int rn)
{
    dp1(b, sf, 1, rd, rn);
}

/* rev32 xd, xn */
void a64_rev32(gc_buf *b, int rd, int rn)
{
    dp1(b, 1, 2, rd, rn);
}

/* conditional select: sf op 0 11010100 Rm cond 0 o2 Rn Rd */
static void csel(gc_buf *b, uint32_t op_o2, int sf, int rd, int rn, int rm, int cond)
{
    put(b, SF(sf) | 0x1a800000 | op_o2 | RM(rm) | (uint32_t)cond << 12 | RN(rn) | RD(rd));
}

/* csel rd, rn, rm, cond */
void a64_csel(gc_buf *b, int sf, int rd, int rn, int rm, int cond)
{
    csel(b, 0, sf, rd, rn, rm, cond);
}

/* csinc rd, rn, rm, cond */
void a64_csinc(gc_buf *b, int sf, int rd, int rn, int rm, int cond)
{
    csel(b, 1u << 10, sf, rd, rn, rm, cond);
}

/* csinv rd, rn, rm, cond */
void a64_csinv(gc_buf *b, int sf, int rd, int rn, int rm, int cond)
{
    csel(b, 1u << 30, sf, rd, rn, rm, cond);
}

/* csneg rd, rn, rm, cond */
void a64_csneg(gc_buf *b, int sf, int rd, int rn, int rm, int cond)
{
    csel(b, 1u << 30 | 1u << 10, sf, rd, rn, rm, cond);
}

/* cset rd, cond   (csinc rd, zr, zr, !cond) */
void a64_cset(gc_buf *b, int sf, int rd, int cond)
{
    a64_csinc(b, sf, rd, XZR, XZR, cond ^ 1);
}

/* csetm rd, cond   (csinv rd, zr, zr, !cond) */
void a64_csetm(gc_buf *b, int sf, int rd, int cond)
{
    a64_csinv(b, sf, rd, XZR, XZR, cond ^ 1);
}

/* move wide: sf opc 100101 hw imm16 Rd */
static void movw(gc_buf *b, uint32_t opc, int sf, int rd, uint16_t imm, int shift)
{
    put(b, SF(sf) | opc << 29 | 0x12800000 | (uint32_t)(shift / 16) << 21 | (uint32_t)imm << 5 |
               RD(rd));
}

/* movz rd, #imm, lsl #shift */
void a64_movz(gc_buf *b, int sf, int rd, uint16_t imm, int shift)
{
    movw(b, 2, sf, rd, imm, shift);
}

/* movn rd, #imm, lsl #shift */
void a64_movn(gc_buf *b, int sf, int rd, uint16_t imm, int shift)
{
    movw(b, 0, sf, rd, imm, shift);
}

/* movk rd, #imm, lsl #shift */
void a64_movk(gc_buf *b, int sf, int rd, uint16_t imm, int shift)
{
    movw(b, 3, sf, rd, imm, shift);
}

/* ------------------------------------------------------------------ */
/* Constants                                                           */
/* ------------------------------------------------------------------ */

static int differing(const uint16_t *h, int n, const uint16_t *base)
{
    int k = 0;
    for (int i = 0; i < n; i++)
        k += h[i] != base[i];
    return k;
}

/* movz (fill 0) or movn (fill 0xffff) for the first halfword that is not
   `fill`, movk for the others; the register starts as the fill value. */
static int mov_wide_seq(gc_buf *b, int sf, int rd, const uint16_t *h, int n, uint16_t fill)
{
    int k = 0;
    for (int i = 0; i < n; i++) {
        if (h[i] == fill)
            continue;
        if (k == 0 && fill == 0)
            a64_movz(b, sf, rd, h[i], 16 * i);
        else if (k == 0)
            a64_movn(b, sf, rd, (uint16_t)~h[i], 16 * i);
        else
            a64_movk(b, sf, rd, h[i], 16 * i);
        k++;
    }
    if (k == 0) {    /* every halfword is the fill */
        if (fill == 0)
            a64_movz(b, sf, rd, 0, 0);
        else
            a64_movn(b, sf, rd, 0, 0);
        k = 1;
    }
    return k;
}

/* orr rd, zr, #base, then movk for the halfwords of h that differ */
static int orr_seq(gc_buf *b, int sf, int rd, const uint16_t *h, int n, const uint16_t *base)
{
    uint64_t v = 0;
    uint32_t enc = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)base[i] << (16 * i);
    a64_logical_imm(v, sf, &enc);
    a64_logic_ri(b, LG_ORR, sf, rd, XZR, enc);
    int k = 1;
    for (int i = 0; i < n; i++) {
        if (h[i] != base[i]) {
            a64_movk(b, sf, rd, h[i], 16 * i);
            k++;
        }
    }
    return k;
}

static bool halves_logical(const uint16_t *base, int n)
{
    uint64_t v = 0;
    for (int i = 0; i < n; i++)
        v |= (uint64_t)base[i] << (16 * i);
    return a64_logical_imm(v, n == 4, NULL);
}

/*
 * A bitmask immediate that differs from imm in one halfword (orr + movk:
 * two instructions) or, with max_replaced 2, in two (three).  Returns the
 * number of replaced halfwords, 0 if there is none.  Only called when
 * movz/movn need three or more (at most one halfword of imm is 0x0000 and
 * at most one 0xffff), and then trying 0, 0xffff and imm's other
 * halfwords in the replaced ones finds one if any exists: a pattern of
 * 2..32-bit elements repeats the kept halfwords; a 64-bit one is a single
 * run of ones, and a halfword of it that is not 0 or 0xffff holds the
 * run's start or end, which can move to the halfword's edge (0 or 0xffff
 * there) leaving a run that still matches the kept halfwords.
 */
static int orr_base(const uint16_t *h, uint16_t *base, int max_replaced)
{
    const uint16_t cand[6] = { 0, 0xffff, h[0], h[1], h[2], h[3] };
    for (int i = 0; i < 4; i++) {
        for (int c = 0; c < 6; c++) {
            memcpy(base, h, 4 * sizeof *h);
            base[i] = cand[c];
            if (base[i] != h[i] && halves_logical(base, 4))
                return 1;
        }
    }
    if (max_replaced < 2)
        return 0;
    for (int i = 0; i < 4; i++) {
        for (int j = i + 1; j < 4; j++) {
            for (int c = 0; c < 6; c++) {
                for (int d = 0; d < 6; d++) {
                    memcpy(base, h, 4 * sizeof *h);
                    base[i] = cand[c];
                    base[j] = cand[d];
                    if (base[i] != h[i] && base[j] != h[j] && halves_logical(base, 4))
                        return 2;
                }
            }
        }
    }
    return 0;
}

static int mov_imm_cost32(const uint16_t *h)
{
    uint16_t z[2] = { 0, 0 }, o[2] = { 0xffff, 0xffff };
    int nz = differing(h, 2, z), no = differing(h, 2, o);
    if (nz <= 1 || no <= 1 || halves_logical(h, 2))
        return 1;
    return 2;
}

/* movz/movn/movk | orr #bitmask {movk} | w-half then orr xd, xd, xd, lsl #32 */
int a64_mov_imm(gc_buf *b, int is64, int rd, uint64_t imm)
{
    if (imm < 0x10000) {        /* most constants: movz, which the search below finds too */
        a64_movz(b, is64, rd, (uint16_t)imm, 0);
        return 1;
    }
    int n = is64 ? 4 : 2;
    uint16_t h[4], z[4] = { 0, 0, 0, 0 }, o[4] = { 0xffff, 0xffff, 0xffff, 0xffff };
    for (int i = 0; i < 4; i++)
        h[i] = (uint16_t)(imm >> (16 * i));
    int nz = differing(h, n, z), no = differing(h, n, o);
    if (nz <= 1)
        return mov_wide_seq(b, is64, rd, h, n, 0);
    if (no <= 1)
        return mov_wide_seq(b, is64, rd, h, n, 0xffff);
    if (halves_logical(h, n))
        return orr_seq(b, is64, rd, h, n, h);
    int best = nz < no ? nz : no;
    if (best >= 3) {          /* 64-bit only: a 32-bit value needs at most 2 */
        uint16_t base[4];
        int rep = orr_base(h, base, best - 2);
        if (rep == 1)
            return orr_seq(b, 1, rd, h, 4, base);
        bool halves = h[0] == h[2] && h[1] == h[3];
        if (halves && mov_imm_cost32(h) + 1 < best) {
            int k = a64_mov_imm(b, 0, rd, imm);
            a64_logic_rrs(b, LG_ORR, 1, rd, rd, rd, SHIFT_LSL, 32);
            return k + 1;
        }
        if (rep == 2)
            return orr_seq(b, 1, rd, h, 4, base);
    }
    return mov_wide_seq(b, is64, rd, h, n, nz <= no ? 0 : 0xffff);
}

/* ------------------------------------------------------------------ */
/* Loads and stores                                                    */
/* ------------------------------------------------------------------ */

/* a64_ldst and a64_ldst_unscaled are inline in arm64.h */
#define ldst_bits a64_ldst_bits

/* ldr|str|ldrs rt, [rn|sp, xm|wm{, lsl|uxtw|sxtw|sxtx {#size}}]
   (size 111 V 00 opc 1 Rm option S 10 Rn Rt) */
void a64_ldst_rr(gc_buf *b, int op, int size, int rt, int rn, int rm, int ext, int scaled)
{
    put(b, ldst_bits(op, size) | 0x00200800 | RM(rm) | (uint32_t)ext << 13 |
               (scaled ? 1u << 12 : 0) | RN(rn) | RD(rt));
}

/* stp|ldp xt1, xt2, [rn|sp, #offset] | [rn|sp, #offset]! | [rn|sp], #offset (and d registers)
   (opc 101 V 0 mode L imm7 Rt2 Rn Rt; opc 10 for x, 01 for d) */
void a64_ldstp(gc_buf *b, int op, int mode, int rt1, int rt2, int rn, int32_t offset)
{
    uint32_t v = (uint32_t)(op >> 2);
    put(b, (v ? 1u << 30 : 2u << 30) | 0x28000000 | v << 26 | (uint32_t)mode << 23 |
               (uint32_t)(op & 1) << 22 | ((uint32_t)(offset / 8) & 0x7f) << 15 | RA(rt2) |
               RN(rn) | RD(rt1));
}

/* ------------------------------------------------------------------ */
/* Branches                                                            */
/* ------------------------------------------------------------------ */

/* b .   (000101 imm26) */
size_t a64_b(gc_buf *b)
{
    put(b, 0x14000000);
    return b->n - 4;
}

/* bl .   (100101 imm26) */
size_t a64_bl(gc_buf *b)
{
    put(b, 0x94000000);
    return b->n - 4;
}

/* b.cond .   (01010100 imm19 0 cond) */
size_t a64_bcond(gc_buf *b, int cond)
{
    put(b, 0x54000000 | (uint32_t)cond);
    return b->n - 4;
}

/* cbz|cbnz rt, .   (sf 011010 op imm19 Rt) */
size_t a64_cbz(gc_buf *b, int nz, int sf, int rt)
{
    put(b, SF(sf) | 0x34000000 | (nz ? 1u << 24 : 0) | RD(rt));
    return b->n - 4;
}

/* tbz|tbnz rt, #bit, .   (b5 011011 op b40 imm14 Rt; rt is w when bit < 32) */
size_t a64_tbz(gc_buf *b, int nz, int rt, int bit)
{
    put(b, (uint32_t)(bit >> 5) << 31 | 0x36000000 | (nz ? 1u << 24 : 0) |
               (uint32_t)(bit & 31) << 19 | RD(rt));
    return b->n - 4;
}

/* adr xd, .   (0 immlo 10000 immhi Rd) */
size_t a64_adr(gc_buf *b, int rd)
{
    put(b, 0x10000000 | RD(rd));
    return b->n - 4;
}

bool a64_patch(gc_buf *b, size_t at, size_t target)
{
    uint32_t insn = get(b, at);
    int64_t rel = (int64_t)target - (int64_t)at;
    uint32_t w = (uint32_t)((uint64_t)rel >> 2);      /* in words */
    if ((insn & 0x7c000000) == 0x14000000) {            /* b, bl */
        if (!a64_branch26(rel))
            return false;
        insn = (insn & 0xfc000000) | (w & 0x03ffffff);
    } else if ((insn & 0xff000010) == 0x54000000 ||     /* b.cond */
               (insn & 0x7e000000) == 0x34000000) {     /* cbz, cbnz */
        if (!a64_branch19(rel))
            return false;
        insn = (insn & 0xff00001f) | (w & 0x7ffff) << 5;
    } else if ((insn & 0x7e000000) == 0x36000000) {     /* tbz, tbnz */
        if (!a64_branch14(rel))
            return false;
        insn = (insn & 0xfff8001f) | (w & 0x3fff) << 5;
    } else if ((insn & 0x9f000000) == 0x10000000) {     /* adr */
        if (!a64_adr21(rel))
            return false;
        uint32_t r = (uint32_t)rel;
        insn = (insn & 0x9f00001f) | (r & 3) << 29 | ((r >> 2) & 0x7ffff) << 5;
    } else {
        return false;
    }
    set(b, at, insn);
    return true;
}

/* adrp xd, #pages*4096   (1 immlo 10000 immhi Rd) */
void a64_adrp(gc_buf *b, int rd, int32_t pages)
{
    uint32_t r = (uint32_t)pages;
    put(b, 0x90000000 | (r & 3) << 29 | ((r >> 2) & 0x7ffff) << 5 | RD(rd));
}

/* br xn   (1101011 0000 11111 000000 Rn 00000) */
void a64_br(gc_buf *b, int rn)
{
    put(b, 0xd61f0000 | RN(rn));
}

/* blr xn */
void a64_blr(gc_buf *b, int rn)
{
    put(b, 0xd63f0000 | RN(rn));
}

/* ret   (ret x30) */
void a64_ret(gc_buf *b)
{
    put(b, 0xd65f0000 | RN(X30));
}

/* udf #imm16   (0000 0000 0000 0000 imm16) */
void a64_udf(gc_buf *b, uint16_t imm)
{
    put(b, imm);
}

/* brk #imm16   (11010100 001 imm16 00000) */
void a64_brk(gc_buf *b, uint16_t imm)
{
    put(b, 0xd4200000 | (uint32_t)imm << 5);
}

/* dmb ish   (CRm 1011) */
void a64_dmb_ish(gc_buf *b)
{
    put(b, 0xd5033bbf);
}

/* nop */
void a64_nop(gc_buf *b)
{
    put(b, 0xd503201f);
}

/* ------------------------------------------------------------------ */
/* Floating point                                                      */
/* ------------------------------------------------------------------ */

/* fmul|fdiv|fadd|fsub|fmax|fmin|fmaxnm|fminnm|fnmul rd, rn, rm
   (000 11110 type 1 Rm opcode 10 Rn Rd) */
void a64_fp2(gc_buf *b, int op, int d, int rd, int rn, int rm)
{
    put(b, 0x1e200800 | FTYPE(d) | RM(rm) | (uint32_t)op << 12 | RN(rn) | RD(rd));
}

/* fmov|fabs|fneg|fsqrt|frintn|frintp|frintm|frintz|frinta|frintx|frinti rd, rn
   (000 11110 type 1 opcode 10000 Rn Rd) */
void a64_fp1(gc_buf *b, int op, int d, int rd, int rn)
{
    put(b, 0x1e204000 | FTYPE(d) | (uint32_t)op << 15 | RN(rn) | RD(rd));
}

/* fcvt dd, sn (type 00, opcode 000101) | fcvt sd, dn (type 01, opcode 000100) */
void a64_fcvt(gc_buf *b, int to_d, int rd, int rn)
{
    put(b, 0x1e224000 | FTYPE(!to_d) | (to_d ? 1u << 15 : 0) | RN(rn) | RD(rd));
}

/* fcmp rn, rm   (000 11110 type 1 Rm 001000 Rn 00000) */
void a64_fcmp(gc_buf *b, int d, int rn, int rm)
{
    put(b, 0x1e202000 | FTYPE(d) | RM(rm) | RN(rn));
}

/* fcmp rn, #0.0   (000 11110 type 1 00000 001000 Rn 01000) */
void a64_fcmp_zero(gc_buf *b, int d, int rn)
{
    put(b, 0x1e202008 | FTYPE(d) | RN(rn));
}

/* fcsel rd, rn, rm, cond   (000 11110 type 1 Rm cond 11 Rn Rd) */
void a64_fcsel(gc_buf *b, int d, int rd, int rn, int rm, int cond)
{
    put(b, 0x1e200c00 | FTYPE(d) | RM(rm) | (uint32_t)cond << 12 | RN(rn) | RD(rd));
}

/* int <-> fp: sf 00 11110 type 1 rmode opcode 000000 Rn Rd */
static void fpint(gc_buf *b, uint32_t rmode_opcode, int d, int sf, int rd, int rn)
{
    put(b, SF(sf) | 0x1e200000 | FTYPE(d) | rmode_opcode << 16 | RN(rn) | RD(rd));
}

/* scvtf sd|dd, wn|xn   (rmode 00 opcode 010) */
void a64_scvtf(gc_buf *b, int d, int sf, int rd, int rn)
{
    fpint(b, 0x02, d, sf, rd, rn);
}

/* ucvtf sd|dd, wn|xn   (rmode 00 opcode 011) */
void a64_ucvtf(gc_buf *b, int d, int sf, int rd, int rn)
{
    fpint(b, 0x03, d, sf, rd, rn);
}

/* fcvtzs wd|xd, sn|dn   (rmode 11 opcode 000) */
void a64_fcvtzs(gc_buf *b, int d, int sf, int rd, int rn)
{
    fpint(b, 0x18, d, sf, rd, rn);
}

/* fcvtzu wd|xd, sn|dn   (rmode 11 opcode 001) */
void a64_fcvtzu(gc_buf *b, int d, int sf, int rd, int rn)
{
    fpint(b, 0x19, d, sf, rd, rn);
}

/* fmov sd, wn | dd, xn   (rmode 00 opcode 111; type = sf) */
void a64_fmov_vr(gc_buf *b, int sf, int vd, int rn)
{
    fpint(b, 0x07, sf, sf, vd, rn);
}

/* fmov wd, sn | xd, dn   (rmode 00 opcode 110) */
void a64_fmov_rv(gc_buf *b, int sf, int rd, int vn)
{
    fpint(b, 0x06, sf, sf, rd, vn);
}

/* cnt vd.8b, vn.8b   (0 Q=0 0 01110 size=00 10000 00101 10 Rn Rd) */
void a64_cnt8b(gc_buf *b, int vd, int vn)
{
    put(b, 0x0e205800 | RN(vn) | RD(vd));
}

/* addv bd, vn.8b   (0 Q=0 0 01110 size=00 11000 11011 10 Rn Rd) */
void a64_addv8b(gc_buf *b, int vd, int vn)
{
    put(b, 0x0e31b800 | RN(vn) | RD(vd));
}

/* uaddlv hd, vn.8b   (0 Q=0 1 01110 size=00 11000 00011 10 Rn Rd) */
void a64_uaddlv8b(gc_buf *b, int vd, int vn)
{
    put(b, 0x2e303800 | RN(vn) | RD(vd));
}

/* ---- vector (NEON) ------------------------------------------------------- */

/* ext vd.16b, vn.16b, vm.16b, #imm4   (0 1 101110 000 Rm 0 imm4 0 Rn Rd) */
void a64_ext16(gc_buf *b, int vd, int vn, int vm, int imm4)
{
    put(b, 0x6e000000 | RM(vm) | (uint32_t)(imm4 & 15) << 11 | RN(vn) | RD(vd));
}

/* mov vd.d[index], xn   (ins: 0 1 0 01110000 imm5 0 0011 1 Rn Rd, imm5 = index:1000) */
void a64_ins_d(gc_buf *b, int vd, int index, int rn)
{
    put(b, 0x4e001c00 | (uint32_t)((index & 1) << 4 | 8) << 16 | RN(rn) | RD(vd));
}

/* mov vd.16b, vn.16b   (orr vd.16b, vn.16b, vn.16b: 0 1 0 01110 101 Rm 000111 Rn Rd) */
void a64_mov16(gc_buf *b, int vd, int vn)
{
    put(b, 0x4ea01c00 | RM(vn) | RN(vn) | RD(vd));
}

/* 0 1 U 01110 size 1 Rm opcode 1 Rn Rd */
void a64_v3same(gc_buf *b, int u, int size, int opc, int vd, int vn, int vm)
{
    put(b, 0x4e200400 | (uint32_t)u << 29 | (uint32_t)size << 22 | RM(vm) |
               (uint32_t)(opc & 31) << 11 | RN(vn) | RD(vd));
}

/* 0 1 U 01110 size 10000 opcode 10 Rn Rd */
void a64_v2misc(gc_buf *b, int u, int size, int opc, int vd, int vn)
{
    put(b, 0x4e200800 | (uint32_t)u << 29 | (uint32_t)size << 22 | (uint32_t)(opc & 31) << 12 |
               RN(vn) | RD(vd));
}

/* the imm5 of a lane: index:1 followed by size zeros */
static uint32_t lane_imm5(int size, int index)
{
    return ((uint32_t)index << (size + 1) | 1u << size) & 31;
}

/* dup vd.T, rn   (0 1 0 01110000 imm5 0 0001 1 Rn Rd) */
void a64_dup_g(gc_buf *b, int size, int vd, int rn)
{
    put(b, 0x4e000c00 | lane_imm5(size, 0) << 16 | RN(rn) | RD(vd));
}

/* umov wd, vn.T[i] (0 Q 0 01110000 imm5 0 0111 1 Rn Rd; Q = 1 for d lanes
   into xd) | smov wd, vn.T[i] (0 0 0 01110000 imm5 0 0101 1 Rn Rd) */
void a64_mov_lane(gc_buf *b, int sgn, int size, int index, int rd, int vn)
{
    uint32_t q = size == 3 ? 1u << 30 : 0;
    put(b, (sgn ? 0x0e002c00 : 0x0e003c00) | q | lane_imm5(size, index) << 16 | RN(vn) | RD(rd));
}

/* mov vd.T[i], rn   (ins: 0 1 0 01110000 imm5 0 0011 1 Rn Rd) */
void a64_ins_g(gc_buf *b, int size, int index, int vd, int rn)
{
    put(b, 0x4e001c00 | lane_imm5(size, index) << 16 | RN(rn) | RD(vd));
}

/* 0 Q U 01110 size 10000 opcode 10 Rn Rd */
void a64_v2misc_q(gc_buf *b, int q, int u, int size, int opc, int vd, int vn)
{
    put(b, 0x0e200800 | (uint32_t)q << 30 | (uint32_t)u << 29 | (uint32_t)size << 22 |
               (uint32_t)(opc & 31) << 12 | RN(vn) | RD(vd));
}

/* three different: 0 Q U 01110 size 1 Rm opcode 00 Rn Rd */
void a64_v3diff(gc_buf *b, int q, int u, int size, int opc, int vd, int vn, int vm)
{
    put(b, 0x0e200000 | (uint32_t)q << 30 | (uint32_t)u << 29 | (uint32_t)size << 22 | RM(vm) |
               (uint32_t)(opc & 15) << 12 | RN(vn) | RD(vd));
}

/* sshll/ushll{2} vd, vn, #0: 0 Q U 011110 immh:immb 10100 1 Rn Rd, immh = 1 << size */
void a64_vshll(gc_buf *b, int q, int u, int size, int vd, int vn)
{
    put(b, 0x0f00a400 | (uint32_t)q << 30 | (uint32_t)u << 29 | (8u << size) << 16 | RN(vn) |
               RD(vd));
}

/* tbl: 0 1 001110 000 Rm 0 len 000 Rn Rd */
void a64_tbl(gc_buf *b, int nregs, int vd, int vn, int vm)
{
    put(b, 0x4e000000 | RM(vm) | (uint32_t)((nregs - 1) & 3) << 13 | RN(vn) | RD(vd));
}

/* dup vd.T, vn.T[i] (0 1 0 01110000 imm5 0 0000 1 Rn Rd) or the scalar
   form mov sd|dd, vn.T[i] (01 0 11110000 imm5 0 0000 1 Rn Rd) */
void a64_dup_elem(gc_buf *b, int scalar, int size, int vd, int vn, int index)
{
    put(b, (scalar ? 0x5e000400 : 0x4e000400) | lane_imm5(size, index) << 16 | RN(vn) | RD(vd));
}

/* mov vd.T[di], vn.T[si]   (ins: 0 1 1 01110000 imm5 0 imm4 1 Rn Rd) */
void a64_ins_elem(gc_buf *b, int size, int vd, int di, int vn, int si)
{
    put(b, 0x6e000400 | lane_imm5(size, di) << 16 | (uint32_t)(si << size & 15) << 11 | RN(vn) |
               RD(vd));
}

/* shl vd.T, vn.T, #s (0 1 0 011110 immh:immb 01010 1 Rn Rd, immh:immb =
   width + s) | sshr / ushr #s (0 1 U 011110 immh:immb 00000 1 Rn Rd,
   immh:immb = 2 * width - s) */
void a64_vshift_imm(gc_buf *b, int kind, int size, int vd, int vn, int shift)
{
    uint32_t w = 8u << size;
    uint32_t ihb = kind == 0 ? w + (uint32_t)shift : 2 * w - (uint32_t)shift;
    put(b, (kind == 0 ? 0x4f005400 : kind == 1 ? 0x4f000400 : 0x6f000400) | (ihb & 127) << 16 |
               RN(vn) | RD(vd));
}

/* zip1: 0 1 0 01110 size 0 Rm 0 011 10 Rn Rd */
void a64_zip1(gc_buf *b, int size, int vd, int vn, int vm)
{
    put(b, 0x4e003800 | (uint32_t)size << 22 | RM(vm) | RN(vn) | RD(vd));
}

/* addv: 0 1 0 01110 size 11000 11011 10 Rn Rd */
void a64_addv(gc_buf *b, int size, int vd, int vn)
{
    put(b, 0x4e31b800 | (uint32_t)size << 22 | RN(vn) | RD(vd));
}
