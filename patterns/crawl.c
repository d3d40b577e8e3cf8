/* crawl.c — GOPL §8.6, the concurrent web crawler: crawl1 (a task per link,
 * no limit), crawl2 (a 20-token semaphore and a counter that ends the loop)
 * and crawl3 (20 long-lived crawler tasks fed by unseenLinks), each next to
 * the bug the book warns about; and `chanlab demo crawl`, crawl2 for real.
 *
 * The web is crawlsite.h's generated site: in free mode a real HTTP server
 * on loopback (the family's fixture starts it before the runs and they find
 * it in CHANLAB_CRAWL_SITE), fetched with libcurl; in controlled mode the
 * same site from memory, latency in virtual time. The crawler's code is the
 * same over both (crawl_extract). It stays on the site it starts from, as
 * the book's exercise 8.7 asks: no test fetches anything but 127.0.0.0/8.
 *
 * Every fetch counts in the gauge CRAWL_FETCH_GAUGE, bounded at 20 — the
 * book's "at most 20 concurrent calls to links.Extract". A correct variant
 * checks that the pages it reached are exactly the site's reachable pages,
 * walked independently (crawlsite_reachable). Channels are named as in the
 * book (worklist, unseenLinks, tokens), so leaks and deadlocks name them.
 * Objects made in a run go with the run; a correct variant frees what it
 * made once no task can touch it. */
#include "crawlsite.h"
#include "csp_tool.h"
#include "pattern.h"
#include "stdin_cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* A book function must show in a dump under its own name. */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

#define CRAWL_TOKENS 20                      /* var tokens = make(chan struct{}, 20) */
#define CRAWL_WORKERS 20                     /* crawl3: for i := 0; i < 20; i++ */
/* crawl3's workers: 20, or 2 in crawl.workers-terminating's proof, on the
 * tiny site (crawl3_proof): every order in which 20 idle workers can take a
 * link is too many to run, and 2 already race for every link. */
static int crawl_workers = CRAWL_WORKERS;
#define CRAWL3_PROOF_WORKLOAD "the tiny site: 3 pages and a 404; 2 workers in place of 20"

static void crawl3_proof(bool on)
{
    crawlsite_use_tiny(on);
    crawl_workers = on ? 2 : CRAWL_WORKERS;
}
#define SIM_ROOT "http://site.invalid/"      /* never resolved: the simulated web */
#define SIM_CAPACITY 64                      /* fetches the simulated server takes at once */

static char *xstrdup(const char *s)
{
    char *p = strdup(s);
    if (!p)
        csp_panic("crawl: out of memory");
    return p;
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n ? n : 1, size);
    if (!p)
        csp_panic("crawl: out of memory");
    return p;
}

/* ------------------------------------------------- seen: map[string]bool */

/* Go's race detector sees a map operation as one access to the map — a read
 * of its header for a lookup, a write for an assignment — and never the
 * hashing and probing inside the runtime. seen_set is instrumented the same
 * way: its probing is CSP_TOOL_QUIET (TSan checks none of it) and seen_add
 * writes the header (ops), so two tasks using one set unordered are a race,
 * as in Go, while TSan no longer checks each byte of each of the ~12,500
 * links a crawl hashes (a third of a crawl schedule's time under TSan,
 * perf, once the pages were memoized: crawlsite.c). */
typedef struct {
    char **slot;
    size_t n, cap;               /* cap a power of two */
    volatile unsigned long ops;  /* written by each seen_add: the "map header" (volatile:
                                  * never read, and the store must stay for TSan to see it) */
} seen_set;

static CSP_TOOL_QUIET uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603ull;   /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211ull;
    return h;
}

static CSP_TOOL_QUIET bool str_eq(const char *a, const char *b)
{
    while (*a && *a == *b)
        a++, b++;
    return *a == *b;
}

