/* test_crawl_links.c — the crawl family's link extraction (label unit): URL
 * resolution with libcurl's URL API (relative forms, fragments, white space,
 * other schemes), libxml2's HTML parser on hostile documents (unclosed tags,
 * 10,000 links, bad encodings, NUL bytes, huge attributes, deep nesting), and
 * the generated site's reference walk. No network: nothing here fetches. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "crawlsite.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void assert_resolves(const char *base, const char *href, const char *want)
{
    char *got = crawl_url_resolve(base, href);
    if (!want) {
        if (got)
            fail_msg("%s against %s: got %s, want none", href, base, got);
        return;
    }
    if (!got || strcmp(got, want))
        fail_msg("%s against %s: got %s, want %s", href, base, got ? got : "(none)", want);
    free(got);
}

static void resolves_relative_references(void **state)
{
    (void)state;
    const char *base = "http://127.0.0.1:8080/p/3.html";
    assert_resolves(base, "4.html", "http://127.0.0.1:8080/p/4.html");
    assert_resolves(base, "./4.html", "http://127.0.0.1:8080/p/4.html");
    assert_resolves(base, "../index.html", "http://127.0.0.1:8080/index.html");
    assert_resolves(base, "/a/../b/./c.html", "http://127.0.0.1:8080/b/c.html");
    assert_resolves(base, "?q=1", "http://127.0.0.1:8080/p/3.html?q=1");
    assert_resolves(base, "//127.0.0.2/x", "http://127.0.0.2/x");
    assert_resolves(base, "https://Example.invalid/A", "https://example.invalid/A");
    assert_resolves(base, "HTTP://127.0.0.1:8080/", "http://127.0.0.1:8080/");
    assert_resolves(base, "", "http://127.0.0.1:8080/p/3.html");
}

static void drops_fragments_and_trims_white_space(void **state)
{
    (void)state;
    const char *base = "http://127.0.0.1:8080/";
    assert_resolves(base, "p/1.html#sec", "http://127.0.0.1:8080/p/1.html");
    assert_resolves(base, "#top", "http://127.0.0.1:8080/");
    assert_resolves("http://127.0.0.1:8080/p/3.html?x", "#top", "http://127.0.0.1:8080/p/3.html?x");
    assert_resolves(base, "  \n\t/p/2.html \n", "http://127.0.0.1:8080/p/2.html");
    assert_resolves(base, "/a b.html", "http://127.0.0.1:8080/a%20b.html");
    assert_resolves(base, "/caf\xc3\xa9", "http://127.0.0.1:8080/caf%C3%A9");
}

static void follows_only_http_and_https(void **state)
{
    (void)state;
    const char *base = "http://127.0.0.1:8080/";
    assert_resolves(base, "mailto:someone@example.invalid", NULL);
    assert_resolves(base, "javascript:void(0)", NULL);
    assert_resolves(base, "ftp://127.0.0.1/pub/", NULL);
    assert_resolves(base, "file:///etc/passwd", NULL);
    assert_resolves(base, "data:text/html,<a href=x>", NULL);
    assert_resolves("not a url", "p.html", NULL);
    char *o = crawl_url_origin("https://127.0.0.1/x");
    assert_string_equal(o, "https://127.0.0.1");
    free(o);
    o = crawl_url_origin("http://127.0.0.1:9/x?y#z");
    assert_string_equal(o, "http://127.0.0.1:9");
    free(o);
    assert_null(crawl_url_origin("mailto:x@y"));
    o = crawl_url_origin("HTTP://LocalHost:80");
    assert_string_equal(o, "http://localhost");
    assert_true(crawl_url_on_origin("http://localhost/p", o));
    assert_false(crawl_url_on_origin("http://localhost.evil/p", o));
    assert_false(crawl_url_on_origin("http://localhost:8080/p", o));
    free(o);
    assert_resolves(base, "http://127.0.0.1:80/x", "http://127.0.0.1/x");
}

/* The extraction (libxml2's SAX interface) and the reference (the tree
 * htmlReadMemory builds, walked) give the same links, in the same order. */
