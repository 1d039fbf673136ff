/*
 * resume.c - `gate resume`: continue a program saved by `gate run
 * --snapshot` (or by gate_snapshot_save) where it stopped.
 *
 *   gate resume [--dir HOST[::GUEST]]... [--max-memory-pages N] [--stack-size BYTES]
 *               [--suspend-after=DUR] [--fuel=N] [--deterministic] [--snapshot=FILE2]
 *               [--object=OBJ [--trust-object]] [--sandbox] FILE
 *
 * A snapshot grants nothing.  Its arguments, environment and descriptor
 * table come back, but a preopen is opened only when this command grants
 * a host directory to its guest name (--dir HOST::GUEST, or --dir HOST
 * when the guest name is HOST as given to `gate run`); an ungranted
 * preopen, and the files beneath it, are reported lost to the program
 * (EBADF) — or, with --suspend NAME (--suspend '*': every preopen not
 * granted), kept suspended: the program stops at its first use of it (or
 * of a file beneath it) and is saved again, to be resumed where it is
 * granted.  stderr says what was reattached, lost or kept suspended;
 * `gate inspect FILE` shows what a snapshot asks for.
 *
 * The limits of the original run (memory pages, stack size, table
 * elements) come back too; --max-memory-pages and --stack-size can only
 * tighten them.  So do the fuel metering and NaN modes.
 *
 * The code is compiled from the module inside the snapshot, unless
 * --object names an object made by this user's gate (sealed, trust.c; or
 * any object with --trust-object) that fits the program; the object a
 * snapshot names (gate.objects) is only mentioned, never loaded because
 * the snapshot says so.  If the program is stopped again (deadline,
 * fuel, SIGINT, SIGTERM) it is saved to FILE2, or back to FILE.
 * Exit status as for `gate run`; 1 when the snapshot is refused.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_DIRS 256

static int usage_resume(void)
{
    fprintf(stderr, "usage: gate resume [--dir HOST[::GUEST]]... [--suspend NAME|'*']... "
                    "[--max-memory-pages N] [--stack-size BYTES]\n"
                    "                   [--suspend-after=DURATION] [--fuel=N] [--deterministic] "
                    "[--snapshot=FILE2]\n"
                    "                   [--object=OBJ [--trust-object]] [--sandbox] FILE\n");
    return 2;
}

/* gate_wasi_grants.report: one line per preopen and file */
static void report(void *ud, const char *preopen, const char *path, const char *host,
                   const char *why)
{
    const char *file = ud;
    if (!preopen) {             /* a socket */
        fprintf(stderr, "gate resume: %s: %s: reported lost to the program (EBADF)\n", path,
                why);
        return;
    }
    if (!path && !why)
        fprintf(stderr, "gate resume: preopen \"%s\": reattached to %s\n", preopen, host);
    else if (!path && !strcmp(why, "kept suspended"))
        fprintf(stderr, "gate resume: %s: preopen \"%s\": kept suspended: the program stops at "
                "its first use of it\n", file, preopen);
    else if (!path)
        fprintf(stderr, "gate resume: %s: preopen \"%s\" %s: reported lost to the program "
                "(grant it with --dir HOST::%s)\n", file, preopen, why, preopen);
    else if (why && !strcmp(why, "kept suspended"))
        fprintf(stderr, "gate resume: file \"%s\" beneath \"%s\": kept suspended\n", path,
                preopen);
    else if (why)
        fprintf(stderr, "gate resume: file \"%s\" beneath \"%s\": %s: reported lost to the "
                "program\n", path, preopen, why);
}

