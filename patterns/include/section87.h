/* section87.h — what the §8.7 families (countdown.c, select.c) share: the
 * "second" their programs count in, and fmt.Println in two kinds.
 *
 * A "second" is real in the book and in controlled mode (virtual time, so a
 * ten-second countdown takes milliseconds), and 10 ms in free mode (the same
 * program, 100 times faster: ten real seconds per run is too slow for CI). */
#ifndef SECTION87_H
#define SECTION87_H

#include "pattern.h"

#include <stdio.h>

static inline csp_duration second(void)
{
    return pattern_controlled() ? CSP_SECOND : 10 * CSP_MILLISECOND;
}

/* fmt.Println, to standard output (a run's log). Flushed at once in free
 * mode, where a run is a process that may be killed; in controlled mode,
 * where thousands of schedules run in one process, stdio's buffer goes to
 * the log when full or at exit: a flush per line woke the parent, which
 * reads the log, once a schedule (most of a schedule's cost under TSan,
 * issue 16 §3). A crash's record flushes it first (crash.c). */
#define say(...) (printf(__VA_ARGS__), pattern_controlled() ? 0 : fflush(stdout))
/* fmt.Println whose text is also the run's output, compared across runs and
 * schedules (harness_output). On a real clock, how many numbers a countdown
 * prints before an abort depends on how late the timer thread is: the
 * variants record only how they end. */
#define say_recorded(...) (say(__VA_ARGS__), harness_output(__VA_ARGS__))

#endif
