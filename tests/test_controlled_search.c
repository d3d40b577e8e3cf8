/* test_controlled_search.c — controlled mode finds schedule-dependent bugs and
 * replays them (DESIGN.md §2–3, §7): every strategy (RANDOM, PCT, BYTES,
 * EXHAUSTIVE) finds a check-then-act bug that needs two preemptions;
 * EXHAUSTIVE proves its fixed twin within the bound; a failing schedule
 * replays exactly, 20 times, from its short and its explicit form; which
 * ready select case proceeds and which of two timers due at one instant fires
 * first are decisions too, found by EXHAUSTIVE and replayed.
 *
 * The counts each search needed are printed ("schedules to find ...").
 * Every search is seeded, so every count is the same on every run. */
#include "controlled_util.h"

#include <stdatomic.h>

/* ------------------------------------------------------------ The bank */

/* Three tellers each withdraw 60 from an account of 100. The check and the
 * withdrawal are two steps with a scheduling point between them, so a
 * teller can withdraw on the strength of a check that another teller's
 * withdrawal has already made false. The bank covers an overdraft of 50:
 * one teller slipping through (balance -20) is absorbed; two (balance -80)
 * are not. Two slipping through needs all three checks before the first
 * withdrawal, so two tellers must each be preempted between their check and
 * their withdrawal: the bug needs exactly two preemptions.
 * The balance is atomic: this is an atomicity violation, not a data race,
 * so it is the same bug under ThreadSanitizer. */
#define BANK_OPENING 100
#define BANK_AMOUNT 60
#define BANK_COVER 50
#define BANK_TELLERS 3

struct bank {
    atomic_int balance;
    atomic_int withdrawals;
    csp_mutex *lock;      /* the fixed twin: check and act under one lock */
    csp_waitgroup *wg;
};

static void teller(void *arg)
{
    struct bank *b = arg;
    if (atomic_load(&b->balance) >= BANK_AMOUNT) {
        csp_yield();   /* BUG(WRONG_RESULT): another teller may withdraw here */
        atomic_fetch_sub(&b->balance, BANK_AMOUNT);
        atomic_fetch_add(&b->withdrawals, 1);
    }
    csp_wg_done(b->wg);
}

static void locked_teller(void *arg)
{
    struct bank *b = arg;
    csp_mutex_lock(b->lock);   /* FIX: the check and the withdrawal are one step */
    if (atomic_load(&b->balance) >= BANK_AMOUNT) {
        csp_yield();
        atomic_fetch_sub(&b->balance, BANK_AMOUNT);
        atomic_fetch_add(&b->withdrawals, 1);
    }
    csp_mutex_unlock(b->lock);
    csp_wg_done(b->wg);
}

/* arg NULL: the buggy bank; non-NULL: the locked twin. */
static void bank(void *arg)
{
    struct bank b;
    atomic_init(&b.balance, BANK_OPENING);
    atomic_init(&b.withdrawals, 0);
    b.lock = arg ? csp_mutex_make("account") : NULL;
    b.wg = csp_wg_make();
    csp_wg_add(b.wg, BANK_TELLERS);
    for (int i = 0; i < BANK_TELLERS; i++)
        csp_go(arg ? locked_teller : teller, &b, "teller");
    csp_wg_wait(b.wg);
    int balance = atomic_load(&b.balance), n = atomic_load(&b.withdrawals);
    if (balance < -BANK_COVER) {
        harness_output("balance %d after %d withdrawals\n", balance, n);
        harness_fail("balance %d after %d withdrawals of %d from %d: beyond the overdraft cover "
                     "of %d", balance, n, BANK_AMOUNT, BANK_OPENING, BANK_COVER);
    }
    csp_wg_free(b.wg);
    csp_mutex_free(b.lock);
}

static const char overdrawn[] = "balance -80 after 3 withdrawals of 60 from 100: beyond the "
                                "overdraft cover of 50";

/* Asserts that r is the overdraft, and that its explicit schedule replays
 * it (one replay here; replay_the_*_20_times do twenty). */
