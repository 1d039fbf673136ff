/* unit_simd.c - rt_simd, the portable 0xfd helper: saturation, narrowing,
   widening products, shift counts, float NaN and signed-zero rules in both
   NaN modes, rounding, saturating truncation, lanes, shuffles, booleans.
   Every expected value is worked out from the spec, not from the code. */
#include <math.h>

#include "unit.h"
#include "../libgate.h"

void rt_simd(void *vm, uint32_t op_imm, void *res, const void *a, const void *b, const void *c);

#define DET (1u << 24)
#define LANE(n) ((uint32_t)(n) << 16)

typedef union vec {
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
} vec;

#define I8(...)  ((vec){ .i8 = { __VA_ARGS__ } })
#define U8(...)  ((vec){ .u8 = { __VA_ARGS__ } })
#define I16(...) ((vec){ .i16 = { __VA_ARGS__ } })
#define U16(...) ((vec){ .u16 = { __VA_ARGS__ } })
#define I32(...) ((vec){ .i32 = { __VA_ARGS__ } })
#define U32(...) ((vec){ .u32 = { __VA_ARGS__ } })
#define I64(...) ((vec){ .i64 = { __VA_ARGS__ } })
#define U64(...) ((vec){ .u64 = { __VA_ARGS__ } })
#define F32(...) ((vec){ .f32 = { __VA_ARGS__ } })
#define F64(...) ((vec){ .f64 = { __VA_ARGS__ } })
#define NONE     ((vec){ .u8 = { 0 } })

#define CANON32 0x7fc00000u
#define CANON64 0x7ff8000000000000u

/* The result of op on a, b, c, written over a 0xaa-filled vector. */
static vec run(uint32_t op, vec a, vec b, vec c)
{
    vec r;
    memset(&r, 0xaa, sizeof r);
    rt_simd(NULL, op, &r, &a, &b, &c);
    return r;
}
#define R1(op, a)       run(op, a, NONE, NONE)
#define R2(op, a, b)    run(op, a, b, NONE)
#define SAME(got, want) do { vec g_ = (got), w_ = (want); \
        assert_memory_equal(&g_, &w_, sizeof g_); } while (0)

/* A scalar result: 8 bytes written, nothing past them. */
static uint64_t run_scalar(uint32_t op, vec a)
{
    vec r = run(op, a, NONE, NONE);
    assert_int_equal(r.u64[1], 0xaaaaaaaaaaaaaaaau);
    return r.u64[0];
}

static bool qnan32(uint32_t v) { return (v & 0x7fc00000u) == 0x7fc00000u; }
static bool qnan64(uint64_t v) { return (v & CANON64) == CANON64; }

