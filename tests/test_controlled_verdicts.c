/* test_controlled_verdicts.c — the verdicts of a stuck or broken run under
 * the deterministic scheduler (DESIGN.md §2–3): DEADLOCK (nothing runnable,
 * no timer), LEAK after entry returns (blocked tasks; a leaked csp_tick),
 * HANG by the step bound (a busy poll) and by the wall bound (a task that
 * spins in plain C), PANIC, WRONG_RESULT, CRASH. The dump has free mode's
 * format: "task N \"name\" [WAIT, DURATION]:", "    FUNC at FILE:LINE",
 * "created by FUNC at FILE:LINE" — with durations in virtual time.
 * Lines are captured with __LINE__ next to the calls they name. */
#include "controlled_util.h"

#include <signal.h>
#include <stdatomic.h>
#include <sys/mman.h>

/* -------------------------------------------------------------- DEADLOCK */

/* GOPL §8.5 makeThumbnails6 with the wait before the loop that drains
 * sizes; main sleeps 2 s (virtual) first, so the workers' waits are 2 s
 * old in the dump. */
struct sizes_work {
    csp_chan *sizes;
    csp_waitgroup *wg;
    long size;
};

static const int sizes_send_line = __LINE__ + 5;
static void size_worker(void *arg)
{
    struct sizes_work *w = arg;
    long size = w->size;
    csp_send(w->sizes, &size);
    csp_wg_done(w->wg);
}

