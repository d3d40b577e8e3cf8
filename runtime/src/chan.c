/* chan.c — channels and select, after Go's runtime/chan.go and select.go.
 *
 * Invariants (c->obj.lock protects every mutable field of the channel and the
 * queue links of the waiters on its queues):
 *  - At least one of c->sendq and c->recvq is empty, except for an unbuffered
 *    channel with one task blocked in select on both sending and receiving.
 *  - For a buffered channel: qcount > 0 implies recvq is empty;
 *    qcount < cap implies sendq is empty.
 *  - A closed channel has an empty sendq; its recvq empties at close.
 *  - A waiter on a queue belongs to a parked task (or one about to park,
 *    whose token makes the wake-up safe either way).
 *
 * Waking: whoever completes another task's operation dequeues its waiter,
 * finishes the copy, records the result in the waiter, sets task->fired, and
 * calls ready() after dropping the lock. A select waiter is taken only by the
 * waker that wins the task's sel_done CAS (Go's selectDone), so a select
 * proceeds exactly once.
 *
 * Memory model for TSan (Go's chan.go): a buffered hand-off acquires and
 * releases the slot's address (the kth receive happens before the (k+cap)th
 * send completes; a send happens before its receive completes); a direct
 * hand-off synchronises both ways through the parked task's race_sync; close
 * releases c->race_close and a receive that observes the close acquires it. */
#include "internal.h"

#include <stddef.h>
#include <stdlib.h>
#include <string.h>

struct csp_chan {
    csp_object obj;              /* obj.lock protects the fields below */
    /* Immutable after creation. */
    size_t elem_size, cap, slot_size;
    const char *name;
    uint8_t *buf;                /* cap slots of slot_size bytes (>= 1 each), in the
                                  * channel's own allocation, after the struct */
    bool is_timer;               /* csp_after / csp_tick / ticker channel */
    bool owned_by_ticker;        /* freed only through csp_ticker_free */
    csp_timer *timer;            /* csp_after / csp_tick: stopped on free */
    /* Under lock. */
    size_t qcount, sendx, recvx;
    uint64_t nrecvd;             /* values received so far (dpor's "Buffers": the kth) */
    bool closed;
    csp_waitq recvq, sendq;
    char race_close;             /* TSan: close -> receive-of-closed edge */
};

enum op_result { OP_BLOCK, OP_DONE, OP_CLOSED };

/* ------------------------------------------------------------- Wait queues */

CSP_RT void csp__waitq_push(csp_waitq *q, csp_waiter *w)
{
    w->next = NULL;
    w->prev = q->last;
    if (q->last)
        q->last->next = w;
    else
        q->first = w;
    q->last = w;
    w->queued = true;
}

CSP_RT void csp__waitq_remove(csp_waitq *q, csp_waiter *w)
{
    if (!w->queued)
        return;
    if (w->prev)
        w->prev->next = w->next;
    else
        q->first = w->next;
    if (w->next)
        w->next->prev = w->prev;
    else
        q->last = w->prev;
    w->next = w->prev = NULL;
    w->queued = false;
}

CSP_RT csp_waiter *csp__waitq_dequeue(csp_waitq *q)
{
    for (;;) {
        csp_waiter *w = q->first;
        if (!w)
            return NULL;
        csp__waitq_remove(q, w);
        if (w->is_select) {
            int expected = 0;
            /* Lost: the task's select already proceeded on another case. */
            if (!atomic_compare_exchange_strong(&w->task->sel_done, &expected, 1))
                continue;
        }
        return w;
    }
}

/* True if q holds a waiter that a dequeue would return now. */
static CSP_RT bool waitq_has_live(const csp_waitq *q)
{
    for (const csp_waiter *w = q->first; w; w = w->next)
        if (!w->is_select || atomic_load(&w->task->sel_done) == 0)
            return true;
    return false;
}

static CSP_RT size_t waitq_live(const csp_waitq *q)
{
    size_t n = 0;
    for (const csp_waiter *w = q->first; w; w = w->next)
        n += !w->is_select || atomic_load(&w->task->sel_done) == 0;
    return n;
}

