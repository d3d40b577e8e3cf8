/* fibers.c — the fibers backend (controlled mode, csp_sched.h): every task is a
 * fiber on the calling OS thread, the scheduler loop decides what runs, time
 * is virtual, and every choice goes to the hooks.
 *
 * Invariants:
 *  - Exactly one context runs at a time: the scheduler (csp__current == NULL)
 *    or one task's fiber. A fiber gives control back only in fiber_suspend
 *    (park, a preempting scheduling point, its end, an abort), so every
 *    suspended fiber is stopped inside fiber_suspend.
 *  - `runq` holds the runnable tasks, ascending by id: a decision's options
 *    are in a canonical order, so a schedule's decisions replay exactly.
 *  - A stack freed during a schedule is reused only after the schedule ends:
 *    under TSan the next fiber's stack accesses would otherwise race with the
 *    last one's (fiber switches carry no happens-before edge).
 *  - Between schedules, every fiber releases `world_sync` (a finished one at
 *    its end, a suspended one when it is resumed once more with `killed` set)
 *    and the scheduler acquires it: one schedule's writes happen before the
 *    next schedule's, and never race with them.
 *
 * The context switch is hand-written (swapcontext costs ~660 ns here: it
 * makes a signal-mask system call). x86-64 only; other architectures have no
 * controlled mode yet (csp_sched_run aborts with a message). */
#include "csp_sched.h"
#include "internal.h"
#include "timerheap.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef CSP_TSAN
void AnnotateBenignRaceSized(const char *file, int line, const volatile void *addr, long size,
                             const char *description);
void *__tsan_get_current_fiber(void);
void *__tsan_create_fiber(unsigned flags);
void __tsan_destroy_fiber(void *fiber);
void __tsan_switch_to_fiber(void *fiber, unsigned flags);
void __tsan_set_fiber_name(void *fiber, const char *name);
#define TSAN_NO_SYNC 1u
#endif
#ifdef CSP_ASAN
void __sanitizer_start_switch_fiber(void **fake_stack_save, const void *bottom, size_t size);
void __sanitizer_finish_switch_fiber(void *fake_stack_save, const void **bottom_old, size_t *size_old);
void __asan_unpoison_memory_region(void const volatile *addr, size_t size);
#endif

#if defined(CSP_TSAN) || defined(CSP_ASAN)
#define FIBER_STACK_SIZE (1u << 20)
#else
#define FIBER_STACK_SIZE (256u << 10)
#endif

/* ------------------------------------------------------- Context switch */

#if defined(__x86_64__)
/* csp__fiber_switch(void **save_sp, void *new_sp): saves the callee-saved
 * registers, MXCSR and the x87 control word on the current stack, stores the
 * stack pointer in *save_sp, and resumes the context saved at new_sp. */
__asm__(
    /* chanlab's code section, as every runtime function (CSP_RT). */
    ".pushsection chanlab_text,\"ax\",@progbits\n"
    ".globl csp__fiber_switch\n"
    ".type csp__fiber_switch,@function\n"
    "csp__fiber_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size csp__fiber_switch, .-csp__fiber_switch\n"
    /* A new fiber starts here: r12 = its task, r13 = the C start function.
     * rbp is 0, so frame-pointer walks end at the fiber's first frame. */
    ".globl csp__fiber_trampoline\n"
    ".type csp__fiber_trampoline,@function\n"
    "csp__fiber_trampoline:\n"
    "    movq %r12, %rdi\n"
    "    callq *%r13\n"
    "    ud2\n"
    ".size csp__fiber_trampoline, .-csp__fiber_trampoline\n"
    ".popsection\n");
void csp__fiber_switch(void **save_sp, void *new_sp);
void csp__fiber_trampoline(void);
#define HAVE_FIBERS 1
#endif

/* --------------------------------------------------------------- Stacks */

typedef struct fstack {
    struct fstack *next;
    void *base;            /* the mapping: guard page, then the stack */
    size_t size;           /* usable bytes above the guard */
} fstack;

static fstack *pool_free;      /* reusable now */
static fstack *pool_pending;   /* freed during this schedule: reusable after it */
static size_t page_size;

#ifdef CSP_TSAN
/* TSan fibers are pooled like stacks, and for the same reason reused only
 * in a later schedule: TSan keeps the state of every fiber it ever made, so
 * making five per schedule grew memory by ~6 KiB a schedule. A reused fiber
 * carries its own past (ordered before this schedule by world_sync anyway);
 * the spawn edge Go promises is added explicitly (race_sync). */
