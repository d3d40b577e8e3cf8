/* handoff4.c — the program `chanlab exec` is timed on (bench/exec_speed/run):
 * four pthreads each add to a shared counter under a mutex a few times, then
 * pass a token round the ring once with a condition variable (thread i waits
 * for turn i). About 60 pthread calls, each a scheduling point under chanlab.
 * Plain C, no chanlab header; exits 1 if the counts do not add up. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

#define NTHREADS 4
#define INCREMENTS 5

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t turn_cv = PTHREAD_COND_INITIALIZER;
static int counter; /* guarded by mu */
static int turn;    /* guarded by mu: whose turn to take the token */
static int passes;  /* guarded by mu */

static void *worker_run(void *arg)
{
    int id = (int)(long)arg;
    for (int i = 0; i < INCREMENTS; i++) {
        pthread_mutex_lock(&mu);
        counter++;
        pthread_mutex_unlock(&mu);
    }
    pthread_mutex_lock(&mu);
    while (turn != id)
        pthread_cond_wait(&turn_cv, &mu);
    passes++;
    turn = (turn + 1) % NTHREADS;
    pthread_cond_broadcast(&turn_cv);
    pthread_mutex_unlock(&mu);
    return NULL;
}

int main(void)
{
    pthread_t threads[NTHREADS];
    for (long i = 0; i < NTHREADS; i++)
        if (pthread_create(&threads[i], NULL, worker_run, (void *)i) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int i = 0; i < NTHREADS; i++)
        pthread_join(threads[i], NULL);
    if (counter != NTHREADS * INCREMENTS || passes != NTHREADS || turn != 0) {
        fprintf(stderr, "handoff4: counter %d, passes %d, turn %d\n", counter, passes, turn);
        return 1;
    }
    return 0;
}
