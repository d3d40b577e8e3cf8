/* hinternal.h — what the harness's parts share: the state a run records while
 * it runs (in the child, or in this process for in-process runs), and the
 * wire format by which a child reports to its parent.
 *
 * Everything the program under test calls (harness_fail, gauges, marks,
 * output) is HARNESS_QUIET: invisible to ThreadSanitizer, like the runtime's
 * own code, so recording an observation never orders two tasks. */
#ifndef HARNESS_INTERNAL_H
#define HARNESS_INTERNAL_H

#include "base.h"          /* the runtime's: CSP_TSAN and TSan-invisible atomics */
#include "csp_debug.h"
#include "harness.h"

#include <stdatomic.h>

/* As the runtime's CSP_RT (base.h): no TSan instrumentation at all, entry
 * and exit included, in a clang TSan build. */
#define HARNESS_QUIET CSP_RT

/* ------------------------------------------------------ What a run records */

#define HARNESS_MAX_GAUGES 16
#define HARNESS_MAX_MARKS 16
#define HARNESS_OUTPUT_CAP (64u << 10)

typedef struct {
    const char *name;
    _Atomic long cur, peak;
    long bound;            /* < 0: none declared */
} harness_gauge;

typedef struct {
    const char *name;
    csp_duration at;       /* csp_now() of the mark; < 0: not marked yet */
    csp_duration bound;    /* < 0: none declared */
} harness_markrec;

typedef struct harness_state {
    _Atomic unsigned seen;                 /* verdict bits observed so far */
    _Atomic int lock;                      /* spinlock for the tables below */
    char fail_msg[512];                    /* first harness_fail */
    char resource_msg[256];                /* first harness_resource_exhausted */
    harness_gauge gauges[HARNESS_MAX_GAUGES];
    harness_markrec marks[HARNESS_MAX_MARKS];
    char *output;                          /* HARNESS_OUTPUT_CAP bytes */
    _Atomic size_t output_len;
    _Atomic unsigned races;
} harness_state;

/* The state of the run in progress in this process, or NULL. */
extern harness_state *harness__state;

void harness__state_init(harness_state *s);
void harness__state_destroy(harness_state *s);
void harness__observe(harness_verdict v);

/* -------------------------------------------------------- The wire format */
/* A child writes lines "KEY<TAB>field<TAB>field...\n" to its result pipe;
 * fields escape \t, \n and \\ as \t, \n and \\. Keys:
 *   verdict  NAME  MESSAGE        one per observation, in order
 *   task     ID NAME STATE WAIT SINCE_NS FOREVER CREATED_PC PC,PC,...
 *   leak     ID                   the task of that id was alive after entry returned
 *   ticker   CREATED_PC           a ticker still running after entry returned
 *   count    KEY VALUE            leaked_threads, leaked_fds, live_chans, races, signal
 *   fds      TEXT                 what the leaked descriptors are
 *   output   TEXT
 *   head     TEXT                 first line of the dump ("fatal: ...")
 *   end
 * The parent symbolizes PCs and renders the dump. */

typedef struct {
    char *buf;
    size_t len, cap;
} harness_buf;

void harness__buf_puts(harness_buf *b, const char *s);
void harness__buf_printf(harness_buf *b, const char *fmt, ...) CSP_PRINTF(2, 3);
void harness__buf_escaped(harness_buf *b, const char *s);
/* Splits one wire line in place into at most max fields (unescaped). */
int  harness__split_fields(char *line, char **fields, int max);

/* Writes every task of the snapshot as "task" lines (the caller's own task
 * gets its current stack). Running tasks in other threads are asked for
 * their stacks by signal when ask_running. */
void harness__write_tasks(harness_buf *b, bool ask_running);
/* The interrupted stack of a signal's ucontext. Async-signal-safe. */
int harness__stack_from_ucontext(void *ucv, uintptr_t *pcs, int max);
/* The stack to show for the calling thread's task (a crash handler's). */
void harness__set_own_stack(const uintptr_t *pcs, int n);

/* ------------------------------------------------- Evidence (evidence.c) */

typedef struct {
    int fds, threads, runtime_threads;
    long chans;
    bool fd_open[1024];
} harness_baseline;

void harness__write_all(int fd, const char *p, size_t n);
void harness__flush_program_output(void);
int  harness__count_fds(void);
int  harness__count_threads(void);
void harness__take_baseline(harness_baseline *base);
void harness__put_leaked_fds(harness_buf *b, const harness_baseline *base);
void harness__put_verdict(harness_buf *b, harness_verdict v, const char *msg);
/* Failures, resource and latency bounds, races, output and live channels
 * that the program recorded in s. judge_marks: the run is over, so a mark's
 * latency (until last_other_exit) can be judged. */
void harness__put_measurements(harness_buf *b, harness_state *s, bool judge_marks,
                               csp_duration last_other_exit, long baseline_chans);

/* Fatal signals in a forked run become CRASH records on fd. claim (may be
 * NULL) decides who reports when several things end a run at once; extra
 * (may be NULL) adds records (controlled mode: the schedule). */
void harness__install_crash_handlers(int fd, bool (*claim)(void), void (*extra)(harness_buf *b));

/* -------------------------------------------------------------- Child side */

typedef struct {
    void (*entry)(void *);
    void *arg;
    const harness_options *o;
    int result_fd;             /* where the records go */
    bool forked;
    unsigned run;              /* 1, 2, ...: seeds the run's random choices */
} harness_child_args;

/* Runs entry with watchdog and leak check; writes the records; returns
 * (in-process) or _exits (forked). */
void harness__child_run(const harness_child_args *a);

/* Starts what the sanitizer would start lazily (tsan.c). Also the reason
 * tsan.c's hooks are linked into every program that runs the harness. */
void harness__sanitizer_warmup(void);

/* ------------------------------------------------------------- Parent side */

typedef struct {
    unsigned seen;
    harness_verdict verdict;
    char *message;
    char *dump;
    char *output;
    char *log;
    unsigned leaked_tasks, leaked_tickers, leaked_threads, leaked_fds, races;
    long live_chans;
    int signal;
    /* Controlled mode. */
    char *schedule, *decisions, *error;
    unsigned schedules_run;
    bool exhausted, wall;
    uint64_t steps;
    csp_duration virtual_time;
} harness_outcome;

/* Parses a child's records into an outcome (symbolizing, applying the
 * ignore list, rendering dump and message). */
void harness__parse_records(char *records, const harness_options *o, harness_outcome *out);
void harness__outcome_free(harness_outcome *out);

#endif /* HARNESS_INTERNAL_H */
