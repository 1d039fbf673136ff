/*
 * msg.c - messages between the processes of a world, topics, and the
 * kernel services a process imports as module "gate" (docs/world.md).
 *
 * A message is copied from the sender's memory into the receiver's
 * mailbox (FIFO between any two processes), its bytes charged to the
 * sender's sponsor until it is received; a full mailbox or an exhausted
 * budget refuses it.  A receive takes the first message (of a tag, when
 * asked) or parks the process until one comes or the timeout passes.  A
 * process that ends is announced to the processes monitoring it by a
 * message of tag GATE_MSG_DOWN.  Every call is checked against the
 * process's grants (gate_spawn.grants): a refused one returns
 * GATE_ENOTCAPABLE and changes nothing.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#include "world.h"

/* ---- mailboxes (under the lock) -------------------------------------------- */

/* A process waiting in recv for this message is woken. */
static void wake_receiver(gate_world *w, gw_proc *p, uint32_t tag)
{
    if (p->in_recv && (p->recv_tag < 0 || (uint32_t)p->recv_tag == tag))
        gw_wake(w, p);
}

int gw_deliver(gate_world *w, gw_proc *to, gate_pid from, uint32_t tag, const void *data,
               uint32_t len, gate_sponsor *payer)
{
    if (!to || to->state == GATE_PROC_DONE)
        return GATE_ENOPROC;
    if (to->mbytes + len > w->cfg.mailbox_bytes || to->nmsg >= GW_MAX_MSGS)
        return GATE_EAGAIN;
    if (payer && !gw_take(payer, GW_MSGS, len))
        return GATE_EAGAIN;
    gw_msg *m = gx_malloc(&w->eng->alloc, sizeof *m + len);
    if (!m) {
        if (payer)
            gw_give_back(payer, GW_MSGS, len);
        return GATE_EAGAIN;
    }
    m->next = NULL;
    m->from = from;
    m->tag = tag;
    m->len = len;
    m->payer = payer;
    m->moved = NULL;
    m->dlen = len;
    if (len)
        memcpy(m->data, data, len);
    if (to->mtail)
        to->mtail->next = m;
    else
        to->mhead = m;
    to->mtail = m;
    to->mbytes += len;
    to->nmsg++;
    w->msgs_sent++;
    wake_receiver(w, to, tag);
    return 0;
}

void gw_msg_free(gate_world *w, gw_msg *m)
{
    if (m->payer)
        gw_give_back(m->payer, GW_MSGS, m->len);
    if (m->moved)
        munmap(m->moved, m->len);
    gx_free(&w->eng->alloc, m, sizeof *m + m->dlen);
}

/* Drops what is queued for p (it ended). */
void gw_mailbox_clear(gate_world *w, gw_proc *p)
{
    for (gw_msg *m = p->mhead, *n; m; m = n) {
        n = m->next;
        gw_msg_free(w, m);
    }
    p->mhead = p->mtail = NULL;
    p->mbytes = 0;
    p->nmsg = 0;
}

/* The first message of tag (any when tag < 0), unlinked; NULL if none. */
static gw_msg *take(gw_proc *p, int64_t tag, uint32_t cap, gw_msg *too_big)
{
    gw_msg **pp = &p->mhead, *prev = NULL;
    for (gw_msg *m = p->mhead; m; prev = m, pp = &m->next, m = m->next) {
        if (tag >= 0 && m->tag != (uint32_t)tag)
            continue;
        if (m->len > cap) {
            *too_big = *m;
            return NULL;
        }
        *pp = m->next;
        if (p->mtail == m)
            p->mtail = prev;
        p->mbytes -= m->len;
        p->nmsg--;
        return m;
    }
    return NULL;
}

/* ---- topics ---------------------------------------------------------------- */

static gw_topic *topic_find(gate_world *w, const char *name, size_t len)
{
    for (uint32_t i = 0; i < w->ntopics; i++)
        if (w->topics[i].len == len && !memcmp(w->topics[i].name, name, len))
            return &w->topics[i];
    return NULL;
}

