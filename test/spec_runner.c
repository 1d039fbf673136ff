/*
 * spec_runner.c - runs the commands of wast2json output files against
 * libgate.
 *
 *   spec-runner [-v] [--results FILE.tsv] [--label NAME] [--explicit-bounds] [--fuel]
 *               [--baseline-cpu] [--deterministic] [--failed-conversion NAME]... JSON...
 *
 * `module` must decode, validate and instantiate (imports come from the
 * spectest module and from registered instances); `assert_invalid` and
 * binary `assert_malformed` must be rejected; `assert_unlinkable` and
 * `assert_uninstantiable` must fail at instantiation; actions run on the
 * compiled code and `assert_return`, `assert_trap`, `assert_exhaustion`
 * check their outcome (NaN patterns included).  Text-format
 * `assert_malformed` is skipped ("text format"); commands on a module the
 * backend cannot compile yet (SIMD) are skipped with that reason.
 * The last line is "spec: N passed, N failed, N skipped".
 */
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../libgate.h"
#include "json.h"
#include "data/spectest_wasm.h"

enum {
    SKIP_TEXT, SKIP_NOCODE, SKIP_NOHOST, SKIP_NREASONS
};
static const char *const skip_reason[SKIP_NREASONS] = {
    "text format",
    "module not compiled: the backend lacks a feature it uses (SIMD)",
    "not run: no backend for this host's CPU; modules only decoded and validated",
};

typedef struct counts {
    long passed, failed, skipped;
    long skip_by[SKIP_NREASONS];
} counts;

static int verbose;
static uint32_t stress;               /* --stress N */
static long stress_stops, stress_roundtrips, stress_inplace, stress_peer_trips;
static FILE *peer_in, *peer_out;      /* --stress-peer: requests, replies */
static gate_instance *peer_trapped;   /* the instance of the peer's last trap */
static int peer_trap_code;            /* and its gate_trap_code */

static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    if (fseek(f, 0, SEEK_END)) {
        fclose(f);
        return NULL;
    }
    long n = ftell(f);
    rewind(f);
    char *buf = n >= 0 ? malloc((size_t)n + 1) : NULL;
    if (!buf || fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        fclose(f);
        return NULL;
    }
    buf[n] = 0;
    fclose(f);
    *len = (size_t)n;
    return buf;
}

/* Validates dir/file; returns the status, with the message in err. */
static gate_status check_module(gate_engine *eng, const char *dir, const char *file,
                                gate_error *err)
{
    char path[8192];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *bytes = slurp(path, &len);
    if (!bytes) {
        snprintf(err->message, sizeof err->message, "cannot read %.200s", path);
        err->status = GATE_ERR_IO;
        return GATE_ERR_IO;
    }
    gate_status st = gate_validate(eng, (const uint8_t *)bytes, len, err);
    free(bytes);
    return st;
}

static void skip(counts *c, int why)
{
    c->skipped++;
    c->skip_by[why]++;
}

static void fail_line(const char *src, long line, const char *cmd, const char *what,
                      const gate_error *err)
{
    char msg[512] = "";
    if (err)
        gate_error_format(err, msg, sizeof msg);
    printf("FAIL %s:%ld: %s: %s%s%s\n", src, line, cmd, what, err ? ": " : "", msg);
}


/* ---- per-file state: instances, names, imports --------------------------- */

#define MAX_INST 512

typedef struct fstate {
    gate_engine *eng;
    gate_imports *imp;
    gate_module *mods[MAX_INST];
    gate_instance *insts[MAX_INST];
    char *names[MAX_INST];            /* "$M" or NULL */
    int n;
    gate_instance *cur;               /* the last module; NULL if it failed */
    gate_instance *registered[MAX_INST];
    int nregistered;
    int cur_nocode;                   /* last module could not be compiled */
} fstate;

static gate_module *load(fstate *f, const char *dir, const char *file, gate_error *err)
{
    char path[8192];
    size_t len;
    snprintf(path, sizeof path, "%s/%s", dir, file);
    char *bytes = slurp(path, &len);
    if (!bytes) {
        err->status = GATE_ERR_IO;
        snprintf(err->message, sizeof err->message, "cannot read %.200s", file);
        return NULL;
    }
    gate_module *m = gate_module_new(f->eng, (const uint8_t *)bytes, len, err);
    free(bytes);
    return m;
}

