/* select.c — GOPL §8.7's select idioms: a select that alternates on a
 * channel with a buffer of one (and the coin flip a larger buffer makes of
 * it), a non-blocking receive (select with default) between units of work
 * and as a busy wait, and a nil channel that disables its case; and a fan-in
 * demo built on the last (`chanlab demo fanin`).
 *
 * The output a variant prints (harness_output) is compared across schedules:
 * output that depends on the schedule is NONDETERMINISTIC. A "second" is
 * virtual in controlled mode and 10 ms in free mode (section87.h). */
#include "section87.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* -------------------------------------------------------------- alternate */

/* The book's example: ch has a buffer of one, so it is alternately empty and
 * full, and only one case can proceed each time round: it prints 0 2 4 6 8
 * whatever the schedule. */
static void select_alternate(void *arg)
{
    (void)arg;
    char printed[64] = "";
    csp_chan *ch = csp_chan_make(sizeof(int), 1, "ch"); /* fixes BUG(NONDETERMINISTIC) of select.coin-flip: one slot, one choice */
    for (int i = 0; i < 10; i++) {
        int x;
        csp_case cases[] = {
            { ch, CSP_OP_RECV, &x, false },
            { ch, CSP_OP_SEND, &i, false },
        };
        switch (csp_select(cases, 2, false)) {
        case 0:
            say_recorded("%d\n", x); /* "0" "2" "4" "6" "8" */
            snprintf(printed + strlen(printed), sizeof printed - strlen(printed), "%d ", x);
            break;
        case 1:
            break;
        }
    }
    if (strcmp(printed, "0 2 4 6 8 ") != 0)
        harness_fail("printed %s; the book says 0 2 4 6 8", printed);
}

PATTERN(select_alternate_reg,
    .id = "select.alternate", .section = "8.7", .book_func = "",
    .lesson = "A select proceeds with one ready case, chosen at random when several are ready. "
              "With a buffer of one the channel is alternately empty (only the send can proceed) "
              "and full (only the receive can), so there is never a choice to make and the loop "
              "prints 0 2 4 6 8 under every schedule.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 8,
    .free_runs = 8,
    ENTRY(select_alternate));

/* -------------------------------------------------------------- coin flip */

/* The same loop with a larger buffer: when the buffer is neither empty nor
 * full both cases are ready, and select flips a coin. */
static void select_coin_flip(void *arg)
{
    (void)arg;
    csp_chan *ch = csp_chan_make(sizeof(int), 10, "ch"); /* BUG(NONDETERMINISTIC): neither empty nor full: both cases ready */
    for (int i = 0; i < 10; i++) {
        int x;
        csp_case cases[] = {
            { ch, CSP_OP_RECV, &x, false },
            { ch, CSP_OP_SEND, &i, false },
        };
        switch (csp_select(cases, 2, false)) {
        case 0:
            say_recorded("%d\n", x);
            break;
        case 1:
            break;
        }
    }
}

PATTERN(select_coin_flip_reg,
    .id = "select.coin-flip", .section = "8.7", .book_func = "",
    .fixed_by = "select.alternate",
    .lesson = "Give the same loop a larger buffer and the output is no longer determined: while "
              "the buffer is neither empty nor full both the send and the receive are ready, and "
              "select picks one at random, on purpose, so that no case starves. A program whose "
              "result must not depend on that choice cannot leave it to select.",
    .bound = "8 runs (free mode) or schedules (controlled mode), whose outputs are compared",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(NONDETERMINISTIC), [PATTERN_IN_CONTROLLED] = V(NONDETERMINISTIC) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 8,
    .free_runs = 8,
    ENTRY(select_coin_flip));

/* ---------------------------------------------------------------- polling */

/* The user presses return (a value on abort) `at` after the start; abort has
 * a buffer of one, so the user task never blocks. */
struct press {
    csp_chan *abort;
    csp_duration at;
};

static void user(void *arg)
{
    struct press *p = arg;
    csp_sleep(p->at);
    csp_send(p->abort, NULL);
    free(p);
}

static csp_chan *abort_pressed_at(csp_duration at)
{
    csp_chan *abort_ch = csp_chan_make(0, 1, "abort");
    struct press *p = malloc(sizeof *p);
    if (!p)
        csp_panic("select: out of memory");
    *p = (struct press){ abort_ch, at };
    csp_go(user, p, "user");
    return abort_ch;
}

