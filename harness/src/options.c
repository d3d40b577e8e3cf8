/* options.c — harness_defaults, the option checks, and the environment
 * overrides (harness.h, "Replaying from CI"):
 *   CHANLAB_REPLAY=SCHEDULE   replay exactly that controlled-mode run
 *   CHANLAB_SEED=N            the seed of the runs' random choices
 *   CHANLAB_SCHEDULES=N       how many schedules (runs) to try
 *   CHANLAB_STRATEGY=S        random, pct or exhaustive (controlled mode)
 *   CHANLAB_NOISE=P           free mode's noise, 0 to 1000 permille
 *   CHANLAB_ENTRY=GLOB        apply the above only to harness_run calls whose
 *                             entry function's name matches (fnmatch)
 * A bad value refuses the run with a line naming the variable: a silently
 * different run is never made. */
#include "quiet.h"
#include "options.h"
#include "strategy.h"

#include <errno.h>
#include <fnmatch.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

HARNESS_CODE harness_options harness_defaults(void)
{
    return (harness_options){
        .mode = HARNESS_FREE,
        .strategy = HARNESS_RANDOM,
        .seed = 1,
        .schedules = 1,
        .pct_depth = 3,
        .preemption_bound = 2,
        .hang_after = 3 * CSP_SECOND,
        .timeout = 60 * CSP_SECOND,
        .max_steps = 100000,
        .leak_grace = 500 * CSP_MILLISECOND,
        .choice_bound = 2,
        .horizon = 3600 * CSP_SECOND,
        .timer_window = CSP_MILLISECOND,
        .noise = HARNESS_DEFAULT_NOISE,
    };
}

static const char *say(char *err, size_t size, const char *fmt, ...) CSP_PRINTF(3, 4);
/* A refusal is one line, whatever the user's text it quotes holds: control
 * characters (a newline in a schedule string) become '?'. */
static HARNESS_CODE const char *say(char *err, size_t size, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, size, fmt, ap);
    va_end(ap);
    for (char *c = err; *c; c++)
        if ((unsigned char)*c < 0x20 || *c == 0x7f)
            *c = '?';
    return err;
}

static HARNESS_CODE const char *validate(void (*entry)(void *), const harness_options *o, char *err, size_t size)
{
    if (!entry)
        return "entry is NULL";
    if (o->mode != HARNESS_FREE && o->mode != HARNESS_CONTROLLED)
        return say(err, size, "mode %d is not HARNESS_FREE or HARNESS_CONTROLLED", (int)o->mode);
    if ((unsigned)o->strategy > HARNESS_BYTES)
        return say(err, size, "strategy %d is not RANDOM, PCT, EXHAUSTIVE or BYTES", (int)o->strategy);
    if (o->schedules == 0 || o->schedules > 1000000)
        return say(err, size, "schedules is %u; accepted: 1 to 1000000", o->schedules);
    if (o->hang_after < 0 || o->timeout < 0 || o->leak_grace < 0)
        return "hang_after, timeout and leak_grace must not be negative";
    if (o->timeout == 0 && o->hang_after == 0)
        return "no bound at all (timeout and hang_after are 0); set at least one so that a hang ends";
    if (o->noise > 1000)
        return say(err, size, "noise is %u permille; accepted: 0 to 1000", o->noise);
    if (o->fd_limit < 0 || o->fd_limit > 1 << 20)
        return say(err, size, "fd_limit is %d; accepted: 0 (unchanged) to 1048576", o->fd_limit);
    if (o->replay && o->mode == HARNESS_FREE)
        return "free-mode runs are not reproducible, so there is nothing to replay; "
               "replay needs HARNESS_CONTROLLED";
    if (o->mode == HARNESS_CONTROLLED) {
        if (o->max_steps == 0 && o->timeout == 0)
            return "controlled mode needs max_steps or timeout, so that a livelock ends";
        if (o->strategy == HARNESS_BYTES && !o->bytes && o->nbytes)
            return say(err, size, "strategy BYTES with nbytes %zu but bytes NULL", o->nbytes);
        if (o->strategy == HARNESS_PCT && (o->pct_depth < 1 || o->pct_depth > 64))
            return say(err, size, "pct_depth is %u; accepted: 1 to 64", o->pct_depth);
        if (o->horizon < 0)
            return "horizon must not be negative";
        if (o->timer_window < 0)
            return say(err, size, "timer_window is %lld ns; accepted: 0 (equal deadlines only) or more",
                       (long long)o->timer_window);
        if (o->replay) {
            harness_strategy_state st;
            harness__strategy_init(&st, o);
            const char *bad = harness__schedule_parse(o->replay, &st);
            if (bad)
                say(err, size, "bad schedule \"%.80s\": %s", o->replay, bad);
            harness__strategy_free(&st);
            if (bad)
                return err;
        }
    }
    if (o->in_process && o->fd_limit)
        return "fd_limit needs a forked run (in_process is set)";
    if (o->coverage && (!o->in_process || o->mode != HARNESS_CONTROLLED || o->ncoverage == 0))
        return "coverage needs a controlled, in_process run and ncoverage > 0";
    return NULL;
}

