/* timerheap.h — a binary min-heap of timers ordered by (when, seq), shared by
 * both backends. Not synchronised: the owner holds its own lock (threads
 * backend) or runs on one thread (fibers backend). A timer's heap_index is its
 * slot, -1 when it is not in a heap. */
#ifndef CSP_TIMERHEAP_H
#define CSP_TIMERHEAP_H

#include "internal.h"

typedef struct {
    csp_timer **a;
    size_t len, cap;
    uint64_t seq;        /* arming order: breaks ties between equal deadlines */
} csp_timerheap;

void csp__th_push(csp_timerheap *h, csp_timer *tm);
void csp__th_remove(csp_timerheap *h, csp_timer *tm);
/* Removes every timer for which drop(tm) is true; restores the heap. */
void csp__th_filter(csp_timerheap *h, bool (*drop)(const csp_timer *tm));
/* Pops every timer due at the earliest deadline (at most max) into out. */
size_t csp__th_pop_earliest(csp_timerheap *h, csp_timer **out, size_t max);
/* Pops every timer due exactly at `when` (at most max), in arming order. */
size_t csp__th_pop_at(csp_timerheap *h, csp_duration when, csp_timer **out, size_t max);
/* The distinct deadlines of the timers due at or before `until`, ascending,
 * into out (at most max); returns how many. */
size_t csp__th_deadlines_until(const csp_timerheap *h, csp_duration until, csp_duration *out, size_t max);
CSP_RT static inline csp_timer *csp__th_top(const csp_timerheap *h) { return h->len ? h->a[0] : NULL; }
/* Re-arms a periodic timer that just fired at `now`: the next tick on its
 * period grid after now, dropping the ticks it was late for (as Go does). */
void csp__th_rearm(csp_timerheap *h, csp_timer *tm, csp_duration now);
void csp__th_free(csp_timerheap *h);

#endif
