/* cancel.c — GOPL §8.9, cancellation, on du4: a `done` channel that is
 * closed to broadcast the cancel, polled by walkers when they start, selected
 * on when they wait for a semaphore token, and drained-after by main; next to
 * each way of getting it wrong. Also `chanlab demo du`, the book's du4 as a
 * real tool: a byte on standard input cancels the walk.
 *
 * Where the cancel comes from: in the catalog, a task that sleeps CANCEL_AT
 * of virtual time and then cancels (the book's stdin reader, made
 * deterministic); in the demo, a byte read from standard input.
 *
 * The latency bound and the tree (dutree_cancel: a root holding 2,000
 * directories of one file, each read costing 20 ms, 20 tokens):
 *   0 - 20 ms     the root is read; its walker starts 2,000 walkers
 *   20 - 40 ms    20 of them read; 1,980 wait for a token
 *   30 ms         the cancel (harness_mark "cancel")
 * broadcast: the 1,980 waiting walkers see done at once; the 20 readers
 *   finish at 40 ms: every other task is gone 10 ms after the cancel.
 * sema-no-select, no-poll: the 1,980 still read, 20 at a time: 99 more
 *   rounds, the last walker ends at 2,020 ms, 1,990 ms after the cancel.
 * CANCEL_BOUND = 140 ms is 14x the first and 1/14 of the second: a 10x
 * margin on both sides (even a cancel just after a round starts, 20 ms
 * from its end, leaves 7x). Latency is judged in virtual time only, so every
 * variant runs in controlled mode only: real time on a shared VM is too
 * noisy for a latency verdict. */
#include "dutree.h"
#include "pattern.h"
#include "stdin_cancel.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define CANCEL_TOKENS 20                         /* var sema = make(chan struct{}, 20) */
#define CANCEL_TICK (500 * CSP_MILLISECOND)      /* progress with -v (the demo) */
#define CANCEL_AT (30 * CSP_MILLISECOND)         /* mid-way through the first round */
#define CANCEL_BOUND (140 * CSP_MILLISECOND)     /* see the file comment */

typedef enum {
    CANCEL_BROADCAST,       /* du4 as the book writes it */
    CANCEL_NO_DRAIN,        /* main returns without draining fileSizes */
    CANCEL_SEND_PER_TASK,   /* one value per task instead of close(done) */
    CANCEL_SEMA_NO_SELECT,  /* the token is acquired without select on done */
    CANCEL_NO_POLL,         /* walkers never check done */
} cancel_kind;

typedef struct {
    cancel_kind kind;
    csp_duration cost;           /* of one directory read */
    csp_chan *done;              /* closed to cancel (send-per-task: values) */
    csp_chan *file_sizes;        /* int64_t, unbuffered */
    csp_chan *sema;              /* CANCEL_TOKENS tokens */
    csp_waitgroup *n;            /* walkers still running */
    atomic_long walkers;         /* the same count, readable: send-per-task's */
    atomic_long unreadable;      /* directories that could not be read */
} du4;

static du4 *du4_make(cancel_kind kind, csp_duration cost)
{
    du4 *d = calloc(1, sizeof *d);
    if (!d)
        csp_panic("du4: out of memory");
    d->kind = kind;
    d->cost = cost;
    d->done = csp_chan_make(0, 0, "done");
    d->file_sizes = csp_chan_make(sizeof(int64_t), 0, "fileSizes");
    d->sema = csp_chan_make(0, CANCEL_TOKENS, "sema");
    d->n = csp_wg_make();
    return d;
}

/* Outside a run only: inside one, the objects go with the run. */
static void du4_free(du4 *d)
{
    csp_chan_free(d->done);
    csp_chan_free(d->file_sizes);
    csp_chan_free(d->sema);
    csp_wg_free(d->n);
    free(d);
}

/* The book's cancelled(): a poll of done. */
static bool cancelled(du4 *d)
{
    csp_case cases[] = { { d->done, CSP_OP_RECV, NULL, false } };
    return csp_select(cases, 1, true) == 0;
}

/* The book's dirents, last version: the token is acquired in a select on
 * done, so a walker waiting for one sees the cancel. */
