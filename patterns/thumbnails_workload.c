/* thumbnails_workload.c — the thumbnails family's workload and checks
 * (thumbnails_workload.h). */
#include "pattern.h"
#include "thumbnails_workload.h"

#include <dirent.h>
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ================================================================ Workload */

/* Small on purpose: controlled mode runs each variant over thousands of
 * schedules, and the number of schedules an exhaustive search must cover
 * grows with the factorial of the tasks that can run at once. Two images and
 * one non-image give three workers — enough for every bug of the section to
 * show (a duplicate and a missing thumbnail, a leak, a deadlock, a closer that
 * runs before the workers), few enough for the strategies to reach every bug
 * and for the correct versions to be covered exhaustively. The non-image comes
 * first, so that the loop variable ends on an image; the images take different
 * times to scale, as real ones do. */
static const struct {
    const char *name;
    int w, h;                  /* 0: not an image */
    csp_duration work;         /* modelled scaling time (csp_sleep) */
} inputs[] = {
    { "broken.jpg", 0, 0, 0 },
    { "alps.jpg", 16, 12, 10 * CSP_MILLISECOND },
    { "beach.png", 12, 16, 20 * CSP_MILLISECOND },
};
_Static_assert(sizeof inputs / sizeof *inputs == NINPUTS, "NINPUTS is the inputs table's size");
#define BAD_INPUT 0

thumbnails_workload thumbnails_wl;  /* this run's; the demo has none (n == 0) */
static bool run_failed;   /* the entry reported a failed postcondition this run */
static bool log_errors;   /* log.Println: the demo prints; catalog runs (thousands) keep quiet */

/* harness_fail, remembering that the run failed. Only entries call it. */
void thumbnails_fail(const char *fmt, ...)
{
    char msg[512];   /* what harness_fail keeps */
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    harness_fail("%s", msg);
    run_failed = true;
}

/* "$TMPDIR/chanlab-thumbnails-UID": every run's directory is PID.XXXXXX in it. */
static void workload_root(char *root, size_t size)
{
    const char *tmp = getenv("TMPDIR");
    snprintf(root, size, "%s/chanlab-thumbnails-%ld", tmp && *tmp ? tmp : "/tmp", (long)getuid());
}

/* Removes a flat directory. True when it is gone. */
static bool remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (d) {
        struct dirent *e;
        char path[THUMBNAILS_PATH_MAX + 300];
        while ((e = readdir(d)))
            if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..")) {
                snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
                unlink(path);
            }
        closedir(d);
    }
    return rmdir(dir) == 0 || errno == ENOENT;
}

/* A run that deadlocks never reaches its cleanup (the harness ends it), so
 * each run first removes what earlier runs left: this process's (an earlier
 * schedule's) and those of processes that no longer exist. */
static void sweep_stale(const char *root)
{
    DIR *d = opendir(root);
    if (!d)
        return;
    struct dirent *e;
    char path[THUMBNAILS_PATH_MAX + 300];
    while ((e = readdir(d))) {
        char *end;
        long pid = strtol(e->d_name, &end, 10);
        if (end == e->d_name || *end != '.' || pid <= 0)
            continue;
        if (pid == (long)getpid() || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            snprintf(path, sizeof path, "%s/%s", root, e->d_name);
            remove_dir(path);
        }
    }
    closedir(d);
}

/* Makes this run's workload; false (after harness_fail) if it could not. */
bool thumbnails_workload_make(void)
{
    run_failed = false;
    char root[THUMBNAILS_PATH_MAX - 96];
    workload_root(root, sizeof root);
    if (mkdir(root, 0700) != 0 && errno != EEXIST) {
        thumbnails_fail("thumbnails workload: mkdir %s: %s", root, strerror(errno));
        return false;
    }
    sweep_stale(root);
    snprintf(thumbnails_wl.dir, sizeof thumbnails_wl.dir, "%s/%ld.XXXXXX", root, (long)getpid());
    if (!mkdtemp(thumbnails_wl.dir)) {
        thumbnails_fail("thumbnails workload: mkdtemp %s: %s", thumbnails_wl.dir, strerror(errno));
        return false;
    }
    thumbnails_wl.n = thumbnails_wl.nimages = 0;
    for (size_t i = 0; i < NINPUTS; i++) {
        char *p = thumbnails_wl.path[thumbnails_wl.n];
        char path[THUMBNAILS_PATH_MAX];
        snprintf(path, sizeof path, "%.*s/%s", (int)(sizeof thumbnails_wl.dir - 1), thumbnails_wl.dir, inputs[i].name);
        memcpy(p, path, sizeof path);
        bool ok;
        if (inputs[i].w) {
            ok = thumbnails_make_image(p, inputs[i].w, inputs[i].h, (unsigned)i);
            thumbnails_wl.images[thumbnails_wl.nimages++] = p;
        } else {
            FILE *f = fopen(p, "w");
            ok = f && fputs("this is not an image\n", f) >= 0;
            if (f && fclose(f) != 0)
                ok = false;
        }
        if (!ok) {
            thumbnails_fail("thumbnails workload: cannot write %s: %s", p, strerror(errno));
            remove_dir(thumbnails_wl.dir);
            return false;
        }
        thumbnails_wl.files[thumbnails_wl.n] = p;
        thumbnails_wl.work[thumbnails_wl.n] = inputs[i].work;
        atomic_store_explicit(&thumbnails_wl.writes[thumbnails_wl.n], 0, memory_order_relaxed);
        thumbnails_wl.n++;
    }
    return true;
}

