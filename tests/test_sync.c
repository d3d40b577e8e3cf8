/* test_sync.c — wait groups and mutexes (csp.h "Wait groups", "Mutexes"):
 * wg_wait returns only after every done and at once on a zero counter, a
 * negative counter panics; a mutex excludes, trylock never blocks, any task
 * may unlock, and unlocking an unlocked mutex panics. */
#include "testutil.h"

#include <stdatomic.h>

/* ------------------------------------------------------------ Wait groups */

#define WG_WORKERS 8

struct wg_work {
    csp_waitgroup *wg;
    atomic_int     next;
    atomic_int     finished;
    int            slot[WG_WORKERS];
};

static void wg_worker(void *p)
{
    struct wg_work *w = p;
    int i = atomic_fetch_add(&w->next, 1);
    csp_sleep((csp_duration)(5 + 5 * i) * CSP_MILLISECOND);
    w->slot[i] = i + 1;
    atomic_fetch_add(&w->finished, 1);
    csp_wg_done(w->wg);
}

static void wg_wait_returns_after_all_done(void **state)
{
    struct wg_work w = {.wg = csp_wg_make()};
    csp_duration start = csp_now();
    csp_wg_add(w.wg, WG_WORKERS);
    for (int i = 0; i < WG_WORKERS; i++)
        assert_non_null(csp_go(wg_worker, &w, "worker"));
    csp_wg_wait(w.wg);
    assert_int_equal(atomic_load(&w.finished), WG_WORKERS);
    for (int i = 0; i < WG_WORKERS; i++)
        assert_int_equal(w.slot[i], i + 1); /* done happens before wait returns */
    assert_true(testutil_ms(start) >= 5.0 + 5.0 * (WG_WORKERS - 1));
    csp_wg_free(w.wg);
}

static void wg_wait_on_zero_returns_at_once(void **state)
{
    csp_waitgroup *wg = csp_wg_make();
    csp_duration start = csp_now();
    csp_wg_wait(wg);
    csp_wg_add(wg, 2);
    csp_wg_done(wg);
    csp_wg_add(wg, -1);
    csp_wg_wait(wg);
    csp_wg_wait(wg);
    assert_true(testutil_ms(start) < 2000.0);
    csp_wg_free(wg);
    csp_wg_free(NULL); /* a no-op */
}

struct wg_waiters {
    csp_waitgroup *wg;
    atomic_int     woke;
};

static void wg_waiter(void *p)
{
    struct wg_waiters *w = p;
    csp_wg_wait(w->wg);
    atomic_fetch_add(&w->woke, 1);
}

/* Several tasks waiting on one group all wake; the group is reusable. */
static void wg_wakes_every_waiter_and_is_reusable(void **state)
{
    struct wg_waiters w = {.wg = csp_wg_make()};
    csp_waitgroup *joined = csp_wg_make();
    for (int round = 0; round < 2; round++) {
        atomic_store(&w.woke, 0);
        csp_wg_add(w.wg, 1);
        for (int i = 0; i < 4; i++)
            testutil_spawn(joined, wg_waiter, &w, "waiter");
        csp_sleep(50 * CSP_MILLISECOND);
        assert_int_equal(atomic_load(&w.woke), 0);
        csp_wg_done(w.wg);
        csp_wg_wait(joined);
        assert_int_equal(atomic_load(&w.woke), 4);
    }
    csp_wg_free(joined);
    csp_wg_free(w.wg);
}

static void wg_done_below_zero_child(void *arg)
{
    csp_waitgroup *wg = csp_wg_make();
    csp_wg_done(wg);
    fprintf(stderr, "csp_wg_done on a zero counter returned\n");
    _exit(3);
}

static void wg_add_below_zero_child(void *arg)
{
    csp_waitgroup *wg = csp_wg_make();
    csp_wg_add(wg, 1);
    csp_wg_add(wg, -2);
    fprintf(stderr, "csp_wg_add to a negative counter returned\n");
    _exit(3);
}

static void wg_negative_counter_panics(void **state)
{
    testutil_child c;
    testutil_run_child(&c, wg_done_below_zero_child, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "sync: negative WaitGroup counter");
    testutil_run_child(&c, wg_add_below_zero_child, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "sync: negative WaitGroup counter");
}

/* ---------------------------------------------------------------- Mutexes */

#define MUTEX_TASKS 8
#define MUTEX_ROUNDS 10000

struct counter {
    csp_mutex  *mu;
    long        value;       /* guarded by mu, deliberately not atomic */
    atomic_int  inside;      /* tasks between lock and unlock */
    atomic_int  overlaps;    /* times a task found another one inside */
};