static bool dirents(du4 *d, const char *dir, dutree_dirents *out)
{
    if (d->kind == CANCEL_SEMA_NO_SELECT || d->kind == CANCEL_NO_POLL) {
        csp_send(d->sema, NULL);  /* BUG(SLOW): blind to the cancel while it waits for a
                                   * token; cancel.broadcast selects on done as well */
    } else {
        csp_case cases[] = { { d->sema, CSP_OP_SEND, NULL, false },    /* acquire token */
                             { d->done, CSP_OP_RECV, NULL, false } };
        if (csp_select(cases, 2, false) == 1)
            return false;                   /* cancelled */
    }
    int err = dutree_read_dir(dir, d->cost, out);
    csp_recv(d->sema, NULL);                /* release token */
    if (err) {
        atomic_fetch_add(&d->unreadable, 1);
        fprintf(stderr, "du: open %s: %s\n", dir, strerror(err));
    }
    return err == 0;
}

typedef struct {
    du4 *d;
    char *dir;
} walker_arg;

static void walk_dir(void *arg);

static void go_walk_dir(du4 *d, char *dir)
{
    walker_arg *w = malloc(sizeof *w);
    if (!w)
        csp_panic("du4: out of memory");
    *w = (walker_arg){ d, dir };
    csp_wg_add(d->n, 1);                    /* n.Add(1) */
    atomic_fetch_add(&d->walkers, 1);
    csp_go(walk_dir, w, "walkDir");
}

static void walk_dir(void *arg)
{
    walker_arg *w = arg;
    du4 *d = w->d;
    dutree_dirents ents;
    if (d->kind == CANCEL_NO_POLL) {
        /* BUG(SLOW): never checks done; cancel.broadcast polls it here */
    } else if (cancelled(d)) {
        goto out;                           /* started after the cancel: do nothing */
    }
    if (dirents(d, w->dir, &ents)) {
        for (size_t i = 0; i < ents.n; i++) {
            if (ents.v[i].is_dir)
                go_walk_dir(d, dutree_join(w->dir, ents.v[i].name));
            else
                csp_send(d->file_sizes, &ents.v[i].size);
        }
        dutree_dirents_free(&ents);
    }
out:
    free(w->dir);
    free(w);
    atomic_fetch_sub(&d->walkers, 1);
    csp_wg_done(d->n);                      /* defer n.Done() */
}

static void closer(void *arg)
{
    du4 *d = arg;
    csp_wg_wait(d->n);
    csp_close(d->file_sizes);
}

static void du4_start(du4 *d, char *const *roots, int nroots)
{
    for (int i = 0; i < nroots; i++) {
        char *root = strdup(roots[i]);
        if (!root)
            csp_panic("du4: out of memory");
        go_walk_dir(d, root);
    }
    csp_go(closer, d, "closer");
}

/* du4's main loop. Returns true when the walk finished (fileSizes closed),
 * false when it was cancelled. */
static bool du4_loop(du4 *d, csp_chan *tick, long *nfiles, int64_t *nbytes)
{
    for (;;) {
        int64_t size;
        csp_case cases[] = { { d->done, CSP_OP_RECV, NULL, false },
                             { d->file_sizes, CSP_OP_RECV, &size, false },
                             { tick, CSP_OP_RECV, NULL, false } };   /* NULL tick: no -v */
        switch (csp_select(cases, 3, false)) {
        case 0:
            if (d->kind == CANCEL_NO_DRAIN)
                return false;  /* BUG(LEAK): walkers caught sending on fileSizes block
                                * forever; cancel.broadcast drains it first */
            while (csp_recv(d->file_sizes, NULL))
                ;                           /* drain fileSizes so that walkers can finish */
            return false;
        case 1:
            if (!cases[1].ok)
                return true;                /* fileSizes was closed: break loop */
            (*nfiles)++;
            *nbytes += size;
            break;
        case 2:
            dutree_print_usage(stdout, *nfiles, *nbytes);
            break;
        }
    }
}

/* ---------------------------------------------------------------- Catalog */

/* The book's stdin reader, made deterministic: a task that cancels at
 * CANCEL_AT of virtual time. */
static void canceller(void *arg)
{
    du4 *d = arg;
    csp_sleep(CANCEL_AT);
    harness_mark("cancel");
    if (d->kind == CANCEL_SEND_PER_TASK) {
        long tasks = atomic_load(&d->walkers) + 1;   /* every walker we can count, and main */
        for (long i = 0; i < tasks; i++)
            csp_send(d->done, NULL);  /* BUG(DEADLOCK|LEAK|SLOW): a receive takes the value
                                       * from everyone else; cancel.broadcast closes done */
    } else {
        csp_close(d->done);
    }
}

