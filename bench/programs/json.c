/* json.c - a JSON parser and writer: generated documents (objects, arrays,
 * strings with escapes, integers, true/false/null, nesting) are written,
 * parsed into a tree in an arena, queried, and written again; the second
 * text must equal the first.  Prints sizes and checksums. */
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

static uint32_t rng_s = 7;
static uint32_t rng(void)
{
    rng_s ^= rng_s << 13, rng_s ^= rng_s >> 17, rng_s ^= rng_s << 5;
    return rng_s;
}

typedef struct { char *p; size_t n, cap; } buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->n + n > b->cap) {
        b->cap = (b->n + n) * 2;
        b->p = realloc(b->p, b->cap);
        if (!b->p)
            exit(2);
    }
    memcpy(b->p + b->n, s, n);
    b->n += n;
}
static void putc_(buf *b, char c) { put(b, &c, 1); }
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static void put_int(buf *b, long long v)
{
    char t[24];
    int n = 0;
    unsigned long long u = v < 0 ? 0ull - (unsigned long long)v : (unsigned long long)v;
    do {
        t[n++] = (char)('0' + u % 10);
        u /= 10;
    } while (u);
    if (v < 0)
        putc_(b, '-');
    while (n)
        putc_(b, t[--n]);
}

static const char *const names[] = { "id", "name", "tags", "value", "children", "kind",
                                     "enabled", "weight", "note", "items" };

static void gen_string(buf *b)
{
    putc_(b, '"');
    int n = (int)(rng() % 12);
    for (int i = 0; i < n; i++) {
        uint32_t r = rng() % 40;
        if (r == 0)
            puts_(b, "\\\"");
        else if (r == 1)
            puts_(b, "\\n");
        else if (r == 2)
            puts_(b, "\\u00e9");
        else
            putc_(b, (char)('a' + r % 26));
    }
    putc_(b, '"');
}

static void gen(buf *b, int depth)
{
    uint32_t r = rng() % (depth > 5 ? 5 : 8);
    switch (r) {
    case 0: put_int(b, (long long)(int32_t)rng()); break;
    case 1: gen_string(b); break;
    case 2: puts_(b, rng() & 1 ? "true" : "false"); break;
    case 3: puts_(b, "null"); break;
    case 4: put_int(b, (long long)(rng() % 1000)); break;
    case 5: case 6: {
        putc_(b, '{');
        int n = (int)(rng() % 6);
        for (int i = 0; i < n; i++) {
            if (i)
                putc_(b, ',');
            putc_(b, '"');
            puts_(b, names[rng() % 10]);
            putc_(b, '"');
            putc_(b, ':');
            gen(b, depth + 1);
        }
        putc_(b, '}');
        break;
    }
    default: {
        putc_(b, '[');
        int n = (int)(rng() % 7);
        for (int i = 0; i < n; i++) {
            if (i)
                putc_(b, ',');
            gen(b, depth + 1);
        }
        putc_(b, ']');
    }
    }
}

/* ---- the tree ---- */
enum { J_NULL, J_FALSE, J_TRUE, J_INT, J_STR, J_ARR, J_OBJ };
typedef struct jv {
    int kind;
    long long i;
    const char *s;          /* J_STR: raw, escapes kept; object keys too */
    size_t slen;
    struct jv *first, *next;
    const char *key;
    size_t klen;
} jv;

static jv *arena;
static size_t narena, caparena;

static jv *node(int kind)
{
    if (narena == caparena) {
        fprintf(stderr, "arena full\n");
        exit(2);
    }
    jv *v = &arena[narena++];
    memset(v, 0, sizeof *v);
    v->kind = kind;
    return v;
}

static const char *p, *end;

static void ws(void)
{
    while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r'))
        p++;
}

static int parse_str(const char **s, size_t *n)
{
    if (*p != '"')
        return 0;
    const char *q = ++p;
    while (p < end && *p != '"') {
        if (*p == '\\') {
            p++;
            if (*p == 'u')
                p += 4;
        }
        p++;
    }
    if (p >= end)
        return 0;
    *s = q, *n = (size_t)(p - q);
    p++;
    return 1;
}