/* The pool is an array, not a list of nodes: a node was an allocation and a
 * free per spawn, each a TSan ignore region and a recorded stack. */
static void **tsan_pool;
static size_t tsan_npool, tsan_cappool;

static CSP_RT void *tsan_fiber_get(void)
{
    return tsan_npool ? tsan_pool[--tsan_npool] : __tsan_create_fiber(0);
}

/* At the end of a schedule only (csp_sched_reset): reusable from the next. */
static CSP_RT void tsan_fiber_put(void *f)
{
    if (tsan_npool == tsan_cappool) {
        tsan_cappool = tsan_cappool ? 2 * tsan_cappool : 64;
        tsan_pool = csp__realloc(tsan_pool, tsan_cappool * sizeof *tsan_pool);
    }
    tsan_pool[tsan_npool++] = f;
}
#endif

static CSP_RT fstack *stack_get(void)
{
    fstack *s = pool_free;
    if (s) {
        pool_free = s->next;
#ifdef CSP_ASAN
        __asan_unpoison_memory_region((char *)s->base + page_size, s->size);
#endif
        return s;
    }
    if (!page_size)
        page_size = (size_t)sysconf(_SC_PAGESIZE);
    s = csp__alloc(sizeof *s);
    void *m = mmap(NULL, FIBER_STACK_SIZE + page_size, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_STACK, -1, 0);
    if (!s || m == MAP_FAILED) {
        fprintf(stderr, "chanlab runtime: cannot map a fiber stack\n");
        abort();
    }
    mprotect(m, page_size, PROT_NONE);   /* guard: an overflow faults */
    s->base = m;
    s->size = FIBER_STACK_SIZE;
    return s;
}

/* ---------------------------------------------------------------- World */

typedef struct fiber {
    void *sp;
    fstack *stack;
    bool done, killed;
    int saved_errno;           /* every task has its own errno, as on threads */
#ifdef CSP_TSAN
    void *tsan;
#endif
#ifdef CSP_ASAN
    void *fake_stack;
#endif
} fiber;

static struct {
    bool active;
    const csp_sched_hooks *hooks;
    csp_run_limits limits;
    csp_run_stats stats;
    csp_task **all;            /* every task of the run, in spawn order */
    size_t nall, capall;
    csp_task **runq;           /* runnable, ascending id */
    size_t nrun, caprun;
    csp_task *forced_next;     /* a preempting point already chose this one */
    csp_task *idle_waiter;     /* parked in csp_sched_wait_idle, or NULL */
    csp_timerheap timers;
    csp_duration now;
    csp_duration returned_at;
    uint64_t entry_id;
    uint64_t last_run;         /* events: the task last switched in while it could run on */
    bool aborted;
    csp_run_end end;
    void *sched_sp;
    uint64_t saved_next_id;
#ifdef CSP_TSAN
    void *sched_tsan;
#endif
#ifdef CSP_ASAN
    const void *sched_stack;   /* the scheduler's stack, as ASan reported it */
    size_t sched_stack_size;
#endif
    char world_sync;
} W;

static CSP_RT fiber *F(csp_task *t) { return (fiber *)t->backend; }

static CSP_RT void runq_insert(csp_task *t)
{
    if (W.nrun == W.caprun) {
        W.caprun = W.caprun ? 2 * W.caprun : 64;
        W.runq = csp__realloc(W.runq, W.caprun * sizeof *W.runq);
        CSP_ASSERT(W.runq != NULL);
    }
    /* Volatile: no loop here may become a memmove call, which TSan would
     * check (fibers and the scheduler share this queue with no edge). */
    csp_task *volatile *q = W.runq;
    size_t i = W.nrun;
    while (i > 0 && q[i - 1]->id > t->id) {
        q[i] = q[i - 1];
        i--;
    }
    q[i] = t;
    W.nrun++;
    t->runnable = true;
}

static CSP_RT void runq_remove(csp_task *t)
{
    csp_task *volatile *q = W.runq;
    for (size_t i = 0; i < W.nrun; i++)
        if (q[i] == t) {
            for (size_t j = i; j + 1 < W.nrun; j++)
                q[j] = q[j + 1];
            W.nrun--;
            break;
        }
    t->runnable = false;
}

/* ------------------------------------------------------------- Switching */