/* Instantiates dir/file; on success it becomes current (and named). */
static gate_status instantiate(fstate *f, const char *dir, const char *file, const char *name,
                               gate_error *err)
{
    gate_module *m = load(f, dir, file, err);
    f->cur = NULL;
    f->cur_nocode = 0;
    if (!m)
        return err->status;
    gate_instance *in = gate_instance_new(m, f->imp, NULL, err);
    if (!in) {
        if (err->status == GATE_ERR_NOT_IMPLEMENTED)
            f->cur_nocode = 1;
        gate_module_free(m);
        return err->status;
    }
    if (f->n == MAX_INST) {
        gate_instance_free(in);
        gate_module_free(m);
        err->status = GATE_ERR_LIMIT;
        snprintf(err->message, sizeof err->message, "too many instances in one file");
        return GATE_ERR_LIMIT;
    }
    f->mods[f->n] = m;
    f->insts[f->n] = in;
    f->names[f->n] = name ? strdup(name) : NULL;
    f->n++;
    f->cur = in;
    return GATE_OK;
}

static gate_instance *named(fstate *f, const char *name)
{
    if (!name)
        return f->cur;
    for (int i = f->n; i-- > 0;)
        if (f->names[i] && !strcmp(f->names[i], name))
            return f->insts[i];
    return NULL;
}

static void fstate_free(fstate *f)
{
    for (int i = f->n; i-- > 0;) {
        gate_instance_free(f->insts[i]);
        gate_module_free(f->mods[i]);
        free(f->names[i]);
    }
    gate_imports_free(f->imp);
}

/* ---- values ------------------------------------------------------------ */

/* Lane width in bytes of a wast2json lane_type, 0 if unknown. */
static int lane_bytes(const char *lt)
{
    if (!lt)
        return 0;
    return !strcmp(lt, "i8") ? 1 : !strcmp(lt, "i16") ? 2 : !strcmp(lt, "i32") || !strcmp(lt, "f32") ? 4
           : !strcmp(lt, "i64") || !strcmp(lt, "f64") ? 8 : 0;
}

/* {"type": "v128", "lane_type": "i32", "value": ["1", ...]}: the lanes'
   strings (NULL when not one). */
static const js *v128_lanes(const js *v, int *lb)
{
    const char *type = js_str(v, "type");
    const js *lanes = js_get(v, "value");
    *lb = lane_bytes(js_str(v, "lane_type"));
    if (!type || strcmp(type, "v128") || !lanes || lanes->kind != JS_ARR || !*lb ||
        lanes->n != (size_t)(16 / *lb))
        return NULL;
    for (size_t i = 0; i < lanes->n; i++)
        if (lanes->items[i].kind != JS_STR)
            return NULL;
    return lanes;
}

static int parse_val(const js *v, gate_val *out)
{
    int lb;
    const js *lanes = v128_lanes(v, &lb);
    if (lanes) {
        memset(out, 0, sizeof *out);
        out->type = GATE_V128;
        for (size_t i = 0; i < lanes->n; i++) {
            unsigned long long n = strtoull(lanes->items[i].str, NULL, 10);
            memcpy(out->of.v128 + i * (size_t)lb, &n, (size_t)lb);    /* little-endian */
        }
        return 1;
    }
    const char *type = js_str(v, "type"), *val = js_str(v, "value");
    if (!type || !val)
        return 0;
    memset(out, 0, sizeof *out);
    unsigned long long n = strtoull(val, NULL, 10);
    if (!strcmp(type, "i32")) {
        out->type = GATE_I32;
        out->of.i32 = (int32_t)(uint32_t)n;
    } else if (!strcmp(type, "i64")) {
        out->type = GATE_I64;
        out->of.i64 = (int64_t)n;
    } else if (!strcmp(type, "f32")) {
        uint32_t b = (uint32_t)n;
        out->type = GATE_F32;
        memcpy(&out->of.f32, &b, 4);
    } else if (!strcmp(type, "f64")) {
        out->type = GATE_F64;
        memcpy(&out->of.f64, &n, 8);
    } else if (!strcmp(type, "externref")) {
        out->type = GATE_EXTERNREF;
        /* host reference N is the pointer N + 1, so that 0 stays null */
        out->of.ref = strcmp(val, "null") ? (void *)(uintptr_t)(n + 1) : NULL;
    } else if (!strcmp(type, "funcref")) {
        out->type = GATE_FUNCREF;
        out->of.ref = NULL;
    } else {
        return 0;
    }
    return 1;
}

static int match_float(int d, const char *val, uint64_t b)
{
    uint64_t sign = d ? 1ull << 63 : 1ull << 31, q = d ? 0x7ff8000000000000ull : 0x7fc00000u;
    if (!strcmp(val, "nan:canonical"))
        return (b & ~sign) == q;
    if (!strcmp(val, "nan:arithmetic"))
        return (b & q) == q;
    return b == strtoull(val, NULL, 10);
}

