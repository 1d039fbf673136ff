/* dirs.c - directories and trailing slashes as POSIX has them: mkdir,
   rename, unlink and rmdir of "name/", a directory opened for writing
   (EISDIR), no position on a directory descriptor, "." and ".." in a
   listing.  Run with an empty DIR preopened as "data". */
#include <dirent.h>
#include <stdint.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* the raw import: wasi-libc's wrappers measure paths with strlen */
int32_t raw_path_create_directory(int32_t fd, int32_t path, int32_t len)
    __attribute__((__import_module__("wasi_snapshot_preview1"),
                   __import_name__("path_create_directory")));

static void say(const char *what, int r)
{
    printf("%-30s %s\n", what, r < 0 ? strerror(errno) : "ok");
}

int main(void)
{
    say("mkdir d", mkdir("data/d", 0755));
    int fd = open("data/file", O_CREAT | O_WRONLY, 0644);
    say("create file", fd);
    close(fd);
    DIR *dir = opendir("data/d");
    struct dirent *e;
    int dot = 0, dotdot = 0, other = 0;
    while (dir && (e = readdir(dir)))
        !strcmp(e->d_name, ".") ? dot++ : !strcmp(e->d_name, "..") ? dotdot++ : other++;
    if (dir)
        closedir(dir);
    printf("%-30s . %d, .. %d, others %d\n", "listing of the empty d", dot, dotdot, other);
    say("mkdir e/", mkdir("data/e/", 0755));
    say("mkdir e/ again", mkdir("data/e/", 0755));
    say("mkdir file/", mkdir("data/file/", 0755));
    say("rename d/ to x", rename("data/d/", "data/x"));
    say("rename x to y/", rename("data/x", "data/y/"));
    say("rename file/ to z", rename("data/file/", "data/z"));
    say("rename file to z/", rename("data/file", "data/z/"));
    say("unlink y/ (a directory)", unlink("data/y/"));
    say("unlink file/", unlink("data/file/"));
    say("rmdir file/", rmdir("data/file/"));
    say("rmdir y/", rmdir("data/y/"));
    say("rmdir e//", rmdir("data/e//"));
    say("rmdir . ", rmdir("data/."));
    say("open file for reading", (fd = open("data/file", O_RDONLY)) < 0 ? -1 : close(fd));
    mkdir("data/e", 0755);
    say("open a directory O_RDWR", open("data/e", O_RDWR));
    say("open a directory O_WRONLY", open("data/e", O_WRONLY));
    say("open O_DIRECTORY|O_RDWR", open("data/e", O_RDWR | O_DIRECTORY));
    say("open file/ (not a directory)", open("data/file/", O_RDONLY));
    fd = open("data/e", O_RDONLY | O_DIRECTORY);
    say("open e O_DIRECTORY", fd);
    say("lseek on a directory", (int)lseek(fd, 0, SEEK_CUR));
    char b[4];
    say("read from a directory", (int)read(fd, b, sizeof b));
    close(fd);
    int32_t ne = raw_path_create_directory(3, (int32_t)(intptr_t)"x\0y", 3);
    printf("%-30s %s\n", "mkdir \"x\\0y\" (a NUL inside)", ne ? strerror(ne) : "ok");
    int fd2 = open("data/e", O_RDONLY);
    say("lseek on e opened plainly", (int)lseek(fd2, 0, SEEK_SET));
    close(fd2);
    return 0;
}