static void assert_overdraft_and_replay(const harness_result *r)
{
    cu_assert_verdict(r, HARNESS_WRONG_RESULT);
    cu_assert_contains(r, r->message, overdrawn);
    cu_assert_contains(r, r->output, "balance -80 after 3 withdrawals\n");
    assert_false(r->exhausted);
    assert_non_null(r->schedule);
    assert_non_null(r->decisions);
    assert_true(strncmp(r->decisions, "v1:x:", 5) == 0);

    harness_options o = cu_options();
    o.replay = r->decisions;
    harness_result again;
    cu_run(bank, NULL, &o, &again);
    cu_assert_verdict(&again, HARNESS_WRONG_RESULT);
    assert_string_equal(again.message, r->message);
    assert_string_equal(again.decisions, r->decisions);
    assert_int_equal(again.schedules_run, 1);
    harness_result_free(&again);
}

/* Each seed's search, its count printed; every one must find the bug
 * within the budget, and its schedule must replay it. */
static void strategy_finds_the_overdraft(harness_strategy strategy, const char *name)
{
    unsigned total = 0, worst = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        harness_options o = cu_options();
        o.strategy = strategy;
        o.pct_depth = 3;   /* PCT: two change points, the bug's two preemptions */
        o.seed = seed;
        o.schedules = 20000;
        harness_result r;
        cu_run(bank, NULL, &o, &r);
        printf("%s (seed %llu): %s after %u schedules; schedule %s\n", name,
               (unsigned long long)seed, harness_verdict_name(r.verdict), r.schedules_run,
               r.schedule ? r.schedule : "?");
        assert_overdraft_and_replay(&r);
        char want[64];
        if (strategy == HARNESS_RANDOM)
            snprintf(want, sizeof want, "v1:random:seed=%llu:run=%u", (unsigned long long)seed,
                     r.schedules_run);
        else
            snprintf(want, sizeof want, "v1:pct:seed=%llu:depth=3:run=%u:",
                     (unsigned long long)seed, r.schedules_run);
        assert_true(strncmp(r.schedule, want, strlen(want)) == 0);

        /* The short form replays the same run. */
        harness_options ro = cu_options();
        ro.replay = r.schedule;
        harness_result again;
        cu_run(bank, NULL, &ro, &again);
        cu_assert_verdict(&again, HARNESS_WRONG_RESULT);
        assert_string_equal(again.decisions, r.decisions);
        assert_string_equal(again.schedule, r.schedule);
        harness_result_free(&again);
        total += r.schedules_run;
        worst = r.schedules_run > worst ? r.schedules_run : worst;
        harness_result_free(&r);
    }
    printf("%s: %.1f schedules on average (worst %u) to find the overdraft, seeds 1-10\n",
           name, total / 10.0, worst);
}

static void random_finds_the_overdraft(void **state)
{
    (void)state;
    strategy_finds_the_overdraft(HARNESS_RANDOM, "RANDOM");
}

static void pct_finds_the_overdraft(void **state)
{
    (void)state;
    strategy_finds_the_overdraft(HARNESS_PCT, "PCT depth 3");
}

/* BYTES: one byte per decision, modulo its options; when the bytes run out,
 * the running task goes on (else the lowest id). The bank's decisions, in
 * order (tasks: 1 main, 2-4 tellers):
 *   main spawns teller 2, 3, 4   RUN of 2, 3, 4 tasks   0 0 0  (main goes on)
 *   main at csp_wg_wait          RUN of 4                0      (main goes on, parks)
 *   nothing running              RUN of 3                0      (teller 2)
 *   teller 2 at its csp_yield    RUN of 3                1      (preempt: teller 3)
 *   teller 3 at its csp_yield    RUN of 3                2      (preempt: teller 4)
 * then the bytes run out: teller 4 withdraws, and tellers 2 and 3 withdraw
 * on their stale checks. */
static const uint8_t overdraft_bytes[] = { 0, 0, 0, 0, 0, 1, 2 };
/* The same, but teller 3 goes on at its yield: one teller slips through,
 * balance -20, and the cover absorbs it. */
static const uint8_t covered_bytes[] = { 0, 0, 0, 0, 0, 1, 1 };

