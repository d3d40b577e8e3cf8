/* test_catalog_crawl.c — the crawl family (§8.6, label catalog): every
 * variant observed as its registration expects in every mode it declares
 * (free mode against the loopback server, controlled mode against the
 * simulated web); the buggy ones found by at least two strategies and
 * replayed; crawl.unbounded's RESOURCE measured in both modes, whatever
 * verdict outranks it; the correct ones under bounded exhaustive search on a
 * tiny site.
 *
 * The server is started once, here, before any fork (crawlsite_fixture,
 * through pattern_prepare), so every free-mode run inherits its URL. */
#include "catalog_util.h"
#include "crawlsite.h"

#include <stdio.h>
#include <string.h>

static int start_server(void **state)
{
    (void)state;
    crawlsite_fixture();
    return crawlsite_server_root() ? 0 : -1;
}

static void crawl_family(void **state)
{
    (void)state;
    catalog_check_family("crawl");
}

static void crawl_bugs_found_by_two_strategies(void **state)
{
    (void)state;
    catalog_check_strategies("crawl");
}

/* crawl1 never terminates, so DEADLOCK outranks RESOURCE in its verdict
 * (harness.h's precedence); the measurement must be there all the same. */
static void unbounded_exceeds_the_fetch_bound(void **state)
{
    (void)state;
    const pattern *p = pattern_find("crawl.unbounded");
    assert_non_null(p);
    for (int mode = 0; mode < 2; mode++) {
        harness_options o = pattern_options(p, mode);
        harness_result r;
        pattern_prepare(p, mode);
        assert_int_equal(harness_run(p->entry, NULL, &o, &r), 0);
        printf("crawl.unbounded %-10s %s, seen %#x: %s\n", mode ? "controlled" : "free",
               harness_verdict_name(r.verdict), r.seen, r.message ? r.message : "");
        assert_true(r.seen & (1u << HARNESS_RESOURCE));
        assert_true(r.seen & (1u << HARNESS_DEADLOCK));
        harness_result_free(&r);
    }
}

/* The correct variants under bounded exhaustive search on the tiny site in
 * memory (4 pages). crawl.semaphore's space within two preemptions is
 * covered (about 6,600 schedules); crawl.workers-terminating's 20 crawlers
 * make even the space without preemption too large, so 5,000 of its
 * schedules are searched and it prints "not exhausted" honestly. */
static void correct_variants_searched_on_a_tiny_site(void **state)
{
    (void)state;
    crawlsite_use_tiny(true);
    catalog_check_exhaustive("crawl.semaphore", 2, 20000);
    catalog_check_exhaustive("crawl.workers-terminating", 0, 5000);
    crawlsite_use_tiny(false);
}

static int full_site(void **state)
{
    (void)state;
    crawlsite_use_tiny(false);
    return 0;
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crawl_family),
        cmocka_unit_test(crawl_bugs_found_by_two_strategies),
        cmocka_unit_test(unbounded_exceeds_the_fetch_bound),
        cmocka_unit_test_teardown(correct_variants_searched_on_a_tiny_site, full_site),
    };
    return cmocka_run_group_tests(tests, start_server, NULL);
}
