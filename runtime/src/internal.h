/* internal.h — what the portable runtime (channels, select, wait groups,
 * mutexes, timers) and its backends share. Private: nothing here is contract.
 *
 * The shape follows Go's runtime: a task (g) parks with a reason and is made
 * ready by whoever completes its operation (gopark/goready); a waiter record
 * (sudog) is separate from the task because one task in select waits on many
 * channels at once; every blocking point and every nondeterministic choice goes
 * through the backend seam (struct csp_backend), so that a controlled scheduler
 * can make and record each one.
 *
 * ThreadSanitizer: every function of the runtime is compiled with CSP_RT
 * (no_sanitize("thread")), so the runtime's own locks, atomics and
 * futexes are invisible to TSan. The only happens-before edges TSan sees are
 * the ones Go's memory model defines, added explicitly with race_acquire /
 * race_release (race.h), as Go's race detector does in chan.go. */
#ifndef CSP_INTERNAL_H
#define CSP_INTERNAL_H

#include "csp.h"
#include "base.h"
#include "csp_debug.h"
#include "csp_sched.h"

#include <stdatomic.h>
#include <stdio.h>

/* ------------------------------------------------------------ Park reasons */

enum csp_wait_reason {
    CSP_WAIT_NONE = 0,
    CSP_WAIT_CHAN_SEND,
    CSP_WAIT_CHAN_RECV,
    CSP_WAIT_CHAN_SEND_NIL,  /* send on a nil channel: forever */
    CSP_WAIT_CHAN_RECV_NIL,  /* receive from a nil channel: forever */
    CSP_WAIT_SELECT,
    CSP_WAIT_SELECT_NO_CASES,/* select with no (non-nil) cases: forever */
    CSP_WAIT_WG,
    CSP_WAIT_MUTEX,
    CSP_WAIT_SLEEP,
    CSP_WAIT_IDLE,           /* csp_sched_wait_idle: until nothing else can run */
};
const char *csp__wait_reason_name(enum csp_wait_reason r);

/* A wait that can never end, whatever other tasks do. */
CSP_RT static inline bool csp__wait_is_forever(enum csp_wait_reason r)
{
    return r == CSP_WAIT_CHAN_SEND_NIL || r == CSP_WAIT_CHAN_RECV_NIL ||
           r == CSP_WAIT_SELECT_NO_CASES;
}

enum csp_task_state {
    CSP_TASK_RUNNING = 0,    /* running or runnable */
    CSP_TASK_PARKED,         /* blocked in the runtime; park record valid */
    CSP_TASK_DEAD,
};

#define CSP_MAX_PCS 24

/* What a parked task waits for, written by the task itself just before it
 * parks and read by dumpers while it stays parked. */
struct csp_park {
    enum csp_wait_reason reason;
    const char *object;          /* channel / mutex name, or NULL */
    const csp_case *cases;       /* select: the cases (stable while parked) */
    size_t ncases;
    csp_duration since;          /* csp_now() at park time */
    uintptr_t pcs[CSP_MAX_PCS];  /* frame-pointer stack at park time */
    int npcs;
};

/* ------------------------------------------------------------------ Tasks */

struct csp_task {
    /* Immutable after creation. */
    uint64_t id;
    const char *name;
    void (*fn)(void *);
    void *arg;
    uintptr_t created_pcs[8];    /* csp_go's caller and up */
    int ncreated;
    bool adopted;                /* a thread that called in, not made by csp_go */
    uint64_t key;                /* csp_sched_access: from its creator's key and rank */
    uint32_t nspawned, nobjects; /* tasks and objects it made so far (keys of theirs) */

    /* Owned by the task itself (read racily, only for dumps). */
    _Atomic int state;           /* enum csp_task_state */
    struct csp_park park;
    bool panicking;              /* shown as running in the dump, as Go does */
    int syscall_depth;
    const char *syscall_what;
    csp_duration syscall_since;
    uint64_t rng;                /* xorshift state for choose() */
    _Atomic uint64_t progress;   /* see csp__made_progress */

    /* The select wake race (Go's g.selectDone): a waker that dequeues one of
     * this task's select waiters must win this CAS (0 -> 1) first. */
    _Atomic int sel_done;
    /* Set by the waker before ready(): which waiter completed (Go's
     * gp.param). Read by the task after it wakes. */
    struct csp_waiter *fired;

    /* Fibers backend. */
    void *backend;               /* its fiber */
    bool runnable;               /* on the run queue */

