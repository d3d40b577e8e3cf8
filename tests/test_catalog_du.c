/* test_catalog_du.c — the du (§8.8) and cancel (§8.9) families (label
 * catalog): every variant observed as its registration expects in every mode
 * it declares; the buggy ones found by at least two strategies and replayed;
 * du.sequential, du.parallel and cancel.broadcast proved by bounded
 * exhaustive search on dutree_tiny; and `chanlab demo du` checked against
 * the generated trees' reference totals.
 *
 * The test process never calls the runtime: entries run inside harness_run,
 * which forks, and the demo runs in a forked child of its own. The trees are
 * generated once, here, before any fork, so every child inherits them. */
#include "catalog_util.h"
#include "dutree.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "csp_debug.h"

/* ------------------------------------------------------------- Fixtures */

static int make_trees(void **state)
{
    (void)state;
    return dutree_get(&dutree_du) && dutree_get(&dutree_cancel) && dutree_get(&dutree_tiny) ? 0 : -1;
}

static int remove_trees(void **state)
{
    (void)state;
    dutree_cleanup();
    return 0;
}

/* A test that substitutes a tree undoes it even when it fails. */
static int no_substitutes(void **state)
{
    (void)state;
    dutree_substitute(&dutree_du, NULL);
    dutree_substitute(&dutree_cancel, NULL);
    return 0;
}

/* ----------------------------------------------------------------- Trees */

static void trees_have_their_shape(void **state)
{
    (void)state;
    const dutree *du = dutree_get(&dutree_du);
    const dutree *cancel = dutree_get(&dutree_cancel);
    const dutree *tiny = dutree_get(&dutree_tiny);
    assert_non_null(du);
    assert_non_null(cancel);
    assert_non_null(tiny);
    assert_int_equal(du->dirs, 201);
    assert_int_equal(du->files, 2010);             /* 2,000 files and 10 symlinks */
    assert_int_equal(cancel->dirs, 2001);
    assert_int_equal(cancel->files, 2000);
    assert_int_equal(tiny->dirs, 3);
    assert_int_equal(tiny->files, 3);
    /* Cached: the same tree again, and it is there. */
    assert_ptr_equal(dutree_get(&dutree_du), du);
    assert_int_equal(access(du->root, R_OK | X_OK), 0);
    printf("du tree %s: %ld dirs, %ld files, %lld bytes\n", du->root, du->dirs, du->files,
           (long long)du->bytes);
}

/* --------------------------------------------------------------- Catalog */

static void du_family(void **state)
{
    (void)state;
    catalog_check_family("du");
}

static void cancel_family(void **state)
{
    (void)state;
    catalog_check_family("cancel");
}

static void du_strategies(void **state)
{
    (void)state;
    catalog_check_strategies("du");
}

static void cancel_strategies(void **state)
{
    (void)state;
    catalog_check_strategies("cancel");
}

/* On dutree_tiny (3 directories, 3 files): the walks are small enough for
 * bounded exhaustive search to cover their space: du.sequential in 12
 * schedules, du.parallel (preemption bound 1) in 3,912, cancel.broadcast
 * (bound 1) in 14,832. max_schedules is a guard, far above each count. */
static void exhaustive_on_tiny_tree(void **state)
{
    (void)state;
    dutree_substitute(&dutree_du, &dutree_tiny);
    catalog_check_exhaustive("du.sequential", 2, 5000);
    catalog_check_exhaustive("du.parallel", 1, 20000);
    dutree_substitute(&dutree_du, NULL);
    dutree_substitute(&dutree_cancel, &dutree_tiny);
    catalog_check_exhaustive("cancel.broadcast", 1, 50000);
    dutree_substitute(&dutree_cancel, NULL);
}

/* ------------------------------------------------------------------ Demo */

typedef struct {
    int status;           /* the demo's exit status; 99: tasks left; 98: no demo */
    char out[4096], err[4096];
} demo_run;

