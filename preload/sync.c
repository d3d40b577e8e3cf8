/* sync.c — the pthread objects as the scheduler models them, and the
 * interposed calls (internal.h: the baton invariant).
 *
 * Each object the program touches gets a model record, found by address:
 * a mutex's owner and recursion depth, a rwlock's writer and reader count, a
 * semaphore's value, a barrier's arrivals and generation, a once's state. A
 * call first passes a scheduling point, then acts on the model; when the
 * model grants a lock, the real object is locked too (uncontended, it never
 * waits), so the real object always agrees with the model and a sanitizer
 * stacked behind us (TSan, DESIGN-level note in server.c) sees each lock and
 * unlock. Waiting is the scheduler's (exec__block), never the kernel's.
 * Condition variables and barriers are modelled only: their real
 * counterparts would block.
 *
 * When the calling thread is not controlled (exec__me() NULL) every call
 * goes to libc unchanged. */
#include "internal.h"

#include <dlfcn.h>
#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

enum { OBJ_FREE, OBJ_MUTEX, OBJ_COND, OBJ_RWLOCK, OBJ_SEM, OBJ_BARRIER, OBJ_ONCE, OBJ_SPIN,
       OBJ_GONE /* destroyed: the next use starts afresh (the slot keeps its probe chain) */ };

typedef struct {
    const void *addr;
    uint8_t kind;
    uint8_t mtype;       /* mutex: PTHREAD_MUTEX_NORMAL, RECURSIVE, ERRORCHECK */
    clockid_t clock;     /* condition variable: the clock of its timed waits */
    uint32_t owner;      /* mutex, spinlock: holder; rwlock: writer */
    uint32_t count;      /* mutex: recursion depth; rwlock: readers */
    int64_t value;       /* semaphore: value; barrier: arrivals */
    uint32_t need;       /* barrier: its count */
    uint64_t gen;        /* barrier: generation */
    uint8_t once;        /* 0 not run, 1 running, 2 done */
} exec_obj;

#define OBJ_TABLE 16384   /* objects per run; a full table fails the run */
static exec_obj objs[OBJ_TABLE];
static unsigned nobjs;

/* The model record of addr as `kind`; a record of another kind at the same
 * address (memory reused for another object) starts afresh. */
static exec_obj *obj(const void *addr, uint8_t kind)
{
    size_t h = (size_t)(((uintptr_t)addr >> 3) * 0x9e3779b97f4a7c15ull >> 50) % OBJ_TABLE;
    for (size_t k = 0; k < OBJ_TABLE; k++, h = (h + 1) % OBJ_TABLE) {
        exec_obj *o = &objs[h];
        if (o->addr == addr) {
            if (o->kind != kind) {
                memset(o, 0, sizeof *o);
                o->addr = addr;
                o->kind = kind;
                o->clock = CLOCK_REALTIME;
            }
            return o;
        }
        if (o->kind == OBJ_FREE) {
            if (++nobjs > OBJ_TABLE * 3 / 4)
                exec__end_run(EXEC_END_ERROR, "more than 12288 pthread objects in one run");
            o->addr = addr;
            o->kind = kind;
            o->clock = CLOCK_REALTIME;
            return o;
        }
    }
    exec__end_run(EXEC_END_ERROR, "the pthread object table is full");
}

static exec_obj *find(const void *addr)
{
    size_t h = (size_t)(((uintptr_t)addr >> 3) * 0x9e3779b97f4a7c15ull >> 50) % OBJ_TABLE;
    for (size_t k = 0; k < OBJ_TABLE; k++, h = (h + 1) % OBJ_TABLE) {
        if (objs[h].addr == addr)
            return &objs[h];
        if (objs[h].kind == OBJ_FREE)
            return NULL;
    }
    return NULL;
}

