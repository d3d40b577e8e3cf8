/* sendrecv.c — the non-blocking channel path: one task sends into a channel of
 * capacity 1 that has room and receives the value back, ITERS times. Nothing
 * ever waits, so this is the cost of the runtime's fast path alone.
 * One op = one send + one receive. Target: no slower than Go. */
#include "bench.h"

#include "csp.h"

static const char *prog = "bench_sendrecv";

static void loop(csp_chan *c, uint64_t n)
{
    for (uint64_t i = 0; i < n; i++) {
        uint64_t v = i;
        csp_send(c, &v);
        if (!csp_recv(c, &v) || v != i)
            bench_fail(prog, "sent %llu, received %llu", (unsigned long long)i,
                       (unsigned long long)v);
    }
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, false);
    csp_chan *c = csp_chan_make(sizeof(uint64_t), 1, "c");
    loop(c, bench_warmup(args.iters));
    uint64_t start = bench_now_ns();
    loop(c, args.iters);
    uint64_t elapsed = bench_now_ns() - start;
    csp_chan_free(c);
    bench_report("sendrecv", args.iters, elapsed);
    return 0;
}
