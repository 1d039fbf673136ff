/*
 * supervisor.c - spawns "worker" from the registry, monitors it, and
 * restarts it each time it traps, until one finishes
 * (examples/world/supervisor.json).
 */
#include <stdio.h>
#include "../../abi/guest/gate.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    gate_module_rec mods[4];
    int32_t n = gate_modules(mods, sizeof mods);
    for (int32_t i = 0; i < n && i < 4; i++)
        printf("supervisor: the registry offers %s %s\n", mods[i].name, mods[i].version);
    for (int attempt = 0; attempt < 5; attempt++) {
        int32_t pid = gate_spawn("worker", 6);
        if (pid < 0) {
            printf("supervisor: spawn refused (%d)\n", (int)-pid);
            return 1;
        }
        /* it cannot run before this slice ends: nothing is missed */
        gate_monitor((uint32_t)pid);
        gate_send((uint32_t)pid, 1, &attempt, sizeof attempt);
        gate_proc_rec live[8];
        int32_t k = gate_procs(live, sizeof live);
        printf("supervisor: %d processes live:", (int)k);
        for (int32_t i = 0; i < k && i < 8; i++)
            printf(" %u %s", live[i].pid, live[i].name);
        printf("\n");
        gate_down d;
        gate_msg_info in;
        gate_recv(&d, sizeof d, GATE_MSG_DOWN, GATE_FOREVER, &in);
        if (d.status == GATE_STATUS_TRAPPED) {
            printf("supervisor: worker %u (attempt %d) trapped; restarting it\n", d.pid, attempt);
            continue;
        }
        printf("supervisor: worker %u (attempt %d) ended with status %u\n", d.pid, attempt,
               d.exit_code);
        return 0;
    }
    return 1;
}