static void slurp(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* The child: runs the demo, then waits (bounded) until it is the only task
 * left — "all walkers are gone before it returns". */
static _Noreturn void demo_child(int argc, char **argv)
{
    alarm(60);
    const demo *dm = demo_find("du");
    int status = dm ? dm->main(argc, argv) : 98;
    fflush(stdout);
    fflush(stderr);
    for (int i = 0; i < 200 && csp_debug_tasks(NULL, 0) > 1; i++)
        usleep(10000);
    if (csp_debug_tasks(NULL, 0) > 1)
        status = 99;
    _exit(status);
}

/* Runs `du ARGS...` in a forked child; stdin gets `input` then end of file
 * (NULL: end of file at once). */
static void run_demo(demo_run *r, const char *input, int argc, char **argv)
{
    FILE *out = tmpfile(), *err = tmpfile();
    int in[2];
    assert_non_null(out);
    assert_non_null(err);
    assert_int_equal(pipe(in), 0);
    if (input)
        assert_int_equal(write(in[1], input, strlen(input)), (ssize_t)strlen(input));
    fflush(stdout);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        close(in[1]);
        dup2(in[0], STDIN_FILENO);
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        demo_child(argc, argv);
    }
    close(in[0]);
    close(in[1]);
    int ws = 0;
    for (int i = 0; i < 9000; i++) {             /* 90 s, then kill */
        pid_t w = waitpid(pid, &ws, WNOHANG);
        if (w == pid)
            break;
        if (i == 8999) {
            kill(pid, SIGKILL);
            waitpid(pid, &ws, 0);
        }
        usleep(10000);
    }
    slurp(out, r->out, sizeof r->out);
    slurp(err, r->err, sizeof r->err);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    printf("demo du (status %d)\n  stdout: %s  stderr: %s\n", r->status, r->out, r->err);
}

/* What the book's printDiskUsage prints for these totals. */
static void usage_line(char *buf, size_t size, long nfiles, int64_t nbytes)
{
    snprintf(buf, size, "%ld files  %.1f GB\n", nfiles, (double)nbytes / 1e9);
}

static void demo_totals_match_the_reference(void **state)
{
    (void)state;
    const dutree *du = dutree_get(&dutree_du), *cancel = dutree_get(&dutree_cancel);
    char want[128];
    demo_run r;
    char *one[] = { (char *)du->root };
    run_demo(&r, NULL, 1, one);
    assert_int_equal(r.status, 0);
    usage_line(want, sizeof want, du->files, du->bytes);
    assert_string_equal(r.out, want);
    assert_string_equal(r.err, "");

    /* Several roots, -v (end of input on stdin does not cancel). */
    char *two[] = { "-v", (char *)du->root, (char *)cancel->root };
    run_demo(&r, NULL, 3, two);
    assert_int_equal(r.status, 0);
    usage_line(want, sizeof want, du->files + cancel->files, du->bytes + cancel->bytes);
    assert_non_null(strstr(r.out, want));
}

static void demo_reports_unreadable_roots(void **state)
{
    (void)state;
    const dutree *du = dutree_get(&dutree_du);
    char want[128], missing[600];
    snprintf(missing, sizeof missing, "%s/no-such-directory", du->root);
    demo_run r;
    char *args[] = { missing, (char *)du->root };
    run_demo(&r, NULL, 2, args);
    assert_int_equal(r.status, 1);
    usage_line(want, sizeof want, du->files, du->bytes);
    assert_string_equal(r.out, want);
    assert_non_null(strstr(r.err, "no-such-directory: No such file or directory"));
}

static void demo_rejects_bad_usage(void **state)
{
    (void)state;
    demo_run r;
    char *args[] = { "-x", "." };
    run_demo(&r, NULL, 2, args);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    char *nl = strchr(r.err, '\n');
    assert_non_null(nl);
    assert_int_equal(nl[1], 0);                  /* one line */
    assert_non_null(strstr(r.err, "-x"));
}

/* A byte on stdin cancels: the demo says so, exits 1, and no walker is left
 * (demo_child checks). Five copies of the 2,001-directory tree make the walk
 * far longer than the watcher takes to see a byte that is already there. */
static void demo_cancels_on_a_byte(void **state)
{
    (void)state;
    const dutree *cancel = dutree_get(&dutree_cancel);
    char *root = (char *)cancel->root;
    char *args[] = { root, root, root, root, root };
    demo_run r;
    run_demo(&r, "\n", 5, args);
    assert_int_equal(r.status, 1);
    assert_string_equal(r.out, "");
    assert_non_null(strstr(r.err, "du: cancelled after"));
}

int main(void)
{
    alarm(290);
    if (getenv("TESTUTIL_FILTER"))
        cmocka_set_test_filter(getenv("TESTUTIL_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(trees_have_their_shape),
        cmocka_unit_test(du_family),
        cmocka_unit_test(cancel_family),
        cmocka_unit_test(du_strategies),
        cmocka_unit_test(cancel_strategies),
        cmocka_unit_test_teardown(exhaustive_on_tiny_tree, no_substitutes),
        cmocka_unit_test(demo_totals_match_the_reference),
        cmocka_unit_test(demo_reports_unreadable_roots),
        cmocka_unit_test(demo_rejects_bad_usage),
        cmocka_unit_test(demo_cancels_on_a_byte),
    };
    return cmocka_run_group_tests(tests, make_trees, remove_trees);
}
