/* crawlsite.h — the workload of the crawl family (§8.6) and of `chanlab demo
 * crawl` (DESIGN §5, "a site"): a generated web site, the book's
 * links.Extract over a *site* interface with two implementations, and the
 * loopback HTTP server that serves the site for real.
 *
 *  - The site: a deterministic graph of pages (CRAWLSITE_PAGES pages with
 *    cycles, 404s, a slow page, a page with thousands of links, non-HTML
 *    content holding link-like bytes, a redirect, links to other sites and to
 *    other schemes, orphan pages nothing links to). crawlsite_respond renders
 *    any path; crawlsite_reachable walks the graph itself (breadth first over
 *    the generator's own adjacency, never over rendered HTML), which is the
 *    reference a correct crawler's result is checked against.
 *  - The sites a crawler fetches from: crawlsite_http (libcurl against a
 *    real server, free mode and the demo: the task blocks in a declared
 *    system call) and crawlsite_sim (the same responses from memory, latency
 *    as csp_sleep in virtual time, a capacity limit; controlled mode, where
 *    nothing may block in a real system call). Both feed the same libxml2
 *    link extraction.
 *  - The server: GNU libmicrohttpd on 127.0.0.1 with an ephemeral port, in a
 *    process of its own that dies with the process that started it.
 *
 * Invariants: the site is a pure function of the path; nothing here keeps
 * state between runs but the server (started once per process, inherited by
 * forked children) and libcurl's and libxml2's global initialisation. */
#ifndef CRAWLSITE_H
#define CRAWLSITE_H

#include "csp.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ Site */

#define CRAWLSITE_PAGES 240           /* /p/0.html ... /p/239.html, all reachable */
#define CRAWLSITE_ORPHANS 20          /* /p/240.html ... served, never linked */
#define CRAWLSITE_MANY_LINKS 10000    /* links on /many.html */
#define CRAWLSITE_SLOW (300 * CSP_MILLISECOND)   /* extra latency of /slow.html */

typedef struct {
    int status;                 /* 200, 301, 404 */
    const char *type;           /* Content-Type */
    char location[64];          /* 301: the target path */
    csp_duration delay;         /* extra latency beyond the site's per-page latency */
    char *body;                 /* malloc'ed */
    size_t len;
} crawlsite_response;

/* The response for `path` (the part of a URL after the host, query
 * included). Always succeeds; free with crawlsite_response_free. */
void crawlsite_respond(const char *path, crawlsite_response *r);

/* From now on (this process and the children it forks) the site is a tiny
 * one: "/" links to /p/0.html and a 404, /p/0.html and /p/1.html to each
 * other; the reference walk follows. A test's hook: exhaustive search on
 * the correct variants (the served site, if any, does not change). */
void crawlsite_use_tiny(bool on);
#define CRAWLSITE_TINY_WORKLOAD "the tiny site: 3 pages and a 404"
void crawlsite_response_free(crawlsite_response *r);

/* The reference: every path a crawler starting at "/" reaches, following
 * only links into the site (status and redirects as crawlsite_respond's),
 * breadth first over the generator's adjacency. Sorted; free with
 * crawlsite_paths_free. */
typedef struct {
    char **v;
    size_t n;
} crawlsite_paths;
void crawlsite_reachable(crawlsite_paths *out);
void crawlsite_paths_free(crawlsite_paths *p);

/* ----------------------------------------------------------- Fetch, links */

/* What a fetch got: the URL after redirects, the status, the body. */
typedef struct {
    char *url;                  /* effective URL (malloc'ed) */
    int status;
    bool html;                  /* Content-Type text/html */
    char *body;                 /* malloc'ed, unless borrowed */
    size_t len;
    bool borrowed;              /* body belongs to the simulated site's memo (crawlsite.c) */
} crawl_fetched;
void crawl_fetched_free(crawl_fetched *f);

#define CRAWL_FETCH_GAUGE "concurrent fetches"
#define CRAWL_ERR_SIZE 256

/* A site: where a crawler's fetches go. fetch returns 0 with *out filled,
 * or -1 with a one-line error in err (out empty). Safe from any task. */
typedef struct crawl_site crawl_site;
struct crawl_site {
    int (*fetch)(crawl_site *s, const char *url, crawl_fetched *out, char err[CRAWL_ERR_SIZE]);
    const char *root;           /* "http://127.0.0.1:PORT/": the site's first page */
};

