/* crawl_links_fuzzer.c — the crawler's link extraction (patterns/
 * crawlsite.c): whatever HTML a server sends (libxml2's recovering parser,
 * any encoding, unclosed tags, huge attributes), crawl_html_links returns
 * only what the crawler may follow — absolute http(s) URLs, no fragment, no
 * default port, host in lower case — and each is a fixed point of
 * crawl_url_resolve (resolving it again changes nothing) with an origin;
 * and they are exactly the links of the reference extraction
 * (crawl_html_links_tree: libxml2's tree, walked), in the same order.
 * The input's first byte picks the base URL, the rest is the page. Any
 * other result, a crash or a sanitizer report is a finding. */
#include "crawlsite.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void finding(const char *what, const char *base, const char *url)
{
    fprintf(stderr, "crawl_links_fuzzer: %s: base %s, link \"%s\"\n", what, base, url ? url : "(null)");
    abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const bases[] = {
        "http://127.0.0.1:8080/dir/page.html", "https://Example.COM/a/b/?q=1#frag",
        "http://127.0.0.1/", "http://[::1]:8081/x",
    };
    if (size < 1 || size > (1u << 20))
        return 0;
    const char *base = bases[data[0] % 4];
    crawl_links links = {0};
    crawl_html_links((const char *)data + 1, size - 1, base, &links);
    for (size_t i = 0; i < links.n; i++) {
        const char *u = links.v[i];
        if (strncmp(u, "http://", 7) != 0 && strncmp(u, "https://", 8) != 0)
            finding("not an http(s) URL", base, u);
        if (strchr(u, '#'))
            finding("a fragment was kept", base, u);
        for (const char *c = u; *c; c++)
            if ((unsigned char)*c <= 0x20 || *c == 0x7f)
                finding("a control character or space in a URL", base, u);
        char *again = crawl_url_resolve(base, u);
        if (!again || strcmp(again, u) != 0)
            finding(again ? "resolving it again changes it" : "resolving it again fails", base, u);
        free(again);
        char *origin = crawl_url_origin(u);
        if (!origin || !crawl_url_on_origin(u, origin))
            finding("it has no origin, or is not on its own", base, u);
        free(origin);
    }
    crawl_links tree = {0};
    crawl_html_links_tree((const char *)data + 1, size - 1, base, &tree);
    if (tree.n != links.n)
        finding("the tree has a different number of links", base, tree.n > links.n ? tree.v[links.n] : links.v[tree.n]);
    for (size_t i = 0; i < links.n; i++)
        if (strcmp(links.v[i], tree.v[i]) != 0)
            finding("the tree has another link here", base, links.v[i]);
    crawl_links_free(&tree);
    crawl_links_free(&links);
    return 0;
}
