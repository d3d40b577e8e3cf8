/* sync.c — wait groups and mutexes (Go's sync.WaitGroup, sync.Mutex), on the
 * same waiter queues and park/ready seam as channels.
 *
 * Invariants (each object's lock protects all its fields):
 *  - wait group: waiters is non-empty only while counter > 0; when the
 *    counter reaches 0 every waiter is dequeued and readied at once.
 *  - mutex: waiters is non-empty only while locked; unlock hands ownership to
 *    the first waiter (FIFO, no barging), which wakes already owning it.
 *
 * Memory model for TSan (Go's sync): Done releases the wait group and Wait
 * acquires it on return; Unlock releases the mutex and Lock acquires it. */
#include "internal.h"

#include <stdlib.h>

struct csp_waitgroup {
    csp_object obj;              /* obj.lock protects the fields below */
    long counter;
    csp_waitq waiters;
    char race;
};

struct csp_mutex {
    csp_object obj;              /* obj.lock protects the fields below */
    const char *name;
    bool locked;
    csp_waitq waiters;
    char race;
};

static CSP_RT void object_free(csp_object *o) { csp__free(o); }

/* ------------------------------------------------------------ Wait groups */

CSP_RT csp_waitgroup *csp_wg_make(void)
{
    csp__self();
    csp_waitgroup *wg = csp__alloc(sizeof *wg);
    wg->obj.queues[0] = &wg->waiters;
    wg->obj.destroy = object_free;
    wg->obj.name = "wait group";
    csp__object_register(&wg->obj);
    return wg;
}

CSP_RT void csp_wg_free(csp_waitgroup *wg)
{
    if (!wg)
        return;
    csp_lock_acquire(&wg->obj.lock);
    csp__touch(&wg->obj);
    bool busy = wg->waiters.first != NULL;
    csp_lock_release(&wg->obj.lock);
    if (busy)
        csp_panic("free of wait group while tasks wait on it");
    csp__object_unregister(&wg->obj);
    csp__free(wg);
}

static CSP_RT void unlock_wg(void *arg) { csp_lock_release(&((csp_waitgroup *)arg)->obj.lock); }

CSP_RT void csp_wg_add(csp_waitgroup *wg, int delta)
{
    csp__self();
    if (!wg)
        csp_panic("csp_wg_add: nil wait group");
    if (delta < 0)
        race_release(&wg->race);
    csp_lock_acquire(&wg->obj.lock);
    csp__touch(&wg->obj);
    wg->counter += delta;
    if (wg->counter < 0) {
        wg->counter -= delta;   /* leave it as it was for the dump */
        csp_lock_release(&wg->obj.lock);
        csp_panic("sync: negative WaitGroup counter");
    }
    csp_waiter *glist = NULL, *w;
    if (wg->counter == 0) {
        while ((w = csp__waitq_dequeue(&wg->waiters))) {
            w->success = true;
            w->glist = glist;
            glist = w;
        }
    }
    bool zero = wg->counter == 0;
    csp_lock_release(&wg->obj.lock);
    if (zero)
        csp__made_progress();   /* a wait group reaching zero */
    while (glist) {
        w = glist;
        glist = w->glist;
        csp__meet(&wg->obj, w->task, false);   /* a waiter arriving after zero would not wait */
        csp__ready(w->task);
    }
    csp__backend->point(CSP_POINT_SYNC);
}

CSP_RT void csp_wg_done(csp_waitgroup *wg) { csp_wg_add(wg, -1); }

CSP_RT __attribute__((noinline)) void csp_wg_wait(csp_waitgroup *wg)
{
    csp_task *self = csp__self();
    if (!wg)
        csp_panic("csp_wg_wait: nil wait group");
    csp__backend->point(CSP_POINT_SYNC);
    csp_lock_acquire(&wg->obj.lock);
    csp__touch(&wg->obj);
    if (wg->counter == 0) {
        csp_lock_release(&wg->obj.lock);
        race_acquire(&wg->race);
        return;
    }
    csp_waiter w = { .task = self };
    csp__waitq_push(&wg->waiters, &w);
    csp__park(CSP_WAIT_WG, NULL, unlock_wg, wg);
    race_acquire(&wg->race);
}

/* ---------------------------------------------------------------- Mutexes */

CSP_RT csp_mutex *csp_mutex_make(const char *name)
{
    csp__self();
    csp_mutex *m = csp__alloc(sizeof *m);
    m->name = name ? name : "mutex";
    m->obj.queues[0] = &m->waiters;
    m->obj.destroy = object_free;
    m->obj.name = m->name;
    csp__object_register(&m->obj);
    return m;
}

CSP_RT void csp_mutex_free(csp_mutex *m)
{
    if (!m)
        return;
    csp_lock_acquire(&m->obj.lock);
    csp__touch(&m->obj);
    bool busy = m->waiters.first != NULL;
    csp_lock_release(&m->obj.lock);
    if (busy)
        csp_panic("free of mutex \"%s\" while tasks wait for it", m->name);
    csp__object_unregister(&m->obj);
    csp__free(m);
}

static CSP_RT void unlock_mutex(void *arg) { csp_lock_release(&((csp_mutex *)arg)->obj.lock); }

CSP_RT __attribute__((noinline)) void csp_mutex_lock(csp_mutex *m)
{
    csp_task *self = csp__self();
    if (!m)
        csp_panic("csp_mutex_lock: nil mutex");
    csp__backend->point(CSP_POINT_SYNC);
    csp_lock_acquire(&m->obj.lock);
    csp__touch(&m->obj);
    if (!m->locked) {
        m->locked = true;
        csp_lock_release(&m->obj.lock);
        race_acquire(&m->race);
        csp__made_progress();
        return;
    }
    csp_waiter w = { .task = self };
    csp__waitq_push(&m->waiters, &w);
    csp__park(CSP_WAIT_MUTEX, m->name, unlock_mutex, m);
    race_acquire(&m->race);   /* woken owning it: handed over by unlock */
}

CSP_RT bool csp_mutex_trylock(csp_mutex *m)
{
    csp__self();
    if (!m)
        csp_panic("csp_mutex_trylock: nil mutex");
    csp_lock_acquire(&m->obj.lock);
    csp__touch(&m->obj);
    csp__peek(&m->obj);
    bool got = !m->locked;
    m->locked = true;
    csp_lock_release(&m->obj.lock);
    if (got) {
        race_acquire(&m->race);
        csp__made_progress();
    }
    return got;
}

CSP_RT void csp_mutex_unlock(csp_mutex *m)
{
    csp__self();
    if (!m)
        csp_panic("csp_mutex_unlock: nil mutex");
    csp_lock_acquire(&m->obj.lock);
    csp__touch(&m->obj);
    if (!m->locked) {
        csp_lock_release(&m->obj.lock);
        csp_panic("unlock of unlocked mutex \"%s\"", m->name);
    }
    race_release(&m->race);
    csp_waiter *w = csp__waitq_dequeue(&m->waiters);
    if (!w)
        m->locked = false;     /* else: stays locked, owned by w's task */
    csp_lock_release(&m->obj.lock);
    if (w) {
        csp__meet(&m->obj, w->task, false);   /* arriving after the unlock, it would have taken it */
        csp__ready(w->task);
    }
    csp__made_progress();
    csp__backend->point(CSP_POINT_SYNC);
}
