/*
 * simd.c - a portable, exact C implementation of the WebAssembly 2.0
 * fixed-width SIMD instructions (0xfd prefix) that do not touch memory,
 * called by generated code as a runtime helper:
 *
 *   void rt_simd(void *vm, uint32_t op_imm, void *res,
 *                const void *a, const void *b, const void *c);
 *
 * op_imm: bits 0-15 the GOP_* opcode, bits 16-23 the lane index
 * (extract/replace_lane), bit 24 deterministic mode (every NaN an
 * arithmetic float operation produces is the positive canonical NaN).
 * a, b, c: the operands in wasm order (a the deepest), as many as the op
 * pops; i8x16.shuffle's 16 lane indices are in c.  Every pointer points at
 * the value's bytes in host (little-endian) memory: a v128 is 16 bytes,
 * lane 0 first; an i32/f32 4 bytes, an i64/f64 8.  Scalar results take 8
 * bytes (an i32 or f32 zero-extended), v128 results 16.  res may alias an
 * operand.  vm is unused.
 *
 * The operands' and the result's sizes come from the op's signature in
 * gop_table; lane loops are macros over a union of lane arrays, one set of
 * cases per lane shape.  pmin, pmax, abs, neg, splat and the lane moves
 * copy bits; the arithmetic float ops end with a pass that makes every NaN
 * lane quiet (or canonical in deterministic mode).  Any other op writes
 * zeros, as many bytes as its signature's result; an opcode out of range
 * or without a signature writes nothing.
 */
#include <stdint.h>
#include <string.h>
#include <tgmath.h>

#include "../compiler/compiler.h"

void rt_simd(void *vm, uint32_t op_imm, void *res, const void *a, const void *b, const void *c);

typedef union v128 {
    int8_t i8[16];
    uint8_t u8[16];
    int16_t i16[8];
    uint16_t u16[8];
    int32_t i32[4];
    uint32_t u32[4];
    int64_t i64[2];
    uint64_t u64[2];
    float f32[4];
    double f64[2];
} v128;

#define RT_SIMD_DETERMINISTIC (1u << 24)

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
    return v < lo ? lo : v > hi ? hi : v;
}

/* Arithmetic shift right without relying on implementation-defined >>. */
static int64_t sar(int64_t v, unsigned k)
{
    return v < 0 ? ~(~v >> k) : v >> k;
}

/* trunc_sat to i32/u32 (float lanes are exact in double). */
static int32_t sat_s32(double v)
{
    return isnan(v) ? 0 : v <= -2147483649.0 ? INT32_MIN
         : v >= 2147483648.0 ? INT32_MAX : (int32_t)v;
}

static uint32_t sat_u32(double v)
{
    return isnan(v) || v <= -1.0 ? 0 : v >= 4294967296.0 ? UINT32_MAX : (uint32_t)v;
}

static unsigned operand_size(char t)
{
    return t == 'V' ? 16 : t == 'I' || t == 'F' ? 8 : 4;
}

/* r.T[i] = e for each of n lanes; e reads x, y (z) and i. */
#define EACH(n)      for (int i = 0; i < (n); i++)
#define MAP(T, n, e) EACH(n) r.T[i] = (e)
#define BOOL(e)      (-(int)(e))       /* a comparison lane: all ones or zero */

/* wasm min/max: NaN if either is, -0 < +0. */
#define WMIN(p, q) (isnan(p) || isnan(q) ? (p) + (q) : (p) == (q) ? (signbit(p) ? (p) : (q)) \
                    : (p) < (q) ? (p) : (q))
#define WMAX(p, q) (isnan(p) || isnan(q) ? (p) + (q) : (p) == (q) ? (signbit(p) ? (q) : (p)) \
                    : (p) > (q) ? (p) : (q))

/* Every integer shape: P the opcode prefix, N lanes of W bits, S/U the
   signed and unsigned lane arrays.  Wrapping arithmetic is done unsigned. */