/* ---------------------------------------------------------------- Buffers
 *
 * DESIGN. What partial-order reduction (csp_sched.h, hooks.access) is told
 * an operation touched. An unbuffered channel is one object: every two
 * operations on it are dependent, but for receives on a channel nothing
 * sends on (CSP_ACCESS_OP_RECV: the harness takes them for reads).
 *
 * A buffered channel is a queue, and on a queue a send and a receive
 * commute unless one of them needs the other: the kth receive takes the
 * value of the kth send, and the kth send can go into the buffer only once
 * the (k-cap)th receive has made room. So a buffered channel's operations
 * are SHARED on the channel itself (only close and free are not: they
 * order everything), and they touch objects of their own: the channel's
 * sends (every send, or select send case, orders the others: which is the
 * kth depends on their order), its receives (likewise), and position k
 * (the kth value). A send that would be the kth touches position k and,
 * when k >= cap, position k-cap; a receive that would be the kth touches
 * position k (and, when it lets a parked sender's value in, that one's
 * position). One that cannot complete touches every position whose value
 * could change that: a receive on an empty buffer with n receivers parked
 * before it, positions k..k+n; a send on a full one, k-cap..k-cap+n. A
 * select touches what each of its cases would. A send handed to a parked
 * receiver, or a receive that lets a parked sender in, is no meeting
 * (CSP_ACCESS_MEET): had it come first it would not have waited, and its
 * task could have gone on before the other arrived (tests/test_dpor.c's
 * "taken back" case). With no meetings on it, nothing needs to be peeked
 * at on a buffered channel either (whether a receiver is parked shows
 * nowhere: a receive finds the buffer empty either way, a send finds room
 * either way). Timer channels, whose sends the scheduler
 * makes unseen, stay one object. nrecvd counts the values received: the
 * kth receive is number nrecvd, the kth send nrecvd + qcount. */

#define PART_SENDS 1u
#define PART_RECVS 2u
#define PART_POS(k) (3u + (uint64_t)(k))

static inline CSP_RT bool buffered_model(const csp_chan *c) { return c->cap > 0 && !c->is_timer; }

static CSP_RT void touch_part(const csp_chan *c, uint64_t part)
{
    csp__access_key(csp__key_mix(c->obj.key, part), c->name, CSP_ACCESS_OP_OTHER);
}

/* A receive's csp_access_op on an unbuffered channel: a timer's channel is
 * sent on by the scheduler, which reports no access of its own, so its
 * receives are OTHER. */
static inline CSP_RT csp_access_op recv_op(const csp_chan *c)
{
    return c->is_timer ? CSP_ACCESS_OP_OTHER : CSP_ACCESS_OP_RECV;
}

/* Under c->obj.lock, before the operation: what a send or receive on c
 * touches. Nothing at all unless a controlled run wants accesses. */
static CSP_RT void touch_chan(const csp_chan *c, enum csp_op op)
{
    if (__builtin_expect(!csp__access_on, 1))
        return;
    if (!buffered_model(c)) {
        csp__touch_op(&c->obj, op == CSP_OP_SEND ? CSP_ACCESS_OP_SEND : recv_op(c));
        return;
    }
    csp__touch_op(&c->obj, CSP_ACCESS_OP_SHARED);
    uint64_t r = c->nrecvd, s = r + c->qcount;
    if (op == CSP_OP_SEND) {
        touch_part(c, PART_SENDS);
        if (c->qcount < c->cap || waitq_has_live(&c->recvq)) {
            touch_part(c, PART_POS(s));
            if (s >= c->cap)
                touch_part(c, PART_POS(s - c->cap));
        } else {
            size_t nps = waitq_live(&c->sendq);
            for (size_t i = 0; i <= nps; i++)
                touch_part(c, PART_POS(s - c->cap + i));
        }
    } else {
        touch_part(c, PART_RECVS);
        if (c->qcount > 0) {
            touch_part(c, PART_POS(r));
            if (waitq_has_live(&c->sendq))
                touch_part(c, PART_POS(s));
        } else {
            size_t npr = waitq_live(&c->recvq);
            for (size_t i = 0; i <= npr; i++)
                touch_part(c, PART_POS(r + i));
        }
    }
}

