/* pingpong.c — unbuffered ping-pong through the csp runtime: the main task
 * sends a value on `ping`, the pong task sends it back plus one on `pong`.
 * One op = one round trip = two unbuffered hand-offs. Compare with
 * futex_floor.c (the same hand-offs with no runtime) under the same pinning.
 *
 * Usage: bench_pingpong ITERS [--split]   (--split: each task pins itself to
 * its own CPU; csp tasks are pthreads on the threads backend) */
#include "bench.h"

#include "csp.h"

static const char *prog = "bench_pingpong";

struct pong_args {
    csp_chan *ping, *pong;
    int cpu;             /* -1: do not pin */
};

static void pong_task(void *p)
{
    struct pong_args *a = p;
    if (a->cpu >= 0)
        bench_pin_self(prog, a->cpu);
    uint64_t v;
    while (csp_recv(a->ping, &v)) {
        v++;
        csp_send(a->pong, &v);
    }
    csp_close(a->pong);
}

static void rounds(csp_chan *ping, csp_chan *pong, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = i;
        csp_send(ping, &v);
        if (!csp_recv(pong, &v) || v != i + 1)
            bench_fail(prog, "sent %llu, got back %llu", (unsigned long long)i,
                       (unsigned long long)v);
    }
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, true);
    if (args.split)
        bench_pin_self(prog, args.cpu[0]);
    struct pong_args pa = {
        .ping = csp_chan_make(sizeof(uint64_t), 0, "ping"),
        .pong = csp_chan_make(sizeof(uint64_t), 0, "pong"),
        .cpu = args.split ? args.cpu[1] : -1,
    };
    csp_go(pong_task, &pa, "pong");

    rounds(pa.ping, pa.pong, bench_warmup(args.iters));
    uint64_t start = bench_now_ns();
    rounds(pa.ping, pa.pong, args.iters);
    uint64_t elapsed = bench_now_ns() - start;

    csp_close(pa.ping);
    if (csp_recv(pa.pong, NULL))        /* wait until the pong task is done with both */
        bench_fail(prog, "pong sent after ping was closed");
    csp_chan_free(pa.ping);
    csp_chan_free(pa.pong);
    bench_report("pingpong", args.iters, elapsed);
    return 0;
}
