/* spawn.c — spawn and join: the main task adds ITERS to a wait group, spawns
 * ITERS tasks that each call csp_wg_done, and waits. One op = one task, from
 * the first csp_go to the return of csp_wg_wait (bench/run reports it in µs).
 * A warm-up round of min(ITERS/10, 1000) tasks comes first, untimed. */
#include "bench.h"

#include "csp.h"

/* csp_wg_add takes an int; a million live pthreads is past any sane test. */
#define BENCH_MAX_TASKS 1000000

static void done(void *wg)
{
    csp_wg_done(wg);
}

static uint64_t spawn_join(uint64_t n)
{
    csp_waitgroup *wg = csp_wg_make();
    uint64_t start = bench_now_ns();
    csp_wg_add(wg, (int)n);
    for (uint64_t i = 0; i < n; i++)
        csp_go(done, wg, "worker");
    csp_wg_wait(wg);
    uint64_t elapsed = bench_now_ns() - start;
    csp_wg_free(wg);
    return elapsed;
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, false);
    if (args.iters > BENCH_MAX_TASKS)
        bench_usage_error("bench_spawn", false, "bad iteration count '%s': at most %d tasks",
                          argv[1], BENCH_MAX_TASKS);
    uint64_t warm = bench_warmup(args.iters);
    spawn_join(warm > 1000 ? 1000 : warm);
    bench_report("spawn", args.iters, spawn_join(args.iters));
    return 0;
}
