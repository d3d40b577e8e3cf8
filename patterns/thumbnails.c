/* thumbnails.c — GOPL §8.5, the parallel loop: real thumbnails of real
 * images (thumbnails_image.c), made sequentially, then in parallel the ways
 * the book shows — correct and incorrect — each a registered variant beside
 * the one that fixes it, plus the `thumbnails` demo (makeThumbnails6 over
 * real directories).
 *
 * Every run makes its own workload in a fresh temporary directory: tiny
 * images and one file that is not an image (for the error paths). Scaling an
 * image is modelled as a sleep (virtual time in controlled mode), so workers
 * overlap and a bug that depends on timing shows in every schedule.
 * The entry checks the variant's postcondition right at its return — the
 * thumbnails exist, decode, were each written once, the byte total is right,
 * the error names the non-image — and reports a failure through harness_fail.
 * The workload and the checks are thumbnails_workload.c's (its header states
 * what they guarantee: no happens-before edge that would hide a race).
 * Each worker's arguments are its own (malloc'd, freed by the worker): Go's
 * closure, without a collector. */
#include "pattern.h"
#include "thumbnails_workload.h"

#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* A book function must show in a dump under its own name. */
#if defined(__clang__)
#define NOINLINE __attribute__((noinline))
#else
#define NOINLINE __attribute__((noinline, noclone))
#endif

/* The book's thumbnail.ImageFile(f), on the workload (thumbnails_workload.c). */
static bool image_file(const char *f, char thumb[THUMBNAILS_PATH_MAX], thumbnails_error *err)
{
    return thumbnails_workload_image_file(f, thumb, err);
}

/* ================================================ makeThumbnails: sequential */

static NOINLINE void make_thumbnails(const char *const *filenames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char thumb[THUMBNAILS_PATH_MAX];
        thumbnails_error err;
        if (!image_file(filenames[i], thumb, &err))
            thumbnails_log_println(&err);
    }
}

