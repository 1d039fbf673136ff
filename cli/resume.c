/*
 * resume.c - `gate resume`: continue a program saved by `gate run
 * --snapshot` (or by gate_snapshot_save) where it stopped.
 *
 *   gate resume [--suspend-after=DUR] [--fuel=N] [--deterministic] [--snapshot=FILE2]
 *               [--object=OBJ] FILE
 *
 * The WASI state (arguments, environment, preopens, open files and their
 * offsets) comes from the snapshot.  If the program is stopped again
 * (deadline, SIGINT, SIGTERM) it is saved to FILE2, or back to FILE.
 * The code comes from OBJ, or from the object the snapshot names for this
 * CPU (gate run --name-object, or the object gate run ran): used when it
 * was made from the same program with the same options, otherwise the
 * module in the snapshot is compiled (and stderr says why).
 * Exit status as for `gate run`.
 */
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

static int usage_resume(void)
{
    fprintf(stderr, "usage: gate resume [--suspend-after=DURATION] [--fuel=N] [--deterministic] [--snapshot=FILE2] "
                    "[--object=OBJ] FILE\n");
    return 2;
}

int cli_resume(int argc, char **argv)
{
    const char *file = NULL, *snapshot = NULL, *object = NULL;
    uint64_t suspend_after = 0, fuel = 0;
    gate_config cfg;
    gate_config_init(&cfg);
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i];
        if (!strncmp(o, "--fuel=", 7)) {
            char *end;
            fuel = strtoull(o + 7, &end, 10);
            if (*end || !fuel)
                return usage_resume();
            cfg.fuel = 1;
            continue;
        }
        if (!strcmp(o, "--deterministic"))
            cfg.deterministic = 1;
        else if (!strncmp(o, "--snapshot=", 11))
            snapshot = o + 11;
        else if (!strncmp(o, "--object=", 9))
            object = o + 9;
        else if (!strcmp(o, "--snapshot") && i + 1 < argc)
            snapshot = argv[++i];
        else if (!strncmp(o, "--suspend-after=", 16)) {
            if (!cli_duration(o + 16, &suspend_after))
                return usage_resume();
        } else if (!strcmp(o, "--suspend-after") && i + 1 < argc) {
            if (!cli_duration(argv[++i], &suspend_after))
                return usage_resume();
        } else if (o[0] == '-' || file) {
            return usage_resume();
        } else {
            file = o;
        }
    }
    if (!file)
        return usage_resume();
    if (!snapshot)
        snapshot = file;
    size_t len;
    gate_error err;
    uint8_t *bytes = cli_read_file(file, &len);
    if (!bytes)
        return 2;
    int rc = 2;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    gate_imports *imp = eng ? gate_imports_new(eng) : NULL;
    gate_instance *inst = NULL;
    if (!imp)
        goto out;
    /* a snapshot without WASI state still resumes; with it, WASI comes back */
    gate_error werr;
    gate_status ws = gate_imports_wasi_from_snapshot(imp, bytes, len, &werr);
    if (ws != GATE_OK && ws != GATE_ERR_SNAPSHOT) {
        cli_report(file, &werr);
        goto out;
    }
    if (ws == GATE_ERR_SNAPSHOT && strstr(werr.message, "bad")) {
        cli_report(file, &werr);
        rc = 1;
        goto out;
    }
    /* the object to resume with: --object, else the one the snapshot
       names for this CPU; missing or unfit, the module is compiled */
    char name[4096], path[8192];
    gate_module *code = NULL;
    if (!object && gate_snapshot_object_name(bytes, len, GATE_TARGET_HOST, name, sizeof name) == GATE_OK)
        object = name;
    if (object) {
        snprintf(path, sizeof path, "%s", object);
        const char *slash = strrchr(file, '/');
        if (access(path, R_OK) && object[0] != '/' && slash)
            snprintf(path, sizeof path, "%.*s/%s", (int)(slash - file), file, object);
        size_t olen;
        uint8_t *ob = access(path, R_OK) == 0 ? cli_read_file(path, &olen) : NULL;
        gate_error oerr;
        if (!ob)
            fprintf(stderr, "gate resume: object %s not found; compiling the module\n", object);
        else if (!(code = gate_module_load_object(eng, ob, olen, &oerr)))
            fprintf(stderr, "gate resume: object %s not used (%s); compiling the module\n", path,
                    oerr.message);
        free(ob);
    }
    int used = 0;
    inst = gate_snapshot_restore_code(eng, bytes, len, code, imp, &used, &err);
    if (inst && code)
        fprintf(stderr, used ? "gate resume: code from object %s\n"
                             : "gate resume: object %s is of another program or build; "
                               "compiled the module instead\n", path);
    gate_module_free(code);
    if (!inst) {
        cli_report(file, &err);
        rc = 1;
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
    if (suspend_after)
        gate_set_deadline(inst, suspend_after);
    gate_status st = gate_resume(inst, res, 64, &err);
    rc = cli_outcome(inst, inst->mod, st, &err, snapshot, res, ft->nresults);
    cli_stop_on_signals(NULL);
out:
    gate_instance_free(inst);
    gate_imports_free(imp);
    gate_engine_free(eng);
    free(bytes);
    return rc;
}
