/* harness_costs.c — what observation costs (issue: harness, free mode).
 *
 *   bench_harness_costs bookkeeping ITERS
 *       unbuffered ping-pong with park records (stack at every park) on and
 *       off, alternating, 7 rounds each; prints both medians and the overhead.
 *   bench_harness_costs latency RUNS
 *       harness_run on a program that deadlocks at once, and on one that
 *       returns at once (same fork, monitor and reporting): the difference of
 *       the medians is how long the watchdog takes to call a deadlock.
 *
 * The latency mode calls nothing of the runtime in this process before
 * harness_run (the parent must not have started threads when it forks). */
#include "bench.h"

#include "csp.h"
#include "csp_debug.h"
#include "harness.h"

static const char *prog = "bench_harness_costs";

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static uint64_t median(uint64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp_u64);
    return v[n / 2];
}

/* ------------------------------------------------------------ bookkeeping */

struct pp { csp_chan *ping, *pong; };

static void pong_task(void *p)
{
    struct pp *a = p;
    uint64_t v;
    while (csp_recv(a->ping, &v)) {
        v++;
        csp_send(a->pong, &v);
    }
    csp_close(a->pong);
}

static uint64_t pingpong_ns(uint64_t iters)
{
    struct pp a = { csp_chan_make(sizeof(uint64_t), 0, "ping"),
                    csp_chan_make(sizeof(uint64_t), 0, "pong") };
    csp_go(pong_task, &a, "pong");
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < iters; i++) {
        uint64_t v = i;
        csp_send(a.ping, &v);
        if (!csp_recv(a.pong, &v) || v != i + 1)
            bench_fail(prog, "ping-pong lost a value");
    }
    uint64_t ns = (bench_now_ns() - start) / iters;
    csp_close(a.ping);
    csp_recv(a.pong, NULL);
    csp_chan_free(a.ping);
    csp_chan_free(a.pong);
    return ns;
}

static void bookkeeping(uint64_t iters)
{
    enum { ROUNDS = 7 };
    uint64_t on[ROUNDS], off[ROUNDS];
    pingpong_ns(iters / 10 + 1);   /* warm up */
    for (int r = 0; r < ROUNDS; r++) {
        csp_debug_set_park_stacks(true);
        on[r] = pingpong_ns(iters);
        csp_debug_set_park_stacks(false);
        off[r] = pingpong_ns(iters);
    }
    uint64_t mon = median(on, ROUNDS), moff = median(off, ROUNDS);
    printf("bookkeeping ping-pong ns/trip: with park records %llu, without %llu, overhead %+.1f%%\n",
           (unsigned long long)mon, (unsigned long long)moff,
           moff ? 100.0 * ((double)mon - (double)moff) / (double)moff : 0.0);
}

/* ---------------------------------------------------------------- latency */

static void returns_at_once(void *arg) { (void)arg; }

static void deadlocks_at_once(void *arg)
{
    (void)arg;
    csp_chan *c = csp_chan_make(0, 0, "never");
    csp_recv(c, NULL);
}

static uint64_t run_ms_x1000(void (*entry)(void *), harness_verdict want)
{
    harness_options o = harness_defaults();
    harness_result r;
    uint64_t start = bench_now_ns();
    if (harness_run(entry, NULL, &o, &r) != 0 || r.verdict != want)
        bench_fail(prog, "harness_run gave %s (%s), wanted %s", harness_verdict_name(r.verdict),
                   r.message ? r.message : "", harness_verdict_name(want));
    uint64_t us = (bench_now_ns() - start) / 1000;
    harness_result_free(&r);
    return us;
}

static void latency(uint64_t runs)
{
    enum { MAX = 200 };
    int n = runs > MAX ? MAX : (int)runs;
    uint64_t base[MAX], dead[MAX];
    for (int i = 0; i < n; i++) {
        base[i] = run_ms_x1000(returns_at_once, HARNESS_PASS);
        dead[i] = run_ms_x1000(deadlocks_at_once, HARNESS_DEADLOCK);
    }
    uint64_t mb = median(base, n), md = median(dead, n);
    printf("watchdog: harness_run of a program that returns at once %.2f ms, that deadlocks at once "
           "%.2f ms: deadlock detected in %.2f ms (median of %d)\n",
           (double)mb / 1000, (double)md / 1000, ((double)md - (double)mb) / 1000, n);
}

int main(int argc, char **argv)
{
    if (argc != 3 || (strcmp(argv[1], "bookkeeping") != 0 && strcmp(argv[1], "latency") != 0)) {
        fprintf(stderr, "%s: usage: %s bookkeeping ITERS | latency RUNS\n", prog, prog);
        return 2;
    }
    uint64_t n;
    if (!bench_parse_iters(argv[2], &n)) {
        fprintf(stderr, "%s: bad count '%s': want an integer from 1 to %llu\n", prog, argv[2],
                BENCH_MAX_ITERS);
        return 2;
    }
    if (strcmp(argv[1], "latency") == 0)
        latency(n);
    else
        bookkeeping(n);
    return 0;
}
