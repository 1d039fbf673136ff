/*
 * worker.c - spawned by supervisor.c: traps on its first two attempts.
 */
#include <stdio.h>
#include "../../abi/guest/gate.h"

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    int attempt = -1;
    gate_msg_info in;
    gate_recv(&attempt, sizeof attempt, 1, GATE_FOREVER, &in);
    printf("worker %d: attempt %d from %u\n", (int)gate_self(), attempt, in.from);
    fflush(stdout);
    if (attempt < 2)
        __builtin_trap();
    /* the directory the registry grants the worker (supervisor.json) */
    FILE *f = fopen("out/result.txt", "w");
    if (f) {
        fprintf(f, "worker %d finished attempt %d\n", (int)gate_self(), attempt);
        fclose(f);
    }
    return 0;
}
