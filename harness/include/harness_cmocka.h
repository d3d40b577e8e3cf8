/* harness_cmocka.h — chanlab's harness in a cmocka test: the equivalent of
 * goleak's VerifyNone, for deadlocks, hangs, panics, races and crashes too.
 *
 *     #include <stdarg.h>
 *     #include <stddef.h>
 *     #include <stdint.h>
 *     #include <setjmp.h>
 *     #include <cmocka.h>
 *     #include "harness_cmocka.h"
 *
 *     static void my_pipeline(void *arg) { ... csp_go, csp_send, ... }
 *
 *     static void test_pipeline(void **state) {
 *         assert_no_concurrency_bugs(my_pipeline, NULL);
 *     }
 *
 * On failure the test fails with the harness's one-line message, and the
 * Go-style dump of every task (with stacks and "created by") is printed, as is
 * the program's captured output. assert_concurrency_verdict checks that a
 * program shows a given verdict — a test for a bug that must be caught.
 *
 * Header-only, so the harness library does not depend on cmocka; include
 * <cmocka.h> (with its prerequisites) first. */
#ifndef HARNESS_CMOCKA_H
#define HARNESS_CMOCKA_H

#include "harness.h"

#include <stdio.h>
#include <string.h>

#ifndef cmocka_unit_test
#error "include <cmocka.h> (after <stdarg.h> <stddef.h> <stdint.h> <setjmp.h>) before harness_cmocka.h"
#endif

/* Runs entry under the harness with options o (NULL: harness_defaults()) and
 * returns true if the most severe verdict was `want`; prints the evidence
 * when it was not. Bad options fail the test with the harness's message. */
/* cmocka's print_error formats into a 1 KiB buffer: long text goes out a
 * line at a time. */
static inline void harness_cmocka_print_long(const char *text)
{
    while (text && *text) {
        const char *nl = strchr(text, '\n');
        int n = nl ? (int)(nl - text) : (int)strlen(text);
        print_error("%.*s\n", n > 1000 ? 1000 : n, text);
        text += n + (nl != NULL);
    }
}

static inline bool harness_cmocka_check(void (*entry)(void *), void *arg,
                                        const harness_options *o, harness_verdict want,
                                        const char *file, int line)
{
    harness_result r;
    if (harness_run(entry, arg, o, &r) != 0) {
        print_error("%s:%d: harness_run could not run: %s\n", file, line,
                    r.message ? r.message : "?");
        harness_result_free(&r);
        return false;
    }
    bool ok = r.verdict == want;
    if (!ok) {
        print_error("%s:%d: expected %s, observed %s: %s\n", file, line,
                    harness_verdict_name(want), harness_verdict_name(r.verdict),
                    r.message ? r.message : "");
        harness_cmocka_print_long(r.dump);
        if (r.log && r.log[0]) {
            print_error("--- the program's output ---\n");
            harness_cmocka_print_long(r.log);
        }
        if (r.schedule)
            print_error("schedule: %s\n", r.schedule);
    }
    harness_result_free(&r);
    return ok;
}

/* Fails the test unless entry(arg) shows no bug at all. */
#define assert_no_concurrency_bugs(entry, arg) \
    assert_true(harness_cmocka_check((entry), (arg), NULL, HARNESS_PASS, __FILE__, __LINE__))

/* Same, with options (hang bound, ignored tasks, fd limit, ...). */
#define assert_no_concurrency_bugs_opts(entry, arg, opts) \
    assert_true(harness_cmocka_check((entry), (arg), (opts), HARNESS_PASS, __FILE__, __LINE__))

/* Fails the test unless entry(arg) shows verdict v (a HARNESS_* value). */
#define assert_concurrency_verdict(entry, arg, opts, v) \
    assert_true(harness_cmocka_check((entry), (arg), (opts), (v), __FILE__, __LINE__))

#endif /* HARNESS_CMOCKA_H */
