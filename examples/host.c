/*
 * host.c - a small application that embeds libgate: it binds host
 * functions (plain C through libffi, and one raw), instantiates a module,
 * calls its exports, reads its memory and survives its trap.
 *
 *   cc host.c $(pkg-config --cflags --libs gate) -lm -o host
 *   ./host guest.wasm
 */
#include <libgate.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* plain C functions: libffi converts the wasm values */
static void log_i32(int32_t v)
{
    printf("  guest says %d\n", v);
}

static double hypot2(double a, double b)
{
    return sqrt(a * a + b * b);
}

/* a raw host function: values in, values out */
static gate_status ticks(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ctx;
    (void)args;
    int64_t *counter = ud;
    res[0].type = GATE_I64;
    res[0].of.i64 = ++*counter;
    return GATE_OK;
}

static unsigned char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    rewind(f);
    unsigned char *b = malloc(n > 0 ? (size_t)n : 1);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    gate_error err;
    char msg[512];
    size_t len;
    unsigned char *bytes = argc > 1 ? slurp(argv[1], &len) : NULL;
    if (!bytes) {
        fprintf(stderr, "usage: host guest.wasm\n");
        return 2;
    }
    gate_engine *eng = gate_engine_new(NULL, &err);
    gate_module *mod = gate_module_new(eng, bytes, len, &err);
    free(bytes);
    if (!mod) {
        fprintf(stderr, "%s\n", gate_error_format(&err, msg, sizeof msg));
        return 1;
    }
    int64_t counter = 0;
    gate_imports *imp = gate_imports_new(eng);
    if (gate_imports_func(imp, "env", "log_i32", "v(i)", (void (*)(void))log_i32, &err) ||
        gate_imports_func(imp, "env", "hypot", "F(FF)", (void (*)(void))hypot2, &err) ||
        gate_imports_func_raw(imp, "env", "ticks", "I()", ticks, &counter, &err)) {
        fprintf(stderr, "%s\n", gate_error_format(&err, msg, sizeof msg));
        return 1;
    }
    gate_instance *inst = gate_instance_new(mod, imp, NULL, &err);
    if (!inst) {
        fprintf(stderr, "%s\n", gate_error_format(&err, msg, sizeof msg));
        return 1;
    }

    gate_val arg = { .type = GATE_I32, .of.i32 = 1000 }, res;
    printf("squares(1000):\n");
    if (gate_call(inst, "squares", &arg, 1, &res, 1, &err) == GATE_OK)
        printf("  = %lld\n", (long long)res.of.i64);

    gate_val d[2] = { { .type = GATE_F64, .of.f64 = 3 }, { .type = GATE_F64, .of.f64 = 4 } };
    if (gate_call(inst, "diagonal", d, 2, &res, 1, &err) == GATE_OK)
        printf("diagonal(3, 4) = %g\n", res.of.f64);

    for (int i = 0; i < 2; i++)
        if (gate_call(inst, "elapsed", NULL, 0, &res, 1, &err) == GATE_OK)
            printf("elapsed() = %lld\n", (long long)res.of.i64);

    char text[21] = { 0 };
    if (gate_memory_read(inst, 16, text, 20) == GATE_OK)
        printf("memory[16..36] = \"%s\"\n", text);

    gate_status st = gate_call(inst, "crash", NULL, 0, &res, 1, &err);
    gate_trap_info ti;
    gate_trap_info_get(inst, &ti);
    printf("crash() -> %s: %s (code %d, wasm offset 0x%x)\n", gate_status_name(st), err.message,
           ti.code, ti.wasm_offset);

    /* the instance is still usable after its trap */
    arg.of.i32 = 3;
    if (gate_call(inst, "squares", &arg, 1, &res, 1, &err) == GATE_OK)
        printf("squares(3) = %lld after the trap\n", (long long)res.of.i64);

    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
    return 0;
}
