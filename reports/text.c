/* text.c — the writers for a person at a terminal: the catalog (`list`), the
 * verdict table (`prove`), one observation in full (`run`, `replay`) and a
 * variant explained (`explain`). Columns are sized to their widest cell; the
 * last column is never cut, a terminal wraps it. */
#include "rinternal.h"

#include <stdlib.h>
#include <string.h>

static int width_of(const char *s) { return s ? (int)strlen(s) : 0; }

static int max_int(int a, int b) { return a > b ? a : b; }

/* Writes s wrapped at `width` columns, each line indented by `indent`. */
static void put_wrapped(FILE *out, const char *s, int indent, int width)
{
    const char *p = s ? s : "";
    while (*p) {
        while (*p == ' ')
            p++;
        if (!*p)
            break;
        int n = 0, last_space = -1;
        while (p[n] && p[n] != '\n' && (n < width - indent || last_space < 0)) {
            if (p[n] == ' ')
                last_space = n;
            n++;
        }
        if (p[n] && p[n] != '\n' && last_space > 0)
            n = last_space;
        fprintf(out, "%*s%.*s\n", indent, "", n, p);
        p += n;
        if (*p == '\n')
            p++;
    }
}

/* Writes every line of s indented. */
static void put_indented(FILE *out, const char *s, int indent)
{
    for (const char *p = s; p && *p;) {
        const char *e = strchr(p, '\n');
        int n = e ? (int)(e - p) : (int)strlen(p);
        fprintf(out, "%*s%.*s\n", n ? indent : 0, "", n, p);
        p += n + (e != NULL);
    }
}

/* --------------------------------------------------------------- Catalog */

static const char *expect_cell(const report_variant *v, int mode, char *buf, size_t size)
{
    if (!(v->modes & (1u << mode)))
        return "-";
    return report_verdicts_str(v->expect[mode], buf, size);
}

int report_write_catalog(const report *r, FILE *out, unsigned flags)
{
    int wid = 2, wbook = 13, wfree = 4, wctl = 10;
    char b1[160];
    for (size_t i = 0; i < r->nvariants; i++) {
        const report_variant *v = &r->variants[i];
        wid = max_int(wid, width_of(v->id));
        wbook = max_int(wbook, width_of(v->book_func));
        wfree = max_int(wfree, width_of(expect_cell(v, REPORT_FREE, b1, sizeof b1)));
        wctl = max_int(wctl, width_of(expect_cell(v, REPORT_CONTROLLED, b1, sizeof b1)));
    }
    fprintf(out, "%s%-*s  %-7s  %-*s  %-*s  %-*s  %s%s\n", report__sgr(flags, REPORT_SGR_BOLD),
            wid, "ID", "SECTION", wbook, "BOOK FUNCTION", wfree, "FREE", wctl, "CONTROLLED",
            "FIXED BY", report__sgr(flags, REPORT_SGR_RESET));
    for (size_t i = 0; i < r->nvariants; i++) {
        const report_variant *v = &r->variants[i];
        char b2[160];
        fprintf(out, "%-*s  %-7s  %-*s  %-*s  %-*s  %s\n", wid, v->id, v->section, wbook,
                *v->book_func ? v->book_func : "-", wfree, expect_cell(v, REPORT_FREE, b1, sizeof b1),
                wctl, expect_cell(v, REPORT_CONTROLLED, b2, sizeof b2), v->fixed_by ? v->fixed_by : "-");
    }
    fprintf(out, "%zu variant%s; the columns FREE and CONTROLLED give the verdicts expected in "
            "each mode (\"-\": not run in that mode)\n", r->nvariants, r->nvariants == 1 ? "" : "s");
    return ferror(out) ? -1 : 0;
}

/* ----------------------------------------------------------------- Table */

static const char *status_of(const report *r, const report_observation *o)
{
    return !o->carried_out ? "ERROR" : report_matches(r, o) ? "ok" : "MISMATCH";
}

static bool has_replay(const report_observation *o)
{
    return o->carried_out && o->observed != HARNESS_PASS && (o->replay || o->rerun);
}

static void replay_label(const report *r, const report_observation *o, char *buf, size_t size)
{
    snprintf(buf, size, "%s (%s, %s)", r->variants[o->variant].id, report_mode_name(o->mode),
             harness_verdict_name(o->observed));
}

