/* buffered.c — buffered throughput through the csp runtime: one producer task
 * sends ITERS values into a channel of capacity 1024 and closes it; the main
 * task receives until the channel is closed and drained. One op = one item,
 * counted from before the producer is spawned to the last receive. */
#include "bench.h"

#include "csp.h"

static const char *prog = "bench_buffered";

struct producer_args {
    csp_chan *c;
    uint64_t n;
};

static void producer(void *p)
{
    struct producer_args *a = p;
    for (uint64_t i = 0; i < a->n; i++)
        csp_send(a->c, &i);
    csp_close(a->c);
}

static uint64_t transfer(uint64_t n)
{
    struct producer_args pa = { csp_chan_make(sizeof(uint64_t), 1024, "items"), n };
    uint64_t start = bench_now_ns();
    csp_go(producer, &pa, "producer");
    uint64_t want = 0, v;
    while (csp_recv(pa.c, &v)) {
        if (v != want)
            bench_fail(prog, "want item %llu, got %llu", (unsigned long long)want,
                       (unsigned long long)v);
        want++;
    }
    uint64_t elapsed = bench_now_ns() - start;
    if (want != n)
        bench_fail(prog, "received %llu of %llu items", (unsigned long long)want,
                   (unsigned long long)n);
    csp_chan_free(pa.c);
    return elapsed;
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, false);
    transfer(bench_warmup(args.iters));
    bench_report("buffered", args.iters, transfer(args.iters));
    return 0;
}
