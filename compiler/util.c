/* util.c - allocator calls, arenas and error reporting shared by all folders. */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "compiler.h"

void *gx_malloc(const gx_alloc *a, size_t n)
{
    return a->fn(a->ud, NULL, 0, n ? n : 1);
}

void *gx_realloc(const gx_alloc *a, void *p, size_t on, size_t nn)
{
    return a->fn(a->ud, p, on, nn ? nn : 1);
}

void gx_free(const gx_alloc *a, void *p, size_t n)
{
    if (p)
        a->fn(a->ud, p, n, 0);
}

/*
 * Arena chunks are at least 64 KiB; a request larger than a chunk gets a
 * chunk of its own.  The chunk header is padded to 16 bytes so payloads
 * stay 16-byte aligned.
 */
struct gx_chunk {
    gx_chunk *next;
    size_t size;                      /* payload bytes */
};
#define GX_CHUNK_HDR ((sizeof(gx_chunk) + 15) & ~(size_t)15)
#define GX_CHUNK_MIN (64u * 1024u)

void gx_arena_init(gx_arena *ar, const gx_alloc *a)
{
    ar->alloc = *a;
    ar->head = NULL;
    ar->used = ar->cap = 0;
}

void *gx_arena_get(gx_arena *ar, size_t n)
{
    n = (n + 15) & ~(size_t)15;
    if (n == 0)
        n = 16;
    if (!ar->head || ar->cap - ar->used < n) {
        size_t sz = n > GX_CHUNK_MIN ? n : GX_CHUNK_MIN;
        if (sz > SIZE_MAX - GX_CHUNK_HDR)
            return NULL;
        gx_chunk *c = gx_malloc(&ar->alloc, GX_CHUNK_HDR + sz);
        if (!c)
            return NULL;
        c->size = sz;
        c->next = ar->head;
        ar->head = c;
        ar->used = 0;
        ar->cap = sz;
    }
    uint8_t *p = (uint8_t *)ar->head + GX_CHUNK_HDR + ar->used;
    ar->used += n;
    memset(p, 0, n);
    return p;
}

void gx_arena_free(gx_arena *ar)
{
    gx_chunk *c = ar->head;
    while (c) {
        gx_chunk *next = c->next;
        gx_free(&ar->alloc, c, GX_CHUNK_HDR + c->size);
        c = next;
    }
    ar->head = NULL;
    ar->used = ar->cap = 0;
}

bool gx_fail(gate_error *err, gate_status st, uint64_t offset, uint32_t func,
             const char *fmt, ...)
{
    if (!err)
        return false;
    /* The first error wins: inner failures are the precise ones. */
    if (err->status != GATE_OK)
        return false;
    err->status = st;
    err->offset = offset;
    err->func_index = func;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->message, sizeof err->message, fmt, ap);
    va_end(ap);
    return false;
}

void gc_init(gc_buf *b, const gx_alloc *a)
{
    b->p = NULL;
    b->n = b->cap = 0;
    b->alloc = *a;
    b->mapped = false;
}

#define GC_HUGE ((size_t)2 << 20)

static bool grow_mapped(gc_buf *b, size_t need);

bool gc_init_mapped(gc_buf *b, const gx_alloc *a, size_t hint)
{
    gc_init(b, a);
    b->mapped = true;
    return grow_mapped(b, hint);
}

void gx_advise_huge(void *p, size_t n)
{
    uintptr_t lo = ((uintptr_t)p + GC_HUGE - 1) & ~(uintptr_t)(GC_HUGE - 1);
    uintptr_t hi = ((uintptr_t)p + n) & ~(uintptr_t)(GC_HUGE - 1);
    if (hi > lo)
        madvise((void *)lo, hi - lo, MADV_HUGEPAGE);
}

