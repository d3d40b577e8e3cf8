/* run.c — harness_run: resolves the options (options.c), makes the ignore
 * list, carries out each run under the supervisor (supervise.c: a forked
 * child by default) and merges the outcomes (merge.c).
 *
 * Free mode: harness_options.schedules runs, each its own child; their
 * outputs are compared (a difference is NONDETERMINISTIC). Controlled mode:
 * one child runs every schedule (controlled.c). */
#include "quiet.h"
#include "csp_debug.h"
#include "merge.h"
#include "options.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

HARNESS_CODE void harness_dump(FILE *out) { csp_debug_dump(out); }

HARNESS_CODE void harness_result_free(harness_result *r)
{
    if (!r)
        return;
    free(r->schedule);
    free(r->dump);
    free(r->message);
    free(r->output);
    free(r->log);
    free(r->decisions);
    free(r->rerun);
    harness__events_free(r->events, r->nevents);
    memset(r, 0, sizeof *r);
}

static int fail_with(harness_result *r, const char *fmt, ...) CSP_PRINTF(2, 3);
static HARNESS_CODE int fail_with(harness_result *r, const char *fmt, ...)
{
    char msg[640];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    free(r->message);
    r->message = strdup(msg);
    return -1;
}

static bool nested;

/* The harness's own code, to the runtime's dumps: built as a shared library
 * of its own, its "chanlab_text" section is not the runtime's (in a static
 * link they are one section, and registering it again is harmless). */
extern const char __start_chanlab_text[] __attribute__((visibility("hidden")));
extern const char __stop_chanlab_text[] __attribute__((visibility("hidden")));

static HARNESS_CODE __attribute__((constructor)) void register_harness_code(void)
{
    csp_debug_register_code(__start_chanlab_text, __stop_chanlab_text);
}

HARNESS_CODE int harness_run(void (*entry)(void *), void *arg, const harness_options *given, harness_result *r)
{
    if (!r)
        return -1;
    memset(r, 0, sizeof *r);
    harness_options defaults = harness_defaults(), opts;
    char err[512];
    const char *why = harness__options_resolve(entry, given ? given : &defaults, &opts, err, sizeof err);
    if (why)
        return fail_with(r, "harness_run: %s", why);
    const harness_options *o = &opts;
    if (nested || harness__state)
        return fail_with(r, "harness_run: called while a run is in progress (it is not re-entrant)");
    nested = true;
    /* The harness judges deadlocks itself: the runtime's own watchdog (a
     * thread, which the parent must not start) stays off in this process
     * and in every child, from now on. */
    csp_debug_set_supervised(true);
    char name[256];
    harness__entry_name(entry, name, sizeof name);
    harness_ignore *ignore = harness__ignore_make(o->ignore_tasks);

    char *first_output = NULL;
    unsigned runs = o->mode == HARNESS_CONTROLLED ? 1 : o->schedules;
    int rc = 0;
    for (unsigned i = 1; i <= runs; i++) {
        harness_child_args a = { entry, arg, o, ignore, -1, false, i };
        harness_child_result c;
        harness__supervise(&a, &c);
        if (c.rec.error) {
            fail_with(r, "harness_run: %s", c.rec.error);
            harness__child_result_free(&c);
            rc = -1;
            break;
        }
        /* Free runs: the output of each against the first. */
        harness_verdict extra = HARNESS_PASS;
        char extra_msg[96] = "";
        const char *output = c.rec.output ? c.rec.output : "";
        if (o->mode == HARNESS_FREE) {
            if (!first_output)
                first_output = strdup(output);
            else if (strcmp(first_output, output) != 0) {
                extra = HARNESS_NONDETERMINISTIC;
                snprintf(extra_msg, sizeof extra_msg, "output differs between run 1 and run %u", i);
            }
        }
        harness__merge_run(r, &c, o, name, i, i == 1, extra, extra_msg);
        if (o->mode == HARNESS_CONTROLLED) {
            r->schedules_run = c.rec.schedules_run;
            r->exhausted = c.rec.exhausted;
            r->schedules_pruned = c.rec.schedules_pruned;
            r->schedules_redone = c.rec.schedules_redone;
            if (r->verdict == HARNESS_PASS) {
                char msg[200];
                snprintf(msg, sizeof msg, "no bug observed in %u schedule%s%s", r->schedules_run,
                         r->schedules_run == 1 ? "" : "s",
                         c.rec.exhausted ? " (the bounded space is exhausted)"
                         : c.rec.wall ? " (stopped by the wall bound)" : "");
                free(r->message);
                r->message = strdup(msg);
            }
        } else {
            r->schedules_run = i;
        }
        harness__child_result_free(&c);
        if (r->verdict != HARNESS_PASS && !o->keep_going)
            break;
    }
    free(first_output);
    harness__ignore_free(ignore);
    if (rc == 0 && (!r->message || (r->verdict == HARNESS_PASS && !r->message[0]))) {
        free(r->message);
        r->message = strdup(r->verdict == HARNESS_PASS ? "no bug observed" : "");
    }
    nested = false;
    return rc;
}
