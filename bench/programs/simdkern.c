/* simdkern.c - kernels written with the compilers' generic vectors (16-byte
 * vectors of float, int32, uint16, uint8): with clang -msimd128 they are
 * wasm SIMD, without it scalar code, and gcc makes them SSE natively; all
 * three print the same.  A float matrix multiply (splat times row), a dot
 * product with four partial sums, a byte count by compare-and-subtract,
 * an alpha blend of 16-bit pixels and an integer hash over int32 lanes.
 * Usage: simdkern [SCALE [KERNEL]]: KERNEL one of sgemm dot count blend
 * hash runs only that one (bench/run.sh times each), default all. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef float f32x4 __attribute__((vector_size(16)));
typedef int32_t i32x4 __attribute__((vector_size(16)));
typedef uint32_t u32x4 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef int8_t i8x16 __attribute__((vector_size(16)));
typedef uint8_t u8x16 __attribute__((vector_size(16)));

#define N 128
static float A[N][N], B[N][N], C[N][N];
static uint8_t text[1 << 16];
static uint16_t px1[1 << 14], px2[1 << 14], out16[1 << 14];

static int parse_scale(int argc, char **argv)
{
    if (argc < 2)
        return 10;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || v <= 0 || v > 1000000)
        return 10;
    return (int)v;
}

static uint32_t rng_s = 2463534242u;

static uint32_t rng(void)
{
    rng_s ^= rng_s << 13;
    rng_s ^= rng_s >> 17;
    rng_s ^= rng_s << 5;
    return rng_s;
}

static void sgemm(void)
{
    for (int i = 0; i < N; i++) {
        for (int j = 0; j < N; j += 4) {
            f32x4 z = { 0, 0, 0, 0 };
            memcpy(&C[i][j], &z, 16);
        }
        for (int k = 0; k < N; k++) {
            float a = A[i][k];
            f32x4 av = { a, a, a, a };
            for (int j = 0; j < N; j += 4) {
                f32x4 bv, cv;
                memcpy(&bv, &B[k][j], 16);
                memcpy(&cv, &C[i][j], 16);
                cv += av * bv;
                memcpy(&C[i][j], &cv, 16);
            }
        }
    }
}

static float dot(const float *x, const float *y, int n)
{
    f32x4 s0 = { 0, 0, 0, 0 }, s1 = s0, s2 = s0, s3 = s0;
    for (int i = 0; i < n; i += 16) {
        f32x4 a[4], b[4];
        memcpy(a, x + i, 64);
        memcpy(b, y + i, 64);
        s0 += a[0] * b[0], s1 += a[1] * b[1], s2 += a[2] * b[2], s3 += a[3] * b[3];
    }
    f32x4 s = (s0 + s1) + (s2 + s3);
    return (s[0] + s[1]) + (s[2] + s[3]);
}

static uint32_t count_byte(uint8_t c)
{
    uint32_t total = 0;
    u8x16 key;
    memset(&key, c, 16);
    for (size_t i = 0; i < sizeof text; i += 16 * 255) {
        i8x16 acc = { 0 };
        size_t end = i + 16 * 255 < sizeof text ? i + 16 * 255 : sizeof text;
        for (size_t j = i; j < end; j += 16) {
            u8x16 v;
            memcpy(&v, text + j, 16);
            acc -= (i8x16)(v == key);           /* -1 per match */
        }
        for (int l = 0; l < 16; l++)
            total += (uint8_t)acc[l];
    }
    return total;
}

static uint64_t blend(uint16_t alpha)
{
    u16x8 al = { alpha, alpha, alpha, alpha, alpha, alpha, alpha, alpha };
    u16x8 inv = 256 - al;
    uint64_t h = 0;
    for (size_t i = 0; i < sizeof px1 / 2; i += 8) {
        u16x8 a, b;
        memcpy(&a, px1 + i, 16);
        memcpy(&b, px2 + i, 16);
        u16x8 r = (u16x8)((a & 0xff) * al + (b & 0xff) * inv) >> 8;
        memcpy(out16 + i, &r, 16);
    }
    for (size_t i = 0; i < sizeof px1 / 2; i++)
        h = h * 31 + out16[i];
    return h;
}

static uint32_t hash_lanes(int rounds)
{
    u32x4 h = { 1, 2, 3, 4 };
    for (int r = 0; r < rounds; r++) {
        u32x4 x = { rng(), rng(), rng(), rng() };
        h ^= x;
        h *= 0x9e3779b1u;
        h ^= h >> 15;
        h += (u32x4)((i32x4)h > (i32x4)x) & 0x55u;
    }
    return h[0] ^ h[1] * 3 ^ h[2] * 5 ^ h[3] * 7;
}

static int want(int argc, char **argv, const char *kernel)
{
    return argc < 3 || !strcmp(argv[2], kernel);
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int all = argc < 3;
    for (int i = 0; i < N; i++)
        for (int j = 0; j < N; j++) {
            A[i][j] = (float)(int)(rng() % 2001 - 1000) / 512.0f;
            B[i][j] = (float)(int)(rng() % 2001 - 1000) / 256.0f;
        }
    for (size_t i = 0; i < sizeof text; i++)
        text[i] = "etaoin shrdlu\n"[rng() % 14];
    for (size_t i = 0; i < sizeof px1 / 2; i++)
        px1[i] = (uint16_t)rng(), px2[i] = (uint16_t)rng();
    for (int round = 0; round < scale; round++) {
        float d = 0;
        for (int k = 0; k < 8 && (want(argc, argv, "sgemm") || want(argc, argv, "dot")); k++) {
            if (want(argc, argv, "sgemm"))
                sgemm();
            if (want(argc, argv, "dot"))
                for (int r = 0; r < 64; r++)
                    d += dot(&A[0][0], &B[0][0], N * N);
            /* the next round starts from new inputs */
            for (int i = 0; i < N; i++)
                A[i][(i * 7 + k) % N] = (float)(int)(rng() % 2001 - 1000) / 512.0f;
        }
        uint32_t spaces = 0;
        for (int k = 0; k < 512 && want(argc, argv, "count"); k++)
            spaces += count_byte((uint8_t)" e\nt"[k & 3]);
        uint64_t b = 0;
        for (int k = 0; k < 512 && want(argc, argv, "blend"); k++)
            b ^= blend((uint16_t)(k * 4));
        uint32_t hl = want(argc, argv, "hash") ? hash_lanes(1000000) : 0;
        uint64_t hc = 0;
        for (int i = 0; i < N && want(argc, argv, "sgemm"); i++)
            for (int j = 0; j < N; j++) {
                uint32_t bits;
                memcpy(&bits, &C[i][j], 4);
                hc = hc * 31 + bits;
            }
        if (all)
            printf("round %d: sgemm %016llx dot %.3f counts %u blend %016llx hash %08x\n", round,
                   (unsigned long long)hc, (double)d, spaces, (unsigned long long)b, hl);
        else
            printf("round %d: %016llx %.3f %u %016llx %08x\n", round, (unsigned long long)hc,
                   (double)d, spaces, (unsigned long long)b, hl);
    }
    return 0;
}
