/* harness.h — runs a program built on csp.h and observes what it does: leaks,
 * deadlocks, hangs, panics, races, crashes, wrong results, resource and
 * latency bounds, output that changes from run to run (DESIGN.md §3).
 *
 * The names and meanings here are a contract (DESIGN.md §3); add, never rename.
 * A verdict is observed, never told: nothing a caller passes in says what the
 * verdict should be.
 *
 * Free mode (HARNESS_FREE): each run happens in a forked child by default.
 * The parent process never starts a thread (a process under ThreadSanitizer
 * must be single-threaded when it forks), enforces the wall bound, asks the
 * child for a dump before it kills it, and symbolizes the child's raw
 * addresses itself. So a caller of harness_run should not have started
 * runtime threads (tasks, timers) before calling it. */
#ifndef HARNESS_H
#define HARNESS_H

#include "csp.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* In order of severity, least first; a run that shows several reports the
 * most severe (harness_verdict_more_severe) and keeps all of them in `seen`.
 * The order: the run ended abnormally (CRASH, PANIC) > memory-model
 * violation (RACE, which makes any other observation suspect) > the program
 * stopped making progress (DEADLOCK, HANG) > it finished but wrongly
 * (WRONG_RESULT) > it finished but left things behind (LEAK) > it broke a
 * declared bound (RESOURCE, SLOW) > its output depends on the schedule
 * (NONDETERMINISTIC). */
typedef enum {
    HARNESS_PASS, HARNESS_LEAK, HARNESS_DEADLOCK, HARNESS_HANG, HARNESS_PANIC,
    HARNESS_RACE, HARNESS_WRONG_RESULT, HARNESS_NONDETERMINISTIC,
    HARNESS_RESOURCE, HARNESS_SLOW, HARNESS_CRASH
} harness_verdict;
#define HARNESS_VERDICT_COUNT 11

typedef enum { HARNESS_FREE, HARNESS_CONTROLLED } harness_mode;
typedef enum { HARNESS_RANDOM, HARNESS_PCT, HARNESS_EXHAUSTIVE, HARNESS_BYTES } harness_strategy;

typedef struct {
    harness_mode mode; harness_strategy strategy;
    uint64_t seed; unsigned schedules;        /* runs to try (free mode: each its own run) */
    unsigned pct_depth;
    unsigned preemption_bound;                /* EXHAUSTIVE: preemptions per run (see below) */
    const char *replay;                       /* a schedule string: replay exactly this run */
    const uint8_t *bytes; size_t nbytes;      /* HARNESS_BYTES: decisions from these bytes */
    bool bytes_then_random;                   /* HARNESS_BYTES: after the bytes, random decisions
                                                 seeded by a hash of the bytes (below) */
    csp_duration hang_after, timeout;         /* no-progress and wall bounds (both modes) */
    uint64_t max_steps;                       /* controlled mode: livelock bound */

    /* Free mode. */
    bool in_process;          /* run entry in this process (no fork): cannot
                                 recover from a hang or crash; leaked tasks stay */
    csp_duration leak_grace;  /* after entry returns, how long tasks may take to finish */
    unsigned noise;           /* permille chance of a yield/sleep at each sync point,
                                 from run 2 on: run 1 of a search is always plain, so
                                 a one-run search is the program as it is. Default
                                 HARNESS_DEFAULT_NOISE; 0 turns it off. Controlled
                                 mode ignores it (its scheduler makes every choice) */
    int fd_limit;             /* RLIMIT_NOFILE for the run; 0 leaves it */
    bool keep_output;         /* don't capture the child's stdout/stderr (default: captured) */
    bool keep_going;          /* run every schedule even after a failure */

    /* Controlled mode. */
    unsigned choice_bound;    /* EXHAUSTIVE: non-default select/timer choices per run (below) */
    bool no_reduction;        /* EXHAUSTIVE: every interleaving, no partial-order reduction (below) */
    csp_duration horizon;     /* virtual time a run may go on after entry returned */
    csp_duration timer_window;/* timers due within this of each other: a TIMER decision (below) */

    /* goleak-style: tasks to leave out of leak reports. Each entry is an
     * fnmatch(3) glob matched against the task's name (csp_go_named), the
     * function that called csp_go, and the task's top function (the first
     * frame of its stack outside chanlab's own code, like goleak's
     * IgnoreTopFunction). Ignored tasks still show in the dump, marked
     * "(ignored)". NULL-terminated. */
    const char *const *ignore_tasks;

    /* Controlled mode, in_process only: interleaving coverage, the feedback
     * of a schedule fuzzer (fuzz/). An event is a task parking on, or being
     * made ready from, a channel, select, mutex, wait group or timer (task
     * id, which of the two, what it waits for, the object's name, who made
     * it ready); each event whose actor (the task parking, or the one making
     * another ready) differs from the previous event's adds 1 (saturating at
     * 255) to coverage[hash(both) % ncoverage]. NULL: off. */
    uint8_t *coverage;
    size_t ncoverage;

    /* The event timeline of the reported run (csp_debug.h "Events"): the
     * capacity of the runtime's event ring, 0 (the default) for none. The
     * result keeps the last `events` events of the run it reports and counts
     * the ones before in events_dropped. Controlled mode, and free mode in a
     * forked child (in_process free runs record none). */
    unsigned events;
} harness_options;

