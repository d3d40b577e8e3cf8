/* sched.c — the baton scheduler: real OS threads of an unmodified program,
 * exactly one of them running at a time (internal.h states the invariant).
 *
 * Every thread has a futex word; holding the baton means one's word was set
 * by the previous holder. A scheduling point asks the strategy which
 * runnable thread goes on (a RUN decision with the same ids/current meaning
 * as the fibers backend's, csp_sched.h) and, if it is another, passes the
 * baton and sleeps on its own word. Blocking is modelled: a thread that
 * cannot lock a mutex is marked BLOCKED on the mutex and passes the baton;
 * the unlocker marks it RUNNABLE and it retries when picked. So the real
 * pthread objects are never contended, and "nothing runnable, no timed wait
 * to wake" is the exact deadlock condition. Virtual time moves only then:
 * to the earliest deadline of a sleeping or timed-waiting thread.
 *
 * Stacks are taken by the threads themselves: a blocked thread is handed
 * the baton with `capture` set, writes its backtrace and hands it back. */
#include "internal.h"

#include <errno.h>
#include <execinfo.h>
#include <dlfcn.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static __thread exec_xthread *me_tls __attribute__((tls_model("initial-exec")));
/* Set while this thread runs the library's own use of libc (the unwinder
 * takes libgcc's mutex): those calls go straight to libc. */
static __thread int quiet __attribute__((tls_model("initial-exec")));
static exec_xthread threads[EXEC_MAX_THREADS + 1];   /* by id; [0] unused */
static uint32_t nthreads;                            /* the highest id made */
static uint64_t ids[EXEC_MAX_THREADS];               /* the baton holder's scratch */
static exec_xthread *capture_requester;
static uint64_t steps, step_limit;
static bool exiting;                                 /* main returned or exit was called */

exec_xthread *exec__me(void) { return exec__controlled && !quiet ? me_tls : NULL; }

exec_xthread *exec__thread_by_id(uint32_t id) { return id >= 1 && id <= nthreads ? &threads[id] : NULL; }

/* The newest thread with this handle that has not been joined (handles are
 * reused once a thread is gone). */
exec_xthread *exec__thread_by_handle(pthread_t t)
{
    for (uint32_t i = nthreads; i >= 1; i--)
        if (pthread_equal(threads[i].self, t) && !threads[i].joined)
            return &threads[i];
    return NULL;
}

/* ----------------------------------------------------------------- Baton */

static void futex(_Atomic uint32_t *w, int op, uint32_t v)
{
    syscall(SYS_futex, w, op, v, NULL, NULL, 0);
}

static void baton_give(exec_xthread *t)
{
    atomic_store_explicit(&t->baton, 1, memory_order_release);
    futex(&t->baton, FUTEX_WAKE_PRIVATE, 1);
}

static void baton_take(exec_xthread *t)
{
    for (int spin = 0;; spin++) {
        if (atomic_load_explicit(&t->baton, memory_order_acquire))
            break;
        (void)spin;   /* every thread of a child shares one CPU: no point spinning */
        futex(&t->baton, FUTEX_WAIT_PRIVATE, 0);
    }
    atomic_store_explicit(&t->baton, 0, memory_order_relaxed);
}

/* Waits for the baton; a capture request is served (the stack written, the
 * baton handed back) and the wait goes on. */
static void baton_wait(exec_xthread *me)
{
    for (;;) {
        baton_take(me);
        if (!me->capture)
            break;
        me->npcs = exec__backtrace(me->pcs, EXEC_MAX_PCS);
        me->capture = false;
        baton_give(capture_requester);
    }
    atomic_store_explicit(&exec__shared->running_tid, me->tid, memory_order_relaxed);
    atomic_store_explicit(&exec__shared->running_id, me->id, memory_order_relaxed);
}

static void switch_to(exec_xthread *me, exec_xthread *next)
{
    if (next == me)
        return;
    baton_give(next);
    baton_wait(me);
}

/* ------------------------------------------------------------- Decisions */

/* Runnable threads in id order into ids[]; *cur the index of `me`, or -1. */
static size_t runnable(const exec_xthread *me, int *cur)
{
    size_t n = 0;
    *cur = -1;
    for (uint32_t i = 1; i <= nthreads; i++)
        if (threads[i].state == EXEC_T_RUNNABLE) {
            if (&threads[i] == me)
                *cur = (int)n;
            ids[n++] = i;
        }
    return n;
}

static size_t decide(csp_decision_kind kind, size_t n, int cur)
{
    size_t pick = exec__decide(kind, n, kind == CSP_DECIDE_RUN ? ids : NULL, cur);
    if (pick >= n)
        exec__end_run(EXEC_END_ERROR, NULL);
    exec__note_decision();
    return pick;
}

