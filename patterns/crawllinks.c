/* crawllinks.c — link extraction for the crawl family (crawlsite.h, "Fetch,
 * links"): a page's <a href> links by libxml2's HTML parser, each resolved
 * against the page's URL with libcurl's URL API (or, for the plain common
 * case, by concatenation checked against libcurl), fragments dropped, only
 * http(s) kept; and the lists they come in. Pure functions of their input:
 * no site, no state but libcurl's and libxml2's global initialisation
 * (crawlsite__init). */
#include "crawlsite.h"
#include "crawlsite_internal.h"

#include <curl/curl.h>
#include <libxml/HTMLparser.h>
#include <libxml/parser.h>
#include <libxml/parserInternals.h>

#include <limits.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

void crawl_links_push(crawl_links *l, char *url)
{
    if (l->borrowed)
        csp_panic("crawl: crawl_links_push on a borrowed list (its strings are not its own)");
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 16;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            csp_panic("crawl: out of memory");
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n++] = url;
}

char *crawl_links_take(crawl_links *l, size_t i)
{
    if (l->borrowed) {
        char *s = strdup(l->v[i]);
        if (!s)
            csp_panic("crawl: out of memory");
        return s;
    }
    char *s = l->v[i];
    l->v[i] = NULL;
    return s;
}

void crawl_links_free(crawl_links *l)
{
    if (!l)
        return;
    if (!l->borrowed) {
        for (size_t i = 0; i < l->n; i++)
            free(l->v[i]);
        free(l->v);
    }
    memset(l, 0, sizeof *l);
}

static bool is_html_space(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f';
}

/* The reference as a URL parser takes it: surrounding white space gone (as
 * a browser does), bytes no URL may hold percent-encoded. */
static char *clean_href(const char *href)
{
    while (is_html_space(*href))
        href++;
    size_t n = strlen(href);
    while (n && is_html_space(href[n - 1]))
        n--;
    char *out = xmalloc(3 * n + 1);
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)href[i];
        if (c <= 0x20 || c >= 0x7f || strchr("\"<>\\^`{|}", c)) {
            k += (size_t)sprintf(out + k, "%%%02X", c);
        } else {
            out[k++] = (char)c;
        }
    }
    out[k] = 0;
    return out;
}

/* href resolved against the parsed base u (left as it was). Normalized:
 * fragment dropped, host name in lower case, no default port, so one page
 * has one spelling and its origin is a prefix of it (crawl_url_origin). */
