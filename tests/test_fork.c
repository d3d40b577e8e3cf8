/* test_fork.c — the runtime without a harness (csp.h "Threads"): a plain
 * main() is task 1 "main", spawned tasks and adopted threads get their own
 * never-reused ids, a forked child keeps its calling task and can make
 * channels, spawn tasks and use timers (even when the parent was busy at the
 * fork), and csp_syscall_enter/exit nest. */
#include "testutil.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <sys/wait.h>

/* ------------------------------------------------------------- Tasks */

static void main_thread_is_task_one(void **state)
{
    csp_task *self = csp_self();
    assert_non_null(self);
    assert_ptr_equal(csp_self(), self);
    assert_int_equal(csp_task_id(self), 1);
    assert_int_equal(csp_task_id(csp_self()), csp_task_id(self));
    assert_string_equal(csp_task_name(self), "main");
}

struct identity {
    csp_task *self;
    uint64_t  id;
    char      name[32];
};

static void record_identity(void *p)
{
    struct identity *who = p;
    who->self = csp_self();
    who->id = csp_task_id(who->self);
    snprintf(who->name, sizeof who->name, "%s", csp_task_name(who->self));
}

static void spawned_tasks_have_own_ids(void **state)
{
    struct identity a = {0}, b = {0};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, record_identity, &a, "alpha");
    csp_wg_wait(wg);
    testutil_spawn(wg, record_identity, &b, NULL);
    csp_wg_wait(wg);
    assert_non_null(a.self);
    assert_non_null(b.self);
    assert_true(a.id > 1);
    assert_true(b.id > a.id); /* never reused */
    assert_string_equal(a.name, "alpha");
    assert_string_equal(b.name, "task");
    assert_int_equal(csp_task_id(csp_self()), 1);
    csp_wg_free(wg);
}

static void *adopted_thread(void *p)
{
    struct identity *who = p;
    record_identity(who);
    /* An adopted thread is a full task: it can use channels. */
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "adopted");
    int v = 5, got = 0;
    csp_send(ch, &v);
    if (!csp_recv(ch, &got) || got != 5)
        who->id = 0;
    csp_chan_free(ch);
    return NULL;
}

/* Any other thread becomes a task the first time it calls in. */
static void foreign_thread_is_adopted(void **state)
{
    struct identity who = {0};
    pthread_t th;
    assert_int_equal(pthread_create(&th, NULL, adopted_thread, &who), 0);
    assert_int_equal(pthread_join(th, NULL), 0);
    assert_non_null(who.self);
    assert_true(who.id > 1);
}

/* ----------------------------------------------------------------- Fork */

struct pingpong {
    csp_chan *ping;
    csp_chan *pong;
};

struct pinger_arg {
    struct pingpong *pp;
    csp_waitgroup   *wg;
};

/* Runs in forked children too: no cmocka, so no testutil_spawn. */
static void ponger(void *p)
{
    struct pinger_arg *a = p;
    int v;
    while (csp_recv(a->pp->ping, &v)) {
        v++;
        csp_send(a->pp->pong, &v);
    }
    csp_wg_done(a->wg);
}

/* What a child does with the runtime: tasks, channels, select, a wait group,
 * a mutex, csp_sleep and csp_after. Returns 0 when all went as expected. */
