/* test_harness_robust.c — the parent survives whatever the child does
 * (DESIGN.md §3: "the harness itself never hangs and one broken variant
 * never takes the rest of a catalog run down"): a child killed outright, one
 * that computes past the wall bound, one stopped so that it cannot answer
 * SIGQUIT, one that leaks a hundred task threads (and one that leaks a
 * thread that is no task, alone and beside a pool of idle task threads,
 * which are no leak), one that calls exit() in
 * the middle of the run. And a task that computes for a while without
 * touching the runtime, well under hang_after, is no hang.
 * No timing is asserted: "returns promptly" is harness_run returning at all,
 * inside the ctest TIMEOUT and the alarm. */
#include "harness_util.h"

#include <pthread.h>
#include <signal.h>

/* ----------------------------------------------------------------- Crash */

static void killed_outright(void *arg)
{
    raise(SIGKILL);   /* BUG(CRASH): as if the OOM killer came; no handler runs */
}

static void add_two_numbers(void *arg)
{
    csp_chan *sum = csp_chan_make(sizeof(int), 1, "sum");
    int v = 2 + 2;
    csp_send(sum, &v);
    csp_recv(sum, &v);
    if (v != 4)
        harness_fail("2 + 2 = %d", v);
}

static void survives_a_child_killed_by_sigkill(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(killed_outright, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_CRASH);
    assert_int_equal(r.signal, SIGKILL);
    hu_assert_contains(&r, r.message, "killed by signal 9");
    harness_result_free(&r);

    /* The next run from the same process is unaffected. */
    hu_run(add_two_numbers, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

/* ------------------------------------------------------------------ Hang */

static volatile unsigned long burned;

static void compute_for_ever(void *arg)
{
    for (;;)
        burned++;   /* BUG(HANG): never ends, never calls the runtime */
}

/* No progress bound at all: only the wall bound can end this run; the
 * child's monitor ends it and reports. */
static void hang_at_the_wall_bound(void **state)
{
    harness_options o = hu_options();
    o.hang_after = 0;
    o.timeout = 1 * CSP_SECOND;
    harness_result r;
    hu_run(compute_for_ever, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_HANG);
    hu_assert_contains(&r, r.message, "still running at the wall bound of 1.0 s");
    hu_assert_contains(&r, r.dump, "\"main\" [running]");
    harness_result_free(&r);
}

/* The whole child stops (its monitor too), so nothing in it can answer:
 * the parent asks with SIGQUIT, waits, then SIGKILLs it. */
static void stop_the_whole_process(void *arg)
{
    raise(SIGSTOP);   /* BUG(HANG): as if the process were frozen */
}

static void hang_when_the_child_cannot_answer(void **state)
{
    harness_options o = hu_options();
    o.hang_after = 0;
    o.timeout = 1 * CSP_SECOND;
    harness_result r;
    hu_run(stop_the_whole_process, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_HANG);
    hu_assert_contains(&r, r.message, "did not answer SIGQUIT; killed");
    harness_result_free(&r);
}

/* ---------------------------------------------------------- Many leaks */

#define MANY 100

static void wait_for_nothing(void *arg)
{
    csp_recv(arg, NULL);
    HU_KEEP_FRAME();
}

static const int many_go_line = __LINE__ + 5;
static void leak_a_hundred_tasks(void *arg)
{
    csp_chan *never = csp_chan_make(0, 0, "never");
    for (int i = 0; i < MANY; i++)
        csp_go(wait_for_nothing, never, "waiter");   /* BUG(LEAK): nothing sends on never */
}

static void leak_of_a_hundred_threads(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(leak_a_hundred_tasks, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tasks, MANY);
    assert_int_equal(r.leaked_threads, 0);   /* every thread left is a task's */
    char group[300];
    snprintf(group, sizeof group,
             "100 tasks leaked: 100\xc3\x97 chan receive \"never\" (created by leak_a_hundred_tasks at %s:%d)",
             __FILE__, many_go_line);
    hu_assert_contains(&r, r.message, group);
    harness_result_free(&r);
}

/* A plain thread, not a task, that the program starts and never joins:
 * only the count of OS threads can see it. */
static void *block_for_ever(void *arg)
{
    for (;;)
        pause();
    return arg;
}

static void leak_a_raw_thread(void *arg)
{
    pthread_t t;
    if (pthread_create(&t, NULL, block_for_ever, NULL) != 0)
        harness_fail("pthread_create failed");   /* BUG(LEAK): never joined */
}

static void leak_of_a_thread_that_is_no_task(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(leak_a_raw_thread, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_threads, 1);
    assert_int_equal(r.leaked_tasks, 0);
    hu_assert_contains(&r, r.message, "1 OS thread beyond the tasks still running");
    harness_result_free(&r);
}

/* Pooled task threads (runtime/src/threads.c "Spawn") outlive their tasks,
 * idle: they are the runtime's own, never "OS threads beyond the tasks". A
 * thousand short tasks in waves leave a pool of idle threads behind, and
 * no leak; beside them, a thread that is no task is still counted, alone. */
static void short_task(void *arg) { csp_wg_done(arg); }

static void many_short_tasks(void *arg)
{
    csp_waitgroup *wg = csp_wg_make();
    for (int wave = 0; wave < 10; wave++) {
        csp_wg_add(wg, 100);
        for (int i = 0; i < 100; i++)
            csp_go(short_task, wg, "short");
        csp_wg_wait(wg);
    }
    csp_wg_free(wg);
}

static void no_thread_leak_after_many_short_tasks(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(many_short_tasks, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.leaked_threads, 0);
    harness_result_free(&r);
}

static void many_short_tasks_and_a_raw_thread(void *arg)
{
    many_short_tasks(arg);
    leak_a_raw_thread(arg);
}

static void leak_of_a_raw_thread_beside_pooled_threads(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(many_short_tasks_and_a_raw_thread, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_threads, 1);
    assert_int_equal(r.leaked_tasks, 0);
    hu_assert_contains(&r, r.message, "1 OS thread beyond the tasks still running");
    harness_result_free(&r);
}

/* ---------------------------------------------------------------- exit() */

static void exit_in_a_task(void *arg)
{
    exit(3);   /* BUG(CRASH): a library that exits on error */
}

static void exit_in_the_middle(void *arg)
{
    csp_chan *never = csp_chan_make(0, 0, "never");
    csp_go(exit_in_a_task, NULL, "quitter");
    csp_recv(never, NULL);
}

static void crash_when_the_program_exits(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(exit_in_the_middle, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_CRASH);
    hu_assert_contains(&r, r.message, "exited (status 3)");
    harness_result_free(&r);
}

/* ------------------------------------------------------------ CPU burst */

#define BURST_HANG_AFTER (1 * CSP_SECOND)

/* Computes for a fifth of hang_after without a single change of state. */
static void compute_a_while(void *arg)
{
    csp_duration until = csp_now() + BURST_HANG_AFTER / 5;
    unsigned long n = 0;
    while (csp_now() < until)
        n++;
    if (n == 0)
        harness_fail("the loop never ran");
}

static void pass_for_a_cpu_burst_under_hang_after(void **state)
{
    harness_options o = hu_options();
    o.hang_after = BURST_HANG_AFTER;
    harness_result r;
    hu_run(compute_a_while, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(survives_a_child_killed_by_sigkill),
        cmocka_unit_test(hang_at_the_wall_bound),
        cmocka_unit_test(hang_when_the_child_cannot_answer),
        cmocka_unit_test(leak_of_a_hundred_threads),
        cmocka_unit_test(leak_of_a_thread_that_is_no_task),
        cmocka_unit_test(no_thread_leak_after_many_short_tasks),
        cmocka_unit_test(leak_of_a_raw_thread_beside_pooled_threads),
        cmocka_unit_test(crash_when_the_program_exits),
        cmocka_unit_test(pass_for_a_cpu_burst_under_hang_after),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
