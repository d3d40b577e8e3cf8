/* crawlsite_internal.h — what crawlsite.c and crawllinks.c share and
 * nothing else needs. */
#ifndef CRAWLSITE_INTERNAL_H
#define CRAWLSITE_INTERNAL_H

#include "csp.h"

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

#endif
