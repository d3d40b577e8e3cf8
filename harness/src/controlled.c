/* controlled.c — controlled mode's driver: many schedules of `entry` in one
 * process (the forked child, or this process), each a fresh world on the
 * fibers backend, each decision made by the strategy (strategy.c). Runs until
 * one shows a bug (or every one has run, with keep_going) and sends the
 * record of the run to report: the first that failed, else the last.
 *
 * Each schedule is judged here, where the facts are, into its own record:
 *   nothing can run, entry blocked, no timer can wake a task  → DEADLOCK
 *   entry returned, tasks or running tickers left             → LEAK (evidence.c)
 *   more than max_steps scheduling points                     → HANG (livelock)
 *   a task ran without reaching a scheduling point for the
 *   wall bound (it spins in plain C)                          → HANG, by SIGALRM
 *   a panic                                                   → PANIC
 *   harness_fail / gauges / marks (virtual time) / TSan       → as in free mode
 *   output differs from the first schedule's                  → NONDETERMINISTIC
 * A passing schedule costs no snapshot and no schedule string: those are made
 * only for the record that is sent. */
#include "quiet.h"
#include "drivers.h"
#include "strategy.h"

#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

static const harness_child_args *ca;
static harness_state state;
static harness_strategy_state st;
static harness_baseline base;
static harness_run_facts facts;
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

static HARNESS_CODE void on_task_exit(uint64_t id, csp_duration when)
{
    if (id != 1)
        facts.last_other_exit = when;
}

/* The schedule of the run in progress (or just ended), in both forms. */
static HARNESS_CODE void put_schedule(harness_record *r)
{
    free(r->schedule);
    free(r->decisions);
    r->schedule = harness__schedule_short(&st);
    r->decisions = harness__schedule_explicit(&st);
    r->schedules_run = current_run;
}

/* ------------------------------------------------------------- Wall bound */

static unsigned alarm_run;
static volatile sig_atomic_t reporting;   /* the first handler to report wins */

static HARNESS_CODE void send_hang_and_exit(void *ucv)
{
    if (reporting)
        for (;;)
            pause();
    reporting = 1;
    if (ucv) {   /* the task that spins: where the signal interrupted it */
        uintptr_t pcs[CSP_DEBUG_MAX_PCS];
        harness__set_own_stack(pcs, harness__stack_from_ucontext(ucv, pcs, CSP_DEBUG_MAX_PCS));
    }
    harness_record r = {0};
    harness__judge(&r.judged, HARNESS_HANG, "a task ran past the wall bound without reaching a "
                                            "scheduling point (it computes or spins in plain C)");
    r.head = strdup("fatal: wall bound - hang");
    harness__snapshot_tasks(&r, false);
    put_schedule(&r);
    harness__record_send(ca->result_fd, &r);
    harness__flush_program_output();   /* after the record (crash.c says why) */
    _exit(0);
}

/* First expiry: stop exploring after this run. Second, a second later with
 * the same run still going: a task is stuck in plain C — report it with its
 * stack (async-signal-unsafe, but the process ends right after), before the
 * parent's SIGQUIT (at the wall bound + 2 s) would. */
static HARNESS_CODE void on_alarm(int sig, siginfo_t *si, void *ucv)
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
        send_hang_and_exit(ucv);
    }
    alarm_run = current_run;
    alarm(1);
}

static HARNESS_CODE void on_quit(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    signal(SIGALRM, SIG_DFL);
    alarm(3);
    send_hang_and_exit(csp_debug_current_task() != 0 ? ucv : NULL);
}

static HARNESS_CODE void install(int sig, void (*fn)(int, siginfo_t *, void *))
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

/* The crash record of a schedule carries the schedule that crashed. */
static HARNESS_CODE void crash_extra(harness_record *r) { put_schedule(r); }

/* -------------------------------------------------------------- One run */

static HARNESS_CODE void judge_schedule(harness_record *r, csp_run_end end, const csp_run_stats *stats,
                           const char *first_output)
{
    char msg[sizeof panic_msg + 16];
    if (panicked) {
        harness__judge(&r->judged, HARNESS_PANIC, panic_msg);
        snprintf(msg, sizeof msg, "panic: %s", panic_msg);
        r->head = strdup(msg);
        harness__snapshot_tasks(r, false);
    } else if (end == CSP_RUN_DEADLOCK) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        snprintf(msg, sizeof msg, "all tasks are asleep - deadlock! (%zu task%s)", q.tasks,
                 q.tasks == 1 ? "" : "s");
        harness__judge(&r->judged, HARNESS_DEADLOCK, msg);
        r->head = strdup("fatal: all tasks are asleep - deadlock!");
        harness__snapshot_tasks(r, false);
    } else if (end == CSP_RUN_STEPS) {
        /* Past max_steps the strategy hands over to fair continuation
         * (strategy.c): only a run that does not end under a fair scheduler
         * either is a livelock. */
        snprintf(msg, sizeof msg, "more than %llu scheduling points without ending, nor in %llu "
                 "more under a fair scheduler (a livelock, or a busy loop)",
                 (unsigned long long)ca->o->max_steps, (unsigned long long)st.fair_steps);
        harness__judge(&r->judged, HARNESS_HANG, msg);
        r->head = strdup("fatal: step bound - hang");
        harness__snapshot_tasks(r, false);
    } else if (end == CSP_RUN_QUIESCENT || end == CSP_RUN_HORIZON) {
        harness__collect_leaks(r, &facts, end == CSP_RUN_HORIZON
            ? "leak: tasks still running after the entry returned (virtual-time horizon)"
            : "leak: tasks still alive after the entry returned", false, 0);
    }
    harness__collect_measurements(r, &facts, !panicked && end != CSP_RUN_DEADLOCK && end != CSP_RUN_STEPS);
    if (first_output && strcmp(first_output, r->output ? r->output : "") != 0)
        harness__judge(&r->judged, HARNESS_NONDETERMINISTIC, "output differs from the first schedule's");
    r->steps = stats->steps;
    r->virtual_time = stats->virtual_now;
}

