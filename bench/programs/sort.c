/* sort.c - hand-written sorting: quicksort (median of three, insertion sort
 * for short runs) and top-down mergesort on uint32/int32/uint64 arrays with
 * random, sorted, reversed and duplicate-heavy inputs, plus sorting strings. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INT_N  200000u
#define STR_N  30000u
#define STR_MAXLEN 20

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

static uint64_t rng_s;

static uint64_t rng(void)
{
    uint64_t x = rng_s += 0xa0761d6478bd642full;
    x = (x ^ (x >> 29)) * 0xe7037ed1a0b428dbull;
    return x ^ (x >> 32);
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

/* quicksort + mergesort, instantiated per element type */
#define DEFINE_SORTS(T, NAME)                                                  \
    static void isort_##NAME(T *a, int32_t n)                                  \
    {                                                                          \
        for (int32_t i = 1; i < n; i++) {                                      \
            T v = a[i];                                                        \
            int32_t j = i - 1;                                                 \
            while (j >= 0 && v < a[j]) {                                       \
                a[j + 1] = a[j];                                               \
                j--;                                                           \
            }                                                                  \
            a[j + 1] = v;                                                      \
        }                                                                      \
    }                                                                          \
    static void qsort_##NAME(T *a, int32_t n)                                  \
    {                                                                          \
        while (n > 16) {                                                       \
            int32_t m = n / 2;                                                 \
            T x = a[0], y = a[m], z = a[n - 1], p;                             \
            if (x < y)                                                         \
                p = y < z ? y : (x < z ? z : x);                               \
            else                                                               \
                p = x < z ? x : (y < z ? z : y);                               \
            int32_t i = -1, j = n;                                             \
            for (;;) {                                                         \
                do i++; while (a[i] < p);                                      \
                do j--; while (p < a[j]);                                      \
                if (i >= j)                                                    \
                    break;                                                     \
                T t = a[i]; a[i] = a[j]; a[j] = t;                             \
            }                                                                  \
            /* [0, j] <= p <= [j+1, n): recurse on the smaller side */         \
            int32_t left = j + 1;                                              \
            if (left < n - left) {                                             \
                qsort_##NAME(a, left);                                         \
                a += left;                                                     \
                n -= left;                                                     \
            } else {                                                           \
                qsort_##NAME(a + left, n - left);                              \
                n = left;                                                      \
            }                                                                  \
        }                                                                      \
        isort_##NAME(a, n);                                                    \
    }                                                                          \
    static void msort_rec_##NAME(T *a, T *tmp, int32_t n)                      \
    {                                                                          \
        if (n <= 12) {                                                         \
            isort_##NAME(a, n);                                                \
            return;                                                            \
        }                                                                      \
        int32_t h = n / 2;                                                     \
        msort_rec_##NAME(a, tmp, h);                                           \
        msort_rec_##NAME(a + h, tmp, n - h);                                   \
        if (!(a[h] < a[h - 1]))                                                \
            return;                                                            \
        memcpy(tmp, a, sizeof(T) * (size_t)h);                                 \
        int32_t i = 0, j = h, k = 0;                                           \
        while (i < h && j < n)                                                 \
            a[k++] = a[j] < tmp[i] ? a[j++] : tmp[i++];                        \
        while (i < h)                                                          \
            a[k++] = tmp[i++];                                                 \
    }                                                                          \
    static void msort_##NAME(T *a, int32_t n)                                  \
    {                                                                          \
        T *tmp = xmalloc(sizeof(T) * (size_t)(n / 2 + 1));                     \
        msort_rec_##NAME(a, tmp, n);                                           \
        free(tmp);                                                             \
    }                                                                          \
    static int sorted_##NAME(const T *a, int32_t n)                            \
    {                                                                          \
        for (int32_t i = 1; i < n; i++)                                        \
            if (a[i] < a[i - 1])                                               \
                return 0;                                                      \
        return 1;                                                              \
    }

DEFINE_SORTS(uint32_t, u32)
DEFINE_SORTS(int32_t, i32)
DEFINE_SORTS(uint64_t, u64)

/* ---- strings: mergesort of pointers with strcmp ---- */
static void msort_str_rec(const char **a, const char **tmp, int32_t n, uint64_t *cmps)
{
    if (n < 2)
        return;
    int32_t h = n / 2;
    msort_str_rec(a, tmp, h, cmps);
    msort_str_rec(a + h, tmp, n - h, cmps);
    memcpy(tmp, a, sizeof *a * (size_t)h);
    int32_t i = 0, j = h, k = 0;
    while (i < h && j < n) {
        ++*cmps;
        a[k++] = strcmp(a[j], tmp[i]) < 0 ? a[j++] : tmp[i++];
    }
    while (i < h)
        a[k++] = tmp[i++];
}

static uint32_t fnv(const char *s)
{
    uint32_t h = 0x811c9dc5u;
    while (*s)
        h = (h ^ (uint8_t)*s++) * 0x01000193u;
    return h;
}