static void saturating(void **state)
{
    (void)state;
    vec a = I8(127, -128, 100, -100, 127, -128, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    vec b = I8(1, -1, 27, -29, -1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
    SAME(R2(GOP_I8X16_ADD_SAT_S, a, b), I8(127, -128, 127, -128, 126, -127));
    SAME(R2(GOP_I8X16_SUB_SAT_S, a, b), I8(126, -127, 73, -71, 127, -128));
    SAME(R2(GOP_I8X16_ADD, a, b), I8(-128, 127, 127, 127, 126, -127));   /* wraps */
    SAME(R2(GOP_I8X16_ADD_SAT_U, U8(250, 3, 255), U8(10, 4, 255)), U8(255, 7, 255));
    SAME(R2(GOP_I8X16_SUB_SAT_U, U8(3, 10, 0), U8(4, 3, 255)), U8(0, 7, 0));
    SAME(R2(GOP_I16X8_ADD_SAT_S, I16(32767, -32768, 5), I16(1, -1, -7)), I16(32767, -32768, -2));
    SAME(R2(GOP_I16X8_SUB_SAT_S, I16(-32768, 32767), I16(1, -1)), I16(-32768, 32767));
    SAME(R2(GOP_I16X8_ADD_SAT_U, U16(65535, 65000), U16(1, 535)), U16(65535, 65535));
    SAME(R2(GOP_I16X8_SUB_SAT_U, U16(0, 9), U16(1, 4)), U16(0, 5));
    /* avgr_u rounds up and cannot overflow */
    SAME(R2(GOP_I8X16_AVGR_U, U8(255, 0, 1, 254), U8(255, 1, 2, 255)), U8(255, 1, 2, 255));
    SAME(R2(GOP_I16X8_AVGR_U, U16(65535, 2), U16(65535, 5)), U16(65535, 4));
    /* abs and neg wrap at the minimum */
    SAME(R1(GOP_I8X16_ABS, I8(-128, -5, 5, 0)), I8(-128, 5, 5, 0));
    SAME(R1(GOP_I8X16_NEG, I8(-128, -5, 5, 0)), I8(-128, 5, -5, 0));
    SAME(R1(GOP_I64X2_ABS, I64(INT64_MIN, -7)), I64(INT64_MIN, 7));
    SAME(R1(GOP_I32X4_NEG, I32(INT32_MIN, 1)), I32(INT32_MIN, -1));
}

static void narrowing(void **state)
{
    (void)state;
    vec a = I16(300, -300, 127, -128, 0, 1, -1, 32767);
    vec b = I16(-32768, 128, -129, 255, 256, 2, -2, 126);
    SAME(R2(GOP_I8X16_NARROW_I16X8_S, a, b),
         I8(127, -128, 127, -128, 0, 1, -1, 127, -128, 127, -128, 127, 127, 2, -2, 126));
    SAME(R2(GOP_I8X16_NARROW_I16X8_U, a, b),
         U8(255, 0, 127, 0, 0, 1, 0, 255, 0, 128, 0, 255, 255, 2, 0, 126));
    SAME(R2(GOP_I16X8_NARROW_I32X4_S, I32(70000, -70000, 5, -5), I32(32768, -32769, 32767, 0)),
         I16(32767, -32768, 5, -5, 32767, -32768, 32767, 0));
    SAME(R2(GOP_I16X8_NARROW_I32X4_U, I32(70000, -70000, 5, -5), I32(65535, 65536, -1, 40000)),
         U16(65535, 0, 5, 0, 65535, 65535, 0, 40000));
}

static void products(void **state)
{
    (void)state;
    /* q15mulr: sat((a*b + 0x4000) >> 15), the shift arithmetic */
    SAME(R2(GOP_I16X8_Q15MULR_SAT_S, I16(-32768, 16384, -32768, -1, -16385, 32767, -32768, 0),
            I16(-32768, 16384, 32767, 1, 1, 32767, 1, 5)),
         I16(32767, 8192, -32767, 0, -1, 32766, -1, 0));
    /* dot: -32768 * -32768 * 2 = 2^31 wraps */
    SAME(R2(GOP_I32X4_DOT_I16X8_S, I16(-32768, -32768, 1, 2, 3, 4, 100, -100),
            I16(-32768, -32768, 5, 6, 7, 8, 100, 100)),
         I32(INT32_MIN, 17, 53, 0));
    vec a = I8(-128, 127, -1, 2, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, -1);
    vec b = I8(-128, 127, 5, -3, 0, 0, 0, 0, -1, -1, -1, -1, -1, -1, -1, 2);
    SAME(R2(GOP_I16X8_EXTMUL_LOW_I8X16_S, a, b), I16(16384, 16129, -5, -6));
    SAME(R2(GOP_I16X8_EXTMUL_HIGH_I8X16_U, a, b),
         U16(65025, 65025, 65025, 65025, 65025, 65025, 65025, 510));
    SAME(R2(GOP_I16X8_EXTMUL_HIGH_I8X16_S, a, b), I16(1, 1, 1, 1, 1, 1, 1, -2));
    SAME(R2(GOP_I32X4_EXTMUL_HIGH_I16X8_U, U16(0, 0, 0, 0, 65535, 2), U16(0, 0, 0, 0, 65535, 3)),
         U32(0xfffe0001u, 6));
    SAME(R2(GOP_I64X2_EXTMUL_LOW_I32X4_S, I32(INT32_MIN, -3), I32(INT32_MIN, 4)),
         I64(INT64_C(1) << 62, -12));
    SAME(R2(GOP_I64X2_EXTMUL_HIGH_I32X4_U, U32(0, 0, 0xffffffffu, 2), U32(0, 0, 0xffffffffu, 3)),
         U64(0xfffffffe00000001u, 6));
    SAME(R2(GOP_I16X8_MUL, U16(65535, 300), U16(65535, 300)), U16(1, 24464));
    SAME(R2(GOP_I64X2_MUL, U64(UINT64_C(1) << 63, 3), U64(2, 5)), U64(0, 15));
    /* pairwise and extends */
    SAME(R1(GOP_I16X8_EXTADD_PAIRWISE_I8X16_S, I8(-128, -128, 127, 127, -1, 1)), I16(-256, 254, 0));
    SAME(R1(GOP_I16X8_EXTADD_PAIRWISE_I8X16_U, U8(255, 255, 1, 2)), U16(510, 3));
    SAME(R1(GOP_I32X4_EXTADD_PAIRWISE_I16X8_U, U16(65535, 65535)), U32(131070));
    SAME(R1(GOP_I32X4_EXTADD_PAIRWISE_I16X8_S, I16(-32768, -32768, 1, -2)), I32(-65536, -1));
    vec e = U8(0xff, 0x80, 1, 0, 0, 0, 0, 0, 0xff, 0x7f, 0x80, 0, 0, 0, 0, 0);
    SAME(R1(GOP_I16X8_EXTEND_LOW_I8X16_U, e), U16(255, 128, 1));
    SAME(R1(GOP_I16X8_EXTEND_HIGH_I8X16_S, e), I16(-1, 127, -128));
    SAME(R1(GOP_I64X2_EXTEND_HIGH_I32X4_U, U32(0, 0, 0xffffffffu, 0x80000000u)),
         U64(0xffffffffu, 0x80000000u));
    SAME(R1(GOP_I64X2_EXTEND_HIGH_I32X4_S, U32(0, 0, 0xffffffffu, 0x80000000u)),
         I64(-1, INT32_MIN));
}

static void shifts(void **state)
{
    (void)state;
    vec a = U8(0x81, 0x80, 0x40, 0x01);
    SAME(R2(GOP_I8X16_SHL, a, U32(9)), U8(0x02, 0x00, 0x80, 0x02));      /* 9 mod 8 = 1 */
    SAME(R2(GOP_I8X16_SHR_S, a, U32(8)), a);                            /* 8 mod 8 = 0 */
    SAME(R2(GOP_I8X16_SHR_S, a, U32(15)), I8(-1, -1, 0, 0));
    SAME(R2(GOP_I8X16_SHR_U, a, U32(0xffffffffu)), U8(1, 1, 0, 0));
    SAME(R2(GOP_I16X8_SHL, U16(0x8001, 3), U32(16)), U16(0x8001, 3));
    SAME(R2(GOP_I16X8_SHR_S, I16(-32768, 5), U32(31)), I16(-1, 0));
    SAME(R2(GOP_I32X4_SHR_S, I32(-3, -4, 7, INT32_MIN), U32(33)), I32(-2, -2, 3, -1073741824));
    SAME(R2(GOP_I32X4_SHL, U32(0xffffffffu, 1), U32(63)), U32(0x80000000u, 0x80000000u));
    SAME(R2(GOP_I64X2_SHL, U64(5, UINT64_C(1) << 63), U32(64)), U64(5, UINT64_C(1) << 63));
    SAME(R2(GOP_I64X2_SHR_U, U64(UINT64_C(1) << 63, 5), U32(127)), U64(1, 0));
    SAME(R2(GOP_I64X2_SHR_S, I64(INT64_MIN, -1), U32(127)), I64(-1, -1));
}

static void float_min_max(void **state)
{
    (void)state;
    /* lanes: qNaN vs 1, -0 vs +0, 1 vs sNaN, -inf vs 2 */
    vec a = U32(0x7fc00001u, 0x80000000u, 0x3f800000u, 0xff800000u);
    vec b = U32(0x3f800000u, 0x00000000u, 0x7fa00000u, 0x40000000u);
    vec r = R2(GOP_F32X4_MIN, a, b);
    assert_true(qnan32(r.u32[0]) && qnan32(r.u32[2]));
    assert_int_equal(r.u32[1], 0x80000000u);
    assert_int_equal(r.u32[3], 0xff800000u);
    SAME(R2(GOP_F32X4_MIN | DET, a, b), U32(CANON32, 0x80000000u, CANON32, 0xff800000u));
    SAME(R2(GOP_F32X4_MIN | DET, b, a), U32(CANON32, 0x80000000u, CANON32, 0xff800000u));
    SAME(R2(GOP_F32X4_MAX | DET, a, b), U32(CANON32, 0, CANON32, 0x40000000u));
    SAME(R2(GOP_F32X4_MAX | DET, b, a), U32(CANON32, 0, CANON32, 0x40000000u));
    r = R2(GOP_F32X4_MAX, b, a);
    assert_true(qnan32(r.u32[0]) && qnan32(r.u32[2]));
    assert_int_equal(r.u32[1], 0);
    /* f64: a negative sNaN becomes the positive canonical NaN */
    vec c = U64(0xfff4000000000000u, 0x0000000000000000u);
    vec d = U64(0x3ff0000000000000u, 0x8000000000000000u);
    SAME(R2(GOP_F64X2_MAX | DET, c, d), U64(CANON64, 0));
    SAME(R2(GOP_F64X2_MIN | DET, c, d), U64(CANON64, 0x8000000000000000u));
    r = R2(GOP_F64X2_MIN, c, d);
    assert_true(qnan64(r.u64[0]));
    /* pmin/pmax, abs, neg copy bits, NaN payloads included, in any mode */
    vec p = U32(0x7fa00001u, 0x3f800000u, 0x80000000u, 0x00000000u);
    vec q = U32(0x3f800000u, 0x7fa00001u, 0x00000000u, 0x80000000u);
    SAME(R2(GOP_F32X4_PMIN | DET, p, q), U32(0x7fa00001u, 0x3f800000u, 0x80000000u, 0));
    SAME(R2(GOP_F32X4_PMAX | DET, p, q), U32(0x7fa00001u, 0x3f800000u, 0x80000000u, 0));
    SAME(R2(GOP_F32X4_PMAX, F32(1, 2, 3, 4), F32(2, 1, 3, 5)), F32(2, 2, 3, 5));
    SAME(R1(GOP_F32X4_NEG | DET, p), U32(0xffa00001u, 0xbf800000u, 0, 0x80000000u));
    SAME(R1(GOP_F64X2_ABS | DET, U64(0xfff4000000000001u, 0x8000000000000000u)),
         U64(0x7ff4000000000001u, 0));
    /* arithmetic NaNs */
    vec inf = F32(INFINITY, 0, 1, -1);
    vec ninf = F32(-INFINITY, 0, 0, 4);
    SAME(R2(GOP_F32X4_ADD | DET, inf, ninf), U32(CANON32, 0, 0x3f800000u, 0x40400000u));
    SAME(R2(GOP_F32X4_DIV | DET, inf, ninf), U32(CANON32, CANON32, 0x7f800000u, 0xbe800000u));
    r = R2(GOP_F32X4_ADD, U32(0x7fa00000u, 0xffa00000u), F32(1, 1));
    assert_true(qnan32(r.u32[0]) && qnan32(r.u32[1]));
    r = R2(GOP_F64X2_MUL, U64(0x7ff0000000000001u), F64(2, 3));
    assert_true(qnan64(r.u64[0]));
    SAME(R1(GOP_F64X2_SQRT | DET, F64(-1, 4)), U64(CANON64, 0x4000000000000000u));
}

static void rounding(void **state)
{
    (void)state;
    SAME(R1(GOP_F32X4_NEAREST, F32(0.5f, 1.5f, 2.5f, -0.5f)), U32(0, 0x40000000u, 0x40000000u, 0x80000000u));
    SAME(R1(GOP_F64X2_NEAREST, F64(2.5, -1.5)), F64(2, -2));
    SAME(R1(GOP_F64X2_NEAREST, F64(4503599627370497.0, -3.5)), F64(4503599627370497.0, -4));
    SAME(R1(GOP_F32X4_CEIL, F32(-0.5f, 1.1f, -1.5f, 7)), U32(0x80000000u, 0x40000000u, 0xbf800000u, 0x40e00000u));
    SAME(R1(GOP_F32X4_FLOOR, F32(-0.5f, 1.9f, -0.0f, 8388609)), F32(-1, 1, -0.0f, 8388609));
    SAME(R1(GOP_F32X4_TRUNC, F32(-1.7f, 1.7f, -0.2f, 0)), U32(0xbf800000u, 0x3f800000u, 0x80000000u, 0));
    SAME(R1(GOP_F64X2_CEIL, F64(-0.2, 2.000001)), U64(0x8000000000000000u, 0x4008000000000000u));
    SAME(R1(GOP_F64X2_FLOOR | DET, U64(0x7ff4000000000000u, 0xbfe0000000000000u)), U64(CANON64, 0xbff0000000000000u));
    SAME(R1(GOP_F64X2_TRUNC | DET, U64(0xfff8000000000000u, 0x4004000000000000u)), U64(CANON64, 0x4000000000000000u));
    SAME(R1(GOP_F32X4_SQRT, F32(4, 2.25f, 0, -0.0f)), U32(0x40000000u, 0x3fc00000u, 0, 0x80000000u));
}

static void conversions(void **state)
{
    (void)state;
    SAME(R1(GOP_I32X4_TRUNC_SAT_F32X4_S, F32(NAN, INFINITY, 2147483648.0f, -INFINITY)),
         I32(0, INT32_MAX, INT32_MAX, INT32_MIN));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F32X4_S, F32(-2147483648.0f, 1.9f, -1.9f, -2147483904.0f)),
         I32(INT32_MIN, 1, -1, INT32_MIN));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F32X4_U, F32(NAN, -1.5f, 4294967296.0f, 4294967040.0f)),
         U32(0, 0, UINT32_MAX, 4294967040u));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F32X4_U, F32(-0.9f, INFINITY, -INFINITY, 2.99f)), U32(0, UINT32_MAX, 0, 2));
    /* the _zero forms clear lanes 2 and 3 */
    SAME(R1(GOP_I32X4_TRUNC_SAT_F64X2_S_ZERO, F64(-2147483649.0, 2147483647.9)), I32(INT32_MIN, INT32_MAX, 0, 0));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F64X2_S_ZERO, F64(-2147483648.9, NAN)), I32(INT32_MIN, 0, 0, 0));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO, F64(4294967295.9, -0.99)), U32(UINT32_MAX, 0, 0, 0));
    SAME(R1(GOP_I32X4_TRUNC_SAT_F64X2_U_ZERO, F64(4294967296.0, 1e300)), U32(UINT32_MAX, UINT32_MAX, 0, 0));
    SAME(R1(GOP_F32X4_CONVERT_I32X4_U, U32(0xffffffffu, 0x80000001u, 16777217, 0)),
         F32(4294967296.0f, 2147483648.0f, 16777216.0f, 0));
    SAME(R1(GOP_F32X4_CONVERT_I32X4_S, I32(-1, INT32_MIN, 16777219, INT32_MAX)),
         F32(-1, -2147483648.0f, 16777220.0f, 2147483648.0f));
    SAME(R1(GOP_F64X2_CONVERT_LOW_I32X4_U, U32(0xffffffffu, 1, 7, 7)), F64(4294967295.0, 1));
    SAME(R1(GOP_F64X2_CONVERT_LOW_I32X4_S, I32(-1, INT32_MIN, 7, 7)), F64(-1, -2147483648.0));
    /* demote rounds to nearest and clears lanes 2, 3; promote is exact */
    SAME(R1(GOP_F32X4_DEMOTE_F64X2_ZERO, F64(1e300, 0.1)), U32(0x7f800000u, 0x3dcccccdu, 0, 0));
    SAME(R1(GOP_F32X4_DEMOTE_F64X2_ZERO | DET, U64(0x7ff4000000000000u, 0xfff8000000000000u)),
         U32(CANON32, CANON32, 0, 0));
    vec r = R1(GOP_F32X4_DEMOTE_F64X2_ZERO, U64(0x7ff4000000000000u, 0xc000000000000000u));
    assert_true(qnan32(r.u32[0]));
    assert_int_equal(r.u32[1], 0xc0000000u);
    assert_int_equal(r.u64[1], 0);
    SAME(R1(GOP_F64X2_PROMOTE_LOW_F32X4, U32(0x3dcccccdu, 0x80000000u, 1, 1)),
         U64(0x3fb99999a0000000u, 0x8000000000000000u));
    SAME(R1(GOP_F64X2_PROMOTE_LOW_F32X4 | DET, U32(0xff800001u, 0x7f800000u)), U64(CANON64, 0x7ff0000000000000u));
}

