/* object.c — the registry of live channels, wait groups and mutexes, and what
 * fork() does with them (see csp_object in internal.h).
 *
 * Fork: prepare takes the registry lock, then every object's lock in address
 * order (the order select uses, so no thread can hold a higher lock while
 * waiting for a lower one); the parent releases them all; the child, whose
 * only thread is the forking one, drops every waiter (they belong to tasks
 * that do not exist in the child, and their records sit on stacks the child
 * will reuse) and releases the locks. */
#include "internal.h"

#include <stdlib.h>

static csp_lock objects_lock = CSP_LOCK_INIT;
static csp_object *objects_head;
static csp_object **fork_locked;   /* prepare → parent/child */
static size_t fork_nlocked;
static uint64_t current_run, run_counter;

/* Under objects_lock. */
static CSP_RT void unlink_locked(csp_object *o)
{
    if (o->obj_prev)
        o->obj_prev->obj_next = o->obj_next;
    else
        objects_head = o->obj_next;
    if (o->obj_next)
        o->obj_next->obj_prev = o->obj_prev;
}

CSP_RT void csp__object_register(csp_object *o)
{
    csp_lock_acquire(&objects_lock);
    o->run = current_run;
    /* Its key (csp_sched_access): made by a task, from the task's key and
     * its rank among the task's objects; else its address. */
    csp_task *t = csp__current;
    o->key = t ? csp__key_mix(t->key ^ 0x6f626a65637473ull, ++t->nobjects) : (uint64_t)(uintptr_t)o;
    o->obj_prev = NULL;
    o->obj_next = objects_head;
    if (objects_head)
        objects_head->obj_prev = o;
    objects_head = o;
    csp_lock_release(&objects_lock);
}

CSP_RT void csp__object_unregister(csp_object *o)
{
    csp_lock_acquire(&objects_lock);
    unlink_locked(o);
    csp_lock_release(&objects_lock);
}

CSP_RT void csp__objects_begin_run(void)
{
    csp_lock_acquire(&objects_lock);
    current_run = ++run_counter;
    csp_lock_release(&objects_lock);
}

CSP_RT void csp__objects_end_run(void)
{
    csp_lock_acquire(&objects_lock);
    csp_object *o = objects_head, *doomed = NULL;
    while (o) {
        csp_object *next = o->obj_next;
        if (o->run == current_run && current_run) {
            unlink_locked(o);
            o->obj_next = doomed;
            doomed = o;
        }
        o = next;
    }
    current_run = 0;
    csp_lock_release(&objects_lock);
    while (doomed) {
        o = doomed;
        doomed = o->obj_next;
        o->destroy(o);
    }
}

static CSP_RT int by_address(const void *a, const void *b)
{
    uintptr_t x = (uintptr_t)*(csp_object *const *)a, y = (uintptr_t)*(csp_object *const *)b;
    return x < y ? -1 : x > y;
}

CSP_RT void csp__objects_fork_prepare(void)
{
    csp_lock_acquire(&objects_lock);
    size_t n = 0;
    for (csp_object *o = objects_head; o; o = o->obj_next)
        n++;
    fork_locked = n ? csp__alloc(n * sizeof *fork_locked) : NULL;
    fork_nlocked = 0;
    if (!fork_locked)
        return;   /* no memory: the child may find a lock held (documented risk) */
    for (csp_object *o = objects_head; o; o = o->obj_next)
        fork_locked[fork_nlocked++] = o;
    qsort(fork_locked, fork_nlocked, sizeof *fork_locked, by_address);
    for (size_t i = 0; i < fork_nlocked; i++)
        csp_lock_acquire(&fork_locked[i]->lock);
}

static CSP_RT void release_all(void)
{
    for (size_t i = fork_nlocked; i-- > 0;)
        csp_lock_release(&fork_locked[i]->lock);
    csp__free(fork_locked);
    fork_locked = NULL;
    fork_nlocked = 0;
    csp_lock_release(&objects_lock);
}

CSP_RT void csp__objects_fork_parent(void) { release_all(); }

CSP_RT void csp__objects_fork_child(void)
{
    for (csp_object *o = objects_head; o; o = o->obj_next)
        for (int q = 0; q < 2; q++)
            if (o->queues[q])
                *o->queues[q] = (csp_waitq){ NULL, NULL };
    /* The child has one thread: nobody can be waiting on these locks. */
    for (size_t i = fork_nlocked; i-- > 0;)
        atomic_store(&fork_locked[i]->lock.v, 0);
    csp__free(fork_locked);
    fork_locked = NULL;
    fork_nlocked = 0;
    atomic_store(&objects_lock.v, 0);
}
