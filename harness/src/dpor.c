/* dpor.c — source-set DPOR with sleep sets over the runtime's operations.
 *
 * DESIGN. EXHAUSTIVE without reduction branches on every RUN decision, so
 * two tasks that never touch a common object are interleaved in every order
 * although every order ends the same. Here the search explores one schedule
 * per Mazurkiewicz trace (per class of schedules that differ only in the
 * order of independent steps), as loom, Nidhugg and GenMC do, with
 * the runtime's objects in place of memory locations:
 *
 *  - A step (an "event") is what one task does from a RUN decision that picks
 *    it (or from the moment it runs when it was the only runnable task) to
 *    the next decision or switch. The runtime reports what it touched
 *    (csp_sched_access): the channels, mutexes, wait groups and tickers it
 *    operated on, the harness's records (output, gauges, failures: measure.c
 *    touches them), the tasks it made and the tasks it woke.
 *  - Two events of different tasks are dependent when they touch a common
 *    object. Happens-before is program order, dependence, spawn (the child
 *    after the step that made it), wake (a woken task's next step after the
 *    step that woke it) and the scheduler's own steps (virtual time moving,
 *    timers firing, the idle waiter released: after everything before,
 *    before everything after). Vector clocks hold it.
 *  - A race is a pair e < e' of dependent events of different tasks with no
 *    other happens-before path between them. For each race, in the state
 *    before e, the search must also try a task that can start the reversed
 *    order: an initial of v = (the events after e that do not happen after
 *    e), then e'. If no such task is already a backtrack point there, one is
 *    added (source sets).
 *  - Sleep sets: after an option of a decision has been explored, it sleeps
 *    in the siblings explored after it until a dependent event happens; an
 *    option asleep is not taken, and a run in which every runnable task is
 *    asleep is redundant (cut short, not judged).
 *  - SELECT and TIMER decisions are not reduced: every option is a branch
 *    (strategy.c), as is virtual time.
 *  - Arrival orders (CSP_ACCESS_MEET). A task T parks in an operation on
 *    object o (event j, its last); later a blocking operation of another
 *    task (event e) completes it: a rendezvous partner, a close, a wait
 *    group reaching zero, an unlock. Had e's task arrived first, it would
 *    have parked and T's arrival completed both, to the same end: the pair
 *    (j, e) is dependent but not a race to reverse. e is checked instead
 *    against what touched o before j (before every parking e met there),
 *    and paths through a met parking are not "other paths" for e's races,
 *    nor is j in e's arrival clock (what reverse() uses to place e). Two
 *    cases keep it sound:
 *      · T parked in a select: arriving later, it could have found another
 *        case ready and taken that instead, and then e and what follows it
 *        would not come after j: j is left out of e's clock altogether, so
 *        that the events after e race with j and the orders in which T
 *        arrives late are explored.
 *      · o is peeked at (CSP_ACCESS_PEEK: a select with a default, csp_len,
 *        csp_mutex_trylock) in any run: what the peek sees depends on who
 *        is parked, so arrival orders on o are races as before. Learnt as
 *        the search goes: when an object on which a meet was already
 *        skipped turns out to be peeked at, the search begins again
 *        (harness__dpor_take_restart), with the object known.
 *    tests/test_dpor.c's blocking programs and written-out cases (a select
 *    claimed by either of two senders or by a close, a select with a default
 *    between two arrivals, two receivers queued in either order) check it
 *    against the unreduced search and RANDOM.
 *
 *  - Reads. On a channel nothing sends on — only receives and a close, the
 *    "done" channel of Go's cancellation idiom — two receives (parked, or
 *    a select that looked at it and took another case, or csp_len) end the
 *    same in either order: nothing they do is seen by another receive, and
 *    the close wakes every parked one. Such an access is a read (the
 *    runtime says which accesses are receives: csp_access_op); two reads
 *    are independent, a read and anything else are not. The object table
 *    keeps, per object, the last write and the reads since (the last two
 *    of each task: a write that meets a task's parking races with the
 *    read before it). Which channels are sent on is learnt as the search
 *    goes: when a send shows on a channel whose receives were taken for
 *    reads, the search begins again (harness__dpor_take_restart), knowing
 *    it. Before this, every select on a pipe's `done` ordered every other:
 *    chat.nonblocking's single-client search went from 534,068 schedules to
 *    53,197; cancel.broadcast's proof from 4,320 to 32.
 *
 * What a reduced EXHAUSTIVE promises (tested in tests/test_dpor.c against
 * the unreduced search): every final state — verdict, output, leaks — that
 * some schedule reaches is reached, provided tasks share state only through
 * the runtime's objects and the harness's records. Plain memory shared
 * without synchronisation is a data race (TSan's RACE), and the order of
 * two such accesses is not searched.
 *
 * With a preemption bound: sleep sets are off, a backtrack point that the
 * bound forbids also puts one at the latest earlier decision where taking
 * that task is free (it is not a preemption) — Coons, Musuvathi, McKinley,
 * "Bounded partial-order reduction", OOPSLA 2013 — and the tests compare
 * what it reaches with the unreduced bounded search.
 *
 * Memory: a run's events, clocks and object table are reused from run to
 * run; the path's decisions keep their option sets, backtrack and sleep sets
 * while they are on the path (bounded by the run length). */
#include "quiet.h"
#include "dpor.h"
#include "dpor_objects.h"

#include <stdlib.h>
#include <string.h>

#define BT 1u      /* a backtrack point: to be explored */
#define DONE 2u    /* explored (or being explored) */

typedef struct { uint64_t *a; uint32_t n, cap; } u64vec;

typedef struct {
    bool run, forced, used;
    int current;               /* the running task's option, -1 if none */
    unsigned pre_before;
    uint32_t n;
    uint64_t *keys;            /* options' task keys */
    uint8_t *flags;
    u64vec *acc;               /* per option: what its step touched (explored ones) */
    uint32_t nsleep;
    uint64_t *sleep_keys;
    u64vec *sleep_acc;
} dnode;

