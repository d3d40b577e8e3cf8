/* supervise.c — the fork supervisor (supervise.h). The parent never starts a
 * thread and never blocks without a bound: it polls the child's result and
 * log pipes against the wall deadline, asks the child for a dump with
 * SIGQUIT when the deadline passes, SIGKILLs it if it does not answer, and
 * always reaps it. Children die with their parent (PR_SET_PDEATHSIG). */
#include "quiet.h"
#include "supervise.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static HARNESS_CODE csp_duration mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (csp_duration)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

static HARNESS_CODE void drive(const harness_child_args *a)
{
    if (a->o->mode == HARNESS_CONTROLLED)
        harness__controlled_run(a);
    else
        harness__free_run(a);
}

/* "UndefinedBehaviorSanitizer: store to null pointer at x.c:4" from a log a
 * sanitizer wrote before it ended the program; false if there is none. */
static HARNESS_CODE bool sanitizer_summary(const char *log, char *msg, size_t size)
{
    const char *s = log ? strstr(log, "SUMMARY: ") : NULL;
    if (!s)
        return false;
    s += strlen("SUMMARY: ");
    size_t n = strcspn(s, "\n");
    const char *what = strstr(log, "runtime error: ");
    if (what && strncmp(s, "UndefinedBehaviorSanitizer", 26) == 0) {
        what += strlen("runtime error: ");
        snprintf(msg, size, "UndefinedBehaviorSanitizer: %.*s", (int)strcspn(what, "\n"), what);
    } else {
        snprintf(msg, size, "%.*s", (int)n, s);
    }
    return true;
}

/* The child's stdout and stderr (harness_result.log), within bounds: its
 * first LOG_HEAD bytes and its last LOG_TAIL, and between them one line
 * that says how much was left out. A controlled run is thousands of
 * schedules in one child, and a program that prints (the crawler prints
 * each URL it fetches, ~12 KB a schedule) grew the supervisor by that much
 * a schedule, a gigabyte over 100,000 (DESIGN.md §2: memory flat over a
 * run). What the log is read for is at its start (the first schedule's
 * output) or its end: a sanitizer's report ends the run that made it, and a
 * cmocka or assert failure is the last thing a child prints. */
#define LOG_HEAD ((size_t)256 << 10)
#define LOG_TAIL ((size_t)4 << 20)

typedef struct {
    harness_buf b;               /* head, then the tail so far */
    unsigned long long dropped;  /* bytes left out between them */
} capped_log;

static HARNESS_CODE void log_put(capped_log *l, const char *s, size_t n)
{
    harness__buf_putn(&l->b, s, n);
    /* Past head + 2 tails, keep the last tail: each byte is moved at most
     * once per LOG_TAIL bytes that arrive after it. */
    if (l->b.buf && l->b.len > LOG_HEAD + 2 * LOG_TAIL) {
        size_t cut = l->b.len - LOG_HEAD - LOG_TAIL;
        memmove(l->b.buf + LOG_HEAD, l->b.buf + LOG_HEAD + cut, LOG_TAIL);
        l->b.len = LOG_HEAD + LOG_TAIL;
        l->b.buf[l->b.len] = 0;
        l->dropped += cut;
    }
}

/* The log as one string (malloc'ed; NULL if nothing came): the head, the
 * line that says what was left out, and the tail from its first whole line. */
