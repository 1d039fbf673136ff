/*
 * wasi.c - WASI preview1 for ordinary wasi-libc programs.
 *
 * Every function checks every pointer against linear memory (EFAULT when
 * out of range) and every descriptor against the table (EBADF).  Paths
 * are resolved beneath a preopened directory with openat2(RESOLVE_BENEATH
 * | RESOLVE_NO_MAGICLINKS), or component by component where the kernel
 * lacks openat2: absolute paths, ".." that climbs out, and symlinks that
 * point out all fail with ENOTCAPABLE.  What is not
 * implemented answers ENOSYS, whatever its signature.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/openat2.h>
#include <poll.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/uio.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "../snapshot/snapshot.h"

enum {
    W_SUCCESS = 0, W_2BIG = 1, W_ACCES = 2, W_AGAIN = 6, W_BADF = 8, W_BUSY = 10,
    W_EXIST = 20, W_FAULT = 21, W_FBIG = 22, W_ILSEQ = 25, W_INTR = 27, W_INVAL = 28,
    W_IO = 29, W_ISDIR = 31, W_LOOP = 32, W_MFILE = 33, W_NAMETOOLONG = 37, W_NFILE = 41,
    W_NOENT = 44, W_NOMEM = 48, W_NOSPC = 51, W_NOSYS = 52, W_NOTDIR = 54, W_NOTEMPTY = 55,
    W_NOTSOCK = 57, W_NOTSUP = 58, W_NOTTY = 59, W_OVERFLOW = 61, W_PERM = 63, W_PIPE = 64, W_ROFS = 69,
    W_SPIPE = 70, W_XDEV = 75, W_NOTCAPABLE = 76
};
enum { FT_UNKNOWN = 0, FT_BLOCK = 1, FT_CHAR = 2, FT_DIR = 3, FT_FILE = 4, FT_SOCK = 6,
       FT_LINK = 7 };
/* rights (preview1 bit numbers) */
enum {
    R_FD_DATASYNC = 0, R_FD_READ, R_FD_SEEK, R_FD_FDSTAT_SET_FLAGS, R_FD_SYNC, R_FD_TELL,
    R_FD_WRITE, R_FD_ADVISE, R_FD_ALLOCATE, R_PATH_CREATE_DIRECTORY, R_PATH_CREATE_FILE,
    R_PATH_LINK_SOURCE, R_PATH_LINK_TARGET, R_PATH_OPEN, R_FD_READDIR, R_PATH_READLINK,
    R_PATH_RENAME_SOURCE, R_PATH_RENAME_TARGET, R_PATH_FILESTAT_GET,
    R_PATH_FILESTAT_SET_SIZE, R_PATH_FILESTAT_SET_TIMES, R_FD_FILESTAT_GET,
    R_FD_FILESTAT_SET_SIZE, R_FD_FILESTAT_SET_TIMES, R_PATH_SYMLINK,
    R_PATH_REMOVE_DIRECTORY, R_PATH_UNLINK_FILE, R_POLL_FD_READWRITE, R_SOCK_SHUTDOWN,
    R_SOCK_ACCEPT
};
#define RB(r) (1ull << (r))
/* what a file, and what a directory, can have at most */
#define FILE_RIGHTS (RB(R_FD_DATASYNC) | RB(R_FD_READ) | RB(R_FD_SEEK) |                   \
                     RB(R_FD_FDSTAT_SET_FLAGS) | RB(R_FD_SYNC) | RB(R_FD_TELL) |           \
                     RB(R_FD_WRITE) | RB(R_FD_ADVISE) | RB(R_FD_ALLOCATE) |                \
                     RB(R_FD_FILESTAT_GET) | RB(R_FD_FILESTAT_SET_SIZE) |                  \
                     RB(R_FD_FILESTAT_SET_TIMES) | RB(R_POLL_FD_READWRITE))
#define DIR_RIGHTS (RB(R_FD_FDSTAT_SET_FLAGS) | RB(R_FD_SYNC) | RB(R_FD_DATASYNC) |        \
                    RB(R_PATH_CREATE_DIRECTORY) | RB(R_PATH_CREATE_FILE) |                 \
                    RB(R_PATH_LINK_SOURCE) | RB(R_PATH_LINK_TARGET) | RB(R_PATH_OPEN) |    \
                    RB(R_FD_READDIR) | RB(R_PATH_READLINK) | RB(R_PATH_RENAME_SOURCE) |    \
                    RB(R_PATH_RENAME_TARGET) | RB(R_PATH_FILESTAT_GET) |                   \
                    RB(R_PATH_FILESTAT_SET_SIZE) | RB(R_PATH_FILESTAT_SET_TIMES) |         \
                    RB(R_FD_FILESTAT_GET) | RB(R_FD_FILESTAT_SET_TIMES) |                  \
                    RB(R_PATH_SYMLINK) | RB(R_PATH_REMOVE_DIRECTORY) |                     \
                    RB(R_PATH_UNLINK_FILE))

/* what a file was opened for: enough to open it again after a restore,
   and nothing that creates or truncates */
enum { WA_READ = 1, WA_WRITE = 2, WA_DIR = 4 };

typedef struct wfd {
    int host;                   /* -1: closed, or lost */
    bool preopen;
    /* restored from a snapshot without a grant for its preopen, or its
       file is gone: the program sees EBADF; the entry stays (its number
       is not reused) and the next snapshot names it again */
    bool lost;
    char *guest;                /* preopen name */
    uint16_t flags;             /* fdflags */
    /* opened by path_open */
    char *path;                 /* relative to preopen `dir` */
    uint32_t dir;
    uint8_t access;             /* WA_* */
    uint64_t lost_pos;          /* a lost file's offset, saved as it was */
    /* what the program may do with it, and with what it opens beneath it
       (only ever fewer: fd_fdstat_set_rights drops, path_open intersects) */
    uint64_t rights, inheriting;
    /* a preopen the program closed while files opened beneath it are
       still open: EBADF to the program, kept (and saved) for them, so that
       a snapshot can reopen them (saved as fdflags bit 0x8000) */
    bool closed;
    bool sock;                  /* a socket: a --tcplisten one or accepted */
    /* restored with its preopen kept suspended (gate_wasi_grants.suspend):
       lost as well, but its first use stops the program there (a
       restartable call) instead of answering EBADF */
    bool suspended;
} wfd;

#define FD_CLOSED_FLAG 0x8000u

typedef struct gate_wasi {
    gate_engine *eng;
    /* added to the monotonic clock, so that after a restore (perhaps on
       another machine) it continues from where the snapshot left it */
    int64_t mono_offset;
    char **argv, **envp;
    int argc, envc;
    wfd *fds;
    uint32_t nfds;
    uint32_t hit;               /* 1 + the suspended descriptor the call used */
} gate_wasi;

static int errno_to_wasi(int e)
{
    switch (e) {
    case E2BIG: return W_2BIG;
    case EACCES: return W_ACCES;
    case EAGAIN: return W_AGAIN;
    case EBADF: return W_BADF;
    case EBUSY: return W_BUSY;
    case EEXIST: return W_EXIST;
    case EFAULT: return W_FAULT;
    case EFBIG: return W_FBIG;
    case EILSEQ: return W_ILSEQ;
    case EINTR: return W_INTR;
    case EINVAL: return W_INVAL;
    case EISDIR: return W_ISDIR;
    case ELOOP: return W_LOOP;
    case EMFILE: return W_MFILE;
    case ENAMETOOLONG: return W_NAMETOOLONG;
    case ENFILE: return W_NFILE;
    case ENOENT: return W_NOENT;
    case ENOMEM: return W_NOMEM;
    case ENOSPC: return W_NOSPC;
    case ENOSYS: return W_NOSYS;
    case ENOTDIR: return W_NOTDIR;
    case ENOTSOCK: return W_NOTSOCK;
    case ENOTCONN: return 53;
    case ECONNRESET: return 15;
    case ECONNREFUSED: return 14;
    case ENOTEMPTY: return W_NOTEMPTY;
    case EOPNOTSUPP: return W_NOTSUP;
    case ENOTTY: return W_NOTTY;
    case EOVERFLOW: return W_OVERFLOW;
    case EPERM: return W_PERM;
    case EPIPE: return W_PIPE;
    case EROFS: return W_ROFS;
    case ESPIPE: return W_SPIPE;
    case EXDEV: return W_NOTCAPABLE;   /* openat2 RESOLVE_BENEATH: an escape */
    default: return W_IO;
    }
}

/* ---- memory access ---------------------------------------------------- */

static uint8_t *mem(gate_call_ctx *ctx, uint32_t ptr, uint64_t len)
{
    uint64_t size;
    uint8_t *base = gate_memory_data(gate_call_instance(ctx), &size);
    if (!base || (uint64_t)ptr + len > size)
        return NULL;
    return base + ptr;
}

static bool put32(gate_call_ctx *ctx, uint32_t ptr, uint32_t v)
{
    uint8_t *p = mem(ctx, ptr, 4);
    if (p)
        memcpy(p, &v, 4);
    return p != NULL;
}

static bool put64(gate_call_ctx *ctx, uint32_t ptr, uint64_t v)
{
    uint8_t *p = mem(ctx, ptr, 8);
    if (p)
        memcpy(p, &v, 8);
    return p != NULL;
}

#define ARG32(i) ((uint32_t)args[i].of.i32)
#define ARG64(i) ((uint64_t)args[i].of.i64)

static gate_status ret(gate_val *res, int e)
{
    res[0].type = GATE_I32;
    res[0].of.i32 = e;
    return GATE_OK;
}

static wfd *getfd(gate_wasi *w, uint32_t fd)
{
    if (fd < w->nfds && w->fds[fd].suspended)
        w->hit = fd + 1;
    return fd < w->nfds && w->fds[fd].host >= 0 && !w->fds[fd].closed ? &w->fds[fd] : NULL;
}

/* Whether a file opened beneath preopen d is still open (or lost: it is
   saved and may be reopened). */
static bool has_files(const gate_wasi *w, uint32_t d)
{
    for (uint32_t i = 0; i < w->nfds; i++) {
        const wfd *f = &w->fds[i];
        if (f->path && !f->preopen && f->dir == d && (f->host >= 0 || f->lost))
            return true;
    }
    return false;
}

/* The most a descriptor of its kind can have: a directory's and what it
   hands down, a file's (its read and write as it was opened), a stream's. */
static void default_rights(wfd *f, bool is_dir, uint8_t access)
{
    if (f->sock) {
        f->rights = RB(R_FD_READ) | RB(R_FD_WRITE) | RB(R_FD_FDSTAT_SET_FLAGS) |
                    RB(R_FD_FILESTAT_GET) | RB(R_POLL_FD_READWRITE) | RB(R_SOCK_SHUTDOWN) |
                    RB(R_SOCK_ACCEPT);
        f->inheriting = f->rights;
        return;
    }
    if (is_dir) {
        f->rights = DIR_RIGHTS;
        f->inheriting = DIR_RIGHTS | FILE_RIGHTS;
    } else {
        f->rights = FILE_RIGHTS;
        if (!(access & WA_READ))
            f->rights &= ~RB(R_FD_READ);
        if (!(access & WA_WRITE))
            f->rights &= ~(RB(R_FD_WRITE) | RB(R_FD_ALLOCATE) | RB(R_FD_FILESTAT_SET_SIZE) |
                           RB(R_FD_DATASYNC));
        f->inheriting = 0;
    }
}

/* Descriptor fd if it has every right in `need`; else NULL and *e: EBADF
   for no such descriptor, or a directory asked for what only files do
   (wasmtime's answer), ENOTCAPABLE for a right it lacks. */
