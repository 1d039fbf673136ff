/*
 * world.c - `gate world`: run the processes a manifest lists, in one
 * world (docs/world.md), and save or resume the whole world.
 *
 *   gate world [--workers N] [--slices N] [--run-for DURATION] [--save FILE]
 *              [--status] MANIFEST.json
 *   gate world --resume FILE [same options] [MANIFEST.json]
 *
 * The manifest (JSON, read with jansson) names the modules (paths
 * relative to the manifest), their arguments, environment, directories
 * (HOST::GUEST, HOST relative to the manifest), sponsors and budgets.  It
 * is checked as hostile input: every field has its type and range, and an
 * error names the field.  Resuming, the manifest only grants directories
 * again (by process name; "name.3" is a copy of "name"): a world file
 * grants nothing.
 *
 * Every process writes to this process's stdout and stderr.  --slices and
 * --run-for stop the world (so do SIGINT and SIGTERM); with --save it is
 * written atomically to FILE and the exit status is 75.  Otherwise the
 * world runs until nothing can run; the exit status is 0 when every
 * process returned or exited 0, 134 when one trapped, 1 otherwise.
 */
#include <errno.h>
#include <pthread.h>
#include <time.h>
#include <jansson.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cli.h"

#define MAX_PROCS 200000
#define MAX_ITEMS 256

/* grants as the manifest gives them, with the strings they point to */
typedef struct mgrants {
    bool trusted;               /* NULL grants: everything */
    gate_grants g;              /* what an untrusted one may do */
    int npub, nsub, nspawn;
    char *pub[MAX_ITEMS], *sub[MAX_ITEMS], *spawn[MAX_ITEMS];
} mgrants;

typedef struct mreg {
    char name[64], version[32], entry[128];
    char *module_path;
    int ndirs;
    char *dir_host[MAX_ITEMS], *dir_guest[MAX_ITEMS], *dir_copy[MAX_ITEMS];
    uint64_t hash;
    bool one_copy;
    int ndeps;
    char *deps[MAX_ITEMS];
    mgrants gr;
    char zinit[128];            /* "zygote": initialised once, forked per spawn */
    gate_instance *zyg;
} mreg;

typedef struct mproc {
    char name[64];
    const char *module;         /* resolved path */
    char *module_path;
    int nargs, nenv, ndirs;
    char *args[MAX_ITEMS], *env[MAX_ITEMS];
    char *dir_host[MAX_ITEMS], *dir_guest[MAX_ITEMS], *dir_copy[MAX_ITEMS];
    char sponsor[64];
    char entry[128];
    long count;
    uint32_t max_pages;
    mgrants gr;
} mproc;

typedef struct manifest {
    json_t *root;
    long workers;
    bool fuel, deterministic, explicit_bounds;
    uint64_t slice_fuel, slice_ns, watchdog_ns, stack_size;
    mproc *procs;
    size_t nprocs;
    mreg *reg;
    size_t nreg;
    uint64_t mailbox_bytes, stream_bytes;
} manifest;

static volatile sig_atomic_t stop_now;

static void on_signal(int sig)
{
    (void)sig;
    stop_now = 1;
}

static bool bad(const char *file, const char *where, const char *what)
{
    fprintf(stderr, "gate world: %s: %s: %s\n", file, where, what);
    return false;
}

static bool get_uint(const char *file, const char *where, json_t *v, uint64_t max, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0 ||
        (uint64_t)json_integer_value(v) > max) {
        char msg[96];
        snprintf(msg, sizeof msg, "want an integer from 0 to %llu", (unsigned long long)max);
        return bad(file, where, msg);
    }
    *out = (uint64_t)json_integer_value(v);
    return true;
}

static bool get_bool(const char *file, const char *where, json_t *v, bool *out)
{
    if (!json_is_boolean(v))
        return bad(file, where, "want true or false");
    *out = json_is_true(v);
    return true;
}

static bool get_str(const char *file, const char *where, json_t *v, char *buf, size_t cap)
{
    if (!json_is_string(v) || json_string_length(v) == 0 || json_string_length(v) >= cap ||
        strlen(json_string_value(v)) != json_string_length(v))
        return bad(file, where, "want a non-empty string without NUL bytes, not too long");
    snprintf(buf, cap, "%s", json_string_value(v));
    return true;
}

/* A path from the manifest, relative to its directory. */
static char *resolve(const char *dir, const char *p)
{
    size_t n = strlen(dir) + strlen(p) + 2;
    char *r = malloc(n);
    if (r)
        snprintf(r, n, "%s%s%s", p[0] == '/' ? "" : dir, p[0] == '/' ? "" : "/", p);
    return r;
}

static bool only_keys(const char *file, const char *where, json_t *obj, const char *const *keys)
{
    const char *k;
    json_t *v;
    json_object_foreach(obj, k, v) {
        bool ok = false;
        for (int i = 0; keys[i] && !ok; i++)
            ok = !strcmp(k, keys[i]);
        if (!ok) {
            char msg[160];
            snprintf(msg, sizeof msg, "unknown field \"%.100s\"", k);
            return bad(file, where, msg);
        }
    }
    return true;
}

