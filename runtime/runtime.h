/* runtime.h - internal header of runtime/: engine and module objects. */
#ifndef GATE_RUNTIME_H
#define GATE_RUNTIME_H

#include "../compiler/compiler.h"

struct gate_engine {
    gate_config cfg;
    gx_alloc alloc;
    gd_limits_cfg lim;
};

struct gate_module {
    gate_engine *eng;
    uint8_t *bytes;           /* private copy of the module */
    size_t size;
    uint64_t hash;            /* xxh64, seed 0 */
    gd_module info;
};

#endif
