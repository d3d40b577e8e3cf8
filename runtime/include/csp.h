/* csp.h — chanlab's Go-like runtime: tasks, channels, select, wait groups,
 * mutexes, timers and Go-style panics, in C.
 *
 * This header is a contract (DESIGN.md §2): external programs are written
 * against these names and meanings. Add to it; never rename. It compiles on its
 * own as C11 and needs nothing beyond <stdbool.h>, <stddef.h> and <stdint.h>.
 *
 * Semantics are Go's. Where Go panics (send on a closed channel, close of a
 * closed or nil channel, a negative WaitGroup counter, unlock of an unlocked
 * mutex) the runtime panics too: it prints "panic: MESSAGE" and a dump of every
 * task, then aborts the process — or, inside a harness run, ends only that run.
 * Misuse that Go would not even compile (a NULL element for a channel whose
 * elements have a size, a NULL wait group) is a panic with a message that says
 * what was wrong; it is never undefined behaviour.
 *
 * Ownership. There is no garbage collector. Outside a harness run, whoever makes
 * an object frees it (csp_chan_free, csp_wg_free, csp_mutex_free,
 * csp_ticker_free). Inside a harness run, every runtime object made during the
 * run — channels, wait groups, mutexes, timers, and the stacks of leaked tasks —
 * is reclaimed when the run ends, and freeing it earlier is allowed too.
 * A timer channel (csp_after, csp_tick) may be shared by several selects, so
 * the runtime never frees it behind the caller's back: inside a run it goes with
 * the run; outside one the caller may free it with csp_chan_free, which also
 * stops its timer. Freeing an object that a task is still blocked on panics.
 *
 * Threads. The runtime works without any harness: a plain main() that calls
 * csp_* is itself a task (task 1, "main"), and so is any other thread the first
 * time it calls in. It stays usable in a child after fork(): the child keeps the
 * calling task and forgets the parent's other tasks (they do not exist there).
 * In free mode a task runs on an OS thread that may have run other tasks before
 * it (a finished task's thread waits, idle, for the next csp_go; not under
 * ThreadSanitizer): like a goroutine, a task owns no thread, so the program's
 * own thread-local variables may hold a previous task's values. A task that
 * changes its thread's CPU affinity or signal mask is the last on that thread.
 */
#ifndef CSP_H
#define CSP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) || defined(__clang__)
#define CSP_PRINTF(f, a) __attribute__((format(printf, f, a)))
#define CSP_NORETURN __attribute__((noreturn))
#else
#define CSP_PRINTF(f, a)
#define CSP_NORETURN
#endif

/* ------------------------------------------------------------------ Types */

typedef struct csp_task csp_task;
typedef struct csp_chan csp_chan;
typedef struct csp_waitgroup csp_waitgroup;
typedef struct csp_ticker csp_ticker;
typedef struct csp_mutex csp_mutex;   /* sync.Mutex: a scheduling point too */

typedef int64_t csp_duration;         /* nanoseconds */
#define CSP_NANOSECOND  ((csp_duration)1)
#define CSP_MICROSECOND ((csp_duration)1000)
#define CSP_MILLISECOND ((csp_duration)1000000)
#define CSP_SECOND      ((csp_duration)1000000000)

/* ------------------------------------------------------------------ Tasks */

/* Spawns fn(arg) as a new task (Go's `go` statement). `name` is shown in dumps
 * and leak reports and must outlive the task (a string literal, typically);
 * NULL means "task". The spawn happens before fn starts (a happens-before edge,
 * as in Go). The returned handle identifies the task while it lives; the
 * runtime reclaims it when the task ends. */
csp_task *csp_go(void (*fn)(void *), void *arg, const char *name);

/* The calling task (adopting the calling thread if it is not a task yet). */
csp_task   *csp_self(void);
uint64_t    csp_task_id(const csp_task *t);     /* 1, 2, ...; never reused */
const char *csp_task_name(const csp_task *t);

/* Gives other tasks a chance to run (runtime.Gosched). */
void csp_yield(void);

/* --------------------------------------------------------------- Channels */

/* make(chan T, cap) with sizeof(T) == elem_size. elem_size 0 is Go's
 * chan struct{}. `name` is shown in dumps ("chan send \"errors\"") and must
 * outlive the channel; NULL means "chan". */
csp_chan *csp_chan_make(size_t elem_size, size_t cap, const char *name);
/* Frees c. NULL is a no-op. Panics if a task is blocked on c. */
void      csp_chan_free(csp_chan *c);