/* Defaults: free mode, random, seed 1, one schedule, hang after 3 s without
 * progress, 60 s wall bound, 500 ms leak grace, 100,000 steps, a 1 ms timer
 * window.
 *
 * The bounds:
 *  hang_after  free mode: no task made progress (no channel operation, no
 *              task started or ended) for this long while some task waits
 *              → HANG (or DEADLOCK when every task is parked on chanlab
 *              primitives that nothing can wake).
 *  timeout     the wall bound of the whole harness_run call, both modes; the
 *              parent kills a child that outlives it by 2 s (after asking it
 *              for a dump). Controlled mode stops searching at it ("stopped
 *              by the wall bound").
 *  max_steps   controlled mode: scheduling points in one schedule before the
 *              scheduler hands over to a fair one for max_steps more; only a
 *              run that does not end then either is a HANG (livelock).
 *  timer_window controlled mode: when nothing can run, the timers due
 *              within this much virtual time of the earliest fire together,
 *              their order a TIMER decision — two deadlines 1 µs apart are
 *              as much a race as two equal ones (a timeout against the
 *              event it guards). Default 1 ms; 0: only equal deadlines.
 *  horizon     controlled mode: virtual time a run may go on after entry
 *              returned (tickers, sleeping tasks) before it is judged.
 *
 * EXHAUSTIVE (controlled mode) runs every schedule within two bounds,
 * depth first, each decision's options in the order default, default+1, ...
 * (mod its count), and says `exhausted` when it has run them all. A decision
 * is one of: which runnable task runs next (RUN), which ready case of a select
 * proceeds (SELECT), which of the timers due at one instant fires first
 * (TIMER); one with a single option is not a decision. Per run:
 *  preemption_bound  the number of RUN decisions that pick a task other than
 *              the one running while it could go on (it reached a scheduling
 *              point — csp_go, csp_yield, a channel operation, select, mutex
 *              lock and unlock, wait group add and wait — and is still
 *              runnable). Picking any task when the running one blocked or
 *              ended is free. 0: no preemption at all; default 2.
 *  choice_bound  the number of SELECT and TIMER decisions that take an option
 *              other than the first (the first ready case in case order; the
 *              first timer of the due batch). Default 2.
 * Decisions made by fairness (below) are not branched on and count against
 * neither bound, so the space covered is every schedule within the bounds in
 * which no runnable task waits 2,000 RUN decisions in a row.
 * HARNESS_UNBOUNDED for either bound: no bound.
 *
 * Partial-order reduction (on unless no_reduction): of the schedules that
 * differ only in the order of independent steps (steps of different tasks
 * that touch no common channel, mutex, wait group, ticker or harness record
 * — output, gauges, failures — and neither made nor woke the other's task),
 * one is run: source-set DPOR with sleep sets (harness/src/dpor.c). Every
 * final state (verdict, output, leaks) the unreduced search reaches is still
 * reached, provided tasks share memory only through those objects (plain
 * memory shared without them is a data race: TSan's RACE); SELECT and TIMER
 * choices are searched in full. A run found redundant part-way (every
 * runnable task "asleep") is cut short: schedules_pruned. With a preemption
 * bound, sleep sets are off and a reversal the bound forbids is also tried
 * at the latest earlier decision where it is free (bounded POR, Coons et
 * al. 2013); tests/test_dpor.c checks that it reaches the same states as the
 * unreduced search within the same bound, on generated programs.
 *
 * Fairness, controlled mode (every strategy but replay, which follows its
 * schedule): a runnable task passed over at 2,000 consecutive RUN decisions
 * runs at the next; and a run past max_steps goes on under a fair scheduler
 * (the running task keeps going for 64 decisions, then the one that has
 * waited longest runs; choices take their first option) for max_steps more:
 * if it then ends it is judged on how it ended, and only a run that ends
 * under neither is a HANG. A program that ends under every fair schedule is
 * not a livelock, however long an unfair strategy could keep it going.
 *
 * Replaying from CI without editing a test: these environment variables
 * override the options of every harness_run call (or, with CHANLAB_ENTRY,
 * of the calls whose entry function's name matches the glob):
 *  CHANLAB_REPLAY=v1:...   replay exactly that controlled-mode schedule
 *  CHANLAB_SEED=N          the seed        CHANLAB_SCHEDULES=N  the run count
 *  CHANLAB_STRATEGY=S      random, pct or exhaustive (controlled mode)
 *  CHANLAB_NOISE=P         noise, 0 to 1000 permille (free mode)
 *  CHANLAB_ENTRY=GLOB      apply them only where entry's name matches
 * A bad value refuses the run (harness_run returns -1 with the reason); a
 * failing result's `rerun` is the line that reproduces it. */
