/* test_exhaustive_sound.c — EXHAUSTIVE covers its bounded space (issue 10,
 * items 4 and 5): for five small programs the set of outcomes EXHAUSTIVE
 * reaches equals the set 100,000 RANDOM schedules reach, and for three of
 * them ((a), (c), (e)) the number of schedules, and of each outcome, equals a
 * count worked out by hand at several bounds; and a program
 * that ends under every fair schedule is not called a livelock (the
 * "stopper"), while one that never ends (a busy poll) still is.
 *
 * How outcomes are collected per schedule: each program reports its outcome
 * with harness_output() and also tallies it in memory shared with this
 * process (mmap MAP_SHARED before harness_run forks), together with the
 * number of times the entry started. A schedule whose entry started but
 * reported nothing deadlocked (checked against the DEADLOCK bit of `seen`).
 * Every search runs with keep_going, so a failing schedule does not stop it.
 * Only task 1 (main) writes the tally, so it orders no two tasks. */
#include "controlled_util.h"

#include <stdatomic.h>
#include <sys/mman.h>

/* Under a sanitizer a schedule costs hundreds of times more (about 60 a second
 * under TSan), so the RANDOM side of each comparison and the stopper's
 * searches are shorter there; every outcome here shows in at least 10% of
 * RANDOM schedules, so 2,000 still reach them all. EXHAUSTIVE's counts are
 * the same in every build. */
#define RANDOM_SCHEDULES (CU_SANITIZED ? 2000u : 100000u)
#define STOPPER_SCHEDULES (CU_SANITIZED ? 50u : 1000u)

/* ------------------------------------------------------------- The tally */

#define MAX_OUTCOMES 16
struct tally {
    unsigned started;                 /* entries run */
    unsigned n;                       /* distinct outcomes */
    char name[MAX_OUTCOMES][24];
    unsigned count[MAX_OUTCOMES];     /* schedules that reported name[i] */
    unsigned longest, long_runs;      /* the stopper: most loop iterations in a run;
                                         runs of more than 100 */
};
static struct tally *tally;

static void outcome(const char *fmt, ...) CSP_PRINTF(1, 2);
static void outcome(const char *fmt, ...)
{
    char s[24];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(s, sizeof s, fmt, ap);
    va_end(ap);
    harness_output("%s\n", s);
    for (unsigned i = 0; i < tally->n; i++)
        if (strcmp(tally->name[i], s) == 0) {
            tally->count[i]++;
            return;
        }
    if (tally->n < MAX_OUTCOMES) {
        snprintf(tally->name[tally->n], sizeof tally->name[0], "%s", s);
        tally->count[tally->n++] = 1;
    }
}

static void started(void) { tally->started++; }

/* One search's outcomes: the tally plus "DEADLOCK" for the schedules that
 * reported nothing. */
struct search {
    const char *what;
    unsigned schedules;
    bool exhausted;
    unsigned seen;
    struct tally t;
};

static unsigned reported(const struct tally *t)
{
    unsigned n = 0;
    for (unsigned i = 0; i < t->n; i++)
        n += t->count[i];
    return n;
}

static unsigned count_of(const struct search *s, const char *name)
{
    for (unsigned i = 0; i < s->t.n; i++)
        if (strcmp(s->t.name[i], name) == 0)
            return s->t.count[i];
    return 0;
}

static void print_search(const struct search *s)
{
    printf("%-44s %6u schedules%s:", s->what, s->schedules, s->exhausted ? " (exhausted)" : "");
    for (unsigned i = 0; i < s->t.n; i++)
        printf(" %s x%u", s->t.name[i], s->t.count[i]);
    printf("\n");
}

/* The hand counts are those of the unreduced search; partial-order
 * reduction (issue 16) is compared with it in reduced_equals. */
static bool reduction;

