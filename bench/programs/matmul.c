/* matmul.c - dense double-precision matrix multiply: naive i-j-k (strided
 * inner loop), i-k-j (unit stride) and cache-blocked versions of C = A*B,
 * with checksums and a comparison of the results. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define N     352
#define BLOCK 32

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

static uint32_t rng_s;

static uint32_t rng(void)
{
    rng_s ^= rng_s << 13;
    rng_s ^= rng_s >> 17;
    rng_s ^= rng_s << 5;
    return rng_s;
}

static double *xmalloc(size_t n)
{
    double *p = malloc(n * sizeof(double));
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}

static void mm_ijk(const double *a, const double *b, double *c, int n)
{
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++) {
            double s = 0;
            for (int k = 0; k < n; k++)
                s += a[i * n + k] * b[k * n + j];
            c[i * n + j] = s;
        }
}

static void mm_ikj(const double *a, const double *b, double *c, int n)
{
    for (int i = 0; i < n * n; i++)
        c[i] = 0;
    for (int i = 0; i < n; i++)
        for (int k = 0; k < n; k++) {
            double aik = a[i * n + k];
            for (int j = 0; j < n; j++)
                c[i * n + j] += aik * b[k * n + j];
        }
}

static void mm_blocked(const double *a, const double *b, double *c, int n)
{
    for (int i = 0; i < n * n; i++)
        c[i] = 0;
    for (int ii = 0; ii < n; ii += BLOCK)
        for (int kk = 0; kk < n; kk += BLOCK)
            for (int jj = 0; jj < n; jj += BLOCK) {
                int ie = ii + BLOCK < n ? ii + BLOCK : n;
                int ke = kk + BLOCK < n ? kk + BLOCK : n;
                int je = jj + BLOCK < n ? jj + BLOCK : n;
                for (int i = ii; i < ie; i++)
                    for (int k = kk; k < ke; k++) {
                        double aik = a[i * n + k];
                        for (int j = jj; j < je; j++)
                            c[i * n + j] += aik * b[k * n + j];
                    }
            }
}

static double checksum(const double *c, int n)
{
    double s = 0;
    for (int i = 0; i < n * n; i++)
        s += c[i] * (double)(1 + i % 7);
    return s;
}

static double maxdiff(const double *x, const double *y, int n)
{
    double m = 0;
    for (int i = 0; i < n * n; i++) {
        double d = fabs(x[i] - y[i]);
        if (d > m)
            m = d;
    }
    return m;
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("matmul: scale %d, n %d, block %d\n", scale, N, BLOCK);

    double *a = xmalloc(N * N), *b = xmalloc(N * N);
    double *c1 = xmalloc(N * N), *c2 = xmalloc(N * N), *c3 = xmalloc(N * N);
    double total = 0, worst = 0;
    for (int r = 0; r < scale; r++) {
        rng_s = 0x1badb002u + (uint32_t)r * 0x10001u;
        /* entries are multiples of 1/1024 in [-2, 2) */
        for (int i = 0; i < N * N; i++) {
            a[i] = (double)(int32_t)(rng() % 4096u) / 1024.0 - 2.0;
            b[i] = (double)(int32_t)(rng() % 4096u) / 1024.0 - 2.0;
        }
        mm_ijk(a, b, c1, N);
        mm_ikj(a, b, c2, N);
        mm_blocked(a, b, c3, N);
        double s1 = checksum(c1, N), s2 = checksum(c2, N), s3 = checksum(c3, N);
        double d = maxdiff(c1, c2, N), d2 = maxdiff(c1, c3, N);
        if (d2 > d)
            d = d2;
        if (d > worst)
            worst = d;
        total += s1 + s2 + s3;
        if ((r + 1) % step == 0)
            printf("round %d: ijk %.6f ikj %.6f blocked %.6f trace %.6f\n",
                   r + 1, s1, s2, s3, c1[0] + c2[(N / 2) * N + N / 2] + c3[N * N - 1]);
    }
    /* products of 1/1024-multiples are 2^-20-multiples and all partial sums
     * stay well inside 2^53 * 2^-20: every ordering gives exact results */
    printf("max difference between methods: %.9g\n", worst);
    printf("total %.6f\n", total);
    free(c3);
    free(c2);
    free(c1);
    free(b);
    free(a);
    return 0;
}
