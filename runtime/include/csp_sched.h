/* csp_sched.h — controlled mode: the fibers backend and the hooks through which
 * a scheduler strategy makes every decision of a run (DESIGN.md §2, "one
 * seam, two backends"). The harness drives it; the strategies (random, PCT,
 * bytes, exhaustive) live in harness/.
 *
 * A run is a fresh world on the calling OS thread: `entry` becomes task 1,
 * every task is a fiber with its own pooled stack, time is virtual (it jumps
 * to the next timer when nothing can run, like Go's testing/synctest), and
 * every decision — which runnable task runs next, which ready select case
 * proceeds, which of several timers due at one instant fires first — is
 * asked of the hooks, so a run is exactly reproducible from its decisions.
 *
 * A decision with one option is never asked. A preemption is a pick of
 * another task while the current one could go on. */
#ifndef CSP_SCHED_H
#define CSP_SCHED_H

#include "csp.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum {
    CSP_DECIDE_RUN,       /* which runnable task runs next */
    CSP_DECIDE_SELECT,    /* which ready select case proceeds */
    CSP_DECIDE_TIMER,     /* which of the timers due at one instant fires first */
} csp_decision_kind;

/* What one task did that another can see (hooks.event): the edges of an
 * interleaving, for coverage feedback (harness_options.coverage) and
 * timelines. */
typedef enum {
    CSP_EVENT_PARK,       /* `task` blocked on `object` (why: `wait`) */
    CSP_EVENT_READY,      /* `task`, blocked on `object`, was made runnable by `by` (0: a timer) */
} csp_sched_event_kind;

typedef struct {
    csp_sched_event_kind kind;
    uint64_t task, by;
    int wait;             /* what the task waits for: a small code, the same for the
                           * same kind of wait (channel send, receive, select, mutex,
                           * wait group, sleep ...) within a build */
    const char *object;   /* the channel's or mutex's name, or NULL */
} csp_sched_event;

/* What a step of a task touched, for partial-order reduction
 * (hooks.access): two steps of different tasks are dependent when they touch
 * the same object, or one made or woke the other's task; the scheduler's own
 * steps (time moves, timers fire, the idle waiter goes on) come after
 * everything before them and before everything after.
 *
 * Tasks and objects are named by keys that do not depend on the
 * interleaving: a task's key is made from its creator's key and how many
 * tasks the creator had made before it, an object's from its creator's key
 * and how many objects that task had made before it (objects made outside
 * a run: their address). The same task or object has the same key in every
 * schedule in which it is made the same way, whatever the other tasks did
 * meanwhile; task ids, which count spawns across the whole run, do not. */
typedef enum {
    CSP_ACCESS_OBJECT,    /* `task` touched `object` (a channel, mutex, wait group,
                           * ticker, or a tool's own object: csp_sched_touch) */
    CSP_ACCESS_SPAWN,     /* `task` made task `other` (task 0: the run's first) */
    CSP_ACCESS_WAKE,      /* `task` made the parked task `other` runnable */
    CSP_ACCESS_TIME,      /* the scheduler's step: virtual time moved, timers fired,
                           * or the idle waiter went on (task 0) */
    CSP_ACCESS_RUN,       /* the scheduler switches to `task` without a decision (it is
                           * the only runnable task); called from the scheduler, so the
                           * hook may end the run there with csp_sched_abort */
    CSP_ACCESS_MEET,      /* `task`'s blocking operation on `object` (csp_send,
                           * csp_recv, a select without a default, csp_close, a wait
                           * group reaching zero, csp_mutex_unlock; not a timer)
                           * completed the single operation that task `other` is
                           * parked in: its partner in a rendezvous, a sender or
                           * receiver it unblocked, a waiter it woke. Had `other`
                           * arrived second instead, the two would have ended the same
                           * way (the one arriving first parks, the second completes
                           * both), so the order of their arrivals is no race of its
                           * own (dpor.c). `in_select`: `other` was parked in a select,
                           * which, arriving later, could have found another case ready
                           * and taken it instead: what `task` does next is then not
                           * ordered after `other`'s arrival. Reported before the WAKE
                           * of `other`. */
    CSP_ACCESS_PEEK,      /* `task` looked at `object` without waiting (a select with a
                           * default, csp_len, csp_mutex_trylock): what it saw depends
                           * on which tasks were parked there, so on this object the
                           * order of arrivals matters after all. Reported after its
                           * OBJECT access. */
} csp_access_kind;

/* What an OBJECT access did to an object (CSP_ACCESS_OBJECT's `op`). A
 * receive, and a look at a channel's length, change nothing that another
 * receive sees: on a channel that nothing ever sends on (only closes — the
 * "done" channel of Go's cancellation idiom), two receives, parked or not,
 * end the same in either order, and only the close orders them. dpor.c
 * uses that; everything it cannot be sure of is CSP_ACCESS_OP_OTHER. */
typedef enum {
    CSP_ACCESS_OP_OTHER,  /* anything: a close, a free, a wait group, a mutex, a timer
                           * channel's receive (the scheduler sends on it unseen) */
    CSP_ACCESS_OP_SEND,   /* a send, or a select with a send case on the channel */
    CSP_ACCESS_OP_RECV,   /* a receive, a select with only receive cases on the channel,
                           * or csp_len */
    CSP_ACCESS_OP_SHARED, /* commutes with every other SHARED access of the object;
                           * anything else on it orders them. A buffered channel's
                           * operations are SHARED on the channel (only its close and
                           * free are not) and report what orders them as objects of
                           * their own: the channel's sends, its receives, and the
                           * buffer position (the kth value) each one takes, fills or
                           * waits for (chan.c, "Buffers") */
} csp_access_op;

