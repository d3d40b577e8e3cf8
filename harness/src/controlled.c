/* controlled.c — controlled mode: many schedules of `entry` in one process
 * (the forked child, or this process), each a fresh world on the fibers
 * backend, each decision made by the strategy (strategy.c). Runs until one
 * shows a bug (or every one has run, with keep_going), then writes the
 * records of the run to report: its verdicts, its dump, and its schedule in
 * both forms.
 *
 * Verdicts of one run:
 *   nothing can run, entry blocked, no timer can wake a task  → DEADLOCK
 *   entry returned, tasks or running tickers left             → LEAK
 *   more than max_steps scheduling points                     → HANG (livelock)
 *   a task ran without reaching a scheduling point for the
 *   wall bound (it spins in plain C)                          → HANG, by SIGALRM
 *   a panic                                                   → PANIC
 *   harness_fail / gauges / marks (virtual time) / TSan       → as in free mode
 *   output differs from the first run's                       → NONDETERMINISTIC */
#include "strategy.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static const harness_child_args *ca;
static harness_state state;
static harness_strategy_state st;
static harness_baseline base;
static csp_duration last_other_exit;
static char panic_msg[512];
static bool panicked;
static volatile sig_atomic_t wall_expired;
static volatile unsigned current_run;

/* ------------------------------------------------------------------ Hooks */

/* Runs in the panicking task's fiber: only records (quietly, for TSan) and
 * ends the run; the dump is taken from the scheduler, where the panicking
 * fiber's stack is walked from its saved context. */
static HARNESS_QUIET CSP_NORETURN void on_panic(const char *msg)
{
    if (!panicked) {
        panicked = true;
        volatile char *d = panic_msg;
        size_t i = 0;
        for (; msg[i] && i + 1 < sizeof panic_msg; i++)
            d[i] = msg[i];
        d[i] = 0;
    }
    csp_sched_abort();
    abort();   /* unreachable: abort from a task does not return */
}

static void on_task_exit(uint64_t id, csp_duration when)
{
    if (id != 1)
        last_other_exit = when;
}

/* ------------------------------------------------------------- Wall bound */

static unsigned alarm_run;

static void put_current_schedule(harness_buf *b)
{
    char *sched = harness__schedule_short(&st);
    char *dec = harness__schedule_explicit(&st);
    harness__buf_puts(b, "schedule\t");
    harness__buf_escaped(b, sched ? sched : "");
    harness__buf_puts(b, "\ndecisions\t");
    harness__buf_escaped(b, dec ? dec : "");
    harness__buf_printf(b, "\ncount\tschedules_run\t%u\n", current_run);
    free(sched);
    free(dec);
}

static volatile sig_atomic_t reporting;   /* the first handler to report wins */

static void write_hang_and_exit(void *ucv)
{
    if (reporting)
        for (;;)
            pause();
    reporting = 1;
    if (ucv) {   /* the task that spins: where the signal interrupted it */
        uintptr_t pcs[CSP_DEBUG_MAX_PCS];
        harness__set_own_stack(pcs, harness__stack_from_ucontext(ucv, pcs, CSP_DEBUG_MAX_PCS));
    }
    harness_buf b = {0};
    harness__put_verdict(&b, HARNESS_HANG, "a task ran past the wall bound without reaching a "
                                           "scheduling point (it computes or spins in plain C)");
    harness__buf_puts(&b, "head\tfatal: wall bound - hang\n");
    harness__write_tasks(&b, false);
    put_current_schedule(&b);
    harness__buf_puts(&b, "end\n");
    if (b.buf)
        harness__write_all(ca->result_fd, b.buf, b.len);
    _exit(0);
}

/* First expiry: stop exploring after this run. Second, a second later with
 * the same run still going: a task is stuck in plain C — report it with its
 * stack (async-signal-unsafe, but the process ends right after), before the
 * parent's SIGQUIT (at the wall bound + 2 s) would. */
static void on_alarm(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    if (!wall_expired) {
        wall_expired = 1;
        alarm_run = current_run;
        alarm(1);
        return;
    }
    if (alarm_run == current_run && csp_debug_current_task() != 0) {
        signal(SIGALRM, SIG_DFL);
        alarm(3);   /* if the dump wedges, SIGALRM's default ends us */
        write_hang_and_exit(ucv);
    }
    alarm_run = current_run;
    alarm(1);
}

static void on_quit(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    signal(SIGALRM, SIG_DFL);
    alarm(3);
    write_hang_and_exit(csp_debug_current_task() != 0 ? ucv : NULL);
}

static void install(int sig, void (*fn)(int, siginfo_t *, void *))
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = fn;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    sigaddset(&sa.sa_mask, SIGALRM);   /* the two never interleave */
    sigaddset(&sa.sa_mask, SIGQUIT);
    sigaction(sig, &sa, NULL);
}

/* -------------------------------------------------------------- One run */

typedef struct {
    harness_buf rec;     /* the records of this run, without "end" */
    unsigned seen;
    bool failed;
} run_report;

