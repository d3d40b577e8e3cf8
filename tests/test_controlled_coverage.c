/* test_controlled_coverage.c — interleaving coverage (harness_options
 * .coverage), the feedback of the schedule fuzzer (fuzz/): the same
 * schedule hits the same cells, different interleavings hit different ones,
 * and turning it on changes no run. */
#include "controlled_util.h"

#define NCELLS 4096

/* Two senders race to an unbuffered channel; main takes both values, then
 * the two greet each other through a mutex. Several interleavings. */
static void sender(void *arg)
{
    int v = 1;
    csp_send(arg, &v);
}

static void two_senders(void *arg)
{
    csp_chan *c = csp_chan_make(sizeof(int), 0, "c");
    csp_go(sender, c, "a");
    csp_go(sender, c, "b");
    int v;
    csp_recv(c, &v);
    csp_recv(c, &v);
    csp_chan_free(c);
}

static harness_options bytes_options(const uint8_t *bytes, size_t n, uint8_t *cells)
{
    harness_options o = cu_options();
    o.strategy = HARNESS_BYTES;
    o.bytes = bytes;
    o.nbytes = n;
    o.in_process = true;
    o.coverage = cells;
    o.ncoverage = cells ? NCELLS : 0;
    return o;
}

static size_t nonzero(const uint8_t *cells)
{
    size_t n = 0;
    for (size_t i = 0; i < NCELLS; i++)
        n += cells[i] != 0;
    return n;
}

static void same_schedule_same_cells(void **state)
{
    static const uint8_t bytes[] = {1, 0, 2, 1, 0, 1, 2, 0};
    static uint8_t a[NCELLS], b[NCELLS];
    harness_result r;
    harness_options o = bytes_options(bytes, sizeof bytes, a);
    cu_run(two_senders, NULL, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
    o.coverage = b;
    cu_run(two_senders, NULL, &o, &r);
    harness_result_free(&r);
    assert_true(nonzero(a) > 0);
    assert_memory_equal(a, b, NCELLS);
}

/* 256 inputs: more than one set of cells (interleavings differ), and their
 * union more than any one of them. */
static void different_interleavings_different_cells(void **state)
{
    static uint8_t cells[NCELLS], all[NCELLS];
    unsigned long long sigs[256];
    size_t nsig = 0, most = 0;
    for (unsigned i = 0; i < 256; i++) {
        uint8_t bytes[8];
        for (int k = 0; k < 8; k++)
            bytes[k] = (uint8_t)((i >> k) & 1 ? k + 1 : 0);
        memset(cells, 0, sizeof cells);
        harness_options o = bytes_options(bytes, sizeof bytes, cells);
        harness_result r;
        cu_run(two_senders, NULL, &o, &r);
        cu_assert_verdict(&r, HARNESS_PASS);
        harness_result_free(&r);
        unsigned long long sig = 1469598103934665603ull;
        for (size_t c = 0; c < NCELLS; c++)
            if (cells[c]) {
                sig = (sig ^ c) * 1099511628211ull;
                all[c] = 1;
            }
        size_t k = 0;
        while (k < nsig && sigs[k] != sig)
            k++;
        if (k == nsig)
            sigs[nsig++] = sig;
        if (nonzero(cells) > most)
            most = nonzero(cells);
    }
    if (cu_verbose())
        printf("%zu distinct cell sets; union %zu cells, largest set %zu\n", nsig, nonzero(all), most);
    assert_true(nsig >= 2);
    assert_true(nonzero(all) > most);
}

/* Coverage only observes: the same bytes make the same decisions with it on
 * and off. */
static void coverage_changes_no_run(void **state)
{
    static const uint8_t bytes[] = {2, 1, 0, 1, 1, 0, 2};
    static uint8_t cells[NCELLS];
    harness_result on, off;
    harness_options o = bytes_options(bytes, sizeof bytes, cells);
    cu_run(two_senders, NULL, &o, &on);
    o = bytes_options(bytes, sizeof bytes, NULL);
    cu_run(two_senders, NULL, &o, &off);
    assert_non_null(on.decisions);
    assert_string_equal(on.decisions, off.decisions);
    assert_int_equal(on.steps, off.steps);
    harness_result_free(&on);
    harness_result_free(&off);
}

/* bytes_then_random: after the bytes, decisions from a generator seeded by
 * them — the same bytes the same run, different bytes different tails. */
static void bytes_then_random_is_a_whole_schedule(void **state)
{
    char *seen[2][16];
    size_t distinct[2] = {0, 0};
    for (int tail = 0; tail < 2; tail++)
        for (int k = 0; k < 16; k++) {
            uint8_t byte = (uint8_t)(k * 16);   /* first decision: option 0 whatever its count */
            harness_options o = bytes_options(&byte, 1, NULL);
            o.bytes_then_random = tail;
            harness_result r, again;
            cu_run(two_senders, NULL, &o, &r);
            cu_run(two_senders, NULL, &o, &again);
            assert_non_null(r.decisions);
            assert_string_equal(r.decisions, again.decisions);   /* replayable from the bytes */
            seen[tail][k] = strdup(r.decisions);
            size_t j = 0;
            while (j < (size_t)k && strcmp(seen[tail][j], seen[tail][k]) != 0)
                j++;
            distinct[tail] += j == (size_t)k;
            harness_result_free(&r);
            harness_result_free(&again);
        }
    if (cu_verbose())
        printf("distinct schedules from 16 one-byte inputs: %zu run-on, %zu random tail\n",
               distinct[0], distinct[1]);
    assert_int_equal(distinct[0], 1);   /* the bytes ran out: the same defaults every time */
    assert_true(distinct[1] >= 3);
    for (int tail = 0; tail < 2; tail++)
        for (int k = 0; k < 16; k++)
            free(seen[tail][k]);
}

static void coverage_needs_in_process_controlled(void **state)
{
    static uint8_t cells[NCELLS];
    harness_result r;
    harness_options o = bytes_options(NULL, 0, cells);
    o.in_process = false;
    assert_int_equal(harness_run(two_senders, NULL, &o, &r), -1);
    cu_assert_contains(&r, r.message, "coverage needs a controlled, in_process run");
    harness_result_free(&r);
    o = bytes_options(NULL, 0, cells);
    o.ncoverage = 0;
    assert_int_equal(harness_run(two_senders, NULL, &o, &r), -1);
    harness_result_free(&r);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(same_schedule_same_cells),
        cmocka_unit_test(different_interleavings_different_cells),
        cmocka_unit_test(coverage_changes_no_run),
        cmocka_unit_test(bytes_then_random_is_a_whole_schedule),
        cmocka_unit_test(coverage_needs_in_process_controlled),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
