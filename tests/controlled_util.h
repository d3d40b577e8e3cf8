/* controlled_util.h — what the cmocka tests of controlled mode share
 * (test_controlled_*.c): options for a controlled run with unit-test bounds,
 * checks that print the whole result when they fail, the "FUNC at FILE:LINE"
 * frames a dump must contain, and a NULL-safe string comparison.
 *
 * Rules these tests keep: the test process never calls the runtime itself
 * (only entry functions do, inside harness_run), except test_controlled_sched.c,
 * which drives csp_sched_run directly. Entry functions never call cmocka: they
 * report through harness_fail / harness_output, and the test asserts on the
 * result afterwards. A function that must show in a dump keeps its blocking
 * call out of tail position (CU_KEEP_FRAME) and is CU_NOINLINE. */
#ifndef CONTROLLED_UTIL_H
#define CONTROLLED_UTIL_H

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

/* 1 in an ASan or TSan build (gcc or clang), where a schedule costs several
 * times more: tests shorten their searches there. */
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CU_SANITIZED 1
#endif
#endif
#ifndef CU_SANITIZED
#define CU_SANITIZED 0
#endif

/* Every binary dies by SIGALRM after this long: a last resort below the
 * ctest TIMEOUT (every run also has its own step and wall bounds). */
#define CU_ALARM_SECONDS 280

#define CU_MS CSP_MILLISECOND

/* Keeps the call before it out of tail position, so the calling function
 * keeps its frame (and its line) in a dump. */
#define CU_KEEP_FRAME() __asm__ volatile("" ::: "memory")

/* Shows in a dump under its own name: not inlined, not cloned by gcc. */
#if defined(__clang__)
#define CU_NOINLINE __attribute__((noinline))
#else
#define CU_NOINLINE __attribute__((noinline, noclone))
#endif

/* Arms the alarm; TESTUTIL_FILTER=pattern runs only the matching tests;
 * TESTUTIL_VERBOSE=1 prints every result a test checks. */
static inline void cu_main_init(void)
{
    alarm(CU_ALARM_SECONDS);
    if (getenv("TESTUTIL_FILTER"))
        cmocka_set_test_filter(getenv("TESTUTIL_FILTER"));
}

static inline bool cu_verbose(void) { return getenv("TESTUTIL_VERBOSE") != NULL; }

/* Controlled mode, one schedule, the default strategy (RANDOM, seed 1), a
 * wall bound of 60 s for the whole exploration and the default step bound
 * (100,000 scheduling points per schedule). */
static inline harness_options cu_options(void)
{
    harness_options o = harness_defaults();
    o.mode = HARNESS_CONTROLLED;
    o.timeout = 60 * CSP_SECOND;
    o.hang_after = 5 * CSP_SECOND;
    return o;
}

/* Straight to stderr: cmocka's print_error cuts text at 1 KiB. */
static inline void cu_print_result(const harness_result *r)
{
    fprintf(stderr, "verdict %s, seen 0x%x, schedules_run %u, exhausted %d, steps %llu, "
            "virtual_time %lld ns\nmessage: %s\nschedule: %s\ndecisions: %s\n",
            harness_verdict_name(r->verdict), r->seen, r->schedules_run, (int)r->exhausted,
            (unsigned long long)r->steps, (long long)r->virtual_time,
            r->message ? r->message : "(null)", r->schedule ? r->schedule : "(null)",
            r->decisions ? r->decisions : "(null)");
    fprintf(stderr, "leaked tasks %u tickers %u threads %u fds %u, races %u, signal %d\n",
            r->leaked_tasks, r->leaked_tickers, r->leaked_threads, r->leaked_fds, r->races,
            r->signal);
    if (r->dump)
        fprintf(stderr, "--- dump ---\n%s\n", r->dump);
    if (r->output && r->output[0])
        fprintf(stderr, "--- output ---\n%s\n", r->output);
    if (r->log && r->log[0])
        fprintf(stderr, "--- log ---\n%s\n", r->log);
}

