/* crash.c — fatal signals in a forked run (collect.h): CRASH, with the
 * crashing task's stack taken from where the signal interrupted it, or —
 * when the program declared that abort() is how its test framework reports
 * a failed assertion (harness_abort_is_failure) — WRONG_RESULT, whose message
 * the parent takes from the log the framework wrote it to.
 *
 * Not async-signal-safe (it allocates): the process ends right after, and
 * alarm() bounds it if a lock held at the crash wedges it. */
#include "collect.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int crash_fd = -1;
static const harness_run_facts *crash_facts;
static bool (*crash_claim)(void);
static void (*crash_extra)(harness_record *r);
static char altstack[64 << 10];

static void on_crash(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (crash_claim && !crash_claim())
        for (;;)
            pause();
    alarm(3);
    uintptr_t pcs[CSP_DEBUG_MAX_PCS];
    harness__set_own_stack(pcs, harness__stack_from_ucontext(ucv, pcs, CSP_DEBUG_MAX_PCS));
    harness_record r = {0};
    char head[256], msg[96];
    bool assertion = sig == SIGABRT && harness__state && atomic_load(&harness__state->abort_is_failure);
    if (assertion) {
        snprintf(head, sizeof head, "fatal: a failed assertion (the test framework called abort)");
        harness__judge(&r.judged, HARNESS_WRONG_RESULT, "a failed assertion (the test framework called abort)");
        r.message_from_log = true;
    } else {
        snprintf(head, sizeof head, "fatal: signal %d (%s) in %s", sig, strsignal(sig),
                 csp_debug_current_task() ? "a task" : "a thread that is not a task (the harness, "
                                                       "the runtime, or the program's own)");
        snprintf(msg, sizeof msg, "signal %s", strsignal(sig));
        harness__judge(&r.judged, HARNESS_CRASH, msg);
        r.signal = sig;
    }
    r.head = head;   /* on this stack: the process ends without freeing r */
    if (crash_facts && harness__state)
        harness__collect_measurements(&r, crash_facts, false);
    harness__snapshot_tasks(&r, false);
    if (crash_extra)
        crash_extra(&r);
    harness__record_send(crash_fd, &r);
    _exit(0);
}

void harness__install_crash_handlers(int fd, const harness_run_facts *f, bool (*claim)(void),
                                     void (*extra)(harness_record *r))
{
    crash_fd = fd;
    crash_facts = f;
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
