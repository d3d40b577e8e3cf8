/* chanlab.c — the `chanlab` command (DESIGN.md §6): list, explain, run,
 * replay and prove the catalog of GOPL §8.5–8.10, and run its demos.
 *
 * Exit status: 0 success (every verdict as expected), 1 a verdict not as
 * expected (or a demo's own check failed), 2 bad usage — always with one
 * line on stderr saying what was wrong and what is accepted.
 *
 * Invariant: outside `demo`, this process never calls the runtime (csp_*).
 * harness_run forks for every run, and the forking process must be
 * single-threaded (under ThreadSanitizer a child of a multi-threaded parent
 * ignores every memory access); a demo is the whole process and runs no
 * harness. */
#include "pattern.h"
#include "report.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* ------------------------------------------------------------------ Help */

static const char general_help[] =
    "usage: chanlab VERB [ARGS]   (chanlab VERB --help for one verb)\n"
    "\n"
    "The concurrency patterns of The Go Programming Language, §8.5-8.10, in C: each in\n"
    "its correct form and in the buggy forms the book warns about, with the verdict the\n"
    "harness observes by running it (PASS, LEAK, DEADLOCK, HANG, PANIC, RACE, ...).\n"
    "\n"
    "  list     [--family F] [--json]          the catalog: ids, book functions, expected verdicts\n"
    "  explain  ID                             lesson, fix, and the bug's code against the fix's\n"
    "  run      ID [--mode M] [--strategy S] [--schedules N] [--seed S] [--json]\n"
    "                                          run one variant; verdict, evidence, replay command\n"
    "  replay   ID SCHEDULE [--json]           replay one controlled-mode run exactly\n"
    "  prove    [--family F] [--json FILE] [--junit FILE]\n"
    "                                          every variant in every mode it declares: the table\n"
    "  demo     NAME [ARGS]                    the families as real programs (chanlab demo --help)\n"
    "  --version                               print 'chanlab VERSION'\n"
    "\n"
    "Exit status: 0 every verdict as expected, 1 one was not, 2 bad usage.\n";

static const char list_help[] =
    "usage: chanlab list [--family F] [--json]\n"
    "\n"
    "The catalog: one line per variant with its book section and function, the verdicts\n"
    "expected in free and in controlled mode, and the variant that fixes it.\n"
    "  --family F   only the variants of family F (the part of the id before the dot)\n"
    "  --json       the same as JSON on standard output\n";

static const char explain_help[] =
    "usage: chanlab explain ID\n"
    "\n"
    "A variant explained: its lesson, book section and function, the verdicts expected in\n"
    "each mode, the variant that fixes it, and its entry function against the fix's, line\n"
    "by line (\"-\" only in the bug, \"+\" only in the fix, \"!\" a line marked BUG(...)).\n";

static const char run_help[] =
    "usage: chanlab run ID [--mode free|controlled] [--strategy random|pct|exhaustive]\n"
    "                      [--schedules N] [--seed S] [--json]\n"
    "\n"
    "Runs one variant under the harness and prints the verdict against the expected one,\n"
    "the one-line evidence, the dump of every task, the schedule and the command that\n"
    "replays it.\n"
    "  --mode M         free (real threads) or controlled (the deterministic scheduler);\n"
    "                   default: controlled if the variant declares it, else free\n"
    "  --strategy S     controlled mode's search: random (default), pct or exhaustive\n"
    "  --schedules N    runs (free) or schedules (controlled) to try, 1 to 1000000;\n"
    "                   default: what the variant declares\n"
    "  --seed S         seed of the search (free mode: of the runtime's random choices),\n"
    "                   0 to 18446744073709551615; default 1\n"
    "  --json           the result as JSON on standard output\n"
    "Exit status 0 when the verdict is one the variant expects, 1 when not.\n";

static const char replay_help[] =
    "usage: chanlab replay ID SCHEDULE [--json]\n"
    "\n"
    "Replays exactly one controlled-mode run of a variant, from the schedule that `run`\n"
    "or `prove` printed (v1:random:..., v1:pct:... or v1:x:...), and prints it as `run`\n"
    "does. A schedule that does not parse, or does not fit the variant, is bad usage.\n"
    "Exit status 0 when the verdict is one the variant expects, 1 when not. A replay is\n"
    "one run, so a variant expected NONDETERMINISTIC (a verdict that compares runs) is\n"
    "expected to PASS here, printing exactly the output of the run replayed.\n";

