/* collect.h — what both drivers (free.c, controlled.c) gather about a run
 * into its record: the task snapshot (snapshot.c), the baseline and the
 * end-of-run collector shared by both (evidence.c), the goleak-style ignore
 * list (ignore.c), and fatal signals (crash.c). The drivers judge; these
 * gather and put verdicts into the record's judgement. */
#ifndef HARNESS_COLLECT_H
#define HARNESS_COLLECT_H

#include "record.h"
#include "state.h"

#include <stdbool.h>

/* ------------------------------------------------------ Snapshot (snapshot.c) */

/* Adds every live task to r (the calling task with its current stack).
 * Running tasks on other threads are asked for their stacks by signal when
 * ask_running (free mode). */
void harness__snapshot_tasks(harness_record *r, bool ask_running);
/* The interrupted stack of a signal's ucontext. Async-signal-safe. */
int  harness__stack_from_ucontext(void *ucv, uintptr_t *pcs, int max);
/* The stack to show for the calling thread's task (a crash handler's). */
void harness__set_own_stack(const uintptr_t *pcs, int n);

/* ------------------------------------------------------ Ignore list (ignore.c) */

/* The patterns of harness_options.ignore_tasks (fnmatch globs), with the
 * functions they name resolved to address ranges before the run, so the
 * child matches by address and never symbolizes. */
typedef struct harness_ignore harness_ignore;
/* NULL when there is nothing to ignore. Call in the parent, before forking. */
harness_ignore *harness__ignore_make(const char *const *patterns);
void harness__ignore_free(harness_ignore *ig);
/* True if the task's name, the function that made it, or the top function of
 * its stack (its first frame outside chanlab's own code) matches. */
bool harness__ignore_matches(const harness_ignore *ig, const csp_debug_task *t);

/* ------------------------------------------------------- Evidence (evidence.c) */

typedef struct {
    int fds, threads, runtime_threads;
    long chans;
    bool fd_open[1024];
} harness_baseline;

void harness__take_baseline(harness_baseline *base);
int  harness__count_threads(void);

/* What a run needs to be judged at its end. */
typedef struct {
    const harness_options *o;
    const harness_ignore *ignore;
    harness_state *state;
    const harness_baseline *base;
    csp_duration last_other_exit;   /* csp_now() when the last task but entry finished */
} harness_run_facts;

/* The end-of-run collector both drivers share, after entry returned and the
 * run went quiet: every task left is a leak unless ignored (snapshotted with
 * `head` as the dump's first line), running tickers, OS threads beyond the
 * tasks (leaked_threads, counted by the free driver), descriptors beyond the
 * baseline; one LEAK verdict naming them all. */
void harness__collect_leaks(harness_record *r, const harness_run_facts *f, const char *head,
                            bool ask_running, unsigned leaked_threads);
/* The program's own measurements: harness_fail, resources, gauges, marks
 * (judged only when judge_marks: the run is over), races, output, live
 * channels. Called once per run, by whoever finishes it. */
void harness__collect_measurements(harness_record *r, const harness_run_facts *f, bool judge_marks);

/* What the program printed and left in stdio's buffers, out before _exit. */
void harness__flush_program_output(void);

/* --------------------------------------------------------- Crashes (crash.c) */

/* Fatal signals in a forked run become CRASH records on fd. claim (may be
 * NULL) decides who reports when several things end a run at once; extra
 * (may be NULL) adds to the record (controlled mode: the schedule). */
void harness__install_crash_handlers(int fd, const harness_run_facts *f, bool (*claim)(void),
                                     void (*extra)(harness_record *r));

#endif
