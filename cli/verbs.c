/* verbs.c — list, explain, run, replay, prove and demo (cli.h). Each takes
 * the arguments after its name; bad usage exits 2 through usage_error. Runs
 * go through harness_run, which forks: this process stays single-threaded
 * (see chanlab.c). */
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* A schedule string that starts so replays on the variant's proof workload
 * (run_proof): "proof:" + the schedule. */
#define PROOF_MARK "proof:"
/* chanlab run --proof-workload: the runs are on the proof workload, so their
 * replay commands say so. */
static bool run_on_proof_workload;

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

/* The proof (issue 16 §2): after a controlled search that observed nothing
 * at all, an exhaustive search with partial-order reduction of the
 * variant's proof workload (pattern.h), without a bound, then — when that
 * does not finish within the budget — within PATTERN_PROOF_PREEMPTIONS
 * preemptions. The decision to run it is made from what was observed (PASS,
 * nothing else seen), never from the verdict the variant expects. A bug it
 * finds becomes the observation (*found, *bug); else *pf says how far it
 * went. Its wall bound is the variant's, at most 60 s: the budget, not the
 * clock, ends a proof, so that its result is the same on every machine
 * (the wall bound is a last resort, and says so). */
static void run_proof(const pattern *p, const harness_options *base, report_proof *pf,
                      harness_result *found, bool *bug)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    unsigned budget = p->proof_schedules ? p->proof_schedules : PATTERN_PROOF_SCHEDULES;
    harness_options o = *base;
    o.strategy = HARNESS_EXHAUSTIVE;
    o.schedules = budget;
    o.preemption_bound = HARNESS_UNBOUNDED;
    o.choice_bound = HARNESS_UNBOUNDED;
    o.no_reduction = false;
    o.keep_going = false;
    o.replay = NULL;
    if (o.timeout <= 0 || o.timeout > 60 * CSP_SECOND)
        o.timeout = 60 * CSP_SECOND;
    *pf = (report_proof){ .kind = REPORT_PROOF_NONE, .budget = budget, .workload = p->proof_workload };
    *bug = false;
    for (int pass = 0; pass < 2; pass++) {
        harness_result res;
        if (p->proof_setup)
            p->proof_setup(true);
        int ran = harness_run(p->entry, NULL, &o, &res);
        if (p->proof_setup)
            p->proof_setup(false);
        if (ran != 0) {
            harness_result_free(&res);
            pf->kind = REPORT_PROOF_NONE;
            break;
        }
        if (res.verdict != HARNESS_PASS || res.seen != (1u << HARNESS_PASS)) {
            *found = res;
            *bug = true;
            break;
        }
        pf->schedules = res.schedules_run - res.schedules_redone;   /* the search that covered it */
        pf->pruned = res.schedules_pruned;
        pf->preemption_bound = o.preemption_bound;
        bool wall = res.message && strstr(res.message, "wall bound"), exhausted = res.exhausted;
        harness_result_free(&res);
        if (exhausted) {
            pf->kind = pass == 0 ? REPORT_PROOF_ALL : REPORT_PROOF_BOUNDED;
            break;
        }
        pf->kind = REPORT_PROOF_BUDGET;
        pf->preemption_bound = PATTERN_PROOF_PREEMPTIONS;
        pf->wall = wall;
        if (wall)
            break;
        o.preemption_bound = PATTERN_PROOF_PREEMPTIONS;
    }
    pf->seconds = seconds_since(&t0);
}

/* Runs p in `mode` with options o and adds what was observed to r; with
 * `proof`, a controlled search that observed nothing is followed by its
 * proof (run_proof). Returns harness_run's status; on -1 *refusal holds its
 * message (caller frees). */
