/* test_pipeline.c — the pipeline under chanlab's harness, in cmocka: the
 * correct one shows no bug, the one that stops early leaks its stages. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <harness_cmocka.h>

#include "pipeline.h"

/* The sum is checked inside the run: an assert_* there fails the run as
 * WRONG_RESULT with cmocka's message. (The runtime is used only under the
 * harness: a test process that has run tasks itself forks that state into
 * every later run.) */
static void sum_entry(void *arg)
{
    (void)arg;
    assert_int_equal(pipeline_sum_squares(10), 285);
}

static void test_sum(void **state)
{
    (void)state;
    assert_no_concurrency_bugs(sum_entry, NULL);
}

static void test_no_bugs(void **state)
{
    (void)state;
    assert_no_concurrency_bugs(pipeline_entry, NULL);
}

static void test_stopping_early_leaks(void **state)
{
    (void)state;
    assert_concurrency_verdict(pipeline_entry_stops_early, NULL, NULL, HARNESS_LEAK);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_sum),
        cmocka_unit_test(test_no_bugs),
        cmocka_unit_test(test_stopping_early_leaks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