static const int wait_line = __LINE__ + 14;
static const int worker_go_line = __LINE__ + 10;
static void thumbnails_wait_before_loop(void *arg)
{
    csp_chan *sizes = csp_chan_make(sizeof(long), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();
    struct sizes_work work[2];
    (void)arg;
    for (int i = 0; i < 2; i++) {
        work[i] = (struct sizes_work){ sizes, wg, 1000 * (i + 1) };
        csp_wg_add(wg, 1);
        csp_go(size_worker, &work[i], "worker");
    }
    csp_sleep(2 * CSP_SECOND);
    csp_wg_wait(wg);   /* BUG(DEADLOCK): waits before anything receives from sizes */
    csp_close(sizes);
    long total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    if (total != 3000)
        harness_fail("total %ld, want 3000", total);
}

static void deadlock_names_every_blocked_task(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 20;   /* every schedule deadlocks: the first one is reported */
    harness_result r;
    cu_run(thumbnails_wait_before_loop, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_DEADLOCK);
    assert_int_equal(r.schedules_run, 1);
    assert_string_equal(r.message, "all tasks are asleep - deadlock! (3 tasks)");
    assert_int_equal(r.virtual_time, 2 * CSP_SECOND);
    assert_non_null(r.dump);
    assert_ptr_equal(strstr(r.dump, "fatal: all tasks are asleep - deadlock!\n\n"), r.dump);

    char want[512];
    snprintf(want, sizeof want, "task 1 \"main\" [wait group wait, 0 ms]:\n"
             "    thumbnails_wait_before_loop at %s:%d\n", __FILE__, wait_line);
    cu_assert_contains(&r, r.dump, want);
    for (int id = 2; id <= 3; id++) {
        snprintf(want, sizeof want, "task %d \"worker\" [chan send \"sizes\", 2000 ms]:\n"
                 "    size_worker at %s:%d\n", id, __FILE__, sizes_send_line);
        cu_assert_contains(&r, r.dump, want);
    }
    cu_assert_created_by(&r, "thumbnails_wait_before_loop", worker_go_line);
    assert_int_equal(r.leaked_tasks, 0);   /* a deadlock, not a leak */
    harness_result_free(&r);
}

/* A task waits on a channel nobody will ever send on, while main waits for
 * that task: nothing runnable, no timer. */
static const int forever_recv_line = __LINE__ + 5;
static void wait_for_a_reply(void *arg)
{
    csp_chan *replies = arg;
    int v;
    csp_recv(replies, &v);
    csp_send(replies, &v);
}

static const int reply_wait_line = __LINE__ + 8;
static void ask_nobody(void *arg)
{
    (void)arg;
    csp_chan *replies = csp_chan_make(sizeof(int), 0, "replies");
    csp_go(wait_for_a_reply, replies, "asker");
    csp_mutex *m = csp_mutex_make("state");
    csp_mutex_lock(m);
    csp_mutex_lock(m);   /* BUG(DEADLOCK): already held */
    CU_KEEP_FRAME();
}

static void deadlock_on_a_mutex_and_a_channel(void **state)
{
    (void)state;
    harness_options o = cu_options();
    harness_result r;
    cu_run(ask_nobody, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_DEADLOCK);
    cu_assert_contains(&r, r.dump, "task 1 \"main\" [mutex lock \"state\", 0 ms]:\n");
    cu_assert_contains(&r, r.dump, "task 2 \"asker\" [chan receive \"replies\", 0 ms]:\n");
    cu_assert_frame(&r, "ask_nobody", reply_wait_line);
    cu_assert_frame(&r, "wait_for_a_reply", forever_recv_line);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ LEAK */

/* GOPL §8.5 makeThumbnails4: returns at the first error while the other
 * workers still send theirs on the unbuffered errors channel. */
static const int errors_send_line = __LINE__ + 5;
static void thumb_worker(void *arg)
{
    csp_chan *errors = arg;
    int err = 1;
    csp_send(errors, &err);
    CU_KEEP_FRAME();
}

static const int thumb_go_line = __LINE__ + 6;
static void make_thumbnails4(void *arg)
{
    csp_chan *errors = csp_chan_make(sizeof(int), 0, "errors");
    (void)arg;
    for (int i = 0; i < 3; i++)
        csp_go(thumb_worker, errors, "thumbnail");
    for (int i = 0; i < 3; i++) {
        int err;
        csp_recv(errors, &err);
        if (err != 0)
            return;   /* BUG(LEAK): the other workers block on errors forever */
    }
}

static void leak_of_blocked_senders(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 50;
    harness_result r;
    cu_run(make_thumbnails4, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.schedules_run, 1);
    assert_int_equal(r.leaked_tasks, 2);
    char want[512];
    snprintf(want, sizeof want, "2 tasks leaked: 2\xc3\x97 chan send \"errors\" (created by "
             "make_thumbnails4 at %s:%d)", __FILE__, thumb_go_line);
    cu_assert_contains(&r, r.message, want);
    assert_ptr_equal(strstr(r.dump, "leak: tasks still alive after the entry returned\n\n"), r.dump);
    cu_assert_contains(&r, r.dump, "\"thumbnail\" [chan send \"errors\", 0 ms]:\n");
    cu_assert_frame(&r, "thumb_worker", errors_send_line);
    cu_assert_created_by(&r, "make_thumbnails4", thumb_go_line);
    harness_result_free(&r);
}

/* GOPL §8.7 countdown1 as printed: time.Tick in a function that returns. */
static const int tick_line = __LINE__ + 5;
static void countdown_with_tick(void *arg)
{
    csp_chan *tick = NULL;
    (void)arg;
    tick = csp_tick(CSP_SECOND);   /* BUG(LEAK): never stops */
    for (int countdown = 3; countdown > 0; countdown--) {
        harness_output("%d\n", countdown);
        csp_recv(tick, NULL);
    }
    harness_output("Lift off!\n");
}

static void leak_of_a_tick(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 10;
    harness_result r;
    cu_run(countdown_with_tick, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tickers, 1);
    assert_int_equal(r.leaked_tasks, 0);
    char want[512];
    snprintf(want, sizeof want, "ticker (every 1000 ms) made by countdown_with_tick at %s:%d "
             "still running", __FILE__, tick_line);
    cu_assert_contains(&r, r.message, want);
    assert_int_equal(r.virtual_time, 3 * CSP_SECOND);
    assert_string_equal(r.output, "3\n2\n1\nLift off!\n");
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ HANG */

/* Polls a channel nobody sends to: every nonblocking select is a
 * scheduling point, none makes progress, so the step bound ends it. */
static const int poll_first_line = __LINE__ + 8;
static const int poll_last_line = __LINE__ + 10;
static void poll_forever(void *arg)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    int v = 0;
    csp_case c = { results, CSP_OP_RECV, &v, false };
    (void)arg;
    for (;;) {   /* BUG(HANG): a busy poll; nothing will ever send on results */
        if (csp_select(&c, 1, true) >= 0)
            break;
    }
    if (v != 0)
        harness_fail("got %d", v);
}

static void hang_by_the_step_bound(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.max_steps = 10000;
    harness_result r;
    cu_run(poll_forever, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_HANG);
    cu_assert_contains(&r, r.message, "more than 10000 scheduling points");
    assert_ptr_equal(strstr(r.dump, "fatal: step bound - hang\n\n"), r.dump);
    /* Stopped at a scheduling point: Go calls that "runnable". */
    cu_assert_contains_any(&r, r.dump, "task 1 \"main\" [runnable]:\n",
                           "task 1 \"main\" [running]:\n");
    cu_assert_frame_in(&r, "poll_forever", poll_first_line, poll_last_line);
    /* max_steps, then as many more under fair continuation (strategy.c). */
    cu_assert_contains(&r, r.message, "nor in 10000 more under a fair scheduler");
    assert_in_range(r.steps, 20000, 20001);
    harness_result_free(&r);
}

/* Two tasks hand a token back and forth for ever: progress on every step,
 * but the run never ends (a livelock). The step bound ends it too. */
static void ping_forever(void *arg)
{
    csp_chan **c = arg;
    int v = 0;
    for (;;) {
        csp_send(c[0], &v);
        csp_recv(c[1], &v);
    }
}

static void pong_forever(void *arg)
{
    csp_chan *ch[2] = { csp_chan_make(sizeof(int), 0, "ping"), csp_chan_make(sizeof(int), 0, "pong") };
    (void)arg;
    csp_go(ping_forever, ch, "pinger");
    int v;
    for (;;) {
        csp_recv(ch[0], &v);
        csp_send(ch[1], &v);
    }
}

static void hang_by_the_step_bound_for_a_livelock(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.max_steps = 5000;
    harness_result r;
    cu_run(pong_forever, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_HANG);
    cu_assert_contains(&r, r.message, "more than 5000 scheduling points");
    cu_assert_contains(&r, r.dump, "\"pinger\"");
    harness_result_free(&r);
}

/* Computes for ever without calling the runtime: only the wall bound can
 * end it. */
static volatile unsigned long spin_count;

static const int spin_first_line = __LINE__ + 4;
static const int spin_last_line = __LINE__ + 4;
static CU_NOINLINE void spin_in_plain_c(void)
{
    for (;;)   /* BUG(HANG): the loop never ends */
        spin_count++;
}

static void spinner(void *arg)
{
    (void)arg;
    spin_in_plain_c();
    CU_KEEP_FRAME();
}

static const int spinner_go_line = __LINE__ + 5;
static void spin_in_a_task(void *arg)
{
    csp_chan *done = csp_chan_make(0, 0, "done");
    (void)arg;
    csp_go(spinner, NULL, "spinner");
    csp_recv(done, NULL);
    CU_KEEP_FRAME();
}

static void hang_by_the_wall_bound(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.timeout = CSP_SECOND;
    /* No bytes: every task goes on while it can, so main is blocked on
     * "done" when the spinner starts. */
    o.strategy = HARNESS_BYTES;
    harness_result r;
    cu_run(spin_in_a_task, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_HANG);
    if (harness_detects_races()) {
        /* TSan defers asynchronous signals until the thread enters one of
         * its interceptors; a pure spin never does, so the child cannot
         * answer and the parent kills it: only the verdict is asserted. */
        print_message("TSan build: only the verdict of the spinning task is asserted\n");
        harness_result_free(&r);
        return;
    }
    cu_assert_contains(&r, r.message, "wall bound");
    assert_ptr_equal(strstr(r.dump, "fatal: wall bound - hang\n\n"), r.dump);
    cu_assert_contains(&r, r.dump, "task 2 \"spinner\" [running]:\n");
    if (cu_count(r.dump, "task 2 \"spinner\"") != 1) {
        print_error("the spinner is in the dump %d times, want once\n",
                    cu_count(r.dump, "task 2 \"spinner\""));
        cu_print_result(&r);
        fail();
    }
    cu_assert_contains(&r, r.dump, "task 1 \"main\" [chan receive \"done\", 0 ms]:\n");
    /* Where it spins, as free mode shows it (the frame-pointer chain alone
     * cannot show it: gcc gives a function that never returns no frame). */
    cu_assert_frame_in(&r, "spin_in_plain_c", spin_first_line, spin_last_line);
    cu_assert_created_by(&r, "spin_in_a_task", spinner_go_line);
    assert_non_null(r.schedule);
    assert_non_null(r.decisions);
    harness_result_free(&r);
}

/* ----------------------------------------------------------------- PANIC */

static const int second_close_line = __LINE__ + 6;
static void close_twice(void *arg)
{
    csp_chan *done = arg;
    csp_close(done);
    csp_sleep(CSP_SECOND);
    csp_close(done);   /* BUG(PANIC): close of a closed channel */
    CU_KEEP_FRAME();
}

static const int closer_go_line = __LINE__ + 6;
static void panicking_entry(void *arg)
{
    csp_chan *done = csp_chan_make(0, 0, "done");
    csp_chan *never = csp_chan_make(0, 0, "never");
    (void)arg;
    csp_go(close_twice, done, "closer");
    csp_recv(never, NULL);
    CU_KEEP_FRAME();
}

static void panic_on_close_of_closed_channel(void **state)
{
    (void)state;
    harness_options o = cu_options();
    harness_result r;
    cu_run(panicking_entry, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PANIC);
    assert_string_equal(r.message, "close of closed channel");
    assert_non_null(r.dump);
    assert_ptr_equal(strstr(r.dump, "panic: close of closed channel\n\n"), r.dump);
    cu_assert_contains(&r, r.dump, "task 1 \"main\" [chan receive \"never\", 1000 ms]:\n");
    cu_assert_contains_any(&r, r.dump, "task 2 \"closer\" [running]:\n",
                           "task 2 \"closer\" [runnable]:\n");
    cu_assert_frame(&r, "close_twice", second_close_line);
    cu_assert_created_by(&r, "panicking_entry", closer_go_line);
    assert_int_equal(r.virtual_time, CSP_SECOND);
    harness_result_free(&r);
}

/* ---------------------------------------------------------- WRONG_RESULT */

/* GOPL §8.5 makeThumbnails2: returns before the workers finish, so the
 * total it reports is whatever they had added by then — here, nothing. */
static void add_size(void *arg)
{
    atomic_long *total = arg;
    csp_sleep(10 * CSP_MILLISECOND);   /* making the thumbnail */
    atomic_fetch_add(total, 1000);
}

/* Atomic: the bug is the missing wait, not a data race (the same verdict
 * under ThreadSanitizer). */
static atomic_long no_wait_total;

static void make_thumbnails2(void *arg)
{
    (void)arg;
    atomic_store(&no_wait_total, 0);
    for (int i = 0; i < 3; i++)
        csp_go(add_size, &no_wait_total, "thumbnail");
    /* BUG(WRONG_RESULT): returns without waiting for the workers */
    long total = atomic_load(&no_wait_total);
    harness_output("total %ld\n", total);
    if (total != 3000)
        harness_fail("total %ld, want 3000", total);
}

static void wrong_result_from_harness_fail(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = 10;
    harness_result r;
    cu_run(make_thumbnails2, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_string_equal(r.message, "total 0, want 3000");
    assert_string_equal(r.output, "total 0\n");
    assert_int_equal(r.schedules_run, 1);
    /* The workers finish after entry returned: no leak, within the horizon. */
    assert_int_equal(r.leaked_tasks, 0);
    assert_false(r.seen & (1u << HARNESS_LEAK));
    assert_int_equal(r.virtual_time, 10 * CSP_MILLISECOND);
    harness_result_free(&r);
}

/* ----------------------------------------------------------------- CRASH */

/* A page the program may not touch (not NULL: under UBSan a NULL store is
 * reported and exits before it can fault). */
static int *volatile forbidden;

static const int store_line = __LINE__ + 6;
static void parse_header(void *arg)
{
    int *out = forbidden;
    (void)arg;
    csp_yield();
    *out = 42;   /* BUG(CRASH): writes into a page it may not touch */
    CU_KEEP_FRAME();
}

static const int parser_go_line = __LINE__ + 6;
static void crashing_entry(void *arg)
{
    csp_chan *never = csp_chan_make(0, 0, "never");
    (void)arg;
    forbidden = mmap(NULL, 4096, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    csp_go(parse_header, NULL, "parser");
    csp_recv(never, NULL);
    CU_KEEP_FRAME();
}

static void crash_in_a_task(void **state)
{
    (void)state;
    harness_options o = cu_options();
    harness_result r;
    cu_run(crashing_entry, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_CRASH);
    assert_int_equal(r.signal, SIGSEGV);
    cu_assert_contains(&r, r.dump, "task 2 \"parser\" [running]:\n");
    cu_assert_frame(&r, "parse_header", store_line);
    cu_assert_created_by(&r, "crashing_entry", parser_go_line);
    assert_non_null(r.schedule);   /* the crashing schedule, to replay */
    assert_non_null(r.decisions);
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deadlock_names_every_blocked_task),
        cmocka_unit_test(deadlock_on_a_mutex_and_a_channel),
        cmocka_unit_test(leak_of_blocked_senders),
        cmocka_unit_test(leak_of_a_tick),
        cmocka_unit_test(hang_by_the_step_bound),
        cmocka_unit_test(hang_by_the_step_bound_for_a_livelock),
        cmocka_unit_test(hang_by_the_wall_bound),
        cmocka_unit_test(panic_on_close_of_closed_channel),
        cmocka_unit_test(wrong_result_from_harness_fail),
        cmocka_unit_test(crash_in_a_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
