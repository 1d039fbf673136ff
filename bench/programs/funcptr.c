/* funcptr.c - indirect calls: a table of small functions called through
 * pointers in hot loops, "vtable" struct dispatch over mixed objects, a fold
 * with callbacks, and qsort with comparators (total orders only). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#define DISPATCH_N 3000000u
#define SHAPES_N   4096u
#define SHAPE_PASSES 150u
#define SORT_N     40000u

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
    rng_s = rng_s * 1664525u + 1013904223u;
    return rng_s ^ (rng_s >> 16);
}

/* ---- a table of small binary operations ---- */
typedef uint32_t (*binop)(uint32_t, uint32_t);

static uint32_t f_add(uint32_t a, uint32_t b) { return a + b; }
static uint32_t f_sub(uint32_t a, uint32_t b) { return a - b; }
static uint32_t f_xor(uint32_t a, uint32_t b) { return a ^ b; }
static uint32_t f_mul(uint32_t a, uint32_t b) { return a * (b | 1u); }
static uint32_t f_rotl(uint32_t a, uint32_t b) { b &= 31; return (a << b) | (a >> ((32 - b) & 31)); }
static uint32_t f_rotr(uint32_t a, uint32_t b) { b &= 31; return (a >> b) | (a << ((32 - b) & 31)); }
static uint32_t f_div(uint32_t a, uint32_t b) { return a / ((b & 0xffu) + 1u) + b; }
static uint32_t f_mod(uint32_t a, uint32_t b) { return a % ((b & 0xfffu) + 3u) + (a >> 3); }
static uint32_t f_min(uint32_t a, uint32_t b) { return (a < b ? a : b) + 0x9e37u; }
static uint32_t f_max(uint32_t a, uint32_t b) { return (a > b ? a : b) - 0x79b9u; }
static uint32_t f_mix(uint32_t a, uint32_t b) { a ^= b; a *= 0x85ebca6bu; return a ^ (a >> 13); }
static uint32_t f_avg(uint32_t a, uint32_t b) { return (a & b) + ((a ^ b) >> 1) + 1u; }
static uint32_t f_not(uint32_t a, uint32_t b) { return ~a + (b & 7u); }
static uint32_t f_shl(uint32_t a, uint32_t b) { return (a << (b & 7u)) ^ b; }
static uint32_t f_sel(uint32_t a, uint32_t b) { return (b & 1u) ? a + 1u : a ^ 0xa5a5a5a5u; }
static uint32_t f_pop(uint32_t a, uint32_t b)
{
    uint32_t c = a ^ b, n = 0;
    while (c) {
        c &= c - 1u;
        n++;
    }
    return a + n;
}

static const binop optab[16] = {
    f_add, f_sub, f_xor, f_mul, f_rotl, f_rotr, f_div, f_mod,
    f_min, f_max, f_mix, f_avg, f_not, f_shl, f_sel, f_pop,
};

static uint32_t dispatch_loop(uint32_t n, uint32_t seed)
{
    uint32_t acc = seed, sel = seed * 2654435761u;
    for (uint32_t i = 0; i < n; i++) {
        sel = sel * 1103515245u + 12345u;
        acc = optab[sel >> 28](acc, i ^ (sel >> 8));
    }
    return acc;
}

/* ---- vtable dispatch ---- */
struct shape;
struct shape_vt {
    const char *name;
    uint64_t (*area)(const struct shape *);
    uint64_t (*perimeter)(const struct shape *);
    void (*grow)(struct shape *, uint32_t);
};

struct shape {
    const struct shape_vt *vt;
    uint32_t a, b, c;
};

static uint64_t rect_area(const struct shape *s) { return (uint64_t)s->a * s->b; }
static uint64_t rect_perim(const struct shape *s) { return 2u * ((uint64_t)s->a + s->b); }
static void rect_grow(struct shape *s, uint32_t k) { s->a = (s->a + k) & 0xffffu; s->b = (s->b + 2u * k) & 0xffffu; }

static uint64_t sq_area(const struct shape *s) { return (uint64_t)s->a * s->a; }
static uint64_t sq_perim(const struct shape *s) { return 4u * (uint64_t)s->a; }
static void sq_grow(struct shape *s, uint32_t k) { s->a = (s->a * 3u + k) & 0xffffu; }

/* right triangle with legs a, b; "perimeter" uses an integer sqrt */
static uint32_t isqrt64(uint64_t x)
{
    uint64_t r = 0, bit = (uint64_t)1 << 62;
    while (bit > x)
        bit >>= 2;
    while (bit) {
        if (x >= r + bit) {
            x -= r + bit;
            r = (r >> 1) + bit;
        } else {
            r >>= 1;
        }
        bit >>= 2;
    }
    return (uint32_t)r;
}
static uint64_t tri_area(const struct shape *s) { return (uint64_t)s->a * s->b / 2u; }
static uint64_t tri_perim(const struct shape *s)
{
    return (uint64_t)s->a + s->b + isqrt64((uint64_t)s->a * s->a + (uint64_t)s->b * s->b);
}
static void tri_grow(struct shape *s, uint32_t k) { s->a = (s->a ^ k) & 0xffffu; s->b = (s->b + 1u) & 0xffffu; }

