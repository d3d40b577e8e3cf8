/* snapshot.c — every task of the run, with its stack, into the record: parked
 * tasks from their park records, the calling task from its own frames, and
 * running tasks on other threads by signalling them (as Go's SIGQUIT dump
 * does).
 *
 * Stack requests: the requester fills a slot with the target's tid and task
 * id and sends HARNESS_SIG_STACK to that thread; the handler, if that task is
 * still the one running there (a pooled thread may have moved on to another
 * task), walks its own frame pointers
 * from the interrupted context into the slot and sets `done`. The requester
 * waits a bounded time; a thread that does not answer (TSan defers signals
 * until an interceptor runs) is also asked to answer at its next runtime call
 * (csp_debug_stack_request), and is shown without a stack otherwise. */
#include "quiet.h"
#include "collect.h"

#include <errno.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <ucontext.h>
#include <unistd.h>

/* ------------------------------------------------------- Stacks by signal */

#define HARNESS_SIG_STACK (SIGRTMIN + 3)
#define MAX_TASKS 512

typedef struct {
    _Atomic int tid;
    _Atomic uint64_t task;
    _Atomic int done;
    int n;
    uintptr_t pcs[CSP_DEBUG_MAX_PCS];
} stack_req;

static stack_req req;            /* one request at a time (the dumper is single) */
static bool handler_installed;

HARNESS_QUIET int harness__stack_from_ucontext(void *ucv, uintptr_t *pcs, int max)
{
    ucontext_t *uc = ucv;
    uintptr_t pc = 0, fp = 0;
#if defined(__x86_64__)
    pc = (uintptr_t)uc->uc_mcontext.gregs[REG_RIP];
    fp = (uintptr_t)uc->uc_mcontext.gregs[REG_RBP];
#elif defined(__aarch64__)
    pc = (uintptr_t)uc->uc_mcontext.pc;
    fp = (uintptr_t)uc->uc_mcontext.regs[29];
#else
    (void)uc;
#endif
    return pc ? csp_debug_stack_from(pc, fp, pcs, max) : 0;
}

static HARNESS_QUIET void stack_signal(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    int saved = errno;
    if (atomic_load(&req.tid) != (int)syscall(SYS_gettid) ||
        atomic_load(&req.task) != csp_debug_current_task()) {
        errno = saved;
        return;
    }
    req.n = harness__stack_from_ucontext(ucv, req.pcs, CSP_DEBUG_MAX_PCS);
    atomic_store(&req.done, 1);
    errno = saved;
}

static HARNESS_CODE void install_stack_handler(void)
{
    if (handler_installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_sigaction = stack_signal;
    sa.sa_flags = SA_SIGINFO | SA_RESTART;
    sigemptyset(&sa.sa_mask);
    sigaction(HARNESS_SIG_STACK, &sa, NULL);
    handler_installed = true;
}

/* One sample of a running task's stack, or 0 frames after ~50 ms. Quiet:
 * the handler writes req in another thread with no edge TSan could see. */
static HARNESS_QUIET int ask_stack_once(int tid, uint64_t task, uintptr_t *pcs)
{
    install_stack_handler();
    atomic_store(&req.done, 0);
    req.n = 0;
    atomic_store(&req.task, task);
    atomic_store(&req.tid, tid);
    csp_debug_stack_request(tid, task);   /* answered at its next runtime call, if sooner */
    if (syscall(SYS_tgkill, getpid(), tid, HARNESS_SIG_STACK) != 0) {
        atomic_store(&req.tid, 0);
        csp_debug_stack_request(0, 0);
        return 0;
    }
    uintptr_t answer[CSP_DEBUG_MAX_PCS];
    int nanswer = 0;
    for (int i = 0; i < 500 && !atomic_load(&req.done); i++) {
        if ((nanswer = csp_debug_stack_answer(answer, CSP_DEBUG_MAX_PCS)) > 0)
            break;
        struct timespec ts = { 0, 100000 };
        nanosleep(&ts, NULL);
    }
    csp_debug_stack_request(0, 0);
    if (!atomic_load(&req.done) && nanswer > 0) {
        atomic_store(&req.tid, 0);
        for (int k = 0; k < nanswer; k++)
            pcs[k] = answer[k];
        return nanswer;
    }
    int n = atomic_load(&req.done) ? req.n : 0;
    atomic_store(&req.tid, 0);
    const volatile uintptr_t *src = req.pcs;
    for (int i = 0; i < n; i++)
        pcs[i] = src[i];
    return n;
}

/* A signal that lands in a function's prologue or epilogue, or in code built
 * without frame pointers (libc, the vDSO, a sanitizer's runtime — where an
 * ASan build's busy loop spends half its time), loses callers from the walk:
 * take up to eight samples, stop at one that walked four frames deep, and
 * keep the deepest. */
static HARNESS_QUIET int ask_stack(int tid, uint64_t task, uintptr_t *pcs)
{
    uintptr_t best[CSP_DEBUG_MAX_PCS], got[CSP_DEBUG_MAX_PCS];
    int nbest = 0;
    for (int i = 0; i < 8 && nbest < 4; i++) {
        int n = ask_stack_once(tid, task, got);
        if (n > nbest) {
            for (int k = 0; k < n; k++)
                best[k] = got[k];
            nbest = n;
        }
        if (n == 0)
            break;   /* it does not answer (TSan defers the signal): no use retrying */
        struct timespec ts = { 0, 300000 };
        nanosleep(&ts, NULL);
    }
    for (int k = 0; k < nbest; k++)
        pcs[k] = best[k];
    return nbest;
}

/* -------------------------------------------------------------- Snapshots */

static csp_debug_task snapshot[MAX_TASKS];
static uintptr_t own_pcs[CSP_DEBUG_MAX_PCS];
static int own_npcs = -1;

HARNESS_CODE void harness__set_own_stack(const uintptr_t *pcs, int n)
{
    for (int i = 0; i < n && i < CSP_DEBUG_MAX_PCS; i++)
        own_pcs[i] = pcs[i];
    own_npcs = n < CSP_DEBUG_MAX_PCS ? n : CSP_DEBUG_MAX_PCS;
}

HARNESS_CODE void harness__snapshot_tasks(harness_record *r, bool ask_running)
{
    size_t total = csp_debug_tasks(snapshot, MAX_TASKS);
    size_t n = total < MAX_TASKS ? total : MAX_TASKS;
    uint64_t self = csp_debug_current_task();
    csp_duration now = csp_now();
    for (size_t i = 0; i < n; i++) {
        csp_debug_task *t = &snapshot[i];
        bool is_self = self && t->id == self;
        if (t->state == CSP_DEBUG_RUNNING && is_self && own_npcs >= 0) {
            t->npcs = own_npcs;   /* a crash: where the signal interrupted it */
            memcpy(t->pcs, own_pcs, (size_t)own_npcs * sizeof *own_pcs);
        } else if (t->state == CSP_DEBUG_RUNNING && is_self) {
            t->npcs = csp_debug_stack_here(t->pcs, CSP_DEBUG_MAX_PCS, 0);
        } else if (t->state != CSP_DEBUG_PARKED && ask_running && t->tid > 0 && t->npcs == 0) {
            t->npcs = ask_stack(t->tid, t->id, t->pcs);
        }
        /* The record carries ages, not instants: the parent's clock differs. */
        t->since = t->state == CSP_DEBUG_RUNNING ? 0 : now - t->since;
        harness__record_add_task(r, t);
    }
    r->more_tasks = total - n;
}
