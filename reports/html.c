/* html.c — the HTML report (report_write_html): one self-contained folder,
 * readable offline and with JavaScript off.
 *
 *   index.html           the verdict table; filters are CSS :target rules
 *                        (a link per family, mode and verdict), so they work
 *                        without scripts
 *   ID.MODE.html         an observation: lesson, expected against observed,
 *                        the SVG timeline, replay command, bug beside fix,
 *                        dump, output
 *   ID.MODE.trace.json   its Chrome trace (report_write_trace)
 *
 * Colours are Okabe–Ito (safe for the common colour blindnesses), and every
 * distinction also has a shape: running is a thick bar, blocked a thin one,
 * blocked at the verdict dashed; they print (print-color-adjust: exact). */
#include "timeline.h"

#include "csp_debug.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

static const char css[] =
    ":root{--run:#0072B2;--blk:#E69F00;--open:#D55E00;--flow:#009E73;--verdict:#CC79A7;"
    "--bad:#D55E00;--ok:#009E73}\n"
    "*{print-color-adjust:exact;-webkit-print-color-adjust:exact}\n"
    "body{font:14px/1.45 system-ui,sans-serif;margin:1.5em auto;max-width:76em;padding:0 1em;color:#111}\n"
    "h1{font-size:1.5em}h2{font-size:1.15em;margin-top:1.6em}\n"
    "table.v{border-collapse:collapse;width:100%}table.v td,table.v th{border-bottom:1px solid #ccc;"
    "padding:.25em .5em;text-align:left;vertical-align:top}\n"
    "tr.bad td.obs{color:var(--bad);font-weight:bold}tr.bad td.obs::before{content:'\\2717  '}\n"
    "tr.ok td.obs::before{content:'\\2713  ';color:var(--ok)}\n"
    "pre{background:#f6f6f6;border:1px solid #ddd;padding:.6em;overflow-x:auto;font-size:12px}\n"
    "code{font-size:12px}.filters a{margin-right:.6em}.filters{margin:.3em 0}\n"
    ".flt{display:none}\n"
    "table.src{border-collapse:collapse;width:100%;font:12px monospace;table-layout:fixed}\n"
    "table.src td{white-space:pre-wrap;vertical-align:top;padding:0 .4em;border-left:1px solid #ddd}\n"
    "td.del{background:#fde8d7}td.add{background:#d8efe7}td.bugline{background:#f6c9a8;font-weight:bold}\n"
    "svg.tl{max-width:100%;height:auto;border:1px solid #ddd;background:#fff}\n"
    "svg.tl text{font:11px system-ui,sans-serif}\n"
    ".legend span{display:inline-block;margin-right:1.2em}\n"
    ".sw{display:inline-block;width:2.2em;vertical-align:middle;margin-right:.3em}\n";

static void esc(FILE *out, const char *s) { report__xml_text(out, s ? s : ""); }

static const char *page_name(const report *r, size_t i, const char *suffix, char *buf, size_t size)
{
    const report_observation *o = report_observation_at(r, i);
    const report_variant *v = report_variant_at(r, o->variant);
    snprintf(buf, size, "%s.%s%s", v->id, report_mode_name(o->mode), suffix);
    return buf;
}

const char *report_html_page(const report *r, size_t i, char *buf, size_t size)
{
    return page_name(r, i, ".html", buf, size);
}

static void head(FILE *out, const char *title)
{
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n"
          "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n<title>", out);
    esc(out, title);
    fprintf(out, "</title>\n<style>\n%s</style>\n</head><body>\n", css);
}

static FILE *open_in(const char *dir, const char *name)
{
    size_t n = strlen(dir) + strlen(name) + 2;
    char *path = malloc(n);
    if (!path)
        return NULL;
    snprintf(path, n, "%s/%s", dir, name);
    FILE *f = fopen(path, "w");
    free(path);
    return f;
}

static int close_file(FILE *f)
{
    int bad = ferror(f);
    return (fclose(f) != 0 || bad) ? -1 : 0;
}

/* ------------------------------------------------------------------ Index */

