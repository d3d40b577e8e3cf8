/* drivers.h — the two drivers of a run: free mode (free.c: entry on real
 * threads under a monitor) and controlled mode (controlled.c: schedules on
 * fibers, each decision made by a strategy). Each runs in a forked child (or
 * in this process), judges its run and sends one record to result_fd. */
#ifndef HARNESS_DRIVERS_H
#define HARNESS_DRIVERS_H

#include "collect.h"

typedef struct {
    void (*entry)(void *);
    void *arg;
    const harness_options *o;
    const harness_ignore *ignore;
    int result_fd;             /* where the record goes */
    bool forked;
    unsigned run;              /* 1, 2, ...: seeds the run's random choices */
} harness_child_args;

/* Free mode: one run of entry; sends its record; returns (in-process) or
 * _exits (forked). */
void harness__free_run(const harness_child_args *a);
/* Controlled mode: the schedules; sends the record of the one to report. */
void harness__controlled_run(const harness_child_args *a);

#endif
