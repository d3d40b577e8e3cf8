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
 * On failure the test fails with the harness's one-line message, the line
 * that reruns exactly that failure (CHANLAB_ENTRY=... CHANLAB_REPLAY=...),
 * and the Go-style dump of every task (with stacks and "created by"), in
 * whatever format cmocka writes (CMOCKA_MESSAGE_OUTPUT). An assert_* inside
 * the entry fails the run as WRONG_RESULT with cmocka's own message.
 * assert_concurrency_verdict checks that a program shows a given verdict — a
 * test for a bug that must be caught.
 *
 * Header-only, so the harness library does not depend on cmocka; include
 * <cmocka.h> (with its prerequisites) first. */
#ifndef HARNESS_CMOCKA_H
#define HARNESS_CMOCKA_H

#include "harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* setenv and unsetenv are POSIX; a strict ISO C build (-std=c11, no feature
 * macro) gets no declaration of them from <stdlib.h>, so they are declared
 * here for it. */
#if !defined(_POSIX_C_SOURCE) || _POSIX_C_SOURCE < 200112L
extern int setenv(const char *name, const char *value, int overwrite);
extern int unsetenv(const char *name);
#endif

#ifndef cmocka_unit_test
#error "include <cmocka.h> (after <stdarg.h> <stddef.h> <stdint.h> <setjmp.h>) before harness_cmocka.h"
#endif

/* How a failure reaches cmocka. Inside the run (a forked child), cmocka's
 * own assert_* and fail() would longjmp back into the child's copy of the
 * test runner, which would then run the rest of the suite a second time; so
 * around each run CMOCKA_TEST_ABORT=1 is set (cmocka then abort()s instead,
 * after printing its message) and harness_abort_is_failure(true) makes that
 * abort the run's WRONG_RESULT, with cmocka's "what" and file:line as its
 * message. The child never returns to the runner. (In-process runs,
 * harness_options.in_process, keep cmocka's usual longjmp.)
 *
 * In the test's own process, a verdict other than the one wanted fails the
 * test through cmocka's _assert_true with the whole report as its
 * "expression" — verdict, message, rerun line, schedule, dump — so it
 * reaches every CMOCKA_MESSAGE_OUTPUT format: stdout, subunit, TAP and the
 * XML file. */
#define HARNESS_CMOCKA_REPORT_MAX (48u << 10)

static inline void harness_cmocka_append(char *buf, size_t *len, const char *s, size_t max)
{
    size_t n = s ? strlen(s) : 0;
    if (*len + n + 1 > max)
        n = max - 1 - *len;
    memcpy(buf + *len, s ? s : "", n);
    *len += n;
    buf[*len] = 0;
}

static inline void harness_cmocka_check(void (*entry)(void *), void *arg,
                                        const harness_options *o, harness_verdict want,
                                        const char *file, int line)
{
    static char report[HARNESS_CMOCKA_REPORT_MAX];
    harness_options defaults = harness_defaults();
    if (!o)
        o = &defaults;
    const char *was = getenv("CMOCKA_TEST_ABORT");
    char saved[8] = "";
    if (was)
        snprintf(saved, sizeof saved, "%s", was);
    if (!o->in_process) {
        setenv("CMOCKA_TEST_ABORT", "1", 1);
        harness_abort_is_failure(true);
    }
    harness_result r;
    int rc = harness_run(entry, arg, o, &r);
    harness_abort_is_failure(false);
    if (was)
        setenv("CMOCKA_TEST_ABORT", saved, 1);
    else
        unsetenv("CMOCKA_TEST_ABORT");
    if (rc == 0 && r.verdict == want) {
        harness_result_free(&r);
        return;
    }
    size_t len = 0;
    char head[512];
    if (rc != 0)
        snprintf(head, sizeof head, "harness_run could not run: %s", r.message ? r.message : "?");
    else
        snprintf(head, sizeof head, "expected %s, observed %s: %.400s", harness_verdict_name(want),
                 harness_verdict_name(r.verdict), r.message ? r.message : "");
    harness_cmocka_append(report, &len, head, sizeof report);
    if (rc == 0 && r.rerun) {
        harness_cmocka_append(report, &len, "\nrerun: ", sizeof report);
        harness_cmocka_append(report, &len, r.rerun, sizeof report);
        char self[512] = "./the-test";
        FILE *cmd = fopen("/proc/self/cmdline", "r");
        if (cmd) {
            size_t n = fread(self, 1, sizeof self - 1, cmd);
            self[n] = 0;   /* argv[0]: the first NUL-terminated string */
            fclose(cmd);
        }
        harness_cmocka_append(report, &len, " ", sizeof report);
        harness_cmocka_append(report, &len, self, sizeof report);
    }
    if (rc == 0 && r.schedule) {
        harness_cmocka_append(report, &len, "\nschedule: ", sizeof report);
        harness_cmocka_append(report, &len, r.schedule, sizeof report);
    }
    if (rc == 0 && r.dump) {
        harness_cmocka_append(report, &len, "\n", sizeof report);
        harness_cmocka_append(report, &len, r.dump, sizeof report);
    }
    if (rc == 0 && r.log && r.log[0] && want == HARNESS_PASS) {
        harness_cmocka_append(report, &len, "\n--- the program's output ---\n", sizeof report);
        harness_cmocka_append(report, &len, r.log, sizeof report);
    }
    while (len > 0 && report[len - 1] == '\n')
        report[--len] = 0;
    harness_result_free(&r);
    _assert_true(0, report, file, line);   /* fails the test: does not return */
}

/* Fails the test unless entry(arg) shows no bug at all. */
#define assert_no_concurrency_bugs(entry, arg) \
    harness_cmocka_check((entry), (arg), NULL, HARNESS_PASS, __FILE__, __LINE__)

/* Same, with options (hang bound, ignored tasks, fd limit, ...). */
#define assert_no_concurrency_bugs_opts(entry, arg, opts) \
    harness_cmocka_check((entry), (arg), (opts), HARNESS_PASS, __FILE__, __LINE__)

/* Fails the test unless entry(arg) shows verdict v (a HARNESS_* value). */
#define assert_concurrency_verdict(entry, arg, opts, v) \
    harness_cmocka_check((entry), (arg), (opts), (v), __FILE__, __LINE__)

#endif /* HARNESS_CMOCKA_H */
