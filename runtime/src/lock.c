/* lock.c — the internal futex lock and futex helpers (see base.h). All code
 * here is CSP_RT: invisible to ThreadSanitizer by design. */
#include "base.h"

#include <errno.h>
#include <linux/futex.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

CSP_RT void csp__futex_wait(_Atomic int *addr, int expected, int64_t timeout_ns)
{
    struct timespec ts, *tsp = NULL;
    if (timeout_ns >= 0) {
        ts.tv_sec = timeout_ns / 1000000000;
        ts.tv_nsec = timeout_ns % 1000000000;
        tsp = &ts;
    }
    syscall(SYS_futex, (int *)addr, FUTEX_WAIT_PRIVATE, expected, tsp, NULL, 0);
}

CSP_RT void csp__futex_wake(_Atomic int *addr, int n)
{
    syscall(SYS_futex, (int *)addr, FUTEX_WAKE_PRIVATE, n, NULL, NULL, 0);
}

CSP_RT void csp__lock_slow(csp_lock *l)
{
    /* Spin briefly: critical sections are a few dozen instructions. */
    for (int i = 0; i < 100; i++) {
        int expected = 0;
        if (atomic_load_explicit(&l->v, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_weak_explicit(&l->v, &expected, 1,
                memory_order_acquire, memory_order_relaxed))
            return;
        csp__cpu_relax();
    }
    /* Mark contended (2) and sleep until we take it as 2. */
    while (atomic_exchange_explicit(&l->v, 2, memory_order_acquire) != 0)
        csp__futex_wait(&l->v, 2, -1);
}

CSP_RT void csp__unlock_slow(csp_lock *l)
{
    csp__futex_wake(&l->v, 1);
}

CSP_RT void *csp__alloc(size_t n)
{
    void *p;
    CSP_UNTRACKED(p = calloc(1, n ? n : 1));
    if (!p) {
        fprintf(stderr, "chanlab runtime: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

CSP_RT void *csp__realloc(void *old, size_t n)
{
    void *p;
    CSP_UNTRACKED(p = realloc(old, n ? n : 1));
    if (!p) {
        fprintf(stderr, "chanlab runtime: out of memory (%zu bytes)\n", n);
        abort();
    }
    return p;
}

CSP_RT void csp__free(void *p) { CSP_UNTRACKED(free(p)); }

CSP_RT void csp__assert_fail(const char *what, const char *file, int line)
{
    fprintf(stderr, "chanlab runtime: invariant broken at %s:%d: %s\n", file, line, what);
    abort();
}
