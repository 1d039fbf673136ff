/* hashtab.c - an open-addressing (linear probing, tombstones, resizing) hash
 * table keyed by generated strings: insert/count, lookup hits and misses,
 * deletes and reinserts, with malloc'd keys; string hashing and compares. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define VOCAB     60000u
#define OPS       250000u
#define MAXWORD   24

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

static uint32_t rng32;

static uint32_t next32(void)
{
    uint32_t x = rng32;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng32 = x;
}

/* word number w -> a deterministic string of 3..14 letters */
static const char syll[][4] = {"ka", "to", "ri", "men", "sa", "lo", "qu", "ve",
                               "di", "ar", "x", "ul", "pe", "no", "zi", "th"};

static int make_word(uint32_t w, uint32_t salt, char *out)
{
    uint32_t h = (w + salt) * 0x9e3779b1u ^ 0x5bd1e995u;
    h ^= h >> 15;
    int len = 0, parts = 2 + (int)(h % 5);
    h /= 5;
    for (int i = 0; i < parts; i++) {
        const char *s = syll[h & 15];
        h >>= 4;
        if (h == 0)
            h = w * 2654435761u + 1u;
        while (*s && len < MAXWORD - 2)
            out[len++] = *s++;
    }
    /* digit suffix keeps words of the vocabulary distinct */
    uint32_t d = w;
    do {
        out[len++] = (char)('a' + d % 26u);
        d /= 26u;
    } while (d && len < MAXWORD - 1);
    out[len] = 0;
    return len;
}

static uint32_t str_hash(const char *s)
{
    uint32_t h = 0x811c9dc5u;
    while (*s) {
        h ^= (uint8_t)*s++;
        h *= 0x01000193u;
    }
    h ^= h >> 16;
    h *= 0x7feb352du;
    h ^= h >> 15;
    return h;
}

struct slot {
    char *key;          /* NULL: empty; TOMB: deleted */
    uint32_t hash;
    uint32_t count;
};

static char tomb_marker;
#define TOMB (&tomb_marker)

struct table {
    struct slot *slots;
    uint32_t cap;       /* power of two */
    uint32_t live, used; /* used = live + tombstones */
    uint64_t probes;
};

static void tab_init(struct table *t, uint32_t cap)
{
    t->slots = calloc(cap, sizeof *t->slots);
    if (!t->slots) {
        printf("out of memory\n");
        exit(1);
    }
    t->cap = cap;
    t->live = t->used = 0;
}

static void tab_resize(struct table *t, uint32_t cap)
{
    struct slot *old = t->slots;
    uint32_t oldcap = t->cap;
    uint64_t probes = t->probes;
    tab_init(t, cap);
    t->probes = probes;
    for (uint32_t i = 0; i < oldcap; i++) {
        if (old[i].key && old[i].key != TOMB) {
            uint32_t j = old[i].hash & (cap - 1);
            while (t->slots[j].key)
                j = (j + 1) & (cap - 1);
            t->slots[j] = old[i];
            t->live++;
            t->used++;
        }
    }
    free(old);
}

static struct slot *tab_find(struct table *t, const char *key, uint32_t h)
{
    uint32_t j = h & (t->cap - 1);
    for (;;) {
        struct slot *s = &t->slots[j];
        t->probes++;
        if (!s->key)
            return NULL;
        if (s->key != TOMB && s->hash == h && strcmp(s->key, key) == 0)
            return s;
        j = (j + 1) & (t->cap - 1);
    }
}

