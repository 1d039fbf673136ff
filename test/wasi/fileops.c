/* fileops.c - the WASI calls on open files and links: pread/pwrite,
   sync, advise, allocate, truncation, times, readlink/symlink/link and
   fd_renumber, each with its error cases (bad descriptors, directories,
   links that would lead out of the preopen).  Run with DIR preopened as
   "data" (empty); the output is the same under gate on both ISAs and
   under node's WASI except where docs/wasi.md says node is wrong.
     fileops [STOPS]   STOPS: pause points for a stop (see below) */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <wasi/api.h>

static void say(const char *what, int r)
{
    printf("%-34s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

static void wsay(const char *what, __wasi_errno_t e)
{
    errno = e;
    printf("%-34s %s\n", what, e ? strerror(e) : "ok");
}

/* a loop long enough that fuel runs out inside it (snapshot tests) */
static volatile unsigned sink;
static void busy(void)
{
    for (unsigned i = 0; i < 200000; i++)
        sink += i;
}

int main(void)
{
    char buf[64];
    const char *mode = getenv("MODE");
    setvbuf(stdout, NULL, _IOLBF, 0);
    int fd = open("data/f", O_RDWR | O_CREAT | O_TRUNC, 0644);
    say("open data/f", fd);
    say("write 0123456789", (int)write(fd, "0123456789", 10) - 10);
    /* pread/pwrite leave the position alone */
    memset(buf, 0, sizeof buf);
    ssize_t n = pread(fd, buf, 4, 3);
    printf("%-34s %zd \"%s\"\n", "pread 4 at 3", n, buf);
    say("pwrite XY at 8", (int)pwrite(fd, "XY", 2, 8) - 2);
    printf("%-34s %lld\n", "position after pread/pwrite", (long long)lseek(fd, 0, SEEK_CUR));
    memset(buf, 0, sizeof buf);
    n = pread(fd, buf, sizeof buf - 1, 0);
    printf("%-34s %zd \"%s\"\n", "pread all", n, buf);
    n = pread(fd, buf, 4, 100);
    printf("%-34s %zd\n", "pread past the end", n);
    busy();
    /* pwrite past the end makes a hole of zeroes */
    say("pwrite Z at 12", (int)pwrite(fd, "Z", 1, 12) - 1);
    memset(buf, 0, sizeof buf);
    n = pread(fd, buf, sizeof buf - 1, 10);
    printf("%-34s %zd [%d %d %c]\n", "pread the hole", n, buf[0], buf[1], buf[2]);
    say("fsync", fsync(fd));
    say("fdatasync", fdatasync(fd));
    errno = posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    say("fadvise sequential", errno ? -1 : 0);
    errno = posix_fadvise(fd, 0, 0, 99);
    say("fadvise 99", errno ? -1 : 0);
    errno = posix_fallocate(fd, 0, 100);
    say("fallocate 0..100", errno ? -1 : 0);
    struct stat st;
    fstat(fd, &st);
    printf("%-34s %lld\n", "size after fallocate", (long long)st.st_size);
    say("ftruncate 5", ftruncate(fd, 5));
    fstat(fd, &st);
    printf("%-34s %lld\n", "size after ftruncate", (long long)st.st_size);
    /* times */
    struct timespec ts[2] = { { 1000000000, 5 }, { 1200000000, 7 } };
    say("futimens", futimens(fd, ts));
    fstat(fd, &st);
    printf("%-34s %lld %lld\n", "atime mtime", (long long)st.st_atim.tv_sec,
           (long long)st.st_mtim.tv_sec);
    struct timespec omit[2] = { { 0, UTIME_OMIT }, { 1300000000, 0 } };
    say("utimensat mtime only", utimensat(AT_FDCWD, "data/f", omit, 0));
    stat("data/f", &st);
    printf("%-34s %lld %lld\n", "atime mtime", (long long)st.st_atim.tv_sec,
           (long long)st.st_mtim.tv_sec);
    busy();
    /* symlinks and hard links */
    say("symlink f -> data/l", symlink("f", "data/l"));
    n = readlink("data/l", buf, sizeof buf);
    printf("%-34s %zd \"%.*s\"\n", "readlink data/l", n, n > 0 ? (int)n : 0, buf);
    n = readlink("data/l", buf, 0 + 0 + 1);
    printf("%-34s %zd\n", "readlink into 1 byte", n);
    say("readlink of a file", (int)readlink("data/f", buf, sizeof buf));
    say("symlink to /etc/passwd", symlink("/etc/passwd", "data/abs"));
    say("symlink to ../outside", symlink("../outside", "data/up"));
    say("mkdir data/d", mkdir("data/d", 0755));
    say("symlink ../f in data/d", symlink("../f", "data/d/back"));
    say("symlink ../../x in data/d", symlink("../../x", "data/d/out"));
    say("link f -> data/h", link("data/f", "data/h"));
    stat("data/f", &st);
    printf("%-34s %d\n", "links of f", (int)st.st_nlink);
    say("link onto an existing name", link("data/f", "data/l"));
    say("link of a directory", link("data/d", "data/d2"));
    say("link from a missing name", link("data/nothere", "data/x"));
    /* wasi-libc's utimensat refuses AT_SYMLINK_NOFOLLOW: the call itself
       (fd 3 is the preopen "data") */
    wsay("set the link's own times", __wasi_path_filestat_set_times(
             3, 0, "l", 0, 0, __WASI_FSTFLAGS_ATIM_NOW | __WASI_FSTFLAGS_MTIM_NOW));
    wsay("times now and given at once", __wasi_path_filestat_set_times(
             3, 0, "f", 5, 0, __WASI_FSTFLAGS_MTIM | __WASI_FSTFLAGS_MTIM_NOW));
    /* node's WASI never returns from this open (MODE=node skips it) */
    if (!mode || strcmp(mode, "node")) {
        int lfd = open("data/d/back", O_RDONLY);
        n = lfd < 0 ? -1 : read(lfd, buf, sizeof buf - 1);
        printf("%-34s %zd\n", "read through data/d/back", n);
        if (lfd >= 0)
            close(lfd);
    }
    busy();
    if (mode && !strcmp(mode, "node"))
        return 0;           /* node's WASI hangs on what follows (docs/wasi.md) */
    /* errors on descriptors */
    say("pread on a bad fd", (int)pread(99, buf, 1, 0));
    say("fsync on a bad fd", fsync(99));
    int dfd = open("data/d", O_RDONLY | O_DIRECTORY);
    say("ftruncate a directory", ftruncate(dfd, 0));
    say("pwrite to a directory", (int)pwrite(dfd, "x", 1, 0));
    close(dfd);
    close(fd);
    /* fd_renumber: a file onto another closes that one; a file onto
       stdout is how some programs redirect their own output (the rest of
       this output goes to data/spare) */
    int out = open("data/out", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    wsay("renumber 99 to out", __wasi_fd_renumber(99, out));
    wsay("renumber out to 99", __wasi_fd_renumber(out, 99));
    wsay("renumber out to out", __wasi_fd_renumber(out, out));
    int spare = open("data/spare", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    wsay("renumber spare onto out", __wasi_fd_renumber(spare, out));
    say("write to out (now spare's file)", (int)write(out, "into spare\n", 11) - 11);
    say("write to spare's old number", (int)write(spare, "x", 1));
    /* a standard stream under another number (kept so across a stop) */
    int other = open("data/other", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    wsay("renumber stderr onto a file's fd", __wasi_fd_renumber(2, other));
    busy();
    say("write to that fd", (int)write(other, "stderr by another number\n", 25) - 25);
    say("write to 2", (int)write(2, "x", 1));
    fflush(stdout);
    __wasi_errno_t e = __wasi_fd_renumber(out, 1);
    printf("renumber onto stdout: %s\n", e ? strerror(e) : "ok");
    busy();
    printf("still to the file\n");
    /* the preopen closed while a file beneath it is open: the file goes
       on, across stops too; the preopen is gone for the program */
    int late = open("data/late", O_WRONLY | O_CREAT | O_TRUNC, 0644);
    __wasi_errno_t ce = __wasi_fd_close(3);
    printf("close the preopen: %s\n", ce ? strerror(ce) : "ok");
    busy();
    printf("write beneath it: %s\n", write(late, "late\n", 5) == 5 ? "ok" : strerror(errno));
    __wasi_prestat_t ps;
    ce = __wasi_fd_prestat_get(3, &ps);
    printf("its prestat now: %s\n", ce ? strerror(ce) : "ok");
    ce = __wasi_fd_close(3);
    printf("closing it again: %s\n", ce ? strerror(ce) : "ok");
    return 0;
}
