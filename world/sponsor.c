/*
 * sponsor.c - sponsors: the tree of budgets every resource of a world's
 * processes is drawn from (docs/world.md).  A child takes each limited
 * amount from what its parent has left and gives back what it did not
 * spend; a process is charged to its own sponsor.
 */
#include <stdio.h>
#include <string.h>

#include "world.h"

void gate_budget_unlimited(gate_budget *b)
{
    b->fuel = b->memory = b->tables = b->processes = b->messages = GATE_UNLIMITED;
}

static void budget_get(const gate_budget *b, uint64_t v[GW_NB])
{
    v[GW_FUEL] = b->fuel;
    v[GW_MEMORY] = b->memory;
    v[GW_TABLES] = b->tables;
    v[GW_PROCS] = b->processes;
    v[GW_MSGS] = b->messages;
}

static void budget_set(gate_budget *b, const uint64_t v[GW_NB])
{
    b->fuel = v[GW_FUEL];
    b->memory = v[GW_MEMORY];
    b->tables = v[GW_TABLES];
    b->processes = v[GW_PROCS];
    b->messages = v[GW_MSGS];
}

/* What s may still spend of kind k (GATE_UNLIMITED: no bound). */
uint64_t gw_avail(const gate_sponsor *s, int k)
{
    if (s->limit[k] == GATE_UNLIMITED)
        return GATE_UNLIMITED;
    uint64_t taken = s->used[k] + s->given[k];
    return taken >= s->limit[k] ? 0 : s->limit[k] - taken;
}

/* Takes n of kind k from s; false when s has less. */
bool gw_take(gate_sponsor *s, int k, uint64_t n)
{
    uint64_t a = gw_avail(s, k);
    if (a != GATE_UNLIMITED && a < n)
        return false;
    s->used[k] += n;
    return true;
}

void gw_give_back(gate_sponsor *s, int k, uint64_t n)
{
    s->used[k] = s->used[k] >= n ? s->used[k] - n : 0;
}

gate_sponsor *gate_world_root(gate_world *w)
{
    return w ? w->sponsors[0] : NULL;
}

const char *gate_sponsor_name(const gate_sponsor *s)
{
    return s ? s->name : NULL;
}

gate_sponsor *gw_sponsor_add(gate_world *w, gate_sponsor *parent, const char *name,
                             const uint64_t lim[GW_NB], gate_error *err)
{
    if (parent) {
        for (int k = 0; k < GW_NB; k++) {
            uint64_t a = gw_avail(parent, k);
            if (lim[k] == GATE_UNLIMITED ? a != GATE_UNLIMITED : a != GATE_UNLIMITED && a < lim[k]) {
                gx_fail(err, GATE_ERR_LIMIT, UINT64_MAX, GATE_NO_FUNC,
                        "sponsor \"%.60s\" has not enough budget left for \"%.60s\"",
                        parent->name, name ? name : "");
                return NULL;
            }
        }
    }
    if (w->nsponsors == w->capsponsors) {
        uint32_t cap = w->capsponsors ? w->capsponsors * 2 : 8;
        gate_sponsor **n = gx_realloc(&w->eng->alloc, w->sponsors,
                                      (size_t)w->capsponsors * sizeof *n, (size_t)cap * sizeof *n);
        if (!n) {
            gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
            return NULL;
        }
        w->sponsors = n;
        w->capsponsors = cap;
    }
    gate_sponsor *s = gx_malloc(&w->eng->alloc, sizeof *s);
    if (s)
        memset(s, 0, sizeof *s);
    if (!s) {
        gx_fail(err, GATE_ERR_NOMEM, UINT64_MAX, GATE_NO_FUNC, "out of memory");
        return NULL;
    }
    s->w = w;
    s->parent = parent;
    snprintf(s->name, sizeof s->name, "%s", name ? name : "");
    for (int k = 0; k < GW_NB; k++) {
        s->limit[k] = lim[k];
        if (parent && lim[k] != GATE_UNLIMITED && parent->limit[k] != GATE_UNLIMITED)
            parent->given[k] += lim[k];
    }
    s->index = w->nsponsors;
    w->sponsors[w->nsponsors++] = s;
    return s;
}

gate_sponsor *gate_sponsor_new(gate_sponsor *parent, const char *name, const gate_budget *b,
                               gate_error *err)
{
    gw_err_reset(err);
    if (!parent || !b) {
        gx_fail(err, GATE_ERR_ARG, UINT64_MAX, GATE_NO_FUNC, "null argument");
        return NULL;
    }
    gate_world *w = parent->w;
    uint64_t lim[GW_NB];
    budget_get(b, lim);
    if (lim[GW_FUEL] != GATE_UNLIMITED && !w->fuel) {
        gx_fail(err, GATE_ERR_STATE, UINT64_MAX, GATE_NO_FUNC,
                "a fuel budget needs an engine with fuel metering (gate_config.fuel)");
        return NULL;
    }
    pthread_mutex_lock(&w->lock);
    gate_sponsor *s = gw_sponsor_add(w, parent, name, lim, err);
    pthread_mutex_unlock(&w->lock);
    return s;
}

gate_status gate_sponsor_free(gate_sponsor *s)
{
    if (!s || !s->parent)
        return GATE_ERR_ARG;
    gate_world *w = s->w;
    pthread_mutex_lock(&w->lock);
    bool busy = s->used[GW_PROCS] != 0 || s->freed;
    for (uint32_t i = 0; i < w->nsponsors && !busy; i++)
        busy = w->sponsors[i]->parent == s && !w->sponsors[i]->freed;
    if (!busy) {
        s->freed = true;
        for (int k = 0; k < GW_NB; k++)
            if (s->limit[k] != GATE_UNLIMITED && s->parent->limit[k] != GATE_UNLIMITED) {
                /* what it did not spend goes back: its limit is no longer given */
                uint64_t spent = k == GW_FUEL ? s->used[k] : 0;
                s->parent->given[k] -= s->limit[k];
                s->parent->used[k] += spent;
            }
    }
    pthread_mutex_unlock(&w->lock);
    return busy ? GATE_ERR_STATE : GATE_OK;
}

gate_status gate_sponsor_refill(gate_sponsor *s, uint64_t fuel)
{
    if (!s)
        return GATE_ERR_ARG;
    gate_world *w = s->w;
    pthread_mutex_lock(&w->lock);
    gate_status st = GATE_OK;
    if (s->limit[GW_FUEL] == GATE_UNLIMITED) {
        st = GATE_OK;
    } else if (s->parent && s->parent->limit[GW_FUEL] != GATE_UNLIMITED) {
        if (gw_avail(s->parent, GW_FUEL) < fuel)
            st = GATE_ERR_LIMIT;
        else
            s->parent->given[GW_FUEL] += fuel;
    }
    if (st == GATE_OK && s->limit[GW_FUEL] != GATE_UNLIMITED) {
        s->limit[GW_FUEL] = fuel > GATE_UNLIMITED - 1 - s->limit[GW_FUEL]
                                ? GATE_UNLIMITED - 1 : s->limit[GW_FUEL] + fuel;
        gw_wake_starved(w, s);
    }
    pthread_mutex_unlock(&w->lock);
    return st;
}

gate_status gate_sponsor_usage(gate_sponsor *s, gate_budget *used, gate_budget *limit)
{
    if (!s)
        return GATE_ERR_ARG;
    pthread_mutex_lock(&s->w->lock);
    if (used)
        budget_set(used, s->used);
    if (limit)
        budget_set(limit, s->limit);
    pthread_mutex_unlock(&s->w->lock);
    return GATE_OK;
}

