/*
 * chat.c - one participant of a chat room on topic "chat.room"
 * (examples/world/chat.json: three of them).  Participant 1 opens the room
 * once the others are subscribed (each tells it so by a direct message);
 * then every participant says LINES lines and prints what the others say.
 *   chat NAME LINES PARTICIPANTS
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "../../abi/guest/gate.h"

enum { READY = 1, OPEN = 2, LINE = 3 };
static const char room[] = "chat.room";

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    if (argc != 4)
        return 2;
    const char *name = argv[1];
    int lines = atoi(argv[2]), people = atoi(argv[3]);
    char buf[256];
    gate_msg_info in;
    if (gate_subscribe(room, sizeof room - 1))
        return 1;
    if (gate_self() == 1) {
        for (int i = 1; i < people; i++)
            gate_recv(buf, sizeof buf, READY, GATE_FOREVER, &in);
        gate_publish(room, sizeof room - 1, OPEN, "", 0);
    } else {
        gate_send(1, READY, "", 0);
        gate_recv(buf, sizeof buf, OPEN, GATE_FOREVER, &in);
    }
    for (int i = 0; i < lines; i++) {
        int n = snprintf(buf, sizeof buf, "%s: line %d", name, i);
        gate_publish(room, sizeof room - 1, LINE, buf, (uint32_t)n);
    }
    for (int got = 0; got < lines * (people - 1); got++) {
        if (gate_recv(buf, sizeof buf - 1, LINE, GATE_FOREVER, &in))
            return 1;
        buf[in.len] = 0;
        printf("%s heard \"%s\"\n", name, buf);
    }
    printf("%s leaves\n", name);
    return 0;
}
