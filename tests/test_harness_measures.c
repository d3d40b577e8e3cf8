/* test_harness_measures.c — verdicts that come from what the program
 * declares or what a detector reports (DESIGN.md §3): WRONG_RESULT from
 * harness_fail, RACE from ThreadSanitizer, RESOURCE from gauges and
 * harness_resource_exhausted, SLOW from marks and from latencies the program
 * measured itself, NONDETERMINISTIC from output
 * compared across runs; `seen` and the precedence of one run that shows
 * several verdicts; goleak-style ignore_tasks; the captured output of the
 * program; leaked descriptors.
 * Each buggy program sits beside its fix, which must PASS. */
#include "harness_util.h"

#include <errno.h>
#include <fcntl.h>

/* ---------------------------------------------------------- WRONG_RESULT */

static void wrong_sum(void *arg)
{
    int sum = 0;
    for (int i = 1; i <= 8; i++)
        sum += i;
    sum--;   /* BUG(WRONG_RESULT): off by one */
    if (sum != 36)
        harness_fail("sum is %d, want %d", sum, 36);
}

static void wrong_result_from_the_entry(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(wrong_sum, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_string_equal(r.message, "sum is 35, want 36");
    assert_int_equal(r.seen, 1u << HARNESS_WRONG_RESULT);
    harness_result_free(&r);
}

struct checked_work {
    csp_waitgroup *wg;
    int id;
};

static void checking_worker(void *arg)
{
    struct checked_work *w = arg;
    if (w->id == 3)
        harness_fail("worker %d saw %s", w->id, "a torn record");
    csp_wg_done(w->wg);
}

static void fail_in_a_worker(void *arg)
{
    struct checked_work work[5];
    csp_waitgroup *wg = csp_wg_make();
    for (int i = 0; i < 5; i++) {
        work[i] = (struct checked_work){wg, i};
        csp_wg_add(wg, 1);
        csp_go(checking_worker, &work[i], "checker");
    }
    csp_wg_wait(wg);
}

static void wrong_result_from_another_task(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(fail_in_a_worker, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_string_equal(r.message, "worker 3 saw a torn record");
    assert_int_equal(r.leaked_tasks, 0);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ RACE */

struct shared_count {
    int value;
    csp_chan *handoff;
    csp_waitgroup *wg;
};

static void unsynchronised_writer(void *arg)
{
    struct shared_count *s = arg;
    for (int i = 0; i < 100; i++)
        s->value++;   /* BUG(RACE): two tasks write value with no order between them */
    csp_wg_done(s->wg);
}

static void racing_writers(void *arg)
{
    struct shared_count s = {0, NULL, csp_wg_make()};
    csp_wg_add(s.wg, 2);
    csp_go(unsynchronised_writer, &s, "writer");
    csp_go(unsynchronised_writer, &s, "writer");
    csp_wg_wait(s.wg);
}

/* The fix: the first writer hands the data over on a channel; the second
 * writes only after receiving it (a send happens before its receive). */
static void handing_writer(void *arg)
{
    struct shared_count *s = arg;
    for (int i = 0; i < 100; i++)
        s->value++;
    csp_send(s->handoff, NULL);
    csp_wg_done(s->wg);
}

static void receiving_writer(void *arg)
{
    struct shared_count *s = arg;
    csp_recv(s->handoff, NULL);
    for (int i = 0; i < 100; i++)
        s->value++;
    csp_wg_done(s->wg);
}

static void handed_over_writers(void *arg)
{
    struct shared_count s = {0, csp_chan_make(0, 0, "handoff"), csp_wg_make()};
    csp_wg_add(s.wg, 2);
    csp_go(receiving_writer, &s, "receiver");
    csp_go(handing_writer, &s, "sender");
    csp_wg_wait(s.wg);
    if (s.value != 200)
        harness_fail("value %d, want 200", s.value);
}

static void race_between_two_writers(void **state)
{
    if (!harness_detects_races()) {
        /* Without ThreadSanitizer nothing can observe the race. */
        skip();
    }
    harness_options o = hu_options();
    harness_result r;
    hu_run(racing_writers, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_RACE);
    assert_true(r.races >= 1);
    hu_assert_contains(&r, r.message, "data race");
    hu_assert_contains(&r, r.message, "unsynchronised_writer");
    hu_assert_contains(&r, r.dump, "WARNING: ThreadSanitizer: data race");
    harness_result_free(&r);
}

static void no_race_after_a_channel_handoff(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(handed_over_writers, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.races, 0);
    harness_result_free(&r);
}

/* -------------------------------------------------------------- RESOURCE */

/* n tasks each hold one "open file" at the same time: every one enters the
 * gauge, reports in, and leaves only after the entry has heard from all. */
struct gauge_run {
    long bound;
    csp_chan *entered, *release;
    csp_waitgroup *wg;
};

static void file_holder(void *arg)
{
    struct gauge_run *g = arg;
    harness_gauge_enter("open files");
    csp_send(g->entered, NULL);
    csp_recv(g->release, NULL);
    harness_gauge_exit("open files");
    csp_wg_done(g->wg);
}

static void open_files_at_once(void *arg)
{
    const long *bound = arg;
    struct gauge_run g = {*bound, csp_chan_make(0, 0, "entered"), csp_chan_make(0, 0, "release"),
                          csp_wg_make()};
    harness_gauge_bound("open files", g.bound);
    for (int i = 0; i < 4; i++) {
        csp_wg_add(g.wg, 1);
        csp_go(file_holder, &g, "holder");
    }
    for (int i = 0; i < 4; i++)
        csp_recv(g.entered, NULL);
    csp_close(g.release);
    csp_wg_wait(g.wg);
}

static void resource_when_a_gauge_peaks_above_its_bound(void **state)
{
    static const long bound = 2;   /* BUG(RESOURCE): four files open at once */
    harness_options o = hu_options();
    harness_result r;
    hu_run(open_files_at_once, (void *)&bound, &o, &r);
    hu_assert_verdict(&r, HARNESS_RESOURCE);
    hu_assert_contains(&r, r.message, "peak of 4 open files, above the declared bound of 2");
    harness_result_free(&r);
}

static void pass_when_a_gauge_stays_within_its_bound(void **state)
{
    static const long bound = 4;
    harness_options o = hu_options();
    harness_result r;
    hu_run(open_files_at_once, (void *)&bound, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

/* Opens pipes until the descriptor limit of the run says no. */
static void open_until_emfile(void *arg)
{
    int fds[64][2];
    int n = 0;
    while (n < 64 && pipe(fds[n]) == 0)
        n++;
    if (n < 64 && errno == EMFILE)
        harness_resource_exhausted("descriptors: pipe failed with EMFILE");
    else
        harness_fail("opened %d pipes without hitting the limit", n);
    for (int i = 0; i < n; i++) {
        close(fds[i][0]);
        close(fds[i][1]);
    }
}

static void resource_when_the_program_runs_out(void **state)
{
    harness_options o = hu_options();
    o.fd_limit = 48;
    harness_result r;
    hu_run(open_until_emfile, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_RESOURCE);
    assert_string_equal(r.message, "descriptors: pipe failed with EMFILE");
    assert_int_equal(r.leaked_fds, 0);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ SLOW */

/* GOPL §8.9 cancellation: after "cancel" every worker must be gone within
 * the bound. The slow worker only looks at done between 600 ms chunks of
 * work; the prompt one waits on done and on its work at once. */
#define WORK_CHUNK (600 * HU_MS)
#define CANCEL_BOUND (150 * HU_MS)

struct cancel_run {
    csp_chan *done;
    csp_waitgroup *wg;
};

static bool cancelled(csp_chan *done)
{
    csp_case c = {done, CSP_OP_RECV, NULL, false};
    return csp_select(&c, 1, true) == 0;
}

static void slow_worker(void *arg)
{
    struct cancel_run *c = arg;
    while (!cancelled(c->done))
        csp_sleep(WORK_CHUNK);   /* BUG(SLOW): does not watch done while it works */
    csp_wg_done(c->wg);
}

static void prompt_worker(void *arg)
{
    struct cancel_run *c = arg;
    for (;;) {
        csp_case cases[2] = {{c->done, CSP_OP_RECV, NULL, false},
                             {csp_after(WORK_CHUNK), CSP_OP_RECV, NULL, false}};
        if (csp_select(cases, 2, false) == 0)
            break;
    }
    csp_wg_done(c->wg);
}

static void cancel_workers(void *arg)
{
    void (*worker)(void *) = *(void (**)(void *))arg;
    struct cancel_run c = {csp_chan_make(0, 0, "done"), csp_wg_make()};
    harness_mark_bound("cancel", CANCEL_BOUND);
    for (int i = 0; i < 2; i++) {
        csp_wg_add(c.wg, 1);
        csp_go(worker, &c, "worker");
    }
    csp_sleep(50 * HU_MS);   /* the workers are busy now */
    harness_mark("cancel");
    csp_close(c.done);
    csp_wg_wait(c.wg);
}

static void slow_when_workers_outlive_the_mark(void **state)
{
    static void (*const worker)(void *) = slow_worker;
    harness_options o = hu_options();
    o.leak_grace = 3 * CSP_SECOND;
    harness_result r;
    hu_run(cancel_workers, (void *)&worker, &o, &r);
    hu_assert_verdict(&r, HARNESS_SLOW);
    hu_assert_contains(&r, r.message, "to finish after \"cancel\" (bound 150.000 ms)");
    assert_int_equal(r.leaked_tasks, 0);
    harness_result_free(&r);
}

static void pass_when_workers_stop_within_the_bound(void **state)
{
    static void (*const worker)(void *) = prompt_worker;
    harness_options o = hu_options();
    o.leak_grace = 3 * CSP_SECOND;
    harness_result r;
    hu_run(cancel_workers, (void *)&worker, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

/* A message relayed through a buffer of `hold` ms (virtual time): the relay
 * measures each delivery and declares a 20 ms bound. */
static void relay(void *arg)
{
    csp_chan *ch = arg;
    csp_duration sent;
    while (csp_recv(ch, &sent))
        harness_latency("delivery", csp_now() - sent);
}

static void deliver_with_hold(void *arg)
{
    csp_duration hold = *(const csp_duration *)arg;
    csp_chan *ch = csp_chan_make(sizeof(csp_duration), 4, "messages");
    csp_go(relay, ch, "relay");
    harness_latency_bound("delivery", 20 * HU_MS);
    for (int i = 0; i < 3; i++) {
        csp_duration now = csp_now();
        if (i == 2)
            csp_sleep(hold);   /* the last message is held before it is sent on */
        csp_send(ch, &now);
    }
    csp_close(ch);
    csp_sleep(HU_MS);          /* the relay is gone */
}

static void slow_when_a_measured_latency_passes_its_bound(void **state)
{
    static const csp_duration hold = 30 * HU_MS;
    harness_options o = hu_options();
    o.mode = HARNESS_CONTROLLED;
    harness_result r;
    hu_run(deliver_with_hold, (void *)&hold, &o, &r);
    hu_assert_verdict(&r, HARNESS_SLOW);
    assert_string_equal(r.message, "delivery: worst of 3 latencies 30.000 ms (bound 20.000 ms)");
    harness_result_free(&r);
}

static void pass_when_measured_latencies_stay_within_the_bound(void **state)
{
    static const csp_duration hold = 20 * HU_MS;   /* the bound itself is within it */
    harness_options o = hu_options();
    o.mode = HARNESS_CONTROLLED;
    harness_result r;
    hu_run(deliver_with_hold, (void *)&hold, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

/* ------------------------------------------------------ NONDETERMINISTIC */

/* GOPL §8.7 exercise: with room for two values, both cases of the select
 * are often ready, and select picks one at random. */
static void coin_flips(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 2, "coins");
    for (int i = 0; i < 20; i++) {
        int x;
        csp_case cases[2] = {{ch, CSP_OP_RECV, &x, false}, {ch, CSP_OP_SEND, &i, false}};
        if (csp_select(cases, 2, false) == 0)
            harness_output("%d ", x);   /* BUG(NONDETERMINISTIC): which case runs is random */
    }
    harness_output("\n");
}

static void nondeterministic_output_of_a_select(void **state)
{
    harness_options o = hu_options();
    o.schedules = 20;
    harness_result r;
    hu_run(coin_flips, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_NONDETERMINISTIC);
    hu_assert_contains(&r, r.message, "output differs between run 1 and run ");
    /* It takes at least two runs with different outputs to see it. */
    assert_in_range(r.schedules_run, 2, 20);
    assert_non_null(r.output);
    assert_true(r.seen & (1u << HARNESS_NONDETERMINISTIC));
    harness_result_free(&r);
}

/* The same numbers through a pipeline whose order is fixed. */
static void fixed_order(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 2, "numbers");
    for (int i = 0; i < 20; i++) {
        int x;
        csp_send(ch, &i);
        csp_recv(ch, &x);
        harness_output("%d ", x);
    }
    harness_output("\n");
}

static void deterministic_output_passes_every_schedule(void **state)
{
    harness_options o = hu_options();
    o.schedules = 5;
    harness_result r;
    hu_run(fixed_order, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, 5);
    assert_string_equal(r.output, "0 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 \n");
    harness_result_free(&r);
}

/* ------------------------------------------------------ Several verdicts */

/* Fails a check AND leaves a sender blocked: WRONG_RESULT wins by
 * precedence, and `seen` keeps both. */
static void result_sender(void *arg)
{
    csp_chan *results = arg;
    int v = 7;
    csp_send(results, &v);
    HU_KEEP_FRAME();
}

static void fail_and_leak(void *arg)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    csp_go(result_sender, results, "sender");
    csp_go(result_sender, results, "sender");
    int v;
    csp_recv(results, &v);
    harness_fail("only one result read");   /* and the other sender leaks */
}

static void seen_keeps_every_verdict_of_a_run(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(fail_and_leak, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_int_equal(r.seen, (1u << HARNESS_WRONG_RESULT) | (1u << HARNESS_LEAK));
    assert_true(harness_verdict_more_severe(HARNESS_WRONG_RESULT, HARNESS_LEAK));
    assert_false(harness_verdict_more_severe(HARNESS_LEAK, HARNESS_WRONG_RESULT));
    assert_string_equal(r.message, "only one result read");
    assert_int_equal(r.leaked_tasks, 1);
    harness_result_free(&r);
}

/* ----------------------------------------------------------- ignore_tasks */

/* A task that lives as long as the program, on purpose (goleak's
 * IgnoreTopFunction / IgnoreCurrent). */
static void serve_forever(void *arg)
{
    csp_chan *requests = arg;
    while (csp_recv(requests, NULL))
        ;
}

static void leave_a_named_server(void *arg)
{
    csp_go(serve_forever, csp_chan_make(0, 0, "requests"), "metrics-server");
    HU_KEEP_FRAME();
}

static HU_NOINLINE void start_background(void)
{
    csp_go(serve_forever, csp_chan_make(0, 0, "requests"), "background");
    HU_KEEP_FRAME();
}

static void leave_a_background_task(void *arg)
{
    start_background();
    HU_KEEP_FRAME();
}

/* entry leaves one task: LEAK with `unmatched` as the list (NULL: none, or
 * globs that match nothing), PASS with `matching`. */
static void check_ignore(void (*entry)(void *), const char *const *unmatched,
                         const char *const *matching)
{
    harness_options o = hu_options();
    harness_result r;
    o.ignore_tasks = unmatched;
    hu_run(entry, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tasks, 1);
    harness_result_free(&r);

    o.ignore_tasks = matching;
    hu_run(entry, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.leaked_tasks, 0);
    harness_result_free(&r);
}

static void ignored_by_name_passes(void **state)
{
    static const char *const ignore[] = {"metrics-server", NULL};
    check_ignore(leave_a_named_server, NULL, ignore);
}

static void ignored_by_creating_function_passes(void **state)
{
    static const char *const ignore[] = {"start_background", NULL};
    check_ignore(leave_a_background_task, NULL, ignore);
}

/* goleak's IgnoreTopFunction, with a glob: neither the task's name
 * ("metrics-server") nor its creator (leave_a_named_server) matches
 * "serve_fore*"; the function its stack is stopped in does. Globs that
 * match nothing ignore nothing. */
static void ignored_by_top_function_glob_passes(void **state)
{
    static const char *const ignore[] = {"serve_fore*", NULL};
    static const char *const unrelated[] = {"serve_back*", "metrics-client", NULL};
    check_ignore(leave_a_named_server, unrelated, ignore);
}

/* ------------------------------------------------------- Captured output */

static void print_progress(void *arg)
{
    printf("progress: %d of %d\n", 3, 3);
    fprintf(stderr, "warning: %s\n", "nothing to do");
}

static void log_holds_what_the_program_printed(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(print_progress, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    hu_assert_contains(&r, r.log, "progress: 3 of 3\n");
    hu_assert_contains(&r, r.log, "warning: nothing to do\n");
    harness_result_free(&r);
}

/* ---------------------------------------------------- Leaked descriptors */

static void open_a_pipe_and_forget_it(void *arg)
{
    int fds[2];
    if (pipe(fds) != 0)   /* BUG(LEAK): neither end is ever closed */
        harness_fail("pipe: %s", strerror(errno));
}

static void leak_of_a_descriptor(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(open_a_pipe_and_forget_it, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_fds, 2);
    assert_int_equal(r.leaked_tasks, 0);
    hu_assert_contains(&r, r.message, "2 descriptors left open");
    hu_assert_contains(&r, r.message, "pipe:");
    harness_result_free(&r);
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wrong_result_from_the_entry),
        cmocka_unit_test(wrong_result_from_another_task),
        cmocka_unit_test(race_between_two_writers),
        cmocka_unit_test(no_race_after_a_channel_handoff),
        cmocka_unit_test(resource_when_a_gauge_peaks_above_its_bound),
        cmocka_unit_test(pass_when_a_gauge_stays_within_its_bound),
        cmocka_unit_test(resource_when_the_program_runs_out),
        cmocka_unit_test(slow_when_workers_outlive_the_mark),
        cmocka_unit_test(pass_when_workers_stop_within_the_bound),
        cmocka_unit_test(slow_when_a_measured_latency_passes_its_bound),
        cmocka_unit_test(pass_when_measured_latencies_stay_within_the_bound),
        cmocka_unit_test(nondeterministic_output_of_a_select),
        cmocka_unit_test(deterministic_output_passes_every_schedule),
        cmocka_unit_test(seen_keeps_every_verdict_of_a_run),
        cmocka_unit_test(ignored_by_name_passes),
        cmocka_unit_test(ignored_by_creating_function_passes),
        cmocka_unit_test(ignored_by_top_function_glob_passes),
        cmocka_unit_test(log_holds_what_the_program_printed),
        cmocka_unit_test(leak_of_a_descriptor),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
