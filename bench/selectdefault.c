/* selectdefault.c — select with default: a nonblocking csp_select over two
 * receive cases on two empty unbuffered channels that nobody sends on, which
 * must return -1 (Go's `default`) every time. One op = one select.
 * Target: no slower than Go. */
#include "bench.h"

#include "csp.h"

static const char *prog = "bench_selectdefault";

static void loop(csp_chan *a, csp_chan *b, uint64_t n)
{
    uint64_t v;
    for (uint64_t i = 0; i < n; i++) {
        csp_case cases[2] = {
            { a, CSP_OP_RECV, &v, false },
            { b, CSP_OP_RECV, &v, false },
        };
        int r = csp_select(cases, 2, true);
        if (r != -1)
            bench_fail(prog, "select on empty channels returned %d, want -1", r);
    }
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, false);
    csp_chan *a = csp_chan_make(sizeof(uint64_t), 0, "a");
    csp_chan *b = csp_chan_make(sizeof(uint64_t), 0, "b");
    loop(a, b, bench_warmup(args.iters));
    uint64_t start = bench_now_ns();
    loop(a, b, args.iters);
    uint64_t elapsed = bench_now_ns() - start;
    csp_chan_free(a);
    csp_chan_free(b);
    bench_report("selectdefault", args.iters, elapsed);
    return 0;
}
