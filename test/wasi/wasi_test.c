/* wasi_test.c - exercises WASI through wasi-libc; run by test/run-cli.sh
   with the sandbox directory preopened as "sandbox".  Its output is
   compared with wasi_test.expected. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int cmp(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

int main(int argc, char **argv)
{
    printf("argc=%d", argc);
    for (int i = 1; i < argc; i++)
        printf(" [%s]", argv[i]);
    printf("\n");
    const char *v = getenv("GATE_TEST");
    printf("env GATE_TEST=%s HOME=%s\n", v ? v : "(unset)", getenv("HOME") ? "set" : "(unset)");

    /* files: write, read back, seek, tell, stat */
    FILE *f = fopen("sandbox/out.txt", "w");
    if (!f) {
        printf("fopen: %s\n", strerror(errno));
        return 1;
    }
    fprintf(f, "hello from wasm\n");
    fclose(f);
    int fd = open("sandbox/out.txt", O_RDONLY);
    char buf[64] = { 0 };
    ssize_t n = read(fd, buf, sizeof buf - 1);
    printf("read %zd: %s", n, buf);
    off_t pos = lseek(fd, 6, SEEK_SET);
    n = read(fd, buf, 4);
    buf[n > 0 ? n : 0] = 0;
    printf("seek %lld then read \"%s\", tell %lld\n", (long long)pos, buf,
           (long long)lseek(fd, 0, SEEK_CUR));
    struct stat st;
    fstat(fd, &st);
    printf("size %lld regular %d\n", (long long)st.st_size, S_ISREG(st.st_mode));
    close(fd);

    /* directories: mkdir, list, rename, unlink, rmdir */
    printf("mkdir %d\n", mkdir("sandbox/d", 0755));
    fclose(fopen("sandbox/d/a", "w"));
    fclose(fopen("sandbox/d/b", "w"));
    printf("rename %d\n", rename("sandbox/d/b", "sandbox/d/c"));
    DIR *d = opendir("sandbox/d");
    char *names[16];
    int nn = 0;
    struct dirent *e;
    while (d && (e = readdir(d)) && nn < 16)
        if (e->d_name[0] != '.')
            names[nn++] = strdup(e->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp);
    printf("list:");
    for (int i = 0; i < nn; i++)
        printf(" %s", names[i]);
    printf("\n");
    printf("rmdir non-empty fails %d\n", rmdir("sandbox/d") != 0);
    printf("unlink %d %d\n", unlink("sandbox/d/a"), unlink("sandbox/d/c"));
    printf("rmdir %d\n", rmdir("sandbox/d"));
    printf("stat gone %d\n", stat("sandbox/d", &st) != 0 && errno == ENOENT);

    /* the sandbox holds */
    printf("escape ..: %d\n", open("sandbox/../secret", O_RDONLY) < 0);
    printf("escape abs: %d\n", open("/etc/passwd", O_RDONLY) < 0);
    printf("escape link: %d\n", open("sandbox/link/passwd", O_RDONLY) < 0);
    printf("mkdir outside: %d\n", mkdir("sandbox/../made", 0755) != 0);
    printf("bad fd: %d\n", write(99, "x", 1) < 0 && errno == EBADF);

    /* clocks and randomness */
    struct timespec t1, t2;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    clock_gettime(CLOCK_MONOTONIC, &t2);
    printf("monotonic %d\n", t2.tv_sec > t1.tv_sec ||
           (t2.tv_sec == t1.tv_sec && t2.tv_nsec >= t1.tv_nsec));
    clock_gettime(CLOCK_REALTIME, &t1);
    printf("realtime after 2020 %d\n", t1.tv_sec > 1577836800);
    unsigned char r[32] = { 0 };
    getentropy(r, sizeof r);
    int nonzero = 0;
    for (int i = 0; i < 32; i++)
        nonzero |= r[i];
    printf("random %d\n", nonzero != 0);
    fflush(stdout);
    exit(7);
}
