/* testutil.c — forked-child runner and task helpers for the cmocka tests.
 * A child's stderr goes to a memfd (no pipe to fill up, nothing to drain while
 * waiting); the parent polls waitpid against a deadline and kills the child
 * once the bound has passed, so no test can hang on a child. */
#include "testutil.h"

#include "csp_debug.h"

#include <dirent.h>
#include <errno.h>
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>

static pid_t test_pid; /* the process cmocka runs in */

void testutil_init(void)
{
    test_pid = getpid();
    alarm(TESTUTIL_ALARM_SECONDS);
    (void)csp_self();
    if (getenv("TESTUTIL_FILTER"))
        cmocka_set_test_filter(getenv("TESTUTIL_FILTER"));
}

/* cmocka must not run in a forked child (a failed assert would longjmp into
 * the child's copy of the test runner), so helpers that children use too
 * report their own failures this way. */
static void require(bool ok, const char *what)
{
    if (ok)
        return;
    if (getpid() != test_pid) {
        fprintf(stderr, "testutil: %s failed: %s\n", what, strerror(errno));
        _exit(98);
    }
    fail_msg("testutil: %s failed: %s", what, strerror(errno));
}

double testutil_ms(csp_duration since)
{
    return (double)(csp_now() - since) / (double)CSP_MILLISECOND;
}

static int64_t monotonic_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A child that crashes says where before it dies by the same signal, so that
 * a runtime crash in a child can be read from the test log. */
static void child_crash_handler(int sig, siginfo_t *info, void *ctx)
{
    char head[80] = "child: fatal signal NN at 0x";
    size_t len = strlen(head);
    head[20] = (char)('0' + sig / 10 % 10);
    head[21] = (char)('0' + sig % 10);
    uintptr_t addr = (uintptr_t)info->si_addr;
    for (int shift = (int)sizeof addr * 8 - 4; shift >= 0; shift -= 4)
        head[len++] = "0123456789abcdef"[(addr >> shift) & 0xf];
    memcpy(head + len, ", backtrace:\n", 14);
    len += 13;
    (void)!write(STDERR_FILENO, head, len);
    void *pcs[64];
    int n = backtrace(pcs, 64);
    backtrace_symbols_fd(pcs, n, STDERR_FILENO);
    signal(sig, SIG_DFL);
    raise(sig);
}

/* cmocka catches these during a test and longjmps back into its runner; in a
 * child that would run the rest of the suite a second time. */
static void child_reset_signals(void)
{
    static const int sigs[] = {SIGSEGV, SIGILL, SIGFPE, SIGBUS, SIGSYS};
    void *warm[1];
    backtrace(warm, 1); /* loads libgcc now, not inside the handler */
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = child_crash_handler;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < sizeof sigs / sizeof sigs[0]; i++)
        sigaction(sigs[i], &sa, NULL);
}

static void child_main(int err_fd, void (*fn)(void *), void *arg, int bound_ms)
{
    child_reset_signals();
    int devnull = open("/dev/null", O_WRONLY);
    if (devnull >= 0)
        dup2(devnull, STDOUT_FILENO);
    dup2(err_fd, STDERR_FILENO);
    setvbuf(stderr, NULL, _IONBF, 0);
    alarm((unsigned)(bound_ms / 1000 + 2)); /* the parent kills it first */
    fn(arg);
    _exit(0);
}

static void describe(const testutil_child *c);

static void read_all(int fd, testutil_child *out)
{
    struct stat st;
    size_t size = 0;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        size = (size_t)st.st_size;
    if (size > TESTUTIL_ERR_MAX) {
        size = TESTUTIL_ERR_MAX;
        out->err_truncated = true;
    }
    size_t got = 0;
    while (got < size) {
        ssize_t n = pread(fd, out->err + got, size - got, (off_t)got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    out->err[got] = '\0';
    out->err_len = got;
}

#if defined(__SANITIZE_ADDRESS__)
#define TESTUTIL_ASAN 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define TESTUTIL_ASAN 1
#endif
#endif

/* AddressSanitizer (clang 14) does not hold its allocator lock across fork:
 * a child forked while another thread is inside malloc/free — a finished
 * task's thread freeing its TLS as it exits, say — can hang in its first
 * malloc. Under ASan, fork only once no thread is on its way out: the OS
 * threads are exactly the live tasks' plus the runtime's own. */
static void wait_for_exiting_threads(void)
{
#ifdef TESTUTIL_ASAN
    for (int i = 0; i < 2000; i++) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        int n = 0;
        DIR *d = opendir("/proc/self/task");
        struct dirent *e;
        while (d && (e = readdir(d)))
            n += e->d_name[0] != '.';
        if (d)
            closedir(d);
        if (n <= (int)q.tasks + csp_debug_runtime_threads())
            return;
        struct timespec ts = { 0, 1000000 };
        nanosleep(&ts, NULL);
    }
#endif
}

void testutil_run_child(testutil_child *out, void (*fn)(void *), void *arg,
                        int bound_ms)
{
    memset(out, 0, sizeof *out);
    wait_for_exiting_threads();
    int fd = memfd_create("child-stderr", MFD_CLOEXEC);
    require(fd >= 0, "memfd_create");
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    require(pid >= 0, "fork");
    if (pid == 0)
        child_main(fd, fn, arg, bound_ms);

    int64_t deadline = monotonic_ms() + bound_ms;
    int status = 0;
    for (;;) {
        pid_t r = waitpid(pid, &status, WNOHANG);
        if (r == pid)
            break;
        require(r >= 0 || errno == EINTR, "waitpid");
        if (monotonic_ms() >= deadline) {
            kill(pid, SIGKILL);
            while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
            }
            out->timed_out = true;
            break;
        }
        struct timespec pause = {0, 2 * 1000 * 1000};
        nanosleep(&pause, NULL);
    }
    if (!out->timed_out) {
        out->exited = WIFEXITED(status);
        out->exit_code = out->exited ? WEXITSTATUS(status) : -1;
        out->signaled = WIFSIGNALED(status);
        out->signo = out->signaled ? WTERMSIG(status) : 0;
    }
    read_all(fd, out);
    close(fd);
    if (getenv("TESTUTIL_VERBOSE"))
        describe(out);
}