static void search(void (*entry)(void *), void *arg, harness_strategy strategy, unsigned schedules,
                   unsigned preemption_bound, unsigned choice_bound, const char *what,
                   struct search *out)
{
    memset(tally, 0, sizeof *tally);
    harness_options o = cu_options();
    o.strategy = strategy;
    o.schedules = schedules;
    o.preemption_bound = preemption_bound;
    o.choice_bound = choice_bound;
    o.keep_going = true;
    o.max_steps = 10000;
    o.no_reduction = !reduction;
    harness_result r;
    cu_run(entry, arg, &o, &r);
    if (r.message && strstr(r.message, "wall bound")) {
        cu_print_result(&r);
        fail_msg("%s: stopped by the wall bound", what);
    }
    out->what = what;
    out->schedules = r.schedules_run;
    out->exhausted = r.exhausted;
    out->seen = r.seen;
    out->t = *tally;
    /* Every schedule ran the entry once, and so did every run the
     * reduction cut short as redundant (which may or may not have reported
     * an outcome before it was cut: one that some schedule reaches). */
    assert_int_equal(tally->started, r.schedules_run + r.schedules_pruned);
    assert_true(tally->n < MAX_OUTCOMES);
    unsigned silent = tally->started - reported(tally);
    bool deadlock = (r.seen & (1u << HARNESS_DEADLOCK)) != 0;
    /* A schedule that reported nothing deadlocked, and DEADLOCK was seen
     * exactly when one did. */
    if (!r.schedules_pruned)
        assert_int_equal(silent > 0, deadlock);
    else
        assert_true(silent <= r.schedules_pruned || deadlock);
    if (deadlock) {
        snprintf(out->t.name[out->t.n], sizeof out->t.name[0], "DEADLOCK");
        out->t.count[out->t.n++] = silent;
    }
    /* Nothing else went wrong in any schedule. */
    unsigned allowed = 1u << HARNESS_PASS | 1u << HARNESS_DEADLOCK | 1u << HARNESS_WRONG_RESULT |
                       1u << HARNESS_NONDETERMINISTIC;
    if (r.seen & ~allowed) {
        cu_print_result(&r);
        fail_msg("%s: an unexpected verdict (seen 0x%x)", what, r.seen);
    }
    if (strategy == HARNESS_EXHAUSTIVE && !r.exhausted) {
        cu_print_result(&r);
        fail_msg("%s: not exhausted after %u schedules", what, r.schedules_run);
    }
    print_search(out);
    harness_result_free(&r);
}

/* EXHAUSTIVE alone, within the bounds. */
static void exhaustive(void (*entry)(void *), unsigned preemption_bound, unsigned choice_bound,
                       const char *what, struct search *out)
{
    search(entry, NULL, HARNESS_EXHAUSTIVE, 1000000, preemption_bound, choice_bound, what, out);
}

/* The two searches reached the same set of outcomes. */
static void assert_same_outcomes(const struct search *a, const struct search *b)
{
    bool same = a->t.n == b->t.n;
    for (unsigned i = 0; same && i < a->t.n; i++)
        same = count_of(b, a->t.name[i]) > 0;
    if (!same) {
        print_search(a);
        print_search(b);
        fail_msg("%s and %s reach different sets of outcomes", a->what, b->what);
    }
}

/* Partial-order reduction (dpor.c) reaches the same outcomes as the
 * unreduced search `naive` at the same bounds, in no more schedules; and
 * without any bound, the same outcomes as RANDOM (`all`). */
static void reduced_equals(void (*entry)(void *), void *arg, unsigned preemption_bound,
                           unsigned choice_bound, const char *name, const struct search *naive,
                           const struct search *all)
{
    char what[128];
    struct search red;
    reduction = true;
    snprintf(what, sizeof what, "%s: REDUCED p<=%u c<=%u", name, preemption_bound, choice_bound);
    search(entry, arg, HARNESS_EXHAUSTIVE, 1000000, preemption_bound, choice_bound, what, &red);
    assert_same_outcomes(&red, naive);
    assert_true(red.schedules <= naive->schedules);
    if (all) {
        snprintf(what, sizeof what, "%s: REDUCED, no bound", name);
        search(entry, arg, HARNESS_EXHAUSTIVE, 1000000, HARNESS_UNBOUNDED, HARNESS_UNBOUNDED, what, &red);
        assert_same_outcomes(&red, all);
    }
    reduction = false;
}

