/* unit_limits.c - every section's limits, and section framing errors. */
#include "unit.h"

/* A module holding just section `id` with payload: count, then filler. */
static gate_status one_section(uint8_t id, uint32_t count, size_t filler, gate_error *err,
                               uint64_t *count_off)
{
    mb m = { 0 }, p = { 0 };
    mb_header(&m);
    mb_u32(&p, count);
    for (size_t i = 0; i < filler; i++)
        mb_byte(&p, 0);
    *count_off = m.n + 1 + (p.n < 128 ? 1 : p.n < 16384 ? 2 : 3);
    mb_section(&m, id, &p);
    gate_status st = check(m.b, m.n, err);
    mb_free(&m);
    mb_free(&p);
    return st;
}

static void counts_over_limits(void **state)
{
    (void)state;
    struct { uint8_t id; uint32_t limit; const char *what; } t[] = {
        { 1, GD_MAX_TYPES, "types" },
        { 2, GD_MAX_IMPORTS, "imports" },
        { 3, GD_MAX_FUNCS, "functions" },
        { 4, GD_MAX_TABLES, "tables" },
        { 6, GD_MAX_GLOBALS, "globals" },
        { 7, GD_MAX_EXPORTS, "exports" },
        { 9, GD_MAX_ELEMS, "element segments" },
        { 11, GD_MAX_DATA, "data segments" },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        gate_error e;
        uint64_t off;
        assert_int_equal(one_section(t[i].id, t[i].limit + 1, 0, &e, &off), GATE_ERR_LIMIT);
        assert_int_equal(e.offset, off);
        assert_non_null(strstr(e.message, t[i].what));
        /* at the limit the count is fine, but the entries are missing */
        assert_int_equal(one_section(t[i].id, t[i].limit, 0, &e, &off), GATE_ERR_MALFORMED);
        assert_non_null(strstr(e.message, "unexpected end"));
    }
}

static void type_params_results(void **state)
{
    (void)state;
    gate_error e;
    for (int results = 0; results < 2; results++) {
        for (uint32_t n = GD_MAX_PARAMS; n <= GD_MAX_PARAMS + 1; n++) {
            mb m = { 0 }, p = { 0 };
            mb_header(&m);
            mb_bytes(&p, "\x01\x60", 2);
            if (results)
                mb_byte(&p, 0);
            mb_u32(&p, n);
            for (uint32_t i = 0; i < n; i++)
                mb_byte(&p, GT_I32);
            if (!results)
                mb_byte(&p, 0);
            mb_section(&m, 1, &p);
            gate_status st = check(m.b, m.n, &e);
            assert_int_equal(st, n <= GD_MAX_PARAMS ? GATE_OK : GATE_ERR_LIMIT);
            mb_free(&m);
            mb_free(&p);
        }
    }
}

static void memory_limits(void **state)
{
    (void)state;
    gate_error e;
    mb m = { 0 }, p = { 0 };
    /* two memories: invalid in Wasm 2.0 */
    mb_header(&m);
    mb_bytes(&p, "\x02\x00\x01\x00\x01", 5);
    mb_section(&m, 5, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_INVALID);
    assert_non_null(strstr(e.message, "multiple memories"));
    /* 65536 pages is the maximum; 65537 is invalid */
    m.n = p.n = 0;
    mb_header(&m);
    mb_bytes(&p, "\x01\x01", 2);
    mb_u32(&p, 65536);
    mb_u32(&p, 65536);
    mb_section(&m, 5, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_OK);
    m.n = p.n = 0;
    mb_header(&m);
    mb_bytes(&p, "\x01\x00", 2);
    mb_u32(&p, 65537);
    mb_section(&m, 5, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_INVALID);
    assert_int_equal(e.offset, 11);
    /* limits flags other than 0 and 1 (shared memory is not Wasm 2.0) */
    m.n = p.n = 0;
    mb_header(&m);
    mb_bytes(&p, "\x01\x03\x01\x01", 4);
    mb_section(&m, 5, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_MALFORMED);
    /* min > max */
    m.n = p.n = 0;
    mb_header(&m);
    mb_bytes(&p, "\x01\x01\x02\x01", 4);
    mb_section(&m, 5, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_INVALID);
    mb_free(&m);
    mb_free(&p);
}