/* What a dump says about the objects blocked threads wait on. */
void exec__describe_waits(exec_shared *sh);
void exec__describe_waits(exec_shared *sh)
{
    for (uint32_t i = 0; i < sh->nthreads; i++) {
        exec_thread *r = &sh->threads[i];
        exec_obj *o = r->wait != EXEC_W_JOIN && r->object ? find((const void *)(uintptr_t)r->object) : NULL;
        if (!o)
            continue;
        switch (r->wait) {
        case EXEC_W_MUTEX: case EXEC_W_SPIN: case EXEC_W_WRLOCK: case EXEC_W_RDLOCK:
            r->owner = o->owner;
            r->value = o->count;
            break;
        case EXEC_W_SEM:
            r->value = o->value;
            break;
        case EXEC_W_BARRIER:
            r->value = o->value;
            r->owner = o->need;
            break;
        default:
            break;
        }
    }
}

/* --------------------------------------------------------------- Mutexes */

/* glibc x86-64: pthread_mutex_t.__data.__kind; the low two bits are the type. */
static uint8_t mutex_type(pthread_mutex_t *m)
{
    int k = m->__data.__kind & 3;
    return k == PTHREAD_MUTEX_RECURSIVE || k == PTHREAD_MUTEX_ERRORCHECK ? (uint8_t)k : PTHREAD_MUTEX_NORMAL;
}

static exec_obj *mutex_obj(pthread_mutex_t *m)
{
    exec_obj *o = obj(m, OBJ_MUTEX);
    if (o->owner == 0)
        o->mtype = mutex_type(m);
    return o;
}

/* Locks m in the model and for real; deadline -1 waits forever. */
static int mutex_acquire(pthread_mutex_t *m, const char *call, int64_t deadline, uint32_t depth)
{
    exec_xthread *me = exec__me();
    for (;;) {
        exec_obj *o = mutex_obj(m);
        if (o->owner == 0) {
            o->owner = me->id;
            o->count = depth;
            for (uint32_t i = 0; i < depth; i++)
                exec__real.mutex_lock(m);
            return 0;
        }
        if (o->owner == me->id && o->mtype == PTHREAD_MUTEX_RECURSIVE) {
            if (o->count == UINT32_MAX)
                return EAGAIN;
            o->count++;
            exec__real.mutex_lock(m);
            return 0;
        }
        if (o->owner == me->id && o->mtype == PTHREAD_MUTEX_ERRORCHECK)
            return EDEADLK;
        /* Held by another thread, or a normal mutex by this one (which
         * waits for itself forever, as glibc's does). */
        if (exec__block(EXEC_W_MUTEX, m, call, deadline))
            return ETIMEDOUT;
    }
}

/* Unlocks m entirely (a condition wait); returns the depth it had. */
static uint32_t mutex_release_all(pthread_mutex_t *m)
{
    exec_obj *o = mutex_obj(m);
    uint32_t depth = o->count ? o->count : 1;
    o->owner = 0;
    o->count = 0;
    for (uint32_t i = 0; i < depth; i++)
        exec__real.mutex_unlock(m);
    exec__wake_all(EXEC_W_MUTEX, m);
    return depth;
}

EXEC_API int pthread_mutex_lock(pthread_mutex_t *m)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.mutex_lock(m);
    exec__point();
    return mutex_acquire(m, "pthread_mutex_lock", -1, 1);
}

EXEC_API int pthread_mutex_trylock(pthread_mutex_t *m)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.mutex_trylock(m);
    exec__point();
    exec_obj *o = mutex_obj(m);
    if (o->owner != 0 && !(o->owner == exec__me()->id && o->mtype == PTHREAD_MUTEX_RECURSIVE))
        return EBUSY;
    return mutex_acquire(m, "pthread_mutex_trylock", -1, 1);
}

EXEC_API int pthread_mutex_timedlock(pthread_mutex_t *m, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(pthread_mutex_t *, const struct timespec *) = dlsym(RTLD_NEXT, "pthread_mutex_timedlock");
        return real(m, abstime);
    }
    exec__point();
    return mutex_acquire(m, "pthread_mutex_timedlock", exec__deadline(CLOCK_REALTIME, abstime), 1);
}

