/* pattern.h — the catalog (DESIGN.md §4): every program of GOPL §8.5-8.10 in
 * its correct form and in the buggy forms the book warns about, each one
 * registered next to its code.
 *
 * A registration says what a person needs to learn from the variant and what
 * the harness should observe — but the expected verdict is only ever compared
 * with the observed one. Nothing here is passed into a run: pattern_options()
 * gives the bounds a variant needs (time, steps, descriptors), never a verdict.
 *
 *     static void make_thumbnails2(void *arg) { ... }
 *     PATTERN(thumbnails_no_wait,
 *         .id = "thumbnails.no-wait", .section = "8.5", .book_func = "makeThumbnails2",
 *         .fixed_by = "thumbnails.wait-chan",
 *         .lesson = "...",
 *         .modes = PATTERN_FREE | PATTERN_CONTROLLED,
 *         .expect = { [PATTERN_IN_FREE] = V(WRONG_RESULT), [PATTERN_IN_CONTROLLED] = V(WRONG_RESULT) },
 *         ENTRY(make_thumbnails2));
 *
 * Registrations live in the linker section "chanlab_patterns" (no central
 * list to edit); the patterns are an OBJECT library so that every family file
 * is linked in, and patterns/CMakeLists.txt takes every .c file there. */
#ifndef PATTERN_H
#define PATTERN_H

#include "csp.h"
#include "harness.h"

