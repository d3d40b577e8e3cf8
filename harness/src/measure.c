/* measure.c — what the program under test tells the harness while it runs:
 * failed postconditions, gauges with bounds, marks with latency bounds,
 * latencies the program measured itself (with bounds),
 * output to compare across schedules. Each call records and returns.
 *
 * Invariant: none of this is visible to ThreadSanitizer (HARNESS_QUIET, a
 * spinlock on an atomic, copies that go through no interceptor), so two tasks
 * that both record something are not ordered by it. Outside a run, calls
 * print to stderr (harness_fail) or do nothing. */
#include "state.h"
#include "csp_sched.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

harness_state *harness__state;

static HARNESS_QUIET void spin_lock(harness_state *s)
{
    int expected = 0;
    while (!atomic_compare_exchange_weak(&s->lock, &expected, 1)) {
        expected = 0;
#if defined(__x86_64__) || defined(__i386__)
        __builtin_ia32_pause();
#endif
    }
}

static HARNESS_QUIET void spin_unlock(harness_state *s) { atomic_store(&s->lock, 0); }

/* A copy no interceptor sees (see file comment). */
static HARNESS_QUIET void quiet_copy(char *dst, const char *src, size_t n)
{
    volatile char *d = dst;
    for (size_t i = 0; i < n; i++)
        d[i] = src[i];
}

HARNESS_QUIET void harness__state_init(harness_state *s)
{
    s->output = NULL;
    harness__state_reset(s);
    void *p = mmap(NULL, HARNESS_OUTPUT_CAP, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    s->output = p == MAP_FAILED ? NULL : p;
}

HARNESS_QUIET void harness__state_destroy(harness_state *s)
{
    if (s->output)
        munmap(s->output, HARNESS_OUTPUT_CAP);
    s->output = NULL;
}

HARNESS_QUIET void harness__state_reset(harness_state *s)
{
    char *out = s->output;
    memset(s, 0, sizeof *s);
    s->output = out;
    for (int i = 0; i < HARNESS_MAX_GAUGES; i++)
        s->gauges[i].bound = -1;
    for (int i = 0; i < HARNESS_MAX_MARKS; i++)
        s->marks[i].at = s->marks[i].bound = -1;
    for (int i = 0; i < HARNESS_MAX_LATENCIES; i++)
        s->latencies[i].worst = s->latencies[i].bound = -1;
}

static _Atomic int abort_is_failure;

HARNESS_QUIET void harness_abort_is_failure(bool on) { atomic_store(&abort_is_failure, on ? 1 : 0); }

HARNESS_QUIET bool harness__abort_is_failure(void) { return atomic_load(&abort_is_failure) != 0; }

/* Partial-order reduction (csp_sched_touch): the run's shared records are
 * objects too, so two tasks' failures, gauge moves or lines of output keep
 * their order in a reduced search. One key per record: kind and name. */
static HARNESS_QUIET void touch(const char *kind, const char *name)
{
    if (!csp_sched_active())
        return;
    uint64_t h = 0xcbf29ce484222325ull;
    for (const char *p = kind; *p; p++)
        h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
    for (int i = 0; name && i < 256 && name[i]; i++)
        h = (h ^ (uint8_t)name[i]) * 0x100000001b3ull;
    csp_sched_touch(h);
}

HARNESS_QUIET void harness_fail(const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt ? fmt : "(nil)", ap);
    va_end(ap);
    if (!msg[0])   /* an empty message still fails the run */
        snprintf(msg, sizeof msg, "harness_fail (no message)");
    harness_state *s = harness__state;
    if (!s) {
        fprintf(stderr, "harness_fail outside a run: %s\n", msg);
        return;
    }
    touch("fail", NULL);
    spin_lock(s);
    if (!s->fail_msg[0])
        quiet_copy(s->fail_msg, msg, strlen(msg) + 1);
    spin_unlock(s);
}

HARNESS_QUIET void harness_resource_exhausted(const char *what)
{
    harness_state *s = harness__state;
    if (!s)
        return;
    const char *msg = what && what[0] ? what : "a resource";
    size_t n = strlen(msg);
    if (n >= sizeof s->resource_msg)
        n = sizeof s->resource_msg - 1;
    touch("resource", NULL);
    spin_lock(s);
    if (!s->resource_msg[0]) {
        quiet_copy(s->resource_msg, msg, n);
        s->resource_msg[n] = 0;
    }
    spin_unlock(s);
}