EXEC_API int pthread_mutex_clocklock(pthread_mutex_t *m, clockid_t clock, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(pthread_mutex_t *, clockid_t, const struct timespec *) =
            dlsym(RTLD_NEXT, "pthread_mutex_clocklock");
        return real(m, clock, abstime);
    }
    exec__point();
    return mutex_acquire(m, "pthread_mutex_clocklock", exec__deadline(clock, abstime), 1);
}

EXEC_API int pthread_mutex_unlock(pthread_mutex_t *m)
{
    exec__resolve();
    exec_xthread *me = exec__me();
    if (!me)
        return exec__real.mutex_unlock(m);
    exec__point();
    exec_obj *o = mutex_obj(m);
    if (o->owner != me->id) {
        if (o->mtype != PTHREAD_MUTEX_NORMAL)
            return EPERM;
        if (o->owner == 0)
            return 0;   /* unlocking an unlocked normal mutex: undefined; nothing to do */
    }
    if (o->mtype == PTHREAD_MUTEX_RECURSIVE && o->count > 1) {
        o->count--;
        return exec__real.mutex_unlock(m);
    }
    mutex_release_all(m);
    return 0;
}

EXEC_API int pthread_mutex_init(pthread_mutex_t *m, const pthread_mutexattr_t *attr)
{
    exec__resolve();
    int rc = exec__real.mutex_init(m, attr);
    if (rc == 0 && exec__me()) {
        exec_obj *o = obj(m, OBJ_MUTEX);
        o->owner = 0;
        o->count = 0;
        o->mtype = mutex_type(m);
    }
    return rc;
}

/* Destroying an object forgets its model: memory reused for another object
 * (which a static initializer sets up without a call) starts unlocked. */
static void forget(const void *addr)
{
    exec_obj *o = find(addr);
    if (o)
        o->kind = OBJ_GONE;
}

#define DESTROY(name, type)                                          \
    EXEC_API int name(type *x)                                       \
    {                                                                \
        exec__resolve();                                             \
        static int (*real)(type *);                                  \
        if (!real)                                                   \
            real = (int (*)(type *))dlsym(RTLD_NEXT, #name);         \
        int rc = real(x);                                            \
        if (rc == 0 && exec__me())                                   \
            forget((const void *)x);                                 \
        return rc;                                                   \
    }
DESTROY(pthread_mutex_destroy, pthread_mutex_t)
DESTROY(pthread_rwlock_destroy, pthread_rwlock_t)
DESTROY(pthread_barrier_destroy, pthread_barrier_t)
DESTROY(sem_destroy, sem_t)

/* ---------------------------------------------------- Condition variables */

EXEC_API int pthread_cond_init(pthread_cond_t *c, const pthread_condattr_t *attr)
{
    exec__resolve();
    int rc = exec__real.cond_init(c, attr);
    if (rc == 0 && exec__me()) {
        exec_obj *o = obj(c, OBJ_COND);
        clockid_t clk = CLOCK_REALTIME;
        if (attr)
            pthread_condattr_getclock(attr, &clk);
        o->clock = clk;
    }
    return rc;
}

/* The wait: the mutex released, blocked until signalled (or, as a schedule
 * choice, woken spuriously at once), the mutex taken again. */
static int cond_wait(pthread_cond_t *c, pthread_mutex_t *m, const char *call, int64_t deadline)
{
    exec_xthread *me = exec__me();
    exec__point_at(call);
    exec_obj *om = mutex_obj(m);
    if (om->owner != me->id)
        return EPERM;
    uint32_t depth = mutex_release_all(m);
    bool timed_out = false;
    /* A spurious wake-up is a choice, at most every other wait of a thread
     * (a waiting loop then still blocks, and can be seen blocked). */
    bool spurious = exec__spurious && !me->woke_spuriously && exec__choose(2) == 1;
    me->woke_spuriously = spurious;
    if (!spurious)
        timed_out = exec__block(EXEC_W_COND, c, call, deadline);
    mutex_acquire(m, call, -1, depth);
    return timed_out ? ETIMEDOUT : 0;
}

EXEC_API int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.cond_wait(c, m);
    return cond_wait(c, m, "pthread_cond_wait", -1);
}

