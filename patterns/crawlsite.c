/* crawlsite.c — the generated site, its reference walk and the two sites a
 * crawler fetches from (libcurl, memory); link extraction is crawllinks.c,
 * the memo that serves the simulated site under control crawlmemo.c. crawlsite.h says what each guarantees.
 *
 * The site's graph lives in one place, page_targets: rendering a page writes
 * its targets as HTML in assorted spellings (relative, absolute, with a
 * fragment, padded, single-quoted, unquoted, upper-case tags), and the
 * reference walk reads the same targets directly. So a crawler's result is
 * checked against the graph, not against our own parsing of it. */
#include "crawlsite.h"
#include "crawlsite_internal.h"
#include "csp_sched.h"
#include "csp_tool.h"
#include "harness.h"

#include <curl/curl.h>
#include <libxml/parser.h>

#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>

/* A growable text: glibc's memory stream. The pointer and the size are
 * set when it is closed (fclose), and a NUL follows the bytes. */
static FILE *text_open(char **p, size_t *n)
{
    *p = NULL;
    *n = 0;
    FILE *f = open_memstream(p, n);
    if (!f)
        csp_panic("crawl: out of memory");
    return f;
}

/* Closes a memory stream: the text (never NULL), its length in *n. */
static char *text_close(FILE *f, char **p, size_t *n)
{
    if (fclose(f) != 0 || !*p)
        csp_panic("crawl: out of memory");
    return *p;
}

/* ================================================================= Site */

/* crawlsite_use_tiny: the small site exhaustive search can cover. */
static bool tiny;
bool crawlsite__memo_off;   /* CHANLAB_CRAWL_NO_MEMO (global_init): see "The memo" */

void crawlsite_use_tiny(bool on) { tiny = on; }

enum { PAGE_MISSING, PAGE_INDEX, PAGE_P, PAGE_SLOW, PAGE_MANY, PAGE_DATA, PAGE_SECRET, PAGE_OLD };

/* Which page a path is; *num is the page number of /p/N.html. */
static int page_kind(const char *path, long *num)
{
    if (!strcmp(path, "/"))
        return PAGE_INDEX;
    if (!strcmp(path, "/slow.html"))
        return PAGE_SLOW;
    if (!strcmp(path, "/many.html"))
        return PAGE_MANY;
    if (!strcmp(path, "/data.bin"))
        return PAGE_DATA;
    if (!strcmp(path, "/secret.html"))
        return PAGE_SECRET;
    if (!strcmp(path, "/old"))
        return PAGE_OLD;
    char *end;
    if (!strncmp(path, "/p/", 3) && path[3] >= '0' && path[3] <= '9') {
        errno = 0;
        long n = strtol(path + 3, &end, 10);
        if (!errno && !strcmp(end, ".html") && n < CRAWLSITE_PAGES + CRAWLSITE_ORPHANS &&
            (n == 0 || path[3] != '0')) {
            *num = n;
            return PAGE_P;
        }
    }
    return PAGE_MISSING;
}

#define MAX_TARGETS 8
#define TARGET_SIZE 48

/* The graph: the in-site targets of an HTML page, as paths. The many-links
 * page is generated apart (its targets are /p/(k mod PAGES).html). */
static int page_targets(int kind, long num, char t[MAX_TARGETS][TARGET_SIZE])
{
    int n = 0;
    if (tiny) {                             /* "/" -> p/0 <-> p/1, and a 404 */
        if (kind == PAGE_INDEX) {
            snprintf(t[n++], TARGET_SIZE, "/p/0.html");
            snprintf(t[n++], TARGET_SIZE, "/missing/index.html");
        } else if (kind == PAGE_P) {
            snprintf(t[n++], TARGET_SIZE, "/p/%ld.html", (num + 1) % 2);
        }
        return n;
    }
    switch (kind) {
    case PAGE_INDEX:
        snprintf(t[n++], TARGET_SIZE, "/p/0.html");
        snprintf(t[n++], TARGET_SIZE, "/slow.html");
        snprintf(t[n++], TARGET_SIZE, "/many.html");
        snprintf(t[n++], TARGET_SIZE, "/data.bin");
        snprintf(t[n++], TARGET_SIZE, "/old");
        snprintf(t[n++], TARGET_SIZE, "/missing/index.html");
        break;
    case PAGE_P:
        snprintf(t[n++], TARGET_SIZE, "/p/%ld.html", (num + 1) % CRAWLSITE_PAGES);
        snprintf(t[n++], TARGET_SIZE, "/p/%ld.html", (num * 7 + 3) % CRAWLSITE_PAGES);
        snprintf(t[n++], TARGET_SIZE, "/p/%ld.html", (num * 13 + 5) % CRAWLSITE_PAGES);
        if (num % 10 == 9)
            snprintf(t[n++], TARGET_SIZE, "/missing/%ld.html", num);   /* a broken link: 404 */
        if (num % 50 == 0)
            snprintf(t[n++], TARGET_SIZE, "/");                         /* a cycle through the root */
        break;
    case PAGE_SLOW:
        snprintf(t[n++], TARGET_SIZE, "/p/5.html");
        break;
    case PAGE_SECRET:
        snprintf(t[n++], TARGET_SIZE, "/p/1.html");
        break;
    }
    return n;
}

