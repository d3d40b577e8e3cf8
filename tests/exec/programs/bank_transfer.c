/* bank_transfer.c — two tellers move money between the same two accounts in
 * opposite directions. Each transfer locks both accounts; the buggy form locks
 * "from" then "to" (AB/BA), the fixed form always locks the lower id first.
 * Expected under `chanlab exec`: DEADLOCK (buggy), PASS (-DFIXED).
 * Output when correct: the two final balances (the total is invariant). */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

struct account {
    int id;
    pthread_mutex_t mu; /* protects balance */
    long balance;
};

static struct account accounts[2] = {
    {0, PTHREAD_MUTEX_INITIALIZER, 1000},
    {1, PTHREAD_MUTEX_INITIALIZER, 1000},
};

static void transfer(struct account *from, struct account *to, long amount)
{
#ifndef FIXED
    struct account *first = from, *second = to; /* BUG(DEADLOCK): lock order follows the direction of the transfer: AB here, BA in the other teller */
#else
    struct account *first = from->id < to->id ? from : to; /* fixes BUG(DEADLOCK): one global order, lower id first */
    struct account *second = first == from ? to : from;
#endif
    pthread_mutex_lock(&first->mu);
    pthread_mutex_lock(&second->mu);
    from->balance -= amount;
    to->balance += amount;
    pthread_mutex_unlock(&second->mu);
    pthread_mutex_unlock(&first->mu);
}

struct teller {
    struct account *from, *to;
    long amount;
};

static void *teller_run(void *arg)
{
    struct teller *t = arg;
    for (int i = 0; i < 3; i++)
        transfer(t->from, t->to, t->amount);
    return NULL;
}

int main(void)
{
    struct teller tellers[2] = {
        {&accounts[0], &accounts[1], 10},
        {&accounts[1], &accounts[0], 20},
    };
    pthread_t tids[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&tids[i], NULL, teller_run, &tellers[i]) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int i = 0; i < 2; i++)
        pthread_join(tids[i], NULL);
    printf("account 0: %ld\naccount 1: %ld\n", accounts[0].balance, accounts[1].balance);
    return accounts[0].balance + accounts[1].balance == 2000 ? 0 : 1;
}
