/* internal.h — the parts of libchanlab_exec.so (the LD_PRELOAD library of
 * `chanlab exec`, DESIGN §9): server.c (the fork server and the wire),
 * sched.c (the baton scheduler over real threads), sync.c (the modelled
 * pthread objects), clock.c (virtual time), real.c (the functions we stand
 * in front of).
 *
 * The baton invariant: in a controlled run, exactly one thread of the
 * program — the one holding the baton — runs program or library code; every
 * other controlled thread sleeps on its own futex word in exec__switch. All
 * the scheduler's state below (threads, objects, virtual time) is touched
 * only by the baton holder, so it needs no lock; the baton's release/acquire
 * on the futex word orders one holder's writes before the next one's reads.
 * A thread that is not controlled (exec__me() NULL: the fork server, a
 * thread past its exit, the library disabled) goes straight to libc. */
#ifndef CHANLAB_EXEC_INTERNAL_H
#define CHANLAB_EXEC_INTERNAL_H

#include "csp_sched.h"
#include "exec_wire.h"
#include "harness.h"

#include <pthread.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#define EXEC_API __attribute__((visibility("default")))
#define EXEC_MAX_THREADS 4096   /* threads made in one run; more ends it with an error */

/* ------------------------------------------------------------------ libc */

typedef struct {
    int (*create)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);
    int (*join)(pthread_t, void **);
    int (*detach)(pthread_t);
    void (*exit)(void *) __attribute__((noreturn));
    int (*mutex_init)(pthread_mutex_t *, const pthread_mutexattr_t *);
    int (*mutex_lock)(pthread_mutex_t *);
    int (*mutex_trylock)(pthread_mutex_t *);
    int (*mutex_unlock)(pthread_mutex_t *);
    int (*cond_init)(pthread_cond_t *, const pthread_condattr_t *);
    int (*cond_wait)(pthread_cond_t *, pthread_mutex_t *);
    int (*cond_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
    int (*cond_signal)(pthread_cond_t *);
    int (*cond_broadcast)(pthread_cond_t *);
    int (*rw_rdlock)(pthread_rwlock_t *);
    int (*rw_wrlock)(pthread_rwlock_t *);
    int (*rw_tryrdlock)(pthread_rwlock_t *);
    int (*rw_trywrlock)(pthread_rwlock_t *);
    int (*rw_unlock)(pthread_rwlock_t *);
    int (*sem_init)(sem_t *, int, unsigned);
    int (*sem_wait)(sem_t *);
    int (*sem_trywait)(sem_t *);
    int (*sem_timedwait)(sem_t *, const struct timespec *);
    int (*sem_post)(sem_t *);
    int (*sem_getvalue)(sem_t *, int *);
    int (*barrier_init)(pthread_barrier_t *, const pthread_barrierattr_t *, unsigned);
    int (*barrier_wait)(pthread_barrier_t *);
    int (*spin_lock)(pthread_spinlock_t *);
    int (*spin_trylock)(pthread_spinlock_t *);
    int (*spin_unlock)(pthread_spinlock_t *);
    int (*once)(pthread_once_t *, void (*)(void));
    int (*sched_yield)(void);
    int (*clock_gettime)(clockid_t, struct timespec *);
    int (*nanosleep)(const struct timespec *, struct timespec *);
    int (*clock_nanosleep)(clockid_t, int, const struct timespec *, struct timespec *);
    unsigned (*sleep)(unsigned);
    int (*usleep)(useconds_t);
    pid_t (*fork)(void);
    void (*exit_process)(int) __attribute__((noreturn));
    int (*libc_start_main)(int (*)(int, char **, char **), int, char **, void (*)(void),
                           void (*)(void), void (*)(void), void *);
} exec_real;

extern exec_real exec__real;
/* Fills exec__real (dlsym RTLD_NEXT); idempotent. */
void exec__resolve(void);

/* --------------------------------------------------------------- threads */

typedef struct exec_xthread {
    uint32_t id;
    _Atomic uint32_t baton;          /* futex word: 1 = this thread may run */
    uint32_t state;                  /* exec_thread_state (RUNNABLE or BLOCKED or DONE) */
    pid_t tid;
    pthread_t self;
    /* what it waits for, while BLOCKED */
    uint32_t wait;                   /* exec_wait */
    const void *object;
    const char *call;                /* the call it is blocked in, or last passed a point in */
    int64_t deadline;                /* virtual ns, or -1 */
    bool timed_out, signaled;
    bool woke_spuriously;            /* its last condition wait returned without a signal */
    /* life */
    void *(*fn)(void *);
    void *name_fn;                   /* shown as its start routine, if not fn */
    char name[16];                   /* pthread_setname_np's, or empty */
    void *arg, *retval;
    uint32_t creator;
    uintptr_t created_at;
    bool detached, joined;
    /* stack capture (exec__capture_all) */
    bool capture;
    uint32_t npcs;
    uintptr_t pcs[EXEC_MAX_PCS];
} exec_xthread;