static void bits_and_booleans(void **state)
{
    (void)state;
    SAME(R1(GOP_I8X16_POPCNT, U8(0, 1, 0xff, 0x80, 0x55, 0x0f, 0xfe, 3)), U8(0, 1, 8, 1, 4, 4, 7, 2));
    vec m = U8(0x80, 0x7f, 0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x81);
    assert_int_equal(run_scalar(GOP_I8X16_BITMASK, m), 0x8009);
    assert_int_equal(run_scalar(GOP_I16X8_BITMASK, I16(-1, 1, 0, -32768, 0, 0, 0, -2)), 0x89);
    assert_int_equal(run_scalar(GOP_I32X4_BITMASK, I32(-1, 0, 0x7fffffff, INT32_MIN)), 9);
    assert_int_equal(run_scalar(GOP_I64X2_BITMASK, I64(0, -1)), 2);
    assert_int_equal(run_scalar(GOP_I8X16_ALL_TRUE, m), 0);
    assert_int_equal(run_scalar(GOP_I8X16_ALL_TRUE, U8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 0x80)), 1);
    assert_int_equal(run_scalar(GOP_I16X8_ALL_TRUE, U16(1, 1, 1, 1, 1, 1, 1, 0x100)), 1);
    assert_int_equal(run_scalar(GOP_I32X4_ALL_TRUE, U32(1, 1, 0, 1)), 0);
    assert_int_equal(run_scalar(GOP_I64X2_ALL_TRUE, U64(UINT64_C(1) << 63, 1)), 1);
    assert_int_equal(run_scalar(GOP_I64X2_ALL_TRUE, U64(0, 0xffffffff00000000u)), 0);
    assert_int_equal(run_scalar(GOP_V128_ANY_TRUE, NONE), 0);
    assert_int_equal(run_scalar(GOP_V128_ANY_TRUE, U8([15] = 0x10)), 1);
    /* bitselect takes a's bits where c is set */
    SAME(run(GOP_V128_BITSELECT, U64(0xff00ff00ff00ff00u, 0x1111111111111111u),
             U64(0x00ff00ff00ff00ffu, 0x2222222222222222u), U64(0xf0f0f0f0f0f0f0f0u, 0xffffffff00000000u)),
         U64(0xf00ff00ff00ff00fu, 0x1111111122222222u));
    SAME(R2(GOP_V128_ANDNOT, U64(0xffu, 0xf0u), U64(0x0fu, 0xffu)), U64(0xf0u, 0));
    SAME(R1(GOP_V128_NOT, U64(0, 0x0123456789abcdefu)), U64(UINT64_MAX, 0xfedcba9876543210u));
    /* comparisons: all ones or zero; floats ordered, ne true for NaN */
    SAME(R2(GOP_I8X16_LT_U, U8(0x80, 1), U8(1, 0x80)), U8(0, 0xff, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0));
    SAME(R2(GOP_I8X16_LT_S, U8(0x80, 1), U8(1, 0x80)), U8(0xff, 0));
    SAME(R2(GOP_I64X2_GT_S, I64(-1, 5), I64(-2, 5)), I64(-1, 0));
    SAME(R2(GOP_I32X4_GE_U, U32(0xffffffffu, 0, 3, 2), U32(1, 0, 4, 2)), I32(-1, -1, 0, -1));
    SAME(R2(GOP_F32X4_EQ, F32(NAN, 0.0f, 1, 2), F32(NAN, -0.0f, 1, 3)), I32(0, -1, -1, 0));
    SAME(R2(GOP_F32X4_NE, F32(NAN, 0.0f, 1, 2), F32(NAN, -0.0f, 1, 3)), I32(-1, 0, 0, -1));
    SAME(R2(GOP_F64X2_LE, F64(NAN, 1), F64(1, 1)), I64(0, -1));
    SAME(R2(GOP_F64X2_GT, F64(INFINITY, 1), F64(NAN, 0)), I64(0, -1));
}

