/* bench/zygote.c first: a program whose initialisation parses a large
   embedded data set (bench/zygote/gendata.sh: 200,000 people as CSV) and
   builds its tables (a hash index by name, a ranking by score, per-city
   statistics) before its first output, which answers the names given as
   arguments.  The export "init" does the initialisation (gate init
   --init=init); main does it when nobody did. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

extern const char people_csv[];
extern const unsigned people_len;

typedef struct person {
    const char *name;
    unsigned nlen, city, age, rank;
    double score;
} person;

#define MAXP 400000
#define HBITS 20
static person people[MAXP];
static unsigned npeople, *byscore, table[1u << HBITS];
static char cities[16][16];
static unsigned ncities, city_n[16];
static double city_sum[16];
static int ready;

static unsigned hash(const char *s, unsigned n)
{
    unsigned h = 2166136261u;
    for (unsigned i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 16777619u;
    return h;
}

static int cmp_score(const void *a, const void *b)
{
    const person *x = &people[*(const unsigned *)a], *y = &people[*(const unsigned *)b];
    if (x->score != y->score)
        return x->score < y->score ? 1 : -1;
    return strcmp(x->name, y->name) < 0 ? -1 : 1;
}

__attribute__((export_name("init"))) void init(void)
{
    const char *p = people_csv, *end = people_csv + people_len;
    while (p < end && npeople < MAXP) {
        person *q = &people[npeople];
        const char *c1 = memchr(p, ',', (size_t)(end - p));
        const char *c2 = memchr(c1 + 1, ',', (size_t)(end - c1 - 1));
        const char *nl = memchr(c2 + 1, '\n', (size_t)(end - c2 - 1));
        q->name = p;
        q->nlen = (unsigned)(c1 - p);
        unsigned cl = (unsigned)(c2 - c1 - 1), k;
        for (k = 0; k < ncities; k++)
            if (strlen(cities[k]) == cl && !memcmp(cities[k], c1 + 1, cl))
                break;
        if (k == ncities && ncities < 16)
            memcpy(cities[ncities++], c1 + 1, cl < 15 ? cl : 15);
        q->city = k;
        q->age = (unsigned)strtoul(c2 + 1, (char **)&p, 10);
        q->score = strtod(p + 1, NULL);
        city_n[k]++;
        city_sum[k] += q->score;
        unsigned h = hash(q->name, q->nlen) & ((1u << HBITS) - 1);
        while (table[h])
            h = (h + 1) & ((1u << HBITS) - 1);
        table[h] = npeople + 1;
        npeople++;
        p = nl + 1;
    }
    byscore = malloc(npeople * sizeof *byscore);
    for (unsigned i = 0; i < npeople; i++)
        byscore[i] = i;
    qsort(byscore, npeople, sizeof *byscore, cmp_score);
    for (unsigned i = 0; i < npeople; i++)
        people[byscore[i]].rank = i + 1;
    ready = 1;
}

static const person *find(const char *name)
{
    unsigned n = (unsigned)strlen(name), h = hash(name, n) & ((1u << HBITS) - 1);
    for (; table[h]; h = (h + 1) & ((1u << HBITS) - 1)) {
        const person *q = &people[table[h] - 1];
        if (q->nlen == n && !memcmp(q->name, name, n))
            return q;
    }
    return NULL;
}

int main(int argc, char **argv)
{
    if (!ready)
        init();
    for (int i = 1; i < argc; i++) {
        const person *q = find(argv[i]);
        if (!q) {
            printf("%s: nobody\n", argv[i]);
            continue;
        }
        printf("%.*s: %s, %u, score %.3f, rank %u of %u (city mean %.3f)\n", (int)q->nlen,
               q->name, cities[q->city], q->age, q->score, q->rank, npeople,
               city_sum[q->city] / city_n[q->city]);
    }
    return 0;
}
