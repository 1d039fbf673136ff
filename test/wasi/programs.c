/* programs.c - an ordinary wasi-libc program whose output and exit code
   must be the same under gate run and under node's WASI (test/run-cli.sh):
   formatting, allocation, sorting, strings, math, files in a preopened
   directory, arguments, environment, stdin. */
#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int cmp_int(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int main(int argc, char **argv)
{
    for (int i = 0; i < argc; i++)
        printf("arg %d: %s\n", i, i ? argv[i] : "(program)");
    const char *e = getenv("MODE");
    printf("MODE=%s\n", e ? e : "(none)");

    /* numbers and formatting */
    printf("%d %u %ld %lld %x %o %e %.10f %g %a\n", -42, 42u, -1234567L, 9007199254740993LL,
           0xbeef, 0755, 6.02214076e23, M_PI, 1e-300, 0.1);
    printf("%s|%10s|%-10s|%c\n", "str", "right", "left", 'c');
    printf("sqrt2=%.17g exp1=%.17g sin1=%.17g pow=%.17g\n", sqrt(2.0), exp(1.0), sin(1.0),
           pow(1.5, 40.25));
    printf("float %.9g %.9g\n", (double)(1.0f / 3.0f), (double)sqrtf(3.0f));

    /* allocation and sorting */
    int n = 100000;
    int *v = malloc(sizeof(int) * (size_t)n);
    uint32_t s = 12345;
    for (int i = 0; i < n; i++) {
        s = s * 1103515245u + 12345u;
        v[i] = (int)(s >> 8) - (1 << 22);
    }
    qsort(v, (size_t)n, sizeof(int), cmp_int);
    long long sum = 0;
    for (int i = 0; i < n; i += 997)
        sum += v[i];
    printf("sorted min=%d max=%d sample=%lld\n", v[0], v[n - 1], sum);
    free(v);

    /* strings */
    char buf[256];
    snprintf(buf, sizeof buf, "%s-%s-%d", "alpha", "beta", 7);
    printf("%s len=%zu rev=", buf, strlen(buf));
    for (size_t i = strlen(buf); i-- > 0;)
        putchar(buf[i]);
    putchar('\n');

    /* files in the preopened directory */
    FILE *f = fopen("data/input.txt", "r");
    if (f) {
        int lines = 0, chars = 0, c;
        while ((c = fgetc(f)) != EOF) {
            chars++;
            lines += c == '\n';
        }
        fclose(f);
        printf("input.txt: %d lines %d chars\n", lines, chars);
    } else {
        printf("input.txt: cannot open\n");
    }
    DIR *d = opendir("data");
    char *names[64];
    int nn = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) && nn < 64)
        if (de->d_name[0] != '.')
            names[nn++] = strdup(de->d_name);
    if (d)
        closedir(d);
    qsort(names, (size_t)nn, sizeof names[0], cmp_str);
    printf("data:");
    for (int i = 0; i < nn; i++)
        printf(" %s", names[i]);
    printf("\n");
    f = fopen("data/written.txt", "w");
    if (f) {
        fprintf(f, "written by %s\n", "the program");
        fclose(f);
    }
    f = fopen("data/written.txt", "r");
    if (f && fgets(buf, sizeof buf, f))
        printf("read back: %s", buf);
    if (f)
        fclose(f);
    remove("data/written.txt");

    /* stdin */
    size_t total = 0;
    while (fgets(buf, sizeof buf, stdin))
        total += strlen(buf);
    printf("stdin: %zu bytes\n", total);
    fflush(stdout);
    return 3;
}