static wfd *need(gate_wasi *w, uint32_t fd, uint64_t need, int *e)
{
    wfd *f = getfd(w, fd);
    if (!f) {
        *e = W_BADF;
        return NULL;
    }
    if ((f->rights & need) != need) {
        bool dir = f->preopen || (f->access & WA_DIR);
        *e = dir && (need & ~DIR_RIGHTS) ? W_BADF : W_NOTCAPABLE;
        return NULL;
    }
    return f;
}

/* ---- blocking calls that a stop interrupts -------------------------------- */

static int64_t mono_now(void);

/* Whether a stop was asked for the program making this call (another
   thread, a deadline, a signal): a call that would block gives way. */
static bool stop_asked(gate_call_ctx *c)
{
    gate_instance *inst = gate_call_instance(c);
    return inst && atomic_load(&inst->vm.stop_req);
}

/* Waits until fd has something to read (or is at its end) unless a stop
   is asked first: false then.  Regular files never wait. */
static bool readable_or_stop(gate_call_ctx *c, int fd)
{
    struct stat st;
    if (fstat(fd, &st) || S_ISREG(st.st_mode) || S_ISDIR(st.st_mode))
        return true;
    for (;;) {
        struct pollfd pf = { .fd = fd, .events = POLLIN };
        int r = poll(&pf, 1, 10);
        if (r != 0)
            return true;            /* ready, at its end, or an error read() reports */
        if (stop_asked(c))
            return false;
    }
}

/* ---- args, environment, clocks, random, yield, exit --------------------- */

static int strings_get(gate_call_ctx *ctx, char **list, int n, uint32_t ptrs, uint32_t buf)
{
    for (int i = 0; i < n; i++) {
        size_t len = strlen(list[i]) + 1;
        uint8_t *p = mem(ctx, buf, len);
        if (!p || !put32(ctx, ptrs + 4 * (uint32_t)i, buf))
            return W_FAULT;
        memcpy(p, list[i], len);
        buf += (uint32_t)len;
    }
    return W_SUCCESS;
}

static int strings_sizes(gate_call_ctx *ctx, char **list, int n, uint32_t count_ptr,
                         uint32_t size_ptr)
{
    uint64_t total = 0;
    for (int i = 0; i < n; i++)
        total += strlen(list[i]) + 1;
    if (total > UINT32_MAX)
        return W_OVERFLOW;
    return put32(ctx, count_ptr, (uint32_t)n) && put32(ctx, size_ptr, (uint32_t)total)
               ? W_SUCCESS : W_FAULT;
}

static gate_status args_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    return ret(res, strings_get(c, w->argv, w->argc, ARG32(0), ARG32(1)));
}

static gate_status args_sizes_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    return ret(res, strings_sizes(c, w->argv, w->argc, ARG32(0), ARG32(1)));
}

static gate_status environ_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    return ret(res, strings_get(c, w->envp, w->envc, ARG32(0), ARG32(1)));
}

static gate_status environ_sizes_get(gate_call_ctx *c, void *ud, const gate_val *args,
                                     gate_val *res)
{
    gate_wasi *w = ud;
    return ret(res, strings_sizes(c, w->envp, w->envc, ARG32(0), ARG32(1)));
}

static int clock_of(uint32_t id, clockid_t *out)
{
    static const clockid_t ids[] = { CLOCK_REALTIME, CLOCK_MONOTONIC, CLOCK_PROCESS_CPUTIME_ID,
                                     CLOCK_THREAD_CPUTIME_ID };
    if (id > 3)
        return W_INVAL;
    *out = ids[id];
    return W_SUCCESS;
}

static gate_status clock_res_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    clockid_t id;
    struct timespec ts;
    int e = clock_of(ARG32(0), &id);
    if (e)
        return ret(res, e);
    if (clock_getres(id, &ts))
        return ret(res, errno_to_wasi(errno));
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    return ret(res, put64(c, ARG32(1), ns) ? W_SUCCESS : W_FAULT);
}

static gate_status clock_time_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    clockid_t id;
    struct timespec ts;
    int e = clock_of(ARG32(0), &id);
    if (e)
        return ret(res, e);
    if (clock_gettime(id, &ts))
        return ret(res, errno_to_wasi(errno));
    uint64_t ns = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
    if (id == CLOCK_MONOTONIC)
        ns += (uint64_t)((gate_wasi *)ud)->mono_offset;
    return ret(res, put64(c, ARG32(2), ns) ? W_SUCCESS : W_FAULT);
}

static gate_status random_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    uint8_t *p = mem(c, ARG32(0), ARG32(1));
    if (!p)
        return ret(res, W_FAULT);
    for (uint32_t done = 0; done < ARG32(1);) {
        ssize_t n = getrandom(p + done, ARG32(1) - done, 0);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            return ret(res, errno_to_wasi(errno));
        }
        done += (uint32_t)n;
    }
    return ret(res, W_SUCCESS);
}

static gate_status sched_yield_(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud; (void)args;
    /* in a world, the worker runs the next process */
    gate_instance *inst = gate_call_instance(c);
    if (inst && inst->hooks && inst->hooks->wait) {
        inst->hooks->wait(inst->hooks_ud, 0);
        /* woken to be saved: stop here, the call done */
        if (stop_asked(c))
            gate_call_request_stop(c, GATE_HOST_COMPLETE);
    } else
        sched_yield();
    return ret(res, W_SUCCESS);
}

static gate_status proc_exit(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud; (void)res;
    gate_call_exit(c, (int)ARG32(0));
    return GATE_EXITED;
}

static gate_status nosys(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)c; (void)ud; (void)args;
    return ret(res, W_NOSYS);
}

/* ---- descriptors --------------------------------------------------------- */

static uint8_t filetype(mode_t m)
{
    if (S_ISREG(m)) return FT_FILE;
    if (S_ISDIR(m)) return FT_DIR;
    if (S_ISCHR(m)) return FT_CHAR;
    if (S_ISBLK(m)) return FT_BLOCK;
    if (S_ISLNK(m)) return FT_LINK;
    if (S_ISSOCK(m)) return FT_SOCK;
    return FT_UNKNOWN;
}

static uint64_t ns_of(struct timespec ts)
{
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int write_filestat(gate_call_ctx *c, uint32_t ptr, const struct stat *st)
{
    uint8_t *p = mem(c, ptr, 64);
    if (!p)
        return W_FAULT;
    uint64_t v[8] = { st->st_dev, st->st_ino, filetype(st->st_mode), st->st_nlink,
                      (uint64_t)st->st_size, ns_of(st->st_atim), ns_of(st->st_mtim),
                      ns_of(st->st_ctim) };
    memcpy(p, v, 64);
    return W_SUCCESS;
}

/* iovecs: count entries of { u32 buf, u32 len } at ptr */
/* off >= 0: at that offset, the position left alone (pread/pwrite) */
static int iov_io(gate_call_ctx *c, int host, uint32_t iovs, uint32_t n, bool is_write,
                  int64_t off, uint64_t *total)
{
    *total = 0;
    if (n > 1024)
        return W_INVAL;             /* IOV_MAX: no call spins over 2^32 entries */
    /* the whole array at once: no 32-bit wraparound of iovs + 8 * i */
    if (n && !mem(c, iovs, 8 * (uint64_t)n))
        return W_FAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *e = mem(c, iovs + 8 * i, 8);
        if (!e)
            return W_FAULT;
        uint32_t buf, len;
        memcpy(&buf, e, 4);
        memcpy(&len, e + 4, 4);
        uint8_t *p = mem(c, buf, len);
        if (!p)
            return W_FAULT;
        uint32_t done = 0;
        while (done < len) {
            off_t at = (off_t)(off + (int64_t)(*total + done));
            ssize_t r = off < 0 ? (is_write ? write(host, p + done, len - done)
                                            : read(host, p + done, len - done))
                                : (is_write ? pwrite(host, p + done, len - done, at)
                                            : pread(host, p + done, len - done, at));
            if (r < 0) {
                if (errno == EINTR)
                    continue;
                if (*total + done)
                    break;          /* what was moved counts */
                return errno_to_wasi(errno);
            }
            if (r == 0)
                break;
            done += (uint32_t)r;
            if (!is_write)
                break;   /* a short read ends the call, as readv does */
        }
        *total += done;
        if (done < len)
            break;
    }
    return W_SUCCESS;
}

static gate_status fd_rw(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res,
                         bool is_write)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(is_write ? R_FD_WRITE : R_FD_READ), &rerr);
    if (!f)
        return ret(res, rerr);
    if (f->host <= 2 && (f->flags & 4)) {
        /* non-blocking, as the program asked, without O_NONBLOCK on the
           host's shared stream */
        struct pollfd pf = { .fd = f->host, .events = is_write ? POLLOUT : POLLIN };
        if (poll(&pf, 1, 0) == 0)
            return ret(res, W_AGAIN);
    }
    if (f->host <= 2 && (f->flags & 1) && is_write)
        lseek(f->host, 0, SEEK_END);    /* append; fails harmlessly on a pipe or tty */
    /* a read that would block gives way to a stop: the program stops at
       this call, which runs again on resume (nothing was read) */
    if (!is_write && !(f->flags & 4) && !readable_or_stop(c, f->host)) {
        gate_call_request_stop(c, GATE_HOST_RESTART);
        return ret(res, W_SUCCESS);
    }
    uint64_t total;
    int e = iov_io(c, f->host, ARG32(1), ARG32(2), is_write, -1, &total);
    if (e)
        return ret(res, e);
    return ret(res, put32(c, ARG32(3), (uint32_t)total) ? W_SUCCESS : W_FAULT);
}

static gate_status fd_read(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_rw(c, ud, args, res, false);
}

static gate_status fd_write(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_rw(c, ud, args, res, true);
}

static gate_status fd_seek(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_SEEK), &rerr);
    static const int wh[] = { SEEK_SET, SEEK_CUR, SEEK_END };
    if (!f)
        return ret(res, rerr);
    if (ARG32(2) > 2)
        return ret(res, W_INVAL);
    off_t r = lseek(f->host, (off_t)ARG64(1), wh[ARG32(2)]);
    if (r < 0)
        return ret(res, errno_to_wasi(errno));
    return ret(res, put64(c, ARG32(3), (uint64_t)r) ? W_SUCCESS : W_FAULT);
}

static gate_status fd_tell(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_TELL), &rerr);
    if (!f)
        return ret(res, rerr);
    off_t r = lseek(f->host, 0, SEEK_CUR);
    if (r < 0)
        return ret(res, errno_to_wasi(errno));
    return ret(res, put64(c, ARG32(1), (uint64_t)r) ? W_SUCCESS : W_FAULT);
}

static gate_status fd_close(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)c;
    gate_wasi *w = ud;
    wfd *f = getfd(w, ARG32(0));
    if (!f && ARG32(0) < w->nfds && w->fds[ARG32(0)].lost && !w->fds[ARG32(0)].suspended)
        f = &w->fds[ARG32(0)];          /* closing what was lost frees it */
    if (!f)
        return ret(res, W_BADF);
    if (f->preopen && has_files(w, ARG32(0))) {
        f->closed = true;           /* kept for the files beneath it */
        return ret(res, W_SUCCESS);
    }
    if (f->host > 2)
        close(f->host);
    free(f->guest);
    free(f->path);
    memset(f, 0, sizeof *f);
    f->host = -1;
    return ret(res, W_SUCCESS);
}

static gate_status fd_fdstat_get(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    wfd *f = getfd(ud, ARG32(0));
    struct stat st;
    if (!f)
        return ret(res, W_BADF);
    if (fstat(f->host, &st))
        return ret(res, errno_to_wasi(errno));
    uint8_t *p = mem(c, ARG32(1), 24);
    if (!p)
        return ret(res, W_FAULT);
    memset(p, 0, 24);
    p[0] = filetype(st.st_mode);
    memcpy(p + 2, &f->flags, 2);
    memcpy(p + 8, &f->rights, 8);
    memcpy(p + 16, &f->inheriting, 8);
    return ret(res, W_SUCCESS);
}

