/* countdown.c — GOPL §8.7, the rocket launch: a countdown multiplexed with an
 * abort channel by select, on time.Tick (countdown1, countdown3), time.After
 * (countdown2) and time.NewTicker; and the book's program itself
 * (`chanlab demo countdown`).
 *
 * Time. In controlled mode the catalog's countdown is the book's: 10 s, in
 * virtual time, so a run takes milliseconds. In free mode real time passes,
 * and ten real seconds per run is too slow for CI; there a "second" is 10 ms
 * (the same program, 100 times faster). Every event the verdicts depend on
 * is at least half a "second" away from any other, in both modes.
 *
 * The user who presses return is a task ("user") that sleeps, then sends on
 * abort, so every run is reproducible; only the demo reads standard input.
 * Invariant of every correct variant here: when the entry returns, no task of
 * its own and no ticker is left — the user task included. */
#include "section87.h"

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void launch(void) { say_recorded("Lift off!\n"); }

/* The user: presses return (a value on abort) `at` after the start. abort
 * has a buffer of one, so the press never blocks — not even when it comes
 * after the countdown is over and nobody receives any more. */
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

static void user_presses_return(csp_chan *abort_ch, csp_duration at)
{
    struct press *p = malloc(sizeof *p);
    if (!p)
        csp_panic("countdown: out of memory");
    *p = (struct press){ abort_ch, at };
    csp_go(user, p, "user");
}

/* ------------------------------------------------------------ countdown1 */

/* countdown1 as printed, made a function: the book's main() ends the
 * program, and the Tick with it; a function returns and the Tick goes on. */
static void countdown1(void *arg)
{
    (void)arg;
    say("Commencing countdown.\n");
    csp_chan *tick = csp_tick(1 * second()); /* BUG(LEAK): time.Tick never stops; it outlives this function */
    for (int countdown = 10; countdown > 0; countdown--) {
        say("%d\n", countdown);
        csp_recv(tick, NULL);
    }
    launch();
}

PATTERN(countdown_tick,
    .id = "countdown.tick", .section = "8.7", .book_func = "countdown1",
    .fixed_by = "countdown.ticker-stop",
    .lesson = "time.Tick returns a channel whose ticker can never be stopped. In the book's "
              "countdown1 that is harmless only because main returns and the program ends with "
              "it; as a function, the countdown returns and leaves a ticker ticking into a "
              "channel nobody reads. Tick suits only loops that live as long as the program; "
              "anything shorter wants NewTicker and Stop.",
    .bound = "a 10 s countdown: virtual time in controlled mode, 10 ms \"seconds\" in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(LEAK), [PATTERN_IN_CONTROLLED] = V(LEAK) },
    .timeout = 20 * CSP_SECOND,
    ENTRY(countdown1));

/* ------------------------------------------------------------ countdown2 */

/* countdown2: one select waits for ten seconds or an abort, whichever comes
 * first. The book's abort is unbuffered and its reader blocks on standard
 * input for good; here abort has a buffer of one, so a press that comes after
 * the launch (nobody receives any more) still lets the user task end. */
static void countdown2(csp_duration press_at)
{
    csp_chan *abort_ch = csp_chan_make(0, 1, "abort"); /* buffered: a late press never blocks */
    user_presses_return(abort_ch, press_at);
    say("Commencing countdown.  Press return to abort.\n");
    csp_case cases[] = {
        { csp_after(10 * second()), CSP_OP_RECV, NULL, false },
        { abort_ch, CSP_OP_RECV, NULL, false },
    };
    switch (csp_select(cases, 2, false)) {
    case 0:
        /* Do nothing. */
        break;
    case 1:
        say_recorded("Launch aborted!\n");
        return;
    }
    launch();
}

/* Both ways out of countdown2: the user presses return at 3.5 s (aborted),
 * then, in a second countdown, only at 12 s, after the launch. */
static void countdown_abort(void *arg)
{
    (void)arg;
    countdown2(3 * second() + second() / 2);
    countdown2(12 * second());
}

