/* copy.c - reads data/in.txt line by line and appends each line,
   numbered, to data/out.txt, slowly: a program with open files that is
   stopped and resumed (test/run-cli.sh checks the files survive). */
#include <stdio.h>

static volatile unsigned long sink;

int main(void)
{
    FILE *in = fopen("data/in.txt", "r"), *out = fopen("data/out.txt", "w");
    if (!in || !out)
        return 1;
    char line[128];
    int n = 0;
    while (fgets(line, sizeof line, in)) {
        fprintf(out, "%d: %s", ++n, line);
        fflush(out);
        for (unsigned long i = 0; i < 20000000ul; i++)   /* some work per line */
            sink += i ^ (unsigned long)n;
    }
    fclose(out);
    printf("copied %d lines\n", n);
    return 0;
}
