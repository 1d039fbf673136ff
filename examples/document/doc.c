/*
 * doc.c - opens a document that carries its own program (docs/wasi.md,
 * "A document"): the file is a snapshot of the editor with its data in its
 * memory.  Opening resumes it where it saved itself; the editor's
 * doc.save() stops it and the whole program is written back atomically.
 * The file moves between x86-64 and ARM64 as it is.
 *
 *   doc --new EDITOR.wasm FILE.gdoc     a new document made by EDITOR
 *   doc FILE.gdoc                       open it, edit, "quit" saves
 *   doc --export FILE.gdoc              print its data (asks the program)
 *   doc --upgrade EDITOR2.wasm FILE.gdoc
 *                                       the same data in a newer editor:
 *                                       the old program is asked for its
 *                                       data (export_data), the new one
 *                                       imports it (doc.old_data) and is
 *                                       saved as the document
 *
 * Exit status: 0 saved or printed, 1 a document or editor refused (the
 * file is left as it was), 2 usage.
 */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../libgate.h"

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

static int fail(const char *what, const gate_error *err)
{
    char msg[512];
    fprintf(stderr, "doc: %s: %s\n", what, gate_error_format(err, msg, sizeof msg));
    return 1;
}

/* doc.save(): the program stops at this call; the launcher saves it */
static gate_status doc_save(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud, (void)args, (void)res;
    gate_call_request_stop(ctx, GATE_HOST_COMPLETE);
    return GATE_OK;
}

/* doc.old_data(buf, cap) -> len: an older version's data, while upgrading */
typedef struct old_data { unsigned char *bytes; size_t len; } old_data;

static gate_status doc_old(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    old_data *od = ud;
    uint32_t buf = (uint32_t)args[0].of.i32, cap = (uint32_t)args[1].of.i32;
    size_t n = od->len < cap ? od->len : cap;
    res[0].type = GATE_I32;
    res[0].of.i32 = 0;
    if (n && gate_memory_write(gate_call_instance(ctx), buf, od->bytes, n) != GATE_OK) {
        gate_call_trap(ctx, "doc.old_data: the buffer is outside the program's memory");
        return GATE_TRAPPED;
    }
    res[0].of.i32 = (int32_t)n;
    return GATE_OK;
}

static gate_imports *doc_imports(gate_engine *eng, const unsigned char *snap, size_t len,
                                 old_data *od, gate_error *err)
{
    gate_imports *imp = gate_imports_new(eng);
    const char *argv[1] = { "notes" };
    gate_wasi_config wc = { .argc = 1, .argv = argv };
    /* a document grants itself nothing: its standard streams are this
       process's, and it has no directories */
    gate_status st = snap ? gate_imports_wasi_from_snapshot(imp, snap, len, NULL, err)
                          : gate_imports_wasi(imp, &wc, err);
    if (st == GATE_OK)
        st = gate_imports_func_raw(imp, "doc", "save", "v()", doc_save, NULL, err);
    if (st == GATE_OK)
        st = gate_imports_func_raw(imp, "doc", "old_data", "i(ii)", doc_old, od, err);
    if (st != GATE_OK) {
        gate_imports_free(imp);
        return NULL;
    }
    return imp;
}

/* Runs inst (a call st already made) until it saves itself, then writes it. */
static int finish(gate_instance *inst, gate_status st, const gate_error *err, const char *file)
{
    if (st == GATE_SUSPENDED) {
        gate_error e;
        if (gate_snapshot_save(inst, file, &e) != GATE_OK)
            return fail(file, &e);
        fprintf(stderr, "doc: saved %s\n", file);
        return 0;
    }
    if (st == GATE_OK || st == GATE_EXITED) {
        fprintf(stderr, "doc: the editor ended without saving; %s is as it was\n", file);
        return 1;
    }
    return fail("the editor", err);
}

static gate_module *editor(gate_engine *eng, const char *path, gate_error *err)
{
    size_t len;
    unsigned char *b = slurp(path, &len);
    if (!b) {
        fprintf(stderr, "doc: %s: cannot read it\n", path);
        return NULL;
    }
    gate_module *m = gate_module_new(eng, b, len, err);
    free(b);
    if (!m)
        fail(path, err);
    return m;
}

/* The document restored (its program stopped where it saved itself). */
static gate_instance *open_doc(gate_engine *eng, const unsigned char *snap, size_t len,
                               gate_imports **imp, old_data *od, gate_error *err)
{
    gate_snapshot_info info;
    *imp = NULL;
    if (gate_snapshot_read_info(snap, len, &info, err) != GATE_OK)
        return NULL;            /* cut, changed, or not a document */
    *imp = doc_imports(eng, snap, len, od, err);
    gate_instance *inst = *imp ? gate_snapshot_restore(eng, snap, len, *imp, err) : NULL;
    if (!inst && *imp) {
        gate_imports_free(*imp);
        *imp = NULL;
    }
    return inst;
}

