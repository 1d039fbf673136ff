/* unit.h - shared helpers for the cmocka unit tests: a module builder. */
#ifndef GATE_TEST_UNIT_H
#define GATE_TEST_UNIT_H

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../compiler/compiler.h"

/* An immediate as capstone prints it: 0..9 in decimal, larger magnitudes
   in hex (the encoder tests compare against capstone's text). */
static inline void num(char *out, size_t n, int64_t v)
{
    uint64_t mag = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    if (mag <= 9)
        snprintf(out, n, "%s%llu", v < 0 ? "-" : "", (unsigned long long)mag);
    else
        snprintf(out, n, "%s0x%llx", v < 0 ? "-" : "", (unsigned long long)mag);
}

/* Loop counts of the tests that need a program busy for a while: under an
   emulator (RUN_WRAP=qemu-aarch64, set by test/run-arm64.sh) code runs
   tens of times slower, so the count is divided by 50. */
static inline int64_t unit_busy(int64_t n)
{
    const char *w = getenv("RUN_WRAP");
    return w && *w ? n / 50 : n;
}

/* A growable byte buffer that builds modules. */
typedef struct mb {
    uint8_t *b;
    size_t n, cap;
} mb;

static inline void mb_bytes(mb *m, const void *p, size_t n)
{
    if (m->n + n > m->cap) {
        m->cap = (m->n + n) * 2 + 64;
        m->b = realloc(m->b, m->cap);
        assert_non_null(m->b);
    }
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static inline void mb_byte(mb *m, uint8_t v)
{
    mb_bytes(m, &v, 1);
}

static inline void mb_u32(mb *m, uint32_t v)
{
    do {
        uint8_t b = v & 0x7f;
        v >>= 7;
        mb_byte(m, (uint8_t)(b | (v ? 0x80 : 0)));
    } while (v);
}

static inline void mb_header(mb *m)
{
    mb_bytes(m, "\0asm\1\0\0\0", 8);
}

/* Appends section `id` whose payload is p. */
static inline void mb_section(mb *m, uint8_t id, const mb *p)
{
    mb_byte(m, id);
    mb_u32(m, (uint32_t)p->n);
    mb_bytes(m, p->b, p->n);
}

static inline void mb_free(mb *m)
{
    free(m->b);
    m->b = NULL;
    m->n = m->cap = 0;
}

/* Decodes and validates with default limits (or cfg). */
static inline gate_status check_cfg(const gate_config *cfg, const uint8_t *b, size_t n,
                                    gate_error *err)
{
    gate_engine *eng = gate_engine_new(cfg, err);
    assert_non_null(eng);
    gate_status st = gate_validate(eng, b, n, err);
    gate_engine_free(eng);
    return st;
}

static inline gate_status check(const uint8_t *b, size_t n, gate_error *err)
{
    return check_cfg(NULL, b, n, err);
}

/* A module with type 0 = [] -> [] and one function whose body is `code`
   (locals vector included by the caller). */
static inline void mb_one_func(mb *m, const mb *body)
{
    mb p = { 0 };
    mb_header(m);
    mb_bytes(&p, "\x01\x60\x00\x00", 4);
    mb_section(m, 1, &p);
    p.n = 0;
    mb_bytes(&p, "\x01\x00", 2);
    mb_section(m, 3, &p);
    p.n = 0;
    mb_u32(&p, 1);
    mb_u32(&p, (uint32_t)body->n);
    mb_bytes(&p, body->b, body->n);
    mb_section(m, 10, &p);
    mb_free(&p);
}

#endif
