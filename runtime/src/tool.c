/* tool.c — the allocation functions of csp_tool.h: the runtime's own
 * untracked allocator, for tools built on the runtime. */
#include "csp_tool.h"
#include "base.h"

CSP_RT void *csp_tool_alloc(size_t n) { return csp__alloc(n); }
CSP_RT void *csp_tool_realloc(void *p, size_t n) { return csp__realloc(p, n); }
CSP_RT void csp_tool_free(void *p) { csp__free(p); }
