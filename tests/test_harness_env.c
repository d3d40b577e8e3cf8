/* test_harness_env.c — the CHANLAB_* overrides of harness_run (harness.h,
 * "Replaying from CI without editing a test"): a bad value refuses the run
 * with a line naming the variable; a good one changes the run; a failure's
 * `rerun` line, set in the environment, runs that failure again.
 *
 * The overrides are read by harness_run in this (single-threaded) process,
 * so each test sets and clears them around its calls. */
#include "harness_util.h"

#include <csp.h>

static const char *const vars[] = { "CHANLAB_REPLAY", "CHANLAB_SEED", "CHANLAB_SCHEDULES",
                                    "CHANLAB_STRATEGY", "CHANLAB_NOISE", "CHANLAB_ENTRY",
                                    "CHANLAB_DPOR_STATS" };

static int clear_env(void **state)
{
    (void)state;
    for (size_t i = 0; i < sizeof vars / sizeof *vars; i++)
        unsetenv(vars[i]);
    return 0;
}

static void do_nothing(void *arg) { (void)arg; }

/* Two tasks race on a counter under a mutex, each reading then writing in
 * two critical sections: a lost update (sum 1) under some schedules. */
static csp_mutex *mu;
static int counter;
static void bump(void *arg)
{
    csp_waitgroup *wg = arg;
    csp_mutex_lock(mu);
    int v = counter;
    csp_mutex_unlock(mu);
    csp_mutex_lock(mu);
    counter = v + 1;
    csp_mutex_unlock(mu);
    csp_wg_done(wg);
}
static void lost_update(void *arg)
{
    (void)arg;
    mu = csp_mutex_make("mu");
    counter = 0;
    csp_waitgroup *wg = csp_wg_make();
    csp_wg_add(wg, 2);
    csp_go(bump, wg, "bump");
    csp_go(bump, wg, "bump");
    csp_wg_wait(wg);
    if (counter != 2)
        harness_fail("counter is %d, want 2", counter);
    csp_wg_free(wg);
    csp_mutex_free(mu);
}

static void expect_env_refused(const char *var, const char *value, harness_mode mode, const char *needle)
{
    setenv(var, value, 1);
    harness_options o = hu_options();
    o.mode = mode;
    harness_result r;
    int rc = harness_run(do_nothing, NULL, &o, &r);
    if (rc != -1 || !r.message || !strstr(r.message, var) || !strstr(r.message, needle))
        print_error("%s=%s: rc %d, message \"%s\"\n", var, value, rc, r.message ? r.message : "(none)");
    assert_int_equal(rc, -1);
    assert_non_null(strstr(r.message, var));
    assert_non_null(strstr(r.message, needle));
    assert_null(strchr(r.message, '\n'));
    harness_result_free(&r);
    unsetenv(var);
}

static void bad_values_name_the_variable(void **state)
{
    (void)state;
    expect_env_refused("CHANLAB_SEED", "abc", HARNESS_FREE, "accepted");
    expect_env_refused("CHANLAB_SEED", "-1", HARNESS_FREE, "accepted");
    expect_env_refused("CHANLAB_SCHEDULES", "0", HARNESS_FREE, "accepted: 1 to 1000000");
    expect_env_refused("CHANLAB_SCHEDULES", "1000001", HARNESS_FREE, "accepted: 1 to 1000000");
    expect_env_refused("CHANLAB_STRATEGY", "bogo", HARNESS_CONTROLLED, "accepted: random, pct, exhaustive");
    expect_env_refused("CHANLAB_STRATEGY", "pct", HARNESS_FREE, "controlled mode");
    expect_env_refused("CHANLAB_NOISE", "1001", HARNESS_FREE, "accepted: 0 to 1000");
    expect_env_refused("CHANLAB_NOISE", "5%", HARNESS_FREE, "accepted: 0 to 1000");
    expect_env_refused("CHANLAB_NOISE", "10", HARNESS_CONTROLLED, "free mode");
    expect_env_refused("CHANLAB_REPLAY", "garbage", HARNESS_CONTROLLED, "accepted");
    expect_env_refused("CHANLAB_REPLAY", "v1:free:seed=1:noise=0:run=1", HARNESS_FREE, "cannot be replayed");
    /* Written only when a reduced search ends: an unwritable file was once
     * ignored without a word. */
    expect_env_refused("CHANLAB_DPOR_STATS", "/nonexistent-dir/stats.txt", HARNESS_CONTROLLED,
                       "cannot be opened for appending");
    expect_env_refused("CHANLAB_DPOR_STATS", "", HARNESS_CONTROLLED, "accepted: a file path");
    setenv("CHANLAB_SEED", "1", 1);
    expect_env_refused("CHANLAB_ENTRY", "", HARNESS_FREE, "accepted");
}

