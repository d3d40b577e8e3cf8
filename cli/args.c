/* args.c — argument checking for the verbs (cli.h): the option parser, whole
 * numbers in a range, and the catalog lookups an argument names (a family, a
 * variant), each failing with one line on stderr (what was wrong, what is
 * accepted) and exit status 2; and the small report helpers the verbs share. */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

const char *verb = NULL;   /* for error messages: "chanlab run: ..." */
bool cli_check_only = false;
void (*cli_exit)(int status) = exit;

/* One line on stderr — what was wrong, what is accepted — and exit 2. */
_Noreturn void usage_error(const char *fmt, ...)
{
    if (verb)
        fprintf(stderr, "chanlab %s: ", verb);
    else
        fputs("chanlab: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    char line[1024];
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    /* One line whatever it quotes: control characters in an argument
     * (a newline) are shown as '?' (the command-line fuzzer's first finding). */
    for (char *c = line; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    fputs(line, stderr);
    fputc('\n', stderr);
    cli_exit(2);
    abort();   /* cli_exit does not return */
}

void parse_args(int argc, char **argv, const option_spec *specs, size_t nspecs, int max_pos,
                 const char *help, const char *accepted, parsed_args *pa)
{
    memset(pa, 0, sizeof *pa);
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            cli_exit(0);
        }
    for (int i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (a[0] != '-' || a[1] == 0) {
            if (pa->npos >= max_pos)
                usage_error("unexpected argument '%s' (accepted: %s)", a, accepted);
            pa->pos[pa->npos++] = a;
            continue;
        }
        size_t n = strcspn(a, "=");
        size_t k = 0;
        while (k < nspecs && !(strlen(specs[k].name) == n && !strncmp(specs[k].name, a, n)))
            k++;
        if (k == nspecs)
            usage_error("unknown option '%.*s' (accepted: %s)", (int)n, a, accepted);
        if (pa->given[k])
            usage_error("%s given twice", specs[k].name);
        pa->given[k] = true;
        if (!specs[k].takes_value) {
            if (a[n])
                usage_error("%s takes no value", specs[k].name);
            continue;
        }
        if (a[n]) {
            pa->value[k] = a + n + 1;
        } else if (i + 1 < argc) {
            pa->value[k] = argv[++i];
        } else {
            usage_error("%s needs a value (accepted: %s)", specs[k].name, accepted);
        }
    }
}

uint64_t parse_number(const char *opt, const char *s, uint64_t lo, uint64_t hi)
{
    uint64_t v = 0;
    bool ok = s && *s;
    for (const char *p = s; ok && *p; p++) {
        if (*p < '0' || *p > '9' || v > (UINT64_MAX - (uint64_t)(*p - '0')) / 10)
            ok = false;
        else
            v = v * 10 + (uint64_t)(*p - '0');
    }
    if (!ok || v < lo || v > hi)
        usage_error("bad value '%s' for %s (accepted: a whole number from %" PRIu64 " to %" PRIu64 ")",
                    s ? s : "", opt, lo, hi);
    return v;
}

bool in_family(const pattern *p, const char *family)
{
    char buf[96];
    return !family || strcmp(pattern_family(p, buf, sizeof buf), family) == 0;
}

/* "countdown, select, ..." — every family, in id order. */
const char *family_list(char *buf, size_t size)
{
    size_t n = 0;
    char prev[96] = "", fam[96];
    buf[0] = 0;
    for (size_t i = 0; i < pattern_count(); i++) {
        pattern_family(pattern_at(i), fam, sizeof fam);
        if (strcmp(fam, prev) != 0) {
            int k = snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "", fam);
            if (k > 0)
                n += (size_t)k;
            snprintf(prev, sizeof prev, "%s", fam);
        }
    }
    return buf;
}

const char *check_family(const char *family)
{
    if (!family)
        return NULL;
    for (size_t i = 0; i < pattern_count(); i++)
        if (in_family(pattern_at(i), family))
            return family;
    char fams[512];
    usage_error("no family '%s' (accepted: %s)", family, family_list(fams, sizeof fams));
}

const pattern *find_variant(const char *id)
{
    const pattern *p = pattern_find(id);
    if (!p)
        usage_error("unknown variant '%s' (accepted: an id that 'chanlab list' shows, "
                    "like countdown.tick)", id);
    return p;
}

report_variant variant_of(const pattern *p)
{
    report_variant v = {
        .id = p->id, .section = p->section, .book_func = p->book_func, .fixed_by = p->fixed_by,
        .lesson = p->lesson, .bound = p->bound, .file = p->file, .line = p->line,
        .entry_name = p->entry_name, .modes = p->modes,
    };
    for (int m = 0; m < 2; m++)
        if (p->modes & (1u << m))
            v.expect[m] = pattern_expected(p, m);
    return v;
}

report *new_report(const char *kind, const char *title)
{
    report *r = report_new(kind, title);
    if (!r) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    return r;
}

size_t add_variant(report *r, const pattern *p)
{
    report_variant v = variant_of(p);
    size_t i = report_add_variant(r, &v);
    if (i == (size_t)-1) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    return i;
}

unsigned output_flags(FILE *out)
{
    const char *term = getenv("TERM");
    return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0
        ? REPORT_COLOR : 0;
}
