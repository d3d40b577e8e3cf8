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

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "csp_debug.h"

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

/* ------------------------------------------------------------------ Demo */

/* The demo in a forked child (the test process itself never starts a
 * thread), stdin holding `input` then end of file. The child's status: the
 * demo's, or 99 when a task outlived it, 98 when there is no such demo. */
static int run_demo(const char *input, char *url, char *out, size_t size)
{
    FILE *o = tmpfile();
    int in[2];
    assert_non_null(o);
    assert_int_equal(pipe(in), 0);
    assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60);
        close(in[1]);
        dup2(in[0], STDIN_FILENO);
        dup2(fileno(o), STDOUT_FILENO);
        dup2(fileno(o), STDERR_FILENO);
        const demo *dm = demo_find("crawl");
        char *argv[] = { url };
        int status = dm ? dm->main(1, argv) : 98;
        fflush(stdout);
        fflush(stderr);
        /* A task that has made its last channel operation may still be on
         * its way out: wait (bounded) for it, as the du demo's test does. */
        for (int i = 0; i < 200 && csp_debug_tasks(NULL, 0) > 1; i++)
            usleep(10000);
        if (csp_debug_tasks(NULL, 0) > 1)
            status = 99;
        _exit(status);
    }
    close(in[0]);
    close(in[1]);
    int ws = 0;
    for (int i = 0; i < 9000 && waitpid(pid, &ws, WNOHANG) != pid; i++) {
        if (i == 8999) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
        }
        usleep(10000);
    }
    rewind(o);
    size_t n = fread(out, 1, size - 1, o);
    out[n] = 0;
    fclose(o);
    return WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
}

/* With the catalog's server (50 ms a page, 350 ms for the slow one) the
 * crawl takes far longer than the watcher takes to see a byte already
 * there: it cancels, says so, exits 1, and leaves no task behind. Without
 * the byte it crawls the whole site and also leaves none. */
static void demo_cancels_and_leaves_no_task(void **state)
{
    (void)state;
    static char out[1 << 16];
    char *url = strdup(crawlsite_server_root());
    assert_non_null(url);
    int status = run_demo("x", url, out, sizeof out);
    printf("demo crawl, cancelled: status %d, %.200s\n", status, out);
    assert_int_equal(status, 1);
    assert_non_null(strstr(out, "crawl: cancelled after"));
    status = run_demo("", url, out, sizeof out);
    printf("demo crawl, whole: status %d\n", status);
    assert_int_equal(status, 0);
    assert_null(strstr(out, "cancelled"));
    free(url);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(crawl_family),
        cmocka_unit_test(crawl_bugs_found_by_two_strategies),
        cmocka_unit_test(unbounded_exceeds_the_fetch_bound),
        cmocka_unit_test_teardown(correct_variants_searched_on_a_tiny_site, full_site),
        cmocka_unit_test(demo_cancels_and_leaves_no_task),
    };
    return cmocka_run_group_tests(tests, start_server, NULL);
}