static void assert_same_as_tree(const char *html, size_t len, const char *base, const crawl_links *got)
{
    crawl_links want = { 0 };
    crawl_html_links_tree(html, len, base, &want);
    if (want.n != got->n)
        fail_msg("%zu links without a tree, %zu from the tree (base %s, %zu bytes of HTML)", got->n,
                 want.n, base, len);
    for (size_t i = 0; i < want.n; i++)
        assert_string_equal(got->v[i], want.v[i]);
    crawl_links_free(&want);
}

static size_t links_of(const char *html, size_t len, crawl_links *out)
{
    memset(out, 0, sizeof *out);
    crawl_html_links(html, len, "http://127.0.0.1:8080/d/", out);
    assert_same_as_tree(html, len, "http://127.0.0.1:8080/d/", out);
    return out->n;
}

/* Where a tree and a stream of start tags could differ: attributes without
 * a value or repeated, prefixed names, entities, misplaced and repeated <html> and <body>,
 * content after </html>, tags the parser closes or implies, tags cut off at
 * the end, NUL bytes, a <meta> that switches the encoding mid-document. */
static void sax_and_tree_agree(void **state)
{
    (void)state;
    static const char *const pages[] = {
        "<a href>self</a><a href=''>empty</a><a href=\"\">empty2</a>",
        "<a href=x1 href=x2>dup</a><a HREF=y1 Href=y2>dup2</a>",
        "<a href='a&amp;b?c=1&lt;2'>ent</a><a href=&#x2f;abs>num</a><a href='&unknown;'>u</a>",
        ("<html><body><a href=a1></a><html lang=x><a href=a2></a><body><a href=a3></a></body></html>"
         "<a href=after-html>x</a><!-- c --><a href=after-comment>"),
        "<table><a href=t1><tr><a href=t2><td><a href=t3></table><a href=t4>",
        "<p><a href=p1><p><a href=p2><li><a href=l1><li><a href=l2><dl><dt><a href=d1><dd><a href=d2>",
        "<a href=cut", "<a href='cut", "<a", "<a href=ok>text<a href=", "",
        "<a href=n1>\0<a href=n2\0x>nul</a>",
        "<meta charset=iso-8859-1><a href=\"/caf\xe9\">e-acute</a>",
        "<head><meta http-equiv=Content-Type content='text/html; charset=utf-16'></head><a href=u>",
        "\xef\xbb\xbf<a href=bom>", "\xff\xfe<\0a\0 \0h\0r\0e\0f\0=\0x\0>\0",
        "<svg><a href=svg1 xlink:href=svg2></a></svg><math><a href=m1></math>",
        /* crawl_links_fuzzer: the tree names "x:a" an <a> (its local name) */
        "<mrse:a href=/x1>p</mrse:a><a:b:a href=/x2><:a href=/x3><a: href=/x4><A:A HREF=/x5>",
        "<template><a href=tpl></a></template><noscript><a href=ns></a></noscript>",
        "<script>document.write('<a href=in-script>')</script><style>a{}</style><a href=after>",
        "<textarea><a href=in-textarea></textarea><title><a href=in-title></title><a href=z>",
        "<!DOCTYPE html><?pi x?><![CDATA[<a href=cdata>]]><a href=after-cdata>",
        "<a href=' \t\n/sp ace \n'>ws</a><a href='#only-frag'>f</a><a href='javascript:x'>js</a>",
    };
    const char *const bases[] = { "http://127.0.0.1:8080/d/", "https://Example.COM/a/b/?q=1#frag" };
    for (size_t b = 0; b < 2; b++)
        for (size_t i = 0; i < sizeof pages / sizeof *pages; i++) {
            size_t len = strlen(pages[i]);
            if (strstr(pages[i], "nul"))
                len = sizeof "<a href=n1>\0<a href=n2\0x>nul</a>" - 1;
            if (pages[i][0] == '\xff')
                len = 22;
            crawl_links got = { 0 };
            crawl_html_links(pages[i], len, bases[b], &got);
            assert_same_as_tree(pages[i], len, bases[b], &got);
            crawl_links_free(&got);
        }
}

