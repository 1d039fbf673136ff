/*
 * stream.c - bounded byte streams between two processes of a world
 * (docs/world.md): the writer opens one to a reader, which learns of it by
 * a GATE_MSG_STREAM message; a write parks while the stream is full and a
 * read while it is empty, so a pipeline gets backpressure for free.  The
 * buffer is charged to the writer's sponsor (messages budget).
 */
#include <stdatomic.h>
#include <string.h>
#include <time.h>

#include "world.h"

gw_stream *gw_stream_find(gate_world *w, uint32_t id)
{
    for (uint32_t i = 0; i < w->nstreams; i++)
        if (w->streams[i]->id == id)
            return w->streams[i];
    return NULL;
}

/* Under the lock: a new stream of cap bytes, its buffer charged to payer. */
gw_stream *gw_stream_new(gate_world *w, uint32_t id, gate_pid writer, gate_pid reader,
                         uint32_t cap, gate_sponsor *payer)
{
    if (w->nstreams >= GW_MAX_STREAMS || (payer && !gw_take(payer, GW_MSGS, cap)))
        return NULL;
    if (w->nstreams == w->capstreams) {
        uint32_t c = w->capstreams ? w->capstreams * 2 : 8;
        gw_stream **n = gx_realloc(&w->eng->alloc, w->streams, (size_t)w->capstreams * sizeof *n,
                                   (size_t)c * sizeof *n);
        if (!n)
            goto fail;
        w->streams = n;
        w->capstreams = c;
    }
    gw_stream *s = gx_malloc(&w->eng->alloc, sizeof *s + cap);
    if (!s)
        goto fail;
    memset(s, 0, sizeof *s);
    s->id = id;
    s->writer = writer;
    s->reader = reader;
    s->cap = cap;
    s->payer = payer;
    w->streams[w->nstreams++] = s;
    if (id >= w->next_stream)
        w->next_stream = id + 1;
    return s;
fail:
    if (payer)
        gw_give_back(payer, GW_MSGS, cap);
    return NULL;
}

static void stream_free(gate_world *w, gw_stream *s)
{
    for (uint32_t i = 0; i < w->nstreams; i++)
        if (w->streams[i] == s) {
            w->streams[i] = w->streams[--w->nstreams];
            break;
        }
    if (s->payer)
        gw_give_back(s->payer, GW_MSGS, s->cap);
    gx_free(&w->eng->alloc, s, sizeof *s + s->cap);
}

void gw_streams_free(gate_world *w)
{
    while (w->nstreams)
        stream_free(w, w->streams[0]);
    gx_free(&w->eng->alloc, w->streams, (size_t)w->capstreams * sizeof *w->streams);
    w->streams = NULL;
    w->capstreams = 0;
}

/* The process at the other end may be parked on s: it runs again. */
static void wake(gate_world *w, gate_pid pid, const gw_stream *s)
{
    gw_proc *p = gw_find(w, pid);
    if (p && p->wait_stream == (int64_t)s->id)
        gw_wake(w, p);
}

/* Under the lock: p ended; its streams close (a reader still reads what
   was written), and a stream neither end holds any more goes. */
void gw_streams_end(gate_world *w, gate_pid pid)
{
    for (uint32_t i = 0; i < w->nstreams;) {
        gw_stream *s = w->streams[i];
        if (s->writer == pid && !s->wclosed) {
            s->wclosed = true;
            wake(w, s->reader, s);
        }
        if (s->reader == pid && !s->rclosed) {
            s->rclosed = true;
            wake(w, s->writer, s);
        }
        if (s->wclosed && s->rclosed) {
            stream_free(w, s);
            continue;
        }
        i++;
    }
}

/* stream_open(pid) -> id, or -GATE_E*: a stream from the caller to pid,
   announced to pid by a GATE_MSG_STREAM message (id, writer: u32 each) */
gate_status gw_k_stream_open(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p || (p->grants && !p->grants->send))
        return gw_ret(res, -GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    pthread_mutex_lock(&w->lock);
    gw_proc *r = gw_find(w, (gate_pid)args[0].of.i32);
    int e = !r || r->state == GATE_PROC_DONE || r == p ? GATE_ENOPROC : 0;
    gw_stream *s = e ? NULL : gw_stream_new(w, w->next_stream, p->pid, r->pid,
                                            (uint32_t)w->cfg.stream_bytes, p->sp);
    if (!e && !s)
        e = GATE_EAGAIN;
    if (s) {
        uint32_t note[2] = { s->id, p->pid };
        if (gw_deliver(w, r, p->pid, GATE_MSG_STREAM, note, sizeof note, NULL)) {
            stream_free(w, s);
            s = NULL;
            e = GATE_EAGAIN;
        }
    }
    int32_t id = s ? (int32_t)s->id : -e;
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, id);
}