/* Asks the old program for its data: export_data() -> len at export_ptr(). */
static unsigned char *interrogate(gate_instance *inst, size_t *len, gate_error *err)
{
    gate_val r[1];
    /* a document is untrusted: its answer gets 5 s, not for ever */
    if (gate_abandon(inst) != GATE_OK || gate_set_deadline(inst, 5000000000ull) != GATE_OK ||
        gate_call(inst, "export_data", NULL, 0, r, 1, err) != GATE_OK)
        return NULL;
    int32_t n = r[0].of.i32;
    if (gate_call(inst, "export_ptr", NULL, 0, r, 1, err) != GATE_OK || n < 0 || n > 1 << 20)
        return NULL;
    unsigned char *b = malloc((size_t)n + 1);
    if (!b || gate_memory_read(inst, (uint32_t)r[0].of.i32, b, (size_t)n) != GATE_OK) {
        free(b);
        return NULL;
    }
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv)
{
    const char *mode = argc == 3 || argc == 4 ? argv[1] : NULL;
    if (!(argc == 2 && argv[1][0] != '-') && !(argc == 4 && !strcmp(argv[1], "--new")) &&
        !(argc == 3 && !strcmp(argv[1], "--export")) &&
        !(argc == 4 && !strcmp(argv[1], "--upgrade"))) {
        fprintf(stderr, "usage: doc [--new EDITOR.wasm] FILE.gdoc\n"
                        "       doc --export FILE.gdoc\n"
                        "       doc --upgrade EDITOR2.wasm FILE.gdoc\n");
        return 2;
    }
    const char *file = argv[argc - 1];
    gate_error err;
    gate_engine *eng = gate_engine_new(NULL, &err);
    gate_imports *imp = NULL;
    gate_instance *inst = NULL;
    gate_module *mod = NULL;
    unsigned char *snap = NULL;
    size_t len = 0;
    old_data od = { NULL, 0 };
    int rc = 1;
    if (mode && !strcmp(mode, "--new")) {
        if (access(file, F_OK) == 0) {
            fprintf(stderr, "doc: %s exists: open it with doc %s\n", file, file);
            goto out;
        }
        if (!(mod = editor(eng, argv[2], &err)) || !(imp = doc_imports(eng, NULL, 0, &od, &err)) ||
            !(inst = gate_instance_new(mod, imp, NULL, &err))) {
            rc = err.status == GATE_OK ? 1 : fail(argv[2], &err);
            goto out;
        }
        gate_status st = gate_call(inst, "_start", NULL, 0, NULL, 0, &err);
        rc = finish(inst, st, &err, file);
        goto out;
    }
    if (!(snap = slurp(file, &len))) {
        fprintf(stderr, "doc: %s: cannot read it (doc --new EDITOR.wasm %s makes one)\n", file,
                file);
        goto out;
    }
    if (!(inst = open_doc(eng, snap, len, &imp, &od, &err))) {
        rc = fail(file, &err);
        goto out;
    }
    if (!mode) {
        gate_status st = gate_resume(inst, NULL, 0, &err);
        rc = finish(inst, st, &err, file);
        goto out;
    }
    /* --export and --upgrade: the old program is asked for its data */
    size_t dlen;
    unsigned char *data = interrogate(inst, &dlen, &err);
    if (!data) {
        fprintf(stderr, "doc: %s: its program does not give its data (export_data)%s%s\n", file,
                err.status != GATE_OK ? ": " : "", err.status != GATE_OK ? err.message : "");
        goto out;
    }
    if (!strcmp(mode, "--export")) {
        fwrite(data, 1, dlen, stdout);
        free(data);
        rc = 0;
        goto out;
    }
    /* --upgrade: the new editor starts with the data and saves itself at
       once (its standard input is at its end: it quits) */
    gate_instance_free(inst);
    gate_imports_free(imp);
    inst = NULL;
    imp = NULL;
    od.bytes = data;
    od.len = dlen;
    int saved_in = dup(0), null = open("/dev/null", O_RDONLY);
    if (!(mod = editor(eng, argv[2], &err)) || !(imp = doc_imports(eng, NULL, 0, &od, &err)) ||
        !(inst = gate_instance_new(mod, imp, NULL, &err)) || saved_in < 0 || null < 0) {
        rc = mod && err.status != GATE_OK ? fail(argv[2], &err) : 1;
    } else {
        dup2(null, 0);
        gate_status st = gate_call(inst, "_start", NULL, 0, NULL, 0, &err);
        dup2(saved_in, 0);
        rc = finish(inst, st, &err, file);
    }
    if (null >= 0)
        close(null);
    if (saved_in >= 0)
        close(saved_in);
    free(data);
out:
    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_module_free(mod);
    gate_engine_free(eng);
    free(snap);
    return rc;
}
