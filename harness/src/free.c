/* free.c — free mode's driver: one run of `entry` on real threads, observed,
 * in a forked child (the default) or in this process. The calling thread is
 * the monitor: it is not a task, so it never counts as blocked or running;
 * `entry` runs as a task of its own.
 *
 * The monitor polls the runtime's quiescence snapshot every few ms:
 *   - every task parked, none in a declared syscall, and no armed timer that
 *     could wake one, seen unchanged (progress included) for 3 polls in a row
 *     → DEADLOCK ("all tasks are asleep - deadlock!");
 *   - progress unchanged for hang_after, with no task in a syscall → HANG;
 *   - wall time past the timeout, or SIGQUIT from the parent → HANG.
 * After entry returns it waits (bounded by leak_grace) until the remaining
 * tasks are gone or provably stuck, then collects what is left (evidence.c).
 *
 * Whoever finishes the run first (monitor, a panicking task, a crash handler)
 * claims `finishing`, judges the run and sends its one record. */
#include "quiet.h"
#include "drivers.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

static const harness_child_args *ca;
static harness_state state;
static harness_baseline base;
static harness_run_facts facts;
static _Atomic int finishing;
static _Atomic int entry_done;
static _Atomic uint64_t entry_task_id;
static _Atomic int quit_requested;
static _Atomic csp_duration last_other_exit;   /* last exit of a task other than entry */
/* In-process runs: set when a task finished the run (panic). */
static _Atomic int finished_in_task;

static HARNESS_CODE csp_duration wall_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (csp_duration)ts.tv_sec * CSP_SECOND + ts.tv_nsec;
}

static HARNESS_CODE void sleep_ns(long ns)
{
    struct timespec ts = { ns / 1000000000, ns % 1000000000 };
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}

static HARNESS_CODE bool claim(void)
{
    int expected = 0;
    return atomic_compare_exchange_strong(&finishing, &expected, 1);
}

/* Ends the run now with verdict v: the measurements so far, the dump. */
static HARNESS_CODE void finish_now(harness_verdict v, const char *head, const char *msg, bool ask_running)
{
    harness_record r = {0};
    harness__judge(&r.judged, v, msg);
    facts.last_other_exit = atomic_load(&last_other_exit);
    harness__collect_measurements(&r, &facts, false);
    r.head = strdup(head);
    harness__snapshot_tasks(&r, ask_running);
    if (ca->forked && ca->o->events)
        harness__record_take_events(&r, ca->o->events);
    harness__record_send(ca->result_fd, &r);
    harness__record_free(&r);
}

static HARNESS_CODE void end_process_or_block(void)
{
    if (ca->forked) {
        harness__flush_program_output();
        _exit(0);
    }
    csp_tool_release(&finished_in_task);   /* the monitor reads what this task wrote */
    atomic_store(&finished_in_task, 1);
    for (;;)
        pause();   /* in-process: this task's thread stays parked for good */
}

/* ------------------------------------------------------------------ Hooks */

static HARNESS_QUIET CSP_NORETURN void on_panic(const char *msg)
{
    if (!claim())
        for (;;)
            pause();
    char head[600];
    snprintf(head, sizeof head, "panic: %s", msg);
    finish_now(HARNESS_PANIC, head, msg, ca->forked);
    end_process_or_block();
    abort();
}

static HARNESS_QUIET void on_task_exit(uint64_t id, csp_duration when)
{
    if (id != atomic_load(&entry_task_id))
        atomic_store(&last_other_exit, when);
}

static HARNESS_CODE void on_quit(int sig)
{
    (void)sig;
    atomic_store(&quit_requested, 1);
}

static HARNESS_CODE void install_child_signals(void)
{
    harness__install_crash_handlers(ca->result_fd, &facts, claim, NULL);
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_quit;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGQUIT, &sa, NULL);
}

/* ------------------------------------------------------------- Entry task */

/* Runs as a task: it reads the run's arguments, which this thread wrote
 * before spawning it, without TSan seeing two unordered tasks' accesses. */
static HARNESS_QUIET void entry_task(void *arg)
{
    (void)arg;
    atomic_store(&entry_task_id, csp_task_id(csp_self()));
    ca->entry(ca->arg);
    atomic_store(&entry_done, 1);
}

/* ------------------------------------------------------------- Monitor */

#define POLL_NS (2 * 1000 * 1000)

static HARNESS_CODE bool stuck_for_good(const csp_debug_quiet *q)
{
    return q->tasks > 0 && q->running == 0 && q->syscalls == 0 && q->wakeable_timers == 0;
}

/* Watches the running program until entry returns (true) or the run ends
 * with a verdict (false). */
