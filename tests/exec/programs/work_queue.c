/* work_queue.c — a pool of two workers computes jobs from a queue; main waits
 * until every job is done, prints the results in order, then shuts the pool
 * down. The buggy form announces the shutdown but returns from main without
 * joining the workers: whichever worker has not yet seen the shutdown is still
 * blocked (or running) when the process exits, and is killed mid-way.
 * Expected under `chanlab exec`: LEAK (buggy), PASS (-DFIXED).
 * Output when correct: one line per job, in job order. */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

#define NJOBS 4
#define NWORKERS 2

static pthread_mutex_t queue_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t queue_cv = PTHREAD_COND_INITIALIZER; /* a job was queued, or shutdown */
static pthread_cond_t done_cv = PTHREAD_COND_INITIALIZER;  /* a job was finished */
static int next_job;      /* guarded by queue_mu: the next job to hand out */
static int queued;        /* guarded by queue_mu: jobs submitted so far */
static int finished;      /* guarded by queue_mu */
static bool shutting_down; /* guarded by queue_mu */
static unsigned long results[NJOBS]; /* results[j] written by the worker of job j before it counts it finished */

static unsigned long collatz_steps(unsigned long n)
{
    unsigned long steps = 0;
    while (n != 1) {
        n = n % 2 ? 3 * n + 1 : n / 2;
        steps++;
    }
    return steps;
}

static void *worker_run(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&queue_mu);
    for (;;) {
        while (next_job == queued && !shutting_down)
            pthread_cond_wait(&queue_cv, &queue_mu);
        if (next_job == queued)
            break; /* shutting down and nothing left */
        int job = next_job++;
        pthread_mutex_unlock(&queue_mu);
        unsigned long r = collatz_steps(27 + (unsigned long)job);
        pthread_mutex_lock(&queue_mu);
        results[job] = r;
        finished++;
        pthread_cond_signal(&done_cv);
    }
    pthread_mutex_unlock(&queue_mu);
    return NULL;
}

int main(void)
{
    pthread_t workers[NWORKERS];
    for (int i = 0; i < NWORKERS; i++)
        if (pthread_create(&workers[i], NULL, worker_run, NULL) != 0) {
            perror("pthread_create");
            return 2;
        }
    pthread_mutex_lock(&queue_mu);
    queued = NJOBS;
    pthread_cond_broadcast(&queue_cv);
    while (finished < NJOBS)
        pthread_cond_wait(&done_cv, &queue_mu);
    for (int j = 0; j < NJOBS; j++)
        printf("job %d: %lu steps\n", j, results[j]);
    shutting_down = true;
    pthread_cond_broadcast(&queue_cv);
    pthread_mutex_unlock(&queue_mu);
#ifndef FIXED
    return 0; /* BUG(LEAK): returns without joining: a worker that has not yet seen the shutdown is still blocked on queue_mu or queue_cv, and the exit kills it */
#else
    for (int i = 0; i < NWORKERS; i++)
        pthread_join(workers[i], NULL); /* fixes BUG(LEAK): main returns only after every worker has seen the shutdown and returned */
    return 0;
#endif
}
