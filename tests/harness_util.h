/* harness_util.h — what the harness's cmocka tests share: options with bounds
 * small enough for a unit test, checks that print the whole result when they
 * fail, and the "FUNC at FILE:LINE" lines a dump must contain.
 *
 * Rules these tests keep (harness.h): the test process itself never calls the
 * runtime (no csp_go, csp_sleep, csp_after ...) — only entry functions do,
 * inside the harness's forked child — so the process is single-threaded each
 * time harness_run forks. Entry functions never call cmocka: they report
 * through harness_fail, and the test asserts on the result afterwards.
 * Functions that must show in a dump keep their blocking call out of tail
 * position (a sibling call would leave no frame of theirs on the stack). */
#ifndef HARNESS_UTIL_H
#define HARNESS_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"

/* Every test binary dies by SIGALRM after this long (a last resort: each
 * ctest entry has a TIMEOUT above it, and every run has its own bounds). */
#define HU_ALARM_SECONDS 150

#define HU_MS CSP_MILLISECOND

/* Stops the compiler from turning the call before it into a tail call, so
 * that the calling function keeps its frame (and its line) in the dump. */
#define HU_KEEP_FRAME() __asm__ volatile("" ::: "memory")

/* A function that must show in a dump under its own name: not inlined into
 * its caller, and not cloned by gcc (a clone's symbol is "f.constprop.0"). */
#if defined(__clang__)
#define HU_NOINLINE __attribute__((noinline))
#else
#define HU_NOINLINE __attribute__((noinline, noclone))
#endif

/* Arms the alarm; TESTUTIL_FILTER=pattern runs only the matching tests
 * (cmocka_set_test_filter: '*' and '?'), as in the runtime's tests;
 * TESTUTIL_VERBOSE=1 prints every result a test checks. */
static inline void hu_main_init(void)
{
    alarm(HU_ALARM_SECONDS);
    if (getenv("TESTUTIL_FILTER"))
        cmocka_set_test_filter(getenv("TESTUTIL_FILTER"));
}

/* The defaults with bounds that end a broken run well inside the ctest
 * TIMEOUT: hang after 5 s without progress (a correct program never comes
 * close, even under TSan on a loaded machine), 20 s wall bound. The leak
 * grace is generous (2 s): it only lasts while some task is still running;
 * tasks that are provably stuck end it at once, and so does the last task
 * finishing. */
static inline harness_options hu_options(void)
{
    harness_options o = harness_defaults();
    o.hang_after = 5 * CSP_SECOND;
    o.timeout = 20 * CSP_SECOND;
    o.leak_grace = 2 * CSP_SECOND;
    return o;
}

/* Straight to stderr: cmocka's print_error cuts text at 1 KiB, and a dump
 * is longer than that. */
static inline void hu_print_result(const harness_result *r, bool with_log)
{
    fprintf(stderr, "verdict %s, seen 0x%x, schedules_run %u, message: %s\n",
            harness_verdict_name(r->verdict), r->seen, r->schedules_run,
            r->message ? r->message : "(null)");
    fprintf(stderr, "leaked tasks %u tickers %u threads %u fds %u, races %u, signal %d\n",
            r->leaked_tasks, r->leaked_tickers, r->leaked_threads, r->leaked_fds, r->races,
            r->signal);
    if (r->dump)
        fprintf(stderr, "--- dump ---\n%s\n", r->dump);
    if (r->output && r->output[0])
        fprintf(stderr, "--- output ---\n%s\n", r->output);
    if (with_log && r->log && r->log[0])
        fprintf(stderr, "--- log ---\n%s\n", r->log);
}

/* Runs entry and fails the test unless harness_run carried the runs out. */
#define hu_run(entry, arg, opts, r)                                              \
    do {                                                                         \
        if (harness_run((entry), (arg), (opts), (r)) != 0) {                     \
            print_error("harness_run refused: %s\n",                             \
                        (r)->message ? (r)->message : "(null)");                 \
            fail();                                                              \
        }                                                                        \
    } while (0)

/* The verdict is v; otherwise the whole result is printed. With
 * TESTUTIL_VERBOSE set, every checked result is printed, less the child's
 * log (a RACE run's log holds a TSan report, which ctest would take for one
 * about the test process itself: harness.cmake). */
#define hu_assert_verdict(r, v)                                                  \
    do {                                                                         \
        if ((r)->verdict != (v)) {                                               \
            print_error("expected %s\n", harness_verdict_name(v));               \
            hu_print_result((r), true);                                          \
        } else if (getenv("TESTUTIL_VERBOSE")) {                                 \
            hu_print_result((r), false);                                         \
        }                                                                        \
        assert_int_equal((r)->verdict, (v));                                     \
    } while (0)

/* The text (message, dump, ...) contains needle. */
#define hu_assert_contains(r, text, needle)                                      \
    do {                                                                         \
        const char *hu_text_ = (text), *hu_needle_ = (needle);                   \
        if (!hu_text_ || !strstr(hu_text_, hu_needle_)) {                        \
            print_error("%s does not contain \"%s\"\n", #text, hu_needle_);      \
            hu_print_result((r), true);                                          \
            fail();                                                              \
        }                                                                        \
    } while (0)

/* The dump has a frame "FUNC at FILE:LINE" (this test file, the line a
 * __LINE__ captured next to the call). */
#define hu_assert_frame(r, func, line)                                           \
    do {                                                                         \
        char hu_want_[512];                                                      \
        snprintf(hu_want_, sizeof hu_want_, "    %s at %s:%d\n", (func),         \
                 __FILE__, (line));                                              \
        hu_assert_contains((r), (r)->dump, hu_want_);                            \
    } while (0)

/* The dump has a frame of func in this file at one of the lines first..last
 * (a thread stopped by signal anywhere in a loop). */
#define hu_assert_frame_in(r, func, first, last)                                 \
    do {                                                                         \
        bool hu_found_ = false;                                                  \
        for (int hu_l_ = (first); hu_l_ <= (last) && !hu_found_; hu_l_++) {      \
            char hu_want_[512];                                                  \
            snprintf(hu_want_, sizeof hu_want_, "    %s at %s:%d\n", (func),     \
                     __FILE__, hu_l_);                                           \
            hu_found_ = (r)->dump && strstr((r)->dump, hu_want_);                \
        }                                                                        \
        if (!hu_found_) {                                                        \
            print_error("dump has no frame \"%s at %s:%d..%d\"\n", (func),       \
                        __FILE__, (first), (last));                              \
            hu_print_result((r), true);                                          \
            fail();                                                              \
        }                                                                        \
    } while (0)

/* The dump (or a message) says "created by FUNC at FILE:LINE". */
#define hu_created_by(buf, func, line)                                           \
    snprintf((buf), sizeof(buf), "created by %s at %s:%d", (func), __FILE__, (line))

#define hu_assert_created_by(r, func, line)                                      \
    do {                                                                         \
        char hu_want_[512];                                                      \
        hu_created_by(hu_want_, (func), (line));                                 \
        hu_assert_contains((r), (r)->dump, hu_want_);                            \
    } while (0)

#endif /* HARNESS_UTIL_H */