/* Does got match the expected value (with NaN patterns)? */
static int match(const js *want, const gate_val *got)
{
    int lb;
    const js *lanes = v128_lanes(want, &lb);
    if (lanes) {
        if (got->type != GATE_V128)
            return 0;
        const char *lt = js_str(want, "lane_type");
        for (size_t i = 0; i < lanes->n; i++) {
            uint64_t b = 0;
            memcpy(&b, got->of.v128 + i * (size_t)lb, (size_t)lb);
            if (lt[0] == 'f') {
                if (!match_float(lb == 8, lanes->items[i].str, b))
                    return 0;
            } else {
                uint64_t w = strtoull(lanes->items[i].str, NULL, 10);
                if (lb < 8)
                    w &= (1ull << (8 * lb)) - 1;
                if (b != w)
                    return 0;
            }
        }
        return 1;
    }
    const char *type = js_str(want, "type"), *val = js_str(want, "value");
    if (!type || !val)
        return 0;
    if (!strcmp(type, "f32") && got->type == GATE_F32) {
        uint32_t b;
        memcpy(&b, &got->of.f32, 4);
        if (!strcmp(val, "nan:canonical"))
            return (b & 0x7fffffffu) == 0x7fc00000u;
        if (!strcmp(val, "nan:arithmetic"))
            return (b & 0x7fc00000u) == 0x7fc00000u;
        return b == (uint32_t)strtoull(val, NULL, 10);
    }
    if (!strcmp(type, "f64") && got->type == GATE_F64) {
        uint64_t b;
        memcpy(&b, &got->of.f64, 8);
        if (!strcmp(val, "nan:canonical"))
            return (b & 0x7fffffffffffffffull) == 0x7ff8000000000000ull;
        if (!strcmp(val, "nan:arithmetic"))
            return (b & 0x7ff8000000000000ull) == 0x7ff8000000000000ull;
        return b == strtoull(val, NULL, 10);
    }
    gate_val w;
    if (!parse_val(want, &w) || w.type != got->type)
        return 0;
    switch (w.type) {
    case GATE_I32: return w.of.i32 == got->of.i32;
    case GATE_I64: return w.of.i64 == got->of.i64;
    case GATE_EXTERNREF: return w.of.ref == got->of.ref;
    case GATE_FUNCREF: return strcmp(val, "null") ? got->of.ref != NULL : got->of.ref == NULL;
    default: return 0;
    }
}

static void fmt_val(char *buf, size_t n, const gate_val *v)
{
    switch (v->type) {
    case GATE_I32: snprintf(buf, n, "i32:%u", (uint32_t)v->of.i32); break;
    case GATE_I64: snprintf(buf, n, "i64:%llu", (unsigned long long)v->of.i64); break;
    case GATE_F32: { uint32_t b; memcpy(&b, &v->of.f32, 4); snprintf(buf, n, "f32:0x%x", b); break; }
    case GATE_F64: { uint64_t b; memcpy(&b, &v->of.f64, 8);
                     snprintf(buf, n, "f64:0x%llx", (unsigned long long)b); break; }
    case GATE_V128: { uint32_t l[4]; memcpy(l, v->of.v128, 16);
                      snprintf(buf, n, "v128:i32x4 0x%08x 0x%08x 0x%08x 0x%08x", l[0], l[1], l[2],
                               l[3]); break; }
    default: snprintf(buf, n, "ref:%p", v->of.ref); break;
    }
}

static int is_registered(fstate *f, gate_instance *in)
{
    for (int i = 0; i < f->nregistered; i++)
        if (f->registered[i] == in)
            return 1;
    return 0;
}

/* A restored instance takes old's place (and old is freed). */
static void replace_instance(fstate *f, gate_instance *old, gate_instance *fresh)
{
    for (int i = 0; i < f->n; i++)
        if (f->insts[i] == old) {
            gate_instance_free(old);
            f->insts[i] = fresh;
        }
    if (f->cur == old)
        f->cur = fresh;
}

/*
 * The cross-ISA variant of stress mode (--stress-peer "CMD"): CMD is
 * another spec-runner in --peer mode, typically the other ISA's build
 * under qemu.  A call's first stop is snapshotted here and sent to the
 * peer, which restores it into a fresh instance (with the spectest
 * imports), resumes it to the end on its own ISA, and sends back the
 * outcome with a snapshot of the instance afterwards; that snapshot is
 * restored here and replaces the instance, so the commands that follow
 * see what the call did on the other ISA.
 *   request: u64 length, snapshot
 *   reply:   u32 status, u32 trap code, u32 nres, nres x (u32 type, u64 bits),
 *            u32 message length, message, u64 length, snapshot (0: none)
 */
static bool put(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n; }
static bool get(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n; }

