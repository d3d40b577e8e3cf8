/* test_controlled_schedules.c — schedule strings (DESIGN.md §3, §7): a
 * malformed string, or one that does not fit the program, makes harness_run
 * return -1 with a message that says what is wrong — never a crash, never a
 * silent run of some other schedule. Checked in a forked run and in this
 * process; a good replay right after a refused one still replays exactly. */
#include "controlled_util.h"

/* Two ready channels: the run makes exactly one decision, of 2 options. */
static void one_choice_of_two(void *arg)
{
    (void)arg;
    csp_chan *a = csp_chan_make(sizeof(int), 1, "a");
    csp_chan *b = csp_chan_make(sizeof(int), 1, "b");
    int one = 1, v = 0;
    csp_send(a, &one);
    csp_send(b, &one);
    csp_case cases[] = { { a, CSP_OP_RECV, &v, false }, { b, CSP_OP_RECV, &v, false } };
    harness_output("case %d\n", csp_select(cases, 2, false));
}

static const char *const malformed[] = {
    "v2:x:1",                          /* unknown version */
    "v1:x:1..2",                       /* an empty decision */
    "v1:x:a",                          /* not a number */
    "v1:x:1.",                         /* ends with a separator */
    "v1:x:-1",
    "v1:x:99999999999",                /* beyond 32 bits */
    "v1:x:1x0",                        /* a run of no decisions */
    "v1:x:x2",                         /* a run of nothing */
    "v1:x:1x",
    "v1:x:1x2x3",
    "v1:x:0x100000001",                /* beyond 100,000,000 decisions */
    "v1:random:seed=1",                /* no run */
    "v1:random:run=1",                 /* no seed */
    "v1:random:seed=1:run=0",          /* runs count from 1 */
    "v1:random:seed=x:run=1",
    "v1:random:seed=1:run=1:extra=2",  /* an unknown field */
    "v1:pct:seed=1:run=0",
    "v1:pct:seed=1:depth=0:run=1",     /* depth 1..64 */
    "v1:pct:seed=1:depth=65:run=1",
    "v1:pct:seed=1:depth=3:run=1:estimate=0",
    "v1:nope",
    "v1:",
    "v1",
    "",
    "x:1",
    "v1:x\n1.0.1",                     /* schedule_string_fuzzer's first finding: */
    "v1:random:seed=\t1\r:run=1",      /* the refusal must stay one line */
};

static void malformed_strings_are_refused(void **state)
{
    (void)state;
    for (int in_process = 0; in_process <= 1; in_process++)
        for (size_t i = 0; i < sizeof malformed / sizeof *malformed; i++) {
            harness_options o = cu_options();
            o.in_process = in_process;
            o.replay = malformed[i];
            harness_result r;
            int rc = harness_run(one_choice_of_two, NULL, &o, &r);
            if (rc != -1 || !r.message || !strstr(r.message, "bad schedule") ||
                strpbrk(r.message, "\n\r\t")) {
                print_error("schedule \"%s\" (%s): harness_run returned %d\n", malformed[i],
                            in_process ? "in process" : "forked", rc);
                cu_print_result(&r);
                fail();
            }
            if (cu_verbose())
                fprintf(stderr, "\"%s\": %s\n", malformed[i], r.message);
            assert_int_equal(r.schedules_run, 0);
            assert_null(r.dump);
            harness_result_free(&r);
        }
}

/* An explicit schedule longer than any run under the step bound could be
 * is refused before it is read into memory (schedule_string_fuzzer's
 * 697 MB input). */
static void schedules_longer_than_any_run_are_refused(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.max_steps = 1000;
    o.replay = "v1:x:0x20000";   /* 131,072 decisions: more than 4 x 1000 + 4096 */
    harness_result r;
    assert_int_equal(harness_run(one_choice_of_two, NULL, &o, &r), -1);
    cu_assert_contains(&r, r.message, "more than a run of max_steps 1000 can make");
    harness_result_free(&r);
}

/* Well-formed strings that do not fit: an option the decision does not
 * have, or more decisions than the run makes. */
