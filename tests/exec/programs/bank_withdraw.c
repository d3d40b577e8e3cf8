/* bank_withdraw.c — two ATMs withdraw from one shared account. Every access to
 * the balance is under the account's mutex, but the buggy form checks the
 * funds in one critical section and debits in another (check-then-act), so
 * both ATMs can pass the check and overdraw it; the invariant is asserted.
 * Expected under `chanlab exec`: CRASH (assertion), PASS (-DFIXED).
 * Output when correct: one withdrawal granted, one declined, balance 40. */
#define _POSIX_C_SOURCE 200809L
#include <assert.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>

static pthread_mutex_t account_mu = PTHREAD_MUTEX_INITIALIZER;
static long balance = 100; /* guarded by account_mu */
static int granted, declined; /* guarded by account_mu */

static bool withdraw(long amount)
{
#ifndef FIXED
    pthread_mutex_lock(&account_mu);
    bool enough = balance >= amount;
    pthread_mutex_unlock(&account_mu); /* BUG(CRASH): the check's lock is dropped before the debit; the other ATM may debit in between */
    if (!enough)
        return false;
    pthread_mutex_lock(&account_mu);
    balance -= amount;
    assert(balance >= 0 && "account overdrawn");
    pthread_mutex_unlock(&account_mu);
    return true;
#else
    pthread_mutex_lock(&account_mu); /* fixes BUG(CRASH): check and debit in one critical section */
    bool enough = balance >= amount;
    if (enough)
        balance -= amount;
    assert(balance >= 0 && "account overdrawn");
    pthread_mutex_unlock(&account_mu);
    return enough;
#endif
}

static void *atm_run(void *arg)
{
    (void)arg;
    bool ok = withdraw(60);
    pthread_mutex_lock(&account_mu);
    if (ok)
        granted++;
    else
        declined++;
    pthread_mutex_unlock(&account_mu);
    return NULL;
}

int main(void)
{
    pthread_t atms[2];
    for (int i = 0; i < 2; i++)
        if (pthread_create(&atms[i], NULL, atm_run, NULL) != 0) {
            perror("pthread_create");
            return 2;
        }
    for (int i = 0; i < 2; i++)
        pthread_join(atms[i], NULL);
    printf("granted %d, declined %d, balance %ld\n", granted, declined, balance);
    return 0;
}
