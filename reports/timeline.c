/* timeline.c — an observation's events read as lanes of slices (timeline.h),
 * and the Chrome trace-event JSON written from them (report_write_trace).
 *
 * The trace has one track (tid) per task, named "ID NAME"; B/E pairs for its
 * slices, never overlapping on one track (a task is running, blocked, or
 * neither); an s/f flow pair per hand-off, both ends inside a slice of their
 * track; instants for closes, timers, panics and the verdict. */
#include "timeline.h"

#include "csp_debug.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define GROW(arr, n)                                                           \
    (((n) & ((n) - 1)) == 0                                                    \
         ? report__grow_pow2((void **)&(arr), (n), sizeof *(arr))              \
         : true)

static bool report__grow_pow2(void **a, size_t n, size_t elem)
{
    void *p = realloc(*a, (n ? 2 * n : 1) * elem);
    if (!p)
        return false;
    *a = p;
    return true;
}

typedef struct {
    int state;                 /* 0 none, 1 running, 2 blocked */
    size_t slice;              /* the open slice */
} lane_state;

static size_t lane_of(tl_timeline *t, lane_state **st, uint64_t id, bool *ok)
{
    for (size_t i = 0; i < t->nlanes; i++)
        if (t->lanes[i].id == id)
            return i;
    if (!GROW(t->lanes, t->nlanes) || !GROW(*st, t->nlanes)) {
        *ok = false;
        return 0;
    }
    tl_lane *l = &t->lanes[t->nlanes];
    l->id = id;
    snprintf(l->name, sizeof l->name, "%s", id == 1 ? "main" : "task");
    (*st)[t->nlanes] = (lane_state){0};
    return t->nlanes++;
}

static void close_slice(tl_timeline *t, lane_state *s, double at)
{
    if (s->state) {
        t->slices[s->slice].t1 = at;
        t->slices[s->slice].open = false;
    }
    s->state = 0;
}

static bool open_slice(tl_timeline *t, lane_state *s, size_t lane, double at, bool blocked,
                       const harness_event *e)
{
    close_slice(t, s, at);
    if (!GROW(t->slices, t->nslices))
        return false;
    t->slices[t->nslices] = (tl_slice){ lane, at, at, blocked, true, blocked ? e->wait : NULL,
                                        blocked ? e->object : NULL, e->at };
    s->slice = t->nslices++;
    s->state = blocked ? 2 : 1;
    return true;
}

bool report__timeline_build(const report_observation *o, tl_timeline *t)
{
    memset(t, 0, sizeof *t);
    t->steps = o->mode == REPORT_CONTROLLED;
    lane_state *st = NULL;
    bool ok = true;
    size_t running = (size_t)-1;   /* controlled mode: the one task running */
    int64_t at0 = o->nevents ? o->events[0].at : 0;
    for (size_t i = 0; i < o->nevents && ok; i++) {
        const harness_event *e = &o->events[i];
        double at = t->steps ? (double)i : (double)(e->at - at0);
        t->end = at;
        if (e->kind == CSP_DEBUG_EVENT_TIMER && e->task == 0) {
            if (!GROW(t->marks, t->nmarks)) { ok = false; break; }
            t->marks[t->nmarks++] = (tl_mark){ (size_t)-1, at, e->kind, e->object };
            continue;
        }
        size_t l = lane_of(t, &st, e->task, &ok);
        if (!ok)
            break;
        switch (e->kind) {
        case CSP_DEBUG_EVENT_SPAWN:
            if (e->object && *e->object)
                snprintf(t->lanes[l].name, sizeof t->lanes[l].name, "%s", e->object);
            break;
        case CSP_DEBUG_EVENT_RUN:
            if (t->steps && running != (size_t)-1 && running != l && st[running].state == 1)
                close_slice(t, &st[running], at);
            ok = open_slice(t, &st[l], l, at, false, e);
            running = l;
            break;
        case CSP_DEBUG_EVENT_PARK:
            ok = open_slice(t, &st[l], l, at, true, e);
            if (running == l)
                running = (size_t)-1;
            break;
        case CSP_DEBUG_EVENT_READY:
            if (st[l].state == 2)
                close_slice(t, &st[l], at);
            break;
        case CSP_DEBUG_EVENT_EXIT:
            close_slice(t, &st[l], at);
            if (running == l)
                running = (size_t)-1;
            break;
        case CSP_DEBUG_EVENT_HANDOFF: {
            size_t to = lane_of(t, &st, e->other, &ok);
            if (!ok || !GROW(t->flows, t->nflows)) { ok = false; break; }
            /* Both ends of an arrow lie in a slice. When the ring dropped the
             * events that began them (or a free-mode task was readied before
             * it parked), the sender was running and the receiver waiting. */
            if (!st[l].state) {
                ok = open_slice(t, &st[l], l, at, false, e);
                if (t->steps)
                    running = l;
            }
            if (ok && !st[to].state) {
                harness_event waiting = *e;
                waiting.wait = (char *)"chan receive";
                ok = open_slice(t, &st[to], to, at, true, &waiting);
            }
            if (!ok)
                break;
            t->flows[t->nflows++] = (tl_flow){ l, to, at, e->object };
            break;
        }
        default:   /* CLOSE, TIMER (a task's), PANIC */
            if (!GROW(t->marks, t->nmarks)) { ok = false; break; }
            t->marks[t->nmarks++] = (tl_mark){ l, at, e->kind, e->object };
            break;
        }
    }
    if (t->steps && o->nevents)
        t->end += 1;   /* the verdict comes after the last event */
    for (size_t i = 0; ok && i < t->nlanes; i++)
        if (st[i].state)
            t->slices[st[i].slice].t1 = t->end;   /* open at the verdict: stays marked open */
    free(st);
    if (!ok)
        report__timeline_free(t);
    return ok;
}

