/*
 * fuzz_snapshot.c - libFuzzer target for snapshot restore: hostile
 * snapshots, edited where the checks are.
 *
 * Inputs are snapshots (the seeds: stopped programs with many local
 * groups, deep stacks, pending host calls, every value type and WASI
 * state; test/fuzz/run.sh makes them).  The custom mutator knows the
 * layout: it mutates one section's payload at a time, most often the gate.*
 * sections and the frame headers of gate.stack, keeps the section sizes
 * right and recomputes the checksum, so mutations reach the checks behind
 * it instead of stopping at a checksum mismatch.  Each input is then
 *   read for its recorded limits and modes (gate_snapshot_read_info),
 *   read for its WASI state with no grants (nothing may be opened),
 *   restored with every import bound to a host function that returns
 *   zeros and sometimes asks to stop, and, when it holds a stopped call,
 *   resumed with a small fuel budget; a program stopped again is
 *   snapshotted, and that snapshot must restore: a snapshot gate wrote is
 *   always resumable.
 * A refusal must say what (a message).  Any crash, sanitizer report, leak
 * or hang is a bug.  See docs/fuzzing.md.
 */
#include <stdint.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <xxhash.h>

#include "../../runtime/runtime.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed);
size_t LLVMFuzzerMutate(uint8_t *data, size_t size, size_t max);

static gate_engine *eng;
static unsigned calls;

/* every import: zeros back; every 5th call asks to stop at its call */
static gate_status host_any(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    (void)args;
    (void)res;
    calls++;
    if (calls % 5 == 0)
        gate_call_request_stop(ctx, calls % 10 ? GATE_HOST_COMPLETE : GATE_HOST_RESTART);
    return GATE_OK;
}

static gate_imports *imports(void)
{
    static const char *const mods[] = { "env", "wasi_snapshot_preview1", "host", "spectest" };
    gate_imports *imp = gate_imports_new(eng);
    gate_error e;
    for (size_t i = 0; imp && i < sizeof mods / sizeof mods[0]; i++)
        if (rt_imports_any(imp, mods[i], host_any, NULL, NULL, NULL, &e) != GATE_OK)
            __builtin_trap();
    return imp;
}

static void refused(const gate_error *e)
{
    if (e->status == GATE_OK || !e->message[0])
        __builtin_trap();               /* every refusal says what */
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!eng) {
        gate_config cfg;
        gate_config_init(&cfg);
        cfg.fuel = 1;
        gate_error e;
        eng = gate_engine_new(&cfg, &e);
        if (!eng)
            __builtin_trap();
    }
    gate_error e;
    gate_snapshot_info info;
    if (gate_snapshot_read_info(data, size, &info, &e) != GATE_OK)
        refused(&e);
    /* WASI state with no grants: parsed, nothing opened */
    gate_imports *w = gate_imports_new(eng);
    gate_status ws = gate_imports_wasi_from_snapshot(w, data, size, NULL, &e);
    if (ws != GATE_OK && ws != GATE_ERR_NOT_FOUND)
        refused(&e);
    gate_imports_free(w);
    gate_imports *imp = imports();
    gate_instance *in = gate_snapshot_restore(eng, data, size, imp, &e);
    if (!in) {
        refused(&e);
        gate_imports_free(imp);
        return 0;
    }
    if (gate_is_suspended(in)) {
        gate_val res[64];
        gate_set_fuel(in, 3000);
        gate_status st = gate_resume(in, res, 64, &e);
        if (st == GATE_SUSPENDED) {
            uint8_t *snap;
            size_t n;
            if (gate_snapshot(in, &snap, &n, &e) == GATE_OK) {
                gate_imports *imp2 = imports();
                gate_instance *again = gate_snapshot_restore(eng, snap, n, imp2, &e);
                if (!again)
                    __builtin_trap();   /* gate wrote it: it must restore */
                gate_instance_free(again);
                gate_imports_free(imp2);
                gate_free_buffer(eng, snap, n);
            }
        }
    }
    gate_instance_free(in);
    gate_imports_free(imp);
    return 0;
}

/* ---- the structure-aware mutator --------------------------------------- */

typedef struct sec {
    size_t start, payload, end;         /* header start, payload start, end */
    int custom_gate;                    /* a gate.* custom section */
    int stack;                          /* gate.stack */
} sec;

static uint32_t leb(const uint8_t *b, size_t n, size_t *pos, int *bad)
{
    uint32_t v = 0;
    for (int s = 0; s < 35; s += 7) {
        if (*pos >= n) {
            *bad = 1;
            return 0;
        }
        uint8_t c = b[(*pos)++];
        v |= (uint32_t)(c & 0x7f) << s;
        if (!(c & 0x80))
            return v;
    }
    *bad = 1;
    return v;
}

