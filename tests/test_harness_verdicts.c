/* test_harness_verdicts.c — one small program per verdict that a stuck or
 * broken run shows (DESIGN.md §3): PASS, LEAK (tasks and a ticker),
 * DEADLOCK, HANG (busy poll, CPU spin), PANIC, CRASH. Each test asserts the
 * verdict, the message naming the right channel or cause, the blocked (or
 * spinning) function in the dump with its file and line, and "created by".
 * Lines are captured with __LINE__ next to the calls they name. */
#include "harness_util.h"

#ifdef __has_feature
#define HU_HAS_FEATURE(x) __has_feature(x)
#else
#define HU_HAS_FEATURE(x) 0
#endif

#include <signal.h>

/* ------------------------------------------------------------------ PASS */

/* A correct pipeline (GOPL §8.4): counter → squarer → sum. */
static void counter(void *arg)
{
    csp_chan *naturals = arg;
    for (int i = 1; i <= 100; i++)
        csp_send(naturals, &i);
    csp_close(naturals);
}

struct squarer_chans {
    csp_chan *in, *out;
};

static void squarer(void *arg)
{
    struct squarer_chans *c = arg;
    int x;
    while (csp_recv(c->in, &x)) {
        int sq = x * x;
        csp_send(c->out, &sq);
    }
    csp_close(c->out);
}

static void pipeline(void *arg)
{
    struct squarer_chans c = {csp_chan_make(sizeof(int), 0, "naturals"),
                              csp_chan_make(sizeof(int), 0, "squares")};
    csp_go(counter, c.in, "counter");
    csp_go(squarer, &c, "squarer");
    long sum = 0;
    int sq;
    while (csp_recv(c.out, &sq))
        sum += sq;
    if (sum != 338350)
        harness_fail("sum of squares is %ld, want 338350", sum);
}

