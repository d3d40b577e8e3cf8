/* test_record.c — the harness's record wire format (harness/src/record.c)
 * round-trips every field: a record with every field set is written, parsed
 * back and compared field by field; text survives tabs, newlines and
 * backslashes; a record without its "end" line parses as incomplete; unknown
 * keys and malformed lines are skipped. If a field is added to
 * harness_record, fill() and same() below must learn it, and the key table
 * in record.c with them. */
#include "record.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

static const char *const tricky = "tab\there\nnewline \\ backslash \\t not a tab";

static void fill(harness_record *r)
{
    memset(r, 0, sizeof *r);
    harness__judge(&r->judged, HARNESS_LEAK, "2 tasks leaked: \x1b[pc:4011a0] and a\ttab");
    harness__judge(&r->judged, HARNESS_SLOW, "slow");
    harness__judge(&r->judged, HARNESS_NONDETERMINISTIC, NULL);
    r->head = strdup("leak: tasks still alive after the entry returned");
    for (int i = 0; i < 3; i++) {
        csp_debug_task t;
        memset(&t, 0, sizeof t);
        t.id = 7u + (unsigned)i;
        t.name = i == 1 ? tricky : "worker";
        t.state = (csp_debug_state)i;
        snprintf(t.wait, sizeof t.wait, "chan send \"errors\" %d", i);
        t.since = 1234567890123LL + i;
        t.forever = i == 2;
        t.adopted = i == 0;
        t.created_pc = 0x401000u + (unsigned)i;
        t.npcs = i == 0 ? 0 : CSP_DEBUG_MAX_PCS;
        for (int k = 0; k < t.npcs; k++)
            t.pcs[k] = (uintptr_t)0x7f0000000000ull + (uintptr_t)(k * 16 + i);
        harness_record_task *rt = harness__record_add_task(r, &t);
        assert_non_null(rt);
        rt->ignored = i == 1;
    }
    r->more_tasks = 5;
    r->leaked_tasks = 2;
    r->leaked_tickers = 3;
    r->leaked_threads = 4;
    r->leaked_fds = 5;
    r->races = 6;
    r->live_chans = -7;
    r->signal = 11;
    r->output = strdup(tricky);
    r->schedule = strdup("v1:pct:seed=42:depth=3:run=537:estimate=90");
    r->decisions = strdup("v1:x:0.1.2x40.0");
    r->error = strdup("the schedule does not fit\tthe program");
    r->schedules_run = 99;
    r->exhausted = true;
    r->wall = true;
    r->steps = 18446744073709551615ull;
    r->virtual_time = -3;
    for (int i = 0; i < 4; i++) {
        harness_event e = { 1000LL * i - 5, i, 3u + (unsigned)i, i == 2 ? 0 : 9u,
                            i == 1 ? "chan send" : NULL, i == 3 ? (char *)tricky : "jobs" };
        harness__record_add_event(r, &e);
    }
    r->events_dropped = 18446744073709551615ull;
    r->message_from_log = true;
}

static void same_text(const char *a, const char *b)
{
    if (!a || !b)
        assert_ptr_equal(a, b);
    else
        assert_string_equal(a, b);
}

