/* test_controlled_time.c — virtual time under the deterministic scheduler
 * (DESIGN.md §2: time jumps to the next timer when nothing can run, like Go's
 * testing/synctest). The book's countdown (GOPL §8.7: ten ticks of 1 s) runs
 * to the end without the test waiting ten seconds, and r.virtual_time says
 * ten seconds passed; csp_sleep and csp_after wake in the order of their
 * virtual deadlines, at exactly those deadlines, under every schedule; the
 * countdown's output is the same in free mode with a short interval.
 * No assertion here is about wall-clock time. */
#include "controlled_util.h"

/* GOPL §8.7 countdown with a ticker that is stopped (countdown.ticker-stop). */
static void countdown(void *arg)
{
    const csp_duration *interval = arg;
    csp_duration start = csp_now(), at = 0;
    csp_ticker *ticker = csp_ticker_make(*interval);
    harness_output("Commencing countdown.\n");
    for (int countdown = 10; countdown > 0; countdown--) {
        harness_output("%d\n", countdown);
        csp_recv(csp_ticker_chan(ticker), &at);
    }
    csp_ticker_stop(ticker);
    csp_ticker_free(ticker);
    if (at - start < 10 * *interval)
        harness_fail("the tenth tick came after %lld ns, want at least %lld ns",
                     (long long)(at - start), (long long)(10 * *interval));
    harness_output("Lift off!\n");
}

static const char countdown_output[] =
    "Commencing countdown.\n10\n9\n8\n7\n6\n5\n4\n3\n2\n1\nLift off!\n";

static void countdown_runs_in_virtual_time(void **state)
{
    (void)state;
    static const csp_duration one_second = CSP_SECOND;
    harness_options o = cu_options();
    o.schedules = 20;
    harness_result r;
    cu_run(countdown, (void *)&one_second, &o, &r);
    printf("countdown: %u schedules, virtual time %.3f s, %llu steps\n", r.schedules_run,
           (double)r.virtual_time / 1e9, (unsigned long long)r.steps);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, 20);
    assert_true(r.virtual_time >= 10 * CSP_SECOND);
    assert_string_equal(r.output, countdown_output);
    harness_result_free(&r);
}

/* The same program in free mode, with a 2 ms interval: the same output. */
static void countdown_output_is_the_same_in_free_mode(void **state)
{
    (void)state;
    static const csp_duration short_interval = 2 * CSP_MILLISECOND;
    harness_options o = harness_defaults();
    o.hang_after = 5 * CSP_SECOND;
    o.timeout = 20 * CSP_SECOND;
    harness_result fr;
    cu_run(countdown, (void *)&short_interval, &o, &fr);
    cu_assert_verdict(&fr, HARNESS_PASS);

    static const csp_duration one_second = CSP_SECOND;
    harness_options co = cu_options();
    harness_result cr;
    cu_run(countdown, (void *)&one_second, &co, &cr);
    cu_assert_verdict(&cr, HARNESS_PASS);
    assert_string_equal(fr.output, countdown_output);
    assert_string_equal(cr.output, fr.output);
    harness_result_free(&fr);
    harness_result_free(&cr);
}

/* Three sleepers, spawned longest first: they wake shortest first, each at
 * exactly its deadline, whatever the scheduler picks. */
struct sleeper {
    csp_duration d;
    csp_waitgroup *wg;
};

static void sleep_and_report(void *arg)
{
    struct sleeper *s = arg;
    csp_duration start = csp_now();
    csp_sleep(s->d);
    csp_duration woke = csp_now();
    if (woke - start != s->d)
        harness_fail("slept %lld ns for a sleep of %lld ns", (long long)(woke - start),
                     (long long)s->d);
    harness_output("%lld s\n", (long long)(s->d / CSP_SECOND));
    csp_wg_done(s->wg);
}

