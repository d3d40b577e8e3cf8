/* test_chan.c — channels (DESIGN.md §2, csp.h "Channels"): unbuffered
 * rendezvous, buffered FIFO order with len/cap, zero-size elements, discarding
 * receives, close waking every blocked receiver and sender, draining before
 * "closed", and the NULL channel that blocks forever. */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define CLOSE_WAITERS 8

/* ---------------------------------------------------- Unbuffered channels */

struct rendezvous {
    csp_chan   *ch;
    int         value;
    atomic_int  returned;   /* the other side's operation has returned */
    int         got;
    bool        ok;
};

static void rendezvous_sender(void *p)
{
    struct rendezvous *r = p;
    csp_send(r->ch, &r->value);
    atomic_store(&r->returned, 1);
}

static void rendezvous_receiver(void *p)
{
    struct rendezvous *r = p;
    r->ok = csp_recv(r->ch, &r->got);
    atomic_store(&r->returned, 1);
}

/* The sender does not return before a receiver has taken the value, and an
 * unbuffered channel never holds one. */
static void unbuffered_send_waits_for_receiver(void **state)
{
    struct rendezvous r = {.ch = csp_chan_make(sizeof(int), 0, "rendezvous"),
                           .value = 42};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, rendezvous_sender, &r, "sender");

    csp_sleep(100 * CSP_MILLISECOND);
    assert_int_equal(atomic_load(&r.returned), 0);
    assert_int_equal(csp_len(r.ch), 0);
    assert_int_equal(csp_cap(r.ch), 0);

    int got = 0;
    assert_true(csp_recv(r.ch, &got));
    assert_int_equal(got, 42);
    csp_wg_wait(wg);
    assert_int_equal(atomic_load(&r.returned), 1);
    csp_wg_free(wg);
    csp_chan_free(r.ch);
}

static void unbuffered_recv_waits_for_sender(void **state)
{
    struct rendezvous r = {.ch = csp_chan_make(sizeof(int), 0, "rendezvous")};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, rendezvous_receiver, &r, "receiver");

    csp_sleep(100 * CSP_MILLISECOND);
    assert_int_equal(atomic_load(&r.returned), 0);
    int v = 7;
    csp_send(r.ch, &v);
    csp_wg_wait(wg);
    assert_true(r.ok);
    assert_int_equal(r.got, 7);
    csp_wg_free(wg);
    csp_chan_free(r.ch);
}

/* ------------------------------------------------------ Buffered channels */

static void buffered_fifo_len_cap(void **state)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 4, "fifo");
    assert_int_equal(csp_cap(ch), 4);
    assert_int_equal(csp_len(ch), 0);
    for (int i = 1; i <= 4; i++) {
        csp_send(ch, &i); /* room in the buffer: must not block */
        assert_int_equal(csp_len(ch), (size_t)i);
    }
    for (int i = 1; i <= 4; i++) {
        int v = 0;
        assert_true(csp_recv(ch, &v));
        assert_int_equal(v, i);
        assert_int_equal(csp_len(ch), (size_t)(4 - i));
    }
    assert_int_equal(csp_cap(ch), 4);
    csp_chan_free(ch);
}

#define STREAM_N 5000

struct stream {
    csp_chan *ch;
    int       out_of_order;   /* first index received out of order, or -1 */
};

static void stream_producer(void *p)
{
    struct stream *s = p;
    for (int i = 0; i < STREAM_N; i++)
        csp_send(s->ch, &i);
}

/* A producer and a consumer racing through a small buffer keep FIFO order. */
static void buffered_fifo_under_contention(void **state)
{
    struct stream s = {csp_chan_make(sizeof(int), 3, "stream"), -1};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, stream_producer, &s, "producer");
    for (int i = 0; i < STREAM_N; i++) {
        int v = -1;
        assert_true(csp_recv(s.ch, &v));
        if (v != i && s.out_of_order < 0)
            s.out_of_order = i;
        assert_true(csp_len(s.ch) <= 3);
    }
    csp_wg_wait(wg);
    assert_int_equal(s.out_of_order, -1);
    csp_wg_free(wg);
    csp_chan_free(s.ch);
}

/* ---------------------------------------------------- Zero-size elements */

