/* richards.c - Martin Richards' operating-system simulation (the classic
 * object-oriented benchmark): task control blocks in a priority list, an
 * idle task, a worker, two handlers and two devices passing packets, with
 * small methods and pointer chasing.  Checks the queue and hold counts. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

static int parse_scale(int argc, char **argv)
{
    if (argc < 2)
        return 10;
    char *end;
    long v = strtol(argv[1], &end, 10);
    if (end == argv[1] || *end != '\0' || v <= 0 || v > 1000000)
        return 10;
    return (int)v;
}

enum { I_IDLE = 1, I_WORK, I_HANDLERA, I_HANDLERB, I_DEVA, I_DEVB };
enum { K_DEV = 1000, K_WORK = 1001 };
enum { BUFSIZE = 4, NTASKS = 10 };

typedef struct packet {
    struct packet *link;
    int id, kind, a1;
    char a2[BUFSIZE];
} packet;

struct tcb;
typedef struct tcb *(*taskfn)(packet *);

typedef struct tcb {
    struct tcb *link;
    int id, pri;
    packet *wkq;
    int state;          /* bit 0 packet pending, 1 waiting, 2 held */
    taskfn fn;
    long v1, v2;
} tcb;

enum { PKT = 1, WAIT = 2, HOLD = 4 };

static tcb *tasktab[NTASKS + 1];
static tcb *tasklist, *tcbp;
static int taskid;
static long v1, v2;
static long qcount, holdcount;
static tcb pool[NTASKS + 1];
static packet ppool[32];
static int npool, nppool;

static packet *pkt(packet *link, int id, int kind)
{
    packet *p = &ppool[nppool++];
    p->link = link, p->id = id, p->kind = kind, p->a1 = 0;
    for (int i = 0; i < BUFSIZE; i++)
        p->a2[i] = 0;
    return p;
}

static void createtask(int id, int pri, packet *wkq, int state, taskfn fn, long a, long b)
{
    tcb *t = &pool[npool++];
    t->link = tasklist, t->id = id, t->pri = pri, t->wkq = wkq, t->state = state;
    t->fn = fn, t->v1 = a, t->v2 = b;
    tasklist = t;
    tasktab[id] = t;
}

static tcb *findtcb(int id)
{
    tcb *t = id >= 1 && id <= NTASKS ? tasktab[id] : NULL;
    if (!t) {
        printf("bad task id %d\n", id);
        exit(1);
    }
    return t;
}

static void append(packet *p, packet **q)
{
    p->link = NULL;
    while (*q)
        q = &(*q)->link;
    *q = p;
}

static tcb *wait_(void)
{
    tcbp->state |= WAIT;
    return tcbp;
}

static tcb *holdself(void)
{
    holdcount++;
    tcbp->state |= HOLD;
    return tcbp->link;
}

static tcb *release(int id)
{
    tcb *t = findtcb(id);
    t->state &= ~HOLD;
    return t->pri > tcbp->pri ? t : tcbp;
}

static tcb *qpkt(packet *p)
{
    tcb *t = findtcb(p->id);
    qcount++;
    p->link = NULL;
    p->id = taskid;
    if (!t->wkq) {
        t->wkq = p;
        t->state |= PKT;
        return t->pri > tcbp->pri ? t : tcbp;
    }
    append(p, &t->wkq);
    return tcbp;
}

static tcb *idlefn(packet *p)
{
    (void)p;
    if (--v2 == 0)
        return holdself();
    if ((v1 & 1) == 0) {
        v1 = v1 >> 1 & 0x7fff;
        return release(I_DEVA);
    }
    v1 = (v1 >> 1 & 0x7fff) ^ 0xd008;
    return release(I_DEVB);
}

static tcb *workfn(packet *p)
{
    if (!p)
        return wait_();
    v1 = I_HANDLERA + I_HANDLERB - v1;
    p->id = (int)v1;
    p->a1 = 0;
    for (int i = 0; i < BUFSIZE; i++) {
        v2++;
        if (v2 > 26)
            v2 = 1;
        p->a2[i] = (char)("0ABCDEFGHIJKLMNOPQRSTUVWXYZ"[v2]);
    }
    return qpkt(p);
}

static tcb *handlerfn(packet *p)
{
    if (p)
        append(p, p->kind == K_WORK ? (packet **)&v1 : (packet **)&v2);
    if (v1) {
        packet *w = (packet *)v1;
        int count = w->a1;
        if (count < BUFSIZE) {
            if (v2) {
                packet *d = (packet *)v2;
                v2 = (long)d->link;
                d->a1 = w->a2[count];
                w->a1 = count + 1;
                return qpkt(d);
            }
        } else {
            v1 = (long)w->link;
            return qpkt(w);
        }
    }
    return wait_();
}

static tcb *devfn(packet *p)
{
    if (!p) {
        if (!v1)
            return wait_();
        packet *q = (packet *)v1;
        v1 = 0;
        return qpkt(q);
    }
    v1 = (long)p;
    return holdself();
}

/* States: bit 0 a packet is queued, 1 waiting, 2 held.  A waiting task
   with a packet takes it and runs; a running one runs without one; any
   other (held, or waiting without a packet) is skipped. */
static void schedule(void)
{
    tcbp = tasklist;
    while (tcbp) {
        packet *p = NULL;
        if (tcbp->state == (PKT | WAIT)) {
            p = tcbp->wkq;
            tcbp->wkq = p->link;
            tcbp->state = tcbp->wkq ? PKT : 0;
        } else if (tcbp->state > PKT) {
            tcbp = tcbp->link;
            continue;
        }
        taskid = tcbp->id;
        v1 = tcbp->v1, v2 = tcbp->v2;
        tcb *next = tcbp->fn(p);
        tcbp->v1 = v1, tcbp->v2 = v2;
        tcbp = next;
    }
}

static void run(long count)
{
    for (int i = 0; i <= NTASKS; i++)
        tasktab[i] = NULL;
    tasklist = NULL;
    npool = nppool = 0;
    qcount = holdcount = 0;
    createtask(I_IDLE, 0, NULL, 0, idlefn, 1, count);
    packet *w = pkt(NULL, 0, K_WORK);
    w = pkt(w, 0, K_WORK);
    createtask(I_WORK, 1000, w, PKT | WAIT, workfn, I_HANDLERA, 0);
    w = pkt(NULL, I_DEVA, K_DEV);
    w = pkt(w, I_DEVA, K_DEV);
    w = pkt(w, I_DEVA, K_DEV);
    createtask(I_HANDLERA, 2000, w, PKT | WAIT, handlerfn, 0, 0);
    w = pkt(NULL, I_DEVB, K_DEV);
    w = pkt(w, I_DEVB, K_DEV);
    w = pkt(w, I_DEVB, K_DEV);
    createtask(I_HANDLERB, 3000, w, PKT | WAIT, handlerfn, 0, 0);
    createtask(I_DEVA, 4000, NULL, WAIT, devfn, 0, 0);
    createtask(I_DEVB, 5000, NULL, WAIT, devfn, 0, 0);
    schedule();
}

int main(int argc, char **argv)
{
    int scale = parse_scale(argc, argv);
    long total_q = 0, total_h = 0;
    for (int r = 0; r < 100 * scale; r++) {
        run(10000);
        total_q += qcount, total_h += holdcount;
        if (qcount != 23246 || holdcount != 9297) {
            printf("round %d: qcount %ld holdcount %ld: wrong\n", r, qcount, holdcount);
            return 1;
        }
    }
    printf("richards: %d rounds, qcount %ld, holdcount %ld\n", 100 * scale, total_q, total_h);
    return 0;
}
