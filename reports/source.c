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
        return memchr(line, ';', len) == NULL;
    }
    return false;
}

/* Where the body that opens at or after line `from` closes: braces counted
 * outside comments, strings and character literals. */
static bool closing_line(const lines *l, size_t from, size_t *last)
{
    int depth = 0;
    bool opened = false, block_comment = false;
    for (size_t i = from; i < l->n; i++) {
        const char *s = l->start[i];
        char quote = 0;
        for (size_t j = 0; j < l->len[i]; j++) {
            char c = s[j], next = j + 1 < l->len[i] ? s[j + 1] : 0;
            if (block_comment) {
                if (c == '*' && next == '/')
                    block_comment = false, j++;
            } else if (quote) {
                if (c == '\\')
                    j++;
                else if (c == quote)
                    quote = 0;
            } else if (c == '/' && next == '*') {
                block_comment = true, j++;
            } else if (c == '/' && next == '/') {
                break;
            } else if (c == '"' || c == '\'') {
                quote = c;
            } else if (c == '{') {
                depth++, opened = true;
            } else if (c == '}') {
                if (--depth == 0 && opened) {
                    *last = i;
                    return true;
                }
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
    /* lcs[i][j]: the longest common subsequence of bug lines i.. and fix lines j.. */
    size_t w = nb + 1;
    unsigned *lcs = calloc((na + 1) * w, sizeof *lcs);
    if (!lcs) {
        lines_free(&la);
        lines_free(&lb);
        return false;
    }
    for (size_t i = na; i-- > 0;)
        for (size_t j = nb; j-- > 0;)
            lcs[i * w + j] = same_line(&la, fa + i, &lb, fb + j)
                ? lcs[(i + 1) * w + j + 1] + 1
                : (lcs[(i + 1) * w + j] > lcs[i * w + j + 1] ? lcs[(i + 1) * w + j] : lcs[i * w + j + 1]);
    fprintf(out, "%s--- %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_RED), bug->id,
            bug->entry_name, bug->file, fa + 1, report__sgr(flags, REPORT_SGR_RESET));
    fprintf(out, "%s+++ %s  %s, %s:%zu%s\n", report__sgr(flags, REPORT_SGR_GREEN), fix->id,
            fix->entry_name, fix->file, fb + 1, report__sgr(flags, REPORT_SGR_RESET));
    size_t i = 0, j = 0;
    while (i < na || j < nb) {
        if (i < na && j < nb && same_line(&la, fa + i, &lb, fb + j)) {
            put_line(out, ' ', (int)(fa + i) + 1, la.start[fa + i], la.len[fa + i], flags);
            i++, j++;
        } else if (i < na && (j == nb || lcs[(i + 1) * w + j] >= lcs[i * w + j + 1])) {
            put_line(out, '-', (int)(fa + i) + 1, la.start[fa + i], la.len[fa + i], flags);
            i++;
        } else {
            put_line(out, '+', (int)(fb + j) + 1, lb.start[fb + j], lb.len[fb + j], flags);
            j++;
        }
    }
    free(lcs);
    lines_free(&la);
    lines_free(&lb);
    return true;
}
