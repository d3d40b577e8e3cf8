/* merge.c — the parent's side of a run: a child's record (already judged)
 * becomes the caller's harness_result (merge.h). Only rendering and the
 * facts that need more than one run (NONDETERMINISTIC across free runs) or
 * the captured log (RACE reports, a test framework's failure text) happen
 * here; nothing re-judges what a driver judged. */
#include "quiet.h"
#include "merge.h"
#include "render.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The TSan report block of a log (for a RACE dump), or NULL. */
static HARNESS_CODE char *race_report(const char *log)
{
    const char *w = log ? strstr(log, "WARNING: ThreadSanitizer") : NULL;
    if (!w)
        return NULL;
    const char *end = strstr(w, "SUMMARY: ThreadSanitizer");
    end = end ? strchr(end, '\n') : NULL;
    size_t n = end ? (size_t)(end - w + 1) : strlen(w);
    return strndup(w, n);
}

/* "data race runtime/x.c:12 in f" from the SUMMARY line, or NULL. */
static HARNESS_CODE char *race_summary(const char *log)
{
    const char *s = log ? strstr(log, "SUMMARY: ThreadSanitizer: ") : NULL;
    if (!s)
        return NULL;
    s += strlen("SUMMARY: ThreadSanitizer: ");
    return strndup(s, strcspn(s, "\n"));
}

/* Line [b, e) without a cmocka "[  ERROR   ] --- " style prefix. */
static HARNESS_CODE char *line_text(const char *b, const char *e)
{
    if (*b == '[') {
        const char *close = memchr(b, ']', (size_t)(e - b));
        if (close) {
            b = close + 1;
            while (b < e && (*b == ' ' || *b == '-'))
                b++;
        }
    }
    while (e > b && (e[-1] == ' ' || e[-1] == '\r'))
        e--;
    return strndup(b, (size_t)(e - b));
}

HARNESS_CODE char *harness__failure_from_log(const char *log)
{
    if (!log)
        return NULL;
    /* cmocka: "<what>\n<file>:<line>: error: Failure!" (each maybe behind a
     * "[  ERROR   ] --- " prefix); the last one is the one that aborted. */
    const char *hit = NULL;
    for (const char *p = log; (p = strstr(p, ": error: Failure!")); p++)
        hit = p;
    if (hit) {
        const char *ls = hit;
        while (ls > log && ls[-1] != '\n')
            ls--;
        char *where = line_text(ls, hit);
        char *what = NULL;
        if (ls > log) {
            const char *pe = ls - 1, *ps = pe;
            while (ps > log && ps[-1] != '\n')
                ps--;
            what = line_text(ps, pe);
        }
        size_t n = strlen(where) + (what ? strlen(what) : 0) + 8;
        char *msg = malloc(n);
        if (msg)
            snprintf(msg, n, "%s (%s)", what && *what ? what : "assertion failed", where);
        free(where);
        free(what);
        return msg;
    }
    /* assert(3): "prog: file.c:12: f: Assertion `x' failed." */
    const char *a = strstr(log, "Assertion `");
    if (a) {
        const char *ls = a;
        while (ls > log && ls[-1] != '\n')
            ls--;
        return line_text(ls, a + strcspn(a, "\n"));
    }
    return NULL;
}

HARNESS_CODE void harness__merge_run(harness_result *r, harness_child_result *c, const harness_options *o,
                        const char *entry_name, unsigned run, bool first, harness_verdict extra,
                        const char *extra_msg)
{
    harness_record *rec = &c->rec;
    harness_judgement j = rec->judged;
    rec->judged = (harness_judgement){0};
    if (extra != HARNESS_PASS)
        harness__judge(&j, extra, extra_msg);
    if (!j.seen)
        harness__judge(&j, HARNESS_PASS, NULL);

    /* Texts that only the log holds. */
    char *message = NULL, *dump = NULL;
    if (j.verdict == HARNESS_RACE) {
        message = race_summary(c->log);
        dump = race_report(c->log);
    } else if (j.verdict == HARNESS_WRONG_RESULT && rec->message_from_log) {
        message = harness__failure_from_log(c->log);
    }
    if (!message)
        message = harness__render_message(rec, j.message ? j.message : "");
    if (!dump)
        dump = harness__render_dump(rec);

    r->seen |= j.seen;
    bool worse = first || harness_verdict_more_severe(j.verdict, r->verdict);
    if (worse) {
        r->verdict = j.verdict;
        free(r->message); r->message = message; message = NULL;
        free(r->dump); r->dump = dump; dump = NULL;
        free(r->output); r->output = rec->output; rec->output = NULL;
        free(r->log); r->log = c->log; c->log = NULL;
        r->leaked_tasks = rec->leaked_tasks;
        r->leaked_tickers = rec->leaked_tickers;
        r->leaked_threads = rec->leaked_threads;
        r->leaked_fds = rec->leaked_fds;
        r->live_chans = rec->live_chans;
        r->races = rec->races;
        r->signal = rec->signal;
        free(r->schedule);
        if (rec->schedule) {
            r->schedule = rec->schedule;
            rec->schedule = NULL;
        } else {
            char sched[128];
            snprintf(sched, sizeof sched, "v1:free:seed=%" PRIu64 ":noise=%u:run=%u", o->seed,
                     run > 1 ? o->noise : 0, run);
            r->schedule = strdup(sched);
        }
        free(r->decisions);
        r->decisions = rec->decisions;
        rec->decisions = NULL;
        r->steps = rec->steps;
        r->virtual_time = rec->virtual_time;
        harness__events_free(r->events, r->nevents);
        r->events = rec->events;
        r->nevents = rec->nevents;
        r->events_dropped = rec->events_dropped;
        rec->events = NULL;
        rec->nevents = 0;
        free(r->rerun);
        r->rerun = NULL;
        if (j.verdict != HARNESS_PASS) {
            char line[1024];
            if (o->mode == HARNESS_CONTROLLED) {
                snprintf(line, sizeof line, "CHANLAB_ENTRY=%s CHANLAB_REPLAY=%s", entry_name,
                         r->schedule);
            } else {
                /* Runs 2.. had noise: the line names it, so they get it again. */
                int n = snprintf(line, sizeof line, "CHANLAB_ENTRY=%s CHANLAB_SEED=%" PRIu64
                                 " CHANLAB_SCHEDULES=%u", entry_name, o->seed, run);
                if (run > 1 && n > 0 && (size_t)n < sizeof line)
                    snprintf(line + n, sizeof line - (size_t)n, " CHANLAB_NOISE=%u", o->noise);
            }
            r->rerun = strdup(line);
        }
    }
    free(message);
    free(dump);
    harness__judgement_free(&j);
}
