/* events.c — the event ring behind the timelines (csp_debug.h, "Events").
 *
 * Invariants: while csp__events_on is false nothing writes the ring; it is
 * started, cleared and freed only where no task runs (between runs). A writer
 * claims slot i with one fetch-add on `next`, so writers on several threads
 * (free mode) never share a slot unless the ring wraps a whole lap during
 * one write; a slot's `seq` is i + 1 only once its fields for event i are
 * written (release), and a reader keeps a slot only if it reads the same
 * seq before and after copying it — so a torn slot is dropped, never shown.
 * The ring keeps the last `keep` events (the capacity asked for); the rest are
 * counted as dropped. Its slots are a power of two, so that a slot is a mask,
 * not a division, away from its index. */
#include "internal.h"

#include <string.h>

typedef struct {
    _Atomic uint64_t seq;        /* i + 1 once event i is complete; 0 while written */
    csp_duration at;
    uint64_t task, other;
    const char *wait, *object;
    int kind;
} event_slot;

_Atomic bool csp__events_on;
static event_slot *ring;
static size_t ring_cap;              /* slots: a power of two >= keep; 0 when off */
static size_t keep;                  /* the capacity asked for */
static _Atomic uint64_t next_event;   /* never goes back while the ring lives: seqs stay unique */
static uint64_t first_kept;           /* csp_debug_events_clear: events before it are gone */

CSP_RT bool csp_debug_events_start(size_t capacity)
{
    atomic_store(&csp__events_on, false);
    csp__free(ring);
    ring = NULL;
    ring_cap = 0;
    keep = 0;
    atomic_store(&next_event, 0);
    first_kept = 0;
    if (capacity == 0)
        return true;
    size_t slots = 1;
    while (slots < capacity)
        slots *= 2;
    ring = csp__realloc(NULL, slots * sizeof *ring);   /* aborts when out of memory */
    memset(ring, 0, slots * sizeof *ring);
    ring_cap = slots;
    keep = capacity;
    atomic_store(&csp__events_on, true);
    return true;
}

/* O(1): a run of a few dozen events must not pay for the whole ring. */
CSP_RT void csp_debug_events_clear(void) { first_kept = atomic_load(&next_event); }

CSP_RT void csp__event_record(int kind, uint64_t task, uint64_t other, const char *wait,
                              const char *object)
{
    if (!ring_cap)
        return;
    uint64_t i = atomic_fetch_add_explicit(&next_event, 1, memory_order_relaxed);
    event_slot *s = &ring[i & (ring_cap - 1)];
    atomic_store_explicit(&s->seq, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    s->at = csp__backend->now();
    s->task = task;
    s->other = other;
    s->wait = wait;
    s->object = object;
    s->kind = kind;
    atomic_store_explicit(&s->seq, i + 1, memory_order_release);
}

CSP_RT size_t csp_debug_events_read(csp_debug_event *out, size_t max, uint64_t *dropped)
{
    uint64_t n = atomic_load(&next_event);
    uint64_t first = n > keep ? n - keep : 0;
    if (first < first_kept)
        first = first_kept;
    uint64_t lost = first - first_kept;
    size_t got = 0;
    for (uint64_t i = first; i < n; i++) {
        event_slot *s = &ring[i & (ring_cap - 1)];
        if (atomic_load_explicit(&s->seq, memory_order_acquire) != i + 1) {
            lost++;
            continue;
        }
        csp_debug_event e = { s->at, (csp_debug_event_kind)s->kind, s->task, s->other, s->wait,
                              s->object };
        atomic_thread_fence(memory_order_acquire);
        if (atomic_load_explicit(&s->seq, memory_order_relaxed) != i + 1) {
            lost++;
            continue;
        }
        if (got < max)
            out[got++] = e;
        else
            lost++;
    }
    if (dropped)
        *dropped = lost;
    return got;
}

CSP_RT const char *csp_debug_event_kind_name(csp_debug_event_kind k)
{
    static const char *const names[CSP_DEBUG_EVENT_KINDS] = {
        "spawn", "run", "park", "ready", "handoff", "close", "timer", "panic", "exit",
    };
    return (unsigned)k < CSP_DEBUG_EVENT_KINDS ? names[k] : "?";
}