EXEC_API int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.cond_timedwait(c, m, abstime);
    exec_obj *o = obj(c, OBJ_COND);
    return cond_wait(c, m, "pthread_cond_timedwait", exec__deadline(o->clock, abstime));
}

EXEC_API int pthread_cond_clockwait(pthread_cond_t *c, pthread_mutex_t *m, clockid_t clock,
                                    const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(pthread_cond_t *, pthread_mutex_t *, clockid_t, const struct timespec *) =
            dlsym(RTLD_NEXT, "pthread_cond_clockwait");
        return real(c, m, clock, abstime);
    }
    return cond_wait(c, m, "pthread_cond_clockwait", exec__deadline(clock, abstime));
}

EXEC_API int pthread_cond_destroy(pthread_cond_t *c)
{
    exec__resolve();
    static int (*real)(pthread_cond_t *);
    if (!real)
        real = (int (*)(pthread_cond_t *))dlvsym(RTLD_NEXT, "pthread_cond_destroy", "GLIBC_2.3.2");
    if (exec__me()) {
        exec_xthread *w[1];
        if (exec__waiters(EXEC_W_COND, c, w, 1))
            return EBUSY;
        forget(c);
    }
    return real(c);   /* never waited on for real: it returns at once */
}

EXEC_API int pthread_cond_signal(pthread_cond_t *c)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.cond_signal(c);
    exec__point();
    static exec_xthread *w[EXEC_MAX_THREADS];   /* the baton holder's (not on a small thread stack) */
    unsigned n = exec__waiters(EXEC_W_COND, c, w, EXEC_MAX_THREADS);
    if (n)
        exec__wake(w[exec__choose(n)]);   /* which waiter: a schedule choice */
    return 0;
}

EXEC_API int pthread_cond_broadcast(pthread_cond_t *c)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.cond_broadcast(c);
    exec__point();
    exec__wake_all(EXEC_W_COND, c);
    return 0;
}

/* --------------------------------------------------------------- rwlocks */

/* glibc's default: readers first (a reader enters while a writer waits). */
static int rw_acquire(pthread_rwlock_t *rw, bool write, bool try, const char *call, int64_t deadline)
{
    exec_xthread *me = exec__me();
    exec__point_at(call);
    for (;;) {
        exec_obj *o = obj(rw, OBJ_RWLOCK);
        if (o->owner == me->id)
            return EDEADLK;
        if (o->owner == 0 && (!write || o->count == 0)) {
            if (write) {
                o->owner = me->id;
                exec__real.rw_wrlock(rw);
            } else {
                o->count++;
                exec__real.rw_rdlock(rw);
            }
            return 0;
        }
        if (try)
            return EBUSY;
        if (exec__block(write ? EXEC_W_WRLOCK : EXEC_W_RDLOCK, rw, call, deadline))
            return ETIMEDOUT;
    }
}

EXEC_API int pthread_rwlock_rdlock(pthread_rwlock_t *rw)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.rw_rdlock(rw);
    return rw_acquire(rw, false, false, "pthread_rwlock_rdlock", -1);
}

EXEC_API int pthread_rwlock_wrlock(pthread_rwlock_t *rw)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.rw_wrlock(rw);
    return rw_acquire(rw, true, false, "pthread_rwlock_wrlock", -1);
}

EXEC_API int pthread_rwlock_tryrdlock(pthread_rwlock_t *rw)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.rw_tryrdlock(rw);
    return rw_acquire(rw, false, true, "pthread_rwlock_tryrdlock", -1);
}

EXEC_API int pthread_rwlock_trywrlock(pthread_rwlock_t *rw)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.rw_trywrlock(rw);
    return rw_acquire(rw, true, true, "pthread_rwlock_trywrlock", -1);
}

