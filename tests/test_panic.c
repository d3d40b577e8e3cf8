/* test_panic.c — Go-style panics (csp.h "Panics"): each scenario runs in a
 * forked child, which must die by SIGABRT after printing "panic: MESSAGE" and
 * a dump of every task to stderr. Covers Go's own panics, csp_panic's
 * formatting, the dump's task lines (`task ID "NAME" [STATE "OBJECT", N ms]:`)
 * and misuse that Go would not compile (NULL element, NULL wait group, a
 * non-positive ticker period). */
#include "testutil.h"

#include <errno.h>
#include <string.h>

static void expect_panic(void (*scenario)(void *), const char *message)
{
    testutil_child c;
    testutil_run_child(&c, scenario, NULL, TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, message);
}

#define SHOULD_NOT_RETURN(what)                                               \
    do {                                                                      \
        fprintf(stderr, "%s returned instead of panicking\n", what);          \
        _exit(3);                                                             \
    } while (0)

/* ------------------------------------------------------------ Go's panics */

static void send_on_closed_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "results");
    int v = 1;
    csp_close(ch);
    csp_send(ch, &v);
    SHOULD_NOT_RETURN("csp_send on a closed channel");
}

static void select_send_on_closed_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "results");
    int v = 1;
    csp_close(ch);
    csp_case c = {ch, CSP_OP_SEND, &v, false};
    csp_select(&c, 1, false);
    SHOULD_NOT_RETURN("a select send case on a closed channel");
}

static void close_of_closed_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "done");
    csp_close(ch);
    csp_close(ch);
    SHOULD_NOT_RETURN("csp_close of a closed channel");
}

static void close_of_nil_child(void *arg)
{
    csp_close(NULL);
    SHOULD_NOT_RETURN("csp_close(NULL)");
}

static void negative_wg_child(void *arg)
{
    csp_waitgroup *wg = csp_wg_make();
    csp_wg_done(wg);
    SHOULD_NOT_RETURN("csp_wg_done on a zero counter");
}

static void unlock_unlocked_child(void *arg)
{
    csp_mutex *mu = csp_mutex_make("clients");
    csp_mutex_unlock(mu);
    SHOULD_NOT_RETURN("csp_mutex_unlock of an unlocked mutex");
}

static void send_on_closed_panics(void **state)
{
    expect_panic(send_on_closed_child, "send on closed channel");
    expect_panic(select_send_on_closed_child, "send on closed channel");
}

static void close_of_closed_panics(void **state)
{
    expect_panic(close_of_closed_child, "close of closed channel");
}

static void close_of_nil_panics(void **state)
{
    expect_panic(close_of_nil_child, "close of nil channel");
}

static void negative_wg_counter_panics(void **state)
{
    expect_panic(negative_wg_child, "sync: negative WaitGroup counter");
}

static void unlock_of_unlocked_panics(void **state)
{
    expect_panic(unlock_unlocked_child, "unlock of unlocked mutex");
}

/* ----------------------------------------------------- csp_panic and dumps */

static void parked_receiver(void *p)
{
    csp_recv(p, NULL);
}

static void parked_sender(void *p)
{
    int v = 1;
    csp_send(p, &v);
}

static void parked_locker(void *p)
{
    csp_mutex_lock(p);
}

/* Blocks in read(2) on a pipe nobody writes, inside csp_syscall_enter. */
static void parked_in_syscall(void *p)
{
    int *fds = p;
    char b;
    csp_syscall_enter("read stdin");
    while (read(fds[0], &b, 1) < 0 && errno == EINTR) {
    }
    csp_syscall_exit();
}

static void csp_panic_with_receiver_child(void *arg)
{
    csp_chan *sizes = csp_chan_make(sizeof(long), 0, "sizes");
    CHILD_CHECK(csp_go(parked_receiver, sizes, "worker") != NULL);
    csp_sleep(100 * CSP_MILLISECOND); /* let the worker park */
    csp_panic("x %d", 3);
}

/* csp_panic formats like printf; the dump lists the running main task and a
 * second task parked on a named channel. */
static void csp_panic_prints_message_and_dump(void **state)
{
    testutil_child c;
    testutil_run_child(&c, csp_panic_with_receiver_child, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "x 3");
    testutil_assert_err_line(&c, "task 1 \"main\" [running");
    testutil_assert_err_line(&c, "task ", "\"worker\"",
                             "[chan receive \"sizes\"", " ms]");
}