static void body_with_locals(mb *body, uint32_t nlocals)
{
    body->n = 0;
    mb_u32(body, 1);
    mb_u32(body, nlocals);
    mb_byte(body, GT_I64);
    mb_byte(body, 0x0b);
}

static void locals_limit(void **state)
{
    (void)state;
    gate_error e;
    mb m = { 0 }, body = { 0 };
    gate_config cfg;
    gate_config_init(&cfg);
    body_with_locals(&body, GD_DEF_LOCALS);
    mb_one_func(&m, &body);
    assert_int_equal(check(m.b, m.n, &e), GATE_OK);
    m.n = 0;
    body_with_locals(&body, GD_DEF_LOCALS + 1);
    mb_one_func(&m, &body);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_LIMIT);
    assert_int_equal(e.func_index, 0);
    /* 2^32 - 1 locals must not overflow anything */
    m.n = 0;
    body_with_locals(&body, UINT32_MAX);
    mb_one_func(&m, &body);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_LIMIT);
    /* the limit is configurable */
    cfg.max_locals = 10;
    m.n = 0;
    body_with_locals(&body, 10);
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_OK);
    m.n = 0;
    body_with_locals(&body, 11);
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_ERR_LIMIT);
    mb_free(&m);
    mb_free(&body);
}

/* A body of `depth` nested blocks. */
static void nested(mb *body, uint32_t depth)
{
    body->n = 0;
    mb_byte(body, 0);
    for (uint32_t i = 0; i < depth; i++)
        mb_bytes(body, "\x02\x40", 2);
    for (uint32_t i = 0; i < depth; i++)
        mb_byte(body, 0x0b);
    mb_byte(body, 0x0b);
}

static void nesting_and_body_size(void **state)
{
    (void)state;
    gate_error e;
    mb m = { 0 }, body = { 0 };
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.max_nesting = 16;
    /* the function frame counts as one level */
    nested(&body, 15);
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_OK);
    m.n = 0;
    nested(&body, 16);
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_ERR_LIMIT);
    assert_non_null(strstr(e.message, "nesting"));
    /* the default limit, hit without recursion */
    m.n = 0;
    nested(&body, GD_DEF_NESTING + 5);
    mb_one_func(&m, &body);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_LIMIT);
    /* body size */
    cfg.max_nesting = 0;
    cfg.max_function_size = 100;
    m.n = 0;
    nested(&body, 33);              /* 1 + 3 * 33 + 1 = 101 bytes */
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_ERR_LIMIT);
    assert_non_null(strstr(e.message, "function body"));
    m.n = 0;
    nested(&body, 32);
    mb_one_func(&m, &body);
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_OK);
    mb_free(&m);
    mb_free(&body);
}

static void br_table_limit(void **state)
{
    (void)state;
    gate_error e;
    mb m = { 0 }, body = { 0 };
    for (uint32_t n = GD_MAX_BRTABLE; n <= GD_MAX_BRTABLE + 1; n++) {
        body.n = m.n = 0;
        mb_byte(&body, 0);
        mb_bytes(&body, "\x41\x00\x0e", 3);   /* i32.const 0; br_table */
        mb_u32(&body, n);
        for (uint32_t i = 0; i <= n; i++)
            mb_byte(&body, 0);
        mb_byte(&body, 0x0b);
        mb_one_func(&m, &body);
        assert_int_equal(check(m.b, m.n, &e), n <= GD_MAX_BRTABLE ? GATE_OK : GATE_ERR_LIMIT);
    }
    mb_free(&m);
    mb_free(&body);
}

