/* test_select.c — csp_select (csp.h "Select"): a uniform choice among ready
 * cases, NULL-channel cases never chosen, `default` (nonblocking -1), closed
 * channels, waking on a later send, send cases, no value lost or duplicated
 * when several selects compete, and no stale enqueueing after a select returns. */
#include "testutil.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define UNIFORM_ROUNDS 10000

/* Two always-ready cases: each is chosen 40–60% of the time. */
static void uniform_choice_among_ready(void **state)
{
    csp_chan *ch[2] = {csp_chan_make(sizeof(int), 1, "left"),
                       csp_chan_make(sizeof(int), 1, "right")};
    int zero = 0, one = 1;
    csp_send(ch[0], &zero);
    csp_send(ch[1], &one);
    int count[2] = {0, 0};
    for (int i = 0; i < UNIFORM_ROUNDS; i++) {
        int v = -1;
        csp_case cases[2] = {{ch[0], CSP_OP_RECV, &v, false},
                             {ch[1], CSP_OP_RECV, &v, false}};
        int k = csp_select(cases, 2, false);
        assert_in_range(k, 0, 1);
        assert_true(cases[k].ok);
        assert_int_equal(v, k);
        count[k]++;
        csp_send(ch[k], &v); /* refill: both stay ready */
    }
    assert_in_range(count[0], UNIFORM_ROUNDS * 4 / 10, UNIFORM_ROUNDS * 6 / 10);
    assert_in_range(count[1], UNIFORM_ROUNDS * 4 / 10, UNIFORM_ROUNDS * 6 / 10);
    csp_chan_free(ch[0]);
    csp_chan_free(ch[1]);
}

/* Closed channels are always ready too: the choice is uniform among them. */
static void uniform_choice_among_closed(void **state)
{
    csp_chan *ch[2] = {csp_chan_make(sizeof(int), 0, "a"),
                       csp_chan_make(sizeof(int), 0, "b")};
    csp_close(ch[0]);
    csp_close(ch[1]);
    int count[2] = {0, 0};
    for (int i = 0; i < UNIFORM_ROUNDS; i++) {
        csp_case cases[2] = {{ch[0], CSP_OP_RECV, NULL, true},
                             {ch[1], CSP_OP_RECV, NULL, true}};
        int k = csp_select(cases, 2, true);
        assert_in_range(k, 0, 1);
        assert_false(cases[k].ok);
        count[k]++;
    }
    assert_in_range(count[0], UNIFORM_ROUNDS * 4 / 10, UNIFORM_ROUNDS * 6 / 10);
    csp_chan_free(ch[0]);
    csp_chan_free(ch[1]);
}

static void null_chan_case_never_chosen(void **state)
{
    csp_chan *ready = csp_chan_make(sizeof(int), 1, "ready");
    int v = 5;
    for (int i = 0; i < 1000; i++) {
        csp_send(ready, &v);
        int a = 0, b = 0;
        csp_case cases[4] = {{NULL, CSP_OP_RECV, &a, false},
                             {NULL, CSP_OP_SEND, &v, false},
                             {ready, CSP_OP_RECV, &b, false},
                             {NULL, CSP_OP_RECV, NULL, false}};
        assert_int_equal(csp_select(cases, 4, i % 2 == 0), 2);
        assert_int_equal(b, 5);
        assert_int_equal(a, 0);
    }
    csp_case only_null[2] = {{NULL, CSP_OP_RECV, NULL, false},
                             {NULL, CSP_OP_SEND, &v, false}};
    assert_int_equal(csp_select(only_null, 2, true), -1);
    csp_chan_free(ready);
}

static void nonblocking_nothing_ready(void **state)
{
    csp_chan *empty = csp_chan_make(sizeof(int), 0, "empty");
    csp_chan *full = csp_chan_make(sizeof(int), 1, "full");
    int v = 1, got = 77;
    csp_send(full, &v);
    csp_case cases[3] = {{empty, CSP_OP_RECV, &got, false},
                         {empty, CSP_OP_SEND, &v, false},
                         {full, CSP_OP_SEND, &v, false}};
    assert_int_equal(csp_select(cases, 3, true), -1);
    assert_int_equal(got, 77);
    assert_int_equal(csp_len(full), 1);
    assert_int_equal(csp_select(NULL, 0, true), -1);
    csp_chan_free(empty);
    csp_chan_free(full);
}