/* fd_fdstat_set_rights(fd, rights, inheriting): only ever fewer */
static gate_status fd_fdstat_set_rights(gate_call_ctx *c, void *ud, const gate_val *args,
                                        gate_val *res)
{
    (void)c;
    wfd *f = getfd(ud, ARG32(0));
    if (!f)
        return ret(res, W_BADF);
    uint64_t r = ARG64(1), inh = ARG64(2);
    if ((r & ~f->rights) || (inh & ~f->inheriting))
        return ret(res, W_NOTCAPABLE);
    f->rights = r;
    f->inheriting = inh;
    return ret(res, W_SUCCESS);
}

static gate_status fd_fdstat_set_flags(gate_call_ctx *c, void *ud, const gate_val *args,
                                       gate_val *res)
{
    (void)c;
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_FDSTAT_SET_FLAGS), &rerr);
    if (!f)
        return ret(res, rerr);
    uint32_t fl = ARG32(1);
    if (f->host <= 2) {
        /* the host's standard streams are shared with the host (and its
           terminal): the flags are the program's own, emulated (fd_rw) */
        f->flags = (uint16_t)fl;
        return ret(res, W_SUCCESS);
    }
    int host = fcntl(f->host, F_GETFL);
    if (host < 0)
        return ret(res, errno_to_wasi(errno));
    host &= ~(O_APPEND | O_NONBLOCK);
    if (fl & 1)
        host |= O_APPEND;
    if (fl & 4)
        host |= O_NONBLOCK;
    if (fcntl(f->host, F_SETFL, host) < 0)
        return ret(res, errno_to_wasi(errno));
    f->flags = (uint16_t)fl;
    return ret(res, W_SUCCESS);
}

static gate_status fd_filestat_get(gate_call_ctx *c, void *ud, const gate_val *args,
                                   gate_val *res)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_FILESTAT_GET), &rerr);
    struct stat st;
    if (!f)
        return ret(res, rerr);
    if (fstat(f->host, &st))
        return ret(res, errno_to_wasi(errno));
    return ret(res, write_filestat(c, ARG32(1), &st));
}

static gate_status fd_prestat_get(gate_call_ctx *c, void *ud, const gate_val *args,
                                  gate_val *res)
{
    wfd *f = getfd(ud, ARG32(0));
    if (!f)
        return ret(res, W_BADF);
    if (!f->preopen)
        return ret(res, W_BADF);
    uint8_t *p = mem(c, ARG32(1), 8);
    if (!p)
        return ret(res, W_FAULT);
    uint32_t len = (uint32_t)strlen(f->guest);
    memset(p, 0, 8);
    memcpy(p + 4, &len, 4);
    return ret(res, W_SUCCESS);
}

static gate_status fd_prestat_dir_name(gate_call_ctx *c, void *ud, const gate_val *args,
                                       gate_val *res)
{
    wfd *f = getfd(ud, ARG32(0));
    if (!f || !f->preopen)
        return ret(res, W_BADF);
    size_t len = strlen(f->guest);
    if (ARG32(2) < len)
        return ret(res, W_NAMETOOLONG);
    uint8_t *p = mem(c, ARG32(1), len);
    if (!p)
        return ret(res, W_FAULT);
    memcpy(p, f->guest, len);
    return ret(res, W_SUCCESS);
}

/* fd_readdir(fd, buf, len, cookie, bufused): cookies are getdents64 offsets */
static gate_status fd_readdir(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_READDIR), &rerr);
    if (!f)
        return ret(res, rerr);
    uint32_t buf = ARG32(1), len = ARG32(2);
    uint8_t *out = mem(c, buf, len);
    if (!out)
        return ret(res, W_FAULT);
    if (lseek(f->host, (off_t)ARG64(3), SEEK_SET) < 0)
        return ret(res, errno_to_wasi(errno));
    char raw[4096];
    uint32_t used = 0;
    while (used < len) {
        long n = syscall(SYS_getdents64, f->host, raw, sizeof raw);
        if (n < 0)
            return ret(res, errno_to_wasi(errno));
        if (n == 0)
            break;
        for (long pos = 0; pos < n && used < len;) {
            struct { uint64_t ino; int64_t off; unsigned short reclen; unsigned char type; } h;
            memcpy(&h, raw + pos, 19);
            const char *name = raw + pos + 19;
            uint32_t nlen = (uint32_t)strlen(name);
            uint8_t d[24] = { 0 };
            uint64_t next = (uint64_t)h.off;
            memcpy(d, &next, 8);
            memcpy(d + 8, &h.ino, 8);
            memcpy(d + 16, &nlen, 4);
            d[20] = h.type == DT_DIR ? FT_DIR : h.type == DT_REG ? FT_FILE
                  : h.type == DT_LNK ? FT_LINK : h.type == DT_CHR ? FT_CHAR
                  : h.type == DT_BLK ? FT_BLOCK : h.type == DT_SOCK ? FT_SOCK : FT_UNKNOWN;
            /* entries may be cut at the end of the buffer: that is the protocol */
            for (uint32_t k = 0; k < 24 && used < len; k++)
                out[used++] = d[k];
            for (uint32_t k = 0; k < nlen && used < len; k++)
                out[used++] = (uint8_t)name[k];
            pos += h.reclen;
        }
    }
    return ret(res, put32(c, ARG32(4), used) ? W_SUCCESS : W_FAULT);
}

/* ---- paths --------------------------------------------------------------- */

/* Copies a guest path out of memory, NUL-terminated; rejects NULs. */
static int guest_path(gate_call_ctx *c, uint32_t ptr, uint32_t len, char *out, size_t cap)
{
    if (len >= cap)
        return W_NAMETOOLONG;
    uint8_t *p = mem(c, ptr, len);
    if (!p)
        return W_FAULT;
    if (memchr(p, 0, len))
        return W_INVAL;
    memcpy(out, p, len);
    out[len] = 0;
    return W_SUCCESS;
}

/*
 * Resolution beneath dirfd without openat2 (kernels before 5.6, and
 * qemu-user before 9.0, answer ENOSYS): one component at a time, each
 * directory opened O_PATH|O_NOFOLLOW relative to the previous one, and
 * ".." answered by going back to the directory opened before instead of
 * by the file system, so neither a "..", an absolute or escaping symlink,
 * nor a directory renamed meanwhile can lead outside: those fail with
 * EXDEV like RESOLVE_BENEATH.  Relative symlinks are expanded in place (at
 * most 40, else ELOOP); the last component is followed only when asked.
 */
enum { WALK_MAX_LINKS = 40, WALK_MAX_DEPTH = 2048 };

