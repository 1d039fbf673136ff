/*
 * object.c - ahead-of-time objects: a compiled module saved to bytes and
 * loaded back without compiling.  Layout (little-endian, docs/aot-format.md):
 *
 *   +0   "GATEOBJ\0"
 *   +8   u32 format version (3)        +12  u32 target (1 x86_64, 2 arm64)
 *   +16  u32 compiler version          +20  u32 code options (GC_OBJ_*)
 *   +24  u64 module hash (xxh64)       +32  u64 module size
 *   +40  u64 code size                 +48  u32 functions  +52 u32 safe points
 *   +56  u32 trap sites                +60  u32 seal length (0 or 32)
 *   +64  u64 build: the hash of the compiler's sources (GATE_BUILD_ID)
 *   +72  module bytes | function offsets (u32 each) | frame sizes (u32 each) | code |
 *        safe points (5 x u32 each: native, func, wasm, slots, kind) |
 *        trap sites (4 x u32 each)
 *        u64 xxh64 of everything before it
 *   [32-byte HMAC-SHA-256 of everything before it, under the engine's key]
 *
 * The checksum catches truncation and corruption, not malice.  An object
 * holds machine code that will run: an engine with an object key
 * (gate_config.object_key) seals what it writes and loads only objects
 * whose seal verifies, so whoever can write the file but does not hold
 * the key (a guest granted the directory) cannot make one that runs.
 * Without a key the embedder vouches for every object it loads.
 */
#include <string.h>
#include <sys/mman.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <xxhash.h>

#include "runtime.h"

#define OBJ_MAGIC "GATEOBJ"
#define OBJ_VERSION 3u
#define OBJ_SEAL 32u
#define OBJ_HEADER 72u
#ifndef GATE_BUILD_ID
#define GATE_BUILD_ID 0ull      /* a build outside the Makefile: no identity */
#endif
#define COMPILER_VERSION ((GATE_VERSION_MAJOR << 16) | (GATE_VERSION_MINOR << 8) | \
                          GATE_VERSION_PATCH)
enum { GC_OBJ_EXPLICIT = 1, GC_OBJ_LZCNT = 2, GC_OBJ_POPCNT = 4, GC_OBJ_BMI1 = 8,
       GC_OBJ_FUEL = 16, GC_OBJ_DETERMINISTIC = 32, GC_OBJ_AVX = 64, GC_OBJ_SSE42 = 128 };

/* The GC_CPU_* bits of an object's options word, and back. */
static uint32_t cpu_to_opts(int cpu)
{
    return (uint32_t)(cpu & 7) << 1 | (cpu & GC_CPU_AVX ? GC_OBJ_AVX : 0) |
           (cpu & GC_CPU_SSE42 ? GC_OBJ_SSE42 : 0);
}

static int opts_to_cpu(uint32_t opts)
{
    return (int)((opts >> 1) & 7) | (opts & GC_OBJ_AVX ? GC_CPU_AVX : 0) |
           (opts & GC_OBJ_SSE42 ? GC_CPU_SSE42 : 0);
}

static void put32(uint8_t *p, uint32_t v) { memcpy(p, &v, 4); }
static void put64(uint8_t *p, uint64_t v) { memcpy(p, &v, 8); }
static uint32_t get32(const uint8_t *p) { uint32_t v; memcpy(&v, p, 4); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v; memcpy(&v, p, 8); return v; }

/* HMAC-SHA-256 of b[0..n) under the engine's object key. */
static bool seal_of(const gate_engine *eng, const uint8_t *b, size_t n, uint8_t out[OBJ_SEAL])
{
    unsigned int len = 0;
    return HMAC(EVP_sha256(), eng->cfg.object_key, (int)eng->cfg.object_key_len, b, n, out,
                &len) && len == OBJ_SEAL;
}

/* The options word of an object whose code relies on the GC_CPU_* bits cpu. */
static uint32_t code_options(const gate_module *mod, int cpu)
{
    uint32_t o = 0;
    if (mod->eng->cfg.bounds == GATE_BOUNDS_EXPLICIT)
        o |= GC_OBJ_EXPLICIT;
    o |= cpu_to_opts(cpu);
    if (mod->eng->cfg.fuel)
        o |= GC_OBJ_FUEL;
    if (mod->eng->cfg.deterministic)
        o |= GC_OBJ_DETERMINISTIC;
    return o;
}