/* EXHAUSTIVE within the bounds and 100,000 RANDOM schedules (2,000 under a
 * sanitizer). */
static void exhaustive_equals_random(void (*entry)(void *), void *arg, unsigned preemption_bound,
                                     unsigned choice_bound, const char *name, struct search *ex)
{
    char what_ex[64], what_rnd[64];
    snprintf(what_ex, sizeof what_ex, "%s: EXHAUSTIVE p<=%u c<=%u", name, preemption_bound,
             choice_bound);
    snprintf(what_rnd, sizeof what_rnd, "%s: RANDOM", name);
    struct search rnd;
    search(entry, arg, HARNESS_EXHAUSTIVE, 1000000, preemption_bound, choice_bound, what_ex, ex);
    search(entry, arg, HARNESS_RANDOM, RANDOM_SCHEDULES, 0, 0, what_rnd, &rnd);
    assert_int_equal(rnd.schedules, RANDOM_SCHEDULES);
    assert_same_outcomes(ex, &rnd);
    reduced_equals(entry, arg, preemption_bound, choice_bound, name, ex, &rnd);
}

/* ------------------------------------------ (a) the writer that is seen */

/* The minimal program. main spawns `writer`, yields, then reads x
 * under the mutex; writer sets x = 1 and then x = 2, each under the mutex.
 * Seeing x == 1 is the bug; with arg non-NULL it is reported as a
 * harness_fail, and nothing else is reported.
 *
 * The scheduling points (runtime: after csp_go, csp_yield, before
 * csp_mutex_lock, after csp_mutex_unlock):
 *   main    P0 after csp_go, P1 csp_yield, P2 before lock, [read x], P3 after unlock, end
 *   writer  W0 before lock, [x = 1], W1 after unlock, W2 before lock, [x = 2], W3 after unlock, end
 * Neither task holds the mutex at a scheduling point (each critical section
 * has none), so no one ever blocks: from P0 until one task ends both are
 * runnable, every point of either is a RUN decision of 2 options with a
 * current task (stay: free; switch: one preemption), and once one task ends
 * the other runs alone with no decision at all.
 *
 * The count, by hand. A schedule is where it switches. main's switches are
 * at points among P0..P3, each later than the last (main resumes after the
 * point where it left), writer's likewise among W0..W3, and they alternate
 * starting with main. So a schedule with k preemptions picks ceil(k/2) of
 * main's 4 points and floor(k/2) of writer's 4:
 *   k:          0  1   2   3   4   5   6  7  8
 *   schedules:  1  4  16  24  36  24  16  4  1     (C(4,ceil(k/2)) * C(4,floor(k/2)))
 * Preemption bound 0: 1; bound 1: 5; bound 2: 21; bound 3: 45; bound 8 or
 * more: all 126 (= C(9,4)).
 * Outcomes within bound 2 (main's switch at Pa, writer's at Wb): x == 1 needs
 * main to read after [x = 1] and before [x = 2]: a in 0..2 and b in 1..2,
 * 6 schedules; x == 2: a in 0..2 and writer never switches back or only at
 * W3, 3 + 3 = 6; x == 0: the rest, 21 - 12 = 9 (no switch; a == 3 with or
 * without a switch back, 5; a in 0..2 with b == 0, 3). The old EXHAUSTIVE
 * never switched from writer (index 1) back to main (index 0): 5 schedules,
 * none seeing x == 1. */
static int shared_x;

static void writer(void *arg)
{
    csp_mutex *m = arg;
    csp_mutex_lock(m);
    shared_x = 1;
    csp_mutex_unlock(m);
    csp_mutex_lock(m);
    shared_x = 2;
    csp_mutex_unlock(m);
}

static void seen_write(void *arg)
{
    started();
    shared_x = 0;
    csp_mutex *m = csp_mutex_make("x");
    csp_go(writer, m, "writer");
    csp_yield();
    csp_mutex_lock(m);
    int v = shared_x;
    csp_mutex_unlock(m);
    if (!arg)
        outcome("x=%d", v);
    else if (v == 1)   /* strict: the bug is the only thing reported */
        harness_fail("main saw x == 1, between the writer's two writes");
}

