/* test_pool.c — the threads backend's pool of task threads (runtime/src/
 * threads.c "Spawn"): a finished task's thread runs the next csp_go's task;
 * that task has its own identity (csp_self, id, name, errno) and its own dump
 * (its stack, its "created by"); a thread whose task changed its CPU affinity
 * or signal mask is not reused; idle threads are bounded, counted as the
 * runtime's own, and exit after a while. Under ThreadSanitizer there is no
 * pool (a thread per task), and these tests check that instead.
 * No timing is asserted: waits are polls with generous bounds. */
#include "testutil.h"
#include "csp_debug.h"
#include "csp_tool.h"

#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>

#ifdef CSP_TSAN
#define POOLED 0
#else
#define POOLED 1
#endif

static void sleep_ms(int ms)
{
    struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };
    nanosleep(&ts, NULL);
}

static int os_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

/* OS threads that are neither tasks nor the runtime's, at the start: the
 * main thread, and a sanitizer's own background thread if it has one (TSan
 * starts it at the first pthread_create: one is made and joined first). */
static int other_threads;

static void *nothing(void *arg) { return arg; }

static void count_other_threads(void)
{
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0)
        pthread_join(t, NULL);
    other_threads = os_threads();
    for (int i = 0; i < 50; i++) {   /* the joined thread may linger a moment */
        sleep_ms(2);
        int n = os_threads();
        other_threads = n < other_threads ? n : other_threads;
    }
}

/* Waits (at most ~5 s) until only the calling task is alive and every
 * finished task's thread has either exited or gone idle. */
static void settle(void)
{
    for (int i = 0; i < 2500; i++) {
        if (csp_debug_tasks(NULL, 0) == 1 &&
            os_threads() - csp_debug_runtime_threads() <= other_threads)
            return;
        sleep_ms(2);
    }
}

typedef struct {
    csp_chan *done;          /* one value when the task has observed */
    csp_chan *gate;          /* NULL, or the task waits on it before it ends */
    int tid;
    uint64_t self_id, current_id;
    const char *name;
    int errno_at_start;
    int cpus;                /* CPUs it may run on */
    bool usr1_blocked;
    bool pin, block_usr1;    /* what it does to its thread before it ends */
} probe;

static void probe_task(void *arg)
{
    probe *p = arg;
    p->errno_at_start = errno;
    p->tid = (int)syscall(SYS_gettid);
    p->self_id = csp_task_id(csp_self());
    p->current_id = csp_debug_current_task();
    p->name = csp_task_name(csp_self());
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    p->cpus = CPU_COUNT(&set);
    sigset_t mask;
    pthread_sigmask(SIG_BLOCK, NULL, &mask);
    p->usr1_blocked = sigismember(&mask, SIGUSR1);
    if (p->pin) {
        cpu_set_t one;
        CPU_ZERO(&one);
        for (int c = 0; c < CPU_SETSIZE; c++)
            if (CPU_ISSET(c, &set)) {
                CPU_SET(c, &one);
                break;
            }
        pthread_setaffinity_np(pthread_self(), sizeof one, &one);
    }
    if (p->block_usr1) {
        sigset_t usr1;
        sigemptyset(&usr1);
        sigaddset(&usr1, SIGUSR1);
        pthread_sigmask(SIG_BLOCK, &usr1, NULL);
    }
    errno = EIO;             /* left behind for the thread's next task */
    csp_chan *gate = p->gate;
    csp_send(p->done, NULL); /* p is the test's again from here on */
    if (gate)
        csp_recv(gate, NULL);
}

/* Runs one probe task to its end, with its thread settled afterwards. */
static void run_probe(probe *p, const char *name)
{
    p->done = csp_chan_make(0, 0, "done");
    csp_go(probe_task, p, name);
    csp_recv(p->done, NULL);
    settle();
    csp_chan_free(p->done);
}

static void idle_threads_are_the_runtimes_own(void **state)
{
    probe a = { 0 };
    run_probe(&a, "first");
    if (POOLED)
        assert_true(csp_debug_idle_threads() >= 1);
    else
        assert_int_equal(csp_debug_idle_threads(), 0);
    assert_true(csp_debug_runtime_threads() >= csp_debug_idle_threads());
}

static void a_finished_tasks_thread_runs_the_next_task(void **state)
{
    probe a = { 0 }, b = { 0 };
    run_probe(&a, "first");
    run_probe(&b, "second");
    if (POOLED)
        assert_int_equal(b.tid, a.tid);   /* the most recently idle thread */
    /* Its own identity, nothing of the previous task's. */
    assert_int_not_equal(b.self_id, a.self_id);
    assert_int_equal(b.current_id, b.self_id);
    assert_string_equal(b.name, "second");
    assert_int_equal(b.errno_at_start, 0);
}