/* A value's bits on the wire: 16 bytes, little-endian (v128 all of them). */
static bool val_bits(const gate_val *v, uint8_t bits[16])
{
    uint64_t b = 0;
    memset(bits, 0, 16);
    switch (v->type) {
    case GATE_I32: b = (uint32_t)v->of.i32; break;
    case GATE_I64: b = (uint64_t)v->of.i64; break;
    case GATE_F32: { uint32_t x; memcpy(&x, &v->of.f32, 4); b = x; break; }
    case GATE_F64: memcpy(&b, &v->of.f64, 8); break;
    case GATE_V128: memcpy(bits, v->of.v128, 16); return true;
    case GATE_FUNCREF: case GATE_EXTERNREF: b = (uint64_t)(uintptr_t)v->of.ref; break;
    default: return false;
    }
    memcpy(bits, &b, 8);
    return true;
}

static void bits_val(uint32_t type, const uint8_t bits[16], gate_val *v)
{
    uint64_t b;
    memcpy(&b, bits, 8);
    memset(v, 0, sizeof *v);
    v->type = (gate_valtype)type;
    switch (v->type) {
    case GATE_I32: v->of.i32 = (int32_t)(uint32_t)b; break;
    case GATE_I64: v->of.i64 = (int64_t)b; break;
    case GATE_F32: { uint32_t x = (uint32_t)b; memcpy(&v->of.f32, &x, 4); break; }
    case GATE_F64: memcpy(&v->of.f64, &b, 8); break;
    case GATE_V128: memcpy(v->of.v128, bits, 16); break;
    default: v->of.ref = (void *)(uintptr_t)b; break;
    }
}

static int peer_serve(void)
{
    gate_error err;
    gate_engine *eng = gate_engine_new(NULL, &err);
    gate_module *sm = eng ? gate_module_new(eng, spectest_wasm, sizeof spectest_wasm, &err) : NULL;
    gate_instance *si = sm ? gate_instance_new(sm, NULL, NULL, &err) : NULL;
    gate_imports *imp = si ? gate_imports_new(eng) : NULL;
    if (!imp || gate_imports_instance(imp, "spectest", si, &err) != GATE_OK) {
        fprintf(stderr, "spec-runner --peer: %s\n", err.message);
        return 2;
    }
    uint64_t len;
    while (get(stdin, &len, 8)) {
        uint8_t *snap = len < ((uint64_t)1 << 34) ? malloc(len ? len : 1) : NULL;
        if (!snap || !get(stdin, snap, len))
            return 2;
        gate_val res[64];
        uint32_t nres = 0;
        uint8_t *after = NULL;
        size_t alen = 0;
        gate_instance *in = gate_snapshot_restore(eng, snap, len, imp, &err);
        free(snap);
        /* resume writes as many results as the function has: the rest keep
           a type no value has */
        for (int i = 0; i < 64; i++)
            res[i].type = (gate_valtype)0x7fff;
        gate_status st = in ? gate_resume(in, res, 64, &err) : err.status;
        while (st == GATE_OK && nres < 64 && res[nres].type != (gate_valtype)0x7fff)
            nres++;
        if (in && gate_snapshot(in, &after, &alen, NULL) != GATE_OK)
            after = NULL, alen = 0;
        uint32_t status = (uint32_t)st, mlen = st == GATE_OK ? 0 : (uint32_t)strlen(err.message);
        gate_trap_info ti;
        memset(&ti, 0, sizeof ti);
        if (st == GATE_TRAPPED)
            gate_trap_info_get(in, &ti);
        uint32_t code = (uint32_t)ti.code;
        bool ok = put(stdout, &status, 4) && put(stdout, &code, 4) && put(stdout, &nres, 4);
        for (uint32_t i = 0; ok && i < nres; i++) {
            uint32_t t = (uint32_t)res[i].type;
            uint8_t b[16];
            val_bits(&res[i], b);
            ok = put(stdout, &t, 4) && put(stdout, b, 16);
        }
        uint64_t al = alen;
        ok = ok && put(stdout, &mlen, 4) && put(stdout, err.message, mlen) && put(stdout, &al, 8) &&
             put(stdout, after ? after : (uint8_t *)"", alen) && fflush(stdout) == 0;
        if (after)
            gate_free_buffer(eng, after, alen);
        gate_instance_free(in);
        if (!ok)
            return 2;
    }
    gate_imports_free(imp);
    gate_instance_free(si);
    gate_module_free(sm);
    gate_engine_free(eng);
    return 0;
}

static bool peer_start(const char *cmd)
{
    int to[2], from[2];
    if (pipe(to) || pipe(from))
        return false;
    pid_t pid = fork();
    if (pid < 0)
        return false;
    if (pid == 0) {
        dup2(to[0], 0);
        dup2(from[1], 1);
        close(to[0]), close(to[1]), close(from[0]), close(from[1]);
        char line[4096];
        snprintf(line, sizeof line, "exec %s --peer", cmd);
        execl("/bin/sh", "sh", "-c", line, (char *)NULL);
        _exit(127);
    }
    close(to[0]);
    close(from[1]);
    signal(SIGPIPE, SIG_IGN);
    peer_in = fdopen(to[1], "wb");
    peer_out = fdopen(from[0], "rb");
    return peer_in && peer_out;
}

