/* run.c — harness_run: validates options, carries out each run (a forked
 * child by default), merges the outcomes into one result.
 *
 * The parent never starts a thread and never blocks without a bound: it
 * polls the child's result and log pipes against the wall deadline, asks the
 * child for a dump with SIGQUIT when the deadline passes, SIGKILLs it if it
 * does not answer, and always reaps it. */
#include "strategy.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *const verdict_names[HARNESS_VERDICT_COUNT] = {
    "PASS", "LEAK", "DEADLOCK", "HANG", "PANIC", "RACE", "WRONG_RESULT",
    "NONDETERMINISTIC", "RESOURCE", "SLOW", "CRASH",
};

/* Severity rank, least first (the precedence documented in harness.h). */
static const int severity[HARNESS_VERDICT_COUNT] = {
    [HARNESS_PASS] = 0, [HARNESS_NONDETERMINISTIC] = 1, [HARNESS_SLOW] = 2,
    [HARNESS_RESOURCE] = 3, [HARNESS_LEAK] = 4, [HARNESS_WRONG_RESULT] = 5,
    [HARNESS_HANG] = 6, [HARNESS_DEADLOCK] = 7, [HARNESS_RACE] = 8,
    [HARNESS_PANIC] = 9, [HARNESS_CRASH] = 10,
};

const char *harness_verdict_name(harness_verdict v)
{
    return (unsigned)v < HARNESS_VERDICT_COUNT ? verdict_names[v] : "?";
}

int harness_verdict_parse(const char *name)
{
    for (int v = 0; name && v < HARNESS_VERDICT_COUNT; v++)
        if (strcasecmp(name, verdict_names[v]) == 0)
            return v;
    return -1;
}

bool harness_verdict_more_severe(harness_verdict a, harness_verdict b)
{
    if ((unsigned)a >= HARNESS_VERDICT_COUNT)
        return false;
    if ((unsigned)b >= HARNESS_VERDICT_COUNT)
        return true;
    return severity[a] > severity[b];
}

harness_options harness_defaults(void)
{
    return (harness_options){
        .mode = HARNESS_FREE,
        .strategy = HARNESS_RANDOM,
        .seed = 1,
        .schedules = 1,
        .pct_depth = 3,
        .preemption_bound = 2,
        .hang_after = 3 * CSP_SECOND,
        .timeout = 60 * CSP_SECOND,
        .max_steps = 100000,
        .leak_grace = 500 * CSP_MILLISECOND,
        .choice_bound = 2,
        .horizon = 3600 * CSP_SECOND,
    };
}

void harness_dump(FILE *out) { csp_debug_dump(out); }

void harness_result_free(harness_result *r)
{
    if (!r)
        return;
    free(r->schedule);
    free(r->dump);
    free(r->message);
    free(r->output);
    free(r->log);
    free(r->decisions);
    memset(r, 0, sizeof *r);
}

static int fail_with(harness_result *r, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = strdup(msg);
    return -1;
}

