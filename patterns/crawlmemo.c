/* crawlmemo.c — the simulated site's memo (crawlsite_internal.h): under
 * control, each page's response and parsed links made once per process and
 * handed out borrowed. Split from crawlsite.c, whose simulated site is its
 * one user; why it exists and why it stays out of TSan's sight are below. */
#include "crawlsite.h"
#include "crawlsite_internal.h"
#include "csp_tool.h"

#include <stdbool.h>
#include <string.h>

/* Under control the simulated site serves the same few hundred pages in
 * every schedule, and rendering and parsing them was 90% of a schedule's
 * time (perf, crawl.semaphore: libxml2 and the malloc and free it calls,
 * snprintf for /many.html's 10,000 links; under TSan every one of those
 * library calls goes through an interceptor). Both are pure functions — a
 * response of its path (and crawlsite_use_tiny), crawl_html_links of its
 * (page, base URL) — so under control the simulated site memoizes them:
 * the first time a process needs a page it is rendered, and parsed by the
 * same libxml2 code as in free mode; later fetches get copies. A links
 * entry (the links crawl_extract returns, kept to the origin asked for) is
 * keyed by the URL, the origin and the whole body, compared byte for byte, so
 * the memo can only return what a parse would. Nothing a schedule observes
 * changes (rendering and parsing take no virtual time and make no
 * scheduling decision), only the real time a schedule takes.
 *
 * Only under control (one OS thread) and only for the simulated site: the
 * memo has no lock, which under TSan would order the tasks that touch it;
 * its accesses are hidden from TSan, so it orders nothing either: a lookup
 * is uninstrumented code that calls nothing TSan intercepts (MEMO_LOOP),
 * and a page's first rendering and parse run between
 * csp_tool_ignore_begin and _end. A response's body and a page's links are
 * handed out borrowed (crawl_fetched.borrowed, crawl_links.borrowed): the
 * memo's own strings and arrays, written once, never again and never
 * freed, so that a reader cannot race with anything. Bounded: MEMO_CAP
 * entries, MEMO_MAX_BYTES of bodies; beyond that, pages are rendered and
 * parsed every time. CHANLAB_CRAWL_NO_MEMO=1 turns it off (to time or check
 * the uncached path). */
#define MEMO_CAP 2048
#define MEMO_MAX_BYTES (64L << 20)

typedef struct {
    char *key;                  /* "L" origin "\n" URL (links) or "R0"/"R1" path (responses, tiny?) */
    char *body;                 /* links: the page parsed; responses: the body */
    size_t len;
    crawl_links links;
    crawlsite_response resp;    /* body NULL: in body above */
} memo_entry;

static struct {
    memo_entry *slot[2 * MEMO_CAP];     /* open addressing, linear probing */
    int n;
    size_t bytes;
} memo;

static CSP_TOOL_QUIET size_t memo_hash(const char *key)
{
    size_t h = 1469598103934665603u;
    for (const unsigned char *p = (const unsigned char *)key; *p; p++)
        h = (h ^ *p) * 1099511628211u;
    return h;
}

/* The slot holding (key, body), or the empty slot where it would go. For a
 * response entry body is NULL and only the key counts. A links entry of a
 * page the memo serves holds that very body (memo_add), so that a lookup
 * compares pointers, not the page byte by byte. */
static MEMO_LOOP memo_entry **memo_slot(const char *key, const char *body, size_t len)
{
    size_t i = memo_hash(key) % (2 * MEMO_CAP);
    for (;;) {
        memo_entry *e = memo.slot[i];
        if (!e || (q_streq(e->key, key) &&
                   (!body || (e->len == len && (e->body == body || q_same(e->body, body, len))))))
            return &memo.slot[i];
        i = (i + 1) % (2 * MEMO_CAP);
    }
}

/* A new entry in *slot, or NULL when the memo is full. Its body is a copy
 * of body, or body itself when `shared` (a body the memo serves: it lives
 * as long as the process and never changes). */
