/* du.c — GOPL §8.8, the concurrent directory traversal, on a real generated
 * tree (dutree.h): du1 (one background walker, totals at the end), du2
 * (progress with -v, a labelled break out of select-in-for) and du3 (a walker
 * per directory, a wait group and a 20-token semaphore), each next to the bug
 * the book warns about.
 *
 * Every variant checks its totals against the tree's reference, computed
 * independently (dutree_check). A directory read costs DUTREE_READ_COST while
 * the directory is open, so the number of directories open at once (gauge
 * DUTREE_GAUGE) means what it would on a disk. The run's objects (channels,
 * the wait group, the ticker) go with the run; the per-run state is freed
 * only when no task can still touch it. */
#include "dutree.h"
#include "pattern.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DU_TOKENS 20                        /* du3's sema: make(chan struct{}, 20) */
#define DU_TICK (500 * CSP_MILLISECOND)     /* du2's progress interval */

typedef struct {
    const char *root;            /* the one root the catalog walks */
    csp_chan *file_sizes;        /* int64_t, unbuffered: one per file found */
    csp_waitgroup *n;            /* du3: walkers still running */
    csp_chan *sema;              /* du3: counting semaphore; NULL: none */
    bool add_in_walker;          /* du.add-in-walker: the walker calls Add */
    atomic_int emfile;           /* reads refused for want of descriptors */
} du_ctx;

static du_ctx *du_ctx_make(const dutree *t)
{
    du_ctx *c = calloc(1, sizeof *c);
    if (!c)
        csp_panic("du: out of memory");
    c->root = t->root;
    c->file_sizes = csp_chan_make(sizeof(int64_t), 0, "fileSizes");
    return c;
}

/* The book's dirents: an unreadable directory is reported and has no
 * entries. With a semaphore, the read holds one of its tokens. */
static bool dirents(du_ctx *c, const char *dir, dutree_dirents *out)
{
    if (c->sema)
        csp_send(c->sema, NULL);            /* acquire token */
    int err = dutree_read_dir(dir, DUTREE_READ_COST, out);
    if (c->sema)
        csp_recv(c->sema, NULL);            /* release token */
    if (err) {
        if (err == EMFILE || err == ENFILE)
            atomic_fetch_add(&c->emfile, 1);
        fprintf(stderr, "du: open %s: %s\n", dir, strerror(err));
    }
    return err == 0;
}

/* The totals are checked unless descriptors ran out (that is RESOURCE
 * already: harness_resource_exhausted, called where opendir failed). */
static void du_finish(du_ctx *c, const dutree *t, long nfiles, int64_t nbytes)
{
    dutree_print_usage(stdout, nfiles, nbytes);
    if (!atomic_load(&c->emfile))
        dutree_check(t, nfiles, nbytes);
}

/* ------------------------------------------------- du1: one background walker */

static void walk_dir1(du_ctx *c, const char *dir)
{
    dutree_dirents ents;
    if (!dirents(c, dir, &ents))
        return;
    for (size_t i = 0; i < ents.n; i++) {
        if (ents.v[i].is_dir) {
            char *subdir = dutree_join(dir, ents.v[i].name);
            walk_dir1(c, subdir);
            free(subdir);
        } else {
            csp_send(c->file_sizes, &ents.v[i].size);
        }
    }
    dutree_dirents_free(&ents);
}

static void du1_background(void *arg)
{
    du_ctx *c = arg;
    walk_dir1(c, c->root);                  /* for _, root := range roots */
    csp_close(c->file_sizes);
}

static void du_sequential(void *arg)
{
    (void)arg;
    const dutree *t = dutree_get(&dutree_du);
    if (!t)
        return;
    du_ctx *c = du_ctx_make(t);
    csp_go(du1_background, c, "walker");
    long nfiles = 0;
    int64_t nbytes = 0, size;
    while (csp_recv(c->file_sizes, &size)) {   /* for size := range fileSizes */
        nfiles++;
        nbytes += size;
    }
    du_finish(c, t, nfiles, nbytes);
    free(c);                                /* the walker closed fileSizes: it is done */
}

PATTERN(du_sequential_pattern,
    .id = "du.sequential", .section = "8.8", .book_func = "du1 (walkDir, main)",
    .lesson = "One background task walks the tree and sends every file's size on an "
              "unbuffered channel; main sums them in a range loop. The loop ends only "
              "because the walker closes fileSizes after its last root. Correct, but silent "
              "until the very end.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 200000,
    .proof_setup = dutree_proof_du, .proof_workload = DUTREE_PROOF_WORKLOAD,
    ENTRY(du_sequential));

/* ------------------------------------------------ du2: progress with -v */

/* du2's loop. Go's `break loop` leaves the select and the for at once; C
 * has no labelled break, and goto is its twin. */