static int validate(void (*entry)(void *), const harness_options *o, harness_result *r)
{
    if (!entry)
        return fail_with(r, "harness_run: entry is NULL");
    if (o->mode != HARNESS_FREE && o->mode != HARNESS_CONTROLLED)
        return fail_with(r, "harness_run: mode %d is not HARNESS_FREE or HARNESS_CONTROLLED", (int)o->mode);
    if ((unsigned)o->strategy > HARNESS_BYTES)
        return fail_with(r, "harness_run: strategy %d is not RANDOM, PCT, EXHAUSTIVE or BYTES", (int)o->strategy);
    if (o->schedules == 0 || o->schedules > 1000000)
        return fail_with(r, "harness_run: schedules is %u; accepted: 1 to 1000000", o->schedules);
    if (o->hang_after < 0 || o->timeout < 0 || o->leak_grace < 0)
        return fail_with(r, "harness_run: hang_after, timeout and leak_grace must not be negative");
    if (o->timeout == 0 && o->hang_after == 0)
        return fail_with(r, "harness_run: no bound at all (timeout and hang_after are 0); "
                            "set at least one so that a hang ends");
    if (o->noise > 1000)
        return fail_with(r, "harness_run: noise is %u permille; accepted: 0 to 1000", o->noise);
    if (o->fd_limit < 0 || o->fd_limit > 1 << 20)
        return fail_with(r, "harness_run: fd_limit is %d; accepted: 0 (unchanged) to 1048576", o->fd_limit);
    if (o->replay && o->mode == HARNESS_FREE)
        return fail_with(r, "harness_run: free-mode runs are not reproducible, so there is "
                            "nothing to replay; replay needs HARNESS_CONTROLLED");
    if (o->mode == HARNESS_CONTROLLED) {
        if (o->max_steps == 0 && o->timeout == 0)
            return fail_with(r, "harness_run: controlled mode needs max_steps or timeout, "
                                "so that a livelock ends");
        if (o->strategy == HARNESS_BYTES && !o->bytes && o->nbytes)
            return fail_with(r, "harness_run: strategy BYTES with nbytes %zu but bytes NULL", o->nbytes);
        if (o->strategy == HARNESS_PCT && (o->pct_depth < 1 || o->pct_depth > 64))
            return fail_with(r, "harness_run: pct_depth is %u; accepted: 1 to 64", o->pct_depth);
        if (o->horizon < 0)
            return fail_with(r, "harness_run: horizon must not be negative");
        if (o->replay) {
            harness_strategy_state st;
            harness__strategy_init(&st, o);
            const char *err = harness__schedule_parse(o->replay, &st);
            harness__strategy_free(&st);
            if (err)
                return fail_with(r, "harness_run: bad schedule \"%.80s\": %s", o->replay, err);
        }
        if (o->noise)
            return fail_with(r, "harness_run: noise applies to free mode only");
    }
    if (o->in_process && o->fd_limit)
        return fail_with(r, "harness_run: fd_limit needs a forked run (in_process is set)");
    return 0;
}

static csp_duration mono_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (csp_duration)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

/* "UndefinedBehaviorSanitizer: store to null pointer at x.c:4" from a log a
 * sanitizer wrote before it ended the program; false if there is none. */
static bool sanitizer_summary(const char *log, char *msg, size_t size)
{
    const char *s = log ? strstr(log, "SUMMARY: ") : NULL;
    if (!s)
        return false;
    s += strlen("SUMMARY: ");
    size_t n = strcspn(s, "\n");
    const char *what = log ? strstr(log, "runtime error: ") : NULL;
    if (what && strncmp(s, "UndefinedBehaviorSanitizer", 26) == 0) {
        what += strlen("runtime error: ");
        snprintf(msg, size, "UndefinedBehaviorSanitizer: %.*s", (int)strcspn(what, "\n"), what);
    } else {
        snprintf(msg, size, "%.*s", (int)n, s);
    }
    return true;
}

static void drain_fd(int *fd, harness_buf *into)
{
    char chunk[4096];
    ssize_t k = read(*fd, chunk, sizeof chunk - 1);
    if (k > 0) {
        chunk[k] = 0;
        /* NUL bytes in a log would cut it short; show them as spaces. */
        for (ssize_t i = 0; i < k; i++)
            if (!chunk[i])
                chunk[i] = ' ';
        harness__buf_puts(into, chunk);
    } else if (k == 0 || (errno != EINTR && errno != EAGAIN)) {
        close(*fd);
        *fd = -1;
    }
}