/* crawl_links_fuzzer's first finding: libcurl kept a DEL in a host name. No
 * control character survives resolution, wherever it stands. */
static void refuses_control_characters(void **state)
{
    (void)state;
    const char *base = "https://example.com/a/b/";
    assert_null(crawl_url_resolve(base, "//other.e\x7f" "ample/x"));
    assert_null(crawl_url_resolve(base, "http://exa\x01mple.com/"));
    char *path = crawl_url_resolve(base, "/p\x7f" "ath");   /* libcurl escapes it in a path */
    assert_true(path == NULL || strcmp(path, "https://example.com/p%7Fath") == 0);
    free(path);
    char *ok = crawl_url_resolve(base, "//other.example/x");
    assert_string_equal(ok, "https://other.example/x");
    free(ok);
}

static void survives_unclosed_and_broken_tags(void **state)
{
    (void)state;
    static const char html[] =
        "<html><body><p>one <a href=a.html>first<a href='b.html'>second<div><span>"
        "<a href=\"c.html\"<a href=d.html>broken</b></i><table><tr><td><a href=e.html>cell"
        "<a href=\"unterminated.html";
    crawl_links l;
    links_of(html, sizeof html - 1, &l);
    assert_true(l.n >= 3);
    assert_string_equal(l.v[0], "http://127.0.0.1:8080/d/a.html");
    assert_string_equal(l.v[1], "http://127.0.0.1:8080/d/b.html");
    bool e = false;
    for (size_t i = 0; i < l.n; i++)
        e = e || !strcmp(l.v[i], "http://127.0.0.1:8080/d/e.html");
    assert_true(e);
    crawl_links_free(&l);
}

/* A borrowed list (the memo's: crawlsite.h) points to strings it does not
 * own: freeing it frees none of them (here they are not even on the heap,
 * so the asan build would catch a free), and taking one copies it; taking
 * from an owning list moves the string out. */
static void borrowed_lists_own_nothing(void **state)
{
    (void)state;
    static char one[] = "http://site.invalid/one.html", two[] = "http://site.invalid/two.html";
    char *shared[] = { one, two };
    crawl_links b = { shared, 2, 2, true };
    char *t = crawl_links_take(&b, 1);
    assert_string_equal(t, two);
    assert_ptr_not_equal(t, two);
    assert_ptr_equal(b.v[1], two);
    free(t);
    crawl_links_free(&b);
    assert_null(b.v);
    assert_int_equal(b.n, 0);
    assert_false(b.borrowed);
    assert_string_equal(shared[0], "http://site.invalid/one.html");

    crawl_links o = { 0 };
    crawl_links_push(&o, strdup(one));
    char *m = o.v[0];
    assert_ptr_equal(crawl_links_take(&o, 0), m);
    assert_null(o.v[0]);
    free(m);
    crawl_links_free(&o);
}

static void finds_ten_thousand_links(void **state)
{
    (void)state;
    size_t cap = 10000 * 48 + 64, n = 0;
    char *html = malloc(cap);
    assert_non_null(html);
    n += (size_t)sprintf(html + n, "<html><body>");
    for (int i = 0; i < 10000; i++)
        n += (size_t)sprintf(html + n, "<a href=\"/p/%d.html#f\">%d</a>\n", i, i);
    crawl_links l;
    assert_int_equal(links_of(html, n, &l), 10000);
    assert_string_equal(l.v[9999], "http://127.0.0.1:8080/p/9999.html");
    crawl_links_free(&l);
    free(html);
}