#define INT_SHAPE(P, N, W, S, U) \
    case GOP_##P##_SPLAT:    MAP(U, N, x.U[0]); break; \
    case GOP_##P##_EQ:       MAP(S, N, BOOL(x.S[i] == y.S[i])); break; \
    case GOP_##P##_NE:       MAP(S, N, BOOL(x.S[i] != y.S[i])); break; \
    case GOP_##P##_LT_S:     MAP(S, N, BOOL(x.S[i] < y.S[i])); break; \
    case GOP_##P##_GT_S:     MAP(S, N, BOOL(x.S[i] > y.S[i])); break; \
    case GOP_##P##_LE_S:     MAP(S, N, BOOL(x.S[i] <= y.S[i])); break; \
    case GOP_##P##_GE_S:     MAP(S, N, BOOL(x.S[i] >= y.S[i])); break; \
    case GOP_##P##_ADD:      MAP(U, N, x.U[i] + y.U[i]); break; \
    case GOP_##P##_SUB:      MAP(U, N, x.U[i] - y.U[i]); break; \
    case GOP_##P##_NEG:      MAP(U, N, 0u - x.U[i]); break; \
    case GOP_##P##_ABS:      MAP(U, N, x.S[i] < 0 ? 0u - x.U[i] : x.U[i]); break; \
    case GOP_##P##_SHL:      MAP(U, N, x.U[i] << (y.u32[0] & (W - 1))); break; \
    case GOP_##P##_SHR_S:    MAP(S, N, sar(x.S[i], y.u32[0] & (W - 1))); break; \
    case GOP_##P##_SHR_U:    MAP(U, N, x.U[i] >> (y.u32[0] & (W - 1))); break; \
    case GOP_##P##_ALL_TRUE: r.u32[0] = 1; EACH(N) r.u32[0] &= x.U[i] != 0; break; \
    case GOP_##P##_BITMASK:  EACH(N) r.u32[0] |= (uint32_t)(x.S[i] < 0) << i; break;

/* i8x16, i16x8, i32x4: unsigned compares, min, max. */
#define INT_ORDER(P, N, S, U) \
    case GOP_##P##_LT_U:  MAP(S, N, BOOL(x.U[i] < y.U[i])); break; \
    case GOP_##P##_GT_U:  MAP(S, N, BOOL(x.U[i] > y.U[i])); break; \
    case GOP_##P##_LE_U:  MAP(S, N, BOOL(x.U[i] <= y.U[i])); break; \
    case GOP_##P##_GE_U:  MAP(S, N, BOOL(x.U[i] >= y.U[i])); break; \
    case GOP_##P##_MIN_S: MAP(S, N, x.S[i] < y.S[i] ? x.S[i] : y.S[i]); break; \
    case GOP_##P##_MIN_U: MAP(U, N, x.U[i] < y.U[i] ? x.U[i] : y.U[i]); break; \
    case GOP_##P##_MAX_S: MAP(S, N, x.S[i] > y.S[i] ? x.S[i] : y.S[i]); break; \
    case GOP_##P##_MAX_U: MAP(U, N, x.U[i] > y.U[i] ? x.U[i] : y.U[i]); break;

/* i8x16, i16x8: saturating add/sub and rounding average (no overflow in int). */
#define INT_SAT(P, N, S, U, SMIN, SMAX, UMAX) \
    case GOP_##P##_ADD_SAT_S: MAP(S, N, clamp(x.S[i] + y.S[i], SMIN, SMAX)); break; \
    case GOP_##P##_ADD_SAT_U: MAP(U, N, clamp(x.U[i] + y.U[i], 0, UMAX)); break; \
    case GOP_##P##_SUB_SAT_S: MAP(S, N, clamp(x.S[i] - y.S[i], SMIN, SMAX)); break; \
    case GOP_##P##_SUB_SAT_U: MAP(U, N, clamp(x.U[i] - y.U[i], 0, UMAX)); break; \
    case GOP_##P##_AVGR_U:    MAP(U, N, (x.U[i] + y.U[i] + 1) >> 1); break;

/* P's N lanes (DS/DU, C types TS/TU) from the low or high half of Q's
   lanes (SS/SU): extend and extmul. */
#define INT_WIDEN(P, Q, N, DS, DU, TS, TU, SS, SU) \
    case GOP_##P##_EXTEND_LOW_##Q##_S:  MAP(DS, N, x.SS[i]); break; \
    case GOP_##P##_EXTEND_HIGH_##Q##_S: MAP(DS, N, x.SS[i + N]); break; \
    case GOP_##P##_EXTEND_LOW_##Q##_U:  MAP(DU, N, x.SU[i]); break; \
    case GOP_##P##_EXTEND_HIGH_##Q##_U: MAP(DU, N, x.SU[i + N]); break; \
    case GOP_##P##_EXTMUL_LOW_##Q##_S:  MAP(DS, N, (TS)x.SS[i] * y.SS[i]); break; \
    case GOP_##P##_EXTMUL_HIGH_##Q##_S: MAP(DS, N, (TS)x.SS[i + N] * y.SS[i + N]); break; \
    case GOP_##P##_EXTMUL_LOW_##Q##_U:  MAP(DU, N, (TU)x.SU[i] * y.SU[i]); break; \
    case GOP_##P##_EXTMUL_HIGH_##Q##_U: MAP(DU, N, (TU)x.SU[i + N] * y.SU[i + N]); break;