    /* Threads backend. */
    _Atomic int wake;            /* 0 none, 1 posted, 2 parker asleep */
    int tid;
    uintptr_t stack_lo, stack_hi;

    /* Registry links: protected by the registry lock. */
    csp_task *reg_next, *reg_prev;

    char race_sync;              /* address for TSan hand-off edges */
    void *race_pc;               /* TSan: where the program called the channel
                                  * operation under way (chan.c, OP_FRAME) */
    unsigned tool_ignore;        /* TSan: csp_tool_ignore regions open (tool.c) */
};

/* ---------------------------------------------------------------- Waiters */

/* One clause of a wait (libdill's clause, Go's sudog): a task waiting on one
 * channel for one operation. Lives on the waiting task's stack. Fields other
 * than `task`, `elem`, `case_index` and `is_select` are protected by the lock
 * of the channel whose queue holds it. */
typedef struct csp_waiter {
    csp_task *task;
    csp_chan *chan;
    void *elem;                  /* send: source; recv: destination or NULL */
    struct csp_waiter *next, *prev;
    struct csp_waiter *glist;    /* close(): the list of waiters to ready */
    int case_index;
    bool is_select;
    bool queued;                 /* on a channel's queue right now */
    bool success;                /* recv: got a value; send: delivered */
} csp_waiter;

typedef struct { csp_waiter *first, *last; } csp_waitq;

#ifdef CSP_TSAN
/* Closes the csp_tool_ignore regions t left open (tool.c); on t's fiber. */
void csp__tool_unwind(csp_task *t);
#endif
void csp__waitq_push(csp_waitq *q, csp_waiter *w);
void csp__waitq_remove(csp_waitq *q, csp_waiter *w);
/* Pops the first waiter that may be woken: a select waiter whose task
 * already won elsewhere is dropped (its CAS fails) and skipped. */
csp_waiter *csp__waitq_dequeue(csp_waitq *q);

/* ---------------------------------------------------------------- Objects */

/* Every channel, wait group and mutex starts with this header and is in the
 * object registry while it lives, so that fork() can take every object's
 * lock (in address order, as select does) and the child can drop the
 * waiters of the parent's other tasks, whose stacks no longer exist there. */
typedef struct csp_object {
    struct csp_object *obj_next, *obj_prev;   /* under the object registry lock */
    csp_lock lock;                            /* the object's own lock */
    csp_waitq *queues[2];                     /* its waiter queues (NULL if fewer) */
    void (*destroy)(struct csp_object *o);    /* frees it without checks (end of a run) */
    uint64_t run;                             /* the controlled run that made it, or 0 */
    uint64_t key;                             /* csp_sched_access: stable across schedules */
    const char *name;                         /* for tools: a channel's or mutex's name, or its kind */
} csp_object;

/* Partial-order reduction's view of an operation on o (fibers.c): set while
 * a controlled run's hooks want accesses. */
extern bool csp__access_on;
void csp__access_object(const csp_object *o, csp_access_op op);
CSP_RT static inline void csp__touch(const csp_object *o)
{
    if (__builtin_expect(csp__access_on, 0))
        csp__access_object(o, CSP_ACCESS_OP_OTHER);
}
/* An access to an object that is not a csp_object (a part of one: a
 * buffered channel's positions), by key. */
void csp__access_key(uint64_t key, const char *name, csp_access_op op);
/* A channel's send or receive (csp_access_op). */
CSP_RT static inline void csp__touch_op(const csp_object *o, csp_access_op op)
{
    if (__builtin_expect(csp__access_on, 0))
        csp__access_object(o, op);
}
/* A blocking operation on o completed parked task t's operation, in a
 * select or not (CSP_ACCESS_MEET). */
void csp__access_meet(const csp_object *o, const csp_task *t, bool in_select);
CSP_RT static inline void csp__meet(const csp_object *o, const csp_task *t, bool in_select)
{
    if (__builtin_expect(csp__access_on, 0))
        csp__access_meet(o, t, in_select);
}
/* A look at o that does not wait (CSP_ACCESS_PEEK). */
void csp__access_peek(const csp_object *o);
CSP_RT static inline void csp__peek(const csp_object *o)
{
    if (__builtin_expect(csp__access_on, 0))
        csp__access_peek(o);
}
/* Keys (csp_sched_access): h and v mixed (FNV-1a over v's bytes, then a
 * finalizer). */
uint64_t csp__key_mix(uint64_t h, uint64_t v);

/* Objects made between begin and end of a controlled run are destroyed at
 * its end (DESIGN §2: runtime objects made during a run go with the run). */
void csp__objects_begin_run(void);
void csp__objects_end_run(void);

