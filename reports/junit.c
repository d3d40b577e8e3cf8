/* junit.c — junit.xml for CI: a <testsuite> per family, a <testcase> per
 * variant × mode. A testcase passes when the verdict observed is one the
 * variant expects — a LEAK found in a variant that must leak is a pass; an
 * observation not as expected is a <failure> (message: expected against
 * observed and the evidence; text: the dump, schedule and replay command), a
 * run the harness refused is an <error>.
 *
 * Only attributes the strict JUnit schema (the Ant junit.xsd most CI tools
 * validate against) accepts: testsuites/testsuite name, tests, failures,
 * errors, time; testcase name, classname, time. Where a variant is
 * registered goes into the testcase's text. Attribute values escape line
 * breaks and tabs as character references, which XML would otherwise turn
 * into spaces. */
#include "rinternal.h"

#include <string.h>

static void put_attr(FILE *out, const char *name, const char *value)
{
    fprintf(out, " %s=\"", name);
    char piece[256];
    for (const char *p = value ? value : ""; *p;) {
        size_t n = strcspn(p, "\n\r\t");
        while (n > 0) {   /* report__xml_text escapes the rest, a piece at a time */
            size_t k = n < sizeof piece - 1 ? n : sizeof piece - 1;
            memcpy(piece, p, k);
            piece[k] = 0;
            report__xml_text(out, piece);
            p += k;
            n -= k;
        }
        if (*p) {
            fprintf(out, "&#%d;", *p);
            p++;
        }
    }
    fputc('"', out);
}

static void put_where(FILE *out, const report_variant *v)
{
    fputs("registered at ", out);
    report__xml_text(out, v->file);
    fprintf(out, ":%d\n", v->line);
}

static void put_evidence(FILE *out, const report_observation *o)
{
    if (o->schedule) {
        fputs("schedule: ", out);
        report__xml_text(out, o->schedule);
        fputc('\n', out);
    }
    if (o->replay || o->rerun) {
        fputs(o->replay ? "replay: " : "rerun (not the same run): ", out);
        report__xml_text(out, o->replay ? o->replay : o->rerun);
        fputc('\n', out);
    }
    if (o->output && *o->output) {
        fputs("output:\n", out);
        report__xml_text(out, o->output);
    }
    if (o->dump && *o->dump) {
        fputc('\n', out);
        report__xml_text(out, o->dump);
    }
}

static void put_testcase(FILE *out, const report *r, const report_observation *o, const char *family)
{
    const report_variant *v = &r->variants[o->variant];
    char name[256], classname[128], want[160], msg[1200];
    snprintf(name, sizeof name, "%s [%s]", v->id, report_mode_name(o->mode));
    snprintf(classname, sizeof classname, "chanlab.%s", family);
    report_verdicts_str(v->expect[o->mode], want, sizeof want);
    fputs("    <testcase", out);
    put_attr(out, "classname", classname);
    put_attr(out, "name", name);
    fprintf(out, " time=\"%.3f\">\n", o->seconds);
    if (!o->carried_out) {
        snprintf(msg, sizeof msg, "not run: %s", o->message);
        fputs("      <error", out);
        put_attr(out, "message", msg);
        fputs(" type=\"REFUSED\"/>\n", out);
    } else if (!report_matches(r, o)) {
        snprintf(msg, sizeof msg, "expected %s, observed %s: %s", want,
                 harness_verdict_name(o->observed), o->message);
        fputs("      <failure", out);
        put_attr(out, "message", msg);
        put_attr(out, "type", harness_verdict_name(o->observed));
        fputs(">", out);
        put_where(out, v);
        put_evidence(out, o);
        fputs("</failure>\n", out);
    } else {
        fputs("      <system-out>", out);
        snprintf(msg, sizeof msg, "observed %s, as expected (%s): %s\n",
                 harness_verdict_name(o->observed), want, o->message);
        report__xml_text(out, msg);
        put_where(out, v);
        put_evidence(out, o);
        fputs("</system-out>\n", out);
    }
    fputs("    </testcase>\n", out);
}

int report_write_junit(const report *r, FILE *out)
{
    report_totals all = report_summarize(r);
    double total_time = 0;
    for (size_t i = 0; i < r->nobs; i++)
        total_time += r->obs[i].seconds;
    fputs("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<testsuites", out);
    put_attr(out, "name", r->title);
    fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n", all.observations,
            all.not_expected, all.refused, total_time);
    /* Families in order of first appearance; observations are grouped under
     * theirs whatever order they were made in. */
    for (size_t i = 0; i < r->nobs; i++) {
        char family[96], other[96];
        report__family(r->variants[r->obs[i].variant].id, family, sizeof family);
        bool earlier = false;
        for (size_t j = 0; j < i && !earlier; j++)
            earlier = strcmp(report__family(r->variants[r->obs[j].variant].id, other, sizeof other),
                             family) == 0;
        if (earlier)
            continue;
        size_t tests = 0, failures = 0, errors = 0;
        double time = 0;
        for (size_t j = i; j < r->nobs; j++) {
            const report_observation *o = &r->obs[j];
            if (strcmp(report__family(r->variants[o->variant].id, other, sizeof other), family) != 0)
                continue;
            tests++;
            time += o->seconds;
            errors += !o->carried_out;
            failures += o->carried_out && !report_matches(r, o);
        }
        fputs("  <testsuite", out);
        put_attr(out, "name", family);
        fprintf(out, " tests=\"%zu\" failures=\"%zu\" errors=\"%zu\" time=\"%.3f\">\n",
                tests, failures, errors, time);
        for (size_t j = i; j < r->nobs; j++)
            if (strcmp(report__family(r->variants[r->obs[j].variant].id, other, sizeof other),
                       family) == 0)
                put_testcase(out, r, &r->obs[j], family);
        fputs("  </testsuite>\n", out);
    }
    fputs("</testsuites>\n", out);
    return ferror(out) ? -1 : 0;
}