/* Runs entry and fails the test unless harness_run carried the runs out. */
#define cu_run(entry, arg, opts, r)                                              \
    do {                                                                         \
        if (harness_run((entry), (arg), (opts), (r)) != 0) {                     \
            print_error("harness_run refused: %s\n",                             \
                        (r)->message ? (r)->message : "(null)");                 \
            fail();                                                              \
        }                                                                        \
    } while (0)

#define cu_assert_verdict(r, v)                                                  \
    do {                                                                         \
        if ((r)->verdict != (v)) {                                               \
            print_error("expected %s\n", harness_verdict_name(v));               \
            cu_print_result(r);                                                  \
        } else if (cu_verbose()) {                                               \
            cu_print_result(r);                                                  \
        }                                                                        \
        assert_int_equal((r)->verdict, (v));                                     \
    } while (0)

#define cu_assert_contains(r, text, needle)                                      \
    do {                                                                         \
        const char *cu_text_ = (text), *cu_needle_ = (needle);                   \
        if (!cu_text_ || !strstr(cu_text_, cu_needle_)) {                        \
            print_error("%s does not contain \"%s\"\n", #text, cu_needle_);      \
            cu_print_result(r);                                                  \
            fail();                                                              \
        }                                                                        \
    } while (0)

/* The text contains one of two needles. */
#define cu_assert_contains_any(r, text, needle1, needle2)                        \
    do {                                                                         \
        const char *cu_text_ = (text), *cu_n1_ = (needle1), *cu_n2_ = (needle2); \
        if (!cu_text_ || (!strstr(cu_text_, cu_n1_) && !strstr(cu_text_, cu_n2_))) { \
            print_error("%s contains neither \"%s\" nor \"%s\"\n", #text,       \
                        cu_n1_, cu_n2_);                                         \
            cu_print_result(r);                                                  \
            fail();                                                              \
        }                                                                        \
    } while (0)

/* The dump has a frame "FUNC at FILE:LINE" of this test file. */
#define cu_assert_frame(r, func, line)                                           \
    do {                                                                         \
        char cu_want_[512];                                                      \
        snprintf(cu_want_, sizeof cu_want_, "    %s at %s:%d\n", (func),         \
                 __FILE__, (line));                                              \
        cu_assert_contains((r), (r)->dump, cu_want_);                            \
    } while (0)

/* A frame of func in this file at one of the lines first..last. */
#define cu_assert_frame_in(r, func, first, last)                                 \
    do {                                                                         \
        bool cu_found_ = false;                                                  \
        for (int cu_l_ = (first); cu_l_ <= (last) && !cu_found_; cu_l_++) {      \
            char cu_want_[512];                                                  \
            snprintf(cu_want_, sizeof cu_want_, "    %s at %s:%d\n", (func),     \
                     __FILE__, cu_l_);                                           \
            cu_found_ = (r)->dump && strstr((r)->dump, cu_want_);                \
        }                                                                        \
        if (!cu_found_) {                                                        \
            print_error("dump has no frame \"%s at %s:%d..%d\"\n", (func),       \
                        __FILE__, (first), (last));                              \
            cu_print_result(r);                                                  \
            fail();                                                              \
        }                                                                        \
    } while (0)

#define cu_assert_created_by(r, func, line)                                      \
    do {                                                                         \
        char cu_want_[512];                                                      \
        snprintf(cu_want_, sizeof cu_want_, "created by %s at %s:%d", (func),    \
                 __FILE__, (line));                                              \
        cu_assert_contains((r), (r)->dump, cu_want_);                            \
    } while (0)

/* How many times needle occurs in text (0 for NULL text). */
static inline int cu_count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

/* Two strings are equal, NULL equal only to NULL. */
static inline bool cu_same(const char *a, const char *b)
{
    return a == b || (a && b && strcmp(a, b) == 0);
}

#endif /* CONTROLLED_UTIL_H */