/* Blocks until the value is handed over. Panics if c is closed; a NULL c
 * blocks forever (Go's nil channel). elem must point to elem_size bytes
 * unless the channel's elements have size 0, in which case it is ignored. */
void      csp_send(csp_chan *c, const void *elem);
/* Blocks until a value arrives (true) or c is closed and drained (false, and
 * *elem is zeroed). elem may be NULL to discard the value. NULL c blocks
 * forever. */
bool      csp_recv(csp_chan *c, void *elem);
/* Closes c: every blocked receiver wakes (false once the buffer is drained),
 * every blocked sender wakes and panics. Panics if c is NULL or closed. */
void      csp_close(csp_chan *c);
size_t    csp_len(const csp_chan *c);          /* 0 for NULL */
size_t    csp_cap(const csp_chan *c);          /* 0 for NULL */
const char *csp_chan_name(const csp_chan *c);

/* ----------------------------------------------------------------- Select */

enum csp_op { CSP_OP_SEND, CSP_OP_RECV };
/* Field order is fixed: programs initialise cases positionally,
 * e.g. (csp_case){ch, CSP_OP_RECV, &v}. */
typedef struct {
    csp_chan   *chan;   /* NULL: this case is never ready (Go's nil channel) */
    enum csp_op op;
    void       *elem;   /* send: the value; recv: where to store it (may be NULL) */
    bool        ok;     /* recv: false when the channel was closed and drained */
} csp_case;

/* Waits until one case can proceed and carries it out. Returns its index —
 * chosen uniformly at random among the ready ones — or -1 when `nonblocking`
 * and none is ready (Go's `default`). A blocking select with no cases, or only
 * NULL channels, blocks forever. A send case on a closed channel, if chosen,
 * panics, as in Go. */
int       csp_select(csp_case *cases, size_t n, bool nonblocking);

/* ------------------------------------------------------------ Wait groups */

csp_waitgroup *csp_wg_make(void);
void      csp_wg_add(csp_waitgroup *wg, int delta);  /* panics on negative counter */
void      csp_wg_done(csp_waitgroup *wg);            /* csp_wg_add(wg, -1) */
void      csp_wg_wait(csp_waitgroup *wg);            /* until the counter is 0 */
void      csp_wg_free(csp_waitgroup *wg);            /* NULL is a no-op */

/* ---------------------------------------------------------------- Mutexes */

/* name is shown in dumps ("mutex lock \"clients\""); NULL means "mutex". */
csp_mutex *csp_mutex_make(const char *name);
void      csp_mutex_lock(csp_mutex *m);    /* waits are visible to dumps and deadlock checks */
void      csp_mutex_unlock(csp_mutex *m);  /* panics if not locked; any task may unlock (as in Go) */
bool      csp_mutex_trylock(csp_mutex *m);
void      csp_mutex_free(csp_mutex *m);    /* NULL is a no-op */

/* ----------------------------------------------------------------- Timers */

/* Timer channels have capacity 1 and carry one csp_duration: the csp_now() at
 * which the timer fired. As in Go, a tick that finds the channel full is
 * dropped. A duration <= 0 fires at once. */
csp_chan   *csp_after(csp_duration d);          /* time.After */
/* time.Tick: never stops — a leak unless it lives as long as the program.
 * Returns NULL for d <= 0, as Go does. */
csp_chan   *csp_tick(csp_duration d);
csp_ticker *csp_ticker_make(csp_duration d);    /* time.NewTicker; panics for d <= 0 */
csp_chan   *csp_ticker_chan(csp_ticker *t);
void        csp_ticker_stop(csp_ticker *t);     /* no more ticks; the channel stays open */
void        csp_ticker_free(csp_ticker *t);     /* stops it and frees it and its channel */
void        csp_sleep(csp_duration d);          /* d <= 0 returns at once */
csp_duration csp_now(void);                     /* monotonic; virtual in controlled mode */

/* ------------------------------------------------------ Outside the runtime */

/* A task about to block outside the runtime (read, accept, waiting on stdin)
 * says so, so that it is shown as "[syscall WHAT]" and never taken for asleep
 * or hung. Calls nest; WHAT must outlive the call. */
void      csp_syscall_enter(const char *what);
void      csp_syscall_exit(void);

/* ----------------------------------------------------------------- Panics */

/* Go-style panic: prints "panic: MESSAGE", then a dump of every task, and
 * aborts (inside a harness run: ends the run with verdict PANIC). */
CSP_NORETURN void csp_panic(const char *fmt, ...) CSP_PRINTF(1, 2);

#ifdef __cplusplus
}
#endif
#endif /* CSP_H */