static void progress_loop(csp_chan *file_sizes, csp_chan *tick, long *nfiles, int64_t *nbytes)
{
    for (;;) {
        int64_t size;
        csp_case cases[] = { { file_sizes, CSP_OP_RECV, &size, false },
                             { tick, CSP_OP_RECV, NULL, false } };   /* NULL tick: never ready */
        switch (csp_select(cases, 2, false)) {
        case 0:
            if (!cases[0].ok)
                goto loop_end;              /* fileSizes was closed: break loop */
            (*nfiles)++;
            *nbytes += size;
            break;
        case 1:
            dutree_print_usage(stdout, *nfiles, *nbytes);
            break;
        }
    }
loop_end:
    return;
}

/* The same loop with the book's warning ignored. */
static void unlabeled_loop(csp_chan *file_sizes, csp_chan *tick, long *nfiles, int64_t *nbytes)
{
    for (;;) {
        int64_t size;
        csp_case cases[] = { { file_sizes, CSP_OP_RECV, &size, false },
                             { tick, CSP_OP_RECV, NULL, false } };
        switch (csp_select(cases, 2, false)) {
        case 0:
            if (!cases[0].ok)
                break;  /* BUG(HANG): leaves only the switch (Go: only the select); the for
                         * selects again on the closed fileSizes, forever. du.progress: goto loop_end */
            (*nfiles)++;
            *nbytes += size;
            break;
        case 1:
            dutree_print_usage(stdout, *nfiles, *nbytes);
            break;
        }
    }
}

typedef void du_loop(csp_chan *file_sizes, csp_chan *tick, long *nfiles, int64_t *nbytes);

static void du2_main(bool verbose, du_loop *loop)
{
    const dutree *t = dutree_get(&dutree_du);
    if (!t)
        return;
    du_ctx *c = du_ctx_make(t);
    csp_go(du1_background, c, "walker");
    /* -v: a ticker that is stopped after the loop. The book's time.Tick
     * would go on ticking for the rest of the program: a leak. */
    csp_ticker *ticker = verbose ? csp_ticker_make(DU_TICK) : NULL;
    csp_chan *tick = ticker ? csp_ticker_chan(ticker) : NULL;
    long nfiles = 0;
    int64_t nbytes = 0;
    loop(c->file_sizes, tick, &nfiles, &nbytes);
    if (ticker)
        csp_ticker_free(ticker);            /* ticker.Stop() */
    du_finish(c, t, nfiles, nbytes);
    free(c);                                /* the walker closed fileSizes: it is done */
}

static void du_progress(void *arg)
{
    (void)arg;
    du2_main(true, progress_loop);          /* du2 -v */
}

static void du_unlabeled_break(void *arg)
{
    (void)arg;
    du2_main(false, unlabeled_loop);        /* du2 without -v: nothing but the loop runs */
}

/* In controlled mode the walk takes 4.02 s of virtual time: the ticker fires
 * 8 times, and is stopped and freed after the loop (no ticker leaks). */
PATTERN(du_progress_pattern,
    .id = "du.progress", .section = "8.8", .book_func = "du2 (main)",
    .lesson = "Main selects between file sizes and a progress tick that exists only with -v; "
              "without -v the tick channel is NULL and its case is never ready. When fileSizes "
              "is closed a labelled break (goto in C) leaves the select and the loop together. "
              "The run uses -v with a ticker stopped after the loop, not the book's time.Tick, "
              "which would tick for the rest of the program.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 200000,
    .proof_setup = dutree_proof_du, .proof_workload = DUTREE_PROOF_WORKLOAD,
    ENTRY(du_progress));

PATTERN(du_unlabeled_break_pattern,
    .id = "du.unlabeled-break", .section = "8.8", .book_func = "du2 (main)",
    .fixed_by = "du.progress",
    .lesson = "A plain break inside the select leaves only the select (in C: the switch over "
              "csp_select's result); the for loop selects again, a closed channel is always "
              "ready, and main spins forever without printing its total. Run without -v, so "
              "nothing else happens: free mode sees no progress, controlled mode the step bound.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(HANG), [PATTERN_IN_CONTROLLED] = V(HANG) },
    .hang_after = 1 * CSP_SECOND,
    .max_steps = 200000,
    ENTRY(du_unlabeled_break));

/* ----------------------------------- du3: a walker per directory, a semaphore */

typedef struct {
    du_ctx *c;
    char *dir;
} walker_arg;

static void walk_dir3(void *arg);

static void go_walk_dir3(du_ctx *c, char *dir)
{
    walker_arg *w = malloc(sizeof *w);
    if (!w)
        csp_panic("du: out of memory");
    *w = (walker_arg){ c, dir };
    csp_go(walk_dir3, w, "walkDir");
}

