/* registry.c — the catalog's registry: every PATTERN() registration, found in
 * the linker section "chanlab_patterns", sorted by id once. */
#include "pattern.h"

#include "csp_sched.h"
#include "csp_tool.h"   /* registry.c has no atomics for it to hide */

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Weak: a build with no registration yet has no such section. */
extern const pattern *const __start_chanlab_patterns[] __attribute__((weak));
extern const pattern *const __stop_chanlab_patterns[] __attribute__((weak));
extern const demo *const __start_chanlab_demos[] __attribute__((weak));
extern const demo *const __stop_chanlab_demos[] __attribute__((weak));

static const pattern **sorted;
static size_t nsorted;
static pthread_once_t once = PTHREAD_ONCE_INIT;

static int by_id(const void *a, const void *b)
{
    return strcmp((*(const pattern *const *)a)->id, (*(const pattern *const *)b)->id);
}

static void build(void)
{
    size_t n = __start_chanlab_patterns ? (size_t)(__stop_chanlab_patterns - __start_chanlab_patterns) : 0;
    sorted = malloc((n ? n : 1) * sizeof *sorted);
    if (!sorted) {
        fprintf(stderr, "chanlab: out of memory for the pattern registry\n");
        abort();
    }
    for (size_t i = 0; i < n; i++)
        sorted[i] = __start_chanlab_patterns[i];
    qsort(sorted, n, sizeof *sorted, by_id);
    nsorted = n;
}

size_t pattern_count(void)
{
    pthread_once(&once, build);
    return nsorted;
}

const pattern *pattern_at(size_t i) { return i < pattern_count() ? sorted[i] : NULL; }

const pattern *pattern_find(const char *id)
{
    for (size_t i = 0; id && i < pattern_count(); i++)
        if (strcmp(sorted[i]->id, id) == 0)
            return sorted[i];
    return NULL;
}

const char *pattern_family(const pattern *p, char *buf, size_t size)
{
    size_t n = strcspn(p->id, ".");
    snprintf(buf, size, "%.*s", (int)n, p->id);
    return buf;
}

unsigned pattern_expected(const pattern *p, int mode)
{
    int m = mode == PATTERN_IN_CONTROLLED ? 1 : 0;
    if (harness_detects_races() && p->expect_tsan[m])
        return p->expect_tsan[m];
    return p->expect[m];
}

void pattern_prepare(const pattern *p, int mode)
{
    if (p && p->fixture && mode == PATTERN_IN_FREE)
        p->fixture();
}

harness_options pattern_options(const pattern *p, int mode)
{
    harness_options o = harness_defaults();
    o.mode = mode == PATTERN_IN_CONTROLLED ? HARNESS_CONTROLLED : HARNESS_FREE;
    if (p->hang_after)
        o.hang_after = p->hang_after;
    if (p->timeout)
        o.timeout = p->timeout;
    if (p->max_steps)
        o.max_steps = p->max_steps;
    /* Controlled mode runs many schedules in one process; free mode forks a
     * process per run, so it gets its own, usually smaller, count. */
    if (mode == PATTERN_IN_CONTROLLED && p->schedules)
        o.schedules = p->schedules;
    if (mode == PATTERN_IN_FREE)
        o.schedules = p->free_runs ? p->free_runs : 1;
    if (p->fd_limit && mode == PATTERN_IN_FREE)
        o.fd_limit = p->fd_limit;
    return o;
}

const char *pattern_verdicts_str(unsigned mask, char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (int v = 0; v < HARNESS_VERDICT_COUNT; v++)
        if (mask & (1u << v))
            n += (size_t)snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "",
                                  harness_verdict_name((harness_verdict)v));
    return buf;
}

size_t demo_count(void)
{
    return __start_chanlab_demos ? (size_t)(__stop_chanlab_demos - __start_chanlab_demos) : 0;
}

const demo *demo_at(size_t i) { return i < demo_count() ? __start_chanlab_demos[i] : NULL; }

const demo *demo_find(const char *name)
{
    for (size_t i = 0; name && i < demo_count(); i++)
        if (strcmp(__start_chanlab_demos[i]->name, name) == 0)
            return __start_chanlab_demos[i];
    return NULL;
}

bool pattern_controlled(void) { return csp_sched_active(); }

void pattern_outside_begin(void) { csp_tool_ignore_begin(); }
void pattern_outside_end(void) { csp_tool_ignore_end(); }
