/* csp_debug.h — the runtime's introspection interface (like Go's
 * runtime/debug and runtime.Stack): consistent snapshots of every task and
 * timer, the progress counter, and the hooks a harness installs. The harness
 * (harness/) is written against this header; so may any tool that wants to
 * look inside a running program. Not needed by ordinary programs.
 *
 * Addresses are raw: symbolize them with csp_debug_symbolize (libdw), which is
 * not async-signal-safe — a forked child captures, its parent symbolizes. */
#ifndef CSP_DEBUG_H
#define CSP_DEBUG_H

#include "csp.h"

#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

#define CSP_DEBUG_MAX_PCS 24

typedef enum {
    CSP_DEBUG_RUNNING,     /* running or runnable: no park record */
    CSP_DEBUG_PARKED,      /* blocked in the runtime */
    CSP_DEBUG_SYSCALL,     /* inside csp_syscall_enter/exit */
} csp_debug_state;

typedef struct {
    uint64_t id;
    const char *name;
    csp_debug_state state;
    bool forever;                     /* parked on something no task can end (nil chan, select {}) */
    bool adopted;                     /* a thread that called in (main), not made by csp_go */
    int tid;                          /* OS thread id (threads backend) */
    char wait[160];                   /* "chan receive \"sizes\"", "syscall read", ... */
    char object[64];                  /* the channel or mutex name alone, or "" */
    csp_duration since;               /* when it parked / entered the syscall */
    uintptr_t pcs[CSP_DEBUG_MAX_PCS]; /* its stack where it parked (return addresses) */
    int npcs;
    uintptr_t created_pc;             /* return address in the caller of csp_go, or 0 */
} csp_debug_task;

/* Copies up to max tasks (oldest first) and returns how many live tasks
 * there are, which may be more than max. */
size_t csp_debug_tasks(csp_debug_task *out, size_t max);

typedef struct {
    csp_duration when, period;        /* period > 0: a ticker */
    bool program_lifetime;            /* made by csp_tick */
    bool wakes_a_task;                /* a sleeping task, or a task waits on its channel */
    uintptr_t created_pc;             /* return address in the caller of csp_after/tick/... */
} csp_debug_timer;

/* Copies up to max armed timers; returns how many are armed. */
size_t csp_debug_timers(csp_debug_timer *out, size_t max);

/* The state a deadlock check needs, taken under the runtime's locks at one
 * instant. Deadlock: tasks > 0, running == 0, syscalls == 0, and no
 * wakeable timer. */
typedef struct {
    size_t tasks, running, parked, syscalls, forever;
    size_t wakeable_timers;           /* armed timers that can wake a parked task */
    size_t armed_timers;
    uint64_t progress;
} csp_debug_quiet;
void csp_debug_quiescence(csp_debug_quiet *q, const csp_task *exclude);

/* The id of the task running on this thread, 0 if none (never adopts). */
uint64_t csp_debug_current_task(void);

/* Progress (DESIGN §3): bumps on every change of state. */
uint64_t csp_debug_progress(void);
/* csp_now() when a task last finished (0 if none has). */
csp_duration csp_debug_last_task_exit(void);
/* OS threads the runtime keeps for itself that are not tasks: the timer
 * thread, the watchdog, and the idle task threads of the threads backend's
 * pool (runtime/src/threads.c). Live tasks plus these are all the threads the
 * runtime accounts for; any other thread is the program's own. */
int csp_debug_runtime_threads(void);
/* Of those, the idle pooled task threads (threads backend; 0 under TSan,
 * which keeps a thread per task). */
int csp_debug_idle_threads(void);
long     csp_debug_live_chans(void);

/* Panics go here instead of aborting (must not return: a harness ends the
 * run). NULL restores the default: print, dump, abort. */
void csp_debug_set_panic_hook(CSP_NORETURN void (*hook)(const char *msg));

/* Called in every task as it finishes (its function returned), with its id
 * and csp_now(). NULL removes it. */
void csp_debug_set_task_exit_hook(void (*hook)(uint64_t id, csp_duration when));

/* Whether parking tasks record their stacks (on by default: dumps and leak
 * reports need them). Off only to measure what the bookkeeping costs. */
void csp_debug_set_park_stacks(bool on);

/* Seeds the random choices of tasks made from now on (select, timers at one
 * instant), so that forked runs of one program differ from run to run. */
void csp_debug_set_seed(uint64_t seed);

/* Free mode: a permille chance of a yield or short sleep at every sync point. */
void csp_debug_set_noise(unsigned permille);

/* The frame-pointer stack of the calling thread from (pc, fp) — e.g. from a
 * signal's ucontext — bounded by the calling task's stack. Async-signal-safe. */
int csp_debug_stack_from(uintptr_t pc, uintptr_t fp, uintptr_t *pcs, int max);
/* Asks task `task`, running on OS thread `tid`, for its stack: it answers at
 * its next scheduling point (any runtime call), which works where a signal is
 * not delivered promptly (TSan defers signals until an interceptor runs).
 * Another task on that thread (a pooled thread runs task after task) does
 * not answer. Poll csp_debug_stack_answer; cancel with tid 0. */