/* One run in a forked child. */
static void run_forked(void (*entry)(void *), void *arg, const harness_options *o,
                       unsigned run, harness_outcome *out)
{
    int res[2], log[2] = { -1, -1 };
    if (pipe2(res, O_CLOEXEC) != 0 || (!o->keep_output && pipe2(log, O_CLOEXEC) != 0)) {
        out->seen = 1u << HARNESS_CRASH;
        out->verdict = HARNESS_CRASH;
        out->message = strdup("harness: cannot make pipes for the child");
        return;
    }
    fflush(NULL);
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        out->seen = 1u << HARNESS_CRASH;
        out->verdict = HARNESS_CRASH;
        out->message = strdup("harness: fork failed");
        return;
    }
    if (pid == 0) {
        /* The child ends with its parent, even one killed outright. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
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
        harness_child_args a = { entry, arg, o, res[1], true, run };
        if (o->mode == HARNESS_CONTROLLED)
            harness__controlled_run(&a);
        else
            harness__child_run(&a);
        harness__flush_program_output();
        _exit(0);
    }
    close(res[1]);
    if (log[1] >= 0)
        close(log[1]);
    harness_buf rec = {0}, logbuf = {0};
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
                drain_fd(&rfd, &rec);
            else
                drain_fd(&lfd, &logbuf);
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
    bool ended = rec.buf && strstr(rec.buf, "\nend\n") != NULL;
    if (!ended && rec.buf && strncmp(rec.buf, "end\n", 4) == 0)
        ended = true;
    if (rec.buf)
        harness__parse_records(rec.buf, o, out);
    if (!ended) {
        char msg[160];
        harness_verdict v = HARNESS_CRASH;
        if (stage == 2 && WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL) {
            v = HARNESS_HANG;
            snprintf(msg, sizeof msg, "did not finish within %.1f s and did not answer SIGQUIT; killed",
                     (double)bound / 1e9);
        } else if (WIFSIGNALED(status)) {
            out->signal = WTERMSIG(status);
            snprintf(msg, sizeof msg, "killed by signal %d (%s)", WTERMSIG(status), strsignal(WTERMSIG(status)));
        } else if (sanitizer_summary(logbuf.buf, msg, sizeof msg)) {
            /* A sanitizer stopped the program before any signal: say what it saw. */
        } else {
            snprintf(msg, sizeof msg, "the program exited (status %d) before the run finished",
                     WIFEXITED(status) ? WEXITSTATUS(status) : -1);
        }
        bool first = out->seen == 0;
        out->seen |= 1u << v;
        if (first || harness_verdict_more_severe(v, out->verdict)) {
            out->verdict = v;
            free(out->message);
            out->message = strdup(msg);
        }
    }
    out->log = logbuf.buf;
    free(rec.buf);
}

/* One run in this process: the records go through a memory file. */
static void run_in_process(void (*entry)(void *), void *arg, const harness_options *o,
                           unsigned run, harness_outcome *out)
{
    int fd = memfd_create("harness-records", MFD_CLOEXEC);
    if (fd < 0) {
        out->seen = 1u << HARNESS_CRASH;
        out->verdict = HARNESS_CRASH;
        out->message = strdup("harness: memfd_create failed");
        return;
    }
    harness_child_args a = { entry, arg, o, fd, false, run };
    if (o->mode == HARNESS_CONTROLLED)
        harness__controlled_run(&a);
    else
        harness__child_run(&a);
    off_t size = lseek(fd, 0, SEEK_END);
    char *rec = size > 0 ? malloc((size_t)size + 1) : NULL;
    if (rec && pread(fd, rec, (size_t)size, 0) == size) {
        rec[size] = 0;
        harness__parse_records(rec, o, out);
    }
    free(rec);
    close(fd);
}

/* The TSan report block of a log (for a RACE dump), or NULL. */
static char *race_report(const char *log)
{
    const char *w = log ? strstr(log, "WARNING: ThreadSanitizer") : NULL;
    if (!w)
        return NULL;
    const char *end = strstr(w, "SUMMARY: ThreadSanitizer");
    end = end ? strchr(end, '\n') : NULL;
    size_t n = end ? (size_t)(end - w + 1) : strlen(w);
    return strndup(w, n);
}

/* "data race runtime/x.c:12 in f" from the SUMMARY line, or NULL. */
static char *race_summary(const char *log)
{
    const char *s = log ? strstr(log, "SUMMARY: ThreadSanitizer: ") : NULL;
    if (!s)
        return NULL;
    s += strlen("SUMMARY: ThreadSanitizer: ");
    const char *e = strchr(s, '\n');
    return strndup(s, e ? (size_t)(e - s) : strlen(s));
}

static bool nested;