gw_topic *gw_topic_get(gate_world *w, const char *name, size_t len)
{
    gw_topic *t = topic_find(w, name, len);
    if (t || len == 0 || len > GW_TOPIC_MAX)
        return t;
    if (w->ntopics == w->captopics) {
        uint32_t cap = w->captopics ? w->captopics * 2 : 8;
        gw_topic *n = gx_realloc(&w->eng->alloc, w->topics, (size_t)w->captopics * sizeof *n,
                                 (size_t)cap * sizeof *n);
        if (!n)
            return NULL;
        w->topics = n;
        w->captopics = cap;
    }
    t = &w->topics[w->ntopics];
    memset(t, 0, sizeof *t);
    memcpy(t->name, name, len);
    t->len = (uint32_t)len;
    w->ntopics++;
    return t;
}

int gw_subscribe(gate_world *w, gw_topic *t, gate_pid pid)
{
    for (uint32_t i = 0; i < t->nsubs; i++)
        if (t->subs[i] == pid)
            return 0;
    if (t->nsubs == t->capsubs) {
        uint32_t cap = t->capsubs ? t->capsubs * 2 : 4;
        gate_pid *n = gx_realloc(&w->eng->alloc, t->subs, (size_t)t->capsubs * sizeof *n,
                                 (size_t)cap * sizeof *n);
        if (!n)
            return GATE_EAGAIN;
        t->subs = n;
        t->capsubs = cap;
    }
    t->subs[t->nsubs++] = pid;
    return 0;
}

static void unsubscribe(gw_topic *t, gate_pid pid)
{
    for (uint32_t i = 0; i < t->nsubs; i++)
        if (t->subs[i] == pid) {
            memmove(&t->subs[i], &t->subs[i + 1], (t->nsubs - i - 1) * sizeof *t->subs);
            t->nsubs--;
            return;
        }
}

void gw_unsubscribe_all(gate_world *w, gate_pid pid)
{
    for (uint32_t i = 0; i < w->ntopics; i++)
        unsubscribe(&w->topics[i], pid);
}

void gw_topics_free(gate_world *w)
{
    for (uint32_t i = 0; i < w->ntopics; i++)
        gx_free(&w->eng->alloc, w->topics[i].subs,
                (size_t)w->topics[i].capsubs * sizeof *w->topics[i].subs);
    gx_free(&w->eng->alloc, w->topics, (size_t)w->captopics * sizeof *w->topics);
    w->topics = NULL;
    w->ntopics = w->captopics = 0;
}

/* Delivers to every subscriber but the sender; the number delivered. */
static int publish(gate_world *w, gw_proc *from_p, gw_topic *t, uint32_t tag, const void *data,
                   uint32_t len)
{
    int n = 0;
    gate_pid from = from_p ? from_p->pid : 0;
    for (uint32_t i = 0; i < t->nsubs; i++) {
        if (t->subs[i] == from)
            continue;
        if (!gw_deliver(w, gw_find(w, t->subs[i]), from, tag, data, len,
                        from_p ? from_p->sp : NULL))
            n++;
    }
    return n;
}

/* ---- grants ---------------------------------------------------------------- */

static bool topic_granted(const gate_grants *g, bool pub, const char *name, size_t len)
{
    if (!g)
        return true;
    return pub ? gw_pattern_match(g->publish, g->npublish, name, len)
               : gw_pattern_match(g->subscribe, g->nsubscribe, name, len);
}

/* ---- the C API ------------------------------------------------------------ */

gate_status gate_world_send(gate_world *w, gate_pid to, uint32_t tag, const void *data, size_t len)
{
    if (!w || (len && !data) || len > UINT32_MAX)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    int r = gw_deliver(w, gw_find(w, to), 0, tag, data, (uint32_t)len, NULL);
    pthread_mutex_unlock(&w->lock);
    return r == 0 ? GATE_OK : r == GATE_ENOPROC ? GATE_ERR_NOT_FOUND : GATE_ERR_LIMIT;
}

