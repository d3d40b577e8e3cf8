/* source.c — the catalog's source text, embedded at build time
 * (embed_sources.cmake), and what `explain` makes of it: a variant's entry
 * function found by name, and bug against fix compared line by line (a
 * longest-common-subsequence diff; entry functions are a screen long, so the
 * quadratic table is small). */
#include "rinternal.h"

#include <stdlib.h>
#include <string.h>

const char *report_source_text(const char *file)
{
    for (const report_embedded_source *s = report__embedded_sources; file && s->path; s++)
        if (strcmp(s->path, file) == 0)
            return s->text;
    return NULL;
}

/* ----------------------------------------------------------------- Lines */

typedef struct {
    const char **start;        /* each line's first character */
    size_t *len;               /* without the newline */
    size_t n;
} lines;

static void lines_free(lines *l)
{
    free(l->start);
    free(l->len);
    memset(l, 0, sizeof *l);
}

static bool split_lines(const char *text, lines *l)
{
    memset(l, 0, sizeof *l);
    size_t cap = 1;
    for (const char *p = text; *p; p++)
        cap += *p == '\n';
    l->start = malloc(cap * sizeof *l->start);
    l->len = malloc(cap * sizeof *l->len);
    if (!l->start || !l->len) {
        lines_free(l);
        return false;
    }
    for (const char *p = text; *p;) {
        const char *e = strchr(p, '\n');
        size_t n = e ? (size_t)(e - p) : strlen(p);
        l->start[l->n] = p;
        l->len[l->n++] = n;
        p += n + (e != NULL);
    }
    return true;
}

static bool starts_definition(const char *line, size_t len, const char *name)
{
    /* A definition starts at column 0 (the house style), names the function
     * followed by '(', and is not a prototype (no ';' on that line). */
    if (!len || line[0] == ' ' || line[0] == '\t' || line[0] == '#' || line[0] == '/' ||
        line[0] == '*' || line[0] == '}')
        return false;
    size_t k = strlen(name);
    for (size_t i = 0; i + k < len; i++) {
        if (memcmp(line + i, name, k) != 0 || line[i + k] != '(')
            continue;
        if (i > 0 && line[i - 1] != ' ' && line[i - 1] != '*')
            continue;
        /* A prototype ends in ';' with no body; a one-line function has both. */
        return memchr(line, ';', len) == NULL || memchr(line, '{', len) != NULL;
    }
    return false;
}

/* Line s[0..n) as code: comments, strings and character literals become
 * spaces, so braces and identifiers are only counted where they are code.
 * *comment carries a block comment across lines. out holds n bytes. */
static void code_of_line(const char *s, size_t n, bool *comment, char *out)
{
    char quote = 0;
    bool line_comment = false;
    for (size_t j = 0; j < n; j++) {
        char c = s[j], next = j + 1 < n ? s[j + 1] : 0;
        out[j] = ' ';
        if (line_comment) {
            continue;
        } else if (*comment) {
            if (c == '*' && next == '/')
                *comment = false, out[++j] = ' ';
        } else if (quote) {
            if (c == '\\' && j + 1 < n)
                out[++j] = ' ';
            else if (c == quote)
                quote = 0;
        } else if (c == '/' && next == '*') {
            *comment = true, out[++j] = ' ';
        } else if (c == '/' && next == '/') {
            line_comment = true;
        } else if (c == '"' || c == '\'') {
            quote = c;
        } else {
            out[j] = c;
        }
    }
}

/* Where the body that opens at or after line `from` closes: braces counted
 * in code only (code_of_line). */
static bool closing_line(const lines *l, size_t from, size_t *last)
{
    int depth = 0;
    bool opened = false, comment = false;
    for (size_t i = from; i < l->n; i++) {
        char code[l->len[i] + 1];
        code_of_line(l->start[i], l->len[i], &comment, code);
        for (size_t j = 0; j < l->len[i]; j++) {
            if (code[j] == '{') {
                depth++, opened = true;
            } else if (code[j] == '}' && --depth == 0 && opened) {
                *last = i;
                return true;
            }
        }
    }
    return false;
}

bool report_source_function(const char *text, const char *name, int *first, int *count)
{
    lines l;
    if (!text || !name || !*name || !split_lines(text, &l))
        return false;
    bool found = false;
    for (size_t i = 0; i < l.n && !found; i++) {
        size_t last;
        if (starts_definition(l.start[i], l.len[i], name) && closing_line(&l, i, &last)) {
            *first = (int)i + 1;
            *count = (int)(last - i + 1);
            found = true;
        }
    }
    lines_free(&l);
    return found;
}

/* --------------------------------------------------------------- Writing */

