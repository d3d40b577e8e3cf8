/* supervise.h — carrying out one run (supervise.c): in a forked child under
 * the parent's wall bound, or in this process; either way the run's record
 * comes back parsed, with the child's captured output. */
#ifndef HARNESS_SUPERVISE_H
#define HARNESS_SUPERVISE_H

#include "drivers.h"

typedef struct {
    harness_record rec;        /* what the driver judged and sent */
    char *log;                 /* the child's captured stdout+stderr (NULL: none) */
} harness_child_result;

/* One run (free mode) or all the schedules (controlled mode) of a. When a
 * child ends without a complete record, the supervisor judges how it ended
 * (CRASH, HANG when it had to be killed) from what it saw. */
void harness__supervise(const harness_child_args *a, harness_child_result *out);
void harness__child_result_free(harness_child_result *c);

#endif
