/* evidence.c — what both drivers (free mode: child.c, controlled mode:
 * controlled.c) write about a run: verdict records, the program's
 * measurements, and the baseline against which leaked descriptors, threads
 * and channels are counted. */
#include "hinternal.h"

#include <dirent.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

void harness__write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

static int count_dir(const char *path)
{
    DIR *d = opendir(path);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    closedir(d);
    return n;
}

int harness__count_fds(void) { return count_dir("/proc/self/fd") - 1; /* the DIR's own */ }
int harness__count_threads(void) { return count_dir("/proc/self/task"); }

void harness__take_baseline(harness_baseline *base)
{
    base->fds = harness__count_fds();
    base->threads = harness__count_threads();
    base->runtime_threads = csp_debug_runtime_threads();
    base->chans = csp_debug_live_chans();
    for (int fd = 0; fd < 1024; fd++)
        base->fd_open[fd] = fcntl(fd, F_GETFD) != -1;
}

/* "count leaked_fds N" and what they are, when descriptors beyond the
 * baseline are open. */
void harness__put_leaked_fds(harness_buf *b, const harness_baseline *base)
{
    /* A ThreadSanitizer report starts llvm-symbolizer, whose pipes would
     * look like the program's leaked descriptors: not counted then. */
    if (harness__state && atomic_load(&harness__state->races) > 0)
        return;
    int extra = harness__count_fds() - base->fds;
    if (extra <= 0)
        return;
    harness__buf_printf(b, "count\tleaked_fds\t%d\n", extra);
    harness_buf text = {0};
    int shown = 0;
    for (int fd = 0; fd < 1024 && shown < 8; fd++) {
        if (base->fd_open[fd] || fcntl(fd, F_GETFD) == -1)
            continue;
        char path[64], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(path, target, sizeof target - 1);
        target[k > 0 ? k : 0] = 0;
        harness__buf_printf(&text, "%sfd %d (%s)", shown ? ", " : "", fd, k > 0 ? target : "?");
        shown++;
    }
    if (text.buf) {
        harness__buf_puts(b, "fds\t");
        harness__buf_escaped(b, text.buf);
        harness__buf_puts(b, "\n");
        free(text.buf);
    }
}

void harness__put_verdict(harness_buf *b, harness_verdict v, const char *msg)
{
    harness__buf_printf(b, "verdict\t%s\t", harness_verdict_name(v));
    harness__buf_escaped(b, msg ? msg : "");
    harness__buf_puts(b, "\n");
}

/* Records every measurement the program made: failures, gauges, marks,
 * output. Called once, by whoever finishes the run. */
void harness__put_measurements(harness_buf *b, harness_state *s, bool judge_marks,
                               csp_duration last_other_exit, long baseline_chans)
{
    if (s->fail_msg[0])
        harness__put_verdict(b, HARNESS_WRONG_RESULT, s->fail_msg);
    if (s->resource_msg[0])
        harness__put_verdict(b, HARNESS_RESOURCE, s->resource_msg);
    for (int i = 0; i < HARNESS_MAX_GAUGES && s->gauges[i].name; i++) {
        harness_gauge *g = &s->gauges[i];
        long peak = atomic_load(&g->peak);
        harness__buf_printf(b, "gauge\t");
        harness__buf_escaped(b, g->name);
        harness__buf_printf(b, "\t%ld\t%ld\n", peak, g->bound);
        if (g->bound >= 0 && peak > g->bound) {
            char msg[256];
            snprintf(msg, sizeof msg, "peak of %ld %s, above the declared bound of %ld",
                     peak, g->name, g->bound);
            harness__put_verdict(b, HARNESS_RESOURCE, msg);
        }
    }
    for (int i = 0; judge_marks && i < HARNESS_MAX_MARKS && s->marks[i].name; i++) {
        harness_markrec *m = &s->marks[i];
        if (m->at < 0 || m->bound < 0)
            continue;
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        char msg[256];
        if (q.tasks > 0) {
            snprintf(msg, sizeof msg, "%zu tasks still alive after \"%s\" (bound %lld ms)",
                     q.tasks, m->name, (long long)(m->bound / CSP_MILLISECOND));
            harness__put_verdict(b, HARNESS_SLOW, msg);
            continue;
        }
        csp_duration gone = last_other_exit;
        csp_duration latency = gone > m->at ? gone - m->at : 0;
        harness__buf_printf(b, "mark\t");
        harness__buf_escaped(b, m->name);
        harness__buf_printf(b, "\t%lld\t%lld\n", (long long)latency, (long long)m->bound);
        if (latency > m->bound) {
            snprintf(msg, sizeof msg, "the other tasks took %.3f ms to finish after \"%s\" "
                     "(bound %.3f ms)", (double)latency / 1e6, m->name, (double)m->bound / 1e6);
            harness__put_verdict(b, HARNESS_SLOW, msg);
        }
    }
    unsigned races = atomic_load(&s->races);
    if (races) {
        char msg[64];
        snprintf(msg, sizeof msg, "%u ThreadSanitizer report%s", races, races == 1 ? "" : "s");
        harness__put_verdict(b, HARNESS_RACE, msg);
        harness__buf_printf(b, "count\traces\t%u\n", races);
    }
    size_t olen = atomic_load(&s->output_len);
    if (s->output && olen) {
        s->output[olen] = 0;
        harness__buf_puts(b, "output\t");
        harness__buf_escaped(b, s->output);
        harness__buf_puts(b, "\n");
    }
    harness__buf_printf(b, "count\tlive_chans\t%ld\n", csp_debug_live_chans() - baseline_chans);
}


