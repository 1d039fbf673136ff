/* unit_object.c - AOT objects: round trip, and every kind of bad object
   rejected with a clear error, never loaded. */
#include "unit.h"
#include "../runtime/runtime.h"

#define OTHER_TARGET (RT_HOST_TARGET == GATE_TARGET_X86_64 ? GATE_TARGET_ARM64 : GATE_TARGET_X86_64)
#include <xxhash.h>
#include "data/run_wasm.h"

static gate_engine *eng;
static uint8_t *obj;
static size_t olen;

static int setup(void **state)
{
    (void)state;
    gate_error e;
    eng = gate_engine_new(NULL, &e);
    gate_module *m = gate_module_new(eng, run_wasm, sizeof run_wasm, &e);
    if (!m || gate_module_write_object(m, RT_HOST_TARGET, &obj, &olen, &e) != GATE_OK)
        return -1;
    gate_module_free(m);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    gate_free_buffer(eng, obj, olen);
    gate_engine_free(eng);
    return 0;
}

static int32_t add(gate_instance *in, int32_t a, int32_t b)
{
    gate_val v[2] = { { .type = GATE_I32, .of.i32 = a }, { .type = GATE_I32, .of.i32 = b } };
    gate_val r;
    gate_error e;
    assert_int_equal(gate_call(in, "add", v, 2, &r, 1, &e), GATE_OK);
    return r.of.i32;
}

static void round_trip(void **state)
{
    (void)state;
    rt_signals_reinstall();
    gate_error e;
    gate_module *m = gate_module_load_object(eng, obj, olen, &e);
    assert_non_null(m);
    assert_true(m->from_object);
    gate_instance *in = gate_instance_new(m, NULL, NULL, &e);
    assert_non_null(in);
    assert_int_equal(add(in, 20, 22), 42);
    /* traps work from loaded code too: the trap map came along */
    gate_val v = { .type = GATE_I32, .of.i32 = 70000 }, r;
    assert_int_equal(gate_call(in, "load32", &v, 1, &r, 1, &e), GATE_TRAPPED);
    gate_trap_info ti;
    gate_trap_info_get(in, &ti);
    assert_int_equal(ti.code, GATE_TRAP_MEMORY_OUT_OF_BOUNDS);
    /* and it writes back the same bytes */
    uint8_t *again;
    size_t alen;
    assert_int_equal(gate_module_write_object(m, GATE_TARGET_HOST, &again, &alen, &e), GATE_OK);
    assert_int_equal(alen, olen);
    assert_memory_equal(again, obj, olen);
    gate_free_buffer(eng, again, alen);
    gate_instance_free(in);
    gate_module_free(m);
}

static void rejected(const uint8_t *b, size_t n, gate_status want, const char *msg)
{
    gate_error e;
    uint8_t *copy = malloc(n ? n : 1);
    memcpy(copy, b, n);
    gate_module *m = gate_module_load_object(eng, copy, n, &e);
    free(copy);
    if (m) {
        gate_module_free(m);
        fail_msg("bad object loaded (%s)", msg);
    }
    if (e.status != want || !strstr(e.message, msg))
        fail_msg("want %d \"%s\", got %d \"%s\"", want, msg, e.status, e.message);
}

static void bad_objects(void **state)
{
    (void)state;
    uint8_t *b = malloc(olen);
    /* truncated at every length */
    for (size_t n = 0; n < olen; n += (n < 128 ? 1 : 97))
        rejected(obj, n, GATE_ERR_OBJECT, n < 80 ? "" : "checksum");
    /* one flipped bit anywhere */
    for (size_t i = 0; i < olen; i += 13) {
        memcpy(b, obj, olen);
        b[i] ^= 0x10;
        rejected(b, olen, i < 8 ? GATE_ERR_OBJECT : GATE_ERR_OBJECT,
                 i < 8 ? "magic" : i < 12 ? "version" : "checksum");
    }
    free(b);
}

/* Rewrites a header field and fixes the checksum, as a forger would. */
static void forged(size_t off, uint32_t value, gate_status want, const char *msg)
{
    uint8_t *b = malloc(olen);
    memcpy(b, obj, olen);
    memcpy(b + off, &value, 4);
    uint64_t sum = XXH3_64bits(b, olen - 8);
    memcpy(b + olen - 8, &sum, 8);
    rejected(b, olen, want, msg);
    free(b);
}

