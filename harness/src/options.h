/* options.h — harness_options checked before any run (options.c): the
 * caller's options, then the CHANLAB_* environment overrides that replay a
 * failure from CI without editing a test. Nothing here runs anything. */
#ifndef HARNESS_OPTIONS_H
#define HARNESS_OPTIONS_H

#include "harness.h"

/* The options a run uses: *o with the environment's overrides applied
 * (when CHANLAB_ENTRY, if set, matches entry's name). Returns NULL on
 * success, or a one-line reason (static or in err) for refusing. */
const char *harness__options_resolve(void (*entry)(void *), const harness_options *o,
                                     harness_options *out, char *err, size_t errsize);
/* The name of the entry function (for CHANLAB_ENTRY and rerun lines), or "?". */
void harness__entry_name(void (*entry)(void *), char *buf, size_t size);

#endif
