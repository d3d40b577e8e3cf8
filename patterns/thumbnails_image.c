/* thumbnails_image.c — the book's gopl.io/ch8/thumbnail package in C, on
 * stb_image (decode) and stb_image_write (encode), plus the synthetic
 * pictures the thumbnails workloads are made of.
 *
 * Invariant: nothing here keeps state between calls. stb is compiled into this
 * file alone, static, without failure strings (its one mutable global), and
 * for JPEG and PNG only; its warnings are silenced here and nowhere else. */
#include "csp_tool.h"
#include "thumbnails.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* gcc reports static functions declared but never defined (those of the
 * formats left out) at the end of the file, after any pop: file-wide. */
#pragma GCC diagnostic ignored "-Wunused-function"
#pragma GCC diagnostic push
#ifdef __clang__
#pragma GCC diagnostic ignored "-Wunknown-warning-option"
#endif
#pragma GCC diagnostic ignored "-Wunused-parameter"
#pragma GCC diagnostic ignored "-Wunused-but-set-variable"
#pragma GCC diagnostic ignored "-Wsign-compare"
#pragma GCC diagnostic ignored "-Wshadow"
#pragma GCC diagnostic ignored "-Wmissing-prototypes"
#pragma GCC diagnostic ignored "-Wstrict-prototypes"
#pragma GCC diagnostic ignored "-Wimplicit-fallthrough"
#pragma GCC diagnostic ignored "-Wmissing-field-initializers"
#pragma GCC diagnostic ignored "-Wtype-limits"
#pragma GCC diagnostic ignored "-Wdouble-promotion"
#pragma GCC diagnostic ignored "-Wcast-qual"
#pragma GCC diagnostic ignored "-Wconversion"
/* Under clang, two sanitizers leave stb alone (the callers here and in
 * thumbnails.c stay instrumented):
 *  - ThreadSanitizer: stb shares nothing between calls and synchronises
 *    nothing, so there is no race in it to find, and the image work would
 *    otherwise dominate the time of every schedule;
 *  - UBSan's shift check: stb_image_write 1.16's JPEG bit writer shifts a
 *    signed int left past its range (bitBuf <<= 8), on every image.
 * AddressSanitizer still checks it. Without TSan or UBSan these are no-ops. */
#ifdef __clang__
#define THUMBNAILS_STB_ATTRIBUTES 1
#pragma clang attribute push(__attribute__((no_sanitize("thread", "shift"))), apply_to = function)
#endif
#define STB_IMAGE_STATIC
#define STB_IMAGE_IMPLEMENTATION
#define STBI_ONLY_JPEG
#define STBI_ONLY_PNG
#define STBI_NO_FAILURE_STRINGS
#include <stb/stb_image.h>
#define STB_IMAGE_WRITE_STATIC
#define STB_IMAGE_WRITE_IMPLEMENTATION
#include <stb/stb_image_write.h>
#ifdef THUMBNAILS_STB_ATTRIBUTES
#pragma clang attribute pop
#endif
#pragma GCC diagnostic pop

#define JPEG_QUALITY 75   /* Go's jpeg.DefaultQuality, what the book's jpeg.Encode(w, dst, nil) uses */

/* Nothing here writes errno, only reads it: in controlled mode every task is
 * a fiber of one thread, so errno is one variable they all share, and two
 * instrumented writes to it from two tasks would be a race to TSan. (libc's
 * own writes are not instrumented.) Hence files are opened here and stb
 * writes through a callback. */
static void write_to(void *context, void *data, int size)
{
    fwrite(data, 1, (size_t)size, context);
}

void thumbnails_thumb_name(const char *infile, char thumb[THUMBNAILS_PATH_MAX])
{
    /* strings.TrimSuffix(infile, filepath.Ext(infile)) + ".thumb.jpg" */
    const char *slash = strrchr(infile, '/');
    const char *dot = strrchr(infile, '.');
    size_t stem = dot && (!slash || dot > slash) ? (size_t)(dot - infile) : strlen(infile);
    snprintf(thumb, THUMBNAILS_PATH_MAX, "%.*s.thumb.jpg", (int)stem, infile);
}

/* thumbnail.Image's loop: dst.Set(x, y, src.At(srcx, srcy)) at each of
 * w*h pixels. Uninstrumented, and checked by TSan as one read of src and
 * one write of dst (thumbnail_image): per pixel, a memcpy of 3 bytes went
 * through TSan's interceptor (a call and two range checks, 16,384 times an
 * image) and byte copies through six checks — a third of a thumbnails
 * schedule's time in the tsan build, in code gcc and clang otherwise
 * compile to a few moves. */
static CSP_TOOL_QUIET void scale_pixels(unsigned char *dst, int w, int h, const unsigned char *src,
                                        int xs, double xscale, double yscale)
{
    for (int x = 0; x < w; x++)
        for (int y = 0; y < h; y++) {
            int srcx = (int)(x * xscale), srcy = (int)(y * yscale);
            unsigned char *d = dst + ((size_t)y * (size_t)w + (size_t)x) * 3;
            const unsigned char *s = src + ((size_t)srcy * (size_t)xs + (size_t)srcx) * 3;
            d[0] = s[0];
            d[1] = s[1];
            d[2] = s[2];
        }
}

