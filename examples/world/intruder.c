/*
 * intruder.c - an untrusted module (examples/world/chat.json grants it only
 * subscribing to "chat.*"): everything else it tries is refused with
 * GATE_ENOTCAPABLE, and the chat goes on.
 */
#include <stdio.h>
#include "../../abi/guest/gate.h"

static const char *said(int32_t r)
{
    return r == GATE_ENOTCAPABLE || r == -GATE_ENOTCAPABLE ? "refused (not capable)"
           : r >= 0 ? "allowed" : "failed";
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    printf("intruder: send to the room's opener: %s\n", said(gate_send(1, 1, "x", 1)));
    printf("intruder: publish to chat.room: %s\n", said(gate_publish("chat.room", 9, 3, "spam", 4)));
    printf("intruder: publish to admin.shutdown: %s\n",
           said(gate_publish("admin.shutdown", 14, 1, "now", 3)));
    printf("intruder: subscribe to admin.log: %s\n", said(gate_subscribe("admin.log", 9)));
    printf("intruder: kill process 1: %s\n", said(gate_kill(1)));
    printf("intruder: monitor process 1: %s\n", said(gate_monitor(1)));
    gate_proc_rec recs[4];
    printf("intruder: list the processes: %s\n", said(gate_procs(recs, sizeof recs)));
    printf("intruder: subscribe to chat.room: %s\n", said(gate_subscribe("chat.room", 9)));
    return 0;
}
