/* rinternal.h — what the report writers share: the report's two lists, text
 * helpers (escaping for JSON and XML, colours), the embedded sources and the
 * line comparison behind `explain`. Not a public header. */
#ifndef REPORT_INTERNAL_H
#define REPORT_INTERNAL_H

#include "report.h"

/* A report owns copies of every string in its variants and observations. */
struct report {
    char *kind, *title;
    report_variant *variants;
    size_t nvariants, capvariants;
    report_observation *obs;
    size_t nobs, capobs;
};

/* One embedded source file (reports/embed_sources.cmake writes the table;
 * the last entry has path NULL). */
typedef struct {
    const char *path;          /* relative to the source root: "patterns/countdown.c" */
    const char *text;
    size_t size;
} report_embedded_source;
extern const report_embedded_source report__embedded_sources[];

/* The family of an id ("countdown" of "countdown.tick") into buf. */
const char *report__family(const char *id, char *buf, size_t size);

/* JSON string literal (quotes included); NULL becomes null. Bytes that are
 * not valid UTF-8 become U+FFFD. */
void report__json_string(FILE *out, const char *s);
/* XML character data or attribute value; characters XML 1.0 cannot carry
 * (control characters, invalid UTF-8) become U+FFFD. */
void report__xml_text(FILE *out, const char *s);

/* ANSI SGR sequences, or "" without REPORT_COLOR. */
const char *report__sgr(unsigned flags, const char *code);
#define REPORT_SGR_RESET "0"
#define REPORT_SGR_BOLD "1"
#define REPORT_SGR_RED "31"
#define REPORT_SGR_GREEN "32"
#define REPORT_SGR_YELLOW "33"
#define REPORT_SGR_BOLD_RED "1;31"

/* The entry function of bug against fix, line by line: ' ' both, '-' only
 * in the bug, '+' only in the fix; lines with "BUG(" highlighted. Returns
 * false (and writes nothing) when either function cannot be found. */
bool report__write_function_diff(FILE *out, const report_variant *bug, const report_variant *fix,
                                 unsigned flags);
/* Where bug and fix differ (explain): the functions reachable from the
 * bug's entry but not the fix's that carry a BUG(...) line, each diffed
 * against the fix-only function it resembles most; then functions both
 * reach whose BUG(...) names a verdict the bug variant expects (kind-
 * switched families: both paths are in one function). Returns the number of
 * BUG(...) lines shown, or -1 when the source is not embedded. */
int report__write_bug_and_fix(FILE *out, const report_variant *bug, const report_variant *fix,
                              unsigned flags);
/* One function as it stands, with line numbers and BUG(...) highlighted. */
bool report__write_function(FILE *out, const report_variant *v, unsigned flags);

#endif