static jv *parse(void)
{
    ws();
    if (p >= end)
        return NULL;
    char c = *p;
    if (c == '{' || c == '[') {
        jv *v = node(c == '{' ? J_OBJ : J_ARR), **tail = &v->first;
        p++;
        ws();
        char close = c == '{' ? '}' : ']';
        if (*p == close) {
            p++;
            return v;
        }
        for (;;) {
            const char *k = NULL;
            size_t kl = 0;
            if (c == '{') {
                ws();
                if (!parse_str(&k, &kl))
                    return NULL;
                ws();
                if (*p++ != ':')
                    return NULL;
            }
            jv *e = parse();
            if (!e)
                return NULL;
            e->key = k, e->klen = kl;
            *tail = e, tail = &e->next;
            ws();
            if (*p == ',') {
                p++;
                continue;
            }
            if (*p++ != close)
                return NULL;
            return v;
        }
    }
    if (c == '"') {
        jv *v = node(J_STR);
        return parse_str(&v->s, &v->slen) ? v : NULL;
    }
    if (c == '-' || (c >= '0' && c <= '9')) {
        int neg = c == '-';
        if (neg)
            p++;
        unsigned long long u = 0;
        while (p < end && *p >= '0' && *p <= '9')
            u = u * 10 + (unsigned)(*p++ - '0');
        jv *v = node(J_INT);
        v->i = neg ? -(long long)u : (long long)u;
        return v;
    }
    if (!strncmp(p, "true", 4)) { p += 4; return node(J_TRUE); }
    if (!strncmp(p, "false", 5)) { p += 5; return node(J_FALSE); }
    if (!strncmp(p, "null", 4)) { p += 4; return node(J_NULL); }
    return NULL;
}

static void write_(buf *b, const jv *v)
{
    switch (v->kind) {
    case J_NULL: puts_(b, "null"); break;
    case J_FALSE: puts_(b, "false"); break;
    case J_TRUE: puts_(b, "true"); break;
    case J_INT: put_int(b, v->i); break;
    case J_STR: putc_(b, '"'); put(b, v->s, v->slen); putc_(b, '"'); break;
    default:
        putc_(b, v->kind == J_OBJ ? '{' : '[');
        for (const jv *e = v->first; e; e = e->next) {
            if (e != v->first)
                putc_(b, ',');
            if (v->kind == J_OBJ) {
                putc_(b, '"');
                put(b, e->key, e->klen);
                puts_(b, "\":");
            }
            write_(b, e);
        }
        putc_(b, v->kind == J_OBJ ? '}' : ']');
    }
}

/* a query: the sum of every "value" member and the number of strings */
static void walk(const jv *v, long long *sum, long *strs)
{
    for (const jv *e = v->first; e; e = e->next) {
        if (e->key && e->klen == 5 && !memcmp(e->key, "value", 5) && e->kind == J_INT)
            *sum += e->i;
        if (e->kind == J_STR)
            (*strs)++;
        walk(e, sum, strs);
    }
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    caparena = 1 << 20;
    arena = malloc(caparena * sizeof *arena);
    buf doc = { 0 }, out = { 0 };
    unsigned long long check = 0;
    for (int r = 0; r < 12 * scale; r++) {
        doc.n = out.n = 0;
        putc_(&doc, '[');
        for (int k = 0; k < 3000; k++) {
            if (k)
                putc_(&doc, ',');
            gen(&doc, 0);
        }
        putc_(&doc, ']');
        narena = 0;
        p = doc.p, end = doc.p + doc.n;
        jv *root = parse();
        if (!root) {
            printf("round %d: parse error at %ld\n", r, (long)(p - doc.p));
            return 1;
        }
        write_(&out, root);
        if (out.n != doc.n || memcmp(out.p, doc.p, doc.n)) {
            printf("round %d: the text written again differs\n", r);
            return 1;
        }
        long long sum = 0;
        long strs = 0;
        walk(root, &sum, &strs);
        uint32_t h = 2166136261u;
        for (size_t i = 0; i < out.n; i++)
            h = (h ^ (uint8_t)out.p[i]) * 16777619u;
        if (r < 4)
            printf("round %d: %zu bytes, %zu nodes, sum %lld, %ld strings, %08x\n", r, doc.n,
                   narena, sum, strs, h);
        check += (unsigned long long)sum + (unsigned long long)strs + h;
    }
    printf("json: %d rounds, check %llu\n", 12 * scale, check);
    free(arena);
    free(doc.p);
    free(out.p);
    return 0;
}