/* One link to `target` (a path) from a page under `dir` ("/" or "/p/"), in
 * the spelling `style` picks. */
static void render_link(FILE *b, const char *dir, const char *target, unsigned style)
{
    size_t dl = strlen(dir);
    const char *rel = !strncmp(target, dir, dl) && target[dl] ? target + dl : NULL;
    switch (style % 6) {
    case 0: fprintf(b, "<li><a href=\"%s\">%s</a>\n", target, target); break;
    case 1: fprintf(b, "<li><a class=x href=\"%s#sec-%u\">fragment</a>\n", target, style); break;
    case 2: fprintf(b, "<li><A HREF='%s'>upper case</A>\n", rel ? rel : target); break;
    case 3: fprintf(b, "<li><a href=\"  %s \n\">padded</a>\n", target); break;
    case 4: fprintf(b, "<li><a title=\"a > b\" href=%s>unquoted</a>\n", rel ? rel : target); break;
    default: fprintf(b, "<p><a href=\"./%s\"><b>dot</b></a>\n", rel ? rel : target + 1); break;
    }
}

static void render_page(FILE *b, int kind, long num, const char *path)
{
    char t[MAX_TARGETS][TARGET_SIZE];
    int n = page_targets(kind, num, t);
    const char *dir = kind == PAGE_P ? "/p/" : "/";
    fprintf(b, "<!DOCTYPE html>\n<html><head><meta charset=\"utf-8\"><title>%s</title></head>\n"
                  "<body><h1>page %s</h1><ul>\n", path, path);
    for (int i = 0; i < n; i++)
        render_link(b, dir, t[i], (unsigned)(num * 3 + i));
    if (kind == PAGE_INDEX && !tiny) {
        /* Links a crawler of this site must not follow: other sites and
         * other schemes, a fragment of this page. */
        fputs("<li><a href=\"http://example.invalid/\">elsewhere</a>\n"
              "<li><a href=\"https://gopl.io/\">the book</a>\n"
              "<li><a href=\"mailto:crawler@example.invalid\">mail</a>\n"
              "<li><a href=\"ftp://127.0.0.1/pub/\">ftp</a>\n"
              "<li><a href=\"javascript:void(0)\">script</a>\n"
              "<li><a name=\"no-href\">anchor</a> <a href=\"#top\">top</a>\n", b);
    }
    fputs("</ul></body></html>\n", b);
}

void crawlsite_respond(const char *path, crawlsite_response *r)
{
    memset(r, 0, sizeof *r);
    long num = 0;
    int kind = page_kind(path, &num);
    char *body;
    size_t len;
    FILE *b = text_open(&body, &len);
    r->status = 200;
    r->type = "text/html; charset=utf-8";
    switch (kind) {
    case PAGE_MISSING:
        r->status = 404;
        fprintf(b, "<html><body>404 page not found: <a href=\"/p/2.html\">home</a></body></html>\n");
        break;
    case PAGE_OLD:
        r->status = 301;
        snprintf(r->location, sizeof r->location, "/p/7.html");
        fprintf(b, "<html><body>moved to <a href=\"/p/7.html\">here</a></body></html>\n");
        break;
    case PAGE_DATA:
        /* Not HTML, though it holds what looks like a link: never parsed. */
        r->type = "application/octet-stream";
        for (int i = 0; i < 64; i++) {
            char c = (char)(i * 37 + 11);
            fputc(c, b);
        }
        fprintf(b, "<a href=\"/secret.html\">not a link</a>");
        break;
    case PAGE_MANY:
        fprintf(b, "<html><body><h1>many links</h1>\n");
        for (long k = 0; k < CRAWLSITE_MANY_LINKS; k++) {
            char target[32];
            snprintf(target, sizeof target, "/p/%ld.html", k % CRAWLSITE_PAGES);
            render_link(b, "/", target, (unsigned)k);
        }
        fprintf(b, "</body></html>\n");
        break;
    case PAGE_SLOW:
        r->delay = CRAWLSITE_SLOW;
        render_page(b, kind, num, path);
        break;
    default:
        render_page(b, kind, num, path);
        break;
    }
    r->body = text_close(b, &body, &len);
    r->len = len;
}