/* Adds s; false if it was there already. */
static CSP_TOOL_QUIET bool seen_probe(seen_set *m, const char *s)
{
    if (2 * (m->n + 1) > m->cap) {
        size_t cap = m->cap ? 2 * m->cap : 256;
        char **slot = xcalloc(cap, sizeof *slot);
        for (size_t i = 0; i < m->cap; i++)
            if (m->slot[i])
                for (size_t j = hash_str(m->slot[i]) & (cap - 1);; j = (j + 1) & (cap - 1))
                    if (!slot[j]) {
                        slot[j] = m->slot[i];
                        break;
                    }
        free(m->slot);
        m->slot = slot;
        m->cap = cap;
    }
    for (size_t j = hash_str(s) & (m->cap - 1);; j = (j + 1) & (m->cap - 1)) {
        if (!m->slot[j]) {
            m->slot[j] = xstrdup(s);
            m->n++;
            return true;
        }
        if (str_eq(m->slot[j], s))       /* not strcmp: TSan's interceptor would check it */
            return false;
    }
}

static bool seen_add(seen_set *m, const char *s)
{
    m->ops++;                    /* mapassign: a write of the map */
    return seen_probe(m, s);
}

static void seen_free(seen_set *m)
{
    for (size_t i = 0; i < m->cap; i++)
        free(m->slot[i]);
    free(m->slot);
    memset(m, 0, sizeof *m);
}

/* ------------------------------------------------------------- The crawler */

typedef struct {
    crawl_site *site;
    char *origin;                /* links are followed only on the site's origin */
    csp_chan *worklist;          /* crawl_links *: lists of URLs, may have duplicates */
    csp_chan *unseen_links;      /* crawl3: char *, de-duplicated URLs */
    csp_chan *tokens;            /* crawl2: the counting semaphore; NULL: none */
    csp_waitgroup *crawlers;     /* crawl3 terminating: the 20 crawlers */
    bool leak_token_on_error;    /* crawl.token-leak-on-error */
} crawler;

/* The site of this run: the loopback server in free mode, the simulated web
 * in controlled mode. NULL (and harness_fail) when there is no server. */
static crawler *crawler_make(void)
{
    crawl_site *site;
    if (pattern_controlled()) {
        site = crawlsite_sim(SIM_ROOT, CRAWLSITE_LATENCY, SIM_CAPACITY);
    } else {
        const char *root = crawlsite_server_root();
        if (!root) {
            harness_fail("no site to crawl: CHANLAB_CRAWL_SITE is not set (the crawl family's "
                         "fixture, crawlsite_fixture, starts the server before the runs)");
            return NULL;
        }
        site = crawlsite_http(root, NULL);
    }
    crawler *c = xcalloc(1, sizeof *c);
    c->site = site;
    c->origin = crawl_url_origin(site->root);
    c->worklist = csp_chan_make(sizeof(crawl_links *), 0, "worklist");
    harness_gauge_bound(CRAWL_FETCH_GAUGE, CRAWL_TOKENS);
    return c;
}

/* Only once no task can touch c. */
static void crawler_free(crawler *c)
{
    crawlsite_free(c->site);
    free(c->origin);
    free(c);
}

/* The command-line arguments: the site's root page. */
static crawl_links *seed_list(crawler *c)
{
    crawl_links *l = xcalloc(1, sizeof *l);
    crawl_links_push(l, xstrdup(c->site->root));
    return l;
}

/* The book's crawl: print the URL, extract its links; crawl2 holds a token
 * around the extraction. */
static NOINLINE crawl_links *crawl(crawler *c, const char *url)
{
    printf("%s\n", url);                    /* fmt.Println(url) */
    crawl_links *list = xcalloc(1, sizeof *list);
    char err[CRAWL_ERR_SIZE];
    if (c->tokens)
        csp_send(c->tokens, NULL);          /* acquire a token */
    int rc = crawl_extract(c->site, url, c->origin, list, err);
    if (rc != 0 && c->leak_token_on_error) {
        fprintf(stderr, "%s\n", err);
        return list;  /* BUG(DEADLOCK): returns holding its token; after 20 errors every crawl
                       * waits on tokens forever. crawl.semaphore releases it first, below */
    }
    if (c->tokens)
        csp_recv(c->tokens, NULL);          /* release the token */
    if (rc != 0)
        fprintf(stderr, "%s\n", err);       /* log.Print(err) */
    return list;
}

typedef struct {
    crawler *c;
    char *link;
} crawl_arg;

