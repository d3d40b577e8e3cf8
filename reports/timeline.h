/* timeline.h — an observation's events as lanes of slices (timeline.c), the
 * one reading of the event list that the trace JSON and the SVG timeline
 * share. Not a public header.
 *
 * A lane per task, in order of first appearance. A slice is an interval in
 * which the task ran, or was blocked on something (labelled). Controlled
 * mode runs one task at a time: a task's RUN ends the running slice of the
 * task before it (that one is runnable, not drawn). Positions: controlled
 * mode, the event's index (virtual time stands still between timers); free
 * mode, nanoseconds since the first event. */
#ifndef REPORT_TIMELINE_H
#define REPORT_TIMELINE_H

#include "rinternal.h"

typedef struct {
    uint64_t id;
    char name[64];
} tl_lane;

typedef struct {
    size_t lane;
    double t0, t1;
    bool blocked;
    bool open;                 /* still going when the record was taken (the verdict) */
    const char *wait, *object; /* blocked: what on (the observation's texts) */
    int64_t at0;               /* the event's own timestamp (virtual or monotonic ns) */
} tl_slice;

typedef struct {
    size_t from, to;           /* lanes */
    double t;
    const char *object;        /* the channel */
} tl_flow;

typedef struct {
    size_t lane;               /* (size_t)-1: not a task's (a timer) */
    double t;
    int kind;                  /* CLOSE, TIMER, PANIC */
    const char *object;
} tl_mark;

typedef struct {
    tl_lane *lanes; size_t nlanes;
    tl_slice *slices; size_t nslices;
    tl_flow *flows; size_t nflows;
    tl_mark *marks; size_t nmarks;
    double end;                /* the verdict's moment: the last position */
    bool steps;                /* positions are event indexes (controlled mode) */
} tl_timeline;

/* False when out of memory (t is then empty). */
bool report__timeline_build(const report_observation *o, tl_timeline *t);
void report__timeline_free(tl_timeline *t);
/* "chan send \"errors\"", "mutex lock \"mu\"", "syscall read": into buf. */
const char *report__slice_label(const tl_slice *s, char *buf, size_t size);

#endif