static void same(const harness_record *a, const harness_record *b)
{
    assert_int_equal(a->judged.seen, b->judged.seen);
    assert_int_equal(a->judged.verdict, b->judged.verdict);
    same_text(a->judged.message, b->judged.message);
    same_text(a->head, b->head);
    assert_int_equal(a->ntasks, b->ntasks);
    for (size_t i = 0; i < a->ntasks; i++) {
        const csp_debug_task *x = &a->tasks[i].t, *y = &b->tasks[i].t;
        assert_int_equal(x->id, y->id);
        assert_string_equal(x->name, y->name);
        assert_int_equal(x->state, y->state);
        assert_string_equal(x->wait, y->wait);
        assert_int_equal(x->since, y->since);
        assert_int_equal(x->forever, y->forever);
        assert_int_equal(x->adopted, y->adopted);
        assert_int_equal(x->created_pc, y->created_pc);
        assert_int_equal(x->npcs, y->npcs);
        for (int k = 0; k < x->npcs; k++)
            assert_int_equal(x->pcs[k], y->pcs[k]);
        assert_int_equal(a->tasks[i].ignored, b->tasks[i].ignored);
    }
    assert_int_equal(a->more_tasks, b->more_tasks);
    assert_int_equal(a->leaked_tasks, b->leaked_tasks);
    assert_int_equal(a->leaked_tickers, b->leaked_tickers);
    assert_int_equal(a->leaked_threads, b->leaked_threads);
    assert_int_equal(a->leaked_fds, b->leaked_fds);
    assert_int_equal(a->races, b->races);
    assert_int_equal(a->live_chans, b->live_chans);
    assert_int_equal(a->signal, b->signal);
    same_text(a->output, b->output);
    same_text(a->schedule, b->schedule);
    same_text(a->decisions, b->decisions);
    same_text(a->error, b->error);
    assert_int_equal(a->schedules_run, b->schedules_run);
    assert_int_equal(a->exhausted, b->exhausted);
    assert_int_equal(a->wall, b->wall);
    assert_true(a->steps == b->steps);
    assert_int_equal(a->virtual_time, b->virtual_time);
    assert_int_equal(a->message_from_log, b->message_from_log);
    assert_int_equal(a->nevents, b->nevents);
    for (size_t i = 0; i < a->nevents; i++) {
        const harness_event *x = &a->events[i], *y = &b->events[i];
        assert_int_equal(x->at, y->at);
        assert_int_equal(x->kind, y->kind);
        assert_int_equal(x->task, y->task);
        assert_int_equal(x->other, y->other);
        same_text(x->wait, y->wait);
        same_text(x->object, y->object);
    }
    assert_true(a->events_dropped == b->events_dropped);
}

static void every_field_round_trips(void **state)
{
    (void)state;
    harness_record a, b;
    fill(&a);
    harness_buf text = {0};
    harness__record_write(&text, &a);
    assert_non_null(text.buf);
    /* One record, one "end", at the very end. */
    assert_non_null(strstr(text.buf, "\nend\n"));
    assert_string_equal(text.buf + text.len - 4, "end\n");
    harness__record_parse(text.buf, &b);
    assert_true(b.complete);
    same(&a, &b);
    /* Parsing what the parse gave writes the same text again. */
    harness_buf again = {0};
    harness__record_write(&again, &b);
    harness_buf first = {0};
    harness__record_write(&first, &a);
    assert_string_equal(first.buf, again.buf);
    free(text.buf);
    free(first.buf);
    free(again.buf);
    harness__record_free(&a);
    harness__record_free(&b);
}

static void an_empty_record_is_pass_and_complete(void **state)
{
    (void)state;
    harness_record a = {0}, b;
    harness_buf text = {0};
    harness__record_write(&text, &a);
    assert_string_equal(text.buf, "end\n");
    harness__record_parse(text.buf, &b);
    assert_true(b.complete);
    assert_int_equal(b.judged.seen, 0);
    assert_int_equal(b.ntasks, 0);
    free(text.buf);
    harness__record_free(&b);
}

static void a_cut_record_is_incomplete(void **state)
{
    (void)state;
    harness_record a, b;
    fill(&a);
    harness_buf text = {0};
    harness__record_write(&text, &a);
    text.buf[text.len - 4] = 0;   /* the child died before "end" */
    harness__record_parse(text.buf, &b);
    assert_false(b.complete);
    assert_int_equal(b.judged.verdict, HARNESS_LEAK);   /* what did arrive is kept */
    assert_int_equal(b.ntasks, 3);
    free(text.buf);
    harness__record_free(&a);
    harness__record_free(&b);
}

static void unknown_and_malformed_lines_are_skipped(void **state)
{
    (void)state;
    char text[] = "verdict\tDEADLOCK\tall asleep\n"
                  "no_such_key\t5\n"
                  "task\t1\n"              /* too few fields */
                  "verdict\tNOT_A_VERDICT\tx\n"
                  "\n"
                  "leaked_tasks\t3\n"
                  "end\n";
    harness_record r;
    harness__record_parse(text, &r);
    assert_true(r.complete);
    assert_int_equal(r.judged.verdict, HARNESS_DEADLOCK);
    assert_int_equal(r.judged.seen, 1u << HARNESS_DEADLOCK);
    assert_string_equal(r.judged.message, "all asleep");
    assert_int_equal(r.ntasks, 0);
    assert_int_equal(r.leaked_tasks, 3);
    harness__record_free(&r);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(every_field_round_trips),
        cmocka_unit_test(an_empty_record_is_pass_and_complete),
        cmocka_unit_test(a_cut_record_is_incomplete),
        cmocka_unit_test(unknown_and_malformed_lines_are_skipped),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