harness_options harness_defaults(void);

/* Free mode's default noise (permille), from a search's second run on: at
 * each sync point a 5% chance of a yield or a sleep of up to 200 us, as rr's
 * chaos mode perturbs a real program, so that runs 2..N are not N copies of
 * the one interleaving the machine happens to prefer. */
#define HARNESS_DEFAULT_NOISE 50u
/* preemption_bound, choice_bound: no bound. */
#define HARNESS_UNBOUNDED (~0u)

/* One event of a run's timeline, as the runtime recorded it (csp_debug_event,
 * with its texts copied). */
typedef struct {
    csp_duration at;           /* virtual time in controlled mode, monotonic in free mode */
    int kind;                  /* csp_debug_event_kind: SPAWN, RUN, PARK, READY, HANDOFF, ... */
    uint64_t task, other;
    char *wait;                /* PARK: "chan send", "mutex lock", "syscall", ...; else NULL */
    char *object;              /* channel, mutex or syscall name; SPAWN: the task's name; or NULL */
} harness_event;

typedef struct {
    harness_verdict verdict;   unsigned schedules_run;
    unsigned seen;             /* bit (1u << v) for every verdict any run showed */
    bool exhausted;            /* EXHAUSTIVE: the bounded space was covered */
    unsigned schedules_pruned; /* EXHAUSTIVE, reduced: runs the reduction found redundant part-way
                                  (every runnable task asleep) and cut short; not in schedules_run */
    char *schedule;            /* replays the failing (or last) run */
    char *decisions;           /* controlled mode: the same run as an explicit "v1:x:..." schedule */
    uint64_t steps;            /* controlled mode: scheduling points in that run */
    csp_duration virtual_time; /* controlled mode: csp_now() when that run ended */
    char *dump;                /* Go-style dump of every task at the moment of failure */
    char *message;             /* one line: "3 tasks leaked: chan send \"errors\" ..." */
    unsigned leaked_tasks;     /* tasks alive after entry returned (not ignored) */
    unsigned leaked_tickers;   /* tickers still running after entry returned */
    unsigned leaked_threads;   /* OS threads beyond tasks and the runtime's own */
    unsigned leaked_fds;       /* descriptors open beyond the baseline */
    long live_chans;           /* channels made and not freed (informational) */
    unsigned races;            /* ThreadSanitizer reports */
    int signal;                /* CRASH: the fatal signal */
    char *output;              /* harness_output of the failing (or last) run */
    char *log;                 /* the child's captured stdout+stderr (TSan reports too);
                                  beyond 4.25 MiB, its first 256 KiB and last 4 MiB with a
                                  line between them saying how many bytes were left out */
    char *rerun;               /* not PASS: the environment that reruns exactly this
                                  failure, "CHANLAB_ENTRY=f CHANLAB_REPLAY=v1:..." */
    harness_event *events;     /* harness_options.events: the reported run's timeline, oldest first */
    size_t nevents;
    uint64_t events_dropped;   /* events of that run the ring lost (the earliest ones) */
    unsigned schedules_redone; /* EXHAUSTIVE, reduced: judged runs (in schedules_run) of a search
                                  that then began again, having learnt that an object is peeked
                                  at or sent on (dpor.c); the search that covered the space ran
                                  schedules_run - schedules_redone */
} harness_result;