/* Parks the caller on stream id until woken or ns pass (UINT64_MAX: for
   ever); false when it was stopped meanwhile (the call restarts). */
static bool park_on(gate_call_ctx *ctx, gw_proc *p, uint32_t id, uint64_t ns)
{
    gate_world *w = p->w;
    p->wait_stream = id;
    pthread_mutex_unlock(&w->lock);
    gate_instance *inst = gate_call_instance(ctx);
    inst->hooks->wait(inst->hooks_ud, ns);
    pthread_mutex_lock(&w->lock);
    p->wait_stream = -1;
    if (gate_call_stop_requested(ctx)) {
        pthread_mutex_unlock(&w->lock);
        gate_call_request_stop(ctx, GATE_HOST_RESTART);
        return false;
    }
    return true;
}

/* stream_write(id, ptr, len, timeout_ns) -> bytes written (at least one,
   or all of len when it fits), or -GATE_E* (ENOPROC: the reader is gone;
   ETIMEDOUT) */
gate_status gw_k_stream_write(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, -GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    uint32_t id = (uint32_t)args[0].of.i32, len = (uint32_t)args[2].of.i32;
    int64_t tmo = args[3].of.i64;
    const uint8_t *src = gw_guest(ctx, (uint32_t)args[1].of.i32, len);
    if (!src && len)
        return gw_ret(res, -GATE_EFAULT);
    uint64_t start = gw_now_ns();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        gw_stream *s = gw_stream_find(w, id);
        if (!s || s->writer != p->pid || s->wclosed) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, -GATE_ENOTCAPABLE);
        }
        if (s->rclosed) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, -GATE_ENOPROC);
        }
        uint32_t room = s->cap - s->len;
        if (room || !len) {
            uint32_t n = len < room ? len : room;
            for (uint32_t k = 0; k < n; k++)
                s->data[(s->head + s->len + k) % s->cap] = src[k];
            s->len += n;
            if (n)
                wake(w, s->reader, s);
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, (int32_t)n);
        }
        uint64_t waited = gw_now_ns() - start;
        if (tmo >= 0 && waited >= (uint64_t)tmo) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, -GATE_ETIMEDOUT);
        }
        if (!park_on(ctx, p, id, tmo < 0 ? UINT64_MAX : (uint64_t)tmo - waited))
            return gw_ret(res, 0);
    }
}

/* stream_read(id, ptr, cap, timeout_ns) -> bytes read; 0 at the end (the
   writer closed it and all was read); -GATE_E* */
gate_status gw_k_stream_read(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, -GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    uint32_t id = (uint32_t)args[0].of.i32, cap = (uint32_t)args[2].of.i32;
    int64_t tmo = args[3].of.i64;
    uint8_t *dst = gw_guest(ctx, (uint32_t)args[1].of.i32, cap);
    if (!dst && cap)
        return gw_ret(res, -GATE_EFAULT);
    uint64_t start = gw_now_ns();
    pthread_mutex_lock(&w->lock);
    for (;;) {
        gw_stream *s = gw_stream_find(w, id);
        if (!s || s->reader != p->pid || s->rclosed) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, -GATE_ENOTCAPABLE);
        }
        if (s->len || s->wclosed || !cap) {
            uint32_t n = cap < s->len ? cap : s->len;
            for (uint32_t k = 0; k < n; k++)
                dst[k] = s->data[(s->head + k) % s->cap];
            s->head = (s->head + n) % s->cap;
            s->len -= n;
            if (n)
                wake(w, s->writer, s);
            if (!n && s->wclosed) {
                /* the end: the reader is done with it too */
                s->rclosed = true;
                stream_free(w, s);
            }
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, (int32_t)n);
        }
        uint64_t waited = gw_now_ns() - start;
        if (tmo >= 0 && waited >= (uint64_t)tmo) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, -GATE_ETIMEDOUT);
        }
        if (!park_on(ctx, p, id, tmo < 0 ? UINT64_MAX : (uint64_t)tmo - waited))
            return gw_ret(res, 0);
    }
}

/* stream_close(id) -> 0 or -GATE_E*: the writer's end (the reader reads
   the rest, then 0) or the reader's (the writer's next write fails) */
gate_status gw_k_stream_close(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, -GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    pthread_mutex_lock(&w->lock);
    gw_stream *s = gw_stream_find(w, (uint32_t)args[0].of.i32);
    int32_t r = 0;
    if (s && s->writer == p->pid && !s->wclosed) {
        s->wclosed = true;
        wake(w, s->reader, s);
    } else if (s && s->reader == p->pid && !s->rclosed) {
        s->rclosed = true;
        wake(w, s->writer, s);
    } else {
        r = -GATE_ENOTCAPABLE;
    }
    if (s && s->wclosed && s->rclosed)
        stream_free(w, s);
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, r);
}
