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
 *              running task drops below every initial priority. One picked
 *              over waiting tasks for STARVE_LIMIT decisions in a row drops to
 *              the bottom too. Select and timer choices are uniform.
 *  BYTES       each decision takes the next byte (two when there are more than
 *              256 options) modulo the options; when the bytes run out, the
 *              running task goes on (else the lowest id), choices take 0 —
 *              or, with bytes_then_random, every further decision is uniform
 *              from a generator seeded by a hash of all the bytes: each input
 *              is then a whole random schedule whose first decisions a fuzzer
 *              mutates (the schedule fuzzer's reading; same bytes, same run).
 *  EXHAUSTIVE  depth-first over every decision (stateless, like CHESS): the
 *              first visit of a decision takes its default (a RUN decision
 *              with a current task: that task; otherwise option 0), and
 *              backtracking tries every other option of every decision the
 *              strategy made, in the order default+1, default+2, ... mod n,
 *              as long as the run stays within both bounds:
 *                preemption_bound  RUN decisions, made by the strategy, that
 *                                  pick a task other than `current` while
 *                                  current >= 0 (the running task could go
 *                                  on). A pick when current is -1 (the task
 *                                  blocked or ended) is free.
 *                choice_bound      SELECT and TIMER decisions, made by the
 *                                  strategy, that take an option other than 0
 *                                  (the first ready case in case order; the
 *                                  timer at the head of the due batch).
 *              Decisions forced by fairness (below) are not branched on and
 *              count against neither bound. `exhausted` when every such
 *              schedule has run: the space covered is every schedule within
 *              the bounds in which no runnable task is passed over FAIR_LIMIT
 *              times in a row.
 *  REPLAY      the decisions of an explicit schedule, or the seeded run a
 *              short form names; a decision that does not fit the program
 *              stops the run with an error.
 *
 * Fairness, for every strategy but explicit replay (which follows its
 * record, where these picks are):
 *  - a task runnable at FAIR_LIMIT consecutive RUN decisions and picked at
 *    none of them (it is passed over, by any set of other tasks) is picked at
 *    the next: a forced pick, recorded like any other;
 *  - fair continuation: once a run has passed max_steps scheduling points
 *    (where it would have been called a livelock), every further decision is
 *    the scheduler's: RUN decisions give the running task a quantum of
 *    FAIR_QUANTUM decisions, then the runnable task that has waited longest
 *    since it last ran (spawn counts as running); select and timer choices
 *    take option 0. The run may go on for fair_steps (= max_steps) more
 *    scheduling points; if it ends, it is judged on how it ended, and only a
 *    run that does not end under fair continuation either is a HANG. A
 *    program that ends under every fair schedule is not a livelock, however
 *    long an unfair strategy (PCT's priorities, BYTES' and EXHAUSTIVE's
 *    defaults) could keep it going. */
#include "quiet.h"
#include "strategy.h"

#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define STARVE_LIMIT 2000
#define FAIR_LIMIT 2000      /* passed over this many RUN decisions in a row: run */
#define FAIR_QUANTUM 64      /* fair continuation: decisions a running task keeps going */

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

HARNESS_QUIET static size_t default_pick(csp_decision_kind kind, int current)
{
    return kind == CSP_DECIDE_RUN && current >= 0 ? (size_t)current : 0;
}

HARNESS_QUIET static void record(harness_strategy_state *st, csp_decision_kind kind, size_t n, int current,
                                 size_t pick, bool forced)
{
    if (st->ndec == st->capdec) {
        st->capdec = st->capdec ? 2 * st->capdec : 256;
        st->dec = csp_tool_realloc(st->dec, st->capdec * sizeof *st->dec);   /* aborts when out of memory */
    }
    st->dec[st->ndec++] = (harness_decision){
        .pick = (uint32_t)pick, .n = (uint32_t)n,
        .first = (uint32_t)default_pick(kind, current), .kind = (uint8_t)kind, .forced = forced,
        .preemption = kind == CSP_DECIDE_RUN && current >= 0 && (size_t)current != pick,
        .current_valid = kind == CSP_DECIDE_RUN && current >= 0,
        .current = current >= 0 ? (uint32_t)current : 0 };
    if (st->dec[st->ndec - 1].preemption && !forced)
        st->run_preemptions++;
}

/* PCT: the priority of task id (grows the table as ids appear). */
HARNESS_QUIET static int64_t *prio_slot(harness_strategy_state *st, uint64_t id)
{
    if (id >= st->nprio) {
        size_t n = st->nprio ? st->nprio : 64;
        while (n <= id)
            n *= 2;
        int64_t *p = csp_tool_realloc(st->prio, n * sizeof *p);
        for (size_t i = st->nprio; i < n; i++)
            p[i] = 0;
        st->prio = p;
        st->nprio = n;
    }
    return &st->prio[id];
}

/* Fairness: the per-id tables (grown as ids appear; ids restart at 1 in
 * every run, so they stay as small as a run's task count). */
HARNESS_QUIET static void fair_grow(harness_strategy_state *st, uint64_t id)
{
    if (id < st->nfair)
        return;
    size_t n = st->nfair ? st->nfair : 64;
    while (n <= id)
        n *= 2;
    uint64_t *a[3] = { st->streak, st->at, st->last_ran };
    for (int k = 0; k < 3; k++) {
        a[k] = csp_tool_realloc(a[k], n * sizeof *a[k]);
        for (size_t i = st->nfair; i < n; i++)
            a[k][i] = 0;
    }
    st->streak = a[0];
    st->at = a[1];
    st->last_ran = a[2];
    st->nfair = n;
}

HARNESS_QUIET static void strategy_spawned(void *ctx, uint64_t id)
{
    harness_strategy_state *st = ctx;
    if (st->replaying_explicit)
        return;
    /* Fairness: a new task has waited since now (spawn counts as running),
     * so a stream of fresh tasks cannot keep an old one waiting. */
    fair_grow(st, id);
    st->last_ran[id] = st->fair_clock;
    st->streak[id] = 0;
    st->at[id] = st->run_decisions;
    if (id >= st->fair_hi)
        st->fair_hi = id + 1;
    if (st->strategy != HARNESS_PCT)
        return;
    /* A random rank among the initial priorities, which sit above every
     * change-point priority (1 .. depth-1). Distinct: high bits random, low
     * bits the id. */
    *prio_slot(st, id) = (int64_t)(st->depth + 1 + below(&st->rng, 1u << 20)) * 4096 + (int64_t)(id % 4096);
}

/* The option of a task passed over FAIR_LIMIT RUN decisions in a row (the
 * longest-starved, lowest index first), or n. Decision number d =
 * run_decisions + 1; a task's streak goes on only if it was an option at d-1. */
HARNESS_QUIET static size_t starving(const harness_strategy_state *st, size_t n, const uint64_t *ids, int current)
{
    size_t best = n;
    uint64_t longest = FAIR_LIMIT - 1;
    for (size_t i = 0; i < n; i++) {
        uint64_t id = ids[i];
        if ((int)i != current && id < st->nfair && st->at[id] == st->run_decisions &&
            st->streak[id] > longest) {
            longest = st->streak[id];
            best = i;
        }
    }
    return best;
}

/* After a RUN pick: the picked and the running task start afresh, every other
 * option has been passed over once more. */
HARNESS_QUIET static void fair_note(harness_strategy_state *st, size_t n, const uint64_t *ids, int current, size_t pick)
{
    uint64_t d = ++st->run_decisions;
    if (ids[n - 1] >= st->nfair)
        fair_grow(st, ids[n - 1]);   /* ids ascend: the last is the largest */
    for (size_t i = 0; i < n; i++) {
        uint64_t id = ids[i];
        if (i == pick || (int)i == current)
            st->streak[id] = 0;
        else
            st->streak[id] = st->at[id] == d - 1 ? st->streak[id] + 1 : 1;
        st->at[id] = d;
    }
    st->last_ran[ids[pick]] = ++st->fair_clock;
    if (ids[n - 1] >= st->fair_hi)
        st->fair_hi = ids[n - 1] + 1;
}

/* Fair continuation: a quantum for the running task, then the one that has
 * waited longest; choices take 0. */
HARNESS_QUIET static size_t fair_pick(harness_strategy_state *st, csp_decision_kind kind, size_t n,
                                      const uint64_t *ids, int current)
{
    if (kind != CSP_DECIDE_RUN)
        return 0;
    if (current >= 0 && st->quantum_left > 0) {
        st->quantum_left--;
        return (size_t)current;
    }
    if (ids[n - 1] >= st->nfair)
        fair_grow(st, ids[n - 1]);
    size_t best = n;
    for (size_t i = 0; i < n; i++)
        if ((int)i != current && (best == n || st->last_ran[ids[i]] < st->last_ran[ids[best]]))
            best = i;
    st->quantum_left = FAIR_QUANTUM - 1;
    return best;
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
        return st->bytes_then_random ? below(&st->bytes_rng, n) : default_pick(kind, current);
    unsigned v = st->bytes[st->bytepos++];
    if (n > 256 && st->bytepos < st->nbytes)
        v = v << 8 | st->bytes[st->bytepos++];
    return v % n;
}

/* EXHAUSTIVE: the prefix to follow, then defaults. `pick` is the forced
 * pick, or n when the strategy decides. */
HARNESS_QUIET static size_t exhaustive_pick(harness_strategy_state *st, csp_decision_kind kind, size_t n,
                                            int current, size_t forced)
{
    size_t i = st->ndec;
    if (i < st->nprefix) {
        const harness_decision *p = &st->prefix[i];
        if (p->n != n || p->kind != kind || p->first != default_pick(kind, current) ||
            (forced < n) != p->forced || (forced < n && forced != p->pick)) {
            st->error = "the program made different decisions when replayed "
                        "(it depends on something outside the scheduler: real time, "
                        "randomness, I/O)";
            return n;   /* stops the run */
        }
        return p->pick;
    }
    return forced < n ? forced : default_pick(kind, current);
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
    size_t pick, forced = n;
    if (st->replaying_explicit) {
        pick = explicit_pick(st, kind, n, current);
        if (pick < n)
            record(st, kind, n, current, pick, false);
        return pick;
    }
    if (st->max_steps && csp_sched_steps() > st->max_steps) {
        st->fair_entered = true;
        forced = fair_pick(st, kind, n, ids, current);
    } else if (kind == CSP_DECIDE_RUN) {
        forced = starving(st, n, ids, current);
    }
    if (st->strategy == HARNESS_EXHAUSTIVE && st->dpor && harness__dpor_finishing(st->dpor)) {
        /* A redundant run goes to its end the default way; its decisions
         * are recorded (a crash there replays) but not searched. */
        if (!st->redundant_from)
            st->redundant_from = st->ndec + 1;
        pick = forced < n ? forced : default_pick(kind, current);
    } else if (st->strategy == HARNESS_EXHAUSTIVE) {
        pick = exhaustive_pick(st, kind, n, current, forced);
        if (st->dpor && pick < n) {
            if (kind == CSP_DECIDE_RUN)
            {
                pick = harness__dpor_run_decision(st->dpor, st->ndec, n, ids, current, forced,
                                                  st->ndec < st->nprefix ? pick : n, st->run_preemptions);
                if (pick >= n && harness__dpor_finishing(st->dpor)) {
                    st->redundant_from = st->ndec + 1;
                    pick = forced < n ? forced : default_pick(kind, current);
                } else if (pick >= n) {
                    st->error = "the program made different decisions when replayed "
                                "(it depends on something outside the scheduler: real time, "
                                "randomness, I/O)";
                }
            }
            else
                harness__dpor_other_decision(st->dpor, st->ndec);
        }
    } else if (forced < n)
        pick = forced;
    else switch (st->strategy) {
    case HARNESS_PCT:
        pick = kind == CSP_DECIDE_RUN ? pct_run(st, n, ids, current) : below(&st->rng, n);
        break;
    case HARNESS_BYTES:
        pick = bytes_pick(st, kind, n, current);
        break;
    case HARNESS_RANDOM:
    default:
        pick = below(&st->rng, n);
        break;
    }
    if (pick < n) {
        if (kind == CSP_DECIDE_RUN)
            fair_note(st, n, ids, current, pick);
        record(st, kind, n, current, pick, forced < n);
    }
    return pick;
}

/* ------------------------------------------------------------ Lifecycle */

/* FNV-1a over a value, then over up to 64 bytes of a name. */
HARNESS_QUIET static uint64_t mix(uint64_t h, uint64_t v)
{
    for (int i = 0; i < 8; i++, v >>= 8)
        h = (h ^ (v & 0xff)) * 0x100000001b3ull;
    return h;
}

HARNESS_QUIET static uint64_t mix_name(uint64_t h, const char *s)
{
    for (int i = 0; s && i < 64 && s[i]; i++)
        h = (h ^ (uint8_t)s[i]) * 0x100000001b3ull;
    return h;
}

/* Interleaving coverage: an event is (task, park or ready, what it waits
 * for, on which object by name, and who readied it); its actor is the task
 * that parks or the one that readies. Every event paired with the one
 * before it when their actors differ counts once in its cell — which
 * cross-task orderings (hand-offs, wake-ups, blocking) the run reached, the
 * feedback a schedule fuzzer keeps inputs for. Task ids restart at 1 every
 * schedule, so the same interleaving hits the same cells. */
HARNESS_QUIET static void strategy_event(void *ctx, const csp_sched_event *e)
{
    harness_strategy_state *st = ctx;
    uint64_t key = mix(mix(mix(0xcbf29ce484222325ull, e->task), (uint64_t)e->kind << 16 | (uint64_t)e->wait),
                       e->kind == CSP_EVENT_READY ? e->by : 0);
    key = mix_name(key, e->object);
    uint64_t actor = e->kind == CSP_EVENT_READY ? e->by : e->task;
    if (st->last_event_task && st->last_event_task != actor) {
        uint64_t pair = mix(key, st->last_event_key);
        uint8_t *cell = &st->coverage[pair % st->ncoverage];
        if (*cell < 255)
            (*cell)++;
    }
    st->last_event_task = actor;
    st->last_event_key = key;
}

HARNESS_QUIET static void strategy_access(void *ctx, const csp_sched_access *a)
{
    harness_strategy_state *st = ctx;
    harness__dpor_access(st->dpor, a);
}

HARNESS_CODE void harness__strategy_init(harness_strategy_state *st, const harness_options *o)
{
    memset(st, 0, sizeof *st);
    st->strategy = o->strategy;
    st->seed = o->seed;
    st->depth = o->pct_depth ? o->pct_depth : 3;
    st->preemption_bound = o->preemption_bound;
    st->choice_bound = o->choice_bound;
    st->bytes = o->bytes;
    st->nbytes = o->nbytes;
    st->bytes_then_random = o->bytes_then_random;
    st->estimate = 0;          /* learned from the runs (strategy_end_run) */
    st->max_steps = o->max_steps;
    st->fair_steps = o->max_steps;   /* the fair continuation's bound */
    st->coverage = o->coverage;
    st->ncoverage = o->ncoverage;
    st->hooks = (csp_sched_hooks){ st, strategy_decide, strategy_spawned,
                                   o->coverage ? strategy_event : NULL, NULL };
    /* EXHAUSTIVE reduces by partial order unless told not to (dpor.c);
     * sleep sets only without a preemption bound. */
    if (o->strategy == HARNESS_EXHAUSTIVE && !o->no_reduction && !o->replay) {
        st->dpor = harness__dpor_new(o->preemption_bound == HARNESS_UNBOUNDED, o->preemption_bound);
        if (getenv("CHANLAB_DPOR_STATS"))
            harness__dpor_count_objects(st->dpor);
        st->hooks.access = strategy_access;
    }
}

HARNESS_CODE void harness__strategy_free(harness_strategy_state *st)
{
    csp_tool_free(st->dec);
    csp_tool_free(st->prefix);
    csp_tool_free(st->prio);
    csp_tool_free(st->change_at);
    csp_tool_free(st->streak);
    csp_tool_free(st->at);
    csp_tool_free(st->last_ran);
    FILE *sf;
    if (st->dpor && getenv("CHANLAB_DPOR_STATS") && (sf = fopen(getenv("CHANLAB_DPOR_STATS"), "a"))) {
        harness_dpor_stats ds = harness__dpor_stats(st->dpor);
        fprintf(sf, "dpor: %llu races, %llu anomalies, %llu blocked, %llu conservative, "
                    "%llu arrival orders not reversed, %llu restarts\n",
                (unsigned long long)ds.races, (unsigned long long)ds.anomalies,
                (unsigned long long)ds.runs_blocked, (unsigned long long)ds.conservative,
                (unsigned long long)ds.meets, (unsigned long long)ds.restarts);
        harness__dpor_write_objects(st->dpor, sf, 12);
        fclose(sf);
    }
    harness__dpor_free(st->dpor);
    memset(st, 0, sizeof *st);
}

HARNESS_CODE bool harness__strategy_redundant(const harness_strategy_state *st)
{
    return st->dpor && harness__dpor_blocked(st->dpor);
}

HARNESS_CODE void harness__strategy_begin_run(harness_strategy_state *st, unsigned run)
{
    st->run = run;
    st->ndec = 0;
    st->redundant_from = 0;
    st->run_preemptions = 0;
    if (st->dpor)
        harness__dpor_begin_run(st->dpor);
    st->error = NULL;
    st->bytepos = 0;
    st->bytes_rng = 0x9e3779b97f4a7c15ull;   /* FNV-1a of the bytes, then splitmix */
    for (size_t i = 0; i < st->nbytes; i++)
        st->bytes_rng = (st->bytes_rng ^ st->bytes[i]) * 0x100000001b3ull;
    st->last_event_task = 0;
    st->pct_step = 0;
    st->same_streak = 0;
    for (size_t i = 0; i < st->fair_hi; i++)
        st->streak[i] = st->at[i] = st->last_ran[i] = 0;
    st->fair_hi = 0;
    st->run_decisions = st->fair_clock = 0;
    st->quantum_left = 0;
    st->fair_entered = false;
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
        csp_tool_free(st->change_at);
        st->change_at = csp_tool_alloc((st->depth ? st->depth : 1) * (sizeof *st->change_at));
        for (unsigned i = 0; i + 1 < st->depth; i++)
            st->change_at[i] = 1 + below(&st->rng, st->estimate);
    }
}