/* go func(link string) { worklist <- crawl(link) }(link) */
static NOINLINE void crawl_and_send(void *arg)
{
    crawl_arg *a = arg;
    crawl_links *found = crawl(a->c, a->link);
    free(a->link);
    csp_send(a->c->worklist, &found);
    free(a);
}

static crawl_arg *crawl_arg_make(crawler *c, const char *link)
{
    crawl_arg *a = xcalloc(1, sizeof *a);
    *a = (crawl_arg){ c, xstrdup(link) };
    return a;
}

/* go func() { worklist <- os.Args[1:] }() */
static NOINLINE void send_seed(void *arg)
{
    crawler *c = arg;
    crawl_links *seed = seed_list(c);
    csp_send(c->worklist, &seed);
}

/* The result: the pages reached (seen's keys) must be the site's reachable
 * pages, walked independently. */
static int cmp_path(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void check_reached(crawler *c, const seen_set *seen)
{
    crawlsite_paths want;
    crawlsite_reachable(&want);
    size_t rl = strlen(c->site->root), missing = 0;
    const char *extra = NULL;
    for (size_t i = 0; i < seen->cap; i++) {
        const char *url = seen->slot[i];
        if (!url)
            continue;
        const char *path = url + rl - 1;
        bool found = !strncmp(url, c->site->root, rl) &&
                     bsearch(&path, want.v, want.n, sizeof *want.v, cmp_path);   /* want is sorted */
        if (!found)
            extra = url;
    }
    if (seen->n < want.n)
        missing = want.n - seen->n;
    if (extra || missing || seen->n != want.n)
        harness_fail("reached %zu pages, the site has %zu reachable%s%s", seen->n, want.n,
                     extra ? "; not reachable: " : "", extra ? extra : "");
    harness_output("%zu pages reached\n", seen->n);
    crawlsite_paths_free(&want);
}

/* ---------------------------------------------------- crawl1: no limit */

static NOINLINE void crawl1(void *arg)
{
    (void)arg;
    crawler *c = crawler_make();
    if (!c)
        return;
    csp_go(send_seed, c, "seed");
    seen_set seen = { 0 };
    crawl_links *list;
    while (csp_recv(c->worklist, &list)) {  /* BUG(DEADLOCK): for list := range worklist
                                             * never ends: nothing closes worklist. crawl.semaphore counts */
        for (size_t i = 0; i < list->n; i++)
            if (seen_add(&seen, list->v[i]))
                csp_go(crawl_and_send, crawl_arg_make(c, list->v[i]),
                       "crawl");  /* BUG(RESOURCE): a fetch per new link at once, no limit;
                                   * crawl.semaphore's crawl takes one of 20 tokens first */
        crawl_links_free(list);
        free(list);
    }
}

PATTERN(crawl_unbounded_pattern,
    .id = "crawl.unbounded", .section = "8.6", .book_func = "crawl1 (main, crawl)",
    .fixed_by = "crawl.semaphore",
    .lesson = "Every new link gets its own task and its own fetch at once, so the number of "
              "fetches in flight follows the width of the frontier: the site's 10,000-link page "
              "puts hundreds in flight against a declared 20, the book's 'too many open files'. "
              "And the range over worklist never ends, since no one closes it: once the site "
              "is crawled, main waits forever.",
    .bound = "at most 20 concurrent fetches (gauge \"concurrent fetches\"); RLIMIT_NOFILE 64 in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(RESOURCE) | V(DEADLOCK),
                [PATTERN_IN_CONTROLLED] = V(RESOURCE) | V(DEADLOCK) },
    .max_steps = 1000000,
    .fd_limit = 64,
    .fixture = crawlsite_fixture,
    ENTRY(crawl1));

/* ------------------------------------------------ crawl2: 20 tokens, a count */

