/* yield_shim.c — an LD_PRELOAD library that stresses a pthread program under
 * the normal OS scheduler, to show its bugs without chanlab: around mutex and
 * rwlock lock/unlock and after pthread_create it gives the CPU away at random
 * (sched_yield, or a sleep of up to YIELD_SHIM_MAX_US microseconds). At exit it
 * reports on stderr how many threads were still alive (what a missing
 * pthread_join leaves behind). It changes timing only, never semantics.
 *   YIELD_SHIM_SEED    seed of the perturbation (per process; default: pid)
 *   YIELD_SHIM_MAX_US  longest sleep, microseconds (default 200; 0: only yields)
 * Condition variables are not wrapped (their symbols are versioned); their
 * callers' mutex calls are, which perturbs the same windows. */
#define _GNU_SOURCE
#include <dirent.h>
#include <dlfcn.h>
#include <pthread.h>
#include <sched.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static uint64_t shim_seed;
static unsigned shim_max_us = 200;
static __thread uint64_t shim_state; /* xorshift64; 0 until the thread's first draw */

static uint64_t shim_next(void)
{
    if (shim_state == 0) {
        static uint64_t thread_counter;
        uint64_t k = __atomic_add_fetch(&thread_counter, 1, __ATOMIC_RELAXED);
        shim_state = (shim_seed ^ (k * 0x9e3779b97f4a7c15ull)) | 1;
    }
    shim_state ^= shim_state << 13;
    shim_state ^= shim_state >> 7;
    shim_state ^= shim_state << 17;
    return shim_state;
}

static void shim_perturb(void)
{
    uint64_t r = shim_next();
    switch (r % 8) {
    case 0: case 1: case 2:
        sched_yield();
        break;
    case 3:
        if (shim_max_us > 0) {
            struct timespec ts = {0, (long)((r >> 8) % shim_max_us) * 1000};
            nanosleep(&ts, NULL);
        }
        break;
    default:
        break;
    }
}

/* The real functions, looked up once in the constructor (before any thread). */
static __typeof__(&pthread_mutex_lock) real_mutex_lock;
static __typeof__(&pthread_mutex_unlock) real_mutex_unlock;
static __typeof__(&pthread_rwlock_rdlock) real_rwlock_rdlock;
static __typeof__(&pthread_rwlock_wrlock) real_rwlock_wrlock;
static __typeof__(&pthread_rwlock_unlock) real_rwlock_unlock;
static __typeof__(&pthread_create) real_create;

#define NEXT(name) ((__typeof__(&name))dlsym(RTLD_NEXT, #name))

__attribute__((constructor)) static void shim_init(void)
{
    real_mutex_lock = NEXT(pthread_mutex_lock);
    real_mutex_unlock = NEXT(pthread_mutex_unlock);
    real_rwlock_rdlock = NEXT(pthread_rwlock_rdlock);
    real_rwlock_wrlock = NEXT(pthread_rwlock_wrlock);
    real_rwlock_unlock = NEXT(pthread_rwlock_unlock);
    real_create = NEXT(pthread_create);
    const char *s = getenv("YIELD_SHIM_SEED");
    shim_seed = s ? strtoull(s, NULL, 0) : (uint64_t)getpid();
    shim_seed = shim_seed * 0x2545f4914f6cdd1dull + 1;
    const char *m = getenv("YIELD_SHIM_MAX_US");
    if (m)
        shim_max_us = (unsigned)strtoul(m, NULL, 0);
}

/* Threads of this process still alive when it exits, main excluded. A thread
 * already joined may still be listed for a moment while the kernel reaps it:
 * in state Z or X, or still running its exit (pthread_join returns once the
 * kernel clears the thread's id, which do_exit does after it has set
 * PF_EXITING, before the thread is a zombie: a loaded machine showed one such
 * thread in state R about one run in 200). Only the others count. */
#define SHIM_PF_EXITING 0x4u   /* include/linux/sched.h */
__attribute__((destructor)) static void shim_report(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return;
    int alive = 0;
    pid_t self = getpid();
    for (struct dirent *e; (e = readdir(d)) != NULL;) {
        int tid = atoi(e->d_name);
        if (tid <= 0 || tid == self)
            continue;
        char path[64], stat[256];
        snprintf(path, sizeof path, "/proc/self/task/%d/stat", tid);
        FILE *f = fopen(path, "r");
        if (!f)
            continue; /* gone meanwhile */
        size_t n = fread(stat, 1, sizeof stat - 1, f);
        fclose(f);
        stat[n] = '\0';
        const char *paren = strrchr(stat, ')'); /* the name may hold spaces and parentheses */
        char state = '?';
        unsigned flags = 0;
        /* After the name: state ppid pgrp session tty_nr tpgid flags ... (proc(5)) */
        if (!paren || sscanf(paren + 1, " %c %*d %*d %*d %*d %*d %u", &state, &flags) != 2)
            flags = 0;
        if (state != 'Z' && state != 'X' && !(flags & SHIM_PF_EXITING))
            alive++;
    }
    closedir(d);
    if (alive > 0)
        fprintf(stderr, "yield_shim: %d threads alive at exit\n", alive);
}

int pthread_mutex_lock(pthread_mutex_t *m)
{
    shim_perturb();
    return real_mutex_lock(m);
}

int pthread_mutex_unlock(pthread_mutex_t *m)
{
    int rc = real_mutex_unlock(m);
    shim_perturb();
    return rc;
}

int pthread_rwlock_rdlock(pthread_rwlock_t *l)
{
    shim_perturb();
    int rc = real_rwlock_rdlock(l);
    shim_perturb();
    return rc;
}

int pthread_rwlock_wrlock(pthread_rwlock_t *l)
{
    shim_perturb();
    return real_rwlock_wrlock(l);
}

int pthread_rwlock_unlock(pthread_rwlock_t *l)
{
    int rc = real_rwlock_unlock(l);
    shim_perturb();
    return rc;
}

int pthread_create(pthread_t *t, const pthread_attr_t *a, void *(*start)(void *), void *arg)
{
    int rc = real_create(t, a, start, arg);
    shim_perturb();
    return rc;
}
