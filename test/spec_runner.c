/*
 * spec_runner.c - runs the commands of wast2json output files against
 * libgate.
 *
 *   spec-runner [-v] [--results FILE.tsv] [--failed-conversion NAME]... JSON...
 *
 * At this stage: `module` must decode and validate; `assert_invalid` and
 * binary `assert_malformed` must be rejected; modules of
 * `assert_unlinkable` / `assert_uninstantiable` must at least validate
 * (they are valid modules; linking comes with issue 3) and are then counted
 * as skipped; text-format `assert_malformed` is skipped ("text format");
 * every command that needs execution is skipped with that reason.
 * The last line is "spec: N passed, N failed, N skipped".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../libgate.h"
#include "json.h"

enum {
    SKIP_TEXT, SKIP_EXEC, SKIP_LINK, SKIP_REGISTER, SKIP_NREASONS
};
static const char *const skip_reason[SKIP_NREASONS] = {
    "text format",
    "needs execution (issue 3)",
    "needs linking and instantiation (issue 3); module validated",
    "register needs instances (issue 3)",
};

typedef struct counts {
    long passed, failed, skipped;
    long skip_by[SKIP_NREASONS];
} counts;

static int verbose;

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END)) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Validates dir/file; returns the status, with the message in err. */
static gate_status check_module(gate_engine *eng, const char *dir, const char *file,
                                gate_error *err)
{
    char path[8192];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *bytes = slurp(path, &len);
    if (!bytes) {
        snprintf(err->message, sizeof err->message, "cannot read %.200s", path);
        err->status = GATE_ERR_IO;
        return GATE_ERR_IO;
    }
    gate_status st = gate_validate(eng, (const uint8_t *)bytes, len, err);
    free(bytes);
    return st;
}

static void skip(counts *c, int why)
{
    c->skipped++;
    c->skip_by[why]++;
}

static void fail_line(const char *src, long line, const char *cmd, const char *what,
                      const gate_error *err)
{
    char msg[512] = "";
    if (err)
        gate_error_format(err, msg, sizeof msg);
    printf("FAIL %s:%ld: %s: %s%s%s\n", src, line, cmd, what, err ? ": " : "", msg);
}

static int run_file(gate_engine *eng, const char *json_path, counts *c)
{
    size_t len;
    char *text = slurp(json_path, &len);
    if (!text) {
        printf("FAIL %s: cannot read\n", json_path);
        c->failed++;
        return 0;
    }
    char perr[128];
    js *root = js_parse(text, perr, sizeof perr);
    free(text);
    const js *cmds = js_get(root, "commands");
    if (!root || !cmds || cmds->kind != JS_ARR) {
        printf("FAIL %s: %s\n", json_path, root ? "no commands" : perr);
        js_free(root);
        c->failed++;
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", json_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    const char *src = js_str(root, "source_filename");
    if (!src)
        src = json_path;

    for (size_t i = 0; i < cmds->n; i++) {
        const js *cmd = &cmds->items[i];
        const char *type = js_str(cmd, "type");
        const char *file = js_str(cmd, "filename");
        const char *mtype = js_str(cmd, "module_type");
        const char *expect = js_str(cmd, "text");
        const js *ln = js_get(cmd, "line");
        long line = ln && ln->kind == JS_NUM ? (long)ln->num : 0;
        gate_error err;
        if (!type) {
            printf("FAIL %s: command %zu has no type\n", src, i);
            c->failed++;
            continue;
        }
        if (!strcmp(type, "module")) {
            if (!file || (mtype && strcmp(mtype, "binary"))) {
                skip(c, SKIP_TEXT);
                continue;
            }
            if (check_module(eng, dir, file, &err) == GATE_OK) {
                c->passed++;
            } else {
                c->failed++;
                fail_line(src, line, type, "valid module rejected", &err);
            }
        } else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
            if (!file || (mtype && strcmp(mtype, "binary"))) {
                skip(c, SKIP_TEXT);
                continue;
            }
            gate_status st = check_module(eng, dir, file, &err);
            if (st != GATE_OK && st != GATE_ERR_IO) {
                c->passed++;
                if (verbose) {
                    char msg[512];
                    printf("ok   %s:%ld: %s \"%s\": %s\n", src, line, type,
                           expect ? expect : "", gate_error_format(&err, msg, sizeof msg));
                }
            } else {
                c->failed++;
                char what[256];
                snprintf(what, sizeof what, "module accepted, expected \"%s\"",
                         expect ? expect : "?");
                fail_line(src, line, type, what, st == GATE_ERR_IO ? &err : NULL);
            }
        } else if (!strcmp(type, "assert_unlinkable") ||
                   !strcmp(type, "assert_uninstantiable")) {
            if (file && check_module(eng, dir, file, &err) != GATE_OK) {
                c->failed++;
                fail_line(src, line, type, "module rejected before linking", &err);
            } else {
                skip(c, SKIP_LINK);
            }
        } else if (!strcmp(type, "register")) {
            skip(c, SKIP_REGISTER);
        } else {
            /* action, assert_return, assert_trap, assert_exhaustion, ... */
            skip(c, SKIP_EXEC);
        }
    }
    js_free(root);
    return 1;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
    const char *results = NULL;
    counts total = { 0 };
    FILE *tsv = NULL;
    gate_error err;
    gate_engine *eng = gate_engine_new(NULL, &err);
    if (!eng) {
        fprintf(stderr, "spec-runner: cannot create engine\n");
        return 2;
    }
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!strcmp(argv[i], "--results") && i + 1 < argc)
            results = argv[++i];
        else if (!strcmp(argv[i], "--failed-conversion") && i + 1 < argc)
            i++;    /* handled below, after the results file is open */
        else {
            fprintf(stderr, "spec-runner: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    if (results && !(tsv = fopen(results, "w"))) {
        fprintf(stderr, "spec-runner: cannot write %s\n", results);
        return 2;
    }
    if (tsv)
        fprintf(tsv, "file\tpassed\tfailed\tskipped\n");
    /* wast files that wast2json could not convert count as one failure each */
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--failed-conversion") && k + 1 < argc) {
            printf("FAIL %s: wast2json conversion failed\n", argv[k + 1]);
            printf("%-40s 0 passed, 1 failed, 0 skipped\n", argv[k + 1]);
            if (tsv)
                fprintf(tsv, "%s\t0\t1\t0\n", argv[k + 1]);
            total.failed++;
            k++;
        } else if (!strcmp(argv[k], "--results")) {
            k++;
        }
    }
    for (; i < argc; i++) {
        counts c = { 0 };
        run_file(eng, argv[i], &c);
        char name[256];
        snprintf(name, sizeof name, "%s", base_name(argv[i]));
        char *dot = strstr(name, ".json");
        if (dot)
            strcpy(dot, ".wast");
        printf("%-40s %ld passed, %ld failed, %ld skipped\n", name, c.passed, c.failed,
               c.skipped);
        if (tsv)
            fprintf(tsv, "%s\t%ld\t%ld\t%ld\n", name, c.passed, c.failed, c.skipped);
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        for (int k = 0; k < SKIP_NREASONS; k++)
            total.skip_by[k] += c.skip_by[k];
    }
    if (tsv)
        fclose(tsv);
    for (int k = 0; k < SKIP_NREASONS; k++)
        printf("skipped (%s): %ld\n", skip_reason[k], total.skip_by[k]);
    printf("spec: %ld passed, %ld failed, %ld skipped\n", total.passed, total.failed,
           total.skipped);
    gate_engine_free(eng);
    return total.failed ? 1 : 0;
}
