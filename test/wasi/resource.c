/* resource.c - reads data/in.txt a byte at a time, one line per unit of
   work, and prints each line: a program holding an open file when it is
   stopped (test/resources.sh).  Resumed where data is granted it goes on;
   where it is reported lost it sees EBADF, tries to open it again and
   gives up (status 4) when it cannot; where it is kept suspended it
   stops at its next read until it is resumed somewhere that grants it. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <unistd.h>

static volatile unsigned long sink;

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("data/in.txt", O_RDONLY);
    if (fd < 0) {
        printf("no data/in.txt\n");
        return 1;
    }
    char line[128];
    int n = 0, len = 0;
    off_t pos = 0;
    for (;;) {
        char c;
        ssize_t r = read(fd, &c, 1);
        if (r < 0) {
            printf("lost data/in.txt after line %d (%s): opening it again\n", n,
                   errno == EBADF ? "EBADF" : "another error");
            close(fd);
            if ((fd = open("data/in.txt", O_RDONLY)) < 0) {
                printf("cannot open data/in.txt again: giving up\n");
                return 4;
            }
            lseek(fd, pos, SEEK_SET);
            len = 0;
            continue;
        }
        if (r == 0)
            break;
        pos++;
        if (c != '\n' && len < (int)sizeof line - 1) {
            line[len++] = c;
            continue;
        }
        line[len] = 0;
        len = 0;
        printf("%d: %s\n", ++n, line);
        for (unsigned long i = 0; i < 3000000ul; i++)      /* some work per line */
            sink += i ^ (unsigned long)n;
    }
    printf("read %d lines\n", n);
    return 0;
}
