/* tool.c — the functions of csp_tool.h: the runtime's own untracked
 * allocator, for tools built on the runtime, and (TSan) ignore regions the
 * runtime counts per task. */
#include "csp_tool.h"
#include "base.h"
#include "internal.h"

CSP_RT void *csp_tool_alloc(size_t n) { return csp__alloc(n); }
CSP_RT void *csp_tool_realloc(void *p, size_t n) { return csp__realloc(p, n); }
CSP_RT void csp_tool_free(void *p) { csp__free(p); }

#ifdef CSP_TSAN
void __tsan_ignore_thread_begin(void);
void __tsan_ignore_thread_end(void);

/* A task's open regions are counted (tool_ignore) so that csp__tool_unwind
 * can close them when a run stops the task inside one: TSan's ignore state
 * belongs to the task's TSan fiber, and fibers are reused. */
CSP_RT void csp_tool_ignore_begin(void)
{
    if (csp__current)
        csp__current->tool_ignore++;
    __tsan_ignore_thread_begin();
}

CSP_RT void csp_tool_ignore_end(void)
{
    if (csp__current && csp__current->tool_ignore)
        csp__current->tool_ignore--;
    __tsan_ignore_thread_end();
}

CSP_RT void csp__tool_unwind(csp_task *t)
{
    for (; t->tool_ignore > 0; t->tool_ignore--)
        __tsan_ignore_thread_end();
}
#endif