void csp_debug_stack_request(int tid, uint64_t task);
/* The answer's frames (0 while there is none yet). */
int  csp_debug_stack_answer(uintptr_t *pcs, int max);

/* The calling thread's own stack, skipping `skip` frames. Async-signal-safe. */
int csp_debug_stack_here(uintptr_t *pcs, int max, int skip);

/* Symbolized printing: "    FUNC at FILE:LINE" per frame (leading runtime
 * frames left out), and "created by FUNC at FILE:LINE". */
void csp_debug_print_stack(FILE *out, const uintptr_t *pcs, int n);
void csp_debug_print_created_by(FILE *out, uintptr_t pc);
/* One line "FUNC at FILE:LINE" for a return address; false if unknown. */
bool csp_debug_describe_pc(uintptr_t pc, char *buf, size_t size);

/* The Go-style dump of every task, symbolized, to out. */
void csp_debug_dump(FILE *out);

/* A process that judges deadlocks itself (the harness) turns off the
 * runtime's own last-resort watchdog: "fatal error: all tasks are asleep -
 * deadlock!" and the SIGQUIT dump, both exit status 2, for a program run
 * without the harness (threads backend; runtime/src/threads.c). */
void csp_debug_set_supervised(bool on);

/* The one dump formatter, for a task of a snapshot (csp_debug_tasks) or one
 * rebuilt from a child's records: "task ID "NAME" [WAIT, AGE]:", its frames
 * (library frames left out), "created by FUNC at FILE:LINE", a blank line.
 * age: how long it has been parked or in its syscall. */
void csp_debug_print_task(FILE *out, const csp_debug_task *t, csp_duration age);

/* True if pc (a return address) lies in chanlab's own code — the runtime's
 * or a tool's that registered its code (the harness) — whatever the
 * function is called or where its file lies. */
bool csp_debug_library_pc(uintptr_t pc);
/* A tool built as a library of its own registers its code: [lo, hi) is then
 * chanlab's code to dumps and leak reports (the harness registers its
 * "chanlab_text" section; see CSP_TOOL_CODE in csp_tool.h). At most 8. */
void csp_debug_register_code(const void *lo, const void *hi);

/* ----------------------------------------------------------------- Events */

/* The event timeline (DESIGN §6): off by default, and one predictable branch
 * per event site while off. While on, the runtime records what every task
 * does that another can see into one bounded ring: when the ring is full the
 * oldest events go, and a read says how many went. Timestamps are csp_now():
 * virtual in controlled mode (where many events share an instant, so their
 * order is the ring's), monotonic in free mode. */
typedef enum {
    CSP_DEBUG_EVENT_SPAWN,    /* `task`, named `object`, was made by `other` (0: outside any task) */
    CSP_DEBUG_EVENT_RUN,      /* `task` started or resumed running */
    CSP_DEBUG_EVENT_PARK,     /* `task` blocked: `wait` ("chan send", "mutex lock", "syscall"...) on `object` */
    CSP_DEBUG_EVENT_READY,    /* `task` was made runnable by `other` (0: a timer or the scheduler) */
    CSP_DEBUG_EVENT_HANDOFF,  /* a value on channel `object` passed from `task` to `other` */
    CSP_DEBUG_EVENT_CLOSE,    /* `task` closed channel `object` */
    CSP_DEBUG_EVENT_TIMER,    /* a timer fired: it woke `other`, or sent on channel `object` */
    CSP_DEBUG_EVENT_PANIC,    /* `task` panicked */
    CSP_DEBUG_EVENT_EXIT,     /* `task` returned from its function */
} csp_debug_event_kind;
#define CSP_DEBUG_EVENT_KINDS 9

typedef struct {
    csp_duration at;          /* csp_now() when it happened */
    csp_debug_event_kind kind;
    uint64_t task, other;
    const char *wait;         /* PARK: what it waits for; else NULL (static text) */
    const char *object;       /* the channel's, mutex's or syscall's name, or NULL;
                               * valid while the object lives */
} csp_debug_event;

/* Starts recording into a fresh ring of `capacity` events (0 stops and frees
 * it). Call it where no task runs: before a run, or between runs. False when
 * out of memory. */
bool csp_debug_events_start(size_t capacity);
/* Empties the ring (a new run of the same recording). */
void csp_debug_events_clear(void);
/* Copies the recorded events, oldest first, up to max; returns how many it
 * copied. *dropped (if not NULL): events the ring lost to overflow. */
size_t csp_debug_events_read(csp_debug_event *out, size_t max, uint64_t *dropped);
/* "spawn", "run", "park", "ready", "handoff", "close", "timer", "panic", "exit". */
const char *csp_debug_event_kind_name(csp_debug_event_kind k);

#ifdef __cplusplus
}
#endif
#endif /* CSP_DEBUG_H */