static void unfitting_strings_are_refused(void **state)
{
    (void)state;
    const struct { const char *schedule, *says; } cases[] = {
        { "v1:x:5", "decision 1 asks for option 6 of 2" },
        { "v1:x:2", "decision 1 asks for option 3 of 2" },
        { "v1:x:0.0", "the run ended after 1 decisions, the schedule has 2" },
        { "v1:x:1.0.1.1.0.0.0.0.0.0", "the schedule has 10" },
        { "v1:x:1x5", "the schedule has 5" },              /* a run of equal decisions */
        { "v1:x:", "it ends after 0 decisions, the run needs more" },  /* runs out: refused */
    };
    for (int in_process = 0; in_process <= 1; in_process++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            harness_options o = cu_options();
            o.in_process = in_process;
            o.replay = cases[i].schedule;
            harness_result r;
            int rc = harness_run(one_choice_of_two, NULL, &o, &r);
            if (rc != -1 || !r.message || !strstr(r.message, "does not fit") ||
                !strstr(r.message, cases[i].says)) {
                print_error("schedule \"%s\" (%s): harness_run returned %d; want -1 and "
                            "\"does not fit\", \"%s\"\n", cases[i].schedule,
                            in_process ? "in process" : "forked", rc, cases[i].says);
                cu_print_result(&r);
                fail();
            }
            if (cu_verbose())
                fprintf(stderr, "\"%s\": %s\n", cases[i].schedule, r.message);
            assert_null(r.dump);
            harness_result_free(&r);
        }
}

/* The strings that fit replay exactly, also right after refused ones. */
static void fitting_strings_replay(void **state)
{
    (void)state;
    const struct { const char *schedule, *output; } cases[] = {
        { "v1:x:0", "case 0\n" },
        { "v1:x:1", "case 1\n" },
        { "v1:x:1x1", "case 1\n" },       /* a run of one */
    };
    for (int in_process = 0; in_process <= 1; in_process++)
        for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) {
            harness_options o = cu_options();
            o.in_process = in_process;
            o.replay = "v1:x:7";
            harness_result r;
            assert_int_equal(harness_run(one_choice_of_two, NULL, &o, &r), -1);
            harness_result_free(&r);
            o.replay = cases[i].schedule;
            cu_run(one_choice_of_two, NULL, &o, &r);
            cu_assert_verdict(&r, HARNESS_PASS);
            assert_string_equal(r.output, cases[i].output);
            assert_int_equal(r.schedules_run, 1);
            harness_result_free(&r);
        }
    /* A short form names a run of its strategy; it fits any program. */
    for (unsigned run = 1; run <= 8; run++) {
        char s[64];
        snprintf(s, sizeof s, "v1:random:seed=5:run=%u", run);
        harness_options o = cu_options();
        o.replay = s;
        harness_result a, b;
        cu_run(one_choice_of_two, NULL, &o, &a);
        cu_run(one_choice_of_two, NULL, &o, &b);
        cu_assert_verdict(&a, HARNESS_PASS);
        assert_string_equal(a.output, b.output);
        assert_string_equal(a.decisions, b.decisions);
        assert_string_equal(a.schedule, s);
        harness_result_free(&a);
        harness_result_free(&b);
    }
}

/* Replay in free mode is refused: free-mode runs are not reproducible. */
static void replay_needs_controlled_mode(void **state)
{
    (void)state;
    harness_options o = harness_defaults();
    o.replay = "v1:x:0";
    harness_result r;
    assert_int_equal(harness_run(one_choice_of_two, NULL, &o, &r), -1);
    assert_non_null(r.message);
    assert_non_null(strstr(r.message, "HARNESS_CONTROLLED"));
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(malformed_strings_are_refused),
        cmocka_unit_test(schedules_longer_than_any_run_are_refused),
        cmocka_unit_test(unfitting_strings_are_refused),
        cmocka_unit_test(fitting_strings_replay),
        cmocka_unit_test(replay_needs_controlled_mode),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