static bool strings(const char *file, const char *where, json_t *arr, char **out, int *n);

static void grants_free(mgrants *g)
{
    for (int k = 0; k < g->npub; k++)
        free(g->pub[k]);
    for (int k = 0; k < g->nsub; k++)
        free(g->sub[k]);
    for (int k = 0; k < g->nspawn; k++)
        free(g->spawn[k]);
}

/* "trusted" and "grants" of an object: an untrusted module (the default)
   gets only what "grants" lists */
static bool grants_read(const char *file, const char *where, json_t *obj, mgrants *gr)
{
    json_t *v;
    if ((v = json_object_get(obj, "trusted")) && !get_bool(file, where, v, &gr->trusted))
        return false;
    if ((v = json_object_get(obj, "grants"))) {
        static const char *const gk[] = { "send", "monitor", "kill_any", "list", "publish",
                                          "subscribe", "spawn", NULL };
        if (!json_is_object(v))
            return bad(file, where, "grants: want an object");
        if (!only_keys(file, where, v, gk))
            return false;
        bool b;
        json_t *g;
        int *flags[] = { &gr->g.send, &gr->g.monitor, &gr->g.kill_any, &gr->g.list };
        static const char *const fk[] = { "send", "monitor", "kill_any", "list" };
        for (int k = 0; k < 4; k++)
            if ((g = json_object_get(v, fk[k]))) {
                if (!get_bool(file, where, g, &b))
                    return false;
                *flags[k] = b;
            }
        if ((g = json_object_get(v, "publish")) && !strings(file, where, g, gr->pub, &gr->npub))
            return false;
        if ((g = json_object_get(v, "subscribe")) && !strings(file, where, g, gr->sub, &gr->nsub))
            return false;
        if ((g = json_object_get(v, "spawn")) && !strings(file, where, g, gr->spawn, &gr->nspawn))
            return false;
    }
    gr->g.publish = (const char *const *)gr->pub;
    gr->g.npublish = (size_t)gr->npub;
    gr->g.subscribe = (const char *const *)gr->sub;
    gr->g.nsubscribe = (size_t)gr->nsub;
    gr->g.spawn = (const char *const *)gr->spawn;
    gr->g.nspawn = (size_t)gr->nspawn;
    return true;
}

static const gate_grants *grants_of(const mgrants *gr)
{
    return gr->trusted ? NULL : &gr->g;
}

static void manifest_free(manifest *mf)
{
    for (size_t i = 0; i < mf->nprocs; i++) {
        mproc *p = &mf->procs[i];
        free(p->module_path);
        for (int k = 0; k < p->nargs; k++)
            free(p->args[k]);
        for (int k = 0; k < p->nenv; k++)
            free(p->env[k]);
        for (int k = 0; k < p->ndirs; k++) {
            free(p->dir_host[k]);
            free(p->dir_copy[k]);
        }
        grants_free(&p->gr);
    }
    free(mf->procs);
    for (size_t i = 0; i < mf->nreg; i++) {
        free(mf->reg[i].module_path);
        for (int k = 0; k < mf->reg[i].ndirs; k++) {
            free(mf->reg[i].dir_host[k]);
            free(mf->reg[i].dir_copy[k]);
        }
        for (int k = 0; k < mf->reg[i].ndeps; k++)
            free(mf->reg[i].deps[k]);
        grants_free(&mf->reg[i].gr);
    }
    free(mf->reg);
    if (mf->root)
        json_decref(mf->root);
    memset(mf, 0, sizeof *mf);
}

static bool strings(const char *file, const char *where, json_t *arr, char **out, int *n)
{
    if (!json_is_array(arr) || json_array_size(arr) > MAX_ITEMS)
        return bad(file, where, "want an array of at most 256 strings");
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v) {
        char buf[4096];
        if (!get_str(file, where, v, buf, sizeof buf))
            return false;
        out[(*n)++] = strdup(buf);
    }
    return true;
}

/* "dirs": ["HOST::GUEST", ...], HOST relative to the manifest, each
   checked as `gate run --dir` checks it */
static bool dirs_read(const char *file, const char *where, const char *dir, json_t *v,
                      char **host, char **guest, char **copy, int *n)
{
    char *d[MAX_ITEMS];
    int nd = 0;
    if (!strings(file, where, v, d, &nd))
        return false;
    bool ok = true;
    for (int k = 0; k < nd; k++) {
        char *rel = d[k][0] == '/' ? strdup(d[k]) : resolve(dir, d[k]);
        if (ok && (!rel || !cli_parse_dir(rel, &host[*n], &guest[*n], &copy[*n])))
            ok = false;
        else if (ok)
            (*n)++;
        free(rel);
        free(d[k]);
    }
    return ok ? true : bad(file, where, "dirs: a directory that cannot be granted");
}

