/* echo.c - a server on the socket `gate run --tcplisten HOST:PORT`
   preopens (descriptor 3 when no --dir is given): the socket calls' error
   cases, then one connection: a line read, answered in capitals, the
   connection shut down.  Waiting for the connection gives way to a stop;
   after a restore the socket is lost (EBADF). */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wasi/api.h>

static void say(const char *what, long r)
{
    printf("%-32s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    char buf[256];
    __wasi_fdstat_t st;
    if (__wasi_fd_fdstat_get(3, &st) == 0)
        printf("%-32s %s\n", "descriptor 3",
               st.fs_filetype == __WASI_FILETYPE_SOCKET_STREAM ? "a stream socket" : "other");
    say("recv on stdin", recv(0, buf, 1, 0));
    say("accept on stdout", accept(1, NULL, NULL));
    say("accept on a bad descriptor", accept(99, NULL, NULL));
    __wasi_errno_t e = __wasi_sock_shutdown(3, 7);
    printf("%-32s %s\n", "shutdown how 7", e ? strerror(e) : "ok");
    int c = accept(3, NULL, NULL);
    if (c < 0) {
        printf("accept: %s\n", strerror(errno));
        return 3;
    }
    say("accept", c);
    size_t n = 0;
    while (n < sizeof buf - 1) {
        ssize_t k = recv(c, buf + n, sizeof buf - 1 - n, 0);
        if (k <= 0)
            break;
        n += (size_t)k;
        if (memchr(buf, '\n', n))
            break;
    }
    buf[n] = 0;
    printf("%-32s %zu bytes\n", "received", n);
    for (size_t i = 0; i < n; i++)
        buf[i] = (char)toupper((unsigned char)buf[i]);
    say("send the answer", send(c, buf, n, 0) - (long)n);
    say("accept on the connection", accept(c, NULL, NULL));
    say("shutdown for writing", shutdown(c, SHUT_WR));
    say("close the connection", close(c));
    say("send on it closed", send(c, "x", 1, 0));
    return 0;
}
