/* paths.c - path resolution beneath a preopened directory: for each
   argument, what open() reads and what stat()/lstat() say.  run-cli.sh
   runs it with openat2 and with the component walk (GATE_NO_OPENAT2=1)
   against the same expected output (paths.expected). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char *kind(mode_t m)
{
    return S_ISREG(m) ? "file" : S_ISDIR(m) ? "dir" : S_ISLNK(m) ? "link" : "other";
}

int main(int argc, char **argv)
{
    for (int i = 1; i < argc; i++) {
        char p[512], buf[64] = "";
        snprintf(p, sizeof p, "sandbox/%s", argv[i]);
        printf("%-22s", argv[i]);
        int fd = open(p, O_RDONLY);
        if (fd < 0) {
            printf(" open: %-16s", strerror(errno));
        } else {
            ssize_t n = read(fd, buf, sizeof buf - 1);
            buf[n > 0 ? n : 0] = 0;
            char *nl = strchr(buf, '\n');
            if (nl)
                *nl = 0;
            printf(" open: %-16s", n < 0 ? "(a directory)" : buf);
            close(fd);
        }
        struct stat st;
        printf(" stat: %-22s", stat(p, &st) ? strerror(errno) : kind(st.st_mode));
        printf(" lstat: %s\n", lstat(p, &st) ? strerror(errno) : kind(st.st_mode));
    }
    /* creating through links: inside works, outside does not */
    int fd = open("sandbox/dlink/new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("create dlink/new: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0)
        close(fd);
    fd = open("sandbox/dir/out2/new", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    printf("create dir/out2/new: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0)
        close(fd);
    fd = open("sandbox/dangling", O_WRONLY | O_CREAT, 0644);
    printf("create through dangling: %s\n", fd >= 0 ? "ok" : strerror(errno));
    if (fd >= 0)
        close(fd);
    return 0;
}