static bool grow_mapped(gc_buf *b, size_t need)
{
    size_t ncap = b->cap ? b->cap * 2 : 4096;
    while (ncap - b->n < need)
        ncap *= 2;
    ncap = (ncap + 4095) & ~(size_t)4095;
    void *p;
    if (!b->p)
        p = mmap(NULL, ncap, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    else
        p = mremap(b->p, b->cap, ncap, MREMAP_MAYMOVE);
    if (p == MAP_FAILED)
        return false;
    /* code is written once from end to end: a fault per 2 MiB */
    gx_advise_huge(p, ncap);
    b->p = p;
    b->cap = ncap;
    return true;
}

bool gc_grow(gc_buf *b, size_t need)
{
    if (b->cap - b->n >= need)
        return true;
    if (b->mapped)
        return grow_mapped(b, need);
    size_t ncap = b->cap ? b->cap * 2 : 4096;
    while (ncap - b->n < need)
        ncap *= 2;
    uint8_t *p = gx_realloc(&b->alloc, b->p, b->cap, ncap);
    if (!p)
        return false;
    b->p = p;
    b->cap = ncap;
    return true;
}

void gc_release(gc_buf *b)
{
    if (b->mapped) {
        if (b->p)
            munmap(b->p, b->cap);
    } else
        gx_free(&b->alloc, b->p, b->cap);
    b->p = NULL;
    b->n = b->cap = 0;
}

const gop_info gop_table[GOP_COUNT] = {
#define OP(id, pfx, code, name, imm, sig, x, cls, kind, w) \
    [GOP_##id] = { name, sig, pfx, code, GIMM_##imm, x, GL_##cls, kind, w },
#include "opcodes.def"
#undef OP
};

/* Refuses to replace anything but a regular file (not following a link). */
static bool replaceable(int dirfd, const char *name, const char *shown, gate_error *err)
{
    struct stat st;
    if (fstatat(dirfd, name, &st, AT_SYMLINK_NOFOLLOW)) {
        if (errno == ENOENT)
            return true;
        return gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "%s: %s", shown,
                       strerror(errno));
    }
    if (S_ISREG(st.st_mode))
        return true;
    return gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC,
                   "%s is a %s: only a regular file is replaced", shown,
                   S_ISDIR(st.st_mode) ? "directory" : S_ISLNK(st.st_mode) ? "symbolic link"
                   : S_ISFIFO(st.st_mode) ? "FIFO" : S_ISSOCK(st.st_mode) ? "socket" : "device");
}

bool gx_write_atomic_at(int dirfd, const char *name, const char *shown, const uint8_t *bytes,
                        size_t len, gate_error *err)
{
    if (!replaceable(dirfd, name, shown, err))
        return false;
    size_t n = strlen(name);
    char *tmp = malloc(n + 48);
    if (!tmp)
        return gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
    /* a new name beside it, made here with O_EXCL (never an old file) */
    static unsigned counter;
    int fd = -1, e = 0;
    for (int attempt = 0; fd < 0 && attempt < 100; attempt++) {
        snprintf(tmp, n + 48, "%s.tmp.%ld.%u", name, (long)getpid(),
                 __atomic_fetch_add(&counter, 1, __ATOMIC_RELAXED));
        fd = openat(dirfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        e = fd < 0 ? errno : 0;
        if (fd < 0 && errno != EEXIST)
            break;
    }
    bool ok = fd >= 0;
    for (size_t done = 0; ok && done < len;) {
        ssize_t w = write(fd, bytes + done, len - done);
        if (w < 0 && errno == EINTR)
            continue;
        ok = w > 0;
        e = ok ? 0 : w < 0 ? errno : ENOSPC;
        done += ok ? (size_t)w : 0;
    }
    if (ok && fsync(fd))
        ok = false, e = errno;
    if (fd >= 0 && close(fd) && ok)
        ok = false, e = errno;
    /* checked again just before: the name may have changed meanwhile */
    if (ok && !replaceable(dirfd, name, shown, err)) {
        unlinkat(dirfd, tmp, 0);
        free(tmp);
        return false;
    }
    if (ok && renameat(dirfd, tmp, dirfd, name))
        ok = false, e = errno;
    if (!ok && fd >= 0)
        unlinkat(dirfd, tmp, 0);
    free(tmp);
    if (!ok)
        return gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "cannot write %s: %s", shown,
                       strerror(e));
    fsync(dirfd);               /* the rename itself is durable once the directory is */
    return true;
}

int gx_open_parent(const char *path, const char **name)
{
    const char *slash = strrchr(path, '/');
    *name = slash ? slash + 1 : path;
    if (!slash)
        return open(".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    size_t n = slash == path ? 1 : (size_t)(slash - path);
    char *dir = malloc(n + 1);
    if (!dir)
        return -1;
    memcpy(dir, path, n);
    dir[n] = 0;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    free(dir);
    return fd;
}

bool gx_write_atomic(const char *path, const uint8_t *bytes, size_t len, gate_error *err)
{
    const char *name;
    int dirfd = gx_open_parent(path, &name);
    if (dirfd < 0)
        return gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC, "cannot write %s: %s", path,
                       strerror(errno));
    if (!*name) {
        close(dirfd);
        return gx_fail(err, GATE_ERR_IO, UINT64_MAX, GATE_NO_FUNC,
                       "%s is a directory: only a regular file is replaced", path);
    }
    bool ok = gx_write_atomic_at(dirfd, name, path, bytes, len, err);
    close(dirfd);
    return ok;
}
