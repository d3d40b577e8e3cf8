/* quiet.h — what the harness needs from the runtime to stay invisible to
 * ThreadSanitizer: the attribute that removes instrumentation (HARNESS_QUIET),
 * atomics TSan cannot see, Go-memory-model edges, untracked allocations.
 * Code the program under test reaches (harness_fail, gauges, the strategy's
 * decision path, hooks) must not order two tasks TSan should see as
 * unordered. */
#ifndef HARNESS_QUIET_H
#define HARNESS_QUIET_H

#include "csp_tool.h"

#define HARNESS_QUIET CSP_TOOL_QUIET

#endif