void crawlsite_response_free(crawlsite_response *r)
{
    free(r->body);
    memset(r, 0, sizeof *r);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool paths_has(const crawlsite_paths *p, const char *s)
{
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->v[i], s))
            return true;
    return false;
}

static void paths_push(crawlsite_paths *p, const char *s)
{
    char **v = realloc(p->v, (p->n + 1) * sizeof *v);
    if (!v)
        csp_panic("crawl: out of memory");
    p->v = v;
    p->v[p->n++] = xstrdup(s);
}

/* Breadth first over page_targets, from "/". A 301 reaches its source (the
 * crawler asked for it) and contributes its target's links; 404s and
 * non-HTML pages are reached and lead nowhere. Quadratic membership tests:
 * a few hundred paths, once per check. */
static void reachable_walk(crawlsite_paths *out)
{
    out->v = NULL;
    out->n = 0;
    paths_push(out, "/");
    for (size_t head = 0; head < out->n; head++) {
        char path[32];
        snprintf(path, sizeof path, "%s", out->v[head]);
        long num = 0;
        int kind = page_kind(path, &num);
        if (kind == PAGE_OLD)
            kind = page_kind("/p/7.html", &num);
        if (kind == PAGE_MANY) {
            for (long k = 0; k < CRAWLSITE_PAGES; k++) {
                char t[32];
                snprintf(t, sizeof t, "/p/%ld.html", k);
                if (!paths_has(out, t))
                    paths_push(out, t);
            }
            continue;
        }
        if (kind == PAGE_MISSING || kind == PAGE_DATA)
            continue;
        char t[MAX_TARGETS][TARGET_SIZE];
        int n = page_targets(kind, num, t);
        for (int i = 0; i < n; i++)
            if (!paths_has(out, t[i]))
                paths_push(out, t[i]);
    }
    qsort(out->v, out->n, sizeof *out->v, cmp_str);
}

/* Under control the walk is done once per process and site (the memo's
 * rules, below: no lock, hidden from TSan): every schedule checks its
 * result against it. */
void crawlsite_reachable(crawlsite_paths *out)
{
    static crawlsite_paths once[2];
    static bool have[2];
    if (!csp_sched_active() || crawlsite__memo_off) {
        reachable_walk(out);
        return;
    }
    csp_tool_ignore_begin();
    if (!have[tiny]) {
        reachable_walk(&once[tiny]);
        have[tiny] = true;
    }
    out->n = 0;
    out->v = xmalloc((once[tiny].n + 1) * sizeof *out->v);
    for (size_t i = 0; i < once[tiny].n; i++)
        out->v[out->n++] = xstrdup(once[tiny].v[i]);
    csp_tool_ignore_end();
}

void crawlsite_paths_free(crawlsite_paths *p)
{
    for (size_t i = 0; i < p->n; i++)
        free(p->v[i]);
    free(p->v);
    p->v = NULL;
    p->n = 0;
}

/* ================================================================ Links */

static pthread_once_t global_once = PTHREAD_ONCE_INIT;

static void global_init_once(void)
{
    const char *v = getenv("CHANLAB_CRAWL_NO_MEMO");
    crawlsite__memo_off = v && *v && strcmp(v, "0");
    curl_global_init(CURL_GLOBAL_DEFAULT);
    xmlInitParser();
}

void crawlsite__init(void) { pthread_once(&global_once, global_init_once); }

void crawl_fetched_free(crawl_fetched *f)
{
    free(f->url);
    if (!f->borrowed)
        free(f->body);
    memset(f, 0, sizeof *f);
}

/* ------------------------------------------------------ The memo's user */

static int sim_fetch(crawl_site *site, const char *url, crawl_fetched *out, char err[CRAWL_ERR_SIZE]);

/* Whether to use the memo (crawlmemo.c) for this site: the simulated one,
 * under control, unless CHANLAB_CRAWL_NO_MEMO is set. */