/* Returns 0 when the runs were carried out (the verdict is in *r), -1 with
 * r->message set when they could not be (bad options, a nested call). */
int  harness_run(void (*entry)(void *), void *arg, const harness_options *o, harness_result *r);
void harness_result_free(harness_result *r);
const char *harness_verdict_name(harness_verdict v);       /* "LEAK", ... */
/* The verdict for a name ("LEAK", "leak"); -1 if none. */
int harness_verdict_parse(const char *name);
/* True if a is more severe than b (the precedence above). */
bool harness_verdict_more_severe(harness_verdict a, harness_verdict b);

/* Called by the program under test, from any task. Each records and returns. */
void harness_fail(const char *fmt, ...) CSP_PRINTF(1, 2);  /* a postcondition failed */
void harness_gauge_enter(const char *gauge);               /* e.g. "open directories" */
void harness_gauge_exit(const char *gauge);
void harness_gauge_bound(const char *gauge, long max);     /* peak above max → RESOURCE */
void harness_mark(const char *mark);                       /* e.g. "cancel" */
void harness_mark_bound(const char *mark, csp_duration max);/* all other tasks gone within max → else SLOW */
void harness_output(const char *fmt, ...) CSP_PRINTF(1, 2);/* output compared across schedules */
/* A latency the program measured itself, e.g. from a message's send to its
 * delivery (csp_now() differences: virtual time in controlled mode). Every
 * call under one name is one sample; the worst sample above the bound
 * declared for that name → SLOW, judged when the run ends (a bound declared
 * after the samples counts too). Up to 8 names per run. */
void harness_latency(const char *name, csp_duration d);
void harness_latency_bound(const char *name, csp_duration max);
/* A resource the program could not get (EMFILE, say): RESOURCE at once. */
void harness_resource_exhausted(const char *what);

/* For test frameworks that report a failed assertion by abort() (cmocka with
 * CMOCKA_TEST_ABORT=1, assert(3)): while on, an abort() in the run is the
 * program's failure, WRONG_RESULT, with the message the framework printed
 * just before, rather than a CRASH. Process-wide; set it before harness_run
 * (a forked run inherits it). harness_cmocka.h turns it on around its runs. */
void harness_abort_is_failure(bool on);

/* Waits until every other task of the run is blocked (parked on a channel,
 * select, timer, mutex or wait group) or has ended — synctest.Wait. In
 * controlled mode it is exact: the caller runs again once nothing else can
 * run. In free mode it polls until the other tasks have stayed parked across
 * three polls 1 ms apart, giving up after about 3 s. Returns false if called
 * outside a run, or when it gave up. */
bool harness_wait(void);

/* True in a ThreadSanitizer build, where data races become RACE. */
bool harness_detects_races(void);

/* The Go-style dump of every task of this process, now, symbolized. */
void harness_dump(FILE *out);

#ifdef __cplusplus
}
#endif
#endif /* HARNESS_H */
