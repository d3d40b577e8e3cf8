/* pipeline.c — counter → squarer → summer over unbuffered channels. Each
 * stage closes its output when its input is drained, so the stage after it
 * ends too; the summer drains the squares to their close, then waits for both
 * stages to have returned before freeing what they use: no task outlives
 * pipeline_sum_squares, and none touches a freed channel. */
#include "pipeline.h"

#include <csp.h>

struct stage {
    csp_chan *in, *out;
    csp_waitgroup *done;
    int n;
};

static void counter(void *arg)
{
    struct stage *s = arg;
    for (int i = 0; i < s->n; i++)
        csp_send(s->out, &i);
    csp_close(s->out);
    csp_wg_done(s->done);
}

static void squarer(void *arg)
{
    struct stage *s = arg;
    int x;
    while (csp_recv(s->in, &x)) {
        long sq = (long)x * x;
        csp_send(s->out, &sq);
    }
    csp_close(s->out);
    csp_wg_done(s->done);
}

/* Runs the pipeline; the summer (the caller) reads at most `take` squares. */
static long run(int n, int take)
{
    csp_chan *naturals = csp_chan_make(sizeof(int), 0, "naturals");
    csp_chan *squares = csp_chan_make(sizeof(long), 0, "squares");
    csp_waitgroup *done = csp_wg_make();
    static struct stage count, square; /* the buggy run's stages outlive it */
    count = (struct stage){.out = naturals, .done = done, .n = n};
    square = (struct stage){.in = naturals, .out = squares, .done = done};
    csp_wg_add(done, 2);
    csp_go(counter, &count, "counter");
    csp_go(squarer, &square, "squarer");
    long sum = 0, sq;
    for (int got = 0; got < take && csp_recv(squares, &sq); got++)
        sum += sq;
    if (take < n)
        return sum; /* BUG(LEAK): counter and squarer stay blocked on their sends */
    while (csp_recv(squares, &sq)) /* none is left: the squarer closes squares */
        sum += sq;
    csp_wg_wait(done);
    csp_wg_free(done);
    csp_chan_free(naturals);
    csp_chan_free(squares);
    return sum;
}

long pipeline_sum_squares(int n) { return run(n, n); }

void pipeline_entry(void *arg) { (void)arg; pipeline_sum_squares(10); }

void pipeline_entry_stops_early(void *arg) { (void)arg; run(10, 3); }
