/* polling.c - poll_oneoff on descriptors: a file is always readable,
   stdout writable, stdin readable once input arrives (the harness sends a
   line after a while), a bad descriptor flagged, a timeout alone; with
   "wait", it only waits for stdin (a stop lands in the wait). */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static void show(const char *what, int r, struct pollfd *p, int n)
{
    printf("%-28s %d:", what, r);
    for (int i = 0; i < n; i++)
        printf(" %s%s%s%s", p[i].revents & POLLIN ? "in" : "", p[i].revents & POLLOUT ? "out" : "",
               p[i].revents & POLLHUP ? "hup" : "", p[i].revents & POLLNVAL ? "nval" : "");
    printf("\n");
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char buf[64];
    if (argc < 2 || strcmp(argv[1], "wait")) {
        int fd = open("data/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
        struct pollfd a[2] = { { fd, POLLIN, 0 }, { 1, POLLOUT, 0 } };
        show("a file and stdout", poll(a, 2, 1000), a, 2);
        struct pollfd b[1] = { { 77, POLLIN, 0 } };
        show("a bad descriptor", poll(b, 1, 1000), b, 1);
        show("nothing, 30 ms", poll(NULL, 0, 30), NULL, 0);
        close(fd);
    }
    struct pollfd s[1] = { { 0, POLLIN, 0 } };
    int r = poll(s, 1, 60000);
    s[0].revents &= ~POLLHUP;   /* whether the writer has gone yet is timing */
    show("stdin, when input comes", r, s, 1);
    ssize_t n = read(0, buf, sizeof buf - 1);
    buf[n > 0 ? n : 0] = 0;
    printf("%-28s %s", "read", buf);
    return 0;
}
