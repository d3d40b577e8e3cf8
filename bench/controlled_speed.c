/* controlled_speed.c — controlled mode's speed (issue: controlled mode).
 *
 *   bench_controlled_speed schedules N
 *       N schedules (RANDOM, in this process) of a fixed 4-task program of
 *       about 50 scheduling points, against the same program run N times in
 *       free mode (threads, no harness); prints both rates.
 *   bench_controlled_speed schedules N events
 *       the same with the event timeline on (harness_options.events = 4096):
 *       run both side by side to see what recording costs.
 *   bench_controlled_speed pingpong ITERS
 *       an unbuffered ping-pong between two fibers in one controlled run:
 *       ns per round trip (compare with Go at GOMAXPROCS=1).
 */
#include "bench.h"

#include "csp.h"
#include "csp_sched.h"
#include "harness.h"

static const char *prog = "bench_controlled_speed";

/* ----------------------------------------------- The 4-task, ~50-step program */

struct shared { csp_chan *jobs, *results; csp_waitgroup *wg; };

static void worker(void *p)
{
    struct shared *s = p;
    int v;
    while (csp_recv(s->jobs, &v)) {
        v *= 2;
        csp_send(s->results, &v);
    }
    csp_wg_done(s->wg);
}

static void closer(void *p)
{
    struct shared *s = p;
    csp_wg_wait(s->wg);
    csp_close(s->results);
}

static void four_tasks(void *arg)
{
    (void)arg;
    /* jobs holds them all: main sends every job before it reads a result. */
    struct shared s = { csp_chan_make(sizeof(int), 6, "jobs"), csp_chan_make(sizeof(int), 0, "results"),
                        csp_wg_make() };
    csp_wg_add(s.wg, 2);
    csp_go(worker, &s, "worker");
    csp_go(worker, &s, "worker");
    csp_go(closer, &s, "closer");
    int sum = 0, v;
    for (int i = 0; i < 6; i++)
        csp_send(s.jobs, &i);
    csp_close(s.jobs);
    while (csp_recv(s.results, &v))
        sum += v;
    if (sum != 30)
        harness_fail("sum %d, want 30", sum);
    csp_chan_free(s.jobs);
    csp_chan_free(s.results);
    csp_wg_free(s.wg);
}

static void schedules(uint64_t n, bool events)
{
    harness_options o = harness_defaults();
    o.events = events ? 4096 : 0;
    o.mode = HARNESS_CONTROLLED;
    o.in_process = true;
    o.schedules = (unsigned)n;
    harness_result r;
    uint64_t start = bench_now_ns();
    if (harness_run(four_tasks, NULL, &o, &r) != 0 || r.verdict != HARNESS_PASS)
        bench_fail(prog, "controlled run: %s", r.message ? r.message : "?");
    uint64_t ctl_ns = bench_now_ns() - start;
    unsigned ran = r.schedules_run;
    harness_result_free(&r);
    /* The same program, free mode, plain threads. */
    uint64_t free_runs = n / 20 + 1;
    start = bench_now_ns();
    for (uint64_t i = 0; i < free_runs; i++)
        four_tasks(NULL);
    uint64_t free_ns = bench_now_ns() - start;
    printf("schedules%s: controlled %.0f schedules/s (%u schedules, %.1f us each); "
           "free mode %.0f runs/s (%.1f us each)\n",
           events ? " (events on)" : "", ran * 1e9 / (double)ctl_ns, ran, (double)ctl_ns / ran / 1e3,
           (double)free_runs * 1e9 / (double)free_ns, (double)free_ns / (double)free_runs / 1e3);
}

/* ----------------------------------------------------------- Fiber ping-pong */

static uint64_t pp_iters, pp_ns;
static csp_chan *pp_chans[2];   /* not on ping's stack: pong outlives ping */

static void pong(void *p)
{
    csp_chan **c = p;
    uint64_t v;
    while (csp_recv(c[0], &v)) {
        v++;
        csp_send(c[1], &v);
    }
}

static void ping(void *arg)
{
    (void)arg;
    csp_chan **c = pp_chans;
    c[0] = csp_chan_make(sizeof(uint64_t), 0, "ping");
    c[1] = csp_chan_make(sizeof(uint64_t), 0, "pong");
    csp_go(pong, c, "pong");
    uint64_t start = bench_now_ns();
    for (uint64_t i = 0; i < pp_iters; i++) {
        uint64_t v = i;
        csp_send(c[0], &v);
        csp_recv(c[1], &v);
        if (v != i + 1)
            harness_fail("lost a value");
    }
    pp_ns = bench_now_ns() - start;
    csp_close(c[0]);
}

static size_t first_option(void *ctx, csp_decision_kind kind, size_t n, const uint64_t *ids, int current)
{
    (void)ctx; (void)kind; (void)n; (void)ids;
    return current >= 0 ? (size_t)current : 0;
}

static void pingpong(uint64_t iters)
{
    pp_iters = iters;
    csp_sched_hooks hooks = { .decide = first_option };
    csp_run_limits lim = { .max_steps = 0 };   /* no step bound, no horizon, no timer window */
    csp_run_stats st;
    csp_sched_run(ping, NULL, &hooks, &lim, &st);
    csp_sched_reset();
    printf("pingpong fibers iters=%llu ns/op=%.1f\n", (unsigned long long)iters, (double)pp_ns / (double)iters);
}

int main(int argc, char **argv)
{
    uint64_t n;
    bool events = argc == 4 && !strcmp(argv[1], "schedules") && !strcmp(argv[3], "events");
    if ((argc != 3 && !events) || (strcmp(argv[1], "schedules") && strcmp(argv[1], "pingpong")) ||
        !bench_parse_iters(argv[2], &n)) {
        fprintf(stderr, "%s: usage: %s schedules N [events] | pingpong ITERS (N, ITERS: 1 to %llu)\n",
                prog, prog, BENCH_MAX_ITERS);
        return 2;
    }
    if (!strcmp(argv[1], "schedules")) {
        if (n > 1000000) {
            fprintf(stderr, "%s: at most 1000000 schedules\n", prog);
            return 2;
        }
        schedules(n, events);
    } else {
        pingpong(n);
    }
    return 0;
}