/* Only modules whose imports all come from spectest can live in the peer. */
static bool peer_can_take(fstate *f, gate_instance *in)
{
    for (int i = 0; i < f->n; i++)
        if (f->insts[i] == in) {
            uint32_t n = gate_module_import_count(f->mods[i]);
            for (uint32_t k = 0; k < n; k++) {
                gate_extern_desc d;
                if (gate_module_import(f->mods[i], k, &d) != GATE_OK || strcmp(d.module, "spectest"))
                    return false;
            }
            return true;
        }
    return false;
}

/* Sends the stopped call to the peer; the instance it sends back replaces
   in.  Returns the call's status, or GATE_ERR_ARG when the peer failed. */
static gate_status peer_roundtrip(fstate *f, gate_instance **inp, const uint8_t *snap, size_t len,
                                  gate_val *res, gate_error *err)
{
    uint64_t l = len, al;
    uint32_t status, code, nres, mlen;
    err->status = GATE_OK;
    err->message[0] = 0;
    if (!put(peer_in, &l, 8) || !put(peer_in, snap, len) || fflush(peer_in) ||
        !get(peer_out, &status, 4) || !get(peer_out, &code, 4) || !get(peer_out, &nres, 4) ||
        nres > 64)
        goto broken;
    for (uint32_t i = 0; i < nres; i++) {
        uint32_t t;
        uint8_t b[16];
        if (!get(peer_out, &t, 4) || !get(peer_out, b, 16))
            goto broken;
        bits_val(t, b, &res[i]);
    }
    if (!get(peer_out, &mlen, 4) || mlen >= sizeof err->message ||
        !get(peer_out, err->message, mlen) || !get(peer_out, &al, 8))
        goto broken;
    err->message[mlen] = 0;
    err->status = (gate_status)status;
    uint8_t *after = al ? malloc(al) : NULL;
    if (al && (!after || !get(peer_out, after, al))) {
        free(after);
        goto broken;
    }
    if (after) {
        gate_error e2;
        gate_instance *fresh = gate_snapshot_restore(f->eng, after, al, f->imp, &e2);
        free(after);
        if (!fresh) {
            *err = e2;
            return GATE_ERR_SNAPSHOT;
        }
        replace_instance(f, *inp, fresh);
        *inp = fresh;
    }
    if (status == GATE_TRAPPED) {
        peer_trapped = *inp;
        peer_trap_code = (int)code;
    }
    stress_peer_trips++;
    return (gate_status)status;
broken:
    snprintf(err->message, sizeof err->message, "the --stress-peer process stopped answering");
    err->status = GATE_ERR_ARG;
    return GATE_ERR_ARG;
}

/*
 * Stress mode: a call stopped at a safe point.  The first stop of each
 * call goes through a snapshot: written to bytes, restored into a fresh
 * instance that replaces the old one, and resumed there (only for
 * instances nobody imports from: those are resumed in place).  Later
 * stops of the same call are resumed in place, which also goes through
 * the portable frames.  The final status is the call's.
 */
static gate_status stress_continue(fstate *f, gate_instance *in, gate_status st, gate_val *res,
                                   gate_error *err)
{
    int first = 1;
    while (st == GATE_SUSPENDED) {
        stress_stops++;
        if (first && !is_registered(f, in)) {
            uint8_t *snap;
            size_t len;
            gate_error e2;
            if (peer_in && peer_can_take(f, in) && gate_snapshot(in, &snap, &len, &e2) == GATE_OK) {
                st = peer_roundtrip(f, &in, snap, len, res, err);
                gate_free_buffer(f->eng, snap, len);
                return st;
            }
            gate_status ss = gate_snapshot(in, &snap, &len, &e2);
            if (ss != GATE_OK && ss != GATE_ERR_STATE) {
                /* a stopped program can be saved unless it holds what
                   cannot move (host references, another instance's
                   functions: resumed in place below); anything else is
                   a failure */
                *err = e2;
                return GATE_ERR_SNAPSHOT;
            }
            if (ss == GATE_OK) {
                gate_instance *fresh = gate_snapshot_restore(f->eng, snap, len, f->imp, &e2);
                gate_free_buffer(f->eng, snap, len);
                if (!fresh) {
                    *err = e2;
                    return GATE_ERR_SNAPSHOT;
                }
                replace_instance(f, in, fresh);
                in = fresh;
                stress_roundtrips++;
                first = 0;
                st = gate_resume(in, res, 64, err);
                continue;
            }
        }
        first = 0;
        stress_inplace++;
        st = gate_resume(in, res, 64, err);
    }
    return st;
}