gate_status gate_world_publish(gate_world *w, const char *topic, uint32_t tag, const void *data,
                               size_t len, size_t *delivered)
{
    if (!w || !topic || (len && !data) || len > UINT32_MAX)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_topic *t = topic_find(w, topic, strlen(topic));
    int n = t ? publish(w, NULL, t, tag, data, (uint32_t)len) : 0;
    pthread_mutex_unlock(&w->lock);
    if (delivered)
        *delivered = (size_t)n;
    return GATE_OK;
}

gate_status gate_world_subscribe(gate_world *w, gate_pid pid, const char *topic)
{
    if (!w || !topic)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&w->lock);
    gw_proc *p = gw_find(w, pid);
    gw_topic *t = p && p->state != GATE_PROC_DONE ? gw_topic_get(w, topic, strlen(topic)) : NULL;
    int r = t ? gw_subscribe(w, t, pid) : GATE_ENOPROC;
    pthread_mutex_unlock(&w->lock);
    return r == 0 ? GATE_OK : !p ? GATE_ERR_NOT_FOUND : GATE_ERR_LIMIT;
}

/* ---- the kernel services: import module "gate" ----------------------------- */

#define A32(i) ((uint32_t)args[i].of.i32)

/* self() -> pid */
static gate_status k_self(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    (void)args;
    gw_proc *p = gw_caller(ctx);
    return gw_ret(res, p ? (int32_t)p->pid : 0);
}

/* send(pid, tag, ptr, len) -> 0 or GATE_E* */
static gate_status k_send(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    if (p->grants && !p->grants->send)
        return gw_ret(res, GATE_ENOTCAPABLE);
    uint8_t *data = gw_guest(ctx, A32(2), A32(3));
    if (!data && A32(3))
        return gw_ret(res, GATE_EFAULT);
    pthread_mutex_lock(&w->lock);
    int r = gw_deliver(w, gw_find(w, A32(0)), p->pid, A32(1), data, A32(3), p->sp);
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, r);
}

/* recv(buf, cap, tag (GATE_TAG_ANY: any), timeout_ns (-1: for ever), info) -> 0,
   GATE_ETIMEDOUT, GATE_E2BIG (info says its size; it stays queued);
   info: from, tag, len (three u32) */
static gate_status k_recv(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    uint32_t buf = A32(0), cap = A32(1), infop = A32(4);
    int64_t tag = A32(2) == GATE_TAG_ANY ? -1 : (int64_t)A32(2);
    int64_t tmo = args[3].of.i64;
    uint8_t *dst = gw_guest(ctx, buf, cap), *info = gw_guest(ctx, infop, 12);
    if ((!dst && cap) || !info)
        return gw_ret(res, GATE_EFAULT);
    uint64_t start = gw_now_ns();
    for (;;) {
        gw_msg big = { 0 };
        pthread_mutex_lock(&w->lock);
        gw_msg *m = take(p, tag, cap, &big);
        if (!m && big.len) {
            pthread_mutex_unlock(&w->lock);
            memcpy(info, &big.from, 4);
            memcpy(info + 4, &big.tag, 4);
            memcpy(info + 8, &big.len, 4);
            return gw_ret(res, GATE_E2BIG);
        }
        if (m) {
            /* copied out and freed under the lock: a stop can come only
               before the message leaves the mailbox, never after.  Moved
               pages go into a page-aligned buffer as they are (the pages
               that were there are dropped), else they are copied */
            if (m->moved && ((uintptr_t)dst & 4095) == 0 &&
                mremap(m->moved, m->len, m->len, MREMAP_MAYMOVE | MREMAP_FIXED, dst) == dst)
                m->moved = NULL;        /* placed: nothing to unmap */
            else if (m->len)
                memcpy(dst, gw_msg_bytes(m), m->len);
            memcpy(info, &m->from, 4);
            memcpy(info + 4, &m->tag, 4);
            memcpy(info + 8, &m->len, 4);
            gw_msg_free(w, m);
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, 0);
        }
        uint64_t waited = gw_now_ns() - start;
        if (tmo >= 0 && waited >= (uint64_t)tmo) {
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, GATE_ETIMEDOUT);
        }
        p->in_recv = true;
        p->recv_tag = (int32_t)tag;
        pthread_mutex_unlock(&w->lock);
        gate_instance *inst = gate_call_instance(ctx);
        inst->hooks->wait(inst->hooks_ud, tmo < 0 ? UINT64_MAX : (uint64_t)tmo - waited);
        pthread_mutex_lock(&w->lock);
        p->in_recv = false;
        pthread_mutex_unlock(&w->lock);
        if (gate_call_stop_requested(ctx)) {
            /* saved or killed while waiting: the call starts again */
            gate_call_request_stop(ctx, GATE_HOST_RESTART);
            return gw_ret(res, 0);
        }
    }
}

