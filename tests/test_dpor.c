/* test_dpor.c — partial-order reduction (issue 16 §1, harness/src/dpor.c)
 * against the unreduced EXHAUSTIVE search, which is the independent check:
 * for generated programs, the set of final states the reduced search reaches
 * equals the set the unreduced one reaches — with no bound, and with
 * preemption bounds 1 and 2 — in no more schedules, and in far fewer overall.
 *
 * A generated program: 2 or 3 tasks, each a few operations drawn from a
 * seed — a read-modify-write of a shared cell under a mutex (whose order
 * shows in the value each reads), two mutexes taken in
 * a random order (so that some programs can deadlock), sends and receives
 * on channels of capacity 0 or 1 (as many receives as sends on each, spread
 * over the tasks), a select with a default over both channels, a yield, a
 * line of harness_output that also goes into a log under a mutex. main waits for them all with a wait group and
 * then writes the final state: the cells, and what each task saw (values
 * read, received, selected) in its own order. The final state is that line,
 * or DEADLOCK.
 *
 * The blocking programs (generate_blocking) and the written-out ones
 * (fixed[]) add blocking selects, a close, and tasks parked on one another:
 * the cases the arrival-order rule (dpor.c's head) must get right. Each of
 * its three safeguards was forced by one of them failing.
 *
 * The sets are collected in memory shared with this process (MAP_SHARED
 * before harness_run forks): a hash of every final line, and the DEADLOCK
 * verdict from `seen`. */
#include "controlled_util.h"

#include <sys/mman.h>

#define PROGRAMS 30u                      /* generated programs per comparison */
#define NAIVE_CAP 10000u     /* unreduced schedules a program may take */
#define RANDOM_RUNS (CU_SANITIZED ? 2000u : 5000u)

/* ------------------------------------------------------------- Programs */

enum op_kind { OP_RMW, OP_LOCK2, OP_SEND, OP_RECV, OP_SELECT, OP_YIELD, OP_OUT,
               OP_BSELECT, OP_BSEND, OP_CLOSE, OP_RECVDONE, OP_FWD,
               OP_BSELECT1 };
#define MAX_TASKS 4
#define MAX_OPS 4
#define LOG_MAX 8

struct op { enum op_kind kind; int a, b; };
struct program {
    unsigned ntasks;
    unsigned nops[MAX_TASKS];
    struct op ops[MAX_TASKS][MAX_OPS];
    size_t cap[2];
};

/* What one run of it has (in the child). */
static struct {
    const struct program *p;
    csp_mutex *m[2];
    csp_chan *c[2];
    csp_chan *done;            /* OP_CLOSE closes it; OP_RECVDONE and OP_BSELECT receive on it */
    csp_waitgroup *wg;
    int cell[2];
    int log[MAX_TASKS][LOG_MAX];
    unsigned nlog[MAX_TASKS];
    csp_mutex *lm;             /* OP_OUT: the shared log, in the order of the lines */
    int order[2 * MAX_TASKS * MAX_OPS];
    unsigned norder;
} w;

static void note(unsigned t, int v)
{
    if (w.nlog[t] < LOG_MAX)
        w.log[t][w.nlog[t]++] = v;
}