static void a_seen_write(void **state)
{
    (void)state;
    struct search ex;
    exhaustive_equals_random(seen_write, NULL, 2, 2, "(a) seen write", &ex);
    assert_int_equal(ex.schedules, 21);
    assert_int_equal(count_of(&ex, "x=0"), 9);
    assert_int_equal(count_of(&ex, "x=1"), 6);
    assert_int_equal(count_of(&ex, "x=2"), 6);

    static const unsigned want[] = { 1, 5, 21, 45 };
    for (unsigned bound = 0; bound < 4; bound++) {
        char what[64];
        snprintf(what, sizeof what, "(a) seen write: EXHAUSTIVE p<=%u", bound);
        exhaustive(seen_write, bound, 2, what, &ex);
        assert_int_equal(ex.schedules, want[bound]);
        reduced_equals(seen_write, NULL, bound, 2, what, &ex, NULL);
    }
    exhaustive(seen_write, 8, 2, "(a) seen write: EXHAUSTIVE p<=8", &ex);
    assert_int_equal(ex.schedules, 126);
    exhaustive(seen_write, 100, 2, "(a) seen write: EXHAUSTIVE p<=100", &ex);
    assert_int_equal(ex.schedules, 126);
}

/* The report: EXHAUSTIVE with preemption bound 2 said PASS,
 * exhausted, after 5 schedules. It must find x == 1 (and stop there). */
static void a_exhaustive_finds_the_bug(void **state)
{
    (void)state;
    static int strict = 1;
    memset(tally, 0, sizeof *tally);
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.preemption_bound = 2;
    o.schedules = 1000000;
    harness_result r;
    cu_run(seen_write, &strict, &o, &r);
    printf("(a) EXHAUSTIVE p<=2: %s after %u schedules, decisions %s\n",
           harness_verdict_name(r.verdict), r.schedules_run, r.decisions ? r.decisions : "?");
    cu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    cu_assert_contains(&r, r.message, "main saw x == 1");
    assert_false(r.exhausted);
    /* Its explicit schedule replays it. */
    harness_options ro = cu_options();
    ro.replay = r.decisions;
    harness_result again;
    cu_run(seen_write, &strict, &ro, &again);
    cu_assert_verdict(&again, HARNESS_WRONG_RESULT);
    assert_string_equal(again.decisions, r.decisions);
    harness_result_free(&again);
    harness_result_free(&r);
}

/* --------------------------------- (b) a two-preemption atomicity violation */

/* Three tellers each withdraw 60 from 100 if the balance covers it, with a
 * scheduling point between the check and the withdrawal. Balance 40: one
 * withdrew; -20: two (one preemption between a check and its withdrawal);
 * -80: all three (two tellers preempted between check and act). */
struct bank {
    atomic_int balance;
    csp_waitgroup *wg;
};

static void teller(void *arg)
{
    struct bank *b = arg;
    if (atomic_load(&b->balance) >= 60) {
        csp_yield();
        atomic_fetch_sub(&b->balance, 60);
    }
    csp_wg_done(b->wg);
}

static void bank(void *arg)
{
    (void)arg;
    started();
    struct bank b;
    atomic_init(&b.balance, 100);
    b.wg = csp_wg_make();
    csp_wg_add(b.wg, 3);
    for (int i = 0; i < 3; i++)
        csp_go(teller, &b, "teller");
    csp_wg_wait(b.wg);
    outcome("balance=%d", atomic_load(&b.balance));
    csp_wg_free(b.wg);
}

static void b_atomicity_violation(void **state)
{
    (void)state;
    struct search ex;
    exhaustive_equals_random(bank, NULL, 2, 2, "(b) bank", &ex);
    assert_int_equal(ex.t.n, 3);
    assert_true(count_of(&ex, "balance=-80") > 0);
    /* Within one preemption the overdraft of two cannot happen. */
    exhaustive(bank, 1, 2, "(b) bank: EXHAUSTIVE p<=1", &ex);
    reduced_equals(bank, NULL, 1, 2, "(b) bank p<=1", &ex, NULL);
    assert_int_equal(count_of(&ex, "balance=-80"), 0);
    assert_true(count_of(&ex, "balance=-20") > 0);
}