size_t exec__choose(size_t n) { return n < 2 ? 0 : decide(CSP_DECIDE_SELECT, n, -1); }

static void step(void)
{
    steps++;
    atomic_store_explicit(&exec__shared->steps, steps, memory_order_relaxed);
    if (!step_limit)
        step_limit = exec__step_limit();
    if (step_limit && steps > step_limit)
        exec__end_run(EXEC_END_STEPS, NULL);
}

uint64_t csp_sched_steps(void) { return steps; }   /* what the strategies' fairness reads */
/* dpor.c's way to end a redundant run; never reached here (no reduction). */
void csp_sched_abort(void) { exec__end_run(EXEC_END_ERROR, NULL); }

void exec__point_at(const char *call)
{
    exec_xthread *me = me_tls;
    me->call = call;
    if (exiting)
        return;
    step();
    int cur;
    size_t n = runnable(me, &cur);
    if (n < 2)
        return;
    switch_to(me, &threads[ids[decide(CSP_DECIDE_RUN, n, cur)]]);
}

/* Virtual time moves to the earliest deadline of a blocked thread and wakes
 * every thread due then; false when no thread has a deadline. */
static bool advance_time(void)
{
    int64_t earliest = -1;
    for (uint32_t i = 1; i <= nthreads; i++) {
        exec_xthread *t = &threads[i];
        if (t->state == EXEC_T_BLOCKED && t->deadline >= 0 && (earliest < 0 || t->deadline < earliest))
            earliest = t->deadline;
    }
    if (earliest < 0)
        return false;
    if (earliest > exec__vnow)
        exec__vnow = earliest;
    for (uint32_t i = 1; i <= nthreads; i++) {
        exec_xthread *t = &threads[i];
        if (t->state == EXEC_T_BLOCKED && t->deadline >= 0 && t->deadline <= exec__vnow) {
            t->timed_out = true;
            t->state = EXEC_T_RUNNABLE;
        }
    }
    exec__shared->vtime = (uint64_t)exec__vnow;
    return true;
}

/* `me` cannot go on (blocked or done): the next runnable thread, moving
 * virtual time if none is; none at all is the deadlock. */
static exec_xthread *next_after(exec_xthread *me)
{
    for (;;) {
        int cur;
        size_t n = runnable(me, &cur);
        if (n == 1)
            return &threads[ids[0]];
        if (n > 1)
            return &threads[ids[decide(CSP_DECIDE_RUN, n, -1)]];
        if (!advance_time())
            exec__end_run(EXEC_END_DEADLOCK, NULL);
    }
}

bool exec__block(uint32_t wait, const void *object, const char *call, int64_t deadline)
{
    exec_xthread *me = me_tls;
    if (deadline >= 0 && deadline <= exec__vnow)
        return true;
    me->state = EXEC_T_BLOCKED;
    me->wait = wait;
    me->object = object;
    me->call = call;
    me->deadline = deadline;
    me->timed_out = false;
    switch_to(me, next_after(me));
    me->wait = EXEC_W_NONE;
    me->deadline = -1;
    return me->timed_out;
}

void exec__wake(exec_xthread *t)
{
    if (t->state == EXEC_T_BLOCKED) {
        t->state = EXEC_T_RUNNABLE;
        t->timed_out = false;
    }
}

unsigned exec__waiters(uint32_t wait, const void *object, exec_xthread **out, unsigned max)
{
    unsigned n = 0;
    for (uint32_t i = 1; i <= nthreads && n < max; i++)
        if (threads[i].state == EXEC_T_BLOCKED && threads[i].wait == wait && threads[i].object == object)
            out[n++] = &threads[i];
    return n;
}

unsigned exec__wake_all(uint32_t wait, const void *object)
{
    unsigned n = 0;
    for (uint32_t i = 1; i <= nthreads; i++)
        if (threads[i].state == EXEC_T_BLOCKED && threads[i].wait == wait && threads[i].object == object) {
            exec__wake(&threads[i]);
            n++;
        }
    return n;
}

/* ---------------------------------------------------------------- Stacks */

static uintptr_t lib_lo, lib_hi;   /* this library's text */

void exec__lib_bounds(void)
{
    Dl_info info;
    if (lib_hi || !dladdr((void *)exec__lib_bounds, &info))
        return;
    /* Our executable mapping, found by our file's name in the maps. */
    lib_lo = (uintptr_t)info.dli_fbase;
    lib_hi = lib_lo + 1;
    FILE *f = fopen("/proc/self/maps", "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        unsigned long lo, hi;
        char perms[8];
        if (sscanf(line, "%lx-%lx %7s", &lo, &hi, perms) == 3 && strstr(line, info.dli_fname) &&
            perms[2] == 'x') {
            lib_lo = lo;
            lib_hi = hi;
        }
    }
    fclose(f);
}

