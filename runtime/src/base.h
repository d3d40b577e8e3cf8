/* base.h — the runtime's lowest layer: sanitizer detection, the attribute that
 * hides runtime code from ThreadSanitizer, Go-memory-model annotations, and the
 * internal lock (a futex word, invisible to TSan).
 *
 * Invariant: no runtime function is instrumented by TSan (CSP_RT on every
 * definition). TSan therefore sees none of the runtime's internal
 * synchronisation; race_acquire/race_release add exactly Go's edges. */
#ifndef CSP_BASE_H
#define CSP_BASE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* --------------------------------------------------- Which sanitizer is on */
/* CSP_TSAN, the TSan-invisible atomics and the quiet attribute are the ones
 * the runtime's tools use too (csp_tool.h): one definition for both. */
#include "csp_tool.h"
#if defined(__SANITIZE_ADDRESS__)
#define CSP_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CSP_ASAN 1
#endif
#endif

/* Every runtime function carries CSP_RT. It puts the function in chanlab's
 * code section (CSP_TOOL_CODE: dumps drop library frames by address). In a
 * TSan build under clang it
 * removes all instrumentation, function entry and exit included: TSan calls
 * into the runtime from its own report path (__tsan_on_report), where an
 * instrumented entry can deadlock on TSan's trace lock, and runtime frames
 * have no place in a race report anyway. Elsewhere it only keeps TSan out
 * (ASan and UBSan still check the runtime). */
#define CSP_RT CSP_TOOL_QUIET CSP_TOOL_CODE

/* Allocations the runtime makes for itself. Under TSan they are made with
 * TSan's access tracking off: an object a task allocates and the scheduler
 * (or another task) frees is the runtime's business, not a race — TSan
 * would otherwise check the free against the allocation's imitated write. */
#ifdef CSP_TSAN
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);
#define CSP_UNTRACKED(expr) (__tsan_ignore_thread_begin(), (expr), __tsan_ignore_thread_end())
#else
#define CSP_UNTRACKED(expr) ((void)(expr))
#endif
void *csp__alloc(size_t n);               /* zeroed; aborts when out of memory */
void *csp__realloc(void *p, size_t n);    /* aborts when out of memory */
void  csp__free(void *p);

/* ----------------------------------------------- Go's memory model for TSan */
#define race_acquire(a) csp_tool_acquire(a)
#define race_release(a) csp_tool_release(a)

/* ------------------------------------------------------- The internal lock */
/* A three-state futex mutex (0 free, 1 locked, 2 locked with waiters), after
 * Drepper's "Futexes Are Tricky". Held only for short critical sections that
 * never block on anything but another csp_lock. */
typedef struct { _Atomic int v; } csp_lock;
#define CSP_LOCK_INIT {0}

void csp__lock_slow(csp_lock *l);
void csp__unlock_slow(csp_lock *l);

CSP_RT static inline void csp_lock_acquire(csp_lock *l)
{
    int expected = 0;
    if (!atomic_compare_exchange_strong_explicit(&l->v, &expected, 1,
            memory_order_acquire, memory_order_relaxed))
        csp__lock_slow(l);
}

CSP_RT static inline void csp_lock_release(csp_lock *l)
{
    if (atomic_exchange_explicit(&l->v, 0, memory_order_release) == 2)
        csp__unlock_slow(l);
}

/* Futex wait/wake on a 32-bit word, private to the process. */
void csp__futex_wait(_Atomic int *addr, int expected, int64_t timeout_ns);
void csp__futex_wake(_Atomic int *addr, int n);

/* Always-on invariant check: prints file:line and aborts. */
#define CSP_ASSERT(cond) \
    ((cond) ? (void)0 : csp__assert_fail(#cond, __FILE__, __LINE__))
__attribute__((noreturn)) void csp__assert_fail(const char *what, const char *file, int line);

CSP_RT static inline void csp__cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

#endif /* CSP_BASE_H */