void csp__object_register(csp_object *o);
void csp__object_unregister(csp_object *o);
void csp__objects_fork_prepare(void);
void csp__objects_fork_parent(void);
void csp__objects_fork_child(void);

/* ----------------------------------------------------------------- Timers */

enum csp_timer_kind { CSP_TIMER_CHAN, CSP_TIMER_WAKE };

typedef struct csp_timer {
    /* Set by the owner before arming; read by the backend. */
    enum csp_timer_kind kind;
    csp_duration when;           /* absolute csp_now() deadline */
    csp_duration period;         /* > 0: a ticker, re-armed after each fire */
    csp_chan *chan;              /* CSP_TIMER_CHAN */
    csp_task *task;              /* CSP_TIMER_WAKE */
    uintptr_t created_pc;        /* where csp_after/csp_tick/... was called */
    bool program_lifetime;       /* csp_tick: never stops by design */
    /* Backend-owned, under the backend's timer lock. */
    int heap_index;              /* -1 when not armed */
    uint64_t seq;                /* arming order: breaks ties */
} csp_timer;

/* Called by the backend when tm is due, with the backend's timer lock held:
 * delivers on the timer channel or readies the sleeping task. */
void csp__timer_fire(csp_timer *tm, csp_duration now);

/* -------------------------------------------------------------- The seam */

enum csp_choice {
    CSP_CHOOSE_SELECT,           /* which ready select case proceeds */
    CSP_CHOOSE_TIMER,            /* which of the timers due at one instant fires first */
};

enum csp_point {                 /* scheduling points without a park */
    CSP_POINT_SPAWN, CSP_POINT_CHAN, CSP_POINT_SELECT, CSP_POINT_SYNC,
    CSP_POINT_YIELD,
};

/* The one interface between the portable runtime and a backend. Every
 * blocking point, timer and nondeterministic choice goes through it. */
typedef struct csp_backend {
    const char *name;
    /* The running task; NULL if the calling thread is not a task yet. */
    csp_task *(*current)(void);
    /* The calling thread becomes a task (threads backend only). */
    csp_task *(*adopt)(void);
    /* Starts t (allocated and registered by the caller) running t->fn. */
    void (*spawn)(csp_task *t);
    /* Parks the current task, whose park record is filled: marks it parked,
     * then calls unlock(arg) (releasing the locks that protected the
     * decision to park), then sleeps until ready(). */
    void (*park)(void (*unlock)(void *), void *arg);
    /* Makes a parked task runnable. Exactly once per park. */
    void (*ready)(csp_task *t);
    /* A place where another task could run (noise / controlled switch). */
    void (*point)(enum csp_point p);
    csp_duration (*now)(void);
    void (*timer_arm)(csp_timer *tm);
    /* Returns true if tm was armed (it will not fire). Waits for a fire in
     * progress to finish. */
    bool (*timer_disarm)(csp_timer *tm);
    /* Calls fn for every armed timer, under the backend's timer lock. */
    void (*timer_foreach)(void (*fn)(const csp_timer *tm, void *arg), void *arg);
    /* A number in [0, k). */
    size_t (*choose)(size_t k, enum csp_choice what);
    /* The stack of a task that is suspended but not parked (a runnable
     * fiber), from its saved context; NULL where tasks are threads. */
    int (*stack_of)(csp_task *t, uintptr_t *pcs, int max);
    /* Ends the current task's program (or run). Never returns. */
    CSP_NORETURN void (*panic)(const char *msg);
} csp_backend;

extern const csp_backend *csp__backend;
extern const csp_backend csp__threads_backend;
extern const csp_backend csp__fibers_backend;

/* Parked and not yet readied. A task whose wake-up is posted but which the
 * kernel has not run yet is runnable, not blocked: deadlock checks must
 * never take it for asleep. */
CSP_RT static inline bool csp__task_blocked(csp_task *t)
{
    return atomic_load(&t->state) == CSP_TASK_PARKED && atomic_load(&t->wake) != 1;
}

/* ------------------------------------------------------ Runtime internals */

/* The task running on this thread (set by the backend), or NULL. */
extern __thread csp_task *csp__current;

/* The current task, adopting the calling thread if needed. */
CSP_RT static inline csp_task *csp__self(void)
{
    csp_task *t = csp__current;
    return t ? t : csp__backend->adopt();
}

/* Fills the park record (reason, object, since, stack) and parks. */
void csp__park(enum csp_wait_reason reason, const char *object,
               void (*unlock)(void *), void *arg);