static void put_schedule(harness_buf *b, const csp_run_stats *stats)
{
    char *sched = harness__schedule_short(&st);
    char *dec = harness__schedule_explicit(&st);
    harness__buf_puts(b, "schedule\t");
    harness__buf_escaped(b, sched ? sched : "");
    harness__buf_puts(b, "\ndecisions\t");
    harness__buf_escaped(b, dec ? dec : "");
    harness__buf_printf(b, "\ncount\tsteps\t%llu\ncount\tvirtual_time\t%lld\n",
                        (unsigned long long)stats->steps, (long long)stats->virtual_now);
    free(sched);
    free(dec);
}

static unsigned verdict_bits(const char *rec)
{
    unsigned bits = 0;
    for (const char *p = rec; p && (p = strstr(p, "verdict\t")); p += 8)
        if (p == rec || p[-1] == '\n') {
            char name[32];
            size_t n = strcspn(p + 8, "\t\n");
            if (n < sizeof name) {
                memcpy(name, p + 8, n);
                name[n] = 0;
                int v = harness_verdict_parse(name);
                if (v >= 0)
                    bits |= 1u << v;
            }
        }
    return bits;
}

static void evaluate(run_report *r, csp_run_end end, const csp_run_stats *stats,
                     const char *first_output)
{
    harness_buf *b = &r->rec;
    char msg[256];
    if (panicked) {
        harness__put_verdict(b, HARNESS_PANIC, panic_msg);
        harness__buf_printf(b, "head\tpanic: ");
        harness__buf_escaped(b, panic_msg);
        harness__buf_puts(b, "\n");
        harness__write_tasks(b, false);
    } else if (end == CSP_RUN_DEADLOCK) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        snprintf(msg, sizeof msg, "all tasks are asleep - deadlock! (%zu task%s)", q.tasks,
                 q.tasks == 1 ? "" : "s");
        harness__put_verdict(b, HARNESS_DEADLOCK, msg);
        harness__buf_puts(b, "head\tfatal: all tasks are asleep - deadlock!\n");
        harness__write_tasks(b, false);
    } else if (end == CSP_RUN_STEPS) {
        snprintf(msg, sizeof msg, "more than %llu scheduling points without ending (a livelock, "
                 "or a busy loop)", (unsigned long long)ca->o->max_steps);
        harness__put_verdict(b, HARNESS_HANG, msg);
        harness__buf_puts(b, "head\tfatal: step bound - hang\n");
        harness__write_tasks(b, false);
    } else if (end == CSP_RUN_QUIESCENT || end == CSP_RUN_HORIZON) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        if (q.tasks > 0) {
            harness__buf_puts(b, end == CSP_RUN_HORIZON
                ? "head\tleak: tasks still running after the entry returned (virtual-time horizon)\n"
                : "head\tleak: tasks still alive after the entry returned\n");
            harness__write_tasks(b, false);
            harness__buf_puts(b, "leak\tall\n");
        }
        csp_debug_timer timers[64];
        size_t nt = csp_debug_timers(timers, 64);
        for (size_t i = 0; i < nt && i < 64; i++)
            if (timers[i].period > 0)
                harness__buf_printf(b, "ticker\t%lx\t%lld\n", (unsigned long)timers[i].created_pc,
                                    (long long)(timers[i].period / CSP_MILLISECOND));
    }
    harness__put_measurements(b, &state, !panicked && end != CSP_RUN_DEADLOCK && end != CSP_RUN_STEPS,
                              last_other_exit, base.chans);
    harness__put_leaked_fds(b, &base);
    /* Output compared across schedules. */
    size_t olen = atomic_load(&state.output_len);
    const char *out = state.output && olen ? state.output : "";
    if (state.output)
        state.output[olen] = 0;
    if (first_output && strcmp(first_output, out) != 0)
        harness__put_verdict(b, HARNESS_NONDETERMINISTIC,
                             "output differs from the first schedule's");
    r->seen = verdict_bits(b->buf);
    /* Leak records become LEAK only after the ignore list (render.c); judge
     * them here as the parent will, on a copy. */
    if (b->buf && (strstr(b->buf, "leak\tall\n") || strstr(b->buf, "ticker\t") ||
                   strstr(b->buf, "leaked_fds"))) {
        char *copy = strdup(b->buf);
        harness_outcome oc = {0};
        if (copy)
            harness__parse_records(copy, ca->o, &oc);
        r->seen |= oc.seen;
        harness__outcome_free(&oc);
        free(copy);
    }
    r->failed = r->seen != 0;
    put_schedule(b, stats);
}

static void reset_run_state(void)
{
    char *out = state.output;
    memset(&state, 0, sizeof state);
    state.output = out;
    for (int i = 0; i < HARNESS_MAX_GAUGES; i++)
        state.gauges[i].bound = -1;
    for (int i = 0; i < HARNESS_MAX_MARKS; i++)
        state.marks[i].at = state.marks[i].bound = -1;
    last_other_exit = 0;
    panicked = false;
}

