/* crash.c — fatal signals in a forked run (collect.h): CRASH, with the
 * crashing task's stack taken from where the signal interrupted it, or —
 * when the program declared that abort() is how its test framework reports
 * a failed assertion (harness_abort_is_failure) — WRONG_RESULT, whose message
 * the parent takes from the log the framework wrote it to.
 *
 * Not async-signal-safe (it allocates): the process ends right after, and
 * alarm() bounds it if a lock held at the crash wedges it. */
#include "quiet.h"
#include "collect.h"

#include <dlfcn.h>
#include <execinfo.h>
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

/* The base of the module that holds address p, or NULL. */
static HARNESS_CODE const void *module_of(const void *p)
{
    Dl_info info;
    return p && dladdr(p, &info) ? info.dli_fbase : NULL;
}

/* An abort()'s stack: the frame-pointer walk from the signal's context
 * stops inside libc (built without frame pointers), so unwind with CFI
 * (glibc's backtrace) instead, from the frame the signal interrupted, and
 * leave out the leading frames of libc (raise, abort) and of the test
 * framework that called it (the module holding cmocka's _fail, if loaded):
 * the first frame shown is the program's. */
static HARNESS_CODE int abort_stack(void *ucv, uintptr_t *pcs, int max)
{
    void *raw[64];
    int n = backtrace(raw, 64);
    uintptr_t interrupted = 0;
#if defined(__x86_64__)
    interrupted = (uintptr_t)((ucontext_t *)ucv)->uc_mcontext.gregs[REG_RIP];
#endif
    int i = 0;
    while (i < n && (uintptr_t)raw[i] != interrupted)
        i++;
    if (i == n)
        i = 0;
    const void *libc = module_of((const void *)abort);
    const void *framework = module_of(dlsym(RTLD_DEFAULT, "_fail"));
    while (i < n - 1) {
        const void *m = module_of(raw[i]);
        if (m != libc && (!framework || m != framework))
            break;
        i++;
    }
    int k = 0;
    for (; i < n && k < max; i++)
        pcs[k++] = (uintptr_t)raw[i];
    return k;
}

static HARNESS_CODE void on_crash(int sig, siginfo_t *si, void *ucv)
{
    (void)si;
    if (crash_claim && !crash_claim())
        for (;;)
            pause();
    alarm(3);
    uintptr_t pcs[CSP_DEBUG_MAX_PCS];
    int npcs = sig == SIGABRT ? abort_stack(ucv, pcs, CSP_DEBUG_MAX_PCS) : 0;
    if (npcs == 0)
        npcs = harness__stack_from_ucontext(ucv, pcs, CSP_DEBUG_MAX_PCS);
    harness__set_own_stack(pcs, npcs);
    harness_record r = {0};
    char head[256], msg[96];
    bool assertion = sig == SIGABRT && harness__abort_is_failure();
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
    /* What the program printed and stdio still holds goes to the log too
     * (controlled runs do not flush every line): after the record, so that
     * a stream the crash left broken cannot cost the record. */
    harness__flush_program_output();
    _exit(0);
}

HARNESS_CODE void harness__install_crash_handlers(int fd, const harness_run_facts *f, bool (*claim)(void),
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