/* A class token: letters, digits and '-' only. */
static const char *token(const char *s, char *buf, size_t size)
{
    size_t k = 0;
    for (; s && *s && k + 1 < size; s++)
        buf[k++] = ((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') || (*s >= '0' && *s <= '9'))
                       ? *s : '-';
    buf[k] = 0;
    return buf;
}

typedef struct { char names[64][48]; size_t n; } name_set;

static void add_name(name_set *s, const char *name)
{
    for (size_t i = 0; i < s->n; i++)
        if (!strcmp(s->names[i], name))
            return;
    /* A longer name is cut to fit (it only names a CSS filter class). */
    if (s->n < 64 && snprintf(s->names[s->n], sizeof s->names[0], "%s", name) >= 0)
        s->n++;
}

static void filter_css(FILE *out, const char *prefix, const name_set *s)
{
    for (size_t i = 0; i < s->n; i++)
        fprintf(out, "#%s-%s:target~table.v tbody tr:not(.%s-%s){display:none}\n"
                "#%s-%s:target~p.filters a[href='#%s-%s']{font-weight:bold}\n",
                prefix, s->names[i], prefix, s->names[i], prefix, s->names[i], prefix, s->names[i]);
}

static void filter_links(FILE *out, const char *what, const char *prefix, const name_set *s)
{
    fprintf(out, "<p class=\"filters\">%s: <a href=\"#\">all</a>", what);
    for (size_t i = 0; i < s->n; i++)
        fprintf(out, "<a href=\"#%s-%s\">%s</a>", prefix, s->names[i], s->names[i]);
    fputs("</p>\n", out);
}

static int write_index(const report *r, const char *dir)
{
    FILE *out = open_in(dir, "index.html");
    if (!out)
        return -1;
    name_set fam = {0}, mode = {0}, verdict = {0};
    char buf[96], tok[96];
    for (size_t i = 0; i < report_observation_count(r); i++) {
        const report_observation *o = report_observation_at(r, i);
        add_name(&fam, token(report__family(report_variant_at(r, o->variant)->id, buf, sizeof buf), tok,
                             sizeof tok));
        add_name(&mode, report_mode_name(o->mode));
        add_name(&verdict, harness_verdict_name(o->observed));
    }
    add_name(&verdict, "unexpected");
    head(out, r->title);
    fputs("<style>\n", out);
    filter_css(out, "f", &fam);
    filter_css(out, "m", &mode);
    filter_css(out, "v", &verdict);
    fputs("</style>\n<h1>", out);
    esc(out, r->title);
    fputs("</h1>\n", out);
    report_totals t = report_summarize(r);
    fprintf(out, "<p id=\"summary\">%zu observations: %zu as expected, %zu not as expected, %zu refused; "
            "%zu bugs shown by running them.</p>\n", t.observations, t.as_expected, t.not_expected,
            t.refused, t.bugs_found);
    /* The :target anchors the CSS filters key on, before the table. */
    for (size_t i = 0; i < fam.n; i++)
        fprintf(out, "<span class=\"flt\" id=\"f-%s\"></span>", fam.names[i]);
    for (size_t i = 0; i < mode.n; i++)
        fprintf(out, "<span class=\"flt\" id=\"m-%s\"></span>", mode.names[i]);
    for (size_t i = 0; i < verdict.n; i++)
        fprintf(out, "<span class=\"flt\" id=\"v-%s\"></span>", verdict.names[i]);
    fputc('\n', out);
    filter_links(out, "Family", "f", &fam);
    filter_links(out, "Mode", "m", &mode);
    filter_links(out, "Observed verdict", "v", &verdict);
    fputs("<table class=\"v\" id=\"verdicts\"><thead><tr><th>Variant</th><th>§</th><th>Mode</th>"
          "<th>Expected</th><th>Observed</th><th>Evidence</th></tr></thead>\n<tbody>\n", out);
    for (size_t i = 0; i < report_observation_count(r); i++) {
        const report_observation *o = report_observation_at(r, i);
        const report_variant *v = report_variant_at(r, o->variant);
        bool ok = report_matches(r, o);
        char exp[160], page[256];
        fprintf(out, "<tr class=\"%s f-%s m-%s v-%s%s\" data-variant=\"", ok ? "ok" : "bad",
                token(report__family(v->id, buf, sizeof buf), tok, sizeof tok), report_mode_name(o->mode),
                o->carried_out ? harness_verdict_name(o->observed) : "REFUSED", ok ? "" : " v-unexpected");
        esc(out, v->id);
        fprintf(out, "\" data-mode=\"%s\"><td><a href=\"", report_mode_name(o->mode));
        esc(out, report_html_page(r, i, page, sizeof page));
        fputs("\">", out);
        esc(out, v->id);
        fputs("</a></td><td>", out);
        esc(out, v->section);
        fprintf(out, "</td><td>%s</td><td>%s</td><td class=\"obs\">%s</td><td>", report_mode_name(o->mode),
                report_verdicts_str(v->expect[o->mode], exp, sizeof exp),
                o->carried_out ? harness_verdict_name(o->observed) : "refused");
        esc(out, o->message);
        fputs("</td></tr>\n", out);
    }
    fputs("</tbody></table>\n<p>Each variant's page has its timeline, its trace for "
          "<a href=\"https://ui.perfetto.dev\">Perfetto UI</a> or chrome://tracing (open the "
          "<code>.trace.json</code> file there), the bug beside its fix, and the dump.</p>\n"
          "</body></html>\n", out);
    return close_file(out);
}

/* --------------------------------------------------------------- Timeline */

enum { LABEL_W = 170, PLOT_W = 860, LANE_H = 30, TOP = 24 };

static double xpos(const tl_timeline *t, double at)
{
    double end = t->end > 0 ? t->end : 1;
    return LABEL_W + at / end * PLOT_W;
}

static void write_svg(FILE *out, const report_observation *o, const tl_timeline *t)
{
    int h = TOP + (int)t->nlanes * LANE_H + 24;
    char label[256];
    fprintf(out, "<svg class=\"tl\" xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
            "width=\"%d\" height=\"%d\" role=\"img\" data-tasks=\"%zu\" aria-label=\"timeline of %zu tasks\">\n",
            LABEL_W + PLOT_W + 60, h, LABEL_W + PLOT_W + 60, h, t->nlanes, t->nlanes);
    fputs("<defs><marker id=\"arrow\" viewBox=\"0 0 10 10\" refX=\"9\" refY=\"5\" markerWidth=\"7\" "
          "markerHeight=\"7\" orient=\"auto-start-reverse\"><path d=\"M0,0L10,5L0,10z\" "
          "fill=\"#009E73\"/></marker></defs>\n", out);
    fprintf(out, "<text x=\"%d\" y=\"14\">%s →</text>\n", LABEL_W,
            t->steps ? "event order (controlled mode: one task at a time)" : "time (free mode)");
    for (size_t l = 0; l < t->nlanes; l++) {
        int y = TOP + (int)l * LANE_H;
        fprintf(out, "<g class=\"lane\" data-task=\"%" PRIu64 "\">\n<text x=\"4\" y=\"%d\">%" PRIu64 " ",
                t->lanes[l].id, y + 15, t->lanes[l].id);
        esc(out, t->lanes[l].name);
        fprintf(out, "</text><line x1=\"%d\" y1=\"%d\" x2=\"%d\" y2=\"%d\" stroke=\"#ddd\"/>\n", LABEL_W,
                y + 11, LABEL_W + PLOT_W, y + 11);
        for (size_t k = 0; k < t->nslices; k++) {
            const tl_slice *s = &t->slices[k];
            if (s->lane != l)
                continue;
            double x0 = xpos(t, s->t0), x1 = xpos(t, s->t1);
            double w = x1 - x0 < 1.5 ? 1.5 : x1 - x0;
            report__slice_label(s, label, sizeof label);
            if (!s->blocked) {
                fprintf(out, "<rect class=\"run\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"12\" "
                        "fill=\"#0072B2\"><title>running</title></rect>\n", x0, y + 5, w);
                continue;
            }
            bool at_verdict = s->open;
            fprintf(out, "<rect class=\"blocked%s\" x=\"%.1f\" y=\"%d\" width=\"%.1f\" height=\"3\" "
                    "fill=\"%s\"%s><title>", at_verdict ? " open" : "", x0, y + 10, w,
                    at_verdict ? "#D55E00" : "#E69F00",
                    at_verdict ? " stroke=\"#D55E00\" stroke-dasharray=\"4 2\"" : "");
            esc(out, label);
            fputs(at_verdict ? " (still blocked at the verdict)" : "", out);
            fputs("</title></rect>\n", out);
            if (w > 60 || at_verdict) {
                bool near_end = x0 > LABEL_W + PLOT_W - 160;   /* keep the label inside the plot */
                fprintf(out, "<text x=\"%.1f\" y=\"%d\" fill=\"#333\"%s>", near_end ? x1 : x0 + 2, y + 26,
                        near_end ? " text-anchor=\"end\"" : "");
                esc(out, label);
                fputs("</text>\n", out);
            }
        }
        for (size_t k = 0; k < t->nmarks; k++) {
            const tl_mark *m = &t->marks[k];
            if (m->lane != l)
                continue;
            double x = xpos(t, m->t);
            fprintf(out, "<path class=\"mark\" d=\"M%.1f,%dl-4,-5h8z\" fill=\"#000\"><title>%s ", x, y + 5,
                    csp_debug_event_kind_name((csp_debug_event_kind)m->kind));
            esc(out, m->object);
            fputs("</title></path>\n", out);
        }
        fputs("</g>\n", out);
    }
    for (size_t k = 0; k < t->nflows; k++) {
        const tl_flow *f = &t->flows[k];
        double x = xpos(t, f->t);
        int y0 = TOP + (int)f->from * LANE_H + 11, y1 = TOP + (int)f->to * LANE_H + 11;
        fprintf(out, "<line class=\"handoff\" x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#009E73\" "
                "stroke-width=\"1.5\" marker-end=\"url(#arrow)\"><title>hand-off \"", x, y0, x + 3, y1);
        esc(out, f->object);
        fputs("\"</title></line>\n", out);
    }
    for (size_t k = 0; k < t->nmarks; k++)
        if (t->marks[k].lane == (size_t)-1)
            fprintf(out, "<path class=\"timer\" d=\"M%.1f,%dl-4,-6h8z\" fill=\"#56B4E9\"><title>timer fired"
                    "</title></path>\n", xpos(t, t->marks[k].t), TOP - 2);
    double xv = xpos(t, t->end);
    fprintf(out, "<g class=\"verdict\"><line x1=\"%.1f\" y1=\"%d\" x2=\"%.1f\" y2=\"%d\" stroke=\"#CC79A7\" "
            "stroke-width=\"2\" stroke-dasharray=\"6 3\"/><text x=\"%.1f\" y=\"%d\" fill=\"#000\">%s</text></g>\n",
            xv, TOP - 6, xv, h - 18, xv - 20, h - 6, harness_verdict_name(o->observed));
    fputs("</svg>\n", out);
}

static void legend(FILE *out)
{
    fputs("<p class=\"legend\">"
          "<span><svg class=\"sw\" viewBox=\"0 0 30 12\" width=\"30\" height=\"12\"><rect y=\"0\" width=\"30\" "
          "height=\"12\" fill=\"#0072B2\"/></svg>running</span>"
          "<span><svg class=\"sw\" viewBox=\"0 0 30 12\" width=\"30\" height=\"12\"><rect y=\"5\" width=\"30\" "
          "height=\"3\" fill=\"#E69F00\"/></svg>blocked (labelled with what it waits on)</span>"
          "<span><svg class=\"sw\" viewBox=\"0 0 30 12\" width=\"30\" height=\"12\"><rect y=\"5\" width=\"30\" "
          "height=\"3\" fill=\"#D55E00\" stroke=\"#D55E00\" stroke-dasharray=\"4 2\"/></svg>still blocked at the "
          "verdict</span>"
          "<span><svg class=\"sw\" viewBox=\"0 0 30 12\" width=\"30\" height=\"12\"><line x1=\"0\" y1=\"2\" "
          "x2=\"26\" y2=\"10\" stroke=\"#009E73\" stroke-width=\"2\"/></svg>a value handed over</span>"
          "<span><svg class=\"sw\" viewBox=\"0 0 30 12\" width=\"30\" height=\"12\"><line x1=\"15\" y1=\"0\" "
          "x2=\"15\" y2=\"12\" stroke=\"#CC79A7\" stroke-width=\"2\" stroke-dasharray=\"3 2\"/></svg>the verdict"
          "</span><span>▼ close, panic (black, on the task); timer fired (light blue, above)</span></p>\n", out);
}

/* ------------------------------------------------------------ Bug and fix */

/* The explain diff ("-" bug only, "+" fix only, "!" a BUG(...) line) laid
 * out side by side: bug on the left, fix on the right, common lines on both. */
static void side_by_side(FILE *out, char *diff)
{
    fputs("<table class=\"src\"><colgroup><col style=\"width:50%\"><col style=\"width:50%\"></colgroup>\n", out);
    char *lines[4096];
    size_t n = 0;
    for (char *save = NULL, *l = strtok_r(diff, "\n", &save); l && n < 4096; l = strtok_r(NULL, "\n", &save))
        lines[n++] = l;
    size_t i = 0;
    while (i < n) {
        char *l = lines[i];
        if (!strncmp(l, "--- ", 4) || !strncmp(l, "+++ ", 4)) {
            i++;
            continue;
        }
        if (strlen(l) >= 2 && (l[1] == '-' || l[1] == '+')) {
            size_t a = i, b;
            while (a < n && strlen(lines[a]) >= 2 && lines[a][1] == '-')
                a++;
            b = a;
            while (b < n && strlen(lines[b]) >= 2 && lines[b][1] == '+')
                b++;
            size_t nd = a - i, na = b - a, rows = nd > na ? nd : na;
            for (size_t k = 0; k < rows; k++) {
                fputs("<tr>", out);
                if (k < nd) {
                    fprintf(out, "<td class=\"%s\">", lines[i + k][0] == '!' ? "bugline" : "del");
                    esc(out, lines[i + k] + 2);
                } else {
                    fputs("<td>", out);
                }
                fputs("</td>", out);
                if (k < na) {
                    fputs("<td class=\"add\">", out);
                    esc(out, lines[a + k] + 2);
                } else {
                    fputs("<td>", out);
                }
                fputs("</td></tr>\n", out);
            }
            if (b == i)
                b = i + 1;
            i = b;
            continue;
        }
        fputs("<tr><td>", out);
        esc(out, strlen(l) >= 2 ? l + 2 : l);
        fputs("</td><td>", out);
        esc(out, strlen(l) >= 2 ? l + 2 : l);
        fputs("</td></tr>\n", out);
        i++;
    }
    fputs("</table>\n", out);
}

static void bug_and_fix(FILE *out, const report *r, const report_variant *v)
{
    const report_variant *bug = NULL, *fix = NULL;
    if (v->fixed_by) {
        bug = v;
        size_t k = report_find_variant(r, v->fixed_by);
        fix = k == (size_t)-1 ? NULL : report_variant_at(r, k);
    } else {
        fix = v;
        for (size_t k = 0; k < report_variant_count(r); k++) {
            const report_variant *b = report_variant_at(r, k);
            if (b->fixed_by && !strcmp(b->fixed_by, v->id)) {
                bug = b;
                break;
            }
        }
    }
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return;
    int shown = bug && fix ? report__write_bug_and_fix(mem, bug, fix, 0) : -1;
    fflush(mem);   /* len is set at a flush */
    if (shown < 0 || len == 0) {
        fclose(mem);
        free(text);
        text = NULL;
        mem = open_memstream(&text, &len);
        if (!mem)
            return;
        bool one = report__write_function(mem, v, 0);
        fclose(mem);
        fputs("<h2>Source</h2>\n", out);
        if (one) {
            fputs("<pre>", out);
            esc(out, text);
            fputs("</pre>\n", out);
        } else {
            fputs("<p>(no embedded source)</p>\n", out);
        }
        free(text);
        return;
    }
    fclose(mem);
    fputs("<h2>Bug beside fix</h2>\n<p>Left: <b>", out);
    esc(out, bug->id);
    fputs("</b> (the bug; its BUG(...) lines in bold). Right: <b>", out);
    esc(out, fix->id);
    fputs("</b> (the fix).</p>\n", out);
    side_by_side(out, text);
    free(text);
}

/* ------------------------------------------------------------------- Page */

static void pre_block(FILE *out, const char *title, const char *text)
{
    if (!text || !*text)
        return;
    fprintf(out, "<h2>%s</h2>\n<pre>", title);
    esc(out, text);
    fputs("</pre>\n", out);
}

static int write_page(const report *r, size_t i, const char *dir)
{
    const report_observation *o = report_observation_at(r, i);
    const report_variant *v = report_variant_at(r, o->variant);
    char name[256], title[320], exp[160];
    FILE *out = open_in(dir, report_html_page(r, i, name, sizeof name));
    if (!out)
        return -1;
    snprintf(title, sizeof title, "%s (%s mode) — chanlab", v->id, report_mode_name(o->mode));
    head(out, title);
    bool ok = report_matches(r, o);
    fputs("<p><a href=\"index.html\">← all variants</a></p>\n<h1>", out);
    esc(out, v->id);
    fprintf(out, " <small>(%s mode)</small></h1>\n<p>GOPL §", report_mode_name(o->mode));
    esc(out, v->section);
    if (v->book_func && *v->book_func) {
        fputs(", <code>", out);
        esc(out, v->book_func);
        fputs("</code>", out);
    }
    fputs(" · ", out);
    esc(out, v->file);
    fprintf(out, ":%d</p>\n<p id=\"verdict\" class=\"%s\">Expected <b>%s</b>, observed <b>%s</b> — %s</p>\n",
            v->line, ok ? "ok" : "bad", report_verdicts_str(v->expect[o->mode], exp, sizeof exp),
            o->carried_out ? harness_verdict_name(o->observed) : "refused",
            ok ? "as expected" : "NOT as expected");
    fputs("<p>", out);
    esc(out, o->message);
    fputs("</p>\n<h2>Lesson</h2>\n<p>", out);
    esc(out, v->lesson);
    fputs("</p>\n", out);
    if (o->strategy)
        fprintf(out, "<p>%u schedule%s run (%s)%s; the one shown took %" PRIu64 " scheduling points, "
                "virtual time %.3f ms.</p>\n", o->schedules_run, o->schedules_run == 1 ? "" : "s",
                o->strategy, o->exhausted ? ", every schedule within the bounds" : "", o->steps,
                (double)o->virtual_ns / 1e6);
    if (o->proof.kind != REPORT_PROOF_NONE) {
        char words[256];
        fputs("<p>Proof: ", out);
        esc(out, report_proof_str(&o->proof, words, sizeof words));
        fprintf(out, " — an exhaustive search with partial-order reduction after the search above "
                "found nothing (%.2f s).</p>\n", o->proof.seconds);
    }
    fputs("<h2>Timeline</h2>\n", out);
    tl_timeline t;
    if (o->nevents && report__timeline_build(o, &t)) {
        legend(out);
        write_svg(out, o, &t);
        report__timeline_free(&t);
        if (o->events_dropped)
            fprintf(out, "<p>The ring kept the last %zu events; %" PRIu64 " earlier ones were dropped.</p>\n",
                    o->nevents, o->events_dropped);
        fprintf(out, "<p>Trace for Perfetto UI or chrome://tracing: <a href=\"%s\">%s</a> "
                "(%zu events).</p>\n", page_name(r, i, ".trace.json", name, sizeof name), name, o->nevents);
    } else {
        fputs("<p>(no events were recorded for this run)</p>\n", out);
    }
    if (o->replay || o->rerun) {
        fputs("<h2>Run it again</h2>\n<pre>", out);
        esc(out, o->replay ? o->replay : o->rerun);
        fputs("</pre>\n", out);
    }
    bug_and_fix(out, r, v);
    pre_block(out, "Dump at the verdict", o->dump);
    pre_block(out, "Output", o->output);
    fputs("</body></html>\n", out);
    if (close_file(out) != 0)
        return -1;
    if (!o->nevents)
        return 0;
    FILE *tr = open_in(dir, page_name(r, i, ".trace.json", name, sizeof name));
    if (!tr)
        return -1;
    int rc = report_write_trace(r, i, tr);
    return close_file(tr) != 0 ? -1 : rc;
}

int report_write_html(const report *r, const char *dir)
{
    if (mkdir(dir, 0777) != 0 && errno != EEXIST)
        return -1;
    if (write_index(r, dir) != 0)
        return -1;
    for (size_t i = 0; i < report_observation_count(r); i++)
        if (write_page(r, i, dir) != 0)
            return -1;
    return 0;
}
