/*
 * compile.c - `gate compile`: ahead-of-time compilation to an object, and
 * the helpers that load objects and write files atomically.
 *
 *   gate compile [--target x86_64|arm64] [--explicit-bounds] PROG.wasm -o PROG.gobj
 *
 * The object is sealed with this user's key (trust.c): gate runs it for
 * this user, on either CPU type, and for nobody else without
 * --trust-object.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

gate_module *cli_load(gate_engine *eng, const uint8_t *bytes, size_t len, gate_error *err)
{
    if (len >= 8 && !memcmp(bytes, "GATEOBJ", 8))
        return gate_module_load_object(eng, bytes, len, err);
    return gate_module_new(eng, bytes, len, err);
}

bool cli_write_atomic(const char *path, const uint8_t *bytes, size_t len)
{
    gate_error err = { .status = GATE_OK };
    if (gx_write_atomic(path, bytes, len, &err))
        return true;
    fprintf(stderr, "gate: %s\n", err.message);
    return false;
}

static int usage_compile(void)
{
    fprintf(stderr, "usage: gate compile [--target x86_64|arm64] [--explicit-bounds] [--fuel] "
                    "[--deterministic] PROG.wasm -o PROG.gobj\n");
    return 2;
}

int cli_compile(int argc, char **argv)
{
    const char *in = NULL, *out = NULL;
    gate_target target = GATE_TARGET_HOST;
    gate_config cfg;
    gate_config_init(&cfg);
    for (int i = 2; i < argc; i++) {
        if (!strcmp(argv[i], "-o") && i + 1 < argc) {
            out = argv[++i];
        } else if (!strcmp(argv[i], "--target") && i + 1 < argc) {
            const char *t = argv[++i];
            if (!strcmp(t, "x86_64"))
                target = GATE_TARGET_X86_64;
            else if (!strcmp(t, "arm64") || !strcmp(t, "aarch64"))
                target = GATE_TARGET_ARM64;
            else
                return usage_compile();
        } else if (!strcmp(argv[i], "--explicit-bounds")) {
            cfg.bounds = GATE_BOUNDS_EXPLICIT;
        } else if (!strcmp(argv[i], "--fuel")) {
            cfg.fuel = 1;               /* for gate run/resume --fuel=N */
        } else if (!strcmp(argv[i], "--deterministic")) {
            cfg.deterministic = 1;
        } else if (argv[i][0] == '-' || in) {
            return usage_compile();
        } else {
            in = argv[i];
        }
    }
    if (!in || !out)
        return usage_compile();
    size_t len;
    gate_error err;
    uint8_t *bytes = cli_read_file(in, &len);
    if (!bytes)
        return 2;
    int rc = 1;
    uint8_t *obj = NULL;
    size_t olen = 0;
    /* sealed with this user's key: gate run and resume run it here */
    uint8_t key[32];
    gate_engine *eng = cli_engine(&cfg, false, key, &err);
    explicit_bzero(key, sizeof key);
    if (!eng) {
        free(bytes);
        return 2;
    }
    gate_module *mod = gate_module_new(eng, bytes, len, &err);
    if (!mod) {
        cli_report(in, &err);
    } else if (gate_module_write_object(mod, target, &obj, &olen, &err) != GATE_OK) {
        cli_report(in, &err);
    } else if (!cli_write_atomic(out, obj, olen)) {
        rc = 2;
    } else {
        printf("%s: %zu bytes of wasm -> %s: %zu bytes (%s)\n", in, len, out, olen,
               obj[12] == GATE_TARGET_ARM64 ? "arm64" : "x86_64");
        rc = 0;
    }
    if (obj)
        gate_free_buffer(eng, obj, olen);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
