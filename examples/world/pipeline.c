/*
 * pipeline.c - producer -> transformer -> consumer (pids 1, 2, 3 in
 * examples/world/pipeline.json).  Mailboxes are small: a sender that finds
 * the next one full yields until there is room — backpressure.
 *   pipeline producer|transformer|consumer
 */
#include <ctype.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include "../../abi/guest/gate.h"

enum { ITEM = 1, END = 2 };

static int waits;

static void put(uint32_t to, uint32_t tag, const void *p, uint32_t n)
{
    while (gate_send(to, tag, p, n) == GATE_EAGAIN) {
        waits++;
        sched_yield();
    }
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    const char *role = argc > 1 ? argv[1] : "";
    char buf[128];
    gate_msg_info in;
    if (!strcmp(role, "producer")) {
        for (int i = 0; i < 40; i++) {
            int n = snprintf(buf, sizeof buf, "item %d of the producer", i);
            put(2, ITEM, buf, (uint32_t)n);
        }
        put(2, END, "", 0);
        printf("producer: 40 items sent, %s\n", waits ? "slowed down by a full mailbox" : "never waited");
        return 0;
    }
    for (int count = 0;; count++) {
        gate_recv(buf, sizeof buf - 1, GATE_TAG_ANY, GATE_FOREVER, &in);
        if (in.tag == END) {
            if (!strcmp(role, "transformer"))
                put(3, END, "", 0);
            printf("%s: %d items\n", role, count);
            return 0;
        }
        if (!strcmp(role, "transformer")) {
            for (uint32_t i = 0; i < in.len; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]);
            put(3, ITEM, buf, in.len);
        } else {
            buf[in.len] = 0;
            printf("consumer: %s\n", buf);
        }
    }
}
