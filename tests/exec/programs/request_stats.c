/* request_stats.c — two request handlers count the requests they serve in a
 * shared statistics record that a reporter prints at the end. The buggy form
 * bumps the counters with a plain read-modify-write and no lock: a data race
 * (ThreadSanitizer reports it on every run of a -fsanitize=thread build; in a
 * plain build, when the increments interleave, counts are lost).
 * Expected under `chanlab exec` of a -fsanitize=thread build: RACE (buggy),
 * PASS (-DFIXED). Output when correct: "served 40 requests, 400 bytes". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

#define NHANDLERS 2
#define REQUESTS_PER_HANDLER 20

struct stats {
    pthread_mutex_t mu; /* protects the counters below */
    long requests;
    long bytes;
};

static struct stats stats = {PTHREAD_MUTEX_INITIALIZER, 0, 0};

static void stats_record(long bytes)
{
#ifndef FIXED
    stats.requests++; /* BUG(RACE): a read-modify-write of shared counters with no lock held */
    stats.bytes += bytes;
#else
    pthread_mutex_lock(&stats.mu); /* fixes BUG(RACE): the counters are updated under their mutex */
    stats.requests++;
    stats.bytes += bytes;
    pthread_mutex_unlock(&stats.mu);
#endif
}

static void *handler_run(void *arg)
{
    (void)arg;
    for (int i = 0; i < REQUESTS_PER_HANDLER; i++)
        stats_record(10);
    return NULL;
}

int main(void)
{
    pthread_t handlers[NHANDLERS];
    for (int i = 0; i < NHANDLERS; i++)
        if (pthread_create(&handlers[i], NULL, handler_run, NULL) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int i = 0; i < NHANDLERS; i++)
        pthread_join(handlers[i], NULL);
    printf("served %ld requests, %ld bytes\n", stats.requests, stats.bytes);
    return stats.requests == NHANDLERS * REQUESTS_PER_HANDLER ? 0 : 1;
}
