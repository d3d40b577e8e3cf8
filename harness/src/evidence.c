/* evidence.c — the end-of-run collector both drivers share (collect.h): the
 * baseline against which leaked descriptors, threads and channels are
 * counted, the leak collector that judges LEAK, and the program's own
 * measurements (failures, resource and latency bounds, races, output).
 *
 * Messages name code by address (harness__pc_token): the parent renders
 * them; nothing here symbolizes. */
#include "quiet.h"
#include "collect.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

/* The entries of a /proc directory but . and .., read with getdents64 into
 * a buffer on the stack: opendir's 32 KiB heap buffer, allocated and freed
 * once a schedule (the descriptor count of every controlled run), was the
 * largest fixed cost of a schedule under TSan, whose allocator clears the
 * shadow of every block it hands out and takes back (issue 16 §3). */
static HARNESS_CODE int count_dir(const char *path)
{
    int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        return -1;
    int n = 0;
    char buf[4096] __attribute__((aligned(8)));
    for (;;) {
        long k = syscall(SYS_getdents64, fd, buf, sizeof buf);
        if (k <= 0)
            break;
        for (long off = 0; off < k;) {
            const struct dirent64 *e = (const struct dirent64 *)(buf + off);
            if (e->d_name[0] != '.')
                n++;
            off += e->d_reclen;
        }
    }
    close(fd);
    return n;
}

static HARNESS_CODE int count_fds(void) { return count_dir("/proc/self/fd") - 1; /* its own */ }
HARNESS_CODE int harness__count_threads(void) { return count_dir("/proc/self/task"); }

HARNESS_CODE void harness__take_baseline(harness_baseline *base)
{
    base->fds = count_fds();
    base->threads = harness__count_threads();
    base->runtime_threads = csp_debug_runtime_threads();
    base->chans = csp_debug_live_chans();
    for (int fd = 0; fd < 1024; fd++)
        base->fd_open[fd] = fcntl(fd, F_GETFD) != -1;
}

/* "fd 5 (pipe:[123]), fd 6 (/tmp/x)" for descriptors beyond the baseline;
 * returns how many there are. */
static HARNESS_CODE unsigned leaked_fds(const harness_baseline *base, harness_buf *text)
{
    int extra = count_fds() - base->fds;
    if (extra <= 0)
        return 0;
    int shown = 0;
    for (int fd = 0; fd < 1024 && shown < 8; fd++) {
        if (base->fd_open[fd] || fcntl(fd, F_GETFD) == -1)
            continue;
        char path[64], target[256];
        snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
        ssize_t k = readlink(path, target, sizeof target - 1);
        target[k > 0 ? k : 0] = 0;
        harness__buf_printf(text, "%sfd %d (%s)", shown ? ", " : "", fd, k > 0 ? target : "?");
        shown++;
    }
    return (unsigned)extra;
}

/* "3 tasks leaked: LEAKS" — the tasks themselves are in the record; the
 * parent groups them once it can name their call sites (render.c). */
static HARNESS_CODE void leaked_tasks_text(harness_buf *m, const harness_record *r)
{
    harness__buf_printf(m, "%u task%s leaked: " HARNESS_LEAKS_TOKEN, r->leaked_tasks,
                        r->leaked_tasks == 1 ? "" : "s");
}

