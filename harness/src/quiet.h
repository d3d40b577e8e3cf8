/* quiet.h — what the harness needs from the runtime to stay invisible to
 * ThreadSanitizer: the attribute that removes instrumentation (HARNESS_QUIET),
 * atomics TSan cannot see, Go-memory-model edges, untracked allocations.
 * Code the program under test reaches (harness_fail, gauges, the strategy's
 * decision path, hooks) must not order two tasks TSan should see as
 * unordered. */
#ifndef HARNESS_QUIET_H
#define HARNESS_QUIET_H

#include <string.h>

#include "csp_tool.h"

/* Every harness function carries one of the two: both put it in chanlab's
 * code section (CSP_TOOL_CODE), so that dumps and leak reports drop the
 * harness's frames by address; HARNESS_QUIET also hides it from TSan. */
#define HARNESS_CODE CSP_TOOL_CODE
#define HARNESS_QUIET CSP_TOOL_QUIET CSP_TOOL_CODE

/* memset/memcpy/memmove for state that code in a task's context touches
 * (the strategy's decision path: dpor.c, dpor_objects.c). HARNESS_QUIET
 * removes instrumentation from the harness's own loads and stores, but TSan
 * intercepts these library calls anyway and records them as the calling
 * task's accesses: two tasks' calls on the same bookkeeping then "race", and
 * the program under test was reported RACE for the harness's memmove
 * (chat.nonblocking under EXHAUSTIVE, tsan preset). Compilers turn plain
 * copy loops into these calls too, so there is no loop to write instead. */
static inline HARNESS_QUIET void *quiet_memset(void *p, int c, size_t n)
{
    csp_tool_ignore_begin();
    memset(p, c, n);
    csp_tool_ignore_end();
    return p;
}

static inline HARNESS_QUIET void *quiet_memcpy(void *restrict d, const void *restrict s, size_t n)
{
    csp_tool_ignore_begin();
    memcpy(d, s, n);
    csp_tool_ignore_end();
    return d;
}

static inline HARNESS_QUIET void *quiet_memmove(void *d, const void *s, size_t n)
{
    csp_tool_ignore_begin();
    memmove(d, s, n);
    csp_tool_ignore_end();
    return d;
}

#endif
