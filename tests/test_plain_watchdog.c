/* test_plain_watchdog.c — the runtime alone, like Go's (issue 9.7): a plain
 * program (no harness) whose tasks are all asleep prints "fatal error: all
 * tasks are asleep - deadlock!" and the dump, exit status 2; SIGQUIT prints
 * the dump, exit status 2; a program with a task blocked for ever while main
 * still works is not a deadlock and ends normally.
 *
 * The binary is the plain program too: test_plain_watchdog --deadlock |
 * --sigquit | --partial. */
#include "csp.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

static __attribute__((noinline)) void never_sends(void *arg)
{
    int v;
    csp_recv(arg, &v);   /* waits for a value nobody sends */
}

static __attribute__((noinline)) int plain_deadlock(void)
{
    csp_chan *results = csp_chan_make(sizeof(int), 0, "results");
    csp_chan *other = csp_chan_make(sizeof(int), 0, "other");
    csp_go(never_sends, other, "waiter");
    int v;
    csp_recv(results, &v);   /* main too: everybody is asleep */
    return 0;
}

static __attribute__((noinline)) int plain_sigquit(void)
{
    printf("ready\n");
    fflush(stdout);
    csp_sleep(20 * CSP_SECOND);   /* a timer can wake it: not a deadlock */
    return 0;
}

static __attribute__((noinline)) int plain_partial(void)
{
    csp_chan *other = csp_chan_make(sizeof(int), 0, "other");
    csp_go(never_sends, other, "waiter");
    /* main works on, outside the runtime, for a while: not asleep */
    struct timespec t0, t;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    volatile unsigned long spin = 0;
    do {
        spin++;
        clock_gettime(CLOCK_MONOTONIC, &t);
    } while ((t.tv_sec - t0.tv_sec) * 1000000000L + (t.tv_nsec - t0.tv_nsec) < 400000000L);
    printf("done\n");
    return 0;
}

#if defined(__SANITIZE_THREAD__)
#define CHANLAB_TEST_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define CHANLAB_TEST_TSAN 1
#endif
#endif
#ifndef CHANLAB_TEST_TSAN
#define CHANLAB_TEST_TSAN 0
#endif

static const char *self;

/* Runs `self MODE`; its stderr+stdout into text; returns the wait status. */
static int run_plain(const char *mode, char *text, size_t size, bool quit)
{
    char path[] = "/tmp/chanlab-plain.XXXXXX";
    int fd = mkstemp(path);
    assert_true(fd >= 0);
    unlink(path);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        signal(SIGQUIT, SIG_DFL);
        alarm(30);   /* a watchdog that fails to fire ends the test, not the suite */
        execl(self, self, mode, (char *)NULL);
        _exit(127);
    }
    if (quit) {
        /* Wait for "ready", then ask for the dump. */
        for (int i = 0; i < 1000; i++) {
            char buf[16] = "";
            if (pread(fd, buf, sizeof buf - 1, 0) > 0 && strstr(buf, "ready"))
                break;
            usleep(10000);
        }
        usleep(100000);
        kill(pid, SIGQUIT);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    ssize_t n = pread(fd, text, size - 1, 0);
    text[n > 0 ? n : 0] = 0;
    close(fd);
    return status;
}

static void expect(const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        print_error("output does not contain \"%s\":\n%s\n", needle, text);
        fail();
    }
}

static void a_plain_deadlock_is_fatal(void **state)
{
    (void)state;
    char text[16384];
    int status = run_plain("--deadlock", text, sizeof text, false);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
        print_error("status 0x%x:\n%s\n", status, text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    assert_ptr_equal(strstr(text, "fatal error: all tasks are asleep - deadlock!\n\n"), text);
    expect(text, "task 1 \"main\" [chan receive \"results\"");
    expect(text, "\"waiter\" [chan receive \"other\"");
    expect(text, "plain_deadlock at ");
    expect(text, "never_sends at ");
}

static void sigquit_dumps_every_task(void **state)
{
    (void)state;
#if CHANLAB_TEST_TSAN
    /* ThreadSanitizer defers an asynchronous signal that lands on a thread
     * blocked outside its interceptors (the runtime parks on a raw futex
     * syscall) until that thread next enters one: here, when the 20 s sleep
     * ends. The dump then comes too late to test; a known limit of SIGQUIT
     * under TSan, noted in runtime/src/threads.c. */
    print_message("skipped under ThreadSanitizer (it defers the signal)\n");
    skip();
#endif
    char text[16384];
    int status = run_plain("--sigquit", text, sizeof text, true);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 2)
        print_error("status 0x%x:\n%s\n", status, text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 2);
    expect(text, "SIGQUIT: quit\n\n");
    expect(text, "task 1 \"main\" [sleep");
    expect(text, "plain_sigquit at ");
}

static void a_blocked_task_while_main_works_is_no_deadlock(void **state)
{
    (void)state;
    char text[16384];
    int status = run_plain("--partial", text, sizeof text, false);
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 0)
        print_error("status 0x%x:\n%s\n", status, text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 0);
    expect(text, "done\n");
    assert_null(strstr(text, "fatal error"));
}

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 2 && !strcmp(argv[1], "--deadlock"))
        return plain_deadlock();
    if (argc == 2 && !strcmp(argv[1], "--sigquit"))
        return plain_sigquit();
    if (argc == 2 && !strcmp(argv[1], "--partial"))
        return plain_partial();
    alarm(100);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_plain_deadlock_is_fatal),
        cmocka_unit_test(sigquit_dumps_every_task),
        cmocka_unit_test(a_blocked_task_while_main_works_is_no_deadlock),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
