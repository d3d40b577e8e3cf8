/* dutree.c — the du and cancel families' workload: generated trees with
 * independently computed reference totals, the book's dirents, and the
 * book's printDiskUsage. See dutree.h for the invariants.
 *
 * The cache of trees is guarded by `cache_lock`; only entry functions (one
 * run at a time per process) and the test process call into it, so the lock
 * never orders two tasks of one run. */
#include "dutree.h"

#include "harness.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

const dutree_shape dutree_du = {
    .name = "du", .fanout = { 10, 19 }, .files = { 0, 10, 10 }, .links = true,
};
const dutree_shape dutree_cancel = {
    .name = "cancel", .fanout = { 2000 }, .files = { 0, 1 },
};
const dutree_shape dutree_tiny = {
    .name = "tiny", .fanout = { 2 }, .files = { 1, 1 },
};

#define PREFIX "chanlab-dutree-"

/* --------------------------------------------------------------- Reporting */

/* A workload failure: WRONG_RESULT inside a run, a line on stderr outside. */
static void workload_error(const char *what, const char *path, int err)
{
    harness_fail("dutree: %s %s: %s", what, path, strerror(err));
}

/* $TMPDIR if set; else /dev/shm (tmpfs) when it is there, else /tmp. The
 * trees hold no data blocks (sparse files), only inodes; on a disk file
 * system mounted with `discard`, as on the VM this was written on, making and
 * removing the 4,000 entries of a tree takes seconds instead of 50 ms. */
static const char *tmp_dir(void)
{
    const char *t = getenv("TMPDIR");
    if (t && *t)
        return t;
    return access("/dev/shm", W_OK | X_OK) == 0 ? "/dev/shm" : "/tmp";
}

/* ------------------------------------------------------------- Generation */

/* File k of a tree (in generation order) has this many bytes: known, varied,
 * and sparse (ftruncate), so a tree costs no disk blocks. */
static int64_t file_size(long k) { return 1000 + (int64_t)((k * 7919L) % 100000L); }

typedef struct {
    const dutree_shape *shape;
    long dirs, files, k;
    int64_t bytes;
} gen_state;

static int gen_file(const char *dir, int i, gen_state *g)
{
    char path[600];
    snprintf(path, sizeof path, "%s/f%03d", dir, i);
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
    if (fd < 0)
        return errno;
    int64_t size = file_size(g->k++);
    int err = ftruncate(fd, (off_t)size) ? errno : 0;
    close(fd);
    g->files++;
    g->bytes += size;
    return err;
}

static int gen_dir(const char *dir, int depth, gen_state *g)
{
    const dutree_shape *s = g->shape;
    g->dirs++;
    for (int i = 0; i < s->files[depth]; i++) {
        int err = gen_file(dir, i, g);
        if (err)
            return err;
    }
    char path[600];
    if (depth == 1 && s->links) {
        if (snprintf(path, sizeof path, "%s/up", dir) >= (int)sizeof path)
            return ENAMETOOLONG;
        if (symlink("..", path))
            return errno;
        g->files++;
        g->bytes += 2;    /* a symlink's lstat size is its target's length */
    }
    int fanout = depth < DUTREE_MAX_DEPTH ? s->fanout[depth] : 0;
    for (int i = 0; i < fanout; i++) {
        if (snprintf(path, sizeof path, "%s/d%04d", dir, i) >= (int)sizeof path)
            return ENAMETOOLONG;
        if (mkdir(path, 0755))
            return errno;
        int err = gen_dir(path, depth + 1, g);
        if (err)
            return err;
    }
    return 0;
}

/* ------------------------------------------------- Reference (nftw: libc's) */

/* nftw's callback has no argument; one walk at a time per thread. */
static _Thread_local long ref_dirs, ref_files;
static _Thread_local int64_t ref_bytes;

static int ref_visit(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)path, (void)f;
    if (flag == FTW_D)
        ref_dirs++;
    else if (flag == FTW_F || flag == FTW_SL || flag == FTW_SLN) {
        ref_files++;
        ref_bytes += (int64_t)st->st_size;
    }
    return 0;
}

static int remove_visit(const char *path, const struct stat *st, int flag, struct FTW *f)
{
    (void)st, (void)flag, (void)f;
    remove(path);
    return 0;
}

static void remove_tree(const char *root) { nftw(root, remove_visit, 16, FTW_DEPTH | FTW_PHYS); }

/* ------------------------------------------------------------------ Cache */

#define CACHE_SLOTS 8

typedef struct {
    const dutree_shape *shape;   /* NULL: free slot */
    dutree tree;
    pid_t maker;
} cache_slot;

static pthread_mutex_t cache_lock = PTHREAD_MUTEX_INITIALIZER;
static cache_slot cache[CACHE_SLOTS];
static struct { const dutree_shape *from, *to; } subst[CACHE_SLOTS];
static bool atexit_armed;