typedef struct {
    uint32_t proc, local;
    int32_t node, join;
    uint32_t acc_off, nacc;
    uint32_t meet_off, nmeet;  /* its CSP_ACCESS_MEETs: (proc, object, in_select) in meets */
    uint32_t vc_off, vc_len;
} devent;

typedef struct {
    uint64_t key;
    uint32_t count;            /* events so far */
    int32_t last;              /* its last event, or -1 */
    int32_t pending_join;      /* the event that made or woke it, for its next event */
    u64vec evs;                /* its events' indices (binary search by index) */
} dproc;

struct harness_dpor {
    bool sleep_sets, blocked;
    bool finishing;            /* blocked, and its last event analysed: the rest of the run is
                                  not looked at (harness__dpor_finishing) */
    unsigned bound;            /* the preemption bound (~0u: none) */
    harness_dpor_stats stats;
    /* The path: one node per decision. */
    dnode *nodes;
    size_t nnodes, capnodes;
    /* This run. */
    devent *ev;
    size_t nev, capev;
    u64vec accs;               /* every event's touched objects */
    u64vec meets;              /* every event's meets: proc, object, in_select, proc ... */
    int32_t *accprev;          /* parallel to accs: the object's previous toucher (-1: none) */
    size_t capaccprev;
    /* Across runs: objects something peeked at (CSP_ACCESS_PEEK: no meet is
     * skipped on them), objects on which a meet was skipped; both at once
     * means the search so far skipped what it should not have: restart.
     * Likewise objects something sent on (CSP_ACCESS_OP_SEND: their
     * receives are not reads) and objects on which receives were taken for
     * reads. */
    dpor_keyset peeked, skipped, sent, read;
    bool restart;
    uint32_t *arrival;         /* the finishing event's clock without the parkings it met */
    size_t caparrival;
    uint32_t *vcs;
    size_t nvcs, capvcs;
    dproc *procs;
    size_t nprocs, capprocs;
    uint32_t *id_proc;         /* task id -> proc + 1 (0: unknown) */
    size_t nid;
    uint32_t *barrier;         /* per proc: events before the last scheduler step */
    size_t nbarrier, capbarrier;
    int32_t cur;               /* the event in progress, or -1 */
    /* The object table (open addressing): key -> the last event that wrote
     * it (touched it other than by a read), and the reads since then, at
     * most the last two of each task (dpor.c's head, "Reads"). */
    uint64_t *okeys;
    int32_t *olast;
    struct oreads { int32_t *a; uint32_t n, cap; } *oreads;
    size_t ocap, ocount;
    /* Sleep set carried from the last decision to the next. */
    uint32_t nsleep, capsleep;
    uint64_t *sleep_keys;
    u64vec *sleep_acc;
    /* CHANLAB_DPOR_STATS (harness__dpor_count_objects): per object, the races
     * reversed on it and how many of them planted a new backtrack point. */
    dpor_objstats *ostat;
};

/* An access in accs: the object's key with its lowest bit cleared, or'ed
 * with READ when the access is a read (a receive on a channel nothing sends
 * on). Sorted, an event's accesses put each object's write before its read. */
#define READ 1ull
#define OBJ(k) ((k) & ~READ)

/* ---------------------------------------------------------------- Vectors */

HARNESS_QUIET static void vec_push(u64vec *v, uint64_t x)
{
    if (v->n == v->cap) {
        v->cap = v->cap ? 2 * v->cap : 8;
        v->a = csp_tool_realloc(v->a, v->cap * sizeof *v->a);
    }
    v->a[v->n++] = x;
}

HARNESS_QUIET static void vec_set(u64vec *v, const uint64_t *a, uint32_t n)
{
    v->n = 0;
    for (uint32_t i = 0; i < n; i++)
        vec_push(v, a[i]);
}

/* Two sorted access lists have a common object that not both only read. */
HARNESS_QUIET static bool sorted_conflict(const uint64_t *a, uint32_t na, const uint64_t *b, uint32_t nb)
{
    uint32_t i = 0, j = 0;
    while (i < na && j < nb) {
        if (OBJ(a[i]) == OBJ(b[j])) {
            if (!(a[i] & b[j] & READ))
                return true;
            i++;
            j++;
        } else if (a[i] < b[j]) {
            i++;
        } else {
            j++;
        }
    }
    return false;
}

HARNESS_QUIET static int cmp_u64(const void *x, const void *y)
{
    uint64_t a = *(const uint64_t *)x, b = *(const uint64_t *)y;
    return a < b ? -1 : a > b;
}

/* ------------------------------------------------------------- Lifecycle */

HARNESS_QUIET harness_dpor *harness__dpor_new(bool sleep_sets, unsigned preemption_bound)
{
    harness_dpor *d = csp_tool_alloc(sizeof *d);
    quiet_memset(d, 0, sizeof *d);
    d->sleep_sets = sleep_sets;
    d->bound = preemption_bound;
    d->cur = -1;
    return d;
}

HARNESS_QUIET static void node_clear(dnode *n)
{
    for (uint32_t i = 0; n->acc && i < n->n; i++)
        csp_tool_free(n->acc[i].a);
    for (uint32_t i = 0; n->sleep_acc && i < n->nsleep; i++)
        csp_tool_free(n->sleep_acc[i].a);
    csp_tool_free(n->keys);
    csp_tool_free(n->flags);
    csp_tool_free(n->acc);
    csp_tool_free(n->sleep_keys);
    csp_tool_free(n->sleep_acc);
    quiet_memset(n, 0, sizeof *n);
}

HARNESS_QUIET static void sleep_clear(harness_dpor *d)
{
    for (uint32_t i = 0; i < d->nsleep; i++)
        d->sleep_acc[i].n = 0;
    d->nsleep = 0;
}

