/* verdicts.c MODE — one program per verdict the schedule search must show:
 *   leak     a thread still blocked on a condition variable when main returns
 *   assert   an assertion that fails in a thread under some schedules (CRASH)
 *   exit     a non-zero exit status under some schedules (WRONG_RESULT)
 *   spin     a thread spinning on a flag without a scheduling point (HANG)
 *   yield    a thread yielding forever while main joins it (HANG: steps)
 *   order    two threads print; the order depends on the schedule (NONDETERMINISTIC)
 *   race     an unsynchronised counter (RACE under -fsanitize=thread) */
#include <assert.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t m = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t c = PTHREAD_COND_INITIALIZER;
static int balance = 100;
static volatile int flag;
static int counter;

static void *blocked_forever(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    for (;;)
        pthread_cond_wait(&c, &m);   /* BUG(LEAK): nobody signals */
    return NULL;
}

static void *withdraw(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&m);
    int b = balance;
    pthread_mutex_unlock(&m);
    pthread_mutex_lock(&m);
    balance = b - 10;   /* BUG(atomicity): the check and the update are two critical sections */
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *spinner(void *arg)
{
    (void)arg;
    while (!flag)   /* BUG(HANG): no scheduling point; the setter never runs */
        ;
    return NULL;
}

static void *yielder(void *arg)
{
    (void)arg;
    while (!flag)
        sched_yield();   /* BUG(HANG): nobody sets flag */
    return NULL;
}

static void *printer(void *arg)
{
    pthread_mutex_lock(&m);
    printf("%s\n", (const char *)arg);
    pthread_mutex_unlock(&m);
    return NULL;
}

static void *racer(void *arg)
{
    (void)arg;
    for (int i = 0; i < 100; i++)
        counter++;   /* BUG(RACE) */
    return NULL;
}

int main(int argc, char **argv)
{
    const char *mode = argc > 1 ? argv[1] : "";
    pthread_t t1, t2;
    if (!strcmp(mode, "leak")) {
        pthread_create(&t1, NULL, blocked_forever, NULL);
        sched_yield();
        return 0;
    }
    if (!strcmp(mode, "assert") || !strcmp(mode, "exit")) {
        pthread_create(&t1, NULL, withdraw, NULL);
        pthread_create(&t2, NULL, withdraw, NULL);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        if (!strcmp(mode, "exit"))
            return balance == 80 ? 0 : 3;
        assert(balance == 80);
        return 0;
    }
    if (!strcmp(mode, "spin") || !strcmp(mode, "yield")) {
        pthread_create(&t1, NULL, !strcmp(mode, "spin") ? spinner : yielder, NULL);
        if (!strcmp(mode, "spin")) {
            pthread_mutex_lock(&m);   /* a scheduling point: the spinner may run first */
            pthread_mutex_unlock(&m);
            flag = 1;
        }
        pthread_join(t1, NULL);
        return 0;
    }
    if (!strcmp(mode, "order")) {
        pthread_create(&t1, NULL, printer, "one");
        pthread_create(&t2, NULL, printer, "two");
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        return 0;
    }
    if (!strcmp(mode, "race")) {
        pthread_create(&t1, NULL, racer, NULL);
        pthread_create(&t2, NULL, racer, NULL);
        pthread_join(t1, NULL);
        pthread_join(t2, NULL);
        printf("%d\n", counter);
        return 0;
    }
    fprintf(stderr, "usage: verdicts leak|assert|exit|spin|yield|order|race\n");
    return 2;
}