/* ---------------------------------------------------------------- Driver */

void harness__controlled_run(const harness_child_args *a)
{
    ca = a;
    const harness_options *o = a->o;
    harness__strategy_init(&st, o);
    harness_buf out = {0};
    if (o->replay) {
        const char *err = harness__schedule_parse(o->replay, &st);
        if (err) {   /* run.c checks this before forking; belt and braces */
            harness__buf_puts(&out, "error\t");
            harness__buf_escaped(&out, err);
            harness__buf_puts(&out, "\nend\n");
            harness__write_all(a->result_fd, out.buf, out.len);
            free(out.buf);
            harness__strategy_free(&st);
            return;
        }
    }
    harness__state_init(&state);
    harness__state = &state;
    csp_debug_set_panic_hook(on_panic);
    csp_debug_set_task_exit_hook(on_task_exit);
    harness__sanitizer_warmup();
    harness__take_baseline(&base);
    if (a->forked) {
        harness__install_crash_handlers(a->result_fd, NULL, put_current_schedule);
        install(SIGALRM, on_alarm);
        install(SIGQUIT, on_quit);
        if (o->timeout > 0) {
            struct itimerval it = { { 0, 0 }, { (time_t)(o->timeout / CSP_SECOND),
                                                (suseconds_t)(o->timeout % CSP_SECOND / 1000) } };
            if (!it.it_value.tv_sec && !it.it_value.tv_usec)
                it.it_value.tv_usec = 1;
            setitimer(ITIMER_REAL, &it, NULL);
        }
    }

    csp_run_limits limits = { o->max_steps, o->horizon > 0 ? o->horizon : 3600 * CSP_SECOND };
    unsigned runs = o->replay ? 1 : o->schedules;
    char *first_output = NULL;
    run_report report = {0};     /* the run to report: the first that failed, else the last */
    unsigned seen_all = 0, ran = 0;
    bool exhausted = false, have_failure = false;
    const char *error = NULL;
    for (unsigned i = 1; i <= runs && !wall_expired; i++) {
        current_run = i;
        reset_run_state();
        harness__strategy_begin_run(&st, st.replay_run ? st.replay_run : i);
        csp_run_stats stats;
        csp_run_end end = csp_sched_run(a->entry, a->arg, &st.hooks, &limits, &stats);
        ran++;
        if (!st.error && st.replaying_explicit && st.ndec < st.nprefix) {
            snprintf(st.errbuf, sizeof st.errbuf,
                     "the schedule does not fit the program: the run ended after %zu "
                     "decisions, the schedule has %zu", st.ndec, st.nprefix);
            st.error = st.errbuf;
        }
        if (st.error) {
            error = st.error;
            csp_sched_reset();
            break;
        }
        run_report r = {0};
        evaluate(&r, end, &stats, first_output);
        csp_sched_reset();
        if (!first_output) {
            size_t olen = atomic_load(&state.output_len);
            first_output = strndup(state.output ? state.output : "", olen);
        }
        seen_all |= r.seen;
        bool more = harness__strategy_end_run(&st);
        if (r.failed && !have_failure) {
            free(report.rec.buf);
            report = r;
            have_failure = true;
        } else if (!have_failure) {
            free(report.rec.buf);
            report = r;      /* the last run so far */
        } else {
            free(r.rec.buf);
        }
        if (!more) {
            exhausted = true;
            break;
        }
        if (have_failure && !o->keep_going)
            break;
    }
    if (o->timeout > 0 && a->forked) {
        struct itimerval off = {0};
        setitimer(ITIMER_REAL, &off, NULL);
    }
    if (error) {
        harness__buf_puts(&out, "error\t");
        harness__buf_escaped(&out, error);
        harness__buf_puts(&out, "\n");
    } else {
        harness__buf_puts(&out, report.rec.buf ? report.rec.buf : "");
        /* Verdicts other schedules showed, so that `seen` holds them all. */
        for (int v = 1; v < HARNESS_VERDICT_COUNT; v++)
            if ((seen_all & ~report.seen) & (1u << v))
                harness__buf_printf(&out, "seen\t%s\n", harness_verdict_name((harness_verdict)v));
    }
    harness__buf_printf(&out, "count\tschedules_run\t%u\n", ran);
    if (exhausted && !have_failure)
        harness__buf_puts(&out, "exhausted\t1\n");
    if (wall_expired && !have_failure)
        harness__buf_puts(&out, "wall\t1\n");
    harness__buf_puts(&out, "end\n");
    harness__write_all(a->result_fd, out.buf, out.len);
    free(out.buf);
    free(report.rec.buf);
    free(first_output);
    reset_run_state();
    csp_debug_set_panic_hook(NULL);
    csp_debug_set_task_exit_hook(NULL);
    harness__state = NULL;
    harness__state_destroy(&state);
    harness__strategy_free(&st);
}
