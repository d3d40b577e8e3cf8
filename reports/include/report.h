/* report.h — chanlab's report writers (DESIGN.md §6): what `chanlab list`,
 * `run`, `replay` and `prove` found, as a text table, JSON (results.json) and
 * JUnit XML (junit.xml), and the source text of the catalog (embedded at
 * build time) that `explain` shows bug against fix with.
 *
 * A report is two lists: the variants it speaks of (what their registration
 * says) and the observations made of them (one harness_run each: a variant in
 * one mode). The report copies every string it is given, so a caller may free
 * its harness_result right after adding it. It depends on the harness for
 * verdict names only, and knows nothing of the pattern registry: the caller
 * fills a report_variant from a registration.
 *
 * The HTML report (per-variant pages with SVG timelines) and the Chrome
 * trace-event JSON read the same two lists, the observations' events and the
 * same sources. */
#ifndef REPORT_H
#define REPORT_H

#include "harness.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ----------------------------------------------------------------- Model */

enum { REPORT_FREE = 0, REPORT_CONTROLLED = 1 };   /* a mode, as an index */
const char *report_mode_name(int mode);            /* "free", "controlled" */

typedef struct {
    const char *id;            /* "countdown.tick" */
    const char *section;       /* "8.7" */
    const char *book_func;     /* "countdown1", or "" */
    const char *fixed_by;      /* the id of its fix, or NULL when correct */
    const char *lesson;
    const char *bound;         /* in words, or NULL */
    const char *file;          /* "patterns/countdown.c" */
    int line;                  /* of the registration */
    const char *entry_name;    /* "countdown1" */
    unsigned modes;            /* bit (1u << REPORT_FREE) | (1u << REPORT_CONTROLLED) */
    unsigned expect[2];        /* acceptable verdicts per mode in this build: bits (1u << v) */
} report_variant;

/* The proof that followed a controlled search which observed nothing
 * (chanlab prove): how far an exhaustive, partial-order-reduced search went. */
enum {
    REPORT_PROOF_NONE,         /* no proof ran */
    REPORT_PROOF_ALL,          /* every interleaving, no bound: exhausted */
    REPORT_PROOF_BOUNDED,      /* every interleaving within preemption_bound preemptions */
    REPORT_PROOF_BUDGET,       /* neither exhausted within the budget of schedules (or the
                                  wall bound: `wall`) */
};
typedef struct {
    int kind;                  /* REPORT_PROOF_* */
    unsigned schedules;        /* schedules the deciding search ran */
    unsigned pruned;           /* runs it cut short as redundant */
    unsigned preemption_bound; /* BOUNDED (and BUDGET's last try) */
    unsigned budget;           /* schedules it was allowed */
    const char *workload;      /* the smaller workload it ran on, or NULL: the variant's own */
    double seconds;
    bool wall;                 /* BUDGET: the wall bound, not the budget, stopped it */
} report_proof;

typedef struct {
    size_t variant;            /* index of its variant in the report */
    int mode;                  /* REPORT_FREE or REPORT_CONTROLLED */
    const char *strategy;      /* "random", "pct", "exhaustive", "replay"; NULL in free mode */
    bool carried_out;          /* false: the harness refused the run (why: message) */
    harness_verdict observed;
    unsigned seen;             /* every verdict any run showed */
    const char *message;       /* one line */
    const char *dump;
    const char *schedule;      /* replays the failing (or last) run */
    const char *output;        /* harness_output of that run */
    const char *replay;        /* the command that replays it, or NULL (free mode) */
    const char *rerun;         /* a command that runs it again (not exactly), or NULL */
    unsigned schedules_run;
    bool exhausted;
    uint64_t steps;
    int64_t virtual_ns;
    double seconds;            /* wall time harness_run took */
    const harness_event *events;/* the timeline of the run reported (harness_options.events) */
    size_t nevents;
    uint64_t events_dropped;
    report_proof proof;
} report_observation;

typedef struct report report;

/* kind: what made it ("list", "run", "replay", "prove"); title: one line. */
report *report_new(const char *kind, const char *title);
void    report_free(report *r);

/* Returns the variant's index, or (size_t)-1 when out of memory. */
size_t  report_add_variant(report *r, const report_variant *v);
/* The observation's fields from a harness_result (everything but variant,
 * mode, strategy, replay, rerun and seconds). */
void    report_observation_from_result(report_observation *o, const harness_result *res, int ran);
/* Copies o; returns its index or (size_t)-1. */
size_t  report_add_observation(report *r, const report_observation *o);