static const char prove_help[] =
    "usage: chanlab prove [--family F] [--json FILE] [--junit FILE]\n"
    "\n"
    "Runs every variant (of family F) in every mode it declares, with the bounds and the\n"
    "number of schedules it declares, and prints a table: id, mode, expected, observed,\n"
    "evidence; then the replay command of every failure found. Progress goes to standard\n"
    "error when that is a terminal.\n"
    "  --family F     only the variants of family F\n"
    "  --json FILE    also write the results as JSON (results.json)\n"
    "  --junit FILE   also write them as JUnit XML, a testcase per variant and mode\n"
    "Exit status 0 when every observed verdict is one its variant expects, 1 otherwise.\n";

static const char demo_help_head[] =
    "usage: chanlab demo NAME [ARGS]   (chanlab demo NAME --help)\n"
    "\n"
    "Each family is also a real program, on real threads and real time:\n";

/* ----------------------------------------------------------------- Usage */

static const char *verb = NULL;   /* for error messages: "chanlab run: ..." */

/* One line on stderr — what was wrong, what is accepted — and exit 2. */
static _Noreturn CSP_PRINTF(1, 2) void usage_error(const char *fmt, ...)
{
    if (verb)
        fprintf(stderr, "chanlab %s: ", verb);
    else
        fputs("chanlab: ", stderr);
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    exit(2);
}

typedef struct {
    const char *name;          /* "--mode" */
    bool takes_value;
} option_spec;

#define MAX_OPTIONS 8
#define MAX_POSITIONAL 4

typedef struct {
    const char *value[MAX_OPTIONS];
    bool given[MAX_OPTIONS];
    const char *pos[MAX_POSITIONAL];
    int npos;
} parsed_args;

/* Parses `--name value`, `--name=value` and positional arguments; --help
 * anywhere prints `help` and exits 0. Anything else is bad usage. */
