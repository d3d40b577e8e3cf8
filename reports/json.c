/* json.c — results.json: the report's variants (what their registrations
 * say) and results (what was observed), for tools. Every string is escaped;
 * text that is not UTF-8 comes out as U+FFFD, so the file always parses. */
#include "rinternal.h"

#include <string.h>

#ifndef CHANLAB_VERSION
#define CHANLAB_VERSION "0"
#endif

static void put_verdict_list(FILE *out, unsigned mask)
{
    fputc('[', out);
    bool first = true;
    for (int v = 0; v < HARNESS_VERDICT_COUNT; v++)
        if (mask & (1u << v)) {
            fprintf(out, "%s\"%s\"", first ? "" : ", ", harness_verdict_name((harness_verdict)v));
            first = false;
        }
    fputc(']', out);
}

static void put_key(FILE *out, const char *indent, const char *key, bool comma)
{
    fprintf(out, "%s%s\"%s\": ", comma ? ",\n" : "", indent, key);
}

static void put_str(FILE *out, const char *indent, const char *key, const char *value, bool comma)
{
    put_key(out, indent, key, comma);
    report__json_string(out, value);
}

static void put_variant(FILE *out, const report_variant *v)
{
    const char *in = "      ";
    char family[96];
    fputs("    {\n", out);
    put_str(out, in, "id", v->id, false);
    put_str(out, in, "family", report__family(v->id, family, sizeof family), true);
    put_str(out, in, "section", v->section, true);
    put_str(out, in, "book_func", v->book_func, true);
    put_str(out, in, "fixed_by", v->fixed_by, true);
    put_str(out, in, "lesson", v->lesson, true);
    put_str(out, in, "bound", v->bound, true);
    put_str(out, in, "file", v->file, true);
    put_key(out, in, "line", true);
    fprintf(out, "%d", v->line);
    put_str(out, in, "entry", v->entry_name, true);
    put_key(out, in, "expected", true);
    fputc('{', out);
    bool first = true;
    for (int m = 0; m < 2; m++)
        if (v->modes & (1u << m)) {
            fprintf(out, "%s\"%s\": ", first ? "" : ", ", report_mode_name(m));
            put_verdict_list(out, v->expect[m]);
            first = false;
        }
    fputs("}\n    }", out);
}

static void put_result(FILE *out, const report *r, const report_observation *o)
{
    const char *in = "      ";
    const report_variant *v = &r->variants[o->variant];
    fputs("    {\n", out);
    put_str(out, in, "id", v->id, false);
    put_str(out, in, "mode", report_mode_name(o->mode), true);
    put_str(out, in, "strategy", o->strategy, true);
    put_key(out, in, "expected", true);
    put_verdict_list(out, v->expect[o->mode]);
    put_key(out, in, "carried_out", true);
    fputs(o->carried_out ? "true" : "false", out);
    put_key(out, in, "observed", true);
    if (o->carried_out)
        fprintf(out, "\"%s\"", harness_verdict_name(o->observed));
    else
        fputs("null", out);
    put_key(out, in, "as_expected", true);
    fputs(report_matches(r, o) ? "true" : "false", out);
    put_key(out, in, "seen", true);
    put_verdict_list(out, o->carried_out ? o->seen | (1u << o->observed) : 0);
    put_str(out, in, "message", o->message, true);
    put_str(out, in, "schedule", o->schedule, true);
    put_str(out, in, "replay", o->replay, true);
    put_str(out, in, "rerun", o->rerun, true);
    put_key(out, in, "schedules_run", true);
    fprintf(out, "%u", o->schedules_run);
    put_key(out, in, "exhausted", true);
    fputs(o->exhausted ? "true" : "false", out);
    if (o->proof.kind != REPORT_PROOF_NONE) {
        static const char *kinds[] = { "", "exhausted", "bounded", "budget" };
        char words[256];
        put_key(out, in, "proof", true);
        fprintf(out, "{\"kind\": \"%s\", \"schedules\": %u, \"pruned\": %u, \"budget\": %u, "
                "\"preemption_bound\": ", kinds[o->proof.kind], o->proof.schedules, o->proof.pruned,
                o->proof.budget);
        if (o->proof.kind == REPORT_PROOF_ALL)
            fputs("null", out);
        else
            fprintf(out, "%u", o->proof.preemption_bound);
        fprintf(out, ", \"seconds\": %.3f, \"wall\": %s, \"workload\": ", o->proof.seconds,
                o->proof.wall ? "true" : "false");
        report__json_string(out, o->proof.workload);
        fputs(", \"summary\": ", out);
        report__json_string(out, report_proof_str(&o->proof, words, sizeof words));
        fputs("}", out);
    }
    if (o->mode == REPORT_CONTROLLED) {
        put_key(out, in, "steps", true);
        fprintf(out, "%llu", (unsigned long long)o->steps);
        put_key(out, in, "virtual_seconds", true);
        fprintf(out, "%.9f", (double)o->virtual_ns / 1e9);
    }
    put_key(out, in, "seconds", true);
    fprintf(out, "%.3f", o->seconds);
    put_str(out, in, "output", o->output, true);
    put_str(out, in, "dump", o->dump, true);
    fputs("\n    }", out);
}

int report_write_json(const report *r, FILE *out)
{
    const char *in = "  ";
    fputs("{\n", out);
    put_str(out, in, "tool", "chanlab", false);
    put_key(out, in, "schema_version", true);
    fprintf(out, "%d", REPORT_JSON_SCHEMA_VERSION);
    put_str(out, in, "version", CHANLAB_VERSION, true);
    put_str(out, in, "kind", r->kind, true);
    put_str(out, in, "title", r->title, true);
    put_key(out, in, "build", true);
    fprintf(out, "{\"thread_sanitizer\": %s}", harness_detects_races() ? "true" : "false");
    bool results = strcmp(r->kind, "list") != 0;
    if (results) {
        report_totals t = report_summarize(r);
        put_key(out, in, "summary", true);
        fprintf(out, "{\"observations\": %zu, \"as_expected\": %zu, \"not_expected\": %zu, "
                "\"refused\": %zu, \"bugs_found\": %zu, \"all_as_expected\": %s}", t.observations,
                t.as_expected, t.not_expected, t.refused, t.bugs_found,
                t.as_expected == t.observations ? "true" : "false");
    }
    put_key(out, in, "variants", true);
    fputs("[\n", out);
    for (size_t i = 0; i < r->nvariants; i++) {
        put_variant(out, &r->variants[i]);
        fputs(i + 1 < r->nvariants ? ",\n" : "\n", out);
    }
    fputs("  ]", out);
    if (results) {
        put_key(out, in, "results", true);
        fputs("[\n", out);
        for (size_t i = 0; i < r->nobs; i++) {
            put_result(out, r, &r->obs[i]);
            fputs(i + 1 < r->nobs ? ",\n" : "\n", out);
        }
        fputs("  ]", out);
    }
    fputs("\n}\n", out);
    return ferror(out) ? -1 : 0;
}