/* i16x8 from i8x16 and i32x4 from i16x8: pairwise add, and narrow (P's N
   lanes from a's then b's signed Q lanes, saturated). */
#define INT_PAIR(P, Q, N, DS, DU, SS, SU, SMIN, SMAX, UMAX) \
    case GOP_##P##_EXTADD_PAIRWISE_##Q##_S: MAP(DS, N, x.SS[2 * i] + x.SS[2 * i + 1]); break; \
    case GOP_##P##_EXTADD_PAIRWISE_##Q##_U: MAP(DU, N, x.SU[2 * i] + x.SU[2 * i + 1]); break; \
    case GOP_##Q##_NARROW_##P##_S: \
        MAP(SS, N * 2, clamp(i < N ? x.DS[i] : y.DS[i - N], SMIN, SMAX)); break; \
    case GOP_##Q##_NARROW_##P##_U: \
        MAP(SU, N * 2, clamp(i < N ? x.DS[i] : y.DS[i - N], 0, UMAX)); break;

/* f32x4, f64x2: F the float lanes, U/I the same bits unsigned/signed. */
#define FLT_SHAPE(P, N, F, U, I, SIGN) \
    case GOP_##P##_SPLAT:   MAP(U, N, x.U[0]); break; \
    case GOP_##P##_EQ:      MAP(I, N, BOOL(x.F[i] == y.F[i])); break; \
    case GOP_##P##_NE:      MAP(I, N, BOOL(x.F[i] != y.F[i])); break; \
    case GOP_##P##_LT:      MAP(I, N, BOOL(x.F[i] < y.F[i])); break; \
    case GOP_##P##_GT:      MAP(I, N, BOOL(x.F[i] > y.F[i])); break; \
    case GOP_##P##_LE:      MAP(I, N, BOOL(x.F[i] <= y.F[i])); break; \
    case GOP_##P##_GE:      MAP(I, N, BOOL(x.F[i] >= y.F[i])); break; \
    case GOP_##P##_ABS:     MAP(U, N, x.U[i] & ~SIGN); break; \
    case GOP_##P##_NEG:     MAP(U, N, x.U[i] ^ SIGN); break; \
    case GOP_##P##_PMIN:    MAP(U, N, y.F[i] < x.F[i] ? y.U[i] : x.U[i]); break; \
    case GOP_##P##_PMAX:    MAP(U, N, x.F[i] < y.F[i] ? y.U[i] : x.U[i]); break; \
    case GOP_##P##_ADD:     MAP(F, N, x.F[i] + y.F[i]); fnan = N; break; \
    case GOP_##P##_SUB:     MAP(F, N, x.F[i] - y.F[i]); fnan = N; break; \
    case GOP_##P##_MUL:     MAP(F, N, x.F[i] * y.F[i]); fnan = N; break; \
    case GOP_##P##_DIV:     MAP(F, N, x.F[i] / y.F[i]); fnan = N; break; \
    case GOP_##P##_MIN:     MAP(F, N, WMIN(x.F[i], y.F[i])); fnan = N; break; \
    case GOP_##P##_MAX:     MAP(F, N, WMAX(x.F[i], y.F[i])); fnan = N; break; \
    case GOP_##P##_SQRT:    MAP(F, N, sqrt(x.F[i])); fnan = N; break; \
    case GOP_##P##_CEIL:    MAP(F, N, ceil(x.F[i])); fnan = N; break; \
    case GOP_##P##_FLOOR:   MAP(F, N, floor(x.F[i])); fnan = N; break; \
    case GOP_##P##_TRUNC:   MAP(F, N, trunc(x.F[i])); fnan = N; break; \
    case GOP_##P##_NEAREST: MAP(F, N, rint(x.F[i])); fnan = N; break;   /* ties to even */