static void lanes(void **state)
{
    (void)state;
    vec a = U8(0x10, 0x11, 0x12, 0x13, 0x14, 0x80, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x1f);
    SAME(R2(GOP_I8X16_SWIZZLE, a, U8(16, 255, 0, 15, 3, 0x80, 17, 5)),
         U8(0, 0, 0x10, 0x1f, 0x13, 0, 0, 0x80, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10, 0x10));
    vec b = U8(0x20, 0x21, 0x22, 0x23, 0x24, 0x25, 0x26, 0x27, 0x28, 0x29, 0x2a, 0x2b, 0x2c, 0x2d, 0x2e, 0x2f);
    SAME(run(GOP_I8X16_SHUFFLE, a, b, U8(0, 16, 1, 17, 31, 15, 30, 14, 5, 21, 16, 16, 2, 3, 28, 8)),
         U8(0x10, 0x20, 0x11, 0x21, 0x2f, 0x1f, 0x2e, 0x1e, 0x80, 0x25, 0x20, 0x20, 0x12, 0x13, 0x2c, 0x18));
    /* extract: i32 results zero-extended to 8 bytes */
    assert_int_equal(run_scalar(GOP_I8X16_EXTRACT_LANE_S | LANE(5), a), 0xffffff80u);
    assert_int_equal(run_scalar(GOP_I8X16_EXTRACT_LANE_U | LANE(5), a), 0x80);
    assert_int_equal(run_scalar(GOP_I8X16_EXTRACT_LANE_S | LANE(15), a), 0x1f);
    assert_int_equal(run_scalar(GOP_I16X8_EXTRACT_LANE_S | LANE(2), U16(0, 0, 0x8000)), 0xffff8000u);
    assert_int_equal(run_scalar(GOP_I16X8_EXTRACT_LANE_U | LANE(2), U16(0, 0, 0x8000)), 0x8000);
    assert_int_equal(run_scalar(GOP_I32X4_EXTRACT_LANE | LANE(3), U32(1, 2, 3, 0xfffffffeu)), 0xfffffffeu);
    assert_int_equal(run_scalar(GOP_I64X2_EXTRACT_LANE | LANE(1), U64(1, 0x8000000000000001u)), 0x8000000000000001u);
    assert_int_equal(run_scalar(GOP_F32X4_EXTRACT_LANE | LANE(3), U32(0, 0, 0, 0xffa00001u)), 0xffa00001u);
    assert_int_equal(run_scalar(GOP_F64X2_EXTRACT_LANE | LANE(0), U64(0x7ff4000000000000u, 1)), 0x7ff4000000000000u);
    /* replace: only the lane's bytes of the scalar */
    SAME(R2(GOP_I8X16_REPLACE_LANE | LANE(15), a, U32(0x1234)),
         U8(0x10, 0x11, 0x12, 0x13, 0x14, 0x80, 0x16, 0x17, 0x18, 0x19, 0x1a, 0x1b, 0x1c, 0x1d, 0x1e, 0x34));
    SAME(R2(GOP_I16X8_REPLACE_LANE | LANE(0), U16(1, 2, 3, 4, 5, 6, 7, 8), U32(0xabcd1234u)),
         U16(0x1234, 2, 3, 4, 5, 6, 7, 8));
    SAME(R2(GOP_F64X2_REPLACE_LANE | LANE(1), F64(1, 2), U64(0x7ff4000000000000u)), U64(0x3ff0000000000000u, 0x7ff4000000000000u));
    SAME(R2(GOP_I64X2_REPLACE_LANE | LANE(0), U64(1, 2), U64(UINT64_MAX)), U64(UINT64_MAX, 2));
    /* splat: the low bytes of the scalar, bits unchanged */
    SAME(R1(GOP_I8X16_SPLAT, U32(0x1ff)), U64(UINT64_MAX, UINT64_MAX));
    SAME(R1(GOP_I16X8_SPLAT, U32(0x12345678u)), U16(0x5678, 0x5678, 0x5678, 0x5678, 0x5678, 0x5678, 0x5678, 0x5678));
    SAME(R1(GOP_F32X4_SPLAT | DET, U32(0x7fa00001u)), U32(0x7fa00001u, 0x7fa00001u, 0x7fa00001u, 0x7fa00001u));
    SAME(R1(GOP_I64X2_SPLAT, U64(0x0102030405060708u)), U64(0x0102030405060708u, 0x0102030405060708u));
}