static int walk_beneath(int dirfd, const char *path, int flags, mode_t mode, bool follow)
{
    char *rest = malloc(2 * 4096 + 2), *link = malloc(4096 + 1);
    int *stack = malloc(WALK_MAX_DEPTH * sizeof *stack);
    int depth = 0, links = 0, fd = -1, err = 0;
    if (stack)
        stack[0] = -1;
    if (!rest || !link || !stack) {
        err = ENOMEM;
        goto out;
    }
    if (strlen(path) > 4096) {
        err = ENAMETOOLONG;
        goto out;
    }
    strcpy(rest, path);
    if ((stack[0] = fcntl(dirfd, F_DUPFD_CLOEXEC, 0)) < 0) {
        err = errno;
        goto out;
    }
    if (!*rest)
        strcpy(rest, ".");
    for (;;) {
        if (rest[0] == '/') {
            err = EXDEV;                    /* absolute: out of the tree */
            break;
        }
        /* the next component, and whether it is the last */
        char *end = strchr(rest, '/');
        size_t n = end ? (size_t)(end - rest) : strlen(rest);
        char *after = end ? end : rest + n;
        while (*after == '/')
            after++;
        bool last = *after == 0;
        if (last && end) {                  /* "name/": a directory, followed */
            if (flags & O_CREAT) {
                err = EISDIR;
                break;
            }
            flags |= O_DIRECTORY;
            follow = true;
        }
        char name[256];
        if (n > 255) {
            err = ENAMETOOLONG;
            break;
        }
        memcpy(name, rest, n);
        name[n] = 0;
        memmove(rest, after, strlen(after) + 1);
        if (!strcmp(name, "..")) {
            if (depth == 0) {
                err = EXDEV;
                break;
            }
            close(stack[depth--]);
            name[0] = '.', name[1] = 0;     /* the parent itself, if last */
        }
        ssize_t ln = -1;                    /* the link's length, once read */
        if (!last) {
            if (!strcmp(name, "."))
                continue;
            int d = openat(stack[depth], name, O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
            if (d >= 0) {
                if (depth + 1 >= WALK_MAX_DEPTH) {
                    close(d);
                    err = ENAMETOOLONG;
                    break;
                }
                stack[++depth] = d;
                continue;
            }
            err = errno;
        } else {
            /* a followed symlink is expanded first: O_PATH|O_NOFOLLOW would
               open the link itself */
            ln = follow ? readlinkat(stack[depth], name, link, 4096) : -1;
            if (ln < 0) {
                fd = openat(stack[depth], name, flags | O_NOFOLLOW | O_CLOEXEC,
                            (flags & O_CREAT) ? mode : 0);
                err = fd >= 0 ? 0 : errno;
                /* ELOOP: it became a symlink meanwhile; look again */
                if (fd >= 0 || !follow || err != ELOOP)
                    break;
            }
            err = ELOOP;
        }
        /* a symlink where a directory or a followed last name was wanted */
        if (err != ENOTDIR && err != ELOOP)
            break;
        if (ln < 0)
            ln = readlinkat(stack[depth], name, link, 4096);
        if (ln < 0)
            break;                          /* not a symlink: err stands */
        link[ln] = 0;
        if (++links > WALK_MAX_LINKS) {
            err = ELOOP;
            break;
        }
        if ((size_t)ln + 1 + strlen(rest) > 2 * 4096) {
            err = ENAMETOOLONG;
            break;
        }
        /* rest = link "/" rest */
        size_t rl = strlen(rest);
        memmove(rest + ln + (rl ? 1 : 0), rest, rl + 1);
        memcpy(rest, link, (size_t)ln);
        if (rl)
            rest[ln] = '/';
        if (!rest[0])
            strcpy(rest, ".");
        err = 0;
    }
out:
    if (stack)
        for (int i = 0; i <= depth; i++)
            if (stack[i] >= 0)
                close(stack[i]);
    free(rest);
    free(link);
    free(stack);
    if (err) {
        if (fd >= 0)
            close(fd);
        errno = err;
        return -1;
    }
    return fd;
}

/* Beneath dirfd; fails with EXDEV when the path would escape.  openat2
   where the kernel has it (GATE_NO_OPENAT2=1 in the environment takes the
   other path, for its tests), walk_beneath otherwise. */
static int open_beneath(int dirfd, const char *path, int flags, mode_t mode, bool follow)
{
    static int have_openat2 = -1;
    if (have_openat2 < 0) {
        const char *e = getenv("GATE_NO_OPENAT2");
        have_openat2 = !(e && *e && strcmp(e, "0"));
    }
    if (have_openat2) {
        /* openat2 insists on mode 0 unless the call can create a file */
        struct open_how how = { .flags = (uint64_t)flags | O_CLOEXEC,
                                .mode = (flags & O_CREAT) ? mode : 0,
                                .resolve = RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS };
        if (!follow)
            how.flags |= O_NOFOLLOW;
        long fd = syscall(SYS_openat2, dirfd, path, &how, sizeof how);
        if (fd >= 0 || errno != ENOSYS)
            return (int)fd;
        have_openat2 = 0;
    }
    return walk_beneath(dirfd, path, flags, mode, follow);
}

/* Splits path into an opened parent directory (beneath dirfd) and a last
   name.  Trailing slashes stay on the name as one, so the call on it
   follows POSIX ("e/" makes a directory, "file/" is ENOTDIR); ".", ".."
   or nothing as the last name is EINVAL. */
static int open_parent(int dirfd, const char *path, char *name, size_t cap, int *parent)
{
    size_t end = strlen(path);
    bool slash_after = false;
    while (end > 0 && path[end - 1] == '/')
        end--, slash_after = true;
    size_t start = end;
    while (start > 0 && path[start - 1] != '/')
        start--;
    size_t nlen = end - start;
    if (nlen == 0 || (nlen == 1 && path[start] == '.') ||
        (nlen == 2 && path[start] == '.' && path[start + 1] == '.'))
        return end == 0 && slash_after ? W_NOTCAPABLE : W_INVAL;   /* "/" */
    if (nlen + 2 > cap)
        return W_NAMETOOLONG;
    memcpy(name, path + start, nlen);
    name[nlen] = 0;
    if (slash_after)
        strcat(name, "/");
    char dir[4096];
    size_t dlen = start;
    while (dlen > 0 && path[dlen - 1] == '/')
        dlen--;
    if (dlen == 0 && start > 0)
        return W_NOTCAPABLE;          /* "/name": absolute */
    memcpy(dir, path, dlen);
    dir[dlen] = 0;
    int fd = open_beneath(dirfd, dlen ? dir : ".", O_PATH | O_DIRECTORY, 0, true);
    if (fd < 0)
        return errno_to_wasi(errno);
    *parent = fd;
    return W_SUCCESS;
}

static int add_fd(gate_wasi *w, int host)
{
    for (uint32_t i = 3; i < w->nfds; i++)
        if (w->fds[i].host < 0 && !w->fds[i].lost) {
            memset(&w->fds[i], 0, sizeof w->fds[i]);
            w->fds[i].host = host;
            return (int)i;
        }
    if (w->nfds >= 4096)
        return -1;
    wfd *n = realloc(w->fds, (w->nfds + 1) * sizeof *n);
    if (!n)
        return -1;
    w->fds = n;
    memset(&n[w->nfds], 0, sizeof *n);
    n[w->nfds].host = host;
    return (int)w->nfds++;
}

/* path_open(dirfd, dirflags, path, path_len, oflags, rights, rights_inh, fdflags, fd_out) */
static gate_status path_open(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    uint32_t oflags = ARG32(4), fdflags = ARG32(7);
    /* creating needs path_create_file, truncating path_filestat_set_size */
    int rerr;
    wfd *d = need(w, ARG32(0), RB(R_PATH_OPEN) | (oflags & 1 ? RB(R_PATH_CREATE_FILE) : 0) |
                                   (oflags & 8 ? RB(R_PATH_FILESTAT_SET_SIZE) : 0), &rerr);
    char path[4096];
    if (!d)
        return ret(res, rerr);
    int e = guest_path(c, ARG32(2), ARG32(3), path, sizeof path);
    if (e)
        return ret(res, e);
    uint64_t rights = ARG64(5), want_inh = ARG64(6);
    uint64_t dir_inh = d->inheriting;
    /* read/write from the requested rights: fd_read = 1<<1, fd_write = 1<<6 */
    bool rd = rights & (1u << 1) || !(rights & (1u << 6));
    bool wr = rights & (1u << 6);
    int flags = rd && wr ? O_RDWR : wr ? O_WRONLY : O_RDONLY;
    if (oflags & 1) flags |= O_CREAT;
    if (oflags & 2) flags |= O_DIRECTORY;
    if (oflags & 4) flags |= O_EXCL;
    if (oflags & 8) flags |= O_TRUNC;
    if (fdflags & 1) flags |= O_APPEND;
    if (fdflags & 4) flags |= O_NONBLOCK;
    if ((flags & (O_CREAT | O_TRUNC)) && !(flags & (O_WRONLY | O_RDWR)))
        flags |= O_RDWR;
    /* a directory opened for writing is EISDIR, as POSIX has it */
    int fd = open_beneath(d->host, path, flags, 0644, ARG32(1) & 1);
    if (fd < 0)
        return ret(res, errno_to_wasi(errno));
    int g = add_fd(w, fd);
    if (g < 0) {
        close(fd);
        return ret(res, W_MFILE);
    }
    int got = fcntl(fd, F_GETFL);
    struct stat st;
    if (!fstat(fd, &st) && S_ISDIR(st.st_mode))
        flags |= O_DIRECTORY;
    w->fds[g].flags = (uint16_t)fdflags;
    w->fds[g].path = strdup(path);
    w->fds[g].dir = ARG32(0);
    w->fds[g].access = (uint8_t)(((got & O_ACCMODE) != O_WRONLY ? WA_READ : 0) |
                                 ((got & O_ACCMODE) != O_RDONLY ? WA_WRITE : 0) |
                                 (flags & O_DIRECTORY ? WA_DIR : 0));
    /* what was asked for, what the directory hands down, what its kind
       and access allow */
    default_rights(&w->fds[g], flags & O_DIRECTORY, w->fds[g].access);
    w->fds[g].rights &= rights & dir_inh;
    w->fds[g].inheriting &= want_inh & dir_inh;
    if (!put32(c, ARG32(8), (uint32_t)g)) {
        close(fd);
        w->fds[g].host = -1;
        return ret(res, W_FAULT);
    }
    return ret(res, W_SUCCESS);
}

static gate_status path_filestat_get(gate_call_ctx *c, void *ud, const gate_val *args,
                                     gate_val *res)
{
    int rerr;
    wfd *d = need(ud, ARG32(0), RB(R_PATH_FILESTAT_GET), &rerr);
    char path[4096];
    struct stat st;
    if (!d)
        return ret(res, rerr);
    int e = guest_path(c, ARG32(2), ARG32(3), path, sizeof path);
    if (e)
        return ret(res, e);
    int fd = open_beneath(d->host, path, O_PATH, 0, ARG32(1) & 1);
    if (fd < 0)
        return ret(res, errno_to_wasi(errno));
    int r = fstat(fd, &st);
    int saved = errno;
    close(fd);
    if (r)
        return ret(res, errno_to_wasi(saved));
    return ret(res, write_filestat(c, ARG32(4), &st));
}

/* mkdir, unlink, rmdir: beneath the directory, on the last name */
static gate_status path_op(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res,
                           int op)
{
    static const int right[] = { R_PATH_CREATE_DIRECTORY, R_PATH_UNLINK_FILE,
                                 R_PATH_REMOVE_DIRECTORY };
    int rerr;
    wfd *d = need(ud, ARG32(0), RB(right[op]), &rerr);
    char path[4096], name[256];
    int parent, r;
    if (!d)
        return ret(res, rerr);
    int e = guest_path(c, ARG32(1), ARG32(2), path, sizeof path);
    if (!e)
        e = open_parent(d->host, path, name, sizeof name, &parent);
    if (e)
        return ret(res, e);
    if (op == 0)
        r = mkdirat(parent, name, 0755);
    else
        r = unlinkat(parent, name, op == 2 ? AT_REMOVEDIR : 0);
    int saved = errno;
    close(parent);
    return ret(res, r ? errno_to_wasi(saved) : W_SUCCESS);
}

static gate_status path_create_directory(gate_call_ctx *c, void *ud, const gate_val *args,
                                         gate_val *res)
{
    return path_op(c, ud, args, res, 0);
}

static gate_status path_unlink_file(gate_call_ctx *c, void *ud, const gate_val *args,
                                    gate_val *res)
{
    return path_op(c, ud, args, res, 1);
}

static gate_status path_remove_directory(gate_call_ctx *c, void *ud, const gate_val *args,
                                         gate_val *res)
{
    return path_op(c, ud, args, res, 2);
}

/* The two paths of a rename or link, each split into its parent opened
   beneath its directory and a last name; on success both parents are open. */
static int two_parents(gate_call_ctx *c, const wfd *d1, uint32_t p1, uint32_t l1, const wfd *d2,
                       uint32_t p2, uint32_t l2, char n1[256], char n2[256], int *f1, int *f2)
{
    char a[4096], b[4096];
    int e = guest_path(c, p1, l1, a, sizeof a);
    if (!e)
        e = guest_path(c, p2, l2, b, sizeof b);
    if (!e)
        e = open_parent(d1->host, a, n1, 256, f1);
    if (e)
        return e;
    e = open_parent(d2->host, b, n2, 256, f2);
    if (e)
        close(*f1);
    return e;
}

/* path_rename(fd, old, old_len, new_fd, new, new_len) */
static gate_status path_rename(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *d1 = need(ud, ARG32(0), RB(R_PATH_RENAME_SOURCE), &rerr);
    wfd *d2 = d1 ? need(ud, ARG32(3), RB(R_PATH_RENAME_TARGET), &rerr) : NULL;
    char n1[256], n2[256];
    int f1, f2;
    if (!d1 || !d2)
        return ret(res, rerr);
    int e = two_parents(c, d1, ARG32(1), ARG32(2), d2, ARG32(4), ARG32(5), n1, n2, &f1, &f2);
    if (e)
        return ret(res, e);
    int r = renameat(f1, n1, f2, n2);
    int saved = errno;
    close(f1);
    close(f2);
    return ret(res, r ? errno_to_wasi(saved) : W_SUCCESS);
}

/* ---- more of descriptors and paths --------------------------------------- */

/* fd_pread(fd, iovs, n, offset, nread) and fd_pwrite: at an offset, the
   file position left alone (preadv/pwritev) */
static gate_status fd_prw(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res,
                          bool is_write)
{
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(is_write ? R_FD_WRITE : R_FD_READ) | RB(R_FD_SEEK), &rerr);
    if (!f)
        return ret(res, rerr);
    if (ARG64(3) > INT64_MAX)
        return ret(res, W_INVAL);
    uint64_t total;
    int e = iov_io(c, f->host, ARG32(1), ARG32(2), is_write, (int64_t)ARG64(3), &total);
    if (e)
        return ret(res, e);
    return ret(res, put32(c, ARG32(4), (uint32_t)total) ? W_SUCCESS : W_FAULT);
}

static gate_status fd_pread(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_prw(c, ud, args, res, false);
}

static gate_status fd_pwrite(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_prw(c, ud, args, res, true);
}

/* fd_sync, fd_datasync: the file's data (and metadata) to its device */
static gate_status fd_sync_(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res,
                            bool data)
{
    (void)c;
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(data ? R_FD_DATASYNC : R_FD_SYNC), &rerr);
    if (!f)
        return ret(res, rerr);
    int r = data ? fdatasync(f->host) : fsync(f->host);
    return ret(res, r ? errno_to_wasi(errno) : W_SUCCESS);
}

static gate_status fd_sync(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_sync_(c, ud, args, res, false);
}

static gate_status fd_datasync(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    return fd_sync_(c, ud, args, res, true);
}

/* fd_advise(fd, offset, len, advice): normal, sequential, random,
   willneed, dontneed, noreuse, as posix_fadvise has them */
static gate_status fd_advise(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)c;
    static const int adv[] = { POSIX_FADV_NORMAL, POSIX_FADV_SEQUENTIAL, POSIX_FADV_RANDOM,
                               POSIX_FADV_WILLNEED, POSIX_FADV_DONTNEED, POSIX_FADV_NOREUSE };
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_ADVISE), &rerr);
    if (!f)
        return ret(res, rerr);
    if (ARG32(3) > 5 || ARG64(1) > INT64_MAX || ARG64(2) > INT64_MAX)
        return ret(res, W_INVAL);
    int r = posix_fadvise(f->host, (off_t)ARG64(1), (off_t)ARG64(2), adv[ARG32(3)]);
    return ret(res, r ? errno_to_wasi(r) : W_SUCCESS);
}

/* fd_allocate(fd, offset, len): the file at least offset + len long, the
   space reserved */