/* add one occurrence of key; returns the new count */
static uint32_t tab_add(struct table *t, const char *key, int len)
{
    uint32_t h = str_hash(key);
    struct slot *s = tab_find(t, key, h);
    if (s)
        return ++s->count;
    if ((t->used + 1) * 10u > t->cap * 7u)
        tab_resize(t, t->live * 10u > t->cap * 4u ? t->cap * 2u : t->cap);
    uint32_t j = h & (t->cap - 1);
    while (t->slots[j].key && t->slots[j].key != TOMB)
        j = (j + 1) & (t->cap - 1);
    s = &t->slots[j];
    if (!s->key)
        t->used++;
    s->key = malloc((size_t)len + 1);
    if (!s->key) {
        printf("out of memory\n");
        exit(1);
    }
    memcpy(s->key, key, (size_t)len + 1);
    s->hash = h;
    s->count = 1;
    t->live++;
    return 1;
}

static int tab_del(struct table *t, const char *key)
{
    struct slot *s = tab_find(t, key, str_hash(key));
    if (!s)
        return 0;
    free(s->key);
    s->key = TOMB;
    s->count = 0;
    t->live--;
    return 1;
}

static void tab_free(struct table *t)
{
    for (uint32_t i = 0; i < t->cap; i++)
        if (t->slots[i].key && t->slots[i].key != TOMB)
            free(t->slots[i].key);
    free(t->slots);
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    int step = scale >= 10 ? scale / 10 : 1;
    char w[MAXWORD];
    uint64_t total = 0, probes = 0;
    printf("hashtab: scale %d\n", scale);

    for (int r = 0; r < scale; r++) {
        struct table t;
        t.probes = 0;
        tab_init(&t, 16);
        rng32 = 0x2545f491u + (uint32_t)r * 7919u;
        uint32_t salt = (uint32_t)r * 3u;

        /* insert with skewed frequencies */
        uint64_t csum = 0;
        uint32_t maxc = 0;
        for (uint32_t i = 0; i < OPS; i++) {
            uint32_t x = next32();
            uint32_t widx = (x & 1) ? x % 1000u : (x >> 1) % VOCAB;
            int len = make_word(widx, salt, w);
            uint32_t c = tab_add(&t, w, len);
            csum += c;
            if (c > maxc)
                maxc = c;
        }
        uint32_t distinct = t.live;

        /* lookups: half from the vocabulary, half from a disjoint range */
        uint32_t hits = 0;
        uint64_t hitsum = 0;
        for (uint32_t i = 0; i < OPS; i++) {
            uint32_t x = next32();
            uint32_t widx = (x & 1) ? (x >> 1) % VOCAB : VOCAB + (x >> 1) % VOCAB;
            make_word(widx, salt, w);
            struct slot *s = tab_find(&t, w, str_hash(w));
            if (s) {
                hits++;
                hitsum += s->count;
            }
        }

        /* delete every word seen an odd number of times (by vocabulary scan) */
        uint32_t deleted = 0;
        for (uint32_t i = 0; i < VOCAB; i++) {
            make_word(i, salt, w);
            struct slot *s = tab_find(&t, w, str_hash(w));
            if (s && (s->count & 1))
                deleted += (uint32_t)tab_del(&t, w);
        }
        /* reinsert a slice (reuses tombstones) */
        for (uint32_t i = 0; i < VOCAB / 4; i++) {
            int len = make_word(i * 3u, salt, w);
            csum += tab_add(&t, w, len);
        }
        uint32_t remaining = t.live;

        /* order-independent digest of the table contents */
        uint64_t digest = 0;
        for (uint32_t i = 0; i < t.cap; i++) {
            const struct slot *s = &t.slots[i];
            if (s->key && s->key != TOMB)
                digest += (uint64_t)s->hash * (s->count | 1u) ^ s->count;
        }
        total = (total << 5 | total >> 59) ^ (digest + csum + hits + deleted);
        if ((r + 1) % step == 0)
            printf("round %d: distinct %u max %u hits %u/%llu deleted %u left %u digest %016llx\n",
                   r + 1, distinct, maxc, hits, (unsigned long long)hitsum, deleted,
                   remaining, (unsigned long long)digest);
        probes += t.probes;
        tab_free(&t);
    }
    printf("probes %llu\n", (unsigned long long)probes);
    printf("checksum %016llx\n", (unsigned long long)total);
    return 0;
}
