/* thumbnails.h — the image work behind the thumbnails family (GOPL §8.5): the
 * book's gopl.io/ch8/thumbnail package on stb_image / stb_image_write, and
 * the synthetic images its workloads and tests are made of.
 *
 * The image functions are plain blocking C with no shared mutable state (stb
 * is built without its failure-reason global, and nothing writes errno), so
 * any number of tasks — threads in free mode, fibers of one thread in
 * controlled mode — may call them at once. */
#ifndef THUMBNAILS_H
#define THUMBNAILS_H

#include "csp.h"

#include <stdbool.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

#define THUMBNAILS_PATH_MAX 512   /* a file name, input or thumbnail */
#define THUMBNAILS_ERR_MAX  600   /* an error message: a name and why */
#define THUMBNAILS_SIDE     128   /* a thumbnail's longest side, in pixels */

/* Go's `error` as a value that travels through a channel: msg[0] == 0 is nil. */
typedef struct {
    char msg[THUMBNAILS_ERR_MAX];
} thumbnails_error;

/* thumbnail.ImageFile: decodes infile (JPEG or PNG), scales it with the book's
 * crude nearest-pixel loop so that its longest side is THUMBNAILS_SIDE, and
 * writes it as JPEG (quality 75, Go's default) to NAME.thumb.jpg beside it.
 * `work` models the time the scaling takes on a real image: the calling task
 * sleeps that long between decoding and writing (virtual time in controlled
 * mode; 0 for real images). Returns true with the thumbnail's name in thumb,
 * or false with err set; a file that is not an image fails at once. */
bool thumbnails_image_file(const char *infile, csp_duration work, char thumb[THUMBNAILS_PATH_MAX],
                           thumbnails_error *err);

/* The name thumbnails_image_file writes for infile: "dir/a.png" → "dir/a.thumb.jpg". */
void thumbnails_thumb_name(const char *infile, char thumb[THUMBNAILS_PATH_MAX]);

/* Writes a synthetic w×h picture (gradients and stripes from seed) to path, as
 * PNG if path ends in ".png", else as JPEG. False on failure (errno may say why). */
bool thumbnails_make_image(const char *path, int w, int h, unsigned seed);

/* True if path decodes as an image whose longest side is THUMBNAILS_SIDE;
 * otherwise false, with why says what is wrong. */
bool thumbnails_check_thumb(const char *path, char *why, size_t whysize);

/* The catalog's workloads live in $TMPDIR/chanlab-thumbnails-UID/PID.XXXXXX.
 * A run that deadlocks never gets to remove its directory, so each run first
 * removes those of processes that are gone; this does the same from outside
 * a run (a test calls it when it is done). Never touches a live process's. */
void thumbnails_remove_stale(void);

#ifdef __cplusplus
}
#endif
#endif /* THUMBNAILS_H */
