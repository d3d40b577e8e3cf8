/* dutree.h — the workload of the du (§8.8) and cancel (§8.9) families and of
 * `chanlab demo du` (DESIGN §5, "files"): a real directory tree generated in
 * a fresh mkdtemp directory (under $TMPDIR, else /dev/shm, else /tmp),
 * reference totals computed independently of every walker (nftw: the sum of
 * the lstat sizes of every non-directory entry, which is what the book's du
 * counts), and the book's dirents — a directory read
 * whole, each entry lstat'ed, sorted by name as Go's ReadDir does, closed —
 * at a modelled cost spent while the directory is open.
 *
 * Invariants: a tree is only ever read once made, so runs that share one
 * cannot affect each other. A tree lives as long as the process that made it
 * (removed at its exit) and is inherited by the children it forks, so a test
 * that gets its trees before harness_run generates each once; a tree made in
 * a forked child, which ends with _exit, is removed by the next
 * dutree_cleanup or generation in any process (its maker is dead by then). */
#ifndef DUTREE_H
#define DUTREE_H

#include "csp.h"

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ------------------------------------------------------------------ Trees */

#define DUTREE_MAX_DEPTH 3

typedef struct dutree_shape {
    const char *name;                     /* names the mkdtemp directory */
    int fanout[DUTREE_MAX_DEPTH];         /* subdirectories of a directory at depth d (root: 0); 0 ends */
    int files[DUTREE_MAX_DEPTH + 1];      /* regular files in a directory at depth d */
    bool links;                           /* a symlink "up" -> ".." in each depth-1 directory */
} dutree_shape;

typedef struct dutree {
    const dutree_shape *shape;
    char root[512];
    long dirs;        /* directories, the root included */
    long files;       /* non-directory entries (files and symlinks): what du counts */
    int64_t bytes;    /* the sum of their lstat sizes */
} dutree;

/* du:     201 directories (root, 10, 10 x 19), 2,000 regular files (10 in
 *         every directory below the root) and 10 symlinks "up" -> "..":
 *         2,010 entries counted. Walking it sequentially at 20 ms a
 *         directory takes 4.02 s, so a 500 ms progress ticker fires 8 times.
 * cancel: 2,001 directories: a root holding 2,000 directories of one file
 *         each (the latency margins of cancel.c need 100 semaphore rounds).
 * tiny:   3 directories (root, 2) and 3 files: small enough for EXHAUSTIVE. */
extern const dutree_shape dutree_du, dutree_cancel, dutree_tiny;

/* The tree of this shape (after substitution): made once per process, or
 * inherited from the process that forked this one. NULL (and harness_fail,
 * or a message on stderr outside a run) when it cannot be made. */
const dutree *dutree_get(const dutree_shape *shape);

/* From now on (in this process and the children it forks) dutree_get(from)
 * gives the tree of shape `to`; to == NULL undoes it. A test's hook: the
 * exhaustive checks walk dutree_tiny in place of a family's tree. */
void dutree_substitute(const dutree_shape *from, const dutree_shape *to);

/* pattern.proof_setup for the du and cancel families: their proofs walk
 * dutree_tiny (3 directories, 3 files) in place of their own tree, whose
 * interleavings are too many to exhaust (every file's size is a hand-off on
 * an unbuffered channel: two orders each). */
#define DUTREE_PROOF_WORKLOAD "dutree_tiny: 3 directories, 3 files"
void dutree_proof_du(bool on);
void dutree_proof_cancel(bool on);

/* Removes the trees this process made, and every tree whose maker is dead. */
void dutree_cleanup(void);

/* ------------------------------------------------------- Reading (dirents) */

/* Every directory a walker holds open is counted in this gauge. */
#define DUTREE_GAUGE "open directories"
/* What a directory read costs in the catalog: a busy spinning disk, or a
 * network file system. Virtual time in controlled mode; real time in free
 * mode, where it is what lets concurrent walkers hold many directories open
 * at once, as they would on such a disk (on a warm page cache a read takes
 * microseconds, and under TSan starting a thread takes a few hundred: at 20
 * ms the unbounded walk still holds 2-3x the bound open, or runs out). */
#define DUTREE_READ_COST (20 * CSP_MILLISECOND)

typedef struct {
    const char *name;
    bool is_dir;      /* lstat: a symlink to a directory is not one */
    int64_t size;     /* lstat size */
} dutree_entry;

typedef struct {
    dutree_entry *v;
    size_t n;
    char *names;      /* every name, one allocation */
} dutree_dirents;

/* Reads directory `dir` whole: opens it (gauge DUTREE_GAUGE enters), lstats
 * every entry but "." and "..", sleeps `cost` (csp_sleep), closes it (gauge
 * exits), sorts the entries by name. Returns 0, or the errno of what failed
 * (*out is then empty): EMFILE or ENFILE also call
 * harness_resource_exhausted("open directories: EMFILE"). */
int  dutree_read_dir(const char *dir, csp_duration cost, dutree_dirents *out);
void dutree_dirents_free(dutree_dirents *d);

/* dir + "/" + name, malloc'ed (filepath.Join for our purposes). Panics
 * (csp_panic) when out of memory. */
char *dutree_join(const char *dir, const char *name);

/* ---------------------------------------------------------------- Results */

/* The book's printDiskUsage: "N files  X.Y GB\n", flushed. */
void dutree_print_usage(FILE *out, long nfiles, int64_t nbytes);

/* Compares a walk's totals with the tree's reference: harness_fail when they
 * differ; the totals also go to harness_output (the same under every
 * schedule). */
void dutree_check(const dutree *t, long nfiles, int64_t nbytes);

#ifdef __cplusplus
}
#endif
#endif /* DUTREE_H */
