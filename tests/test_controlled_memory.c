/* test_controlled_memory.c — controlled mode runs many schedules in one
 * process without growing (DESIGN.md §2: everything a run makes is
 * reclaimed when it ends). 100,000 schedules (10,000 under a sanitizer) of a
 * program that creates and removes its own temporary file, makes channels,
 * a wait group, a mutex and a timer, and leaks nothing, run in this process
 * (in_process): the resident set size (VmRSS) and the number of open
 * descriptors after a warm-up of 1,000 schedules are compared with the
 * values after the last one. This is a memory check, not a timing check. */
#include "controlled_util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define CU_SANITIZED 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define CU_SANITIZED 1
#endif
#endif

#if defined(__SANITIZE_ADDRESS__)
#define CU_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define CU_ASAN 1
#endif
#endif

#ifdef CU_ASAN
/* AddressSanitizer keeps freed blocks in a quarantine of up to 256 MiB
 * before it reuses them, so the resident set grows by design until the
 * quarantine is full (~14 KiB a schedule here). A small quarantine makes
 * the resident set show what the harness keeps, not what ASan holds. */
const char *__asan_default_options(void);
const char *__asan_default_options(void)
{
    return "quarantine_size_mb=1:thread_local_quarantine_size_kb=64";
}
#endif

#ifdef CU_SANITIZED
#define SCHEDULES 10000u
#else
#define SCHEDULES 100000u
#endif
#define WARMUP 1000u
#define RSS_SLACK_KIB (4 * 1024L)

typedef struct {
    long rss_kib;
    int fds;
} probe;

/* VmRSS in KiB, from /proc/self/status (plain read: no stdio buffer). */
static long rss_kib(void)
{
    char buf[4096];
    int fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return -1;
    buf[n] = 0;
    const char *p = strstr(buf, "VmRSS:");
    return p ? strtol(p + 6, NULL, 10) : -1;
}

static int open_fds(void)
{
    DIR *d = opendir("/proc/self/fd");
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n - 1;   /* the DIR's own */
}

static unsigned schedule_no;
static probe at_warmup, at_end;

struct work {
    csp_chan *jobs, *results;
    csp_waitgroup *wg;
    csp_mutex *mu;
    long squares;
};

static void squarer(void *arg)
{
    struct work *w = arg;
    int v;
    while (csp_recv(w->jobs, &v)) {
        csp_mutex_lock(w->mu);
        w->squares += (long)v * v;
        csp_mutex_unlock(w->mu);
        csp_send(w->results, &v);
    }
    csp_wg_done(w->wg);
}

static void closer(void *arg)
{
    struct work *w = arg;
    csp_wg_wait(w->wg);
    csp_close(w->results);
}

static bool temp_file_round_trip(unsigned n)
{
    const char *dir = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    char path[512];
    snprintf(path, sizeof path, "%s/chanlab-controlled-memory-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0) {
        harness_fail("mkstemp %s: %s", path, strerror(errno));
        return false;
    }
    unsigned back = 0;
    bool ok = write(fd, &n, sizeof n) == (ssize_t)sizeof n &&
              pread(fd, &back, sizeof back, 0) == (ssize_t)sizeof back && back == n;
    unlink(path);
    close(fd);
    if (!ok)
        harness_fail("temporary file %s: wrote %u, read %u", path, n, back);
    return ok;
}

static void file_and_channels(void *arg)
{
    (void)arg;
    unsigned n = ++schedule_no;
    if (!temp_file_round_trip(n))
        return;
    struct work w = { csp_chan_make(sizeof(int), 2, "jobs"), csp_chan_make(sizeof(int), 0, "results"),
                      csp_wg_make(), csp_mutex_make("squares"), 0 };
    csp_wg_add(w.wg, 2);
    csp_go(squarer, &w, "squarer");
    csp_go(squarer, &w, "squarer");
    csp_go(closer, &w, "closer");
    for (int i = 1; i <= 4; i++)
        csp_send(w.jobs, &i);
    csp_close(w.jobs);
    int v, got = 0;
    while (csp_recv(w.results, &v))
        got++;
    /* A timer channel is never freed behind the caller's back: this one
     * goes with the run. */
    csp_recv(csp_after(CU_MS), NULL);
    if (got != 4 || w.squares != 30)
        harness_fail("%d results, squares %ld; want 4 and 30", got, w.squares);
    csp_chan_free(w.jobs);
    csp_chan_free(w.results);
    csp_wg_free(w.wg);
    csp_mutex_free(w.mu);
    if (n == WARMUP)
        at_warmup = (probe){ rss_kib(), open_fds() };
    if (n == SCHEDULES)
        at_end = (probe){ rss_kib(), open_fds() };
}

