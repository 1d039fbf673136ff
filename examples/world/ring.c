/*
 * ring.c - one of N processes in a ring (pids 1..N): sends M numbered
 * messages to the next and takes M from the one before, then prints what
 * it got.  With a world saved and resumed mid-flight, every message still
 * arrives exactly once (test/world.sh).
 *   ring N M
 */
#include <stdio.h>
#include <stdlib.h>
#include "../../abi/guest/gate.h"

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    uint32_t n = argc > 2 ? (uint32_t)atoi(argv[1]) : 2, m = argc > 2 ? (uint32_t)atoi(argv[2]) : 1;
    uint32_t self = (uint32_t)gate_self(), next = self % n + 1;
    uint64_t sum = 0;
    uint32_t sent = 0, got = 0, v;
    gate_msg_info in;
    while (sent < m || got < m) {
        if (sent < m) {
            v = self * 1000 + sent;
            if (gate_send(next, 1, &v, sizeof v) == 0)
                sent++;
        }
        if (got < m && gate_recv(&v, sizeof v, 1, sent < m ? 0 : GATE_FOREVER, &in) == 0) {
            sum += v;
            got++;
        }
    }
    printf("ring %u: %u messages from %u, sum %llu\n", self, got, in.from,
           (unsigned long long)sum);
    return 0;
}