static void three_sleepers(void *arg)
{
    (void)arg;
    csp_waitgroup *wg = csp_wg_make();
    struct sleeper s[3] = { { 30 * CSP_SECOND, wg }, { 10 * CSP_SECOND, wg }, { 20 * CSP_SECOND, wg } };
    csp_wg_add(wg, 3);
    for (int i = 0; i < 3; i++)
        csp_go(sleep_and_report, &s[i], "sleeper");
    csp_wg_wait(wg);
    if (csp_now() != 30 * CSP_SECOND)
        harness_fail("all woke at %lld ns, want 30 s", (long long)csp_now());
    csp_wg_free(wg);
}

static void sleeps_wake_in_deadline_order(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 200;
    harness_result r;
    cu_run(three_sleepers, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, 200);
    assert_string_equal(r.output, "10 s\n20 s\n30 s\n");
    assert_int_equal(r.virtual_time, 30 * CSP_SECOND);

    o.strategy = HARNESS_EXHAUSTIVE;
    o.schedules = 100000;
    harness_result e;
    cu_run(three_sleepers, NULL, &o, &e);
    printf("EXHAUSTIVE: three sleepers wake in deadline order in all %u schedules "
           "(exhausted %d)\n", e.schedules_run, (int)e.exhausted);
    cu_assert_verdict(&e, HARNESS_PASS);
    assert_true(e.exhausted);
    harness_result_free(&e);
    harness_result_free(&r);
}

/* csp_after channels received in a select, in deadline order, each value
 * the virtual instant it fired; a task sleeping meanwhile interleaves. */
static void afters_in_a_select(void *arg)
{
    (void)arg;
    csp_duration at[3] = { 0, 0, 0 };
    csp_chan *timers[3] = { csp_after(300 * CU_MS), csp_after(100 * CU_MS), csp_after(200 * CU_MS) };
    const csp_duration want[3] = { 300 * CU_MS, 100 * CU_MS, 200 * CU_MS };
    for (int fired = 0; fired < 3; fired++) {
        csp_case cases[3];
        for (int i = 0; i < 3; i++)
            cases[i] = (csp_case){ timers[i], CSP_OP_RECV, &at[i], false };
        int i = csp_select(cases, 3, false);
        if (at[i] != want[i])
            harness_fail("timer %d fired at %lld ns, want %lld ns", i, (long long)at[i],
                         (long long)want[i]);
        harness_output("timer %d at %lld ms\n", i, (long long)(at[i] / CU_MS));
        timers[i] = NULL;   /* a nil channel: this case is never ready again */
    }
}

