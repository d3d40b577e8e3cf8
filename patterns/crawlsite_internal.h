/* crawlsite_internal.h — what crawlsite.c, crawllinks.c and crawlmemo.c
 * share and nothing else needs. */
#ifndef CRAWLSITE_INTERNAL_H
#define CRAWLSITE_INTERNAL_H

#include "crawlsite.h"
#include "csp.h"
#include "csp_tool.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

/* libcurl's and libxml2's global initialisation, once per process. */
void crawlsite__init(void);

static inline void *xmalloc(size_t n)
{
    void *p = malloc(n ? n : 1);
    if (!p)
        csp_panic("crawl: out of memory");
    return p;
}

static inline char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        csp_panic("crawl: out of memory");
    return p;
}

/* The string work of a memo lookup, in loops of its own: a hit (every
 * fetch after the first of a page) then calls no libc function, which TSan
 * would intercept — a call, a range check — and needs no
 * csp_tool_ignore_begin, which records a stack each time. In the tsan
 * build clang must not turn the loops back into memcpy or strlen calls
 * (no_builtin). */
#if defined(__clang__) && defined(CSP_TSAN)
#define MEMO_LOOP CSP_TOOL_QUIET __attribute__((no_builtin))
#else
#define MEMO_LOOP CSP_TOOL_QUIET
#endif

static inline MEMO_LOOP size_t q_len(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static inline MEMO_LOOP void q_copy(char *dst, const char *src, size_t n)
{
    for (size_t i = 0; i < n; i++)
        dst[i] = src[i];
}

static inline MEMO_LOOP bool q_same(const char *a, const char *b, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (a[i] != b[i])
            return false;
    return true;
}

static inline MEMO_LOOP bool q_streq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* dst = a b c, NUL-terminated; false (dst undefined) if it does not fit in
 * n. Not snprintf: under TSan every call of it goes through an interceptor
 * that parses the format, and a schedule builds ~800 of these strings. */
static inline MEMO_LOOP bool crawlsite__cat3(char *dst, size_t n, const char *a, size_t alen,
                                               const char *b, const char *c)
{
    size_t bl = q_len(b), cl = q_len(c);
    if (alen + bl + cl >= n)
        return false;
    q_copy(dst, a, alen);
    q_copy(dst + alen, b, bl);
    q_copy(dst + alen + bl, c, cl + 1);
    return true;
}

/* The memo (crawlmemo.c): under control, the simulated site's responses
 * and links, made once per process, handed out borrowed. Off when
 * CHANLAB_CRAWL_NO_MEMO is set (crawlsite__init reads it). */
extern bool crawlsite__memo_off;
/* crawlsite_respond(path, r) for the site crawlsite_use_tiny(tiny) picks,
 * its body the memo's (not to be freed); false (r untouched) when full. */
bool crawlmemo__respond(const char *path, bool tiny, crawlsite_response *r);
/* The links crawl_extract would return for f kept to origin, borrowed;
 * false when the memo has not seen that page yet. */
bool crawlmemo__links_get(const crawl_fetched *f, const char *origin, crawl_links *out);
void crawlmemo__links_put(const crawl_fetched *f, const char *origin, const crawl_links *links);

#endif
