/* csp_tool.h — for tools that run inside a program on this runtime and must
 * stay out of what they observe (the harness is one). Internal to chanlab but
 * installed, because the harness library is built against it and nothing
 * under runtime/src.
 *
 * The contract:
 *  - CSP_TOOL_QUIET on a function removes ThreadSanitizer's instrumentation
 *    from it (clang: entry and exit included), so code that the program's
 *    tasks reach (a tool's hooks, its bookkeeping) orders no two tasks.
 *    The runtime marks every one of its own functions the same way.
 *  - In a TSan build on x86-64, a translation unit that includes this header
 *    gets <stdatomic.h> operations TSan cannot see (csp_quiet_atomic.h):
 *    clang instruments atomics even inside no_sanitize("thread") code.
 *  - csp_tool_acquire/csp_tool_release add a happens-before edge that TSan
 *    sees (Go's race detector's acquire/release); nothing else a tool does is
 *    an edge.
 *  - CSP_TOOL_CODE on a function puts it in the section "chanlab_text",
 *    which is how dumps and leak reports tell chanlab's frames from the
 *    program's: by address, never by a function's name or its file's path.
 *    Every function of the runtime and of the harness carries it; a tool
 *    linked as a shared library of its own registers its section's bounds
 *    with csp_debug_register_code (csp_debug.h).
 *  - csp_tool_alloc/realloc/free: memory made with TSan's access tracking off
 *    (zeroed; they abort when out of memory), for state written in one task's
 *    context and freed in another's.
 *  - csp_tool_read_range/csp_tool_write_range: one access to n bytes that
 *    TSan checks as the calling task's, as if it had read (written) each of
 *    them — Go's racereadrange/racewriterange, what its race detector does
 *    for copy(). For a loop of small accesses in CSP_TOOL_QUIET code whose
 *    per-access instrumentation (or libc interception) would cost more than
 *    the work (thumbnails_image.c's pixel loop): the races on that memory
 *    are still seen, as on the whole range.
 *  - csp_tool_ignore_begin/csp_tool_ignore_end: between them TSan tracks no
 *    memory access of the calling task (library calls, allocations included:
 *    what is allocated there counts as never written), and orders nothing —
 *    for a tool's cache that any task may fill and read (crawlsite.c's link
 *    memo). Nest them in pairs, in one task. A task may block inside one: a
 *    run that ends with the task still inside closes its regions (its TSan
 *    fiber is reused by a later task, which must not inherit them).
 * Ordinary programs need none of this. */
#ifndef CSP_TOOL_H
#define CSP_TOOL_H

#include <stddef.h>

#if defined(__SANITIZE_THREAD__)
#define CSP_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CSP_TSAN 1
#endif
#endif

#include "csp_quiet_atomic.h"

#if defined(__clang__) && defined(CSP_TSAN) && defined(__has_attribute)
#if __has_attribute(disable_sanitizer_instrumentation)
#define CSP_TOOL_QUIET __attribute__((no_sanitize("thread"), disable_sanitizer_instrumentation))
#endif
#endif
#ifndef CSP_TOOL_QUIET
#if defined(__clang__) || defined(__GNUC__)
#define CSP_TOOL_QUIET __attribute__((no_sanitize("thread")))
#else
#define CSP_TOOL_QUIET
#endif
#endif

#if defined(__clang__) || defined(__GNUC__)
#define CSP_TOOL_CODE __attribute__((section("chanlab_text")))
#else
#define CSP_TOOL_CODE
#endif

#ifdef CSP_TSAN
void __tsan_acquire(void *addr);
void __tsan_release(void *addr);
#define csp_tool_acquire(a) __tsan_acquire((void *)(a))
#define csp_tool_release(a) __tsan_release((void *)(a))
/* Functions, not macros: the runtime counts a task's open regions, so that a
 * run that ends with the task inside one closes them for it (tool.c). */
void csp_tool_ignore_begin(void);
void csp_tool_ignore_end(void);
void __tsan_read_range(void *addr, unsigned long size);
void __tsan_write_range(void *addr, unsigned long size);
#define csp_tool_read_range(p, n) __tsan_read_range((void *)(p), (unsigned long)(n))
#define csp_tool_write_range(p, n) __tsan_write_range((void *)(p), (unsigned long)(n))
#else
#define csp_tool_acquire(a) ((void)(a))
#define csp_tool_release(a) ((void)(a))
#define csp_tool_ignore_begin() ((void)0)
#define csp_tool_ignore_end() ((void)0)
#define csp_tool_read_range(p, n) ((void)(p), (void)(n))
#define csp_tool_write_range(p, n) ((void)(p), (void)(n))
#endif

#ifdef __cplusplus
extern "C" {
#endif
void *csp_tool_alloc(size_t n);
void *csp_tool_realloc(void *p, size_t n);
void  csp_tool_free(void *p);
#ifdef __cplusplus
}
#endif

#endif /* CSP_TOOL_H */