static void many_schedules_in_one_process_stay_flat(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.in_process = true;
    o.schedules = SCHEDULES;
    o.seed = 11;
    harness_result r;
    /* One schedule first: what a sanitizer starts lazily (TSan's symbolizer
     * and its pipes) is then part of `before`. */
    o.schedules = 1;
    cu_run(file_and_channels, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
    schedule_no = 0;
    o.schedules = SCHEDULES;
    probe before = { rss_kib(), open_fds() };
    cu_run(file_and_channels, NULL, &o, &r);
    probe after = { rss_kib(), open_fds() };
    printf("%u schedules in one process: VmRSS %ld KiB after %u, %ld KiB after %u "
           "(%+ld KiB), %ld KiB after harness_run returned; descriptors %d, %d during the "
           "runs, %d before and %d after them\n",
           r.schedules_run, at_warmup.rss_kib, WARMUP, at_end.rss_kib, SCHEDULES,
           at_end.rss_kib - at_warmup.rss_kib, after.rss_kib, at_warmup.fds, at_end.fds,
           before.fds, after.fds);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, SCHEDULES);
    assert_int_equal(schedule_no, SCHEDULES);
    assert_true(at_warmup.rss_kib > 0 && at_end.rss_kib > 0);
    assert_true(at_end.rss_kib <= at_warmup.rss_kib + RSS_SLACK_KIB);
    assert_true(after.rss_kib <= at_warmup.rss_kib + RSS_SLACK_KIB);
    assert_int_equal(at_end.fds, at_warmup.fds);
    assert_int_equal(after.fds, before.fds);
    harness_result_free(&r);
}

/* EXHAUSTIVE with the reduction cuts some runs short as redundant (sleep
 * sets): such a run must still end the way the program ends it, or what its
 * tasks hold at that moment (a 256 KiB block each here, a descriptor) is
 * lost — chat.nonblocking's proof grew by 64 KiB a pruned run, to 7 GiB. */
#define HOLD_BYTES (256u << 10)
#define HOLDERS 3
#define QCAP 2                /* 33,312 schedules, 600 of them redundant, in ~2 s */

struct holders {
    csp_chan *queue;          /* buffered: what the holders send, main receives */
    csp_waitgroup *wg;
};

static void holder(void *arg)
{
    struct holders *h = arg;
    char *block = malloc(HOLD_BYTES);
    int fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (!block || fd < 0)
        harness_fail("holder: %s", strerror(errno));
    if (block)
        memset(block, 1, HOLD_BYTES);   /* resident, not just reserved */
    for (int i = 0; i < 2; i++)
        csp_send(h->queue, &i);
    free(block);
    if (fd >= 0)
        close(fd);
    csp_wg_done(h->wg);
}

static unsigned holder_runs;
static probe holders_first, holders_now;

static void holders_main(void *arg)
{
    (void)arg;
    if (holder_runs++ == 0)
        holders_first = (probe){ rss_kib(), open_fds() };
    struct holders h = { csp_chan_make(sizeof(int), QCAP, "queue"), csp_wg_make() };
    csp_wg_add(h.wg, HOLDERS);
    for (int i = 0; i < HOLDERS; i++)
        csp_go(holder, &h, "holder");
    int v, sum = 0;
    for (int i = 0; i < 2 * HOLDERS; i++)
        if (csp_recv(h.queue, &v))
            sum += v;
    csp_wg_wait(h.wg);
    if (sum != HOLDERS)
        harness_fail("sum %d; want %d", sum, HOLDERS);
    csp_chan_free(h.queue);
    csp_wg_free(h.wg);
    holders_now = (probe){ rss_kib(), open_fds() };
}