/* The countdown doing a second of work at a time and polling abort between
 * seconds with the book's non-blocking receive:
 *     select { case <-abort: ...; return  default: // do nothing }
 * The work blocks (here: sleeps), so the poll costs nothing. */
static void countdown_polling(void *arg)
{
    (void)arg;
    csp_chan *abort_ch = abort_pressed_at(3 * second() + second() / 2);
    say("Commencing countdown.  Press return to abort.\n");
    for (int countdown = 10; countdown > 0; countdown--) {
        say("%d\n", countdown);
        csp_sleep(1 * second()); /* fixes BUG(HANG) of select.busy-poll: a second of work that blocks */
        csp_case abort_case = { abort_ch, CSP_OP_RECV, NULL, false };
        if (csp_select(&abort_case, 1, true) == 0) {
            say_recorded("Launch aborted!\n");
            return;
        }
    }
    say_recorded("Lift off!\n");
}

PATTERN(select_poll_reg,
    .id = "select.poll", .section = "8.7", .book_func = "",
    .lesson = "A select with a default case never blocks: it receives if a value is ready and "
              "otherwise does nothing, which is how a loop checks for an abort between units of "
              "work. It is cheap as long as the work itself blocks; the poll only looks.",
    .bound = "a 10 s countdown aborted at 3.5 s: virtual time in controlled mode, 10 ms "
             "\"seconds\" in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 4,
    .free_runs = 4,
    ENTRY(countdown_polling));

/* The same countdown waiting out each second by polling: the loop never
 * blocks. In virtual time the clock moves only when no task can run, so the
 * second never ends and neither does the loop; on a real clock it ends, but
 * only after spinning a core for the whole countdown. */
static void countdown_busy_polling(void *arg)
{
    (void)arg;
    csp_chan *abort_ch = abort_pressed_at(3 * second() + second() / 2);
    say("Commencing countdown.  Press return to abort.\n");
    for (int countdown = 10; countdown > 0; countdown--) {
        say("%d\n", countdown);
        csp_duration next = csp_now() + 1 * second();
        while (csp_now() < next) { /* BUG(HANG): waits by polling; it never blocks */
            csp_case abort_case = { abort_ch, CSP_OP_RECV, NULL, false };
            if (csp_select(&abort_case, 1, true) == 0) {
                say_recorded("Launch aborted!\n");
                return;
            }
        }
    }
    say_recorded("Lift off!\n");
}

/* Controlled mode only. On a real clock the spin ends when the second does,
 * having burnt a core: a free run finishes and passes, and no verdict measures
 * wasted CPU. In virtual time it is what it is — a loop that cannot end,
 * because it never lets the clock move — and the step bound says so. */
PATTERN(select_busy_poll_reg,
    .id = "select.busy-poll", .section = "8.7", .book_func = "",
    .fixed_by = "select.poll",
    .lesson = "Polling in a loop never blocks, so the loop makes no progress of its own and never "
              "looks stuck to the runtime either: it just spins. Here it waits out each second by "
              "polling the clock and abort, which in virtual time (as in Go's testing/synctest) "
              "can never end, since the clock only moves when every task is blocked. Poll only "
              "between units of work that block, or block in the select itself.",
    .bound = "controlled mode only: a livelock bound of 20,000 scheduling points (its fix, "
             "select.poll, takes 13)",
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(HANG) },
    .timeout = 20 * CSP_SECOND,
    .max_steps = 20000,
    ENTRY(countdown_busy_polling));

/* ------------------------------------------------------------ nil channels */

struct producer {
    csp_chan *out;
    int first, step, count;
};

static void produce(void *arg)
{
    struct producer *p = arg;
    for (int i = 0; i < p->count; i++) {
        int v = p->first + i * p->step;
        csp_send(p->out, &v);
    }
    csp_close(p->out);
}

/* Merges two producers' values with one select; a producer that is done
 * closes its channel, and its case is disabled by making its channel nil —
 * a closed channel's case would be ready for ever. */
