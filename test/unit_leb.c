/* unit_leb.c - LEB128 and fixed-width reads: edges, overlong, sign bits. */
#include "unit.h"

static gr_reader rd(const uint8_t *b, size_t n, gate_error *err)
{
    memset(err, 0, sizeof *err);
    return (gr_reader){ .base = b, .pos = 0, .end = n, .err = err };
}

#define U32_OK(bytes, want) do { \
        gate_error e; static const uint8_t b_[] = bytes; \
        gr_reader r = rd(b_, sizeof b_ - 1, &e); uint32_t v = 0; \
        assert_true(gr_u32(&r, &v)); assert_int_equal(v, (want)); \
        assert_int_equal(r.pos, sizeof b_ - 1); } while (0)
#define U32_BAD(bytes, msg) do { \
        gate_error e; static const uint8_t b_[] = bytes; \
        gr_reader r = rd(b_, sizeof b_ - 1, &e); uint32_t v = 0; \
        assert_false(gr_u32(&r, &v)); assert_int_equal(e.status, GATE_ERR_MALFORMED); \
        assert_non_null(strstr(e.message, msg)); } while (0)

static void u32_edges(void **state)
{
    (void)state;
    U32_OK("\x00", 0);
    U32_OK("\x01", 1);
    U32_OK("\x7f", 127);
    U32_OK("\x80\x01", 128);
    U32_OK("\xff\xff\xff\xff\x0f", UINT32_MAX);
    /* non-minimal encodings are allowed up to five bytes */
    U32_OK("\x80\x00", 0);
    U32_OK("\x80\x80\x80\x80\x00", 0);
    U32_OK("\x83\x80\x80\x80\x00", 3);
    /* too many bytes */
    U32_BAD("\x80\x80\x80\x80\x80\x00", "too long");
    /* unused bits of the fifth byte set */
    U32_BAD("\xff\xff\xff\xff\x1f", "too large");
    U32_BAD("\x80\x80\x80\x80\x10", "too large");
    U32_BAD("\x80\x80\x80\x80\x70", "too large");
    /* truncated */
    U32_BAD("\x80", "unexpected end");
    U32_BAD("\xff\xff\xff\xff", "unexpected end");
    U32_BAD("", "unexpected end");
}

static void s32_edges(void **state)
{
    (void)state;
    struct { const char *b; size_t n; int ok; int32_t v; } t[] = {
        { "\x00", 1, 1, 0 },
        { "\x7f", 1, 1, -1 },
        { "\x3f", 1, 1, 63 },
        { "\x40", 1, 1, -64 },
        { "\xc0\x00", 2, 1, 64 },
        { "\xff\x7e", 2, 1, -129 },
        { "\xff\xff\xff\xff\x07", 5, 1, INT32_MAX },
        { "\x80\x80\x80\x80\x78", 5, 1, INT32_MIN },
        { "\xff\xff\xff\xff\x7f", 5, 1, -1 },
        { "\x80\x80\x80\x80\x00", 5, 1, 0 },
        /* fifth byte: bits above the sign bit must copy it */
        { "\xff\xff\xff\xff\x0f", 5, 0, 0 },
        { "\x80\x80\x80\x80\x70", 5, 0, 0 },
        { "\xff\xff\xff\xff\x4f", 5, 0, 0 },
        { "\x80\x80\x80\x80\x80\x00", 6, 0, 0 },
        { "\xff", 1, 0, 0 },
    };
    for (size_t i = 0; i < sizeof t / sizeof t[0]; i++) {
        gate_error e;
        gr_reader r = rd((const uint8_t *)t[i].b, t[i].n, &e);
        int32_t v = 0;
        bool ok = gr_s32(&r, &v);
        if (ok != (bool)t[i].ok)
            fail_msg("case %zu: expected %s", i, t[i].ok ? "success" : "failure");
        if (ok)
            assert_int_equal(v, t[i].v);
        else
            assert_int_equal(e.status, GATE_ERR_MALFORMED);
    }
}

