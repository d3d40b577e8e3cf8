/* lost_wakeup.c — a condition variable waited on without a predicate: if
 * the signal comes first, the waiter sleeps forever (DEADLOCK: main joins it).
 * -DFIXED: the waiter waits for a flag in a loop (PASS, small enough to
 * exhaust). */
#include <pthread.h>
#include <stdio.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int ready;

static void *waiter(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
#ifdef FIXED
    while (!ready)
        pthread_cond_wait(&c, &m);
#else
    pthread_cond_wait(&c, &m);   /* BUG(DEADLOCK): no predicate, a signal sent before is lost */
#endif
    pthread_mutex_unlock(&m);
    return NULL;
}

int main(void)
{
    pthread_t t;
    pthread_create(&t, NULL, waiter, NULL);
    pthread_mutex_lock(&m);
    ready = 1;
    pthread_cond_signal(&c);
    pthread_mutex_unlock(&m);
    pthread_join(t, NULL);
    puts("done");
    return 0;
}