static void bytes_find_the_overdraft(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.strategy = HARNESS_BYTES;
    o.bytes = overdraft_bytes;
    o.nbytes = sizeof overdraft_bytes;
    harness_result r;
    cu_run(bank, NULL, &o, &r);
    printf("BYTES {0,0,0,0,0,1,2}: %u schedule to find the overdraft; decisions %s\n",
           r.schedules_run, r.decisions ? r.decisions : "?");
    assert_int_equal(r.schedules_run, 1);
    assert_overdraft_and_replay(&r);
    /* The decisions taken are the bytes, then the defaults (the running task
     * goes on, else the lowest id). The explicit schedule lists them all and
     * replays the same run; the bytes alone, as an explicit schedule, run out
     * before the run does and are refused, never completed silently. */
    assert_non_null(r.decisions);
    assert_int_equal(strncmp(r.decisions, "v1:x:0x5.1.2", 12), 0);
    harness_options xo = cu_options();
    xo.replay = r.decisions;
    harness_result x;
    cu_run(bank, NULL, &xo, &x);
    cu_assert_verdict(&x, HARNESS_WRONG_RESULT);
    assert_string_equal(x.decisions, r.decisions);
    harness_result_free(&x);
    xo.replay = "v1:x:0.0.0.0.0.1.2";
    assert_int_equal(harness_run(bank, NULL, &xo, &x), -1);
    assert_non_null(strstr(x.message, "does not fit"));
    harness_result_free(&x);
    harness_result_free(&r);
}

static void bytes_that_miss_the_overdraft(void **state)
{
    (void)state;
    const struct { const uint8_t *bytes; size_t n; const char *name; } cases[] = {
        { covered_bytes, sizeof covered_bytes, "{0,0,0,0,0,1,1}" },
        { NULL, 0, "{}" },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
        harness_options o = cu_options();
        o.strategy = HARNESS_BYTES;
        o.bytes = cases[i].bytes;
        o.nbytes = cases[i].n;
        harness_result r;
        cu_run(bank, NULL, &o, &r);
        printf("BYTES %s: %s (decisions %s)\n", cases[i].name, harness_verdict_name(r.verdict),
               r.decisions ? r.decisions : "?");
        cu_assert_verdict(&r, HARNESS_PASS);
        assert_int_equal(r.schedules_run, 1);
        harness_result_free(&r);
    }
}

static void exhaustive_finds_the_overdraft(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.preemption_bound = 2;
    o.schedules = 1000000;
    harness_result r;
    cu_run(bank, NULL, &o, &r);
    printf("EXHAUSTIVE (preemption bound 2): %u schedules to find the overdraft; decisions %s\n",
           r.schedules_run, r.decisions ? r.decisions : "?");
    assert_overdraft_and_replay(&r);
    harness_result_free(&r);
}

/* With one preemption the bug cannot happen; EXHAUSTIVE covers that bound
 * and says so — a proof for the bound only. */
static void exhaustive_bound_one_cannot_see_it(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.preemption_bound = 1;
    o.schedules = 1000000;
    harness_result r;
    cu_run(bank, NULL, &o, &r);
    printf("EXHAUSTIVE (preemption bound 1) on the buggy bank: %s, exhausted %d after %u "
           "schedules\n", harness_verdict_name(r.verdict), (int)r.exhausted, r.schedules_run);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_true(r.exhausted);
    cu_assert_contains(&r, r.message, "exhausted");
    harness_result_free(&r);
}

static void exhaustive_proves_the_locked_bank(void **state)
{
    (void)state;
    static int locked = 1;
    for (unsigned bound = 2; bound <= 3; bound++) {
        harness_options o = cu_options();
        o.strategy = HARNESS_EXHAUSTIVE;
        o.preemption_bound = bound;
        o.schedules = 1000000;
        harness_result r;
        cu_run(bank, &locked, &o, &r);
        printf("EXHAUSTIVE (preemption bound %u) proves the locked bank: %s, exhausted %d, "
               "%u schedules\n", bound, harness_verdict_name(r.verdict), (int)r.exhausted,
               r.schedules_run);
        cu_assert_verdict(&r, HARNESS_PASS);
        assert_true(r.exhausted);
        assert_true(r.schedules_run > 1);
        cu_assert_contains(&r, r.message, "(the bounded space is exhausted)");
        harness_result_free(&r);
    }
}