static void task(void *arg)
{
    unsigned t = (unsigned)(uintptr_t)arg;
    for (unsigned i = 0; i < w.p->nops[t]; i++) {
        const struct op *o = &w.p->ops[t][i];
        int v;
        switch (o->kind) {
        case OP_RMW:
            csp_mutex_lock(w.m[o->a]);
            v = w.cell[o->a];
            w.cell[o->a] = v * 3 + (int)t + 1;
            csp_mutex_unlock(w.m[o->a]);
            note(t, v);
            break;
        case OP_LOCK2:
            csp_mutex_lock(w.m[o->a]);
            csp_mutex_lock(w.m[o->b]);
            w.cell[o->a] += (int)t + 1;
            csp_mutex_unlock(w.m[o->b]);
            csp_mutex_unlock(w.m[o->a]);
            break;
        case OP_SEND:
            v = (int)(10 * (t + 1) + i);
            csp_send(w.c[o->a], &v);
            break;
        case OP_RECV:
            v = 0;
            csp_recv(w.c[o->a], &v);
            note(t, v);
            break;
        case OP_SELECT: {
            int v0 = 0, v1 = 0;
            csp_case cs[2] = { { w.c[0], CSP_OP_RECV, &v0, false }, { w.c[1], CSP_OP_RECV, &v1, false } };
            int k = csp_select(cs, 2, true);
            note(t, k < 0 ? -1 : k == 0 ? 100 + v0 : 200 + v1);
            break;
        }
        case OP_YIELD:
            csp_yield();
            break;
        case OP_BSELECT: {   /* blocks until one of c0, c1, done gives something */
            int v0 = 0, v1 = 0;
            csp_case cs[3] = { { w.c[0], CSP_OP_RECV, &v0, false }, { w.c[1], CSP_OP_RECV, &v1, false },
                               { w.done, CSP_OP_RECV, NULL, false } };
            int k = csp_select(cs, 3, false);
            note(t, k == 0 ? 100 + v0 : k == 1 ? 200 + v1 : 300);
            break;
        }
        case OP_BSEND: {     /* blocks until c0 or c1 takes the value, or done closes */
            v = (int)(10 * (t + 1) + i);
            csp_case cs[3] = { { w.c[0], CSP_OP_SEND, &v, false }, { w.c[1], CSP_OP_SEND, &v, false },
                               { w.done, CSP_OP_RECV, NULL, false } };
            note(t, 400 + csp_select(cs, 3, false));
            break;
        }
        case OP_CLOSE:
            csp_close(w.done);
            break;
        case OP_RECVDONE:
            csp_recv(w.done, NULL);
            note(t, 500);
            break;
        case OP_BSELECT1: {  /* blocks until c[a] gives something or done closes */
            int v0 = 0;
            csp_case cs[2] = { { w.c[o->a], CSP_OP_RECV, &v0, false }, { w.done, CSP_OP_RECV, NULL, false } };
            int k = csp_select(cs, 2, false);
            note(t, k == 0 ? 700 + v0 : 300);
            break;
        }
        case OP_FWD: {       /* takes what c[a] holds, if anything, and sends it on c[1-a] */
            int v0 = 0;
            csp_case cs[1] = { { w.c[o->a], CSP_OP_RECV, &v0, false } };
            int k = csp_select(cs, 1, true);
            if (k == 0)
                csp_send(w.c[1 - o->a], &v0);
            note(t, k == 0 ? 600 + v0 : 600);
            break;
        }
        case OP_OUT:   /* a line of output, and the same in a log under a mutex */
            harness_output("t%u.%u ", t, i);
            csp_mutex_lock(w.lm);
            if (w.norder < sizeof w.order / sizeof *w.order)
                w.order[w.norder++] = (int)(10 * t + i);
            csp_mutex_unlock(w.lm);
            break;
        }
    }
    csp_wg_done(w.wg);
}

/* The shared tally: hashes of the final lines of this search. */
#define SET_CAP 8192
struct set {
    unsigned n;
    bool overflow;
    uint64_t h[SET_CAP];
};
static struct set *shared_set;

static void set_add(struct set *s, uint64_t h)
{
    for (unsigned i = 0; i < s->n; i++)
        if (s->h[i] == h)
            return;
    if (s->n < SET_CAP)
        s->h[s->n++] = h;
    else
        s->overflow = true;
}

static void program_main(void *arg)
{
    w.p = arg;
    memset(w.cell, 0, sizeof w.cell);
    memset(w.nlog, 0, sizeof w.nlog);
    w.norder = 0;
    w.lm = csp_mutex_make("log");
    w.m[0] = csp_mutex_make("m0");
    w.m[1] = csp_mutex_make("m1");
    w.c[0] = csp_chan_make(sizeof(int), w.p->cap[0], "c0");
    w.c[1] = csp_chan_make(sizeof(int), w.p->cap[1], "c1");
    w.done = csp_chan_make(0, 0, "done");
    w.wg = csp_wg_make();
    csp_wg_add(w.wg, (int)w.p->ntasks);
    for (unsigned t = 0; t < w.p->ntasks; t++)
        csp_go(task, (void *)(uintptr_t)t, "task");
    csp_wg_wait(w.wg);
    char line[512];
    int n = snprintf(line, sizeof line, "cells %d %d | log", w.cell[0], w.cell[1]);
    for (unsigned i = 0; i < w.norder; i++)
        n += snprintf(line + n, sizeof line - (size_t)n, " %d", w.order[i]);
    n += snprintf(line + n, sizeof line - (size_t)n, " |");
    for (unsigned t = 0; t < w.p->ntasks; t++) {
        for (unsigned i = 0; i < w.nlog[t] && n < (int)sizeof line - 16; i++)
            n += snprintf(line + n, sizeof line - (size_t)n, " %d", w.log[t][i]);
        n += snprintf(line + n, sizeof line - (size_t)n, " |");
    }
    uint64_t h = 0xcbf29ce484222325ull;
    for (int i = 0; line[i]; i++)
        h = (h ^ (uint8_t)line[i]) * 0x100000001b3ull;
    set_add(shared_set, h);
    harness_output("%s\n", line);
}

