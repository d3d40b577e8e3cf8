/* test_catalog_thumbnails.c — the thumbnails family (GOPL §8.5, label
 * catalog): every variant shows the verdict its registration expects, in
 * every mode it declares; the schedule strategies find every bug and replay
 * it; the correct variants pass a bounded exhaustive search; and the demo
 * makes real thumbnails of real images.
 *
 * The test process itself never calls the runtime: every run happens in the
 * harness's forked child, and the demo in a child of its own, so the process
 * is single-threaded each time it forks (ThreadSanitizer needs that). */
#include "catalog_util.h"
#include "thumbnails.h"

#include <errno.h>
#include <ftw.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define ALARM_SECONDS 280   /* a last resort, below the ctest TIMEOUT */

/* ----------------------------------------------------------- Registrations */

static const char *const ids[] = {
    "thumbnails.add-in-worker", "thumbnails.buffered",      "thumbnails.done-not-deferred",
    "thumbnails.drain-on-error", "thumbnails.leak-on-error", "thumbnails.loop-capture",
    "thumbnails.no-wait",        "thumbnails.sequential",    "thumbnails.wait-after-loop",
    "thumbnails.wait-before-loop", "thumbnails.wait-chan",  "thumbnails.waitgroup",
};
#define NIDS (sizeof ids / sizeof *ids)

/* Exactly the twelve ids of DESIGN §4; each buggy one names a fix that is
 * registered and correct; every registration says what it teaches. */
static void registrations(void **state)
{
    size_t seen = 0;
    for (size_t i = 0; i < pattern_count(); i++) {
        const pattern *p = pattern_at(i);
        if (strncmp(p->id, "thumbnails.", 11) != 0)
            continue;
        seen++;
        bool known = false;
        for (size_t k = 0; k < NIDS; k++)
            known = known || strcmp(p->id, ids[k]) == 0;
        if (!known)
            fail_msg("unexpected variant %s", p->id);
        assert_string_equal(p->section, "8.5");
        assert_true(p->book_func && strncmp(p->book_func, "makeThumbnails", 14) == 0);
        assert_true(p->lesson && strlen(p->lesson) > 80);
        assert_non_null(p->entry);
        if (p->fixed_by) {
            const pattern *fix = pattern_find(p->fixed_by);
            assert_non_null(fix);
            assert_null(fix->fixed_by);
            assert_int_equal(pattern_expected(fix, PATTERN_IN_CONTROLLED), V(PASS));
        }
    }
    assert_int_equal(seen, NIDS);
    const demo *d = demo_find("thumbnails");
    assert_non_null(d);
    assert_string_equal(d->usage, "DIR...");
}

/* ---------------------------------------------------------------- Verdicts */

static void family(void **state) { catalog_check_family("thumbnails"); }

static void strategies(void **state) { catalog_check_strategies("thumbnails"); }

/* The four correct parallel versions, searched exhaustively within
 * preemption bound 2 (and the harness's default of two non-default
 * select/timer choices). wait-chan and waitgroup are the two idioms the
 * section teaches; buffered and drain-on-error are the two fixes of the leak,
 * whose error path returns while workers still run — where a preemption could
 * matter most. (makeThumbnails has one task and a single schedule: nothing to
 * search.) In the default build every bounded space is covered: wait-chan's
 * in 413 schedules, buffered's 1,167, waitgroup's 10,026 and
 * drain-on-error's 14,088 (about 26 s in all). Under a sanitizer a schedule
 * costs several times more, and the search adds little there: its decisions,
 * hence its verdicts, are those of the default build, and ThreadSanitizer
 * reports a race without needing the racy interleaving itself; so each search
 * stops after SANITIZED_SCHEDULES (wait-chan and buffered are still covered
 * whole; the counts are printed). */
#define SANITIZED_SCHEDULES 2000

#if defined(__SANITIZE_ADDRESS__)
#define ASAN_BUILD 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define ASAN_BUILD 1
#endif
#endif
#ifndef ASAN_BUILD
#define ASAN_BUILD 0
#endif

static void exhaustive(void **state)
{
    static const char *const proven[] = {
        "thumbnails.wait-chan", "thumbnails.buffered", "thumbnails.drain-on-error",
        "thumbnails.waitgroup",
    };
    unsigned cap = harness_detects_races() || ASAN_BUILD ? SANITIZED_SCHEDULES : 20000;
    for (size_t i = 0; i < sizeof proven / sizeof *proven; i++)
        catalog_check_exhaustive(proven[i], 2, cap);
}

/* -------------------------------------------------------------------- Demo */

typedef struct {
    int status;          /* exit status, or 128 + signal */
    char out[4096], err[4096];
} demo_run;

static void read_all(FILE *f, char *buf, size_t size)
{
    rewind(f);
    size_t n = fread(buf, 1, size - 1, f);
    buf[n] = 0;
    fclose(f);
}

