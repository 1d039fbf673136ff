/*
 * trust.c - what `gate` trusts, and how it keeps it from the guests.
 *
 * Machine code runs only from objects this user's gate made: every object
 * gate writes (gate compile, the compile cache) is sealed with a per-user
 * key (HMAC-SHA-256, gate_config.object_key), and every object gate runs
 * must carry a seal that verifies under it, unless the user passes
 * --trust-object for that one run.  The key is 32 random bytes in the file
 * `key` of gate's private directory:
 *
 *     $GATE_CACHE_DIR, else $XDG_CACHE_HOME/gate, else $HOME/.cache/gate
 *
 * which gate creates with mode 0700 and uses only while it is a directory
 * (not a link) owned by this user that nobody else can enter; the key file
 * must be a regular file of this user's with mode 0600.  The compile cache
 * lives there too (or in --cache-dir, checked the same way).  A guest never
 * gets at either: a --dir grant that is the private directory, lies
 * inside it, or holds it is refused.  docs/aot-format.md has the model.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <netdb.h>
#include <pwd.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "cli.h"

/* The private directory's path (not checked); false when there is none. */
static bool private_path(char *buf, size_t size)
{
    const char *d = getenv("GATE_CACHE_DIR");
    const char *x = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (!home || !*home) {              /* no HOME in the environment: the user's own */
        const struct passwd *pw = getpwuid(geteuid());
        home = pw ? pw->pw_dir : NULL;
    }
    if (d && *d)
        snprintf(buf, size, "%s", d);
    else if (x && *x)
        snprintf(buf, size, "%s/gate", x);
    else if (home && *home)
        snprintf(buf, size, "%s/.cache/gate", home);
    else
        return false;
    return true;
}

/* Creates dir with mode 0700 (and its parent, if missing) unless it exists. */
static void make_dir(const char *dir)
{
    if (mkdir(dir, 0700) && errno == ENOENT) {
        char parent[PATH_MAX];
        snprintf(parent, sizeof parent, "%s", dir);
        char *slash = strrchr(parent, '/');
        if (slash && slash != parent) {
            *slash = 0;
            mkdir(parent, 0700);
        }
        mkdir(dir, 0700);
    }
}

/* Creates dir (mode 0700, and its parent if missing) unless it exists;
   then checks that it is private: a directory, not a link, this user's,
   no access for group or others.  Prints why not. */
bool cli_private_dir(const char *dir)
{
    make_dir(dir);
    struct stat st;
    if (lstat(dir, &st)) {
        fprintf(stderr, "gate: %s: %s\n", dir, strerror(errno));
        return false;
    }
    if (!S_ISDIR(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077)) {
        fprintf(stderr, "gate: %s is not a private directory of this user (%s, mode %03o): "
                "gate keeps its object key and compiled code only in one (chmod 700 it)\n",
                dir, S_ISLNK(st.st_mode) ? "a symbolic link" : !S_ISDIR(st.st_mode)
                ? "not a directory" : st.st_uid != geteuid() ? "another user's" : "open to others",
                (unsigned)(st.st_mode & 0777));
        return false;
    }
    return true;
}

const char *cli_private(char *buf, size_t size)
{
    if (!private_path(buf, size)) {
        fprintf(stderr, "gate: no private directory (set GATE_CACHE_DIR or HOME)\n");
        return NULL;
    }
    return cli_private_dir(buf) ? buf : NULL;
}

bool cli_object_key(uint8_t key[32])
{
    char dir[PATH_MAX], path[PATH_MAX + 8];
    if (!cli_private(dir, sizeof dir))
        return false;
    snprintf(path, sizeof path, "%s/key", dir);
    for (int attempt = 0; attempt < 2; attempt++) {
        int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
        if (fd < 0 && errno == ENOENT) {
            /* a new key, made once; a racing gate may make it first */
            uint8_t k[32];
            if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) {
                fprintf(stderr, "gate: no random bytes for the object key: %s\n", strerror(errno));
                return false;
            }
            int w = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
            if (w >= 0) {
                bool ok = write(w, k, sizeof k) == (ssize_t)sizeof k && fsync(w) == 0;
                close(w);
                if (!ok) {
                    unlink(path);
                    fprintf(stderr, "gate: cannot write the object key %s\n", path);
                    return false;
                }
            }
            continue;
        }
        if (fd < 0) {
            fprintf(stderr, "gate: object key %s: %s\n", path, strerror(errno));
            return false;
        }
        struct stat st;
        bool ok = !fstat(fd, &st) && S_ISREG(st.st_mode) && st.st_uid == geteuid() &&
                  !(st.st_mode & 077) && st.st_size == 32 && read(fd, key, 32) == 32;
        close(fd);
        if (!ok)
            fprintf(stderr, "gate: object key %s is not a 32-byte file private to this user; "
                    "remove it and gate makes a new one (objects sealed with it are then "
                    "compiled again)\n", path);
        return ok;
    }
    fprintf(stderr, "gate: cannot make the object key %s\n", path);
    return false;
}