static void counter_worker(void *p)
{
    struct counter *c = p;
    for (int i = 0; i < MUTEX_ROUNDS; i++) {
        csp_mutex_lock(c->mu);
        if (atomic_fetch_add(&c->inside, 1) != 0)
            atomic_fetch_add(&c->overlaps, 1);
        c->value++;
        atomic_fetch_sub(&c->inside, 1);
        csp_mutex_unlock(c->mu);
    }
}

static void mutex_excludes(void **state)
{
    struct counter c = {.mu = csp_mutex_make("counter")};
    csp_waitgroup *wg = csp_wg_make();
    for (int i = 0; i < MUTEX_TASKS; i++)
        testutil_spawn(wg, counter_worker, &c, "incrementer");
    csp_wg_wait(wg);
    assert_int_equal(atomic_load(&c.overlaps), 0);
    assert_int_equal(c.value, (long)MUTEX_TASKS * MUTEX_ROUNDS);
    csp_wg_free(wg);
    csp_mutex_free(c.mu);
}

struct try_other {
    csp_mutex *mu;
    bool       got;
};

static void try_from_other_task(void *p)
{
    struct try_other *t = p;
    t->got = csp_mutex_trylock(t->mu);
    if (t->got)
        csp_mutex_unlock(t->mu);
}

static void mutex_trylock(void **state)
{
    csp_mutex *mu = csp_mutex_make(NULL);
    assert_true(csp_mutex_trylock(mu));
    assert_false(csp_mutex_trylock(mu)); /* not reentrant, never blocks */

    struct try_other t = {mu, true};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, try_from_other_task, &t, "trier");
    csp_wg_wait(wg);
    assert_false(t.got);

    csp_mutex_unlock(mu);
    testutil_spawn(wg, try_from_other_task, &t, "trier");
    csp_wg_wait(wg);
    assert_true(t.got);

    csp_mutex_lock(mu);
    csp_mutex_unlock(mu);
    csp_wg_free(wg);
    csp_mutex_free(mu);
    csp_mutex_free(NULL); /* a no-op */
}

struct lock_waiter {
    csp_mutex *mu;
    atomic_int locked;
};

static void lock_then_flag(void *p)
{
    struct lock_waiter *l = p;
    csp_mutex_lock(l->mu);
    atomic_store(&l->locked, 1);
    csp_mutex_unlock(l->mu);
}

static void unlock_from_other(void *p)
{
    csp_mutex_unlock(p);
}

/* lock waits while another task holds the mutex; any task may unlock it. */
static void mutex_lock_waits_and_any_task_unlocks(void **state)
{
    struct lock_waiter l = {csp_mutex_make("held"), 0};
    csp_waitgroup *wg = csp_wg_make();
    csp_mutex_lock(l.mu);
    testutil_spawn(wg, lock_then_flag, &l, "locker");
    csp_sleep(50 * CSP_MILLISECOND);
    assert_int_equal(atomic_load(&l.locked), 0);
    csp_mutex_unlock(l.mu);
    csp_wg_wait(wg);
    assert_int_equal(atomic_load(&l.locked), 1);

    csp_mutex_lock(l.mu);
    testutil_spawn(wg, unlock_from_other, l.mu, "unlocker");
    csp_wg_wait(wg);
    assert_true(csp_mutex_trylock(l.mu));
    csp_mutex_unlock(l.mu);
    csp_wg_free(wg);
    csp_mutex_free(l.mu);
}

static void unlock_unlocked_child(void *arg)
{
    csp_mutex *mu = csp_mutex_make("m");
    if (arg) { /* a second unlock after a balanced pair */
        csp_mutex_lock(mu);
        csp_mutex_unlock(mu);
    }
    csp_mutex_unlock(mu);
    fprintf(stderr, "unlock of an unlocked mutex returned\n");
    _exit(3);
}

static int after_pair = 1;

static void mutex_unlock_of_unlocked_panics(void **state)
{
    testutil_child c;
    testutil_run_child(&c, unlock_unlocked_child, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "unlock of unlocked mutex");
    testutil_run_child(&c, unlock_unlocked_child, &after_pair,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "unlock of unlocked mutex");
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(wg_wait_returns_after_all_done),
        cmocka_unit_test(wg_wait_on_zero_returns_at_once),
        cmocka_unit_test(wg_wakes_every_waiter_and_is_reusable),
        cmocka_unit_test(wg_negative_counter_panics),
        cmocka_unit_test(mutex_excludes),
        cmocka_unit_test(mutex_trylock),
        cmocka_unit_test(mutex_lock_waits_and_any_task_unlocks),
        cmocka_unit_test(mutex_unlock_of_unlocked_panics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
