/* task.c — tasks: the registry of live tasks, spawning, parking through the
 * seam, stack capture, the all-task dump and panics.
 *
 * Invariants: a task is in the registry from the moment csp_go returns (or the
 * thread is adopted) until its function has returned; its park record is valid
 * while state == CSP_TASK_PARKED. The registry lock protects the list links
 * only; a task's own fields are written by the task itself and read racily by
 * dumpers (dumps are best-effort snapshots, like Go's). */
#include "csp_debug.h"
#include "internal.h"
#include "symbolize.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const csp_backend *csp__backend = &csp__threads_backend;

_Atomic uint64_t csp__progress;
_Atomic long csp__live_chans;
_Atomic long csp__live_tasks;
_Atomic csp_duration csp__last_task_exit;
_Atomic int csp__runtime_threads;

static csp_lock registry_lock = CSP_LOCK_INIT;
static csp_task *registry_head;

static _Atomic uint64_t next_task_id = 1;
static _Atomic uint64_t rng_seed;
bool csp__park_stacks = true;

/* ----------------------------------------------------------------- Registry */

CSP_RT void csp__registry_lock(void) { csp_lock_acquire(&registry_lock); }
CSP_RT void csp__registry_unlock(void) { csp_lock_release(&registry_lock); }

CSP_RT void csp__registry_add(csp_task *t)
{
    csp_lock_acquire(&registry_lock);
    t->reg_prev = NULL;
    t->reg_next = registry_head;
    if (registry_head)
        registry_head->reg_prev = t;
    registry_head = t;
    csp_lock_release(&registry_lock);
    atomic_fetch_add(&csp__live_tasks, 1);
}

CSP_RT void csp__registry_remove(csp_task *t)
{
    csp_lock_acquire(&registry_lock);
    /* Its progress moves to the global count, under the lock that
     * csp__progress_total holds, so the sum never goes back. */
    atomic_fetch_add(&csp__progress, atomic_load(&t->progress) + 1);
    if (t->reg_prev)
        t->reg_prev->reg_next = t->reg_next;
    else
        registry_head = t->reg_next;
    if (t->reg_next)
        t->reg_next->reg_prev = t->reg_prev;
    t->reg_next = t->reg_prev = NULL;
    csp_lock_release(&registry_lock);
    atomic_fetch_sub(&csp__live_tasks, 1);
}

CSP_RT uint64_t csp__progress_total(void)
{
    csp_lock_acquire(&registry_lock);
    uint64_t sum = atomic_load(&csp__progress);
    for (csp_task *t = registry_head; t; t = t->reg_next)
        sum += atomic_load_explicit(&t->progress, memory_order_relaxed);
    csp_lock_release(&registry_lock);
    return sum;
}

CSP_RT void csp__registry_foreach(void (*fn)(csp_task *t, void *arg), void *arg)
{
    csp_lock_acquire(&registry_lock);
    for (csp_task *t = registry_head; t; t = t->reg_next)
        fn(t, arg);
    csp_lock_release(&registry_lock);
}

/* In a forked child: the parent's other tasks, kept (see below). */
static csp_task *forked_away;

CSP_RT void csp__registry_after_fork_child(csp_task *self)
{
    /* The other tasks' threads do not exist in the child. Their records stay
     * allocated (a channel queue may still point at them) but leave the
     * registry for a list of their own, where a leak checker sees them kept
     * on purpose: nothing else in the child need point at them (a pooled
     * thread holds its task only on its own stack, which does not exist in
     * the child; LeakSanitizer called them leaks). */
    long n = 0;
    for (csp_task *t = registry_head, *next; t; t = next) {
        next = t->reg_next;
        if (t == self)
            continue;
        atomic_store(&t->state, CSP_TASK_DEAD);
        t->reg_prev = NULL;
        t->reg_next = forked_away;
        forked_away = t;
    }
    registry_head = NULL;
    atomic_store(&registry_lock.v, 0);
    if (self) {
        self->reg_next = self->reg_prev = NULL;
        registry_head = self;
        n = 1;
    }
    atomic_store(&csp__live_tasks, n);
}

