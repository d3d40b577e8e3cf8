/* merge.h — a run's record into the caller's result (merge.c), in the
 * parent: render the message and dump, take RACE reports and a test
 * framework's failure text from the log, keep the most severe run. */
#ifndef HARNESS_MERGE_H
#define HARNESS_MERGE_H

#include "supervise.h"

/* Merges run `run` (1, 2, ...) into r, taking what it reports from c. first:
 * r holds nothing yet. extra (with extra_msg) is a verdict only the parent
 * can see (NONDETERMINISTIC across free runs); HARNESS_PASS for none. */
void harness__merge_run(harness_result *r, harness_child_result *c, const harness_options *o,
                        const char *entry_name, unsigned run, bool first, harness_verdict extra,
                        const char *extra_msg);
/* The failure a test framework printed before it aborted (cmocka's
 * "<what>\n<file>:<line>: error: Failure!", assert(3)'s line), or NULL. */
char *harness__failure_from_log(const char *log);

#endif