static void merge_with_nil(void *arg)
{
    (void)arg;
    struct producer evens = { csp_chan_make(sizeof(int), 0, "evens"), 0, 2, 3 };
    struct producer odds = { csp_chan_make(sizeof(int), 0, "odds"), 1, 2, 2 };
    csp_go(produce, &evens, "evens");
    csp_go(produce, &odds, "odds");
    int v[2];
    csp_case cases[] = {
        { evens.out, CSP_OP_RECV, &v[0], false },
        { odds.out, CSP_OP_RECV, &v[1], false },
    };
    int open = 2, count = 0, sum = 0;
    while (open > 0) {
        int k = csp_select(cases, 2, false);
        if (!cases[k].ok) {
            cases[k].chan = NULL; /* a nil channel: this case is never chosen again */
            open--;
            continue;
        }
        count++;
        sum += v[k];
    }
    say_recorded("%d values, sum %d\n", count, sum);
    if (count != 5 || sum != 10)
        harness_fail("merged %d values summing to %d; want 5 values summing to 10", count, sum);
}

PATTERN(select_nil_disable_reg,
    .id = "select.nil-disable", .section = "8.7", .book_func = "",
    .lesson = "Sending or receiving on a nil channel blocks for ever, so in a select a case on a "
              "nil channel is never chosen. Setting a channel variable to nil turns its case off: "
              "here each producer's case is disabled once its channel is closed, which would "
              "otherwise be ready for ever and starve the loop.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 8,
    .free_runs = 8,
    ENTRY(merge_with_nil));

/* ------------------------------------------------------------------ Demo */

/* `chanlab demo fanin`: N producers each send ITEMS numbers on their own
 * channel; one select merges them, a nil channel disabling each finished
 * producer's case; count and sum are checked, and the rate printed. */
struct fan_producer {
    csp_chan *out;
    long items, base;
};

static void fan_produce(void *arg)
{
    struct fan_producer *p = arg;
    for (long i = 0; i < p->items; i++) {
        long v = p->base + i;
        csp_send(p->out, &v);
    }
    csp_close(p->out);
}

static int fanin_number(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "chanlab demo fanin: bad value '%s' for %s (accepted: a whole number "
                "from %ld to %ld)\n", s ? s : "(missing)", opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

#define FANIN_MAX 64

static int fanin_demo_main(int argc, char **argv)
{
    long nprod = 4, items = 100000;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--producers")) {
            if (fanin_number("--producers", argv[++i], 1, FANIN_MAX, &nprod) != 0)
                return 2;
        } else if (!strcmp(argv[i], "--items")) {
            if (fanin_number("--items", argv[++i], 0, 100000000, &items) != 0)
                return 2;
        } else {
            fprintf(stderr, "chanlab demo fanin: unknown option '%s' (accepted: --producers N, "
                    "--items N)\n", argv[i]);
            return 2;
        }
    }
    struct fan_producer ps[FANIN_MAX];
    csp_case cases[FANIN_MAX];
    long values[FANIN_MAX];
    for (long i = 0; i < nprod; i++) {
        ps[i] = (struct fan_producer){ csp_chan_make(sizeof(long), 0, "producer"), items, i * items };
        cases[i] = (csp_case){ ps[i].out, CSP_OP_RECV, &values[i], false };
        csp_go(fan_produce, &ps[i], "producer");
    }
    csp_duration t0 = csp_now();
    long open = nprod, count = 0;
    __int128 sum = 0;
    while (open > 0) {
        int k = csp_select(cases, (size_t)nprod, false);
        if (!cases[k].ok) {
            cases[k].chan = NULL;   /* a nil channel disables the case */
            open--;
            continue;
        }
        count++;
        sum += values[k];
    }
    double secs = (double)(csp_now() - t0) / CSP_SECOND;
    long n = nprod * items;
    __int128 want = (__int128)n * (n - 1) / 2;
    printf("fan-in: %ld producers, %ld values merged in %.3f s (%.0f ns/value)\n",
           nprod, count, secs, count ? secs * 1e9 / (double)count : 0.0);
    for (long i = 0; i < nprod; i++)
        csp_chan_free(ps[i].out);
    if (count != n || sum != want) {
        fprintf(stderr, "fan-in: WRONG: got %ld values, expected %ld (sum %s)\n",
                count, n, sum == want ? "right" : "wrong");
        return 1;
    }
    printf("fan-in: count and sum are right\n");
    return 0;
}

DEMO(fanin_demo, .name = "fanin", .usage = "[--producers N] [--items N]",
     .summary = "N producers (default 4) each send ITEMS numbers (default 100000); one select "
                "merges them, a nil channel disabling each finished producer, and checks count "
                "and sum",
     .main = fanin_demo_main);
