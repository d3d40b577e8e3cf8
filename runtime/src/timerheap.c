/* timerheap.c — see timerheap.h. */
#include "timerheap.h"

#include <stdlib.h>

static CSP_RT bool timer_less(const csp_timer *a, const csp_timer *b)
{
    return a->when < b->when || (a->when == b->when && a->seq < b->seq);
}

static CSP_RT void heap_set(csp_timerheap *h, size_t i, csp_timer *tm)
{
    h->a[i] = tm;
    tm->heap_index = (int)i;
}

static CSP_RT void heap_up(csp_timerheap *h, size_t i)
{
    csp_timer *tm = h->a[i];
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!timer_less(tm, h->a[parent]))
            break;
        heap_set(h, i, h->a[parent]);
        i = parent;
    }
    heap_set(h, i, tm);
}

static CSP_RT void heap_down(csp_timerheap *h, size_t i)
{
    csp_timer *tm = h->a[i];
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->len)
            break;
        if (c + 1 < h->len && timer_less(h->a[c + 1], h->a[c]))
            c++;
        if (!timer_less(h->a[c], tm))
            break;
        heap_set(h, i, h->a[c]);
        i = c;
    }
    heap_set(h, i, tm);
}

CSP_RT void csp__th_push(csp_timerheap *h, csp_timer *tm)
{
    if (h->len == h->cap) {
        size_t ncap = h->cap ? h->cap * 2 : 64;
        csp_timer **n = csp__realloc(h->a, ncap * sizeof *n);
        CSP_ASSERT(n != NULL);
        h->a = n;
        h->cap = ncap;
    }
    tm->seq = ++h->seq;
    heap_set(h, h->len++, tm);
    heap_up(h, h->len - 1);
}

CSP_RT void csp__th_remove(csp_timerheap *h, csp_timer *tm)
{
    size_t i = (size_t)tm->heap_index;
    CSP_ASSERT(i < h->len && h->a[i] == tm);
    tm->heap_index = -1;
    h->len--;
    if (i == h->len)
        return;
    csp_timer *moved = h->a[h->len];
    heap_set(h, i, moved);
    heap_down(h, i);
    heap_up(h, (size_t)moved->heap_index);
}

CSP_RT void csp__th_filter(csp_timerheap *h, bool (*drop)(const csp_timer *tm))
{
    size_t keep = 0;
    for (size_t i = 0; i < h->len; i++) {
        if (drop(h->a[i]))
            h->a[i]->heap_index = -1;
        else
            h->a[keep++] = h->a[i];
    }
    h->len = keep;
    for (size_t i = 0; i < h->len; i++)
        h->a[i]->heap_index = (int)i;
    for (size_t i = h->len / 2; i-- > 0;)
        heap_down(h, i);
}

CSP_RT size_t csp__th_pop_earliest(csp_timerheap *h, csp_timer **out, size_t max)
{
    return h->len ? csp__th_pop_at(h, h->a[0]->when, out, max) : 0;
}

CSP_RT size_t csp__th_pop_at(csp_timerheap *h, csp_duration when, csp_timer **out, size_t max)
{
    size_t n = 0;
    /* The earliest deadline (every pop of the threads backend, most of the
     * fibers backend's): the top, popped while it is due then, comes out in
     * (when, seq) order and the scan stops at the first later one. */
    if (h->len && h->a[0]->when == when) {
        while (h->len > 0 && h->a[0]->when == when && n < max) {
            out[n] = h->a[0];
            csp__th_remove(h, out[n++]);
        }
        return n;
    }
    /* A later deadline (the timer window): take the matches out wherever
     * they are, then put them in arming order. */
    for (size_t i = 0; i < h->len && n < max;) {
        if (h->a[i]->when == when) {
            csp_timer *tm = h->a[i];
            csp__th_remove(h, tm);
            out[n++] = tm;
            i = 0;   /* removal moved entries: look again from the top */
        } else {
            i++;
        }
    }
    for (size_t i = 1; i < n; i++)
        for (size_t j = i; j > 0 && out[j - 1]->seq > out[j]->seq; j--) {
            csp_timer *t = out[j];
            out[j] = out[j - 1];
            out[j - 1] = t;
        }
    return n;
}

CSP_RT size_t csp__th_deadlines_until(const csp_timerheap *h, csp_duration until, csp_duration *out, size_t max)
{
    size_t n = 0;
    for (size_t i = 0; i < h->len; i++) {
        csp_duration w = h->a[i]->when;
        if (w > until)
            continue;
        size_t k = 0;
        while (k < n && out[k] < w)
            k++;
        if (k < n && out[k] == w)
            continue;
        if (n == max) {
            if (k == n)
                continue;
            n--;   /* keep the earliest max */
        }
        for (size_t j = n; j > k; j--)
            out[j] = out[j - 1];
        out[k] = w;
        n++;
    }
    return n;
}

CSP_RT void csp__th_rearm(csp_timerheap *h, csp_timer *tm, csp_duration now)
{
    tm->when += tm->period;
    if (tm->when <= now)
        tm->when += ((now - tm->when) / tm->period + 1) * tm->period;
    csp__th_push(h, tm);
}

CSP_RT void csp__th_free(csp_timerheap *h)
{
    csp__free(h->a);
    *h = (csp_timerheap){0};
}