PATTERN(countdown_abort_reg,
    .id = "countdown.abort", .section = "8.7", .book_func = "countdown2",
    .lesson = "select waits for whichever comes first, the ten seconds of time.After or a value "
              "on abort, and does only that one. The task that feeds abort must not outlive the "
              "countdown: with a buffer of one its send never blocks, so a press that comes "
              "after the launch, when nobody receives any more, still lets it finish.",
    .bound = "a 10 s countdown: virtual time in controlled mode, 10 ms \"seconds\" in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 4,
    .free_runs = 4,
    ENTRY(countdown_abort));

/* ------------------------------------------------------------ countdown3 */

/* countdown3 as printed: prints every second, aborted at 3.5 s. */
static void countdown3_tick(void *arg)
{
    (void)arg;
    csp_chan *abort_ch = csp_chan_make(0, 1, "abort");
    user_presses_return(abort_ch, 3 * second() + second() / 2);
    say("Commencing countdown.  Press return to abort.\n");
    csp_chan *tick = csp_tick(1 * second()); /* BUG(LEAK): still ticking after the return below */
    for (int countdown = 10; countdown > 0; countdown--) {
        say("%d\n", countdown);
        csp_case cases[] = {
            { tick, CSP_OP_RECV, NULL, false },
            { abort_ch, CSP_OP_RECV, NULL, false },
        };
        if (csp_select(cases, 2, false) == 1) {
            say_recorded("Launch aborted!\n");
            return;
        }
    }
    launch();
}

PATTERN(countdown_tick_leak,
    .id = "countdown.tick-leak", .section = "8.7", .book_func = "countdown3",
    .fixed_by = "countdown.ticker-stop",
    .lesson = "countdown3 prints every second from a time.Tick and returns early when aborted. "
              "The ticker behind Tick is like a task sleeping and sending in a loop: after the "
              "return nobody receives, and it keeps ticking for the life of the program. The "
              "harness names the leaked ticker and the line that made it.",
    .bound = "a 10 s countdown aborted at 3.5 s: virtual time in controlled mode, 10 ms "
             "\"seconds\" in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(LEAK), [PATTERN_IN_CONTROLLED] = V(LEAK) },
    .timeout = 20 * CSP_SECOND,
    ENTRY(countdown3_tick));

/* countdown3 with the book's fix: NewTicker, and Stop on every way out (Go
 * writes it once: defer ticker.Stop()). */
static void countdown3_ticker(void *arg)
{
    (void)arg;
    csp_chan *abort_ch = csp_chan_make(0, 1, "abort");
    user_presses_return(abort_ch, 3 * second() + second() / 2);
    say("Commencing countdown.  Press return to abort.\n");
    csp_ticker *ticker = csp_ticker_make(1 * second()); /* fixes BUG(LEAK) of countdown.tick and countdown.tick-leak: a ticker that can stop */
    for (int countdown = 10; countdown > 0; countdown--) {
        say("%d\n", countdown);
        csp_case cases[] = {
            { csp_ticker_chan(ticker), CSP_OP_RECV, NULL, false },
            { abort_ch, CSP_OP_RECV, NULL, false },
        };
        if (csp_select(cases, 2, false) == 1) {
            say_recorded("Launch aborted!\n");
            csp_ticker_stop(ticker); /* fixes BUG(LEAK): stopped before the early return */
            return;
        }
    }
    csp_ticker_stop(ticker);
    launch();
}

PATTERN(countdown_ticker_stop,
    .id = "countdown.ticker-stop", .section = "8.7", .book_func = "countdown3",
    .lesson = "The book's alternative to Tick: time.NewTicker, and ticker.Stop when the loop is "
              "done, on every way out (in Go, defer ticker.Stop()). A stopped ticker sends "
              "nothing more, so returning early leaves nothing behind.",
    .bound = "a 10 s countdown aborted at 3.5 s: virtual time in controlled mode, 10 ms "
             "\"seconds\" in free mode",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .timeout = 20 * CSP_SECOND,
    .schedules = 4,
    .free_runs = 4,
    ENTRY(countdown3_ticker));