static int observe(report *r, size_t vi, const pattern *p, int mode, const harness_options *o,
                   const char *strategy, char **refusal, bool proof)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    harness_result res;
    pattern_prepare(p, mode);
    harness_options oo = *o;   /* a "proof:" schedule replays on the proof workload */
    bool proof_workload = false;
    if (oo.replay && !strncmp(oo.replay, PROOF_MARK, strlen(PROOF_MARK))) {
        oo.replay += strlen(PROOF_MARK);
        proof_workload = p->proof_setup != NULL;
    }
    o = &oo;
    if (proof_workload)
        p->proof_setup(true);
    int ran = harness_run(p->entry, NULL, o, &res);
    if (proof_workload)
        p->proof_setup(false);
    report_proof pf = { .kind = REPORT_PROOF_NONE };
    char *message = NULL;
    bool on_proof_workload = false;
    if (proof && ran == 0 && mode == PATTERN_IN_CONTROLLED && res.verdict == HARNESS_PASS &&
        res.seen == (1u << HARNESS_PASS)) {
        harness_result found;
        bool bug;
        run_proof(p, o, &pf, &found, &bug);
        if (bug) {   /* the proof found what the search did not: that is the observation */
            harness_result_free(&res);
            res = found;
            strategy = "exhaustive (proof)";
            on_proof_workload = p->proof_setup != NULL;
        } else if (pf.kind != REPORT_PROOF_NONE) {
            char words[256];
            size_t n = strlen(res.message ? res.message : "") + 320;
            message = malloc(n);
            if (message)
                snprintf(message, n, "%s; proof: %s", res.message ? res.message : "",
                         report_proof_str(&pf, words, sizeof words));
        }
    }
    report_observation ob = { .variant = vi, .mode = mode, .strategy = strategy };
    report_observation_from_result(&ob, &res, ran);
    ob.proof = pf;
    if (message)
        ob.message = message;
    ob.seconds = seconds_since(&t0);
    char *replay = NULL, *rerun = NULL;
    if (ran == 0 && mode == PATTERN_IN_CONTROLLED && res.schedule) {
        size_t n = strlen(p->id) + strlen(res.schedule) + 64;
        replay = malloc(n);
        if (replay)   /* a bug the proof found on its smaller workload replays there */
            snprintf(replay, n, "chanlab replay %s %s%s", p->id,
                     on_proof_workload || proof_workload || run_on_proof_workload ? PROOF_MARK : "",
                     res.schedule);
    } else if (ran == 0) {
        size_t n = strlen(p->id) + 96;
        rerun = malloc(n);
        /* Runs 2.. of a search had noise: the line names it, so they get it again. */
        if (rerun && o->schedules > 1)
            snprintf(rerun, n, "chanlab run %s --mode free --seed %" PRIu64 " --schedules %u --noise %u",
                     p->id, o->seed, o->schedules, o->noise);
        else if (rerun)
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
    free(message);
    harness_result_free(&res);
    return ran;
}

int cmd_list(int argc, char **argv)
{
    static const option_spec specs[] = { { "--family", true }, { "--json", false } };
    parsed_args pa;
    parse_args(argc, argv, specs, 2, 0, list_help, "--family F, --json", &pa);
    const char *family = check_family(pa.value[0]);
    if (cli_check_only)
        return 0;
    report *r = new_report("list", family ? family : "the catalog");
    for (size_t i = 0; i < pattern_count(); i++)
        if (in_family(pattern_at(i), family))
            add_variant(r, pattern_at(i));
    int rc = pa.given[1] ? report_write_json(r, stdout) : report_write_catalog(r, stdout, output_flags(stdout));
    report_free(r);
    return rc == 0 ? 0 : 1;
}