/* ------------------------------------------------ (c) AB/BA lock order */

/* main (M) spawns A (locks a, then b) and B (b, then a) and waits for both.
 * The scheduling points: M  m1 after spawning A, m2 after spawning B, m3
 * before the wait (then it parks until both are done); A  a1 before lock(a),
 * a2 its yield, a3 before lock(b), a4 after unlock(b), a5 after unlock(a),
 * a6 after done; B likewise b1..b6 with the locks swapped. A point is a
 * decision when another task is runnable; staying is free, switching is a
 * preemption; when a task parks or ends with two others runnable, the pick
 * is free (every option branches, none counts).
 *
 * The count, by hand. Preemption bound 0: M runs to its park, then the free
 * pick A or B; each runs to its end unpreempted, then the other: 2 schedules,
 * AB and BA.
 * Preemption bound 1 (the one preemption is where the cases split):
 *   at m1 (only A exists): A runs through, then M, B: AB                   1
 *   at m2, to A or to B: that one runs through, then the free pick of the
 *     other two (M or the other transfer): 2 x 2, AB twice, BA twice        4
 *   at m3, to A or B: the same                                              4
 *   none in M; M parks; the free pick A (B is symmetric, outcomes swapped):
 *     no preemption in A; B runs alone; at b6 (done readies M) stay or
 *       switch to M: AB, AB                                                 2
 *     at a1: B runs through first: BA                                       1
 *     at a2 or a3 (A holds a): B takes b and parks on a; A parks on b:
 *       DEADLOCK, twice                                                     2
 *     at a4 (A holds a only): B parks on a; A hands a over: AB              1
 *     at a5: B runs through, then A: AB                                     1
 *     at a6: B runs through and readies M; then the free pick M or A: AB,AB 2
 *   total 1 + 4 + 4 + 2 x 9 = 27: AB 1+2+2+6+1 = 12, BA 2+2+6+1 = 11,
 *   DEADLOCK 4. */

struct ledger {
    csp_mutex *a, *b;
    csp_waitgroup *wg;
};
static char finish_order[8];

static void transfer(csp_mutex *first, csp_mutex *second, csp_waitgroup *wg, char who)
{
    csp_mutex_lock(first);
    csp_yield();
    csp_mutex_lock(second);
    size_t n = strlen(finish_order);   /* under both locks */
    finish_order[n] = who;
    finish_order[n + 1] = 0;
    csp_mutex_unlock(second);
    csp_mutex_unlock(first);
    csp_wg_done(wg);
}

static void transfer_ab(void *arg)
{
    struct ledger *l = arg;
    transfer(l->a, l->b, l->wg, 'A');
}

static void transfer_ba(void *arg)
{
    struct ledger *l = arg;
    transfer(l->b, l->a, l->wg, 'B');
}

static void lock_order(void *arg)
{
    (void)arg;
    started();
    finish_order[0] = 0;
    struct ledger l = { csp_mutex_make("a"), csp_mutex_make("b"), csp_wg_make() };
    csp_wg_add(l.wg, 2);
    csp_go(transfer_ab, &l, "a->b");
    csp_go(transfer_ba, &l, "b->a");
    csp_wg_wait(l.wg);
    outcome("order=%s", finish_order);
    csp_wg_free(l.wg);
    csp_mutex_free(l.a);
    csp_mutex_free(l.b);
}