/* The last entry's name is kept: a fuzzer calls harness_run thousands of
 * times a second with one entry, and symbolizing it each time was a tenth
 * of the schedule fuzzer's time. harness_run is not re-entrant. */
HARNESS_CODE void harness__entry_name(void (*entry)(void *), char *buf, size_t size)
{
    static void (*last_entry)(void *);
    static char last_name[256];
    if (entry != last_entry) {
        /* describe_pc takes a return address and looks one byte back. */
        csp_debug_describe_pc((uintptr_t)entry + 1, last_name, sizeof last_name);
        char *at = strstr(last_name, " at ");
        if (at)
            *at = 0;
        last_entry = entry;
    }
    snprintf(buf, size, "%s", last_name);
}

static HARNESS_CODE bool parse_u64(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return false;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno || *end)
        return false;
    *out = v;
    return true;
}

/* The CHANLAB_* overrides, onto *o. */
static HARNESS_CODE const char *apply_env(void (*entry)(void *), harness_options *o, char *err, size_t size)
{
    const char *only = getenv("CHANLAB_ENTRY");
    const char *replay = getenv("CHANLAB_REPLAY"), *seed = getenv("CHANLAB_SEED");
    const char *schedules = getenv("CHANLAB_SCHEDULES"), *strategy = getenv("CHANLAB_STRATEGY");
    const char *noise = getenv("CHANLAB_NOISE");
    const char *stats = getenv("CHANLAB_DPOR_STATS");
    if (stats) {   /* appended to when a reduced search ends (strategy.c): checked now */
        FILE *f = stats[0] ? fopen(stats, "a") : NULL;
        if (!f)
            return say(err, size, "CHANLAB_DPOR_STATS=\"%.80s\" cannot be opened for appending (%s); "
                       "accepted: a file path this process may write", stats,
                       stats[0] ? strerror(errno) : "empty");
        fclose(f);
    }
    if (!replay && !seed && !schedules && !strategy && !noise)
        return NULL;
    if (only) {
        if (!only[0])
            return "CHANLAB_ENTRY is empty; accepted: a function name or fnmatch glob (my_entry, test_*)";
        char name[256];
        harness__entry_name(entry, name, sizeof name);
        if (fnmatch(only, name, 0) != 0)
            return NULL;   /* another harness_run's override */
    }
    uint64_t v;
    if (seed) {
        if (!parse_u64(seed, &v))
            return say(err, size, "CHANLAB_SEED=\"%.40s\" is not a number; accepted: 0 to %" PRIu64,
                       seed, UINT64_MAX);
        o->seed = v;
    }
    if (schedules) {
        if (!parse_u64(schedules, &v) || v < 1 || v > 1000000)
            return say(err, size, "CHANLAB_SCHEDULES=\"%.40s\" is out of range; accepted: 1 to 1000000",
                       schedules);
        o->schedules = (unsigned)v;
    }
    if (noise) {
        if (!parse_u64(noise, &v) || v > 1000)
            return say(err, size, "CHANLAB_NOISE=\"%.40s\" is out of range; accepted: 0 to 1000 "
                       "(permille)", noise);
        if (o->mode != HARNESS_FREE || replay)
            return "CHANLAB_NOISE applies to free mode, and this run is in controlled mode";
        o->noise = (unsigned)v;
    }
    if (strategy) {
        if (!strcasecmp(strategy, "random"))
            o->strategy = HARNESS_RANDOM;
        else if (!strcasecmp(strategy, "pct"))
            o->strategy = HARNESS_PCT;
        else if (!strcasecmp(strategy, "exhaustive"))
            o->strategy = HARNESS_EXHAUSTIVE;
        else
            return say(err, size, "CHANLAB_STRATEGY=\"%.40s\" is not a strategy; accepted: random, "
                       "pct, exhaustive", strategy);
        if (o->mode != HARNESS_CONTROLLED)
            return "CHANLAB_STRATEGY applies to controlled mode, and this run is in free mode";
    }
    if (replay) {
        if (strncmp(replay, "v1:", 3) != 0)
            return say(err, size, "CHANLAB_REPLAY=\"%.40s\" is not a schedule; accepted: the "
                       "v1:... string a failure printed", replay);
        if (!strncmp(replay, "v1:free:", 8))
            return "CHANLAB_REPLAY names a free-mode run, which cannot be replayed; rerun it "
                   "with CHANLAB_SEED and CHANLAB_SCHEDULES as the failure printed";
        o->mode = HARNESS_CONTROLLED;
        o->replay = replay;
        o->noise = 0;
    }
    return NULL;
}

HARNESS_CODE const char *harness__options_resolve(void (*entry)(void *), const harness_options *o,
                                     harness_options *out, char *err, size_t size)
{
    const char *why = validate(entry, o, err, size);
    if (why)
        return why;
    *out = *o;
    char envwhy[320];
    why = apply_env(entry, out, envwhy, sizeof envwhy);
    if (!why)
        why = validate(entry, out, envwhy, sizeof envwhy);
    if (why) {
        say(err, size, "%s", why);
        return err;
    }
    return NULL;
}
