/* record.c — growable text, the wire escaping, and the one serializer and
 * parser of harness_record (record.h). The key table below is the whole
 * wire format: every field of a record has one key, written by
 * harness__record_write and read by harness__record_parse, nothing else. */
#include "quiet.h"
#include "record.h"

#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------------ Buffers */

HARNESS_CODE void harness__buf_putn(harness_buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 1024;
        while (cap < b->len + n + 1)
            cap *= 2;
        char *p = realloc(b->buf, cap);
        if (!p)
            return;   /* out of memory: the record is cut short, never corrupt */
        b->buf = p;
        b->cap = cap;
    }
    memcpy(b->buf + b->len, s, n);
    b->len += n;
    b->buf[b->len] = 0;
}

HARNESS_CODE void harness__buf_puts(harness_buf *b, const char *s) { harness__buf_putn(b, s, strlen(s)); }

HARNESS_CODE void harness__buf_printf(harness_buf *b, const char *fmt, ...)
{
    char small[512];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if ((size_t)n < sizeof small) {
        harness__buf_putn(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big)
        return;
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    harness__buf_putn(b, big, (size_t)n);
    free(big);
}

HARNESS_CODE void harness__buf_escaped(harness_buf *b, const char *s)
{
    char chunk[256];
    size_t k = 0;
    for (; s && *s; s++) {
        if (k + 3 > sizeof chunk) {
            harness__buf_putn(b, chunk, k);
            k = 0;
        }
        switch (*s) {
        case '\t': chunk[k++] = '\\'; chunk[k++] = 't'; break;
        case '\n': chunk[k++] = '\\'; chunk[k++] = 'n'; break;
        case '\\': chunk[k++] = '\\'; chunk[k++] = '\\'; break;
        default: chunk[k++] = *s;
        }
    }
    harness__buf_putn(b, chunk, k);
}

HARNESS_CODE int harness__split_fields(char *line, char **fields, int max)
{
    int n = 0;
    char *start = line;
    for (char *p = line;; p++) {
        if (*p == '\t' || *p == 0) {
            bool last = *p == 0;
            *p = 0;
            if (n < max) {
                char *w = start;   /* unescape in place */
                for (char *r = start; *r; r++) {
                    if (*r == '\\' && r[1]) {
                        r++;
                        *w++ = *r == 't' ? '\t' : *r == 'n' ? '\n' : *r;
                    } else {
                        *w++ = *r;
                    }
                }
                *w = 0;
                fields[n++] = start;
            }
            if (last)
                break;
            start = p + 1;
        }
    }
    return n;
}

HARNESS_CODE void harness__write_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t k = write(fd, p, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return;
        p += k;
        n -= (size_t)k;
    }
}

HARNESS_CODE void harness__pc_token(harness_buf *b, uintptr_t pc)
{
    harness__buf_printf(b, HARNESS_PC_TOKEN_OPEN "%lx%c", (unsigned long)pc, HARNESS_PC_TOKEN_CLOSE);
}

/* ---------------------------------------------------------------- The keys */

typedef enum { K_UINT, K_LONG, K_INT, K_U64, K_I64, K_BOOL, K_TEXT } key_kind;

/* Every scalar and text field of a record, by its key. Structured lines
 * (verdict, seen, task, end) are handled beside the table. */
