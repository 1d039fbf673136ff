/* hello.c - a small WASI program: the demo's subject.  Later milestones run
   it, stop it in the middle of the loop, snapshot it and resume it. */
#include <stdio.h>
#include <stdlib.h>

static unsigned long collatz_steps(unsigned long n)
{
    unsigned long steps = 0;
    while (n != 1) {
        n = (n & 1) ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

int main(int argc, char **argv)
{
    unsigned long limit = argc > 1 ? strtoul(argv[1], NULL, 10) : 1000000;
    unsigned long best = 1, best_steps = 0;
    for (unsigned long n = 1; n <= limit; n++) {
        unsigned long s = collatz_steps(n);
        if (s > best_steps) {
            best_steps = s;
            best = n;
            printf("new record: %lu takes %lu steps\n", best, best_steps);
        }
    }
    printf("below %lu, %lu takes the most steps: %lu\n", limit + 1, best, best_steps);
    return 0;
}
