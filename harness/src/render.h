/* render.h — the parent's side of a record: the only place that symbolizes.
 * Turns a record into the text a person reads — the message with its code
 * addresses named, and the Go-style dump through the runtime's one formatter
 * (csp_debug_print_task). It judges nothing. */
#ifndef HARNESS_RENDER_H
#define HARNESS_RENDER_H

#include "record.h"

/* A message of r: every pc token replaced by "FUNC at FILE:LINE", the
 * leaks token by r's leaked tasks in groups (malloc'd). */
char *harness__render_message(const harness_record *r, const char *s);
/* The dump of r (head, then every task; ignored ones marked), or NULL when
 * the record has none. */
char *harness__render_dump(const harness_record *r);

#endif