/* ------------------------------------------------------------- Replay */

/* Two transfers lock two accounts in opposite orders: a deadlock when each
 * takes its first lock before the other takes its second (one preemption).
 * Its failure carries a dump, so a replay can be compared dump for dump. */
struct ledger {
    csp_mutex *a, *b;
    csp_waitgroup *wg;
};

static CU_NOINLINE void transfer(csp_mutex *from, csp_mutex *to, csp_waitgroup *wg)
{
    csp_mutex_lock(from);
    csp_yield();
    csp_mutex_lock(to);   /* BUG(DEADLOCK): the other transfer locks in the other order */
    csp_mutex_unlock(to);
    csp_mutex_unlock(from);
    csp_wg_done(wg);
}

static void transfer_ab(void *arg)
{
    struct ledger *l = arg;
    transfer(l->a, l->b, l->wg);
    CU_KEEP_FRAME();
}

static void transfer_ba(void *arg)
{
    struct ledger *l = arg;
    transfer(l->b, l->a, l->wg);
    CU_KEEP_FRAME();
}

static void two_transfers(void *arg)
{
    (void)arg;
    struct ledger l = { csp_mutex_make("alice"), csp_mutex_make("bob"), csp_wg_make() };
    harness_output("two transfers\n");
    csp_wg_add(l.wg, 2);
    csp_go(transfer_ab, &l, "alice->bob");
    csp_go(transfer_ba, &l, "bob->alice");
    csp_wg_wait(l.wg);
    CU_KEEP_FRAME();
    harness_output("done\n");
}

/* Replays `schedule` 20 times; every replay must equal `want` exactly. */
static void replay_20_times(void (*entry)(void *), const char *schedule, const harness_result *want)
{
    for (int i = 0; i < 20; i++) {
        harness_options o = cu_options();
        o.replay = schedule;
        harness_result r;
        cu_run(entry, NULL, &o, &r);
        if (r.verdict != want->verdict || !cu_same(r.message, want->message) ||
            !cu_same(r.dump, want->dump) || !cu_same(r.output, want->output) ||
            !cu_same(r.decisions, want->decisions) || r.steps != want->steps ||
            r.virtual_time != want->virtual_time) {
            print_error("replay %d of %s differs from the run it replays\n", i + 1, schedule);
            fprintf(stderr, "=== the run ===\n");
            cu_print_result(want);
            fprintf(stderr, "=== the replay ===\n");
            cu_print_result(&r);
            fail();
        }
        assert_int_equal(r.schedules_run, 1);
        harness_result_free(&r);
    }
}

static void replay_the_deadlock_20_times(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.seed = 3;
    o.schedules = 10000;
    harness_result r;
    cu_run(two_transfers, NULL, &o, &r);
    printf("RANDOM (seed 3): %u schedules to find the lock-order deadlock; %s = %s\n",
           r.schedules_run, r.schedule ? r.schedule : "?", r.decisions ? r.decisions : "?");
    cu_assert_verdict(&r, HARNESS_DEADLOCK);
    assert_non_null(r.dump);
    cu_assert_contains(&r, r.dump, "[mutex lock \"bob\"");
    cu_assert_contains(&r, r.dump, "[mutex lock \"alice\"");
    cu_assert_contains(&r, r.dump, "\"main\" [wait group wait");
    cu_assert_contains(&r, r.output, "two transfers\n");
    replay_20_times(two_transfers, r.schedule, &r);
    replay_20_times(two_transfers, r.decisions, &r);
    harness_result_free(&r);
}