void report__timeline_free(tl_timeline *t)
{
    free(t->lanes);
    free(t->slices);
    free(t->flows);
    free(t->marks);
    memset(t, 0, sizeof *t);
}

const char *report__slice_label(const tl_slice *s, char *buf, size_t size)
{
    if (!s->blocked)
        snprintf(buf, size, "running");
    else if (s->object && *s->object)
        snprintf(buf, size, "%s \"%s\"", s->wait ? s->wait : "blocked", s->object);
    else
        snprintf(buf, size, "%s", s->wait ? s->wait : "blocked");
    return buf;
}

/* ---------------------------------------------------------------- Trace */

static void trace_common(FILE *out, const char *ph, uint64_t tid, double ts)
{
    fprintf(out, "\"ph\":\"%s\",\"pid\":1,\"tid\":%" PRIu64 ",\"ts\":%.3f", ph, tid, ts);
}

int report_write_trace(const report *r, size_t i, FILE *out)
{
    const report_observation *o = report_observation_at(r, i);
    if (!o)
        return -1;
    const report_variant *v = report_variant_at(r, o->variant);
    tl_timeline t;
    if (!report__timeline_build(o, &t))
        return -1;
    double scale = t.steps ? 1.0 : 1e-3;   /* to microseconds */
    char name[256], label[256];
    fputs("{\"displayTimeUnit\":\"ns\",\"otherData\":{\"tool\":\"chanlab\",\"variant\":", out);
    report__json_string(out, v->id);
    fprintf(out, ",\"mode\":\"%s\",\"verdict\":\"%s\",\"clock\":\"%s\",\"events_dropped\":%" PRIu64 "},\n"
            "\"traceEvents\":[\n", report_mode_name(o->mode), harness_verdict_name(o->observed),
            t.steps ? "event order (1 us per event)" : "monotonic", o->events_dropped);
    snprintf(name, sizeof name, "%s (%s)", v->id, report_mode_name(o->mode));
    fputs("{\"name\":\"process_name\",\"ph\":\"M\",\"pid\":1,\"tid\":0,\"args\":{\"name\":", out);
    report__json_string(out, name);
    fputs("}}", out);
    for (size_t l = 0; l < t.nlanes; l++) {
        snprintf(name, sizeof name, "%" PRIu64 " %s", t.lanes[l].id, t.lanes[l].name);
        fprintf(out, ",\n{\"name\":\"thread_name\",\"ph\":\"M\",\"pid\":1,\"tid\":%" PRIu64
                ",\"args\":{\"name\":", t.lanes[l].id);
        report__json_string(out, name);
        fprintf(out, "}},\n{\"name\":\"thread_sort_index\",\"ph\":\"M\",\"pid\":1,\"tid\":%" PRIu64
                ",\"args\":{\"sort_index\":%zu}}", t.lanes[l].id, l);
    }
    /* Slices lane by lane, in time order: B/E nest trivially (none overlap). */
    for (size_t l = 0; l < t.nlanes; l++)
        for (size_t k = 0; k < t.nslices; k++) {
            const tl_slice *s = &t.slices[k];
            if (s->lane != l)
                continue;
            uint64_t tid = t.lanes[l].id;
            fputs(",\n{\"name\":", out);
            report__json_string(out, report__slice_label(s, label, sizeof label));
            fprintf(out, ",\"cat\":\"%s\",", s->blocked ? "blocked" : "running");
            trace_common(out, "B", tid, s->t0 * scale);
            fprintf(out, ",\"args\":{\"at_ns\":%" PRId64 ",\"open_at_verdict\":%s}}", s->at0,
                    s->open ? "true" : "false");
            fputs(",\n{", out);
            trace_common(out, "E", tid, s->t1 * scale);
            fputc('}', out);
        }
    for (size_t k = 0; k < t.nflows; k++) {
        const tl_flow *f = &t.flows[k];
        snprintf(label, sizeof label, "hand-off \"%s\"", f->object ? f->object : "");
        for (int end = 0; end < 2; end++) {
            fputs(",\n{\"name\":", out);
            report__json_string(out, label);
            fprintf(out, ",\"cat\":\"handoff\",\"id\":%zu,%s", k + 1, end ? "\"bp\":\"e\"," : "");
            trace_common(out, end ? "f" : "s", t.lanes[end ? f->to : f->from].id, f->t * scale);
            fputc('}', out);
        }
    }
    for (size_t k = 0; k < t.nmarks; k++) {
        const tl_mark *m = &t.marks[k];
        snprintf(label, sizeof label, "%s%s%s%s", csp_debug_event_kind_name((csp_debug_event_kind)m->kind),
                 m->object ? " \"" : "", m->object ? m->object : "", m->object ? "\"" : "");
        fputs(",\n{\"name\":", out);
        report__json_string(out, label);
        fprintf(out, ",\"cat\":\"%s\",\"s\":\"%s\",", csp_debug_event_kind_name((csp_debug_event_kind)m->kind),
                m->lane == (size_t)-1 ? "g" : "t");
        trace_common(out, "i", m->lane == (size_t)-1 ? 0 : t.lanes[m->lane].id, m->t * scale);
        fputc('}', out);
    }
    snprintf(label, sizeof label, "verdict %s", harness_verdict_name(o->observed));
    fputs(",\n{\"name\":", out);
    report__json_string(out, label);
    fputs(",\"cat\":\"verdict\",\"s\":\"g\",", out);
    trace_common(out, "i", 0, t.end * scale);
    fputs("}\n]}\n", out);
    report__timeline_free(&t);
    return ferror(out) ? -1 : 0;
}
