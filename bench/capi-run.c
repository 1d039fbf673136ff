/*
 * capi-run.c - runs a WASI program through the C API, the way an
 * embedding host would: engine, module (compiled here, no cache),
 * WASI imports, instance, _start.  Exit status: the program's.
 *
 *   capi-run PROG.wasm [ARGS...]
 */
#include <stdio.h>
#include <stdlib.h>

#include "libgate.h"

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: capi-run PROG.wasm [ARGS...]\n");
        return 2;
    }
    FILE *f = fopen(argv[1], "rb");
    if (!f) {
        perror(argv[1]);
        return 2;
    }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *bytes = malloc((size_t)n + 1);
    if (!bytes || fread(bytes, 1, (size_t)n, f) != (size_t)n) {
        fprintf(stderr, "%s: cannot read\n", argv[1]);
        return 2;
    }
    fclose(f);
    gate_error e;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_module *mod = eng ? gate_module_new(eng, bytes, (size_t)n, &e) : NULL;
    gate_imports *imp = mod ? gate_imports_new(eng) : NULL;
    gate_wasi_config wc = { .argc = argc - 1, .argv = (const char *const *)argv + 1 };
    gate_instance *in = NULL;
    if (imp && gate_imports_wasi(imp, &wc, &e) == GATE_OK)
        in = gate_instance_new(mod, imp, NULL, &e);
    if (!in) {
        fprintf(stderr, "capi-run: %s\n", e.message);
        return 1;
    }
    gate_status st = gate_call(in, "_start", NULL, 0, NULL, 0, &e);
    int rc = st == GATE_OK ? 0 : st == GATE_EXITED ? gate_exit_code(in) : 134;
    if (st != GATE_OK && st != GATE_EXITED)
        fprintf(stderr, "capi-run: %s\n", e.message);
    fflush(stdout);
    gate_instance_free(in);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
