/* primitives.c — every interposed primitive used correctly: condition
 * variables with a predicate loop, a rwlock, a semaphore, a barrier, once,
 * a spinlock, recursive and error-checking mutexes, timed waits that time
 * out, and sleeps in virtual time. PASS under every schedule. */
#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <semaphore.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

#define N 3

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static pthread_rwlock_t rw = PTHREAD_RWLOCK_INITIALIZER;
static pthread_spinlock_t spin;
static pthread_barrier_t bar;
static pthread_once_t once = PTHREAD_ONCE_INIT;
static sem_t sem;
static int turn, inits, shared, spun, reads;

static void init_once(void) { inits++; }

static void *worker(void *arg)
{
    int id = (int)(long)arg;
    pthread_once(&once, init_once);
    pthread_mutex_lock(&m);
    while (turn != id)
        pthread_cond_wait(&c, &m);
    turn++;
    pthread_cond_broadcast(&c);
    pthread_mutex_unlock(&m);

    pthread_rwlock_wrlock(&rw);
    shared++;
    pthread_rwlock_unlock(&rw);
    pthread_rwlock_rdlock(&rw);
    __atomic_fetch_add(&reads, shared > 0, __ATOMIC_RELAXED);
    pthread_rwlock_unlock(&rw);

    pthread_spin_lock(&spin);
    spun++;
    pthread_spin_unlock(&spin);
    sched_yield();
    usleep(1000 * (unsigned)id);
    pthread_barrier_wait(&bar);
    sem_post(&sem);
    return NULL;
}

int main(void)
{
    pthread_t t[N];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    pthread_spin_init(&spin, PTHREAD_PROCESS_PRIVATE);
    pthread_barrier_init(&bar, NULL, N);
    sem_init(&sem, 0, 0);
    for (long i = 0; i < N; i++)
        pthread_create(&t[i], NULL, worker, (void *)i);
    for (int i = 0; i < N; i++)
        sem_wait(&sem);
    for (int i = 0; i < N; i++)
        pthread_join(t[i], NULL);
    assert(inits == 1 && turn == N && shared == N && spun == N && reads == N);

    /* Mutex types. */
    pthread_mutexattr_t a;
    pthread_mutex_t rec, ec;
    pthread_mutexattr_init(&a);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init(&rec, &a);
    assert(pthread_mutex_lock(&rec) == 0 && pthread_mutex_lock(&rec) == 0);
    assert(pthread_mutex_unlock(&rec) == 0 && pthread_mutex_unlock(&rec) == 0);
    pthread_mutexattr_settype(&a, PTHREAD_MUTEX_ERRORCHECK);
    pthread_mutex_init(&ec, &a);
    assert(pthread_mutex_lock(&ec) == 0 && pthread_mutex_lock(&ec) == EDEADLK);
    assert(pthread_mutex_trylock(&ec) == EBUSY);
    assert(pthread_mutex_unlock(&ec) == 0 && pthread_mutex_unlock(&ec) == EPERM);

    /* Timed waits that time out, in virtual time. */
    struct timespec dl;
    clock_gettime(CLOCK_REALTIME, &dl);
    dl.tv_sec += 5;
    pthread_mutex_lock(&m);
    int rc;
    while ((rc = pthread_cond_timedwait(&c, &m, &dl)) == 0)
        ;
    assert(rc == ETIMEDOUT);
    pthread_mutex_unlock(&m);
    dl.tv_sec += 5;
    assert(sem_timedwait(&sem, &dl) == -1 && errno == ETIMEDOUT);
    sleep(100);
    clock_gettime(CLOCK_MONOTONIC, &t1);
    long secs = (long)(t1.tv_sec - t0.tv_sec);
    assert(secs >= 110 && secs <= 111);
    printf("ok %d %d\n", shared, spun);
    return 0;
}