/* order-sensitive digest */
#define DIGEST(arr, n, out)                                                    \
    do {                                                                       \
        uint64_t d_ = 0;                                                       \
        for (uint32_t i_ = 0; i_ < (n); i_++)                                  \
            d_ = d_ * 0x100000001b3ull + (uint64_t)(arr)[i_] + i_;             \
        (out) = d_;                                                            \
    } while (0)

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("sort: scale %d\n", scale);

    uint32_t *u = xmalloc(sizeof *u * INT_N);
    uint32_t *u2 = xmalloc(sizeof *u2 * INT_N);
    int32_t *s = xmalloc(sizeof *s * INT_N);
    uint64_t *w = xmalloc(sizeof *w * INT_N);
    uint64_t *w2 = xmalloc(sizeof *w2 * INT_N);
    char *pool = xmalloc(STR_N * (STR_MAXLEN + 1));
    const char **strs = xmalloc(sizeof *strs * STR_N);
    const char **stmp = xmalloc(sizeof *stmp * STR_N);

    uint64_t total = 0, cmps = 0;
    int bad = 0;
    const int32_t n = (int32_t)INT_N;
    for (int r = 0; r < scale; r++) {
        rng_s = 0x50a7ull * (uint64_t)(r + 1);
        int pattern = r % 4;   /* 0 random, 1 few distinct, 2 sorted-ish, 3 reversed */
        for (uint32_t i = 0; i < INT_N; i++) {
            uint64_t x = rng();
            switch (pattern) {
            case 0: u[i] = (uint32_t)x; break;
            case 1: u[i] = (uint32_t)(x % 64u); break;
            case 2: u[i] = i * 4u + (uint32_t)(x % 16u); break;
            default: u[i] = (INT_N - i) * 3u; break;
            }
            u2[i] = u[i];
            s[i] = (int32_t)(x >> 33) - (int32_t)0x40000000;   /* in [-2^30, 2^30) */
            w[i] = pattern == 1 ? x % 1000u : x;
            w2[i] = w[i] ^ (w[i] >> 7);
        }
        qsort_u32(u, n);
        msort_u32(u2, n);
        qsort_i32(s, n / 2);
        msort_i32(s + n / 2, n - n / 2);
        qsort_u64(w, n);
        msort_u64(w2, n);
        if (!sorted_u32(u, n) || !sorted_u32(u2, n) || memcmp(u, u2, sizeof *u * INT_N) ||
            !sorted_i32(s, n / 2) || !sorted_i32(s + n / 2, n - n / 2) ||
            !sorted_u64(w, n) || !sorted_u64(w2, n))
            bad++;

        /* strings: random lowercase, lengths 1..STR_MAXLEN, shared prefixes */
        for (uint32_t i = 0; i < STR_N; i++) {
            char *p = pool + i * (STR_MAXLEN + 1);
            uint64_t x = rng();
            uint32_t len = 1u + (uint32_t)(x % STR_MAXLEN);
            x >>= 8;
            for (uint32_t k = 0; k < len; k++) {
                if (k % 8 == 7)
                    x = rng();
                p[k] = (char)('a' + (k < 2 ? x % 3u : x % 26u));
                x /= 26u;
            }
            p[len] = 0;
            strs[i] = p;
        }
        msort_str_rec(strs, stmp, (int32_t)STR_N, &cmps);
        uint64_t sh = 0;
        for (uint32_t i = 0; i < STR_N; i++) {
            if (i && strcmp(strs[i - 1], strs[i]) > 0)
                bad++;
            sh = sh * 31u + fnv(strs[i]);
        }

        uint64_t d1, d2, d3, d4;
        DIGEST(u, INT_N, d1);
        DIGEST(w, INT_N, d2);
        DIGEST(w2, INT_N, d3);
        d4 = 0;
        for (uint32_t i = 0; i < INT_N; i++)
            d4 = d4 * 1000003u + (uint32_t)s[i];
        total = (total << 13 | total >> 51) ^ (d1 + d2 + d3 + d4 + sh);
        if ((r + 1) % step == 0)
            printf("round %d: pattern %d u32 %016llx u64 %016llx/%016llx i32 %016llx str %016llx [%s..%s]\n",
                   r + 1, pattern, (unsigned long long)d1, (unsigned long long)d2,
                   (unsigned long long)d3, (unsigned long long)d4, (unsigned long long)sh,
                   strs[0], strs[STR_N - 1]);
    }
    printf("string compares %llu\n", (unsigned long long)cmps);
    printf("checksum %016llx, %s\n", (unsigned long long)total, bad ? "NOT SORTED" : "all sorted");
    free(stmp);
    free(strs);
    free(pool);
    free(w2);
    free(w);
    free(s);
    free(u2);
    free(u);
    return bad ? 1 : 0;
}