static bool manifest_read(const char *file, manifest *mf)
{
    memset(mf, 0, sizeof *mf);
    mf->fuel = true;
    json_error_t je;
    mf->root = json_load_file(file, JSON_REJECT_DUPLICATES, &je);
    if (!mf->root) {
        fprintf(stderr, "gate world: %s: line %d, column %d: %s\n", file, je.line, je.column,
                je.text);
        return false;
    }
    char dir[PATH_MAX];
    snprintf(dir, sizeof dir, "%s", file);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        snprintf(dir, sizeof dir, ".");
    json_t *r = mf->root, *v;
    if (!json_is_object(r))
        return bad(file, "the manifest", "want an object");
    static const char *const top[] = { "workers", "fuel", "deterministic", "slice_fuel",
                                       "slice_ms", "watchdog_ms", "stack_size", "sponsors",
                                       "processes", "registry", "mailbox_bytes", "bounds",
                                       "stream_bytes", NULL };
    if (!only_keys(file, "the manifest", r, top))
        return false;
    uint64_t u;
    if ((v = json_object_get(r, "workers"))) {
        if (!get_uint(file, "workers", v, 256, &u) || u == 0)
            return u == 0 ? bad(file, "workers", "want 1 to 256") : false;
        mf->workers = (long)u;
    }
    if ((v = json_object_get(r, "fuel")) && !get_bool(file, "fuel", v, &mf->fuel))
        return false;
    if ((v = json_object_get(r, "deterministic")) &&
        !get_bool(file, "deterministic", v, &mf->deterministic))
        return false;
    if ((v = json_object_get(r, "slice_fuel")) &&
        !get_uint(file, "slice_fuel", v, 1000000000000ull, &mf->slice_fuel))
        return false;
    if ((v = json_object_get(r, "slice_ms"))) {
        if (!get_uint(file, "slice_ms", v, 3600000, &u))
            return false;
        mf->slice_ns = u * 1000000;
    }
    if ((v = json_object_get(r, "watchdog_ms"))) {
        if (!get_uint(file, "watchdog_ms", v, 3600000, &u))
            return false;
        mf->watchdog_ns = u * 1000000;
    }
    if ((v = json_object_get(r, "stack_size")) &&
        !get_uint(file, "stack_size", v, (uint64_t)1 << 30, &mf->stack_size))
        return false;
    if ((v = json_object_get(r, "bounds"))) {
        char b[16];
        if (!get_str(file, "bounds", v, b, sizeof b) ||
            (strcmp(b, "guard") && strcmp(b, "explicit")))
            return bad(file, "bounds", "want \"guard\" or \"explicit\"");
        mf->explicit_bounds = !strcmp(b, "explicit");
    }
    if ((v = json_object_get(r, "stream_bytes")) &&
        !get_uint(file, "stream_bytes", v, (uint64_t)1 << 30, &mf->stream_bytes))
        return false;
    if ((v = json_object_get(r, "mailbox_bytes")) &&
        !get_uint(file, "mailbox_bytes", v, (uint64_t)1 << 32, &mf->mailbox_bytes))
        return false;
    json_t *regj = json_object_get(r, "registry");
    if (regj) {
        if (!json_is_array(regj) || json_array_size(regj) > 1000)
            return bad(file, "registry", "want an array of at most 1000 modules");
        mf->reg = calloc(json_array_size(regj) + 1, sizeof *mf->reg);
        if (!mf->reg)
            return bad(file, "registry", "out of memory");
        size_t ri;
        json_t *rj;
        json_array_foreach(regj, ri, rj) {
            char where[64], buf[PATH_MAX];
            snprintf(where, sizeof where, "registry[%zu]", ri);
            mreg *e = &mf->reg[mf->nreg++];
            snprintf(e->entry, sizeof e->entry, "_start");
            e->one_copy = true;         /* the default for applications */
            if (!json_is_object(rj))
                return bad(file, where, "want an object");
            static const char *const keys[] = { "name", "module", "version", "hash", "depends",
                                                "one_copy", "trusted", "grants", "entry", "dirs",
                                                "zygote", NULL };
            if (!only_keys(file, where, rj, keys))
                return false;
            if (!(v = json_object_get(rj, "name")) || !get_str(file, where, v, e->name, 48))
                return v ? false : bad(file, where, "no \"name\"");
            if (!(v = json_object_get(rj, "module")) || !get_str(file, where, v, buf, sizeof buf))
                return v ? false : bad(file, where, "no \"module\"");
            e->module_path = resolve(dir, buf);
            snprintf(e->version, sizeof e->version, "0.0.0");
            if ((v = json_object_get(rj, "version")) &&
                !get_str(file, where, v, e->version, sizeof e->version))
                return false;
            if ((v = json_object_get(rj, "hash"))) {
                char hb[24], *end;
                if (!get_str(file, where, v, hb, sizeof hb))
                    return false;
                e->hash = strtoull(hb, &end, 16);
                if (*end || !e->hash)
                    return bad(file, where, "hash: want the module's xxh64 in hex");
            }
            if ((v = json_object_get(rj, "depends")) && !strings(file, where, v, e->deps, &e->ndeps))
                return false;
            if ((v = json_object_get(rj, "one_copy")) && !get_bool(file, where, v, &e->one_copy))
                return false;
            if ((v = json_object_get(rj, "entry")) && !get_str(file, where, v, e->entry, sizeof e->entry))
                return false;
            /* "zygote": true (its _start until its first authority) or the
               name of its init export */
            if ((v = json_object_get(rj, "zygote"))) {
                bool zb = false;
                if (json_is_string(v)) {
                    if (!get_str(file, where, v, e->zinit, sizeof e->zinit) || !e->zinit[0])
                        return bad(file, where, "zygote: want true or an export name");
                } else if (!get_bool(file, where, v, &zb)) {
                    return false;
                } else if (zb) {
                    snprintf(e->zinit, sizeof e->zinit, "_start");
                }
            }
            if (!grants_read(file, where, rj, &e->gr))
                return false;
            if ((v = json_object_get(rj, "dirs")) &&
                !dirs_read(file, where, dir, v, e->dir_host, e->dir_guest, e->dir_copy, &e->ndirs))
                return false;
        }
    }
    json_t *procs = json_object_get(r, "processes");
    if (!procs || !json_is_array(procs) || json_array_size(procs) == 0 ||
        json_array_size(procs) > 10000)
        return bad(file, "processes", "want an array of 1 to 10000 process descriptions");
    mf->procs = calloc(json_array_size(procs), sizeof *mf->procs);
    if (!mf->procs)
        return bad(file, "processes", "out of memory");
    size_t i;
    json_t *pj;
    long total = 0;
    json_array_foreach(procs, i, pj) {
        char where[64];
        snprintf(where, sizeof where, "processes[%zu]", i);
        mproc *p = &mf->procs[mf->nprocs++];
        p->count = 1;
        snprintf(p->entry, sizeof p->entry, "_start");
        snprintf(p->sponsor, sizeof p->sponsor, "root");
        if (!json_is_object(pj))
            return bad(file, where, "want an object");
        static const char *const keys[] = { "name", "module", "args", "env", "dirs", "sponsor",
                                            "entry", "count", "max_memory_pages", "trusted",
                                            "grants", NULL };
        if (!only_keys(file, where, pj, keys))
            return false;
        char buf[PATH_MAX];
        if (!(v = json_object_get(pj, "name")) || !get_str(file, where, v, p->name, 48))
            return v ? false : bad(file, where, "no \"name\"");
        if (strchr(p->name, '.'))
            return bad(file, where, "a name has no '.' (copies are named NAME.N)");
        for (size_t k = 0; k + 1 < mf->nprocs; k++)
            if (!strcmp(mf->procs[k].name, p->name))
                return bad(file, where, "two processes of the same name");
        if (!(v = json_object_get(pj, "module")) || !get_str(file, where, v, buf, sizeof buf))
            return v ? false : bad(file, where, "no \"module\"");
        p->module_path = resolve(dir, buf);
        p->module = p->module_path;
        if ((v = json_object_get(pj, "args")) && !strings(file, where, v, p->args, &p->nargs))
            return false;
        if ((v = json_object_get(pj, "env")) && !strings(file, where, v, p->env, &p->nenv))
            return false;
        for (int k = 0; k < p->nenv; k++)
            if (!strchr(p->env[k], '='))
                return bad(file, where, "env: want KEY=VALUE");
        if ((v = json_object_get(pj, "dirs")) &&
            !dirs_read(file, where, dir, v, p->dir_host, p->dir_guest, p->dir_copy, &p->ndirs))
            return false;
        if ((v = json_object_get(pj, "sponsor")) &&
            !get_str(file, where, v, p->sponsor, sizeof p->sponsor))
            return false;
        if ((v = json_object_get(pj, "entry")) && !get_str(file, where, v, p->entry, sizeof p->entry))
            return false;
        if ((v = json_object_get(pj, "count"))) {
            if (!get_uint(file, where, v, MAX_PROCS, &u) || u == 0)
                return u == 0 ? bad(file, where, "count: want 1 or more") : false;
            p->count = (long)u;
        }
        if (!grants_read(file, where, pj, &p->gr))
            return false;
        if ((v = json_object_get(pj, "max_memory_pages"))) {
            if (!get_uint(file, where, v, 65536, &u))
                return false;
            p->max_pages = (uint32_t)u;
        }
        total += p->count;
        if (total > MAX_PROCS)
            return bad(file, "processes", "more than 200000 processes");
    }
    return true;
}