static HARNESS_CODE char *log_text(capped_log *l)
{
    if (!l->b.buf || (!l->dropped && l->b.len <= LOG_HEAD + LOG_TAIL))
        return l->b.buf;
    const char *end = l->b.buf + l->b.len, *tail = end - LOG_TAIL;   /* len >= HEAD + TAIL */
    unsigned long long dropped = l->dropped + (unsigned long long)(tail - (l->b.buf + LOG_HEAD));
    const char *nl = memchr(tail, '\n', (size_t)(end - tail));
    if (nl && nl + 1 < end) {
        dropped += (unsigned long long)(nl + 1 - tail);
        tail = nl + 1;
    }
    harness_buf out = { 0 };
    harness__buf_putn(&out, l->b.buf, LOG_HEAD);
    harness__buf_printf(&out, "%s[chanlab: %llu bytes of the program's output left out here; "
                        "a log keeps its first %zu KiB and its last %zu KiB]\n",
                        l->b.buf[LOG_HEAD - 1] == '\n' ? "" : "\n", dropped, LOG_HEAD >> 10,
                        LOG_TAIL >> 10);
    harness__buf_putn(&out, tail, (size_t)(end - tail));
    free(l->b.buf);
    l->b = (harness_buf){ 0 };
    return out.buf;
}

static HARNESS_CODE void drain_fd(int *fd, harness_buf *into, capped_log *log)
{
    char chunk[4096];
    ssize_t k = read(*fd, chunk, sizeof chunk);
    if (k > 0) {
        /* NUL bytes in a log would cut it short; show them as spaces. */
        for (ssize_t i = 0; i < k; i++)
            if (!chunk[i])
                chunk[i] = ' ';
        if (into)
            harness__buf_putn(into, chunk, (size_t)k);
        else
            log_put(log, chunk, (size_t)k);
    } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(*fd);
        *fd = -1;
    }
}

static HARNESS_CODE void judged_by_supervisor(harness_child_result *out, harness_verdict v, const char *msg)
{
    harness__judge(&out->rec.judged, v, msg);
}

/* The child's side: becomes the run, never returns. */
static HARNESS_CODE CSP_NORETURN void child(const harness_child_args *a, pid_t parent, int res[2], int log[2])
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);   /* the child ends with its parent, even one killed outright */
    if (getppid() != parent)
        _exit(0);
    close(res[0]);
    if (log[1] >= 0) {
        close(log[0]);
        dup2(log[1], STDOUT_FILENO);
        dup2(log[1], STDERR_FILENO);
        close(log[1]);
    }
    int devnull = open("/dev/null", O_RDONLY);
    if (devnull >= 0) {
        dup2(devnull, STDIN_FILENO);
        close(devnull);
    }
    harness_child_args mine = *a;
    mine.result_fd = res[1];
    mine.forked = true;
    drive(&mine);
    harness__flush_program_output();
    _exit(0);
}

