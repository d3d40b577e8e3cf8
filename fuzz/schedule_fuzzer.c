/* schedule_fuzzer.c — libFuzzer drives the scheduler (DESIGN §7).
 *
 * The input is the scheduler's decisions (HARNESS_BYTES) for one controlled,
 * in-process run of the catalog variant named by CHANLAB_FUZZ_VARIANT
 * (`chanlab list` shows the ids) or, when that is unset, by the program's
 * own name: a copy called schedule_fuzzer_FAMILY_VARIANT fuzzes
 * FAMILY.VARIANT (OSS-Fuzz passes no environment, so fuzz/build.sh makes one
 * copy per correct variant; CHANLAB_FUZZ_LIST=1 prints their ids). Besides
 * code coverage, libFuzzer sees the
 * run's interleaving coverage (harness_options.coverage) as extra counters,
 * so an input that reaches a new cross-task ordering is kept; setting
 * CHANLAB_FUZZ_INTERLEAVINGS=0 turns that feedback off (for comparisons).
 *
 * Any verdict other than PASS is a finding: the verdict, its message, the
 * dump and the commands that replay it are printed, and the process aborts,
 * so libFuzzer writes the input as a crash file that
 * `chanlab replay ID --bytes FILE` replays to the same verdict and dump. The
 * expected verdict is never consulted: a finding on a correct variant is a
 * harness (or runtime) bug by definition.
 *
 * Every run is bounded by the variant's step bound (a livelock ends there,
 * then under fair continuation) and its virtual horizon; a task spinning in
 * plain C without ever calling the runtime is what libFuzzer's own -timeout
 * catches. */
#include "harness.h"
#include "pattern.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* libFuzzer reads every byte of this section as a counter after each input
 * (and clears them before the next). */
#define INTERLEAVING_CELLS (1u << 14)
__attribute__((section("__libfuzzer_extra_counters"), used))
static uint8_t interleavings[INTERLEAVING_CELLS];

static const pattern *variant;
static bool feedback = true;
static unsigned long long inputs;   /* run so far, this one included */

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* "schedule_fuzzer_thumbnails_drain-on-error" → "thumbnails.drain-on-error"
 * (family names have no '_'), into buf; NULL for any other name. */
static const char *variant_of_program(const char *argv0, char *buf, size_t size)
{
    static const char prefix[] = "schedule_fuzzer_";
    const char *base = strrchr(argv0, '/');
    base = base ? base + 1 : argv0;
    if (strncmp(base, prefix, sizeof prefix - 1) != 0)
        return NULL;
    snprintf(buf, size, "%s", base + sizeof prefix - 1);
    char *sep = strchr(buf, '_');
    if (!sep)
        return NULL;
    *sep = '.';
    return buf;
}

/* CHANLAB_FUZZ_LIST=1: the correct variants that run in controlled mode, one
 * id a line (what continuous fuzzing should never see fail). */
static void list_correct_variants(void)
{
    for (size_t i = 0; i < pattern_count(); i++) {
        const pattern *p = pattern_at(i);
        if (!p->fixed_by && (p->modes & PATTERN_CONTROLLED))
            printf("%s\n", p->id);
    }
    exit(0);
}

/* Flags this fuzzer runs with unless the command line gives them (libFuzzer
 * reads its flags after LLVMFuzzerInitialize, from the argv it leaves):
 *  -len_control=0  libFuzzer grows its inputs slowly: right for parsers,
 *                  wrong here, where a byte is a decision and the one that
 *                  matters may be the twentieth (thumbnails.add-in-worker:
 *                  1,371 inputs to its bug with length control, 63 without);
 *  -detect_leaks=0 a run's tasks, channels and stacks are reclaimed by the
 *                  harness, but a buggy variant may leave its own heap to
 *                  tasks that outlive it on purpose (du.add-in-walker's
 *                  context): a schedule finding is a verdict, not a leak of
 *                  the program's heap (the asan test suite checks those). */
