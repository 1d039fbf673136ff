/* A program with real initialisation before it needs the world
   (test/zygote.sh, bench "Zygotes").  The export "init" builds a table
   (a sieve) using no authority; main reads the arguments, environment
   and first preopen.  `gate init --init=init` saves it initialised, and
   every child (`gate run --fork`) runs _start with its own.
     init_clock   reads the clock, then init: an authority during the
                  initialisation (pending in each child, or a trap)
     init_marked  init, then gate.zygote_ready(), then the clock
   Arguments: NAME [close]: writes NAME and $ZYGOTE into NAME.txt beneath
   the first preopen (fd 3); "close" closes fd 3 first. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define N 4000000
static unsigned char sieve[N];
static unsigned primes, checksum, ready;
static long long clock_read = -1;

__attribute__((export_name("init"))) void init(void)
{
    for (unsigned i = 2; i < N; i++)
        if (!sieve[i]) {
            primes++;
            checksum = checksum * 31 + i;
            for (unsigned long j = (unsigned long)i * i; j < N; j += i)
                sieve[j] = 1;
        }
    ready = 1;
}

__attribute__((import_module("gate"), import_name("zygote_ready"))) void zygote_ready(void);

__attribute__((export_name("init_clock"))) void init_clock(void)
{
    clock_read = time(NULL) > 1000000000;
    init();
}

__attribute__((export_name("init_marked"))) void init_marked(void)
{
    init();
    zygote_ready();
    clock_read = time(NULL) > 1000000000;
}

int main(int argc, char **argv)
{
    if (!ready)
        init();
    printf("primes below %d: %u (checksum %08x)\n", N, primes, checksum);
    if (clock_read >= 0)
        printf("the clock read during init: %s\n", clock_read ? "plausible" : "implausible");
    printf("argc %d:", argc);
    for (int i = 1; i < argc; i++)
        printf(" %s", argv[i]);
    const char *e = getenv("ZYGOTE");
    printf("\nZYGOTE=%s\n", e ? e : "(unset)");
    if (argc < 2)
        return 0;
    if (argc > 2 && !strcmp(argv[2], "close"))
        printf("close(3): %d\n", close(3));
    char path[300];
    snprintf(path, sizeof path, "%s.txt", argv[1]);
    int fd = openat(3, path, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    if (fd < 0) {
        printf("openat(3, %s): failed\n", path);
        return 3;
    }
    dprintf(fd, "%s %s\n", argv[1], e ? e : "-");
    close(fd);
    printf("wrote %s\n", path);
    return 0;
}
