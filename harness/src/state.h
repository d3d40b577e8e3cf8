/* state.h — what a run records while it runs (in the forked child, or in this
 * process for in-process runs): the program's failures, gauges, marks,
 * latencies and output (measure.c), TSan reports (tsan.c). One run at a time. */
#ifndef HARNESS_STATE_H
#define HARNESS_STATE_H

#include "quiet.h"
#include "harness.h"

#include <stdatomic.h>
#include <stddef.h>

#define HARNESS_MAX_GAUGES 16
#define HARNESS_MAX_MARKS 16
#define HARNESS_MAX_LATENCIES 8
#define HARNESS_OUTPUT_CAP (64u << 10)

typedef struct {
    const char *name;
    _Atomic long cur, peak;
    long bound;            /* < 0: none declared */
} harness_gauge;

typedef struct {
    const char *name;
    csp_duration at;       /* csp_now() of the mark; < 0: not marked yet */
    csp_duration bound;    /* < 0: none declared */
} harness_markrec;

typedef struct {
    const char *name;
    csp_duration worst;    /* the largest recorded; < 0: none yet */
    long count;            /* how many were recorded */
    csp_duration bound;    /* < 0: none declared */
} harness_latencyrec;

typedef struct harness_state {
    _Atomic int lock;                      /* spinlock for the tables below */
    char fail_msg[512];                    /* first harness_fail */
    char resource_msg[256];                /* first harness_resource_exhausted */
    harness_gauge gauges[HARNESS_MAX_GAUGES];
    harness_markrec marks[HARNESS_MAX_MARKS];
    harness_latencyrec latencies[HARNESS_MAX_LATENCIES];
    char *output;                          /* HARNESS_OUTPUT_CAP bytes */
    _Atomic size_t output_len;
    _Atomic unsigned races;
} harness_state;

/* harness_abort_is_failure: a process-wide setting (not a run's state), so
 * that a caller can set it before harness_run and the forked child inherits
 * it. */
bool harness__abort_is_failure(void);

/* The state of the run in progress in this process, or NULL. */
extern harness_state *harness__state;

void harness__state_init(harness_state *s);
/* Clears every measurement for the next schedule (keeps the output buffer). */
void harness__state_reset(harness_state *s);
void harness__state_destroy(harness_state *s);

/* Starts what the sanitizer would start lazily (tsan.c). */
void harness__sanitizer_warmup(void);

#endif