HARNESS_QUIET void harness__dpor_free(harness_dpor *d)
{
    if (!d)
        return;
    for (size_t i = 0; i < d->capnodes; i++)
        node_clear(&d->nodes[i]);
    csp_tool_free(d->nodes);
    csp_tool_free(d->ev);
    csp_tool_free(d->accs.a);
    csp_tool_free(d->meets.a);
    csp_tool_free(d->accprev);
    dpor_keyset_free(&d->peeked);
    dpor_keyset_free(&d->skipped);
    dpor_keyset_free(&d->sent);
    dpor_keyset_free(&d->read);
    csp_tool_free(d->arrival);
    csp_tool_free(d->vcs);
    for (size_t i = 0; i < d->capprocs; i++)
        csp_tool_free(d->procs[i].evs.a);
    csp_tool_free(d->procs);
    csp_tool_free(d->id_proc);
    csp_tool_free(d->barrier);
    for (size_t i = 0; i < d->ocap; i++)
        csp_tool_free(d->oreads[i].a);
    csp_tool_free(d->okeys);
    csp_tool_free(d->olast);
    csp_tool_free(d->oreads);
    for (uint32_t i = 0; i < d->capsleep; i++)
        csp_tool_free(d->sleep_acc[i].a);
    csp_tool_free(d->sleep_keys);
    csp_tool_free(d->sleep_acc);
    dpor_objstats_free(d->ostat);
    csp_tool_free(d);
}

/* ------------------------------------------------- Per-object statistics */

HARNESS_QUIET void harness__dpor_count_objects(harness_dpor *d)
{
    if (!d->ostat)
        d->ostat = dpor_objstats_new();
}

HARNESS_QUIET void harness__dpor_write_objects(harness_dpor *d, FILE *f, int top)
{
    dpor_objstats_write(d->ostat, f, top);
}

HARNESS_QUIET void harness__dpor_begin_run(harness_dpor *d)
{
    d->blocked = false;
    d->finishing = false;
    d->nev = 0;
    d->accs.n = 0;
    d->meets.n = 0;
    d->nvcs = 0;
    for (size_t i = 0; i < d->nprocs; i++) {
        d->procs[i].evs.n = 0;
        d->procs[i].count = 0;
    }
    d->nprocs = 0;
    if (d->id_proc)
        quiet_memset(d->id_proc, 0, d->nid * sizeof *d->id_proc);
    d->nbarrier = 0;
    d->cur = -1;
    if (d->okeys) {
        quiet_memset(d->olast, 0xff, d->ocap * sizeof *d->olast);   /* -1: empty */
        for (size_t i = 0; i < d->ocap; i++)
            d->oreads[i].n = 0;
    }
    d->ocount = 0;
    sleep_clear(d);
}

HARNESS_QUIET bool harness__dpor_blocked(const harness_dpor *d) { return d->blocked; }
HARNESS_QUIET bool harness__dpor_finishing(const harness_dpor *d) { return d->finishing; }

HARNESS_QUIET bool harness__dpor_take_restart(harness_dpor *d)
{
    if (!d->restart)
        return false;
    d->restart = false;
    dpor_keyset_clear(&d->skipped);
    dpor_keyset_clear(&d->read);
    d->stats.restarts++;
    for (size_t i = 0; i < d->nnodes; i++)
        node_clear(&d->nodes[i]);
    d->nnodes = 0;
    return true;
}
HARNESS_QUIET harness_dpor_stats harness__dpor_stats(const harness_dpor *d) { return d->stats; }

/* ------------------------------------------------------------- Processes */

HARNESS_QUIET static uint32_t proc_of_id(const harness_dpor *d, uint64_t id)
{
    return id < d->nid ? d->id_proc[id] : 0;   /* proc + 1, or 0 */
}

HARNESS_QUIET static uint32_t proc_add(harness_dpor *d, uint64_t id, uint64_t key)
{
    uint32_t p = proc_of_id(d, id);
    if (p)
        return p - 1;
    if (id >= d->nid) {
        size_t n = d->nid ? d->nid : 64;
        while (n <= id)
            n *= 2;
        d->id_proc = csp_tool_realloc(d->id_proc, n * sizeof *d->id_proc);
        quiet_memset(d->id_proc + d->nid, 0, (n - d->nid) * sizeof *d->id_proc);
        d->nid = n;
    }
    if (d->nprocs == d->capprocs) {
        size_t n = d->capprocs ? 2 * d->capprocs : 16;
        d->procs = csp_tool_realloc(d->procs, n * sizeof *d->procs);
        quiet_memset(d->procs + d->capprocs, 0, (n - d->capprocs) * sizeof *d->procs);
        d->capprocs = n;
    }
    dproc *pr = &d->procs[d->nprocs];
    pr->key = key;
    pr->count = 0;
    pr->last = -1;
    pr->pending_join = -1;
    pr->evs.n = 0;
    d->id_proc[id] = (uint32_t)d->nprocs + 1;
    return (uint32_t)d->nprocs++;
}