static void describe(const testutil_child *c)
{
    if (c->timed_out)
        print_error("child: still running at the bound (killed)\n");
    else if (c->exited)
        print_error("child: exited with status %d\n", c->exit_code);
    else if (c->signaled)
        print_error("child: killed by signal %d (%s)\n", c->signo,
                    strsignal(c->signo));
    /* Not print_error: cmocka formats into a 1 KiB buffer. */
    fflush(stdout);
    fprintf(stderr, "child stderr (%zu bytes%s):\n", c->err_len,
            c->err_truncated ? ", truncated" : "");
    fwrite(c->err, 1, c->err_len, stderr);
    fputs("\n", stderr);
}

void testutil_assert_panicked(const testutil_child *c, const char *message)
{
    char want[512];
    snprintf(want, sizeof want, "panic: %s", message);
    if (c->signaled && c->signo == SIGABRT && strstr(c->err, want))
        return;
    describe(c);
    fail_msg("expected death by SIGABRT with \"%s\" on stderr", want);
}

void testutil_assert_exited_ok(const testutil_child *c)
{
    if (c->exited && c->exit_code == 0)
        return;
    describe(c);
    fail_msg("expected the child to exit with status 0");
}

void testutil_assert_still_running(const testutil_child *c)
{
    if (c->timed_out)
        return;
    describe(c);
    fail_msg("expected the child to be still blocked at the bound");
}

static bool line_matches(const char *line, size_t len, const char *prefix,
                         va_list ap)
{
    char buf[1024];
    if (len >= sizeof buf)
        len = sizeof buf - 1;
    memcpy(buf, line, len);
    buf[len] = '\0';
    const char *p = buf;
    while (*p == ' ' || *p == '\t')
        p++;
    if (strncmp(p, prefix, strlen(prefix)) != 0)
        return false;
    for (const char *s = va_arg(ap, const char *); s;
         s = va_arg(ap, const char *))
        if (!strstr(p, s))
            return false;
    return true;
}

static bool has_line(const testutil_child *c, const char *prefix, va_list ap)
{
    const char *p = c->err;
    while (*p) {
        const char *nl = strchr(p, '\n');
        size_t len = nl ? (size_t)(nl - p) : strlen(p);
        va_list aq;
        va_copy(aq, ap);
        bool ok = line_matches(p, len, prefix, aq);
        va_end(aq);
        if (ok)
            return true;
        p += len + (nl ? 1 : 0);
    }
    return false;
}

bool testutil_err_has_line(const testutil_child *c, const char *prefix, ...)
{
    va_list ap;
    va_start(ap, prefix);
    bool ok = has_line(c, prefix, ap);
    va_end(ap);
    return ok;
}

void testutil_assert_err_line_at(const testutil_child *c, const char *file,
                                 int line, const char *prefix, ...)
{
    va_list ap;
    va_start(ap, prefix);
    bool ok = has_line(c, prefix, ap);
    va_end(ap);
    if (ok)
        return;
    char want[512];
    size_t used = (size_t)snprintf(want, sizeof want, "starts with \"%s\"",
                                   prefix);
    va_start(ap, prefix);
    for (const char *s = va_arg(ap, const char *); s && used < sizeof want;
         s = va_arg(ap, const char *))
        used += (size_t)snprintf(want + used, sizeof want - used,
                                 ", contains \"%s\"", s);
    va_end(ap);
    describe(c);
    fail_msg("%s:%d: no stderr line that %s", file, line, want);
}

struct spawned {
    void (*fn)(void *);
    void *arg;
    csp_waitgroup *wg;
};

static void spawned_main(void *p)
{
    struct spawned s = *(struct spawned *)p;
    free(p);
    s.fn(s.arg);
    csp_wg_done(s.wg);
}

void testutil_spawn(csp_waitgroup *wg, void (*fn)(void *), void *arg,
                    const char *name)
{
    struct spawned *s = malloc(sizeof *s);
    require(s != NULL, "malloc");
    *s = (struct spawned){fn, arg, wg};
    csp_wg_add(wg, 1);
    require(csp_go(spawned_main, s, name) != NULL, "csp_go");
}