static void c_lock_order(void **state)
{
    (void)state;
    struct search ex;
    exhaustive_equals_random(lock_order, NULL, 2, 2, "(c) AB/BA", &ex);
    assert_int_equal(ex.t.n, 3);
    assert_true(count_of(&ex, "DEADLOCK") > 0);
    assert_true(count_of(&ex, "order=AB") > 0);
    assert_true(count_of(&ex, "order=BA") > 0);

    exhaustive(lock_order, 0, 2, "(c) AB/BA: EXHAUSTIVE p<=0", &ex);
    reduced_equals(lock_order, NULL, 0, 2, "(c) AB/BA p<=0", &ex, NULL);
    assert_int_equal(ex.schedules, 2);
    assert_int_equal(count_of(&ex, "order=AB"), 1);
    assert_int_equal(count_of(&ex, "order=BA"), 1);
    exhaustive(lock_order, 1, 2, "(c) AB/BA: EXHAUSTIVE p<=1", &ex);
    reduced_equals(lock_order, NULL, 1, 2, "(c) AB/BA p<=1", &ex, NULL);
    assert_int_equal(ex.schedules, 27);
    assert_int_equal(count_of(&ex, "order=AB"), 12);
    assert_int_equal(count_of(&ex, "order=BA"), 11);
    assert_int_equal(count_of(&ex, "DEADLOCK"), 4);
}

/* ----------------------------------------- (d) a select, both cases ready */

/* Two senders fill their own buffered channel; main waits for both, so both
 * cases are ready at its select, and which proceeds is a SELECT decision. */
struct pair {
    csp_chan *a, *b;
    csp_waitgroup *wg;
};

static void send_a(void *arg)
{
    struct pair *p = arg;
    int v = 1;
    csp_send(p->a, &v);
    csp_wg_done(p->wg);
}

static void send_b(void *arg)
{
    struct pair *p = arg;
    int v = 2;
    csp_send(p->b, &v);
    csp_wg_done(p->wg);
}

static void select_both_ready(void *arg)
{
    (void)arg;
    started();
    struct pair p = { csp_chan_make(sizeof(int), 1, "a"), csp_chan_make(sizeof(int), 1, "b"),
                      csp_wg_make() };
    csp_wg_add(p.wg, 2);
    csp_go(send_a, &p, "send a");
    csp_go(send_b, &p, "send b");
    csp_wg_wait(p.wg);
    int v = 0;
    csp_case cases[] = { { p.a, CSP_OP_RECV, &v, false }, { p.b, CSP_OP_RECV, &v, false } };
    int i = csp_select(cases, 2, false);
    outcome("case=%d v=%d", i, v);
    csp_wg_free(p.wg);
    csp_chan_free(p.a);
    csp_chan_free(p.b);
}

static void d_select_both_ready(void **state)
{
    (void)state;
    struct search ex;
    exhaustive_equals_random(select_both_ready, NULL, 2, 2, "(d) select, both ready", &ex);
    assert_int_equal(ex.t.n, 2);
    /* With no non-default choice allowed, only case 0 is ever taken. */
    exhaustive(select_both_ready, 2, 0, "(d) select: EXHAUSTIVE c<=0", &ex);
    assert_int_equal(ex.t.n, 1);
    assert_true(count_of(&ex, "case=0 v=1") > 0);
}

/* -------------------------------------- (e) two timers due at one instant */

/* main's select waits on two csp_after(1 s). At 1 s both are due: one TIMER
 * decision of 2 options (which fires first); the first to fire wakes the
 * select with its case, the second fills its own buffer. main is the only
 * task, so there is no RUN decision, and the select, woken by one case, makes
 * no SELECT decision.
 * The count, by hand: choice bound >= 1: 2 schedules (option 0, then 1),
 * one per outcome; choice bound 0: 1. */
static void two_timers(void *arg)
{
    (void)arg;
    started();
    csp_chan *first = csp_after(CSP_SECOND);
    csp_chan *second = csp_after(CSP_SECOND);
    csp_duration at = 0;
    csp_case cases[] = { { first, CSP_OP_RECV, &at, false }, { second, CSP_OP_RECV, &at, false } };
    int i = csp_select(cases, 2, false);
    outcome("timer=%d at=%lldms", i, (long long)(at / CU_MS));
}

static void e_two_timers(void **state)
{
    (void)state;
    struct search ex;
    exhaustive_equals_random(two_timers, NULL, 2, 2, "(e) two timers", &ex);
    assert_int_equal(ex.schedules, 2);
    assert_int_equal(count_of(&ex, "timer=0 at=1000ms"), 1);
    assert_int_equal(count_of(&ex, "timer=1 at=1000ms"), 1);
    exhaustive(two_timers, 2, 0, "(e) two timers: EXHAUSTIVE c<=0", &ex);
    assert_int_equal(ex.schedules, 1);
}