/* Whether path a is b or lies beneath it (both absolute, resolved). */
static bool beneath(const char *a, const char *b)
{
    size_t n = strlen(b);
    if (n == 1 && b[0] == '/')
        return true;
    return !strncmp(a, b, n) && (a[n] == 0 || a[n] == '/');
}

bool cli_grant_ok(const char *host, const char *extra_private)
{
    char dir[PATH_MAX], real[PATH_MAX];
    const char *priv[2] = { NULL, extra_private };
    if (private_path(dir, sizeof dir))
        priv[0] = dir;
    for (int i = 0; i < 2; i++) {
        if (!priv[i])
            continue;
        /* made now if missing, so that a grant given before gate creates
           it (the key, the cache) cannot be one that will hold it */
        if (i == 0)
            make_dir(priv[i]);
        if (!realpath(priv[i], real))
            continue;
        if (beneath(host, real) || beneath(real, host)) {
            fprintf(stderr, "gate: --dir %s: %s gate's private directory %s (the object key "
                    "and compiled code); grant a directory that does not\n", host,
                    beneath(host, real) ? "is inside" : "holds", real);
            return false;
        }
    }
    return true;
}

bool cli_parse_dir(const char *val, char **host, char **guest, char **copy)
{
    char *c = strdup(val);
    if (!c)
        return false;
    char *sep = strstr(c, "::");
    *guest = sep ? sep + 2 : c;
    if (sep)
        *sep = 0;
    char *real = realpath(c, NULL);
    if (!real || !**guest) {
        fprintf(stderr, "gate: --dir %s: %s\n", val, !real ? strerror(errno) : "empty guest name");
        free(real);
        free(c);
        return false;
    }
    struct stat st;
    if (stat(real, &st) || !S_ISDIR(st.st_mode)) {
        fprintf(stderr, "gate: --dir %s: not a directory\n", val);
        free(real);
        free(c);
        return false;
    }
    if (!cli_grant_ok(real, NULL)) {
        free(real);
        free(c);
        return false;
    }
    /* the guest name stays as given (HOST when no ::GUEST); the host
       directory is the one the path names now, wherever gate is run
       later (both are freed by the caller: *host and *copy) */
    *host = real;
    *copy = c;
    return true;
}

bool cli_parse_stack(const char *val, uint64_t *out)
{
    char *end;
    errno = 0;
    unsigned long long n = strtoull(val, &end, 10);
    if (*end == 'k' || *end == 'K')
        n = n > (ULLONG_MAX >> 10) ? ULLONG_MAX : n << 10, end++;
    else if (*end == 'm' || *end == 'M')
        n = n > (ULLONG_MAX >> 20) ? ULLONG_MAX : n << 20, end++;
    if (*end || n == 0 || errno || val[0] == '-')
        return false;
    *out = n;
    return true;
}

bool cli_parse_pages(const char *val, uint32_t *out)
{
    char *end;
    errno = 0;
    unsigned long n = strtoul(val, &end, 10);
    if (*end || n == 0 || n > 65536 || errno || val[0] == '-')
        return false;
    *out = (uint32_t)n;
    return true;
}

gate_engine *cli_engine(gate_config *cfg, bool trust_any, uint8_t key[32], gate_error *err)
{
    if (!trust_any) {
        if (!cli_object_key(key))
            return NULL;
        cfg->object_key = key;
        cfg->object_key_len = 32;
    }
    gate_engine *eng = gate_engine_new(cfg, err);
    if (!eng)
        cli_report("gate", err);
    return eng;
}

/* --tcplisten HOST:PORT: bound and listening before the program starts
   (and before the sandbox, which forbids making sockets) */
int cli_tcp_listen(const char *val)
{
    char host[256];
    const char *colon = strrchr(val, ':');
    size_t hl = colon ? (size_t)(colon - val) : 0;
    if (!colon || hl == 0 || hl >= sizeof host || !colon[1]) {
        fprintf(stderr, "gate: --tcplisten %s: want HOST:PORT\n", val);
        return -1;
    }
    memcpy(host, val, hl);
    host[hl] = 0;
    if (host[0] == '[' && hl > 2 && host[hl - 1] == ']') {    /* [v6]:port */
        memmove(host, host + 1, hl - 2);
        host[hl - 2] = 0;
    }
    struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
                              .ai_flags = AI_PASSIVE | AI_NUMERICSERV }, *ai;
    int rc = getaddrinfo(host, colon + 1, &hints, &ai);
    if (rc) {
        fprintf(stderr, "gate: --tcplisten %s: %s\n", val, gai_strerror(rc));
        return -1;
    }
    int s = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    int one = 1;
    if (s < 0 || setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one) ||
        bind(s, ai->ai_addr, ai->ai_addrlen) || listen(s, 128)) {
        fprintf(stderr, "gate: --tcplisten %s: %s\n", val, strerror(errno));
        if (s >= 0)
            close(s);
        freeaddrinfo(ai);
        return -1;
    }
    freeaddrinfo(ai);
    return s;
}