static void survives_bad_encodings(void **state)
{
    (void)state;
    static const char bad_utf8[] = "<html><head><meta charset=\"utf-8\"></head><body>"
                                   "\xff\xfe\xc3(\xa0\xa1<a href=\"/ok.html\">x\x80\x81</a>"
                                   "<a href=\"/\xe2\x28\xa1.html\">y</a></body></html>";
    crawl_links l;
    links_of(bad_utf8, sizeof bad_utf8 - 1, &l);
    bool ok = false;
    for (size_t i = 0; i < l.n; i++)
        ok = ok || !strcmp(l.v[i], "http://127.0.0.1:8080/ok.html");
    assert_true(ok);
    crawl_links_free(&l);

    static const char bogus_charset[] = "<meta charset=\"x-no-such-charset\"><a href=\"/ok.html\">x</a>";
    links_of(bogus_charset, sizeof bogus_charset - 1, &l);
    crawl_links_free(&l);

    static const char nul[] = "<a href=\"/one.html\">a</a>\0<a href=\"/two.html\">b</a>";
    links_of(nul, sizeof nul - 1, &l);
    assert_true(l.n >= 1);
    assert_string_equal(l.v[0], "http://127.0.0.1:8080/one.html");
    crawl_links_free(&l);

    static const char utf16[] = "\xff\xfe<\0a\0 \0h\0r\0e\0f\0=\0x\0>\0";
    links_of(utf16, sizeof utf16 - 1, &l);
    crawl_links_free(&l);
    links_of("", 0, &l);
    assert_int_equal(l.n, 0);
}

static void survives_huge_attributes_and_deep_nesting(void **state)
{
    (void)state;
    size_t big = 4u << 20;
    char *html = malloc(big + 256);
    assert_non_null(html);
    size_t n = (size_t)sprintf(html, "<a title=\"");
    memset(html + n, 'x', big);
    n += big;
    n += (size_t)sprintf(html + n, "\" href=\"/after-title.html\">t</a><a href=\"/");
    crawl_links l;
    links_of(html, n, &l);                 /* whatever it finds, it returns */
    crawl_links_free(&l);

    /* A 4 MiB href: resolved or dropped, never a crash. */
    n = (size_t)sprintf(html, "<a href=\"/");
    memset(html + n, 'y', big);
    n += big;
    n += (size_t)sprintf(html + n, "\">h</a><a href=\"/small.html\">s</a>");
    links_of(html, n, &l);
    bool small = false;
    for (size_t i = 0; i < l.n; i++)
        small = small || !strcmp(l.v[i], "http://127.0.0.1:8080/small.html");
    assert_true(small);
    crawl_links_free(&l);

    /* 100,000 unclosed elements, a link at the bottom. */
    n = 0;
    for (int i = 0; i < 100000; i++)
        n += (size_t)sprintf(html + n, "<div>");
    n += (size_t)sprintf(html + n, "<a href=\"/deep.html\">deep</a>");
    links_of(html, n, &l);
    crawl_links_free(&l);
    free(html);
}

/* crawl_html_links resolves the common references without a parse; each
 * must come out as libcurl's resolution (crawl_url_resolve) does. */
