/* lz.c - LZ77 compression with hash chains (a 32 KiB window, lazy
 * matching like deflate's) and the decompressor, over generated text and
 * binary-ish data; every round trip is checked.  Prints sizes and a
 * checksum of the compressed streams. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

#define WIN    32768
#define HBITS  15
#define MINM   3
#define MAXM   258
#define CHAIN  48

static uint32_t rng_s = 12345;
static uint32_t rng(void)
{
    rng_s ^= rng_s << 13, rng_s ^= rng_s >> 17, rng_s ^= rng_s << 5;
    return rng_s;
}

static int head[1 << HBITS], prev_[WIN];

static uint32_t hash3(const uint8_t *p)
{
    return ((uint32_t)p[0] << 16 | (uint32_t)p[1] << 8 | p[2]) * 2654435761u >> (32 - HBITS);
}

static int match_len(const uint8_t *a, const uint8_t *b, int max)
{
    int n = 0;
    while (n < max && a[n] == b[n])
        n++;
    return n;
}

/* the longest match for position i (its length; *dist the distance) */
static int longest(const uint8_t *in, int i, int n, int *dist)
{
    int best = 0, max = n - i < MAXM ? n - i : MAXM;
    if (max < MINM)
        return 0;
    int c = head[hash3(in + i)], chain = CHAIN;
    while (c >= 0 && i - c <= WIN && chain--) {
        if (in[c + best] == in[i + best]) {
            int l = match_len(in + c, in + i, max);
            if (l > best) {
                best = l, *dist = i - c;
                if (l == max)
                    break;
            }
        }
        c = prev_[c & (WIN - 1)];
    }
    return best >= MINM ? best : 0;
}

static void insert(const uint8_t *in, int i, int n)
{
    if (i + MINM > n)
        return;
    uint32_t h = hash3(in + i);
    prev_[i & (WIN - 1)] = head[h];
    head[h] = i;
}

/* tokens: a literal byte (0 then the byte) or a match (1, length - 3,
   distance in two bytes) */
static int compress(const uint8_t *in, int n, uint8_t *out)
{
    for (int i = 0; i < 1 << HBITS; i++)
        head[i] = -1;
    int o = 0, i = 0;
    while (i < n) {
        int d = 0, l = longest(in, i, n, &d);
        if (l && i + 1 < n) {              /* lazy: a longer match one later wins */
            insert(in, i, n);
            int d2 = 0, l2 = longest(in, i + 1, n, &d2);
            if (l2 > l + 1) {
                out[o++] = 0, out[o++] = in[i++];
                l = l2, d = d2;
            }
        } else {
            insert(in, i, n);
        }
        if (l) {
            out[o++] = 1, out[o++] = (uint8_t)(l - MINM);
            out[o++] = (uint8_t)(d >> 8), out[o++] = (uint8_t)d;
            for (int k = 1; k < l; k++)
                insert(in, i + k, n);
            i += l;
        } else {
            out[o++] = 0, out[o++] = in[i++];
        }
    }
    return o;
}

static int decompress(const uint8_t *in, int n, uint8_t *out)
{
    int o = 0;
    for (int i = 0; i < n;) {
        if (in[i] == 0) {
            out[o++] = in[i + 1];
            i += 2;
        } else {
            int l = in[i + 1] + MINM, d = in[i + 2] << 8 | in[i + 3];
            if (d == 0)
                d = 65536;
            for (int k = 0; k < l; k++, o++)
                out[o] = out[o - d];
            i += 4;
        }
    }
    return o;
}

#define N (1 << 19)
static uint8_t data[N], packed[2 * N + 16], back[N];

static const char *words[] = { "the ", "compression ", "of ", "data ", "window ", "match ",
                               "length ", "distance ", "literal ", "stream ", "a ", "and ",
                               "with ", "chain ", "hash ", "\n" };

static void generate(int kind)
{
    for (int i = 0; i < N;) {
        if (kind == 0) {
            const char *w = words[rng() % 16];
            while (*w && i < N)
                data[i++] = (uint8_t)*w++;
        } else {
            /* runs, repeats of earlier data, noise */
            uint32_t r = rng();
            int len = 1 + (int)(r >> 24) % 40;
            if ((r & 3) == 0 && i > 1000) {
                int from = i - 1 - (int)(rng() % 1000);
                for (int k = 0; k < len && i < N; k++)
                    data[i++] = data[from + k];
            } else if ((r & 3) == 1) {
                for (int k = 0; k < len && i < N; k++)
                    data[i++] = (uint8_t)r;
            } else {
                for (int k = 0; k < len && i < N; k++)
                    data[i++] = (uint8_t)rng();
            }
        }
    }
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    uint64_t sum = 0;
    for (int r = 0; r < 3 * scale; r++) {
        generate(r & 1);
        int c = compress(data, N, packed);
        int d = decompress(packed, c, back);
        if (d != N || memcmp(back, data, N)) {
            printf("round %d: the round trip differs\n", r);
            return 1;
        }
        uint32_t h = 2166136261u;
        for (int i = 0; i < c; i++)
            h = (h ^ packed[i]) * 16777619u;
        if (r < 4)
            printf("round %d: %d -> %d bytes, %08x\n", r, N, c, h);
        sum += (uint64_t)c + h;
    }
    printf("lz: %d rounds, sum %llu\n", 3 * scale, (unsigned long long)sum);
    return 0;
}