CSP_RT csp_task *csp__task_alloc(const char *name)
{
    csp_task *t = csp__alloc(sizeof *t);
    t->id = atomic_fetch_add(&next_task_id, 1);
    t->name = name ? name : "task";
    /* Its key: its creator's and its rank among the creator's tasks (the
     * first task of a run or thread: a constant), the same in every
     * schedule that makes it the same way. */
    csp_task *parent = csp__current;
    t->key = parent ? csp__key_mix(parent->key, ++parent->nspawned) : 0x6b65792d726f6f74ull;
    t->rng = 0x9e3779b97f4a7c15ull ^ (t->id * 0xbf58476d1ce4e5b9ull) ^
             (uint64_t)(uintptr_t)t ^ (atomic_load(&rng_seed) * 0x94d049bb133111ebull);
    if (!t->rng)
        t->rng = 1;
    return t;
}

CSP_RT void csp__task_free(csp_task *t) { csp__free(t); }

CSP_RT uint64_t csp__key_mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 0x100000001b3ull;
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdull;
    return h ^ (h >> 33);
}

CSP_RT uint64_t csp__reset_task_ids(uint64_t next) { return atomic_exchange(&next_task_id, next); }

CSP_RT void csp__set_seed(uint64_t seed) { atomic_store(&rng_seed, seed); }

CSP_RT uint64_t csp__rand(csp_task *t)
{
    /* xorshift64* */
    uint64_t x = t ? t->rng : 0x2545f4914f6cdd1dull;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    if (t)
        t->rng = x;
    return x * 0x2545f4914f6cdd1dull;
}

/* -------------------------------------------------------------- Stacks */

/* Walks a frame-pointer chain from fp. Bounded by the task's known stack
 * range when there is one, and by strictly increasing, aligned frame
 * addresses always, so a frame without a pointer ends the walk rather than
 * faulting. Async-signal-safe. */
CSP_RT int csp__walk_frames(uintptr_t *fp, uintptr_t lo, uintptr_t hi,
                            uintptr_t *pcs, int max, int skip)
{
    int n = 0;
    while (fp && n < max) {
        uintptr_t f = (uintptr_t)fp;
        if (f & (sizeof(uintptr_t) - 1))
            break;
        if (hi && (f < lo || f + 2 * sizeof(uintptr_t) > hi))
            break;
        uintptr_t ret = fp[1];
        uintptr_t *next = (uintptr_t *)fp[0];
        if (!ret)
            break;
        if (skip > 0)
            skip--;
        else
            pcs[n++] = ret;
        if ((uintptr_t)next <= f || (uintptr_t)next - f > (1u << 24))
            break;
        fp = next;
    }
    return n;
}

CSP_RT __attribute__((noinline)) int csp__capture_stack(uintptr_t *pcs, int max, int skip)
{
    csp_task *t = csp__backend->current();
    return csp__walk_frames(__builtin_frame_address(0), t ? t->stack_lo : 0,
                            t ? t->stack_hi : 0, pcs, max, skip);
}

/* ----------------------------------------------------------- Self, spawn */

__thread csp_task *csp__current;

CSP_RT csp_task *csp_self(void) { return csp__self(); }
CSP_RT uint64_t csp_task_id(const csp_task *t) { return t ? t->id : 0; }
CSP_RT const char *csp_task_name(const csp_task *t) { return t ? t->name : NULL; }

CSP_RT __attribute__((noinline)) csp_task *csp_go(void (*fn)(void *), void *arg, const char *name)
{
    /* The caller is not adopted here: a thread that only spawns (the
     * harness's monitor) stays outside the runtime until it blocks. */
    if (!fn)
        csp_panic("csp_go: nil function (task \"%s\")", name ? name : "task");
    csp_task *t = csp__task_alloc(name);
    t->fn = fn;
    t->arg = arg;
    t->ncreated = csp__capture_stack(t->created_pcs, 8, 1);
    csp__registry_add(t);
    csp__made_progress();
    csp__event(CSP_DEBUG_EVENT_SPAWN, t->id, csp__current_id(), NULL, t->name);
    csp__backend->spawn(t);
    csp__backend->point(CSP_POINT_SPAWN);
    return t;
}