uint32_t exec__backtrace(uintptr_t *pcs, uint32_t max)
{
    /* glibc's own backtrace: a sanitizer's interceptor in front of it
     * would add its frame. */
    static int (*libc_backtrace)(void **, int);
    if (!libc_backtrace)
        libc_backtrace = (int (*)(void **, int))dlsym(RTLD_NEXT, "backtrace");
    void *raw[EXEC_MAX_PCS + 16];
    quiet++;
    int n = libc_backtrace ? libc_backtrace(raw, EXEC_MAX_PCS + 16) : 0;
    quiet--;
    int i = 0;
    while (i < n && (uintptr_t)raw[i] >= lib_lo && (uintptr_t)raw[i] < lib_hi)
        i++;
    uint32_t k = 0;
    for (; i < n && k < max; i++)
        pcs[k++] = (uintptr_t)raw[i];
    return k;
}

/* Every live thread's record into the shared page; with capture, each
 * blocked or runnable thread writes its own stack first. */
void exec__record_threads(bool capture)
{
    exec_xthread *me = me_tls;
    exec_shared *sh = exec__shared;
    uint32_t k = 0;
    for (uint32_t i = 1; i <= nthreads; i++) {
        exec_xthread *t = &threads[i];
        if (t->state == EXEC_T_DONE)
            continue;
        if (capture && t == me) {
            t->npcs = exec__backtrace(t->pcs, EXEC_MAX_PCS);
        } else if (capture && me) {
            t->capture = true;
            capture_requester = me;
            baton_give(t);
            baton_take(me);
        }
        exec_thread *r = &sh->threads[k++];
        memset(r, 0, sizeof *r);
        r->id = t->id;
        r->state = t == me && t->state == EXEC_T_RUNNABLE ? EXEC_T_RUNNING : t->state;
        r->wait = t->state == EXEC_T_BLOCKED ? t->wait : EXEC_W_NONE;
        r->object = (uintptr_t)t->object;
        r->creator = t->creator;
        r->start_fn = (uintptr_t)(t->name_fn ? t->name_fn : (void *)t->fn);
        r->created_at = t->created_at;
        r->detached = t->detached;
        r->deadline_ns = t->deadline;
        snprintf(r->call, sizeof r->call, "%s", t->call ? t->call : "");
        memcpy(r->name, t->name, sizeof r->name);
        r->npcs = t->npcs;
        memcpy(r->pcs, t->pcs, t->npcs * sizeof *t->pcs);
        if (r->wait == EXEC_W_JOIN)
            r->value = ((const exec_xthread *)t->object)->id;
    }
    sh->nthreads = k;
}

/* -------------------------------------------------------------- Threads */

/* Fills in what sync.c knows about the object each blocked thread waits on
 * (owner, value): sync.c's hook. */
void exec__describe_waits(exec_shared *sh);

static void finish(exec_xthread *me, void *ret)
{
    me->retval = ret;
    me->state = EXEC_T_DONE;
    exec__wake_all(EXEC_W_JOIN, me);
    me_tls = NULL;   /* what this thread does from here on (TLS destructors) is libc's */
    bool live = false;
    for (uint32_t i = 1; i <= nthreads && !live; i++)
        live = threads[i].state != EXEC_T_DONE;
    if (!live)
        return;      /* the last thread: the process ends with it */
    me_tls = me;     /* next_after may record the threads (a deadlock) */
    exec_xthread *next = next_after(me);
    me_tls = NULL;
    baton_give(next);
}

static void *trampoline(void *p)
{
    exec_xthread *me = p;
    me->tid = (pid_t)syscall(SYS_gettid);
    me_tls = me;
    baton_wait(me);
    void *ret = me->fn(me->arg);
    finish(me, ret);
    return ret;
}

/* The record of a thread about to be made (not yet counted). */
static exec_xthread *new_thread(void *(*fn)(void *), void *arg, const pthread_attr_t *attr, uintptr_t caller);

int exec__create_tsan(pthread_t *t, const pthread_attr_t *attr, void *(*start)(void *), void *arg,
                      void *(**callback)(void *), void **param, uintptr_t caller)
{
    exec__point_at("pthread_create");
    exec_xthread *x = new_thread(*callback, *param, attr, caller);
    if (!x)
        return EAGAIN;
    *callback = trampoline;
    *param = x;
    nthreads++;
    int rc = exec__real.create(t, attr, start, arg);
    if (rc != 0) {
        nthreads--;
        return rc;
    }
    x->self = *t;
    exec__spawned(x->id);
    return 0;
}