static uint64_t rnd(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static void generate(struct program *p, uint64_t seed, bool small)
{
    memset(p, 0, sizeof *p);
    uint64_t s = seed * 0x2545f4914f6cdd1dull + 1;
    p->ntasks = small ? 2 : 2 + (unsigned)(rnd(&s) % 2);
    p->cap[0] = rnd(&s) % 2;
    p->cap[1] = rnd(&s) % 2;
    unsigned total = small ? 3 : p->ntasks == 2 ? 4 + (unsigned)(rnd(&s) % 2) : 3 + (unsigned)(rnd(&s) % 2);
    /* Messages first: each a send in one task and a receive in another. */
    unsigned msgs = (unsigned)(rnd(&s) % 2);
    for (unsigned k = 0; k < msgs; k++) {
        unsigned ts = (unsigned)(rnd(&s) % p->ntasks), tr = (ts + 1 + (unsigned)(rnd(&s) % (p->ntasks - 1))) % p->ntasks;
        int c = (int)(rnd(&s) % 2);
        if (p->nops[ts] < MAX_OPS && p->nops[tr] < MAX_OPS) {
            p->ops[ts][p->nops[ts]++] = (struct op){ OP_SEND, c, 0 };
            p->ops[tr][p->nops[tr]++] = (struct op){ OP_RECV, c, 0 };
        }
    }
    unsigned used = 2 * msgs;
    if (small && !msgs) {   /* small: two tasks that meet at least once */
        enum op_kind k = rnd(&s) % 2 ? OP_RMW : OP_OUT;
        p->ops[0][p->nops[0]++] = (struct op){ k, 0, 0 };
        p->ops[1][p->nops[1]++] = (struct op){ k, 0, 0 };
        used = 2;
    }
    for (; used < total; used++) {
        unsigned t = (unsigned)(rnd(&s) % p->ntasks);
        if (p->nops[t] >= MAX_OPS)
            continue;
        struct op o;
        switch (rnd(&s) % 8) {
        case 0: case 1: case 2: o = (struct op){ OP_RMW, (int)(rnd(&s) % 3 == 0), 0 }; break;
        case 3: { int a = (int)(rnd(&s) % 2); o = (struct op){ OP_LOCK2, a, 1 - a }; break; }
        case 4: o = (struct op){ OP_SELECT, 0, 0 }; break;
        case 5: case 6: o = (struct op){ OP_OUT, 0, 0 }; break;
        default: o = (struct op){ OP_YIELD, 0, 0 }; break;
        }
        /* Insert at a random place in the task's list. */
        unsigned at = (unsigned)(rnd(&s) % (p->nops[t] + 1));
        memmove(&p->ops[t][at + 1], &p->ops[t][at], (p->nops[t] - at) * sizeof(struct op));
        p->ops[t][at] = o;
        p->nops[t]++;
    }
}

/* Programs in which tasks block in selects, on a close, and on one another:
 * 3 or 4 tasks; each message is a plain send or a blocking select send
 * (over c0 and c1) in one task, and a plain receive or a blocking select
 * receive (over c0, c1 and done) in another; sometimes one task closes
 * done and another waits for it. A select can then be claimed by either of
 * two senders, a receiver can be parked or not when its partner comes, and
 * a close can come before or after a task blocks. */
static void generate_blocking(struct program *p, uint64_t seed)
{
    memset(p, 0, sizeof *p);
    uint64_t s = seed * 0x9e3779b97f4a7c15ull + 7;
    p->ntasks = 3 + (unsigned)(rnd(&s) % 2);
    p->cap[0] = rnd(&s) % 3 == 0;
    p->cap[1] = rnd(&s) % 3 == 0;
    unsigned msgs = 1 + (unsigned)(rnd(&s) % 2);
    for (unsigned k = 0; k < msgs; k++) {
        unsigned ts = (unsigned)(rnd(&s) % p->ntasks), tr = (ts + 1 + (unsigned)(rnd(&s) % (p->ntasks - 1))) % p->ntasks;
        int c = (int)(rnd(&s) % 2);
        p->ops[ts][p->nops[ts]++] = (struct op){ rnd(&s) % 3 == 0 ? OP_BSEND : OP_SEND, c, 0 };
        p->ops[tr][p->nops[tr]++] = (struct op){ rnd(&s) % 2 ? OP_BSELECT : OP_RECV, c, 0 };
    }
    if (rnd(&s) % 2) {
        unsigned tc = (unsigned)(rnd(&s) % p->ntasks);
        p->ops[tc][p->nops[tc]++] = (struct op){ OP_CLOSE, 0, 0 };
        if (rnd(&s) % 2) {
            unsigned tw = (tc + 1 + (unsigned)(rnd(&s) % (p->ntasks - 1))) % p->ntasks;
            p->ops[tw][p->nops[tw]++] = (struct op){ OP_RECVDONE, 0, 0 };
        }
    }
    /* Every task does something: an idle one gets a select (with default) or a line. */
    for (unsigned t = 0; t < p->ntasks; t++)
        if (!p->nops[t])
            p->ops[t][p->nops[t]++] = (struct op){ rnd(&s) % 2 ? OP_SELECT : OP_OUT, 0, 0 };
    /* Shuffle each task's operations. */
    for (unsigned t = 0; t < p->ntasks; t++)
        for (unsigned i = p->nops[t]; i > 1; i--) {
            unsigned j = (unsigned)(rnd(&s) % i);
            struct op x = p->ops[t][i - 1];
            p->ops[t][i - 1] = p->ops[t][j];
            p->ops[t][j] = x;
        }
}

static void describe(const struct program *p, char *buf, size_t n)
{
    static const char *names[] = { "rmw", "lock2", "send", "recv", "select", "yield", "out",
                                   "bselect", "bsend", "close", "recvdone", "fwd", "bselect1" };
    int k = snprintf(buf, n, "caps %zu/%zu:", p->cap[0], p->cap[1]);
    for (unsigned t = 0; t < p->ntasks; t++) {
        k += snprintf(buf + k, n - (size_t)k, " [");
        for (unsigned i = 0; i < p->nops[t]; i++)
            k += snprintf(buf + k, n - (size_t)k, "%s%s%d", i ? " " : "", names[p->ops[t][i].kind],
                          p->ops[t][i].a);
        k += snprintf(buf + k, n - (size_t)k, "]");
    }
}

/* -------------------------------------------------------------- Searches */

/* Programs written out, each a case the generators could miss. */
#define OPS(...) { __VA_ARGS__ }
static const struct program fixed[] = {
    /* A select claimed by either of two senders; the loser's partner is a
     * parked receiver (W gets c0 and Z gets Y's, or W gets c1: X and Z stuck). */
    { 4, { 1, 1, 1, 1 }, { OPS({ OP_BSELECT, 0, 0 }), OPS({ OP_RECV, 1, 0 }), OPS({ OP_SEND, 0, 0 }),
                           OPS({ OP_SEND, 1, 0 }) }, { 0, 0 } },
    /* A select claimed by a sender or by a close. */
    { 3, { 1, 1, 1 }, { OPS({ OP_BSELECT, 0, 0 }), OPS({ OP_SEND, 0, 0 }), OPS({ OP_CLOSE, 0, 0 }) }, { 0, 0 } },
    /* A receiver parked or not when its sender comes, and a select with a
     * default that may see either of them waiting. */
    { 3, { 1, 1, 1 }, { OPS({ OP_RECV, 0, 0 }), OPS({ OP_SEND, 0, 0 }), OPS({ OP_SELECT, 0, 0 }) }, { 0, 0 } },
    /* Two receivers queued in either order for two sends. */
    { 4, { 1, 1, 2, 0 }, { OPS({ OP_RECV, 0, 0 }), OPS({ OP_RECV, 0, 0 }),
                           OPS({ OP_SEND, 0, 0 }, { OP_SEND, 0, 0 }) }, { 0, 0 } },
    /* A blocking select send against a receiver and a close. */
    { 3, { 1, 2, 1 }, { OPS({ OP_BSEND, 0, 0 }), OPS({ OP_RECV, 1, 0 }, { OP_RECV, 0, 0 }),
                        OPS({ OP_CLOSE, 0, 0 }) }, { 0, 0 } },
    /* A buffered channel: the receiver parked on it or the value buffered first. */
    { 3, { 2, 1, 1 }, { OPS({ OP_RECV, 0, 0 }, { OP_OUT, 0, 0 }), OPS({ OP_SEND, 0, 0 }),
                        OPS({ OP_SELECT, 0, 0 }) }, { 1, 0 } },
    /* A channel sent on in some schedules only (c1: what the forwarder found
     * in c0, if it came in time; not in the first schedule): until a send
     * shows, two receives on it are reads, which commute (dpor.c's "Reads");
     * which of the two selects gets the value depends on the order they
     * parked in. */
    { 4, { 1, 1, 2, 1 }, { OPS({ OP_BSELECT1, 1, 0 }), OPS({ OP_BSELECT1, 1, 0 }),
                           OPS({ OP_FWD, 0, 0 }, { OP_CLOSE, 0, 0 }), OPS({ OP_SEND, 0, 0 }) }, { 1, 0 } },
    /* A close that meets a parked receiver: the closer's next step can also
     * come before what the receiver did before it parked. */
    { 2, { 2, 2 }, { OPS({ OP_OUT, 0, 0 }, { OP_RECVDONE, 0, 0 }), OPS({ OP_CLOSE, 0, 0 }, { OP_OUT, 0, 0 }) },
      { 0, 0 } },
    /* A send handed to a parked receiver on a buffered channel: had it come
     * first it would not have waited, and the sender's select takes it back. */
    { 2, { 1, 3 }, { OPS({ OP_RECV, 0, 0 }), OPS({ OP_OUT, 0, 0 }, { OP_SEND, 0, 0 }, { OP_SELECT, 0, 0 }) },
      { 1, 0 } },
};
#define NFIXED (sizeof fixed / sizeof *fixed)

enum gen { GEN_SMALL, GEN_MIXED, GEN_BLOCKING, GEN_FIXED };

/* TESTUTIL_PROGRAMS=N: N generated programs per comparison (a longer soak
 * than the suite's). */
static unsigned gen_count(enum gen g)
{
    if (g == GEN_FIXED)
        return (unsigned)NFIXED;
    const char *n = getenv("TESTUTIL_PROGRAMS");
    if (n) {
        char *end;
        long v = strtol(n, &end, 10);
        if (*n == 0 || *end || v < 1 || v > 100000) {
            fprintf(stderr, "test_dpor: TESTUTIL_PROGRAMS='%s': a number of programs, 1 to 100000\n", n);
            exit(2);
        }
        return (unsigned)v;
    }
    return g == GEN_BLOCKING && CU_SANITIZED ? PROGRAMS / 3 : PROGRAMS;   /* a schedule costs more there */
}

static void make_program(struct program *p, uint64_t seed, enum gen g)
{
    if (g == GEN_FIXED)
        *p = fixed[seed - 1];
    else if (g == GEN_BLOCKING)
        generate_blocking(p, seed);
    else
        generate(p, seed, g == GEN_SMALL);
}



struct outcome {
    unsigned schedules, pruned;
    bool exhausted, deadlock;
    struct set set;
};

static void explore(struct program *p, bool reduced, unsigned bound, unsigned cap, struct outcome *out)
{
    memset(shared_set, 0, sizeof *shared_set);
    harness_options o = cu_options();
    o.strategy = cap == RANDOM_RUNS && !reduced ? HARNESS_RANDOM : HARNESS_EXHAUSTIVE;
    o.schedules = cap;
    o.preemption_bound = bound;
    o.choice_bound = HARNESS_UNBOUNDED;
    o.no_reduction = !reduced;
    o.keep_going = true;
    o.max_steps = 10000;
    o.timeout = 120 * CSP_SECOND;
    harness_result r;
    if (harness_run(program_main, p, &o, &r) != 0)
        fail_msg("harness_run: %s", r.message ? r.message : "?");
    unsigned allowed = 1u << HARNESS_PASS | 1u << HARNESS_DEADLOCK | 1u << HARNESS_NONDETERMINISTIC;
    if (r.seen & ~allowed) {
        cu_print_result(&r);
        fail_msg("an unexpected verdict (seen 0x%x)", r.seen);
    }
    out->schedules = r.schedules_run;
    out->pruned = r.schedules_pruned;
    out->exhausted = r.exhausted;
    out->deadlock = (r.seen & (1u << HARNESS_DEADLOCK)) != 0;
    out->set = *shared_set;
    assert_false(out->set.overflow);
    harness_result_free(&r);
}

static bool same_states(const struct outcome *a, const struct outcome *b)
{
    if (a->deadlock != b->deadlock || a->set.n != b->set.n)
        return false;
    for (unsigned i = 0; i < a->set.n; i++) {
        bool found = false;
        for (unsigned j = 0; j < b->set.n && !found; j++)
            found = a->set.h[i] == b->set.h[j];
        if (!found)
            return false;
    }
    return true;
}

static struct outcome naive, red;   /* large: static */

/* Every state of a is one of b's. */
static bool subset(const struct outcome *a, const struct outcome *b)
{
    if (a->deadlock && !b->deadlock)
        return false;
    for (unsigned i = 0; i < a->set.n; i++) {
        bool found = false;
        for (unsigned j = 0; j < b->set.n && !found; j++)
            found = a->set.h[i] == b->set.h[j];
        if (!found)
            return false;
    }
    return true;
}

static void compare(unsigned bound, const char *label, enum gen g)
{
    unsigned long long sum_naive = 0, sum_red = 0, sum_pruned = 0;
    unsigned compared = 0, skipped = 0, several = 0;
    bool small = g == GEN_SMALL;
    for (uint64_t seed = 1; seed <= gen_count(g); seed++) {
        struct program p;
        make_program(&p, seed, g);
        char desc[256];
        describe(&p, desc, sizeof desc);
        explore(&p, true, bound, 20 * NAIVE_CAP, &red);
        if (!red.exhausted)
            fail_msg("%s seed %llu (%s): reduced search not exhausted after %u schedules", label,
                     (unsigned long long)seed, desc, red.schedules);
        unsigned cap = g == GEN_FIXED ? (CU_SANITIZED ? 3 : 30) * NAIVE_CAP : NAIVE_CAP;
        explore(&p, false, bound, cap, &naive);
        if (!naive.exhausted) {
            /* Too big to search unreduced here: every state that RANDOM
             * schedules reach must be among the reduced search's. */
            explore(&p, false, bound, RANDOM_RUNS, &naive);
            if (cu_verbose())
                printf("  seed %llu %s: unreduced over %u; reduced %u, %u states%s; RANDOM %u states%s\n",
                       (unsigned long long)seed, desc, NAIVE_CAP, red.schedules, red.set.n,
                       red.deadlock ? " + DEADLOCK" : "", naive.set.n, naive.deadlock ? " + DEADLOCK" : "");
            if (!subset(&naive, &red))
                fail_msg("%s seed %llu (%s): RANDOM reaches %u states%s, the reduced search %u%s",
                         label, (unsigned long long)seed, desc, naive.set.n,
                         naive.deadlock ? " + DEADLOCK" : "", red.set.n, red.deadlock ? " + DEADLOCK" : "");
            several += red.set.n + red.deadlock > 1;
            skipped++;
            continue;
        }
        if (cu_verbose())
            printf("  seed %llu %s: unreduced %u, reduced %u (+%u pruned), %u states%s\n",
                   (unsigned long long)seed, desc, naive.schedules, red.schedules, red.pruned,
                   naive.set.n, naive.deadlock ? " + DEADLOCK" : "");
        if (!same_states(&naive, &red))
            fail_msg("%s seed %llu (%s): unreduced reaches %u states%s in %u schedules, reduced "
                     "%u states%s in %u", label, (unsigned long long)seed, desc, naive.set.n,
                     naive.deadlock ? " + DEADLOCK" : "", naive.schedules, red.set.n,
                     red.deadlock ? " + DEADLOCK" : "", red.schedules);
        assert_true(red.schedules <= naive.schedules);
        sum_naive += naive.schedules;
        sum_red += red.schedules;
        sum_pruned += red.pruned;
        several += naive.set.n + naive.deadlock > 1;
        compared++;
    }
    printf("%s: %u programs searched in full both ways (%u with more than one final state between them "
           "and the others), same final states; schedules unreduced %llu, reduced %llu (+%llu cut short "
           "as redundant): %.1fx fewer; %u programs too big unreduced (over %u schedules): every state "
           "of %u RANDOM schedules reached by the reduced search\n",
           label, compared, several, sum_naive, sum_red, sum_pruned,
           sum_red ? (double)sum_naive / (double)sum_red : 0.0, skipped, NAIVE_CAP, RANDOM_RUNS);
    assert_int_equal(compared + skipped, gen_count(g));
    /* Enough searched in full both ways (the written-out programs, within a
     * bound: without one, their unreduced searches are too big here). */
    assert_true(compared >= (small || (g == GEN_FIXED && bound != HARNESS_UNBOUNDED) ? gen_count(g) / 3 : 0));
    assert_true(several >= (compared + skipped) / 3);   /* the comparison is not vacuous */
    if (g != GEN_FIXED && compared)
        assert_true(sum_red * 2 < sum_naive);   /* "far fewer": at least half, overall */
}

static void unbounded_same_states(void **state)
{
    (void)state;
    compare(HARNESS_UNBOUNDED, "no bound, small programs", GEN_SMALL);
    compare(HARNESS_UNBOUNDED, "no bound", GEN_MIXED);
}

static void bound_2_same_states(void **state)
{
    (void)state;
    compare(2, "preemption bound 2", GEN_MIXED);
}

static void bound_1_same_states(void **state)
{
    (void)state;
    compare(1, "preemption bound 1", GEN_MIXED);
}

/* Blocking selects, closes, parked partners: the cases where the reduction
 * treats a task's parking as no access (dpor.c's head). */
static void blocking_same_states(void **state)
{
    (void)state;
    compare(HARNESS_UNBOUNDED, "no bound, written-out programs", GEN_FIXED);
    compare(HARNESS_UNBOUNDED, "no bound, blocking programs", GEN_BLOCKING);
}

static void blocking_bound_2_same_states(void **state)
{
    (void)state;
    compare(2, "preemption bound 2, written-out programs", GEN_FIXED);
    if (!CU_SANITIZED)
        compare(3, "preemption bound 3, written-out programs", GEN_FIXED);
    compare(2, "preemption bound 2, blocking programs", GEN_BLOCKING);
}

/* Independent tasks: n tasks each sending on its own channel, received by
 * main in order. Every interleaving of the tasks' steps is equivalent: one
 * schedule, where the unreduced search runs many. */
static void independent(void *arg)
{
    (void)arg;
    csp_chan *c = csp_chan_make(sizeof(int), 1, "own");
    int v = 1;
    csp_send(c, &v);
    csp_yield();
    csp_recv(c, &v);
    csp_chan_free(c);
}

static void independent_main(void *arg)
{
    (void)arg;
    for (int i = 0; i < 2; i++)
        csp_go(independent, NULL, "independent");
}

static void independent_tasks_one_schedule(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.schedules = 100000;
    o.preemption_bound = HARNESS_UNBOUNDED;
    o.keep_going = true;
    harness_result r;
    assert_int_equal(harness_run(independent_main, NULL, &o, &r), 0);
    printf("2 independent tasks (each on its own channel): reduced %u schedule(s), exhausted %d\n",
           r.schedules_run, (int)r.exhausted);
    assert_true(r.exhausted);
    assert_int_equal(r.schedules_run, 1);
    unsigned reduced = r.schedules_run;
    harness_result_free(&r);
    o.no_reduction = true;
    assert_int_equal(harness_run(independent_main, NULL, &o, &r), 0);
    printf("  unreduced: %u schedules, exhausted %d\n", r.schedules_run, (int)r.exhausted);
    assert_true(r.exhausted);
    assert_true(r.schedules_run > 10 * reduced);
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    shared_set = mmap(NULL, sizeof *shared_set, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (shared_set == MAP_FAILED)
        return 1;
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(independent_tasks_one_schedule),
        cmocka_unit_test(unbounded_same_states),
        cmocka_unit_test(bound_2_same_states),
        cmocka_unit_test(bound_1_same_states),
        cmocka_unit_test(blocking_same_states),
        cmocka_unit_test(blocking_bound_2_same_states),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