int harness_run(void (*entry)(void *), void *arg, const harness_options *o, harness_result *r)
{
    if (!r)
        return -1;
    memset(r, 0, sizeof *r);
    harness_options defaults = harness_defaults();
    if (!o)
        o = &defaults;
    if (validate(entry, o, r) != 0)
        return -1;
    if (nested || harness__state)
        return fail_with(r, "harness_run: called while a run is in progress (it is not re-entrant)");
    nested = true;
    char *first_output = NULL;
    bool have_first = false;
    unsigned forks = o->mode == HARNESS_CONTROLLED ? 1 : o->schedules;
    for (unsigned i = 0; i < forks; i++) {
        harness_outcome out = {0};
        if (o->in_process)
            run_in_process(entry, arg, o, i + 1, &out);
        else
            run_forked(entry, arg, o, i + 1, &out);
        r->schedules_run++;
        /* Output compared across runs: a difference is NONDETERMINISTIC. */
        const char *output = out.output ? out.output : "";
        if (!have_first) {
            first_output = strdup(output);
            have_first = true;
        } else if (strcmp(first_output, output) != 0 && !(out.seen & ~1u)) {
            out.seen |= 1u << HARNESS_NONDETERMINISTIC;
            out.verdict = HARNESS_NONDETERMINISTIC;
            char msg[64];
            snprintf(msg, sizeof msg, "output differs between run 1 and run %u", i + 1);
            free(out.message);
            out.message = strdup(msg);
        }
        if (out.seen & (1u << HARNESS_RACE)) {
            char *sum = race_summary(out.log);
            if (sum && out.verdict == HARNESS_RACE) {
                free(out.message);
                out.message = sum;
                sum = NULL;
            }
            free(sum);
            char *rep = race_report(out.log);
            if (rep && out.verdict == HARNESS_RACE) {
                free(out.dump);
                out.dump = rep;
                rep = NULL;
            }
            free(rep);
        }
        r->seen |= out.seen ? out.seen : 1u << HARNESS_PASS;
        bool worse = r->schedules_run == 1 || harness_verdict_more_severe(out.verdict, r->verdict);
        if (worse) {
            r->verdict = out.verdict;
            free(r->message); r->message = out.message; out.message = NULL;
            free(r->dump); r->dump = out.dump; out.dump = NULL;
            free(r->output); r->output = out.output; out.output = NULL;
            free(r->log); r->log = out.log; out.log = NULL;
            r->leaked_tasks = out.leaked_tasks;
            r->leaked_tickers = out.leaked_tickers;
            r->leaked_threads = out.leaked_threads;
            r->leaked_fds = out.leaked_fds;
            r->live_chans = out.live_chans;
            r->races = out.races;
            r->signal = out.signal;
            free(r->schedule);
            if (out.schedule) {
                r->schedule = out.schedule;
                out.schedule = NULL;
            } else {
                char sched[128];
                snprintf(sched, sizeof sched, "v1:free:seed=%" PRIu64 ":noise=%u:run=%u",
                         o->seed, o->noise, i + 1);
                r->schedule = strdup(sched);
            }
            free(r->decisions);
            r->decisions = out.decisions;
            out.decisions = NULL;
            r->steps = out.steps;
            r->virtual_time = out.virtual_time;
        }
        if (o->mode == HARNESS_CONTROLLED) {
            r->schedules_run = out.schedules_run;
            r->exhausted = out.exhausted;
            if (out.error) {
                char *e = out.error;
                out.error = NULL;
                harness__outcome_free(&out);
                harness_result_free(r);
                fail_with(r, "harness_run: %s", e);
                free(e);
                free(first_output);
                nested = false;
                return -1;
            }
        }
        harness__outcome_free(&out);
        if (r->verdict != HARNESS_PASS && !o->keep_going)
            break;
    }
    free(first_output);
    if (r->verdict == HARNESS_PASS && o->mode == HARNESS_CONTROLLED) {
        char msg[200];
        snprintf(msg, sizeof msg, "no bug observed in %u schedule%s%s", r->schedules_run,
                 r->schedules_run == 1 ? "" : "s",
                 r->exhausted ? " (the bounded space is exhausted)"
                 : r->schedules_run < o->schedules && !o->replay
                     ? " (stopped by the wall bound)" : "");
        free(r->message);
        r->message = strdup(msg);
    }
    if (!r->message)
        r->message = strdup(r->verdict == HARNESS_PASS ? "no bug observed" : "");
    nested = false;
    return 0;
}