/* thumbnail.Image: a very crude scaling algorithm (the book's words), kept as
 * printed: the longest side becomes 128, the other keeps the aspect ratio. */
static unsigned char *thumbnail_image(const unsigned char *src, int xs, int ys, int *width, int *height)
{
    int w = THUMBNAILS_SIDE, h = THUMBNAILS_SIDE;
    double aspect = (double)xs / (double)ys;
    if (aspect < 1.0)
        w = (int)(THUMBNAILS_SIDE * aspect);   /* portrait */
    else
        h = (int)(THUMBNAILS_SIDE / aspect);   /* landscape */
    if (w < 1)
        w = 1;
    if (h < 1)
        h = 1;
    double xscale = (double)xs / w, yscale = (double)ys / h;
    unsigned char *dst = malloc((size_t)w * (size_t)h * 3);
    if (!dst)
        return NULL;
    csp_tool_read_range(src, (size_t)xs * (size_t)ys * 3);
    scale_pixels(dst, w, h, src, xs, xscale, yscale);
    csp_tool_write_range(dst, (size_t)w * (size_t)h * 3);
    *width = w;
    *height = h;
    return dst;
}

bool thumbnails_image_file(const char *infile, csp_duration work, char thumb[THUMBNAILS_PATH_MAX],
                           thumbnails_error *err)
{
    err->msg[0] = 0;
    thumbnails_thumb_name(infile, thumb);
    FILE *in = fopen(infile, "rb");
    if (!in) {
        snprintf(err->msg, sizeof err->msg, "open %s: %s", infile, strerror(errno));
        return false;
    }
    int xs, ys, comp;
    unsigned char *src = stbi_load_from_file(in, &xs, &ys, &comp, 3);
    fclose(in);
    if (!src || xs < 1 || ys < 1) {
        stbi_image_free(src);
        /* what Go's image.Decode says of a file it has no decoder for */
        snprintf(err->msg, sizeof err->msg, "%s: image: unknown format", infile);
        return false;
    }
    csp_sleep(work);
    int w, h;
    unsigned char *dst = thumbnail_image(src, xs, ys, &w, &h);
    stbi_image_free(src);
    if (!dst) {
        snprintf(err->msg, sizeof err->msg, "%s: out of memory", infile);
        return false;
    }
    FILE *out = fopen(thumb, "wb");
    if (!out) {
        free(dst);
        snprintf(err->msg, sizeof err->msg, "create %s: %s", thumb, strerror(errno));
        return false;
    }
    bool ok = stbi_write_jpg_to_func(write_to, out, w, h, 3, dst, JPEG_QUALITY) != 0;
    ok = !ferror(out) && ok;
    ok = fclose(out) == 0 && ok;
    free(dst);
    if (!ok) {
        snprintf(err->msg, sizeof err->msg, "write %s: failed", thumb);
        return false;
    }
    return true;
}

static bool ends_with(const char *s, const char *suffix)
{
    size_t n = strlen(s), k = strlen(suffix);
    return n >= k && strcmp(s + n - k, suffix) == 0;
}

bool thumbnails_make_image(const char *path, int w, int h, unsigned seed)
{
    if (w < 1 || h < 1)
        return false;
    unsigned char *px = malloc((size_t)w * (size_t)h * 3);
    if (!px)
        return false;
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            unsigned char *p = px + ((size_t)y * (size_t)w + (size_t)x) * 3;
            p[0] = (unsigned char)(x * 255 / w + seed * 37u);
            p[1] = (unsigned char)(y * 255 / h + seed * 91u);
            p[2] = ((x / 4 + y / 4 + (int)seed) & 1) ? 200 : 40;
        }
    FILE *out = fopen(path, "wb");
    bool ok = out != NULL;
    if (ok && ends_with(path, ".png"))
        ok = stbi_write_png_to_func(write_to, out, w, h, 3, px, w * 3) != 0;
    else if (ok)
        ok = stbi_write_jpg_to_func(write_to, out, w, h, 3, px, 90) != 0;
    if (out) {
        ok = !ferror(out) && ok;
        ok = fclose(out) == 0 && ok;
    }
    free(px);
    return ok;
}

bool thumbnails_check_thumb(const char *path, char *why, size_t whysize)
{
    int w, h, comp;
    unsigned char *px = stbi_load(path, &w, &h, &comp, 3);
    if (!px) {
        snprintf(why, whysize, "%s does not decode", path);
        return false;
    }
    stbi_image_free(px);
    if ((w > h ? w : h) != THUMBNAILS_SIDE || w < 1 || h < 1) {
        snprintf(why, whysize, "%s is %dx%d, not %d px on its longest side", path, w, h,
                 THUMBNAILS_SIDE);
        return false;
    }
    return true;
}