/* Events of proc p with index <= j. */
HARNESS_QUIET static uint32_t count_upto(const harness_dpor *d, uint32_t p, size_t j)
{
    const u64vec *v = &d->procs[p].evs;
    uint32_t lo = 0, hi = v->n;
    while (lo < hi) {
        uint32_t mid = (lo + hi) / 2;
        if (v->a[mid] <= j)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

HARNESS_QUIET static uint32_t vc_at(const harness_dpor *d, size_t e, uint32_t p)
{
    const devent *x = &d->ev[e];
    return p < x->vc_len ? d->vcs[x->vc_off + p] : 0;
}

/* e happens before (or is) f. */
HARNESS_QUIET static bool hb(const harness_dpor *d, size_t e, size_t f)
{
    return vc_at(d, f, d->ev[e].proc) >= d->ev[e].local;
}

/* ---------------------------------------------------------- Object table */

HARNESS_QUIET static size_t slot_of(const harness_dpor *d, uint64_t key)
{
    size_t m = d->ocap - 1, i = (size_t)(key * 0x9e3779b97f4a7c15ull >> 20) & m;
    while (d->olast[i] != -1 && d->okeys[i] != key)
        i = (i + 1) & m;
    return i;
}

/* The slot of object key (claimed if new: no event yet, last -2). */
HARNESS_QUIET static size_t obj_slot(harness_dpor *d, uint64_t key)
{
    if (2 * (d->ocount + 1) > d->ocap) {
        size_t oldcap = d->ocap;
        uint64_t *ok = d->okeys;
        int32_t *ol = d->olast;
        struct oreads *orr = d->oreads;
        d->ocap = oldcap ? 2 * oldcap : 256;
        d->okeys = csp_tool_alloc(d->ocap * sizeof *d->okeys);
        d->olast = csp_tool_alloc(d->ocap * sizeof *d->olast);
        d->oreads = csp_tool_alloc(d->ocap * sizeof *d->oreads);
        quiet_memset(d->olast, 0xff, d->ocap * sizeof *d->olast);
        quiet_memset(d->oreads, 0, d->ocap * sizeof *d->oreads);
        for (size_t i = 0; i < oldcap; i++) {
            if (ol[i] != -1) {
                size_t s = slot_of(d, ok[i]);
                d->okeys[s] = ok[i];
                d->olast[s] = ol[i];
                d->oreads[s] = orr[i];
            } else {
                csp_tool_free(orr[i].a);
            }
        }
        csp_tool_free(ok);
        csp_tool_free(ol);
        csp_tool_free(orr);
    }
    size_t s = slot_of(d, key);
    if (d->olast[s] == -1) {
        d->okeys[s] = key;
        d->olast[s] = -2;   /* claimed, no event yet */
        d->oreads[s].n = 0;
        d->ocount++;
    }
    return s;
}

/* Read event e of task p joins object slot s's reads since its last write,
 * which keep at most the last two of each task: an earlier one is ordered
 * before them (program order), unless the later is a parking that a write
 * meets, and then the one before it is what that write races with. */
HARNESS_QUIET static void obj_add_read(harness_dpor *d, size_t s, int32_t e, uint32_t p)
{
    struct oreads *r = &d->oreads[s];
    uint32_t mine = 0, oldest = 0;
    for (uint32_t i = r->n; i-- > 0;)
        if (d->ev[r->a[i]].proc == p) {
            mine++;
            oldest = i;
        }
    if (mine >= 2) {
        quiet_memmove(r->a + oldest, r->a + oldest + 1, (r->n - oldest - 1) * sizeof *r->a);
        r->n--;
    }
    if (r->n == r->cap) {
        r->cap = r->cap ? 2 * r->cap : 8;
        r->a = csp_tool_realloc(r->a, r->cap * sizeof *r->a);
    }
    r->a[r->n++] = e;
}

/* ----------------------------------------------------------------- Nodes */

HARNESS_QUIET static dnode *node_at(harness_dpor *d, size_t i)
{
    if (i >= d->capnodes) {
        size_t n = d->capnodes ? d->capnodes : 256;
        while (n <= i)
            n *= 2;
        d->nodes = csp_tool_realloc(d->nodes, n * sizeof *d->nodes);
        quiet_memset(d->nodes + d->capnodes, 0, (n - d->capnodes) * sizeof *d->nodes);
        d->capnodes = n;
    }
    if (i >= d->nnodes)
        d->nnodes = i + 1;
    return &d->nodes[i];
}

HARNESS_QUIET void harness__dpor_truncate(harness_dpor *d, size_t keep)
{
    for (size_t i = keep + 1; i < d->nnodes; i++)
        node_clear(&d->nodes[i]);
    if (d->nnodes > keep + 1)
        d->nnodes = keep + 1;
}

HARNESS_QUIET static int node_option(const dnode *n, uint64_t key)
{
    for (uint32_t k = 0; k < n->n; k++)
        if (n->keys[k] == key)
            return (int)k;
    return -1;
}

HARNESS_QUIET static bool node_asleep(const dnode *n, uint64_t key)
{
    for (uint32_t k = 0; k < n->nsleep; k++)
        if (n->sleep_keys[k] == key)
            return true;
    return false;
}

/* ---------------------------------------------------------------- Events */

HARNESS_QUIET static void sleep_push(harness_dpor *d, uint64_t key, const u64vec *acc)
{
    if (d->nsleep == d->capsleep) {
        uint32_t n = d->capsleep ? 2 * d->capsleep : 8;
        d->sleep_keys = csp_tool_realloc(d->sleep_keys, n * sizeof *d->sleep_keys);
        d->sleep_acc = csp_tool_realloc(d->sleep_acc, n * sizeof *d->sleep_acc);
        quiet_memset(d->sleep_acc + d->capsleep, 0, (n - d->capsleep) * sizeof *d->sleep_acc);
        d->capsleep = n;
    }
    d->sleep_keys[d->nsleep] = key;
    vec_set(&d->sleep_acc[d->nsleep], acc->a, acc->n);
    d->nsleep++;
}

/* The reversal of race (j, e): a backtrack point before j for an initial of
 * v = notdep(j).e (dpor.c's head). */
HARNESS_QUIET static bool reverse(harness_dpor *d, size_t j, size_t e, unsigned bound, bool through)
{
    d->stats.races++;
    int32_t ni = d->ev[j].node;
    if (ni < 0 && through)
        return false;   /* j's task was the only one that could run there: nothing to try */
    if (ni < 0 || (size_t)ni >= d->nnodes || !d->nodes[ni].run) {
        d->stats.anomalies++;
        return false;
    }
    dnode *n = &d->nodes[ni];
    if (n->forced)
        return false;   /* fairness made it: not branched on (strategy.c) */
    /* Initials: events of v with no happens-before predecessor in v. */
    uint64_t init_keys[64];
    uint32_t ninit = 0;
    bool overflow = false;
    for (size_t u = j + 1; u <= e; u++) {
        if (u != e && hb(d, j, u))
            continue;
        uint32_t pu = d->ev[u].proc;
        if (d->ev[u].local != count_upto(d, pu, j) + 1)
            continue;   /* an earlier event of its task is in v */
        bool initial = true;
        /* e's arrival: its clock without the parkings it met (d->arrival) */
        for (uint32_t r = 0; r < d->ev[u].vc_len && initial; r++)
            if (r != pu && (u == e ? d->arrival[r] : vc_at(d, u, r)) > count_upto(d, r, j))
                initial = false;
        if (!initial)
            continue;
        if (ninit < 64)
            init_keys[ninit++] = d->procs[pu].key;
        else
            overflow = true;
    }
    bool bounded = bound != ~0u;
    for (uint32_t k = 0; k < ninit; k++) {
        int o = node_option(n, init_keys[k]);
        if (o >= 0 && (n->flags[o] & BT) &&
            (!bounded || n->pre_before + (n->current >= 0 && o != n->current) <= bound))
            return false;   /* the reversal is already planned (or explored) */
    }
    int pick = -1;
    for (uint32_t k = 0; k < ninit && pick < 0; k++) {   /* within the bound, if one is */
        int o = node_option(n, init_keys[k]);
        if (o >= 0 && !node_asleep(n, init_keys[k]) &&
            (!bounded || n->pre_before + (n->current >= 0 && o != n->current) <= bound))
            pick = o;
    }
    for (uint32_t k = 0; k < ninit && pick < 0; k++) {
        int o = node_option(n, init_keys[k]);
        if (o >= 0 && !node_asleep(n, init_keys[k]))
            pick = o;
    }
    for (uint32_t k = 0; k < ninit && pick < 0; k++)
        pick = node_option(n, init_keys[k]);
    if (pick < 0 || overflow) {
        /* No initial is an option there: a dependency the runtime did not
         * report. Stay sound: every option is a backtrack point. */
        if (pick < 0)
            d->stats.anomalies++;
        bool planted = false;
        for (uint32_t k = 0; k < n->n; k++) {
            planted |= !(n->flags[k] & BT);
            n->flags[k] |= BT;
        }
        return planted;
    }
    bool planted = !(n->flags[pick] & BT);
    n->flags[pick] |= BT;
    /* Bounded: the reversal is a preemption the bound forbids here; also
     * try the task at the latest earlier decision where it runs for free. */
    if (bounded && n->current >= 0 && pick != n->current) {
        uint64_t key = n->keys[pick];
        for (int32_t m = ni - 1; m >= 0; m--) {
            dnode *x = &d->nodes[m];
            if (!x->run || x->forced)
                continue;
            int o = node_option(x, key);
            if (o >= 0 && (x->current < 0 || x->current == o)) {
                if (!(x->flags[o] & BT)) {
                    x->flags[o] |= BT;
                    d->stats.conservative++;
                }
                break;
            }
        }
    }
    return planted;
}

/* Event j (of another task) is that task's parking, and event x completed
 * what it was parked in on object `obj` (CSP_ACCESS_MEET): MET_PLAIN, or
 * MET_SELECT when it was parked in a select; 0 when not (or when obj is
 * peeked at). */
enum { MET_PLAIN = 1, MET_SELECT = 2 };
HARNESS_QUIET static int met_at(const harness_dpor *d, const devent *x, int32_t j, uint64_t obj)
{
    uint32_t pj = d->ev[j].proc;
    if (d->procs[pj].last != j || dpor_keyset_has(&d->peeked, obj))
        return 0;
    for (uint32_t m = 0; m < x->nmeet; m++) {
        const uint64_t *t = d->meets.a + x->meet_off + 3 * m;
        if (t[0] == pj && t[1] == obj)
            return t[2] ? MET_SELECT : MET_PLAIN;
    }
    return 0;
}

/* The writer of obj before event j (-1: none). */
HARNESS_QUIET static int32_t prev_toucher(const harness_dpor *d, int32_t j, uint64_t obj)
{
    const devent *y = &d->ev[j];
    const uint64_t *a = d->accs.a + y->acc_off;
    uint32_t lo = 0, hi = y->nacc;
    while (lo < hi) {   /* a sorted, deduplicated list */
        uint32_t mid = (lo + hi) / 2;
        if (OBJ(a[mid]) < obj)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < y->nacc && OBJ(a[lo]) == obj ? d->accprev[y->acc_off + lo] : -1;
}

/* Event j, a predecessor of event e on object obj, races with e unless
 * another path orders them (a scheduler step after j, or another
 * predecessor of e after j that is not a parking e met). */
HARNESS_QUIET static void race_with(harness_dpor *d, size_t e, int32_t j, uint64_t obj, const int32_t *preds,
                                    const bool *meet_only, uint32_t npreds, uint32_t skip, bool through)
{
    uint32_t pj = d->ev[j].proc;
    if (d->nbarrier > pj && d->barrier[pj] >= d->ev[j].local)
        return;
    for (uint32_t r = 0; r < npreds; r++)
        if (r != skip && !meet_only[r] && preds[r] != j && hb(d, (size_t)j, (size_t)preds[r]))
            return;
    bool planted = reverse(d, (size_t)j, e, d->bound, through);
    if (d->ostat)
        dpor_objstats_race(d->ostat, obj, planted);
}

/* The event in progress is over: its clock, its races, the object table,
 * the sleep set, the explored option's record. */
HARNESS_QUIET static void finish_event(harness_dpor *d)
{
    if (d->cur < 0)
        return;
    size_t e = (size_t)d->cur;
    d->cur = -1;
    devent *x = &d->ev[e];
    static uint64_t none[1];
    uint64_t *acc = d->accs.a ? d->accs.a + x->acc_off : none;   /* no access yet: NULL + 0 is UB */
    if (x->nacc > 1) {   /* sorted, one access per object: a write if any */
        qsort(acc, x->nacc, sizeof *acc, cmp_u64);
        uint32_t w = 1;
        for (uint32_t r = 1; r < x->nacc; r++)
            if (OBJ(acc[r]) != OBJ(acc[w - 1]))
                acc[w++] = acc[r];
        x->nacc = w;
    }
    dproc *pr = &d->procs[x->proc];
    /* Direct predecessors: program order, the maker or waker, the last
     * scheduler step, the last writer of each object, and for a write the
     * reads since then. */
#define MAXPREDS (4 + 128)
    int32_t preds[MAXPREDS];
    uint64_t predobj[MAXPREDS];  /* the object that made preds[q] a predecessor (0: none) */
    bool meet_only[MAXPREDS];    /* preds[q] is its task's parking, and this event met that
                                    task there on every object that made it a predecessor */
    bool meet_sel[MAXPREDS];     /* ... and that parking was a select's */
    uint32_t npreds = 0;
    if (pr->last >= 0) {
        predobj[npreds] = 0;
        meet_only[npreds] = meet_sel[npreds] = false;
        preds[npreds++] = pr->last;
    }
    if (x->join >= 0) {
        predobj[npreds] = 0;
        meet_only[npreds] = meet_sel[npreds] = false;
        preds[npreds++] = x->join;
    }
    int32_t objpred_first = (int32_t)npreds;
    bool many = false;
    for (uint32_t k = 0; k < x->nacc; k++) {
        uint64_t obj = OBJ(acc[k]);
        size_t sl = obj_slot(d, obj);
        const struct oreads *rd = &d->oreads[sl];
        /* the last write, then (for a write) the reads since */
        for (int32_t r = -1; r < (int32_t)((acc[k] & READ) ? 0 : rd->n); r++) {
            int32_t j = r < 0 ? d->olast[sl] : rd->a[r];
            if (j < 0 || (size_t)j == e)
                continue;
            int met = met_at(d, x, j, obj);
            bool dup = false;
            for (uint32_t q = 0; q < npreds; q++)
                if (preds[q] == j) {
                    dup = true;
                    meet_only[q] = meet_only[q] && met;
                    meet_sel[q] = meet_sel[q] && met == MET_SELECT;
                }
            if (!dup) {
                if (npreds < MAXPREDS) {
                    predobj[npreds] = obj;
                    meet_only[npreds] = met != 0;
                    meet_sel[npreds] = met == MET_SELECT;
                    preds[npreds++] = j;
                } else {
                    many = true;
                }
            }
        }
    }
    /* The clock. */
    uint32_t len = (uint32_t)d->nprocs;
    if (d->nvcs + len > d->capvcs || !d->vcs) {
        d->capvcs = d->capvcs ? 2 * d->capvcs : 4096;
        while (d->nvcs + len > d->capvcs)
            d->capvcs *= 2;
        d->vcs = csp_tool_realloc(d->vcs, d->capvcs * sizeof *d->vcs);
    }
    x->vc_off = (uint32_t)d->nvcs;
    x->vc_len = len;
    uint32_t *vc = d->vcs + d->nvcs;
    d->nvcs += len;
    for (uint32_t r = 0; r < len; r++)
        vc[r] = r < d->nbarrier ? d->barrier[r] : 0;
    /* A select's parking that this event met does not order it: arriving
     * later, the select could have taken another case, and then this event
     * and what follows it would not come after it (csp_sched.h). */
    for (uint32_t q = 0; q < npreds; q++)
        if (!(meet_only[q] && meet_sel[q]))
            for (uint32_t r = 0; r < d->ev[preds[q]].vc_len; r++)
                if (d->vcs[d->ev[preds[q]].vc_off + r] > vc[r])
                    vc[r] = d->vcs[d->ev[preds[q]].vc_off + r];
    if (many) {   /* more than preds[] holds: join them all, race-check none */
        for (uint32_t k = 0; k < x->nacc; k++) {
            size_t sl = obj_slot(d, OBJ(acc[k]));
            const struct oreads *rd = &d->oreads[sl];
            for (int32_t r = -1; r < (int32_t)((acc[k] & READ) ? 0 : rd->n); r++) {
                int32_t l = r < 0 ? d->olast[sl] : rd->a[r];
                if (l >= 0 && (size_t)l != e)
                    for (uint32_t v = 0; v < d->ev[l].vc_len; v++)
                        if (d->vcs[d->ev[l].vc_off + v] > vc[v])
                            vc[v] = d->vcs[d->ev[l].vc_off + v];
            }
        }
        d->stats.anomalies++;
    }
    vc[x->proc] = x->local;
    /* Its arrival clock: the same, without the parkings it met (reverse()
     * finds the event's own place in a reversal by it). */
    if (d->caparrival < len) {
        d->caparrival = 2 * len;
        d->arrival = csp_tool_realloc(d->arrival, d->caparrival * sizeof *d->arrival);
    }
    bool any_meet = false;
    for (uint32_t q = 0; q < npreds; q++)
        any_meet |= meet_only[q];
    if (!any_meet || many) {
        quiet_memcpy(d->arrival, vc, len * sizeof *d->arrival);
    } else {
        for (uint32_t r = 0; r < len; r++)
            d->arrival[r] = r < d->nbarrier ? d->barrier[r] : 0;
        for (uint32_t q = 0; q < npreds; q++)
            if (!meet_only[q])
                for (uint32_t r = 0; r < d->ev[preds[q]].vc_len; r++)
                    if (d->vcs[d->ev[preds[q]].vc_off + r] > d->arrival[r])
                        d->arrival[r] = d->vcs[d->ev[preds[q]].vc_off + r];
        d->arrival[x->proc] = x->local;
    }
    /* Races: an object predecessor of another task with no other path.
     * A predecessor that is a parking this event met is no race (an arrival
     * order): the event is checked instead against what touched the object
     * before that parking (before all the parkings it met there), and paths
     * through a met parking do not count as other paths (the arrival is not
     * ordered by it; only what follows the meeting is). */
    for (uint32_t q = (uint32_t)objpred_first; q < npreds; q++) {
        int32_t j = preds[q];
        if (d->ev[j].proc == x->proc)
            continue;
        if (!meet_only[q]) {
            race_with(d, e, j, predobj[q], preds, meet_only, npreds, q, false);
            continue;
        }
        d->stats.meets++;
        for (uint32_t k = 0; k < x->nacc; k++) {
            uint64_t obj = OBJ(acc[k]);
            size_t sl = obj_slot(d, obj);
            if (d->olast[sl] != j) {
                /* j is a read there: the reads before it and the last
                 * write are predecessors of their own */
                for (uint32_t r = 0; r < d->oreads[sl].n && !(acc[k] & READ); r++)
                    if (d->oreads[sl].a[r] == j)
                        dpor_keyset_add(&d->skipped, obj);
                continue;
            }
            dpor_keyset_add(&d->skipped, obj);
            int32_t before = prev_toucher(d, j, obj);
            while (before >= 0 && met_at(d, x, before, obj))
                before = prev_toucher(d, before, obj);
            if (before >= 0 && d->ev[before].proc != x->proc)
                race_with(d, e, before, obj, preds, meet_only, npreds, q, true);
        }
    }
    if (d->capaccprev < d->accs.cap) {
        d->capaccprev = d->accs.cap;
        d->accprev = csp_tool_realloc(d->accprev, d->capaccprev * sizeof *d->accprev);
    }
    for (uint32_t k = 0; k < x->nacc; k++) {
        size_t sl = obj_slot(d, OBJ(acc[k]));
        d->accprev[x->acc_off + k] = d->olast[sl] >= 0 ? d->olast[sl] : -1;
        if (acc[k] & READ) {
            obj_add_read(d, sl, (int32_t)e, x->proc);
        } else {
            d->olast[sl] = (int32_t)e;
            d->oreads[sl].n = 0;
        }
    }
    pr->last = (int32_t)e;
    /* Sleep set: entries dependent on this event wake up. */
    uint32_t w = 0;
    for (uint32_t k = 0; k < d->nsleep; k++) {
        bool wake = d->sleep_keys[k] == pr->key ||
                    sorted_conflict(d->sleep_acc[k].a, d->sleep_acc[k].n, acc, x->nacc);
        if (!wake) {
            if (w != k) {
                u64vec t = d->sleep_acc[w];
                d->sleep_keys[w] = d->sleep_keys[k];
                d->sleep_acc[w] = d->sleep_acc[k];
                d->sleep_acc[k] = t;
            }
            w++;
        }
    }
    for (uint32_t k = w; k < d->nsleep; k++)
        d->sleep_acc[k].n = 0;
    d->nsleep = w;
    /* The explored option's step, for the sleep sets of its siblings. */
    if (x->node >= 0 && (size_t)x->node < d->nnodes && d->nodes[x->node].run) {
        dnode *n = &d->nodes[x->node];
        int o = node_option(n, pr->key);
        if (o >= 0)
            vec_set(&n->acc[o], acc, x->nacc);
    }
}

HARNESS_QUIET static void start_event(harness_dpor *d, uint32_t p, int32_t node)
{
    if (d->nev == d->capev) {
        d->capev = d->capev ? 2 * d->capev : 1024;
        d->ev = csp_tool_realloc(d->ev, d->capev * sizeof *d->ev);
    }
    dproc *pr = &d->procs[p];
    devent *x = &d->ev[d->nev];
    x->proc = p;
    x->local = ++pr->count;
    x->node = node;
    x->join = pr->pending_join;
    pr->pending_join = -1;
    x->acc_off = d->accs.n;
    x->nacc = 0;
    x->meet_off = d->meets.n;
    x->nmeet = 0;
    x->vc_off = x->vc_len = 0;
    vec_push(&pr->evs, d->nev);
    d->cur = (int32_t)d->nev++;
    if (node < 0)   /* it runs without a decision: if it sleeps, the run is redundant */
        for (uint32_t k = 0; k < d->nsleep; k++)
            if (d->sleep_keys[k] == pr->key)
                d->blocked = true;
}

/* The event in progress belongs to the task with this id (a new one if
 * another task was running). */
HARNESS_QUIET static void ensure_event(harness_dpor *d, uint64_t id, uint64_t key)
{
    uint32_t p = proc_add(d, id, key);
    if (d->cur >= 0 && d->ev[d->cur].proc == p)
        return;
    finish_event(d);
    start_event(d, p, -1);
}

/* A redundant run is analysed up to the end of the event in which it was
 * found redundant (as when such runs were cut short there), then no more:
 * it goes on to its end unobserved (harness__dpor_finishing). */
HARNESS_QUIET static void finish_redundant(harness_dpor *d)
{
    finish_event(d);
    d->finishing = true;
}

HARNESS_QUIET void harness__dpor_access(harness_dpor *d, const csp_sched_access *a)
{
    if (d->finishing)
        return;
    switch (a->kind) {
    case CSP_ACCESS_OBJECT: {
        ensure_event(d, a->task, a->task_key);
        uint64_t obj = OBJ(a->object);
        if (a->op == CSP_ACCESS_OP_SEND && dpor_keyset_add(&d->sent, obj) &&
            dpor_keyset_has(&d->read, obj))
            d->restart = true;   /* its receives were taken for reads */
        bool read = a->op == CSP_ACCESS_OP_SHARED;
        if (a->op == CSP_ACCESS_OP_RECV && !dpor_keyset_has(&d->sent, obj)) {
            read = true;
            dpor_keyset_add(&d->read, obj);
        }
        vec_push(&d->accs, obj | (read ? READ : 0));
        if (d->ostat)
            dpor_objstats_name(d->ostat, obj, a->object_name);
        d->ev[d->cur].nacc++;
        break;
    }
    case CSP_ACCESS_SPAWN: {
        int32_t maker = -1;
        if (a->task) {
            ensure_event(d, a->task, a->task_key);
            maker = d->cur;
        }
        uint32_t c = proc_add(d, a->other, a->other_key);
        d->procs[c].pending_join = maker;
        break;
    }
    case CSP_ACCESS_WAKE: {
        ensure_event(d, a->task, a->task_key);
        uint32_t c = proc_add(d, a->other, a->other_key);
        d->procs[c].pending_join = d->cur;
        break;
    }
    case CSP_ACCESS_MEET: {
        ensure_event(d, a->task, a->task_key);
        uint32_t c = proc_add(d, a->other, a->other_key);
        vec_push(&d->meets, c);
        vec_push(&d->meets, OBJ(a->object));
        vec_push(&d->meets, a->in_select);
        d->ev[d->cur].nmeet++;
        break;
    }
    case CSP_ACCESS_PEEK:
        ensure_event(d, a->task, a->task_key);
        if (dpor_keyset_add(&d->peeked, OBJ(a->object)) && dpor_keyset_has(&d->skipped, OBJ(a->object)))
            d->restart = true;
        break;
    case CSP_ACCESS_RUN:
        /* The only runnable task goes on: if it sleeps, nothing new can
         * come of this run. */
        ensure_event(d, a->task, a->task_key);
        if (d->blocked) {
            d->stats.runs_blocked++;
            finish_redundant(d);
        }
        break;
    case CSP_ACCESS_TIME:
        finish_event(d);
        if (d->nprocs > d->capbarrier) {
            d->capbarrier = 2 * d->nprocs;
            d->barrier = csp_tool_realloc(d->barrier, d->capbarrier * sizeof *d->barrier);
        }
        for (size_t p = 0; p < d->nprocs; p++)
            d->barrier[p] = d->procs[p].count;
        d->nbarrier = d->nprocs;
        sleep_clear(d);
        break;
    }
}

/* ------------------------------------------------------------- Decisions */

HARNESS_QUIET void harness__dpor_other_decision(harness_dpor *d, size_t i)
{
    dnode *n = node_at(d, i);
    if (!n->used) {
        n->used = true;
        n->run = false;
    }
}

HARNESS_QUIET size_t harness__dpor_run_decision(harness_dpor *d, size_t i, size_t nopt, const uint64_t *ids,
                                               int current, size_t forced, size_t replay, unsigned pre_before)
{
    finish_event(d);
    if (d->blocked) {
        finish_redundant(d);
        return nopt;
    }
    dnode *n = node_at(d, i);
    if (!n->used) {   /* a new decision: its options, and the sleep set carried here */
        n->used = true;
        n->run = true;
        n->forced = forced < nopt;
        n->current = current;
        n->pre_before = pre_before;
        n->n = (uint32_t)nopt;
        n->keys = csp_tool_alloc(nopt * sizeof *n->keys);
        n->flags = csp_tool_alloc(nopt);
        n->acc = csp_tool_alloc(nopt * sizeof *n->acc);
        quiet_memset(n->flags, 0, nopt);
        quiet_memset(n->acc, 0, nopt * sizeof *n->acc);
        for (size_t k = 0; k < nopt; k++) {
            uint32_t p = proc_of_id(d, ids[k]);
            n->keys[k] = p ? d->procs[p - 1].key : ids[k] ^ 0x756e6b6e6f776eull;
        }
        if (d->sleep_sets && d->nsleep) {
            n->nsleep = d->nsleep;
            n->sleep_keys = csp_tool_alloc(d->nsleep * sizeof *n->sleep_keys);
            n->sleep_acc = csp_tool_alloc(d->nsleep * sizeof *n->sleep_acc);
            quiet_memset(n->sleep_acc, 0, d->nsleep * sizeof *n->sleep_acc);
            for (uint32_t k = 0; k < d->nsleep; k++) {
                n->sleep_keys[k] = d->sleep_keys[k];
                vec_set(&n->sleep_acc[k], d->sleep_acc[k].a, d->sleep_acc[k].n);
            }
        }
    } else if (n->n != nopt || !n->run) {
        return nopt;   /* the program changed under replay: strategy.c reports it */
    }
    size_t pick;
    if (replay < nopt) {
        pick = replay;
    } else if (forced < nopt) {
        pick = forced;
    } else {
        size_t def = current >= 0 ? (size_t)current : 0;
        pick = nopt;
        for (size_t k = 0; k < nopt && pick == nopt; k++) {
            size_t o = (def + k) % nopt;
            if (!node_asleep(n, n->keys[o]))
                pick = o;
        }
        if (pick == nopt) {   /* every option asleep: nothing new below */
            d->blocked = true;
            d->stats.runs_blocked++;
            finish_redundant(d);
            return nopt;
        }
    }
    n->flags[pick] |= BT | DONE;
    /* The sleep set after this decision: its own, and the options explored
     * before this one (their steps are independent of what follows until a
     * dependent event wakes them). */
    sleep_clear(d);
    if (d->sleep_sets) {
        for (uint32_t k = 0; k < n->nsleep; k++)
            if (n->sleep_keys[k] != n->keys[pick])
                sleep_push(d, n->sleep_keys[k], &n->sleep_acc[k]);
        for (uint32_t k = 0; k < n->n; k++)
            if (k != pick && (n->flags[k] & DONE) && !node_asleep(n, n->keys[k]))
                sleep_push(d, n->keys[k], &n->acc[k]);
    }
    uint32_t p = proc_of_id(d, ids[pick]);
    if (p)
        start_event(d, p - 1, (int32_t)i);
    return pick;
}

HARNESS_QUIET void harness__dpor_end_run(harness_dpor *d)
{
    finish_event(d);
}

HARNESS_QUIET size_t harness__dpor_next_option(const harness_dpor *d, size_t i, unsigned pre_before,
                                              unsigned preemption_bound)
{
    if (i >= d->nnodes || !d->nodes[i].run)
        return ~(size_t)0;
    const dnode *n = &d->nodes[i];
    if (n->forced)
        return n->n;
    for (uint32_t k = 0; k < n->n; k++) {
        if ((n->flags[k] & (BT | DONE)) != BT || node_asleep(n, n->keys[k]))
            continue;
        unsigned p = pre_before + (n->current >= 0 && (int)k != n->current);
        if (p > preemption_bound)
            continue;
        return k;
    }
    return n->n;
}