/* "{i}" in an argument is the copy's number (0 ..). */
static char *expand(const char *s, long i)
{
    char num[24];
    snprintf(num, sizeof num, "%ld", i);
    size_t n = strlen(s) + 1;
    for (const char *q = s; (q = strstr(q, "{i}")); q += 3)
        n += strlen(num);
    char *r = malloc(n), *o = r;
    if (!r)
        return NULL;
    while (*s) {
        if (!strncmp(s, "{i}", 3)) {
            o += sprintf(o, "%s", num);
            s += 3;
        } else {
            *o++ = *s++;
        }
    }
    *o = 0;
    return r;
}

static gate_sponsor *find_sponsor(gate_world *w, gate_sponsor **sps, char (*names)[64], int n,
                                  const char *name)
{
    if (!strcmp(name, "root"))
        return gate_world_root(w);
    for (int i = 0; i < n; i++)
        if (!strcmp(names[i], name))
            return sps[i];
    return NULL;
}

static bool make_sponsors(const char *file, manifest *mf, gate_world *w, gate_sponsor **sps,
                          char (*names)[64], int *n)
{
    json_t *arr = json_object_get(mf->root, "sponsors");
    *n = 0;
    if (!arr)
        return true;
    if (!json_is_array(arr) || json_array_size(arr) > 1000)
        return bad(file, "sponsors", "want an array of at most 1000 sponsors");
    size_t i;
    json_t *sj;
    json_array_foreach(arr, i, sj) {
        char where[64];
        snprintf(where, sizeof where, "sponsors[%zu]", i);
        if (!json_is_object(sj))
            return bad(file, where, "want an object");
        static const char *const keys[] = { "name", "parent", "fuel", "memory", "tables",
                                            "processes", "messages", NULL };
        if (!only_keys(file, where, sj, keys))
            return false;
        json_t *v;
        char parent[64] = "root";
        if (!(v = json_object_get(sj, "name")) || !get_str(file, where, v, names[*n], 64))
            return v ? false : bad(file, where, "no \"name\"");
        if (!strcmp(names[*n], "root") || find_sponsor(w, sps, names, *n, names[*n]))
            return bad(file, where, "a sponsor of that name exists");
        if ((v = json_object_get(sj, "parent")) && !get_str(file, where, v, parent, sizeof parent))
            return false;
        gate_sponsor *ps = find_sponsor(w, sps, names, *n, parent);
        if (!ps)
            return bad(file, where, "parent: no such sponsor (parents come first)");
        gate_budget b;
        gate_budget_unlimited(&b);
        static const char *const fields[] = { "fuel", "memory", "tables", "processes",
                                              "messages" };
        uint64_t *dst[] = { &b.fuel, &b.memory, &b.tables, &b.processes, &b.messages };
        for (int k = 0; k < 5; k++)
            if ((v = json_object_get(sj, fields[k])) &&
                !get_uint(file, where, v, (uint64_t)1 << 62, dst[k]))
                return false;
        gate_error err;
        sps[*n] = gate_sponsor_new(ps, names[*n], &b, &err);
        if (!sps[*n])
            return bad(file, where, err.message);
        (*n)++;
    }
    return true;
}