static const struct key {
    const char *name;
    key_kind kind;
    size_t off;
} keys[] = {
    { "head",             K_TEXT, offsetof(harness_record, head) },
    { "more_tasks",       K_U64,  offsetof(harness_record, more_tasks) },
    { "leaked_tasks",     K_UINT, offsetof(harness_record, leaked_tasks) },
    { "leaked_tickers",   K_UINT, offsetof(harness_record, leaked_tickers) },
    { "leaked_threads",   K_UINT, offsetof(harness_record, leaked_threads) },
    { "leaked_fds",       K_UINT, offsetof(harness_record, leaked_fds) },
    { "races",            K_UINT, offsetof(harness_record, races) },
    { "live_chans",       K_LONG, offsetof(harness_record, live_chans) },
    { "signal",           K_INT,  offsetof(harness_record, signal) },
    { "output",           K_TEXT, offsetof(harness_record, output) },
    { "schedule",         K_TEXT, offsetof(harness_record, schedule) },
    { "decisions",        K_TEXT, offsetof(harness_record, decisions) },
    { "error",            K_TEXT, offsetof(harness_record, error) },
    { "schedules_run",    K_UINT, offsetof(harness_record, schedules_run) },
    { "schedules_pruned", K_UINT, offsetof(harness_record, schedules_pruned) },
    { "schedules_redone", K_UINT, offsetof(harness_record, schedules_redone) },
    { "exhausted",        K_BOOL, offsetof(harness_record, exhausted) },
    { "wall",             K_BOOL, offsetof(harness_record, wall) },
    { "steps",            K_U64,  offsetof(harness_record, steps) },
    { "virtual_time",     K_I64,  offsetof(harness_record, virtual_time) },
    { "message_from_log", K_BOOL, offsetof(harness_record, message_from_log) },
    { "events_dropped",   K_U64,  offsetof(harness_record, events_dropped) },
};
#define NKEYS (sizeof keys / sizeof *keys)

static HARNESS_CODE void write_key(harness_buf *b, const harness_record *r, const struct key *k)
{
    const char *p = (const char *)r + k->off;
    switch (k->kind) {
    case K_UINT: if (*(const unsigned *)p) harness__buf_printf(b, "%s\t%u\n", k->name, *(const unsigned *)p); break;
    case K_LONG: if (*(const long *)p) harness__buf_printf(b, "%s\t%ld\n", k->name, *(const long *)p); break;
    case K_INT: if (*(const int *)p) harness__buf_printf(b, "%s\t%d\n", k->name, *(const int *)p); break;
    case K_U64: if (*(const uint64_t *)p) harness__buf_printf(b, "%s\t%llu\n", k->name, (unsigned long long)*(const uint64_t *)p); break;
    case K_I64: if (*(const int64_t *)p) harness__buf_printf(b, "%s\t%lld\n", k->name, (long long)*(const int64_t *)p); break;
    case K_BOOL: if (*(const bool *)p) harness__buf_printf(b, "%s\t1\n", k->name); break;
    case K_TEXT:
        if (*(char *const *)p) {
            harness__buf_printf(b, "%s\t", k->name);
            harness__buf_escaped(b, *(char *const *)p);
            harness__buf_puts(b, "\n");
        }
        break;
    }
}

static HARNESS_CODE void read_key(harness_record *r, const struct key *k, const char *v)
{
    char *p = (char *)r + k->off;
    switch (k->kind) {
    case K_UINT: *(unsigned *)p = (unsigned)strtoul(v, NULL, 10); break;
    case K_LONG: *(long *)p = strtol(v, NULL, 10); break;
    case K_INT: *(int *)p = (int)strtol(v, NULL, 10); break;
    case K_U64: *(uint64_t *)p = strtoull(v, NULL, 10); break;
    case K_I64: *(int64_t *)p = strtoll(v, NULL, 10); break;
    case K_BOOL: *(bool *)p = v[0] == '1'; break;
    case K_TEXT: free(*(char **)p); *(char **)p = strdup(v); break;
    }
}

/* ---------------------------------------------------------------- Tasks */

HARNESS_CODE harness_record_task *harness__record_add_task(harness_record *r, const csp_debug_task *t)
{
    if ((r->ntasks & (r->ntasks - 1)) == 0) {   /* 0, 1, 2, 4, ...: grow */
        size_t cap = r->ntasks ? 2 * r->ntasks : 1;
        harness_record_task *p = realloc(r->tasks, cap * sizeof *p);
        if (!p)
            return NULL;
        r->tasks = p;
    }
    harness_record_task *rt = &r->tasks[r->ntasks++];
    memset(rt, 0, sizeof *rt);
    rt->t = *t;
    rt->t.name = t->name ? strdup(t->name) : strdup("task");
    return rt;
}

