/*
 * pipeline.c - producer -> transformer -> consumer (pids 1, 2, 3 in
 * examples/world/pipeline.json), joined by byte streams.  The streams are
 * small: a writer that fills one is parked until the reader has taken
 * some — backpressure, without a line of code for it.
 *   pipeline producer|transformer|consumer
 */
#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include "../../abi/guest/gate.h"

static int held;

/* all of p into stream id: a write takes what fits and parks when full */
static void put(int32_t id, const char *p, uint32_t n)
{
    while (n) {
        int32_t k = gate_stream_write(id, p, n, GATE_FOREVER);
        if (k <= 0)
            return;
        if ((uint32_t)k < n)
            held++;
        p += k;
        n -= (uint32_t)k;
    }
}

/* the stream the process before this one opened to it */
static int32_t input(void)
{
    uint32_t note[2];
    gate_msg_info in;
    gate_recv(note, sizeof note, GATE_MSG_STREAM, GATE_FOREVER, &in);
    return (int32_t)note[0];
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);     /* whole lines between processes */
    const char *role = argc > 1 ? argv[1] : "";
    char buf[128];
    if (!strcmp(role, "producer")) {
        int32_t out = gate_stream_open(2);
        for (int i = 0; i < 40; i++) {
            int n = snprintf(buf, sizeof buf, "item %d of the producer\n", i);
            put(out, buf, (uint32_t)n);
        }
        gate_stream_close(out);
        printf("producer: 40 items written, %s\n", held ? "held back by a full stream" : "never held back");
        return 0;
    }
    if (!strcmp(role, "transformer")) {
        int32_t in = input(), out = gate_stream_open(3);
        long bytes = 0;
        int32_t n;
        while ((n = gate_stream_read(in, buf, sizeof buf, GATE_FOREVER)) > 0) {
            for (int32_t i = 0; i < n; i++)
                buf[i] = (char)toupper((unsigned char)buf[i]);
            put(out, buf, (uint32_t)n);
            bytes += n;
        }
        gate_stream_close(out);
        printf("transformer: %ld bytes\n", bytes);
        return 0;
    }
    int32_t in = input();
    char line[128];
    int len = 0, items = 0;
    int32_t n;
    while ((n = gate_stream_read(in, buf, sizeof buf, GATE_FOREVER)) > 0)
        for (int32_t i = 0; i < n; i++) {
            if (buf[i] == '\n') {
                printf("consumer: %.*s\n", len, line);
                items++;
                len = 0;
            } else if (len < (int)sizeof line) {
                line[len++] = buf[i];
            }
        }
    printf("consumer: %d items\n", items);
    return 0;
}
