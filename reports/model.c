/* model.c — the report itself: its variants and observations (copied in),
 * totals, and the small text helpers every writer shares. */
#include "rinternal.h"

#include <stdlib.h>
#include <string.h>

static char *dup_or_null(const char *s) { return s ? strdup(s) : NULL; }

const char *report_mode_name(int mode) { return mode == REPORT_CONTROLLED ? "controlled" : "free"; }

report *report_new(const char *kind, const char *title)
{
    report *r = calloc(1, sizeof *r);
    if (!r)
        return NULL;
    r->kind = strdup(kind ? kind : "report");
    r->title = strdup(title ? title : "");
    if (!r->kind || !r->title) {
        report_free(r);
        return NULL;
    }
    return r;
}

static void free_variant(report_variant *v)
{
    free((char *)v->id);
    free((char *)v->section);
    free((char *)v->book_func);
    free((char *)v->fixed_by);
    free((char *)v->lesson);
    free((char *)v->bound);
    free((char *)v->file);
    free((char *)v->entry_name);
}

static void free_observation(report_observation *o)
{
    free((char *)o->strategy);
    free((char *)o->message);
    free((char *)o->dump);
    free((char *)o->schedule);
    free((char *)o->output);
    free((char *)o->replay);
    free((char *)o->rerun);
    free((char *)o->proof.workload);
    for (size_t i = 0; i < o->nevents; i++) {
        free(o->events[i].wait);
        free(o->events[i].object);
    }
    free((void *)o->events);
}

void report_free(report *r)
{
    if (!r)
        return;
    for (size_t i = 0; i < r->nvariants; i++)
        free_variant(&r->variants[i]);
    for (size_t i = 0; i < r->nobs; i++)
        free_observation(&r->obs[i]);
    free(r->variants);
    free(r->obs);
    free(r->kind);
    free(r->title);
    free(r);
}

static bool grow(void **a, size_t *cap, size_t n, size_t elem)
{
    if (n < *cap)
        return true;
    size_t c = *cap ? 2 * *cap : 16;
    void *p = realloc(*a, c * elem);
    if (!p)
        return false;
    *a = p;
    *cap = c;
    return true;
}

size_t report_add_variant(report *r, const report_variant *v)
{
    if (!r || !v || !v->id || !grow((void **)&r->variants, &r->capvariants, r->nvariants, sizeof *v))
        return (size_t)-1;
    report_variant c = *v;
    c.id = dup_or_null(v->id);
    c.section = dup_or_null(v->section ? v->section : "");
    c.book_func = dup_or_null(v->book_func ? v->book_func : "");
    c.fixed_by = dup_or_null(v->fixed_by);
    c.lesson = dup_or_null(v->lesson ? v->lesson : "");
    c.bound = dup_or_null(v->bound);
    c.file = dup_or_null(v->file ? v->file : "");
    c.entry_name = dup_or_null(v->entry_name ? v->entry_name : "");
    if (!c.id || !c.section || !c.book_func || !c.lesson || !c.file || !c.entry_name) {
        free_variant(&c);
        return (size_t)-1;
    }
    r->variants[r->nvariants] = c;
    return r->nvariants++;
}

void report_observation_from_result(report_observation *o, const harness_result *res, int ran)
{
    o->carried_out = ran == 0;
    o->observed = res->verdict;
    o->seen = res->seen;
    o->message = res->message;
    o->dump = res->dump;
    o->schedule = res->schedule;
    o->output = res->output;
    o->schedules_run = res->schedules_run;
    o->exhausted = res->exhausted;
    o->steps = res->steps;
    o->virtual_ns = res->virtual_time;
    o->events = res->events;
    o->nevents = res->nevents;
    o->events_dropped = res->events_dropped;
}

static harness_event *copy_events(const harness_event *ev, size_t n)
{
    if (!n)
        return NULL;
    harness_event *c = calloc(n, sizeof *c);
    if (!c)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        c[i] = ev[i];
        c[i].wait = dup_or_null(ev[i].wait);
        c[i].object = dup_or_null(ev[i].object);
    }
    return c;
}

size_t report_add_observation(report *r, const report_observation *o)
{
    if (!r || !o || o->variant >= r->nvariants ||
        !grow((void **)&r->obs, &r->capobs, r->nobs, sizeof *o))
        return (size_t)-1;
    report_observation c = *o;
    c.strategy = dup_or_null(o->strategy);
    c.message = dup_or_null(o->message ? o->message : "");
    c.dump = dup_or_null(o->dump);
    c.schedule = dup_or_null(o->schedule);
    c.output = dup_or_null(o->output);
    c.replay = dup_or_null(o->replay);
    c.rerun = dup_or_null(o->rerun);
    c.proof.workload = dup_or_null(o->proof.workload);
    c.events = copy_events(o->events, o->nevents);
    if (!c.events)
        c.nevents = 0;
    if (!c.message) {
        free_observation(&c);
        return (size_t)-1;
    }
    r->obs[r->nobs] = c;
    return r->nobs++;
}