static NOINLINE void crawl2_main(bool sync_seed, bool leak_token_on_error)
{
    crawler *c = crawler_make();
    if (!c)
        return;
    c->tokens = csp_chan_make(0, CRAWL_TOKENS, "tokens");
    c->leak_token_on_error = leak_token_on_error;
    int n = 0;                              /* number of pending sends to worklist */
    n++;                                    /* start with the command-line arguments */
    if (sync_seed) {
        crawl_links *seed = seed_list(c);
        csp_send(c->worklist, &seed);  /* BUG(DEADLOCK): main sends on the unbuffered worklist
                                        * that only main receives from. crawl.semaphore: go send_seed */
    } else {
        csp_go(send_seed, c, "seed");
    }
    seen_set seen = { 0 };
    for (; n > 0; n--) {
        crawl_links *list;
        csp_recv(c->worklist, &list);
        for (size_t i = 0; i < list->n; i++) {
            if (seen_add(&seen, list->v[i])) {
                n++;
                csp_go(crawl_and_send, crawl_arg_make(c, list->v[i]), "crawl");
            }
        }
        crawl_links_free(list);
        free(list);
    }
    /* n == 0: every crawl task has sent its list and ended. */
    check_reached(c, &seen);
    seen_free(&seen);
    crawler_free(c);
}

static void crawl2(void *arg)
{
    (void)arg;
    crawl2_main(false, false);
}

static void crawl2_sync_seed_send(void *arg)
{
    (void)arg;
    crawl2_main(true, false);
}

static void crawl2_token_leak_on_error(void *arg)
{
    (void)arg;
    crawl2_main(false, true);
}

PATTERN(crawl_semaphore_pattern,
    .id = "crawl.semaphore", .section = "8.6", .book_func = "crawl2 (main, crawl)",
    .lesson = "A buffered channel of 20 empty structs is a counting semaphore: a crawl sends to "
              "take a token before it fetches and receives to give it back, so at most 20 "
              "fetches are ever in flight, however wide the frontier. Main counts the lists "
              "still to come on worklist and stops when the count is zero, so the crawl ends "
              "with exactly the site's reachable pages.",
    .bound = "at most 20 concurrent fetches (gauge \"concurrent fetches\")",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 1000000,
    .fixture = crawlsite_fixture,
    .proof_setup = crawlsite_use_tiny, .proof_workload = CRAWLSITE_TINY_WORKLOAD,
    ENTRY(crawl2));

PATTERN(crawl_sync_seed_send_pattern,
    .id = "crawl.sync-seed-send", .section = "8.6", .book_func = "crawl2 (main)",
    .fixed_by = "crawl.semaphore",
    .lesson = "Main sends the command-line arguments on worklist itself instead of from a task "
              "of their own. The channel is unbuffered and the only receiver is main, a few lines "
              "further down, so the send never completes: a deadlock before a single page is "
              "fetched. The book's fix is the extra task; a buffered worklist would do too.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .fixture = crawlsite_fixture,
    ENTRY(crawl2_sync_seed_send));

PATTERN(crawl_token_leak_on_error_pattern,
    .id = "crawl.token-leak-on-error", .section = "8.6", .book_func = "crawl2 (crawl)",
    .fixed_by = "crawl.semaphore",
    .lesson = "The crawl returns early when the fetch fails and skips the release, so every broken "
              "link keeps one of the 20 tokens for good. The site has more than 20 broken links: "
              "once they are all crawled, every later crawl blocks acquiring a token and main "
              "waits on worklist for lists that will never come. Release on every path (Go: "
              "defer).",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .max_steps = 1000000,
    .fixture = crawlsite_fixture,
    ENTRY(crawl2_token_leak_on_error));

/* ---------------------------------------- crawl3: 20 long-lived crawlers */

typedef struct {
    crawler *c;
    crawl_links *found;
} found_arg;

/* go func() { worklist <- foundLinks }() */
static NOINLINE void send_found(void *arg)
{
    found_arg *a = arg;
    csp_send(a->c->worklist, &a->found);
    free(a);
}

/* for link := range unseenLinks { foundLinks := crawl(link); go ... } */
static NOINLINE void crawler_loop(void *arg)
{
    crawler *c = arg;
    char *link;
    while (csp_recv(c->unseen_links, &link)) {
        found_arg *a = xcalloc(1, sizeof *a);
        *a = (found_arg){ c, crawl(c, link) };
        free(link);
        csp_go(send_found, a, "sendLinks");
    }
    if (c->crawlers)
        csp_wg_done(c->crawlers);
}