static gate_status fd_allocate(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)c;
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_ALLOCATE), &rerr);
    if (!f)
        return ret(res, rerr);
    uint64_t off = ARG64(1), len = ARG64(2);
    if (off > INT64_MAX || len > INT64_MAX - off)
        return ret(res, W_FBIG);
    if (len == 0)
        return ret(res, W_INVAL);
    int r = posix_fallocate(f->host, (off_t)off, (off_t)len);
    return ret(res, r ? errno_to_wasi(r) : W_SUCCESS);
}

static gate_status fd_filestat_set_size(gate_call_ctx *c, void *ud, const gate_val *args,
                                        gate_val *res)
{
    (void)c;
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_FILESTAT_SET_SIZE), &rerr);
    if (!f)
        return ret(res, rerr);
    if (ARG64(1) > INT64_MAX)
        return ret(res, W_FBIG);
    return ret(res, ftruncate(f->host, (off_t)ARG64(1)) ? errno_to_wasi(errno) : W_SUCCESS);
}

/* fstflags: 1 atim, 2 atim_now, 4 mtim, 8 mtim_now (a time and "now" for
   the same field is EINVAL) */
static int set_times(uint64_t atim, uint64_t mtim, uint32_t fl, struct timespec ts[2])
{
    if (fl & ~15u || ((fl & 1) && (fl & 2)) || ((fl & 4) && (fl & 8)))
        return W_INVAL;
    ts[0] = (struct timespec){ (time_t)(atim / 1000000000u), (long)(atim % 1000000000u) };
    ts[1] = (struct timespec){ (time_t)(mtim / 1000000000u), (long)(mtim % 1000000000u) };
    if (!(fl & 3))
        ts[0].tv_nsec = UTIME_OMIT;
    else if (fl & 2)
        ts[0].tv_nsec = UTIME_NOW;
    if (!(fl & 12))
        ts[1].tv_nsec = UTIME_OMIT;
    else if (fl & 8)
        ts[1].tv_nsec = UTIME_NOW;
    return W_SUCCESS;
}

static gate_status fd_filestat_set_times(gate_call_ctx *c, void *ud, const gate_val *args,
                                         gate_val *res)
{
    (void)c;
    int rerr;
    wfd *f = need(ud, ARG32(0), RB(R_FD_FILESTAT_SET_TIMES), &rerr);
    struct timespec ts[2];
    if (!f)
        return ret(res, rerr);
    int e = set_times(ARG64(1), ARG64(2), ARG32(3), ts);
    if (e)
        return ret(res, e);
    return ret(res, futimens(f->host, ts) ? errno_to_wasi(errno) : W_SUCCESS);
}

/* path_filestat_set_times(fd, lookupflags, path, len, atim, mtim, fstflags):
   a symlink itself unless asked to follow; one followed is opened beneath
   the preopen (a link that leads out fails as it does for open) */
static gate_status path_filestat_set_times(gate_call_ctx *c, void *ud, const gate_val *args,
                                           gate_val *res)
{
    int rerr;
    wfd *d = need(ud, ARG32(0), RB(R_PATH_FILESTAT_SET_TIMES), &rerr);
    char path[4096], name[256];
    struct timespec ts[2];
    int parent;
    if (!d)
        return ret(res, rerr);
    int e = set_times(ARG64(4), ARG64(5), ARG32(6), ts);
    if (!e)
        e = guest_path(c, ARG32(2), ARG32(3), path, sizeof path);
    if (!e)
        e = open_parent(d->host, path, name, sizeof name, &parent);
    if (e)
        return ret(res, e);
    struct stat st;
    int r = fstatat(parent, name, &st, AT_SYMLINK_NOFOLLOW);
    if (!r && S_ISLNK(st.st_mode) && (ARG32(1) & 1)) {
        int fd = open_beneath(d->host, path, O_RDONLY | O_NONBLOCK | O_NOCTTY, 0, true);
        if (fd < 0 && (errno == EACCES || errno == EISDIR))
            fd = open_beneath(d->host, path, O_WRONLY | O_NONBLOCK | O_NOCTTY, 0, true);
        r = fd < 0 ? -1 : futimens(fd, ts);
        int saved = errno;
        if (fd >= 0)
            close(fd);
        errno = saved;
    } else if (!r) {
        r = utimensat(parent, name, ts, AT_SYMLINK_NOFOLLOW);
    }
    int saved = errno;
    close(parent);
    return ret(res, r ? errno_to_wasi(saved) : W_SUCCESS);
}

/* path_readlink(fd, path, len, buf, buf_len, bufused): the link's text,
   cut at buf_len */
static gate_status path_readlink(gate_call_ctx *c, void *ud, const gate_val *args,
                                 gate_val *res)
{
    int rerr;
    wfd *d = need(ud, ARG32(0), RB(R_PATH_READLINK), &rerr);
    char path[4096], name[256], text[4096];
    int parent;
    if (!d)
        return ret(res, rerr);
    int e = guest_path(c, ARG32(1), ARG32(2), path, sizeof path);
    if (!e)
        e = open_parent(d->host, path, name, sizeof name, &parent);
    if (e)
        return ret(res, e);
    ssize_t n = readlinkat(parent, name, text, sizeof text);
    int saved = errno;
    close(parent);
    if (n < 0)
        return ret(res, errno_to_wasi(saved));
    uint32_t k = (uint64_t)n < ARG32(4) ? (uint32_t)n : ARG32(4);
    uint8_t *p = mem(c, ARG32(3), k);
    if (!p)
        return ret(res, W_FAULT);
    memcpy(p, text, k);
    return ret(res, put32(c, ARG32(5), k) ? W_SUCCESS : W_FAULT);
}

/* Whether a symlink at depth `depth` below the preopen with this text
   stays beneath it: not absolute, and no ".." climbing above the root. */
static bool link_stays_beneath(const char *text, int depth)
{
    if (text[0] == '/' || !text[0])
        return false;
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '/');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        if (n == 2 && p[0] == '.' && p[1] == '.') {
            if (--depth < 0)
                return false;
        } else if (n && !(n == 1 && p[0] == '.')) {
            depth++;
        }
        p += n;
        while (*p == '/')
            p++;
    }
    return true;
}

/* How deep the parent of `path` is below the preopen (a lexical count:
   the path resolved beneath the preopen without leaving it). */
static int parent_depth(const char *path)
{
    int depth = 0;
    const char *last = strrchr(path, '/');
    for (const char *p = path; last && p < last;) {
        const char *e = strchr(p, '/');
        size_t n = (size_t)(e - p);
        if (n == 2 && p[0] == '.' && p[1] == '.')
            depth = depth ? depth - 1 : 0;
        else if (n && !(n == 1 && p[0] == '.'))
            depth++;
        p = e + 1;
    }
    return depth;
}

/* path_symlink(old, old_len, fd, new, new_len): a link beneath the
   preopen whose text does not lead out of it (ENOTCAPABLE), so that what
   the guest makes is what the resolver would follow anyway */
static gate_status path_symlink(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *d = need(ud, ARG32(2), RB(R_PATH_SYMLINK), &rerr);
    char text[4096], path[4096], name[256];
    int parent;
    if (!d)
        return ret(res, rerr);
    int e = guest_path(c, ARG32(0), ARG32(1), text, sizeof text);
    if (!e)
        e = guest_path(c, ARG32(3), ARG32(4), path, sizeof path);
    if (e)
        return ret(res, e);
    if (!link_stays_beneath(text, parent_depth(path)))
        return ret(res, text[0] ? W_NOTCAPABLE : W_NOENT);
    e = open_parent(d->host, path, name, sizeof name, &parent);
    if (e)
        return ret(res, e);
    int r = symlinkat(text, parent, name);
    int saved = errno;
    close(parent);
    return ret(res, r ? errno_to_wasi(saved) : W_SUCCESS);
}

/* path_link(old_fd, lookupflags, old, old_len, new_fd, new, new_len): a
   hard link of what old names, both beneath their preopens; a symlink is
   linked itself (following one could reach outside: ENOTSUP) */
static gate_status path_link(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int rerr;
    wfd *d1 = need(ud, ARG32(0), RB(R_PATH_LINK_SOURCE), &rerr);
    wfd *d2 = d1 ? need(ud, ARG32(4), RB(R_PATH_LINK_TARGET), &rerr) : NULL;
    char n1[256], n2[256];
    int f1, f2;
    if (!d1 || !d2)
        return ret(res, rerr);
    int e = two_parents(c, d1, ARG32(2), ARG32(3), d2, ARG32(5), ARG32(6), n1, n2, &f1, &f2);
    if (e)
        return ret(res, e);
    struct stat st;
    int r = fstatat(f1, n1, &st, AT_SYMLINK_NOFOLLOW);
    if (!r && S_ISLNK(st.st_mode) && (ARG32(1) & 1)) {
        r = -1;
        errno = EOPNOTSUPP;
    } else if (!r) {
        r = linkat(f1, n1, f2, n2, 0);
    }
    int saved = errno;
    close(f1);
    close(f2);
    return ret(res, r ? errno_to_wasi(saved) : W_SUCCESS);
}

/* fd_renumber(from, to): `to` closed (as fd_close would), `from` moved
   there, with what it is and what refers to it (files opened beneath a
   preopen moved with it).  The host's standard streams are never closed. */
static gate_status fd_renumber(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    (void)c;
    gate_wasi *w = ud;
    uint32_t from = ARG32(0), to = ARG32(1);
    wfd *f = getfd(w, from), *t = getfd(w, to);
    if (!f || !t)
        return ret(res, W_BADF);
    if (from == to)
        return ret(res, W_SUCCESS);
    for (uint32_t i = 0; i < w->nfds; i++)
        if (w->fds[i].path && !w->fds[i].preopen && w->fds[i].dir == to && t->preopen)
            return ret(res, W_BUSY);    /* files still need that preopen */
    if (t->host > 2)
        close(t->host);
    free(t->guest);
    free(t->path);
    *t = *f;
    memset(f, 0, sizeof *f);
    f->host = -1;
    if (t->preopen)
        for (uint32_t i = 0; i < w->nfds; i++)
            if (w->fds[i].path && !w->fds[i].preopen && w->fds[i].dir == from)
                w->fds[i].dir = to;
    return ret(res, W_SUCCESS);
}

/* ---- sockets (preopened by the host: gate run --tcplisten) --------------- */

/* Socket fd with right r; ENOTSOCK for a descriptor that is not one. */
static wfd *need_sock(gate_wasi *w, uint32_t fd, uint64_t r, int *e)
{
    wfd *f = getfd(w, fd);
    if (!f) {
        *e = W_BADF;
        return NULL;
    }
    if (!f->sock) {
        *e = W_NOTSOCK;
        return NULL;
    }
    return need(w, fd, r, e);
}

/* sock_accept(fd, fdflags, fd_out): a connection on a listening socket;
   waiting for one gives way to a stop (the call runs again on resume) */
static gate_status sock_accept(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    int e;
    wfd *f = need_sock(w, ARG32(0), RB(R_SOCK_ACCEPT), &e);
    if (!f)
        return ret(res, e);
    if (ARG32(1) & ~4u)
        return ret(res, W_INVAL);
    int nb = ARG32(1) & 4 ? SOCK_NONBLOCK : 0;
    if (!(f->flags & 4) && !readable_or_stop(c, f->host)) {
        gate_call_request_stop(c, GATE_HOST_RESTART);
        return ret(res, W_SUCCESS);
    }
    int s = accept4(f->host, NULL, NULL, SOCK_CLOEXEC | nb);
    if (s < 0)
        return ret(res, errno_to_wasi(errno));
    int g = add_fd(w, s);
    if (g < 0) {
        close(s);
        return ret(res, W_MFILE);
    }
    w->fds[g].sock = true;
    w->fds[g].flags = (uint16_t)(ARG32(1) & 4);
    default_rights(&w->fds[g], false, 0);
    w->fds[g].rights &= ~RB(R_SOCK_ACCEPT);
    if (!put32(c, ARG32(2), (uint32_t)g)) {
        close(s);
        w->fds[g].host = -1;
        return ret(res, W_FAULT);
    }
    return ret(res, W_SUCCESS);
}