/* Under the spinlock. The entry called `name` of a table of n entries of
 * `size` bytes, each starting with its name (harness_gauge, harness_markrec);
 * the first free entry is claimed for a new name; NULL when the table is
 * full. Equal strings at different addresses are the same entry. */
static HARNESS_QUIET void *named_entry(void *table, size_t size, int n, const char *name)
{
    for (int i = 0; i < n; i++) {
        const char **entry_name = (const char **)((char *)table + (size_t)i * size);
        if (!*entry_name) {
            *entry_name = name;
            return entry_name;
        }
        if (*entry_name == name || strcmp(*entry_name, name) == 0)
            return entry_name;
    }
    return NULL;
}
#define gauge_find(s, name) \
    ((harness_gauge *)named_entry((s)->gauges, sizeof(harness_gauge), HARNESS_MAX_GAUGES, (name)))
#define mark_find(s, name) \
    ((harness_markrec *)named_entry((s)->marks, sizeof(harness_markrec), HARNESS_MAX_MARKS, (name)))
#define latency_find(s, name)                                                        \
    ((harness_latencyrec *)named_entry((s)->latencies, sizeof(harness_latencyrec),   \
                                       HARNESS_MAX_LATENCIES, (name)))

HARNESS_QUIET void harness_gauge_enter(const char *gauge)
{
    harness_state *s = harness__state;
    if (!s || !gauge)
        return;
    touch("gauge", gauge);
    spin_lock(s);
    harness_gauge *g = gauge_find(s, gauge);
    if (g) {
        long v = atomic_fetch_add(&g->cur, 1) + 1;
        if (v > atomic_load(&g->peak))
            atomic_store(&g->peak, v);
    }
    spin_unlock(s);
}

HARNESS_QUIET void harness_gauge_exit(const char *gauge)
{
    harness_state *s = harness__state;
    if (!s || !gauge)
        return;
    touch("gauge", gauge);
    spin_lock(s);
    harness_gauge *g = gauge_find(s, gauge);
    if (g)
        atomic_fetch_sub(&g->cur, 1);
    spin_unlock(s);
}

HARNESS_QUIET void harness_gauge_bound(const char *gauge, long max)
{
    harness_state *s = harness__state;
    if (!s || !gauge)
        return;
    spin_lock(s);
    harness_gauge *g = gauge_find(s, gauge);
    if (g)
        g->bound = max;
    spin_unlock(s);
}

HARNESS_QUIET void harness_mark(const char *mark)
{
    harness_state *s = harness__state;
    if (!s || !mark)
        return;
    csp_duration now = csp_now();
    touch("mark", mark);
    spin_lock(s);
    harness_markrec *m = mark_find(s, mark);
    if (m && m->at < 0)
        m->at = now;
    spin_unlock(s);
}

HARNESS_QUIET void harness_mark_bound(const char *mark, csp_duration max)
{
    harness_state *s = harness__state;
    if (!s || !mark)
        return;
    spin_lock(s);
    harness_markrec *m = mark_find(s, mark);
    if (m)
        m->bound = max;
    spin_unlock(s);
}

HARNESS_QUIET void harness_latency(const char *name, csp_duration d)
{
    harness_state *s = harness__state;
    if (!s || !name)
        return;
    touch("latency", name);
    spin_lock(s);
    harness_latencyrec *l = latency_find(s, name);
    if (l) {
        l->count++;
        if (d > l->worst)
            l->worst = d;
    }
    spin_unlock(s);
}

HARNESS_QUIET void harness_latency_bound(const char *name, csp_duration max)
{
    harness_state *s = harness__state;
    if (!s || !name)
        return;
    spin_lock(s);
    harness_latencyrec *l = latency_find(s, name);
    if (l)
        l->bound = max;
    spin_unlock(s);
}

HARNESS_QUIET void harness_output(const char *fmt, ...)
{
    harness_state *s = harness__state;
    char text[1024];
    va_list ap;
    va_start(ap, fmt);
    if (!fmt)
        return;
    int n = vsnprintf(text, sizeof text, fmt, ap);
    va_end(ap);
    if (!s || !s->output || n <= 0)
        return;
    if ((size_t)n >= sizeof text)
        n = sizeof text - 1;
    touch("output", NULL);
    spin_lock(s);
    size_t len = atomic_load(&s->output_len);
    size_t room = HARNESS_OUTPUT_CAP - 1 - len;
    size_t k = (size_t)n < room ? (size_t)n : room;
    quiet_copy(s->output + len, text, k);
    atomic_store(&s->output_len, len + k);
    spin_unlock(s);
}
