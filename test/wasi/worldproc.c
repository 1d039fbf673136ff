/*
 * worldproc.c - one of many processes of a world (test/world.sh): works
 * in steps, prints a line after each, and some sleep in between (so that
 * they are parked in poll_oneoff when the world is saved).  Its output is
 * a function of its argument only.
 *   worldproc ID
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

int main(int argc, char **argv)
{
    int id = argc > 1 ? atoi(argv[1]) : 0;
    uint64_t h = (uint64_t)id * 0x9e3779b97f4a7c15ull + 1;
    for (int step = 0; step < 5; step++) {
        for (int j = 0; j < 4000 * (1 + id % 7); j++) {
            h ^= h >> 29;
            h *= 0xbf58476d1ce4e5b9ull;
            h ^= h >> 32;
        }
        printf("proc %d step %d hash %016llx\n", id, step, (unsigned long long)h);
        fflush(stdout);
        if (id % 10 == 3) {
            struct timespec ts = { 0, 2000000L * (id % 5 + 1) };
            nanosleep(&ts, NULL);
        }
    }
    return id % 25 == 7 ? 3 : 0;
}