/* The iovecs of a socket call as a msghdr (at most 1024, all in memory). */
static int sock_iov(gate_call_ctx *c, uint32_t iovs, uint32_t n, struct iovec *v)
{
    if (n > 1024)
        return W_INVAL;
    if (n && !mem(c, iovs, 8 * (uint64_t)n))
        return W_FAULT;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t buf, len;
        memcpy(&buf, mem(c, iovs + 8 * i, 8), 4);
        memcpy(&len, mem(c, iovs + 8 * i, 8) + 4, 4);
        uint8_t *p = mem(c, buf, len);
        if (!p)
            return W_FAULT;
        v[i] = (struct iovec){ p, len };
    }
    return W_SUCCESS;
}

/* sock_recv(fd, iovs, n, riflags, nread_out, roflags_out): riflags peek
   1, waitall 2; waiting gives way to a stop */
static gate_status sock_recv(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int e;
    wfd *f = need_sock(ud, ARG32(0), RB(R_FD_READ), &e);
    if (!f)
        return ret(res, e);
    if (ARG32(3) & ~3u)
        return ret(res, W_INVAL);
    struct iovec *v = malloc(sizeof *v * (ARG32(2) ? ARG32(2) : 1));
    if (!v)
        return ret(res, W_NOMEM);
    e = sock_iov(c, ARG32(1), ARG32(2), v);
    if (!e && !(f->flags & 4) && !readable_or_stop(c, f->host)) {
        free(v);
        gate_call_request_stop(c, GATE_HOST_RESTART);
        return ret(res, W_SUCCESS);
    }
    ssize_t n = -1;
    if (!e) {
        struct msghdr m = { .msg_iov = v, .msg_iovlen = ARG32(2) };
        int fl = (ARG32(3) & 1 ? MSG_PEEK : 0) | (ARG32(3) & 2 ? MSG_WAITALL : 0);
        do
            n = recvmsg(f->host, &m, fl);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            e = errno_to_wasi(errno);
    }
    free(v);
    if (e)
        return ret(res, e);
    /* ro_flags is a u16 (and may sit right below the count) */
    uint8_t *ro = mem(c, ARG32(5), 2);
    if (!ro)
        return ret(res, W_FAULT);
    memset(ro, 0, 2);
    return ret(res, put32(c, ARG32(4), (uint32_t)n) ? W_SUCCESS : W_FAULT);
}

/* sock_send(fd, iovs, n, siflags, nwritten_out): no SIGPIPE (EPIPE) */
static gate_status sock_send(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    int e;
    wfd *f = need_sock(ud, ARG32(0), RB(R_FD_WRITE), &e);
    if (!f)
        return ret(res, e);
    if (ARG32(3))
        return ret(res, W_INVAL);
    struct iovec *v = malloc(sizeof *v * (ARG32(2) ? ARG32(2) : 1));
    if (!v)
        return ret(res, W_NOMEM);
    e = sock_iov(c, ARG32(1), ARG32(2), v);
    ssize_t n = -1;
    if (!e) {
        struct msghdr m = { .msg_iov = v, .msg_iovlen = ARG32(2) };
        do
            n = sendmsg(f->host, &m, MSG_NOSIGNAL);
        while (n < 0 && errno == EINTR);
        if (n < 0)
            e = errno_to_wasi(errno);
    }
    free(v);
    if (e)
        return ret(res, e);
    return ret(res, put32(c, ARG32(4), (uint32_t)n) ? W_SUCCESS : W_FAULT);
}

/* sock_shutdown(fd, how): rd 1, wr 2 */
static gate_status sock_shutdown(gate_call_ctx *c, void *ud, const gate_val *args,
                                 gate_val *res)
{
    (void)c;
    int e;
    wfd *f = need_sock(ud, ARG32(0), RB(R_SOCK_SHUTDOWN), &e);
    if (!f)
        return ret(res, e);
    uint32_t how = ARG32(1);
    if (how == 0 || how > 3)
        return ret(res, W_INVAL);
    int r = shutdown(f->host, how == 1 ? SHUT_RD : how == 2 ? SHUT_WR : SHUT_RDWR);
    return ret(res, r ? errno_to_wasi(errno) : W_SUCCESS);
}

/*
 * poll_oneoff(in, out, n, nevents): clock subscriptions and fd_read /
 * fd_write readiness (a regular file is always ready).  It waits until
 * the earliest clock or the first ready descriptor, in slices of 10 ms so
 * that a stop is seen; stopped, the call runs again on resume with only
 * what was left of each relative timeout, written back into the program's
 * subscriptions.  Events: every clock that expired, every descriptor
 * ready (nbytes unknown: 0; hangup flagged), every bad subscription with
 * its error.
 */
enum { POLL_MAX = 4096 };
static gate_status poll_oneoff(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    uint32_t in = ARG32(0), out = ARG32(1), n = ARG32(2);
    if (n == 0 || n > POLL_MAX)
        return ret(res, W_INVAL);
    uint8_t *subs = mem(c, in, (uint64_t)n * 48), *evs = mem(c, out, (uint64_t)n * 32);
    if (!subs || !evs)
        return ret(res, W_FAULT);
    struct pollfd *pf = calloc(n, sizeof *pf);
    uint16_t *err = calloc(n, sizeof *err);
    uint64_t *tmo = calloc(n, sizeof *tmo);
    if (!pf || !err || !tmo) {
        free(pf);
        free(err);
        free(tmo);
        return ret(res, W_NOMEM);
    }
    /* per subscription: a clock's relative timeout, or a descriptor */
    uint64_t wait = UINT64_MAX;
    bool any_fd = false, bad = false;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *s = subs + 48 * i;
        pf[i].fd = -1;
        if (s[8] == 0) {
            uint64_t timeout;
            uint16_t flags;
            uint32_t id;
            memcpy(&id, s + 16, 4);
            memcpy(&timeout, s + 24, 8);
            memcpy(&flags, s + 40, 2);
            clockid_t cid;
            if (clock_of(id, &cid)) {
                err[i] = W_INVAL;
                bad = true;
                continue;
            }
            if (flags & 1) {       /* absolute, on the program's clock */
                struct timespec ts;
                clock_gettime(cid, &ts);
                uint64_t now = ns_of(ts);
                if (cid == CLOCK_MONOTONIC)
                    now += (uint64_t)w->mono_offset;
                timeout = timeout > now ? timeout - now : 0;
            }
            tmo[i] = timeout;
            if (timeout < wait)
                wait = timeout;
        } else if (s[8] == 1 || s[8] == 2) {
            uint32_t fd;
            memcpy(&fd, s + 16, 4);
            int e;
            wfd *f = need(w, fd, RB(R_POLL_FD_READWRITE), &e);
            if (!f) {
                err[i] = (uint16_t)e;
                bad = true;
                continue;
            }
            pf[i].fd = f->host;
            pf[i].events = s[8] == 1 ? POLLIN : POLLOUT;
            any_fd = true;
        } else {
            err[i] = W_INVAL;
            bad = true;
        }
    }
    int64_t start = mono_now();
    uint64_t waited = 0;
    bool ready = false;
    while (!bad) {
        int r = any_fd ? poll(pf, n, 0) : 0;
        if (r > 0) {
            ready = true;
            break;
        }
        waited = (uint64_t)(mono_now() - start);
        if (waited >= wait)
            break;
        if (stop_asked(c)) {
            for (uint32_t i = 0; i < n; i++) {
                uint8_t *s = subs + 48 * i;
                uint64_t timeout;
                uint16_t flags;
                memcpy(&timeout, s + 24, 8);
                memcpy(&flags, s + 40, 2);
                if (s[8] != 0 || (flags & 1))
                    continue;
                timeout = timeout > waited ? timeout - waited : 0;
                memcpy(s + 24, &timeout, 8);
            }
            free(pf);
            free(err);
            free(tmo);
            gate_call_request_stop(c, GATE_HOST_RESTART);
            return ret(res, W_SUCCESS);
        }
        uint64_t left = wait - waited, slice = left < 10000000u ? left : 10000000u;
        gate_instance *inst = gate_call_instance(c);
        if (inst && inst->hooks && inst->hooks->wait) {
            /* a world process parks (descriptors are polled again every
               10 ms); a stop or kill wakes it */
            inst->hooks->wait(inst->hooks_ud, any_fd ? slice : left);
            continue;
        }
        if (any_fd) {
            int ms = (int)((slice + 999999) / 1000000);
            if (poll(pf, n, ms) > 0) {
                ready = true;
                break;
            }
        } else {
            struct timespec ts = { 0, (long)slice };
            nanosleep(&ts, NULL);
        }
    }
    waited = (uint64_t)(mono_now() - start);
    uint32_t nev = 0;
    for (uint32_t i = 0; i < n; i++) {
        uint8_t *s = subs + 48 * i, *ev = evs + 32 * nev;
        bool fire;
        if (err[i]) {
            fire = true;
        } else if (s[8] == 0) {
            fire = !bad && waited >= tmo[i];            /* this clock expired */
        } else {
            fire = ready && pf[i].revents != 0;
        }
        if (!fire)
            continue;
        memset(ev, 0, 32);
        memcpy(ev, s, 8);                        /* userdata */
        memcpy(ev + 8, &err[i], 2);
        ev[10] = s[8];
        if (s[8] != 0 && !err[i] && (pf[i].revents & POLLHUP)) {
            uint16_t hup = 1;
            memcpy(ev + 24, &hup, 2);
        }
        nev++;
    }
    free(pf);
    free(err);
    free(tmo);
    return ret(res, put32(c, ARG32(3), nev) ? W_SUCCESS : W_FAULT);
}

/* ---- binding ------------------------------------------------------------- */

static void wasi_free(void *p)
{
    gate_wasi *w = p;
    for (int i = 0; i < w->argc; i++)
        free(w->argv[i]);
    for (int i = 0; i < w->envc; i++)
        free(w->envp[i]);
    free(w->argv);
    free(w->envp);
    for (uint32_t i = 0; i < w->nfds; i++) {
        if (w->fds[i].host > 2)
            close(w->fds[i].host);
        free(w->fds[i].guest);
        free(w->fds[i].path);
    }
    free(w->fds);
    free(w);
}

