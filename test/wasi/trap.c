/* trap.c - divides by zero three calls deep: gate run must print the
   trap with a backtrace naming these functions, and exit 134. */
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) int divide(int a, int b) { return a / b; }
__attribute__((noinline)) int middle(int a, int b) { return divide(a, b) + 1; }

int main(int argc, char **argv)
{
    (void)argv;
    printf("before\n");
    fflush(stdout);
    return middle(10, argc - 1);
}