/* NaN lanes of an arithmetic result: canonical, or at least quiet. */
static void fix_nan(v128 *r, int lanes, int det)
{
    if (lanes == 4) {
        EACH(4) if ((r->u32[i] & 0x7fffffffu) > 0x7f800000u)
            r->u32[i] = det ? 0x7fc00000u : r->u32[i] | 0x00400000u;
    } else {
        EACH(2) if ((r->u64[i] & 0x7fffffffffffffffu) > 0x7ff0000000000000u)
            r->u64[i] = det ? 0x7ff8000000000000u : r->u64[i] | 0x0008000000000000u;
    }
}

/* The result of op (an 0xfd op that does not touch memory) on x, y, z. */
static v128 eval(unsigned op, uint32_t op_imm, v128 x, v128 y, v128 z)
{
    v128 r = { 0 };
    unsigned lanes = gop_table[op].x ? gop_table[op].x : 1;  /* lane ops' lane count */
    unsigned lane = (op_imm >> 16 & 0xff) & (lanes - 1), lsize = 16 / lanes;
    int fnan = 0;                                /* lanes to check for NaN */
    switch (op) {
    INT_SHAPE(I8X16, 16, 8, i8, u8)
    INT_SHAPE(I16X8, 8, 16, i16, u16)
    INT_SHAPE(I32X4, 4, 32, i32, u32)
    INT_SHAPE(I64X2, 2, 64, i64, u64)
    INT_ORDER(I8X16, 16, i8, u8)
    INT_ORDER(I16X8, 8, i16, u16)
    INT_ORDER(I32X4, 4, i32, u32)
    INT_SAT(I8X16, 16, i8, u8, INT8_MIN, INT8_MAX, UINT8_MAX)
    INT_SAT(I16X8, 8, i16, u16, INT16_MIN, INT16_MAX, UINT16_MAX)
    INT_WIDEN(I16X8, I8X16, 8, i16, u16, int16_t, uint16_t, i8, u8)
    INT_WIDEN(I32X4, I16X8, 4, i32, u32, int32_t, uint32_t, i16, u16)
    INT_WIDEN(I64X2, I32X4, 2, i64, u64, int64_t, uint64_t, i32, u32)
    INT_PAIR(I16X8, I8X16, 8, i16, u16, i8, u8, INT8_MIN, INT8_MAX, UINT8_MAX)
    INT_PAIR(I32X4, I16X8, 4, i32, u32, i16, u16, INT16_MIN, INT16_MAX, UINT16_MAX)
    FLT_SHAPE(F32X4, 4, f32, u32, i32, 0x80000000u)
    FLT_SHAPE(F64X2, 2, f64, u64, i64, 0x8000000000000000u)

    case GOP_I16X8_MUL: MAP(u16, 8, (uint32_t)x.u16[i] * y.u16[i]); break;
    case GOP_I32X4_MUL: MAP(u32, 4, x.u32[i] * y.u32[i]); break;
    case GOP_I64X2_MUL: MAP(u64, 2, x.u64[i] * y.u64[i]); break;
    case GOP_I8X16_POPCNT:
        EACH(16) for (unsigned v = x.u8[i]; v; v &= v - 1)
            r.u8[i]++;
        break;
    case GOP_I16X8_Q15MULR_SAT_S:
        MAP(i16, 8, clamp(sar((int32_t)x.i16[i] * y.i16[i] + 0x4000, 15), INT16_MIN, INT16_MAX));
        break;
    case GOP_I32X4_DOT_I16X8_S:                  /* wraps at -32768 * -32768 * 2 */
        MAP(u32, 4, (uint32_t)((int64_t)x.i16[2 * i] * y.i16[2 * i]
                               + (int64_t)x.i16[2 * i + 1] * y.i16[2 * i + 1]));
        break;

    /* lanes */
    case GOP_I8X16_EXTRACT_LANE_S: r.i32[0] = x.i8[lane]; break;
    case GOP_I16X8_EXTRACT_LANE_S: r.i32[0] = x.i16[lane]; break;
    case GOP_I8X16_EXTRACT_LANE_U: case GOP_I16X8_EXTRACT_LANE_U:
    case GOP_I32X4_EXTRACT_LANE: case GOP_I64X2_EXTRACT_LANE:
    case GOP_F32X4_EXTRACT_LANE: case GOP_F64X2_EXTRACT_LANE:
        memcpy(r.u8, x.u8 + lane * lsize, lsize);
        break;
    case GOP_I8X16_REPLACE_LANE: case GOP_I16X8_REPLACE_LANE:
    case GOP_I32X4_REPLACE_LANE: case GOP_I64X2_REPLACE_LANE:
    case GOP_F32X4_REPLACE_LANE: case GOP_F64X2_REPLACE_LANE:
        r = x;
        memcpy(r.u8 + lane * lsize, y.u8, lsize);
        break;
    case GOP_I8X16_SHUFFLE:
        MAP(u8, 16, (z.u8[i] & 31) < 16 ? x.u8[z.u8[i] & 15] : y.u8[z.u8[i] & 15]);
        break;
    case GOP_I8X16_SWIZZLE: MAP(u8, 16, y.u8[i] < 16 ? x.u8[y.u8[i]] : 0); break;

    /* bitwise */
    case GOP_V128_NOT:       MAP(u64, 2, ~x.u64[i]); break;
    case GOP_V128_AND:       MAP(u64, 2, x.u64[i] & y.u64[i]); break;
    case GOP_V128_ANDNOT:    MAP(u64, 2, x.u64[i] & ~y.u64[i]); break;
    case GOP_V128_OR:        MAP(u64, 2, x.u64[i] | y.u64[i]); break;
    case GOP_V128_XOR:       MAP(u64, 2, x.u64[i] ^ y.u64[i]); break;
    case GOP_V128_BITSELECT: MAP(u64, 2, (x.u64[i] & z.u64[i]) | (y.u64[i] & ~z.u64[i])); break;
    case GOP_V128_ANY_TRUE:  r.u32[0] = (x.u64[0] | x.u64[1]) != 0; break;

    /* conversions */
    case GOP_I32X4_TRUNC_SAT_F32X4_S:      MAP(i32, 4, sat_s32(x.f32[i])); break;
    case GOP_I32X4_TRUNC_SAT_F32X4_U:      MAP(u32, 4, sat_u32(x.f32[i])); break;
    case GOP_I32X4_TRUNC_SAT_F64X2_S_ZERO: MAP(i32, 2, sat_s32(x.f64[i])); break;
    case GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO: MAP(u32, 2, sat_u32(x.f64[i])); break;
    case GOP_F32X4_CONVERT_I32X4_S:        MAP(f32, 4, (float)x.i32[i]); break;
    case GOP_F32X4_CONVERT_I32X4_U:        MAP(f32, 4, (float)x.u32[i]); break;
    case GOP_F64X2_CONVERT_LOW_I32X4_S:    MAP(f64, 2, x.i32[i]); break;
    case GOP_F64X2_CONVERT_LOW_I32X4_U:    MAP(f64, 2, x.u32[i]); break;
    case GOP_F32X4_DEMOTE_F64X2_ZERO:      MAP(f32, 2, (float)x.f64[i]); fnan = 4; break;
    case GOP_F64X2_PROMOTE_LOW_F32X4:      MAP(f64, 2, x.f32[i]); fnan = 2; break;
    default:
        break;                                   /* unknown: zeros */
    }
    if (fnan)
        fix_nan(&r, fnan, (op_imm & RT_SIMD_DETERMINISTIC) != 0);
    return r;
}