static void schedules_and_entry_glob(void **state)
{
    (void)state;
    harness_options o = hu_options();
    o.mode = HARNESS_CONTROLLED;
    harness_result r;
    setenv("CHANLAB_SCHEDULES", "7", 1);
    assert_int_equal(harness_run(do_nothing, NULL, &o, &r), 0);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, 7);
    harness_result_free(&r);
    /* Another entry's override: not applied, even a bad value. */
    setenv("CHANLAB_ENTRY", "some_other_*", 1);
    setenv("CHANLAB_SEED", "not-a-number", 1);
    assert_int_equal(harness_run(do_nothing, NULL, &o, &r), 0);
    assert_int_equal(r.schedules_run, 1);
    harness_result_free(&r);
    setenv("CHANLAB_ENTRY", "do_*", 1);
    assert_int_equal(harness_run(do_nothing, NULL, &o, &r), -1);
    harness_result_free(&r);
}

/* Sets every NAME=VALUE of a rerun line in the environment. */
static void apply_rerun(const char *line)
{
    char buf[1024];
    snprintf(buf, sizeof buf, "%s", line);
    for (char *save = NULL, *tok = strtok_r(buf, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        char *eq = strchr(tok, '=');
        assert_non_null(eq);
        *eq = 0;
        setenv(tok, eq + 1, 1);
    }
}

static void rerun_line_replays_the_failure(void **state)
{
    (void)state;
    harness_options o = hu_options();
    o.mode = HARNESS_CONTROLLED;
    o.schedules = 500;
    harness_result r;
    assert_int_equal(harness_run(lost_update, NULL, &o, &r), 0);
    hu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_non_null(r.rerun);
    assert_non_null(strstr(r.rerun, "CHANLAB_ENTRY=lost_update CHANLAB_REPLAY=v1:"));
    char *rerun = strdup(r.rerun), *schedule = strdup(r.schedule);
    harness_result_free(&r);
    /* The test as written (one schedule, no replay) after the line is set. */
    apply_rerun(rerun);
    o.schedules = 1;
    assert_int_equal(harness_run(lost_update, NULL, &o, &r), 0);
    hu_assert_verdict(&r, HARNESS_WRONG_RESULT);
    assert_int_equal(r.schedules_run, 1);
    assert_string_equal(r.schedule, schedule);
    harness_result_free(&r);
    free(rerun);
    free(schedule);
}

/* A free-mode failure's line names the seed and run count, and from the
 * second run on the noise too. */
static void free_rerun_line_names_the_noise(void **state)
{
    (void)state;
    harness_options o = hu_options();
    o.schedules = 1;
    harness_result r;
    assert_int_equal(harness_run(lost_update, NULL, &o, &r), 0);
    if (r.verdict == HARNESS_PASS) {   /* the usual free-mode outcome: no line */
        assert_null(r.rerun);
        harness_result_free(&r);
    } else {
        hu_assert_contains(&r, r.rerun, "CHANLAB_SEED=1 CHANLAB_SCHEDULES=1");
        assert_null(strstr(r.rerun, "CHANLAB_NOISE"));
        harness_result_free(&r);
    }
    setenv("CHANLAB_NOISE", "1000", 1);
    setenv("CHANLAB_SCHEDULES", "3", 1);
    assert_int_equal(harness_run(do_nothing, NULL, &o, &r), 0);
    hu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, 3);
    harness_result_free(&r);
}

int main(void)
{
    hu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(bad_values_name_the_variable, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(schedules_and_entry_glob, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(rerun_line_replays_the_failure, clear_env, clear_env),
        cmocka_unit_test_setup_teardown(free_rerun_line_names_the_noise, clear_env, clear_env),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