/* The real web through libcurl: one easy handle per fetch (what the book's
 * http.Get does; see crawlsite.c), connect and total timeouts, a size cap,
 * at most 5 redirects, http and https only. The fetch is a declared system
 * call (csp_syscall_enter) and counts in CRAWL_FETCH_GAUGE. `root` may be
 * NULL (the demo: no site of its own). A socket refused for want of
 * descriptors also calls harness_resource_exhausted. `cancel`, when not
 * NULL, aborts fetches in flight once it reads non-zero. */
crawl_site *crawlsite_http(const char *root, const atomic_int *cancel);

/* The generated site from memory: each fetch sleeps `latency` (+ the page's
 * delay) with csp_sleep and counts in CRAWL_FETCH_GAUGE; above `capacity`
 * fetches at once it answers 503 at once, as a loaded server would. */
crawl_site *crawlsite_sim(const char *root, csp_duration latency, int capacity);
void crawlsite_free(crawl_site *s);

/* A list of URLs: an array and malloc'ed strings the list owns, or, when
 * `borrowed`, an array and strings that belong to the simulated site's
 * memo (crawlsite.c, "The memo"), immutable and alive as long as the
 * process, which the list only points to — as a Go []string shares its
 * backing array and strings. Reading a list needs no care; changing one
 * does (crawl_links_push refuses a borrowed list), and so does taking a
 * string out of it for good: crawl_links_take. */
typedef struct {
    char **v;
    size_t n, cap;
    bool borrowed;
} crawl_links;
void crawl_links_push(crawl_links *l, char *url);   /* takes url; not on a borrowed list */
/* v[i] as a malloc'ed string the caller owns: moved out of an owning list
 * (v[i] becomes NULL), copied out of a borrowed one. */
char *crawl_links_take(crawl_links *l, size_t i);
void crawl_links_free(crawl_links *l);

/* The book's links.Extract: fetches url from the site and returns the
 * links of the page, resolved against the URL it came from, fragments
 * dropped, http(s) only, kept only when they stay on `origin`'s scheme,
 * host and port (NULL: any). Not 200: -1, "getting URL: 404 Not Found".
 * Not HTML: no links. */
int crawl_extract(crawl_site *s, const char *url, const char *origin, crawl_links *out,
                  char err[CRAWL_ERR_SIZE]);

/* The parts of crawl_extract, for tests: every <a href> of an HTML document
 * (libxml2's recovering HTML parser, any encoding), resolved against base;
 * and one reference resolved (NULL when it is not an http(s) URL):
 * fragment dropped, host name in lower case, no default port. */
void crawl_html_links(const char *html, size_t len, const char *base, crawl_links *out);
/* The same links by htmlReadMemory and a walk of the tree it builds: the
 * reference crawl_html_links (libxml2's SAX interface, no tree) is tested
 * against, input by input. */
void crawl_html_links_tree(const char *html, size_t len, const char *base, crawl_links *out);
char *crawl_url_resolve(const char *base, const char *href);
/* The origin of an http(s) URL as crawl_url_resolve spells it,
 * "scheme://host[:port]" (no default port; malloc'ed), NULL if it is not
 * one; and whether a resolved URL is on it (a prefix test, no parsing). */
char *crawl_url_origin(const char *url);
bool crawl_url_on_origin(const char *url, const char *origin);

/* ---------------------------------------------------------------- Server */

/* Starts the server in a child process (a fork of this process, which must
 * be single-threaded: see crawlserver.c) serving the site with `latency`
 * per page (and /slow.html's extra delay; a latency of 0 serves every page
 * at once, the slow one too: the benchmark's setting), and returns its root
 * URL "http://127.0.0.1:PORT/" (static).
 * The server dies with this process. NULL, with the reason on stderr, when
 * it cannot be started. */
const char *crawlsite_server_start(csp_duration latency);

/* The catalog's server: the one CHANLAB_CRAWL_SITE names (a root URL), or
 * one started here with CRAWLSITE_LATENCY, once per process; the variable is
 * then set, so forked children (each free-mode run) find it. The crawl
 * family's registered fixture. */
/* A page costs what a busy server on a real network takes; in free mode it
 * is also what lets crawl1's fetches pile up while its main loop starts a
 * task per link (under ThreadSanitizer a task takes up to a millisecond to
 * start): at 50 ms the 240 links of the many-links page are in flight
 * together, far above the bound of 20, and under crawl.unbounded's limit of
 * 64 descriptors the sockets run out (EMFILE), as the book's crawl1 did. */
#define CRAWLSITE_LATENCY (50 * CSP_MILLISECOND)
void crawlsite_fixture(void);
/* The root URL the fixture set, or NULL. */
const char *crawlsite_server_root(void);

#ifdef __cplusplus
}
#endif
#endif /* CRAWLSITE_H */