static bool has_bug_mark(const char *s, size_t n)
{
    for (size_t i = 0; i + 4 <= n; i++)
        if (memcmp(s + i, "BUG(", 4) == 0)
            return true;
    return false;
}

/* One line: "MARK NUMBER | text", the whole line highlighted when it carries
 * a BUG(...) mark; removed lines red, added ones green. */
static void put_line(FILE *out, char mark, int number, const char *s, size_t n, unsigned flags)
{
    bool bug = has_bug_mark(s, n);
    const char *on = bug ? report__sgr(flags, REPORT_SGR_BOLD_RED)
                   : mark == '-' ? report__sgr(flags, REPORT_SGR_RED)
                   : mark == '+' ? report__sgr(flags, REPORT_SGR_GREEN) : "";
    const char *off = *on ? report__sgr(flags, REPORT_SGR_RESET) : "";
    fprintf(out, "%s%c%c%5d | %.*s%s\n", on, bug ? '!' : ' ', mark, number, (int)n, s, off);
}

/* The variant's entry function as lines of its file; false if not found. */
static bool function_lines(const report_variant *v, lines *all, size_t *first, size_t *count)
{
    const char *text = report_source_text(v->file);
    int f, c;
    if (!text || !report_source_function(text, v->entry_name, &f, &c) || !split_lines(text, all))
        return false;
    *first = (size_t)f - 1;
    *count = (size_t)c;
    return true;
}

bool report__write_function(FILE *out, const report_variant *v, unsigned flags)
{
    lines l;
    size_t first, count;
    if (!function_lines(v, &l, &first, &count))
        return false;
    fprintf(out, "    %s, %s:%zu\n", v->entry_name, v->file, first + 1);
    for (size_t i = first; i < first + count; i++)
        put_line(out, ' ', (int)i + 1, l.start[i], l.len[i], flags);
    lines_free(&l);
    return true;
}

/* Equal but for white space (like diff -w): a line that only moved into or
 * out of a block is not a difference worth showing. */
static bool same_line(const lines *a, size_t i, const lines *b, size_t j)
{
    const char *p = a->start[i], *pe = p + a->len[i], *q = b->start[j], *qe = q + b->len[j];
    for (;;) {
        while (p < pe && (*p == ' ' || *p == '\t'))
            p++;
        while (q < qe && (*q == ' ' || *q == '\t'))
            q++;
        if (p == pe || q == qe)
            return p == pe && q == qe;
        if (*p++ != *q++)
            return false;
    }
}

/* lcs[i * (nb + 1) + j]: the longest common subsequence of lines a[fa+i..]
 * and b[fb+j..] (calloc'd; NULL when out of memory). Functions are a screen
 * long, so the quadratic table is small. */
static unsigned *lcs_table(const lines *a, size_t fa, size_t na, const lines *b, size_t fb, size_t nb)
{
    size_t w = nb + 1;
    unsigned *t = calloc((na + 1) * w, sizeof *t);
    if (!t)
        return NULL;
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            t[i * w + j] = same_line(a, fa + i, b, fb + j)
                ? t[(i + 1) * w + j + 1] + 1
                : (t[(i + 1) * w + j] > t[i * w + j + 1] ? t[(i + 1) * w + j] : t[i * w + j + 1]);
    return t;
}

/* The lines of a[fa, fa+na) against b[fb, fb+nb): ' ' both, '-' only a, '+' only b. */
static void put_unified(FILE *out, const lines *a, size_t fa, size_t na, const lines *b, size_t fb,
                        size_t nb, const unsigned *t, unsigned flags)
{
    size_t w = nb + 1, i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && same_line(a, fa + i, b, fb + j)) {
            put_line(out, ' ', (int)(fa + i) + 1, a->start[fa + i], a->len[fa + i], flags);
            i++, j++;
        } else if (i < na && (j == nb || t[(i + 1) * w + j] >= t[i * w + j + 1])) {
            put_line(out, '-', (int)(fa + i) + 1, a->start[fa + i], a->len[fa + i], flags);
            i++;
        } else {
            put_line(out, '+', (int)(fb + j) + 1, b->start[fb + j], b->len[fb + j], flags);
            j++;
        }
    }
}

bool report__write_function_diff(FILE *out, const report_variant *bug, const report_variant *fix,
                                 unsigned flags)
{
    lines la, lb;
    size_t fa, na, fb, nb;
    if (!function_lines(bug, &la, &fa, &na))
        return false;
    if (!function_lines(fix, &lb, &fb, &nb)) {
        lines_free(&la);
        return false;
    }
    unsigned *lcs = lcs_table(&la, fa, na, &lb, fb, nb);
    if (!lcs) {
        lines_free(&la);
        lines_free(&lb);
        return false;
    }
    fprintf(out, "%s--- %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_RED), bug->id,
            bug->entry_name, bug->file, fa + 1, report__sgr(flags, REPORT_SGR_RESET));
    fprintf(out, "%s+++ %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_GREEN), fix->id,
            fix->entry_name, fix->file, fb + 1, report__sgr(flags, REPORT_SGR_RESET));
    put_unified(out, &la, fa, na, &lb, fb, nb, lcs, flags);
    free(lcs);
    lines_free(&la);
    lines_free(&lb);
    return true;
}