HARNESS_CODE void harness__collect_leaks(harness_record *r, const harness_run_facts *f, const char *head,
                            bool ask_running, unsigned leaked_threads)
{
    harness_buf msg = {0}, extra = {0};
    csp_debug_quiet q;
    csp_debug_quiescence(&q, NULL);
    if (q.tasks > 0) {
        size_t first = r->ntasks;
        harness__snapshot_tasks(r, ask_running);
        for (size_t i = first; i < r->ntasks; i++) {
            r->tasks[i].ignored = harness__ignore_matches(f->ignore, &r->tasks[i].t);
            r->leaked_tasks += !r->tasks[i].ignored;
        }
        free(r->head);
        r->head = strdup(head);
        if (r->leaked_tasks)
            leaked_tasks_text(&msg, r);
    }
    csp_debug_timer timers[64];
    size_t nt = csp_debug_timers(timers, 64);
    for (size_t i = 0; i < nt && i < 64; i++) {
        if (timers[i].period <= 0)
            continue;
        harness__buf_printf(&extra, "%sticker (every %lld ms) made by ", extra.len ? "; " : "",
                            (long long)(timers[i].period / CSP_MILLISECOND));
        harness__pc_token(&extra, timers[i].created_pc);
        harness__buf_puts(&extra, " still running");
        r->leaked_tickers++;
    }
    r->leaked_threads = leaked_threads;
    if (leaked_threads)
        harness__buf_printf(&extra, "%s%u OS thread%s beyond the tasks still running",
                            extra.len ? "; " : "", leaked_threads, leaked_threads == 1 ? "" : "s");
    /* A ThreadSanitizer report starts llvm-symbolizer, whose pipes would
     * look like the program's leaked descriptors: not counted then. */
    if (atomic_load(&f->state->races) == 0) {
        harness_buf fds = {0};
        r->leaked_fds = leaked_fds(f->base, &fds);
        if (r->leaked_fds)
            harness__buf_printf(&extra, "%s%u descriptor%s left open: %s", extra.len ? "; " : "",
                                r->leaked_fds, r->leaked_fds == 1 ? "" : "s", fds.buf ? fds.buf : "?");
        free(fds.buf);
    }
    if (r->leaked_tasks || extra.len) {
        if (msg.len && extra.len)
            harness__buf_puts(&msg, "; ");
        if (extra.len)
            harness__buf_puts(&msg, extra.buf);
        harness__judge(&r->judged, HARNESS_LEAK, msg.buf);
    }
    free(msg.buf);
    free(extra.buf);
}

HARNESS_CODE void harness__collect_measurements(harness_record *r, const harness_run_facts *f, bool judge_marks)
{
    harness_state *s = f->state;
    char msg[256];
    if (s->fail_msg[0])
        harness__judge(&r->judged, HARNESS_WRONG_RESULT, s->fail_msg);
    if (s->resource_msg[0])
        harness__judge(&r->judged, HARNESS_RESOURCE, s->resource_msg);
    for (int i = 0; i < HARNESS_MAX_GAUGES && s->gauges[i].name; i++) {
        harness_gauge *g = &s->gauges[i];
        long peak = atomic_load(&g->peak);
        if (g->bound >= 0 && peak > g->bound) {
            snprintf(msg, sizeof msg, "peak of %ld %s, above the declared bound of %ld",
                     peak, g->name, g->bound);
            harness__judge(&r->judged, HARNESS_RESOURCE, msg);
        }
    }
    for (int i = 0; judge_marks && i < HARNESS_MAX_MARKS && s->marks[i].name; i++) {
        harness_markrec *m = &s->marks[i];
        if (m->at < 0 || m->bound < 0)
            continue;
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        if (q.tasks > 0) {
            snprintf(msg, sizeof msg, "%zu tasks still alive after \"%s\" (bound %lld ms)",
                     q.tasks, m->name, (long long)(m->bound / CSP_MILLISECOND));
            harness__judge(&r->judged, HARNESS_SLOW, msg);
            continue;
        }
        csp_duration gone = f->last_other_exit;
        csp_duration latency = gone > m->at ? gone - m->at : 0;
        if (latency > m->bound) {
            snprintf(msg, sizeof msg, "the other tasks took %.3f ms to finish after \"%s\" "
                     "(bound %.3f ms)", (double)latency / 1e6, m->name, (double)m->bound / 1e6);
            harness__judge(&r->judged, HARNESS_SLOW, msg);
        }
    }
    for (int i = 0; i < HARNESS_MAX_LATENCIES && s->latencies[i].name; i++) {
        harness_latencyrec *l = &s->latencies[i];
        if (l->bound >= 0 && l->worst > l->bound) {
            snprintf(msg, sizeof msg, "%s: worst of %ld latencies %.3f ms (bound %.3f ms)",
                     l->name, l->count, (double)l->worst / 1e6, (double)l->bound / 1e6);
            harness__judge(&r->judged, HARNESS_SLOW, msg);
        }
    }
    unsigned races = atomic_load(&s->races);
    if (races) {
        snprintf(msg, sizeof msg, "%u ThreadSanitizer report%s", races, races == 1 ? "" : "s");
        harness__judge(&r->judged, HARNESS_RACE, msg);
        r->races = races;
    }
    size_t olen = atomic_load(&s->output_len);
    free(r->output);
    r->output = s->output && olen ? strndup(s->output, olen) : NULL;
    r->live_chans = csp_debug_live_chans() - f->base->chans;
}

/* Unlocked: a task stuck inside printf may hold the stream's lock, and the
 * child ends right after anyway. */
HARNESS_CODE void harness__flush_program_output(void)
{
    fflush_unlocked(stdout);
    fflush_unlocked(stderr);
}