/* The end of a run: removes its directory. A bug's workers may still be
 * writing into it on other threads (free mode), so try again until it is
 * gone; a worker that comes later finds no directory and fails. After a failed
 * postcondition the directory stays, so that the bug's late workers go on as
 * they would in the real program (a late send that panics, say); the next
 * run's sweep removes it. */
void thumbnails_workload_done(void)
{
    if (run_failed)
        return;
    for (int tries = 0; tries < 200 && !remove_dir(thumbnails_wl.dir); tries++)
        csp_sleep(CSP_MILLISECOND);
}

void thumbnails_remove_stale(void)
{
    char root[THUMBNAILS_PATH_MAX - 96];
    workload_root(root, sizeof root);
    sweep_stale(root);
    rmdir(root);   /* only if empty: another process may be using it */
}

void thumbnails_workload_reset_counts(void)
{
    for (size_t i = 0; i < thumbnails_wl.n; i++)
        atomic_store_explicit(&thumbnails_wl.writes[i], 0, memory_order_relaxed);
}

static const char *base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* ================================================ The book's thumbnail call */

/* thumbnail.ImageFile(f): the real work, taking the workload's modelled time
 * (none in the demo); counts what it wrote, so that a check can tell a
 * thumbnail written twice from one written once. */
bool thumbnails_workload_image_file(const char *f, char thumb[THUMBNAILS_PATH_MAX], thumbnails_error *err)
{
    size_t i = 0;
    while (i < thumbnails_wl.n && strcmp(thumbnails_wl.files[i], f) != 0)
        i++;
    bool ok = thumbnails_image_file(f, i < thumbnails_wl.n ? thumbnails_wl.work[i] : 0, thumb, err);
    if (ok && i < thumbnails_wl.n)
        atomic_fetch_add_explicit(&thumbnails_wl.writes[i], 1, memory_order_relaxed);
    return ok;
}

void thumbnails_log_println(const thumbnails_error *err)
{
    if (log_errors)
        fprintf(stderr, "thumbnails: %s\n", err->msg);
}

/* ============================================================== The checks */

typedef struct {
    char text[1024];
    size_t len;
} problems;

static void add_problem(problems *p, const char *fmt, ...) CSP_PRINTF(2, 3);
static void add_problem(problems *p, const char *fmt, ...)
{
    if (p->len >= sizeof p->text - 1)
        return;
    if (p->len)
        p->len += (size_t)snprintf(p->text + p->len, sizeof p->text - p->len, "; ");
    va_list ap;
    va_start(ap, fmt);
    if (p->len < sizeof p->text)
        p->len += (size_t)vsnprintf(p->text + p->len, sizeof p->text - p->len, fmt, ap);
    va_end(ap);
    if (p->len > sizeof p->text - 1)
        p->len = sizeof p->text - 1;
}

static bool is_image(const char *f)
{
    for (size_t i = 0; i < thumbnails_wl.nimages; i++)
        if (thumbnails_wl.images[i] == f)
            return true;
    return false;
}

/* The postcondition of a call that returned without an error, checked at the
 * moment it returned: every image among `files` has a thumbnail, written
 * exactly once, that decodes and is 128 px on its longest side; the
 * non-image has none. Returns the bytes the thumbnails hold, or -1 after
 * harness_fail. */
int64_t thumbnails_check(const char *book_func, const char *const *files, size_t n)
{
    problems p = { .len = 0 };
    int64_t total = 0;
    for (size_t i = 0; i < n; i++) {
        char thumb[THUMBNAILS_PATH_MAX], why[THUMBNAILS_PATH_MAX + 64];
        thumbnails_thumb_name(files[i], thumb);
        size_t k = 0;
        while (k < thumbnails_wl.n && thumbnails_wl.files[k] != files[i])
            k++;
        unsigned writes = k < thumbnails_wl.n ? atomic_load_explicit(&thumbnails_wl.writes[k], memory_order_relaxed) : 0;
        struct stat st;
        bool exists = stat(thumb, &st) == 0;
        if (!is_image(files[i])) {
            if (exists)
                add_problem(&p, "%s has a thumbnail, but it is not an image", base_name(files[i]));
            continue;
        }
        if (!exists) {
            add_problem(&p, "%s is missing", base_name(thumb));
            continue;
        }
        if (writes != 1)
            add_problem(&p, "%s was written %u times", base_name(thumb), writes);
        if (!thumbnails_check_thumb(thumb, why, sizeof why))
            add_problem(&p, "%s", why + (strstr(why, thumbnails_wl.dir) == why ? strlen(thumbnails_wl.dir) + 1 : 0));
        total += st.st_size;
    }
    if (p.len) {
        thumbnails_fail("%s returned, but: %s", book_func, p.text);
        return -1;
    }
    return total;
}

/* The postcondition of a call over the whole workload that reports errors:
 * the error it returned is the non-image's. */
void thumbnails_check_error(const char *book_func, const thumbnails_error *err)
{
    const char *bad = inputs[BAD_INPUT].name;
    if (!err->msg[0])
        thumbnails_fail("%s returned no error, but %s is not an image", book_func, bad);
    else if (!strstr(err->msg, bad))
        thumbnails_fail("%s returned \"%s\", not the error of %s", book_func, err->msg, bad);
}

void thumbnails_workload_none(bool print_errors)
{
    log_errors = print_errors;
    thumbnails_wl.n = 0;
}
