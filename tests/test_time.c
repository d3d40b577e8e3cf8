/* test_time.c — timers (csp.h "Timers"): csp_after fires no earlier than its
 * deadline and carries its fire time, timers fire in deadline order, csp_sleep
 * sleeps at least as long as asked, tickers tick no earlier than their
 * schedule and stop for good, csp_tick repeats, and freeing an unfired
 * csp_after channel stops its timer. Lower bounds are exact; upper bounds are
 * generous (the machine is a noisy shared VM). */
#include "testutil.h"

#define MS CSP_MILLISECOND
#define GENEROUS_MS 2000.0

static void now_is_monotonic(void **state)
{
    csp_duration prev = csp_now();
    for (int i = 0; i < 100000; i++) {
        csp_duration t = csp_now();
        assert_true(t >= prev);
        prev = t;
    }
}

static void after_fires_not_before_deadline(void **state)
{
    const csp_duration d = 30 * MS;
    csp_duration start = csp_now();
    csp_chan *ch = csp_after(d);
    assert_non_null(ch);
    assert_int_equal(csp_cap(ch), 1);
    csp_duration fired = 0;
    assert_true(csp_recv(ch, &fired));
    csp_duration end = csp_now();
    assert_true(end - start >= d);
    assert_true(fired >= start + d);
    assert_true(fired <= end);
    assert_true(testutil_ms(start) < GENEROUS_MS);
    csp_chan_free(ch);
}

static void after_nonpositive_fires_at_once(void **state)
{
    csp_duration ds[] = {0, -5 * MS};
    for (size_t i = 0; i < sizeof ds / sizeof ds[0]; i++) {
        csp_duration start = csp_now();
        csp_chan *ch = csp_after(ds[i]);
        csp_duration fired = 0;
        assert_true(csp_recv(ch, &fired));
        assert_true(fired >= start);
        assert_true(testutil_ms(start) < GENEROUS_MS);
        csp_chan_free(ch);
    }
}

/* Made in the order 150, 50, 100 ms; they fire 50, 100, 150. */
static void afters_fire_in_deadline_order(void **state)
{
    const csp_duration d[3] = {150 * MS, 50 * MS, 100 * MS};
    csp_duration start = csp_now();
    csp_chan *ch[3];
    for (int i = 0; i < 3; i++)
        ch[i] = csp_after(d[i]);
    csp_duration fired[3] = {0, 0, 0};
    int order[3];
    csp_case cases[3];
    for (int i = 0; i < 3; i++)
        cases[i] = (csp_case){ch[i], CSP_OP_RECV, &fired[i], false};
    for (int n = 0; n < 3; n++) {
        int k = csp_select(cases, 3, false);
        assert_in_range(k, 0, 2);
        assert_true(cases[k].ok);
        order[n] = k;
        cases[k].chan = NULL; /* received: drop it from the select */
    }
    assert_int_equal(order[0], 1);
    assert_int_equal(order[1], 2);
    assert_int_equal(order[2], 0);
    for (int i = 0; i < 3; i++)
        assert_true(fired[i] >= start + d[i]);
    assert_true(fired[1] <= fired[2]);
    assert_true(fired[2] <= fired[0]);
    for (int i = 0; i < 3; i++)
        csp_chan_free(ch[i]);
}

static void sleep_at_least(void **state)
{
    csp_duration start = csp_now();
    csp_sleep(20 * MS);
    assert_true(csp_now() - start >= 20 * MS);
    assert_true(testutil_ms(start) < GENEROUS_MS);

    start = csp_now();
    csp_sleep(0);
    csp_sleep(-1);
    csp_sleep(-CSP_SECOND);
    assert_true(testutil_ms(start) < 500.0); /* at once, with room for noise */
}

#define TICK_PERIOD (10 * MS)
#define TICKS 6

/* The k-th tick received fired no earlier than start + k periods (Go's ticker
 * keeps its schedule and may drop ticks, so this is the exact lower bound),
 * and fire times increase. */