/* Under cache_lock. Trees of processes that are gone; ours stay. */
static void sweep_dead_makers(void)
{
    DIR *d = opendir(tmp_dir());
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (strncmp(e->d_name, PREFIX, strlen(PREFIX)) != 0)
            continue;
        /* PREFIX SHAPE - PID - XXXXXX */
        const char *dash = strrchr(e->d_name, '-');
        const char *p = dash;
        while (p > e->d_name && p[-1] != '-')
            p--;
        long pid = p < dash ? strtol(p, NULL, 10) : 0;
        if (pid <= 0 || (kill((pid_t)pid, 0) != 0 && errno == ESRCH)) {
            char path[600];
            snprintf(path, sizeof path, "%s/%s", tmp_dir(), e->d_name);
            remove_tree(path);
        }
    }
    closedir(d);
}

static void remove_mine(void)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (cache[i].shape && cache[i].maker == getpid()) {
            remove_tree(cache[i].tree.root);
            cache[i].shape = NULL;
        }
    pthread_mutex_unlock(&cache_lock);
}

void dutree_cleanup(void)
{
    remove_mine();
    pthread_mutex_lock(&cache_lock);
    sweep_dead_makers();
    pthread_mutex_unlock(&cache_lock);
}

void dutree_substitute(const dutree_shape *from, const dutree_shape *to)
{
    pthread_mutex_lock(&cache_lock);
    int free_slot = -1;
    for (int i = 0; i < CACHE_SLOTS; i++) {
        if (subst[i].from == from) {
            subst[i].to = to;
            if (!to)
                subst[i].from = NULL;
            pthread_mutex_unlock(&cache_lock);
            return;
        }
        if (!subst[i].from && free_slot < 0)
            free_slot = i;
    }
    if (to && free_slot >= 0)
        subst[free_slot].from = from, subst[free_slot].to = to;
    pthread_mutex_unlock(&cache_lock);
}

static void proof_substitute(const dutree_shape *from, bool on)
{
    if (on && dutree_get(&dutree_tiny))   /* made here: the proof's runs inherit it */
        dutree_substitute(from, &dutree_tiny);
    else
        dutree_substitute(from, NULL);
}

void dutree_proof_du(bool on) { proof_substitute(&dutree_du, on); }
void dutree_proof_cancel(bool on) { proof_substitute(&dutree_cancel, on); }

/* Under cache_lock: makes a tree of `shape` in slot s; 0 or an errno. */
static int make_tree(cache_slot *s, const dutree_shape *shape)
{
    dutree *t = &s->tree;
    memset(t, 0, sizeof *t);
    t->shape = shape;
    snprintf(t->root, sizeof t->root, "%s/" PREFIX "%s-%ld-XXXXXX", tmp_dir(), shape->name,
             (long)getpid());
    if (!mkdtemp(t->root)) {
        int err = errno;
        workload_error("cannot make a directory like", t->root, err);
        return err;
    }
    gen_state g = { .shape = shape };
    int err = gen_dir(t->root, 0, &g);
    if (err) {
        workload_error("cannot generate the tree in", t->root, err);
        remove_tree(t->root);
        return err;
    }
    /* The reference: libc's walk, not ours, and not the generator's sums
     * (which must agree with it). */
    ref_dirs = ref_files = 0;
    ref_bytes = 0;
    if (nftw(t->root, ref_visit, 16, FTW_PHYS) != 0 || ref_dirs != g.dirs ||
        ref_files != g.files || ref_bytes != g.bytes) {
        harness_fail("dutree: the tree in %s does not add up: nftw counts %ld dirs, %ld files, "
                     "%lld bytes; the generator made %ld, %ld, %lld", t->root, ref_dirs, ref_files,
                     (long long)ref_bytes, g.dirs, g.files, (long long)g.bytes);
        remove_tree(t->root);
        return EIO;
    }
    t->dirs = ref_dirs;
    t->files = ref_files;
    t->bytes = ref_bytes;
    s->shape = shape;
    s->maker = getpid();
    return 0;
}

const dutree *dutree_get(const dutree_shape *shape)
{
    pthread_mutex_lock(&cache_lock);
    for (int i = 0; i < CACHE_SLOTS; i++)
        if (subst[i].from == shape && subst[i].to) {
            shape = subst[i].to;
            break;
        }
    const dutree *found = NULL;
    cache_slot *free_slot = NULL;
    for (int i = 0; i < CACHE_SLOTS && !found; i++) {
        struct stat st;
        if (cache[i].shape == shape && stat(cache[i].tree.root, &st) == 0)
            found = &cache[i].tree;
        else if (cache[i].shape == shape)
            cache[i].shape = NULL;    /* removed under us: make it again */
        if (!cache[i].shape && !free_slot)
            free_slot = &cache[i];
    }
    if (!found && free_slot) {
        if (!atexit_armed) {
            atexit(remove_mine);      /* runs on exit(), in the maker only */
            atexit_armed = true;
        }
        sweep_dead_makers();
        if (make_tree(free_slot, shape) == 0)
            found = &free_slot->tree;
    } else if (!found) {
        harness_fail("dutree: no free slot for a tree of shape %s", shape->name);
    }
    pthread_mutex_unlock(&cache_lock);
    return found;
}

