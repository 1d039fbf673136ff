/* unit_truncate.c - a small module with every section, cut at every byte
   and corrupted at every byte: never a crash, always a clean answer. */
#include "unit.h"
#include "data/small_wasm.h"

/* Offsets where a section ends: prefixes ending there may be valid. */
static int section_end(size_t n)
{
    size_t pos = 8;
    if (n == 8)
        return 1;
    while (pos < sizeof small_wasm) {
        gr_reader r = { .base = small_wasm, .pos = pos + 1, .end = sizeof small_wasm };
        uint32_t len;
        if (!gr_u32(&r, &len))
            return 0;
        pos = r.pos + len;
        if (pos == n)
            return 1;
    }
    return 0;
}

static void whole_module_is_valid(void **state)
{
    (void)state;
    gate_error e;
    assert_int_equal(check(small_wasm, sizeof small_wasm, &e), GATE_OK);
}

static void truncated_at_every_byte(void **state)
{
    (void)state;
    int valid_prefixes = 0;
    for (size_t n = 0; n < sizeof small_wasm; n++) {
        /* a private copy of exactly n bytes, so ASan sees any overread */
        uint8_t *b = malloc(n ? n : 1);
        memcpy(b, small_wasm, n);
        gate_error e;
        gate_status st = check(b, n, &e);
        free(b);
        if (st == GATE_OK) {
            /* only a prefix that ends at a section boundary, and that does
               not cut the function/code pair apart, can be a module */
            if (!section_end(n))
                fail_msg("prefix of %zu bytes accepted", n);
            valid_prefixes++;
            continue;
        }
        if (st != GATE_ERR_MALFORMED && st != GATE_ERR_INVALID)
            fail_msg("prefix of %zu bytes: status %d", n, st);
        if (e.offset > n)
            fail_msg("prefix of %zu bytes: offset %llu past the end", n,
                     (unsigned long long)e.offset);
        if (!e.message[0])
            fail_msg("prefix of %zu bytes: empty message", n);
    }
    /* header only, header+type, +import, +function? (no: code missing) */
    assert_true(valid_prefixes >= 3);
}

static void corrupted_at_every_byte(void **state)
{
    (void)state;
    uint8_t b[sizeof small_wasm];
    static const uint8_t values[] = { 0x00, 0x01, 0x7f, 0x80, 0xff, 0x0b, 0x40, 0x41 };
    long rejected = 0;
    for (size_t i = 0; i < sizeof small_wasm; i++) {
        for (size_t k = 0; k < sizeof values + 8; k++) {
            memcpy(b, small_wasm, sizeof b);
            if (k < sizeof values)
                b[i] = values[k];
            else
                b[i] ^= (uint8_t)(1u << (k - sizeof values));
            gate_error e;
            gate_status st = check(b, sizeof b, &e);
            if (st != GATE_OK) {
                rejected++;
                assert_true(e.offset <= sizeof b);
                assert_true(e.message[0] != 0);
            }
        }
    }
    assert_true(rejected > 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(whole_module_is_valid),
        cmocka_unit_test(truncated_at_every_byte),
        cmocka_unit_test(corrupted_at_every_byte),
    };
    return cmocka_run_group_tests_name("truncate", tests, NULL, NULL);
}