gate_status gate_module_write_object(const gate_module *mod, gate_target t, uint8_t **out,
                                     size_t *out_len, gate_error *err)
{
    if (err)
        err->status = GATE_OK;
    if (t == GATE_TARGET_HOST)
        t = RT_HOST_TARGET;
    if (t != GATE_TARGET_X86_64 && t != GATE_TARGET_ARM64) {
        gx_fail(err, GATE_ERR_TARGET, UINT64_MAX, GATE_NO_FUNC, "unknown target");
        return GATE_ERR_TARGET;
    }
    /* the host's code is the module's own; another target's is compiled
       here with that target's backend (cross compilation) */
    const gate_engine *eng = mod->eng;
    gc_code cross;
    const gc_code *c = &mod->code;
    if (t != RT_HOST_TARGET) {
        gate_error cerr = { .status = GATE_OK, .offset = UINT64_MAX, .func_index = GATE_NO_FUNC };
        gc_options opt = { .explicit_bounds = eng->cfg.bounds == GATE_BOUNDS_EXPLICIT,
                           .fuel = eng->cfg.fuel != 0,
                           .no_loop_checks = eng->cfg.safepoint_checks == 0,
                           .deterministic = eng->cfg.deterministic != 0,
                           .cpu_features = 0 };
        const gc_backend *be = t == GATE_TARGET_ARM64 ? &gc_backend_arm64 : &gc_backend_x86_64;
        if (!gc_compile(&mod->info, be, &eng->alloc, &eng->lim, &opt, &cross, &cerr)) {
            if (err)
                *err = cerr;
            return cerr.status;
        }
        c = &cross;
    } else if (!mod->exec) {
        if (err)
            *err = mod->compile_err;
        return mod->compile_err.status ? mod->compile_err.status : GATE_ERR_NOT_IMPLEMENTED;
    }
    size_t seal = eng->cfg.object_key ? OBJ_SEAL : 0;
    size_t size = OBJ_HEADER + mod->size + 8 * (size_t)c->nfuncs + c->size +
                  20 * (size_t)c->nsp + 16 * (size_t)c->ntraps + 8 + seal;
    uint8_t *b = gx_malloc(&mod->eng->alloc, size);
    if (!b) {
        if (c == &cross)
            gc_code_free(&cross);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return GATE_ERR_NOMEM;
    }
    memset(b, 0, OBJ_HEADER);
    memcpy(b, OBJ_MAGIC, 8);
    put32(b + 8, OBJ_VERSION);
    put32(b + 12, (uint32_t)t);
    put32(b + 16, COMPILER_VERSION);
    /* cross-compiled code relies on what its backend used (the baseline) */
    put32(b + 20, code_options(mod, c == &cross ? c->cpu_features : mod->cpu_used));
    put64(b + 24, rt_module_hash((gate_module *)mod));
    put64(b + 32, mod->size);
    put64(b + 40, c->size);
    put32(b + 48, c->nfuncs);
    put32(b + 52, c->nsp);
    put32(b + 56, c->ntraps);
    put32(b + 60, (uint32_t)seal);
    put64(b + 64, GATE_BUILD_ID);
    uint8_t *p = b + OBJ_HEADER;
    memcpy(p, mod->bytes, mod->size);
    p += mod->size;
    for (uint32_t i = 0; i < c->nfuncs; i++, p += 4)
        put32(p, c->func_off[i]);
    for (uint32_t i = 0; i < c->nfuncs; i++, p += 4)
        put32(p, c->func_frame[i]);
    memcpy(p, c->code, c->size);
    p += c->size;
    for (uint32_t i = 0; i < c->nsp; i++, p += 20) {
        put32(p, c->sp[i].native);
        put32(p + 4, c->sp[i].func);
        put32(p + 8, c->sp[i].wasm);
        put32(p + 12, c->sp[i].nslots);
        put32(p + 16, c->sp[i].kind);
    }
    for (uint32_t i = 0; i < c->ntraps; i++, p += 16) {
        put32(p, c->traps[i].native);
        put32(p + 4, c->traps[i].func);
        put32(p + 8, c->traps[i].wasm);
        put32(p + 12, c->traps[i].code);
    }
    put64(p, XXH3_64bits(b, (size_t)(p - b)));
    p += 8;
    if (seal && !seal_of(eng, b, (size_t)(p - b), p)) {
        if (c == &cross)
            gc_code_free(&cross);
        gx_free(&mod->eng->alloc, b, size);
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "cannot compute the object's seal");
        return GATE_ERR_NOMEM;
    }
    if (c == &cross)
        gc_code_free(&cross);
    *out = b;
    *out_len = size;
    return GATE_OK;
}

static gate_module *fail(gate_module *mod, gate_error *err, gate_status st, uint64_t off,
                         const char *what)
{
    gx_fail(err, st, off, GATE_NO_FUNC, "%s", what);
    gate_module_free(mod);
    return NULL;
}