static void parse_args(int argc, char **argv, const option_spec *specs, size_t nspecs,
                       int max_pos, const char *help, const char *accepted, parsed_args *pa)
{
    memset(pa, 0, sizeof *pa);
    for (int i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(help, stdout);
            exit(0);
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

/* A whole decimal number in [lo, hi]: no sign, no spaces, no suffix. */
static uint64_t parse_number(const char *opt, const char *s, uint64_t lo, uint64_t hi)
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

/* ------------------------------------------------------------- Catalog */

static bool in_family(const pattern *p, const char *family)
{
    char buf[96];
    return !family || strcmp(pattern_family(p, buf, sizeof buf), family) == 0;
}

/* "countdown, select, ..." — every family, in id order. */
static const char *family_list(char *buf, size_t size)
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

static const char *check_family(const char *family)
{
    if (!family)
        return NULL;
    for (size_t i = 0; i < pattern_count(); i++)
        if (in_family(pattern_at(i), family))
            return family;
    char fams[512];
    usage_error("no family '%s' (accepted: %s)", family, family_list(fams, sizeof fams));
}

static const pattern *find_variant(const char *id)
{
    const pattern *p = pattern_find(id);
    if (!p)
        usage_error("unknown variant '%s' (accepted: an id that 'chanlab list' shows, "
                    "like countdown.tick)", id);
    return p;
}

static report_variant variant_of(const pattern *p)
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

static report *new_report(const char *kind, const char *title)
{
    report *r = report_new(kind, title);
    if (!r) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    return r;
}

static size_t add_variant(report *r, const pattern *p)
{
    report_variant v = variant_of(p);
    size_t i = report_add_variant(r, &v);
    if (i == (size_t)-1) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    return i;
}

static unsigned output_flags(FILE *out)
{
    const char *term = getenv("TERM");
    return isatty(fileno(out)) && !getenv("NO_COLOR") && term && strcmp(term, "dumb") != 0
        ? REPORT_COLOR : 0;
}

/* ---------------------------------------------------------------- Runs */

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static const char *strategy_name(harness_strategy s)
{
    return s == HARNESS_PCT ? "pct" : s == HARNESS_EXHAUSTIVE ? "exhaustive" : "random";
}

/* Runs p in `mode` with options o and adds what was observed to r. Returns
 * harness_run's status; on -1 *refusal holds its message (caller frees). */
static int observe(report *r, size_t vi, const pattern *p, int mode, const harness_options *o,
                   const char *strategy, char **refusal)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    harness_result res;
    int ran = harness_run(p->entry, NULL, o, &res);
    report_observation ob = { .variant = vi, .mode = mode, .strategy = strategy };
    report_observation_from_result(&ob, &res, ran);
    ob.seconds = seconds_since(&t0);
    char *replay = NULL, *rerun = NULL;
    if (ran == 0 && mode == PATTERN_IN_CONTROLLED && res.schedule) {
        size_t n = strlen(p->id) + strlen(res.schedule) + 32;
        replay = malloc(n);
        if (replay)
            snprintf(replay, n, "chanlab replay %s %s", p->id, res.schedule);
    } else if (ran == 0) {
        size_t n = strlen(p->id) + 96;
        rerun = malloc(n);
        if (rerun)
            snprintf(rerun, n, "chanlab run %s --mode free --seed %" PRIu64 " --schedules %u", p->id,
                     o->seed, o->schedules);
    }
    ob.replay = replay;
    ob.rerun = rerun;
    if (report_add_observation(r, &ob) == (size_t)-1) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    if (ran != 0 && refusal)
        *refusal = strdup(res.message ? res.message : "harness_run refused the run");
    free(replay);
    free(rerun);
    harness_result_free(&res);
    return ran;
}

/* ---------------------------------------------------------------- Verbs */

static int cmd_list(int argc, char **argv)
{
    static const option_spec specs[] = { { "--family", true }, { "--json", false } };
    parsed_args pa;
    parse_args(argc, argv, specs, 2, 0, list_help, "--family F, --json", &pa);
    const char *family = check_family(pa.value[0]);
    report *r = new_report("list", family ? family : "the catalog");
    for (size_t i = 0; i < pattern_count(); i++)
        if (in_family(pattern_at(i), family))
            add_variant(r, pattern_at(i));
    int rc = pa.given[1] ? report_write_json(r, stdout) : report_write_catalog(r, stdout, output_flags(stdout));
    report_free(r);
    return rc == 0 ? 0 : 1;
}

static int cmd_explain(int argc, char **argv)
{
    parsed_args pa;
    parse_args(argc, argv, NULL, 0, 1, explain_help, "ID", &pa);
    if (pa.npos < 1)
        usage_error("which variant? (accepted: chanlab explain ID, an id that 'chanlab list' shows)");
    const pattern *p = find_variant(pa.pos[0]);
    report *r = new_report("explain", p->id);
    size_t vi = 0;
    for (size_t i = 0; i < pattern_count(); i++) {
        size_t k = add_variant(r, pattern_at(i));
        if (pattern_at(i) == p)
            vi = k;
    }
    int rc = report_write_explain(r, vi, stdout, output_flags(stdout));
    report_free(r);
    return rc == 0 ? 0 : 1;
}

static int mode_of(const pattern *p, const char *name)
{
    if (!name)
        return p->modes & PATTERN_CONTROLLED ? PATTERN_IN_CONTROLLED : PATTERN_IN_FREE;
    int m = !strcmp(name, "free") ? PATTERN_IN_FREE : !strcmp(name, "controlled") ? PATTERN_IN_CONTROLLED : -1;
    if (m < 0)
        usage_error("bad value '%s' for --mode (accepted: free, controlled)", name);
    if (!(p->modes & (1u << m)))
        usage_error("%s does not run in %s mode (accepted: --mode %s)", p->id, name,
                    m == PATTERN_IN_FREE ? "controlled" : "free");
    return m;
}

static harness_strategy strategy_of(const char *name)
{
    if (!strcmp(name, "random"))
        return HARNESS_RANDOM;
    if (!strcmp(name, "pct"))
        return HARNESS_PCT;
    if (!strcmp(name, "exhaustive"))
        return HARNESS_EXHAUSTIVE;
    usage_error("bad value '%s' for --strategy (accepted: random, pct, exhaustive)", name);
}

/* Prints one observation (text or JSON); 0 as expected, 1 not. */
static int finish_single(report *r, bool json)
{
    const report_observation *o = report_observation_at(r, 0);
    if (json)
        report_write_json(r, stdout);
    else
        report_write_observation(r, 0, stdout, output_flags(stdout));
    int rc = report_matches(r, o) ? 0 : 1;
    report_free(r);
    return rc;
}

static int cmd_run(int argc, char **argv)
{
    static const option_spec specs[] = {
        { "--mode", true }, { "--strategy", true }, { "--schedules", true }, { "--seed", true },
        { "--json", false },
    };
    static const char accepted[] = "ID, --mode free|controlled, --strategy random|pct|exhaustive, "
                                   "--schedules N, --seed S, --json";
    parsed_args pa;
    parse_args(argc, argv, specs, 5, 1, run_help, accepted, &pa);
    if (pa.npos < 1)
        usage_error("which variant? (accepted: chanlab run ID [options], an id that 'chanlab list' shows)");
    const pattern *p = find_variant(pa.pos[0]);
    int mode = mode_of(p, pa.value[0]);
    harness_options o = pattern_options(p, mode);
    if (pa.given[1]) {
        if (mode != PATTERN_IN_CONTROLLED)
            usage_error("--strategy applies to controlled mode only (accepted: --mode controlled)");
        o.strategy = strategy_of(pa.value[1]);
    }
    if (pa.given[2])
        o.schedules = (unsigned)parse_number("--schedules", pa.value[2], 1, 1000000);
    if (pa.given[3])
        o.seed = parse_number("--seed", pa.value[3], 0, UINT64_MAX);
    report *r = new_report("run", p->id);
    size_t vi = add_variant(r, p);
    char *refusal = NULL;
    if (observe(r, vi, p, mode, &o, mode == PATTERN_IN_CONTROLLED ? strategy_name(o.strategy) : NULL,
                &refusal) != 0) {
        report_free(r);
        usage_error("%s", refusal);
    }
    return finish_single(r, pa.given[4]);
}

static int cmd_replay(int argc, char **argv)
{
    static const option_spec specs[] = { { "--json", false } };
    parsed_args pa;
    parse_args(argc, argv, specs, 1, 2, replay_help, "ID SCHEDULE, --json", &pa);
    if (pa.npos < 2)
        usage_error("needs a variant and a schedule (accepted: chanlab replay ID SCHEDULE, "
                    "with the schedule that 'chanlab run' or 'chanlab prove' printed)");
    const pattern *p = find_variant(pa.pos[0]);
    if (!(p->modes & PATTERN_CONTROLLED))
        usage_error("%s does not run in controlled mode, so it has no schedule to replay "
                    "(accepted: a variant that 'chanlab list' shows with a CONTROLLED verdict)", p->id);
    harness_options o = pattern_options(p, PATTERN_IN_CONTROLLED);
    o.replay = pa.pos[1];
    report *r = new_report("replay", p->id);
    /* NONDETERMINISTIC compares several runs; a replay is one, which passes. */
    report_variant v = variant_of(p);
    if (v.expect[PATTERN_IN_CONTROLLED] & V(NONDETERMINISTIC))
        v.expect[PATTERN_IN_CONTROLLED] |= V(PASS);
    size_t vi = report_add_variant(r, &v);
    if (vi == (size_t)-1) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    char *refusal = NULL;
    if (observe(r, vi, p, PATTERN_IN_CONTROLLED, &o, "replay", &refusal) != 0) {
        report_free(r);
        usage_error("%s", refusal);
    }
    return finish_single(r, pa.given[0]);
}

static FILE *open_output(const char *opt, const char *path)
{
    if (!path)
        return NULL;
    FILE *f = fopen(path, "w");
    if (!f)
        usage_error("cannot write %s '%s': %s (accepted: a file path that can be written)", opt, path,
                    strerror(errno));
    return f;
}

static void close_output(FILE *f, const char *path, int *rc)
{
    if (f && (ferror(f) | fclose(f))) {
        fprintf(stderr, "chanlab prove: writing %s failed\n", path);
        *rc = 1;
    }
}

static int cmd_prove(int argc, char **argv)
{
    static const option_spec specs[] = { { "--family", true }, { "--json", true }, { "--junit", true } };
    parsed_args pa;
    parse_args(argc, argv, specs, 3, 0, prove_help, "--family F, --json FILE, --junit FILE", &pa);
    const char *family = check_family(pa.value[0]);
    FILE *json = open_output("--json", pa.value[1]);
    FILE *junit = open_output("--junit", pa.value[2]);
    char title[160];
    snprintf(title, sizeof title, "chanlab prove%s%s", family ? " --family " : "", family ? family : "");
    report *r = new_report("prove", title);
    size_t total = 0, done = 0;
    for (size_t i = 0; i < pattern_count(); i++)
        if (in_family(pattern_at(i), family))
            total += (size_t)__builtin_popcount(pattern_at(i)->modes & 3u);
    bool progress = isatty(STDERR_FILENO);
    for (size_t i = 0; i < pattern_count(); i++) {
        const pattern *p = pattern_at(i);
        if (!in_family(p, family))
            continue;
        size_t vi = add_variant(r, p);
        for (int mode = 0; mode < 2; mode++) {
            if (!(p->modes & (1u << mode)))
                continue;
            if (progress) {
                fprintf(stderr, "\r\033[K[%zu/%zu] %s (%s)", ++done, total, p->id,
                        mode ? "controlled" : "free");
                fflush(stderr);
            }
            harness_options o = pattern_options(p, mode);
            observe(r, vi, p, mode, &o, mode == PATTERN_IN_CONTROLLED ? strategy_name(o.strategy) : NULL,
                    NULL);
        }
    }
    if (progress)
        fprintf(stderr, "\r\033[K");
    int rc = report_write_table(r, stdout, output_flags(stdout)) == 0 ? 0 : 1;
    if (json)
        report_write_json(r, json);
    if (junit)
        report_write_junit(r, junit);
    close_output(json, pa.value[1], &rc);
    close_output(junit, pa.value[2], &rc);
    report_totals t = report_summarize(r);
    if (t.as_expected != t.observations)
        rc = 1;
    report_free(r);
    return rc;
}

/* ----------------------------------------------------------------- Demos */

static const char *demo_list(char *buf, size_t size)
{
    size_t n = 0;
    buf[0] = 0;
    for (size_t i = 0; i < demo_count(); i++) {
        int k = snprintf(buf + n, n < size ? size - n : 0, "%s%s", n ? ", " : "", demo_at(i)->name);
        if (k > 0)
            n += (size_t)k;
    }
    return buf;
}

static int cmd_demo(int argc, char **argv)
{
    char names[512];
    if (argc < 1)
        usage_error("which demo? (accepted: %s)", demo_list(names, sizeof names));
    if (!strcmp(argv[0], "--help") || !strcmp(argv[0], "-h")) {
        fputs(demo_help_head, stdout);
        for (size_t i = 0; i < demo_count(); i++)
            printf("  %-10s %s\n  %-10s %s\n", demo_at(i)->name, demo_at(i)->usage, "",
                   demo_at(i)->summary);
        return 0;
    }
    const demo *d = demo_find(argv[0]);
    if (!d)
        usage_error("unknown demo '%s' (accepted: %s)", argv[0], demo_list(names, sizeof names));
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: chanlab demo %s %s\n\n%s\n", d->name, d->usage, d->summary);
            return 0;
        }
    fflush(stdout);
    return d->main(argc - 1, argv + 1);
}

/* ------------------------------------------------------------------ Main */

int main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } verbs[] = {
        { "list", cmd_list }, { "explain", cmd_explain }, { "run", cmd_run },
        { "replay", cmd_replay }, { "prove", cmd_prove }, { "demo", cmd_demo },
    };
    if (argc < 2)
        usage_error("which verb? (accepted: list, explain, run, replay, prove, demo, --help, --version)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(general_help, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("chanlab " CHANLAB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (!strcmp(argv[1], verbs[i].name)) {
            verb = verbs[i].name;
            return verbs[i].run(argc - 2, argv + 2);
        }
    usage_error("unknown verb '%s' (accepted: list, explain, run, replay, prove, demo, --help, --version)", argv[1]);
}