static void ticker_ticks_no_earlier_than_schedule(void **state)
{
    csp_duration start = csp_now();
    csp_ticker *t = csp_ticker_make(TICK_PERIOD);
    csp_chan *ch = csp_ticker_chan(t);
    assert_non_null(ch);
    assert_int_equal(csp_cap(ch), 1);
    csp_duration prev = start;
    for (int k = 1; k <= TICKS; k++) {
        csp_duration fired = 0;
        assert_true(csp_recv(ch, &fired));
        csp_duration arrived = csp_now();
        assert_true(fired >= start + k * TICK_PERIOD);
        assert_true(arrived - start >= k * TICK_PERIOD);
        assert_true(fired > prev);
        assert_true(fired <= arrived);
        prev = fired;
    }
    assert_true(testutil_ms(start) < GENEROUS_MS);
    csp_ticker_free(t);
}

static bool poll_chan(csp_chan *ch)
{
    csp_case c = {ch, CSP_OP_RECV, NULL, false};
    return csp_select(&c, 1, true) == 0;
}

static void ticker_stop_stops_ticks(void **state)
{
    csp_ticker *t = csp_ticker_make(TICK_PERIOD);
    csp_chan *ch = csp_ticker_chan(t);
    assert_true(csp_recv(ch, NULL));
    assert_true(csp_recv(ch, NULL));
    csp_ticker_stop(t);
    (void)poll_chan(ch); /* the one tick that may already sit in the buffer */
    csp_sleep(3 * TICK_PERIOD);
    assert_int_equal(csp_len(ch), 0);
    assert_false(poll_chan(ch));
    csp_ticker_stop(t); /* stopping twice is harmless */
    csp_ticker_free(t);
    csp_ticker_free(NULL); /* a no-op */
}

static void tick_delivers_repeatedly(void **state)
{
    assert_null(csp_tick(0));
    assert_null(csp_tick(-TICK_PERIOD));

    csp_duration start = csp_now();
    csp_chan *ch = csp_tick(TICK_PERIOD); /* lives as long as the program */
    assert_non_null(ch);
    csp_duration prev = 0;
    for (int k = 1; k <= 4; k++) {
        csp_duration fired = 0;
        assert_true(csp_recv(ch, &fired));
        assert_true(fired >= start + k * TICK_PERIOD);
        assert_true(fired > prev);
        prev = fired;
    }
    /* A tick that finds the channel full is dropped: it never holds more
     * than its capacity, however long nobody receives. */
    csp_sleep(5 * TICK_PERIOD);
    assert_true(csp_len(ch) <= 1);
    assert_true(testutil_ms(start) < GENEROUS_MS);
}

/* Freeing an unfired csp_after channel stops its timer: nothing fires into
 * the freed channel (or into whatever reuses its memory). */
static void free_unfired_after_is_safe(void **state)
{
    csp_chan *reuse[16];
    for (int i = 0; i < 16; i++) {
        csp_chan *ch = csp_after(20 * MS + i * MS);
        csp_chan_free(ch);
        reuse[i] = csp_chan_make(sizeof(csp_duration), 1, "reuse");
    }
    csp_sleep(80 * MS);
    for (int i = 0; i < 16; i++) {
        assert_int_equal(csp_len(reuse[i]), 0);
        csp_chan_free(reuse[i]);
    }
    /* The timer machinery still works afterwards. */
    csp_chan *ch = csp_after(MS);
    assert_true(csp_recv(ch, NULL));
    csp_chan_free(ch);
}

int main(void)
{
    testutil_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(now_is_monotonic),
        cmocka_unit_test(after_fires_not_before_deadline),
        cmocka_unit_test(after_nonpositive_fires_at_once),
        cmocka_unit_test(afters_fire_in_deadline_order),
        cmocka_unit_test(sleep_at_least),
        cmocka_unit_test(ticker_ticks_no_earlier_than_schedule),
        cmocka_unit_test(ticker_stop_stops_ticks),
        cmocka_unit_test(tick_delivers_repeatedly),
        cmocka_unit_test(free_unfired_after_is_safe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