/* From the scheduler into t's fiber; returns when it suspends. */
static CSP_RT inline __attribute__((always_inline)) void switch_to(csp_task *t)
{
    fiber *f = F(t);
    int sched_errno = errno;
    errno = f->saved_errno;
    csp__current = t;
    /* Events: a RUN when another task than the last one goes on (last_run is
     * kept only while recording: nothing here costs more than a branch off). */
    if (__builtin_expect(atomic_load_explicit(&csp__events_on, memory_order_relaxed), 0)) {
        if (W.last_run != t->id && !f->killed)
            csp__event_record(CSP_DEBUG_EVENT_RUN, t->id, 0, NULL, NULL);
        W.last_run = t->id;
    }
#ifdef CSP_TSAN
    __tsan_switch_to_fiber(f->tsan, TSAN_NO_SYNC);
#endif
#ifdef CSP_ASAN
    void *fake = NULL;
    __sanitizer_start_switch_fiber(&fake, (char *)f->stack->base + page_size, f->stack->size);
#endif
    csp__fiber_switch(&W.sched_sp, f->sp);
#ifdef CSP_ASAN
    __sanitizer_finish_switch_fiber(fake, NULL, NULL);
#endif
    csp__current = NULL;
    f->saved_errno = errno;
    errno = sched_errno;
}

/* From the running fiber back to the scheduler. A fiber resumed after the
 * run ended (killed) releases world_sync and leaves for good. */
static CSP_RT void fiber_suspend(void)
{
    csp_task *t = csp__current;
    fiber *f = F(t);
#ifdef CSP_TSAN
    __tsan_switch_to_fiber(W.sched_tsan, TSAN_NO_SYNC);
#endif
#ifdef CSP_ASAN
    __sanitizer_start_switch_fiber(f->done ? NULL : &f->fake_stack, W.sched_stack, W.sched_stack_size);
#endif
    csp__fiber_switch(&f->sp, W.sched_sp);
#ifdef CSP_ASAN
    __sanitizer_finish_switch_fiber(f->fake_stack, &W.sched_stack, &W.sched_stack_size);
#endif
    if (f->killed) {
#ifdef CSP_TSAN
        csp__tool_unwind(t);   /* its fiber is reused: no region may stay open */
#endif
        race_release(&W.world_sync);
        f->done = true;
        fiber_suspend();   /* never resumed again */
    }
}

static CSP_RT void fiber_start(csp_task *t)
{
#ifdef CSP_ASAN
    __sanitizer_finish_switch_fiber(NULL, &W.sched_stack, &W.sched_stack_size);
#endif
    fiber *f = F(t);
    race_acquire(&t->race_sync);
    if (!f->killed) {
        t->fn(t->arg);
        csp__event(CSP_DEBUG_EVENT_EXIT, t->id, 0, NULL, NULL);
        W.last_run = 0;
    }
    /* Finished (or killed before it ever ran). */
#ifdef CSP_TSAN
    csp__tool_unwind(t);
#endif
    race_release(&W.world_sync);
    atomic_store(&t->state, CSP_TASK_DEAD);
    f->done = true;
    fiber_suspend();
    CSP_ASSERT(!"a finished fiber was resumed");
}

/* ----------------------------------------------------------------- Seam */

static CSP_RT csp_task *fibers_current(void) { return csp__current; }

static CSP_RT csp_task *fibers_adopt(void)
{
    fprintf(stderr, "chanlab runtime: a csp_* call from outside any task during a "
                    "controlled run (only tasks may use the runtime there)\n");
    abort();
}

/* ------------------------------------------------------------- Accesses */

bool csp__access_on;

static CSP_RT void access_emit_meet(csp_access_kind kind, const csp_task *by, const csp_task *other,
                                    uint64_t object, const char *name, bool in_select)
{
    csp_sched_access a = { kind, by ? by->id : 0, by ? by->key : 0,
                           other ? other->id : 0, other ? other->key : 0, object, name, in_select,
                           CSP_ACCESS_OP_OTHER };
    W.hooks->access(W.hooks->ctx, &a);
}

static CSP_RT void access_emit_op(csp_access_kind kind, const csp_task *by, const csp_task *other,
                                  uint64_t object, const char *name, csp_access_op op)
{
    csp_sched_access a = { kind, by ? by->id : 0, by ? by->key : 0,
                           other ? other->id : 0, other ? other->key : 0, object, name, false, op };
    W.hooks->access(W.hooks->ctx, &a);
}