static void zero_size_sender(void *p)
{
    csp_chan *ch = p;
    char junk = 'j';
    csp_send(ch, NULL);
    csp_send(ch, &junk); /* ignored, NULL or not */
}

static void zero_size_elements_ignore_pointer(void **state)
{
    csp_chan *ch = csp_chan_make(0, 0, "done");
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, zero_size_sender, ch, "sender");
    unsigned char canary[8];
    memset(canary, 0xa5, sizeof canary);
    assert_true(csp_recv(ch, NULL));
    assert_true(csp_recv(ch, canary));
    for (size_t i = 0; i < sizeof canary; i++)
        assert_int_equal(canary[i], 0xa5); /* nothing written */
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_free(ch);

    csp_chan *sem = csp_chan_make(0, 3, "tokens");
    char junk = 'j';
    csp_send(sem, NULL);
    csp_send(sem, &junk);
    csp_send(sem, NULL);
    assert_int_equal(csp_len(sem), 3);
    assert_int_equal(csp_cap(sem), 3);
    csp_close(sem);
    for (int i = 0; i < 3; i++)
        assert_true(csp_recv(sem, i % 2 ? canary : NULL));
    assert_false(csp_recv(sem, canary));
    for (size_t i = 0; i < sizeof canary; i++)
        assert_int_equal(canary[i], 0xa5); /* zeroing 0 bytes writes nothing */
    csp_chan_free(sem);
}

static void recv_null_elem_discards(void **state)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 2, "discard");
    int a = 7, b = 8, v = 0;
    csp_send(ch, &a);
    csp_send(ch, &b);
    assert_true(csp_recv(ch, NULL));
    assert_int_equal(csp_len(ch), 1);
    assert_true(csp_recv(ch, &v));
    assert_int_equal(v, 8);
    csp_close(ch);
    assert_false(csp_recv(ch, NULL));
    csp_chan_free(ch);
}

/* ----------------------------------------------------------------- Close */

struct closed_recv {
    csp_chan *ch;
    int       v[CLOSE_WAITERS];
    bool      ok[CLOSE_WAITERS];
    atomic_int slot;
};

static void closed_receiver(void *p)
{
    struct closed_recv *c = p;
    int i = atomic_fetch_add(&c->slot, 1);
    c->v[i] = 0x5a5a5a5a;
    c->ok[i] = csp_recv(c->ch, &c->v[i]);
}

/* Every blocked receiver wakes with false and a zeroed element. */
static void close_wakes_all_receivers(void **state)
{
    struct closed_recv c = {.ch = csp_chan_make(sizeof(int), 0, "quit")};
    csp_waitgroup *wg = csp_wg_make();
    for (int i = 0; i < CLOSE_WAITERS; i++)
        testutil_spawn(wg, closed_receiver, &c, "receiver");
    csp_sleep(100 * CSP_MILLISECOND); /* let them block */
    csp_close(c.ch);
    csp_wg_wait(wg);
    for (int i = 0; i < CLOSE_WAITERS; i++) {
        assert_false(c.ok[i]);
        assert_int_equal(c.v[i], 0);
    }
    csp_wg_free(wg);
    csp_chan_free(c.ch);
}

static void blocked_sender(void *p)
{
    int v = 1;
    csp_send(p, &v);
    fprintf(stderr, "send on a closed channel returned\n");
    _exit(3);
}

static void close_with_blocked_senders_child(void *arg)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "out");
    for (int i = 0; i < CLOSE_WAITERS; i++)
        CHILD_CHECK(csp_go(blocked_sender, ch, "sender") != NULL);
    csp_sleep(100 * CSP_MILLISECOND); /* let them block */
    csp_close(ch);
    csp_sleep(5 * CSP_SECOND); /* a woken sender panics long before */
    fprintf(stderr, "no sender panicked\n");
    _exit(4);
}

/* Every blocked sender wakes and panics; the first panic aborts. */
static void close_wakes_senders_which_panic(void **state)
{
    testutil_child c;
    testutil_run_child(&c, close_with_blocked_senders_child, NULL,
                       TESTUTIL_CHILD_BOUND_MS);
    testutil_assert_panicked(&c, "send on closed channel");
}