CSP_RT void csp_yield(void)
{
    csp__self();
    csp__backend->point(CSP_POINT_YIELD);
}

/* ----------------------------------------------------------------- Parking */

CSP_RT __attribute__((noinline)) void csp__park(enum csp_wait_reason reason, const char *object,
                                              void (*unlock)(void *), void *arg)
{
    csp_task *t = csp__self();
    t->park.reason = reason;
    t->park.object = object;
    t->park.since = csp__backend->now();
    /* Skip csp__park itself: the record starts at the runtime call. */
    t->park.npcs = csp__park_stacks ? csp__capture_stack(t->park.pcs, CSP_MAX_PCS, 1) : 0;
    csp__event(CSP_DEBUG_EVENT_PARK, t->id, 0, csp__wait_reason_name(reason), object);
    csp__backend->park(unlock, arg);
    t->park.reason = CSP_WAIT_NONE;
    t->park.cases = NULL;
    t->park.ncases = 0;
}

CSP_RT void csp__ready(csp_task *t)
{
    csp__event(CSP_DEBUG_EVENT_READY, t->id, csp__current_id(), NULL, NULL);
    csp__backend->ready(t);
}

/* ---------------------------------------------------------------- Syscalls */

CSP_RT void csp_syscall_enter(const char *what)
{
    csp_task *t = csp__self();
    if (t->syscall_depth++ == 0) {
        t->syscall_what = what ? what : "syscall";
        t->syscall_since = csp__backend->now();
        csp__event(CSP_DEBUG_EVENT_PARK, t->id, 0, "syscall", t->syscall_what);
    }
}

CSP_RT void csp_syscall_exit(void)
{
    csp_task *t = csp__self();
    if (t->syscall_depth <= 0)
        csp_panic("csp_syscall_exit without csp_syscall_enter");
    if (--t->syscall_depth == 0) {
        t->syscall_what = NULL;
        csp__made_progress();
        csp__event(CSP_DEBUG_EVENT_RUN, t->id, 0, NULL, NULL);
    }
}

/* -------------------------------------------------------------------- Dump */

CSP_RT const char *csp__wait_reason_name(enum csp_wait_reason r)
{
    switch (r) {
    case CSP_WAIT_NONE: return "running";
    case CSP_WAIT_CHAN_SEND: return "chan send";
    case CSP_WAIT_CHAN_RECV: return "chan receive";
    case CSP_WAIT_CHAN_SEND_NIL: return "chan send (nil chan)";
    case CSP_WAIT_CHAN_RECV_NIL: return "chan receive (nil chan)";
    case CSP_WAIT_SELECT: return "select";
    case CSP_WAIT_SELECT_NO_CASES: return "select (no cases)";
    case CSP_WAIT_WG: return "wait group wait";
    case CSP_WAIT_MUTEX: return "mutex lock";
    case CSP_WAIT_SLEEP: return "sleep";
    case CSP_WAIT_IDLE: return "wait for idle";
    }
    return "?";
}

static CSP_RT void print_duration(FILE *out, csp_duration d)
{
    if (d < 0)
        d = 0;
    if (d < 10 * CSP_SECOND)
        fprintf(out, "%" PRId64 " ms", d / CSP_MILLISECOND);
    else if (d < 2 * 60 * CSP_SECOND)
        fprintf(out, "%" PRId64 " s", d / CSP_SECOND);
    else
        fprintf(out, "%" PRId64 " minutes", d / (60 * CSP_SECOND));
}

