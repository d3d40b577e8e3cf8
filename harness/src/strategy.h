/* strategy.h — controlled mode's strategies and schedule strings
 * (strategy.c), and the driver that runs schedules (controlled.c). */
#ifndef HARNESS_STRATEGY_H
#define HARNESS_STRATEGY_H

#include "csp_sched.h"
#include "drivers.h"
#include "dpor.h"

typedef struct {
    uint32_t pick, n;          /* the option taken, of n (n is 0 in a parsed explicit schedule) */
    uint32_t first;            /* EXHAUSTIVE: the pick of the first visit (the default); the
                                  others are tried in the order first+1, first+2, ... mod n */
    uint8_t kind;              /* csp_decision_kind */
    bool preemption;           /* a RUN pick away from a task that could go on */
    bool forced;               /* made by fairness, not by the strategy: EXHAUSTIVE does
                                  not branch on it, and it counts against no bound */
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
    bool bytes_then_random;
    uint64_t bytes_rng;        /* the generator after the bytes (bytes_then_random) */
    /* Interleaving coverage (harness_options.coverage): the last event of
     * the run, paired with the next one of another task. */
    uint8_t *coverage;
    size_t ncoverage;
    uint64_t last_event_task, last_event_key;   /* last_event_task: its actor */
    char parse_error[160];     /* harness__schedule_parse's message, when it needs numbers */
    /* Fairness (every strategy but explicit replay), strategy.c's head. */
    uint64_t max_steps, fair_steps;   /* fair continuation past max_steps, for fair_steps more */
    uint64_t run_decisions;           /* RUN decisions in this run */
    uint64_t fair_clock;              /* RUN picks in this run */
    uint64_t *streak, *at, *last_ran; /* per task id */
    size_t nfair, fair_hi;
    unsigned quantum_left;
    bool fair_entered;                /* this run went on under fair continuation */
    /* EXHAUSTIVE with partial-order reduction (dpor.c), or NULL. */
    harness_dpor *dpor;
    size_t redundant_from;     /* 1 + the decision at which this run was found redundant, or 0:
                                  the decisions from there on finish it and are not searched */
    bool restarted;            /* the last end_run began the search again (dpor.c) */
    unsigned run_preemptions;  /* this run's preemptions so far (not forced) */
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
/* The scheduler's step limit for a run: max_steps plus the fair
 * continuation's bound (0: unbounded). */
uint64_t harness__strategy_step_limit(const harness_strategy_state *st);
/* The run just ended was redundant (the reduction cut it short): it is not
 * judged and not counted as a schedule. */
bool harness__strategy_redundant(const harness_strategy_state *st);
char *harness__schedule_explicit(const harness_strategy_state *st);
char *harness__schedule_short(const harness_strategy_state *st);
/* Parses a schedule string into st (after harness__strategy_init); returns
 * NULL or what is wrong with it. */
const char *harness__schedule_parse(const char *s, harness_strategy_state *st);


#endif