static CSP_RT void access_emit(csp_access_kind kind, const csp_task *by, const csp_task *other, uint64_t object,
                               const char *name)
{
    access_emit_op(kind, by, other, object, name, CSP_ACCESS_OP_OTHER);
}

CSP_RT void csp__access_object(const csp_object *o, csp_access_op op)
{
    if (W.active && csp__current && W.hooks->access)
        access_emit_op(CSP_ACCESS_OBJECT, csp__current, NULL, o->key, o->name, op);
}

CSP_RT void csp__access_key(uint64_t key, const char *name, csp_access_op op)
{
    if (W.active && csp__current && W.hooks->access)
        access_emit_op(CSP_ACCESS_OBJECT, csp__current, NULL, key, name, op);
}

CSP_RT void csp__access_meet(const csp_object *o, const csp_task *t, bool in_select)
{
    if (W.active && csp__current && W.hooks->access)
        access_emit_meet(CSP_ACCESS_MEET, csp__current, t, o->key, o->name, in_select);
}

CSP_RT void csp__access_peek(const csp_object *o)
{
    if (W.active && csp__current && W.hooks->access)
        access_emit(CSP_ACCESS_PEEK, csp__current, NULL, o->key, o->name);
}

CSP_RT void csp_sched_touch(uint64_t key)
{
    if (csp__access_on && W.active && csp__current && W.hooks->access)
        access_emit(CSP_ACCESS_OBJECT, csp__current, NULL, key, NULL);
}

static CSP_RT void fibers_spawn(csp_task *t)
{
    fiber *f = csp__alloc(sizeof *f);
    CSP_ASSERT(f != NULL);
    t->backend = f;
    f->stack = stack_get();
    t->stack_lo = (uintptr_t)f->stack->base + page_size;
    t->stack_hi = t->stack_lo + f->stack->size;
    /* Initial frame, as csp__fiber_switch leaves one: 8 bytes of MXCSR and
     * x87 control word, r15..r12, rbx, rbp, then the return address. */
    /* After `ret` into the trampoline rsp is the 16-aligned top, so its
     * `call` enters fiber_start with rsp = 8 mod 16, as the ABI requires. */
    uintptr_t *sp = (uintptr_t *)(t->stack_hi & ~(uintptr_t)15);
    *--sp = (uintptr_t)csp__fiber_trampoline;    /* ret goes here */
    *--sp = 0;                                   /* rbp */
    *--sp = 0;                                   /* rbx */
    *--sp = (uintptr_t)t;                        /* r12: the task */
    *--sp = (uintptr_t)fiber_start;              /* r13: start function */
    *--sp = 0;                                   /* r14 */
    *--sp = 0;                                   /* r15 */
    *--sp = (uintptr_t)0x037F << 32 | 0x1F80;    /* fpu cw | mxcsr defaults */
    f->sp = sp;
#ifdef CSP_TSAN
    f->tsan = tsan_fiber_get();
    __tsan_set_fiber_name(f->tsan, t->name);
#endif
    race_release(&t->race_sync);   /* the spawn happens before the task (Go's go) */
    if (W.nall == W.capall) {
        W.capall = W.capall ? 2 * W.capall : 64;
        W.all = csp__realloc(W.all, W.capall * sizeof *W.all);
        CSP_ASSERT(W.all != NULL);
    }
    W.all[W.nall++] = t;
    runq_insert(t);
    if (W.hooks->access)
        access_emit(CSP_ACCESS_SPAWN, csp__current, t, 0, NULL);
    if (W.hooks->spawned)
        W.hooks->spawned(W.hooks->ctx, t->id);
}

static CSP_RT void emit(csp_sched_event_kind kind, const csp_task *t, const csp_task *by)
{
    csp_sched_event e = { kind, t->id, by ? by->id : 0, (int)t->park.reason, t->park.object };
    W.hooks->event(W.hooks->ctx, &e);
}

static CSP_RT void fibers_park(void (*unlock)(void *), void *arg)
{
    csp_task *t = csp__current;
    if (W.hooks->event)
        emit(CSP_EVENT_PARK, t, NULL);
    W.last_run = 0;
    atomic_store(&t->state, CSP_TASK_PARKED);
    atomic_store(&t->wake, 0);
    if (t->runnable)
        runq_remove(t);
    if (unlock)
        unlock(arg);
    fiber_suspend();
    atomic_store(&t->state, CSP_TASK_RUNNING);
}

