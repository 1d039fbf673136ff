/* snapshot.h - internal header of snapshot/: writing and reading snapshots. */
#ifndef GATE_SNAPSHOT_H
#define GATE_SNAPSHOT_H

#include <stdio.h>

#include "../runtime/runtime.h"

/* A growable byte buffer for building modules. */
typedef struct gs_buf {
    gx_alloc alloc;
    uint8_t *p;
    size_t n, cap;
    bool oom;
} gs_buf;

void gs_bytes(gs_buf *b, const void *p, size_t n);
void gs_reserve(gs_buf *b, size_t n);
void gs_u8(gs_buf *b, uint8_t v);
void gs_leb(gs_buf *b, uint64_t v);
void gs_sleb(gs_buf *b, int64_t v);
void gs_u32(gs_buf *b, uint32_t v);
void gs_u64(gs_buf *b, uint64_t v);
void gs_str(gs_buf *b, const char *s);
void gs_free(gs_buf *b);

/*
 * Slot types of n frames, frame i's (fr[i].nslots bytes: locals, then the
 * operand stack as validation knows it just before the instruction at
 * fr[i].wasm, or the locals alone at the function's entry) at the sum of
 * the earlier frames' counts.  One validator walk per function, however
 * many frames stop in it, so the cost is linear in the code and the
 * stack.  NULL (err set; *bad: the frame) when a frame is at no
 * instruction or holds more slots than there are values; free the result
 * with gx_free(total + 1).
 */
uint8_t *gs_frame_types(const gate_module *mod, const rt_frame *fr, uint32_t n, size_t *total,
                        uint32_t *bad, gate_error *err);

/* Prints a snapshot's run state and portable stack; false if `mod` is
   not a snapshot. */
bool gs_describe(FILE *out, const gate_module *mod);

/* abi/wasi.c: the WASI state of an instance, saved and restored. */
struct gate_wasi;
void rt_wasi_save(const struct gate_wasi *w, gs_buf *b);
const struct gate_wasi *rt_imports_wasi(const gate_imports *imp);
gate_status rt_wasi_restore(gate_imports *imp, const uint8_t *p, size_t n,
                            const gate_wasi_grants *grants, gate_error *err);
void rt_wasi_describe(FILE *out, const uint8_t *p, size_t n);

#endif