static const struct {
    const char *name, *sig;
    gate_raw_fn fn;
} wasi_funcs[] = {
    { "args_get", "i(ii)", args_get },
    { "args_sizes_get", "i(ii)", args_sizes_get },
    { "environ_get", "i(ii)", environ_get },
    { "environ_sizes_get", "i(ii)", environ_sizes_get },
    { "clock_res_get", "i(ii)", clock_res_get },
    { "clock_time_get", "i(iIi)", clock_time_get },
    { "random_get", "i(ii)", random_get },
    { "sched_yield", "i()", sched_yield_ },
    { "proc_exit", "v(i)", proc_exit },
    { "fd_read", "i(iiii)", fd_read },
    { "fd_write", "i(iiii)", fd_write },
    { "fd_seek", "i(iIii)", fd_seek },
    { "fd_tell", "i(ii)", fd_tell },
    { "fd_close", "i(i)", fd_close },
    { "fd_fdstat_get", "i(ii)", fd_fdstat_get },
    { "fd_fdstat_set_flags", "i(ii)", fd_fdstat_set_flags },
    { "fd_filestat_get", "i(ii)", fd_filestat_get },
    { "fd_prestat_get", "i(ii)", fd_prestat_get },
    { "fd_prestat_dir_name", "i(iii)", fd_prestat_dir_name },
    { "fd_readdir", "i(iiiIi)", fd_readdir },
    { "path_open", "i(iiiiiIIii)", path_open },
    { "path_filestat_get", "i(iiiii)", path_filestat_get },
    { "path_create_directory", "i(iii)", path_create_directory },
    { "path_unlink_file", "i(iii)", path_unlink_file },
    { "path_remove_directory", "i(iii)", path_remove_directory },
    { "path_rename", "i(iiiiii)", path_rename },
    { "fd_pread", "i(iiiIi)", fd_pread },
    { "fd_pwrite", "i(iiiIi)", fd_pwrite },
    { "fd_sync", "i(i)", fd_sync },
    { "fd_datasync", "i(i)", fd_datasync },
    { "fd_advise", "i(iIIi)", fd_advise },
    { "fd_allocate", "i(iII)", fd_allocate },
    { "fd_filestat_set_size", "i(iI)", fd_filestat_set_size },
    { "fd_filestat_set_times", "i(iIIi)", fd_filestat_set_times },
    { "path_filestat_set_times", "i(iiiiIIi)", path_filestat_set_times },
    { "path_readlink", "i(iiiiii)", path_readlink },
    { "path_symlink", "i(iiiii)", path_symlink },
    { "path_link", "i(iiiiiii)", path_link },
    { "fd_renumber", "i(ii)", fd_renumber },
    { "fd_fdstat_set_rights", "i(iII)", fd_fdstat_set_rights },
    { "sock_accept", "i(iii)", sock_accept },
    { "sock_recv", "i(iiiiii)", sock_recv },
    { "sock_send", "i(iiiii)", sock_send },
    { "sock_shutdown", "i(ii)", sock_shutdown },
    { "poll_oneoff", "i(iiii)", poll_oneoff },
};

/* Every WASI call: a call that used a descriptor kept suspended stops the
   program at that call, to be made again once it is granted (its answer
   now, EBADF, is dropped); where it cannot stop it answers EBADF, as for
   a lost one. */
static gate_status wasi_call(gate_call_ctx *c, void *ud, const gate_val *args, gate_val *res)
{
    gate_wasi *w = ud;
    w->hit = 0;
    gate_status st = wasi_funcs[c->host->tag].fn(c, ud, args, res);
    if (st == GATE_OK && w->hit)
        gate_call_request_stop(c, GATE_HOST_RESTART);
    return st;
}

/* Binds every WASI function to state w, which the imports then own. */
static gate_status wasi_bind(gate_imports *imp, gate_wasi *w, gate_error *err)
{
    for (size_t i = 0; i < sizeof wasi_funcs / sizeof wasi_funcs[0]; i++) {
        gate_status st = gate_imports_func_raw(imp, "wasi_snapshot_preview1", wasi_funcs[i].name,
                                               wasi_funcs[i].sig, wasi_call, w, err);
        if (st != GATE_OK) {
            wasi_free(w);
            return st;
        }
        imp->items[imp->n - 1].host->wasi = true;
        imp->items[imp->n - 1].host->tag = (uint32_t)i;
    }
    /* anything else from wasi_snapshot_preview1: ENOSYS, whatever its type */
    gate_status st = rt_imports_any(imp, "wasi_snapshot_preview1", nosys, w, w, wasi_free, err);
    if (st != GATE_OK)
        wasi_free(w);
    else
        imp->items[imp->n - 1].host->wasi = true;
    return st;
}

/*
 * Saved WASI state: arguments, environment, and the descriptor table as
 * the program sees it.  A snapshot grants nothing: preopens are saved by
 * their guest name only (never a host path), files by their preopen, path
 * beneath it, what they were opened for (read, write, directory) and
 * offset (never flags that create or truncate).  Whoever restores grants
 * host directories to guest names; the rest is reported lost.  Standard
 * streams are the host's, as always.
 *
 *   u64 monotonic clock reading; u32 argc, strings; u32 envc, strings;
 *   u32 nfds, then per descriptor
 *   u8 kind (0 closed, 1 stdio: the host's stream of the same number,
 *   2 preopen, 3 file, 4 a host stream renumbered), u16 fdflags, and for
 *   a preopen: guest name; for a file: u32 dir (the preopen's descriptor,
 *   before or after this one), path, u8 access (WA_*), u64 offset; for a
 *   renumbered stream: u8 which (0 stdin, 1 stdout, 2 stderr); kind 5 a
 *   socket, nothing more (it cannot move: lost on restore).
 *   (strings: u32 length, bytes)
 */
static int64_t mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint8_t fd_kind(const wfd *f, uint32_t i)
{
    if (f->host < 0 && !f->lost)
        return 0;
    if (f->preopen)
        return 2;
    if (f->path)
        return 3;
    if (f->sock)
        return 5;
    if (f->host >= 0 && f->host <= 2)
        return (uint32_t)f->host == i ? 1 : 4;
    return 0;
}

const char *rt_wasi_preopen(const struct gate_wasi *w, uint32_t fd)
{
    return w && fd < w->nfds && w->fds[fd].preopen && !w->fds[fd].closed ? w->fds[fd].guest
                                                                        : NULL;
}

uint32_t rt_wasi_nfds(const struct gate_wasi *w)
{
    return w ? w->nfds : 0;
}

/* The WASI state a gate_imports owns (gate_imports_wasi), or NULL. */
int gate_wasi_waiting_for(const gate_instance *inst, char *buf, size_t cap)
{
    const gate_wasi *w = inst ? inst->wasi : NULL;
    if (!w || !inst->susp.active || inst->susp.pending != RT_PENDING_RESTART || !w->hit ||
        w->hit > w->nfds)
        return 0;
    const wfd *f = &w->fds[w->hit - 1];
    const char *name = f->preopen ? f->guest : f->dir < w->nfds ? w->fds[f->dir].guest : NULL;
    if (buf && cap)
        snprintf(buf, cap, "%s", name ? name : "?");
    return 1;
}

const gate_wasi *rt_imports_wasi(const gate_imports *imp)
{
    for (uint32_t i = 0; imp && i < imp->nowned; i++)
        if (imp->owned_free[i] == wasi_free)
            return imp->owned[i];
    return NULL;
}

void rt_wasi_save(const gate_wasi *w, gs_buf *b)
{
    gs_u64(b, (uint64_t)(mono_now() + w->mono_offset));
    gs_u32(b, (uint32_t)w->argc);
    for (int i = 0; i < w->argc; i++)
        gs_str(b, w->argv[i]);
    gs_u32(b, (uint32_t)w->envc);
    for (int i = 0; i < w->envc; i++)
        gs_str(b, w->envp[i]);
    gs_u32(b, w->nfds);
    for (uint32_t i = 0; i < w->nfds; i++) {
        const wfd *f = &w->fds[i];
        uint8_t kind = fd_kind(f, i);
        uint16_t flags = (uint16_t)(f->flags | (f->closed ? FD_CLOSED_FLAG : 0));
        gs_u8(b, kind);
        gs_bytes(b, &flags, 2);
        if (kind == 2) {
            gs_str(b, f->guest);
        } else if (kind == 3) {
            off_t pos = f->host >= 0 ? lseek(f->host, 0, SEEK_CUR) : (off_t)f->lost_pos;
            gs_u32(b, f->dir);
            gs_str(b, f->path);
            gs_u8(b, f->access);
            gs_u64(b, pos < 0 ? 0 : (uint64_t)pos);
        } else if (kind == 4) {
            gs_u8(b, (uint8_t)f->host);
        }
    }
    /* then every descriptor's rights (a section without them grants each
       the most its kind may have) */
    for (uint32_t i = 0; i < w->nfds; i++) {
        gs_u64(b, w->fds[i].rights);
        gs_u64(b, w->fds[i].inheriting);
    }
}

typedef struct wrd {
    const uint8_t *p;
    size_t n, pos;
    bool bad;
} wrd;

static uint32_t w32(wrd *r)
{
    uint32_t v = 0;
    if (r->n - r->pos < 4)
        r->bad = true;
    else
        memcpy(&v, r->p + r->pos, 4), r->pos += 4;
    return v;
}

static char *wstr(wrd *r)
{
    uint32_t n = w32(r);
    if (r->bad || n > 65536 || r->n - r->pos < n) {
        r->bad = true;
        return NULL;
    }
    char *s = malloc((size_t)n + 1);
    if (!s) {
        r->bad = true;
        return NULL;
    }
    memcpy(s, r->p + r->pos, n);
    s[n] = 0;
    r->pos += n;
    if (strlen(s) != n) {       /* no NULs inside */
        free(s);
        r->bad = true;
        return NULL;
    }
    return s;
}

/* The host directory granted for guest preopen name g, or NULL. */
static const char *granted(const gate_wasi_grants *gr, const char *g)
{
    for (int i = 0; gr && i < gr->ndirs; i++)
        if (gr->dir_guest[i] && !strcmp(gr->dir_guest[i], g))
            return gr->dir_host[i];
    return NULL;
}

/* Whether the restoring party keeps preopen g suspended (all ungranted
   ones when it says "*"). */
static bool kept_suspended(const gate_wasi_grants *gr, const char *g)
{
    for (int i = 0; gr && i < gr->nsuspend; i++)
        if (gr->suspend[i] && (!strcmp(gr->suspend[i], g) || !strcmp(gr->suspend[i], "*")))
            return true;
    return false;
}

static void report(const gate_wasi_grants *gr, const char *preopen, const char *path,
                   const char *host, const char *why)
{
    if (gr && gr->report)
        gr->report(gr->report_ud, preopen, path, host, why);
}

/*
 * A file saved beneath a granted preopen, opened again as it was opened:
 * read and/or write, never created or truncated; only a regular file (or
 * a directory opened as one): a FIFO or device in its place is not opened
 * (O_NONBLOCK keeps a FIFO from blocking the restore), nor waited for.
 */
static int reopen_file(int dirfd, const wfd *f, const char **why)
{
    int acc = (f->access & (WA_READ | WA_WRITE)) == (WA_READ | WA_WRITE) ? O_RDWR
            : f->access & WA_WRITE ? O_WRONLY : O_RDONLY;
    int flags = acc | O_NONBLOCK | O_NOCTTY | (f->access & WA_DIR ? O_DIRECTORY : 0) |
                (f->flags & 1 ? O_APPEND : 0);
    int fd = open_beneath(dirfd, f->path, flags, 0, true);
    if (fd < 0) {
        *why = strerror(errno);
        return -1;
    }
    struct stat st;
    if (fstat(fd, &st) || !(S_ISREG(st.st_mode) || (S_ISDIR(st.st_mode) && (f->access & WA_DIR)))) {
        close(fd);
        *why = "not a regular file";
        return -1;
    }
    if (!(f->flags & 4))
        fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
    return fd;
}

