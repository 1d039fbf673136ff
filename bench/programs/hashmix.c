/* hashmix.c - hash-heavy work on 64-bit integers: a 64-bit mixing hash
 * (multiply, xor-shift, rotate) over a buffer, an open-addressing table of
 * u64 keys with counts (insert, lookup, delete by backward shift), and a
 * count-min sketch with four hash functions.  Prints checksums. */
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

static uint64_t rotl(uint64_t x, int k) { return x << k | x >> (64 - k); }

static uint64_t mix64(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdull;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53ull;
    return x ^ x >> 33;
}

/* a buffer hash in the style of wyhash/xxh64: four lanes, then a fold */
static uint64_t hash_buf(const uint64_t *p, size_t n, uint64_t seed)
{
    uint64_t a = seed ^ 0x9e3779b97f4a7c15ull, b = seed + 0x632be59bd9b4e019ull,
             c = ~seed, d = seed * 0xbf58476d1ce4e5b9ull;
    size_t i = 0;
    for (; i + 4 <= n; i += 4) {
        a = rotl(a + p[i] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
        b = rotl(b + p[i + 1] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
        c = rotl(c + p[i + 2] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
        d = rotl(d + p[i + 3] * 0xc2b2ae3d27d4eb4full, 31) * 0x9e3779b185ebca87ull;
    }
    uint64_t h = rotl(a, 1) + rotl(b, 7) + rotl(c, 12) + rotl(d, 18);
    for (; i < n; i++)
        h = mix64(h ^ p[i]);
    return mix64(h ^ n);
}

#define TBITS 17
#define TSIZE (1u << TBITS)
static uint64_t keys[TSIZE];
static uint32_t counts[TSIZE];
static uint32_t used;

static uint32_t slot_of(uint64_t k) { return (uint32_t)(mix64(k) >> (64 - TBITS)); }

static void put(uint64_t k)
{
    uint32_t i = slot_of(k);
    while (counts[i] && keys[i] != k)
        i = (i + 1) & (TSIZE - 1);
    if (!counts[i])
        keys[i] = k, used++;
    counts[i]++;
}

static uint32_t get(uint64_t k)
{
    for (uint32_t i = slot_of(k); counts[i]; i = (i + 1) & (TSIZE - 1))
        if (keys[i] == k)
            return counts[i];
    return 0;
}

/* deletion by backward shift: no tombstones */
static void del(uint64_t k)
{
    uint32_t i = slot_of(k);
    while (counts[i] && keys[i] != k)
        i = (i + 1) & (TSIZE - 1);
    if (!counts[i])
        return;
    used--;
    for (uint32_t j = (i + 1) & (TSIZE - 1); counts[j]; j = (j + 1) & (TSIZE - 1)) {
        uint32_t home = slot_of(keys[j]);
        if (((j - home) & (TSIZE - 1)) >= ((j - i) & (TSIZE - 1))) {
            keys[i] = keys[j], counts[i] = counts[j];
            i = j;
        }
    }
    counts[i] = 0;
}

#define SK 4096
static uint32_t sketch[4][SK];

static void sketch_add(uint64_t k)
{
    for (int r = 0; r < 4; r++)
        sketch[r][mix64(k + 0x1000193ull * (uint64_t)(r + 1)) % SK]++;
}

static uint32_t sketch_min(uint64_t k)
{
    uint32_t m = UINT32_MAX;
    for (int r = 0; r < 4; r++) {
        uint32_t v = sketch[r][mix64(k + 0x1000193ull * (uint64_t)(r + 1)) % SK];
        m = v < m ? v : m;
    }
    return m;
}

static uint64_t buf[1 << 14];

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    uint64_t s = 0x853c49e6748fea9bull, check = 0;
    for (size_t i = 0; i < sizeof buf / 8; i++)
        buf[i] = s = mix64(s + i);
    for (int r = 0; r < 15 * scale; r++) {
        memset(counts, 0, sizeof counts);
        memset(sketch, 0, sizeof sketch);
        used = 0;
        uint64_t h = 0;
        for (int k = 0; k < 40; k++)
            h ^= hash_buf(buf, sizeof buf / 8 - (size_t)k, h + (uint64_t)r);
        uint64_t x = h;
        for (int k = 0; k < 60000; k++) {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            uint64_t key = x >> 48;         /* many repeats */
            put(key);
            sketch_add(key);
        }
        uint64_t hits = 0, over = 0;
        for (uint64_t key = 0; key < 65536; key += 3) {
            uint32_t c = get(key);
            hits += c;
            over += sketch_min(key) - c;
            if ((key & 7) == 0)
                del(key);
        }
        uint64_t after = 0;
        for (uint64_t key = 0; key < 65536; key += 5)
            after += get(key);
        if (r < 4)
            printf("round %d: hash %016llx used %u hits %llu overcount %llu after %llu\n", r,
               (unsigned long long)h, used, (unsigned long long)hits, (unsigned long long)over,
               (unsigned long long)after);
        check += h + hits + over + after;
    }
    printf("hashmix: %d rounds, check %llu\n", 15 * scale, (unsigned long long)check);
    return 0;
}
