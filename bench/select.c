/* select.c — select over two unbuffered channels: two sender tasks each send
 * half of ITERS values and close their channel; the main task receives with
 * csp_select until both are closed, dropping a closed channel from the select
 * by setting its case to NULL (Go's nil-channel idiom). One op = one select
 * that received a value. */
#include "bench.h"

#include "csp.h"

static const char *prog = "bench_select";

struct sender_args {
    csp_chan *c;
    uint64_t n;
};

static void sender(void *p)
{
    struct sender_args *a = p;
    for (uint64_t i = 0; i < a->n; i++)
        csp_send(a->c, &i);
    csp_close(a->c);
}

static uint64_t multiplex(uint64_t n)
{
    struct sender_args a = { csp_chan_make(sizeof(uint64_t), 0, "a"), n / 2 };
    struct sender_args b = { csp_chan_make(sizeof(uint64_t), 0, "b"), n - n / 2 };
    uint64_t v, got = 0;
    csp_case cases[2] = {
        { a.c, CSP_OP_RECV, &v, false },
        { b.c, CSP_OP_RECV, &v, false },
    };
    uint64_t start = bench_now_ns();
    csp_go(sender, &a, "sender a");
    csp_go(sender, &b, "sender b");
    while (cases[0].chan != NULL || cases[1].chan != NULL) {
        int i = csp_select(cases, 2, false);
        if (i < 0 || i > 1)
            bench_fail(prog, "blocking csp_select returned %d", i);
        if (cases[i].ok)
            got++;
        else
            cases[i].chan = NULL;
    }
    uint64_t elapsed = bench_now_ns() - start;
    if (got != n)
        bench_fail(prog, "received %llu of %llu values", (unsigned long long)got,
                   (unsigned long long)n);
    csp_chan_free(a.c);
    csp_chan_free(b.c);
    return elapsed;
}

int main(int argc, char **argv)
{
    struct bench_args args = bench_parse(argc, argv, false);
    multiplex(bench_warmup(args.iters));
    bench_report("select", args.iters, multiplex(args.iters));
    return 0;
}