static NOINLINE void crawl3(void *arg)
{
    (void)arg;
    crawler *c = crawler_make();
    if (!c)
        return;
    c->unseen_links = csp_chan_make(sizeof(char *), 0, "unseenLinks");
    csp_go(send_seed, c, "seed");           /* add command-line arguments to worklist */
    for (int i = 0; i < crawl_workers; i++)
        csp_go(crawler_loop, c, "crawler"); /* 20 crawler tasks to fetch each unseen link */
    seen_set seen = { 0 };
    crawl_links *list;
    while (csp_recv(c->worklist, &list)) {  /* BUG(DEADLOCK): nothing closes worklist, so main
                                             * and the 20 crawlers wait forever once the site is
                                             * crawled. crawl.workers-terminating counts pending lists */
        for (size_t i = 0; i < list->n; i++) {
            if (seen_add(&seen, list->v[i])) {
                char *link = xstrdup(list->v[i]);
                csp_send(c->unseen_links, &link);
            }
        }
        crawl_links_free(list);
        free(list);
    }
}

static NOINLINE void crawl3_terminating(void *arg)
{
    (void)arg;
    crawler *c = crawler_make();
    if (!c)
        return;
    c->unseen_links = csp_chan_make(sizeof(char *), 0, "unseenLinks");
    c->crawlers = csp_wg_make();
    int n = 1;                              /* lists still to come on worklist: the seed */
    csp_go(send_seed, c, "seed");
    csp_wg_add(c->crawlers, crawl_workers);
    for (int i = 0; i < crawl_workers; i++)
        csp_go(crawler_loop, c, "crawler");
    seen_set seen = { 0 };
    for (; n > 0; n--) {                    /* each unseen link sent brings one list back */
        crawl_links *list;
        csp_recv(c->worklist, &list);
        for (size_t i = 0; i < list->n; i++) {
            if (seen_add(&seen, list->v[i])) {
                n++;
                char *link = xstrdup(list->v[i]);
                csp_send(c->unseen_links, &link);
            }
        }
        crawl_links_free(list);
        free(list);
    }
    csp_close(c->unseen_links);             /* the crawlers' range loops end */
    csp_wg_wait(c->crawlers);
    check_reached(c, &seen);
    seen_free(&seen);
    crawler_free(c);
}

PATTERN(crawl_workers_pattern,
    .id = "crawl.workers", .section = "8.6", .book_func = "crawl3 (main)",
    .fixed_by = "crawl.workers-terminating",
    .lesson = "Twenty long-lived crawlers receive from unseenLinks and hand what they find to a "
              "task of its own, so they never block on worklist; main keeps the seen map to "
              "itself. As printed it never terminates: no one closes worklist or unseenLinks, "
              "so when the site is done main and all 20 crawlers wait forever.",
    .bound = "at most 20 concurrent fetches (gauge \"concurrent fetches\")",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK) | V(HANG), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .max_steps = 1000000,
    .fixture = crawlsite_fixture,
    ENTRY(crawl3));

PATTERN(crawl_workers_terminating_pattern,
    .id = "crawl.workers-terminating", .section = "8.6", .book_func = "crawl3 (main)",
    .lesson = "crawl3 with crawl2's counter: every link sent on unseenLinks brings exactly one "
              "list back on worklist, so main knows when nothing more can come. Then it closes "
              "unseenLinks, which ends the crawlers' range loops, and waits for them. The 20 "
              "crawlers bound the fetches without a semaphore.",
    .bound = "at most 20 concurrent fetches (gauge \"concurrent fetches\")",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 1000000,
    .fixture = crawlsite_fixture,
    .proof_setup = crawl3_proof, .proof_workload = CRAWL3_PROOF_WORKLOAD,
    .proof_schedules = 100000,   /* measured: all 89,856 interleavings, about 20 s */
    ENTRY(crawl3_terminating));

/* ------------------------------------------------------------------ Demo */

/* crawl2 for real: a list carries the depth of the links in it. */
typedef struct {
    crawl_links *links;
    int depth;
} demo_list;