static void dump_states_child(void *arg)
{
    csp_chan *errors = csp_chan_make(sizeof(int), 0, "errors");
    csp_mutex *clients = csp_mutex_make("clients");
    static int fds[2];
    CHILD_CHECK(pipe(fds) == 0);
    csp_mutex_lock(clients);
    CHILD_CHECK(csp_go(parked_sender, errors, "sender") != NULL);
    CHILD_CHECK(csp_go(parked_locker, clients, "locker") != NULL);
    CHILD_CHECK(csp_go(parked_in_syscall, fds, "reader") != NULL);
    csp_sleep(100 * CSP_MILLISECOND);
    csp_panic("dump states");
}

/* A parked sender, a task waiting for a mutex and a task in a declared
 * syscall each show what they wait for. */
static void dump_shows_send_mutex_and_syscall_waits(void **state)
{
    testutil_child c;
    testutil_run_child(&c, dump_states_child, NULL, TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "dump states");
    testutil_assert_err_line(&c, "task 1 \"main\" [running");
    testutil_assert_err_line(&c, "task ", "\"sender\"", "[chan send \"errors\"");
    testutil_assert_err_line(&c, "task ", "\"locker\"",
                             "[mutex lock \"clients\"");
    testutil_assert_err_line(&c, "task ", "\"reader\"", "[syscall",
                             "read stdin");
}

static void panic_in_task_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "jobs");
    csp_close(ch);
    CHILD_CHECK(csp_go(parked_sender, ch, "late sender") != NULL);
    csp_sleep(5 * CSP_SECOND);
    fprintf(stderr, "the task's panic did not end the process\n");
    _exit(4);
}

/* A panic in a spawned task ends the whole process, as in Go. */
static void panic_in_task_aborts_process(void **state)
{
    expect_panic(panic_in_task_child, "send on closed channel");
}

/* ---------------------------------------------------------------- Misuse */

static void send_null_elem_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "nums");
    csp_send(ch, NULL);
    SHOULD_NOT_RETURN("csp_send of a NULL element");
}

/* A NULL element for a channel whose elements have a size: a panic whose
 * message says so. */
static void send_null_elem_panics(void **state)
{
    testutil_child c;
    testutil_run_child(&c, send_null_elem_child, NULL, TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "");
    const char *msg = strstr(c.err, "panic: ");
    const char *eol = msg ? strchr(msg, '\n') : NULL;
    size_t len = eol ? (size_t)(eol - msg) : (msg ? strlen(msg) : 0);
    char line[256] = "";
    if (msg)
        snprintf(line, sizeof line, "%.*s", (int)len, msg);
    if (!strcasestr(line, "null"))
        fail_msg("the panic message does not mention NULL: \"%s\"", line);
}

static void wg_add_null_child(void *arg)
{
    csp_wg_add(NULL, 1);
    SHOULD_NOT_RETURN("csp_wg_add(NULL, 1)");
}

static void wg_add_null_panics(void **state)
{
    expect_panic(wg_add_null_child, "");
}

static void ticker_zero_child(void *arg)
{
    csp_ticker_make(0);
    SHOULD_NOT_RETURN("csp_ticker_make(0)");
}

static void ticker_negative_child(void *arg)
{
    csp_ticker_make(-CSP_MILLISECOND);
    SHOULD_NOT_RETURN("csp_ticker_make(-1ms)");
}

static void ticker_nonpositive_period_panics(void **state)
{
    expect_panic(ticker_zero_child, "");
    expect_panic(ticker_negative_child, "");
}

static void free_with_blocked_task_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "busy");
    CHILD_CHECK(csp_go(parked_receiver, ch, "receiver") != NULL);
    csp_sleep(100 * CSP_MILLISECOND);
    csp_chan_free(ch);
    SHOULD_NOT_RETURN("csp_chan_free of a channel with a blocked receiver");
}

/* "Freeing an object that a task is still blocked on panics." */
static void free_chan_with_blocked_task_panics(void **state)
{
    expect_panic(free_with_blocked_task_child, "");
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(send_on_closed_panics),
        cmocka_unit_test(close_of_closed_panics),
        cmocka_unit_test(close_of_nil_panics),
        cmocka_unit_test(negative_wg_counter_panics),
        cmocka_unit_test(unlock_of_unlocked_panics),
        cmocka_unit_test(csp_panic_prints_message_and_dump),
        cmocka_unit_test(dump_shows_send_mutex_and_syscall_waits),
        cmocka_unit_test(panic_in_task_aborts_process),
        cmocka_unit_test(send_null_elem_panics),
        cmocka_unit_test(wg_add_null_panics),
        cmocka_unit_test(ticker_nonpositive_period_panics),
        cmocka_unit_test(free_chan_with_blocked_task_panics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