static void walk_dir3(void *arg)
{
    walker_arg *w = arg;
    du_ctx *c = w->c;
    if (c->add_in_walker)
        csp_wg_add(c->n, 1);  /* BUG(PANIC|WRONG_RESULT): the closer's Wait may see 0 before
                               * this Add runs. du.parallel adds before csp_go, below */
    dutree_dirents ents;
    if (dirents(c, w->dir, &ents)) {
        for (size_t i = 0; i < ents.n; i++) {
            if (ents.v[i].is_dir) {
                if (!c->add_in_walker)
                    csp_wg_add(c->n, 1);    /* n.Add(1) before go walkDir */
                go_walk_dir3(c, dutree_join(w->dir, ents.v[i].name));
            } else {
                csp_send(c->file_sizes, &ents.v[i].size);
            }
        }
        dutree_dirents_free(&ents);
    }
    free(w->dir);
    free(w);
    csp_wg_done(c->n);                      /* defer n.Done() */
}

static void closer(void *arg)
{
    du_ctx *c = arg;
    csp_wg_wait(c->n);
    csp_close(c->file_sizes);
}

static void du3_main(bool bounded, bool add_in_walker)
{
    const dutree *t = dutree_get(&dutree_du);
    if (!t)
        return;
    du_ctx *c = du_ctx_make(t);
    c->n = csp_wg_make();
    c->add_in_walker = add_in_walker;
    if (bounded)
        c->sema = csp_chan_make(0, DU_TOKENS, "sema");
    harness_gauge_bound(DUTREE_GAUGE, DU_TOKENS);
    if (!add_in_walker)
        csp_wg_add(c->n, 1);
    char *root = strdup(c->root);
    if (!root)
        csp_panic("du: out of memory");
    go_walk_dir3(c, root);                  /* go walkDir(root, &n, fileSizes) */
    csp_go(closer, c, "closer");
    long nfiles = 0;
    int64_t nbytes = 0;
    progress_loop(c->file_sizes, NULL, &nfiles, &nbytes);   /* without -v */
    du_finish(c, t, nfiles, nbytes);
    if (!add_in_walker)
        free(c);    /* fileSizes closed after Wait: every walker is done. With the bug,
                     * walkers may still run (and use c) after main has returned. */
}

static void du_parallel(void *arg)
{
    (void)arg;
    du3_main(true, false);
}

static void du_unbounded(void *arg)
{
    (void)arg;
    du3_main(false, false);   /* BUG(RESOURCE): no semaphore around the read; du.parallel has one */
}

static void du_add_in_walker(void *arg)
{
    (void)arg;
    du3_main(true, true);
}

PATTERN(du_parallel_pattern,
    .id = "du.parallel", .section = "8.8", .book_func = "du3 (walkDir, dirents)",
    .lesson = "A walker task per directory, counted by a wait group that is incremented before "
              "each walker starts, and a closer task that waits and then closes fileSizes. A "
              "20-token semaphore around the directory read keeps at most 20 directories open; "
              "the bound is declared as a gauge and holds even under a 64-descriptor limit.",
    .bound = "at most 20 open directories (gauge \"open directories\"); RLIMIT_NOFILE 64 in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 200000,
    .fd_limit = 64,
    .proof_setup = dutree_proof_du, .proof_workload = DUTREE_PROOF_WORKLOAD,
    ENTRY(du_parallel));

PATTERN(du_unbounded_pattern,
    .id = "du.unbounded", .section = "8.8", .book_func = "du3 (dirents)",
    .fixed_by = "du.parallel",
    .lesson = "Without the semaphore every walker opens its directory as soon as it starts: the "
              "190 directories of the second level are open at once, far above the declared 20. "
              "Under a 64-descriptor limit opendir fails with EMFILE, the 'too many open files' "
              "the book shows for crawl1.",
    .bound = "at most 20 open directories (gauge \"open directories\"); RLIMIT_NOFILE 64 in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(RESOURCE), [PATTERN_IN_CONTROLLED] = V(RESOURCE) },
    .max_steps = 200000,
    .fd_limit = 64,
    ENTRY(du_unbounded));

PATTERN(du_add_in_walker_pattern,
    .id = "du.add-in-walker", .section = "8.8", .book_func = "du3 (walkDir)",
    .fixed_by = "du.parallel",
    .lesson = "The walker calls Add itself, once it runs. The closer's Wait can see the counter "
              "at zero before a new walker's Add, so fileSizes is closed while walkers still "
              "send (panic: send on closed channel) or main stops early with too small a total. "
              "Add belongs before the go statement; schedule search finds the window.",
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(PANIC) | V(WRONG_RESULT) },
    .max_steps = 200000,
    .schedules = 100,
    ENTRY(du_add_in_walker));