/* task ID NAME STATE WAIT AGE_NS FOREVER IGNORED ADOPTED CREATED_PC PC,PC,... */
static HARNESS_CODE void write_task(harness_buf *b, const harness_record_task *rt)
{
    const csp_debug_task *t = &rt->t;
    harness__buf_printf(b, "task\t%llu\t", (unsigned long long)t->id);
    harness__buf_escaped(b, t->name);
    harness__buf_printf(b, "\t%d\t", (int)t->state);
    harness__buf_escaped(b, t->wait);
    harness__buf_printf(b, "\t%lld\t%d\t%d\t%d\t%lx\t", (long long)t->since, t->forever, rt->ignored,
                        t->adopted, (unsigned long)t->created_pc);
    for (int k = 0; k < t->npcs; k++)
        harness__buf_printf(b, "%s%lx", k ? "," : "", (unsigned long)t->pcs[k]);
    harness__buf_puts(b, "\n");
}

static HARNESS_CODE void read_task(harness_record *r, char **f, int n)
{
    if (n < 11)
        return;
    csp_debug_task t;
    memset(&t, 0, sizeof t);
    t.id = strtoull(f[1], NULL, 10);
    t.name = f[2];
    t.state = (csp_debug_state)atoi(f[3]);
    snprintf(t.wait, sizeof t.wait, "%s", f[4]);
    t.since = strtoll(f[5], NULL, 10);
    t.forever = atoi(f[6]) != 0;
    t.adopted = atoi(f[8]) != 0;
    t.created_pc = (uintptr_t)strtoull(f[9], NULL, 16);
    for (char *p = f[10]; *p && t.npcs < CSP_DEBUG_MAX_PCS;) {
        char *end;
        unsigned long long pc = strtoull(p, &end, 16);
        if (end == p)
            break;
        t.pcs[t.npcs++] = (uintptr_t)pc;
        p = *end == ',' ? end + 1 : end;
    }
    harness_record_task *rt = harness__record_add_task(r, &t);
    if (rt)
        rt->ignored = atoi(f[7]) != 0;
}

/* --------------------------------------------------------------- Events */

static HARNESS_CODE char *dup_text(const char *s) { return s && *s ? strdup(s) : NULL; }

HARNESS_CODE void harness__record_add_event(harness_record *r, const harness_event *e)
{
    if ((r->nevents & (r->nevents - 1)) == 0) {   /* 0, 1, 2, 4, ...: grow */
        size_t cap = r->nevents ? 2 * r->nevents : 1;
        harness_event *p = realloc(r->events, cap * sizeof *p);
        if (!p)
            return;
        r->events = p;
    }
    harness_event *d = &r->events[r->nevents++];
    *d = *e;
    d->wait = dup_text(e->wait);
    d->object = dup_text(e->object);
}

HARNESS_CODE void harness__record_take_events(harness_record *r, size_t capacity)
{
    csp_debug_event *buf = capacity ? malloc(capacity * sizeof *buf) : NULL;
    if (!buf)
        return;
    uint64_t dropped = 0;
    size_t n = csp_debug_events_read(buf, capacity, &dropped);
    harness__events_free(r->events, r->nevents);
    r->events = NULL;
    r->nevents = 0;
    r->events_dropped = dropped;
    for (size_t i = 0; i < n; i++) {
        harness_event e = { buf[i].at, (int)buf[i].kind, buf[i].task, buf[i].other,
                            (char *)buf[i].wait, (char *)buf[i].object };
        harness__record_add_event(r, &e);
    }
    free(buf);
}

HARNESS_CODE void harness__events_free(harness_event *ev, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        free(ev[i].wait);
        free(ev[i].object);
    }
    free(ev);
}