static void s33_s64_edges(void **state)
{
    (void)state;
    gate_error e;
    int64_t v;
    /* s33: block type index 2^32-1 needs 33 bits */
    gr_reader r = rd((const uint8_t *)"\xff\xff\xff\xff\x0f", 5, &e);
    assert_true(gr_s33(&r, &v));
    assert_int_equal(v, (int64_t)UINT32_MAX);
    r = rd((const uint8_t *)"\xff\xff\xff\xff\x1f", 5, &e);
    assert_false(gr_s33(&r, &v));
    r = rd((const uint8_t *)"\x40", 1, &e);
    assert_true(gr_s33(&r, &v));
    assert_int_equal(v, -64);
    /* s64 extremes */
    r = rd((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x00", 10, &e);
    assert_true(gr_s64(&r, &v));
    assert_int_equal(v, INT64_MAX);
    r = rd((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x7f", 10, &e);
    assert_true(gr_s64(&r, &v));
    assert_int_equal(v, INT64_MIN);
    r = rd((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x01", 10, &e);
    assert_false(gr_s64(&r, &v));
    assert_non_null(strstr(e.message, "too large"));
    r = rd((const uint8_t *)"\xff\xff\xff\xff\xff\xff\xff\xff\xff\x7e", 10, &e);
    assert_false(gr_s64(&r, &v));
    r = rd((const uint8_t *)"\x80\x80\x80\x80\x80\x80\x80\x80\x80\x80\x00", 11, &e);
    assert_false(gr_s64(&r, &v));
    assert_non_null(strstr(e.message, "too long"));
}

static void error_offsets(void **state)
{
    (void)state;
    /* the offset of a bad LEB is where it starts, shifted by delta */
    static const uint8_t b[] = { 0x01, 0x80, 0x80, 0x80, 0x80, 0x80, 0x00 };
    gate_error e;
    gr_reader r = rd(b, sizeof b, &e);
    r.delta = 100;
    uint32_t v;
    assert_true(gr_u32(&r, &v));
    assert_false(gr_u32(&r, &v));
    assert_int_equal(e.offset, 101);
}

static void fixed_and_names(void **state)
{
    (void)state;
    gate_error e;
    uint32_t v32;
    uint64_t v64;
    gr_reader r = rd((const uint8_t *)"\x78\x56\x34\x12\x01\x02\x03\x04\x05\x06\x07\x08", 12, &e);
    assert_true(gr_fixed32(&r, &v32));
    assert_int_equal(v32, 0x12345678u);
    assert_true(gr_fixed64(&r, &v64));
    assert_true(v64 == 0x0807060504030201ull);
    assert_false(gr_fixed32(&r, &v32));
    /* names: strict UTF-8 */
    const uint8_t *s;
    uint32_t n;
    r = rd((const uint8_t *)"\x03\xe2\x82\xac", 4, &e);
    assert_true(gr_name(&r, &s, &n));
    assert_int_equal(n, 3);
    r = rd((const uint8_t *)"\x02\xc0\x80", 3, &e);     /* overlong NUL */
    assert_false(gr_name(&r, &s, &n));
    r = rd((const uint8_t *)"\x03\xed\xa0\x80", 4, &e); /* surrogate */
    assert_false(gr_name(&r, &s, &n));
    r = rd((const uint8_t *)"\x04\xf4\x90\x80\x80", 5, &e); /* > U+10FFFF */
    assert_false(gr_name(&r, &s, &n));
    r = rd((const uint8_t *)"\x05\x41", 2, &e);          /* length past end */
    assert_false(gr_name(&r, &s, &n));
    assert_non_null(strstr(e.message, "unexpected end"));
}

/* The inline readers take shortcuts when a few bytes follow (two and
   three byte u32, up to four byte s32/s64): every length, minimal and
   padded, with bytes after the number, must read as the general path. */
static size_t enc_u(uint64_t v, unsigned len, uint8_t *out)
{
    for (unsigned i = 0; i < len; i++, v >>= 7)
        out[i] = (uint8_t)((v & 0x7f) | (i + 1 < len ? 0x80 : 0));
    return len;
}

static void inline_paths(void **state)
{
    (void)state;
    static const int64_t vals[] = { 0, 1, -1, 63, -64, 64, -65, 127, 128, 8191, -8192, 8192,
                                    -8193, 16383, 16384, 1048575, -1048576, 1048576,
                                    (1 << 27) - 1, -(1 << 27), 1 << 27, INT32_MAX, INT32_MIN,
                                    INT64_MAX, INT64_MIN, (int64_t)1 << 40 };
    for (size_t k = 0; k < sizeof vals / sizeof vals[0]; k++) {
        int64_t x = vals[k];
        for (unsigned len = 1; len <= 10; len++) {
            uint8_t b[16];
            memset(b, 0xff, sizeof b);            /* what follows the number */
            enc_u((uint64_t)x, len, b);
            /* the decoded value of these len bytes, sign-extended */
            int64_t want = 0;
            unsigned bits = 7 * len;
            uint64_t u = 0;
            for (unsigned i = 0; i < len; i++)
                u |= (uint64_t)(b[i] & 0x7f) << (7 * i);
            want = bits < 64 && (b[len - 1] & 0x40) ? (int64_t)(u | ~(uint64_t)0 << bits)
                                                    : (int64_t)u;
            gate_error e;
            gr_reader r = rd(b, sizeof b, &e);
            int64_t v64;
            if (len <= 9 && want == x) {
                assert_true(gr_s64(&r, &v64));
                assert_true(v64 == x);
                assert_int_equal(r.pos, len);
            }
            r = rd(b, sizeof b, &e);
            int32_t v32;
            if (len <= 5 && x >= INT32_MIN && x <= INT32_MAX && want == x) {
                assert_true(gr_s32(&r, &v32));
                assert_int_equal(v32, (int32_t)x);
                assert_int_equal(r.pos, len);
            }
            r = rd(b, sizeof b, &e);
            uint32_t vu;
            if (len <= 5 && x >= 0 && x <= UINT32_MAX && (int64_t)u == x) {
                assert_true(gr_u32(&r, &vu));
                assert_int_equal(vu, (uint32_t)x);
                assert_int_equal(r.pos, len);
            }
        }
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(u32_edges),
        cmocka_unit_test(s32_edges),
        cmocka_unit_test(s33_s64_edges),
        cmocka_unit_test(error_offsets),
        cmocka_unit_test(fixed_and_names),
        cmocka_unit_test(inline_paths),
    };
    return cmocka_run_group_tests_name("leb128", tests, NULL, NULL);
}