/*
 * Runs an invoke or get action.  Returns the status; results in res.
 * *nocode is set when the target module could not be compiled.
 */
static gate_status run_action(fstate *f, const js *act, gate_val *res, size_t *nres,
                              gate_error *err, int *nocode)
{
    const char *type = js_str(act, "type");
    const char *field = js_str(act, "field");
    const char *mod = js_str(act, "module");
    gate_instance *in = named(f, mod);
    peer_trapped = NULL;
    *nocode = 0;
    err->status = GATE_OK;
    err->message[0] = 0;
    if (!in) {
        *nocode = !mod && f->cur_nocode;
        snprintf(err->message, sizeof err->message, "no module instance");
        err->status = GATE_ERR_ARG;
        return GATE_ERR_ARG;
    }
    if (!type || !field)
        return GATE_ERR_ARG;
    if (!strcmp(type, "get")) {
        *nres = 1;
        return gate_instance_global(in, field, &res[0]);
    }
    const js *args = js_get(act, "args");
    gate_val av[64];
    size_t na = 0;
    for (size_t i = 0; args && i < args->n && i < 64; i++)
        if (parse_val(&args->items[i], &av[na]))
            na++;
    *nres = 64;
    /* field may hold NUL bytes: the JSON reader decoded \u0000 in place */
    size_t flen = js_get(act, "field")->len;
    gate_status st = gate_call_n(in, field, flen, av, na, res, 64, err);
    return stress ? stress_continue(f, in, st, res, err) : st;
}

