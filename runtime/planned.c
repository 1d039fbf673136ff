/*
 * planned.c - entry points of libgate.h whose issues have not landed yet.
 * Each answers GATE_ERR_NOT_IMPLEMENTED (with a message naming the issue)
 * so an embedder can build against the whole API today.  Each function
 * moves to its real home when its issue is done.
 */
#include "runtime.h"

static gate_status planned(gate_error *err, const char *what)
{
    if (err) {
        err->status = GATE_OK;
        gx_fail(err, GATE_ERR_NOT_IMPLEMENTED, UINT64_MAX, GATE_NO_FUNC,
                "%s is not implemented yet", what);
    }
    return GATE_ERR_NOT_IMPLEMENTED;
}



void gate_call_request_stop(gate_call_ctx *ctx, gate_host_resume how) { (void)ctx; (void)how; }















gate_status gate_set_fuel(gate_instance *inst, uint64_t fuel) { (void)inst; (void)fuel; return GATE_ERR_NOT_IMPLEMENTED; }
uint64_t gate_get_fuel(const gate_instance *inst) { (void)inst; return 0; }

gate_status gate_snapshot(gate_instance *inst, uint8_t **out, size_t *out_len,
                          gate_error *err)
{
    (void)inst; (void)out; (void)out_len;
    return planned(err, "snapshots (issue 5)");
}

gate_status gate_snapshot_save(gate_instance *inst, const char *path, gate_error *err)
{
    (void)inst; (void)path;
    return planned(err, "snapshots (issue 5)");
}

gate_instance *gate_snapshot_restore(gate_engine *eng, const uint8_t *bytes, size_t len,
                                     gate_imports *imp, gate_error *err)
{
    (void)eng; (void)bytes; (void)len; (void)imp;
    planned(err, "snapshot restore (issue 5)");
    return NULL;
}

gate_instance *gate_instance_fork(gate_instance *inst, gate_error *err)
{
    (void)inst;
    planned(err, "fork (issue 5)");
    return NULL;
}
