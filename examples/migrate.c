/*
 * migrate.c - moving a running program between processes and CPU types
 * through the C API.  The host function env.tick asks the program to stop
 * at its own call every STOP_EVERY calls made in this process; the stopped
 * program is saved with gate_snapshot_save, and `resume` restores it (on
 * any ISA: the snapshot is portable) and continues until the next stop or
 * the end.
 *
 *   migrate PROG.wasm whole DEPTH          run to the end, print the result
 *   migrate PROG.wasm start DEPTH SNAP     run until the first stop, save
 *   migrate resume SNAP                    continue, save again or finish
 *
 * Exit status: 0 finished (prints "result 0x..."), 75 stopped and saved,
 * 1 error.  examples/migrate.wat is the program the tests and the demo use.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "libgate.h"

enum { STOP_EVERY = 150 };
static unsigned calls;

/* tick(x) = 3x + 1; every STOP_EVERY-th call also asks the program to stop
   right here.  GATE_HOST_COMPLETE: the result computed now is delivered on
   resume, wherever that happens, and tick is not called again. */
static gate_status tick(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    res[0].type = GATE_I32;
    res[0].of.i32 = (int32_t)((uint32_t)args[0].of.i32 * 3u + 1u);
    if (++calls % STOP_EVERY == 0)
        gate_call_request_stop(ctx, GATE_HOST_COMPLETE);
    return GATE_OK;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *b = NULL;
    long n = fseek(f, 0, SEEK_END) == 0 ? ftell(f) : -1;
    if (n >= 0 && fseek(f, 0, SEEK_SET) == 0 && (b = malloc((size_t)n + 1)) &&
        fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = n > 0 ? (size_t)n : 0;
    return b;
}

static int fail(const char *what, const gate_error *e)
{
    char buf[512];
    fprintf(stderr, "migrate: %s: %s\n", what, gate_error_format(e, buf, sizeof buf));
    return 1;
}

/* After a call or a resume: print the result, or save the stopped program. */
static int outcome(gate_instance *in, gate_status st, const gate_val *r, const char *snap,
                   gate_error *e)
{
    if (st == GATE_OK) {
        printf("result 0x%016llx\n", (unsigned long long)r->of.i64);
        return 0;
    }
    if (st != GATE_SUSPENDED)
        return fail("run", e);
    if (gate_snapshot_save(in, snap, e) != GATE_OK)
        return fail("snapshot", e);
    printf("stopped at a host call after %u ticks in this process; saved to %s\n", calls, snap);
    return 75;
}

int main(int argc, char **argv)
{
    int resume = argc == 3 && !strcmp(argv[1], "resume");
    int whole = argc == 4 && !strcmp(argv[2], "whole");
    int start = argc == 5 && !strcmp(argv[2], "start");
    if (!resume && !whole && !start) {
        fprintf(stderr, "usage: migrate PROG.wasm whole DEPTH | PROG.wasm start DEPTH SNAP | "
                        "resume SNAP\n");
        return 2;
    }
    const char *file = resume ? argv[2] : argv[1];
    size_t len;
    unsigned char *bytes = slurp(file, &len);
    if (!bytes) {
        fprintf(stderr, "migrate: cannot read %s\n", file);
        return 1;
    }
    gate_error e;
    int rc = 1;
    gate_engine *eng = gate_engine_new(NULL, &e);
    gate_imports *imp = eng ? gate_imports_new(eng) : NULL;
    gate_module *mod = NULL;
    gate_instance *in = NULL;
    if (!imp || gate_imports_func_raw(imp, "env", "tick", "i(i)", tick, NULL, &e) != GATE_OK) {
        rc = fail("setup", &e);
        goto out;
    }
    gate_val r;
    if (resume) {
        /* the snapshot holds the module, its memory, globals, tables and
           the portable stack; the engine compiles it for this CPU */
        in = gate_snapshot_restore(eng, bytes, len, imp, &e);
        if (!in) {
            rc = fail(file, &e);
            goto out;
        }
        rc = outcome(in, gate_resume(in, &r, 1, &e), &r, file, &e);
        goto out;
    }
    mod = gate_module_new(eng, bytes, len, &e);
    in = mod ? gate_instance_new(mod, imp, NULL, &e) : NULL;
    if (!in) {
        rc = fail(file, &e);
        goto out;
    }
    gate_val depth = { .type = GATE_I32, .of.i32 = atoi(argv[3]) };
    gate_status st = gate_call(in, "run", &depth, 1, &r, 1, &e);
    if (whole)
        while (st == GATE_SUSPENDED)
            st = gate_resume(in, &r, 1, &e);
    rc = outcome(in, st, &r, whole ? NULL : argv[4], &e);
out:
    gate_instance_free(in);
    gate_module_free(mod);
    gate_imports_free(imp);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