/* ------------------------------------------------------- Fair livelock */

/* Like cu_assert_verdict, but prints only the message: the decisions of a
 * long run fill megabytes. */
#define assert_verdict_brief(r, v)                                               \
    do {                                                                         \
        if ((r)->verdict != (v))                                                 \
            print_error("expected %s, got %s: %s (%llu steps)\n",                \
                        harness_verdict_name(v), harness_verdict_name((r)->verdict), \
                        (r)->message ? (r)->message : "", (unsigned long long)(r)->steps); \
        assert_int_equal((r)->verdict, (v));                                     \
    } while (0)

/* The stopper shape (issue 10, item 5): a loop that spawns a helper each
 * iteration and waits in select on `stop` or the helper's buffered `done`,
 * while another task sends `stop` once. Every fair scheduler lets the
 * stopper run, so the run ends; an unfair one (PCT's priorities, EXHAUSTIVE's
 * defaults) could keep the parent and its fresh helpers ahead of it. */
static void helper(void *arg)
{
    int v = 1;
    csp_send(arg, &v);
}

static void stopper(void *arg)
{
    int v = 1;
    csp_send(arg, &v);
}

static void stopper_loop(void *arg)
{
    (void)arg;
    csp_chan *stop = csp_chan_make(sizeof(int), 0, "stop");
    csp_go(stopper, stop, "stopper");
    unsigned iterations = 0;
    for (;;) {
        csp_chan *done = csp_chan_make(sizeof(int), 1, "done");
        csp_go(helper, done, "helper");
        int v;
        csp_case cases[] = { { stop, CSP_OP_RECV, &v, false }, { done, CSP_OP_RECV, &v, false } };
        iterations++;
        if (csp_select(cases, 2, false) == 0)
            break;
    }
    harness_output("stopped\n");
    started();
    if (iterations > tally->longest)
        tally->longest = iterations;
    tally->long_runs += iterations > 100;
}

static void stopper_passes(harness_strategy strategy, const char *name, uint64_t max_steps)
{
    harness_options o = cu_options();
    o.strategy = strategy;
    o.schedules = STOPPER_SCHEDULES;
    o.pct_depth = 3;
    o.preemption_bound = 2;
    if (max_steps)
        o.max_steps = max_steps;
    memset(tally, 0, sizeof *tally);
    harness_result r;
    cu_run(stopper_loop, NULL, &o, &r);
    printf("stopper, %s, max_steps %llu: %s after %u schedules%s; longest run %u iterations, "
           "%u runs of more than 100\n", name, (unsigned long long)o.max_steps,
           harness_verdict_name(r.verdict), r.schedules_run, r.exhausted ? " (exhausted)" : "",
           tally->longest, tally->long_runs);
    assert_verdict_brief(&r, HARNESS_PASS);
    assert_int_equal(r.seen, 1u << HARNESS_PASS);
    assert_int_equal(tally->started, r.schedules_run);   /* every run ended, stopped */
    assert_true(r.schedules_run == STOPPER_SCHEDULES ||
                (strategy == HARNESS_EXHAUSTIVE && r.exhausted));
    harness_result_free(&r);
}

static void stopper_is_not_a_livelock(void **state)
{
    (void)state;
    stopper_passes(HARNESS_PCT, "PCT", 0);
    stopper_passes(HARNESS_RANDOM, "RANDOM", 0);
    stopper_passes(HARNESS_EXHAUSTIVE, "EXHAUSTIVE", 0);
    /* A step bound below FAIR_LIMIT: starvation is ended by fair
     * continuation rather than by the forced pick. */
    stopper_passes(HARNESS_PCT, "PCT", 500);
    stopper_passes(HARNESS_RANDOM, "RANDOM", 500);
    stopper_passes(HARNESS_EXHAUSTIVE, "EXHAUSTIVE", 500);
}

