/* test_controlled_sched.c — the fibers backend driven directly through
 * csp_sched.h, without the harness: which decisions a run asks of the hooks
 * (RUN with the runnable ids and the current task, SELECT for ready select
 * cases, TIMER for timers due at one instant; never a decision with one
 * option), that the answers are obeyed and make a run reproducible, how a
 * run ends (QUIESCENT, DEADLOCK, STEPS, HORIZON, ABORTED) and its stats.
 *
 * This binary calls csp_sched_run from the test's own thread (which is not
 * a task) and never uses harness_run, so no forking happens after the
 * runtime was used. */
#include "controlled_util.h"

#include "csp_sched.h"

#include <stdatomic.h>

/* ------------------------------------------------------ A scripted scheduler */

#define MAX_SEEN 256

typedef struct {
    csp_decision_kind kind;
    size_t n;
    int current;
    uint64_t ids[8];
} seen_decision;

typedef struct {
    const size_t *script;   /* answers in order; past the end: the default */
    size_t nscript;
    seen_decision seen[MAX_SEEN];
    size_t nseen;
    uint64_t spawned[MAX_SEEN];
    size_t nspawned;
} script;

/* The hooks run inside whichever fiber reaches a decision: like the
 * harness's strategies, they must be invisible to ThreadSanitizer, or they
 * would order (or race between) tasks that Go's memory model leaves
 * unordered. */
#if defined(__clang__) || defined(__GNUC__)
#define QUIET_HOOK __attribute__((no_sanitize("thread")))
#else
#define QUIET_HOOK
#endif

QUIET_HOOK static size_t scripted_decide(void *ctx, csp_decision_kind kind, size_t n, const uint64_t *ids,
                              int current)
{
    script *s = ctx;
    size_t i = s->nseen;
    if (i < MAX_SEEN) {
        seen_decision *d = &s->seen[i];
        d->kind = kind;
        d->n = n;
        d->current = current;
        for (size_t k = 0; k < n && k < 8 && ids; k++)
            d->ids[k] = ids[k];
        s->nseen++;
    }
    if (i < s->nscript)
        return s->script[i];
    return current >= 0 ? (size_t)current : 0;
}

QUIET_HOOK static void scripted_spawned(void *ctx, uint64_t id)
{
    script *s = ctx;
    if (s->nspawned < MAX_SEEN)
        s->spawned[s->nspawned++] = id;
}

static csp_run_end run_scripted(void (*entry)(void *), void *arg, script *s,
                                const csp_run_limits *limits, csp_run_stats *stats)
{
    csp_sched_hooks hooks = { .ctx = s, .decide = scripted_decide, .spawned = scripted_spawned };
    csp_run_end end = csp_sched_run(entry, arg, &hooks, limits, stats);
    assert_true(csp_sched_active());
    csp_sched_reset();
    assert_false(csp_sched_active());
    return end;
}

/* Filled in by the programs below, read after the run. Atomic: tasks of one
 * run write it with no edge between them (this is not a race test). */
static atomic_int observed;

/* ---------------------------------------------------------------- Programs */

static void two_ready_cases(void *arg)
{
    (void)arg;
    csp_chan *a = csp_chan_make(sizeof(int), 1, "a");
    csp_chan *b = csp_chan_make(sizeof(int), 1, "b");
    int one = 1, v = 0;
    csp_send(a, &one);
    csp_send(b, &one);
    csp_case cases[] = { { a, CSP_OP_RECV, &v, false }, { b, CSP_OP_RECV, &v, false } };
    observed = csp_select(cases, 2, false);
}

static void three_timers_one_instant(void *arg)
{
    (void)arg;
    csp_chan *t[3] = { csp_after(CSP_SECOND), csp_after(CSP_SECOND), csp_after(CSP_SECOND) };
    csp_duration at = 0;
    csp_case cases[3];
    for (int i = 0; i < 3; i++)
        cases[i] = (csp_case){ t[i], CSP_OP_RECV, &at, false };
    observed = csp_select(cases, 3, false);
    if (at != CSP_SECOND)
        observed = -100;
}

static void yields_alone(void *arg)
{
    (void)arg;
    for (int i = 0; i < 50; i++)
        csp_yield();
    observed = 1;
}