typedef struct {
    crawl_site *site;
    char **origins;              /* the seeds' sites: links elsewhere are not followed */
    int norigins;
    csp_chan *worklist;          /* demo_list */
    csp_chan *tokens;
    csp_chan *done;              /* closed on a byte on stdin */
    atomic_int cancelled;        /* the same, for fetches in flight (libcurl's progress callback) */
} demo_crawl;

typedef struct {
    demo_crawl *d;
    char *link;
    int depth;
} demo_arg;

static bool on_sites(demo_crawl *d, const char *url)
{
    for (int i = 0; i < d->norigins; i++)
        if (crawl_url_on_origin(url, d->origins[i]))
            return true;
    return false;
}

static void demo_crawl_one(void *arg)
{
    demo_arg *a = arg;
    demo_crawl *d = a->d;
    demo_list out = { xcalloc(1, sizeof(crawl_links)), a->depth + 1 };
    csp_case cases[] = { { d->tokens, CSP_OP_SEND, NULL, false },    /* acquire a token */
                         { d->done, CSP_OP_RECV, NULL, false } };
    if (csp_select(cases, 2, false) == 0) {
        printf("%s\n", a->link);
        char err[CRAWL_ERR_SIZE];
        crawl_links all;
        int rc = crawl_extract(d->site, a->link, NULL, &all, err);
        csp_recv(d->tokens, NULL);          /* release the token */
        if (rc != 0) {
            if (!atomic_load(&d->cancelled))
                fprintf(stderr, "crawl: %s\n", err);
        } else {
            for (size_t i = 0; i < all.n; i++)
                if (on_sites(d, all.v[i]))
                    crawl_links_push(out.links, crawl_links_take(&all, i));
            crawl_links_free(&all);
        }
    }
    free(a->link);
    free(a);
    csp_send(d->worklist, &out);
}

/* A byte on standard input cancels (stdin_cancel.h). */
static void cancel_crawl(void *arg)
{
    demo_crawl *d = arg;
    atomic_store(&d->cancelled, 1);
    csp_close(d->done);
}

static const char crawl_usage[] = "usage: crawl [--depth N] [--max-pages N] URL...   "
                                  "(a byte on standard input cancels)";

static bool parse_count(const char *opt, const char *v, long *out)
{
    char *end;
    errno = 0;
    long n = v ? strtol(v, &end, 10) : -1;
    if (!v || errno || *end || n < 0 || end == v) {
        fprintf(stderr, "crawl: bad value '%s' for %s (accepted: a whole number, 0 or more)\n",
                v ? v : "", opt);
        return false;
    }
    *out = n;
    return true;
}

/* The command line: options into *depth and *max_pages (-1: no limit), the
 * URLs, normalized, into seeds and their origins into d. false (after one
 * line on stderr) on bad usage. */
static bool demo_parse(int argc, char **argv, long *depth, long *max_pages, crawl_links *seeds,
                       demo_crawl *d)
{
    int i = 0;
    while (i < argc && argv[i][0] == '-' && argv[i][1]) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (strcmp(argv[i], "--depth") && strcmp(argv[i], "--max-pages")) {
            fprintf(stderr, "crawl: unknown option '%s' (%s)\n", argv[i], crawl_usage);
            return false;
        }
        if (!parse_count(argv[i], i + 1 < argc ? argv[i + 1] : NULL,
                         argv[i][2] == 'd' ? depth : max_pages))
            return false;
        i += 2;                             /* the option and its value */
    }
    if (i == argc) {
        fprintf(stderr, "crawl: no URL to start from (%s)\n", crawl_usage);
        return false;
    }
    d->origins = xcalloc((size_t)(argc - i), sizeof *d->origins);
    for (; i < argc; i++) {
        char *url = crawl_url_resolve(argv[i], "");
        char *o = url ? crawl_url_origin(url) : NULL;
        if (!o) {
            fprintf(stderr, "crawl: bad URL '%s' (accepted: an absolute http or https URL)\n", argv[i]);
            free(url);
            return false;
        }
        crawl_links_push(seeds, url);
        d->origins[d->norigins++] = o;
    }
    return true;
}