gate_module *gate_module_load_object(gate_engine *eng, const uint8_t *b, size_t len,
                                     gate_error *err)
{
    gate_error local;
    if (!err)
        err = &local;
    err->status = GATE_OK;
    if (len < OBJ_HEADER + 8 || memcmp(b, OBJ_MAGIC, 8))
        return fail(NULL, err, GATE_ERR_OBJECT, 0, "not a libgate object (bad magic or too short)");
    if (get32(b + 8) != OBJ_VERSION)
        return fail(NULL, err, GATE_ERR_OBJECT, 8, "unsupported object format version");
    /* the seal first: with a key, nothing of an unsealed or forged object
       is used (not even its sizes) */
    uint32_t seal = get32(b + 60);
    if ((seal != 0 && seal != OBJ_SEAL) || len < OBJ_HEADER + 8 + seal)
        return fail(NULL, err, GATE_ERR_OBJECT, 60, "bad seal length");
    if (eng->cfg.object_key) {
        uint8_t want[OBJ_SEAL];
        if (!seal)
            return fail(NULL, err, GATE_ERR_OBJECT, 60,
                        "object is not sealed, and this engine loads only sealed objects");
        if (!seal_of(eng, b, len - seal, want))
            return fail(NULL, err, GATE_ERR_NOMEM, UINT64_MAX, "cannot compute the object's seal");
        if (CRYPTO_memcmp(want, b + len - seal, OBJ_SEAL))
            return fail(NULL, err, GATE_ERR_OBJECT, len - seal,
                        "seal does not verify: the object was not made with this key, "
                        "or was changed since");
    }
    len -= seal;
    if (XXH3_64bits(b, len - 8) != get64(b + len - 8))
        return fail(NULL, err, GATE_ERR_OBJECT, len - 8,
                    "checksum mismatch: the object is truncated or corrupted");
    if (get32(b + 12) != RT_HOST_TARGET)
        return fail(NULL, err, GATE_ERR_TARGET, 12, "object is for another target");
    if (get32(b + 16) != COMPILER_VERSION)
        return fail(NULL, err, GATE_ERR_OBJECT, 16, "object is from another compiler version");
    if (get64(b + 64) != GATE_BUILD_ID)
        return fail(NULL, err, GATE_ERR_OBJECT, 64, "object is from another build of the compiler");
    uint32_t opts = get32(b + 20);
    if (((opts & GC_OBJ_EXPLICIT) != 0) != (eng->cfg.bounds == GATE_BOUNDS_EXPLICIT))
        return fail(NULL, err, GATE_ERR_OBJECT, 20,
                    "object was compiled for the other bounds-check mode");
    if (((opts & GC_OBJ_FUEL) != 0) != (eng->cfg.fuel != 0))
        return fail(NULL, err, GATE_ERR_OBJECT, 20,
                    "object was compiled for the other fuel mode");
    if (((opts & GC_OBJ_DETERMINISTIC) != 0) != (eng->cfg.deterministic != 0))
        return fail(NULL, err, GATE_ERR_OBJECT, 20,
                    "object was compiled for the other NaN mode (--deterministic)");
    if (opts_to_cpu(opts) & ~gc_x86_host_features())
        return fail(NULL, err, GATE_ERR_TARGET, 20,
                    "object uses CPU features (LZCNT/POPCNT/BMI1/AVX/SSE4.2) this CPU lacks");
    uint64_t msize = get64(b + 32), csize = get64(b + 40);
    uint32_t nf = get32(b + 48), nsp = get32(b + 52), ntr = get32(b + 56);
    uint64_t need = (uint64_t)OBJ_HEADER + msize + 8ull * nf + csize + 20ull * nsp +
                    16ull * ntr + 8;
    if (msize > len || csize > len || need != len)
        return fail(NULL, err, GATE_ERR_OBJECT, 32, "object section sizes do not add up");
    const uint8_t *mb = b + OBJ_HEADER;
    if (XXH3_64bits(mb, (size_t)msize) != get64(b + 24))
        return fail(NULL, err, GATE_ERR_OBJECT, 24, "module hash does not match the module");

    /* the module: decoded (index spaces, types, segments), not compiled */
    gate_module *mod = gx_malloc(&eng->alloc, sizeof *mod);
    uint8_t *copy = gx_malloc(&eng->alloc, (size_t)msize);
    if (!mod || !copy) {
        gx_free(&eng->alloc, mod, sizeof *mod);
        gx_free(&eng->alloc, copy, (size_t)msize);
        return fail(NULL, err, GATE_ERR_NOMEM, UINT64_MAX, "out of memory");
    }
    memset(mod, 0, sizeof *mod);
    memcpy(copy, mb, (size_t)msize);
    mod->eng = eng;
    mod->refs = 1;
    mod->bytes = copy;
    mod->size = (size_t)msize;
    mod->hash = get64(b + 24);
    mod->has_hash = true;
    if (!gd_decode(&mod->info, &eng->alloc, copy, (size_t)msize, &eng->lim, err)) {
        gate_module_free(mod);
        return NULL;
    }
    const gd_module *m = &mod->info;
    if (nf != m->nfuncs - m->nfunc_imports)
        return fail(mod, err, GATE_ERR_OBJECT, 48, "function count does not match the module");
    mod->sigids = gx_malloc(&eng->alloc, ((size_t)m->ntypes + 1) * 4);
    if (!mod->sigids)
        return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "out of memory");
    for (uint32_t i = 0; i < m->ntypes; i++)
        if (!(mod->sigids[i] = rt_sig_id(eng, &m->types[i])))
            return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "out of memory");

    /* code and maps, every offset checked against the code size */
    gc_code *c = &mod->code;
    c->alloc = eng->alloc;
    c->nfuncs = nf;
    c->func_off = gx_malloc(&eng->alloc, (size_t)nf * 4 + 4);
    c->func_frame = gx_malloc(&eng->alloc, (size_t)nf * 4 + 4);
    c->sp = gx_malloc(&eng->alloc, (size_t)nsp * sizeof *c->sp + 1);
    c->traps = gx_malloc(&eng->alloc, (size_t)ntr * sizeof *c->traps + 1);
    c->capsp = nsp;
    c->captraps = ntr;
    if (!c->func_off || !c->func_frame || !c->sp || !c->traps)
        return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "out of memory");
    const uint8_t *p = mb + msize;
    for (uint32_t i = 0; i < nf; i++, p += 4) {
        c->func_off[i] = get32(p);
        if (c->func_off[i] >= csize || (i && c->func_off[i] <= c->func_off[i - 1]))
            return fail(mod, err, GATE_ERR_OBJECT, (uint64_t)(p - b), "bad function offset");
    }
    for (uint32_t i = 0; i < nf; i++, p += 4) {
        c->func_frame[i] = get32(p);
        if (c->func_frame[i] < 16 || c->func_frame[i] > 0x7fff0000u || (c->func_frame[i] & 15))
            return fail(mod, err, GATE_ERR_OBJECT, (uint64_t)(p - b), "bad frame size");
    }
    const uint8_t *code = p;
    p += csize;
    c->nsp = nsp;
    for (uint32_t i = 0; i < nsp; i++, p += 20) {
        c->sp[i] = (gc_safepoint){ get32(p), get32(p + 4), get32(p + 8), get32(p + 12),
                                   get32(p + 16) };
        if (c->sp[i].native > csize || c->sp[i].func >= m->nfuncs ||
            c->sp[i].kind >= GC_SP_NKINDS ||
            (i && c->sp[i].native < c->sp[i - 1].native))
            return fail(mod, err, GATE_ERR_OBJECT, (uint64_t)(p - b), "bad safe point record");
    }
    c->ntraps = ntr;
    for (uint32_t i = 0; i < ntr; i++, p += 16) {
        c->traps[i] = (gc_trapsite){ get32(p), get32(p + 4), get32(p + 8), get32(p + 12) };
        if (c->traps[i].native >= csize || c->traps[i].func >= m->nfuncs ||
            c->traps[i].code > GATE_TRAP_HOST || (i && c->traps[i].native <= c->traps[i - 1].native))
            return fail(mod, err, GATE_ERR_OBJECT, (uint64_t)(p - b), "bad trap site record");
    }
    size_t sz = ((size_t)csize + 4095) & ~(size_t)4095;
    if (sz == 0)
        sz = 4096;
    void *x = mmap(NULL, sz, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (x == MAP_FAILED)
        return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "cannot map code");
    memcpy(x, code, (size_t)csize);
    __builtin___clear_cache((char *)x, (char *)x + sz);
    if (mprotect(x, sz, PROT_READ | PROT_EXEC)) {
        munmap(x, sz);
        return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "cannot protect code");
    }
    /* the code buffer itself is only needed for objdump and writing back */
    c->code = gx_malloc(&eng->alloc, (size_t)csize + 1);
    if (!c->code) {
        munmap(x, sz);
        return fail(mod, err, GATE_ERR_NOMEM, UINT64_MAX, "out of memory");
    }
    memcpy(c->code, code, (size_t)csize);
    c->size = (size_t)csize;
    c->cap = (size_t)csize + 1;
    mod->exec = x;
    mod->exec_size = sz;
    mod->cpu_used = opts_to_cpu(opts);
    if (!rt_code_register(mod)) {
        munmap(x, sz);
        mod->exec = NULL;
        return fail(mod, err, GATE_ERR_LIMIT, UINT64_MAX, "too many modules with code loaded");
    }
    mod->from_object = true;
    return mod;
}