int cmd_explain(int argc, char **argv)
{
    parsed_args pa;
    parse_args(argc, argv, NULL, 0, 1, explain_help, "ID", &pa);
    if (pa.npos < 1)
        usage_error("which variant? (accepted: chanlab explain ID, an id that 'chanlab list' shows)");
    const pattern *p = find_variant(pa.pos[0]);
    if (cli_check_only)
        return 0;
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

/* Events kept per run for the HTML report's timelines and traces. */
enum { HTML_EVENTS = 2048 };

/* Writes the HTML report of r into dir; 0, or 1 after saying why not. */
static int write_html(const report *r, const char *dir)
{
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (report_write_html(r, dir) == 0) {
        fprintf(stderr, "chanlab: HTML report in %s/index.html (written in %.2f s)\n", dir,
                seconds_since(&t0));
        return 0;
    }
    fprintf(stderr, "chanlab: writing the HTML report into %s failed: %s\n", dir, strerror(errno));
    return 1;
}

/* Prints one observation (text or JSON), then writes its HTML report into
 * html_dir (if not NULL), with the variant's bug or fix beside it; 0 as
 * expected, 1 not. */
static int finish_single(report *r, bool json, const char *html_dir)
{
    const report_observation *o = report_observation_at(r, 0);
    if (json)
        report_write_json(r, stdout);
    else
        report_write_observation(r, 0, stdout, output_flags(stdout));
    int rc = report_matches(r, o) ? 0 : 1;
    if (html_dir) {
        const report_variant *v = report_variant_at(r, o->variant);
        const char *id = v->id, *fix = v->fixed_by;
        for (size_t i = 0; i < pattern_count(); i++) {
            const pattern *p = pattern_at(i);
            if ((fix && !strcmp(p->id, fix)) || (p->fixed_by && !strcmp(p->fixed_by, id)))
                add_variant(r, p);
        }
        if (write_html(r, html_dir) != 0)
            rc = 1;
    }
    report_free(r);
    return rc;
}

/* An exhaustive search's bound: 0 to 1000, or "none". */
static unsigned parse_bound(const char *opt, const char *v)
{
    if (!strcmp(v, "none"))
        return HARNESS_UNBOUNDED;
    if (!*v || strspn(v, "0123456789") != strlen(v) || strlen(v) > 4 || atoi(v) > 1000)
        usage_error("bad value '%s' for %s (accepted: a whole number from 0 to 1000, or none)", v, opt);
    return (unsigned)atoi(v);
}

int cmd_run(int argc, char **argv)
{
    static const option_spec specs[] = {
        { "--mode", true }, { "--strategy", true }, { "--schedules", true }, { "--seed", true },
        { "--json", false }, { "--noise", true }, { "--html", true }, { "--preemption-bound", true },
        { "--no-reduction", false }, { "--proof-workload", false }, { "--choice-bound", true },
        { "--timeout", true },
    };
    static const char accepted[] = "ID, --mode free|controlled, --strategy random|pct|exhaustive, "
                                   "--schedules N, --seed S, --noise PERMILLE, --json, --html DIR, "
                                   "--preemption-bound K|none, --choice-bound K|none, --no-reduction, "
                                   "--proof-workload, --timeout SECONDS";
    parsed_args pa;
    parse_args(argc, argv, specs, 12, 1, run_help, accepted, &pa);
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
    if (pa.given[5]) {
        if (mode != PATTERN_IN_FREE)
            usage_error("--noise applies to free mode only (accepted: --mode free)");
        o.noise = (unsigned)parse_number("--noise", pa.value[5], 0, 1000);
    }
    if (pa.given[6])
        o.events = HTML_EVENTS;
    if ((pa.given[7] || pa.given[8] || pa.given[10]) && o.strategy != HARNESS_EXHAUSTIVE)
        usage_error("%s applies to the exhaustive strategy only (accepted: --strategy exhaustive)",
                    pa.given[7] ? "--preemption-bound" : pa.given[8] ? "--no-reduction" : "--choice-bound");
    if (pa.given[10])
        o.choice_bound = parse_bound("--choice-bound", pa.value[10]);
    if (pa.given[11])
        o.timeout = (csp_duration)parse_number("--timeout", pa.value[11], 1, 3600) * CSP_SECOND;
    if (pa.given[7])
        o.preemption_bound = parse_bound("--preemption-bound", pa.value[7]);
    if (pa.given[8])
        o.no_reduction = true;
    if (pa.given[9] && (mode != PATTERN_IN_CONTROLLED || !p->proof_setup))
        usage_error("%s has no proof workload in %s mode (accepted: --proof-workload with a variant "
                    "whose 'chanlab prove' proof names a workload, in controlled mode)", p->id,
                    mode == PATTERN_IN_CONTROLLED ? "controlled" : "free");
    if (cli_check_only)
        return 0;
    if (pa.given[9]) {
        p->proof_setup(true);
        run_on_proof_workload = true;
    }
    report *r = new_report("run", p->id);
    size_t vi = add_variant(r, p);
    char *refusal = NULL;
    if (observe(r, vi, p, mode, &o, mode == PATTERN_IN_CONTROLLED ? strategy_name(o.strategy) : NULL,
                &refusal, false) != 0) {
        report_free(r);
        usage_error("%s", refusal);
    }
    return finish_single(r, pa.given[4], pa.given[6] ? pa.value[6] : NULL);
}

/* The whole of a schedule fuzzer's input file (at most 1 MiB). */
static uint8_t *read_bytes_file(const char *path, size_t *n)
{
    enum { MAX_BYTES = 1 << 20 };
    FILE *f = fopen(path, "rb");
    if (!f)
        usage_error("cannot read --bytes '%s': %s (accepted: a file of scheduler decisions, "
                    "such as a schedule fuzzer's crash file)", path, strerror(errno));
    uint8_t *data = malloc(MAX_BYTES + 1);
    if (!data) {
        fprintf(stderr, "chanlab: out of memory\n");
        exit(1);
    }
    *n = fread(data, 1, MAX_BYTES + 1, f);
    bool bad = ferror(f);
    fclose(f);
    if (bad || *n > MAX_BYTES)
        usage_error("--bytes '%s' is %s (accepted: a readable file of at most 1 MiB)", path,
                    bad ? "unreadable" : "larger than 1 MiB");
    return data;
}

int cmd_replay(int argc, char **argv)
{
    static const option_spec specs[] = { { "--json", false }, { "--bytes", true } };
    parsed_args pa;
    parse_args(argc, argv, specs, 2, 2, replay_help, "ID SCHEDULE, ID --bytes FILE, --json", &pa);
    bool bytes = pa.given[1];
    if (pa.npos < (bytes ? 1 : 2) || (bytes && pa.npos > 1))
        usage_error("needs a variant and a schedule (accepted: chanlab replay ID SCHEDULE, "
                    "with the schedule that 'chanlab run' or 'chanlab prove' printed, or "
                    "chanlab replay ID --bytes FILE)");
    const pattern *p = find_variant(pa.pos[0]);
    if (!(p->modes & PATTERN_CONTROLLED))
        usage_error("%s does not run in controlled mode, so it has no schedule to replay "
                    "(accepted: a variant that 'chanlab list' shows with a CONTROLLED verdict)", p->id);
    if (cli_check_only)
        return 0;
    harness_options o = pattern_options(p, PATTERN_IN_CONTROLLED);
    uint8_t *data = NULL;
    if (bytes) {
        size_t n = 0;
        data = read_bytes_file(pa.value[1], &n);
        o.strategy = HARNESS_BYTES;
        o.bytes = data;
        o.nbytes = n;
        o.bytes_then_random = true;   /* as the schedule fuzzer reads them */
        o.schedules = 1;
    } else {
        o.replay = pa.pos[1];
        if (!strncmp(o.replay, PROOF_MARK, strlen(PROOF_MARK)) && !p->proof_setup)
            usage_error("%s has no proof workload, so a 'proof:' schedule does not apply to it "
                        "(accepted: the schedule as 'chanlab prove' printed it)", p->id);
    }
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
    if (observe(r, vi, p, PATTERN_IN_CONTROLLED, &o, "replay", &refusal, false) != 0) {
        report_free(r);
        usage_error("%s", refusal);
    }
    free(data);
    return finish_single(r, pa.given[0], NULL);
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

int cmd_prove(int argc, char **argv)
{
    static const option_spec specs[] = {
        { "--family", true }, { "--json", true }, { "--junit", true }, { "--noise", true },
        { "--html", true },
    };
    parsed_args pa;
    parse_args(argc, argv, specs, 5, 0, prove_help,
               "--family F, --json FILE, --junit FILE, --noise PERMILLE, --html DIR", &pa);
    const char *family = check_family(pa.value[0]);
    unsigned noise = pa.given[3] ? (unsigned)parse_number("--noise", pa.value[3], 0, 1000)
                                 : HARNESS_DEFAULT_NOISE;
    if (cli_check_only)
        return 0;
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
            if (mode == PATTERN_IN_FREE)
                o.noise = noise;
            if (pa.given[4])
                o.events = HTML_EVENTS;
            observe(r, vi, p, mode, &o, mode == PATTERN_IN_CONTROLLED ? strategy_name(o.strategy) : NULL,
                    NULL, true);
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
    if (pa.given[4] && write_html(r, pa.value[4]) != 0)
        rc = 1;
    report_totals t = report_summarize(r);
    if (t.as_expected != t.observations)
        rc = 1;
    report_free(r);
    return rc;
}

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

int cmd_demo(int argc, char **argv)
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
    if (cli_check_only)   /* a demo checks its own arguments as it runs */
        return 0;
    for (int i = 1; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            printf("usage: chanlab demo %s %s\n\n%s\n", d->name, d->usage, d->summary);
            return 0;
        }
    fflush(stdout);
    return d->main(argc - 1, argv + 1);
}
