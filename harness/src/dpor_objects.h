/* dpor_objects.h — what the partial-order reduction (dpor.c) keeps per
 * object across the runs of one search: sets of object keys (peeked at,
 * sent on, ...) and, for CHANLAB_DPOR_STATS, per-object race counts. Keys
 * are csp_sched_access object keys (never 0 for an object). */
#ifndef HARNESS_DPOR_OBJECTS_H
#define HARNESS_DPOR_OBJECTS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* A set of keys: open addressing, grows; zero-initialised is empty. */
typedef struct {
    uint64_t *a;
    size_t cap, n;
} dpor_keyset;

bool dpor_keyset_has(const dpor_keyset *s, uint64_t key);
/* Adds key; true if it was not there. */
bool dpor_keyset_add(dpor_keyset *s, uint64_t key);
void dpor_keyset_clear(dpor_keyset *s);
void dpor_keyset_free(dpor_keyset *s);

/* Per-object statistics (best effort: a full table stops counting; the
 * search never depends on them). */
typedef struct dpor_objstats dpor_objstats;
dpor_objstats *dpor_objstats_new(void);
void dpor_objstats_free(dpor_objstats *s);
/* The runtime's name for key, remembered the first time it is given. */
void dpor_objstats_name(dpor_objstats *s, uint64_t key, const char *name);
/* A race on key was reversed; `planted`: it added a new backtrack point. */
void dpor_objstats_race(dpor_objstats *s, uint64_t key, bool planted);
/* The `top` objects whose races planted the most backtrack points. */
void dpor_objstats_write(dpor_objstats *s, FILE *f, int top);

#endif
