/* test_harness_wait.c — harness_wait (synctest.Wait): it returns only once
 * every other task of the run is blocked, so the entry sees what they did
 * before they blocked, without sleeping (sleeping tasks count as blocked,
 * as in synctest). Checked in both modes; a
 * harness_wait that returned early would leave `done` at 0 and the run
 * WRONG_RESULT. Outside a run it returns false at once. */
#include "harness.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <unistd.h>
#include <cmocka.h>

static _Atomic int done;

/* Works (runs, never blocked) for a while first, so the entry cannot see 1
 * by luck. A sleeping task counts as blocked, as in synctest (time moves
 * only when every task is blocked): the work here is computation. */
static void worker(void *arg)
{
    volatile unsigned long x = 0;
    for (unsigned long i = 0; i < 20000000ul; i++)
        x = x + i;
    atomic_store(&done, x > 0 ? 1 : 2);
    int v;
    csp_recv(arg, &v);                 /* blocks until the entry lets it go */
}

static void entry(void *arg)
{
    (void)arg;
    atomic_store(&done, 0);
    csp_chan *go = csp_chan_make(sizeof(int), 0, "go");
    csp_go(worker, go, "worker");
    if (!harness_wait())
        harness_fail("harness_wait returned false inside a run");
    if (atomic_load(&done) != 1)
        harness_fail("harness_wait returned before the worker blocked (done = %d)", atomic_load(&done));
    int v = 1;
    csp_send(go, &v);
    csp_chan_free(go);
}

static void run_in(harness_mode mode)
{
    harness_options o = harness_defaults();
    o.mode = mode;
    o.schedules = mode == HARNESS_CONTROLLED ? 50 : 3;
    o.hang_after = 5 * CSP_SECOND;
    o.timeout = 60 * CSP_SECOND;
    harness_result r;
    assert_int_equal(harness_run(entry, NULL, &o, &r), 0);
    if (r.verdict != HARNESS_PASS)
        print_error("%s: %s\n%s\n", harness_verdict_name(r.verdict), r.message, r.dump ? r.dump : "");
    assert_int_equal(r.verdict, HARNESS_PASS);
    harness_result_free(&r);
}

static void waits_in_controlled_mode(void **state) { (void)state; run_in(HARNESS_CONTROLLED); }
static void waits_in_free_mode(void **state) { (void)state; run_in(HARNESS_FREE); }
static void outside_a_run_is_false(void **state) { (void)state; assert_false(harness_wait()); }

int main(void)
{
    alarm(150);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(outside_a_run_is_false),
        cmocka_unit_test(waits_in_controlled_mode),
        cmocka_unit_test(waits_in_free_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