/* The manifest entry of process name ("name" or a copy "name.N"). */
static const mproc *entry_of(const manifest *mf, const char *name)
{
    if (!mf)
        return NULL;
    size_t n = strcspn(name, ".");
    for (size_t i = 0; i < mf->nprocs; i++)
        if (strlen(mf->procs[i].name) == n && !strncmp(mf->procs[i].name, name, n))
            return &mf->procs[i];
    return NULL;
}

typedef struct resume_ctx {
    gate_engine *eng;
    const manifest *mf;
    const char *file;
} resume_ctx;

static void grant_report(void *ud, const char *preopen, const char *path, const char *host,
                         const char *why)
{
    const char *name = ud;
    (void)host;
    if (why)
        fprintf(stderr, "gate world: %s: %s%s%s: %s: reported lost to the program\n", name,
                preopen ? preopen : "", path ? "/" : "", path ? path : "", why);
}

static gate_imports *restore_imports(void *ud, const char *name, const uint8_t *snap,
                                     size_t len, const gate_grants **grants, gate_error *err)
{
    resume_ctx *rc = ud;
    gate_imports *imp = gate_imports_new(rc->eng);
    const mproc *e = entry_of(rc->mf, name);
    /* grants come from the manifest of whoever resumes: none without one */
    static const gate_grants none = { 0 };
    *grants = e ? grants_of(&e->gr) : &none;
    if (imp && gate_imports_world(imp, err) != GATE_OK) {
        gate_imports_free(imp);
        return NULL;
    }
    if (!imp || !snap)
        return imp;
    gate_wasi_grants g = { 0 };
    if (e) {
        g.ndirs = e->ndirs;
        g.dir_host = (const char *const *)e->dir_host;
        g.dir_guest = (const char *const *)e->dir_guest;
    }
    g.report = grant_report;
    g.report_ud = (void *)name;
    gate_status st = gate_imports_wasi_from_snapshot(imp, snap, len, &g, err);
    if (st == GATE_ERR_NOT_FOUND)
        err->status = GATE_OK;
    else if (st != GATE_OK) {
        gate_imports_free(imp);
        return NULL;
    }
    return imp;
}