/* ------------------------------------------------------------ Make / free */

/* End of a controlled run: whatever waits on it is gone too. */
static CSP_RT void chan_destroy(csp_object *o)
{
    csp_chan *c = (csp_chan *)o;
    if (c->timer)
        csp__timer_free(c->timer);   /* its heap went with the run */
    csp__free(c);
    atomic_fetch_sub(&csp__live_chans, 1);
}

CSP_RT csp_chan *csp_chan_make(size_t elem_size, size_t cap, const char *name)
{
    csp__self();
    size_t slot = elem_size ? elem_size : 1;
    if (elem_size > ((size_t)1 << 30) || (cap && slot > SIZE_MAX / 2 / cap))
        csp_panic("makechan: size out of range (elem_size %zu, cap %zu, chan \"%s\")",
                  elem_size, cap, name ? name : "chan");
    /* One allocation for the struct and the buffer (under TSan each is an
     * ignore region and two recorded stacks). */
    size_t head = (sizeof(csp_chan) + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
    csp_chan *c = csp__alloc(head + cap * slot);   /* csp__alloc aborts when out of memory */
    if (cap)
        c->buf = (uint8_t *)c + head;
    c->elem_size = elem_size;
    c->cap = cap;
    c->slot_size = slot;
    c->name = name ? name : "chan";
    c->obj.queues[0] = &c->recvq;
    c->obj.queues[1] = &c->sendq;
    c->obj.destroy = chan_destroy;
    c->obj.name = c->name;
    csp__object_register(&c->obj);
    atomic_fetch_add(&csp__live_chans, 1);
    return c;
}

CSP_RT void csp_chan_free(csp_chan *c)
{
    if (!c)
        return;
    if (c->owned_by_ticker)
        csp_panic("csp_chan_free of the channel of a ticker: use csp_ticker_free");
    if (c->timer) {
        csp__backend->timer_disarm(c->timer);
        csp__timer_free(c->timer);
        c->timer = NULL;
    }
    csp_lock_acquire(&c->obj.lock);
    csp__touch(&c->obj);
    bool busy = c->recvq.first || c->sendq.first;
    csp_lock_release(&c->obj.lock);
    if (busy)
        csp_panic("free of channel \"%s\" while tasks are blocked on it", c->name);
    csp__object_unregister(&c->obj);
    csp__free(c);
    atomic_fetch_sub(&csp__live_chans, 1);
}

/* Used by csp_ticker_free, which owns its channel. */
CSP_RT void csp__chan_free_ticker(csp_chan *c)
{
    c->owned_by_ticker = false;
    csp_chan_free(c);
}

CSP_RT void csp__chan_set_timer(csp_chan *c, csp_timer *tm)
{
    c->is_timer = true;
    if (tm)
        c->timer = tm;
    else
        c->owned_by_ticker = true;
}

CSP_RT const char *csp_chan_name(const csp_chan *c) { return c ? c->name : "nil"; }

CSP_RT size_t csp_len(const csp_chan *c)
{
    if (!c)
        return 0;
    csp_chan *m = (csp_chan *)c;
    csp_lock_acquire(&m->obj.lock);
    if (csp__access_on && buffered_model(m)) {   /* the count: every send and receive (Buffers) */
        csp__touch_op(&m->obj, CSP_ACCESS_OP_SHARED);
        touch_part(m, PART_SENDS);
        touch_part(m, PART_RECVS);
    } else {
        csp__touch_op(&m->obj, recv_op(m));
        csp__peek(&m->obj);
    }
    size_t n = m->qcount;
    csp_lock_release(&m->obj.lock);
    return n;
}

CSP_RT size_t csp_cap(const csp_chan *c) { return c ? c->cap : 0; }

/* ------------------------------------------------------- Core operations */

static inline CSP_RT uint8_t *slot(csp_chan *c, size_t i) { return c->buf + i * c->slot_size; }

/* Under TSan, where the program called the channel operation under way (what
 * Go's race detector passes as callerpc): the runtime is not instrumented, so
 * a race report on an element's copy showed the runtime's frames and then
 * fiber_start, never the function that sent or received. The copy's checks
 * are made with this pc as their frame (copy_elem). Kept in the task, not
 * pushed on TSan's shadow stack: a task that never comes back from the
 * operation (a run that ends with it parked) would leave a pushed frame on a
 * fiber that is reused. */
#ifdef CSP_TSAN
#define OP_FRAME()                                                       \
    do {                                                                 \
        if (csp__current)                                                \
            csp__current->race_pc = __builtin_return_address(0);         \
    } while (0)
#else
#define OP_FRAME() ((void)0)
#endif

/* A copy TSan does not see: for values the runtime itself makes (timer
 * fires), which carry no happens-before edge. memcpy would be intercepted;
 * volatile keeps the compiler from turning the loop back into memcpy. A
 * pointer-sized element (most are) is one load and one store. */
static CSP_RT void copy_elem_quiet(csp_chan *c, void *dst, const void *src)
{
    if (!c->elem_size || !dst)
        return;
    if (c->elem_size == sizeof(uint64_t)) {
        uint64_t v;
        __builtin_memcpy(&v, src, sizeof v);    /* a mov: no call to intercept */
        __builtin_memcpy(dst, &v, sizeof v);
        return;
    }
    volatile uint8_t *d = dst;
    const uint8_t *s = src;
    for (size_t i = 0; i < c->elem_size; i++)
        d[i] = s[i];
}

#ifdef CSP_TSAN
void __tsan_read8_pc(void *addr, void *pc);
void __tsan_write8_pc(void *addr, void *pc);
void __tsan_read_range_pc(void *addr, unsigned long size, void *pc);
void __tsan_write_range_pc(void *addr, unsigned long size, void *pc);
#endif

/* The element's copy as the program's access (Go's racereadobjectpc on the
 * sender's value, a write of the receiver's), made at the program's call of
 * the operation (race_pc, OP_FRAME): under TSan, the checks memcpy's
 * interceptor would make, without the interceptor (its entry and exit were
 * a fortieth of a chat schedule); an aligned 8-byte element is one plain
 * 8-byte check each way. */
static inline CSP_RT void copy_elem(csp_chan *c, void *dst, const void *src)
{
    if (!c->elem_size || !dst)
        return;
#ifdef CSP_TSAN
    void *pc = csp__current ? csp__current->race_pc : NULL;
    if (!pc)
        pc = __builtin_return_address(0);
    if (c->elem_size == 8 && !(((uintptr_t)src | (uintptr_t)dst) & 7)) {
        __tsan_read8_pc((void *)src, pc);
        __tsan_write8_pc(dst, pc);
    } else {
        __tsan_read_range_pc((void *)src, c->elem_size, pc);
        __tsan_write_range_pc(dst, c->elem_size, pc);
    }
    copy_elem_quiet(c, dst, src);
#else
    memcpy(dst, src, c->elem_size);
#endif
}

/* The buffered-slot edge (Go's racenotify), around the copy: the copy may
 * go through TSan's memcpy interceptor, so it must sit between the acquire
 * and the release. */
static inline CSP_RT void copy_to_slot(csp_chan *c, size_t i, const void *src, bool race)
{
    if (!race) {
        copy_elem_quiet(c, slot(c, i), src);
        return;
    }
    race_acquire(slot(c, i));
    copy_elem(c, slot(c, i), src);
    race_release(slot(c, i));
}

static inline CSP_RT void copy_from_slot(csp_chan *c, size_t i, void *dst)
{
    race_acquire(slot(c, i));
    copy_elem(c, dst, slot(c, i));
    race_release(slot(c, i));
}

/* Under c->obj.lock: completes a send now if it can. *wake gets the task to
 * ready after unlocking. `race` is false for timer sends, which carry no
 * happens-before edge (the value is made by the runtime). */
static CSP_RT enum op_result send_locked(csp_chan *c, const void *ep, csp_task **wake, bool race)
{
    if (c->closed)
        return OP_CLOSED;
    csp_waiter *w = csp__waitq_dequeue(&c->recvq);
    if (w) {
        /* Direct hand-off into the parked receiver's memory. */
        if (race) {
            race_acquire(&w->task->race_sync);
            copy_elem(c, w->elem, ep);
            race_release(&w->task->race_sync);
        } else {
            copy_elem_quiet(c, w->elem, ep);
        }
        c->nrecvd++;
        w->success = true;
        w->task->fired = w;
        *wake = w->task;
        return OP_DONE;
    }
    if (c->qcount < c->cap) {
        copy_to_slot(c, c->sendx, ep, race);
        if (++c->sendx == c->cap)
            c->sendx = 0;
        c->qcount++;
        return OP_DONE;
    }
    return OP_BLOCK;
}

/* Under c->obj.lock: completes a receive now if it can. OP_CLOSED: closed and
 * drained (the caller zeroes *ep and takes the close edge). */
static CSP_RT enum op_result recv_locked(csp_chan *c, void *ep, csp_task **wake)
{
    csp_waiter *w = csp__waitq_dequeue(&c->sendq);
    if (w) {
        if (c->cap == 0) {
            race_acquire(&w->task->race_sync);
            copy_elem(c, ep, w->elem);
            race_release(&w->task->race_sync);
        } else {
            /* Buffer full: take the head, put the sender's value at the
             * tail (the same slot), as Go does. */
            copy_from_slot(c, c->recvx, ep);
            race_acquire(&w->task->race_sync);
            copy_to_slot(c, c->recvx, w->elem, true);
            race_release(&w->task->race_sync);
            if (++c->recvx == c->cap)
                c->recvx = 0;
            c->sendx = c->recvx;
        }
        c->nrecvd++;
        w->success = true;
        w->task->fired = w;
        *wake = w->task;
        return OP_DONE;
    }
    if (c->qcount > 0) {
        c->nrecvd++;
        copy_from_slot(c, c->recvx, ep);
        if (++c->recvx == c->cap)
            c->recvx = 0;
        c->qcount--;
        return OP_DONE;
    }
    if (c->closed)
        return OP_CLOSED;
    return OP_BLOCK;
}

/* A blocking operation on c completed task t's parked one (t->fired: the
 * waiter it completed; csp_sched.h, CSP_ACCESS_MEET). */
static inline CSP_RT void meet(csp_chan *c, csp_task *t)
{
    /* Not on a buffered channel (Buffers): there the operation that came
     * second would not have waited had it come first. */
    if (__builtin_expect(csp__access_on, 0) && !buffered_model(c))
        csp__access_meet(&c->obj, t, t->fired && t->fired->is_select);
}

static CSP_RT void unlock_chan(void *arg) { csp_lock_release(&((csp_chan *)arg)->obj.lock); }

static CSP_RT void closed_recv_result(csp_chan *c, void *ep)
{
    race_acquire(&c->race_close);
    if (ep && c->elem_size)
        memset(ep, 0, c->elem_size);
}

static CSP_RT void check_elem(csp_chan *c, const void *ep, const char *op)
{
    if (!ep && c->elem_size)
        csp_panic("%s on channel \"%s\" with a NULL element (elem_size %zu; "
                  "only zero-size channels take NULL)", op, c->name, c->elem_size);
}

static inline __attribute__((always_inline)) CSP_RT void chan_op_send(csp_chan *c, const void *elem)
{
    csp_task *self = csp__self();
    if (!c) {
        csp__park(CSP_WAIT_CHAN_SEND_NIL, NULL, NULL, NULL);
        csp_panic("unreachable: woke from send on nil channel");
    }
    check_elem(c, elem, "send");
    csp__backend->point(CSP_POINT_CHAN);
    csp_task *wake = NULL;
    csp_lock_acquire(&c->obj.lock);
    touch_chan(c, CSP_OP_SEND);
    enum op_result r = send_locked(c, elem, &wake, true);
    if (r == OP_DONE) {
        csp_lock_release(&c->obj.lock);
        if (wake) {
            csp__event(CSP_DEBUG_EVENT_HANDOFF, self->id, wake->id, NULL, c->name);
            meet(c, wake);
            csp__ready(wake);
        }
        csp__made_progress();
        return;
    }
    if (r == OP_CLOSED) {
        csp_lock_release(&c->obj.lock);
        csp_panic("send on closed channel");
    }
    csp_waiter w = { .task = self, .chan = c, .elem = (void *)elem };
    csp__waitq_push(&c->sendq, &w);
    race_release(&self->race_sync);
    csp__park(CSP_WAIT_CHAN_SEND, c->name, unlock_chan, c);
    race_acquire(&self->race_sync);
    if (!w.success)
        csp_panic("send on closed channel");
}

CSP_RT __attribute__((noinline)) void csp_send(csp_chan *c, const void *elem)
{
    OP_FRAME();
    chan_op_send(c, elem);
}

static inline __attribute__((always_inline)) CSP_RT bool chan_op_recv(csp_chan *c, void *elem)
{
    csp_task *self = csp__self();
    if (!c) {
        csp__park(CSP_WAIT_CHAN_RECV_NIL, NULL, NULL, NULL);
        csp_panic("unreachable: woke from receive on nil channel");
    }
    csp__backend->point(CSP_POINT_CHAN);
    csp_task *wake = NULL;
    csp_lock_acquire(&c->obj.lock);
    touch_chan(c, CSP_OP_RECV);
    enum op_result r = recv_locked(c, elem, &wake);
    if (r != OP_BLOCK) {
        csp_lock_release(&c->obj.lock);
        if (wake) {
            csp__event(CSP_DEBUG_EVENT_HANDOFF, wake->id, self->id, NULL, c->name);
            meet(c, wake);
            csp__ready(wake);
        }
        if (r == OP_CLOSED) {
            closed_recv_result(c, elem);
            return false;    /* not progress (DESIGN §3) */
        }
        csp__made_progress();
        return true;
    }
    csp_waiter w = { .task = self, .chan = c, .elem = elem };
    csp__waitq_push(&c->recvq, &w);
    race_release(&self->race_sync);
    csp__park(CSP_WAIT_CHAN_RECV, c->name, unlock_chan, c);
    race_acquire(&self->race_sync);
    if (!w.success) {
        closed_recv_result(c, elem);
        return false;
    }
    return true;
}

CSP_RT __attribute__((noinline)) bool csp_recv(csp_chan *c, void *elem)
{
    OP_FRAME();
    return chan_op_recv(c, elem);
}

CSP_RT void csp_close(csp_chan *c)
{
    csp__self();
    if (!c)
        csp_panic("close of nil channel");
    csp__backend->point(CSP_POINT_CHAN);
    csp_lock_acquire(&c->obj.lock);
    csp__touch(&c->obj);
    if (c->closed) {
        csp_lock_release(&c->obj.lock);
        csp_panic("close of closed channel");
    }
    c->closed = true;
    race_release(&c->race_close);
    csp__event(CSP_DEBUG_EVENT_CLOSE, csp__current_id(), 0, NULL, c->name);
    /* Collect every waiter first; ready them after dropping the lock. */
    csp_waiter *glist = NULL, *w;
    while ((w = csp__waitq_dequeue(&c->recvq)) || (w = csp__waitq_dequeue(&c->sendq))) {
        w->success = false;
        w->task->fired = w;
        w->glist = glist;
        glist = w;
    }
    csp_lock_release(&c->obj.lock);
    while (glist) {
        w = glist;
        glist = w->glist;    /* read before ready(): w lives on its task's stack */
        csp__meet(&c->obj, w->task, w->is_select);
        csp__ready(w->task);
    }
    csp__made_progress();
}

/* Timer fires: nonblocking, dropped when full or closed, no TSan edge. */
CSP_RT bool csp__chan_try_send_timer(csp_chan *c, const void *elem)
{
    csp_task *wake = NULL;
    csp_lock_acquire(&c->obj.lock);
    csp__touch(&c->obj);
    enum op_result r = send_locked(c, elem, &wake, false);
    csp_lock_release(&c->obj.lock);
    if (wake)
        csp__ready(wake);
    return r == OP_DONE;
}

CSP_RT bool csp__chan_has_receiver(csp_chan *c)
{
    csp_lock_acquire(&c->obj.lock);   /* an inspection, not an operation: no touch */
    bool r = waitq_has_live(&c->recvq);
    csp_lock_release(&c->obj.lock);
    return r;
}

/* ------------------------------------------------------------------ Select */

#define SELECT_INLINE 8

struct lockset { csp_chan **chans; size_t n; };

/* Locks every channel of the select and touches what each case would
 * (Buffers). */
static CSP_RT void lockset_lock(const struct lockset *s, const csp_case *cases, size_t n)
{
    for (size_t i = 0; i < s->n; i++)
        csp_lock_acquire(&s->chans[i]->obj.lock);
    if (__builtin_expect(csp__access_on, 0))
        for (size_t k = 0; k < n; k++)
            if (cases[k].chan)
                touch_chan(cases[k].chan, cases[k].op);
}

static CSP_RT void lockset_unlock(void *arg)
{
    const struct lockset *s = arg;
    for (size_t i = s->n; i-- > 0;)
        csp_lock_release(&s->chans[i]->obj.lock);
}

/* The distinct non-nil channels of the cases, in address order (Go's
 * lockorder), so that every select takes locks in one global order. */
static CSP_RT size_t lock_order(const csp_case *cases, size_t n, csp_chan **out)
{
    size_t m = 0;
    for (size_t i = 0; i < n; i++) {
        csp_chan *c = cases[i].chan;
        if (!c)
            continue;
        size_t j = m;
        while (j > 0 && (uintptr_t)out[j - 1] > (uintptr_t)c)
            j--;
        if (j > 0 && out[j - 1] == c)
            continue;
        for (size_t k = m; k > j; k--)   /* a handful of cases: no memmove call */
            out[k] = out[k - 1];
        out[j] = c;
        m++;
    }
    return m;
}

static CSP_RT bool case_ready(const csp_case *k)
{
    csp_chan *c = k->chan;
    if (k->op == CSP_OP_SEND)
        return c->closed || waitq_has_live(&c->recvq) || c->qcount < c->cap;
    return c->qcount > 0 || c->closed || waitq_has_live(&c->sendq);
}

/* Pass 1: under all locks, carry out one ready case chosen uniformly at
 * random. Returns its index, or -1 if none is ready. */
static CSP_RT int select_pass1(csp_case *cases, size_t n, size_t *readyv,
                               const struct lockset *ls, bool *closed_send, bool nonblocking)
{
    for (;;) {
        size_t nready = 0;
        for (size_t i = 0; i < n; i++)
            if (cases[i].chan && case_ready(&cases[i]))
                readyv[nready++] = i;
        if (nready == 0)
            return -1;
        size_t i = readyv[csp__backend->choose(nready, CSP_CHOOSE_SELECT)];
        csp_case *k = &cases[i];
        csp_task *wake = NULL;
        enum op_result r = k->op == CSP_OP_SEND ? send_locked(k->chan, k->elem, &wake, true)
                                                : recv_locked(k->chan, k->elem, &wake);
        if (r == OP_BLOCK)
            continue;    /* threads backend: its partner was claimed meanwhile */
        lockset_unlock((void *)ls);
        if (wake) {
            uint64_t me = csp__current_id();
            bool sent = k->op == CSP_OP_SEND;
            csp__event(CSP_DEBUG_EVENT_HANDOFF, sent ? me : wake->id, sent ? wake->id : me, NULL,
                       k->chan->name);
            /* A blocking select that finds its partner waiting: had it come
             * first, it would have parked and the partner completed it
             * (csp_sched.h, CSP_ACCESS_MEET). A select with a default would
             * have taken the default: no meet. */
            if (!nonblocking)
                meet(k->chan, wake);
            csp__ready(wake);
        }
        if (r == OP_CLOSED) {
            if (k->op == CSP_OP_SEND) {
                *closed_send = true;
                return (int)i;
            }
            closed_recv_result(k->chan, k->elem);
            k->ok = false;
        } else {
            k->ok = true;
            csp__made_progress();
        }
        return (int)i;
    }
}

static inline __attribute__((always_inline)) CSP_RT int chan_op_select(csp_case *cases, size_t n, bool nonblocking)
{
    csp_task *self = csp__self();
    if (n > 0 && !cases)
        csp_panic("csp_select: NULL cases with n = %zu", n);
    for (size_t i = 0; i < n; i++) {
        if (cases[i].op != CSP_OP_SEND && cases[i].op != CSP_OP_RECV)
            csp_panic("csp_select: case %zu has an invalid op %d", i, (int)cases[i].op);
        if (cases[i].chan && cases[i].op == CSP_OP_SEND)
            check_elem(cases[i].chan, cases[i].elem, "select send");
        if (cases[i].op == CSP_OP_RECV)
            cases[i].ok = false;
    }
    csp__backend->point(CSP_POINT_SELECT);

    csp_chan *chans_inline[SELECT_INLINE];
    size_t readyv_inline[SELECT_INLINE];
    csp_waiter waiters_inline[SELECT_INLINE];
    csp_chan **chans = chans_inline;
    size_t *readyv = readyv_inline;
    csp_waiter *ws = waiters_inline;
    if (n > SELECT_INLINE) {
        chans = csp__alloc(n * sizeof *chans);
        readyv = csp__alloc(n * sizeof *readyv);
        ws = csp__alloc(n * sizeof *ws);
    }
    struct lockset ls = { chans, lock_order(cases, n, chans) };
    int result;

    lockset_lock(&ls, cases, n);
    for (size_t i = 0; nonblocking && i < ls.n; i++)
        if (!buffered_model(ls.chans[i]))   /* Buffers: nothing to peek at there */
            csp__peek(&ls.chans[i]->obj);
    bool closed_send = false;
    result = select_pass1(cases, n, readyv, &ls, &closed_send, nonblocking);
    if (result >= 0 || nonblocking) {
        if (result < 0)
            lockset_unlock(&ls);
        goto out;
    }
    if (ls.n == 0) {
        /* Blocks forever, as Go's select {} does. */
        csp__park(CSP_WAIT_SELECT_NO_CASES, NULL, NULL, NULL);
        csp_panic("unreachable: woke from select with no cases");
    }

    /* Pass 2: enqueue on every channel, then park. */
    atomic_store(&self->sel_done, 0);
    self->fired = NULL;
    for (size_t i = 0; i < n; i++) {
        ws[i] = (csp_waiter){ .task = self, .chan = cases[i].chan, .elem = cases[i].elem,
                              .case_index = (int)i, .is_select = true };
        if (!cases[i].chan)
            continue;
        csp__waitq_push(cases[i].op == CSP_OP_SEND ? &cases[i].chan->sendq
                                                   : &cases[i].chan->recvq, &ws[i]);
    }
    race_release(&self->race_sync);
    self->park.cases = cases;
    self->park.ncases = n;
    csp__park(CSP_WAIT_SELECT, NULL, lockset_unlock, &ls);
    race_acquire(&self->race_sync);

    /* Pass 3: dequeue from the unsuccessful channels. */
    csp_waiter *fired = self->fired;
    CSP_ASSERT(fired != NULL);
    lockset_lock(&ls, cases, n);
    for (size_t i = 0; i < n; i++) {
        csp_waiter *w = &ws[i];
        if (w != fired && w->chan)
            csp__waitq_remove(cases[i].op == CSP_OP_SEND ? &w->chan->sendq
                                                         : &w->chan->recvq, w);
    }
    atomic_store(&self->sel_done, 0);
    lockset_unlock(&ls);

    result = fired->case_index;
    if (cases[result].op == CSP_OP_SEND) {
        closed_send = !fired->success;
    } else {
        cases[result].ok = fired->success;
        if (!fired->success)
            closed_recv_result(cases[result].chan, cases[result].elem);
    }
out:
    if (n > SELECT_INLINE) {
        csp__free(chans);
        csp__free(readyv);
        csp__free(ws);
    }
    if (closed_send)
        csp_panic("send on closed channel");
    return result;
}

CSP_RT __attribute__((noinline)) int csp_select(csp_case *cases, size_t n, bool nonblocking)
{
    OP_FRAME();
    return chan_op_select(cases, n, nonblocking);
}