static void redundant_runs_end_like_the_others(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.in_process = true;
    o.strategy = HARNESS_EXHAUSTIVE;
    o.preemption_bound = HARNESS_UNBOUNDED;
    o.choice_bound = HARNESS_UNBOUNDED;
    o.schedules = 1000000;
    holder_runs = 0;
    harness_result r;
    cu_run(holders_main, NULL, &o, &r);
    printf("exhaustive: %u schedules, %u redundant (cut short by the reduction), %u runs of "
           "the entry; VmRSS %ld KiB at the first run, %ld KiB at the last (%+ld KiB); "
           "descriptors %d, %d\n", r.schedules_run, r.schedules_pruned, holder_runs,
           holders_first.rss_kib, holders_now.rss_kib, holders_now.rss_kib - holders_first.rss_kib,
           holders_first.fds, holders_now.fds);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_true(r.exhausted);
    /* Enough redundant runs that keeping their blocks would show: 200 x 256 KiB
     * is far above RSS_SLACK_KIB. */
    assert_true(r.schedules_pruned >= 200);
    assert_true(holders_first.rss_kib > 0 && holders_now.rss_kib > 0);
    assert_true(holders_now.rss_kib <= holders_first.rss_kib + RSS_SLACK_KIB);
    assert_int_equal(holders_now.fds, holders_first.fds);
    harness_result_free(&r);
}

/* ------------------------------------------------ A program that prints */

/* The supervisor keeps the child's stdout and stderr (harness_result.log)
 * within bounds: the first 256 KiB and the last 4 MiB, and a line between
 * them saying how many bytes it left out (supervise.c). 3,000 schedules of a
 * task that prints a 4,000-byte line: 12 MB printed. What the log keeps
 * plus what it says it left out is exactly what was printed, it starts with
 * the first line and ends with a whole last one. */
#define CHATTY_LINE 4000
#define CHATTY_SCHEDULES 3000u

static void chatty_task(void *arg)
{
    (void)arg;
    static char line[CHATTY_LINE + 1];
    if (!line[0]) {
        memset(line, 'x', CHATTY_LINE - 1);
        memcpy(line, "chatty:", 7);
        line[CHATTY_LINE - 1] = '\n';
    }
    fputs(line, stdout);
}

static void chatty_main(void *arg)
{
    (void)arg;
    csp_go(chatty_task, NULL, "chatty");
    csp_yield();
}

static void a_chatty_program_keeps_a_bounded_log(void **state)
{
    (void)state;
    harness_options o = cu_options();
    o.schedules = CHATTY_SCHEDULES;
    harness_result r;
    cu_run(chatty_main, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    assert_int_equal(r.schedules_run, CHATTY_SCHEDULES);
    assert_non_null(r.log);
    size_t len = strlen(r.log);
    const char *mark = strstr(r.log, "[chanlab: ");
    assert_non_null(mark);
    unsigned long long dropped = strtoull(mark + 10, NULL, 10);
    assert_non_null(strstr(mark, " bytes of the program's output left out here"));
    const char *mark_end = strchr(mark, '\n');
    assert_non_null(mark_end);
    /* The head is the first 256 KiB as printed; a newline of the
     * supervisor's may follow it, when it ends within a line. */
    size_t head = (size_t)(mark - r.log), tail = len - (size_t)(mark_end + 1 - r.log);
    assert_true(head == (256u << 10) || (head == (256u << 10) + 1 && mark[-1] == '\n'));
    size_t kept = (256u << 10) + tail;
    printf("log: %zu bytes kept of %llu printed, %llu left out\n", len,
           (unsigned long long)CHATTY_LINE * CHATTY_SCHEDULES, dropped);
    assert_true(len <= (256u << 10) + (4u << 20) + 256);
    assert_int_equal(kept + dropped, (unsigned long long)CHATTY_LINE * CHATTY_SCHEDULES);
    assert_int_equal(strncmp(r.log, "chatty:xxx", 10), 0);
    assert_int_equal(strncmp(mark_end + 1, "chatty:xxx", 10), 0);
    assert_int_equal(r.log[len - 1], '\n');
    assert_int_equal(tail % CHATTY_LINE, 0);
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(many_schedules_in_one_process_stay_flat),
        cmocka_unit_test(redundant_runs_end_like_the_others),
        cmocka_unit_test(a_chatty_program_keeps_a_bounded_log),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