/* Imports of a process a process spawns by registry name: WASI with its
   name as argv[0] and nothing granted, and the kernel services. */
static gate_imports *spawn_imports(void *ud, const char *name, const uint8_t *snap,
                                   size_t len, const gate_grants **grants, gate_error *err)
{
    resume_ctx *rc = ud;
    (void)snap;
    (void)len;
    (void)grants;
    gate_imports *imp = gate_imports_new(rc->eng);
    const char *argv[1] = { name };
    gate_wasi_config wcfg = { .argc = 1, .argv = argv };
    /* the directories the registry grants this module */
    for (size_t i = 0; rc->mf && i < rc->mf->nreg; i++)
        if (!strcmp(rc->mf->reg[i].name, name)) {
            wcfg.npreopens = rc->mf->reg[i].ndirs;
            wcfg.preopen_host = (const char *const *)rc->mf->reg[i].dir_host;
            wcfg.preopen_guest = (const char *const *)rc->mf->reg[i].dir_guest;
        }
    if (imp && (gate_imports_wasi(imp, &wcfg, err) != GATE_OK ||
                gate_imports_world(imp, err) != GATE_OK)) {
        gate_imports_free(imp);
        return NULL;
    }
    return imp;
}

/* The manifest's registry, into the world. */
static bool make_registry(const char *file, manifest *mf, gate_world *w, gate_engine *eng,
                          gate_module **mods)
{
    for (size_t i = 0; i < mf->nreg; i++) {
        mreg *e = &mf->reg[i];
        size_t len;
        uint8_t *b = cli_read_file(e->module_path, &len);
        if (!b)
            return false;
        gate_error err;
        mods[i] = cli_load(eng, b, len, &err);
        free(b);
        if (!mods[i]) {
            cli_report(e->module_path, &err);
            return false;
        }
        if (e->zinit[0]) {
            /* initialised once with no authority; it sees the names of the
               directories its processes are granted (spawn_imports) */
            gate_zygote_config zc;
            gate_zygote_config_init(&zc);
            zc.init = e->zinit;
            zc.preopens = (const char *const *)e->dir_guest;
            zc.npreopens = e->ndirs;
            zc.timeout_ns = 60000000000ull;
            if (!(e->zyg = gate_zygote_new(mods[i], &zc, &err))) {
                char where[64], what[300];
                snprintf(where, sizeof where, "registry[%zu]: zygote", i);
                gate_error_format(&err, what, sizeof what);
                return bad(file, where, what);
            }
            if (!gate_is_suspended(e->zyg) && !strcmp(e->zinit, e->entry)) {
                char where[64];
                snprintf(where, sizeof where, "registry[%zu]: zygote", i);
                return bad(file, where, "its entry ran to its end without using an authority: "
                           "each process would run it again from the start");
            }
        }
        gate_registry_entry re = { .name = e->name, .version = e->version, .module = mods[i],
                                   .hash = e->hash, .depends = (const char *const *)e->deps,
                                   .ndepends = (size_t)e->ndeps, .one_copy = e->one_copy,
                                   .grants = grants_of(&e->gr), .entry = e->entry,
                                   .zygote = e->zyg };
        if (gate_world_register(w, &re, &err) != GATE_OK) {
            char where[64];
            snprintf(where, sizeof where, "registry[%zu]", i);
            return bad(file, where, err.message);
        }
    }
    return true;
}

typedef struct watch_ctx {
    gate_world *w;
    int quit;
} watch_ctx;

static void *watch_signals(void *arg)
{
    watch_ctx *c = arg;
    while (!__atomic_load_n(&c->quit, __ATOMIC_SEQ_CST)) {
        if (stop_now)
            gate_world_stop(c->w);      /* again until the run has ended */
        struct timespec ts = { 0, 20000000 };
        nanosleep(&ts, NULL);
    }
    return NULL;
}

/* The table of processes (--status), and the exit status they make. */
static int summary(gate_world *w, bool print, bool *all_done)
{
    size_t n = gate_world_procs(w, NULL, 0);
    gate_pid *pids = malloc((n + 1) * sizeof *pids);
    if (!pids)
        return 2;
    n = gate_world_procs(w, pids, n);
    int rc = 0;
    *all_done = true;
    if (print)
        fprintf(stderr, "%6s  %-20s %-9s %12s %8s %9s  %s\n", "pid", "name", "state", "fuel",
                "slices", "memory", "status");
    for (size_t i = 0; i < n; i++) {
        gate_proc_info in;
        if (gate_world_proc(w, pids[i], &in) != GATE_OK)
            continue;
        if (in.state != GATE_PROC_DONE)
            *all_done = false;
        else if (in.status == GATE_TRAPPED)
            rc = 134;
        else if ((in.status != GATE_OK && !(in.status == GATE_EXITED && in.exit_code == 0)) &&
                 rc == 0)
            rc = 1;
        if (print) {
            char st[300];
            if (in.state != GATE_PROC_DONE)
                snprintf(st, sizeof st, "-");
            else if (in.status == GATE_EXITED)
                snprintf(st, sizeof st, "exited %d", in.exit_code);
            else
                snprintf(st, sizeof st, "%s", in.message);
            fprintf(stderr, "%6u  %-20s %-9s %12llu %8llu %9llu  %s\n", in.pid, in.name,
                    gate_proc_state_name(in.state), (unsigned long long)in.fuel_used,
                    (unsigned long long)in.slices, (unsigned long long)in.memory, st);
        }
    }
    free(pids);
    return rc;
}