static bool memo_on(const crawl_site *s)
{
    return s->fetch == sim_fetch && !crawlsite__memo_off && csp_sched_active();
}

/* The response for path: the memo's (*borrowed) or a fresh one. */
static void sim_respond(const crawl_site *s, const char *path, crawlsite_response *r, bool *borrowed)
{
    *borrowed = memo_on(s) && crawlmemo__respond(path, tiny, r);
    if (!*borrowed)
        crawlsite_respond(path, r);
}

int crawl_extract(crawl_site *s, const char *url, const char *origin, crawl_links *out,
                  char err[CRAWL_ERR_SIZE])
{
    memset(out, 0, sizeof *out);
    crawl_fetched f;
    if (s->fetch(s, url, &f, err) != 0)
        return -1;
    if (f.status != 200) {
        snprintf(err, CRAWL_ERR_SIZE, "getting %s: %d %s", url, f.status,
                 f.status == 404 ? "Not Found" : f.status == 503 ? "Service Unavailable" : "error");
        crawl_fetched_free(&f);
        return -1;
    }
    bool use_memo = f.html && memo_on(s);
    if (f.html && (!use_memo || !crawlmemo__links_get(&f, origin, out))) {
        crawl_links all = { 0 };
        crawl_html_links(f.body, f.len, f.url, &all);
        for (size_t i = 0; i < all.n; i++) {
            if (!origin || crawl_url_on_origin(all.v[i], origin)) {
                crawl_links_push(out, all.v[i]);
                all.v[i] = NULL;
            }
        }
        crawl_links_free(&all);
        if (use_memo)
            crawlmemo__links_put(&f, origin, out);
    }
    crawl_fetched_free(&f);
    return 0;
}

/* ========================================================== Site: libcurl */

/* One easy handle per fetch, as the book's http.Get gives each goroutine its
 * own request: every fetching task blocks in its own curl_easy_perform (a
 * declared system call). A multi handle would serve all fetches from one
 * thread, but then the tasks would wait on a channel for that thread, and
 * crawl1's unbounded concurrency would no longer be its own sockets.
 * Keep-alive, what Go's http.DefaultTransport gives with its cache of idle
 * connections, comes from reusing idle easy handles, reset before reuse:
 * each keeps its own connection cache (in the multi handle that
 * curl_easy_perform makes on first use, with its wake-up socket pair), so a
 * crawl does not open a connection per page. The handles share only the DNS
 * cache (a CURLSH, its lock a mutex). Not the connection cache: libcurl does
 * not support sharing connections between concurrent threads (its
 * CURLSHOPT_SHARE page and KNOWN_BUGS), and did free a connection another
 * thread was still writing (valgrind, libcurl 7.88: "double free or
 * corruption" in about one crawl in 200 on a busy machine). */
#define FETCH_MAX_BYTES (8L << 20)

typedef struct {
    crawl_site base;
    char *root;
    const atomic_int *cancel;
    CURLSH *share;
    pthread_mutex_t lock[CURL_LOCK_DATA_LAST];
    pthread_mutex_t idle_lock;  /* guards idle, nidle */
    CURL *idle[32];
    int nidle;
} http_site;

static CURL *handle_get(http_site *s)
{
    CURL *h = NULL;
    pthread_mutex_lock(&s->idle_lock);
    if (s->nidle > 0)
        h = s->idle[--s->nidle];
    pthread_mutex_unlock(&s->idle_lock);
    if (h)
        curl_easy_reset(h);
    return h ? h : curl_easy_init();
}

static void handle_put(http_site *s, CURL *h)
{
    pthread_mutex_lock(&s->idle_lock);
    if (s->nidle < (int)(sizeof s->idle / sizeof *s->idle)) {
        s->idle[s->nidle++] = h;
        h = NULL;
    }
    pthread_mutex_unlock(&s->idle_lock);
    if (h)
        curl_easy_cleanup(h);
}

static void share_lock(CURL *h, curl_lock_data data, curl_lock_access access, void *arg)
{
    (void)h, (void)access;
    http_site *s = arg;
    pthread_mutex_lock(&s->lock[data]);
}

static void share_unlock(CURL *h, curl_lock_data data, void *arg)
{
    (void)h;
    http_site *s = arg;
    pthread_mutex_unlock(&s->lock[data]);
}

