/* intkern.c - integer kernels: sieve of Eratosthenes, bytewise table-driven
 * CRC-32, xorshift PRNG streams, 64-bit hash mixing (multiplies, shifts,
 * rotates) and 32-bit gcd (division/remainder).  Usage: intkern [SCALE] */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SIEVE_N   2500000u
#define CRC_BYTES (1u << 20)
#define HASH_N    3000000u
#define GCD_N     300000u

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

static uint64_t xs_state;

static uint64_t xs64(void)
{
    uint64_t x = xs_state;
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    xs_state = x;
    return x;
}

static uint32_t rotl32(uint32_t x, unsigned r) { return (x << r) | (x >> ((32 - r) & 31)); }
static uint64_t rotl64(uint64_t x, unsigned r) { return (x << r) | (x >> ((64 - r) & 63)); }

/* ---- sieve ---- */
static uint8_t *sieve;

static uint32_t run_sieve(uint32_t n, uint64_t *sum)
{
    memset(sieve, 1, n + 1);
    sieve[0] = sieve[1] = 0;
    for (uint32_t i = 2; i * i <= n; i++)
        if (sieve[i])
            for (uint32_t j = i * i; j <= n; j += i)
                sieve[j] = 0;
    uint32_t count = 0;
    uint64_t s = 0;
    for (uint32_t i = 2; i <= n; i++)
        if (sieve[i]) {
            count++;
            s += (uint64_t)i * (count & 7);
        }
    *sum = s;
    return count;
}

/* ---- CRC-32 (reflected, polynomial 0xEDB88320) ---- */
static uint32_t crc_tab[256];

static void crc_init(void)
{
    for (uint32_t n = 0; n < 256; n++) {
        uint32_t c = n;
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
        crc_tab[n] = c;
    }
}

static uint32_t crc32_bytes(uint32_t crc, const uint8_t *p, uint32_t n)
{
    crc = ~crc;
    for (uint32_t i = 0; i < n; i++)
        crc = crc_tab[(crc ^ p[i]) & 0xffu] ^ (crc >> 8);
    return ~crc;
}

/* ---- hashing ---- */
static uint64_t mix64(uint64_t x)
{
    x ^= x >> 31;
    x *= 0x9b1e4f3a6c5d7e21ull;
    x ^= x >> 27;
    x *= 0xd3a58c1b2f4e6071ull;
    x ^= x >> 33;
    return x;
}

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 15;
    x *= 0x2c1b3c6du;
    x ^= x >> 12;
    x *= 0x297a2d39u;
    x ^= x >> 15;
    return x;
}

static uint64_t run_hash(uint64_t seed, uint32_t n, uint32_t *h32out)
{
    uint64_t h = seed;
    uint32_t h32 = (uint32_t)seed;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = mix64(h + i);
        h = rotl64(h ^ v, 23) * 0x100000001b3ull + (v >> 17);
        h32 = rotl32(h32 + mix32((uint32_t)v ^ i), (unsigned)(v & 31)) ^ (uint32_t)(v >> 40);
        /* 64x64 -> high 64 via 32-bit pieces */
        uint64_t a = h, b = v;
        uint64_t lo_lo = (a & 0xffffffffu) * (b & 0xffffffffu);
        uint64_t hi_lo = (a >> 32) * (b & 0xffffffffu);
        uint64_t lo_hi = (a & 0xffffffffu) * (b >> 32);
        uint64_t hi_hi = (a >> 32) * (b >> 32);
        uint64_t cross = (lo_lo >> 32) + (hi_lo & 0xffffffffu) + lo_hi;
        uint64_t hi = hi_hi + (hi_lo >> 32) + (cross >> 32);
        h ^= hi;
    }
    *h32out = h32;
    return h;
}

/* ---- gcd ---- */
static uint32_t gcd32(uint32_t a, uint32_t b)
{
    while (b) {
        uint32_t t = a % b;
        a = b;
        b = t;
    }
    return a;
}

static uint64_t run_gcd(uint32_t n)
{
    uint64_t s = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t r = xs64();
        uint32_t a = (uint32_t)r | 1u, b = (uint32_t)(r >> 32) | 1u;
        uint32_t g = gcd32(a, b);
        s += g + (uint64_t)(a / b) + (a % 1000u);
    }
    return s;
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;

    crc_init();
    sieve = malloc(SIEVE_N + 1);
    uint8_t *buf = malloc(CRC_BYTES);
    if (!sieve || !buf) {
        printf("out of memory\n");
        return 1;
    }
    printf("intkern: scale %d\n", scale);
    printf("crc32(\"123456789\") = %08x\n", crc32_bytes(0, (const uint8_t *)"123456789", 9));

    uint64_t total = 0;
    uint32_t crc_all = 0;
    for (int r = 0; r < scale; r++) {
        uint64_t psum;
        uint32_t primes = run_sieve(SIEVE_N - (uint32_t)r * 1000u, &psum);

        xs_state = 0x9e3779b97f4a7c15ull ^ ((uint64_t)r << 32) ^ (uint64_t)(r + 1);
        for (uint32_t i = 0; i < CRC_BYTES; i += 8) {
            uint64_t v = xs64();
            for (int k = 0; k < 8; k++)
                buf[i + (uint32_t)k] = (uint8_t)(v >> (8 * k));
        }
        uint32_t crc = crc32_bytes(0, buf, CRC_BYTES);
        crc_all = crc32_bytes(crc_all, buf + (crc & 0xffffu), 4096);

        uint32_t h32;
        uint64_t h = run_hash(psum ^ crc, HASH_N, &h32);
        uint64_t g = run_gcd(GCD_N);

        total = rotl64(total, 7) ^ (h + psum + g + primes + crc + h32);
        if ((r + 1) % step == 0)
            printf("round %d: primes %u crc %08x hash %016llx/%08x gcd %llu\n",
                   r + 1, primes, crc, (unsigned long long)h, h32,
                   (unsigned long long)g);
    }
    printf("crc chain %08x\n", crc_all);
    printf("checksum %016llx\n", (unsigned long long)total);
    free(buf);
    free(sieve);
    return 0;
}