static int usage_world(void)
{
    fprintf(stderr, "usage: gate world [--workers N] [--slices N] [--run-for DURATION] "
                    "[--save FILE] [--status] MANIFEST.json\n"
                    "       gate world --resume FILE [same options] [MANIFEST.json]\n");
    return 2;
}

int cli_world(int argc, char **argv)
{
    const char *mfile = NULL, *resume = NULL, *save = NULL;
    uint64_t slices = 0, run_for = 0, workers = 0;
    bool status = false;
    for (int i = 2; i < argc; i++) {
        const char *o = argv[i], *val = i + 1 < argc ? argv[i + 1] : NULL;
        char *end;
        if (!strcmp(o, "--status")) {
            status = true;
        } else if (!strcmp(o, "--workers") && val) {
            errno = 0;
            workers = strtoull(val, &end, 10);
            if (errno || *end || workers == 0 || workers > 256) {
                fprintf(stderr, "gate world: --workers %s: want 1 to 256\n", val);
                return 2;
            }
            i++;
        } else if (!strcmp(o, "--slices") && val) {
            errno = 0;
            slices = strtoull(val, &end, 10);
            if (errno || *end || slices == 0) {
                fprintf(stderr, "gate world: --slices %s: want a positive count\n", val);
                return 2;
            }
            i++;
        } else if (!strcmp(o, "--run-for") && val) {
            if (!cli_duration(val, &run_for) || run_for == 0) {
                fprintf(stderr, "gate world: --run-for %s: want a duration (250ms, 2s)\n", val);
                return 2;
            }
            i++;
        } else if (!strcmp(o, "--save") && val) {
            save = val;
            i++;
        } else if (!strcmp(o, "--resume") && val) {
            resume = val;
            i++;
        } else if (o[0] == '-') {
            fprintf(stderr, "gate world: unknown option '%s'\n", o);
            return usage_world();
        } else if (!mfile) {
            mfile = o;
        } else {
            return usage_world();
        }
    }
    if (!mfile && !resume)
        return usage_world();
    manifest mf;
    memset(&mf, 0, sizeof mf);
    if (mfile && !manifest_read(mfile, &mf)) {
        manifest_free(&mf);
        return 2;
    }
    uint8_t *wbytes = NULL;
    size_t wlen = 0;
    gate_world_info winfo = { 0 };
    gate_error err;
    if (resume) {
        wbytes = cli_read_file(resume, &wlen);
        if (!wbytes) {
            manifest_free(&mf);
            return 2;
        }
        if (gate_world_read_info(wbytes, wlen, &winfo, &err) != GATE_OK) {
            cli_report(resume, &err);
            free(wbytes);
            manifest_free(&mf);
            return 1;
        }
    }
    gate_config cfg;
    gate_config_init(&cfg);
    cfg.fuel = resume ? winfo.fuel : mf.fuel;
    cfg.deterministic = resume ? winfo.deterministic : mf.deterministic;
    cfg.bounds = (resume ? winfo.explicit_bounds : mf.explicit_bounds) ? GATE_BOUNDS_EXPLICIT
                                                                       : GATE_BOUNDS_GUARD;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    if (!eng) {
        cli_report("gate world", &err);
        free(wbytes);
        manifest_free(&mf);
        return 2;
    }
    gate_world_config wc;
    gate_world_config_init(&wc);
    wc.workers = (unsigned)(workers ? workers : mf.workers ? (uint64_t)mf.workers : resume ? 0 : 1);
    wc.slice_fuel = mf.slice_fuel;
    wc.slice_ns = mf.slice_ns;
    wc.watchdog_ns = mf.watchdog_ns;
    wc.stack_size = mf.stack_size;
    wc.mailbox_bytes = mf.mailbox_bytes;
    wc.stream_bytes = mf.stream_bytes;
    gate_world *w = NULL;
    int rc = 2;
    gate_module **mods = NULL, **regmods = NULL;
    if (resume) {
        resume_ctx rcx = { eng, mfile ? &mf : NULL, resume };
        w = gate_world_restore(eng, &wc, wbytes, wlen, restore_imports, &rcx, &err);
        if (!w) {
            cli_report(resume, &err);
            rc = 1;
            goto out;
        }
    } else {
        w = gate_world_new(eng, &wc, &err);
        if (!w) {
            cli_report("gate world", &err);
            goto out;
        }
        gate_sponsor *sps[1000];
        char names[1000][64];
        int nsp;
        if (!make_sponsors(mfile, &mf, w, sps, names, &nsp))
            goto out;
        mods = calloc(mf.nprocs, sizeof *mods);
        if (!mods)
            goto out;
        for (size_t i = 0; i < mf.nprocs; i++) {
            mproc *p = &mf.procs[i];
            char where[64];
            snprintf(where, sizeof where, "processes[%zu]", i);
            gate_sponsor *sp = find_sponsor(w, sps, names, nsp, p->sponsor);
            if (!sp) {
                bad(mfile, where, "sponsor: no such sponsor");
                goto out;
            }
            size_t len;
            uint8_t *b = cli_read_file(p->module, &len);
            if (!b)
                goto out;
            mods[i] = cli_load(eng, b, len, &err);
            free(b);
            if (!mods[i]) {
                cli_report(p->module, &err);
                rc = 1;
                goto out;
            }
            for (long k = 0; k < p->count; k++) {
                char pname[64];
                if (p->count > 1)
                    snprintf(pname, sizeof pname, "%.40s.%ld", p->name, k);
                else
                    snprintf(pname, sizeof pname, "%s", p->name);
                const char *argvv[MAX_ITEMS + 1];
                char *owned[MAX_ITEMS];
                argvv[0] = pname;
                for (int a = 0; a < p->nargs; a++)
                    argvv[a + 1] = owned[a] = expand(p->args[a], k);
                gate_wasi_config wcfg = { .argc = p->nargs + 1, .argv = argvv, .envc = p->nenv,
                                          .envp = (const char *const *)p->env,
                                          .npreopens = p->ndirs,
                                          .preopen_host = (const char *const *)p->dir_host,
                                          .preopen_guest = (const char *const *)p->dir_guest };
                gate_imports *imp = gate_imports_new(eng);
                gate_status st = imp ? gate_imports_wasi(imp, &wcfg, &err) : GATE_ERR_NOMEM;
                if (st == GATE_OK)
                    st = gate_imports_world(imp, &err);
                for (int a = 0; a < p->nargs; a++)
                    free(owned[a]);
                gate_pid pid;
                gate_spawn s = { .module = mods[i], .imports = imp, .own_imports = 1,
                                 .entry = p->entry, .sponsor = sp, .name = pname,
                                 .grants = grants_of(&p->gr) };
                s.limits.max_memory_pages = p->max_pages;
                if (st == GATE_OK)
                    st = gate_world_spawn(w, &s, &pid, &err);
                if (st != GATE_OK)
                    gate_imports_free(imp);     /* not taken by the world */
                if (st != GATE_OK) {
                    fprintf(stderr, "gate world: %s: %s: %s\n", mfile, pname, err.message);
                    rc = 1;
                    goto out;
                }
            }
        }
    }
    resume_ctx scx = { eng, mfile ? &mf : NULL, mfile };
    gate_world_set_imports(w, spawn_imports, &scx);
    regmods = calloc(mf.nreg + 1, sizeof *regmods);
    if (!regmods || !make_registry(mfile, &mf, w, eng, regmods)) {
        rc = 1;
        goto out;
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    /* a thread watches for SIGINT/SIGTERM and stops the run; the run
       itself is not cut into time chunks, so that a fuel schedule stays
       the same from run to run and from ISA to ISA */
    watch_ctx wctx = { w, 0 };
    pthread_t watcher;
    bool watching = pthread_create(&watcher, NULL, watch_signals, &wctx) == 0;
    gate_status rst = gate_world_run(w, run_for, slices);
    bool stopped = rst == GATE_SUSPENDED;
    if (watching) {
        __atomic_store_n(&wctx.quit, 1, __ATOMIC_SEQ_CST);
        pthread_join(watcher, NULL);
    }
    bool all_done = false;
    int prc = summary(w, status, &all_done);
    if (stopped || !all_done) {
        if (save) {
            if (gate_world_save(w, save, &err) != GATE_OK) {
                cli_report(save, &err);
                rc = 2;
                goto out;
            }
            fprintf(stderr, "gate world: %s the world to %s\n",
                    stopped ? "stopped; saved" : "nothing can run; saved", save);
            rc = 75;
            goto out;
        }
        if (!all_done)
            fprintf(stderr, "gate world: %s; processes not ended (--save FILE keeps them)\n",
                    stopped ? "stopped" : "nothing can run");
        rc = stopped ? 75 : 1;
        goto out;
    }
    rc = prc;
out:
    gate_world_free(w);
    for (size_t i = 0; i < mf.nreg; i++)
        gate_instance_free(mf.reg[i].zyg);      /* after the world that forks them */
    if (mods)
        for (size_t i = 0; i < mf.nprocs; i++)
            gate_module_free(mods[i]);
    free(mods);
    if (regmods)
        for (size_t i = 0; i < mf.nreg; i++)
            gate_module_free(regmods[i]);
    free(regmods);
    gate_engine_free(eng);
    free(wbytes);
    manifest_free(&mf);
    return rc;
}