/* "circle" of radius a with pi ~ 355/113 */
static uint64_t circ_area(const struct shape *s) { return (uint64_t)s->a * s->a * 355u / 113u; }
static uint64_t circ_perim(const struct shape *s) { return (uint64_t)s->a * 710u / 113u; }
static void circ_grow(struct shape *s, uint32_t k) { s->a = (s->a + (k & 15u) + 1u) & 0xffffu; s->c++; }

static const struct shape_vt vt_rect = {"rect", rect_area, rect_perim, rect_grow};
static const struct shape_vt vt_square = {"square", sq_area, sq_perim, sq_grow};
static const struct shape_vt vt_tri = {"triangle", tri_area, tri_perim, tri_grow};
static const struct shape_vt vt_circle = {"circle", circ_area, circ_perim, circ_grow};
static const struct shape_vt *const vts[4] = {&vt_rect, &vt_square, &vt_tri, &vt_circle};

/* ---- higher-order helpers ---- */
typedef uint64_t (*fold_fn)(uint64_t acc, const struct shape *s);

static uint64_t fold(const struct shape *arr, uint32_t n, fold_fn f, uint64_t init)
{
    for (uint32_t i = 0; i < n; i++)
        init = f(init, &arr[i]);
    return init;
}

static uint64_t fold_area(uint64_t acc, const struct shape *s) { return acc + s->vt->area(s); }
static uint64_t fold_perim(uint64_t acc, const struct shape *s) { return (acc ^ s->vt->perimeter(s)) * 31u; }

/* ---- qsort ---- */
struct rec {
    uint32_t key, key2, id;
};

static int cmp_key(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    if (a->key != b->key)
        return a->key < b->key ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_key2_desc(const void *pa, const void *pb)
{
    const struct rec *a = pa, *b = pb;
    if (a->key2 != b->key2)
        return a->key2 > b->key2 ? -1 : 1;
    return a->id < b->id ? -1 : a->id > b->id;
}

static int cmp_u32(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    return (a > b) - (a < b);
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    printf("funcptr: scale %d\n", scale);

    struct shape *shapes = malloc(sizeof *shapes * SHAPES_N);
    struct rec *recs = malloc(sizeof *recs * SORT_N);
    uint32_t *vals = malloc(sizeof *vals * SORT_N);
    if (!shapes || !recs || !vals) {
        printf("out of memory\n");
        return 1;
    }
    uint64_t total = 0;
    uint32_t kinds[4] = {0};
    for (int r = 0; r < scale; r++) {
        rng_s = 0xc0ffee00u + (uint32_t)r;
        uint32_t d = dispatch_loop(DISPATCH_N, (uint32_t)r);

        for (uint32_t i = 0; i < SHAPES_N; i++) {
            uint32_t x = rng();
            uint32_t k = x & 3u;
            shapes[i].vt = vts[k];
            shapes[i].a = (x >> 2) & 0x3ffu;
            shapes[i].b = (x >> 12) & 0x3ffu;
            shapes[i].c = 0;
            kinds[k]++;
        }
        uint64_t area = 0, perim = 0;
        for (uint32_t p = 0; p < SHAPE_PASSES; p++) {
            area += fold(shapes, SHAPES_N, fold_area, p);
            perim ^= fold(shapes, SHAPES_N, fold_perim, perim);
            for (uint32_t i = 0; i < SHAPES_N; i++)
                shapes[i].vt->grow(&shapes[i], p + i);
        }

        for (uint32_t i = 0; i < SORT_N; i++) {
            recs[i].key = rng() % 5000u;   /* many duplicate keys */
            recs[i].key2 = rng();
            recs[i].id = i;
            vals[i] = rng();
        }
        qsort(recs, SORT_N, sizeof *recs, cmp_key);
        uint64_t h1 = 0;
        int ok = 1;
        for (uint32_t i = 0; i < SORT_N; i++) {
            h1 = h1 * 1000003u + recs[i].id;
            if (i && cmp_key(&recs[i - 1], &recs[i]) >= 0)
                ok = 0;
        }
        qsort(recs, SORT_N, sizeof *recs, cmp_key2_desc);
        uint64_t h2 = 0;
        for (uint32_t i = 0; i < SORT_N; i++) {
            h2 = h2 * 1000003u + recs[i].id;
            if (i && cmp_key2_desc(&recs[i - 1], &recs[i]) >= 0)
                ok = 0;
        }
        qsort(vals, SORT_N, sizeof *vals, cmp_u32);
        uint32_t median = vals[SORT_N / 2];
        for (uint32_t i = 1; i < SORT_N; i++)
            if (vals[i - 1] > vals[i])
                ok = 0;

        total = (total << 11 | total >> 53) ^ (d + area + perim + h1 + h2 + median);
        if ((r + 1) % step == 0)
            printf("round %d: dispatch %08x area %llu perim %016llx sort %016llx/%016llx median %u %s\n",
                   r + 1, d, (unsigned long long)area, (unsigned long long)perim,
                   (unsigned long long)h1, (unsigned long long)h2, median,
                   ok ? "sorted" : "NOT SORTED");
    }
    for (int k = 0; k < 4; k++)
        printf("%s: %u\n", vts[k]->name, kinds[k]);
    printf("checksum %016llx\n", (unsigned long long)total);
    free(vals);
    free(recs);
    free(shapes);
    return 0;
}