static void recv_from_closed_reports_not_ok(void **state)
{
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "closing");
    int v = 3, got = 0;
    csp_send(ch, &v);
    csp_close(ch);
    csp_case c1 = {ch, CSP_OP_RECV, &got, false};
    assert_int_equal(csp_select(&c1, 1, false), 0);
    assert_true(c1.ok);                  /* the buffered value first */
    assert_int_equal(got, 3);
    got = 99;
    csp_case c2 = {ch, CSP_OP_RECV, &got, true};
    assert_int_equal(csp_select(&c2, 1, false), 0);
    assert_false(c2.ok);
    assert_int_equal(got, 0);            /* zeroed */
    csp_chan_free(ch);
}

struct delayed {
    csp_chan    *ch;
    int          value;
    csp_duration delay;
};

static void delayed_send(void *p)
{
    struct delayed *d = p;
    csp_sleep(d->delay);
    csp_send(d->ch, &d->value);
}

static void delayed_recv(void *p)
{
    struct delayed *d = p;
    csp_sleep(d->delay);
    if (!csp_recv(d->ch, &d->value))
        d->value = -1;
}

static void blocking_select_wakes_on_send(void **state)
{
    csp_chan *a = csp_chan_make(sizeof(int), 0, "a");
    csp_chan *b = csp_chan_make(sizeof(int), 0, "b");
    struct delayed d = {b, 5, 50 * CSP_MILLISECOND};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, delayed_send, &d, "sender");
    int va = 0, vb = 0;
    csp_case cases[2] = {{a, CSP_OP_RECV, &va, false},
                         {b, CSP_OP_RECV, &vb, false}};
    assert_int_equal(csp_select(cases, 2, false), 1);
    assert_true(cases[1].ok);
    assert_int_equal(vb, 5);
    assert_int_equal(va, 0);
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_free(a);
    csp_chan_free(b);
}

static void select_send_case(void **state)
{
    /* Ready at once: room in a buffer. */
    csp_chan *buf = csp_chan_make(sizeof(int), 1, "buf");
    int v = 11;
    csp_case ready = {buf, CSP_OP_SEND, &v, false};
    assert_int_equal(csp_select(&ready, 1, true), 0);
    assert_int_equal(csp_len(buf), 1);
    int got = 0;
    assert_true(csp_recv(buf, &got));
    assert_int_equal(got, 11);

    /* Blocking: a receiver shows up later on an unbuffered channel. */
    csp_chan *out = csp_chan_make(sizeof(int), 0, "out");
    csp_chan *never = csp_chan_make(sizeof(int), 0, "never");
    struct delayed d = {out, 0, 50 * CSP_MILLISECOND};
    csp_waitgroup *wg = csp_wg_make();
    testutil_spawn(wg, delayed_recv, &d, "receiver");
    int w = 12, dummy = 0;
    csp_case cases[2] = {{never, CSP_OP_RECV, &dummy, false},
                         {out, CSP_OP_SEND, &w, false}};
    assert_int_equal(csp_select(cases, 2, false), 1);
    csp_wg_wait(wg);
    assert_int_equal(d.value, 12);
    csp_wg_free(wg);
    csp_chan_free(buf);
    csp_chan_free(out);
    csp_chan_free(never);
}

/* ---------------------------------------------- Several selects competing */

#define MUX_CHANS 3
#define MUX_PER_CHAN 3000
#define MUX_RECEIVERS 3

struct mux {
    csp_chan      *ch[MUX_CHANS];
    atomic_int     next_sender;
    atomic_int     next_receiver;
    unsigned char  seen[MUX_RECEIVERS][MUX_CHANS * MUX_PER_CHAN];
    int            bad[MUX_RECEIVERS];   /* values out of range */
    atomic_int     send_bad;             /* select send cases not chosen */
};

/* Sender k sends k*N .. k*N+N-1 on channel k: even channels by csp_send, odd
 * ones through a select send case, then closes its channel. */