static HARNESS_CODE bool monitor_until_entry_returns(void)
{
    const harness_options *o = ca->o;
    csp_duration start = wall_now(), last_change = start;
    uint64_t last_progress = UINT64_MAX;
    int stable = 0;
    for (;;) {
        if (atomic_load(&entry_done))
            return true;
        if (atomic_load(&finished_in_task)) {
            csp_tool_acquire(&finished_in_task);
            return false;
        }
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        csp_duration now = wall_now();
        if (q.progress != last_progress) {
            last_progress = q.progress;
            last_change = now;
            stable = 0;
        }
        char msg[256];
        if (stuck_for_good(&q) && ++stable >= 3) {
            if (atomic_load(&entry_done))
                return true;
            if (claim()) {
                snprintf(msg, sizeof msg, "all tasks are asleep - deadlock! (%zu task%s)",
                         q.tasks, q.tasks == 1 ? "" : "s");
                finish_now(HARNESS_DEADLOCK, "fatal: all tasks are asleep - deadlock!", msg, true);
            }
            return false;
        }
        if (!stuck_for_good(&q))
            stable = 0;
        const char *why = NULL;
        if (q.syscalls == 0 && o->hang_after > 0 && now - last_change > o->hang_after) {
            snprintf(msg, sizeof msg, "no progress for %.1f s (%zu running, %zu blocked)",
                     (double)(now - last_change) / 1e9, q.running, q.parked);
            why = "fatal: no progress - hang";
        } else if (o->timeout > 0 && now - start > o->timeout) {
            snprintf(msg, sizeof msg, "still running at the wall bound of %.1f s",
                     (double)o->timeout / 1e9);
            why = "fatal: timeout - hang";
        } else if (atomic_load(&quit_requested)) {
            snprintf(msg, sizeof msg, "stopped by the harness (SIGQUIT) after %.1f s",
                     (double)(now - start) / 1e9);
            why = "fatal: SIGQUIT - hang";
        }
        if (why) {
            if (claim())
                finish_now(HARNESS_HANG, why, msg, true);
            return false;
        }
        sleep_ns(POLL_NS);
    }
}

/* OS threads beyond the tasks and the runtime's own. Task threads that just
 * finished may still be tearing down: asked again for up to 100 ms. */
static HARNESS_CODE unsigned extra_threads(void)
{
    int extra = 0;
    for (int tries = 0; tries < 50; tries++) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        int runtime_delta = csp_debug_runtime_threads() - base.runtime_threads;
        extra = harness__count_threads() - base.threads - runtime_delta - (int)q.tasks;
        if (extra <= 0)
            return 0;
        sleep_ns(2 * 1000 * 1000);
    }
    return (unsigned)extra;
}

/* After entry returned: wait for the others to finish or be provably stuck
 * (bounded by leak_grace), then judge what is left. */
static HARNESS_CODE void leak_check(void)
{
    csp_duration deadline = wall_now() + ca->o->leak_grace;
    uint64_t last_progress = UINT64_MAX;
    int stable = 0;
    for (;;) {
        csp_debug_quiet q;
        csp_debug_quiescence(&q, NULL);
        if (q.tasks == 0)
            break;
        if (stuck_for_good(&q) && q.progress == last_progress) {
            if (++stable >= 2)
                break;
        } else {
            stable = 0;
        }
        last_progress = q.progress;
        if (wall_now() > deadline)
            break;
        sleep_ns(1000 * 1000);
    }
    if (!claim())
        return;
    harness_record r = {0};
    facts.last_other_exit = atomic_load(&last_other_exit);
    harness__collect_leaks(&r, &facts, "leak: tasks still alive after the entry returned", true,
                           extra_threads());
    harness__collect_measurements(&r, &facts, true);
    if (ca->forked && ca->o->events)
        harness__record_take_events(&r, ca->o->events);
    harness__record_send(ca->result_fd, &r);
    harness__record_free(&r);
}

/* -------------------------------------------------------------- The run */

HARNESS_CODE void harness__free_run(const harness_child_args *a)
{
    ca = a;
    atomic_store(&finishing, 0);
    atomic_store(&entry_done, 0);
    atomic_store(&finished_in_task, 0);
    atomic_store(&quit_requested, 0);
    atomic_store(&last_other_exit, 0);
    harness__state_init(&state);
    harness__state = &state;
    facts = (harness_run_facts){ a->o, a->ignore, &state, &base, 0 };
    if (a->forked) {
        install_child_signals();
        if (a->o->fd_limit > 0) {
            struct rlimit rl = { (rlim_t)a->o->fd_limit, (rlim_t)a->o->fd_limit };
            setrlimit(RLIMIT_NOFILE, &rl);
        }
    }
    csp_debug_set_panic_hook(on_panic);
    csp_debug_set_task_exit_hook(on_task_exit);
    /* Run 1 is plain; later runs of a search get the seeded noise. */
    csp_debug_set_noise(a->run > 1 ? a->o->noise : 0);
    csp_debug_set_seed(a->o->seed * 0x9e3779b97f4a7c15ull + a->run);
    harness__sanitizer_warmup();
    harness__take_baseline(&base);

    if (a->forked && a->o->events)   /* in process, leaked tasks would outlive the ring */
        csp_debug_events_start(a->o->events);
    csp_go(entry_task, NULL, "main");
    if (monitor_until_entry_returns())
        leak_check();

    csp_debug_set_noise(0);
    csp_debug_set_task_exit_hook(NULL);
    if (a->forked) {
        harness__flush_program_output();
        _exit(0);
    }
    csp_debug_set_panic_hook(NULL);
    harness__state = NULL;
    harness__state_destroy(&state);
}
