/* strategy.c — the scheduler strategies of controlled mode and the schedule
 * strings that name their runs (DESIGN §3, §7).
 *
 * Every strategy answers csp_sched_hooks.decide and records each answer, so
 * any run can be written out as an explicit schedule ("v1:x:..."), which
 * replays it exactly; seeded strategies also have a short form
 * ("v1:pct:seed=42:depth=3:run=537").
 *
 *  RANDOM      each decision uniform among its options (seeded per run).
 *  PCT         Burckhardt et al., ASPLOS 2010: tasks get random distinct
 *              priorities (a task spawned later gets a random rank among the
 *              live ones); the highest-priority runnable task runs; at d-1
 *              change points drawn uniformly over the estimated run length the
 *              running task drops below every initial priority. No task can
 *              starve the others forever: one picked over waiting tasks for
 *              STARVE_LIMIT decisions in a row drops to the bottom too.
 *              Select and timer choices are uniform.
 *  BYTES       each decision takes the next byte (two when there are more than
 *              256 options) modulo the options; when the bytes run out, the
 *              running task goes on (else the lowest id), choices take 0.
 *  EXHAUSTIVE  depth-first over every decision (stateless, like CHESS) with at
 *              most preemption_bound preemptions and choice_bound non-default
 *              select/timer choices per run; `exhausted` when the bounded tree
 *              is covered.
 *  REPLAY      the decisions of an explicit schedule, or the seeded run a
 *              short form names; a decision that does not fit the program
 *              stops the run with an error. */
#include "strategy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STARVE_LIMIT 2000

/* The decision path runs inside whichever task's fiber reaches a decision:
 * like the runtime, it must be invisible to TSan (HARNESS_QUIET), or it would
 * order tasks that Go's memory model leaves unordered. */

/* ----------------------------------------------------------------- Random */

