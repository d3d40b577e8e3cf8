/* test_controlled_events.c — the event timeline (csp_debug.h "Events",
 * harness_options.events): a run records who was made by whom, who parked on
 * what, who readied whom, hand-offs, closes, timers and exits; a replayed
 * schedule yields the identical list; a small ring keeps the last events and
 * counts the rest; events off record nothing; a forked free-mode run carries
 * its events across the pipe. */
#include "controlled_util.h"

#include "csp_debug.h"

/* A worker leaks on an unbuffered channel nobody reads after the first
 * value (the thumbnails bug in miniature); a timer and a close on the way. */
static void leaky_worker(void *arg)
{
    int v = 1;
    csp_send(arg, &v);
    csp_send(arg, &v);   /* nobody receives: leaks */
}

static void leaky(void *arg)
{
    (void)arg;
    csp_chan *c = csp_chan_make(sizeof(int), 0, "errors");
    csp_chan *done = csp_chan_make(0, 0, "done");
    csp_go(leaky_worker, c, "worker");
    int v;
    csp_recv(c, &v);
    csp_sleep(CSP_MILLISECOND);
    csp_close(done);
}

static harness_options event_options(unsigned cap)
{
    harness_options o = cu_options();
    o.in_process = true;
    o.events = cap;
    o.seed = 7;
    return o;
}

static size_t count_kind(const harness_result *r, int kind)
{
    size_t n = 0;
    for (size_t i = 0; i < r->nevents; i++)
        n += r->events[i].kind == kind;
    return n;
}

static bool same_event(const harness_event *a, const harness_event *b)
{
    return a->at == b->at && a->kind == b->kind && a->task == b->task && a->other == b->other &&
           !strcmp(a->wait ? a->wait : "", b->wait ? b->wait : "") &&
           !strcmp(a->object ? a->object : "", b->object ? b->object : "");
}

static void a_run_records_what_tasks_do(void **state)
{
    (void)state;
    harness_options o = event_options(4096);
    harness_result r;
    cu_run(leaky, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_LEAK);
    assert_true(r.nevents > 5);
    assert_true(r.events_dropped == 0);
    assert_int_equal(count_kind(&r, CSP_DEBUG_EVENT_SPAWN), 1);
    assert_int_equal(count_kind(&r, CSP_DEBUG_EVENT_HANDOFF), 1);
    assert_int_equal(count_kind(&r, CSP_DEBUG_EVENT_CLOSE), 1);
    assert_int_equal(count_kind(&r, CSP_DEBUG_EVENT_TIMER), 1);
    bool spawn_named = false, parked_on_errors = false, handoff_to_main = false;
    for (size_t i = 0; i < r.nevents; i++) {
        const harness_event *e = &r.events[i];
        if (i > 0)
            assert_true(e->at >= r.events[i - 1].at);   /* virtual time never goes back */
        if (e->kind == CSP_DEBUG_EVENT_SPAWN)
            spawn_named = e->other == 1 && e->object && !strcmp(e->object, "worker");
        if (e->kind == CSP_DEBUG_EVENT_PARK && e->task == 2 && e->object &&
            !strcmp(e->object, "errors") && !strcmp(e->wait, "chan send"))
            parked_on_errors = true;
        if (e->kind == CSP_DEBUG_EVENT_HANDOFF)
            handoff_to_main = e->task == 2 && e->other == 1 && !strcmp(e->object, "errors");
    }
    assert_true(spawn_named);
    assert_true(parked_on_errors);
    assert_true(handoff_to_main);
    /* The last thing the worker did: park on "errors" (it leaks there). */
    const harness_event *last = NULL;
    for (size_t i = 0; i < r.nevents; i++)
        if (r.events[i].task == 2)
            last = &r.events[i];
    assert_non_null(last);
    assert_int_equal(last->kind, CSP_DEBUG_EVENT_PARK);
    assert_true(r.virtual_time >= CSP_MILLISECOND);
    harness_result_free(&r);
}

static void a_replayed_schedule_yields_the_same_events(void **state)
{
    (void)state;
    harness_options o = event_options(4096);
    o.schedules = 20;
    harness_result first;
    cu_run(leaky, NULL, &o, &first);
    assert_true(first.nevents > 0);
    for (int k = 0; k < 2; k++) {
        harness_options ro = event_options(4096);
        ro.replay = k == 0 ? first.schedule : first.decisions;
        harness_result again;
        cu_run(leaky, NULL, &ro, &again);
        assert_int_equal(again.verdict, first.verdict);
        assert_int_equal(again.nevents, first.nevents);
        for (size_t i = 0; i < first.nevents; i++)
            assert_true(same_event(&first.events[i], &again.events[i]));
        harness_result_free(&again);
    }
    harness_result_free(&first);
}

static void a_small_ring_keeps_the_last_events(void **state)
{
    (void)state;
    harness_options o = event_options(4096);
    harness_result all, few;
    cu_run(leaky, NULL, &o, &all);
    o.events = 4;
    cu_run(leaky, NULL, &o, &few);
    assert_int_equal(few.nevents, 4);
    assert_true(few.events_dropped == all.nevents - 4);
    for (size_t i = 0; i < 4; i++)
        assert_true(same_event(&few.events[i], &all.events[all.nevents - 4 + i]));
    harness_result_free(&all);
    harness_result_free(&few);
}

static void off_records_nothing_and_changes_nothing(void **state)
{
    (void)state;
    harness_options o = event_options(0);
    harness_result off, on;
    cu_run(leaky, NULL, &o, &off);
    assert_int_equal(off.nevents, 0);
    assert_null(off.events);
    o.events = 4096;
    cu_run(leaky, NULL, &o, &on);
    assert_int_equal(on.verdict, off.verdict);
    assert_string_equal(on.schedule, off.schedule);
    assert_string_equal(on.decisions, off.decisions);
    harness_result_free(&off);
    harness_result_free(&on);
}

static void free_mode_events_cross_the_pipe(void **state)
{
    (void)state;
    harness_options o = harness_defaults();
    o.events = 4096;
    o.leak_grace = 50 * CSP_MILLISECOND;
    harness_result r;
    cu_run(leaky, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_LEAK);
    assert_true(count_kind(&r, CSP_DEBUG_EVENT_HANDOFF) == 1);
    assert_true(count_kind(&r, CSP_DEBUG_EVENT_SPAWN) >= 2);   /* main, made by the harness, and worker */
    for (size_t i = 1; i < r.nevents; i++)
        assert_true(r.events[i].at >= r.events[0].at);
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(a_run_records_what_tasks_do),
        cmocka_unit_test(a_replayed_schedule_yields_the_same_events),
        cmocka_unit_test(a_small_ring_keeps_the_last_events),
        cmocka_unit_test(off_records_nothing_and_changes_nothing),
        cmocka_unit_test(free_mode_events_cross_the_pipe),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
