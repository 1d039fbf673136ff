/*
 * simd.c - kernels written with clang's generic vectors, so the same
 * source builds as SIMD (-msimd128: v128 instructions) and as scalar code
 * (without: the vectors are split into lanes), and both must print the
 * same: a float matrix multiply, a byte search, a float reduction, integer
 * mixing with shuffles, saturation and comparisons, conversions.  Long
 * enough for fuel to stop it inside the loops (test/run-cli.sh,
 * test/migrate.sh).
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

typedef float f32x4 __attribute__((vector_size(16)));
typedef double f64x2 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef int16_t i16x8 __attribute__((vector_size(16)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));
typedef int64_t i64x2 __attribute__((vector_size(16)));

#define N 32
static float A[N][N], B[N][N], C[N][N];
static uint8_t text[4096];

static uint32_t rng = 12345;
static uint32_t next(void)
{
    rng ^= rng << 13, rng ^= rng >> 17, rng ^= rng << 5;
    return rng;
}

static uint64_t fnv(const void *p, size_t n, uint64_t h)
{
    const uint8_t *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 0x100000001b3ull;
    return h;
}

static void matmul(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j += 4) {
            f32x4 acc = { 0, 0, 0, 0 };
            for (int k = 0; k < N; k++) {
                f32x4 b;
                memcpy(&b, &B[k][j], 16);
                acc += (f32x4){ A[i][k], A[i][k], A[i][k], A[i][k] } * b;
            }
            memcpy(&C[i][j], &acc, 16);
        }
}

/* positions of `c` in text, 16 bytes at a time */
static unsigned count_byte(uint8_t c)
{
    unsigned n = 0;
    u8x16 key = { c, c, c, c, c, c, c, c, c, c, c, c, c, c, c, c };
    for (size_t i = 0; i < sizeof text; i += 16) {
        u8x16 v;
        memcpy(&v, text + i, 16);
        u8x16 eq = (u8x16)(v == key);
        for (int l = 0; l < 16; l++)
            n += eq[l] & 1;
    }
    return n;
}

static double reduce(void)
{
    f64x2 s = { 0, 0 };
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j += 2)
            s += (f64x2){ C[i][j], C[i][j + 1] } * (f64x2){ 0.5, 0.25 };
    return s[0] + s[1];
}

static uint64_t mix(uint64_t h)
{
    i32x4 a = { 1, -2, 3, -4 };
    i16x8 w = { 100, -200, 300, -400, 32000, -32000, 7, 8 };
    for (int r = 0; r < 200; r++) {
        i32x4 b = { (int32_t)next(), (int32_t)next(), (int32_t)next(), (int32_t)next() };
        a = a * 3 + (b >> 5) - (a ^ b);
        a = __builtin_shufflevector(a, b, 1, 4, 3, 6);
        i32x4 m = a > b;
        a = (a & m) | (b & ~m);
        w += (i16x8)a;
        u32x4 u = (u32x4)a;
        f32x4 f = __builtin_convertvector(a, f32x4) * 0.5f;
        i32x4 back = __builtin_convertvector(f, i32x4);
        i64x2 q = (i64x2)back * (i64x2){ 3, 5 };
        h = fnv(&a, 16, h);
        h = fnv(&w, 16, h);
        h = fnv(&u, 16, h);
        h = fnv(&q, 16, h);
    }
    return h;
}

int main(void)
{
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (float)(int)(next() % 1000) / 64.0f - 7.0f;
            B[i][j] = (float)(int)(next() % 1000) / 32.0f - 3.0f;
        }
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = (uint8_t)("abcdefgh "[next() % 9]);
    uint64_t h = 0xcbf29ce484222325ull;
    for (int round = 0; round < 8; round++) {
        matmul();
        h = fnv(C, sizeof C, h);
        printf("round %d: matmul %016llx sum %.6f spaces %u\n", round, (unsigned long long)h,
               reduce(), count_byte(' '));
        h = mix(h);
        memcpy(A, C, sizeof A);
        for (int i = 0; i < N; i++)
            for (int j = 0; j < N; j++)
                A[i][j] = A[i][j] / 1024.0f;
    }
    printf("mix %016llx\n", (unsigned long long)h);
    return 0;
}