gate_status rt_wasi_restore(gate_imports *imp, const uint8_t *p, size_t n,
                            const gate_wasi_grants *gr, gate_error *err)
{
    wrd r = { p, n, 0, false };
    const char *what = "bad gate.wasi section";
    gate_wasi *w = calloc(1, sizeof *w);
    if (!w)
        goto bad;
    w->eng = imp->eng;
    uint64_t mono = 0;
    if (r.n >= 8)
        memcpy(&mono, r.p, 8), r.pos = 8;
    else
        r.bad = true;
    /* continue the monotonic clock from the saved reading, never back */
    int64_t now = mono_now();
    w->mono_offset = (int64_t)mono > now ? (int64_t)mono - now : 0;
    uint32_t argc = w32(&r);
    if (r.bad || argc > 65536)
        goto bad;
    w->argv = calloc((size_t)argc + 1, sizeof(char *));
    if (!w->argv)
        goto bad;
    for (; (uint32_t)w->argc < argc && !r.bad; w->argc++)
        w->argv[w->argc] = wstr(&r);
    uint32_t envc = w32(&r);
    if (r.bad || envc > 65536)
        goto bad;
    w->envp = calloc((size_t)envc + 1, sizeof(char *));
    if (!w->envp)
        goto bad;
    for (; (uint32_t)w->envc < envc && !r.bad; w->envc++)
        w->envp[w->envc] = wstr(&r);
    uint32_t nfds = w32(&r);
    if (r.bad || nfds < 3 || nfds > 4096)
        goto bad;
    w->fds = calloc(nfds, sizeof *w->fds);
    if (!w->fds)
        goto bad;
    w->nfds = nfds;
    for (uint32_t i = 0; i < nfds; i++)
        w->fds[i].host = -1;
    for (uint32_t i = 0; i < nfds && !r.bad; i++) {
        wfd *f = &w->fds[i];
        if (r.pos + 3 > r.n) {
            r.bad = true;
            break;
        }
        uint8_t kind = r.p[r.pos];
        memcpy(&f->flags, r.p + r.pos + 1, 2);
        r.pos += 3;
        if (kind == 2 && (f->flags & FD_CLOSED_FLAG)) {
            f->closed = true;
            f->flags &= (uint16_t)~FD_CLOSED_FLAG;
        }
        if (f->flags & ~(uint16_t)0x1f) {
            what = "bad descriptor flags in gate.wasi";
            r.bad = true;
        } else if (kind == 1 && i < 3) {
            f->host = (int)i;
        } else if (kind == 4) {
            if (r.pos < r.n && r.p[r.pos] <= 2)
                f->host = r.p[r.pos++];
            else
                r.bad = true;
        } else if (kind == 5) {
            /* a connection or a listening socket does not move: the
               program sees EBADF on it, and may close it */
            f->sock = true;
            f->lost = true;
            report(gr, NULL, "a socket", NULL, "it cannot move");
        } else if (kind == 2 && i >= 3) {
            f->guest = wstr(&r);
            if (r.bad)
                break;
            f->preopen = true;
            const char *host = granted(gr, f->guest);
            f->suspended = !host && kept_suspended(gr, f->guest);
            f->host = host ? open(host, O_RDONLY | O_DIRECTORY | O_CLOEXEC) : -1;
            if (host && f->host < 0) {
                if (err) {
                    err->status = GATE_OK;
                    gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC,
                            "cannot open directory %s (granted as %s): %s", host, f->guest,
                            strerror(errno));
                }
                wasi_free(w);
                return GATE_ERR_IO;
            }
            f->lost = f->host < 0;
            report(gr, f->guest, NULL, host,
                   host ? NULL : f->suspended ? "kept suspended" : "not granted");
        } else if (kind == 3) {
            f->dir = w32(&r);
            f->path = wstr(&r);
            uint8_t acc = 0;
            if (r.pos < r.n)
                acc = r.p[r.pos++];
            else
                r.bad = true;
            f->access = acc;
            if (r.n - r.pos >= 8)
                memcpy(&f->lost_pos, r.p + r.pos, 8), r.pos += 8;
            else
                r.bad = true;
            if (r.bad || f->dir >= nfds || f->dir == i || !acc || (acc & ~7) ||
                f->lost_pos > INT64_MAX) {
                r.bad = true;
                break;
            }
            f->lost = true;             /* until it is reopened below */
        } else if (kind != 0) {
            r.bad = true;
        }
    }
    /* rights: the most each kind may have, and fewer if the snapshot says
       so (never more: a snapshot grants nothing) */
    for (uint32_t i = 0; i < nfds; i++) {
        wfd *f = &w->fds[i];
        bool stream = !f->preopen && !f->path;
        default_rights(f, f->preopen || (f->access & WA_DIR),
                       stream ? (f->host == 0 ? WA_READ : WA_WRITE) : f->access);
    }
    if (!r.bad && r.pos < r.n) {
        if (r.n - r.pos != (size_t)nfds * 16) {
            what = "bad rights in gate.wasi";
            r.bad = true;
        }
        for (uint32_t i = 0; i < nfds && !r.bad; i++) {
            uint64_t v[2];
            memcpy(v, r.p + r.pos, 16);
            r.pos += 16;
            w->fds[i].rights &= v[0];
            w->fds[i].inheriting &= v[1];
        }
    }
    if (r.bad || r.pos != r.n)
        goto bad;
    /* files, once every preopen is there (a renumber may have put a file
       below its preopen): reopened beneath the same preopen if it was
       granted; else (or if that fails) the program sees EBADF on it */
    for (uint32_t i = 0; i < nfds; i++) {
        wfd *f = &w->fds[i];
        if (!f->path || f->preopen)
            continue;
        const wfd *d = &w->fds[f->dir];
        if (!d->preopen) {
            what = "a file in gate.wasi beneath a descriptor that is not a preopen";
            goto bad;
        }
        const char *why = d->suspended ? "kept suspended" : "its preopen was not granted";
        f->suspended = d->suspended;
        f->host = d->host >= 0 ? reopen_file(d->host, f, &why) : -1;
        if (f->host >= 0 && lseek(f->host, (off_t)f->lost_pos, SEEK_SET) < 0 &&
            !(f->access & WA_DIR)) {
            why = strerror(errno);
            close(f->host);
            f->host = -1;
        }
        f->lost = f->host < 0;
        report(gr, d->guest, f->path, NULL, f->lost ? why : NULL);
    }
    return wasi_bind(imp, w, err);
bad:
    if (w) {
        if (!w->fds)
            w->nfds = 0;
        wasi_free(w);
    }
    if (err) {
        err->status = GATE_OK;
        gx_fail(err, GATE_ERR_SNAPSHOT, UINT64_MAX, GATE_NO_FUNC, "%s", what);
    }
    return GATE_ERR_SNAPSHOT;
}

/* Prints what a saved WASI state holds and asks for, opening nothing. */
void rt_wasi_describe(FILE *out, const uint8_t *p, size_t n)
{
    wrd r = { p, n, 8, n < 8 };
    uint32_t argc = w32(&r);
    fprintf(out, "wasi: %u argument(s)", r.bad ? 0 : argc);
    for (uint32_t i = 0; i < argc && i < 65536 && !r.bad; i++) {
        char *a = wstr(&r);
        if (a && i < 8)
            fprintf(out, " \"%.60s\"", a);
        free(a);
    }
    uint32_t envc = w32(&r);
    fprintf(out, "%s, %u environment variable(s)\n", argc > 8 ? " ..." : "", r.bad ? 0 : envc);
    for (uint32_t i = 0; i < envc && i < 65536 && !r.bad; i++)
        free(wstr(&r));
    uint32_t nfds = w32(&r);
    char **names = calloc(nfds < 4096 ? nfds + 1 : 1, sizeof *names);
    /* twice over the table: the preopens' names first (a file may come
       before its preopen), then every line */
    size_t table = r.pos;
    for (int pass = 0; pass < 2; pass++) {
        r.pos = table;
        for (uint32_t i = 0; i < nfds && nfds <= 4096 && names && !r.bad; i++) {
            if (r.pos + 3 > r.n)
                break;
            uint8_t kind = r.p[r.pos];
            uint16_t fl;
            memcpy(&fl, r.p + r.pos + 1, 2);
            r.pos += 3;
            if (kind == 2) {
                char *g = wstr(&r);
                if (pass == 0)
                    names[i] = g;
                else
                    free(g);
                if (pass == 1 && names[i])
                    fprintf(out, "  fd %u: preopen \"%s\"%s (needs --dir HOST::%s)\n", i,
                            names[i], fl & FD_CLOSED_FLAG ? ", closed by the program" : "",
                            names[i]);
            } else if (kind == 3) {
                uint32_t dir = w32(&r);
                char *path = wstr(&r);
                uint8_t acc = r.pos < r.n ? r.p[r.pos++] : 0;
                uint64_t pos = 0;
                if (r.n - r.pos >= 8)
                    memcpy(&pos, r.p + r.pos, 8), r.pos += 8;
                if (pass == 1 && path)
                    fprintf(out, "  fd %u: %s \"%s\" beneath \"%s\", %s%s%s, offset %llu\n", i,
                            acc & WA_DIR ? "directory" : "file", path,
                            dir < nfds && names[dir] ? names[dir] : "?",
                            acc & WA_READ ? "read" : "", (acc & 3) == 3 ? "/" : "",
                            acc & WA_WRITE ? "write" : "", (unsigned long long)pos);
                free(path);
            } else if (kind == 5) {
                if (pass == 1)
                    fprintf(out, "  fd %u: a socket (lost on restore)\n", i);
            } else if (kind == 4) {
                uint8_t which = r.pos < r.n ? r.p[r.pos++] : 0;
                if (pass == 1)
                    fprintf(out, "  fd %u: the host's %s\n", i,
                            which == 0 ? "stdin" : which == 1 ? "stdout" : "stderr");
            }
        }
    }
    for (uint32_t i = 0; names && i < nfds && i <= 4096; i++)
        free(names[i]);
    free(names);
}

gate_status gate_imports_wasi(gate_imports *imp, const gate_wasi_config *cfg, gate_error *err)
{
    gate_wasi *w = calloc(1, sizeof *w);
    if (!w)
        goto nomem;
    w->eng = imp->eng;
    w->argc = cfg ? cfg->argc : 0;
    w->envc = cfg ? cfg->envc : 0;
    w->argv = calloc((size_t)w->argc + 1, sizeof(char *));
    w->envp = calloc((size_t)w->envc + 1, sizeof(char *));
    int nsock = cfg && cfg->nsockets > 0 && cfg->socket_fds ? cfg->nsockets : 0;
    w->nfds = 3 + (cfg ? (uint32_t)cfg->npreopens : 0) + (uint32_t)nsock;
    w->fds = calloc(w->nfds, sizeof *w->fds);
    if (!w->argv || !w->envp || !w->fds) {
        wasi_free(w);
        goto nomem;
    }
    for (uint32_t i = 0; i < w->nfds; i++) {
        w->fds[i].host = i < 3 ? (int)i : -1;
        default_rights(&w->fds[i], i >= 3, i == 0 ? WA_READ : WA_WRITE);
    }
    for (int i = 0; i < w->argc; i++)
        if (!(w->argv[i] = strdup(cfg->argv[i]))) {
            wasi_free(w);
            goto nomem;
        }
    for (int i = 0; i < w->envc; i++)
        if (!(w->envp[i] = strdup(cfg->envp[i]))) {
            wasi_free(w);
            goto nomem;
        }
    for (int i = 0; cfg && i < cfg->npreopens; i++) {
        int fd = open(cfg->preopen_host[i], O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (fd < 0) {
            if (err) {
                err->status = GATE_OK;
                gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "cannot open directory %s: %s",
                        cfg->preopen_host[i], strerror(errno));
            }
            wasi_free(w);
            return GATE_ERR_IO;
        }
        wfd *f = &w->fds[3 + i];
        f->host = fd;
        f->preopen = true;
        f->guest = strdup(cfg->preopen_guest && cfg->preopen_guest[i] ? cfg->preopen_guest[i]
                                                                       : cfg->preopen_host[i]);
        if (!f->guest) {
            wasi_free(w);
            goto nomem;
        }
    }
    /* listening sockets after the directories, each our own duplicate */
    for (int i = 0; i < nsock; i++) {
        wfd *f = &w->fds[3 + (uint32_t)cfg->npreopens + (uint32_t)i];
        f->host = fcntl(cfg->socket_fds[i], F_DUPFD_CLOEXEC, 3);
        if (f->host < 0) {
            if (err) {
                err->status = GATE_OK;
                gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "socket %d: %s",
                        cfg->socket_fds[i], strerror(errno));
            }
            wasi_free(w);
            return GATE_ERR_IO;
        }
        f->sock = true;
        default_rights(f, false, 0);
    }
    return wasi_bind(imp, w, err);
nomem:
    if (err) {
        err->status = GATE_OK;
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
    }
    return GATE_ERR_NOMEM;
}