/* send_move(pid, tag, ptr, len) -> 0 or GATE_E*: as send, but the pages
   of [ptr, ptr + len) leave the sender's memory (which reads as zeros
   there afterwards) instead of being copied, when ptr and len are whole
   pages and len is GW_MOVE_MIN or more; otherwise the bytes are copied and
   the range zeroed, so that the sender sees the same either way */
static gate_status k_send_move(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p || (p->grants && !p->grants->send))
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    uint32_t ptr = A32(2), len = A32(3);
    uint8_t *data = gw_guest(ctx, ptr, len);
    if (!data && len)
        return gw_ret(res, GATE_EFAULT);
    /* below GW_MOVE_MIN a copy is faster (make bench: frames of 256 KiB
       copy faster than they move, 1 MiB and more move faster) */
    bool pages = len >= GW_MOVE_MIN && (len & 4095) == 0 && ((uintptr_t)data & 4095) == 0;
    pthread_mutex_lock(&w->lock);
    gw_proc *to = gw_find(w, A32(0));
    int r;
    if (!pages) {
        r = gw_deliver(w, to, p->pid, A32(1), data, len, p->sp);
        if (!r && len)
            memset(data, 0, len);
        pthread_mutex_unlock(&w->lock);
        return gw_ret(res, r);
    }
    /* the checks of gw_deliver first, then the move */
    r = !to || to->state == GATE_PROC_DONE ? GATE_ENOPROC
        : to->mbytes + len > w->cfg.mailbox_bytes || to->nmsg >= GW_MAX_MSGS ? GATE_EAGAIN : 0;
    gw_msg *m = r ? NULL : gx_malloc(&w->eng->alloc, sizeof *m);
    if (!r && (!m || !gw_take(p->sp, GW_MSGS, len)))
        r = GATE_EAGAIN;
    uint8_t *stage = MAP_FAILED;
    if (!r) {
        stage = mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (stage == MAP_FAILED ||
            mremap(data, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, stage) != (void *)stage) {
            if (stage != MAP_FAILED)
                munmap(stage, len);
            stage = MAP_FAILED;
        } else if (mmap(data, len, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED, -1, 0) != (void *)data) {
            /* the sender's range could not be mapped again: put the
               pages back where they were */
            mremap(stage, len, len, MREMAP_MAYMOVE | MREMAP_FIXED, data);
            stage = MAP_FAILED;
        }
        if (stage == MAP_FAILED) {
            /* no move (out of maps, say): the bytes are copied instead */
            gw_give_back(p->sp, GW_MSGS, len);
            gx_free(&w->eng->alloc, m, sizeof *m);
            r = gw_deliver(w, to, p->pid, A32(1), data, len, p->sp);
            if (!r)
                memset(data, 0, len);
            pthread_mutex_unlock(&w->lock);
            return gw_ret(res, r);
        }
    }
    if (r) {
        if (m)
            gx_free(&w->eng->alloc, m, sizeof *m);
        pthread_mutex_unlock(&w->lock);
        return gw_ret(res, r);
    }
    m->next = NULL;
    m->from = p->pid;
    m->tag = A32(1);
    m->len = len;
    m->payer = p->sp;
    m->moved = stage;
    m->dlen = 0;
    if (to->mtail)
        to->mtail->next = m;
    else
        to->mhead = m;
    to->mtail = m;
    to->mbytes += len;
    to->nmsg++;
    w->msgs_sent++;
    wake_receiver(w, to, m->tag);
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, 0);
}

