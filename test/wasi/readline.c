/* readline.c - reads one line from stdin and echoes it: a read that
   blocks (stdin is a pipe nobody writes yet) gives way to a deadline or a
   signal, and the resumed program reads the line (test/run-cli.sh). */
#include <stdio.h>

int main(void)
{
    char line[256];
    printf("waiting for a line\n");
    fflush(stdout);
    if (!fgets(line, sizeof line, stdin))
        return 1;
    printf("got %s", line);
    return 0;
}