/* Buffered values are still delivered after close; then false, forever. */
static void close_drains_buffer_first(void **state)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 3, "drain");
    for (int i = 1; i <= 3; i++)
        csp_send(ch, &i);
    csp_close(ch);
    assert_int_equal(csp_len(ch), 3);
    for (int i = 1; i <= 3; i++) {
        int v = 0;
        assert_true(csp_recv(ch, &v));
        assert_int_equal(v, i);
    }
    for (int i = 0; i < 3; i++) {
        int v = 99;
        assert_false(csp_recv(ch, &v));
        assert_int_equal(v, 0);
    }
    assert_int_equal(csp_len(ch), 0);
    csp_chan_free(ch);
}

struct drain_after_close {
    csp_chan *ch;
    int       got[4];
    int       n;
};

static void drain_receiver(void *p)
{
    struct drain_after_close *d = p;
    int v;
    while (d->n < 4 && csp_recv(d->ch, &v))
        d->got[d->n++] = v;
}

/* A receiver that only starts after close still sees every buffered value. */
static void close_then_receiver_drains(void **state)
{
    struct drain_after_close d = {.ch = csp_chan_make(sizeof(int), 2, "late")};
    int a = 10, b = 20;
    csp_send(d.ch, &a);
    csp_send(d.ch, &b);
    csp_close(d.ch);
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, drain_receiver, &d, "late receiver");
    csp_wg_wait(wg);
    assert_int_equal(d.n, 2);
    assert_int_equal(d.got[0], 10);
    assert_int_equal(d.got[1], 20);
    csp_wg_free(wg);
    csp_chan_free(d.ch);
}

/* ------------------------------------------------------------ NULL channel */

static void null_channel_len_cap_name(void **state)
{
    assert_int_equal(csp_len(NULL), 0);
    assert_int_equal(csp_cap(NULL), 0);
    csp_chan *named = csp_chan_make(sizeof(int), 0, "sizes");
    csp_chan *unnamed = csp_chan_make(sizeof(int), 0, NULL);
    assert_string_equal(csp_chan_name(named), "sizes");
    assert_string_equal(csp_chan_name(unnamed), "chan");
    csp_chan_free(named);
    csp_chan_free(unnamed);
    csp_chan_free(NULL); /* a no-op */
}

/* Keeps a timer armed in the child, so that nothing mistakes the blocked main
 * task for a deadlock: the NULL channel must simply never proceed. */
static void ticking(void *arg)
{
    for (;;)
        csp_sleep(5 * CSP_MILLISECOND);
}

static void null_send_child(void *arg)
{
    csp_go(ticking, NULL, "ticking");
    int v = 1;
    csp_send(NULL, &v);
    fprintf(stderr, "send on a NULL channel returned\n");
    _exit(3);
}

static void null_recv_child(void *arg)
{
    csp_go(ticking, NULL, "ticking");
    int v;
    bool ok = csp_recv(NULL, &v);
    fprintf(stderr, "recv on a NULL channel returned %d\n", ok);
    _exit(3);
}

static void null_channel_send_blocks_forever(void **state)
{
    testutil_child c;
    testutil_run_child(&c, null_send_child, NULL, 300);
    testutil_assert_still_running(&c);
}

static void null_channel_recv_blocks_forever(void **state)
{
    testutil_child c;
    testutil_run_child(&c, null_recv_child, NULL, 300);
    testutil_assert_still_running(&c);
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(unbuffered_send_waits_for_receiver),
        cmocka_unit_test(unbuffered_recv_waits_for_sender),
        cmocka_unit_test(buffered_fifo_len_cap),
        cmocka_unit_test(buffered_fifo_under_contention),
        cmocka_unit_test(zero_size_elements_ignore_pointer),
        cmocka_unit_test(recv_null_elem_discards),
        cmocka_unit_test(close_wakes_all_receivers),
        cmocka_unit_test(close_wakes_senders_which_panic),
        cmocka_unit_test(close_drains_buffer_first),
        cmocka_unit_test(close_then_receiver_drains),
        cmocka_unit_test(null_channel_len_cap_name),
        cmocka_unit_test(null_channel_send_blocks_forever),
        cmocka_unit_test(null_channel_recv_blocks_forever),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