static void default_flags(int *argc, char ***argv)
{
    static char len_control[] = "-len_control=0", detect_leaks[] = "-detect_leaks=0";
    static char *const defaults[] = { len_control, detect_leaks };
    static char *args[256];
    if (*argc < 1 || *argc > 250)
        return;
    memcpy(args, *argv, (size_t)*argc * sizeof *args);
    int n = *argc;
    for (size_t d = 0; d < sizeof defaults / sizeof *defaults; d++) {
        size_t key = (size_t)(strchr(defaults[d], '=') - defaults[d]) + 1;
        bool given = false;
        for (int i = 1; i < *argc; i++)
            given |= strncmp((*argv)[i], defaults[d], key) == 0;
        if (!given)
            args[n++] = defaults[d];
    }
    args[n] = NULL;
    *argv = args;
    *argc = n;
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    default_flags(argc, argv);
    const char *list = getenv("CHANLAB_FUZZ_LIST");
    if (list && strcmp(list, "1") == 0)
        list_correct_variants();
    char buf[128];
    const char *id = getenv("CHANLAB_FUZZ_VARIANT");
    if (!id && *argc > 0)
        id = variant_of_program((*argv)[0], buf, sizeof buf);
    variant = id ? pattern_find(id) : NULL;
    if (!variant || !(variant->modes & PATTERN_CONTROLLED)) {
        fprintf(stderr, "schedule_fuzzer: CHANLAB_FUZZ_VARIANT=%s is not a variant that runs in "
                "controlled mode (accepted: an id from 'chanlab list', e.g. "
                "thumbnails.add-in-worker, in CHANLAB_FUZZ_VARIANT or in the program's name "
                "schedule_fuzzer_FAMILY_VARIANT)\n", id ? id : "(unset)");
        exit(2);
    }
    const char *fb = getenv("CHANLAB_FUZZ_INTERLEAVINGS");
    if (fb && strcmp(fb, "0") != 0 && strcmp(fb, "1") != 0) {
        fprintf(stderr, "schedule_fuzzer: CHANLAB_FUZZ_INTERLEAVINGS=%s (accepted: 0 or 1)\n", fb);
        exit(2);
    }
    feedback = !fb || strcmp(fb, "1") == 0;
    fprintf(stderr, "schedule_fuzzer: %s, interleaving feedback %s\n", variant->id,
            feedback ? "on" : "off");
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    inputs++;
    harness_options o = pattern_options(variant, PATTERN_IN_CONTROLLED);
    o.mode = HARNESS_CONTROLLED;
    o.strategy = HARNESS_BYTES;
    o.bytes = data;
    o.nbytes = size;
    o.bytes_then_random = true;   /* every input a whole schedule (harness.h) */
    o.schedules = 1;
    o.in_process = true;
    if (feedback) {
        o.coverage = interleavings;
        o.ncoverage = INTERLEAVING_CELLS;
    }
    harness_result r;
    if (harness_run(variant->entry, NULL, &o, &r) != 0) {
        fprintf(stderr, "schedule_fuzzer: harness_run refused: %s\n", r.message ? r.message : "?");
        abort();   /* options the fuzzer made itself: a bug of ours */
    }
    if (r.verdict != HARNESS_PASS) {
        fprintf(stderr,
                "\nschedule_fuzzer: %s observed %s at input %llu: %s\n"
                "replay: chanlab replay %s --bytes CRASH_FILE   (the file libFuzzer writes next)\n"
                "    or: chanlab replay %s '%s'\n\n%s\n",
                variant->id, harness_verdict_name(r.verdict), inputs, r.message ? r.message : "",
                variant->id, variant->id, r.decisions ? r.decisions : "?", r.dump ? r.dump : "");
        fflush(stderr);
        abort();
    }
    harness_result_free(&r);
    return 0;
}