/* ------------------------------------------------------------------ Demo */

/* `chanlab demo countdown`: the book's countdown3 with a stopped ticker, on
 * real time and standard input. A byte on standard input aborts; end of input
 * does not. The reader cannot sit in read() for good, or it would outlive the
 * countdown: it waits for input at most 100 ms at a time and polls `done`
 * between waits (a non-blocking receive, §8.7), and the countdown waits for it
 * to finish before it returns. */
struct stdin_reader {
    csp_chan *abort, *done;
    csp_waitgroup *finished;
};

static void read_stdin(void *arg)
{
    struct stdin_reader *r = arg;
    for (;;) {
        csp_case done = { r->done, CSP_OP_RECV, NULL, false };
        if (csp_select(&done, 1, true) == 0)
            break;
        struct pollfd p = { STDIN_FILENO, POLLIN, 0 };
        csp_syscall_enter("poll stdin");
        int k = poll(&p, 1, 100);
        csp_syscall_exit();
        if (k < 0 && errno != EINTR)
            break;
        if (k <= 0)
            continue;
        char b;
        csp_syscall_enter("read stdin");
        ssize_t n = read(STDIN_FILENO, &b, 1);
        csp_syscall_exit();
        if (n == 1) {
            csp_send(r->abort, NULL);   /* a buffer of one: never blocks */
            break;
        }
        if (n == 0 || (errno != EINTR && errno != EAGAIN))
            break;                      /* end of input: no abort */
    }
    csp_wg_done(r->finished);
}

static int demo_number(const char *opt, const char *s, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        fprintf(stderr, "chanlab demo countdown: bad value '%s' for %s (accepted: a whole number "
                "from %ld to %ld)\n", s ? s : "(missing)", opt, lo, hi);
        return -1;
    }
    *out = v;
    return 0;
}

static int countdown_demo_main(int argc, char **argv)
{
    long from = 10, interval_ms = 1000;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--from")) {
            if (demo_number("--from", argv[++i], 0, 1000000, &from) != 0)
                return 2;
        } else if (!strcmp(argv[i], "--interval")) {
            if (demo_number("--interval", argv[++i], 1, 3600000, &interval_ms) != 0)
                return 2;
        } else {
            fprintf(stderr, "chanlab demo countdown: unknown option '%s' (accepted: --from N, "
                    "--interval MS)\n", argv[i]);
            return 2;
        }
    }
    struct stdin_reader r = { csp_chan_make(0, 1, "abort"), csp_chan_make(0, 0, "done"),
                              csp_wg_make() };
    csp_wg_add(r.finished, 1);
    csp_go(read_stdin, &r, "stdin reader");

    printf("Commencing countdown.  Press return to abort.\n");
    fflush(stdout);
    csp_ticker *ticker = csp_ticker_make(interval_ms * CSP_MILLISECOND);
    bool aborted = false;
    for (long countdown = from; countdown > 0 && !aborted; countdown--) {
        printf("%ld\n", countdown);
        fflush(stdout);
        csp_case cases[] = {
            { csp_ticker_chan(ticker), CSP_OP_RECV, NULL, false },
            { r.abort, CSP_OP_RECV, NULL, false },
        };
        aborted = csp_select(cases, 2, false) == 1;
    }
    csp_ticker_free(ticker);
    printf(aborted ? "Launch aborted!\n" : "Lift off!\n");
    fflush(stdout);
    csp_close(r.done);          /* the reader ends within one poll */
    csp_wg_wait(r.finished);
    csp_wg_free(r.finished);
    csp_chan_free(r.done);
    csp_chan_free(r.abort);
    return 0;
}

DEMO(countdown_demo, .name = "countdown", .usage = "[--from N] [--interval MS]",
     .summary = "the book's rocket countdown (§8.7): N..1 every MS ms (default 10, 1000), then "
                "\"Lift off!\"; a byte on standard input aborts it, end of input does not",
     .main = countdown_demo_main);