/* ---------------------------------------------------------------- Driver */

static HARNESS_CODE void arm_wall_bound(const harness_options *o)
{
    harness__install_crash_handlers(ca->result_fd, &facts, NULL, crash_extra);
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

static HARNESS_CODE void disarm_wall_bound(void)
{
    struct itimerval off = {0};
    setitimer(ITIMER_REAL, &off, NULL);
}

HARNESS_CODE void harness__controlled_run(const harness_child_args *a)
{
    ca = a;
    const harness_options *o = a->o;
    harness_record report = {0};   /* the run to report: the first that failed, else the last */
    harness_record last_pass = {0};/* reduced EXHAUSTIVE: the last judged run, in case the search
                                      ends on a pruned one */
    harness__strategy_init(&st, o);
    const char *err = o->replay ? harness__schedule_parse(o->replay, &st) : NULL;
    if (err) {   /* run.c checks this before forking; here for in-process callers too */
        report.error = strdup(err);
        harness__record_send(a->result_fd, &report);
        harness__record_free(&report);
        harness__strategy_free(&st);
        return;
    }
    harness__state_init(&state);
    harness__state = &state;
    facts = (harness_run_facts){ o, a->ignore, &state, &base, 0 };
    csp_debug_set_panic_hook(on_panic);
    csp_debug_set_task_exit_hook(on_task_exit);
    harness__sanitizer_warmup();
    harness__take_baseline(&base);
    if (a->forked)
        arm_wall_bound(o);
    if (o->events)
        csp_debug_events_start(o->events);

    csp_run_limits limits = { harness__strategy_step_limit(&st), o->horizon > 0 ? o->horizon : 3600 * CSP_SECOND,
                              o->timer_window };
    unsigned runs = o->replay ? 1 : o->schedules;
    char *first_output = NULL;
    harness_judgement all = {0};   /* every schedule's verdicts */
    bool exhausted = false, have_failure = false;
    unsigned ran = 0, pruned = 0, redone = 0;
    for (unsigned i = 1; i <= runs && !wall_expired; i++) {
        current_run = i;
        harness__state_reset(&state);
        facts.last_other_exit = 0;
        panicked = false;
        harness__strategy_begin_run(&st, st.replay_run ? st.replay_run : i);
        if (o->events)
            csp_debug_events_clear();
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
            free(report.error);
            report.error = strdup(st.error);
            csp_sched_reset();
            break;
        }
        if (harness__strategy_redundant(&st)) {
            /* The reduction cut it short: an equivalent schedule has run or
             * will. Not judged, not a schedule. */
            csp_sched_reset();
            ran--;
            pruned++;
            if (!harness__strategy_end_run(&st)) {
                exhausted = true;
                break;
            }
            if (st.restarted)
                redone = ran;
            continue;
        }
        harness_record r = {0};
        judge_schedule(&r, end, &stats, first_output);
        /* The timeline of a run that may be the one reported (its texts
         * live only as long as its objects): the first failure, or the last
         * run — which EXHAUSTIVE only knows once it has run, so there every
         * run copies its events. */
        if (o->events && !have_failure &&
            (r.judged.seen || i == runs || wall_expired || o->strategy == HARNESS_EXHAUSTIVE))
            harness__record_take_events(&r, o->events);
        csp_sched_reset();
        if (!first_output)
            first_output = strdup(r.output ? r.output : "");
        harness__judge_merge(&all, &r.judged);
        bool failed = r.judged.seen != 0;
        bool more = harness__strategy_end_run(&st);
        if (st.restarted)
            redone = ran;   /* judged, but the search begins again */
        exhausted = !more;
        bool last = !more || i == runs || wall_expired || (failed && !o->keep_going);
        if (failed && !have_failure) {
            put_schedule(&r);
            harness__record_free(&report);
            report = r;
            have_failure = true;
        } else if (!have_failure && last) {
            put_schedule(&r);
            harness__record_free(&report);
            report = r;
        } else if (st.dpor && !have_failure) {
            put_schedule(&r);   /* its replay, should the search end on a pruned run */
            harness__record_free(&last_pass);
            last_pass = r;
        } else {
            harness__record_free(&r);
        }
        if (!more || (have_failure && !o->keep_going))
            break;
    }
    if (a->forked && o->timeout > 0)
        disarm_wall_bound();
    if (o->events)
        csp_debug_events_start(0);
    if (!report.error && !have_failure && !report.schedules_run && !report.schedule && ran > 0) {
        harness__record_free(&report);   /* the search ended on a pruned run */
        report = last_pass;
        last_pass = (harness_record){0};
    }
    harness__record_free(&last_pass);
    if (!report.error) {
        /* The reported run's verdict and message; `seen` holds every schedule's. */
        report.judged.seen |= all.seen;
        report.schedules_run = ran;
        report.exhausted = exhausted;
        report.schedules_pruned = pruned;
        report.schedules_redone = redone;
        report.wall = wall_expired && !have_failure;
    }
    harness__record_send(a->result_fd, &report);
    harness__record_free(&report);
    harness__judgement_free(&all);
    free(first_output);
    csp_debug_set_panic_hook(NULL);
    csp_debug_set_task_exit_hook(NULL);
    harness__state = NULL;
    harness__state_destroy(&state);
    harness__strategy_free(&st);
}
