/* test_report_writers.c — the report writers on a report made by hand
 * (reports/): JUnit escapes line breaks and tabs in attribute values and
 * keeps to the strict schema's attributes; results.json names its
 * schema_version; the trace of a synthetic event list has balanced B/E pairs
 * per track and one s and one f per hand-off; a timeline keeps to one lane
 * per task. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "csp_debug.h"
#include "report.h"

static char *capture(int (*write)(const report *, FILE *), const report *r)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    assert_non_null(f);
    assert_int_equal(write(r, f), 0);
    fclose(f);
    return text;
}

static int trace0(const report *r, FILE *f) { return report_write_trace(r, 0, f); }

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* main (1) makes worker (2); 2 parks sending on "c"; 1 receives: hand-off
 * 2 -> 1, readies 2; 2 runs and exits; 1 exits. */
static const harness_event events[] = {
    { 0, CSP_DEBUG_EVENT_RUN, 1, 0, NULL, NULL },
    { 0, CSP_DEBUG_EVENT_SPAWN, 2, 1, NULL, "worker" },
    { 0, CSP_DEBUG_EVENT_RUN, 2, 0, NULL, NULL },
    { 0, CSP_DEBUG_EVENT_PARK, 2, 0, "chan send", "c" },
    { 0, CSP_DEBUG_EVENT_RUN, 1, 0, NULL, NULL },
    { 0, CSP_DEBUG_EVENT_HANDOFF, 2, 1, NULL, "c" },
    { 0, CSP_DEBUG_EVENT_READY, 2, 1, NULL, NULL },
    { 5, CSP_DEBUG_EVENT_CLOSE, 1, 0, NULL, "done" },
    { 5, CSP_DEBUG_EVENT_RUN, 2, 0, NULL, NULL },
    { 5, CSP_DEBUG_EVENT_EXIT, 2, 0, NULL, NULL },
    { 5, CSP_DEBUG_EVENT_RUN, 1, 0, NULL, NULL },
    { 5, CSP_DEBUG_EVENT_EXIT, 1, 0, NULL, NULL },
};

static report *make(void)
{
    report *r = report_new("prove", "a \"title\"");
    assert_non_null(r);
    report_variant v = { .id = "fam.bug", .section = "8.5", .book_func = "f", .lesson = "two\nlines",
                         .file = "patterns/x.c", .line = 7, .entry_name = "bug",
                         .modes = 1u << REPORT_CONTROLLED,
                         .expect = { 0, 1u << HARNESS_PASS } };
    size_t vi = report_add_variant(r, &v);
    report_observation o = { .variant = vi, .mode = REPORT_CONTROLLED, .strategy = "random",
                             .carried_out = true, .observed = HARNESS_LEAK,
                             .seen = 1u << HARNESS_LEAK, .message = "leaked:\n\ttwo tasks",
                             .dump = "task 2 [chan send]", .schedule = "v1:random:seed=1:run=1",
                             .events = events, .nevents = sizeof events / sizeof *events };
    assert_int_not_equal(report_add_observation(r, &o), (size_t)-1);
    return r;
}

static void junit_escapes_line_breaks_in_attributes(void **state)
{
    (void)state;
    report *r = make();
    char *x = capture(report_write_junit, r);
    assert_non_null(strstr(x, "message=\"expected PASS, observed LEAK: leaked:&#10;&#9;two tasks\""));
    assert_null(strstr(x, " file=\""));
    assert_null(strstr(x, " line=\""));
    assert_null(strstr(x, " skipped=\""));
    assert_non_null(strstr(x, "registered at patterns/x.c:7"));
    free(x);
    report_free(r);
}

static void json_names_its_schema_version(void **state)
{
    (void)state;
    report *r = make();
    char *j = capture(report_write_json, r);
    assert_non_null(strstr(j, "\"schema_version\": 1,"));
    free(j);
    report_free(r);
}

static void trace_pairs_slices_and_flows(void **state)
{
    (void)state;
    report *r = make();
    char *t = capture(trace0, r);
    /* main: running, running (after the worker parks), running; worker:
     * running, blocked, running. */
    assert_int_equal(count(t, "\"ph\":\"B\""), 6);
    assert_int_equal(count(t, "\"ph\":\"E\""), 6);
    assert_int_equal(count(t, "\"ph\":\"s\""), 1);
    assert_int_equal(count(t, "\"ph\":\"f\""), 1);
    assert_non_null(strstr(t, "\"name\":\"chan send \\\"c\\\"\""));
    assert_non_null(strstr(t, "\"args\":{\"name\":\"2 worker\"}"));
    assert_non_null(strstr(t, "verdict LEAK"));
    assert_int_equal(count(t, "\"name\":\"thread_name\""), 2);
    free(t);
    report_free(r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(junit_escapes_line_breaks_in_attributes),
        cmocka_unit_test(json_names_its_schema_version),
        cmocka_unit_test(trace_pairs_slices_and_flows),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