static CSP_RT void fibers_ready(csp_task *t)
{
    if (W.hooks->event)
        emit(CSP_EVENT_READY, t, csp__current);
    if (W.hooks->access && csp__current)
        access_emit(CSP_ACCESS_WAKE, csp__current, t, 0, NULL);
    if (!t->runnable && !F(t)->done)
        runq_insert(t);
    atomic_store(&t->wake, 1);   /* readied: runnable for snapshots */
}

static CSP_RT size_t ask(csp_decision_kind kind, size_t n, const uint64_t *ids, int current)
{
    W.stats.decisions++;
    size_t pick = W.hooks->decide(W.hooks->ctx, kind, n, ids, current);
    if (pick >= n) {          /* the hooks cannot go on (a replay that does not fit) */
        csp_sched_abort();
        return 0;
    }
    return pick;
}

static uint64_t *ids_buf;
static size_t ids_cap;

static CSP_RT const uint64_t *runq_ids(void)
{
    if (ids_cap < W.nrun) {
        ids_cap = W.nrun * 2;
        ids_buf = csp__realloc(ids_buf, ids_cap * sizeof *ids_buf);
        CSP_ASSERT(ids_buf != NULL);
    }
    for (size_t i = 0; i < W.nrun; i++)
        ids_buf[i] = W.runq[i]->id;
    return ids_buf;
}

static CSP_RT bool count_step(void)
{
    W.stats.steps++;
    if (W.limits.max_steps && W.stats.steps > W.limits.max_steps) {
        W.end = CSP_RUN_STEPS;
        W.aborted = true;
        return false;
    }
    return true;
}

static CSP_RT void fibers_point(enum csp_point p)
{
    (void)p;
    csp_task *t = csp__current;
    if (!t)
        return;
    if (!count_step()) {
        fiber_suspend();   /* the run is over; resumed only to be killed */
        return;
    }
    if (W.nrun < 2)
        return;
    int cur = -1;
    for (size_t i = 0; i < W.nrun; i++)
        if (W.runq[i] == t)
            cur = (int)i;
    if (cur < 0)
        return;
    size_t pick = ask(CSP_DECIDE_RUN, W.nrun, runq_ids(), cur);
    if (W.aborted) {
        fiber_suspend();
        return;
    }
    if ((int)pick == cur)
        return;
    W.stats.preemptions++;
    W.forced_next = W.runq[pick];
    fiber_suspend();
}

static CSP_RT csp_duration fibers_now(void) { return W.now; }

static CSP_RT void fibers_timer_arm(csp_timer *tm) { csp__th_push(&W.timers, tm); }

static CSP_RT bool fibers_timer_disarm(csp_timer *tm)
{
    if (tm->heap_index < 0)
        return false;
    csp__th_remove(&W.timers, tm);
    return true;
}

static CSP_RT void fibers_timer_foreach(void (*fn)(const csp_timer *tm, void *arg), void *arg)
{
    for (size_t i = 0; i < W.timers.len; i++)
        fn(W.timers.a[i], arg);
}

static CSP_RT size_t fibers_choose(size_t k, enum csp_choice what)
{
    if (k < 2)
        return 0;
    size_t pick = ask(what == CSP_CHOOSE_SELECT ? CSP_DECIDE_SELECT : CSP_DECIDE_TIMER, k, NULL, -1);
    if (W.aborted && csp__current)
        fiber_suspend();
    return pick;
}

/* The frame csp__fiber_switch saved: [0] MXCSR/x87, [1..4] r15-r12, [5] rbx,
 * [6] rbp, [7] the return address into fiber_suspend. */
static CSP_RT int fibers_stack_of(csp_task *t, uintptr_t *pcs, int max)
{
    fiber *f = F(t);
    if (!f || f->done || !f->sp || t == csp__current || max < 1)
        return 0;
    uintptr_t *sp = f->sp;
    pcs[0] = sp[7];
    return 1 + csp__walk_frames((uintptr_t *)sp[6], t->stack_lo, t->stack_hi, pcs + 1, max - 1, 0);
}

const csp_backend csp__fibers_backend = {
    .name = "fibers",
    .current = fibers_current,
    .adopt = fibers_adopt,
    .spawn = fibers_spawn,
    .park = fibers_park,
    .ready = fibers_ready,
    .point = fibers_point,
    .now = fibers_now,
    .timer_arm = fibers_timer_arm,
    .timer_disarm = fibers_timer_disarm,
    .timer_foreach = fibers_timer_foreach,
    .choose = fibers_choose,
    .stack_of = fibers_stack_of,
    .panic = csp__panic_abort,
};