static void aliasing_and_unknown(void **state)
{
    (void)state;
    /* res may be an operand */
    vec a = I32(1, 2, 3, 4), b = I32(10, 20, 30, 40);
    rt_simd(NULL, GOP_I32X4_SUB, &a, &a, &b, NULL);
    SAME(a, I32(-9, -18, -27, -36));
    rt_simd(NULL, GOP_I32X4_REPLACE_LANE | LANE(2), &a, &a, &b, NULL);
    SAME(a, I32(-9, -18, 10, -36));
    /* b aliasing res, narrowing reads both halves first */
    vec x = I16(1, 2, 3, 4, 5, 6, 7, 8), y = I16(9, 10, 11, 12, 13, 14, 15, 300);
    rt_simd(NULL, GOP_I8X16_NARROW_I16X8_S, &y, &x, &y, NULL);
    SAME(y, I8(1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 127));
    /* not a non-memory SIMD op: zeros as wide as the op's result */
    vec r = run(GOP_V128_LOAD, a, b, b);
    SAME(r, NONE);
    r = run(GOP_I32_ADD, a, b, b);
    assert_int_equal(r.u64[0], 0);
    assert_int_equal(r.u64[1], 0xaaaaaaaaaaaaaaaau);
    r = run(0xffff, a, b, b);
    assert_int_equal(r.u64[0], 0xaaaaaaaaaaaaaaaau);
}