static void cancel_main(cancel_kind kind)
{
    const dutree *t = dutree_get(&dutree_cancel);
    if (!t)
        return;
    du4 *d = du4_make(kind, DUTREE_READ_COST);
    harness_mark_bound("cancel", CANCEL_BOUND);
    csp_go(canceller, d, "canceller");
    char *const roots[] = { (char *)t->root };
    du4_start(d, roots, 1);
    long nfiles = 0;
    int64_t nbytes = 0;
    if (du4_loop(d, NULL, &nfiles, &nbytes)) {
        dutree_print_usage(stdout, nfiles, nbytes);
        harness_fail("the walk ended (%ld files) before the cancel at %.1f ms: the tree is too "
                     "small to judge the cancel", nfiles, (double)CANCEL_AT / 1e6);
        return;
    }
    /* After a drain every walker is done, and the canceller closed done
     * before main saw it; otherwise tasks may still use d. */
    if (kind == CANCEL_BROADCAST || kind == CANCEL_SEMA_NO_SELECT || kind == CANCEL_NO_POLL)
        free(d);
}

static void cancel_broadcast(void *arg) { (void)arg; cancel_main(CANCEL_BROADCAST); }
static void cancel_no_drain(void *arg) { (void)arg; cancel_main(CANCEL_NO_DRAIN); }
static void cancel_send_per_task(void *arg) { (void)arg; cancel_main(CANCEL_SEND_PER_TASK); }
static void cancel_sema_no_select(void *arg) { (void)arg; cancel_main(CANCEL_SEMA_NO_SELECT); }
static void cancel_no_poll(void *arg) { (void)arg; cancel_main(CANCEL_NO_POLL); }

#define CANCEL_BOUND_TEXT                                                                  \
    "every other task gone within 140 ms (virtual) of the cancel: broadcast takes 10 ms, " \
    "the slow variants 1,990 ms: a 14x margin on both sides"

PATTERN(cancel_broadcast_pattern,
    .id = "cancel.broadcast", .section = "8.9", .book_func = "du4 (cancelled, walkDir, dirents)",
    .lesson = "Closing done is a broadcast: every receive on it, now or later, proceeds, so any "
              "number of walkers, even ones not started yet, learn of the cancel. Walkers poll "
              "it when they start, the token acquire selects on it, and main drains fileSizes "
              "so that walkers caught sending can finish. Every walker is gone 10 ms after the "
              "cancel: the reads already in flight.",
    .bound = CANCEL_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 1000000,
    .schedules = 3,
    .proof_setup = dutree_proof_cancel, .proof_workload = DUTREE_PROOF_WORKLOAD,
    ENTRY(cancel_broadcast));

PATTERN(cancel_no_drain_pattern,
    .id = "cancel.no-drain", .section = "8.9", .book_func = "du4 (main)",
    .fixed_by = "cancel.broadcast",
    .lesson = "Main returns at the cancel without draining fileSizes. The 20 walkers that were "
              "reading when it came go on to send their sizes on the unbuffered channel, and no "
              "one will ever receive them: they leak, and so does the closer waiting for them.",
    .bound = CANCEL_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(LEAK) },
    .max_steps = 1000000,
    ENTRY(cancel_no_drain));

PATTERN(cancel_send_per_task_pattern,
    .id = "cancel.send-per-task", .section = "8.9", .book_func = "du4 (done)",
    .fixed_by = "cancel.broadcast",
    .lesson = "The canceller sends one value per walker it can count, plus one for main, instead "
              "of closing done; but a receive takes the value from everyone else. Walkers busy "
              "when the values go out never take theirs, so the canceller blocks forever (LEAK; "
              "DEADLOCK if main waited for it); walkers started after the count would find none "
              "left and carry on (SLOW). Here the 20 readers leave 20 values unsent: LEAK.",
    .bound = CANCEL_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(DEADLOCK) | V(LEAK) | V(SLOW) },
    .max_steps = 1000000,
    ENTRY(cancel_send_per_task));