/* ------------------------------------------------------------ The loop */

static CSP_RT bool timer_can_wake(const csp_timer *tm)
{
    return tm->kind == CSP_TIMER_WAKE || csp__chan_has_receiver(tm->chan);
}

static CSP_RT bool any_wakeable_timer(void)
{
    for (size_t i = 0; i < W.timers.len; i++)
        if (timer_can_wake(W.timers.a[i]))
            return true;
    return false;
}

/* Fires the timers due at one deadline, in the order the hooks choose,
 * after moving virtual time there (never back). The deadline is the
 * earliest, unless others lie within the timer window after it
 * (csp_run_limits.timer_window): then which of those deadlines comes first
 * is a TIMER decision too, and the tasks it wakes run before the rest fire
 * (late) — a timeout 1 µs before the event it guards, or after it. */
static CSP_RT void fire_next_timers(void)
{
    csp_timer *batch[64];
    csp_duration deadlines[16];
    csp_duration earliest = csp__th_top(&W.timers)->when;
    csp_duration window = W.limits.timer_window > 0 ? W.limits.timer_window : 0;
    csp_duration until = earliest > INT64_MAX - window ? INT64_MAX : earliest + window;
    size_t nd = window ? csp__th_deadlines_until(&W.timers, until, deadlines, 16) : 1;
    csp_duration when = nd > 1 ? deadlines[ask(CSP_DECIDE_TIMER, nd, NULL, -1)] : earliest;
    if (W.aborted)
        return;
    if (when > W.now)
        W.now = when;
    size_t n = csp__th_pop_at(&W.timers, when, batch, 64);
    while (n > 0 && !W.aborted) {
        size_t i = n > 1 ? ask(CSP_DECIDE_TIMER, n, NULL, -1) : 0;
        csp_timer *tm = batch[i];
        batch[i] = batch[--n];
        bool periodic = tm->period > 0;   /* a fired sleep timer may be gone */
        csp__timer_fire(tm, W.now);
        if (periodic && tm->heap_index < 0)
            csp__th_rearm(&W.timers, tm, W.now);
    }
}

static CSP_RT void finish_task(csp_task *t)
{
    fiber *f = F(t);
    if (t->runnable)
        runq_remove(t);
    csp_duration now = W.now;
    if (csp__task_exit_hook)
        csp__task_exit_hook(t->id, now);
    atomic_store(&csp__last_task_exit, now);
    if (t->id == W.entry_id) {
        W.stats.entry_returned = true;
        W.returned_at = now;
    }
    csp__registry_remove(t);
    f->stack->next = pool_pending;
    pool_pending = f->stack;
    f->stack = NULL;
}

static CSP_RT csp_run_end loop(void)
{
    for (;;) {
        if (W.aborted)
            return W.end;
        if (W.nrun > 0) {
            csp_task *next = W.forced_next;
            W.forced_next = NULL;
            if (!next) {
                size_t pick = W.nrun > 1 ? ask(CSP_DECIDE_RUN, W.nrun, runq_ids(), -1) : 0;
                if (W.aborted)
                    return W.end;
                next = W.runq[pick];
                if (W.nrun == 1 && W.hooks->access) {
                    access_emit(CSP_ACCESS_RUN, next, NULL, 0, NULL);
                    if (W.aborted)
                        return W.end;
                }
                if (!count_step())
                    return W.end;
            }
            switch_to(next);
            if (F(next)->done && F(next)->stack)
                finish_task(next);
            continue;
        }
        /* Nothing else can run: the idle waiter goes on before virtual
         * time moves (synctest.Wait, then time advances). */
        if (W.hooks->access && (W.idle_waiter || W.timers.len > 0))
            access_emit(CSP_ACCESS_TIME, NULL, NULL, 0, NULL);
        if (W.idle_waiter) {
            csp_task *t = W.idle_waiter;
            W.idle_waiter = NULL;
            csp__ready(t);
            continue;
        }
        if (W.timers.len > 0 && any_wakeable_timer()) {
            if (W.stats.entry_returned && W.limits.horizon > 0 &&
                csp__th_top(&W.timers)->when - W.returned_at > W.limits.horizon)
                return CSP_RUN_HORIZON;
            fire_next_timers();
            continue;
        }
        return W.stats.entry_returned ? CSP_RUN_QUIESCENT : CSP_RUN_DEADLOCK;
    }
}