/* Runs `chanlab demo thumbnails ARGS...` (the registered main) in a child. */
static void run_demo(char **argv, int argc, demo_run *r)
{
    const demo *d = demo_find("thumbnails");
    assert_non_null(d);
    FILE *out = tmpfile(), *err = tmpfile();
    assert_non_null(out);
    assert_non_null(err);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        alarm(60);
        dup2(fileno(out), STDOUT_FILENO);
        dup2(fileno(err), STDERR_FILENO);
        int rc = d->main(argc, argv);
        fflush(NULL);
        _exit(rc);
    }
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        assert_int_equal(errno, EINTR);
    r->status = WIFEXITED(ws) ? WEXITSTATUS(ws) : 128 + WTERMSIG(ws);
    read_all(out, r->out, sizeof r->out);
    read_all(err, r->err, sizeof r->err);
    if (strstr(r->err, "ThreadSanitizer"))
        fail_msg("the demo raced:\n%s", r->err);
}

static void path_in(char *buf, size_t size, const char *dir, const char *name)
{
    snprintf(buf, size, "%s/%s", dir, name);
}

static bool exists(const char *dir, const char *name)
{
    char p[THUMBNAILS_PATH_MAX];
    struct stat st;
    path_in(p, sizeof p, dir, name);
    return stat(p, &st) == 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
    return remove(path);
}

static void remove_tree(const char *dir)
{
    assert_int_equal(nftw(dir, remove_entry, 8, FTW_DEPTH | FTW_PHYS), 0);
}

/* Real-sized images (JPEG and PNG, landscape and portrait), a file that is
 * not an image, a subdirectory and a thumbnail from an earlier run: the demo
 * makes a thumbnail of each image only, and prints the bytes they hold. */
static void demo_makes_thumbnails(void **state)
{
    const char *tmp = getenv("TMPDIR");
    char dir[256];
    snprintf(dir, sizeof dir, "%s/chanlab-thumbnails-demo.XXXXXX", tmp && *tmp ? tmp : "/tmp");
    assert_non_null(mkdtemp(dir));
    static const struct { const char *name, *thumb; int w, h; } images[] = {
        { "harbour.jpg", "harbour.thumb.jpg", 1024, 768 },
        { "portrait.png", "portrait.thumb.jpg", 480, 640 },
        { "panorama.jpg", "panorama.thumb.jpg", 1600, 400 },
    };
    char p[THUMBNAILS_PATH_MAX];
    for (size_t i = 0; i < 3; i++) {
        path_in(p, sizeof p, dir, images[i].name);
        assert_true(thumbnails_make_image(p, images[i].w, images[i].h, (unsigned)i));
    }
    path_in(p, sizeof p, dir, "old.thumb.jpg");
    assert_true(thumbnails_make_image(p, 128, 96, 7));
    path_in(p, sizeof p, dir, "notes.txt");
    FILE *f = fopen(p, "w");
    assert_non_null(f);
    fputs("not an image\n", f);
    fclose(f);
    path_in(p, sizeof p, dir, "sub");
    assert_int_equal(mkdir(p, 0700), 0);

    demo_run r;
    char *argv[] = { dir, NULL };
    run_demo(argv, 1, &r);
    if (r.status != 0)
        fail_msg("demo exited %d:\n%s%s", r.status, r.out, r.err);

    int64_t want = 0;
    for (size_t i = 0; i < 3; i++) {
        char why[THUMBNAILS_PATH_MAX + 64];
        struct stat st;
        path_in(p, sizeof p, dir, images[i].thumb);
        if (!thumbnails_check_thumb(p, why, sizeof why))
            fail_msg("%s", why);
        assert_int_equal(stat(p, &st), 0);
        want += st.st_size;
    }
    assert_false(exists(dir, "notes.thumb.jpg"));
    assert_false(exists(dir, "old.thumb.thumb.jpg"));
    assert_non_null(strstr(r.err, "notes.txt"));   /* logged, as the book's worker does */
    int64_t total = -1;
    if (sscanf(r.out, "%" SCNd64 " bytes", &total) != 1 || total != want)
        fail_msg("the demo printed \"%s\"; the thumbnails hold %" PRId64 " bytes", r.out, want);
    remove_tree(dir);
}

static void expect_usage_error(char **argv, int argc)
{
    demo_run r;
    run_demo(argv, argc, &r);
    assert_int_equal(r.status, 2);
    assert_string_equal(r.out, "");
    size_t len = strlen(r.err);
    assert_true(len > 0 && r.err[len - 1] == '\n' && strchr(r.err, '\n') == r.err + len - 1);
}

/* Bad usage: one line on stderr, exit status 2, nothing made. */
static void demo_bad_usage(void **state)
{
    char file[] = "/dev/null", missing[] = "/nonexistent/chanlab", opt[] = "-v";
    expect_usage_error((char *[]){ NULL }, 0);
    expect_usage_error((char *[]){ file, NULL }, 1);
    expect_usage_error((char *[]){ missing, NULL }, 1);
    expect_usage_error((char *[]){ opt, NULL }, 1);
}

/* Runs that deadlock leave their workload directory behind (their children
 * are gone): remove what they left. */
static int remove_stale(void **state)
{
    thumbnails_remove_stale();
    return 0;
}

int main(void)
{
    alarm(ALARM_SECONDS);
    if (getenv("TESTUTIL_FILTER"))
        cmocka_set_test_filter(getenv("TESTUTIL_FILTER"));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(registrations),
        cmocka_unit_test(family),
        cmocka_unit_test(strategies),
        cmocka_unit_test(exhaustive),
        cmocka_unit_test(demo_makes_thumbnails),
        cmocka_unit_test(demo_bad_usage),
    };
    return cmocka_run_group_tests(tests, NULL, remove_stale);
}