EXEC_API int pthread_rwlock_timedrdlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(pthread_rwlock_t *, const struct timespec *) = dlsym(RTLD_NEXT, "pthread_rwlock_timedrdlock");
        return real(rw, abstime);
    }
    return rw_acquire(rw, false, false, "pthread_rwlock_timedrdlock", exec__deadline(CLOCK_REALTIME, abstime));
}

EXEC_API int pthread_rwlock_timedwrlock(pthread_rwlock_t *rw, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(pthread_rwlock_t *, const struct timespec *) = dlsym(RTLD_NEXT, "pthread_rwlock_timedwrlock");
        return real(rw, abstime);
    }
    return rw_acquire(rw, true, false, "pthread_rwlock_timedwrlock", exec__deadline(CLOCK_REALTIME, abstime));
}

EXEC_API int pthread_rwlock_unlock(pthread_rwlock_t *rw)
{
    exec__resolve();
    exec_xthread *me = exec__me();
    if (!me)
        return exec__real.rw_unlock(rw);
    exec__point();
    exec_obj *o = obj(rw, OBJ_RWLOCK);
    if (o->owner == me->id)
        o->owner = 0;
    else if (o->count > 0)
        o->count--;
    else
        return EPERM;
    exec__real.rw_unlock(rw);
    if (o->owner == 0 && o->count == 0)
        exec__wake_all(EXEC_W_WRLOCK, rw);
    exec__wake_all(EXEC_W_RDLOCK, rw);
    return 0;
}

/* ------------------------------------------------------------ Semaphores */

static exec_obj *sem_obj(sem_t *s)
{
    exec_obj *o = find(s);
    if (o && o->kind == OBJ_SEM)
        return o;
    o = obj(s, OBJ_SEM);   /* first seen without sem_init here (sem_open): its real value */
    int v = 0;
    exec__real.sem_getvalue(s, &v);
    o->value = v;
    return o;
}

EXEC_API int sem_init(sem_t *s, int pshared, unsigned value)
{
    exec__resolve();
    int rc = exec__real.sem_init(s, pshared, value);
    if (rc == 0 && exec__me())
        obj(s, OBJ_SEM)->value = value;
    return rc;
}

static int sem_acquire(sem_t *s, bool try, const char *call, int64_t deadline)
{
    exec__point_at(call);
    for (;;) {
        exec_obj *o = sem_obj(s);
        if (o->value > 0) {
            o->value--;
            exec__real.sem_trywait(s);
            return 0;
        }
        if (try) {
            errno = EAGAIN;
            return -1;
        }
        if (exec__block(EXEC_W_SEM, s, call, deadline)) {
            errno = ETIMEDOUT;
            return -1;
        }
    }
}

EXEC_API int sem_wait(sem_t *s)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sem_wait(s);
    return sem_acquire(s, false, "sem_wait", -1);
}

EXEC_API int sem_trywait(sem_t *s)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sem_trywait(s);
    return sem_acquire(s, true, "sem_trywait", -1);
}

EXEC_API int sem_timedwait(sem_t *s, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sem_timedwait(s, abstime);
    return sem_acquire(s, false, "sem_timedwait", exec__deadline(CLOCK_REALTIME, abstime));
}

EXEC_API int sem_clockwait(sem_t *s, clockid_t clock, const struct timespec *abstime)
{
    exec__resolve();
    if (!exec__me()) {
        int (*real)(sem_t *, clockid_t, const struct timespec *) = dlsym(RTLD_NEXT, "sem_clockwait");
        return real(s, clock, abstime);
    }
    return sem_acquire(s, false, "sem_clockwait", exec__deadline(clock, abstime));
}

EXEC_API int sem_post(sem_t *s)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sem_post(s);
    exec__point();
    exec_obj *o = sem_obj(s);
    if (o->value >= SEM_VALUE_MAX) {
        errno = EOVERFLOW;
        return -1;
    }
    o->value++;
    exec__real.sem_post(s);
    exec__wake_all(EXEC_W_SEM, s);
    return 0;
}

/* -------------------------------------------------------------- Barriers */