CSP_RT csp_run_end csp_sched_run(void (*entry)(void *), void *arg, const csp_sched_hooks *hooks,
                                 const csp_run_limits *limits, csp_run_stats *stats)
{
#ifndef HAVE_FIBERS
    fprintf(stderr, "chanlab runtime: controlled mode needs x86-64 (no fiber switch here)\n");
    abort();
#else
    CSP_ASSERT(!W.active && csp__current == NULL && hooks && hooks->decide);
    if (!page_size)
        page_size = (size_t)sysconf(_SC_PAGESIZE);
    W.active = true;
    W.hooks = hooks;
    W.limits = limits ? *limits : (csp_run_limits){0};
    W.stats = (csp_run_stats){0};
    W.nall = W.nrun = 0;
    W.idle_waiter = NULL;
    W.forced_next = NULL;
    W.now = 0;
    W.returned_at = 0;
    W.last_run = 0;
    W.aborted = false;
    W.end = CSP_RUN_ABORTED;
#ifdef CSP_TSAN
    W.sched_tsan = __tsan_get_current_fiber();
    /* All fibers run on this thread and share its errno slot; each task's
     * errno is saved and restored at every switch, so the slot is not data
     * the tasks share — a task's errno writes are not races. */
    AnnotateBenignRaceSized(__FILE__, __LINE__, &errno, sizeof errno, "errno: saved per task");
#endif
    csp__backend = &csp__fibers_backend;
    W.saved_next_id = csp__reset_task_ids(1);
    csp__objects_begin_run();

    csp_task *t = csp__task_alloc("main");
    t->fn = entry;
    t->arg = arg;
    W.entry_id = t->id;
    csp__registry_add(t);
    fibers_spawn(t);

    csp__access_on = hooks->access != NULL;
    csp_run_end end = loop();
    csp__access_on = false;
    W.stats.virtual_now = W.now;
    if (stats)
        *stats = W.stats;
    return end;
#endif
}

CSP_RT void csp_sched_abort(void)
{
    if (!W.active)
        return;
    if (!W.aborted) {
        W.aborted = true;
        W.end = CSP_RUN_ABORTED;
    }
    if (csp__current)
        fiber_suspend();
}

CSP_RT bool csp_sched_active(void) { return W.active; }

CSP_RT bool csp_sched_wait_idle(void)
{
    if (!W.active || !csp__current || W.idle_waiter)
        return false;
    W.idle_waiter = csp__current;
    csp__park(CSP_WAIT_IDLE, NULL, NULL, NULL);
    return true;
}

CSP_RT uint64_t csp_sched_steps(void) { return W.active ? W.stats.steps : 0; }

CSP_RT void csp_sched_reset(void)
{
    if (!W.active)
        return;
    /* Every fiber leaves through world_sync (a finished one already has, at
     * its end); then, ordered after all of them, the scheduler frees. */
    for (size_t i = 0; i < W.nall; i++) {
        fiber *f = F(W.all[i]);
        if (!f->done) {
            f->killed = true;
            switch_to(W.all[i]);
        }
    }
    race_acquire(&W.world_sync);
#ifdef CSP_TSAN
    /* Last spawned first: the next schedule's first task gets this one's
     * first task's TSan fiber, as its second the second's, and so on. */
    for (size_t i = W.nall; i-- > 0;)
        tsan_fiber_put(F(W.all[i])->tsan);
#endif
    for (size_t i = 0; i < W.nall; i++) {
        csp_task *t = W.all[i];
        fiber *f = F(t);
        if (f->stack) {          /* not finished: a leaked or stopped task */
            csp__registry_remove(t);
            f->stack->next = pool_pending;
            pool_pending = f->stack;
        }
        csp__free(f);
        t->backend = NULL;
        csp__task_free(t);
    }
    W.nall = W.nrun = 0;
    W.idle_waiter = NULL;
    while (pool_pending) {
        fstack *s = pool_pending;
        pool_pending = s->next;
        s->next = pool_free;
        pool_free = s;
    }
    /* Timers of the run: disarm all (their owners go with the objects). */
    W.timers.len = 0;
    csp__objects_end_run();
    csp__backend = &csp__threads_backend;
    csp__reset_task_ids(W.saved_next_id);
    W.active = false;
}
