/* json.c - a small JSON reader: enough for wast2json's output. */
#include <stdlib.h>
#include <string.h>
#include <stdio.h>

#include "json.h"

typedef struct {
    const char *s;
    size_t pos;
    char *err;
    size_t errlen;
    int depth;
} jp;

static int perr(jp *p, const char *what)
{
    if (p->err && !p->err[0])
        snprintf(p->err, p->errlen, "json: %s at byte %zu", what, p->pos);
    return 0;
}

static void ws(jp *p)
{
    while (p->s[p->pos] == ' ' || p->s[p->pos] == '\n' || p->s[p->pos] == '\t' ||
           p->s[p->pos] == '\r')
        p->pos++;
}

static int put_utf8(char *o, size_t *n, unsigned cp)
{
    if (cp < 0x80) {
        o[(*n)++] = (char)cp;
    } else if (cp < 0x800) {
        o[(*n)++] = (char)(0xc0 | cp >> 6);
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else if (cp < 0x10000) {
        o[(*n)++] = (char)(0xe0 | cp >> 12);
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    } else {
        o[(*n)++] = (char)(0xf0 | cp >> 18);
        o[(*n)++] = (char)(0x80 | ((cp >> 12) & 0x3f));
        o[(*n)++] = (char)(0x80 | ((cp >> 6) & 0x3f));
        o[(*n)++] = (char)(0x80 | (cp & 0x3f));
    }
    return 1;
}

static int hex4(jp *p, unsigned *out)
{
    unsigned v = 0;
    for (int i = 0; i < 4; i++) {
        char c = p->s[p->pos++];
        v <<= 4;
        if (c >= '0' && c <= '9') v |= (unsigned)(c - '0');
        else if (c >= 'a' && c <= 'f') v |= (unsigned)(c - 'a' + 10);
        else if (c >= 'A' && c <= 'F') v |= (unsigned)(c - 'A' + 10);
        else return perr(p, "bad \\u escape");
    }
    *out = v;
    return 1;
}

static int pstring(jp *p, char **out, size_t *outlen)
{
    p->pos++; /* opening quote */
    size_t start = p->pos, cap = 0;
    while (p->s[start + cap] && p->s[start + cap] != '"')
        cap += p->s[start + cap] == '\\' ? 2 : 1;
    char *o = malloc(cap * 2 + 8);
    size_t n = 0;
    if (!o)
        return perr(p, "out of memory");
    for (;;) {
        char c = p->s[p->pos];
        if (!c) {
            free(o);
            return perr(p, "unterminated string");
        }
        p->pos++;
        if (c == '"')
            break;
        if (c != '\\') {
            o[n++] = c;
            continue;
        }
        c = p->s[p->pos++];
        switch (c) {
        case 'n': o[n++] = '\n'; break;
        case 't': o[n++] = '\t'; break;
        case 'r': o[n++] = '\r'; break;
        case 'b': o[n++] = '\b'; break;
        case 'f': o[n++] = '\f'; break;
        case 'u': {
            unsigned cp, lo;
            if (!hex4(p, &cp)) {
                free(o);
                return 0;
            }
            if (cp >= 0xd800 && cp < 0xdc00 && p->s[p->pos] == '\\' && p->s[p->pos + 1] == 'u') {
                p->pos += 2;
                if (!hex4(p, &lo)) {
                    free(o);
                    return 0;
                }
                cp = 0x10000 + ((cp - 0xd800) << 10) + (lo - 0xdc00);
            }
            put_utf8(o, &n, cp);
            break;
        }
        default: o[n++] = c; break;
        }
    }
    o[n] = 0;
    *out = o;
    if (outlen)
        *outlen = n;
    return 1;
}

static int pvalue(jp *p, js *v);

static int pseq(jp *p, js *v, char close)
{
    size_t cap = 0;
    p->pos++;
    if (++p->depth > 64)
        return perr(p, "nesting too deep");
    ws(p);
    if (p->s[p->pos] == close) {
        p->pos++;
        p->depth--;
        return 1;
    }
    for (;;) {
        if (v->n == cap) {
            cap = cap ? cap * 2 : 8;
            js *n = realloc(v->items, cap * sizeof *n);
            if (!n)
                return perr(p, "out of memory");
            v->items = n;
        }
        js *it = &v->items[v->n];
        memset(it, 0, sizeof *it);
        ws(p);
        if (close == '}') {
            if (p->s[p->pos] != '"' || !pstring(p, &it->key, NULL))
                return perr(p, "expected member name");
            ws(p);
            if (p->s[p->pos++] != ':') {
                free(it->key);
                return perr(p, "expected ':'");
            }
        }
        v->n++;
        if (!pvalue(p, it))
            return 0;
        ws(p);
        char c = p->s[p->pos++];
        if (c == close)
            break;
        /* wast2json 1.0.32 writes an assert_trap's expected results with
           no comma between them: `[{"type": "i64"}{"type": "i32"}]` */
        if (c == '{' && close == ']' && p->s[p->pos - 2] == '}') {
            p->pos--;
            continue;
        }
        if (c != ',')
            return perr(p, "expected ',' or end");
    }
    p->depth--;
    return 1;
}

static int pvalue(jp *p, js *v)
{
    ws(p);
    char c = p->s[p->pos];
    if (c == '{') {
        v->kind = JS_OBJ;
        return pseq(p, v, '}');
    }
    if (c == '[') {
        v->kind = JS_ARR;
        return pseq(p, v, ']');
    }
    if (c == '"') {
        v->kind = JS_STR;
        return pstring(p, &v->str, &v->len);
    }
    if (!strncmp(p->s + p->pos, "true", 4) || !strncmp(p->s + p->pos, "false", 5)) {
        v->kind = JS_BOOL;
        v->boolean = c == 't';
        p->pos += c == 't' ? 4 : 5;
        return 1;
    }
    if (!strncmp(p->s + p->pos, "null", 4)) {
        v->kind = JS_NULL;
        p->pos += 4;
        return 1;
    }
    char *end;
    v->num = strtod(p->s + p->pos, &end);
    if (end == p->s + p->pos)
        return perr(p, "unexpected character");
    v->kind = JS_NUM;
    p->pos = (size_t)(end - p->s);
    return 1;
}

static void js_clear(js *v)
{
    for (size_t i = 0; i < v->n; i++)
        js_clear(&v->items[i]);
    free(v->items);
    free(v->str);
    free(v->key);
}

js *js_parse(const char *text, char *errbuf, size_t errlen)
{
    jp p = { text, 0, errbuf, errlen, 0 };
    if (errbuf && errlen)
        errbuf[0] = 0;
    js *v = calloc(1, sizeof *v);
    if (!v)
        return NULL;
    if (!pvalue(&p, v)) {
        js_free(v);
        return NULL;
    }
    return v;
}

void js_free(js *v)
{
    if (!v)
        return;
    js_clear(v);
    free(v);
}

const js *js_get(const js *obj, const char *key)
{
    if (!obj || obj->kind != JS_OBJ)
        return NULL;
    for (size_t i = 0; i < obj->n; i++)
        if (obj->items[i].key && !strcmp(obj->items[i].key, key))
            return &obj->items[i];
    return NULL;
}

const char *js_str(const js *obj, const char *key)
{
    const js *v = js_get(obj, key);
    return v && v->kind == JS_STR ? v->str : NULL;
}
