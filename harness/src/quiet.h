/* quiet.h — what the harness needs from the runtime to stay invisible to
 * ThreadSanitizer: the attribute that removes instrumentation (HARNESS_QUIET),
 * atomics TSan cannot see, Go-memory-model edges, untracked allocations.
 * Code the program under test reaches (harness_fail, gauges, the strategy's
 * decision path, hooks) must not order two tasks TSan should see as
 * unordered. */
#ifndef HARNESS_QUIET_H
#define HARNESS_QUIET_H

#include "csp_tool.h"

/* Every harness function carries one of the two: both put it in chanlab's
 * code section (CSP_TOOL_CODE), so that dumps and leak reports drop the
 * harness's frames by address; HARNESS_QUIET also hides it from TSan. */
#define HARNESS_CODE CSP_TOOL_CODE
#define HARNESS_QUIET CSP_TOOL_QUIET CSP_TOOL_CODE

#endif