static void afters_fire_in_deadline_order(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 100;
    harness_result r;
    cu_run(afters_in_a_select, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_string_equal(r.output, "timer 1 at 100 ms\ntimer 2 at 200 ms\ntimer 0 at 300 ms\n");
    assert_int_equal(r.virtual_time, 300 * CU_MS);
    harness_result_free(&r);
}

/* A select with a timeout (GOPL §8.7 countdown2): the work would take 10 s,
 * the timeout is 5 s, so the timeout wins — at exactly 5 s — in every
 * schedule; the worker finishes later into its buffered channel, within the
 * horizon, so nothing leaks. */
static void slow_work(void *arg)
{
    csp_chan *result = arg;
    csp_sleep(10 * CSP_SECOND);
    int v = 42;
    csp_send(result, &v);
}

static void timeout_beats_slow_work(void *arg)
{
    (void)arg;
    csp_chan *result = csp_chan_make(sizeof(int), 1, "result");
    csp_go(slow_work, result, "worker");
    int v = 0;
    csp_duration at = 0;
    csp_case cases[] = { { result, CSP_OP_RECV, &v, false },
                         { csp_after(5 * CSP_SECOND), CSP_OP_RECV, &at, false } };
    if (csp_select(cases, 2, false) != 1)
        harness_fail("the work (10 s) beat the timeout (5 s)");
    else if (at != 5 * CSP_SECOND || csp_now() != 5 * CSP_SECOND)
        harness_fail("timed out at %lld ns (now %lld ns), want 5 s", (long long)at,
                     (long long)csp_now());
    harness_output("timed out\n");
}

static void a_timeout_in_virtual_time(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 100;
    harness_result r;
    cu_run(timeout_beats_slow_work, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_string_equal(r.output, "timed out\n");
    assert_int_equal(r.virtual_time, 10 * CSP_SECOND);   /* the worker's sleep ended */
    harness_result_free(&r);

    /* With a horizon shorter than the worker's remaining 5 s, the run ends
     * with the worker still asleep: a leak. */
    o.horizon = CSP_SECOND;
    o.schedules = 1;
    cu_run(timeout_beats_slow_work, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tasks, 1);
    cu_assert_contains(&r, r.dump, "\"worker\" [sleep");
    harness_result_free(&r);
}

/* ------------------------------------------------------ The timer window */

/* A timeout against the close it guards, `race_delta` after it: in a real
 * program either can come first. The outcomes every schedule reached
 * (in-process runs, so these statics see them all). */
static csp_duration race_delta;
static bool saw_closed, saw_timeout;

static void late_closer(void *arg)
{
    csp_sleep(CSP_MILLISECOND + race_delta);
    csp_close(arg);
}

static void timeout_against_close(void *arg)
{
    csp_chan *done = csp_chan_make(0, 0, "done");
    csp_go(late_closer, done, "closer");
    csp_case cases[] = { { done, CSP_OP_RECV, NULL, false },
                         { csp_after(CSP_MILLISECOND), CSP_OP_RECV, NULL, false } };
    if (csp_select(cases, 2, false) == 0) {
        saw_closed = true;
    } else {
        saw_timeout = true;
        csp_recv(done, NULL);   /* the closer still ends: nothing leaks */
    }
}

/* EXHAUSTIVE over every schedule: which outcomes were reached. */
static void search_race(csp_duration delta, csp_duration window, bool *closed, bool *timeout)
{
    race_delta = delta;
    saw_closed = saw_timeout = false;
    harness_options o = cu_options();
    o.strategy = HARNESS_EXHAUSTIVE;
    o.schedules = 1000;
    o.in_process = true;
    o.keep_going = true;
    o.timer_window = window;
    harness_result r;
    cu_run(timeout_against_close, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_true(r.exhausted);
    if (cu_verbose())
        printf("delta %lld ns, window %lld ns: %u schedules, closed %d, timeout %d\n",
               (long long)delta, (long long)window, r.schedules_run, saw_closed, saw_timeout);
    harness_result_free(&r);
    *closed = saw_closed;
    *timeout = saw_timeout;
}

/* Deadlines 1 µs and 500 µs apart are a race within the default window
 * (1 ms): both orders are searched. */
static void near_deadlines_are_a_race(void **state)
{
    const csp_duration deltas[] = { CSP_MICROSECOND, 500 * CSP_MICROSECOND };
    for (int i = 0; i < 2; i++) {
        bool closed, timeout;
        search_race(deltas[i], harness_defaults().timer_window, &closed, &timeout);
        assert_true(closed);
        assert_true(timeout);
    }
}

/* Outside the window (or with none), the earlier deadline always wins:
 * what the search reached before the window existed. */
static void outside_the_window_the_earlier_wins(void **state)
{
    bool closed, timeout;
    search_race(500 * CSP_MICROSECOND, 0, &closed, &timeout);
    assert_false(closed);
    assert_true(timeout);
    search_race(2 * CSP_MILLISECOND, CSP_MILLISECOND, &closed, &timeout);
    assert_false(closed);
    assert_true(timeout);
}

static void a_negative_window_is_refused(void **state)
{
    harness_options o = cu_options();
    o.timer_window = -1;
    harness_result r;
    assert_int_equal(harness_run(timeout_against_close, NULL, &o, &r), -1);
    cu_assert_contains(&r, r.message, "timer_window is -1 ns; accepted: 0");
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(countdown_runs_in_virtual_time),
        cmocka_unit_test(countdown_output_is_the_same_in_free_mode),
        cmocka_unit_test(sleeps_wake_in_deadline_order),
        cmocka_unit_test(afters_fire_in_deadline_order),
        cmocka_unit_test(a_timeout_in_virtual_time),
        cmocka_unit_test(near_deadlines_are_a_race),
        cmocka_unit_test(outside_the_window_the_earlier_wins),
        cmocka_unit_test(a_negative_window_is_refused),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