static void mux_sender(void *p)
{
    struct mux *m = p;
    int k = atomic_fetch_add(&m->next_sender, 1);
    for (int i = 0; i < MUX_PER_CHAN; i++) {
        int v = k * MUX_PER_CHAN + i;
        if (k % 2 == 0) {
            csp_send(m->ch[k], &v);
        } else {
            csp_case c[2] = {{NULL, CSP_OP_RECV, NULL, false},
                             {m->ch[k], CSP_OP_SEND, &v, false}};
            if (csp_select(c, 2, false) != 1)
                atomic_fetch_add(&m->send_bad, 1);
        }
    }
    csp_close(m->ch[k]);
}

/* Each receiver selects over all three channels until all are closed,
 * dropping a closed channel from its cases (Go: set it to nil). */
static void mux_receiver(void *p)
{
    struct mux *m = p;
    int r = atomic_fetch_add(&m->next_receiver, 1);
    csp_chan *live[MUX_CHANS];
    memcpy(live, m->ch, sizeof live);
    int open = MUX_CHANS;
    while (open > 0) {
        int v[MUX_CHANS] = {-1, -1, -1};
        csp_case c[MUX_CHANS];
        for (int k = 0; k < MUX_CHANS; k++)
            c[k] = (csp_case){live[k], CSP_OP_RECV, &v[k], false};
        int k = csp_select(c, MUX_CHANS, false);
        if (k < 0 || k >= MUX_CHANS) {
            m->bad[r]++;
            return;
        }
        if (!c[k].ok) {
            live[k] = NULL;
            open--;
        } else if (v[k] < 0 || v[k] >= MUX_CHANS * MUX_PER_CHAN ||
                   v[k] / MUX_PER_CHAN != k) {
            m->bad[r]++;
        } else {
            m->seen[r][v[k]]++;
        }
    }
}

static void select_no_value_lost_or_duplicated(void **state)
{
    struct mux *m = calloc(1, sizeof *m);
    assert_non_null(m);
    m->ch[0] = csp_chan_make(sizeof(int), 0, "unbuffered");
    m->ch[1] = csp_chan_make(sizeof(int), 0, "unbuffered-select");
    m->ch[2] = csp_chan_make(sizeof(int), 4, "buffered");
    csp_waitgroup *wg = csp_wg_make();
    for (int r = 0; r < MUX_RECEIVERS; r++)
        testutil_spawn(wg, mux_receiver, m, "receiver");
    for (int k = 0; k < MUX_CHANS; k++)
        testutil_spawn(wg, mux_sender, m, "sender");
    csp_wg_wait(wg);

    int total = 0, lost = 0, duplicated = 0;
    assert_int_equal(atomic_load(&m->send_bad), 0);
    for (int r = 0; r < MUX_RECEIVERS; r++)
        assert_int_equal(m->bad[r], 0);
    for (int v = 0; v < MUX_CHANS * MUX_PER_CHAN; v++) {
        int n = 0;
        for (int r = 0; r < MUX_RECEIVERS; r++)
            n += m->seen[r][v];
        total += n;
        lost += n == 0;
        duplicated += n > 1;
    }
    assert_int_equal(lost, 0);
    assert_int_equal(duplicated, 0);
    assert_int_equal(total, MUX_CHANS * MUX_PER_CHAN);
    for (int k = 0; k < MUX_CHANS; k++)
        csp_chan_free(m->ch[k]);
    csp_wg_free(wg);
    free(m);
}

/* ------------------------------------- No stale waiter after select returns */

struct late_send {
    csp_chan  *ch;
    int        value;
    atomic_int returned;
};

static void late_sender(void *p)
{
    struct late_send *l = p;
    csp_send(l->ch, &l->value);
    atomic_store(&l->returned, 1);
}

/* After a blocking select on a and b is won by a, a later send on b must not
 * be consumed by the finished select: it waits for a real receiver (b
 * unbuffered) or lands in the buffer (b buffered). */