/* EXHAUSTIVE's next run: the decisions before i, then option alt of
 * decision i (the reduction forgets the decisions after it). */
HARNESS_CODE static void next_prefix(harness_strategy_state *st, size_t i, uint32_t alt)
{
    const harness_decision *d = &st->dec[i];
    if (st->capprefix < i + 1) {
        st->capprefix = 2 * (i + 1);
        st->prefix = csp_tool_realloc(st->prefix, st->capprefix * sizeof *st->prefix);
    }
    memcpy(st->prefix, st->dec, i * sizeof *st->dec);
    st->prefix[i] = *d;
    st->prefix[i].pick = alt;
    st->prefix[i].preemption = d->kind == CSP_DECIDE_RUN && d->current_valid && alt != d->current;
    st->nprefix = i + 1;
    if (st->dpor)
        harness__dpor_truncate(st->dpor, i);
}

/* After a run: learn the run length (PCT) and plan the next run (EXHAUSTIVE).
 * Returns false when EXHAUSTIVE has covered its bounded tree. */
HARNESS_CODE bool harness__strategy_end_run(harness_strategy_state *st)
{
    /* The longest run seen so far (PCT's k). The first run replaces the
     * initial guess even when it is shorter. */
    if (st->strategy == HARNESS_PCT && !st->replaying_explicit &&
        (st->pct_step > st->estimate || st->run == 1))
        st->estimate = st->pct_step ? st->pct_step : 1;
    if (st->strategy != HARNESS_EXHAUSTIVE || st->replaying_explicit)
        return true;
    /* Backtrack: the deepest decision the strategy made (not fairness) with
     * an untried option that keeps the run within its bounds. The options
     * of decision i are tried in the order first, first+1, ... mod n, so
     * those after the current pick in that order are the untried ones. */
    if (st->redundant_from)
        st->ndec = st->redundant_from - 1;   /* what finished a redundant run is not searched */
    unsigned preempt = 0, choices = 0;
    unsigned *pre_before = csp_tool_alloc((st->ndec + 1) * sizeof *pre_before);
    unsigned *cho_before = csp_tool_alloc((st->ndec + 1) * sizeof *cho_before);
    for (size_t i = 0; i < st->ndec; i++) {
        const harness_decision *d = &st->dec[i];
        pre_before[i] = preempt;
        cho_before[i] = choices;
        preempt += d->preemption && !d->forced;
        choices += d->kind != CSP_DECIDE_RUN && d->pick != 0 && !d->forced;
    }
    bool found = false;
    if (st->dpor)
        harness__dpor_end_run(st->dpor);
    st->restarted = false;
    if (st->dpor && harness__dpor_take_restart(st->dpor)) {
        /* The reduction skipped arrival orders on an object it now knows
         * is peeked at, or took receives for reads on a channel it now
         * knows is sent on: the search so far is not enough; begin again. */
        st->nprefix = 0;
        st->restarted = true;
        found = true;
    }
    for (size_t i = st->ndec; i-- > 0 && !found;) {
        harness_decision *d = &st->dec[i];
        if (d->forced)
            continue;
        if (st->dpor && d->kind == CSP_DECIDE_RUN) {
            /* Reduced: the options the races asked for, not every option. */
            size_t alt = harness__dpor_next_option(st->dpor, i, pre_before[i], st->preemption_bound);
            if (alt >= d->n)
                continue;
            next_prefix(st, i, (uint32_t)alt);
            found = true;
            break;
        }
        uint32_t tried = (d->pick + d->n - d->first) % d->n;
        for (uint32_t k = tried + 1; k < d->n; k++) {
            uint32_t alt = (d->first + k) % d->n;
            unsigned p = pre_before[i], c = cho_before[i];
            if (d->kind == CSP_DECIDE_RUN)
                p += d->current_valid && alt != d->current;
            else
                c += alt != 0;
            if (p > st->preemption_bound || c > st->choice_bound)
                continue;
            next_prefix(st, i, alt);
            found = true;
            break;
        }
    }
    csp_tool_free(pre_before);
    csp_tool_free(cho_before);
    return found;
}

