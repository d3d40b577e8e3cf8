/* debug.c — the introspection interface of csp_debug.h: snapshots of tasks
 * and timers for the harness, hooks, symbolized printing. Snapshots take the
 * runtime's locks in their order (timer, then channel, then registry). */
#include "csp_debug.h"
#include "internal.h"
#include "symbolize.h"

#include <string.h>

static CSP_RT void copy_str(char *dst, size_t cap, const char *src)
{
    size_t n = 0;
    const volatile char *s = src;
    while (s && n + 1 < cap && s[n]) {
        dst[n] = s[n];
        n++;
    }
    dst[n] = 0;
}

static CSP_RT void fill_task(csp_debug_task *d, const csp_task *t, const csp_task *self)
{
    memset(d, 0, sizeof *d);
    d->id = t->id;
    d->name = t->name;
    d->adopted = t->adopted;
    d->tid = t->tid;
    d->created_pc = t->ncreated > 0 ? t->created_pcs[0] : 0;
    csp__format_wait(t, t == self, d->wait, sizeof d->wait);
    if (t->syscall_depth > 0 && t->syscall_what) {
        d->state = CSP_DEBUG_SYSCALL;
        d->since = t->syscall_since;
    } else if (csp__task_blocked((csp_task *)t) && t->park.reason != CSP_WAIT_NONE) {
        d->state = CSP_DEBUG_PARKED;
        d->since = t->park.since;
        d->forever = csp__wait_is_forever(t->park.reason);
        copy_str(d->object, sizeof d->object, t->park.object);
        /* Not memcpy: TSan intercepts it, and this reads another task's
         * record with no edge (all runtime sync is hidden from TSan). */
        int n = t->park.npcs < CSP_DEBUG_MAX_PCS ? t->park.npcs : CSP_DEBUG_MAX_PCS;
        const volatile uintptr_t *src = t->park.pcs;
        for (int i = 0; i < n; i++)
            d->pcs[i] = src[i];
        d->npcs = n;
    } else {
        d->state = CSP_DEBUG_RUNNING;
        if (csp__backend->stack_of)
            d->npcs = csp__backend->stack_of((csp_task *)t, d->pcs, CSP_DEBUG_MAX_PCS);
    }
}

struct tasks_ctx { csp_debug_task *out; size_t max, n; const csp_task *self; };

static CSP_RT void collect_task(csp_task *t, void *arg)
{
    struct tasks_ctx *c = arg;
    if (c->n < c->max)
        fill_task(&c->out[c->n], t, c->self);
    c->n++;
}

CSP_RT size_t csp_debug_tasks(csp_debug_task *out, size_t max)
{
    struct tasks_ctx c = { out, max, 0, csp__backend->current() };
    csp__registry_foreach(collect_task, &c);
    /* The registry lists newest first; hand them out oldest first. */
    size_t n = c.n < max ? c.n : max;
    for (size_t i = 0; i < n / 2; i++) {
        csp_debug_task tmp = out[i];
        out[i] = out[n - 1 - i];
        out[n - 1 - i] = tmp;
    }
    return c.n;
}

static CSP_RT bool timer_wakes(const csp_timer *tm)
{
    return tm->kind == CSP_TIMER_WAKE || csp__chan_has_receiver(tm->chan);
}

struct timers_ctx { csp_debug_timer *out; size_t max, n, wakeable; };

static CSP_RT void collect_timer(const csp_timer *tm, void *arg)
{
    struct timers_ctx *c = arg;
    bool wakes = timer_wakes(tm);
    if (c->out && c->n < c->max)
        c->out[c->n] = (csp_debug_timer){ tm->when, tm->period, tm->program_lifetime,
                                          wakes, tm->created_pc };
    c->n++;
    c->wakeable += wakes;
}

CSP_RT size_t csp_debug_timers(csp_debug_timer *out, size_t max)
{
    struct timers_ctx c = { out, max, 0, 0 };
    csp__backend->timer_foreach(collect_timer, &c);
    return c.n;
}

struct quiet_ctx { csp_debug_quiet *q; const csp_task *exclude; };

static CSP_RT void count_task(csp_task *t, void *arg)
{
    struct quiet_ctx *c = arg;
    if (t == c->exclude)
        return;
    c->q->tasks++;
    if (t->syscall_depth > 0)
        c->q->syscalls++;
    else if (csp__task_blocked(t)) {
        c->q->parked++;
        c->q->forever += csp__wait_is_forever(t->park.reason);
    } else
        c->q->running++;
}

CSP_RT void csp_debug_quiescence(csp_debug_quiet *q, const csp_task *exclude)
{
    memset(q, 0, sizeof *q);
    q->progress = csp__progress_total();
    struct timers_ctx tc = { NULL, 0, 0, 0 };
    csp__backend->timer_foreach(collect_timer, &tc);
    q->armed_timers = tc.n;
    q->wakeable_timers = tc.wakeable;
    struct quiet_ctx c = { q, exclude };
    csp__registry_foreach(count_task, &c);
}

CSP_RT uint64_t csp_debug_current_task(void) { return csp__current ? csp__current->id : 0; }

CSP_RT uint64_t csp_debug_progress(void) { return csp__progress_total(); }
CSP_RT csp_duration csp_debug_last_task_exit(void) { return atomic_load(&csp__last_task_exit); }
CSP_RT int csp_debug_runtime_threads(void) { return atomic_load(&csp__runtime_threads); }
CSP_RT long csp_debug_live_chans(void) { return atomic_load(&csp__live_chans); }

CSP_RT void csp_debug_set_panic_hook(CSP_NORETURN void (*hook)(const char *msg))
{
    csp__panic_hook = hook;
}

CSP_RT void csp_debug_set_task_exit_hook(void (*hook)(uint64_t id, csp_duration when))
{
    csp__task_exit_hook = hook;
}

CSP_RT void csp_debug_set_park_stacks(bool on) { csp__park_stacks = on; }

CSP_RT void csp_debug_set_seed(uint64_t seed) { csp__set_seed(seed); }

CSP_RT void csp_debug_set_noise(unsigned permille) { csp__threads_set_noise(permille); }

CSP_RT int csp_debug_stack_from(uintptr_t pc, uintptr_t fp, uintptr_t *pcs, int max)
{
    if (max <= 0)
        return 0;
    csp_task *t = csp__backend->current();
    pcs[0] = pc + 1;   /* stored as a return address: lookups subtract one */
    return 1 + csp__walk_frames((uintptr_t *)fp, t ? t->stack_lo : 0, t ? t->stack_hi : 0,
                                pcs + 1, max - 1, 0);
}

CSP_RT __attribute__((noinline)) int csp_debug_stack_here(uintptr_t *pcs, int max, int skip)
{
    return csp__capture_stack(pcs, max, skip + 1);
}

CSP_RT void csp_debug_print_stack(FILE *out, const uintptr_t *pcs, int n)
{
    csp__print_stack(out, pcs, n);
}

CSP_RT void csp_debug_print_created_by(FILE *out, uintptr_t pc)
{
    csp__print_created_by(out, pc);
}

CSP_RT bool csp_debug_describe_pc(uintptr_t pc, char *buf, size_t size)
{
    csp_frame_info f;
    bool ok = csp__symbolize(pc, false, &f);
    if (f.line > 0)
        snprintf(buf, size, "%s at %s:%d", f.func, f.file, f.line);
    else
        snprintf(buf, size, "%s", f.func);
    return ok;
}

CSP_RT void csp_debug_dump(FILE *out) { csp__dump_tasks(out); }

CSP_RT bool csp_debug_library_pc(uintptr_t pc) { return csp__library_pc(pc, false); }