static CSP_TOOL_QUIET memo_entry *memo_add(memo_entry **slot, const char *key, const char *body, size_t len,
                                           bool shared)
{
    if (memo.n >= MEMO_CAP || memo.bytes + (shared ? 0 : len) > (size_t)MEMO_MAX_BYTES)
        return NULL;
    memo_entry *e = xmalloc(sizeof *e);
    memset(e, 0, sizeof *e);
    e->key = xstrdup(key);
    if (shared) {
        e->body = (char *)body;
    } else {
        e->body = xmalloc(len + 1);
        memcpy(e->body, body, len);
        e->body[len] = 0;
        memo.bytes += len;
    }
    e->len = len;
    *slot = e;
    memo.n++;
    return e;
}

static MEMO_LOOP char *memo_key(char *k, size_t n, const char *kind, const char *s)
{
    if (!crawlsite__cat3(k, n, kind, q_len(kind), "", s))
        k[0] = 0;                   /* a path longer than any the site has: an unused key */
    return k;
}

/* A copy of from into the empty list to, its array allocated once at its
 * size (growing it by doubling cost a large allocation a copy under TSan). */
static CSP_TOOL_QUIET void links_copy(crawl_links *to, const crawl_links *from)
{
    to->cap = from->n ? from->n : 1;
    to->v = xmalloc(to->cap * sizeof *to->v);
    to->n = 0;
    for (size_t i = 0; i < from->n; i++)
        to->v[to->n++] = xstrdup(from->v[i]);
}

/* The memo's list `from` handed out as a borrowed list: the memo's own
 * array and strings, which no one writes or frees (a Go []string handed
 * out: shared, not copied). Copying them was most of a crawl schedule's
 * allocations — ~10,000 strdup and free a schedule, /many.html's links —
 * and under TSan each malloc and free records an allocation stack and
 * resets shadow memory (perf, crawl.workers-terminating: a fifth of a
 * schedule's time). */
static MEMO_LOOP void links_share(crawl_links *to, const crawl_links *from)
{
    *to = *from;
    to->borrowed = true;
}

/* The key of a page's links as crawl_extract returns them: they depend on
 * the URL (the base) and the origin they are kept to, then on the body. */
static MEMO_LOOP bool links_key(char *key, size_t n, const char *url, const char *origin)
{
    const char *o = origin ? origin : "";
    return n > 1 && crawlsite__cat3(key + 1, n - 1, o, q_len(o), "\n", url) && (key[0] = 'L');
}

/* No libc call and no access TSan sees (MEMO_LOOP): no ignore region. */
MEMO_LOOP bool crawlmemo__links_get(const crawl_fetched *f, const char *origin, crawl_links *out)
{
    char key[1024];
    if (!links_key(key, sizeof key, f->url, origin))
        return false;
    memo_entry *e = *memo_slot(key, f->body, f->len);
    if (e)
        links_share(out, &e->links);
    return e != NULL;
}

CSP_TOOL_QUIET void crawlmemo__links_put(const crawl_fetched *f, const char *origin, const crawl_links *links)
{
    char key[1024];
    if (!links_key(key, sizeof key, f->url, origin))
        return;
    csp_tool_ignore_begin();
    memo_entry **slot = memo_slot(key, f->body, f->len);
    memo_entry *e = *slot ? NULL : memo_add(slot, key, f->body, f->len, f->borrowed);
    if (e)
        links_copy(&e->links, links);
    csp_tool_ignore_end();
}

/* crawlsite_respond(path, r) from the memo, its body the memo's own (not
 * to be freed); false (r untouched) when the memo is full. The body is the
 * site's business: the crawler only ever sees the links parsed from it. */
MEMO_LOOP bool crawlmemo__respond(const char *path, bool tiny, crawlsite_response *r)
{
    char key[300];
    memo_entry **slot = memo_slot(memo_key(key, sizeof key, tiny ? "R1" : "R0", path), NULL, 0);
    memo_entry *e = *slot;
    if (!e) {
        /* The first time: rendering calls libc, and the memo's new memory
         * must count as never written. */
        csp_tool_ignore_begin();
        crawlsite_response fresh;
        crawlsite_respond(path, &fresh);
        e = memo_add(slot, key, fresh.body, fresh.len, false);
        if (e) {
            e->resp = fresh;
            e->resp.body = NULL;
        }
        crawlsite_response_free(&fresh);
        csp_tool_ignore_end();
    }
    if (e) {
        *r = e->resp;
        r->body = e->body;
        r->len = e->len;
    }
    return e != NULL;
}
