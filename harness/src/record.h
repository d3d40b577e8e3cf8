/* record.h — the one record a run leaves: what its driver judged and the raw
 * evidence behind it, and the wire format that carries it from a forked child
 * (or an in-process run, through a memory file) to the side that renders it.
 *
 * The record path runs one way: a driver (free.c, controlled.c) judges its run
 * where the facts are and fills one harness_record; record.c serializes it;
 * the parent parses it back (record.c) and only symbolizes and renders
 * (render.c). Nobody re-judges a record.
 *
 * Wire format: lines "KEY<TAB>field<TAB>field...\n", fields escaping \t, \n
 * and \\ as \t, \n and \\. The complete key table is in record.c (`keys`);
 * tests/test_record.c round-trips every field.
 *
 * Messages may name code by address: harness__pc_token() writes a token the
 * renderer replaces with "FUNC at FILE:LINE", and HARNESS_LEAKS_TOKEN stands
 * for the record's leaked tasks, grouped (the child never symbolizes:
 * libdw is not async-signal-safe, and a child under a low descriptor limit
 * may not be able to open the ELF). */
#ifndef HARNESS_RECORD_H
#define HARNESS_RECORD_H

#include "csp_debug.h"
#include "verdict.h"

#include <stddef.h>
#include <stdint.h>

/* ------------------------------------------------------- Growable text */

typedef struct {
    char *buf;
    size_t len, cap;
} harness_buf;

void harness__buf_puts(harness_buf *b, const char *s);
void harness__buf_putn(harness_buf *b, const char *s, size_t n);
void harness__buf_printf(harness_buf *b, const char *fmt, ...) CSP_PRINTF(2, 3);
void harness__buf_escaped(harness_buf *b, const char *s);
/* Splits one wire line in place into at most max fields (unescaped). */
int  harness__split_fields(char *line, char **fields, int max);
/* Writes all of p to fd, retrying on EINTR; gives up on any other error. */
void harness__write_all(int fd, const char *p, size_t n);

/* The token for a code address in a message (rendered "FUNC at FILE:LINE"). */
void harness__pc_token(harness_buf *b, uintptr_t pc);
#define HARNESS_PC_TOKEN_OPEN "\x1b[pc:"
#define HARNESS_PC_TOKEN_CLOSE ']'
/* Where a message lists its record's leaked tasks: the renderer groups them
 * by what they wait on and where they were made, once symbolized (one call
 * site can be several addresses: an unrolled loop). */
#define HARNESS_LEAKS_TOKEN "\x1b[leaks]"

/* ------------------------------------------------------------ A record */

typedef struct {
    csp_debug_task t;          /* as the runtime's snapshot gives it; t.since is the age in ns */
    bool ignored;              /* left out of the leak count (harness_options.ignore_tasks) */
} harness_record_task;

typedef struct harness_record {
    harness_judgement judged;  /* the run's verdicts and message (may hold pc tokens) */
    char *head;                /* the dump's first line ("fatal: ..."); NULL: no dump */
    harness_record_task *tasks;/* the tasks at the moment of the verdict */
    size_t ntasks, more_tasks; /* more_tasks: live tasks beyond those listed */
    unsigned leaked_tasks, leaked_tickers, leaked_threads, leaked_fds, races;
    long live_chans;
    int signal;                /* CRASH: the fatal signal */
    char *output;              /* harness_output of the run */
    /* Controlled mode. */
    char *schedule, *decisions;/* the reported run, short and explicit forms */
    char *error;               /* the schedules could not be carried out (bad replay) */
    unsigned schedules_run;
    unsigned schedules_pruned; /* EXHAUSTIVE reduced: runs cut short as redundant */
    unsigned schedules_redone; /* EXHAUSTIVE reduced: judged runs before the search began again */
    bool exhausted, wall;      /* EXHAUSTIVE covered its tree; the wall bound cut the search */
    uint64_t steps;
    csp_duration virtual_time;
    /* Where the message comes from when a test framework's abort() ended the
     * run (harness_abort_is_failure): the parent takes it from the log. */
    bool message_from_log;
    /* The run's timeline (harness_options.events). */
    harness_event *events;
    size_t nevents;
    uint64_t events_dropped;
    bool complete;             /* parsed: the "end" line arrived */
} harness_record;

/* Appends a task of the snapshot (copied). */
harness_record_task *harness__record_add_task(harness_record *r, const csp_debug_task *t);
/* The whole record as wire text, ending with "end". */
void harness__record_write(harness_buf *b, const harness_record *r);
/* Writes the record to fd (serialized in one buffer, then written). */
void harness__record_send(int fd, const harness_record *r);
/* Parses wire text (modified in place) into r (zeroed first). Unknown keys
 * and malformed lines are skipped; r->complete tells whether "end" came. */
void harness__record_parse(char *text, harness_record *r);
void harness__record_free(harness_record *r);

/* Copies the runtime's event ring (of `capacity` events) into r, texts
 * copied; replaces any events r had. */
void harness__record_take_events(harness_record *r, size_t capacity);
/* Appends one event (texts copied; NULL and "" are the same). */
void harness__record_add_event(harness_record *r, const harness_event *e);
/* Frees an event list's texts and the list. */
void harness__events_free(harness_event *ev, size_t n);

#endif
