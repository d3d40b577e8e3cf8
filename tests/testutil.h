/* testutil.h — helpers shared by the runtime's cmocka tests: run a scenario in
 * a forked child with its stderr captured and a hard time bound, check how the
 * child ended, and spawn tasks that a wait group joins.
 * cmocka's state is thread-local: assert only on the test's own thread. Tasks
 * leave their observations in plain data that the test reads after a join, and
 * code running in a forked child reports through its exit status (CHILD_CHECK),
 * never through cmocka. */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

#include "csp.h"

/* Every test binary dies by SIGALRM after this long, so that a broken runtime
 * fails the suite instead of hanging it. */
#define TESTUTIL_ALARM_SECONDS 60

/* How long a child may take to panic or exit before it counts as hung. */
#define TESTUTIL_CHILD_BOUND_MS 10000

/* Exit status of a child whose CHILD_CHECK failed. */
#define TESTUTIL_CHILD_CHECK_FAILED 97

/* Arms the alarm and makes the calling thread task 1 ("main"). Call first in
 * main(). TESTUTIL_FILTER=pattern in the environment runs only the matching
 * tests (cmocka_set_test_filter: '*' and '?' wildcards). */
void testutil_init(void);

/* The most of a child's stderr that is kept. */
#define TESTUTIL_ERR_MAX (128 * 1024)

/* How a forked child ended. Holds no heap memory, so a failing assertion
 * (which longjmps out of the test) leaks nothing. */
typedef struct {
    bool   timed_out;   /* still running at the bound; it was killed */
    bool   exited;      /* WIFEXITED */
    int    exit_code;
    bool   signaled;    /* WIFSIGNALED (and not killed by us) */
    int    signo;
    size_t err_len;
    bool   err_truncated;
    char   err[TESTUTIL_ERR_MAX + 1];  /* its stderr, NUL-terminated */
} testutil_child;

/* Forks; the child resets cmocka's signal handlers, sends stderr to a buffer
 * and stdout to /dev/null, runs fn(arg) and _exit(0)s if fn returns. The
 * parent waits at most bound_ms, then kills the child with SIGKILL.
 * With TESTUTIL_VERBOSE set in the environment, every child's ending and
 * stderr are printed. */
void testutil_run_child(testutil_child *out, void (*fn)(void *), void *arg,
                        int bound_ms);

/* The child died by SIGABRT and its stderr contains "panic: " + message. */
void testutil_assert_panicked(const testutil_child *c, const char *message);
/* The child exited with status 0. */
void testutil_assert_exited_ok(const testutil_child *c);
/* The child was still running at the bound. */
void testutil_assert_still_running(const testutil_child *c);

/* True when some line of the child's stderr starts with `prefix` (after
 * leading blanks) and contains every string of the NULL-terminated list. */
bool testutil_err_has_line(const testutil_child *c, const char *prefix, ...);
/* Fails the test, printing the child's stderr, unless such a line exists:
 * testutil_assert_err_line(&c, "task ", "\"worker\"", "[chan receive"). */
#define testutil_assert_err_line(c, ...)                                      \
    testutil_assert_err_line_at((c), __FILE__, __LINE__, __VA_ARGS__,         \
                                (const char *)NULL)
void testutil_assert_err_line_at(const testutil_child *c, const char *file,
                                 int line, const char *prefix, ...);

/* Inside a forked child: on failure, say what failed and _exit. */
#define CHILD_CHECK(cond)                                                     \
    do {                                                                      \
        if (!(cond)) {                                                        \
            fprintf(stderr, "child check failed: %s (%s:%d)\n", #cond,        \
                    __FILE__, __LINE__);                                      \
            _exit(TESTUTIL_CHILD_CHECK_FAILED);                               \
        }                                                                     \
    } while (0)

/* wg_add(wg, 1), then spawns a task that runs fn(arg) and calls wg_done. */
void testutil_spawn(csp_waitgroup *wg, void (*fn)(void *), void *arg,
                    const char *name);

/* Milliseconds since start (both csp_now() values). */
double testutil_ms(csp_duration since);

#endif /* TESTUTIL_H */