static void pass_for_a_correct_pipeline(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(pipeline, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.seen & ~(1u << HARNESS_PASS), 0);
    assert_int_equal(r.schedules_run, 1);
    assert_int_equal(r.leaked_tasks, 0);
    assert_int_equal(r.leaked_tickers, 0);
    assert_int_equal(r.leaked_threads, 0);
    assert_int_equal(r.leaked_fds, 0);
    assert_non_null(r.message);
    assert_non_null(r.schedule);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ LEAK */

/* GOPL §8.5 makeThumbnails4: returns at the first error while the other
 * workers still send theirs on the unbuffered errors channel. */
static const int thumb_send_line = __LINE__ + 5;
static void thumb_worker(void *arg)
{
    csp_chan *errors = arg;
    int err = 1;   /* every file fails to convert */
    csp_send(errors, &err);
    HU_KEEP_FRAME();
}

static const int thumb_go_line = __LINE__ + 5;
static void make_thumbnails4(void *arg)
{
    csp_chan *errors = csp_chan_make(sizeof(int), 0, "errors");
    for (int i = 0; i < 3; i++)
        csp_go(thumb_worker, errors, "thumbnail");
    for (int i = 0; i < 3; i++) {
        int err;
        csp_recv(errors, &err);
        if (err != 0)
            return;   /* BUG(LEAK): the other workers block on errors forever */
    }
}

static void leak_of_senders_on_errors(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(make_thumbnails4, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tasks, 2);
    assert_true(r.seen & (1u << HARNESS_LEAK));

    /* "2 tasks leaked: 2× chan send "errors" (created by make_thumbnails4 at ...)" */
    char created[256], group[400];
    hu_created_by(created, "make_thumbnails4", thumb_go_line);
    snprintf(group, sizeof group, "2\xc3\x97 chan send \"errors\" (%s)", created);
    hu_assert_contains(&r, r.message, "2 tasks leaked");
    hu_assert_contains(&r, r.message, group);

    hu_assert_contains(&r, r.dump, "[chan send \"errors\"");
    hu_assert_frame(&r, "thumb_worker", thumb_send_line);
    hu_assert_created_by(&r, "make_thumbnails4", thumb_go_line);
    harness_result_free(&r);
}

/* time.Tick in a function that returns: the ticker runs for ever. */
static const int tick_line = __LINE__ + 3;
static void poll_twice_with_tick(void *arg)
{
    csp_chan *tick = csp_tick(5 * HU_MS);   /* BUG(LEAK): never stops */
    csp_recv(tick, NULL);
    csp_recv(tick, NULL);
}

static void leak_of_a_ticker(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(poll_twice_with_tick, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tickers, 1);
    assert_int_equal(r.leaked_tasks, 0);
    char where[256];
    snprintf(where, sizeof where, "ticker (every 5 ms) made by poll_twice_with_tick at %s:%d",
             __FILE__, tick_line);
    hu_assert_contains(&r, r.message, where);
    harness_result_free(&r);
}

/* -------------------------------------------------------------- DEADLOCK */

/* GOPL §8.5 makeThumbnails6 with the wait moved before the loop that
 * drains sizes: the workers block on sizes, main on the wait group. */
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

static const int wait_line = __LINE__ + 13;
static const int sizes_go_line = __LINE__ + 9;
static void thumbnails_wait_before_loop(void *arg)
{
    csp_chan *sizes = csp_chan_make(sizeof(long), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();
    struct sizes_work work[2];
    for (int i = 0; i < 2; i++) {
        work[i] = (struct sizes_work){sizes, wg, 1000 * (i + 1)};
        csp_wg_add(wg, 1);
        csp_go(size_worker, &work[i], "worker");
    }
    /* BUG(DEADLOCK): waits before anything receives from sizes */
    csp_wg_wait(wg);
    csp_close(sizes);
    long total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    if (total != 3000)
        harness_fail("total %ld, want 3000", total);
}

static void deadlock_on_wait_group_and_sizes(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(thumbnails_wait_before_loop, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_DEADLOCK);
    hu_assert_contains(&r, r.message, "all tasks are asleep - deadlock!");
    assert_ptr_equal(strstr(r.message, "all tasks are asleep - deadlock!"), r.message);
    assert_non_null(r.dump);
    assert_ptr_equal(strstr(r.dump, "fatal: all tasks are asleep - deadlock!"), r.dump);
    hu_assert_contains(&r, r.dump, "\"main\" [wait group wait");
    hu_assert_contains(&r, r.dump, "\"worker\" [chan send \"sizes\"");
    hu_assert_frame(&r, "thumbnails_wait_before_loop", wait_line);
    hu_assert_frame(&r, "size_worker", sizes_send_line);
    hu_assert_created_by(&r, "thumbnails_wait_before_loop", sizes_go_line);
    harness_result_free(&r);
}

/* The only task locks a mutex it already holds (Go's sync.Mutex is not
 * reentrant): no other task exists that could ever unlock it. */
struct counter_state {
    csp_mutex *mu;
    int value;
};

static const int relock_line = __LINE__ + 4;
static HU_NOINLINE void increment_locked(struct counter_state *s)
{
    /* BUG(DEADLOCK): the caller already holds s->mu */
    csp_mutex_lock(s->mu);
    s->value++;
    csp_mutex_unlock(s->mu);
}

static const int relock_call_line = __LINE__ + 6;
static void add_under_lock(void *arg)
{
    struct counter_state s = {csp_mutex_make("counter"), 0};
    (void)arg;
    csp_mutex_lock(s.mu);
    increment_locked(&s);
    HU_KEEP_FRAME();
    csp_mutex_unlock(s.mu);
    if (s.value != 1)
        harness_fail("value %d, want 1", s.value);
}

static void deadlock_on_a_mutex_held_by_itself(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(add_under_lock, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_DEADLOCK);
    hu_assert_contains(&r, r.message, "all tasks are asleep - deadlock! (1 task)");
    hu_assert_contains(&r, r.dump, "\"main\" [mutex lock \"counter\"");
    hu_assert_frame(&r, "increment_locked", relock_line);
    hu_assert_frame(&r, "add_under_lock", relock_call_line);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ HANG */

/* Polls a channel nobody sends to: every csp_select fails, which is no
 * progress, so the run stops moving without a task ever blocking. */
static const int poll_first_line = __LINE__ + 8;
static const int poll_last_line = __LINE__ + 10;
static void poll_forever(void *arg)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    int v = 0;
    csp_case c = {results, CSP_OP_RECV, &v, false};
    /* BUG(HANG): a busy poll; nothing will ever send on results */
    for (;;) {
        if (csp_select(&c, 1, true) >= 0)
            break;
    }
    if (v != 0)
        harness_fail("got %d", v);
}

static void hang_for_a_busy_poll(void **state)
{
    harness_options o = hu_options();
    o.hang_after = 500 * HU_MS;
    harness_result r;
    hu_run(poll_forever, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_HANG);
    hu_assert_contains(&r, r.message, "no progress");
    hu_assert_contains(&r, r.dump, "\"main\" [running]");
    hu_assert_frame_in(&r, "poll_forever", poll_first_line, poll_last_line);
    harness_result_free(&r);
}

/* Computes for ever without calling the runtime at all. */
static volatile unsigned long spin_count;

static const int spin_first_line = __LINE__ + 6;
static const int spin_last_line = __LINE__ + 6;
static const int spinner_go_line = __LINE__ + 11;
static void spin(void *arg)
{
    /* BUG(HANG): the loop never ends */
    for (;;)
        spin_count++;
}

static void spin_in_a_task(void *arg)
{
    csp_chan *done = csp_chan_make(0, 0, "done");
    csp_go(spin, NULL, "spinner");
    csp_recv(done, NULL);
    HU_KEEP_FRAME();
}

static void hang_for_a_cpu_spin(void **state)
{
    harness_options o = hu_options();
    o.hang_after = 500 * HU_MS;
    harness_result r;
    hu_run(spin_in_a_task, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_HANG);
    hu_assert_contains(&r, r.message, "no progress");
    hu_assert_contains(&r, r.dump, "\"spinner\" [running]");
    hu_assert_contains(&r, r.dump, "\"main\" [chan receive \"done\"");
    hu_assert_created_by(&r, "spin_in_a_task", spinner_go_line);
    if (harness_detects_races()) {
        /* TSan defers asynchronous signals until the thread enters one of
         * its interceptors; a pure spin never does, so its stack cannot be
         * taken by signal there. Only the verdict is asserted. */
        print_message("TSan build: the spinning task's stack is not asserted\n");
    } else {
        hu_assert_frame_in(&r, "spin", spin_first_line, spin_last_line);
    }
    harness_result_free(&r);
}

/* ----------------------------------------------------------------- PANIC */

static const int second_close_line = __LINE__ + 6;
static void close_twice(void *arg)
{
    csp_chan *done = arg;
    csp_close(done);
    /* BUG(PANIC): close of a closed channel */
    csp_close(done);
    HU_KEEP_FRAME();
}

static const int closer_go_line = __LINE__ + 5;
static void panicking_entry(void *arg)
{
    csp_chan *done = csp_chan_make(0, 0, "done");
    csp_chan *never = csp_chan_make(0, 0, "never");
    csp_go(close_twice, done, "closer");
    csp_recv(never, NULL);
    HU_KEEP_FRAME();
}

static void panic_on_close_of_closed_channel(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(panicking_entry, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PANIC);
    hu_assert_contains(&r, r.message, "close of closed channel");
    assert_non_null(r.dump);
    assert_ptr_equal(strstr(r.dump, "panic: close of closed channel"), r.dump);
    hu_assert_frame(&r, "close_twice", second_close_line);
    hu_assert_created_by(&r, "panicking_entry", closer_go_line);
    harness_result_free(&r);
}

/* ----------------------------------------------------------------- CRASH */

static int *volatile no_buffer;   /* NULL, and the compiler cannot know it */

static const int deref_line = __LINE__ + 6;
static void parse_header(void *arg)
{
    int *out = no_buffer;
    (void)arg;
    /* BUG(CRASH): writes through a NULL pointer */
    *out = 42;
    HU_KEEP_FRAME();
}

static const int parser_go_line = __LINE__ + 5;
static void crashing_entry(void *arg)
{
    csp_chan *never = csp_chan_make(0, 0, "never");
    (void)arg;
    csp_go(parse_header, NULL, "parser");
    csp_recv(never, NULL);
    HU_KEEP_FRAME();
}

static void crash_on_null_dereference_in_a_task(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(crashing_entry, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_CRASH);
#if defined(__SANITIZE_ADDRESS__) || HU_HAS_FEATURE(address_sanitizer) || HU_HAS_FEATURE(undefined_behavior_sanitizer)
    /* Under UBSan (the asan preset: -fsanitize=address,undefined, no
     * recovery) the null store is caught before it faults: the program ends
     * with the sanitizer's report, which the message names, and no signal. */
    if (r.signal == 0) {
        hu_assert_contains(&r, r.message, "null pointer");
        harness_result_free(&r);
        return;
    }
#endif
    assert_int_equal(r.signal, SIGSEGV);
    hu_assert_contains(&r, r.message, "Segmentation fault");
    hu_assert_contains(&r, r.dump, "\"parser\" [running]");
    hu_assert_frame(&r, "parse_header", deref_line);
    hu_assert_created_by(&r, "crashing_entry", parser_go_line);
    harness_result_free(&r);
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pass_for_a_correct_pipeline),
        cmocka_unit_test(leak_of_senders_on_errors),
        cmocka_unit_test(leak_of_a_ticker),
        cmocka_unit_test(deadlock_on_wait_group_and_sizes),
        cmocka_unit_test(deadlock_on_a_mutex_held_by_itself),
        cmocka_unit_test(hang_for_a_busy_poll),
        cmocka_unit_test(hang_for_a_cpu_spin),
        cmocka_unit_test(panic_on_close_of_closed_channel),
        cmocka_unit_test(crash_on_null_dereference_in_a_task),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