static void replay_the_overdraft_20_times(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.seed = 7;
    o.schedules = 20000;
    harness_result r;
    cu_run(bank, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_string_equal(r.output, "balance -80 after 3 withdrawals\n");
    replay_20_times(bank, r.schedule, &r);
    replay_20_times(bank, r.decisions, &r);
    harness_result_free(&r);
}

/* ------------------------------------------- Select and timer decisions */

/* Two buffered channels both hold a value: which case proceeds is the
 * scheduler's choice. Only "cold" leads to the failure. */
static void select_two_ready(void *arg)
{
    (void)arg;
    csp_chan *hot = csp_chan_make(sizeof(int), 1, "hot");
    csp_chan *cold = csp_chan_make(sizeof(int), 1, "cold");
    int one = 1, v = 0;
    csp_send(hot, &one);
    csp_send(cold, &one);
    csp_case cases[] = { { hot, CSP_OP_RECV, &v, false }, { cold, CSP_OP_RECV, &v, false } };
    if (csp_select(cases, 2, false) == 1)
        harness_fail("select took \"cold\"");
    csp_chan_free(hot);
    csp_chan_free(cold);
}

/* Two csp_after with the same deadline race to decide `winner`. */
static void two_timers_one_instant(void *arg)
{
    (void)arg;
    csp_chan *first = csp_after(CSP_SECOND);
    csp_chan *second = csp_after(CSP_SECOND);
    csp_duration at = 0;
    csp_case cases[] = { { first, CSP_OP_RECV, &at, false }, { second, CSP_OP_RECV, &at, false } };
    int winner = csp_select(cases, 2, false);
    if (at != CSP_SECOND)
        harness_fail("a timer due at 1 s fired at %lld ns", (long long)at);
    if (winner == 1)
        harness_fail("the second timer won");
}

/* EXHAUSTIVE finds the failing choice, its schedule replays it, and the
 * other choice passes; with choice_bound 0 the choice is never varied. */
static void exhaustive_varies_a_choice(void (*entry)(void *), const char *what, const char *msg)
{
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.schedules = 1000;
    harness_result r;
    cu_run(entry, NULL, &o, &r);
    printf("EXHAUSTIVE: %u schedules to find the %s; decisions %s\n", r.schedules_run, what,
           r.decisions ? r.decisions : "?");
    cu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    cu_assert_contains(&r, r.message, msg);
    assert_int_equal(r.schedules_run, 2);
    /* The run makes one decision: the choice; the first schedule took the
     * default (0), the second the other option. */
    assert_string_equal(r.decisions, "v1:x:1");

    harness_options ro = cu_options();
    ro.replay = r.decisions;
    harness_result again;
    for (int i = 0; i < 5; i++) {
        cu_run(entry, NULL, &ro, &again);
        cu_assert_verdict(&again, HARNESS_WRONG_RESULT);
        assert_string_equal(again.message, r.message);
        assert_string_equal(again.decisions, r.decisions);
        harness_result_free(&again);
    }
    /* The first schedule (all defaults) passes: replay it explicitly. */
    ro.replay = "v1:x:0";
    cu_run(entry, NULL, &ro, &again);
    cu_assert_verdict(&again, HARNESS_PASS);
    harness_result_free(&again);
    harness_result_free(&r);

    o.choice_bound = 0;
    cu_run(entry, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_true(r.exhausted);
    assert_int_equal(r.schedules_run, 1);
    harness_result_free(&r);
}

static void select_case_is_a_decision(void **state)
{
    (void)state;
    exhaustive_varies_a_choice(select_two_ready, "select choice", "select took \"cold\"");
}

static void timer_order_is_a_decision(void **state)
{
    (void)state;
    exhaustive_varies_a_choice(two_timers_one_instant, "timer order", "the second timer won");
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(random_finds_the_overdraft),
        cmocka_unit_test(pct_finds_the_overdraft),
        cmocka_unit_test(bytes_find_the_overdraft),
        cmocka_unit_test(bytes_that_miss_the_overdraft),
        cmocka_unit_test(exhaustive_finds_the_overdraft),
        cmocka_unit_test(exhaustive_bound_one_cannot_see_it),
        cmocka_unit_test(exhaustive_proves_the_locked_bank),
        cmocka_unit_test(replay_the_deadlock_20_times),
        cmocka_unit_test(replay_the_overdraft_20_times),
        cmocka_unit_test(select_case_is_a_decision),
        cmocka_unit_test(timer_order_is_a_decision),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