/* ------------------------------------------------ Where bug and fix differ */

/* A function defined in a file: its name and lines [first, last]. */
typedef struct {
    char name[80];
    size_t first, last;
} fdef;

typedef struct {
    fdef *f;
    size_t n;
} fdefs;

/* Every function definition of a file (column 0, "name(" without ';' on the
 * line, the house style starts_definition assumes). */
static void find_definitions(const lines *l, fdefs *out)
{
    out->f = calloc(l->n + 1, sizeof *out->f);
    out->n = 0;
    if (!out->f)
        return;
    for (size_t i = 0; i < l->n; i++) {
        const char *s = l->start[i];
        size_t len = l->len[i];
        if (!len || s[0] == ' ' || s[0] == '\t' || s[0] == '#' || s[0] == '/' || s[0] == '*' ||
            s[0] == '}' || s[0] == '{' || (memchr(s, ';', len) && !memchr(s, '{', len)))
            continue;
        const char *paren = memchr(s, '(', len);
        if (!paren || memchr(s, '=', (size_t)(paren - s)))
            continue;
        const char *e = paren, *b;
        while (e > s && e[-1] == ' ')
            e--;
        for (b = e; b > s && (b[-1] == '_' || (b[-1] >= 'a' && b[-1] <= 'z') ||
                              (b[-1] >= 'A' && b[-1] <= 'Z') || (b[-1] >= '0' && b[-1] <= '9'));)
            b--;
        if (b == e || (size_t)(e - b) >= sizeof out->f->name || (b > s && b[-1] != ' ' && b[-1] != '*'))
            continue;
        size_t last;
        if (!closing_line(l, i, &last))
            continue;
        fdef *d = &out->f[out->n++];
        memcpy(d->name, b, (size_t)(e - b));
        d->name[e - b] = 0;
        d->first = i;
        d->last = last;
    }
}

static int def_index(const fdefs *d, const char *name, size_t n)
{
    for (size_t i = 0; i < d->n; i++)
        if (strlen(d->f[i].name) == n && memcmp(d->f[i].name, name, n) == 0)
            return (int)i;
    return -1;
}

/* The functions of the file reachable from `entry`: every identifier in a
 * body (outside comments and strings) that names a function defined there —
 * called, or passed as to csp_go. reach[i] is set for each. */