typedef struct {
    FILE *body;                 /* a memory stream into body_p (text_open) */
    char *body_p;
    size_t body_n, len;         /* len: the bytes written so far */
    bool too_big;
    int socket_errno;           /* socket() failed with it (EMFILE: out of descriptors) */
    const atomic_int *cancel;
} http_transfer;

/* curl's own socket opener reports a refused socket only as "Couldn't
 * connect": open it here, so that running out of descriptors is seen. */
static curl_socket_t open_socket(void *arg, curlsocktype purpose, struct curl_sockaddr *a)
{
    (void)purpose;
    http_transfer *t = arg;
    curl_socket_t fd = socket(a->family, a->socktype | SOCK_CLOEXEC, a->protocol);
    if (fd == CURL_SOCKET_BAD)
        t->socket_errno = errno;
    return fd;
}

static size_t on_body(char *p, size_t size, size_t n, void *arg)
{
    http_transfer *t = arg;
    size_t k = size * n;
    if (t->len + k > (size_t)FETCH_MAX_BYTES) {
        t->too_big = true;
        return 0;                           /* aborts the transfer */
    }
    t->len += k;
    return fwrite(p, 1, k, t->body);
}

static int on_progress(void *arg, curl_off_t dt, curl_off_t dn, curl_off_t ut, curl_off_t un)
{
    (void)dt, (void)dn, (void)ut, (void)un;
    http_transfer *t = arg;
    return t->cancel && atomic_load(t->cancel) ? 1 : 0;
}

static int http_fetch(crawl_site *site, const char *url, crawl_fetched *out, char err[CRAWL_ERR_SIZE])
{
    http_site *s = (http_site *)site;
    memset(out, 0, sizeof *out);
    CURL *h = handle_get(s);
    if (!h) {
        snprintf(err, CRAWL_ERR_SIZE, "Get %s: curl_easy_init failed", url);
        return -1;
    }
    http_transfer t = { .cancel = s->cancel };
    t.body = text_open(&t.body_p, &t.body_n);
    curl_easy_setopt(h, CURLOPT_URL, url);
    curl_easy_setopt(h, CURLOPT_SHARE, s->share);
    curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_REDIR_PROTOCOLS_STR, "http,https");
    curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 1L);
    curl_easy_setopt(h, CURLOPT_MAXREDIRS, 5L);
    curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 5000L);
    curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 20000L);
    curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)FETCH_MAX_BYTES);
    curl_easy_setopt(h, CURLOPT_NOPROXY, "127.0.0.1,localhost,::1");
    curl_easy_setopt(h, CURLOPT_USERAGENT, "chanlab-crawl/1");
    curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
    curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
    curl_easy_setopt(h, CURLOPT_WRITEDATA, &t);
    curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
    curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
    curl_easy_setopt(h, CURLOPT_XFERINFODATA, &t);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETFUNCTION, open_socket);
    curl_easy_setopt(h, CURLOPT_OPENSOCKETDATA, &t);
    harness_gauge_enter(CRAWL_FETCH_GAUGE);
    csp_syscall_enter("http GET");
    CURLcode rc = curl_easy_perform(h);
    csp_syscall_exit();
    harness_gauge_exit(CRAWL_FETCH_GAUGE);
    int ret = 0;
    if (rc != CURLE_OK) {
        long os_errno = t.socket_errno;
        if (!os_errno)
            curl_easy_getinfo(h, CURLINFO_OS_ERRNO, &os_errno);
        if (os_errno == EMFILE || os_errno == ENFILE)
            harness_resource_exhausted("sockets: EMFILE (too many open files)");
        snprintf(err, CRAWL_ERR_SIZE, "Get %s: %s%s%s", url,
                 t.too_big ? "response larger than 8 MiB" : curl_easy_strerror(rc),
                 os_errno ? ": " : "", os_errno ? strerror((int)os_errno) : "");
        free(text_close(t.body, &t.body_p, &t.body_n));
        ret = -1;
    } else {
        long status = 0;
        char *type = NULL, *eff = NULL;
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_getinfo(h, CURLINFO_CONTENT_TYPE, &type);
        curl_easy_getinfo(h, CURLINFO_EFFECTIVE_URL, &eff);
        out->status = (int)status;
        out->html = type && !strncasecmp(type, "text/html", 9);
        out->url = xstrdup(eff ? eff : url);
        out->body = text_close(t.body, &t.body_p, &t.body_n);
        out->len = t.body_n;
    }
    handle_put(s, h);
    return ret;
}