/* ---- the compiled forms against rt_simd --------------------------------- */

static uint8_t val_code(char t)
{
    return t == 'V' ? 0x7b : t == 'i' ? 0x7f : t == 'I' ? 0x7e : t == 'f' ? 0x7d : 0x7c;
}

static bool simd_op(int op)
{
    const gop_info *oi = &gop_table[op];
    return oi->prefix == 0xfd && oi->sig && oi->imm != GIMM_MEMARG &&
           oi->imm != GIMM_MEMARG_LANE && op != GOP_V128_CONST;
}

/* The lane a lane instruction uses in the test module (and shuffle's
   indices): fixed per opcode, different across them. */
static int lane_of(int op)
{
    const gop_info *oi = &gop_table[op];
    return oi->imm == GIMM_LANE ? (op * 7 + 3) % oi->x : 0;
}

static const uint8_t shuffle_ix[16] = { 0, 17, 2, 31, 4, 5, 16, 7, 24, 9, 10, 30, 3, 13, 1, 15 };

/* One exported function per instruction: its operands are the params,
   its result the function's. */
static gate_module *ops_module(gate_engine *eng, int *ops, int *nops)
{
    mb m = { 0 }, types = { 0 }, funcs = { 0 }, exps = { 0 }, code = { 0 };
    int n = 0;
    for (int op = 0; op < GOP_COUNT; op++)
        if (simd_op(op))
            ops[n++] = op;
    *nops = n;
    mb_u32(&types, (uint32_t)n);
    mb_u32(&funcs, (uint32_t)n);
    mb_u32(&exps, (uint32_t)n);
    mb_u32(&code, (uint32_t)n);
    for (int k = 0; k < n; k++) {
        const gop_info *oi = &gop_table[ops[k]];
        const char *sig = oi->sig, *colon = strchr(sig, ':');
        mb_byte(&types, 0x60);
        mb_u32(&types, (uint32_t)(colon - sig));
        for (const char *q = sig; q < colon; q++)
            mb_byte(&types, val_code(*q));
        mb_u32(&types, 1);
        mb_byte(&types, val_code(colon[1]));
        mb_u32(&funcs, (uint32_t)k);
        char name[16];
        snprintf(name, sizeof name, "e%d", k);
        mb_u32(&exps, (uint32_t)strlen(name));
        mb_bytes(&exps, name, strlen(name));
        mb_byte(&exps, 0);
        mb_u32(&exps, (uint32_t)k);
        mb body = { 0 };
        mb_u32(&body, 0);
        for (int p = 0; p < colon - sig; p++) {
            mb_byte(&body, 0x20);
            mb_u32(&body, (uint32_t)p);
        }
        mb_byte(&body, 0xfd);
        mb_u32(&body, oi->code);
        if (oi->imm == GIMM_LANE)
            mb_byte(&body, (uint8_t)lane_of(ops[k]));
        if (oi->imm == GIMM_SHUFFLE)
            mb_bytes(&body, shuffle_ix, 16);
        mb_byte(&body, 0x0b);
        mb_u32(&code, (uint32_t)body.n);
        mb_bytes(&code, body.b, body.n);
        mb_free(&body);
    }
    mb_header(&m);
    mb_section(&m, 1, &types);
    mb_section(&m, 3, &funcs);
    mb_section(&m, 7, &exps);
    mb_section(&m, 10, &code);
    gate_error err;
    gate_module *mod = gate_module_new(eng, m.b, m.n, &err);
    if (!mod)
        fail_msg("the module of every SIMD instruction: %s", err.message);
    mb_free(&m), mb_free(&types), mb_free(&funcs), mb_free(&exps), mb_free(&code);
    return mod;
}