EXEC_API int pthread_barrier_init(pthread_barrier_t *b, const pthread_barrierattr_t *attr, unsigned count)
{
    exec__resolve();
    int rc = exec__real.barrier_init(b, attr, count);
    if (rc == 0 && exec__me()) {
        exec_obj *o = obj(b, OBJ_BARRIER);
        o->need = count;
        o->value = 0;
    }
    return rc;
}

EXEC_API int pthread_barrier_wait(pthread_barrier_t *b)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.barrier_wait(b);
    exec__point();
    exec_obj *o = obj(b, OBJ_BARRIER);
    if (o->need == 0)
        return EINVAL;   /* never initialised under control */
    if (++o->value >= o->need) {
        o->value = 0;
        o->gen++;
        exec__wake_all(EXEC_W_BARRIER, b);
        return PTHREAD_BARRIER_SERIAL_THREAD;
    }
    uint64_t gen = o->gen;
    while (o->gen == gen)
        exec__block(EXEC_W_BARRIER, b, "pthread_barrier_wait", -1);
    return 0;
}

/* ------------------------------------------------------------- Spinlocks */

EXEC_API int pthread_spin_lock(pthread_spinlock_t *l)
{
    exec__resolve();
    exec_xthread *me = exec__me();
    if (!me)
        return exec__real.spin_lock(l);
    exec__point();
    for (;;) {
        exec_obj *o = obj((const void *)l, OBJ_SPIN);
        if (o->owner == 0) {
            o->owner = me->id;
            exec__real.spin_lock(l);
            return 0;
        }
        exec__block(EXEC_W_SPIN, (const void *)l, "pthread_spin_lock", -1);
    }
}

EXEC_API int pthread_spin_trylock(pthread_spinlock_t *l)
{
    exec__resolve();
    exec_xthread *me = exec__me();
    if (!me)
        return exec__real.spin_trylock(l);
    exec__point();
    exec_obj *o = obj((const void *)l, OBJ_SPIN);
    if (o->owner != 0)
        return EBUSY;
    o->owner = me->id;
    exec__real.spin_lock(l);
    return 0;
}

EXEC_API int pthread_spin_unlock(pthread_spinlock_t *l)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.spin_unlock(l);
    exec__point();
    exec_obj *o = obj((const void *)l, OBJ_SPIN);
    if (o->owner == 0)
        return 0;
    o->owner = 0;
    exec__real.spin_unlock(l);
    exec__wake_all(EXEC_W_SPIN, (const void *)l);
    return 0;
}

/* ------------------------------------------------------------------ Once */

/* glibc's pthread_once_t: bit 1 (__PTHREAD_ONCE_DONE) set once done. */
EXEC_API int pthread_once(pthread_once_t *ctl, void (*init)(void))
{
    exec__resolve();
    if (!exec__me())
        return exec__real.once(ctl, init);
    exec__point();
    exec_obj *o = find(ctl);
    if (!o || o->kind != OBJ_ONCE) {
        o = obj(ctl, OBJ_ONCE);
        o->once = (*ctl & 2) ? 2 : 0;
    }
    while (o->once == 1)
        exec__block(EXEC_W_ONCE, ctl, "pthread_once", -1);
    if (o->once == 2)
        return 0;
    o->once = 1;
    init();
    o->once = 2;
    *ctl = 2;
    exec__wake_all(EXEC_W_ONCE, ctl);
    return 0;
}

EXEC_API int sched_yield(void)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.sched_yield();
    exec__point();
    return 0;
}

/* --------------------------------------------------------------- Threads */

/* A sanitizer's runtime stands in front of us when the program's
 * pthread_create is not ours (clang links the runtime into the executable;
 * gcc's shared libtsan/libasan come after a preloaded library, and then the
 * program calls us first and we call them). */
static bool front(void)
{
    static int in_front = -1;
    if (in_front < 0) {
        Dl_info a, b;
        void *f = dlsym(RTLD_DEFAULT, "pthread_create");
        in_front = f && dladdr(f, &a) && dladdr((void *)front, &b) && a.dli_fbase != b.dli_fbase;
    }
    return in_front;
}