static bool topic_arg(gate_call_ctx *ctx, const gate_val *args, const char **name, size_t *len)
{
    *len = A32(1);
    if (*len == 0 || *len > GW_TOPIC_MAX)
        return false;
    *name = (const char *)gw_guest(ctx, A32(0), *len);
    return *name != NULL;
}

/* publish(topic, topic_len, tag, ptr, len) -> delivered count, or GATE_E* (negative) */
static gate_status k_publish(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    const char *name;
    size_t nl;
    if (!p)
        return gw_ret(res, -GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    if (!topic_arg(ctx, args, &name, &nl))
        return gw_ret(res, -GATE_EFAULT);
    if (!topic_granted(p->grants, true, name, nl))
        return gw_ret(res, -GATE_ENOTCAPABLE);
    uint8_t *data = gw_guest(ctx, A32(3), A32(4));
    if (!data && A32(4))
        return gw_ret(res, -GATE_EFAULT);
    pthread_mutex_lock(&w->lock);
    gw_topic *t = topic_find(w, name, nl);
    int n = t ? publish(w, p, t, A32(2), data, A32(4)) : 0;
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, n);
}

/* subscribe(topic, topic_len) -> 0 or GATE_E* */
static gate_status k_subscribe(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    const char *name;
    size_t nl;
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    if (!topic_arg(ctx, args, &name, &nl))
        return gw_ret(res, GATE_EFAULT);
    if (!topic_granted(p->grants, false, name, nl))
        return gw_ret(res, GATE_ENOTCAPABLE);
    pthread_mutex_lock(&w->lock);
    gw_topic *t = w->ntopics < GW_MAX_TOPICS ? gw_topic_get(w, name, nl) : topic_find(w, name, nl);
    int r = t ? gw_subscribe(w, t, p->pid) : GATE_EAGAIN;
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, r);
}

static gate_status k_unsubscribe(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    const char *name;
    size_t nl;
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    if (!topic_arg(ctx, args, &name, &nl))
        return gw_ret(res, GATE_EFAULT);
    pthread_mutex_lock(&w->lock);
    gw_topic *t = topic_find(w, name, nl);
    if (t)
        unsubscribe(t, p->pid);
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, 0);
}

/* monitor(pid) -> 0 or GATE_E*: its end arrives as a GATE_MSG_DOWN message */
static gate_status k_monitor(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    if (p->grants && !p->grants->monitor)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_status st = gate_world_monitor(w, p->pid, A32(0));
    return gw_ret(res, st == GATE_OK ? 0 : st == GATE_ERR_NOT_FOUND || st == GATE_ERR_STATE
                                            ? GATE_ENOPROC : GATE_EAGAIN);
}

/* link(pid) -> 0 or GATE_E*: each learns of the other's end */
static gate_status k_link(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p || (p->grants && !p->grants->monitor))
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_status st = gate_world_link(p->w, p->pid, A32(0));
    return gw_ret(res, st == GATE_OK ? 0 : st == GATE_ERR_LIMIT ? GATE_EAGAIN : GATE_ENOPROC);
}

/* kill(pid) -> 0 or GATE_E*: only a process it spawned, unless granted */
static gate_status k_kill(gate_call_ctx *ctx, void *ud, const gate_val *args, gate_val *res)
{
    (void)ud;
    gw_proc *p = gw_caller(ctx);
    if (!p)
        return gw_ret(res, GATE_ENOTCAPABLE);
    gate_world *w = p->w;
    pthread_mutex_lock(&w->lock);
    gw_proc *t = gw_find(w, A32(0));
    int r = !t || t->state == GATE_PROC_DONE ? GATE_ENOPROC
            : t->parent != p->pid && !(p->grants == NULL || p->grants->kill_any) ? GATE_ENOTCAPABLE
            : 0;
    if (!r)
        gw_kill_locked(w, t);
    pthread_mutex_unlock(&w->lock);
    return gw_ret(res, r);
}