static int run_file(gate_engine *eng, const char *json_path, counts *c)
{
    size_t len;
    char *text = slurp(json_path, &len);
    if (!text) {
        printf("FAIL %s: cannot read\n", json_path);
        c->failed++;
        return 0;
    }
    char perr[128];
    js *root = js_parse(text, perr, sizeof perr);
    free(text);
    const js *cmds = js_get(root, "commands");
    if (!root || !cmds || cmds->kind != JS_ARR) {
        printf("FAIL %s: %s\n", json_path, root ? "no commands" : perr);
        js_free(root);
        c->failed++;
        return 0;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", json_path);
    char *slash = strrchr(dir, '/');
    if (slash)
        *slash = 0;
    else
        strcpy(dir, ".");
    const char *src = js_str(root, "source_filename");
    if (!src)
        src = json_path;

    fstate f;
    memset(&f, 0, sizeof f);
    f.eng = eng;
    f.imp = gate_imports_new(eng);
    gate_error err;
    gate_module *sm = gate_module_new(eng, spectest_wasm, sizeof spectest_wasm, &err);
    gate_instance *si = sm ? gate_instance_new(sm, NULL, NULL, &err) : NULL;
    /* a host without a backend: decode and validate everything, run nothing */
    int nohost = !si && sm && err.status == GATE_ERR_TARGET;
    if (!si && !nohost) {
        printf("FAIL %s: spectest module: %s\n", src, err.message);
        c->failed++;
        gate_module_free(sm);
        fstate_free(&f);
        js_free(root);
        return 0;
    }
    if (si)
        gate_imports_instance(f.imp, "spectest", si, &err);

    for (size_t i = 0; i < cmds->n; i++) {
        const js *cmd = &cmds->items[i];
        const char *type = js_str(cmd, "type");
        const char *file = js_str(cmd, "filename");
        const char *mtype = js_str(cmd, "module_type");
        const char *expect = js_str(cmd, "text");
        const js *ln = js_get(cmd, "line");
        long line = ln && ln->kind == JS_NUM ? (long)ln->num : 0;
        if (!type) {
            printf("FAIL %s: command %zu has no type\n", src, i);
            c->failed++;
            continue;
        }
        if (nohost && strcmp(type, "assert_invalid") && strcmp(type, "assert_malformed")) {
            if (!strcmp(type, "module") && file && !(mtype && strcmp(mtype, "binary"))) {
                if (check_module(eng, dir, file, &err) == GATE_OK) {
                    c->passed++;
                } else {
                    c->failed++;
                    fail_line(src, line, type, "module rejected", &err);
                }
            } else {
                int textual = mtype && strcmp(mtype, "binary");
                skip(c, textual || (!strcmp(type, "module") && !file) ? SKIP_TEXT : SKIP_NOHOST);
            }
            continue;
        }
        if (!strcmp(type, "module")) {
            if (!file || (mtype && strcmp(mtype, "binary"))) {
                skip(c, SKIP_TEXT);
                continue;
            }
            gate_status st = instantiate(&f, dir, file, js_str(cmd, "name"), &err);
            if (st == GATE_OK) {
                c->passed++;
            } else if (f.cur_nocode) {
                skip(c, SKIP_NOCODE);
            } else {
                c->failed++;
                fail_line(src, line, type, "module rejected", &err);
            }
        } else if (!strcmp(type, "assert_invalid") || !strcmp(type, "assert_malformed")) {
            if (!file || (mtype && strcmp(mtype, "binary"))) {
                skip(c, SKIP_TEXT);
                continue;
            }
            gate_status st = check_module(eng, dir, file, &err);
            if (st != GATE_OK && st != GATE_ERR_IO) {
                c->passed++;
                if (verbose) {
                    char msg[512];
                    printf("ok   %s:%ld: %s \"%s\": %s\n", src, line, type,
                           expect ? expect : "", gate_error_format(&err, msg, sizeof msg));
                }
            } else {
                c->failed++;
                char what[256];
                snprintf(what, sizeof what, "module accepted, expected \"%s\"",
                         expect ? expect : "?");
                fail_line(src, line, type, what, st == GATE_ERR_IO ? &err : NULL);
            }
        } else if (!strcmp(type, "assert_unlinkable") ||
                   !strcmp(type, "assert_uninstantiable")) {
            gate_instance *keep = f.cur;
            int keep_nocode = f.cur_nocode;
            gate_status st = instantiate(&f, dir, file ? file : "", NULL, &err);
            if (st == GATE_OK) {
                c->failed++;
                fail_line(src, line, type, "module instantiated", NULL);
            } else if (f.cur_nocode) {
                skip(c, SKIP_NOCODE);
            } else if (st == GATE_ERR_MALFORMED || st == GATE_ERR_INVALID) {
                c->failed++;
                fail_line(src, line, type, "module rejected before linking", &err);
            } else {
                c->passed++;
            }
            /* a failed instantiation does not change the current module */
            f.cur = keep;
            f.cur_nocode = keep_nocode;
        } else if (!strcmp(type, "register")) {
            gate_instance *in = named(&f, js_str(cmd, "name"));
            const char *as = js_str(cmd, "as");
            if (in && as) {
                gate_imports_instance(f.imp, as, in, &err);
                if (f.nregistered < MAX_INST)
                    f.registered[f.nregistered++] = in;
                c->passed++;
            } else if (!js_str(cmd, "name") && f.cur_nocode) {
                skip(c, SKIP_NOCODE);
            } else {
                c->failed++;
                fail_line(src, line, type, "no instance to register", NULL);
            }
        } else {
            /* action, assert_return, assert_trap, assert_exhaustion */
            const js *act = js_get(cmd, "action");
            gate_val res[64];
            size_t nres = 0;
            int nocode = 0;
            gate_status st = act ? run_action(&f, act, res, &nres, &err, &nocode) : GATE_ERR_ARG;
            if (nocode) {
                skip(c, SKIP_NOCODE);
                continue;
            }
            int ok;
            char what[600] = "";
            if (!strcmp(type, "assert_return")) {
                const js *exp = js_get(cmd, "expected");
                ok = st == GATE_OK;
                for (size_t k = 0; ok && exp && k < exp->n; k++)
                    if (!match(&exp->items[k], &res[k])) {
                        char g[64];
                        fmt_val(g, sizeof g, &res[k]);
                        snprintf(what, sizeof what, "result %zu: got %s, want %s:%s", k, g,
                                 js_str(&exp->items[k], "type"), js_str(&exp->items[k], "value"));
                        ok = 0;
                    }
                if (st != GATE_OK)
                    snprintf(what, sizeof what, "call failed");
            } else if (!strcmp(type, "assert_trap") || !strcmp(type, "assert_exhaustion")) {
                ok = st == GATE_TRAPPED;
                if (ok && !strcmp(type, "assert_exhaustion") && f.cur) {
                    gate_trap_info ti;
                    gate_instance *ti_in = named(&f, js_str(act, "module"));
                    gate_trap_info_get(ti_in, &ti);
                    if (peer_trapped && ti_in == peer_trapped)
                        ti.code = peer_trap_code;   /* it trapped in the peer */
                    ok = ti.code == GATE_TRAP_STACK_EXHAUSTED;
                }
                snprintf(what, sizeof what, "expected trap \"%s\"", expect ? expect : "");
            } else {
                ok = st == GATE_OK;
                snprintf(what, sizeof what, "action failed");
            }
            if (ok) {
                c->passed++;
            } else {
                c->failed++;
                const char *field = js_str(act, "field");
                char w2[700];
                snprintf(w2, sizeof w2, "%s %s", field ? field : "?", what);
                fail_line(src, line, type, w2, st != GATE_OK ? &err : NULL);
            }
        }
    }
    fstate_free(&f);
    gate_instance_free(si);
    gate_module_free(sm);
    js_free(root);
    return 1;
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

int main(int argc, char **argv)
{
    const char *results = NULL;
    const char *label = "spec";
    counts total = { 0 };
    FILE *tsv = NULL;
    gate_error err;
    gate_config cfg;
    gate_config_init(&cfg);
    int i = 1;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "-v"))
            verbose = 1;
        else if (!strcmp(argv[i], "--explicit-bounds"))
            cfg.bounds = GATE_BOUNDS_EXPLICIT;
        else if (!strcmp(argv[i], "--baseline-cpu"))
            cfg.cpu_features = 0;
        else if (!strcmp(argv[i], "--deterministic"))
            cfg.deterministic = 1;
        else if (!strcmp(argv[i], "--peer"))
            return peer_serve();
        else if (!strcmp(argv[i], "--stress-peer") && i + 1 < argc) {
            if (!peer_start(argv[++i])) {
                fprintf(stderr, "spec-runner: cannot start the peer %s\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--fuel"))
            cfg.fuel = 1;       /* metering compiled in, instances unmetered */
        else if (!strcmp(argv[i], "--stress") && i + 1 < argc)
            stress = (uint32_t)atoi(argv[++i]);
        else if (!strcmp(argv[i], "--label") && i + 1 < argc)
            label = argv[++i];
        else if (!strcmp(argv[i], "--results") && i + 1 < argc)
            results = argv[++i];
        else if (!strcmp(argv[i], "--failed-conversion") && i + 1 < argc)
            i++;    /* handled below, after the results file is open */
        else {
            fprintf(stderr, "spec-runner: unknown option %s\n", argv[i]);
            return 2;
        }
    }
    cfg.stress_stop_every = stress;
    gate_engine *eng = gate_engine_new(&cfg, &err);
    if (!eng) {
        fprintf(stderr, "spec-runner: cannot create engine\n");
        return 2;
    }
    if (results && !(tsv = fopen(results, "w"))) {
        fprintf(stderr, "spec-runner: cannot write %s\n", results);
        return 2;
    }
    if (tsv)
        fprintf(tsv, "file\tpassed\tfailed\tskipped\n");
    /* wast files that wast2json could not convert count as one failure each */
    for (int k = 1; k < argc; k++) {
        if (!strcmp(argv[k], "--failed-conversion") && k + 1 < argc) {
            printf("FAIL %s: wast2json conversion failed\n", argv[k + 1]);
            printf("%-40s 0 passed, 1 failed, 0 skipped\n", argv[k + 1]);
            if (tsv)
                fprintf(tsv, "%s\t0\t1\t0\n", argv[k + 1]);
            total.failed++;
            k++;
        } else if (!strcmp(argv[k], "--results") || !strcmp(argv[k], "--label")) {
            k++;
        }
    }
    for (; i < argc; i++) {
        counts c = { 0 };
        run_file(eng, argv[i], &c);
        char name[256];
        snprintf(name, sizeof name, "%s", base_name(argv[i]));
        char *dot = strstr(name, ".json");
        if (dot)
            strcpy(dot, ".wast");
        printf("%-40s %ld passed, %ld failed, %ld skipped\n", name, c.passed, c.failed,
               c.skipped);
        if (tsv)
            fprintf(tsv, "%s\t%ld\t%ld\t%ld\n", name, c.passed, c.failed, c.skipped);
        total.passed += c.passed;
        total.failed += c.failed;
        total.skipped += c.skipped;
        for (int k = 0; k < SKIP_NREASONS; k++)
            total.skip_by[k] += c.skip_by[k];
    }
    if (tsv)
        fclose(tsv);
    for (int k = 0; k < SKIP_NREASONS; k++)
        printf("skipped (%s): %ld\n", skip_reason[k], total.skip_by[k]);
    if (stress)
        printf("stress (stop at every %u%s stop check): %ld stops, %ld snapshot round trips "
               "into a fresh instance, %ld resumed in place\n", stress,
               stress == 1 ? "st" : stress == 2 ? "nd" : stress == 3 ? "rd" : "th",
               stress_stops, stress_roundtrips, stress_inplace);
    if (peer_in) {
        printf("stress peer: %ld calls stopped here, resumed and finished by the peer, "
               "the instance brought back by snapshot\n", stress_peer_trips);
        fclose(peer_in);
        fclose(peer_out);
        wait(NULL);
    }
    printf("%s: %ld passed, %ld failed, %ld skipped\n", label, total.passed, total.failed,
           total.skipped);
    gate_engine_free(eng);
    return total.failed ? 1 : 0;
}
