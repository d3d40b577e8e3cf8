/* thumbnails_workload.h — what the thumbnails family's variants run on
 * (thumbnails_workload.c): each run's workload of tiny real images and one
 * non-image in a fresh temporary directory, the counted call of the book's
 * thumbnail.ImageFile, and the postconditions an entry checks at its return.
 * patterns/thumbnails.c holds only the book's functions and their variants.
 *
 * Invariants: between its setup and the next run's, the workload is only
 * read, except for the write counters, which are relaxed atomics — so the
 * checks add no happens-before edge that would hide a race, and a worker a
 * bug leaves running reads nothing that changes under it. */
#ifndef THUMBNAILS_WORKLOAD_H
#define THUMBNAILS_WORKLOAD_H

#include "thumbnails.h"

#include <stdatomic.h>
#include <stdint.h>

#define NINPUTS 3      /* two images and one non-image (thumbnails_workload.c) */

typedef struct {
    char dir[THUMBNAILS_PATH_MAX - 64];
    size_t n;                                    /* inputs, the non-image among them */
    char path[NINPUTS][THUMBNAILS_PATH_MAX];
    const char *files[NINPUTS];                  /* path[i]: what a variant gets, in order */
    const char *images[NINPUTS];                 /* only the images, in order */
    size_t nimages;
    csp_duration work[NINPUTS];                  /* inputs[i].work */
    atomic_uint writes[NINPUTS];                 /* thumbnails written per input (relaxed) */
} thumbnails_workload;

/* This run's workload; the demo has none (n == 0). */
extern thumbnails_workload thumbnails_wl;

/* Makes this run's workload; false (after thumbnails_fail) if it could not. */
bool thumbnails_workload_make(void);
/* Removes this run's directory (kept after a failed postcondition). */
void thumbnails_workload_done(void);
/* Every input's write counter back to 0 (between two calls in one entry). */
void thumbnails_workload_reset_counts(void);
/* The demo: no workload, and errors are printed (log.Println). */
void thumbnails_workload_none(bool log_errors);

/* harness_fail, remembering that the run failed. Only entries call it. */
void thumbnails_fail(const char *fmt, ...) CSP_PRINTF(1, 2);

/* thumbnail.ImageFile(f) taking the workload's modelled time, counting what
 * it wrote; and log.Println of its error (quiet in catalog runs). */
bool thumbnails_workload_image_file(const char *f, char thumb[THUMBNAILS_PATH_MAX], thumbnails_error *err);
void thumbnails_log_println(const thumbnails_error *err);

/* The postcondition of a call that returned without an error: every image
 * among files has one thumbnail, written once, that decodes, 128 px on its
 * longest side; the non-image has none. The thumbnails' bytes, or -1 after
 * thumbnails_fail. */
int64_t thumbnails_check(const char *book_func, const char *const *files, size_t n);
/* The postcondition of a call over the whole workload that reports errors:
 * the error it returned is the non-image's. */
void thumbnails_check_error(const char *book_func, const thumbnails_error *err);

#endif