/* The calling thread's record in a controlled run, or NULL (go to libc). */
exec_xthread *exec__me(void);

/* Scheduling point: a RUN decision among the runnable threads (the caller
 * among them). Every interposed synchronisation call passes one first. */
void exec__point_at(const char *call);
#define exec__point() exec__point_at(__func__)
/* Blocks the caller on (wait, object) until exec__wake makes it runnable
 * and the scheduler picks it; deadline (virtual ns, or -1) wakes it with
 * timed_out set. Returns true when woken by the timer. */
bool exec__block(uint32_t wait, const void *object, const char *call, int64_t deadline);
/* Makes every thread blocked on (wait, object) runnable; returns how many. */
unsigned exec__wake_all(uint32_t wait, const void *object);
void exec__wake(exec_xthread *t);
/* The threads blocked on (wait, object), in id order, at most max. */
unsigned exec__waiters(uint32_t wait, const void *object, exec_xthread **out, unsigned max);
/* A choice among n >= 2 options (a SELECT decision: which waiter a signal
 * wakes, whether a wait wakes spuriously). */
size_t exec__choose(size_t n);
exec_xthread *exec__thread_by_id(uint32_t id);
exec_xthread *exec__thread_by_handle(pthread_t t);

/* Thread lifecycle (sched.c), called from the interposers. */
/* name: the routine the thread is named after, when fn is a sanitizer's. */
int exec__create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg, uintptr_t caller,
                 void *name);
/* The same behind a sanitizer's start routine `start` (arg its parameter
 * block), which calls *callback(*param) once it has set the thread up: the
 * program's routine there is replaced by the trampoline. */
int exec__create_tsan(pthread_t *t, const pthread_attr_t *attr, void *(*start)(void *), void *arg,
                      void *(**callback)(void *), void **param, uintptr_t caller);
int exec__join(pthread_t t, void **ret);
int exec__detach(pthread_t t);
__attribute__((noreturn)) void exec__thread_exit(void *ret);
/* main returned or exit was called: the leak check, once. */
void exec__exiting(void);

/* ------------------------------------------------------------ the server */

/* Set in a controlled child before main; read by everything. */
extern bool exec__controlled;
extern bool exec__spurious;          /* condition variables may wake spuriously */

/* The run's shared page (server.c): what the child leaves for the server. */
typedef struct {
    _Atomic uint64_t steps;          /* scheduling points so far (the spin watch reads it) */
    _Atomic int32_t running_tid;     /* the baton holder's kernel tid */
    _Atomic uint32_t running_id;
    uint32_t ending;                 /* exec_ending, when the child set one */
    uint32_t leaked;
    uint64_t decisions;
    uint64_t vtime;
    uint64_t pct_step;
    char error[200];
    _Atomic uint32_t spin_captured;  /* the spin signal's handler filled spin_pcs */
    uint32_t spin_npcs;
    uintptr_t spin_pcs[EXEC_MAX_PCS];
    uint32_t nthreads;
    exec_thread threads[EXEC_MAX_THREADS];
    uint64_t ndec;                   /* harness_decision records in exec__shared_dec */
} exec_shared;

extern exec_shared *exec__shared;
/* Records one decision (the strategy's last) for the server. */
void exec__note_decision(void);
/* The child's end with a verdict of its own (deadlock, steps, error): the
 * threads are recorded, the process leaves at once. */
__attribute__((noreturn)) void exec__end_run(uint32_t ending, const char *error);
/* Fills exec__shared->threads from the live threads (stacks captured). */
void exec__record_threads(bool capture);

/* Strategy hooks of the current run (server.c owns the state). */
size_t exec__decide(csp_decision_kind kind, size_t n, const uint64_t *ids, int current);
void exec__spawned(uint64_t id);
uint64_t exec__step_limit(void);

/* Stacks: the caller's return addresses, library frames dropped (this
 * library's text found once, in the server, by exec__lib_bounds). */
void exec__lib_bounds(void);
uint32_t exec__backtrace(uintptr_t *pcs, uint32_t max);

/* ----------------------------------------------------------------- clock */

/* Virtual time: ns since the run began; clocks read base + now. */
extern int64_t exec__vnow;
int64_t exec__deadline(clockid_t clock, const struct timespec *abstime);
void exec__clock_init(void);

#endif
