/* rights.c - the rights model: what fd_fdstat_get reports, rights
   intersected at path_open, fd_fdstat_set_rights only dropping, every call
   checking its right (ENOTCAPABLE), and all of it kept across a stop.
   Run with an empty DIR preopened as "data" (descriptor 3). */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <wasi/api.h>

static void say(const char *what, int r)
{
    printf("%-36s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static void wsay(const char *what, __wasi_errno_t e)
{
    printf("%-36s %s\n", what, e ? strerror(e) : "ok");
}

static volatile unsigned sink;
static void busy(void)
{
    for (unsigned i = 0; i < 200000; i++)
        sink += i;
}

static void rights(const char *what, int fd)
{
    __wasi_fdstat_t st;
    __wasi_errno_t e = __wasi_fd_fdstat_get(fd, &st);
    if (e)
        printf("%-36s %s\n", what, strerror(e));
    else
        printf("%-36s %#llx %#llx\n", what, (unsigned long long)st.fs_rights_base,
               (unsigned long long)st.fs_rights_inheriting);
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    rights("stdin", 0);
    rights("stdout", 1);
    rights("the preopen", 3);
    int fd = open("data/f", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    say("create data/f for writing", fd);
    rights("data/f written", fd);
    say("write", (int)write(fd, "abc", 3) - 3);
    close(fd);
    fd = open("data/f", O_RDONLY);
    rights("data/f read-only", fd);
    char b[8];
    say("read", (int)read(fd, b, sizeof b));
    say("write to it", (int)write(fd, "x", 1));
    say("ftruncate it", ftruncate(fd, 0));
    /* dropping: fd_read goes, then it cannot come back */
    wsay("drop fd_read", __wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_SEEK |
                                                            __WASI_RIGHTS_FD_TELL, 0));
    rights("after the drop", fd);
    busy();
    say("read after the drop", (int)read(fd, b, sizeof b));
    say("lseek after the drop", (int)lseek(fd, 0, SEEK_SET));
    wsay("add fd_read back", __wasi_fd_fdstat_set_rights(fd, __WASI_RIGHTS_FD_READ, 0));
    wsay("add inheriting rights", __wasi_fd_fdstat_set_rights(fd, 0, __WASI_RIGHTS_FD_READ));
    close(fd);
    /* a directory has no file rights */
    mkdir("data/d", 0755);
    fd = open("data/d", O_RDONLY | O_DIRECTORY);
    rights("data/d", fd);
    say("fsync the directory", fsync(fd));
    close(fd);
    /* the preopen hands down fewer: no writing, no creating */
    __wasi_fdstat_t pre;
    if (__wasi_fd_fdstat_get(3, &pre))
        return 1;
    wsay("preopen: drop create and write", __wasi_fd_fdstat_set_rights(
             3, pre.fs_rights_base & ~__WASI_RIGHTS_PATH_CREATE_FILE,
             pre.fs_rights_inheriting & ~__WASI_RIGHTS_FD_WRITE));
    busy();
    say("create data/g", open("data/g", O_WRONLY | O_CREAT, 0644));
    fd = open("data/f", O_WRONLY);
    say("open data/f for writing", fd);
    rights("data/f opened now", fd);
    say("write to it", (int)write(fd, "x", 1));
    close(fd);
    say("mkdir data/e (still allowed)", mkdir("data/e", 0755));
    wsay("preopen: drop path_open", __wasi_fd_fdstat_set_rights(
             3, pre.fs_rights_base & ~(__WASI_RIGHTS_PATH_CREATE_FILE | __WASI_RIGHTS_PATH_OPEN),
             0));
    busy();
    say("open data/f", open("data/f", O_RDONLY));
    wsay("bad descriptor", __wasi_fd_fdstat_set_rights(99, 0, 0));
    return 0;
}