PATTERN(cancel_sema_no_select_pattern,
    .id = "cancel.sema-no-select", .section = "8.9", .book_func = "du4 (dirents)",
    .fixed_by = "cancel.broadcast",
    .lesson = "Walkers poll done when they start, then wait for a token with a plain send. The "
              "1,980 walkers already waiting at the cancel each still read their directory, 20 "
              "at a time: 1,990 ms against a bound of 140 ms. This is the bottleneck the book's "
              "profile found, fixed by selecting on done while acquiring the token.",
    .bound = CANCEL_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(SLOW) },
    .max_steps = 1000000,
    ENTRY(cancel_sema_no_select));

PATTERN(cancel_no_poll_pattern,
    .id = "cancel.no-poll", .section = "8.9", .book_func = "du4 (walkDir)",
    .fixed_by = "cancel.broadcast",
    .lesson = "Walkers never look at done. Main stops counting and drains, but the walk runs "
              "to its end, every remaining directory read: 1,990 ms after the cancel against a "
              "bound of 140 ms. Cancellation is cooperative; a task that never checks cannot be "
              "cancelled.",
    .bound = CANCEL_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(SLOW) },
    .max_steps = 1000000,
    ENTRY(cancel_no_poll));

/* ------------------------------------------------------------------ Demo */

/* A byte on standard input cancels (stdin_cancel.h): close(done). */
typedef struct {
    du4 *d;
    atomic_int cancelled;
} du_demo_state;

static void close_done(void *arg)
{
    du_demo_state *s = arg;
    atomic_store(&s->cancelled, 1);
    csp_close(s->d->done);
}

static int du_usage(FILE *out, int status)
{
    fprintf(out, "usage: du [-v] [PATH...]   (a byte on standard input cancels)\n");
    return status;
}

static int du_demo_main(int argc, char **argv)
{
    bool verbose = false;
    int i = 0;
    for (; i < argc && argv[i][0] == '-' && argv[i][1]; i++) {
        if (!strcmp(argv[i], "--")) {
            i++;
            break;
        }
        if (!strcmp(argv[i], "-v"))
            verbose = true;
        else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help"))
            return du_usage(stdout, 0);
        else {
            fprintf(stderr, "du: unknown option '%s' (usage: du [-v] [PATH...])\n", argv[i]);
            return 2;
        }
    }
    char *dot[] = { "." };
    char *const *roots = i < argc ? argv + i : dot;
    int nroots = i < argc ? argc - i : 1;

    du4 *d = du4_make(CANCEL_BROADCAST, 0);
    du_demo_state state = { .d = d };
    atomic_init(&state.cancelled, 0);
    stdin_cancel *watch = stdin_cancel_start(close_done, &state);
    if (!watch) {
        fprintf(stderr, "du: pipe: %s\n", strerror(errno));
        du4_free(d);
        return 1;
    }
    csp_ticker *ticker = verbose ? csp_ticker_make(CANCEL_TICK) : NULL;
    du4_start(d, roots, nroots);
    long nfiles = 0;
    int64_t nbytes = 0;
    bool finished = du4_loop(d, ticker ? csp_ticker_chan(ticker) : NULL, &nfiles, &nbytes);
    /* Every walker is gone now (fileSizes was closed after the wait group
     * reached zero); stop the ticker and the stdin watcher too. */
    if (ticker)
        csp_ticker_free(ticker);
    stdin_cancel_stop(watch);
    /* A cancel that cut the walk short is a cancel even when the loop's
     * select took the closed fileSizes rather than the closed done (both
     * ready: the choice is random, as in Go); as in the crawl demo. */
    if (atomic_load(&state.cancelled))
        finished = false;
    long unreadable = atomic_load(&d->unreadable);
    du4_free(d);
    if (!finished) {
        fprintf(stderr, "du: cancelled after %ld files  %.1f GB\n", nfiles, (double)nbytes / 1e9);
        return 1;
    }
    dutree_print_usage(stdout, nfiles, nbytes);
    return unreadable ? 1 : 0;
}

DEMO(du_demo, .name = "du", .usage = "[-v] [PATH...]",
     .summary = "disk usage of the trees under PATH (GOPL §8.9 du4): a walker per directory, "
                "20 reads at once, progress every 500 ms with -v; a byte on stdin cancels",
     .main = du_demo_main);
