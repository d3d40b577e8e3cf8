/* strategy.h — controlled mode's strategies and schedule strings
 * (strategy.c), and the driver that runs schedules (controlled.c). */
#ifndef HARNESS_STRATEGY_H
#define HARNESS_STRATEGY_H

#include "csp_sched.h"
#include "hinternal.h"

typedef struct {
    uint32_t pick, n;          /* the option taken, of n (n is 0 in a parsed explicit schedule) */
    uint8_t kind;              /* csp_decision_kind */
    bool preemption;           /* a RUN pick away from a task that could go on */
    bool current_valid;
    uint32_t current;          /* RUN: the running task's index, if current_valid */
} harness_decision;

typedef struct {
    harness_strategy strategy;
    csp_sched_hooks hooks;
    uint64_t seed, rng;
    unsigned run;
    /* Decisions made in this run. */
    harness_decision *dec;
    size_t ndec, capdec;
    /* EXHAUSTIVE: the prefix to follow; REPLAY: the whole schedule. */
    harness_decision *prefix;
    size_t nprefix, capprefix;
    unsigned preemption_bound, choice_bound;
    /* PCT */
    unsigned depth;
    uint64_t estimate, estimate_at_begin, pct_step, same_streak;
    uint64_t *change_at;
    int64_t *prio;
    size_t nprio;
    /* BYTES */
    const uint8_t *bytes;
    size_t nbytes, bytepos;
    /* Replay. */
    bool replaying_explicit;
    unsigned replay_run;       /* short form: the run it names */
    const char *error;         /* why the run was stopped, or NULL */
    char errbuf[200];
} harness_strategy_state;

void harness__strategy_init(harness_strategy_state *st, const harness_options *o);
void harness__strategy_free(harness_strategy_state *st);
void harness__strategy_begin_run(harness_strategy_state *st, unsigned run);
bool harness__strategy_end_run(harness_strategy_state *st);
char *harness__schedule_explicit(const harness_strategy_state *st);
char *harness__schedule_short(const harness_strategy_state *st);
/* Parses a schedule string into st (after harness__strategy_init); returns
 * NULL or what is wrong with it. */
const char *harness__schedule_parse(const char *s, harness_strategy_state *st);

/* Controlled mode, in the child (or this process): runs the schedules and
 * writes the records of the one to report. */
void harness__controlled_run(const harness_child_args *a);

#endif