void csp__ready(csp_task *t);

/* Registry: every live task. The lock orders after channel and timer locks
 * (never take a channel lock while holding it). */
void csp__registry_add(csp_task *t);
void csp__registry_remove(csp_task *t);
csp_task *csp__task_alloc(const char *name);
/* Sets the next task id; returns the one it replaces. */
uint64_t csp__reset_task_ids(uint64_t next);
void csp__task_free(csp_task *t);
/* Calls fn for every live task, with the registry locked. */
void csp__registry_foreach(void (*fn)(csp_task *t, void *arg), void *arg);
void csp__registry_lock(void);
void csp__registry_unlock(void);
/* After fork, in the child: keep only `self`. */
void csp__registry_after_fork_child(csp_task *self);

/* Progress (DESIGN §3): a change of state — a value handed over, a task
 * started or finished, a lock handed over, a timer fired, a wait group
 * reaching zero, a task leaving a declared system call. Counted per task
 * (written only by its own thread: no locked instruction, no shared cache
 * line on the hot path) plus a global for the runtime's own threads and for
 * tasks that have exited; csp__progress_total sums them. */
extern _Atomic uint64_t csp__progress;
CSP_RT static inline void csp__made_progress(void)
{
    csp_task *t = csp__current;
    if (t)
        atomic_store_explicit(&t->progress,
                              atomic_load_explicit(&t->progress, memory_order_relaxed) + 1,
                              memory_order_relaxed);
    else
        atomic_fetch_add_explicit(&csp__progress, 1, memory_order_relaxed);
}
uint64_t csp__progress_total(void);

/* Live object counts, for leak checks. */
extern _Atomic long csp__live_chans;
extern _Atomic long csp__live_tasks;
extern _Atomic csp_duration csp__last_task_exit;
extern _Atomic int csp__runtime_threads;

extern bool csp__park_stacks;

/* Frame-pointer walk of the calling thread's stack, skipping `skip` frames. */
int csp__capture_stack(uintptr_t *pcs, int max, int skip);
int csp__walk_frames(uintptr_t *fp, uintptr_t lo, uintptr_t hi, uintptr_t *pcs, int max, int skip);

/* The all-task dump (Go's GOTRACEBACK=all, our format). */
void csp__dump_tasks(FILE *out);
/* "chan receive \"sizes\"", "syscall read", "running": what t is doing. */
void csp__format_wait(const csp_task *t, bool is_self, char *buf, size_t size);

/* The harness's panic hook (csp_debug_set_panic_hook). */
extern CSP_NORETURN void (*csp__panic_hook)(const char *msg);
extern void (*csp__task_exit_hook)(uint64_t id, csp_duration when);
/* True if a task waits to receive on c (for deadlock checks). */
bool csp__chan_has_receiver(csp_chan *c);

/* Threads backend extras (for the harness). */
void csp__threads_set_noise(unsigned permille);


/* Per-task PRNG, seeded from the task and csp__set_seed. */
void csp__set_seed(uint64_t seed);
uint64_t csp__rand(csp_task *t);

/* Panic with the message already formatted. */
CSP_NORETURN void csp__panic_msg(const char *msg);
/* What a plain program does on a panic, with either backend (its `panic`):
 * "panic: MSG", the all-task dump, abort. */
CSP_NORETURN void csp__panic_abort(const char *msg);

/* Channel operations used by timers: nonblocking, no race annotations. */
bool csp__chan_try_send_timer(csp_chan *c, const void *elem);
void csp__chan_set_timer(csp_chan *c, csp_timer *tm);
void csp__chan_free_ticker(csp_chan *c);

/* Frees a timer's bookkeeping once it is disarmed. */
void csp__timer_free(csp_timer *tm);

/* ----------------------------------------------------------------- Events */

/* The timeline ring (events.c, csp_debug.h "Events"): off, an event site costs
 * one relaxed load and a branch — a macro, so that its arguments are not
 * even computed then. */
extern _Atomic bool csp__events_on;
void csp__event_record(int kind, uint64_t task, uint64_t other, const char *wait,
                       const char *object);
#define csp__event(kind, task, other, wait, object)                                  \
    do {                                                                             \
        if (__builtin_expect(atomic_load_explicit(&csp__events_on, memory_order_relaxed), 0)) \
            csp__event_record((kind), (task), (other), (wait), (object));            \
    } while (0)
/* The running task's id, or 0 outside any task. */
CSP_RT static inline uint64_t csp__current_id(void) { return csp__current ? csp__current->id : 0; }

#endif /* CSP_INTERNAL_H */
