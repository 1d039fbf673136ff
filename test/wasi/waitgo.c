/* waitgo.c - a program for deadline tests that cannot finish before it is
   stopped: it works until the file data/go exists (the test creates it
   only after the program was stopped and saved), then prints a checksum
   of its remaining work.  Its output does not depend on the machine's
   speed or on where it was stopped: "waiting", then, once go exists,
   "go" and the checksum. */
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

static volatile unsigned long sink;

int main(int argc, char **argv)
{
    unsigned long n = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    printf("waiting\n");
    fflush(stdout);
    while (access("data/go", F_OK) != 0)
        for (unsigned long i = 0; i < 200000; i++)     /* stoppable work */
            sink += i;
    printf("go\n");
    unsigned long long h = 1469598103934665603ull;
    for (unsigned long i = 0; i < n; i++)
        h = (h ^ i) * 1099511628211ull;
    printf("checksum %llx\n", h);
    return 0;
}
