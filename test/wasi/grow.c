/* grow.c - takes memory 256 KiB at a time, with some work between, until
   malloc fails or it has asked for argv[1] MiB; prints how much it got.
   Under --max-memory-pages the answer is the limit, on every run, and
   after every resume (test/attacks.sh: limits survive a snapshot). */
#include <stdio.h>
#include <stdlib.h>

static volatile unsigned long sink;

int main(int argc, char **argv)
{
    int want = argc > 1 ? atoi(argv[1]) : 64, got = 0;
    for (int i = 0; i < want * 4; i++) {
        char *p = malloc(256 * 1024);
        if (!p)
            break;
        p[0] = (char)i;
        sink += (unsigned long)p;        /* kept: not optimised away */
        got++;
        for (unsigned long k = 0; k < 200000; k++)
            sink += k;
    }
    printf("got %d KiB\n", got * 256);
    return 0;
}