void rt_simd(void *vm, uint32_t op_imm, void *res, const void *a, const void *b, const void *c)
{
    (void)vm;
    unsigned op = op_imm & 0xffff;
    if (op >= GOP_COUNT || !gop_table[op].sig)
        return;                                  /* no size known: nothing to write */
    const gop_info *oi = &gop_table[op];
    const char *sig = oi->sig, *out = strchr(sig, ':');
    unsigned rsize = out && out[1] ? (out[1] == 'V' ? 16 : 8) : 0;
    v128 r = { 0 };
    if (oi->prefix == 0xfd && oi->imm != GIMM_MEMARG && oi->imm != GIMM_MEMARG_LANE
        && oi->imm != GIMM_V128) {
        /* Read every operand before res is written (it may alias one). */
        v128 x = { 0 }, y = { 0 }, z = { 0 }, *in[3] = { &x, &y, &z };
        const void *src[3] = { a, b, c };
        for (int k = 0; k < 3 && sig[k] && sig[k] != ':'; k++)
            memcpy(in[k], src[k], operand_size(sig[k]));
        if (op == GOP_I8X16_SHUFFLE)
            memcpy(&z, c, 16);
        r = eval(op, op_imm, x, y, z);
    }                                            /* else not ours: zeros */
    memcpy(res, &r, rsize);
}