static uint64_t xrng = 88172645463325252ull;
static uint64_t next_rand(void)
{
    xrng ^= xrng << 13, xrng ^= xrng >> 7, xrng ^= xrng << 17;
    return xrng;
}

/* Random lanes with the edges mixed in: NaNs with payloads, infinities,
   zeros of both signs, the integer and float range ends. */
static void random_v128(uint8_t *v)
{
    static const uint32_t f32s[] = { 0x7fc00000, 0xffc00000, 0x7fa00001, 0x7f800000, 0xff800000,
                                     0x80000000, 0, 0x3f800000, 0xbf000000, 0x4f000000,
                                     0x4f800000, 0xcf000001, 0x3effffff, 0x7f7fffff, 1 };
    static const uint64_t f64s[] = { 0x7ff8000000000000, 0xfff8000000000000, 0x7ff4000000000001,
                                     0x7ff0000000000000, 0x8000000000000000, 0, 0x3fe0000000000000,
                                     0x41dfffffffc00000, 0x41efffffffe00000, 0xc1e0000000200000,
                                     0x4330000000000000, 1 };
    uint64_t r = next_rand();
    for (int i = 0; i < 16; i += 4) {
        uint32_t w = (uint32_t)next_rand();
        switch (r >> (2 * i) & 7) {
        case 0: w = f32s[next_rand() % (sizeof f32s / 4)]; break;
        case 1: w = (uint32_t)(next_rand() % 5) - 2; break;
        case 2: w = 0x80008000u ^ (uint32_t)(next_rand() & 0x00ff00ff); break;
        }
        memcpy(v + i, &w, 4);
    }
    if ((r >> 40 & 3) == 0) {
        uint64_t d = f64s[next_rand() % (sizeof f64s / 8)];
        memcpy(v + 8 * (next_rand() & 1), &d, 8);
    }
}

static bool is_nan_bits(const uint8_t *p, int bytes)
{
    if (bytes == 4) {
        uint32_t v;
        memcpy(&v, p, 4);
        return (v & 0x7f800000u) == 0x7f800000u && (v & 0x7fffffu);
    }
    uint64_t v;
    memcpy(&v, p, 8);
    return (v & 0x7ff0000000000000u) == 0x7ff0000000000000u && (v & 0xfffffffffffffu);
}

/* Equal, or (outside deterministic mode, for a float result) NaN in the
   same lanes: the spec lets a NaN's bits differ. */