int cli_resume(int argc, char **argv)
{
    const char *file = NULL, *snapshot = NULL, *object = NULL;
    uint64_t suspend_after = 0, fuel = 0;
    bool trust_object = false, deterministic = false, sandbox = cli_sandbox_default();
    gate_limits lim = { 0 };
    const char *dirs_host[MAX_DIRS], *dirs_guest[MAX_DIRS], *suspend[MAX_DIRS];
    char *dir_copies[MAX_DIRS], *dir_reals[MAX_DIRS];
    int ndirs = 0, nsuspend = 0, rc = 2;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strncmp(o, "--fuel=", 7)) {
            char *end;
            fuel = strtoull(o + 7, &end, 10);
            if (*end || !fuel)
                goto usage;
        } else if (!strcmp(o, "--deterministic")) {
            deterministic = true;
        } else if (!strcmp(o, "--trust-object")) {
            trust_object = true;
        } else if (!strcmp(o, "--sandbox")) {
            sandbox = true;
        } else if (!strncmp(o, "--snapshot=", 11)) {
            snapshot = o + 11;
        } else if (!strncmp(o, "--object=", 9)) {
            object = o + 9;
        } else if (!strcmp(o, "--snapshot") && val) {
            snapshot = argv[++i];
        } else if (!strncmp(o, "--suspend-after=", 16)) {
            if (!cli_duration(o + 16, &suspend_after))
                goto usage;
        } else if (!strcmp(o, "--suspend-after") && val) {
            if (!cli_duration(argv[++i], &suspend_after))
                goto usage;
        } else if (!strcmp(o, "--suspend") && val) {
            if (nsuspend == MAX_DIRS || !argv[i + 1][0])
                goto usage;
            suspend[nsuspend++] = argv[++i];
        } else if (!strcmp(o, "--dir") && val) {
            char *host, *guest;
            if (ndirs == MAX_DIRS)
                goto usage;
            if (!cli_parse_dir(argv[++i], &host, &guest, &dir_copies[ndirs]))
                goto out_dirs;
            dir_reals[ndirs] = host;
            dirs_host[ndirs] = host;
            dirs_guest[ndirs++] = guest;
        } else if (!strcmp(o, "--max-memory-pages") && val) {
            if (!cli_parse_pages(argv[++i], &lim.max_memory_pages))
                goto usage;
        } else if (!strcmp(o, "--stack-size") && val) {
            if (!cli_parse_stack(argv[++i], &lim.stack_size))
                goto usage;
        } else if (o[0] == '-' || file) {
            goto usage;
        } else {
            file = o;
        }
    }
    if (!file || (trust_object && !object))
        goto usage;
    if (!snapshot)
        snapshot = file;
    size_t len;
    gate_error err;
    uint8_t *bytes = cli_read_file(file, &len);
    if (!bytes)
        goto out_dirs;
    /* the engine as the original run had it: fuel metering, NaN mode */
    gate_snapshot_info info;
    if (gate_snapshot_read_info(bytes, len, &info, &err) != GATE_OK) {
        cli_report(file, &err);
        free(bytes);
        rc = 1;
        goto out_dirs;
    }
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = info.fuel || fuel;
    cfg.deterministic = info.deterministic || deterministic;
    uint8_t key[32];
    if (object && !trust_object && !cli_object_key(key)) {
        free(bytes);
        goto out_dirs;
    }
    if (object && !trust_object) {
        cfg.object_key = key;
        cfg.object_key_len = sizeof key;
    }
    gate_engine *eng = gate_engine_new(&cfg, &err);
    explicit_bzero(key, sizeof key);
    gate_imports *imp = eng ? gate_imports_new(eng) : NULL;
    gate_instance *inst = NULL;
    gate_module *code = NULL;
    if (!imp)
        goto out;
    /* WASI state, with the grants given here and nothing else */
    gate_wasi_grants gr = { .ndirs = ndirs, .dir_host = dirs_host, .dir_guest = dirs_guest,
                            .nsuspend = nsuspend, .suspend = suspend,
                            .report = report, .report_ud = (void *)file };
    gate_status ws = gate_imports_wasi_from_snapshot(imp, bytes, len, &gr, &err);
    if (ws == GATE_ERR_SNAPSHOT) {
        cli_report(file, &err);
        rc = 1;
        goto out;
    }
    if (ws != GATE_OK && ws != GATE_ERR_NOT_FOUND) {
        cli_report(file, &err);
        goto out;
    }
    if (ws == GATE_ERR_NOT_FOUND && ndirs)
        fprintf(stderr, "gate resume: %s has no WASI state: --dir grants nothing\n", file);
    /* the code: compiled from the snapshot's module, or --object's */
    char named[4096];
    if (!object &&
        gate_snapshot_object_name(bytes, len, GATE_TARGET_HOST, named, sizeof named) == GATE_OK)
        fprintf(stderr, "gate resume: the snapshot names object %s; compiling the module "
                "(an object is used only when named with --object)\n", named);
    if (object) {
        size_t olen;
        uint8_t *ob = access(object, R_OK) == 0 ? cli_read_file(object, &olen) : NULL;
        gate_error oerr;
        if (!ob)
            fprintf(stderr, "gate resume: object %s not found; compiling the module\n", object);
        else if (!(code = gate_module_load_object(eng, ob, olen, &oerr)))
            fprintf(stderr, "gate resume: object %s not used (%s); compiling the module\n",
                    object, oerr.message);
        free(ob);
    }
    int used = 0;
    inst = gate_snapshot_restore_limits(eng, bytes, len, code, imp, &lim, &used, &err);
    if (inst && code)
        fprintf(stderr, used ? "gate resume: code from object %s\n"
                             : "gate resume: object %s is of another program or build; "
                               "compiled the module instead\n", object);
    gate_module_free(code);
    if (!inst) {
        cli_report(file, &err);
        rc = err.status == GATE_ERR_ARG ? 2 : 1;
        goto out;
    }
    if (!gate_is_suspended(inst)) {
        fprintf(stderr, "gate resume: %s: the snapshot holds no stopped call\n", file);
        goto out;
    }
    const gd_module *m = &inst->mod->info;
    const gd_functype *ft = gd_func_type(m, inst->susp.entry_func);
    gate_val res[64];
    if (ft->nresults > 64)
        goto out;
    cli_stop_on_signals(inst);
    if (fuel)
        gate_set_fuel(inst, fuel);
    if (suspend_after && !cli_deadline(inst, suspend_after))
        goto out;
    if (sandbox && !cli_sandbox(snapshot))
        goto out;
    gate_status st = gate_resume(inst, res, 64, &err);
    char waiting[256];
    if (st == GATE_SUSPENDED && gate_wasi_waiting_for(inst, waiting, sizeof waiting))
        fprintf(stderr, "gate resume: the program needs preopen \"%s\", kept suspended; "
                "resume it where it is granted (--dir HOST::%s)\n", waiting, waiting);
    rc = cli_outcome(file, inst, inst->mod, st, &err, snapshot, res, ft->nresults);
    cli_stop_on_signals(NULL);
out:
    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_engine_free(eng);
    free(bytes);
out_dirs:
    for (int k = 0; k < ndirs; k++)
        free(dir_copies[k]), free(dir_reals[k]);
    return rc;
usage:
    rc = usage_resume();
    goto out_dirs;
}