static int use_runtime(uint64_t expect_id)
{
    csp_task *self = csp_self();
    if (!self || (expect_id && csp_task_id(self) != expect_id))
        return 1;
    struct pingpong pp = {csp_chan_make(sizeof(int), 0, "ping"),
                          csp_chan_make(sizeof(int), 0, "pong")};
    csp_waitgroup *wg = csp_wg_make();
    struct pinger_arg arg = {&pp, wg};
    csp_wg_add(wg, 4);
    for (int i = 0; i < 4; i++)
        if (!csp_go(ponger, &arg, "ponger"))
            return 5;
    for (int i = 0; i < 100; i++) {
        int v = i, back = -1;
        csp_send(pp.ping, &v);
        csp_case c = {pp.pong, CSP_OP_RECV, &back, false};
        if (csp_select(&c, 1, false) != 0 || !c.ok || back != i + 1)
            return 2;
    }
    csp_close(pp.ping);
    csp_wg_wait(wg);

    csp_mutex *mu = csp_mutex_make("child");
    csp_mutex_lock(mu);
    csp_mutex_unlock(mu);

    csp_duration start = csp_now();
    csp_sleep(10 * CSP_MILLISECOND);
    if (csp_now() - start < 10 * CSP_MILLISECOND)
        return 3;
    start = csp_now();
    csp_chan *after = csp_after(10 * CSP_MILLISECOND);
    csp_duration fired = 0;
    if (!csp_recv(after, &fired) || fired < start + 10 * CSP_MILLISECOND)
        return 4;
    csp_chan_free(after);
    csp_mutex_free(mu);
    csp_wg_free(wg);
    csp_chan_free(pp.ping);
    csp_chan_free(pp.pong);
    return 0;
}

static void child_uses_runtime_and_exits(void *arg)
{
    int rc = use_runtime(1);
    if (rc != 0)
        fprintf(stderr, "use_runtime failed at step %d\n", rc);
    fflush(stderr);
    exit(rc); /* a normal exit: atexit handlers run in the child too */
}

static void sleeper(void *p)
{
    csp_sleep(*(csp_duration *)p);
}

/* The parent has tasks and timers (so runtime threads) when it forks. */
static void forked_child_can_use_runtime(void **state)
{
    static csp_duration nap = 200 * CSP_MILLISECOND;
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, sleeper, &nap, "sleeper");
    csp_chan *pending = csp_after(CSP_SECOND); /* a timer still armed */

    testutil_child c;
    testutil_run_child(&c, child_uses_runtime_and_exits, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_exited_ok(&c);

    csp_wg_wait(wg); /* the parent's own tasks are untouched */
    csp_wg_free(wg);
    csp_chan_free(pending);
}

#define PARENT_SLEEPERS 4
#define SCRIBBLERS 8

/* Writes over the top of its own stack. In a child, glibc hands new threads
 * the stacks of the parent's threads that did not survive the fork, so this
 * overwrites whatever those threads had on their stacks. */
static void scribble_stack(void *wg)
{
    volatile unsigned char junk[16 * 1024];
    for (size_t i = 0; i < sizeof junk; i++)
        junk[i] = 0xa5;
    csp_wg_done(wg);
}

static void child_after_parent_sleepers(void *arg)
{
    csp_waitgroup *wg = csp_wg_make();
    csp_wg_add(wg, SCRIBBLERS);
    for (int i = 0; i < SCRIBBLERS; i++)
        CHILD_CHECK(csp_go(scribble_stack, wg, "scribbler") != NULL);
    csp_wg_wait(wg);
    /* Past the deadlines the parent's sleepers had at the fork. */
    csp_sleep(200 * CSP_MILLISECOND);
    int rc = use_runtime(1);
    if (rc != 0)
        fprintf(stderr, "use_runtime failed at step %d\n", rc);
    _exit(rc);
}

/* Tasks asleep in the parent at the fork do not exist in the child; their
 * pending sleeps must not haunt the child's timers (their stacks get reused
 * by the child's new threads). */