#ifdef __cplusplus
extern "C" {
#endif

enum { PATTERN_FREE = 1u << 0, PATTERN_CONTROLLED = 1u << 1 };
enum { PATTERN_IN_FREE = 0, PATTERN_IN_CONTROLLED = 1 };

/* A set of acceptable verdicts: V(LEAK) | V(DEADLOCK) ... */
#define V(name) (1u << HARNESS_##name)

#define PATTERN_PROOF_SCHEDULES 20000u
#define PATTERN_PROOF_PREEMPTIONS 2u

typedef struct pattern {
    const char *id;            /* "family.variant": the contract (DESIGN §4) */
    const char *section;       /* "8.5" */
    const char *book_func;     /* the seed's function name ("makeThumbnails2"), or "" */
    const char *fixed_by;      /* the id of the variant that fixes it; NULL when correct */
    const char *lesson;        /* 2-4 sentences, our own words */
    const char *bound;         /* the bound it declares, in words, or NULL */
    unsigned modes;            /* PATTERN_FREE | PATTERN_CONTROLLED */
    /* Acceptable verdicts per mode; a TSan build may accept others (a race is
     * RACE there, often WRONG_RESULT elsewhere): expect_tsan, when non-zero,
     * replaces expect in a TSan build. */
    unsigned expect[2];
    unsigned expect_tsan[2];
    void (*entry)(void *arg);  /* one run: makes its workload, checks it, cleans up */
    const char *entry_name;    /* its function's name (ENTRY fills both) */
    /* What the run needs (0: the harness's default). Bounds, not verdicts. */
    csp_duration hang_after, timeout;
    uint64_t max_steps;
    unsigned schedules;        /* controlled mode: how many schedules prove it */
    unsigned free_runs;        /* free mode: how many runs (each a forked process; 0: one) */
    int fd_limit;
    /* What every run needs from outside the run, made before harness_run in
     * the process that calls it, once per process, so that forked runs
     * inherit it: the crawl family's loopback HTTP server, whose URL its
     * free-mode runs find in the environment. NULL: nothing. Whoever runs a
     * registration calls pattern_prepare first (chanlab's verbs, the catalog
     * tests). It may fork a helper process but never starts a thread here,
     * so the caller stays single-threaded (harness.h). Added with the crawl
     * family; nothing in it says what a run should observe. */
    void (*fixture)(void);
    /* The proof that follows a controlled search that observed nothing
     * (chanlab prove; issue 16): a partial-order-reduced EXHAUSTIVE search of
     * at most proof_schedules schedules (0: PATTERN_PROOF_SCHEDULES), without
     * a bound, then within PATTERN_PROOF_PREEMPTIONS preemptions if that is
     * not exhausted. It runs on the variant's own workload, or — for a
     * variant whose own workload is too big to exhaust — on a smaller one:
     * proof_setup(true) before the proof's runs (in the process that forks
     * them, like fixture) makes the family's entry use it, proof_setup(false)
     * after puts the usual one back; proof_workload names it in the report
     * ("3 directories, 3 files"). What the proof runs on is declared here;
     * whether a proof runs, and what it says, is decided from what was
     * observed. */
    unsigned proof_schedules;
    void (*proof_setup)(bool on);
    const char *proof_workload;
    const char *file;          /* where it is registered (filled by PATTERN) */
    int line;
} pattern;

/* The section holds pointers (uniform 8-byte entries, no padding between
 * them), each to a registration next to its code. */
#define PATTERN(var, ...)                                                           \
    static const pattern var = { __VA_ARGS__, .file = __FILE__, .line = __LINE__ };  \
    __attribute__((used, section("chanlab_patterns")))                              \
    static const pattern *const var##_registration = &var

/* .entry and .entry_name at once: ENTRY(make_thumbnails2). */
#define ENTRY(fn) .entry = (fn), .entry_name = #fn

/* The registry, sorted by id. */
size_t pattern_count(void);
const pattern *pattern_at(size_t i);
const pattern *pattern_find(const char *id);          /* NULL if none */
/* The family of an id ("thumbnails" of "thumbnails.no-wait") into buf. */
const char *pattern_family(const pattern *p, char *buf, size_t size);

/* The acceptable verdicts for a mode (PATTERN_IN_FREE/CONTROLLED) in this build. */
unsigned pattern_expected(const pattern *p, int mode);

/* True while the variant runs in controlled mode (fibers, virtual time), so
 * a program can pick bounds that suit the clock it runs on (section87.h's
 * "second"). How a variant learns its mode; never the runtime's seam. */
bool pattern_controlled(void);

/* For a task that stands for something outside the program under test (the
 * chat scenario's clients: netcat processes on the other side of a
 * connection): between these, ThreadSanitizer checks none of the task's
 * memory accesses — another process's memory takes part in no race of this
 * one — while its channel operations still order it as they order any task.
 * In pairs, in one task; it may block in between (a run that ends with the
 * task inside closes the region for it: csp_tool.h). No-ops outside TSan
 * builds. */
void pattern_outside_begin(void);
void pattern_outside_end(void);

/* Calls p's fixture (if any) before a run in `mode` (PATTERN_IN_FREE or
 * PATTERN_IN_CONTROLLED); controlled runs need none, their workloads are in
 * memory. */
void pattern_prepare(const pattern *p, int mode);

/* harness_defaults() with the bounds the variant declares, for one mode. */
harness_options pattern_options(const pattern *p, int mode);

/* Names of the verdicts in a mask: "DEADLOCK|LEAK|SLOW" into buf. */
const char *pattern_verdicts_str(unsigned mask, char *buf, size_t size);

/* ------------------------------------------------------------------ Demos */
/* Every family is also a real program: `chanlab demo NAME ARGS...` (DESIGN
 * §4). A family registers its demo next to its code, like its variants:
 *     DEMO(du_demo, .name = "du", .usage = "[-v] PATH...", .summary = "...",
 *          .main = du_demo_main);
 * main gets the arguments after the demo's name and returns the exit status
 * (0 ok, 1 the program failed, 2 bad usage with a one-line error). */
typedef struct demo {
    const char *name;
    const char *usage;         /* arguments, for --help */
    const char *summary;       /* one line */
    int (*main)(int argc, char **argv);
} demo;

#define DEMO(var, ...)                                                              \
    static const demo var = { __VA_ARGS__ };                                        \
    __attribute__((used, section("chanlab_demos")))                                 \
    static const demo *const var##_registration = &var

size_t demo_count(void);
const demo *demo_at(size_t i);          /* in link order */
const demo *demo_find(const char *name);

#ifdef __cplusplus
}
#endif
#endif /* PATTERN_H */
