/* test_harness_inprocess.c — in_process runs (no fork) reach the same
 * verdicts as forked runs of the same programs.
 * Order matters: the forked runs come first, while this process has never
 * started a thread (a process under TSan must be single-threaded when it
 * forks); an in-process run starts runtime threads here, and the leaking
 * one leaves its task parked in this process for good, so it runs last. */
#include "harness_util.h"

/* A correct fan-out / fan-in. */
static void square(void *arg)
{
    csp_chan *results = arg;
    static _Atomic int next;
    int x = ++next;
    int sq = x * x;
    csp_send(results, &sq);
    HU_KEEP_FRAME();
}

static void fan_in(void *arg)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    for (int i = 0; i < 3; i++)
        csp_go(square, results, "square");
    int sum = 0;
    for (int i = 0; i < 3; i++) {
        int sq;
        csp_recv(results, &sq);
        sum += sq;
    }
    if (sum <= 0)
        harness_fail("sum %d", sum);
}

/* Reads one result of three: the other two senders leak. */
static void fan_in_first_only(void *arg)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    for (int i = 0; i < 3; i++)
        csp_go(square, results, "square");
    int sq;
    csp_recv(results, &sq);   /* BUG(LEAK): the other two block on results */
}

static harness_verdict forked_pass = HARNESS_CRASH, forked_leak = HARNESS_CRASH;
static unsigned forked_leaked_tasks;

static void forked_runs_first(void **state)
{
    harness_options o = hu_options();
    harness_result r;
    hu_run(fan_in, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_PASS);
    forked_pass = r.verdict;
    harness_result_free(&r);

    hu_run(fan_in_first_only, NULL, &o, &r);
    hu_assert_verdict(&r, HARNESS_LEAK);
    forked_leak = r.verdict;
    forked_leaked_tasks = r.leaked_tasks;
    harness_result_free(&r);
}

static void in_process_pass_agrees(void **state)
{
    harness_options o = hu_options();
    o.in_process = true;
    harness_result r;
    hu_run(fan_in, NULL, &o, &r);
    hu_assert_verdict(&r, forked_pass);
    hu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

static void in_process_leak_agrees(void **state)
{
    harness_options o = hu_options();
    o.in_process = true;
    harness_result r;
    hu_run(fan_in_first_only, NULL, &o, &r);
    hu_assert_verdict(&r, forked_leak);
    hu_assert_verdict(&r, HARNESS_LEAK);
    assert_int_equal(r.leaked_tasks, forked_leaked_tasks);
    assert_int_equal(r.leaked_tasks, 2);
    hu_assert_contains(&r, r.message, "2\xc3\x97 chan send \"results\"");
    harness_result_free(&r);
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(forked_runs_first),
        cmocka_unit_test(in_process_pass_agrees),
        cmocka_unit_test(in_process_leak_agrees),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