/* What the program printed and left in stdio's buffers goes to the log
 * before the child _exits. Unlocked: a task stuck inside printf may hold
 * the stream's lock, and the child ends right after anyway. */
void harness__flush_program_output(void)
{
    fflush_unlocked(stdout);
    fflush_unlocked(stderr);
}

/* ------------------------------------------------------------ Fatal signals */

static int crash_fd = -1;
static bool (*crash_claim)(void);
static void (*crash_extra)(harness_buf *b);
static char altstack[64 << 10];

/* A fatal signal in a task: CRASH, with the crashing task's stack taken from
 * where the signal interrupted it, then exit. Not async-signal-safe (it
 * formats and symbolizes nothing, but allocates): the process ends right
 * after, and alarm() bounds it if a lock held at the crash wedges it. */
static void on_crash(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (crash_claim && !crash_claim())
        for (;;)
            pause();
    alarm(3);
    uintptr_t pcs[CSP_DEBUG_MAX_PCS];
    harness__set_own_stack(pcs, harness__stack_from_ucontext(ucv, pcs, CSP_DEBUG_MAX_PCS));
    harness_buf b = {0};
    char head[256], msg[96];
    snprintf(head, sizeof head, "fatal: signal %d (%s) in %s", sig, strsignal(sig),
             csp_debug_current_task() ? "a task" : "a thread that is not a task (the harness, "
                                                   "the runtime, or the program's own)");
    snprintf(msg, sizeof msg, "signal %s", strsignal(sig));
    harness__put_verdict(&b, HARNESS_CRASH, msg);
    harness__buf_printf(&b, "count\tsignal\t%d\nhead\t", sig);
    harness__buf_escaped(&b, head);
    harness__buf_puts(&b, "\n");
    if (harness__state)
        harness__put_measurements(&b, harness__state, false, 0, 0);
    harness__write_tasks(&b, false);
    if (crash_extra)
        crash_extra(&b);
    harness__buf_puts(&b, "end\n");
    if (b.buf)
        harness__write_all(crash_fd, b.buf, b.len);
    _exit(0);
}

void harness__install_crash_handlers(int fd, bool (*claim)(void), void (*extra)(harness_buf *b))
{
    crash_fd = fd;
    crash_claim = claim;
    crash_extra = extra;
    stack_t ss = { .ss_sp = altstack, .ss_size = sizeof altstack, .ss_flags = 0 };
    sigaltstack(&ss, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = on_crash;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK | SA_RESETHAND;
    sigemptyset(&sa.sa_mask);
    int fatal[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
    for (size_t i = 0; i < sizeof fatal / sizeof *fatal; i++)
        sigaction(fatal[i], &sa, NULL);
}