static bool tsan_present(void)
{
    static int tsan = -1;
    if (tsan < 0)
        tsan = front() && dlsym(RTLD_DEFAULT, "__tsan_init") != NULL;
    return tsan;
}

static bool asan_present(void)
{
    static int asan = -1;
    if (asan < 0)
        asan = front() && dlsym(RTLD_DEFAULT, "__asan_init") != NULL;
    return asan;
}

/* Is `pc` in a sanitizer's pthread_create interceptor, in front of us? */
static bool in_interceptor(uintptr_t pc)
{
    Dl_info di;
    return (tsan_present() || asan_present()) && dladdr((void *)pc, &di) && di.dli_sname &&
           (!strcmp(di.dli_sname, "__interceptor_pthread_create") || !strcmp(di.dli_sname, "pthread_create"));
}

/* The program's call site: the first frame past the interceptor. */
static uintptr_t past_interceptor(uintptr_t caller)
{
    uintptr_t pcs[6];
    uint32_t n = exec__backtrace(pcs, 6);
    for (uint32_t i = 0; i + 1 < n; i++)
        if (in_interceptor(pcs[i]))
            return pcs[i + 1];
    return caller;
}

/* TSan's pthread_create waits until the new thread has run TSan's start
 * function (its ThreadStart) before it returns; a new thread that waited for
 * the baton before that would never let it return. So for TSan's start
 * function the thread goes through it first: the program's routine in TSan's
 * ThreadParam (its first two fields, callback and param, in every LLVM since
 * 3.x) is swapped for our trampoline, which then waits for the baton before
 * the program's code runs. */
typedef struct {
    void *(*callback)(void *);
    void *param;
} tsan_thread_param;

EXEC_API int pthread_create(pthread_t *t, const pthread_attr_t *attr, void *(*fn)(void *), void *arg)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.create(t, attr, fn, arg);
    uintptr_t caller = (uintptr_t)__builtin_return_address(0);
    bool intercepted = in_interceptor(caller);
    if (intercepted && tsan_present()) {
        tsan_thread_param *p = arg;
        return exec__create_tsan(t, attr, fn, arg, &p->callback, &p->param, past_interceptor(caller));
    }
    /* With a sanitizer in front, a program's thread comes through its
     * interceptor; any other is the sanitizer's own (TSan's background
     * thread, started in each child): it runs free, outside the schedule. */
    if (!intercepted && (tsan_present() || asan_present()))
        return exec__real.create(t, attr, fn, arg);
    /* ASan's start routine runs the program's, which its AsanThread holds
     * after its context pointer (LLVM 14): only for the thread's name. */
    void *name = intercepted ? ((void **)arg)[1] : NULL;
    return exec__create(t, attr, fn, arg, intercepted ? past_interceptor(caller) : caller, name);
}

/* A thread's name (prctl's 15 characters) is shown in dumps. */
EXEC_API int pthread_setname_np(pthread_t t, const char *name)
{
    exec__resolve();
    static int (*real)(pthread_t, const char *);
    if (!real)
        real = (int (*)(pthread_t, const char *))dlsym(RTLD_NEXT, "pthread_setname_np");
    int rc = real(t, name);
    exec_xthread *x = exec__me() && rc == 0 ? exec__thread_by_handle(t) : NULL;
    if (x)
        snprintf(x->name, sizeof x->name, "%s", name);
    return rc;
}

EXEC_API int pthread_join(pthread_t t, void **ret)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.join(t, ret);
    return exec__join(t, ret);
}

EXEC_API int pthread_detach(pthread_t t)
{
    exec__resolve();
    if (!exec__me())
        return exec__real.detach(t);
    return exec__detach(t);
}

EXEC_API void pthread_exit(void *ret)
{
    exec__resolve();
    if (!exec__me())
        exec__real.exit(ret);
    exec__thread_exit(ret);
}