CSP_RT void csp__format_wait(const csp_task *t, bool is_self, char *buf, size_t size)
{
    size_t n = 0;
#define APPEND(...) do { if (n < size) n += (size_t)snprintf(buf + n, size - n, __VA_ARGS__); } while (0)
    buf[0] = 0;
    int state = atomic_load(&t->state);
    if (t->syscall_depth > 0 && t->syscall_what) {
        APPEND("syscall %s", t->syscall_what);
    } else if (state == CSP_TASK_PARKED && t->park.reason != CSP_WAIT_NONE) {
        const struct csp_park *p = &t->park;
        APPEND("%s", csp__wait_reason_name(p->reason));
        if (p->reason == CSP_WAIT_SELECT && p->cases) {
            const char *sep = " ";
            for (size_t i = 0; i < p->ncases; i++) {
                if (!p->cases[i].chan)
                    continue;
                APPEND("%s%s \"%s\"", sep, p->cases[i].op == CSP_OP_SEND ? "send" : "recv",
                       csp_chan_name(p->cases[i].chan));
                sep = ", ";
            }
        } else if (p->object) {
            APPEND(" \"%s\"", p->object);
        }
    } else if (is_self || t->panicking || csp__backend == &csp__threads_backend) {
        /* Threads backend: a task that is not parked is on its thread, which
         * the kernel runs; there is no separate run queue to be in. */
        APPEND("running");
    } else {
        APPEND("runnable");   /* a fiber waiting for the scheduler */
    }
#undef APPEND
}

/* The one dump formatter (csp_debug.h): the runtime's own dumps (a panic,
 * csp_debug_dump) and the harness's rendering of a child's records both
 * print tasks through it. */
CSP_RT void csp_debug_print_task(FILE *out, const csp_debug_task *t, csp_duration age)
{
    fprintf(out, "task %" PRIu64 " \"%s\" [%s", t->id, t->name ? t->name : "task", t->wait);
    if (t->state != CSP_DEBUG_RUNNING) {
        fputs(", ", out);
        print_duration(out, age);
    }
    fputs("]:\n", out);
    if (t->npcs > 0)
        csp__print_stack(out, t->pcs, t->npcs);
    else if (t->state == CSP_DEBUG_RUNNING)
        fputs("    (running: no stack was taken)\n", out);
    if (!t->adopted && t->created_pc)
        csp__print_created_by(out, t->created_pc);
    fputc('\n', out);
}

#define DUMP_MAX 256
static csp_debug_task dump_snapshot[DUMP_MAX];
static csp_lock dump_lock = CSP_LOCK_INIT;

/* The current task first (with its stack here), then the others oldest
 * first, as Go prints them. */
CSP_RT void csp__dump_tasks(FILE *out)
{
    csp_lock_acquire(&dump_lock);
    csp_duration now = csp__backend->now();
    uint64_t self = csp__current ? csp__current->id : 0;
    size_t total = csp_debug_tasks(dump_snapshot, DUMP_MAX);
    size_t n = total < DUMP_MAX ? total : DUMP_MAX;
    for (int pass = 0; pass < 2; pass++)
        for (size_t i = 0; i < n; i++) {
            csp_debug_task *t = &dump_snapshot[i];
            if ((t->id == self) != (pass == 0))
                continue;
            if (t->id == self && t->state == CSP_DEBUG_RUNNING)
                t->npcs = csp__capture_stack(t->pcs, CSP_DEBUG_MAX_PCS, 1);
            csp_debug_print_task(out, t, t->state == CSP_DEBUG_RUNNING ? 0 : now - t->since);
        }
    if (total > n)
        fprintf(out, "... and %zu more tasks\n", total - n);
    fflush(out);
    csp_lock_release(&dump_lock);
}

CSP_RT CSP_NORETURN void csp__panic_abort(const char *msg)
{
    fflush(stdout);
    fprintf(stderr, "panic: %s\n\n", msg);
    csp__dump_tasks(stderr);
    fflush(stderr);
    abort();
}

/* ------------------------------------------------------------------ Panics */

CSP_NORETURN void (*csp__panic_hook)(const char *msg);
void (*csp__task_exit_hook)(uint64_t id, csp_duration when);

CSP_RT void csp__panic_msg(const char *msg)
{
    if (csp__current)
        csp__current->panicking = true;
    csp__event(CSP_DEBUG_EVENT_PANIC, csp__current_id(), 0, NULL, NULL);
    if (csp__panic_hook)
        csp__panic_hook(msg);
    csp__backend->panic(msg);
}

CSP_RT void csp_panic(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt ? fmt : "(nil)", ap);
    va_end(ap);
    csp__panic_msg(msg);
}
