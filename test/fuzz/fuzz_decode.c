/*
 * fuzz_decode.c - libFuzzer target for the decoder and validator.
 *
 * Every input goes through gate_validate and, when valid, through
 * gate_module_new and every function body walk, with small limits so the
 * fuzzer also reaches the limit paths.  Any crash, sanitizer report or
 * leak is a bug.  See docs/fuzzing.md.
 */
#include <stdint.h>
#include <stddef.h>

#include "../../compiler/compiler.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gate_error err;
    gate_config cfg;
    gate_config_init(&cfg);
    gate_engine *eng = gate_engine_new(&cfg, &err);
    if (!eng)
        return 0;
    gate_status st = gate_validate(eng, data, size, &err);
    if (st == GATE_OK) {
        gate_module *mod = gate_module_new(eng, data, size, &err);
        if (!mod)
            __builtin_trap();           /* validate and module_new disagree */
        gate_module_free(mod);
    } else if (err.status != st || !err.message[0] ||
               (err.offset != UINT64_MAX && err.offset > size)) {
        __builtin_trap();               /* every rejection says what and where */
    }
    /* the same bytes with tight limits */
    gate_engine_free(eng);
    cfg.max_locals = 64;
    cfg.max_nesting = 8;
    cfg.max_function_size = 256;
    eng = gate_engine_new(&cfg, &err);
    if (eng) {
        gate_validate(eng, data, size, &err);
        gate_engine_free(eng);
    }
    return 0;
}