static char *resolve_with(CURLU *base, const char *href)
{
    char *clean = clean_href(href ? href : "");
    char *result = NULL, *scheme = NULL, *host = NULL, *s = NULL;
    CURLU *u = curl_url_dup(base);
    if (!u)
        csp_panic("crawl: out of memory");
    /* An empty reference, or a fragment alone, is the base document itself
     * (RFC 3986 5.2.2, as Go's URL.Parse; libcurl 7.88 would drop the last
     * path segment for "#top"). */
    if (clean[0] && clean[0] != '#' && curl_url_set(u, CURLUPART_URL, clean, 0) != CURLUE_OK)
        goto out;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        (strcmp(scheme, "http") && strcmp(scheme, "https")))
        goto out;
    curl_url_set(u, CURLUPART_FRAGMENT, NULL, 0);
    if (curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        goto out;
    bool upper = false;
    for (char *p = host; *p; p++)
        if (*p >= 'A' && *p <= 'Z') {
            *p = (char)(*p - 'A' + 'a');
            upper = true;
        }
    if (upper)
        curl_url_set(u, CURLUPART_HOST, host, 0);
    if (curl_url_get(u, CURLUPART_URL, &s, CURLU_NO_DEFAULT_PORT) != CURLUE_OK)
        goto out;
    /* libcurl 7.88 keeps a DEL (0x7f) in a host name; Go's url.Parse refuses
     * every control character ("invalid control character in URL"), and so
     * does the crawler (crawl_links_fuzzer's first finding). */
    for (const char *c = s; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            goto out;
    result = xstrdup(s);
out:
    curl_free(s);
    curl_free(host);
    curl_free(scheme);
    curl_url_cleanup(u);
    free(clean);
    return result;
}

static CURLU *parse_base(const char *base)
{
    crawlsite__init();
    CURLU *u = curl_url();
    if (!u)
        csp_panic("crawl: out of memory");
    if (curl_url_set(u, CURLUPART_URL, base, 0) != CURLUE_OK) {
        curl_url_cleanup(u);
        return NULL;
    }
    return u;
}

char *crawl_url_resolve(const char *base, const char *href)
{
    CURLU *u = parse_base(base);
    char *r = u ? resolve_with(u, href) : NULL;
    curl_url_cleanup(u);
    return r;
}

/* The prefix of the normalized URL up to its path: "scheme://host[:port]". */
char *crawl_url_origin(const char *url)
{
    char *n = crawl_url_resolve(url, "");
    if (!n)
        return NULL;
    char *path = strchr(strstr(n, "://") + 3, '/');
    if (path)
        *path = 0;
    return n;
}

bool crawl_url_on_origin(const char *url, const char *origin)
{
    size_t n = strlen(origin);
    return !strncmp(url, origin, n) && (url[n] == '/' || url[n] == 0);
}

/* The common case without a parse: a reference made only of characters a
 * URL keeps as they are (no scheme, no "//" authority, no percent escape,
 * no "." or ".." segment) resolved against a base that crawl_url_resolve
 * has already normalized is plain concatenation — what libcurl would
 * produce, as test_crawl_links checks link by link. NULL: not that case. */
static bool fast_char(unsigned char c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
           (c && strchr("-._~/?=&+,;", c));
}

static char *resolve_fast(const char *base, const char *href)
{
    while (is_html_space(*href))
        href++;
    size_t n = strcspn(href, "#");
    while (n && is_html_space(href[n - 1]))
        n--;
    if ((href[n] == '#' && strchr(href + n + 1, '#')) || (n && href[n - 1] == '?'))
        return NULL;                        /* a second '#'; an empty query (libcurl drops it) */
    for (size_t i = 0; i < n; i++)
        if (!fast_char((unsigned char)href[i]))
            return NULL;
    if (n >= 2 && href[0] == '/' && href[1] == '/')
        return NULL;
    /* No "." or ".." segment in the reference's path. */
    size_t path_end = strcspn(href, "?#");
    if (path_end > n)
        path_end = n;
    for (size_t i = 0; i < path_end;) {
        size_t seg = i, k = i;
        while (k < path_end && href[k] != '/')
            k++;
        if ((k - seg == 1 && href[seg] == '.') || (k - seg == 2 && href[seg] == '.' && href[seg + 1] == '.'))
            return NULL;
        i = k + 1;
    }
    const char *authority = strstr(base, "://");
    if (!authority)
        return NULL;
    const char *path = strchr(authority + 3, '/');
    if (!path)
        return NULL;
    size_t keep;                            /* how much of base the reference keeps */
    if (n == 0)
        keep = strlen(base);
    else if (href[0] == '/')
        keep = (size_t)(path - base);
    else if (href[0] == '?')
        keep = (size_t)(path - base) + strcspn(path, "?");
    else {
        size_t dir = (size_t)(path - base) + strcspn(path, "?");
        while (base[dir - 1] != '/')
            dir--;
        keep = dir;
    }
    char *out = malloc(keep + n + 1);
    if (!out)
        csp_panic("crawl: out of memory");
    memcpy(out, base, keep);
    memcpy(out + keep, href, n);
    out[keep + n] = 0;
    return out;
}

/* One href, resolved against the base (base_norm: crawl_url_resolve's
 * spelling of it, for resolve_fast) and pushed, unless it is not http(s). */
static void push_resolved(crawl_links *out, CURLU *base_u, const char *base_norm, const char *href)
{
    char *url = base_norm ? resolve_fast(base_norm, href) : NULL;
    if (!url)
        url = resolve_with(base_u, href);
    if (url)
        crawl_links_push(out, url);
}

typedef struct {
    CURLU *base_u;
    const char *base_norm;
    crawl_links *out;
    xmlParserCtxtPtr ctxt;
    unsigned depth;             /* the tree builder's node stack (ctxt->nodeNr) */
} sax_links;

/* SAX startElement: names come lower-cased and attributes entity-decoded and
 * without duplicates (htmlParseStartTag), attribute names unsplit (the
 * tree keeps them whole in HTML); a value-less attribute has a NULL
 * value, which the tree spells as an empty one (xmlGetProp gives "").
 * The depth limit is the tree builder's, not the parser's: nodePush refuses
 * an element when xmlParserMaxDepth (256) are open and halts the parse
 * (libxml2 2.9.14, parser.c), so the tree stops there; so does this. */
static void sax_start(void *ctx, const xmlChar *name, const xmlChar **atts)
{
    sax_links *l = ctx;
    if (l->depth > xmlParserMaxDepth) {
        xmlStopParser(l->ctxt);
        return;
    }
    l->depth++;
    if (!atts)
        return;
    /* The tree names an element by the local part of its name: "x:a" is an
     * <a> there (xmlSAX2StartElement splits every name, HTML or not). */
    bool is_a;
    if (xmlStrchr(name, ':')) {
        xmlChar *prefix = NULL, *local = xmlSplitQName(l->ctxt, name, &prefix);
        is_a = !xmlStrcasecmp(local ? local : name, BAD_CAST "a");
        xmlFree(local);
        xmlFree(prefix);
    } else {
        is_a = !xmlStrcasecmp(name, BAD_CAST "a");
    }
    if (!is_a)
        return;
    for (size_t i = 0; atts[i]; i += 2)
        if (xmlStrEqual(atts[i], BAD_CAST "href")) {   /* xmlGetProp: the first, by exact name */
            push_resolved(l->out, l->base_u, l->base_norm, atts[i + 1] ? (const char *)atts[i + 1] : "");
            return;
        }
}

/* SAX endElement: the tree builder pops its node stack (nodePop). */
static void sax_end(void *ctx, const xmlChar *name)
{
    (void)name;
    sax_links *l = ctx;
    if (l->depth > 0)
        l->depth--;
}

/* Every a[@href], document order: libxml2's HTML parser — the same
 * tokenizer, error recovery, implied and auto-closed elements, encoding
 * detection and entity decoding as htmlReadMemory, which runs it with the
 * SAX handler that builds a tree — here with a handler that only looks at
 * start tags, since every element of that tree is one startElement call. No
 * tree is built and freed: on the site's 10,000-link page 8.7 ms a parse
 * against 35 ms for htmlReadMemory and the walk (libxml2 2.9.14; Go's
 * html.Parse takes 18-27 ms), and a quarter of the demo crawl's CPU time
 * was that tree's malloc and free. Two things the tree builder does that
 * change which links a tree has are done here too: it names an element by
 * the local part of its name ("x:a" is an <a>: crawl_links_fuzzer found
 * that one), and it stops the parse at its depth limit. crawl_html_links_tree
 * is the tree version, kept as the reference: test_crawl_links (hostile
 * pages and every page of the site) and crawl_links_fuzzer (227,000 inputs
 * in five minutes after that fix, no difference) check that both give the
 * same links in the same order, input by input. */
void crawl_html_links(const char *html, size_t len, const char *base, crawl_links *out)
{
    CURLU *base_u = parse_base(base);
    if (!base_u)
        return;
    char *base_norm = resolve_with(base_u, "");
    int n = len > INT_MAX ? INT_MAX : (int)len;
    /* As htmlReadMemory makes its context (libxml2 2.9.14, HTMLparser.c): an
     * XML memory context — htmlCreateMemoryParserCtxt's differs, it guesses
     * the encoding of an undeclared page as Latin-1 where htmlReadMemory's
     * reads UTF-8 (test_crawl_links saw /caf\xc3\xa9 come out as mojibake) —
     * with the SAX handler in place of htmlDefaultSAXHandler, then
     * htmlDoRead's steps: the options, HTML mode, htmlParseDocument. */
    xmlParserCtxtPtr ctxt = xmlCreateMemoryParserCtxt(html, n);
    if (ctxt && ctxt->sax) {
        sax_links l = { base_u, base_norm, out, ctxt, 0 };
        memset(ctxt->sax, 0, sizeof *ctxt->sax);
        ctxt->sax->initialized = 1;         /* a SAX1 handler, as htmlDefaultSAXHandler */
        ctxt->sax->startElement = sax_start;
        ctxt->sax->endElement = sax_end;
        ctxt->userData = &l;
        htmlCtxtUseOptions(ctxt, HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                     HTML_PARSE_NONET);
        ctxt->html = 1;
        htmlParseDocument(ctxt);
        if (ctxt->myDoc)
            xmlFreeDoc(ctxt->myDoc);
        ctxt->myDoc = NULL;
    }
    if (ctxt)
        xmlFreeParserCtxt(ctxt);
    free(base_norm);
    curl_url_cleanup(base_u);
}

/* The reference extraction (crawlsite.h): the tree htmlReadMemory builds,
 * every a[@href] in document order by an iterative walk (hostile documents
 * nest deeply; libxml2 caps the depth, the walk needs no stack either way). */
void crawl_html_links_tree(const char *html, size_t len, const char *base, crawl_links *out)
{
    CURLU *base_u = parse_base(base);
    if (!base_u)
        return;
    char *base_norm = resolve_with(base_u, "");
    int n = len > INT_MAX ? INT_MAX : (int)len;
    htmlDocPtr doc = htmlReadMemory(html, n, base, NULL,
                                    HTML_PARSE_RECOVER | HTML_PARSE_NOERROR | HTML_PARSE_NOWARNING |
                                    HTML_PARSE_NONET);
    if (!doc) {
        free(base_norm);
        curl_url_cleanup(base_u);
        return;
    }
    xmlNodePtr node = xmlDocGetRootElement(doc);
    while (node) {
        if (node->type == XML_ELEMENT_NODE && !xmlStrcasecmp(node->name, BAD_CAST "a")) {
            xmlChar *href = xmlGetProp(node, BAD_CAST "href");
            if (href) {
                push_resolved(out, base_u, base_norm, (const char *)href);
                xmlFree(href);
            }
        }
        if (node->children && node->type == XML_ELEMENT_NODE) {
            node = node->children;
            continue;
        }
        while (node && !node->next)
            node = node->parent && node->parent->type != XML_DOCUMENT_NODE &&
                           node->parent->type != XML_HTML_DOCUMENT_NODE
                       ? node->parent
                       : NULL;
        if (node)
            node = node->next;
    }
    xmlFreeDoc(doc);
    free(base_norm);
    curl_url_cleanup(base_u);
}