static void forged_headers(void **state)
{
    (void)state;
    forged(12, OTHER_TARGET, GATE_ERR_TARGET, "another target");
    forged(16, 0x7fff, GATE_ERR_OBJECT, "compiler version");
    forged(20, 1, GATE_ERR_OBJECT, "bounds-check mode");
    forged(24, 0x12345678, GATE_ERR_OBJECT, "module hash");
    forged(40, 1, GATE_ERR_OBJECT, "sizes do not add up");
    forged(48, 1, GATE_ERR_OBJECT, "sizes do not add up");
    /* a function offset past the code */
    uint32_t msize;
    memcpy(&msize, obj + 32, 4);
    forged(72 + msize, 0x7fffffff, GATE_ERR_OBJECT, "function offset");
    /* made by another build of the compiler (the header's source hash) */
    forged(64, 0x1234, GATE_ERR_OBJECT, "another build of the compiler");
    /* a seal length other than 0 or 32 */
    forged(60, 7, GATE_ERR_OBJECT, "bad seal length");
    /* an object for the other bounds mode is refused by this engine */
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.bounds = GATE_BOUNDS_EXPLICIT;
    gate_error e;
    gate_engine *ex = gate_engine_new(&cfg, &e);
    assert_null(gate_module_load_object(ex, obj, olen, &e));
    assert_non_null(strstr(e.message, "bounds-check mode"));
    gate_engine_free(ex);
    /* an object for the other ISA (cross compilation) is written, carries
       its target, and is refused here */
    gate_module *m = gate_module_new(eng, run_wasm, sizeof run_wasm, &e);
    uint8_t *o;
    size_t n;
    assert_int_equal(gate_module_write_object(m, OTHER_TARGET, &o, &n, &e), GATE_OK);
    assert_int_equal(o[12], OTHER_TARGET);
    assert_null(gate_module_load_object(eng, o, n, &e));
    assert_int_equal(e.status, GATE_ERR_TARGET);
    gate_free_buffer(eng, o, n);
    gate_module_free(m);
}

/* An engine with an object key seals what it writes and loads only what
   verifies; without a key, sealed objects load as any other. */
static gate_engine *keyed(const char *key)
{
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.object_key = (const uint8_t *)key;
    cfg.object_key_len = strlen(key);
    gate_error e;
    gate_engine *k = gate_engine_new(&cfg, &e);
    assert_non_null(k);
    return k;
}

static void sealed_objects(void **state)
{
    (void)state;
    gate_error e;
    gate_engine *a = keyed("the key of user a, 32 bytes long"), *b = keyed("another key, of user b.........");
    gate_module *m = gate_module_new(a, run_wasm, sizeof run_wasm, &e);
    uint8_t *so;
    size_t sn;
    assert_int_equal(gate_module_write_object(m, GATE_TARGET_HOST, &so, &sn, &e), GATE_OK);
    assert_int_equal(sn, olen + 32);
    gate_module *ok = gate_module_load_object(a, so, sn, &e);
    assert_non_null(ok);
    gate_module_free(ok);
    assert_null(gate_module_load_object(b, so, sn, &e));
    assert_non_null(strstr(e.message, "seal does not verify"));
    assert_null(gate_module_load_object(a, obj, olen, &e));          /* unsealed */
    assert_non_null(strstr(e.message, "not sealed"));
    ok = gate_module_load_object(eng, so, sn, &e);                    /* no key */
    assert_non_null(ok);
    gate_module_free(ok);
    /* code changed and the checksum fixed: the seal still catches it */
    uint8_t *f = malloc(sn);
    memcpy(f, so, sn);
    f[sn / 2] ^= 0x01;
    uint64_t sum = XXH3_64bits(f, sn - 40);
    memcpy(f + sn - 40, &sum, 8);
    assert_null(gate_module_load_object(a, f, sn, &e));
    assert_non_null(strstr(e.message, "seal does not verify"));
    free(f);
    /* keys of 16..64 bytes only */
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.object_key = (const uint8_t *)"short";
    cfg.object_key_len = 5;
    assert_null(gate_engine_new(&cfg, &e));
    assert_int_equal(e.status, GATE_ERR_ARG);
    gate_free_buffer(a, so, sn);
    gate_module_free(m);
    gate_engine_free(a);
    gate_engine_free(b);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(round_trip),
        cmocka_unit_test(bad_objects),
        cmocka_unit_test(forged_headers),
        cmocka_unit_test(sealed_objects),
    };
    return cmocka_run_group_tests_name("objects", tests, setup, teardown);
}