gate_status gate_imports_world(gate_imports *imp, gate_error *err)
{
    static const struct { const char *name, *sig; gate_raw_fn fn; } k[] = {
        { "self", "i()", k_self },
        { "send", "i(iiii)", k_send },
        { "send_move", "i(iiii)", k_send_move },
        { "recv", "i(iiiIi)", k_recv },
        { "publish", "i(iiiii)", k_publish },
        { "subscribe", "i(ii)", k_subscribe },
        { "unsubscribe", "i(ii)", k_unsubscribe },
        { "monitor", "i(i)", k_monitor },
        { "link", "i(i)", k_link },
        { "kill", "i(i)", k_kill },
        { "spawn", "i(ii)", gw_k_spawn },
        { "procs", "i(ii)", gw_k_procs },
        { "stream_open", "i(i)", gw_k_stream_open },
        { "stream_write", "i(iiiI)", gw_k_stream_write },
        { "stream_read", "i(iiiI)", gw_k_stream_read },
        { "stream_close", "i(i)", gw_k_stream_close },
        { "modules", "i(ii)", gw_k_modules },
    };
    if (!imp)
        return GATE_ERR_ARG;
    for (size_t i = 0; i < sizeof k / sizeof k[0]; i++) {
        gate_status st = gate_imports_func_raw(imp, "gate", k[i].name, k[i].sig, k[i].fn, NULL, err);
        if (st != GATE_OK)
            return st;
    }
    return GATE_OK;
}

/* ---- grants: a copy of its own for each process ---------------------------- */

static void strs_free(gate_world *w, const char *const *v, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (v[i])
            gx_free(&w->eng->alloc, (void *)v[i], strlen(v[i]) + 1);
    gx_free(&w->eng->alloc, (void *)v, n * sizeof *v + 1);
}

static const char *const *strs_copy(gate_world *w, const char *const *v, size_t n, bool *ok)
{
    const char **c = gx_malloc(&w->eng->alloc, n * sizeof *c + 1);
    if (!c) {
        *ok = false;
        return NULL;
    }
    for (size_t i = 0; i < n; i++) {
        size_t l = v && v[i] ? strlen(v[i]) + 1 : 0;
        char *d = l ? gx_malloc(&w->eng->alloc, l) : NULL;
        if (l && !d)
            *ok = false;
        if (d)
            memcpy(d, v[i], l);
        c[i] = d;
    }
    return c;
}

gate_grants *gw_grants_copy(gate_world *w, const gate_grants *g)
{
    if (!g)
        return NULL;
    gate_grants *c = gx_malloc(&w->eng->alloc, sizeof *c);
    if (!c)
        return NULL;
    bool ok = true;
    *c = *g;
    c->publish = strs_copy(w, g->publish, g->npublish, &ok);
    c->subscribe = strs_copy(w, g->subscribe, g->nsubscribe, &ok);
    c->spawn = strs_copy(w, g->spawn, g->nspawn, &ok);
    if (!ok) {
        /* out of memory: a process with less than it was granted */
        if (c->publish)
            strs_free(w, c->publish, c->npublish);
        if (c->subscribe)
            strs_free(w, c->subscribe, c->nsubscribe);
        if (c->spawn)
            strs_free(w, c->spawn, c->nspawn);
        memset(c, 0, sizeof *c);
    }
    return c;
}

void gw_grants_free(gate_world *w, gate_grants *g)
{
    if (!g)
        return;
    if (g->publish)
        strs_free(w, g->publish, g->npublish);
    if (g->subscribe)
        strs_free(w, g->subscribe, g->nsubscribe);
    if (g->spawn)
        strs_free(w, g->spawn, g->nspawn);
    gx_free(&w->eng->alloc, g, sizeof *g);
}
