/* membound.c - memory-bound loops over tens of MB of malloc'd arrays (so a
 * wasm heap must grow): STREAM-like copy/scale/triad on doubles, strided
 * sweeps, and dependent pointer-chasing through a one-cycle permutation. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define ARR_N    (1u << 20)      /* doubles per array: 8 MB each, 3 arrays */
#define PERM_N   (1u << 21)      /* uint32 permutation: 8 MB */
#define TRIAD_PASSES 6
#define CHASE_STEPS  500009u

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

static uint64_t rng_s = 0x0123456789abcdefull;

static uint64_t rng(void)
{
    rng_s ^= rng_s >> 12;
    rng_s ^= rng_s << 25;
    rng_s ^= rng_s >> 27;
    return rng_s * 0x2545f4914f6cdd1dull;
}

static void *xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p) {
        printf("out of memory\n");
        exit(1);
    }
    return p;
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("membound: scale %d\n", scale);

    double *a = xmalloc(sizeof(double) * ARR_N);
    double *b = xmalloc(sizeof(double) * ARR_N);
    double *c = xmalloc(sizeof(double) * ARR_N);
    uint32_t *perm = xmalloc(sizeof(uint32_t) * PERM_N);

    /* values are small multiples of 1/8: every sum below is exact */
    for (uint32_t i = 0; i < ARR_N; i++) {
        a[i] = 0.0;
        b[i] = (double)(i & 1023u) * 0.125;
        c[i] = (double)((i * 7u) & 511u) * 0.25;
    }
    /* Sattolo's shuffle: a single cycle through all PERM_N slots */
    for (uint32_t i = 0; i < PERM_N; i++)
        perm[i] = i;
    for (uint32_t i = PERM_N - 1; i > 0; i--) {
        uint32_t j = (uint32_t)(rng() % i);
        uint32_t t = perm[i];
        perm[i] = perm[j];
        perm[j] = t;
    }
    printf("arrays: 3 x %u doubles, permutation of %u\n", ARR_N, PERM_N);

    uint64_t total = 0;
    uint32_t pos = 0;
    for (int r = 0; r < scale; r++) {
        /* stream: copy, scale, add, triad */
        double s = (double)(r % 4 + 1) * 0.5;
        for (int p = 0; p < TRIAD_PASSES; p++) {
            switch (p & 3) {
            case 0:
                for (uint32_t i = 0; i < ARR_N; i++)
                    a[i] = b[i] + s * c[i];
                break;
            case 1:
                for (uint32_t i = 0; i < ARR_N; i++)
                    b[i] = a[i] - s * c[i];
                break;
            case 2:
                for (uint32_t i = 0; i < ARR_N; i++)
                    c[i] = (a[i] - b[i]) / s;
                break;
            default:
                for (uint32_t i = 0; i < ARR_N; i++)
                    a[i] = b[i];
                break;
            }
        }
        double sum = 0;
        for (uint32_t i = 0; i < ARR_N; i += 3)
            sum += a[i] + c[i];
        uint64_t isum = (uint64_t)sum;

        /* strided sweeps: each element visited once per stride, cache-hostile order */
        uint64_t st = 0;
        for (uint32_t stride = 16; stride <= 4096; stride *= 16) {
            for (uint32_t off = (uint32_t)r % 3; off < stride; off += 3)
                for (uint32_t i = off; i < PERM_N; i += stride)
                    st += perm[i] ^ i;
        }

        /* pointer chase: each load depends on the previous one */
        uint64_t ch = 0;
        for (uint32_t k = 0; k < CHASE_STEPS; k++) {
            pos = perm[pos];
            ch += pos;
        }
        /* gather through the permutation into the double arrays */
        double g = 0;
        for (uint32_t i = 0; i < ARR_N; i += 2)
            g += b[(perm[i] + (uint32_t)r * 37u) & (ARR_N - 1)];
        uint64_t ig = (uint64_t)g;

        total = (total << 9 | total >> 55) ^ (isum + st + ch + ig);
        if ((r + 1) % step == 0)
            printf("round %d: triad %llu strided %llu chase %llu gather %llu pos %u\n",
                   r + 1, (unsigned long long)isum, (unsigned long long)st,
                   (unsigned long long)ch, (unsigned long long)ig, pos);
    }
    printf("checksum %016llx\n", (unsigned long long)total);
    free(perm);
    free(c);
    free(b);
    free(a);
    return 0;
}