static void names_and_custom(void **state)
{
    (void)state;
    gate_error e;
    mb m = { 0 }, p = { 0 };
    /* a custom section name longer than the limit */
    mb_header(&m);
    mb_u32(&p, GD_MAX_NAME + 1);
    for (uint32_t i = 0; i <= GD_MAX_NAME; i++)
        mb_byte(&p, 'a');
    mb_section(&m, 0, &p);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_LIMIT);
    /* too many custom sections */
    m.n = 0;
    mb_header(&m);
    for (uint32_t i = 0; i <= GD_MAX_CUSTOM; i++)
        mb_bytes(&m, "\x00\x01\x00", 3);
    assert_int_equal(check(m.b, m.n, &e), GATE_ERR_LIMIT);
    assert_non_null(strstr(e.message, "custom"));
    /* module size limit from the config */
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.max_module_size = 16;
    assert_int_equal(check_cfg(&cfg, m.b, m.n, &e), GATE_ERR_LIMIT);
    mb_free(&m);
    mb_free(&p);
}

static void section_framing(void **state)
{
    (void)state;
    gate_error e;
    struct { const char *b; size_t n; const char *msg; uint64_t off; } t[] = {
        { "\0asm\1\0\0\0\x0d\x00", 10, "section id", 8 },
        { "\0asm\1\0\0\0\x01\x01\x00\x01\x01\x00", 14, "out of order", 11 },
        { "\0asm\1\0\0\0\x03\x01\x00\x01\x01\x00", 14, "out of order", 11 },
        { "\0asm\1\0\0\0\x01\x05\x00", 11, "runs past the end", 8 },
        { "\0asm\1\0\0\0\x01\x02\x00\x00", 12, "size mismatch", 11 },
        { "\0asm\2\0\0\0", 8, "version", 4 },
        { "\0asm\1\0\0", 7, "unexpected end", 4 },
        { "\0ASM\1\0\0\0", 8, "magic", 0 },
        /* code section with no function section */
        { "\0asm\1\0\0\0\x0a\x01\x01", 11, "inconsistent lengths", 10 },
        /* datacount 1 with no data section */
        { "\0asm\1\0\0\0\x0c\x01\x01", 11, "inconsistent lengths", 11 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        gate_status st = check((const uint8_t *)t[i].b, t[i].n, &e);
        if (st != GATE_ERR_MALFORMED || !strstr(e.message, t[i].msg) || e.offset != t[i].off)
            fail_msg("case %zu: status %d offset %llu: %s", i, st,
                     (unsigned long long)e.offset, e.message);
    }
    /* what it is, when it is not a core module of this version */
    assert_int_equal(check((const uint8_t *)"\0asm\x0d\0\1\0", 8, &e), GATE_ERR_NOT_IMPLEMENTED);
    assert_non_null(strstr(e.message, "a WebAssembly component, not a core module"));
    assert_int_equal(e.offset, 4);
    assert_int_equal(check((const uint8_t *)"\0asm\1\0\0\0\x01\x03\x01\x5f\x00", 13, &e),
                     GATE_ERR_NOT_IMPLEMENTED);
    assert_non_null(strstr(e.message, "GC proposal (struct)"));
    assert_int_equal(e.offset, 11);
    /* custom sections may appear anywhere, even between ordered sections */
    assert_int_equal(check((const uint8_t *)"\0asm\1\0\0\0\x00\x01\x00\x01\x01\x00\x00\x02\x01x",
                           18, &e), GATE_OK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(counts_over_limits),
        cmocka_unit_test(type_params_results),
        cmocka_unit_test(memory_limits),
        cmocka_unit_test(locals_limit),
        cmocka_unit_test(nesting_and_body_size),
        cmocka_unit_test(br_table_limit),
        cmocka_unit_test(names_and_custom),
        cmocka_unit_test(section_framing),
    };
    return cmocka_run_group_tests_name("limits", tests, NULL, NULL);
}