static void extraction_resolves_as_libcurl_does(void **state)
{
    (void)state;
    static const char *const bases[] = {
        "http://127.0.0.1:8080/p/3.html", "http://127.0.0.1:8080/", "http://127.0.0.1:8080/a/b/?q=1#f",
        "https://Host.Example:443/dir/page?x=y", "http://127.0.0.1/p/x.html?a=/b/c",
    };
    static const char *const hrefs[] = {
        "4.html", "/p/4.html", "?q=2", "", "#top", "x/y/z.html", "/a?b=c&d=e", "a+b,c;d=e~f_g-h.i",
        "  spaced.html\n", "./4.html", "../up.html", "/a/./b", "/a/../b", "..", ".", "a/..", "//h/x",
        "http://127.0.0.1:8080/abs", "/%41", "/a#b#c", "/a//b", "q?x=/y/./z", "/p/4.html#sec-1",
        "?", "/", "a:b", "/a@b", "/caf\xc3\xa9", "dir/", "a.b/c..d/.e",
    };
    for (size_t b = 0; b < sizeof bases / sizeof *bases; b++) {
        char html[4096];
        size_t n = 0;
        for (size_t h = 0; h < sizeof hrefs / sizeof *hrefs; h++)
            n += (size_t)snprintf(html + n, sizeof html - n, "<a href=\"%s\">%zu</a>", hrefs[h], h);
        crawl_links l = { 0 };
        crawl_html_links(html, n, bases[b], &l);
        size_t k = 0;
        for (size_t h = 0; h < sizeof hrefs / sizeof *hrefs; h++) {
            char *want = crawl_url_resolve(bases[b], hrefs[h]);
            if (!want)
                continue;
            if (k >= l.n || strcmp(l.v[k], want))
                fail_msg("%s against %s: extraction gave %s, libcurl %s", hrefs[h], bases[b],
                         k < l.n ? l.v[k] : "(none)", want);
            free(want);
            k++;
        }
        assert_int_equal(k, l.n);
        crawl_links_free(&l);
    }
}

static void the_site_is_what_the_reference_walks(void **state)
{
    (void)state;
    crawlsite_paths p;
    crawlsite_reachable(&p);
    /* "/", the 240 pages, /slow.html, /many.html, /data.bin, /old and 25
     * missing pages; never /secret.html (only named inside /data.bin) nor
     * the orphans. */
    assert_int_equal(p.n, 1 + CRAWLSITE_PAGES + 4 + 25);
    for (size_t i = 0; i < p.n; i++) {
        assert_string_not_equal(p.v[i], "/secret.html");
        assert_string_not_equal(p.v[i], "/p/245.html");
    }
    crawlsite_paths_free(&p);

    crawlsite_response r;
    crawlsite_respond("/many.html", &r);
    crawl_links l = { 0 };
    crawl_html_links(r.body, r.len, "http://127.0.0.1:1/many.html", &l);
    assert_int_equal(l.n, CRAWLSITE_MANY_LINKS);
    assert_same_as_tree(r.body, r.len, "http://127.0.0.1:1/many.html", &l);
    crawl_links_free(&l);
    crawlsite_response_free(&r);
    /* Every page the site serves, links with and without a tree. */
    for (long k = -1; k < CRAWLSITE_PAGES + CRAWLSITE_ORPHANS; k++) {
        char path[64];
        snprintf(path, sizeof path, k < 0 ? "/" : "/p/%ld.html", k);
        crawlsite_respond(path, &r);
        crawl_links each = { 0 };
        crawl_html_links(r.body, r.len, "http://127.0.0.1:1/p/x.html", &each);
        assert_same_as_tree(r.body, r.len, "http://127.0.0.1:1/p/x.html", &each);
        crawl_links_free(&each);
        crawlsite_response_free(&r);
    }

    crawlsite_respond("/p/245.html", &r);
    assert_int_equal(r.status, 200);
    crawlsite_response_free(&r);
    crawlsite_respond("/p/007.html", &r);
    assert_int_equal(r.status, 404);
    crawlsite_response_free(&r);
    crawlsite_respond("/old", &r);
    assert_int_equal(r.status, 301);
    assert_string_equal(r.location, "/p/7.html");
    crawlsite_response_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(resolves_relative_references),
        cmocka_unit_test(drops_fragments_and_trims_white_space),
        cmocka_unit_test(follows_only_http_and_https),
        cmocka_unit_test(refuses_control_characters),
        cmocka_unit_test(survives_unclosed_and_broken_tags),
        cmocka_unit_test(finds_ten_thousand_links),
        cmocka_unit_test(survives_bad_encodings),
        cmocka_unit_test(survives_huge_attributes_and_deep_nesting),
        cmocka_unit_test(extraction_resolves_as_libcurl_does),
        cmocka_unit_test(the_site_is_what_the_reference_walks),
        cmocka_unit_test(sax_and_tree_agree),
        cmocka_unit_test(borrowed_lists_own_nothing),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