crawl_site *crawlsite_http(const char *root, const atomic_int *cancel)
{
    crawlsite__init();
    http_site *s = xmalloc(sizeof *s);
    s->root = root ? xstrdup(root) : NULL;
    s->cancel = cancel;
    for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
        pthread_mutex_init(&s->lock[i], NULL);
    pthread_mutex_init(&s->idle_lock, NULL);
    s->nidle = 0;
    s->share = curl_share_init();
    if (!s->share)
        csp_panic("crawl: out of memory");
    curl_share_setopt(s->share, CURLSHOPT_LOCKFUNC, share_lock);
    curl_share_setopt(s->share, CURLSHOPT_UNLOCKFUNC, share_unlock);
    curl_share_setopt(s->share, CURLSHOPT_USERDATA, s);
    curl_share_setopt(s->share, CURLSHOPT_SHARE, CURL_LOCK_DATA_DNS);
    s->base.fetch = http_fetch;
    s->base.root = s->root;
    return &s->base;
}

/* =========================================================== Site: memory */

typedef struct {
    crawl_site base;
    char *root;                 /* ends with '/' */
    csp_duration latency;
    int capacity;
    atomic_int active;          /* fetches in flight */
} sim_site;

static int sim_fetch(crawl_site *site, const char *url, crawl_fetched *out, char err[CRAWL_ERR_SIZE])
{
    sim_site *s = (sim_site *)site;
    memset(out, 0, sizeof *out);
    size_t rl = strlen(s->root);
    if (strncmp(url, s->root, rl - 1) || (url[rl - 1] != '/' && url[rl - 1] != 0)) {
        snprintf(err, CRAWL_ERR_SIZE, "Get %s: no such host (the simulated web has one site)", url);
        return -1;
    }
    char path[256];
    if (!crawlsite__cat3(path, sizeof path, "", 0, "", url[rl - 1] ? url + rl - 1 : "/")) {
        snprintf(err, CRAWL_ERR_SIZE, "Get %s: 414 URI Too Long", url);
        return -1;
    }
    harness_gauge_enter(CRAWL_FETCH_GAUGE);
    int busy = atomic_fetch_add(&s->active, 1) + 1;
    crawlsite_response r;
    bool borrowed = false;
    if (busy > s->capacity) {
        memset(&r, 0, sizeof r);
        r.status = 503;
        r.type = "text/plain";
        r.body = xstrdup("over capacity\n");
        r.len = strlen(r.body);
        csp_sleep(CSP_MILLISECOND);         /* refusing costs a round trip */
    } else {
        sim_respond(site, path, &r, &borrowed);
        for (int hops = 0; r.status == 301 && hops < 5; hops++) {
            snprintf(path, sizeof path, "%s", r.location);
            csp_sleep(s->latency);
            if (!borrowed)
                crawlsite_response_free(&r);
            sim_respond(site, path, &r, &borrowed);
        }
        csp_sleep(s->latency + r.delay);
    }
    atomic_fetch_sub(&s->active, 1);
    harness_gauge_exit(CRAWL_FETCH_GAUGE);
    size_t n = rl + strlen(path) + 1;
    out->url = xmalloc(n);
    crawlsite__cat3(out->url, n, s->root, rl - 1, path, "");
    out->status = r.status;
    out->html = !strncmp(r.type, "text/html", 9);
    out->body = r.body;
    out->len = r.len;
    out->borrowed = borrowed;
    return 0;
}

crawl_site *crawlsite_sim(const char *root, csp_duration latency, int capacity)
{
    crawlsite__init();
    sim_site *s = xmalloc(sizeof *s);
    s->root = xstrdup(root);
    s->latency = latency;
    s->capacity = capacity;
    atomic_init(&s->active, 0);
    s->base.fetch = sim_fetch;
    s->base.root = s->root;
    return &s->base;
}

void crawlsite_free(crawl_site *s)
{
    if (!s)
        return;
    if (s->fetch == sim_fetch) {
        free(((sim_site *)s)->root);
    } else {
        http_site *h = (http_site *)s;
        for (int i = 0; i < h->nidle; i++)
            curl_easy_cleanup(h->idle[i]);
        pthread_mutex_destroy(&h->idle_lock);
        curl_share_cleanup(h->share);
        for (int i = 0; i < CURL_LOCK_DATA_LAST; i++)
            pthread_mutex_destroy(&h->lock[i]);
        free(h->root);
    }
    free(s);
}