/* ------------------------------------------------------------------ Dumps */

static void spawn_second(probe *p)
{
    csp_go(probe_task, p, "second");   /* the "created by" line names this function */
}

static void a_task_on_a_reused_thread_has_its_own_dump(void **state)
{
    probe a = { 0 }, b = { 0 };
    run_probe(&a, "first");
    b.done = csp_chan_make(0, 0, "done");
    b.gate = csp_chan_make(0, 0, "gate");
    spawn_second(&b);
    csp_recv(b.done, NULL);
    /* Wait until it is parked on the gate. */
    csp_debug_task tasks[8];
    size_t n = 0;
    bool parked = false;
    for (int i = 0; i < 2500 && !parked; i++) {
        n = csp_debug_tasks(tasks, 8);
        for (size_t k = 0; k < n && k < 8; k++)
            parked |= !strcmp(tasks[k].name, "second") && tasks[k].state == CSP_DEBUG_PARKED;
        if (!parked)
            sleep_ms(2);
    }
    assert_true(parked);
    char *text = NULL;
    size_t len = 0;
    FILE *out = open_memstream(&text, &len);
    csp_debug_dump(out);
    fclose(out);
    for (size_t k = 0; k < n && k < 8; k++)
        if (!strcmp(tasks[k].name, "second")) {
            assert_int_equal(tasks[k].id, b.self_id);
            assert_int_equal(tasks[k].tid, b.tid);
            if (POOLED)
                assert_int_equal(tasks[k].tid, a.tid);
        }
    char head[64];
    snprintf(head, sizeof head, "task %llu \"second\" [chan receive \"gate\"",
             (unsigned long long)b.self_id);
    if (!strstr(text, head) || !strstr(text, "probe_task at ") ||
        !strstr(text, "created by spawn_second at ") || strstr(text, "\"first\"")) {
        print_error("the dump:\n%s", text);
        fail();
    }
    free(text);
    csp_send(b.gate, NULL);
    settle();
    csp_chan_free(b.done);
    csp_chan_free(b.gate);
}

/* ------------------------------------------------- What a task leaves behind */

static void a_thread_a_task_pinned_is_not_reused(void **state)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    sched_getaffinity(0, sizeof set, &set);
    if (CPU_COUNT(&set) < 2)
        skip();
    probe a = { .pin = true }, b = { 0 };
    run_probe(&a, "pinned");
    run_probe(&b, "next");
    assert_int_not_equal(b.tid, a.tid);
    assert_int_equal(b.cpus, CPU_COUNT(&set));
}

static void a_thread_a_task_masked_is_not_reused(void **state)
{
    probe a = { .block_usr1 = true }, b = { 0 };
    run_probe(&a, "masked");
    run_probe(&b, "next");
    assert_int_not_equal(b.tid, a.tid);
    assert_false(b.usr1_blocked);
}

/* ------------------------------------------------------------ Bounds, ends */

static void gated(void *arg) { csp_recv(arg, NULL); }

static void idle_threads_are_bounded(void **state)
{
    csp_chan *gate = csp_chan_make(0, 0, "gate");
    for (int i = 0; i < 300; i++)
        csp_go(gated, gate, "gated");
    csp_close(gate);
    settle();
    assert_int_equal(csp_debug_tasks(NULL, 0), 1);
    assert_in_range(csp_debug_idle_threads(), POOLED ? 1 : 0, 256);
    csp_chan_free(gate);
}

static void idle_threads_exit_after_a_while(void **state)
{
    probe a = { 0 };
    run_probe(&a, "first");
    for (int i = 0; i < 500 && csp_debug_idle_threads() > 0; i++)
        sleep_ms(10);
    assert_int_equal(csp_debug_idle_threads(), 0);
    settle();
}

int main(void)
{
    count_other_threads();
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(idle_threads_are_the_runtimes_own),
        cmocka_unit_test(a_finished_tasks_thread_runs_the_next_task),
        cmocka_unit_test(a_task_on_a_reused_thread_has_its_own_dump),
        cmocka_unit_test(a_thread_a_task_pinned_is_not_reused),
        cmocka_unit_test(a_thread_a_task_masked_is_not_reused),
        cmocka_unit_test(idle_threads_are_bounded),
        cmocka_unit_test(idle_threads_exit_after_a_while),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