static void reachable(const lines *l, const fdefs *d, const char *entry, bool *reach)
{
    int start = def_index(d, entry, strlen(entry));
    if (start < 0)
        return;
    size_t *stack = malloc((d->n + 1) * sizeof *stack), top = 0;
    if (!stack)
        return;
    reach[start] = true;
    stack[top++] = (size_t)start;
    while (top) {
        const fdef *f = &d->f[stack[--top]];
        bool comment = false;
        for (size_t i = f->first; i <= f->last; i++) {
            size_t n = l->len[i];
            char code[n + 1];
            code_of_line(l->start[i], n, &comment, code);
            for (size_t j = 0; j < n; j++) {
                char c = code[j];
                if (c != '_' && !(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z'))
                    continue;
                size_t k = j;
                while (k < n && (code[k] == '_' || (code[k] >= 'a' && code[k] <= 'z') ||
                                 (code[k] >= 'A' && code[k] <= 'Z') || (code[k] >= '0' && code[k] <= '9')))
                    k++;
                int x = def_index(d, code + j, k - j);
                if (x >= 0 && !reach[x]) {
                    reach[x] = true;
                    stack[top++] = (size_t)x;
                }
                j = k - 1;
            }
        }
    }
    free(stack);
}

static bool body_has_bug_mark(const lines *l, const fdef *f)
{
    for (size_t i = f->first; i <= f->last; i++)
        if (has_bug_mark(l->start[i], l->len[i]))
            return true;
    return false;
}

/* Lines the two functions share (white space aside), by LCS. */
static unsigned common_lines(const lines *l, const fdef *a, const fdef *b)
{
    unsigned *t = lcs_table(l, a->first, a->last - a->first + 1, l, b->first, b->last - b->first + 1);
    unsigned r = t ? t[0] : 0;
    free(t);
    return r;
}

/* Does a "BUG(A|B): ..." line name a verdict in mask? */
static bool bug_mark_matches(const char *s, size_t n, unsigned mask)
{
    for (size_t i = 0; i + 4 <= n; i++) {
        if (memcmp(s + i, "BUG(", 4) != 0)
            continue;
        size_t j = i + 4;
        while (j < n && s[j] != ')') {
            size_t k = j;
            while (k < n && s[k] != '|' && s[k] != ')')
                k++;
            char name[32];
            size_t len = k - j < sizeof name - 1 ? k - j : sizeof name - 1;
            memcpy(name, s + j, len);
            name[len] = 0;
            int v = harness_verdict_parse(name);
            if (v >= 0 && (mask & (1u << v)))
                return true;
            j = k < n && s[k] == '|' ? k + 1 : k;
        }
    }
    return false;
}

static void put_diff(FILE *out, const lines *l, const fdef *a, const fdef *b, const char *file,
                     const char *bug_id, const char *fix_id, unsigned flags)
{
    size_t na = a->last - a->first + 1, nb = b->last - b->first + 1;
    unsigned *t = lcs_table(l, a->first, na, l, b->first, nb);
    if (!t)
        return;
    fprintf(out, "%s--- %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_RED), bug_id, a->name, file,
            a->first + 1, report__sgr(flags, REPORT_SGR_RESET));
    fprintf(out, "%s+++ %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_GREEN), fix_id, b->name, file,
            b->first + 1, report__sgr(flags, REPORT_SGR_RESET));
    put_unified(out, l, a->first, na, l, b->first, nb, t, flags);
    free(t);
}

int report__write_bug_and_fix(FILE *out, const report_variant *bug, const report_variant *fix,
                              unsigned flags)
{
    if (!bug->file || !fix->file || strcmp(bug->file, fix->file) != 0)
        return -1;
    const char *text = report_source_text(bug->file);
    lines l;
    if (!text || !split_lines(text, &l))
        return -1;
    fdefs d;
    find_definitions(&l, &d);
    bool *rb = calloc(d.n + 1, sizeof *rb), *rf = calloc(d.n + 1, sizeof *rf);
    bool *shown = calloc(d.n + 1, sizeof *shown);
    int marks = -1;
    if (!d.f || !rb || !rf || !shown)
        goto out;
    reachable(&l, &d, bug->entry_name, rb);
    reachable(&l, &d, fix->entry_name, rf);
    unsigned expect = bug->expect[0] | bug->expect[1];
    marks = 0;
    /* 1. A function only the bug runs, against the function only the fix
     *    runs that it resembles most: where the two programs part. */
    for (size_t i = 0; i < d.n; i++) {
        if (!rb[i] || rf[i] || !body_has_bug_mark(&l, &d.f[i]))
            continue;
        size_t best = d.n;
        unsigned score = 0;
        for (size_t j = 0; j < d.n; j++) {
            if (!rf[j] || rb[j] || shown[j])
                continue;
            unsigned c = common_lines(&l, &d.f[i], &d.f[j]);
            if (best == d.n || c > score)
                best = j, score = c;
        }
        fprintf(out, "\n");
        if (best < d.n) {
            put_diff(out, &l, &d.f[i], &d.f[best], bug->file, bug->id, fix->id, flags);
            shown[best] = true;
        } else {
            fprintf(out, "    %s, %s:%zu (only the bug runs it)\n", d.f[i].name, bug->file, d.f[i].first + 1);
            for (size_t k = d.f[i].first; k <= d.f[i].last; k++)
                put_line(out, ' ', (int)k + 1, l.start[k], l.len[k], flags);
        }
        for (size_t k = d.f[i].first; k <= d.f[i].last; k++)
            marks += has_bug_mark(l.start[k], l.len[k]);
        shown[i] = true;
    }
    /* 2. A function both run whose BUG(...) names what this variant shows:
     *    the bug and the fix are branches of it, side by side. */
    for (size_t i = 0; i < d.n; i++) {
        if (!rb[i] || !rf[i] || shown[i])
            continue;
        bool match = false;
        for (size_t k = d.f[i].first; k <= d.f[i].last && !match; k++)
            match = bug_mark_matches(l.start[k], l.len[k], expect);
        if (!match)
            continue;
        fprintf(out, "\n    %s, %s:%zu (the bug's and the fix's paths, both in this function)\n",
                d.f[i].name, bug->file, d.f[i].first + 1);
        for (size_t k = d.f[i].first; k <= d.f[i].last; k++) {
            put_line(out, ' ', (int)k + 1, l.start[k], l.len[k], flags);
            marks += has_bug_mark(l.start[k], l.len[k]);
        }
        shown[i] = true;
    }
out:
    free(rb);
    free(rf);
    free(shown);
    free(d.f);
    lines_free(&l);
    return marks;
}