static void put_replays(const report *r, FILE *out)
{
    int w = 0;
    char what[200];
    for (size_t i = 0; i < r->nobs; i++)
        if (has_replay(&r->obs[i])) {
            replay_label(r, &r->obs[i], what, sizeof what);
            w = max_int(w, width_of(what));
        }
    if (!w)
        return;
    fprintf(out, "\nEvery failure found, and how to see it again:\n");
    for (size_t i = 0; i < r->nobs; i++) {
        const report_observation *o = &r->obs[i];
        if (!has_replay(o))
            continue;
        replay_label(r, o, what, sizeof what);
        if (o->replay)
            fprintf(out, "  %-*s  %s\n", w, what, o->replay);
        else
            fprintf(out, "  %-*s  %s   (free mode: runs it again, not the same run)\n", w, what, o->rerun);
    }
}

int report_write_table(const report *r, FILE *out, unsigned flags)
{
    int wid = 2, wexp = 8, wobs = 8;
    char buf[160];
    for (size_t i = 0; i < r->nobs; i++) {
        const report_observation *o = &r->obs[i];
        const report_variant *v = &r->variants[o->variant];
        wid = max_int(wid, width_of(v->id));
        wexp = max_int(wexp, width_of(report_verdicts_str(v->expect[o->mode], buf, sizeof buf)));
        wobs = max_int(wobs, width_of(harness_verdict_name(o->observed)));
    }
    fprintf(out, "%s%-8s  %-*s  %-10s  %-*s  %-*s  %s%s\n", report__sgr(flags, REPORT_SGR_BOLD),
            "STATUS", wid, "ID", "MODE", wexp, "EXPECTED", wobs, "OBSERVED", "EVIDENCE",
            report__sgr(flags, REPORT_SGR_RESET));
    for (size_t i = 0; i < r->nobs; i++) {
        const report_observation *o = &r->obs[i];
        const report_variant *v = &r->variants[o->variant];
        bool ok = report_matches(r, o);
        fprintf(out, "%s%-8s%s  %-*s  %-10s  %-*s  %-*s  %s\n",
                report__sgr(flags, ok ? REPORT_SGR_GREEN : REPORT_SGR_BOLD_RED), status_of(r, o),
                report__sgr(flags, REPORT_SGR_RESET), wid, v->id, report_mode_name(o->mode), wexp,
                report_verdicts_str(v->expect[o->mode], buf, sizeof buf), wobs,
                o->carried_out ? harness_verdict_name(o->observed) : "-", o->message);
    }
    put_replays(r, out);
    report_totals t = report_summarize(r);
    for (size_t i = 0; i < r->nobs; i++)
        if (!report_matches(r, &r->obs[i])) {
            fprintf(out, "\n%s==== not as expected ====%s\n", report__sgr(flags, REPORT_SGR_BOLD_RED),
                    report__sgr(flags, REPORT_SGR_RESET));
            report_write_observation(r, i, out, flags);
        }
    fprintf(out, "\n%zu observation%s: %zu as expected, %zu not as expected, %zu refused; "
            "%zu found a bug (a verdict other than PASS)%s\n", t.observations,
            t.observations == 1 ? "" : "s", t.as_expected, t.not_expected, t.refused, t.bugs_found,
            harness_detects_races() ? " [ThreadSanitizer build]" : "");
    return ferror(out) ? -1 : 0;
}

/* ----------------------------------------------------------- Observation */