static void order_writer(void *arg)
{
    atomic_store(&observed, atomic_load(&observed) * 10 + (int)(intptr_t)arg);
}

static void spawn_two_then_sleep(void *arg)
{
    (void)arg;
    atomic_store(&observed, 0);
    csp_go(order_writer, (void *)(intptr_t)1, "one");
    csp_go(order_writer, (void *)(intptr_t)2, "two");
    csp_sleep(CSP_SECOND);
}

static void blocked_forever(void *arg)
{
    (void)arg;
    csp_recv(csp_chan_make(0, 0, "never"), NULL);
}

static void yield_forever(void *arg)
{
    (void)arg;
    for (;;)
        csp_yield();
}

static void sleeper_left_behind(void *arg)
{
    (void)arg;
    csp_sleep(100 * CSP_SECOND);
    observed = 2;
}

static void return_leaving_a_sleeper(void *arg)
{
    (void)arg;
    csp_go(sleeper_left_behind, NULL, "sleeper");
    csp_sleep(CSP_SECOND);
}

/* ------------------------------------------------------------------- Tests */

static void a_select_asks_one_select_decision(void **state)
{
    (void)state;
    for (size_t answer = 0; answer < 2; answer++) {
        script s = { &answer, 1, .nseen = 0 };
        csp_run_stats st;
        observed = -1;
        assert_int_equal(run_scripted(two_ready_cases, NULL, &s, NULL, &st), CSP_RUN_QUIESCENT);
        assert_int_equal(s.nseen, 1);
        assert_int_equal(s.seen[0].kind, CSP_DECIDE_SELECT);
        assert_int_equal(s.seen[0].n, 2);
        assert_int_equal(s.seen[0].current, -1);
        assert_int_equal(observed, (int)answer);
        assert_int_equal(st.decisions, 1);
        assert_true(st.entry_returned);
    }
}

static void timers_due_together_ask_timer_decisions(void **state)
{
    (void)state;
    /* Three timers due at 1 s: the first to fire is a choice of 3; the
     * select completes with it, whatever fires next. */
    int first_case[3];
    for (size_t answer = 0; answer < 3; answer++) {
        script s = { &answer, 1, .nseen = 0 };
        csp_run_stats st;
        observed = -1;
        assert_int_equal(run_scripted(three_timers_one_instant, NULL, &s, NULL, &st),
                         CSP_RUN_QUIESCENT);
        assert_true(s.nseen >= 1);
        assert_int_equal(s.seen[0].kind, CSP_DECIDE_TIMER);
        assert_int_equal(s.seen[0].n, 3);
        for (size_t i = 1; i < s.nseen; i++)
            assert_int_equal(s.seen[i].kind, CSP_DECIDE_TIMER);
        assert_int_equal(st.virtual_now, CSP_SECOND);
        assert_in_range(observed, 0, 2);
        first_case[answer] = observed;
    }
    /* Each answer made a different timer fire first. */
    assert_int_not_equal(first_case[0], first_case[1]);
    assert_int_not_equal(first_case[0], first_case[2]);
    assert_int_not_equal(first_case[1], first_case[2]);
}

static void one_option_is_never_asked(void **state)
{
    (void)state;
    script s = { NULL, 0, .nseen = 0 };
    csp_run_stats st;
    observed = 0;
    assert_int_equal(run_scripted(yields_alone, NULL, &s, NULL, &st), CSP_RUN_QUIESCENT);
    assert_int_equal(s.nseen, 0);
    assert_int_equal(st.decisions, 0);
    assert_true(st.steps >= 50);
    assert_int_equal(observed, 1);
}