typedef struct {
    csp_access_kind kind;
    uint64_t task, task_key;     /* who (0, 0 for the scheduler) */
    uint64_t other, other_key;   /* SPAWN, WAKE, MEET: the other task's id and key */
    uint64_t object;             /* OBJECT, MEET, PEEK: the object's key */
    const char *object_name;     /* OBJECT, MEET, PEEK: what it is (a channel's or mutex's name, "wait
                                  * group", "timer"), NULL for a tool's own (csp_sched_touch);
                                  * valid during the call only */
    bool in_select;              /* MEET: `other` was parked in a select */
    csp_access_op op;            /* OBJECT: what it did to the object (OTHER if unsure) */
} csp_sched_access;

typedef struct {
    void *ctx;
    /* One decision among n >= 2 options; returns an index in [0, n).
     * RUN: options are the runnable tasks' ids in ascending order (ids[]),
     * `current` is the index of the task that was running and could go on,
     * or -1 if it blocked or finished (then no pick is a preemption).
     * SELECT / TIMER: ids is NULL, current is -1. A return >= n, or a call to
     * csp_sched_abort from inside, ends the run (a replay that does not fit). */
    size_t (*decide)(void *ctx, csp_decision_kind kind, size_t n,
                     const uint64_t *ids, int current);
    /* A task was made (PCT gives it a priority); may be NULL. */
    void (*spawned)(void *ctx, uint64_t id);
    /* A task parked or was readied (csp_sched_event); may be NULL. Called
     * from the task's context; it must not call the runtime. */
    void (*event)(void *ctx, const csp_sched_event *e);
    /* What the running step touched (csp_sched_access); may be NULL, and
     * when it is the runtime does not look for it. Called from the task's
     * context; it must not call the runtime. */
    void (*access)(void *ctx, const csp_sched_access *a);
} csp_sched_hooks;

typedef enum {
    CSP_RUN_QUIESCENT,    /* entry returned and nothing can run any more */
    CSP_RUN_DEADLOCK,     /* nothing can run, entry has not returned, no timer can wake a task */
    CSP_RUN_STEPS,        /* more than max_steps decisions or scheduling points: livelock */
    CSP_RUN_HORIZON,      /* virtual time passed the horizon while entry had returned */
    CSP_RUN_ABORTED,      /* csp_sched_abort (a panic, a harness verdict, a bad replay) */
} csp_run_end;

typedef struct {
    uint64_t max_steps;       /* scheduling points in one run; 0: unbounded */
    csp_duration horizon;     /* after entry returns, how much virtual time may pass */
    /* Timers whose deadlines lie within this much of the earliest one fire
     * together, their order a TIMER decision (0: only equal deadlines). In a
     * real program two timeouts 1 µs apart can fire in either order; with a
     * window the search tries both. Virtual time never goes back: each fires
     * at the later of its deadline and the time already reached. */
    csp_duration timer_window;
} csp_run_limits;

typedef struct {
    uint64_t steps;           /* scheduling points passed */
    uint64_t decisions;       /* decisions asked of the hooks */
    uint64_t preemptions;     /* RUN decisions that switched away from a task that could go on */
    csp_duration virtual_now; /* csp_now() at the end */
    bool entry_returned;
} csp_run_stats;

/* Runs entry(arg) as task 1 of a fresh world under the hooks. Returns how the
 * run ended; the tasks and objects it left stay inspectable (csp_debug_tasks,
 * csp_debug_timers) until csp_sched_reset. Not re-entrant; call it from a
 * thread that is not a task. */
csp_run_end csp_sched_run(void (*entry)(void *), void *arg, const csp_sched_hooks *hooks,
                          const csp_run_limits *limits, csp_run_stats *stats);

/* Ends the run in progress from inside a task or a hook (never returns when
 * called from a task). */
void csp_sched_abort(void);

/* Reclaims everything the last run left: every task (leaked ones included,
 * their stacks go back to the pool), channel, wait group, mutex, ticker and
 * timer made during it, and restores the threads backend. */
void csp_sched_reset(void);

/* True while csp_sched_run is running (inside a task or a hook). */
bool csp_sched_active(void);

/* From a task of the run in progress: parks it until no other task can run
 * (all blocked or ended), before virtual time moves on; then it runs again.
 * harness_wait (synctest.Wait) in controlled mode. False, at once, outside a
 * run or when another task is already waiting so. */
bool csp_sched_wait_idle(void);

/* A tool's own object shared between tasks (the harness's output, a gauge)
 * was touched by the running task: reported to hooks.access as an OBJECT
 * access with this key, so that partial-order reduction keeps the order of
 * two tasks' touches. Nothing outside a run or without hooks.access. */
void csp_sched_touch(uint64_t key);

/* Scheduling points the run in progress has passed so far (what max_steps
 * bounds); 0 outside a run. For a strategy that changes course after a
 * number of steps (fair continuation, harness/src/strategy.c). */
uint64_t csp_sched_steps(void);

#ifdef __cplusplus
}
#endif
#endif /* CSP_SCHED_H */
