/* config_rwlock.c — a configuration store read by two request threads under a
 * rwlock and updated once by an admin thread. The admin's update must get in
 * within MAX_WAIT reader rounds of asking for it. In the buggy form readers go
 * straight for the read lock, so while their read sections overlap the writer
 * waits (glibc's rwlocks prefer readers by default), and every round they take
 * counts against it. The fix is a turnstile the writer holds while it waits:
 * once it is in line, a reader finishes at most the round it is in.
 * Expected under `chanlab exec`: WRONG_RESULT (exit 1, the program's own
 * check), PASS (-DFIXED). Output when correct: "config version 2". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>

#define NREADERS 2
#define ROUNDS 4
#define MAX_WAIT NREADERS /* a writer in line lets each reader finish its round */

static pthread_rwlock_t config_lock = PTHREAD_RWLOCK_INITIALIZER;
static pthread_mutex_t turnstile = PTHREAD_MUTEX_INITIALIZER; /* held by the writer while it waits for config_lock */
static int config_version = 1; /* guarded by config_lock */
static int reader_rounds;      /* atomic: read sections completed, all readers */

static void *reader_run(void *arg)
{
    int *seen = arg;
    for (int round = 0; round < ROUNDS; round++) {
#ifndef FIXED
        pthread_rwlock_rdlock(&config_lock); /* BUG(WRONG_RESULT): straight for the read lock: while the readers' sections overlap, a waiting writer never gets in */
#else
        pthread_mutex_lock(&turnstile); /* fixes BUG(WRONG_RESULT): through the turnstile first, so a reader stops while a writer is in line */
        pthread_mutex_unlock(&turnstile);
        pthread_rwlock_rdlock(&config_lock);
#endif
        if (config_version > *seen)
            *seen = config_version;
        __atomic_fetch_add(&reader_rounds, 1, __ATOMIC_SEQ_CST);
        pthread_rwlock_unlock(&config_lock);
    }
    return NULL;
}

static void *admin_run(void *arg)
{
    int *waited = arg;
    pthread_mutex_lock(&turnstile);
    int asked = __atomic_load_n(&reader_rounds, __ATOMIC_SEQ_CST);
    pthread_rwlock_wrlock(&config_lock);
    *waited = __atomic_load_n(&reader_rounds, __ATOMIC_SEQ_CST) - asked;
    config_version = 2;
    pthread_rwlock_unlock(&config_lock);
    pthread_mutex_unlock(&turnstile);
    return NULL;
}

int main(void)
{
    pthread_t readers[NREADERS], admin;
    int seen[NREADERS] = {0}, waited = 0;
    for (int i = 0; i < NREADERS; i++)
        if (pthread_create(&readers[i], NULL, reader_run, &seen[i]) != 0) {
            perror("pthread_create");
            return 2;
        }
    if (pthread_create(&admin, NULL, admin_run, &waited) != 0) {
        perror("pthread_create");
        return 2;
    }
    for (int i = 0; i < NREADERS; i++)
        pthread_join(readers[i], NULL);
    pthread_join(admin, NULL);
    if (waited > MAX_WAIT) {
        fprintf(stderr, "config_rwlock: the update waited %d reader rounds (bound %d): writer starved\n",
                waited, MAX_WAIT);
        return 1;
    }
    printf("config version %d\n", config_version);
    return 0;
}