static void forked_child_survives_parent_sleepers(void **state)
{
    static csp_duration nap = 150 * CSP_MILLISECOND;
    csp_waitgroup *wg = csp_wg_make();
    for (int i = 0; i < PARENT_SLEEPERS; i++)
        testutil_spawn(wg, sleeper, &nap, "sleeper");
    csp_sleep(20 * CSP_MILLISECOND); /* let them fall asleep */

    testutil_child c;
    testutil_run_child(&c, child_after_parent_sleepers, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_exited_ok(&c);

    csp_wg_wait(wg);
    csp_wg_free(wg);
}

static void grandchild(void *arg)
{
    _exit(use_runtime(1));
}

static void child_forks_again(void *arg)
{
    CHILD_CHECK(use_runtime(1) == 0);
    testutil_child c;
    /* testutil_run_child reports its own errors by _exit in a child. */
    testutil_run_child(&c, grandchild, NULL, TESTUTIL_CHILD_BOUND_MS / 2);
    if (!(c.exited && c.exit_code == 0)) {
        fprintf(stderr, "grandchild failed (exit %d, signal %d)\n%s",
                c.exit_code, c.signo, c.err);
        _exit(5);
    }
    _exit(0);
}

static void forked_child_can_fork_again(void **state)
{
    testutil_child c;
    testutil_run_child(&c, child_forks_again, NULL, TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_exited_ok(&c);
}

/* -------------------------------------- Fork while other tasks are busy */

#define BUSY_FORKS 10

struct busy {
    csp_chan   *ch;
    csp_mutex  *mu;
    atomic_int  stop;
    long        counter;  /* guarded by mu */
};

static void busy_sender(void *p)
{
    struct busy *b = p;
    for (int i = 0; !atomic_load(&b->stop); i++) {
        csp_send(b->ch, &i);
        csp_mutex_lock(b->mu);
        b->counter++;
        csp_mutex_unlock(b->mu);
    }
    csp_close(b->ch);
}

static void busy_receiver(void *p)
{
    struct busy *b = p;
    while (csp_recv(b->ch, NULL)) {
        csp_mutex_lock(b->mu);
        b->counter++;
        csp_mutex_unlock(b->mu);
    }
}

static void quick_child(void *arg)
{
    _exit(use_runtime(1));
}

/* Forks while two tasks hammer a channel and a mutex: whatever runtime lock
 * they held at that instant must not stay held in the child. */
static void fork_while_tasks_are_busy(void **state)
{
    struct busy b = {csp_chan_make(sizeof(int), 0, "busy"),
                     csp_mutex_make("busy"), 0, 0};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, busy_sender, &b, "busy sender");
    testutil_spawn(wg, busy_receiver, &b, "busy receiver");
    for (int i = 0; i < BUSY_FORKS; i++) {
        testutil_child c;
        testutil_run_child(&c, quick_child, NULL, TESTUTIL_CHILD_BOUND_MS / 2);
        testutil_assert_exited_ok(&c);
    }
    atomic_store(&b.stop, 1);
    csp_wg_wait(wg);
    assert_true(b.counter > 0);
    csp_wg_free(wg);
    csp_mutex_free(b.mu);
    csp_chan_free(b.ch);
}

/* ------------------------------------------------------------- Syscalls */

static void nested_syscalls(void *p)
{
    int *ok = p;
    csp_syscall_enter("outer");
    csp_syscall_enter("inner");
    csp_syscall_enter("innermost");
    csp_syscall_exit();
    csp_syscall_exit();
    csp_syscall_exit();
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "after");
    int v = 1;
    csp_send(ch, &v);
    *ok = csp_recv(ch, &v) && v == 1;
    csp_chan_free(ch);
}

static void syscall_enter_exit_nest(void **state)
{
    csp_syscall_enter("read stdin");
    csp_syscall_enter("poll");
    csp_syscall_exit();
    csp_syscall_enter("poll");
    csp_syscall_exit();
    csp_syscall_exit();

    int ok = 0;
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, nested_syscalls, &ok, "syscaller");
    csp_wg_wait(wg);
    assert_int_equal(ok, 1);
    csp_wg_free(wg);

    /* The runtime still works on this task afterwards. */
    csp_chan *ch = csp_after(CSP_MILLISECOND);
    assert_true(csp_recv(ch, NULL));
    csp_chan_free(ch);
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(main_thread_is_task_one),
        cmocka_unit_test(spawned_tasks_have_own_ids),
        cmocka_unit_test(foreign_thread_is_adopted),
        cmocka_unit_test(forked_child_can_use_runtime),
        cmocka_unit_test(forked_child_survives_parent_sleepers),
        cmocka_unit_test(forked_child_can_fork_again),
        cmocka_unit_test(fork_while_tasks_are_busy),
        cmocka_unit_test(syscall_enter_exit_nest),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