static HARNESS_CODE void run_forked(const harness_child_args *a, harness_child_result *out)
{
    const harness_options *o = a->o;
    int res[2] = { -1, -1 }, log[2] = { -1, -1 };
    if (pipe2(res, O_CLOEXEC) != 0)
        goto no_pipes;
    if (!o->keep_output && pipe2(log, O_CLOEXEC) != 0)
        goto no_log_pipe;
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0)
        goto no_fork;
    if (pid == 0)
        child(a, parent, res, log);
    close(res[1]);
    if (log[1] >= 0)
        close(log[1]);

    harness_buf rec = {0};
    capped_log logbuf = {0};
    int rfd = res[0], lfd = log[0];
    csp_duration bound = o->timeout > 0 ? o->timeout : 10 * o->hang_after;
    csp_duration deadline = mono_now() + bound + 2 * CSP_SECOND;
    int stage = 0;   /* 0 running, 1 SIGQUIT sent, 2 SIGKILL sent */
    int status = 0;
    bool reaped = false;
    while (rfd >= 0 || lfd >= 0 || !reaped) {
        struct pollfd p[2];
        int np = 0;
        if (rfd >= 0)
            p[np++] = (struct pollfd){ rfd, POLLIN, 0 };
        if (lfd >= 0)
            p[np++] = (struct pollfd){ lfd, POLLIN, 0 };
        csp_duration left = deadline - mono_now();
        int wait_ms = left <= 0 ? 0 : (int)(left / CSP_MILLISECOND) + 1;
        if (wait_ms > 50)
            wait_ms = 50;
        int k = np ? poll(p, (nfds_t)np, wait_ms) : (usleep(1000 * (unsigned)wait_ms), 0);
        for (int i = 0; k > 0 && i < np; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            if (p[i].fd == rfd)
                drain_fd(&rfd, &rec, NULL);
            else
                drain_fd(&lfd, NULL, &logbuf);
        }
        if (!reaped && waitpid(pid, &status, WNOHANG) == pid) {
            reaped = true;
            /* The child is gone; what is left in the pipes is all there is,
             * unless a grandchild holds them: bound that too. */
            if (deadline > mono_now() + CSP_SECOND)
                deadline = mono_now() + CSP_SECOND;
        }
        if (mono_now() >= deadline) {
            if (reaped) {
                break;
            } else if (stage == 0) {
                kill(pid, SIGQUIT);
                stage = 1;
                deadline = mono_now() + 3 * CSP_SECOND;
            } else {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                reaped = true;
                stage = 2;
                deadline = mono_now() + CSP_SECOND;
            }
        }
    }
    if (rfd >= 0)
        close(rfd);
    if (lfd >= 0)
        close(lfd);
    if (rec.buf)
        harness__record_parse(rec.buf, &out->rec);
    free(rec.buf);
    out->log = log_text(&logbuf);
    if (!out->rec.complete) {
        char msg[160];
        harness_verdict v = HARNESS_CRASH;
        if (stage == 2 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            v = HARNESS_HANG;
            snprintf(msg, sizeof msg, "did not finish within %.1f s and did not answer SIGQUIT; killed",
                     (double)bound / 1e9);
        } else if (WIFSIGNALED(status)) {
            out->rec.signal = WTERMSIG(status);
            snprintf(msg, sizeof msg, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else if (sanitizer_summary(out->log, msg, sizeof msg)) {
            /* A sanitizer stopped the program before any signal: say what it saw. */
        } else {
            snprintf(msg, sizeof msg, "the program exited (status %d) before the run finished",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        judged_by_supervisor(out, v, msg);
    }
    return;

no_fork:
    if (log[0] >= 0) {
        close(log[0]);
        close(log[1]);
    }
no_log_pipe:
    close(res[0]);
    close(res[1]);
no_pipes:
    {
        char msg[160];
        snprintf(msg, sizeof msg, "harness: cannot start the run's child process (%s)", strerror(errno));
        judged_by_supervisor(out, HARNESS_CRASH, msg);
    }
}

/* One run in this process: the record goes through a memory file. */
static HARNESS_CODE void run_in_process(const harness_child_args *a, harness_child_result *out)
{
    int fd = memfd_create("harness-records", MFD_CLOEXEC);
    if (fd < 0) {
        judged_by_supervisor(out, HARNESS_CRASH, "harness: memfd_create failed");
        return;
    }
    harness_child_args mine = *a;
    mine.result_fd = fd;
    mine.forked = false;
    drive(&mine);
    off_t size = lseek(fd, 0, SEEK_END);
    char *text = size > 0 ? malloc((size_t)size + 1) : NULL;
    if (text && pread(fd, text, (size_t)size, 0) == size) {
        text[size] = 0;
        harness__record_parse(text, &out->rec);
    }
    free(text);
    close(fd);
    if (!out->rec.complete)
        judged_by_supervisor(out, HARNESS_CRASH, "harness: the in-process run left no complete record");
}

HARNESS_CODE void harness__supervise(const harness_child_args *a, harness_child_result *out)
{
    memset(out, 0, sizeof *out);
    if (a->o->in_process)
        run_in_process(a, out);
    else
        run_forked(a, out);
}

HARNESS_CODE void harness__child_result_free(harness_child_result *c)
{
    harness__record_free(&c->rec);
    free(c->log);
    memset(c, 0, sizeof *c);
}