static bool same_result(int op, char rt, const uint8_t *g, const uint8_t *w, bool det)
{
    int bytes = rt == 'V' ? 16 : rt == 'I' || rt == 'F' ? 8 : 4;
    if (!memcmp(g, w, (size_t)bytes))
        return true;
    const char *nm = gop_table[op].name;
    int fl = rt == 'f' ? 4 : rt == 'F' ? 8 : rt == 'V' && !strncmp(nm, "f32x4", 5) ? 4
           : rt == 'V' && !strncmp(nm, "f64x2", 5) ? 8 : 0;
    if (det || !fl)
        return false;
    for (int i = 0; i < bytes; i += fl)
        if (memcmp(g + i, w + i, (size_t)fl) &&
            !(is_nan_bits(g + i, fl) && is_nan_bits(w + i, fl)))
            return false;
    return true;
}

static void compare_mode(bool det, int cpu)
{
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.deterministic = det;
    cfg.cpu_features = cpu;
    gate_error err;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    assert_non_null(eng);
    int ops[GOP_COUNT], n;
    gate_module *mod = ops_module(eng, ops, &n);
    gate_instance *in = gate_instance_new(mod, NULL, NULL, &err);
    if (!in)
        fail_msg("instantiate: %s", err.message);
    int rounds = (int)unit_busy(400) + 8;
    long checked = 0;
    for (int k = 0; k < n; k++) {
        int op = ops[k];
        const char *sig = gop_table[op].sig, *colon = strchr(sig, ':');
        int np = (int)(colon - sig);
        char name[16];
        snprintf(name, sizeof name, "e%d", k);
        for (int r = 0; r < rounds; r++) {
            gate_val args[3], res[1];
            uint8_t raw[3][16];
            memset(args, 0, sizeof args);
            for (int p = 0; p < np; p++) {
                random_v128(raw[p]);
                args[p].type = (gate_valtype)val_code(sig[p]);
                if (sig[p] == 'V')
                    memcpy(args[p].of.v128, raw[p], 16);
                else if (sig[p] == 'i' || sig[p] == 'f')
                    memcpy(&args[p].of, raw[p], 4);
                else
                    memcpy(&args[p].of, raw[p], 8);
                if (sig[p] == 'i' && r % 3 == 0)      /* shift counts past the width too */
                    args[p].of.i32 = (int32_t)(next_rand() % 300) - 20;
            }
            if (gate_call(in, name, args, (size_t)np, res, 1, &err) != GATE_OK)
                fail_msg("%s: %s", gop_table[op].name, err.message);
            uint8_t want[16], got[16] = { 0 };
            memset(want, 0, sizeof want);
            uint8_t a[16] = { 0 }, b[16] = { 0 }, c3[16] = { 0 };
            memcpy(a, &args[0].of, 16);
            memcpy(b, &args[1].of, 16);
            memcpy(c3, op == GOP_I8X16_SHUFFLE ? shuffle_ix : (const uint8_t *)&args[2].of, 16);
            rt_simd(NULL, (uint32_t)op | (uint32_t)lane_of(op) << 16 | (det ? DET : 0), want, a,
                    b, c3);
            memcpy(got, &res[0].of, colon[1] == 'V' ? 16 : 8);
            if (colon[1] == 'i' || colon[1] == 'f')
                memset(got + 4, 0, 4), memset(want + 4, 0, 4);
            if (!same_result(op, colon[1], got, want, det)) {
                char h[200] = "";
                for (int p = 0; p < np; p++) {
                    uint32_t l[4];
                    memcpy(l, raw[p], 16);
                    snprintf(h + strlen(h), sizeof h - strlen(h), " [%08x %08x %08x %08x]", l[0],
                             l[1], l[2], l[3]);
                }
                uint32_t gl[4], wl[4];
                memcpy(gl, got, 16), memcpy(wl, want, 16);
                fail_msg("%s%s: operands%s: compiled %08x %08x %08x %08x, rt_simd %08x %08x %08x %08x",
                         gop_table[op].name, det ? " (deterministic)" : "", h, gl[0], gl[1], gl[2],
                         gl[3], wl[0], wl[1], wl[2], wl[3]);
            }
            checked++;
        }
    }
    printf("%d SIMD instructions compiled and run %ld times against rt_simd (%s, cpu %d)\n", n,
           checked, det ? "deterministic" : "plain", cpu);
    gate_instance_free(in);
    gate_module_free(mod);
    gate_engine_free(eng);
}

/* Every 0xfd instruction that does not touch memory, as this host's
   backend compiles it, against rt_simd on random and edge operands: in
   the default mode (NaN lanes need only be NaN in both), deterministic
   mode (bit for bit), and with the baseline CPU (x86-64: SSE4.1 only). */
static void compiled_against_rt_simd(void **state)
{
    (void)state;
    compare_mode(false, -1);
    compare_mode(true, -1);
    compare_mode(false, 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(saturating),
        cmocka_unit_test(narrowing),
        cmocka_unit_test(products),
        cmocka_unit_test(shifts),
        cmocka_unit_test(float_min_max),
        cmocka_unit_test(rounding),
        cmocka_unit_test(conversions),
        cmocka_unit_test(bits_and_booleans),
        cmocka_unit_test(lanes),
        cmocka_unit_test(aliasing_and_unknown),
        cmocka_unit_test(compiled_against_rt_simd),
    };
    return cmocka_run_group_tests_name("simd", tests, NULL, NULL);
}