/* select with default, for ever; nobody sends. */
static void busy_poll(void *arg)
{
    (void)arg;
    csp_chan *never = csp_chan_make(sizeof(int), 0, "never");
    int v;
    for (;;) {
        csp_case c = { never, CSP_OP_RECV, &v, false };
        if (csp_select(&c, 1, true) == 0)
            break;
    }
}

/* A helper that polls beside it: the run has RUN decisions too. */
static void poller(void *arg)
{
    (void)arg;
    for (;;)
        csp_yield();
}

static void busy_poll_two(void *arg)
{
    csp_go(poller, NULL, "poller");
    busy_poll(arg);
}

static void busy_poll_stays_hang(void **state)
{
    (void)state;
    static const harness_strategy strategies[] = { HARNESS_PCT, HARNESS_RANDOM,
                                                   HARNESS_EXHAUSTIVE };
    static const char *const names[] = { "PCT", "RANDOM", "EXHAUSTIVE" };
    void (*entries[])(void *) = { busy_poll, busy_poll_two };
    for (size_t e = 0; e < 2; e++)
        for (size_t i = 0; i < 3; i++) {
            harness_options o = cu_options();
            o.strategy = strategies[i];
            o.schedules = 10;
            o.max_steps = 3000;
            harness_result r;
            cu_run(entries[e], NULL, &o, &r);
            printf("busy poll (%s), %s: %s after %u schedules, %llu steps\n",
                   e ? "two tasks" : "one task", names[i], harness_verdict_name(r.verdict),
                   r.schedules_run, (unsigned long long)r.steps);
            assert_verdict_brief(&r, HARNESS_HANG);
            assert_int_equal(r.schedules_run, 1);
            cu_assert_contains(&r, r.message, "nor in 3000 more under a fair scheduler");
            assert_in_range(r.steps, 6000, 6001);
            harness_result_free(&r);
        }
}

/* A schedule that went on under fair continuation (more than max_steps
 * scheduling points) and ended, replayed from its explicit decisions,
 * reaches the same ending: same verdict, steps, output and decisions. */
static void fair_ending_replays(void **state)
{
    (void)state;
    unsigned found = 0, tried = 0;
    for (uint64_t seed = 1; seed <= 200 && found < 3; seed++) {
        harness_options o = cu_options();
        o.strategy = HARNESS_PCT;
        o.pct_depth = 3;
        o.seed = seed;
        o.max_steps = 500;
        harness_result r;
        cu_run(stopper_loop, NULL, &o, &r);
        tried++;
        assert_verdict_brief(&r, HARNESS_PASS);
        if (r.steps <= o.max_steps) {
            harness_result_free(&r);
            continue;
        }
        found++;
        printf("stopper, PCT seed %llu: ended under fair continuation after %llu steps "
               "(max_steps %llu)\n", (unsigned long long)seed, (unsigned long long)r.steps,
               (unsigned long long)o.max_steps);
        harness_options ro = cu_options();
        ro.replay = r.decisions;
        ro.max_steps = 500;
        harness_result again;
        cu_run(stopper_loop, NULL, &ro, &again);
        assert_verdict_brief(&again, HARNESS_PASS);
        assert_int_equal(again.steps, r.steps);
        assert_string_equal(again.output, r.output);
        assert_string_equal(again.decisions, r.decisions);
        assert_int_equal(again.virtual_time, r.virtual_time);
        harness_result_free(&again);
        harness_result_free(&r);
    }
    printf("%u of %u PCT seeds ended under fair continuation\n", found, tried);
    assert_true(found > 0);
}

int main(void)
{
    cu_main_init();
    tally = mmap(NULL, sizeof *tally, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
    if (tally == MAP_FAILED) {
        perror("mmap");
        return 1;
    }
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_seen_write),
        cmocka_unit_test(a_exhaustive_finds_the_bug),
        cmocka_unit_test(b_atomicity_violation),
        cmocka_unit_test(c_lock_order),
        cmocka_unit_test(d_select_both_ready),
        cmocka_unit_test(e_two_timers),
        cmocka_unit_test(stopper_is_not_a_livelock),
        cmocka_unit_test(busy_poll_stays_hang),
        cmocka_unit_test(fair_ending_replays),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
