/* flood.c - writes 4 MiB to stdout, which the test makes a pipe nobody
   reads: the write blocks, so a second SIGINT must end gate while the
   first one's stop waits (test/run-cli.sh). */
#include <stdio.h>
#include <string.h>

int main(void)
{
    static char buf[65536];
    memset(buf, 'x', sizeof buf);
    fprintf(stderr, "flooding\n");
    for (int i = 0; i < 64; i++)
        fwrite(buf, 1, sizeof buf, stdout);
    return 0;
}