size_t  report_variant_count(const report *r);
const report_variant *report_variant_at(const report *r, size_t i);
size_t  report_find_variant(const report *r, const char *id);   /* (size_t)-1 if none */
size_t  report_observation_count(const report *r);
const report_observation *report_observation_at(const report *r, size_t i);

/* Whether an observation's verdict is one its variant expects in its mode
 * (a run the harness refused never is). */
bool report_matches(const report *r, const report_observation *o);

typedef struct { size_t observations, as_expected, not_expected, refused, bugs_found; } report_totals;
report_totals report_summarize(const report *r);

/* The proof in words, into buf: "all 25 interleavings", "all 412
 * interleavings within 2 preemptions", "2000 schedules, not exhausted
 * (budget)", each followed by " (workload: ...)" when it ran on a smaller
 * one; "" when no proof ran. */
const char *report_proof_str(const report_proof *p, char *buf, size_t size);

/* s as a JSON string ("null" for NULL): escapes, and invalid UTF-8 as
 * U+FFFD, so that a program's raw output never breaks the document. */
void report_json_string(FILE *out, const char *s);

/* "LEAK|DEADLOCK" for a set of verdicts (bits 1u << v), into buf; "-" if none. */
const char *report_verdicts_str(unsigned mask, char *buf, size_t size);

/* ------------------------------------------------------------- Writers */

enum {
    REPORT_COLOR = 1u << 0,    /* ANSI colour (a terminal) */
};

/* The catalog: one row per variant (`chanlab list`). */
int report_write_catalog(const report *r, FILE *out, unsigned flags);
/* The verdict table: id, mode, expected, observed, evidence; then the replay
 * command of every failure found, then the details of every observation
 * that is not as expected, then a summary line (`chanlab prove`). */
int report_write_table(const report *r, FILE *out, unsigned flags);
/* One observation in full: verdict against expectation, message, output,
 * dump, schedule and replay command (`chanlab run`, `chanlab replay`). */
int report_write_observation(const report *r, size_t i, FILE *out, unsigned flags);
/* A variant explained: section, book function, lesson, modes and
 * expectations, its fix (or what it fixes), and its entry function against
 * its fix's, line by line, BUG(...) lines highlighted (`chanlab explain`).
 * The fix must be among the report's variants for the comparison. */
int report_write_explain(const report *r, size_t variant, FILE *out, unsigned flags);
/* JSON: {"tool", "schema_version", "version", "kind", "title", "build",
 * "summary", "variants", "results"} (a "list" report has no summary or
 * results), as reports/results.schema.json describes it. */
#define REPORT_JSON_SCHEMA_VERSION 1
int report_write_json(const report *r, FILE *out);
/* JUnit XML: a testsuite per family, a testcase per variant × mode; an
 * observation not as expected is a <failure> with the message and the dump,
 * a refused run an <error>. */
int report_write_junit(const report *r, FILE *out);
/* Chrome's trace-event format (Perfetto UI, chrome://tracing) of observation
 * i's events: a track per task, B/E slices for running and for each blocked
 * interval (named by what it waits on), flow arrows (s/f) for hand-offs,
 * instants for closes, timers, panics and the verdict. Controlled mode's
 * clock is the event order (1 us per event; virtual time in args); free
 * mode's is monotonic time since the first event. */
int report_write_trace(const report *r, size_t i, FILE *out);
/* The HTML report in folder dir (made if missing): index.html (the verdict
 * table, filterable without JavaScript through a page per filter), a page per
 * observation with the lesson, bug beside fix, dump, replay command and an
 * SVG timeline, and its trace JSON. Self-contained: no external resource.
 * Returns 0, or -1 with errno set. */
int report_write_html(const report *r, const char *dir);
/* The file name of observation i's page in that folder ("ID.MODE.html"). */
const char *report_html_page(const report *r, size_t i, char *buf, size_t size);

/* -------------------------------------------------------------- Sources */

/* The text of a catalog source file ("patterns/countdown.c"), embedded at
 * build time; NULL if there is none by that name. */
const char *report_source_text(const char *file);

/* The lines of the definition of function `name` in `text`: from the line
 * of its declarator (at the start of a line) to its closing brace. On success
 * *first is its first line number (1-based) and *count how many lines. */
bool report_source_function(const char *text, const char *name, int *first, int *count);

#ifdef __cplusplus
}
#endif
#endif /* REPORT_H */
