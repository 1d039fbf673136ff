/*
 * deadline.c - wall-clock deadlines without signals or per-instance
 * timers: one watchdog thread per process, started on the first deadline,
 * sleeps until the earliest one and then calls gate_request_stop (two
 * stores) on that instance.
 *
 * Every access to the list, and every stop request the watchdog makes,
 * happens under one mutex, so once rt_deadline_cancel returns (from
 * gate_instance_free) the watchdog never touches that instance again.
 * A process that forks gets a new watchdog in the child on its first
 * deadline (threads do not survive fork).
 */
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "runtime.h"

typedef struct dl_entry {
    gate_instance *inst;
    uint64_t when;              /* CLOCK_MONOTONIC, ns */
} dl_entry;

static pthread_mutex_t dl_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t dl_cv;
static dl_entry *dl_list;
static size_t dl_n, dl_cap;
static pid_t dl_pid;            /* process whose watchdog runs; 0: none */

static uint64_t now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static void *watchdog(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&dl_mu);
    for (;;) {
        if (dl_n == 0) {
            pthread_cond_wait(&dl_cv, &dl_mu);
            continue;
        }
        size_t first = 0;
        for (size_t i = 1; i < dl_n; i++)
            if (dl_list[i].when < dl_list[first].when)
                first = i;
        uint64_t now = now_ns(), when = dl_list[first].when;
        if (now >= when) {
            gate_request_stop(dl_list[first].inst);
            dl_list[first] = dl_list[--dl_n];
            continue;
        }
        struct timespec t = { (time_t)(when / 1000000000u), (long)(when % 1000000000u) };
        pthread_cond_timedwait(&dl_cv, &dl_mu, &t);
    }
    return NULL;
}

/* with dl_mu held */
static bool start_watchdog(void)
{
    if (dl_pid == getpid())
        return true;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_cond_init(&dl_cv, &ca);
    pthread_condattr_destroy(&ca);
    /* the entries a parent process had are not this process's instances'
       deadlines any more than its thread is; start empty */
    dl_n = 0;
    pthread_attr_t a;
    pthread_attr_init(&a);
    pthread_attr_setdetachstate(&a, PTHREAD_CREATE_DETACHED);
    pthread_attr_setstacksize(&a, 64 * 1024);
    /* the watchdog takes no signals meant for the host program */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    pthread_t th;
    int r = pthread_create(&th, &a, watchdog, NULL);
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    pthread_attr_destroy(&a);
    if (r)
        return false;
    dl_pid = getpid();
    return true;
}

static size_t find(gate_instance *inst)
{
    for (size_t i = 0; i < dl_n; i++)
        if (dl_list[i].inst == inst)
            return i;
    return SIZE_MAX;
}

gate_status rt_deadline_set(gate_instance *inst, uint64_t ns_from_now)
{
    gate_status st = GATE_OK;
    pthread_mutex_lock(&dl_mu);
    size_t i = dl_pid == getpid() ? find(inst) : SIZE_MAX;
    if (ns_from_now == 0) {
        if (i != SIZE_MAX)
            dl_list[i] = dl_list[--dl_n];
        goto out;
    }
    if (!start_watchdog()) {
        st = GATE_ERR_NOMEM;
        goto out;
    }
    if (i == SIZE_MAX) {
        if (dl_n == dl_cap) {
            size_t cap = dl_cap ? 2 * dl_cap : 16;
            dl_entry *p = realloc(dl_list, cap * sizeof *p);
            if (!p) {
                st = GATE_ERR_NOMEM;
                goto out;
            }
            dl_list = p, dl_cap = cap;
        }
        i = dl_n++;
        dl_list[i].inst = inst;
    }
    uint64_t now = now_ns();
    dl_list[i].when = ns_from_now > UINT64_MAX - now ? UINT64_MAX : now + ns_from_now;
    pthread_cond_signal(&dl_cv);
out:
    pthread_mutex_unlock(&dl_mu);
    return st;
}

void rt_deadline_cancel(gate_instance *inst)
{
    pthread_mutex_lock(&dl_mu);
    if (dl_pid == getpid()) {
        size_t i = find(inst);
        if (i != SIZE_MAX)
            dl_list[i] = dl_list[--dl_n];
    }
    pthread_mutex_unlock(&dl_mu);
}