static exec_xthread *new_thread(void *(*fn)(void *), void *arg, const pthread_attr_t *attr, uintptr_t caller)
{
    exec_xthread *me = me_tls;
    if (nthreads >= EXEC_MAX_THREADS)   /* never a silent EAGAIN the program would act on */
        exec__end_run(EXEC_END_ERROR, "the program made more than 4096 threads in one run, more than "
                                      "chanlab exec follows");
    exec_xthread *x = &threads[nthreads + 1];
    memset(x, 0, sizeof *x);
    x->id = nthreads + 1;
    x->state = EXEC_T_RUNNABLE;
    x->deadline = -1;
    x->fn = fn;
    x->arg = arg;
    x->creator = me->id;
    x->created_at = caller;
    int ds = PTHREAD_CREATE_JOINABLE;
    if (attr)
        pthread_attr_getdetachstate(attr, &ds);
    x->detached = ds == PTHREAD_CREATE_DETACHED;
    return x;
}

int exec__create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg, uintptr_t caller,
                 void *name)
{
    exec__point_at("pthread_create");
    exec_xthread *x = new_thread(fn, arg, attr, caller);
    if (!x)
        return EAGAIN;
    x->name_fn = name;
    nthreads++;
    int rc = exec__real.create(t, attr, trampoline, x);
    if (rc != 0) {
        nthreads--;
        return rc;
    }
    x->self = *t;
    exec__spawned(x->id);
    return 0;
}

int exec__join(pthread_t t, void **ret)
{
    exec_xthread *me = me_tls;
    exec__point_at("pthread_join");
    exec_xthread *x = exec__thread_by_handle(t);
    if (!x)
        return exec__real.join(t, ret);
    if (x == me)
        return EDEADLK;
    if (x->detached)
        return EINVAL;
    while (x->state != EXEC_T_DONE)
        exec__block(EXEC_W_JOIN, x, "pthread_join", -1);
    x->joined = true;
    /* The thread has passed the baton on and is leaving the kernel: a short
     * real wait, never a modelled one. */
    void *r;
    exec__real.join(t, &r);
    if (ret)
        *ret = x->retval;
    return 0;
}

int exec__detach(pthread_t t)
{
    exec__point_at("pthread_detach");
    exec_xthread *x = exec__thread_by_handle(t);
    if (x)
        x->detached = true;
    return exec__real.detach(t);
}

void exec__thread_exit(void *ret)
{
    exec_xthread *me = me_tls;
    exec__point_at("pthread_exit");
    finish(me, ret);
    exec__real.exit(ret);
}

/* Threads alive when main returns or exit is called: blocked ones, and
 * joinable ones never joined, are leaked. */
void exec__exiting(void)
{
    exec_xthread *me = me_tls;
    if (exiting || !me)
        return;
    exiting = true;
    uint32_t leaked = 0;
    for (uint32_t i = 1; i <= nthreads; i++) {
        exec_xthread *t = &threads[i];
        if (t != me && (t->state == EXEC_T_BLOCKED || (t->state == EXEC_T_RUNNABLE && !t->detached)))
            leaked++;
    }
    exec__shared->leaked = leaked;
    if (leaked) {
        exec__record_threads(true);
        exec__describe_waits(exec__shared);
    }
}

/* The child's main thread becomes thread 1, holding the baton. */
void exec__sched_init(void);
void exec__sched_init(void)
{
    exec_xthread *m = &threads[1];
    memset(m, 0, sizeof *m);
    m->id = 1;
    m->state = EXEC_T_RUNNABLE;
    m->deadline = -1;
    m->tid = (pid_t)syscall(SYS_gettid);
    m->self = pthread_self();
    nthreads = 1;
    me_tls = m;
    atomic_store(&exec__shared->running_tid, m->tid);
    atomic_store(&exec__shared->running_id, 1);
    exec__spawned(1);
}

void exec__end_run(uint32_t ending, const char *error)
{
    exec_shared *sh = exec__shared;
    sh->ending = ending;
    if (error)
        snprintf(sh->error, sizeof sh->error, "%s", error);
    exiting = true;
    if (ending == EXEC_END_DEADLOCK || ending == EXEC_END_STEPS) {
        exec__record_threads(true);
        exec__describe_waits(sh);
    }
    fflush(stdout);
    fflush(stderr);
    _exit(0);
}