static size_t put_leb(uint8_t *p, uint32_t v)
{
    size_t n = 0;
    do {
        uint8_t c = v & 0x7f;
        v >>= 7;
        p[n++] = (uint8_t)(c | (v ? 0x80 : 0));
    } while (v);
    return n;
}

static size_t sections(const uint8_t *b, size_t n, sec *out, size_t max)
{
    size_t k = 0, pos = 8;
    int bad = 0;
    while (pos < n && k < max) {
        sec s = { .start = pos };
        uint8_t id = b[pos++];
        uint32_t len = leb(b, n, &pos, &bad);
        if (bad || len > n - pos)
            break;
        s.payload = pos;
        s.end = pos + len;
        if (id == 0) {
            size_t q = pos;
            uint32_t nl = leb(b, n, &q, &bad);
            if (!bad && q <= s.end && nl <= s.end - q && nl >= 5 && !memcmp(b + q, "gate.", 5)) {
                s.custom_gate = 1;
                s.stack = nl == 10 && !memcmp(b + q, "gate.stack", 10);
                s.payload = q + nl;     /* mutate after the name */
            }
        }
        out[k++] = s;
        pos = s.end;
    }
    return k;
}

/* The checksum section gate writes last: id 0, size 22, "gate.checksum", u64. */
static void fix_checksum(uint8_t *b, size_t n)
{
    if (n >= 8 + 24 && b[n - 24] == 0 && b[n - 23] == 22 && !memcmp(b + n - 21, "gate.checksum", 13)) {
        uint64_t sum = XXH3_64bits(b, n - 24);
        memcpy(b + n - 8, &sum, 8);
    }
}

size_t LLVMFuzzerCustomMutator(uint8_t *data, size_t size, size_t max, unsigned int seed)
{
    sec s[256];
    size_t ns = size >= 8 ? sections(data, size, s, 256) : 0;
    srand(seed);
    if (ns == 0 || rand() % 16 == 0)
        return LLVMFuzzerMutate(data, size, max);
    /* pick a section: gate.* ones (gate.stack above all) most of the time */
    size_t pick = (size_t)rand() % ns;
    for (int tries = 0; tries < 8 && rand() % 4 && !s[pick].custom_gate; tries++)
        pick = (size_t)rand() % ns;
    for (size_t i = 0; i < ns && rand() % 2; i++)
        if (s[i].stack)
            pick = i;
    sec *c = &s[pick];
    if (c->end == size && c->custom_gate && size - c->payload == 8)
        return LLVMFuzzerMutate(data, size, max);       /* the checksum itself */
    size_t plen = c->end - c->payload, room = max > size ? max - size : 0;
    uint8_t *buf = malloc(plen + room + 16);
    if (!buf)
        return size;
    memcpy(buf, data + c->payload, plen);
    size_t nlen;
    if (c->stack && plen >= 16 && rand() % 2) {
        /* a frame header field: func, offset or slot count of some frame
           (frames start at 4; slots are 9 bytes), or the pending kind */
        size_t at = 4 + (size_t)rand() % (plen - 4);
        at = at > plen - 4 ? plen - 4 : at;
        static const uint32_t vals[] = { 0, 1, 2, 3, 16, 17, 0xffffffffu, 0x7fffffff };
        uint32_t v = rand() % 3 ? vals[rand() % 8] : (uint32_t)rand();
        memcpy(buf + at, &v, 4);
        nlen = plen;
    } else {
        nlen = LLVMFuzzerMutate(buf, plen, plen + room);
    }
    /* rebuild: header with the new size (the name stays), payload, rest */
    uint8_t hdr[16];
    size_t pos = c->start + 1;
    int bad = 0;
    leb(data, size, &pos, &bad);
    size_t name = c->payload - pos;                  /* name bytes incl. its length */
    size_t hn = 0;
    hdr[hn++] = data[c->start];
    hn += put_leb(hdr + hn, (uint32_t)(name + nlen));
    size_t out = c->start + hn + name + nlen + (size - c->end);
    if (bad || out > max) {
        free(buf);
        return size;
    }
    uint8_t *tmp = malloc(out);
    if (!tmp) {
        free(buf);
        return size;
    }
    memcpy(tmp, data, c->start);
    memcpy(tmp + c->start, hdr, hn);
    memcpy(tmp + c->start + hn, data + pos, name);
    memcpy(tmp + c->start + hn + name, buf, nlen);
    memcpy(tmp + c->start + hn + name + nlen, data + c->end, size - c->end);
    memcpy(data, tmp, out);
    free(tmp);
    free(buf);
    fix_checksum(data, out);
    return out;
}
