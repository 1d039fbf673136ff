/*
 * zygote.c - `gate init`: initialise a program once and save it as a
 * zygote, which `gate run --fork` starts children from.
 *
 *   gate init [--init=EXPORT | --until-import=MODULE.NAME] [--trap] [--preopen NAME]...
 *             [--timeout=DURATION]
 *             [--fuel] [--deterministic] [--explicit-bounds]
 *             [--max-memory-pages N] [--stack-size BYTES] PROG.wasm -o PROG.zygote
 *
 * The program runs with no authority at all: no arguments, environment,
 * descriptors, clocks or randomness (every WASI call, every other import).
 * By default it runs _start until its first call to one, which each child
 * then makes with its own (--trap: that call traps instead and nothing is
 * saved).  --init runs another export; --until-import stops at the first
 * call of that import (gate.zygote_ready, which a program may import to
 * mark the point, always stops it).  --preopen NAME: the initialisation
 * sees a preopen of that guest name (fd 3, 4, ... in order) but no
 * directory behind it: a C library's start-up reads the names, and every
 * child must be granted exactly these (gate run --fork --dir HOST::NAME).
 * --timeout bounds the initialisation (a program that never reaches its
 * end or an authority is refused, not waited for).
 * The zygote is a snapshot, written
 * atomically: a valid wasm module, resumable on either CPU type.
 */
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static int usage_init(void)
{
    fprintf(stderr, "usage: gate init [--init=EXPORT | --until-import=MODULE.NAME] [--trap]\n"
                    "                 [--preopen NAME]... [--timeout=DURATION]\n"
                    "                 [--fuel] [--deterministic] [--explicit-bounds]\n"
                    "                 [--max-memory-pages N] [--stack-size BYTES]\n"
                    "                 PROG.wasm -o PROG.zygote\n");
    return 2;
}

int cli_init(int argc, char **argv)
{
    const char *prog = NULL, *out = NULL, *init = NULL, *until = NULL;
    gate_config cfg;
    gate_config_init(&cfg);
    gate_zygote_config zc;
    gate_zygote_config_init(&zc);
    const char *pre[256];
    int npre = 0;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strncmp(o, "--init=", 7) && o[7]) {
            init = o + 7;
        } else if (!strncmp(o, "--until-import=", 15) && o[15]) {
            until = o + 15;
        } else if (!strncmp(o, "--timeout=", 10)) {
            if (!cli_duration(o + 10, &zc.timeout_ns))
                return usage_init();
        } else if (!strcmp(o, "--trap")) {
            zc.mode = GATE_ZYGOTE_TRAP;
        } else if (!strcmp(o, "--fuel")) {
            cfg.fuel = 1;
        } else if (!strcmp(o, "--deterministic")) {
            cfg.deterministic = 1;
        } else if (!strcmp(o, "--explicit-bounds")) {
            cfg.bounds = GATE_BOUNDS_EXPLICIT;
        } else if (!strcmp(o, "--max-memory-pages") && val) {
            if (!cli_parse_pages(argv[++i], &zc.limits.max_memory_pages))
                return usage_init();
        } else if (!strcmp(o, "--stack-size") && val) {
            if (!cli_parse_stack(argv[++i], &zc.limits.stack_size))
                return usage_init();
        } else if (!strcmp(o, "--preopen") && val) {
            if (npre == 256 || !argv[i + 1][0])
                return usage_init();
            pre[npre++] = argv[++i];
        } else if (!strcmp(o, "-o") && val) {
            out = argv[++i];
        } else if (o[0] == '-' || prog) {
            return usage_init();
        } else {
            prog = o;
        }
    }
    if (!prog || !out)
        return usage_init();
    char umod[256], uname[256];
    if (until) {
        const char *dot = strchr(until, '.');
        if (!dot || dot == until || !dot[1] || (size_t)(dot - until) >= sizeof umod ||
            strlen(dot + 1) >= sizeof uname) {
            fprintf(stderr, "gate init: --until-import takes MODULE.NAME\n");
            return 2;
        }
        memcpy(umod, until, (size_t)(dot - until));
        umod[dot - until] = 0;
        strcpy(uname, dot + 1);
        zc.until_module = umod;
        zc.until_name = uname;
    }
    zc.init = init ? init : "_start";
    zc.preopens = pre;
    zc.npreopens = npre;
    size_t len;
    uint8_t *bytes = cli_read_file(prog, &len);
    if (!bytes)
        return 2;
    int rc = 1;
    gate_error err;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    gate_module *mod = eng ? cli_load(eng, bytes, len, &err) : NULL;
    gate_instance *z = NULL;
    if (!eng || !mod) {
        cli_report(prog, &err);
        goto done;
    }
    z = gate_zygote_new(mod, &zc, &err);
    if (!z) {
        cli_report(prog, &err);
        goto done;
    }
    if (!gate_is_suspended(z) && !strcmp(zc.init, "_start")) {
        fprintf(stderr, "gate init: %s: the program ran to its end without using an authority; "
                "a child would run it again from the start: nothing saved\n", prog);
        goto done;
    }
    uint8_t *snap;
    size_t slen;
    if (gate_snapshot(z, &snap, &slen, &err) != GATE_OK) {
        cli_report(prog, &err);
        goto done;
    }
    bool ok = cli_write_atomic(out, snap, slen);
    gate_free_buffer(eng, snap, slen);
    if (!ok) {
        rc = 2;
        goto done;
    }
    uint64_t mem = 0;
    gate_memory_data(z, &mem);
    char pend[300];
    if (gate_zygote_pending(z, pend, sizeof pend))
        fprintf(stderr, "gate init: %s: initialised (%llu KiB of memory), stopped at its first "
                "call to %s, which each child makes with its own\n", out,
                (unsigned long long)(mem >> 10), pend);
    else
        fprintf(stderr, "gate init: %s: initialised (%llu KiB of memory), %s returned\n", out,
                (unsigned long long)(mem >> 10), zc.init);
    rc = 0;
done:
    gate_instance_free(z);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
