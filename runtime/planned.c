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



















gate_instance *gate_instance_fork(gate_instance *inst, gate_error *err)
{
    (void)inst;
    planned(err, "fork (issue 5)");
    return NULL;
}