HARNESS_QUIET static uint64_t splitmix(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

HARNESS_QUIET static size_t below(uint64_t *s, size_t n) { return (size_t)(splitmix(s) % n); }

/* ------------------------------------------------------------ Decisions */

HARNESS_QUIET static void record(harness_strategy_state *st, csp_decision_kind kind, size_t n, int current, size_t pick)
{
    if (st->ndec == st->capdec) {
        st->capdec = st->capdec ? 2 * st->capdec : 256;
        st->dec = csp__realloc(st->dec, st->capdec * sizeof *st->dec);
        if (!st->dec) {
            fprintf(stderr, "harness: out of memory recording decisions\n");
            abort();
        }
    }
    st->dec[st->ndec++] = (harness_decision){
        .pick = (uint32_t)pick, .n = (uint32_t)n, .kind = (uint8_t)kind,
        .preemption = kind == CSP_DECIDE_RUN && current >= 0 && (size_t)current != pick,
        .current_valid = kind == CSP_DECIDE_RUN && current >= 0,
        .current = current >= 0 ? (uint32_t)current : 0 };
}

HARNESS_QUIET static size_t default_pick(csp_decision_kind kind, int current)
{
    return kind == CSP_DECIDE_RUN && current >= 0 ? (size_t)current : 0;
}

/* PCT: the priority of task id (grows the table as ids appear). */
HARNESS_QUIET static int64_t *prio_slot(harness_strategy_state *st, uint64_t id)
{
    if (id >= st->nprio) {
        size_t n = st->nprio ? st->nprio : 64;
        while (n <= id)
            n *= 2;
        int64_t *p = csp__realloc(st->prio, n * sizeof *p);
        if (!p)
            abort();
        for (size_t i = st->nprio; i < n; i++)
            p[i] = 0;
        st->prio = p;
        st->nprio = n;
    }
    return &st->prio[id];
}

HARNESS_QUIET static void pct_spawned(void *ctx, uint64_t id)
{
    harness_strategy_state *st = ctx;
    if (st->strategy != HARNESS_PCT || st->replaying_explicit)
        return;
    /* A random rank among the initial priorities, which sit above every
     * change-point priority (1 .. depth-1). Distinct: high bits random, low
     * bits the id. */
    *prio_slot(st, id) = (int64_t)(st->depth + 1 + below(&st->rng, 1u << 20)) * 4096 + (int64_t)(id % 4096);
}

HARNESS_QUIET static size_t pct_run(harness_strategy_state *st, size_t n, const uint64_t *ids, int current)
{
    /* A change point: the running task drops below all initial priorities. */
    st->pct_step++;
    for (unsigned i = 0; i + 1 < st->depth; i++)
        if (st->change_at[i] == st->pct_step && current >= 0)
            *prio_slot(st, ids[current]) = (int64_t)(i + 1);
    size_t best = 0;
    for (size_t i = 1; i < n; i++)
        if (*prio_slot(st, ids[i]) > *prio_slot(st, ids[best]))
            best = i;
    /* Starvation guard. */
    if (current >= 0 && best == (size_t)current && n > 1) {
        if (++st->same_streak > STARVE_LIMIT) {
            *prio_slot(st, ids[best]) = 0;
            st->same_streak = 0;
            best = best == 0 ? 1 : 0;
            for (size_t i = 0; i < n; i++)
                if (i != (size_t)current && *prio_slot(st, ids[i]) > *prio_slot(st, ids[best]))
                    best = i;
        }
    } else {
        st->same_streak = 0;
    }
    return best;
}

HARNESS_QUIET static size_t bytes_pick(harness_strategy_state *st, csp_decision_kind kind, size_t n, int current)
{
    if (st->bytepos >= st->nbytes)
        return default_pick(kind, current);
    unsigned v = st->bytes[st->bytepos++];
    if (n > 256 && st->bytepos < st->nbytes)
        v = v << 8 | st->bytes[st->bytepos++];
    return v % n;
}

HARNESS_QUIET static size_t exhaustive_pick(harness_strategy_state *st, csp_decision_kind kind, size_t n, int current)
{
    size_t i = st->ndec;
    if (i < st->nprefix) {
        if (st->prefix[i].n != n || st->prefix[i].kind != kind) {
            st->error = "the program made different decisions when replayed "
                        "(it depends on something outside the scheduler: real time, "
                        "randomness, I/O)";
            return n;   /* stops the run */
        }
        return st->prefix[i].pick;
    }
    return default_pick(kind, current);
}

HARNESS_QUIET static size_t explicit_pick(harness_strategy_state *st, csp_decision_kind kind, size_t n, int current)
{
    (void)current;
    size_t i = st->ndec;
    if (i >= st->nprefix) {
        snprintf(st->errbuf, sizeof st->errbuf,
                 "the schedule does not fit the program: it ends after %zu decisions, "
                 "the run needs more", st->nprefix);
        st->error = st->errbuf;
        return n;
    }
    size_t pick = st->prefix[i].pick;
    if (pick >= n) {
        snprintf(st->errbuf, sizeof st->errbuf,
                 "the schedule does not fit the program: decision %zu asks for option %zu of %zu "
                 "(%s)", i + 1, pick + 1, n,
                 kind == CSP_DECIDE_RUN ? "runnable tasks" : kind == CSP_DECIDE_SELECT
                                                                 ? "ready select cases"
                                                                 : "timers due together");
        st->error = st->errbuf;
        return n;
    }
    return pick;
}

HARNESS_QUIET static size_t strategy_decide(void *ctx, csp_decision_kind kind, size_t n, const uint64_t *ids, int current)
{
    harness_strategy_state *st = ctx;
    size_t pick;
    if (st->replaying_explicit)
        pick = explicit_pick(st, kind, n, current);
    else switch (st->strategy) {
    case HARNESS_PCT:
        pick = kind == CSP_DECIDE_RUN ? pct_run(st, n, ids, current) : below(&st->rng, n);
        break;
    case HARNESS_BYTES:
        pick = bytes_pick(st, kind, n, current);
        break;
    case HARNESS_EXHAUSTIVE:
        pick = exhaustive_pick(st, kind, n, current);
        break;
    case HARNESS_RANDOM:
    default:
        pick = below(&st->rng, n);
        break;
    }
    if (pick < n)
        record(st, kind, n, current, pick);
    return pick;
}

/* ------------------------------------------------------------ Lifecycle */

void harness__strategy_init(harness_strategy_state *st, const harness_options *o)
{
    memset(st, 0, sizeof *st);
    st->strategy = o->strategy;
    st->seed = o->seed;
    st->depth = o->pct_depth ? o->pct_depth : 3;
    st->preemption_bound = o->preemption_bound;
    st->choice_bound = o->choice_bound;
    st->bytes = o->bytes;
    st->nbytes = o->nbytes;
    st->estimate = 0;          /* learned from the runs (strategy_end_run) */
    st->hooks = (csp_sched_hooks){ st, strategy_decide, pct_spawned };
}

void harness__strategy_free(harness_strategy_state *st)
{
    csp__free(st->dec);
    csp__free(st->prefix);
    csp__free(st->prio);
    csp__free(st->change_at);
    memset(st, 0, sizeof *st);
}

void harness__strategy_begin_run(harness_strategy_state *st, unsigned run)
{
    st->run = run;
    st->ndec = 0;
    st->error = NULL;
    st->bytepos = 0;
    st->pct_step = 0;
    st->same_streak = 0;
    uint64_t s = st->seed ^ (0xd1b54a32d192ed03ull * (uint64_t)run);
    splitmix(&s);
    st->rng = s;
    /* PCT needs the run's length k for its change points: until a run has
     * been seen, guess a short one (a long guess puts every change point
     * past the end of a short run, and PCT would never preempt). */
    if (st->estimate == 0)
        st->estimate = 16;
    st->estimate_at_begin = st->estimate;
    if (st->strategy == HARNESS_PCT && !st->replaying_explicit) {
        for (size_t i = 0; i < st->nprio; i++)
            st->prio[i] = 0;
        csp__free(st->change_at);
        st->change_at = csp__alloc((st->depth ? st->depth : 1) * (sizeof *st->change_at));
        for (unsigned i = 0; i + 1 < st->depth; i++)
            st->change_at[i] = 1 + below(&st->rng, st->estimate);
    }
}

/* After a run: learn the run length (PCT) and plan the next run (EXHAUSTIVE).
 * Returns false when EXHAUSTIVE has covered its bounded tree. */
bool harness__strategy_end_run(harness_strategy_state *st)
{
    /* The longest run seen so far (PCT's k). The first run replaces the
     * initial guess even when it is shorter. */
    if (st->strategy == HARNESS_PCT && !st->replaying_explicit &&
        (st->pct_step > st->estimate || st->run == 1))
        st->estimate = st->pct_step ? st->pct_step : 1;
    if (st->strategy != HARNESS_EXHAUSTIVE || st->replaying_explicit)
        return true;
    /* Backtrack: the deepest decision with an untried option that keeps the
     * run within its bounds. */
    unsigned preempt = 0, choices = 0;
    unsigned *pre_before = csp__alloc((st->ndec + 1) * sizeof *pre_before);
    unsigned *cho_before = csp__alloc((st->ndec + 1) * sizeof *cho_before);
    if (!pre_before || !cho_before)
        abort();
    for (size_t i = 0; i < st->ndec; i++) {
        pre_before[i] = preempt;
        cho_before[i] = choices;
        preempt += st->dec[i].preemption;
        choices += st->dec[i].kind != CSP_DECIDE_RUN && st->dec[i].pick != 0;
    }
    bool found = false;
    for (size_t i = st->ndec; i-- > 0 && !found;) {
        harness_decision *d = &st->dec[i];
        for (uint32_t alt = d->pick + 1; alt < d->n; alt++) {
            unsigned p = pre_before[i], c = cho_before[i];
            bool is_pre = d->kind == CSP_DECIDE_RUN && d->current_valid && alt != d->current;
            if (d->kind == CSP_DECIDE_RUN)
                p += is_pre;
            else
                c += alt != 0;
            if (p > st->preemption_bound || c > st->choice_bound)
                continue;
            /* New prefix: decisions before i, then alt. */
            if (st->capprefix < i + 1) {
                st->capprefix = 2 * (i + 1);
                st->prefix = csp__realloc(st->prefix, st->capprefix * sizeof *st->prefix);
                if (!st->prefix)
                    abort();
            }
            memcpy(st->prefix, st->dec, i * sizeof *st->dec);
            st->prefix[i] = *d;
            st->prefix[i].pick = alt;
            st->nprefix = i + 1;
            found = true;
            break;
        }
    }
    csp__free(pre_before);
    csp__free(cho_before);
    return found;
}

/* ------------------------------------------------------ Schedule strings */

/* "v1:x:" then the picks separated by '.', a run of n >= 3 equal picks
 * written "PxN" (a busy loop's 20,000 identical decisions stay short). */
char *harness__schedule_explicit(const harness_strategy_state *st)
{
    harness_buf b = {0};
    harness__buf_puts(&b, "v1:x:");
    for (size_t i = 0; i < st->ndec;) {
        size_t j = i;
        while (j < st->ndec && st->dec[j].pick == st->dec[i].pick)
            j++;
        size_t run = j - i;
        if (run >= 3) {
            harness__buf_printf(&b, "%s%" PRIu32 "x%zu", i ? "." : "", st->dec[i].pick, run);
            i = j;
        } else {
            harness__buf_printf(&b, "%s%" PRIu32, i ? "." : "", st->dec[i].pick);
            i++;
        }
    }
    return b.buf;
}

char *harness__schedule_short(const harness_strategy_state *st)
{
    char buf[160];
    if (st->replaying_explicit)
        return harness__schedule_explicit(st);
    switch (st->strategy) {
    case HARNESS_RANDOM:
        snprintf(buf, sizeof buf, "v1:random:seed=%" PRIu64 ":run=%u", st->seed, st->run);
        return strdup(buf);
    case HARNESS_PCT:
        snprintf(buf, sizeof buf, "v1:pct:seed=%" PRIu64 ":depth=%u:run=%u:estimate=%" PRIu64,
                 st->seed, st->depth, st->run, st->estimate_at_begin);
        return strdup(buf);
    default:
        return harness__schedule_explicit(st);
    }
}

static bool parse_u64(const char *s, const char *end, uint64_t *out)
{
    if (s == end || *s < '0' || *s > '9')
        return false;
    uint64_t v = 0;
    for (; s < end; s++) {
        if (*s < '0' || *s > '9' || v > (UINT64_MAX - 9) / 10)
            return false;
        v = v * 10 + (uint64_t)(*s - '0');
    }
    *out = v;
    return true;
}

/* key=value fields after "v1:random:" / "v1:pct:". */
static const char *parse_fields(const char *p, harness_strategy_state *st, bool pct)
{
    bool have_seed = false, have_run = false;
    while (*p) {
        const char *end = strchr(p, ':');
        if (!end)
            end = p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        uint64_t v;
        if (!eq || !parse_u64(eq + 1, end, &v))
            return "a field is not KEY=NUMBER";
        size_t klen = (size_t)(eq - p);
        if (klen == 4 && !strncmp(p, "seed", 4))
            st->seed = v, have_seed = true;
        else if (klen == 3 && !strncmp(p, "run", 3) && v >= 1 && v <= UINT32_MAX)
            st->replay_run = (unsigned)v, have_run = true;
        else if (pct && klen == 5 && !strncmp(p, "depth", 5) && v >= 1 && v <= 64)
            st->depth = (unsigned)v;
        else if (pct && klen == 8 && !strncmp(p, "estimate", 8) && v >= 1)
            st->estimate = v;
        else
            return "an unknown field, or a value out of range";
        p = *end ? end + 1 : end;
    }
    if (!have_seed || !have_run)
        return "seed= and run= are required";
    return NULL;
}

const char *harness__schedule_parse(const char *s, harness_strategy_state *st)
{
    if (!s || strncmp(s, "v1:", 3) != 0)
        return "a schedule starts with \"v1:\"";
    const char *p = s + 3;
    if (!strncmp(p, "x:", 2)) {
        p += 2;
        st->replaying_explicit = true;
        st->nprefix = 0;
        while (*p) {
            const char *end = strchr(p, '.');
            if (!end)
                end = p + strlen(p);
            const char *x = memchr(p, 'x', (size_t)(end - p));
            uint64_t v, reps = 1;
            if (!parse_u64(p, x ? x : end, &v) || v > UINT32_MAX ||
                (x && (!parse_u64(x + 1, end, &reps) || reps < 1 || reps > 100000000)))
                return "an explicit schedule is decisions separated by '.', each a number "
                       "or NUMBERxCOUNT";
            if (st->nprefix + reps > 100000000)
                return "an explicit schedule of more than 100,000,000 decisions";
            while (st->nprefix + reps > st->capprefix) {
                st->capprefix = st->capprefix ? 2 * st->capprefix : 256;
                st->prefix = csp__realloc(st->prefix, st->capprefix * sizeof *st->prefix);
                if (!st->prefix)
                    return "out of memory";
            }
            for (uint64_t k = 0; k < reps; k++)
                st->prefix[st->nprefix++] = (harness_decision){ .pick = (uint32_t)v };
            p = *end ? end + 1 : end;
            if (*end && !*p)
                return "an explicit schedule ends with a number";
        }
        return NULL;
    }
    if (!strncmp(p, "random:", 7)) {
        st->strategy = HARNESS_RANDOM;
        return parse_fields(p + 7, st, false);
    }
    if (!strncmp(p, "pct:", 4)) {
        st->strategy = HARNESS_PCT;
        return parse_fields(p + 4, st, true);
    }
    return "accepted forms: v1:x:D.D.DxN..., v1:random:seed=S:run=R, v1:pct:seed=S:depth=D:run=R[:estimate=E]";
}