static void select_dequeued_from_other_channels(void **state)
{
    for (size_t cap = 0; cap <= 1; cap++) {
        csp_chan *a = csp_chan_make(sizeof(int), 0, "a");
        csp_chan *b = csp_chan_make(sizeof(int), cap, "b");
        csp_waitgroup *wg = csp_wg_make();
        struct delayed d = {a, 1, 30 * CSP_MILLISECOND};
        testutil_spawn(wg, delayed_send, &d, "a-sender");
        int va = 0, vb = -5;
        csp_case cases[2] = {{a, CSP_OP_RECV, &va, false},
                             {b, CSP_OP_RECV, &vb, false}};
        assert_int_equal(csp_select(cases, 2, false), 0);
        assert_int_equal(va, 1);
        csp_wg_wait(wg);

        struct late_send l = {b, 99, 0};
        testutil_spawn(wg, late_sender, &l, "b-sender");
        csp_sleep(100 * CSP_MILLISECOND);
        if (cap == 0) {
            assert_int_equal(atomic_load(&l.returned), 0);
        } else {
            csp_wg_wait(wg);
            assert_int_equal(csp_len(b), 1);
        }
        assert_int_equal(vb, -5); /* the old select's slot was not written */
        int got = 0;
        assert_true(csp_recv(b, &got));
        assert_int_equal(got, 99);
        csp_wg_wait(wg);
        assert_int_equal(atomic_load(&l.returned), 1);
        csp_wg_free(wg);
        csp_chan_free(a);
        csp_chan_free(b);
    }
}

/* The same for a select that lost on a send case: the receiver that comes to
 * the other channel later must not take the old select's value. */
static void select_send_dequeued_after_return(void **state)
{
    csp_chan *a = csp_chan_make(sizeof(int), 0, "a");
    csp_chan *b = csp_chan_make(sizeof(int), 0, "b");
    csp_waitgroup *wg = csp_wg_make();
    struct delayed d = {a, 0, 30 * CSP_MILLISECOND};
    testutil_spawn(wg, delayed_recv, &d, "a-receiver");
    int va = 1, vb = 2;
    csp_case cases[2] = {{a, CSP_OP_SEND, &va, false},
                         {b, CSP_OP_SEND, &vb, false}};
    assert_int_equal(csp_select(cases, 2, false), 0);
    csp_wg_wait(wg);
    assert_int_equal(d.value, 1);

    int got = -1;
    csp_case late = {b, CSP_OP_RECV, &got, false};
    csp_sleep(20 * CSP_MILLISECOND);
    assert_int_equal(csp_select(&late, 1, true), -1);
    assert_int_equal(got, -1);
    csp_wg_free(wg);
    csp_chan_free(a);
    csp_chan_free(b);
}

/* ------------------------------------------------------ Blocks forever */

static void ticking(void *arg)
{
    for (;;)
        csp_sleep(5 * CSP_MILLISECOND);
}

static int with_null_case = 1;

/* arg NULL: a select with no cases; otherwise only a NULL-channel case. */
static void empty_select_child(void *arg)
{
    csp_go(ticking, NULL, "ticking");
    csp_case null_only = {NULL, CSP_OP_RECV, NULL, false};
    int k = arg ? csp_select(&null_only, 1, false) : csp_select(NULL, 0, false);
    fprintf(stderr, "blocking select returned %d\n", k);
    _exit(3);
}

static void blocking_select_without_cases_blocks(void **state)
{
    testutil_child c;
    testutil_run_child(&c, empty_select_child, NULL, 300);
    testutil_assert_still_running(&c);
    testutil_run_child(&c, empty_select_child, &with_null_case, 300);
    testutil_assert_still_running(&c);
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(uniform_choice_among_ready),
        cmocka_unit_test(uniform_choice_among_closed),
        cmocka_unit_test(null_chan_case_never_chosen),
        cmocka_unit_test(nonblocking_nothing_ready),
        cmocka_unit_test(recv_from_closed_reports_not_ok),
        cmocka_unit_test(blocking_select_wakes_on_send),
        cmocka_unit_test(select_send_case),
        cmocka_unit_test(select_no_value_lost_or_duplicated),
        cmocka_unit_test(select_dequeued_from_other_channels),
        cmocka_unit_test(select_send_dequeued_after_return),
        cmocka_unit_test(blocking_select_without_cases_blocks),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
