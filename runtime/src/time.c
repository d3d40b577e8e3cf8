/* time.c — time.After, time.Tick, time.NewTicker, time.Sleep and now, on the
 * backend's timers (real in free mode, virtual in controlled mode).
 *
 * A timer channel has capacity 1 and carries the csp_now() at which it fired;
 * a fire that finds it full is dropped, as in Go. A timer is owned by its
 * channel (csp_after, csp_tick), by its ticker, or by a sleeping task's
 * stack (csp_sleep); the owner disarms it before freeing it. */
#include "internal.h"

#include <stdlib.h>

struct csp_ticker {
    csp_object obj;              /* no lock or queues: only for reclaiming */
    csp_timer timer;
    csp_chan *chan;              /* an object of its own */
};

static CSP_RT void ticker_destroy(csp_object *o) { csp__free(o); }

CSP_RT csp_duration csp_now(void) { return csp__backend->now(); }

/* A fire is progress when it hands something over; a tick dropped on a full
 * channel is not (nobody can see it). */
CSP_RT void csp__timer_fire(csp_timer *tm, csp_duration now)
{
    csp__event(CSP_DEBUG_EVENT_TIMER, 0, tm->kind == CSP_TIMER_WAKE ? tm->task->id : 0, NULL,
               tm->kind == CSP_TIMER_WAKE ? NULL : csp_chan_name(tm->chan));
    if (tm->kind == CSP_TIMER_WAKE) {
        csp__ready(tm->task);
        csp__made_progress();
    } else if (csp__chan_try_send_timer(tm->chan, &now)) {
        csp__made_progress();
    }
}

CSP_RT void csp__timer_free(csp_timer *tm) { csp__free(tm); }

static CSP_RT csp_timer *timer_new(csp_duration d, csp_duration period, uintptr_t pc)
{
    csp_timer *tm = csp__alloc(sizeof *tm);
    tm->kind = CSP_TIMER_CHAN;
    tm->heap_index = -1;
    tm->when = csp__backend->now() + (d > 0 ? d : 0);
    tm->period = period;
    tm->created_pc = pc;
    return tm;
}

/* A timer channel (capacity 1) whose timer is armed: csp_after's (period 0)
 * or csp_tick's (period d, lives as long as the program). pc: the caller's
 * return address, which leak reports name. */
static CSP_RT csp_chan *armed_timer_chan(csp_duration d, csp_duration period, const char *name,
                                         uintptr_t pc)
{
    csp_chan *c = csp_chan_make(sizeof(csp_duration), 1, name);
    csp_timer *tm = timer_new(d, period, pc);
    tm->chan = c;
    tm->program_lifetime = period > 0;
    csp__chan_set_timer(c, tm);
    csp__backend->timer_arm(tm);
    return c;
}

CSP_RT __attribute__((noinline)) csp_chan *csp_after(csp_duration d)
{
    csp__self();
    return armed_timer_chan(d, 0, "time.After", (uintptr_t)__builtin_return_address(0));
}

CSP_RT __attribute__((noinline)) csp_chan *csp_tick(csp_duration d)
{
    csp__self();
    if (d <= 0)
        return NULL;
    return armed_timer_chan(d, d, "time.Tick", (uintptr_t)__builtin_return_address(0));
}

CSP_RT __attribute__((noinline)) csp_ticker *csp_ticker_make(csp_duration d)
{
    csp__self();
    if (d <= 0)
        csp_panic("non-positive interval for csp_ticker_make");
    csp_ticker *t = csp__alloc(sizeof *t);
    t->chan = csp_chan_make(sizeof(csp_duration), 1, "ticker");
    csp__chan_set_timer(t->chan, NULL);
    t->timer.kind = CSP_TIMER_CHAN;
    t->timer.heap_index = -1;
    t->timer.chan = t->chan;
    t->timer.period = d;
    t->timer.when = csp__backend->now() + d;
    t->timer.created_pc = (uintptr_t)__builtin_return_address(0);
    t->obj.destroy = ticker_destroy;
    t->obj.name = "ticker";
    csp__object_register(&t->obj);
    csp__backend->timer_arm(&t->timer);
    return t;
}

CSP_RT csp_chan *csp_ticker_chan(csp_ticker *t)
{
    if (!t)
        csp_panic("csp_ticker_chan: nil ticker");
    return t->chan;
}

CSP_RT void csp_ticker_stop(csp_ticker *t)
{
    if (!t)
        csp_panic("csp_ticker_stop: nil ticker");
    csp__touch(&t->obj);
    csp__backend->timer_disarm(&t->timer);
}

CSP_RT void csp_ticker_free(csp_ticker *t)
{
    if (!t)
        return;
    csp__touch(&t->obj);
    csp__backend->timer_disarm(&t->timer);
    csp__chan_free_ticker(t->chan);
    csp__object_unregister(&t->obj);
    csp__free(t);
}

CSP_RT __attribute__((noinline)) void csp_sleep(csp_duration d)
{
    csp_task *self = csp__self();
    if (d <= 0) {
        csp__backend->point(CSP_POINT_YIELD);
        return;
    }
    csp_timer tm = { .kind = CSP_TIMER_WAKE, .task = self, .heap_index = -1,
                     .when = csp__backend->now() + d,
                     .created_pc = (uintptr_t)__builtin_return_address(0) };
    /* Armed before parking: a fire that comes first leaves its wake-up posted
     * and the park returns at once. */
    csp__backend->timer_arm(&tm);
    csp__park(CSP_WAIT_SLEEP, NULL, NULL, NULL);
}