int report_write_observation(const report *r, size_t i, FILE *out, unsigned flags)
{
    const report_observation *o = report_observation_at(r, i);
    if (!o)
        return -1;
    const report_variant *v = &r->variants[o->variant];
    char want[160];
    report_verdicts_str(v->expect[o->mode], want, sizeof want);
    bool ok = report_matches(r, o);
    fprintf(out, "%s%s%s  %s mode", report__sgr(flags, REPORT_SGR_BOLD), v->id,
            report__sgr(flags, REPORT_SGR_RESET), report_mode_name(o->mode));
    if (o->strategy)
        fprintf(out, ", %s", o->strategy);
    fprintf(out, "\n");
    if (!o->carried_out) {
        fprintf(out, "not run:   %s\n", o->message);
        return ferror(out) ? -1 : 0;
    }
    fprintf(out, "verdict:   %s%s%s  (expected %s: %s)\n",
            report__sgr(flags, ok ? REPORT_SGR_GREEN : REPORT_SGR_BOLD_RED),
            harness_verdict_name(o->observed), report__sgr(flags, REPORT_SGR_RESET),
            v->expect[o->mode] ? want : "nothing, this mode is not declared",
            ok ? "as expected" : "NOT as expected");
    unsigned others = o->seen & ~(1u << o->observed) & ~1u;
    if (others) {
        char seen[160];
        fprintf(out, "also seen: %s\n", report_verdicts_str(others, seen, sizeof seen));
    }
    fprintf(out, "message:   %s\n", o->message);
    if (o->observed == HARNESS_NONDETERMINISTIC)
        fprintf(out, "note:      NONDETERMINISTIC compares the output of several runs; a replay is one\n"
                     "           run, so it passes, printing exactly the output shown here\n");
    fprintf(out, "runs:      %u %s%s", o->schedules_run,
            o->mode == REPORT_CONTROLLED ? "schedule" : "run", o->schedules_run == 1 ? "" : "s");
    if (o->exhausted)
        fprintf(out, " (the bounded space is exhausted)");
    if (o->mode == REPORT_CONTROLLED)
        fprintf(out, "; the one reported: %llu steps, virtual time %.3f s",
                (unsigned long long)o->steps, (double)o->virtual_ns / 1e9);
    fprintf(out, "; %.2f s in all\n", o->seconds);
    if (o->schedule)
        fprintf(out, "schedule:  %s\n", o->schedule);
    if (o->replay)
        fprintf(out, "replay:    %s\n", o->replay);
    else if (o->rerun)
        fprintf(out, "rerun:     %s   (free mode: runs it again, not the same run)\n", o->rerun);
    if (o->output && *o->output) {
        fprintf(out, "output:\n");
        put_indented(out, o->output, 4);
    }
    if (o->dump && *o->dump) {
        fprintf(out, "\n");
        put_indented(out, o->dump, 0);
    }
    return ferror(out) ? -1 : 0;
}

/* --------------------------------------------------------------- Explain */

int report_write_explain(const report *r, size_t vi, FILE *out, unsigned flags)
{
    const report_variant *v = report_variant_at(r, vi);
    if (!v)
        return -1;
    const char *bold = report__sgr(flags, REPORT_SGR_BOLD), *reset = report__sgr(flags, REPORT_SGR_RESET);
    fprintf(out, "%s%s%s — GOPL §%s%s%s\n", bold, v->id, reset, v->section,
            *v->book_func ? ", " : "", v->book_func);
    fprintf(out, "registered at %s:%d; entry function %s\n\n", v->file, v->line, v->entry_name);
    fprintf(out, "%sLesson%s\n", bold, reset);
    put_wrapped(out, v->lesson, 4, 80);
    fprintf(out, "\n%sExpected verdicts%s%s\n", bold, reset,
            harness_detects_races() ? " (in this ThreadSanitizer build)" : "");
    for (int m = 0; m < 2; m++) {
        char buf[160];
        fprintf(out, "    %-11s %s\n", report_mode_name(m),
                v->modes & (1u << m) ? report_verdicts_str(v->expect[m], buf, sizeof buf)
                                     : "(not run in this mode)");
    }
    if (v->bound) {
        fprintf(out, "\n%sBound%s\n", bold, reset);
        put_wrapped(out, v->bound, 4, 80);
    }
    if (v->fixed_by) {
        fprintf(out, "\n%sFixed by%s\n    %s\n", bold, reset, v->fixed_by);
        size_t fi = report_find_variant(r, v->fixed_by);
        fprintf(out, "\n%sBug against fix%s (\"-\" only in the bug, \"+\" only in the fix, "
                "\"!\" a line marked BUG(...))\n", bold, reset);
        int marks = fi == (size_t)-1 ? -1 : report__write_bug_and_fix(out, v, &r->variants[fi], flags);
        /* Nothing marked where they part: the entries themselves, diffed. */
        if (marks <= 0 && (fi == (size_t)-1 || !report__write_function_diff(out, v, &r->variants[fi], flags)))
            fprintf(out, "    (the source of %s or of %s is not embedded in this build)\n",
                    v->entry_name, fi == (size_t)-1 ? v->fixed_by : r->variants[fi].entry_name);
    } else {
        bool any = false;
        for (size_t i = 0; i < r->nvariants; i++)
            if (r->variants[i].fixed_by && strcmp(r->variants[i].fixed_by, v->id) == 0) {
                if (!any)
                    fprintf(out, "\n%sFixes%s\n    ", bold, reset);
                else
                    fprintf(out, ", ");
                fprintf(out, "%s", r->variants[i].id);
                any = true;
            }
        if (any)
            fprintf(out, "\n    (chanlab explain ID shows each against this one)\n");
        fprintf(out, "\n%sThe program%s (a correct variant)\n", bold, reset);
        if (!report__write_function(out, v, flags))
            fprintf(out, "    (the source of %s is not embedded in this build)\n", v->entry_name);
    }
    return ferror(out) ? -1 : 0;
}
