/* json.h - a small JSON reader for the spec harness (wast2json output). */
#ifndef GATE_TEST_JSON_H
#define GATE_TEST_JSON_H

#include <stddef.h>

typedef enum { JS_NULL, JS_BOOL, JS_NUM, JS_STR, JS_ARR, JS_OBJ } js_kind;

typedef struct js {
    js_kind kind;
    char *str;            /* JS_STR; object member name in `key` */
    size_t len;           /* of str: \u0000 may be inside */
    char *key;
    double num;
    int boolean;
    struct js *items;     /* JS_ARR / JS_OBJ children */
    size_t n;
} js;

/* Parses text; returns NULL and fills errbuf on a syntax error. */
js *js_parse(const char *text, char *errbuf, size_t errlen);
void js_free(js *v);
/* Member of an object, or NULL. */
const js *js_get(const js *obj, const char *key);
/* String member, or NULL. */
const char *js_str(const js *obj, const char *key);

#endif
