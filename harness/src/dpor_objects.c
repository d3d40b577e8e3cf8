/* dpor_objects.c — per-object memory of a reduced search (dpor_objects.h). */
#include "quiet.h"
#include "dpor_objects.h"

#include <stdlib.h>
#include <string.h>

HARNESS_QUIET static size_t key_slot(uint64_t key, size_t cap)
{
    return (size_t)((key * 0x9e3779b97f4a7c15ull) >> 32) & (cap - 1);
}

/* ------------------------------------------------------------------ Sets */

HARNESS_QUIET bool dpor_keyset_has(const dpor_keyset *s, uint64_t key)
{
    if (!s->n || !key)
        return false;
    for (size_t i = key_slot(key, s->cap);; i = (i + 1) & (s->cap - 1)) {
        if (s->a[i] == key)
            return true;
        if (!s->a[i])
            return false;
    }
}

HARNESS_QUIET static void keyset_put(uint64_t *a, size_t cap, uint64_t key)
{
    size_t i = key_slot(key, cap);
    while (a[i] && a[i] != key)
        i = (i + 1) & (cap - 1);
    a[i] = key;
}

HARNESS_QUIET bool dpor_keyset_add(dpor_keyset *s, uint64_t key)
{
    if (!key || dpor_keyset_has(s, key))
        return false;
    if (2 * (s->n + 1) > s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 64;
        uint64_t *a = csp_tool_alloc(cap * sizeof *a);
        quiet_memset(a, 0, cap * sizeof *a);
        for (size_t i = 0; i < s->cap; i++)
            if (s->a[i])
                keyset_put(a, cap, s->a[i]);
        csp_tool_free(s->a);
        s->a = a;
        s->cap = cap;
    }
    keyset_put(s->a, s->cap, key);
    s->n++;
    return true;
}

HARNESS_QUIET void dpor_keyset_clear(dpor_keyset *s)
{
    if (s->a)
        quiet_memset(s->a, 0, s->cap * sizeof *s->a);
    s->n = 0;
}

HARNESS_QUIET void dpor_keyset_free(dpor_keyset *s)
{
    csp_tool_free(s->a);
    quiet_memset(s, 0, sizeof *s);
}

/* ------------------------------------------------------------ Statistics */

struct objstat {
    uint64_t key;               /* 0: empty slot */
    uint64_t races, planted;
    char name[40];              /* what the runtime calls it; "" for a tool's record */
};

struct dpor_objstats {
    struct objstat *t;
    size_t cap, n;
};

HARNESS_QUIET dpor_objstats *dpor_objstats_new(void)
{
    dpor_objstats *s = csp_tool_alloc(sizeof *s);
    s->cap = 1024;
    s->n = 0;
    s->t = csp_tool_alloc(s->cap * sizeof *s->t);
    quiet_memset(s->t, 0, s->cap * sizeof *s->t);
    return s;
}

HARNESS_QUIET void dpor_objstats_free(dpor_objstats *s)
{
    if (!s)
        return;
    csp_tool_free(s->t);
    csp_tool_free(s);
}

/* The entry of key (made if missing; NULL when the table is full). */
HARNESS_QUIET static struct objstat *objstat(dpor_objstats *s, uint64_t key)
{
    if (!s || !key)
        return NULL;
    size_t i = key_slot(key, s->cap);
    for (size_t probes = 0; probes < s->cap; probes++, i = (i + 1) & (s->cap - 1)) {
        if (s->t[i].key == key)
            return &s->t[i];
        if (!s->t[i].key) {
            if (2 * (s->n + 1) > s->cap)
                return NULL;
            s->t[i].key = key;
            s->n++;
            return &s->t[i];
        }
    }
    return NULL;
}

HARNESS_QUIET void dpor_objstats_name(dpor_objstats *s, uint64_t key, const char *name)
{
    struct objstat *o = name ? objstat(s, key) : NULL;
    if (o && !o->name[0])
        snprintf(o->name, sizeof o->name, "%s", name);
}

HARNESS_QUIET void dpor_objstats_race(dpor_objstats *s, uint64_t key, bool planted)
{
    struct objstat *o = objstat(s, key);
    if (o) {
        o->races++;
        o->planted += planted;
    }
}

HARNESS_QUIET static int objstat_cmp(const void *a, const void *b)
{
    const struct objstat *x = a, *y = b;
    if (x->planted != y->planted)
        return x->planted > y->planted ? -1 : 1;
    return x->races > y->races ? -1 : x->races < y->races;
}

HARNESS_QUIET void dpor_objstats_write(dpor_objstats *s, FILE *f, int top)
{
    if (!s)
        return;
    qsort(s->t, s->cap, sizeof *s->t, objstat_cmp);   /* the table is done with */
    s->n = s->cap;                                     /* (no more entries) */
    fprintf(f, "dpor: the objects whose races planted the most backtrack points (races reversed, planted):\n");
    for (int i = 0; i < top && (size_t)i < s->cap && s->t[i].key; i++)
        fprintf(f, "  %-32s %016llx %10llu %10llu\n", s->t[i].name[0] ? s->t[i].name : "(a harness record)",
                (unsigned long long)s->t[i].key, (unsigned long long)s->t[i].races,
                (unsigned long long)s->t[i].planted);
}
