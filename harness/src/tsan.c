/* tsan.c — ThreadSanitizer reports become RACE (DESIGN §3). The harness
 * library provides TSan's two weak hooks:
 *   __tsan_on_report      called after TSan prints a report: counted and
 *                         recorded as RACE for the run in progress;
 *   __tsan_default_options  every report is shown again in the next run
 *                         (suppress_equal_*=0), the process's exit status is
 *                         the harness's, not TSan's (exitcode=0), and the
 *                         forked child may start threads (die_after_fork=0).
 * TSAN_OPTIONS in the environment still overrides these. A program that
 * links the harness and defines its own __tsan_default_options gets a
 * duplicate-symbol error: set TSAN_OPTIONS instead. */
#include "quiet.h"
#include "state.h"

#if defined(__SANITIZE_THREAD__)
#define HARNESS_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define HARNESS_TSAN 1
#endif
#endif

#ifdef HARNESS_TSAN
const char *__tsan_default_options(void);
void __tsan_on_report(void *report);

/* atexit_sleep_ms=0: TSan otherwise sleeps a second in exit() "for other
 * threads to finish". Every forked run's child ends through exit() once its
 * record is written (and so does every program that uses the harness), so
 * that second was the fixed cost of each harness_run under TSan — what made
 * a tsan `chanlab run ID --schedules 100` take 1.1 s against 0.02 s. What the
 * tasks left running might still report is after the verdict anyway. */
HARNESS_CODE const char *__tsan_default_options(void)
{
    return "suppress_equal_stacks=0:suppress_equal_addresses=0:exitcode=0:"
           "die_after_fork=0:report_signal_unsafe=0:history_size=4:atexit_sleep_ms=0";
}

HARNESS_QUIET void __tsan_on_report(void *report)
{
    (void)report;
    harness_state *s = harness__state;
    if (!s)
        return;
    atomic_fetch_add(&s->races, 1);
}
#endif

#ifdef HARNESS_TSAN
#include <pthread.h>

static HARNESS_CODE void *nothing(void *arg) { return arg; }
#endif

/* TSan starts a background thread at the first pthread_create: start it
 * now, before a run's baseline, so that it is not taken for a leak. (Its
 * llvm-symbolizer, started at the first report, is not warmed up: that costs
 * about a second per forked run; a run with a report does not count leaked
 * descriptors instead — evidence.c.) */
HARNESS_CODE void harness__sanitizer_warmup(void)
{
#ifdef HARNESS_TSAN
    pthread_t t;
    if (pthread_create(&t, NULL, nothing, NULL) == 0)
        pthread_join(t, NULL);
#endif
}

/* True when this build reports races (for callers that expect RACE). */
HARNESS_CODE bool harness_detects_races(void)
{
#ifdef HARNESS_TSAN
    return true;
#else
    return false;
#endif
}