/* ---------------------------------------------------------------- dirents */

/* errno belongs to the OS thread, and in controlled mode every task is a
 * fiber of one thread. No scheduling point lies between setting errno and
 * reading it here, so no other task can come in between; but TSan, which
 * sees each fiber as a thread, would take every walker's errno for one
 * shared variable. These two accesses are kept out of its sight. */
#if defined(__clang__) || defined(__GNUC__)
#define DUTREE_QUIET __attribute__((no_sanitize("thread"), noinline))
#else
#define DUTREE_QUIET
#endif
static DUTREE_QUIET void errno_set(int e) { errno = e; }
static DUTREE_QUIET int errno_get(void) { return errno; }

static int by_name(const void *a, const void *b)
{
    return strcmp(((const dutree_entry *)a)->name, ((const dutree_entry *)b)->name);
}

/* Appends one entry; the names go into one growing buffer, fixed up at the
 * end (offsets while it grows). */
typedef struct {
    dutree_entry *v;
    size_t n, cap;
    char *names;
    size_t len, namecap;
} dirents_builder;

static int push_entry(dirents_builder *b, const char *name, bool is_dir, int64_t size)
{
    size_t k = strlen(name) + 1;
    if (b->n == b->cap) {
        size_t cap = b->cap ? 2 * b->cap : 16;
        dutree_entry *v = realloc(b->v, cap * sizeof *v);
        if (!v)
            return ENOMEM;
        b->v = v;
        b->cap = cap;
    }
    if (b->len + k > b->namecap) {
        size_t cap = b->namecap ? 2 * b->namecap : 256;
        while (cap < b->len + k)
            cap *= 2;
        char *names = realloc(b->names, cap);
        if (!names)
            return ENOMEM;
        b->names = names;
        b->namecap = cap;
    }
    memcpy(b->names + b->len, name, k);
    b->v[b->n++] = (dutree_entry){ .name = (const char *)(uintptr_t)b->len, .is_dir = is_dir,
                                   .size = size };
    b->len += k;
    return 0;
}

int dutree_read_dir(const char *dir, csp_duration cost, dutree_dirents *out)
{
    memset(out, 0, sizeof *out);
    DIR *d = opendir(dir);
    if (!d) {
        int err = errno_get();
        if (err == EMFILE || err == ENFILE)
            harness_resource_exhausted("open directories: EMFILE");
        return err;
    }
    harness_gauge_enter(DUTREE_GAUGE);
    dirents_builder b = {0};
    int err = 0;
    struct dirent *e;
    for (;;) {
        errno_set(0);
        if (!(e = readdir(d))) {
            err = errno_get();
            break;
        }
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        struct stat st;
        if (fstatat(dirfd(d), e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0)
            continue;         /* gone since readdir: Go's ReadDir skips it too */
        if ((err = push_entry(&b, e->d_name, S_ISDIR(st.st_mode), (int64_t)st.st_size)))
            break;
    }
    csp_sleep(cost);          /* the read's modelled latency, spent while open */
    closedir(d);
    harness_gauge_exit(DUTREE_GAUGE);
    if (err) {
        free(b.v);
        free(b.names);
        return err;
    }
    for (size_t i = 0; i < b.n; i++)
        b.v[i].name = b.names + (uintptr_t)b.v[i].name;
    qsort(b.v, b.n, sizeof *b.v, by_name);
    *out = (dutree_dirents){ .v = b.v, .n = b.n, .names = b.names };
    return 0;
}

void dutree_dirents_free(dutree_dirents *d)
{
    free(d->v);
    free(d->names);
    memset(d, 0, sizeof *d);
}

char *dutree_join(const char *dir, const char *name)
{
    size_t a = strlen(dir), b = strlen(name);
    char *p = malloc(a + b + 2);
    if (!p)
        csp_panic("dutree_join: out of memory");
    memcpy(p, dir, a);
    p[a] = '/';
    memcpy(p + a + 1, name, b + 1);
    return p;
}

/* ---------------------------------------------------------------- Results */

void dutree_print_usage(FILE *out, long nfiles, int64_t nbytes)
{
    fprintf(out, "%ld files  %.1f GB\n", nfiles, (double)nbytes / 1e9);
    fflush(out);    /* Go's os.Stdout is unbuffered; a run may end in _exit */
}

void dutree_check(const dutree *t, long nfiles, int64_t nbytes)
{
    harness_output("%ld files  %lld bytes\n", nfiles, (long long)nbytes);
    if (nfiles != t->files || nbytes != t->bytes)
        harness_fail("du counted %ld files and %lld bytes; the tree %s has %ld and %lld",
                     nfiles, (long long)nbytes, t->root, t->files, (long long)t->bytes);
}