/* crawl2's main loop with the demo's limits: n counts the lists still to
 * come on worklist. After a cancel no crawl is started; the loop collects
 * the lists of the crawls already started, so none is left behind. Returns
 * the number of pages crawled; *cancelled says whether it was cut short. */
static long demo_loop(demo_crawl *d, crawl_links *seeds, long depth, long max_pages, bool *cancelled)
{
    long n = 1, pages = 0;
    seen_set seen = { 0 };
    /* The seeds go through the loop like any list, at depth 0: the book
     * sends them from a task of their own; here main simply takes them first. */
    demo_list list = { seeds, 0 };
    bool have_seeds = true;
    *cancelled = false;
    for (; n > 0; n--) {
        if (!have_seeds) {
            csp_case cases[] = { { d->worklist, CSP_OP_RECV, &list, false },
                                 { *cancelled ? NULL : d->done, CSP_OP_RECV, NULL, false } };
            if (csp_select(cases, 2, false) == 1) {
                *cancelled = true;          /* stop starting crawls; collect the rest */
                n++;
                continue;
            }
        }
        have_seeds = false;
        for (size_t k = 0; k < list.links->n; k++) {
            const char *link = list.links->v[k];
            if (*cancelled || (depth >= 0 && list.depth > depth) || (max_pages >= 0 && pages >= max_pages))
                break;
            if (seen_add(&seen, link)) {
                pages++;
                n++;
                demo_arg *a = xcalloc(1, sizeof *a);
                *a = (demo_arg){ d, xstrdup(link), list.depth };
                csp_go(demo_crawl_one, a, "crawl");
            }
        }
        crawl_links_free(list.links);
        free(list.links);
    }
    /* The cancel also cuts fetches short (crawlsite_http watches the flag):
     * the last crawl's empty list can reach the select with done, and the
     * select may take the list and end the loop first — the flag still
     * says it was cancelled (the tsan build's catalog_crawl saw that). */
    if (atomic_load(&d->cancelled))
        *cancelled = true;
    seen_free(&seen);
    return pages;
}

static int crawl_demo_main(int argc, char **argv)
{
    long depth = -1, max_pages = -1;
    demo_crawl d = { 0 };
    crawl_links *seeds = xcalloc(1, sizeof *seeds);
    int status = 2;
    if (!demo_parse(argc, argv, &depth, &max_pages, seeds, &d))
        goto out;
    status = 1;
    atomic_init(&d.cancelled, 0);
    d.site = crawlsite_http(NULL, &d.cancelled);
    d.worklist = csp_chan_make(sizeof(demo_list), 0, "worklist");
    d.tokens = csp_chan_make(0, CRAWL_TOKENS, "tokens");
    d.done = csp_chan_make(0, 0, "done");
    stdin_cancel *watch = stdin_cancel_start(cancel_crawl, &d);
    if (!watch) {
        fprintf(stderr, "crawl: pipe: %s\n", strerror(errno));
        csp_chan_free(d.worklist);
        csp_chan_free(d.tokens);
        csp_chan_free(d.done);
        crawlsite_free(d.site);
        goto out;
    }
    bool cancelled;
    long pages = demo_loop(&d, seeds, depth, max_pages, &cancelled);
    seeds = NULL;                           /* the loop freed it */
    fflush(stdout);
    /* Every crawl task is gone (n == 0: each sent its list). Stop the watcher. */
    stdin_cancel_stop(watch);
    csp_chan_free(d.worklist);
    csp_chan_free(d.tokens);
    csp_chan_free(d.done);
    crawlsite_free(d.site);
    if (cancelled)
        fprintf(stderr, "crawl: cancelled after %ld pages\n", pages);
    status = cancelled ? 1 : 0;
out:
    if (seeds) {
        crawl_links_free(seeds);
        free(seeds);
    }
    for (int j = 0; j < d.norigins; j++)
        free(d.origins[j]);
    free(d.origins);
    return status;
}

DEMO(crawl_demo, .name = "crawl", .usage = "[--depth N] [--max-pages N] URL...",
     .summary = "crawl the web from each URL (GOPL §8.6 crawl2): 20 fetches at once, each page "
                "printed once, staying on the URLs' sites; a byte on stdin cancels",
     .main = crawl_demo_main);
