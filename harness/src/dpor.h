/* dpor.h — partial-order reduction for EXHAUSTIVE (dpor.c): source-set
 * dynamic partial-order reduction with sleep sets (Abdulla, Aronis, Jonsson,
 * Sagonas, "Optimal dynamic partial order reduction", POPL 2014, Algorithm 1)
 * over the runtime's operations (csp_sched_access), inside the stateless
 * depth-first search of strategy.c. */
#ifndef HARNESS_DPOR_H
#define HARNESS_DPOR_H

#include "csp_sched.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

typedef struct harness_dpor harness_dpor;

typedef struct {
    uint64_t runs_blocked;     /* runs cut short: every option asleep (redundant) */
    uint64_t races;            /* races reversed (backtrack points added or found) */
    uint64_t anomalies;        /* a race whose reversal had no decision to go to: the
                                  runtime failed to report a dependency (tests expect 0) */
    uint64_t conservative;     /* backtrack points added for the preemption bound */
    uint64_t meets;            /* dependent pairs not reversed: a parking and the blocking
                                  operation that met it (CSP_ACCESS_MEET) */
    uint64_t restarts;         /* searches begun again: an object on which meets had been
                                  skipped turned out to be peeked at (CSP_ACCESS_PEEK), or a
                                  channel whose receives had been reads is sent on */
} harness_dpor_stats;

/* sleep_sets: prune with sleep sets (off under a preemption bound: a sleep
 * set could prune the one schedule of a class that fits the bound). */
harness_dpor *harness__dpor_new(bool sleep_sets, unsigned preemption_bound);
void harness__dpor_free(harness_dpor *d);
void harness__dpor_begin_run(harness_dpor *d);
/* hooks.access */
void harness__dpor_access(harness_dpor *d, const csp_sched_access *a);
/* Decision number i of the run is a RUN decision among ids[0..n) with the
 * running task at `current` (-1: none); forced < n: fairness made it;
 * replay < n: the path's pick (a decision of the prefix); pre_before: the
 * strategy's preemptions before it. Returns the pick, or n when the run is
 * redundant (every option asleep): the caller finishes it unobserved. */
size_t harness__dpor_run_decision(harness_dpor *d, size_t i, size_t n, const uint64_t *ids, int current,
                                  size_t forced, size_t replay, unsigned pre_before);
/* Decision number i is a SELECT or TIMER choice (searched in full). */
void harness__dpor_other_decision(harness_dpor *d, size_t i);
/* The run is over (or cut short): its last step is analysed. */
void harness__dpor_end_run(harness_dpor *d);
/* True when this run was found redundant (sleep-set blocked). */
bool harness__dpor_blocked(const harness_dpor *d);
/* True once a redundant run has been analysed as far as it ever was: from
 * then on it runs to its end (so that the program frees what its tasks hold:
 * a run abandoned halfway leaked it: 64 KiB a run, 7 GiB in all, in a
 * search of chat.nonblocking with two clients) and the reduction neither
 * looks at its steps nor is asked for its decisions. */
bool harness__dpor_finishing(const harness_dpor *d);
/* Backtracking: an option of RUN decision i that the reduction still wants
 * explored (a backtrack point, not yet done, not asleep, within the bound
 * given the preemptions before it), or n. */
size_t harness__dpor_next_option(const harness_dpor *d, size_t i, unsigned pre_before, unsigned preemption_bound);
/* After a run: true when the search must begin again from an empty path
 * (an object on which arrival orders were skipped is peeked at: from now on
 * they are not skipped there; or a channel whose receives were taken for
 * reads is sent on: from now on they are not); the path is then dropped. */
bool harness__dpor_take_restart(harness_dpor *d);
/* Keep decisions [0, i] of the path; deeper ones are dropped. */
void harness__dpor_truncate(harness_dpor *d, size_t keep);
harness_dpor_stats harness__dpor_stats(const harness_dpor *d);
/* Debugging a search that will not end (CHANLAB_DPOR_STATS): count, per
 * object, the races reversed on it and those that planted a new backtrack
 * point; write the `top` objects that planted most, with their names. */
void harness__dpor_count_objects(harness_dpor *d);
void harness__dpor_write_objects(harness_dpor *d, FILE *f, int top);

#endif