static void thumbnails_sequential(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    make_thumbnails(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check("makeThumbnails", thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_workload_done();
}

PATTERN(thumbnails_sequential_pattern,
    .id = "thumbnails.sequential", .section = "8.5", .book_func = "makeThumbnails",
    .lesson = "The baseline: one image after another, each thumbnail written before the "
              "function returns. Every iteration is independent of the others, which is "
              "what makes this loop embarrassingly parallel — and every parallel version "
              "below must keep the same postcondition.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 30 * CSP_SECOND, .schedules = 2,
    ENTRY(thumbnails_sequential));

/* ========================================== makeThumbnails2: returns early */

static void image_file_task(void *arg)      /* go thumbnail.ImageFile(f) */
{
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    image_file(arg, thumb, &err);            /* NOTE: ignoring errors */
}

static NOINLINE void make_thumbnails2(const char *const *filenames, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const char *f = filenames[i];
        /* BUG(WRONG_RESULT): starts a worker per file and waits for none of them:
         * the function returns while every thumbnail is still being made */
        csp_go(image_file_task, (void *)f, "worker");
    }
}

static void thumbnails_no_wait(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    make_thumbnails2(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check("makeThumbnails2", thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_workload_done();
}

PATTERN(thumbnails_no_wait_pattern,
    .id = "thumbnails.no-wait", .section = "8.5", .book_func = "makeThumbnails2",
    .fixed_by = "thumbnails.wait-chan",
    .lesson = "Putting `go` in front of the call parallelizes the loop but drops the "
              "wait: the function returns before any worker has finished, so the caller "
              "finds no thumbnails. A parallel loop needs every worker to report back "
              "to the loop that started it.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(WRONG_RESULT), [PATTERN_IN_CONTROLLED] = V(WRONG_RESULT) },
    .timeout = 30 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_no_wait));

/* ============================== makeThumbnails3: wait on an event channel */

/* A worker's captures when it gets the file name as an argument — the value,
 * copied by the go statement: `go func(f string) { ... ch ... }(f)`. */
typedef struct {
    const char *f;
    csp_chan *ch;
} file_args;

static file_args *file_args_make(const char *f, csp_chan *ch)
{
    file_args *a = malloc(sizeof *a);
    if (!a)
        csp_panic("thumbnails: out of memory");
    *a = (file_args){ f, ch };
    return a;
}

static void worker3(void *arg)
{
    file_args *a = arg;
    const char *f = a->f;
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    image_file(f, thumb, &err);
    csp_send(a->ch, NULL);                  /* ch <- struct{}{} */
    free(a);
}

static NOINLINE void make_thumbnails3(const char *const *filenames, size_t n)
{
    csp_chan *ch = csp_chan_make(0, 0, "ch");
    const char *f;      /* the range variable: one for the whole loop (Go before 1.22) */
    for (size_t i = 0; i < n; i++) {
        f = filenames[i];
        /* FIX(RACE) of thumbnails.loop-capture: the worker gets f's value now */
        csp_go(worker3, file_args_make(f, ch), "worker");
    }
    /* Wait for goroutines to complete. */
    for (size_t i = 0; i < n; i++)
        csp_recv(ch, NULL);
}

static void thumbnails_wait_chan(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    make_thumbnails3(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check("makeThumbnails3", thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_workload_done();
}

PATTERN(thumbnails_wait_chan_pattern,
    .id = "thumbnails.wait-chan", .section = "8.5", .book_func = "makeThumbnails3",
    .lesson = "Each worker sends an event on a shared channel when it is done, and the "
              "loop receives exactly as many events as it started workers, so nothing "
              "returns early. The file name is passed to the worker as an argument, which "
              "copies its current value instead of sharing the loop variable.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 120 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_wait_chan));

/* =========================== makeThumbnails3, capturing the loop variable */

typedef struct {
    const char *const *f;   /* func() { ... f ... }: the loop variable itself, shared */
    csp_chan *ch;
} worker3_capture_args;

static worker3_capture_args *worker3_capture_make(const char *const *f, csp_chan *ch)
{
    worker3_capture_args *a = malloc(sizeof *a);
    if (!a)
        csp_panic("thumbnails: out of memory");
    *a = (worker3_capture_args){ f, ch };
    return a;
}

static void worker3_capture(void *arg)
{
    worker3_capture_args *a = arg;
    /* BUG(RACE): reads the loop variable when the worker gets to run, while the
     * loop goes on writing it: by then it usually names a later file */
    const char *f = *a->f;
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    image_file(f, thumb, &err);   /* NOTE: incorrect! */
    csp_send(a->ch, NULL);
    free(a);
}

static NOINLINE void make_thumbnails3_loop_capture(const char *const *filenames, size_t n)
{
    csp_chan *ch = csp_chan_make(0, 0, "ch");
    const char *f;      /* the range variable: one for the whole loop (Go before 1.22) */
    for (size_t i = 0; i < n; i++) {
        f = filenames[i];
        /* BUG(RACE): every worker gets the address of the one loop variable f */
        csp_go(worker3_capture, worker3_capture_make(&f, ch), "worker");
    }
    /* Wait for goroutines to complete. */
    for (size_t i = 0; i < n; i++)
        csp_recv(ch, NULL);
}

static void thumbnails_loop_capture(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    make_thumbnails3_loop_capture(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check("makeThumbnails3", thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_workload_done();
}

PATTERN(thumbnails_loop_capture_pattern,
    .id = "thumbnails.loop-capture", .section = "8.5", .book_func = "makeThumbnails3",
    .fixed_by = "thumbnails.wait-chan",
    .lesson = "A function literal that uses the loop variable shares that one variable "
              "with the loop, which keeps updating it; a worker that starts late reads a "
              "later file name, so some files get several thumbnails and others none. "
              "The race detector reports the unsynchronized write and read; the fix "
              "passes the value as an argument when the worker is started.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(WRONG_RESULT), [PATTERN_IN_CONTROLLED] = V(WRONG_RESULT) },
    .expect_tsan = { [PATTERN_IN_FREE] = V(RACE), [PATTERN_IN_CONTROLLED] = V(RACE) },
    .timeout = 30 * CSP_SECOND, .schedules = 10,
    ENTRY(thumbnails_loop_capture));

/* ================================ makeThumbnails4: the first error leaks */

static void worker4(void *arg)
{
    file_args *a = arg;                     /* a->ch is errors */
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    image_file(a->f, thumb, &err);
    csp_send(a->ch, &err);                  /* errors <- err */
    free(a);
}

static NOINLINE thumbnails_error make_thumbnails4(const char *const *filenames, size_t n)
{
    csp_chan *errors = csp_chan_make(sizeof(thumbnails_error), 0, "errors");
    for (size_t i = 0; i < n; i++)
        csp_go(worker4, file_args_make(filenames[i], errors), "worker");
    for (size_t i = 0; i < n; i++) {
        thumbnails_error err;
        csp_recv(errors, &err);
        if (err.msg[0])
            /* BUG(LEAK): returns on the first error, while the other workers have
             * still to send on the unbuffered errors channel: nobody ever will
             * receive, so they block there forever */
            return err;   /* NOTE: incorrect: goroutine leak! */
    }
    return (thumbnails_error){ .msg = "" };
}

/* Twice: over the images alone (no error: every thumbnail there at return),
 * then over the whole workload (the non-image's error). */
static void thumbnails_leak_on_error(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    thumbnails_error err = make_thumbnails4(thumbnails_wl.images, thumbnails_wl.nimages);
    if (err.msg[0])
        thumbnails_fail("makeThumbnails4 over the images alone returned \"%s\"", err.msg);
    thumbnails_check("makeThumbnails4", thumbnails_wl.images, thumbnails_wl.nimages);
    thumbnails_workload_reset_counts();
    err = make_thumbnails4(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check_error("makeThumbnails4", &err);
    thumbnails_workload_done();
}

PATTERN(thumbnails_leak_on_error_pattern,
    .id = "thumbnails.leak-on-error", .section = "8.5", .book_func = "makeThumbnails4",
    .fixed_by = "thumbnails.buffered",
    .lesson = "Returning on the first error abandons the channel the other workers still "
              "send on: with no buffer and no receiver left, each of them blocks forever — "
              "a goroutine leak that the caller never sees. Whoever stops receiving early "
              "must make sure the senders can still finish.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(LEAK), [PATTERN_IN_CONTROLLED] = V(LEAK) },
    .timeout = 30 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_leak_on_error));

/* ========================= makeThumbnails4 with a task that drains errors */

typedef struct {
    csp_chan *errors;
    size_t n;
} drain_args;

static void drain_errors(void *arg)
{
    drain_args *d = arg;
    for (size_t i = 0; i < d->n; i++)
        csp_recv(d->errors, NULL);
    free(d);
}

static NOINLINE thumbnails_error make_thumbnails4_drain(const char *const *filenames, size_t n)
{
    csp_chan *errors = csp_chan_make(sizeof(thumbnails_error), 0, "errors");
    for (size_t i = 0; i < n; i++)
        csp_go(worker4, file_args_make(filenames[i], errors), "worker");
    for (size_t i = 0; i < n; i++) {
        thumbnails_error err;
        csp_recv(errors, &err);
        if (err.msg[0]) {
            /* FIX(LEAK) of thumbnails.leak-on-error: before returning, start a
             * task that receives the n-i-1 results still to come */
            drain_args *d = malloc(sizeof *d);
            if (!d)
                csp_panic("thumbnails: out of memory");
            *d = (drain_args){ errors, n - i - 1 };
            csp_go(drain_errors, d, "drain");
            return err;
        }
    }
    return (thumbnails_error){ .msg = "" };
}

static void thumbnails_drain_on_error(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    thumbnails_error err = make_thumbnails4_drain(thumbnails_wl.images, thumbnails_wl.nimages);
    if (err.msg[0])
        thumbnails_fail("makeThumbnails4 over the images alone returned \"%s\"", err.msg);
    thumbnails_check("makeThumbnails4", thumbnails_wl.images, thumbnails_wl.nimages);
    thumbnails_workload_reset_counts();
    err = make_thumbnails4_drain(thumbnails_wl.files, thumbnails_wl.n);
    thumbnails_check_error("makeThumbnails4", &err);
    thumbnails_workload_done();
}

PATTERN(thumbnails_drain_on_error_pattern,
    .id = "thumbnails.drain-on-error", .section = "8.5", .book_func = "makeThumbnails4",
    .lesson = "The book's second way out of the leak: when the first error comes back, "
              "start one more task that receives the results still outstanding, then "
              "return. The workers finish their sends, the drain ends with the last one, "
              "and nothing is left behind.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 120 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_drain_on_error));

/* ============================= makeThumbnails5: a buffer for every result */

typedef struct {
    char thumbfile[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
} item;

static void worker5(void *arg)
{
    file_args *a = arg;
    item it;
    image_file(a->f, it.thumbfile, &it.err);   /* it.thumbfile, it.err = thumbnail.ImageFile(f) */
    csp_send(a->ch, &it);                   /* ch <- it */
    free(a);
}

/* Returns how many thumbfiles it filled (n slots), or 0 with *err set. */
static NOINLINE size_t make_thumbnails5(const char *const *filenames, size_t n,
                                        char (*thumbfiles)[THUMBNAILS_PATH_MAX], thumbnails_error *err)
{
    /* FIX(LEAK) of thumbnails.leak-on-error: room for every worker's result,
     * so no send blocks after an early return */
    csp_chan *ch = csp_chan_make(sizeof(item), n, "ch");
    for (size_t i = 0; i < n; i++)
        csp_go(worker5, file_args_make(filenames[i], ch), "worker");
    size_t count = 0;
    for (size_t i = 0; i < n; i++) {
        item it;
        csp_recv(ch, &it);
        if (it.err.msg[0]) {
            *err = it.err;
            return 0;                       /* return nil, it.err */
        }
        memcpy(thumbfiles[count++], it.thumbfile, sizeof it.thumbfile);
    }
    err->msg[0] = 0;
    return count;
}

static void check_thumbfiles(size_t count, char (*thumbfiles)[THUMBNAILS_PATH_MAX])
{
    bool ok = count == thumbnails_wl.nimages;
    for (size_t i = 0; ok && i < thumbnails_wl.nimages; i++) {
        char thumb[THUMBNAILS_PATH_MAX];
        thumbnails_thumb_name(thumbnails_wl.images[i], thumb);
        size_t k = 0;
        while (k < count && strcmp(thumbfiles[k], thumb) != 0)
            k++;
        ok = k < count;
    }
    if (!ok)
        thumbnails_fail("makeThumbnails5 returned %zu thumbfiles, not the %zu images' thumbnails", count,
             thumbnails_wl.nimages);
}

static void thumbnails_buffered(void *arg)
{
    char thumbfiles[NINPUTS][THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    if (!thumbnails_workload_make())
        return;
    size_t count = make_thumbnails5(thumbnails_wl.images, thumbnails_wl.nimages, thumbfiles, &err);
    if (err.msg[0])
        thumbnails_fail("makeThumbnails5 over the images alone returned \"%s\"", err.msg);
    thumbnails_check("makeThumbnails5", thumbnails_wl.images, thumbnails_wl.nimages);
    check_thumbfiles(count, thumbfiles);
    thumbnails_workload_reset_counts();
    count = make_thumbnails5(thumbnails_wl.files, thumbnails_wl.n, thumbfiles, &err);
    thumbnails_check_error("makeThumbnails5", &err);
    if (count)
        thumbnails_fail("makeThumbnails5 returned an error and %zu thumbfiles", count);
    thumbnails_workload_done();
}

PATTERN(thumbnails_buffered_pattern,
    .id = "thumbnails.buffered", .section = "8.5", .book_func = "makeThumbnails5",
    .lesson = "A buffered channel with room for every worker's result fixes the leak: "
              "after an early return the remaining workers still complete their sends "
              "into the buffer and exit. The workers now also return the thumbnail's "
              "name, so the results travel as one item per file.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 120 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_buffered));

/* =================== makeThumbnails6: file names from a channel, WaitGroup */

/* The caller's side of `filenames <-chan string`: every name already in a
 * buffered channel, which is closed. */
static csp_chan *filenames_chan(const char *const *names, size_t n)
{
    csp_chan *ch = csp_chan_make(sizeof(const char *), n, "filenames");
    for (size_t i = 0; i < n; i++)
        csp_send(ch, &names[i]);
    csp_close(ch);
    return ch;
}

typedef struct {
    const char *f;
    csp_chan *sizes;
    csp_waitgroup *wg;
} worker6_args;

static worker6_args *worker6_make(const char *f, csp_chan *sizes, csp_waitgroup *wg)
{
    worker6_args *w = malloc(sizeof *w);
    if (!w)
        csp_panic("thumbnails: out of memory");
    *w = (worker6_args){ f, sizes, wg };
    return w;
}

static void worker6(void *arg)               /* worker */
{
    worker6_args *w = arg;
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    if (!image_file(w->f, thumb, &err)) {
        thumbnails_log_println(&err);
        goto done;                           /* return */
    }
    struct stat info = { .st_size = 0 };
    (void)stat(thumb, &info);                /* OK to ignore error */
    int64_t size = info.st_size;
    csp_send(w->sizes, &size);
done:
    /* FIX(DEADLOCK) of thumbnails.done-not-deferred: defer wg.Done() — every
     * way out, the error's included, passes here */
    csp_wg_done(w->wg);
    free(w);
}

typedef struct {
    csp_waitgroup *wg;
    csp_chan *sizes;
} closer_args;

static void closer(void *arg)                /* closer */
{
    closer_args c = *(closer_args *)arg;
    free(arg);
    csp_wg_wait(c.wg);
    csp_close(c.sizes);
}

static closer_args *closer_make(csp_waitgroup *wg, csp_chan *sizes)
{
    closer_args *c = malloc(sizeof *c);
    if (!c)
        csp_panic("thumbnails: out of memory");
    *c = (closer_args){ wg, sizes };
    return c;
}

static NOINLINE int64_t make_thumbnails6(csp_chan *filenames)
{
    csp_chan *sizes = csp_chan_make(sizeof(int64_t), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();       /* number of working tasks */
    const char *f;
    while (csp_recv(filenames, &f)) {
        /* FIX(PANIC) of thumbnails.add-in-worker: counted before the worker starts */
        csp_wg_add(wg, 1);
        csp_go(worker6, worker6_make(f, sizes, wg), "worker");
    }
    /* FIX(DEADLOCK) of thumbnails.wait-before-loop and thumbnails.wait-after-loop:
     * wait and close in a task of their own, alongside the loop below */
    csp_go(closer, closer_make(wg, sizes), "closer");
    int64_t total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    return total;
}

/* makeThumbnails6's postcondition: every image's thumbnail there at return
 * (once, decodable, 128 px), and the total is the bytes they hold. */
static void check_total(int64_t total)
{
    int64_t want = thumbnails_check("makeThumbnails6", thumbnails_wl.files, thumbnails_wl.n);
    if (want >= 0 && total != want)
        thumbnails_fail("makeThumbnails6 returned %" PRId64 " bytes, the thumbnails hold %" PRId64, total,
             want);
}

static void thumbnails_waitgroup(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    int64_t total = make_thumbnails6(filenames_chan(thumbnails_wl.files, thumbnails_wl.n));
    check_total(total);
    thumbnails_workload_done();
}

PATTERN(thumbnails_waitgroup_pattern,
    .id = "thumbnails.waitgroup", .section = "8.5", .book_func = "makeThumbnails6",
    .lesson = "When the number of iterations is not known in advance, a WaitGroup counts "
              "the workers: Add before each one starts, a deferred Done when it ends. A "
              "separate closer task waits for the count to reach zero and closes the "
              "results channel, while the main loop ranges over the results — the idiom "
              "for a parallel loop.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 120 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_waitgroup));

/* ======================= makeThumbnails6 with Add inside the worker */

static void worker6_add_in_worker(void *arg)
{
    worker6_args *w = arg;
    /* BUG(PANIC): counts itself only once it runs — the closer's Wait may
     * already have seen zero and closed sizes, and this worker's send panics */
    csp_wg_add(w->wg, 1);
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    if (!image_file(w->f, thumb, &err)) {
        thumbnails_log_println(&err);
        goto done;                           /* return */
    }
    struct stat info = { .st_size = 0 };
    (void)stat(thumb, &info);                /* OK to ignore error */
    int64_t size = info.st_size;
    csp_send(w->sizes, &size);
done:
    csp_wg_done(w->wg);                      /* defer wg.Done() */
    free(w);
}

static NOINLINE int64_t make_thumbnails6_add_in_worker(csp_chan *filenames)
{
    csp_chan *sizes = csp_chan_make(sizeof(int64_t), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();       /* number of working tasks */
    const char *f;
    while (csp_recv(filenames, &f)) {
        /* BUG(PANIC): no wg.Add(1) here, before the worker starts (it is in the worker) */
        csp_go(worker6_add_in_worker, worker6_make(f, sizes, wg), "worker");
    }
    csp_go(closer, closer_make(wg, sizes), "closer");
    int64_t total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    return total;
}

static void thumbnails_add_in_worker(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    int64_t total = make_thumbnails6_add_in_worker(filenames_chan(thumbnails_wl.files, thumbnails_wl.n));
    check_total(total);
    thumbnails_workload_done();
}

PATTERN(thumbnails_add_in_worker_pattern,
    .id = "thumbnails.add-in-worker", .section = "8.5", .book_func = "makeThumbnails6",
    .fixed_by = "thumbnails.waitgroup",
    .lesson = "Add must happen before the worker starts, not inside it: otherwise nothing "
              "orders it before the closer's Wait, which can see a zero count, close the "
              "channel early and make a late worker's send panic (or the total come out "
              "short). Real threads fall into that window only once in a while; a "
              "schedule search finds it every time, and replays it.",
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(PANIC) | V(WRONG_RESULT) },
    .timeout = 60 * CSP_SECOND, .schedules = 2000,
    ENTRY(thumbnails_add_in_worker));

/* ============================== makeThumbnails6, Wait before the loop */

static NOINLINE int64_t make_thumbnails6_wait_before_loop(csp_chan *filenames)
{
    csp_chan *sizes = csp_chan_make(sizeof(int64_t), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();       /* number of working tasks */
    const char *f;
    while (csp_recv(filenames, &f)) {
        csp_wg_add(wg, 1);
        csp_go(worker6, worker6_make(f, sizes, wg), "worker");
    }
    /* BUG(DEADLOCK): waits before the loop that receives the sizes: every
     * worker blocks on its send, so the count never reaches zero */
    csp_wg_wait(wg);
    csp_close(sizes);
    int64_t total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    return total;
}

static void thumbnails_wait_before_loop(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    int64_t total = make_thumbnails6_wait_before_loop(filenames_chan(thumbnails_wl.files, thumbnails_wl.n));
    check_total(total);
    thumbnails_workload_done();
}

PATTERN(thumbnails_wait_before_loop_pattern,
    .id = "thumbnails.wait-before-loop", .section = "8.5", .book_func = "makeThumbnails6",
    .fixed_by = "thumbnails.waitgroup",
    .lesson = "Waiting for the workers before receiving their results cannot work with an "
              "unbuffered channel: each worker is stuck in its send, so the count never "
              "drops and the waiter never moves on. Waiting and closing must run "
              "concurrently with the receiving loop.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .timeout = 30 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_wait_before_loop));

/* =============================== makeThumbnails6, Wait after the loop */

static NOINLINE int64_t make_thumbnails6_wait_after_loop(csp_chan *filenames)
{
    csp_chan *sizes = csp_chan_make(sizeof(int64_t), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();       /* number of working tasks */
    const char *f;
    while (csp_recv(filenames, &f)) {
        csp_wg_add(wg, 1);
        csp_go(worker6, worker6_make(f, sizes, wg), "worker");
    }
    int64_t total = 0, size;
    /* BUG(DEADLOCK): the loop ends only when sizes is closed, and the close
     * comes after it: once the last worker has sent, it waits forever */
    while (csp_recv(sizes, &size))
        total += size;
    csp_wg_wait(wg);
    csp_close(sizes);
    return total;
}

static void thumbnails_wait_after_loop(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    int64_t total = make_thumbnails6_wait_after_loop(filenames_chan(thumbnails_wl.files, thumbnails_wl.n));
    check_total(total);
    thumbnails_workload_done();
}

PATTERN(thumbnails_wait_after_loop_pattern,
    .id = "thumbnails.wait-after-loop", .section = "8.5", .book_func = "makeThumbnails6",
    .fixed_by = "thumbnails.waitgroup",
    .lesson = "Moving Wait and close after the range loop makes them unreachable: the loop "
              "only ends when the channel is closed, and nothing else closes it. After the "
              "last result the receiver blocks with every other task gone.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .timeout = 30 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_wait_after_loop));

/* ============================ makeThumbnails6, Done not deferred */

static void worker6_done_not_deferred(void *arg)
{
    worker6_args *w = arg;
    char thumb[THUMBNAILS_PATH_MAX];
    thumbnails_error err;
    if (!image_file(w->f, thumb, &err)) {
        thumbnails_log_println(&err);
        free(w);
        /* BUG(DEADLOCK): this way out skips wg.Done(): the count never reaches
         * zero, so the closer never closes sizes */
        return;
    }
    struct stat info = { .st_size = 0 };
    (void)stat(thumb, &info);                /* OK to ignore error */
    int64_t size = info.st_size;
    csp_send(w->sizes, &size);
    csp_wg_done(w->wg);                      /* wg.Done(), not deferred */
    free(w);
}

static NOINLINE int64_t make_thumbnails6_done_not_deferred(csp_chan *filenames)
{
    csp_chan *sizes = csp_chan_make(sizeof(int64_t), 0, "sizes");
    csp_waitgroup *wg = csp_wg_make();       /* number of working tasks */
    const char *f;
    while (csp_recv(filenames, &f)) {
        csp_wg_add(wg, 1);
        csp_go(worker6_done_not_deferred, worker6_make(f, sizes, wg), "worker");
    }
    csp_go(closer, closer_make(wg, sizes), "closer");
    int64_t total = 0, size;
    while (csp_recv(sizes, &size))
        total += size;
    return total;
}

static void thumbnails_done_not_deferred(void *arg)
{
    if (!thumbnails_workload_make())
        return;
    int64_t total = make_thumbnails6_done_not_deferred(filenames_chan(thumbnails_wl.files, thumbnails_wl.n));
    check_total(total);
    thumbnails_workload_done();
}

PATTERN(thumbnails_done_not_deferred_pattern,
    .id = "thumbnails.done-not-deferred", .section = "8.5", .book_func = "makeThumbnails6",
    .fixed_by = "thumbnails.waitgroup",
    .lesson = "Done called at the end of the worker instead of deferred is skipped by the "
              "early return on an error: one file that is not an image leaves the count "
              "above zero forever, the closer never closes the channel, and the range "
              "loop waits for good. Deferring Done covers every way out.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(DEADLOCK), [PATTERN_IN_CONTROLLED] = V(DEADLOCK) },
    .timeout = 30 * CSP_SECOND, .schedules = 5,
    ENTRY(thumbnails_done_not_deferred));

/* =================================================================== Demo */

static bool is_thumbnail(const char *name)
{
    size_t n = strlen(name), k = strlen(".thumb.jpg");
    return n >= k && strcmp(name + n - k, ".thumb.jpg") == 0;
}

/* Bad usage: one line on stderr, exit status 2. */
static int demo_usage(const char *what, const char *arg)
{
    fprintf(stderr, "chanlab demo thumbnails: %s%s%s%s (usage: chanlab demo thumbnails DIR...)\n",
            what, arg ? " '" : "", arg ? arg : "", arg ? "'" : "");
    return 2;
}

/* Appends the regular files of dir, sorted, leaving out thumbnails already
 * made (so that a second run does not make thumbnails of thumbnails). */
static int collect_files(const char *dir, char ***names, size_t *n, size_t *cap)
{
    struct dirent **ents;
    int k = scandir(dir, &ents, NULL, alphasort);
    if (k < 0) {
        fprintf(stderr, "chanlab demo thumbnails: cannot read %s: %s\n", dir, strerror(errno));
        return -1;
    }
    int status = 0;
    for (int i = 0; i < k; i++) {
        char *path = NULL;
        struct stat st;
        if (status == 0 && *n == *cap) {
            size_t grown_cap = *cap ? 2 * *cap : 64;
            char **grown = realloc(*names, grown_cap * sizeof **names);
            if (grown) {
                *names = grown;
                *cap = grown_cap;
            } else {
                fprintf(stderr, "chanlab demo thumbnails: out of memory\n");
                status = -1;
            }
        }
        if (status == 0 && !is_thumbnail(ents[i]->d_name) &&
            asprintf(&path, "%s/%s", dir, ents[i]->d_name) >= 0) {
            if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
                (*names)[(*n)++] = path;
                path = NULL;
            }
            free(path);
        }
        free(ents[i]);
    }
    free(ents);
    return status;
}

/* chanlab demo thumbnails DIR...: makeThumbnails6 over every file in the
 * directories (not recursive), writing NAME.thumb.jpg beside each image;
 * prints the bytes the thumbnails hold. A file that is not an image is
 * logged and skipped, as the book's worker does. As in the book, there is one
 * worker per file, all at once (§8.6 is where that gets bounded). The
 * channels and the wait group live until the process ends, as Go's would
 * until collected: a straggling task may still be inside csp_wg_done or
 * csp_close when the loop ends, so freeing them here would not be safe. */
static int thumbnails_demo_main(int argc, char **argv)
{
    if (argc < 1)
        return demo_usage("no directory given", NULL);
    for (int i = 0; i < argc; i++) {
        struct stat st;
        if (argv[i][0] == '-')
            return demo_usage("unknown option", argv[i]);
        if (stat(argv[i], &st) != 0 || !S_ISDIR(st.st_mode))
            return demo_usage("not a directory:", argv[i]);
    }
    char **names = NULL;
    size_t n = 0, cap = 0;
    int status = 0;
    for (int i = 0; i < argc && status == 0; i++)
        status = collect_files(argv[i], &names, &n, &cap);
    if (status == 0) {
        thumbnails_workload_none(true);   /* no workload: real images take the time they take */
        int64_t total = make_thumbnails6(filenames_chan((const char *const *)names, n));
        printf("%" PRId64 " bytes of thumbnails\n", total);
        fflush(stdout);
    }
    for (size_t i = 0; i < n; i++)
        free(names[i]);
    free(names);
    return status ? 1 : 0;
}

DEMO(thumbnails_demo, .name = "thumbnails", .usage = "DIR...",
     .summary = "makeThumbnails6 (GOPL §8.5): NAME.thumb.jpg for every image in the "
                "directories, in parallel; prints the bytes they hold",
     .main = thumbnails_demo_main);
