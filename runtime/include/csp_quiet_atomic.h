/* quiet_atomic.h — C11 atomics that ThreadSanitizer cannot see.
 *
 * Why: clang instruments atomic operations even inside no_sanitize("thread")
 * functions ("they can be used to implement synchronization"), so the
 * runtime's own locks and flags would hand TSan happens-before edges Go's
 * memory model does not have — a task that exits and a task spawned after it
 * would look ordered through the registry lock, hiding their race (measured:
 * such races were reported 50-70% of the time). In a TSan build, every
 * runtime and harness translation unit therefore maps the <stdatomic.h>
 * operations it uses onto inline assembly, which no sanitizer instruments.
 * Outside TSan builds nothing changes.
 *
 * Covered: 4- and 8-byte integer atomics (load, store, exchange, compare-
 * exchange strong/weak, fetch_add/sub/or, each with _explicit). Every
 * operation is sequentially consistent, which is at least as strong as any
 * order the code asks for. x86-64 only; elsewhere the builtins are used and
 * TSan sees the runtime's synchronisation (a documented limitation). */
#ifndef CSP_QUIET_ATOMIC_H
#define CSP_QUIET_ATOMIC_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#if defined(CSP_TSAN) && defined(__x86_64__)

#define CSP_QA static inline __attribute__((always_inline, no_sanitize("thread")))

CSP_QA uint64_t csp_qa_load(const volatile void *p, size_t n)
{
    uint64_t v;
    if (n == 4) {
        uint32_t w;
        __asm__ __volatile__("movl %1, %0" : "=r"(w) : "m"(*(const volatile uint32_t *)p) : "memory");
        v = w;
    } else {
        __asm__ __volatile__("movq %1, %0" : "=r"(v) : "m"(*(const volatile uint64_t *)p) : "memory");
    }
    return v;
}

CSP_QA uint64_t csp_qa_xchg(volatile void *p, uint64_t v, size_t n)
{
    if (n == 4) {
        uint32_t w = (uint32_t)v;
        __asm__ __volatile__("xchgl %0, %1" : "+r"(w), "+m"(*(volatile uint32_t *)p) : : "memory");
        return w;
    }
    __asm__ __volatile__("xchgq %0, %1" : "+r"(v), "+m"(*(volatile uint64_t *)p) : : "memory");
    return v;
}

/* *expected is an object of n bytes; updated with the current value on failure. */
CSP_QA bool csp_qa_cas(volatile void *p, void *expected, uint64_t desired, size_t n)
{
    bool ok;
    if (n == 4) {
        uint32_t e;
        memcpy(&e, expected, 4);
        __asm__ __volatile__("lock cmpxchgl %3, %1\n\tsete %0"
                             : "=q"(ok), "+m"(*(volatile uint32_t *)p), "+a"(e)
                             : "r"((uint32_t)desired) : "memory", "cc");
        memcpy(expected, &e, 4);
    } else {
        uint64_t e;
        memcpy(&e, expected, 8);
        __asm__ __volatile__("lock cmpxchgq %3, %1\n\tsete %0"
                             : "=q"(ok), "+m"(*(volatile uint64_t *)p), "+a"(e)
                             : "r"(desired) : "memory", "cc");
        memcpy(expected, &e, 8);
    }
    return ok;
}

CSP_QA uint64_t csp_qa_add(volatile void *p, uint64_t d, size_t n)
{
    if (n == 4) {
        uint32_t w = (uint32_t)d;
        __asm__ __volatile__("lock xaddl %0, %1" : "+r"(w), "+m"(*(volatile uint32_t *)p) : : "memory", "cc");
        return w;
    }
    __asm__ __volatile__("lock xaddq %0, %1" : "+r"(d), "+m"(*(volatile uint64_t *)p) : : "memory", "cc");
    return d;
}

CSP_QA uint64_t csp_qa_or(volatile void *p, uint64_t bits, size_t n)
{
    for (;;) {
        uint64_t old = csp_qa_load(p, n);
        uint32_t old32 = (uint32_t)old;
        if (csp_qa_cas(p, n == 4 ? (void *)&old32 : (void *)&old, old | bits, n))
            return old;
    }
}

#define CSP_QA_T(p) __typeof__(*(p) + 0)

#undef atomic_load
#undef atomic_load_explicit
#undef atomic_store
#undef atomic_store_explicit
#undef atomic_exchange
#undef atomic_exchange_explicit
#undef atomic_compare_exchange_strong
#undef atomic_compare_exchange_strong_explicit
#undef atomic_compare_exchange_weak
#undef atomic_compare_exchange_weak_explicit
#undef atomic_fetch_add
#undef atomic_fetch_add_explicit
#undef atomic_fetch_sub
#undef atomic_fetch_sub_explicit
#undef atomic_fetch_or
#undef atomic_fetch_or_explicit

#define atomic_load(p) ((CSP_QA_T(p))csp_qa_load((p), sizeof *(p)))
#define atomic_load_explicit(p, mo) atomic_load(p)
#define atomic_store(p, v) ((void)csp_qa_xchg((p), (uint64_t)(v), sizeof *(p)))
#define atomic_store_explicit(p, v, mo) atomic_store(p, v)
#define atomic_exchange(p, v) ((CSP_QA_T(p))csp_qa_xchg((p), (uint64_t)(v), sizeof *(p)))
#define atomic_exchange_explicit(p, v, mo) atomic_exchange(p, v)
#define atomic_compare_exchange_strong(p, e, d) csp_qa_cas((p), (e), (uint64_t)(d), sizeof *(p))
#define atomic_compare_exchange_strong_explicit(p, e, d, s, f) atomic_compare_exchange_strong(p, e, d)
#define atomic_compare_exchange_weak(p, e, d) atomic_compare_exchange_strong(p, e, d)
#define atomic_compare_exchange_weak_explicit(p, e, d, s, f) atomic_compare_exchange_strong(p, e, d)
#define atomic_fetch_add(p, v) ((CSP_QA_T(p))csp_qa_add((p), (uint64_t)(v), sizeof *(p)))
#define atomic_fetch_add_explicit(p, v, mo) atomic_fetch_add(p, v)
#define atomic_fetch_sub(p, v) ((CSP_QA_T(p))csp_qa_add((p), (uint64_t)0 - (uint64_t)(v), sizeof *(p)))
#define atomic_fetch_sub_explicit(p, v, mo) atomic_fetch_sub(p, v)
#define atomic_fetch_or(p, v) ((CSP_QA_T(p))csp_qa_or((p), (uint64_t)(v), sizeof *(p)))
#define atomic_fetch_or_explicit(p, v, mo) atomic_fetch_or(p, v)

#endif /* CSP_TSAN && __x86_64__ */
#endif /* CSP_QUIET_ATOMIC_H */