HARNESS_CODE uint64_t harness__strategy_step_limit(const harness_strategy_state *st)
{
    return st->max_steps ? st->max_steps + st->fair_steps : 0;
}

/* ------------------------------------------------------ Schedule strings */

/* "v1:x:" then the picks separated by '.', a run of n >= 3 equal picks
 * written "PxN" (a busy loop's 20,000 identical decisions stay short). */
HARNESS_CODE char *harness__schedule_explicit(const harness_strategy_state *st)
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

HARNESS_CODE char *harness__schedule_short(const harness_strategy_state *st)
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

static HARNESS_CODE bool parse_u64(const char *s, const char *end, uint64_t *out)
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
static HARNESS_CODE const char *parse_fields(const char *p, harness_strategy_state *st, bool pct)
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

HARNESS_CODE const char *harness__schedule_parse(const char *s, harness_strategy_state *st)
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
            /* No run makes more decisions than its scheduling points (at
             * most max_steps, then as many under fair continuation) and the
             * timer choices between them: a longer schedule cannot fit, and
             * reading it would only cost memory (schedule_string_fuzzer). */
            uint64_t most = st->max_steps ? 4 * st->max_steps + 4096 : 100000000;
            if (most > 100000000)
                most = 100000000;
            if (st->nprefix + reps > most) {
                snprintf(st->parse_error, sizeof st->parse_error,
                         "an explicit schedule of more than %llu decisions, more than a run of "
                         "max_steps %llu can make", (unsigned long long)most,
                         (unsigned long long)st->max_steps);
                return st->parse_error;
            }
            while (st->nprefix + reps > st->capprefix) {
                st->capprefix = st->capprefix ? 2 * st->capprefix : 256;
                st->prefix = csp_tool_realloc(st->prefix, st->capprefix * sizeof *st->prefix);
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