static void run_decisions_list_runnable_ids(void **state)
{
    (void)state;
    /* Main spawns "one" (id 2): a RUN decision over {1, 2}, main current.
     * Answer 1: a preemption; then "one" ends, main spawns "two" (id 3),
     * and so on. Every RUN decision lists ids ascending. */
    static const size_t preempt_at_every_spawn[] = { 1, 1 };
    script s = { preempt_at_every_spawn, 2, .nseen = 0 };
    csp_run_stats st;
    assert_int_equal(run_scripted(spawn_two_then_sleep, NULL, &s, NULL, &st), CSP_RUN_QUIESCENT);
    assert_true(s.nseen >= 2);
    assert_int_equal(s.seen[0].kind, CSP_DECIDE_RUN);
    assert_int_equal(s.seen[0].n, 2);
    assert_int_equal(s.seen[0].current, 0);
    assert_int_equal(s.seen[0].ids[0], 1);
    assert_int_equal(s.seen[0].ids[1], 2);
    assert_int_equal(s.nspawned, 3);
    assert_int_equal(s.spawned[0], 1);
    assert_int_equal(s.spawned[1], 2);
    assert_int_equal(s.spawned[2], 3);
    assert_true(st.preemptions >= 1);
    assert_int_equal(observed, 12);   /* "one" ran first */

    /* Main goes on at every spawn, then sleeps: the scheduler picks "two"
     * first (answer 1 of {2, 3}, no task current). */
    static const size_t main_then_two[] = { 0, 0, 1 };
    script t = { main_then_two, 3, .nseen = 0 };
    assert_int_equal(run_scripted(spawn_two_then_sleep, NULL, &t, NULL, &st), CSP_RUN_QUIESCENT);
    assert_int_equal(observed, 21);
    assert_int_equal(st.preemptions, 0);
    assert_int_equal(st.virtual_now, CSP_SECOND);
}

static void the_same_answers_make_the_same_run(void **state)
{
    (void)state;
    static const size_t answers[] = { 1, 0, 1 };
    script a = { answers, 3, .nseen = 0 }, b = { answers, 3, .nseen = 0 };
    csp_run_stats sa, sb;
    run_scripted(spawn_two_then_sleep, NULL, &a, NULL, &sa);
    int first = observed;
    run_scripted(spawn_two_then_sleep, NULL, &b, NULL, &sb);
    assert_int_equal(observed, first);
    assert_int_equal(a.nseen, b.nseen);
    for (size_t i = 0; i < a.nseen; i++) {
        assert_int_equal(a.seen[i].kind, b.seen[i].kind);
        assert_int_equal(a.seen[i].n, b.seen[i].n);
        assert_int_equal(a.seen[i].current, b.seen[i].current);
    }
    assert_int_equal(sa.steps, sb.steps);
    assert_int_equal(sa.decisions, sb.decisions);
    assert_int_equal(sa.virtual_now, sb.virtual_now);
}

static void how_runs_end(void **state)
{
    (void)state;
    script s = { NULL, 0, .nseen = 0 };
    csp_run_stats st;
    assert_int_equal(run_scripted(blocked_forever, NULL, &s, NULL, &st), CSP_RUN_DEADLOCK);
    assert_false(st.entry_returned);

    csp_run_limits steps = { .max_steps = 1000 };
    assert_int_equal(run_scripted(yield_forever, NULL, &s, &steps, &st), CSP_RUN_STEPS);
    assert_in_range(st.steps, 1000, 1001);

    /* A sleeper 100 s away, a horizon of 10 s after entry returns. */
    csp_run_limits horizon = { .horizon = 10 * CSP_SECOND };
    observed = 0;
    assert_int_equal(run_scripted(return_leaving_a_sleeper, NULL, &s, &horizon, &st),
                     CSP_RUN_HORIZON);
    assert_true(st.entry_returned);
    assert_int_equal(observed, 0);
    /* Without a horizon the sleeper finishes at 100 s of virtual time. */
    assert_int_equal(run_scripted(return_leaving_a_sleeper, NULL, &s, NULL, &st),
                     CSP_RUN_QUIESCENT);
    assert_int_equal(observed, 2);
    assert_int_equal(st.virtual_now, 100 * CSP_SECOND);

    /* An answer out of range ends the run (a replay that does not fit). */
    static const size_t too_big[] = { 5 };
    script bad = { too_big, 1, .nseen = 0 };
    assert_int_equal(run_scripted(two_ready_cases, NULL, &bad, NULL, &st), CSP_RUN_ABORTED);
    assert_false(st.entry_returned);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_select_asks_one_select_decision),
        cmocka_unit_test(timers_due_together_ask_timer_decisions),
        cmocka_unit_test(one_option_is_never_asked),
        cmocka_unit_test(run_decisions_list_runnable_ids),
        cmocka_unit_test(the_same_answers_make_the_same_run),
        cmocka_unit_test(how_runs_end),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