const char *report_proof_str(const report_proof *p, char *buf, size_t size)
{
    int n = 0;
    switch (p->kind) {
    case REPORT_PROOF_ALL:
        n = snprintf(buf, size, "all %u interleaving%s", p->schedules, p->schedules == 1 ? "" : "s");
        break;
    case REPORT_PROOF_BOUNDED:
        n = snprintf(buf, size, "all %u interleaving%s within %u preemption%s", p->schedules,
                     p->schedules == 1 ? "" : "s", p->preemption_bound, p->preemption_bound == 1 ? "" : "s");
        break;
    case REPORT_PROOF_BUDGET:
        n = snprintf(buf, size, "%u schedules, not exhausted (%s)", p->schedules,
                     p->wall ? "wall bound" : "budget");
        break;
    default:
        if (size)
            buf[0] = 0;
        return buf;
    }
    if (p->workload && n >= 0 && (size_t)n < size)
        snprintf(buf + n, size - (size_t)n, " (workload: %s)", p->workload);
    return buf;
}

size_t report_variant_count(const report *r) { return r ? r->nvariants : 0; }

const report_variant *report_variant_at(const report *r, size_t i)
{
    return r && i < r->nvariants ? &r->variants[i] : NULL;
}

size_t report_find_variant(const report *r, const char *id)
{
    for (size_t i = 0; r && id && i < r->nvariants; i++)
        if (strcmp(r->variants[i].id, id) == 0)
            return i;
    return (size_t)-1;
}

size_t report_observation_count(const report *r) { return r ? r->nobs : 0; }

const report_observation *report_observation_at(const report *r, size_t i)
{
    return r && i < r->nobs ? &r->obs[i] : NULL;
}

bool report_matches(const report *r, const report_observation *o)
{
    if (!o->carried_out || o->variant >= r->nvariants)
        return false;
    unsigned want = r->variants[o->variant].expect[o->mode == REPORT_CONTROLLED];
    return (want & (1u << o->observed)) != 0;
}

report_totals report_summarize(const report *r)
{
    report_totals t = {0};
    for (size_t i = 0; r && i < r->nobs; i++) {
        const report_observation *o = &r->obs[i];
        t.observations++;
        if (!o->carried_out)
            t.refused++;
        else if (report_matches(r, o))
            t.as_expected++;
        else
            t.not_expected++;
        if (o->carried_out && o->observed != HARNESS_PASS)
            t.bugs_found++;
    }
    return t;
}

const char *report_verdicts_str(unsigned mask, char *buf, size_t size)
{
    size_t n = 0;
    if (size)
        buf[0] = 0;
    for (int v = 0; v < HARNESS_VERDICT_COUNT; v++)
        if (mask & (1u << v)) {
            int k = snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? "|" : "",
                             harness_verdict_name((harness_verdict)v));
            if (k > 0)
                n += (size_t)k;
        }
    if (!mask && size > 1)
        snprintf(buf, size, "-");
    return buf;
}

const char *report__family(const char *id, char *buf, size_t size)
{
    size_t n = strcspn(id, ".");
    snprintf(buf, size, "%.*s", (int)n, id);
    return buf;
}

const char *report__sgr(unsigned flags, const char *code)
{
    static char buf[8][16];
    static unsigned next;
    if (!(flags & REPORT_COLOR))
        return "";
    char *b = buf[next++ % 8];
    snprintf(b, sizeof buf[0], "\033[%sm", code);
    return b;
}

/* ------------------------------------------------------------- Escaping */

/* Length of the valid UTF-8 sequence at s (1-4), or 0 if it is not one. */
static int utf8_len(const unsigned char *s)
{
    if (s[0] < 0x80)
        return 1;
    int n = s[0] >= 0xf0 && s[0] <= 0xf4 ? 4 : s[0] >= 0xe0 ? 3 : s[0] >= 0xc2 && s[0] < 0xe0 ? 2 : 0;
    for (int i = 1; i < n; i++)
        if ((s[i] & 0xc0) != 0x80)
            return 0;
    if (n == 3 && ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] >= 0xa0)))
        return 0;   /* overlong, or a surrogate */
    if (n == 4 && ((s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] >= 0x90)))
        return 0;   /* overlong, or beyond U+10FFFF */
    return n;
}

void report_json_string(FILE *out, const char *s) { report__json_string(out, s); }

void report__json_string(FILE *out, const char *s)
{
    if (!s) {
        fputs("null", out);
        return;
    }
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; *p;) {
        unsigned char c = *p;
        if (c == '"' || c == '\\') {
            fputc('\\', out);
            fputc(c, out);
        } else if (c == '\n') {
            fputs("\\n", out);
        } else if (c == '\t') {
            fputs("\\t", out);
        } else if (c == '\r') {
            fputs("\\r", out);
        } else if (c < 0x20 || c == 0x7f) {
            fprintf(out, "\\u%04x", c);
        } else if (c >= 0x80) {
            int n = utf8_len(p);
            if (!n) {
                fputs("\\ufffd", out);
                p++;
                continue;
            }
            fwrite(p, 1, (size_t)n, out);
            p += n;
            continue;
        } else {
            fputc(c, out);
        }
        p++;
    }
    fputc('"', out);
}

void report__xml_text(FILE *out, const char *s)
{
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p;) {
        unsigned char c = *p;
        switch (c) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        case '\n': case '\t': case '\r': fputc(c, out); break;
        default:
            if (c < 0x20 || c == 0x7f) {
                fputs("\xef\xbf\xbd", out);
            } else if (c >= 0x80) {
                int n = utf8_len(p);
                if (!n) {
                    fputs("\xef\xbf\xbd", out);
                    p++;
                    continue;
                }
                fwrite(p, 1, (size_t)n, out);
                p += n;
                continue;
            } else {
                fputc(c, out);
            }
        }
        p++;
    }
}