/* ev AT KIND TASK OTHER WAIT OBJECT (an empty text is none) */
static HARNESS_CODE void write_event(harness_buf *b, const harness_event *e)
{
    harness__buf_printf(b, "ev\t%lld\t%d\t%llu\t%llu\t", (long long)e->at, e->kind,
                        (unsigned long long)e->task, (unsigned long long)e->other);
    harness__buf_escaped(b, e->wait ? e->wait : "");
    harness__buf_puts(b, "\t");
    harness__buf_escaped(b, e->object ? e->object : "");
    harness__buf_puts(b, "\n");
}

static HARNESS_CODE void read_event(harness_record *r, char **f, int n)
{
    if (n < 7)
        return;
    harness_event e = { strtoll(f[1], NULL, 10), atoi(f[2]), strtoull(f[3], NULL, 10),
                        strtoull(f[4], NULL, 10), f[5], f[6] };
    harness__record_add_event(r, &e);
}

/* ------------------------------------------------------------ The record */

HARNESS_CODE void harness__record_write(harness_buf *b, const harness_record *r)
{
    const harness_judgement *j = &r->judged;
    if (j->seen) {
        harness__buf_printf(b, "verdict\t%s\t", harness_verdict_name(j->verdict));
        harness__buf_escaped(b, j->message ? j->message : "");
        harness__buf_puts(b, "\n");
        for (int v = 0; v < HARNESS_VERDICT_COUNT; v++)
            if ((j->seen & (1u << v)) && (harness_verdict)v != j->verdict)
                harness__buf_printf(b, "seen\t%s\n", harness_verdict_name((harness_verdict)v));
    }
    for (size_t i = 0; i < NKEYS; i++)
        write_key(b, r, &keys[i]);
    for (size_t i = 0; i < r->ntasks; i++)
        write_task(b, &r->tasks[i]);
    for (size_t i = 0; i < r->nevents; i++)
        write_event(b, &r->events[i]);
    harness__buf_puts(b, "end\n");
}

HARNESS_CODE void harness__record_send(int fd, const harness_record *r)
{
    harness_buf b = {0};
    harness__record_write(&b, r);
    if (b.buf)
        harness__write_all(fd, b.buf, b.len);
    free(b.buf);
}

HARNESS_CODE void harness__record_parse(char *text, harness_record *r)
{
    memset(r, 0, sizeof *r);
    char *save = NULL;
    for (char *line = strtok_r(text, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[12];
        int n = harness__split_fields(line, f, 12);
        if (n < 1)
            continue;
        if (!strcmp(f[0], "verdict") && n >= 3) {
            int v = harness_verdict_parse(f[1]);
            if (v >= 0)
                harness__judge(&r->judged, (harness_verdict)v, f[2]);
        } else if (!strcmp(f[0], "seen") && n >= 2) {
            int v = harness_verdict_parse(f[1]);
            if (v >= 0 && r->judged.seen)
                r->judged.seen |= 1u << v;
        } else if (!strcmp(f[0], "task")) {
            read_task(r, f, n);
        } else if (!strcmp(f[0], "ev")) {
            read_event(r, f, n);
        } else if (!strcmp(f[0], "end")) {
            r->complete = true;
        } else if (n >= 2) {
            for (size_t i = 0; i < NKEYS; i++)
                if (!strcmp(f[0], keys[i].name)) {
                    read_key(r, &keys[i], f[1]);
                    break;
                }
        }
    }
}

HARNESS_CODE void harness__record_free(harness_record *r)
{
    harness__judgement_free(&r->judged);
    for (size_t i = 0; i < NKEYS; i++)
        if (keys[i].kind == K_TEXT)
            free(*(char **)((char *)r + keys[i].off));
    for (size_t i = 0; i < r->ntasks; i++)
        free((char *)r->tasks[i].t.name);
    free(r->tasks);
    harness__events_free(r->events, r->nevents);
    memset(r, 0, sizeof *r);
}
