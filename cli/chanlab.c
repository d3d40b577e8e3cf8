/* chanlab.c — the `chanlab` command. For now it carries the runtime demos
 * (the book's countdown with abort, and a fan-in with select); the catalog
 * verbs (list, explain, run, replay, prove) join them as the harness lands.
 *
 * Exit status: 0 success, 1 the program's own check failed, 2 usage error. */
#include "csp.h"

#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const char *prog = "chanlab";

static void usage(FILE *out)
{
    fprintf(out,
        "usage: chanlab demo countdown [--from N] [--interval MS]\n"
        "       chanlab demo fanin [--producers N] [--items N]\n"
        "       chanlab --help\n"
        "\n"
        "demo countdown  the book's rocket countdown (GOPL §8.7, countdown3 with a\n"
        "                stopped ticker): prints N..1 every MS milliseconds, then\n"
        "                \"Lift off!\"; a byte on standard input aborts it (end of\n"
        "                input does not). Defaults: --from 10 --interval 1000.\n"
        "demo fanin      N producers each send ITEMS numbers on their own channel;\n"
        "                one task merges them with select, a nil channel disabling\n"
        "                each finished producer's case, and checks count and sum.\n"
        "                Defaults: --producers 4 --items 100000.\n");
}

/* One-line error, exit 2 (DESIGN: bad input never becomes a crash). */
static _Noreturn void bad_usage(const char *fmt, const char *arg, const char *accepted)
{
    fprintf(stderr, "%s: ", prog);
    fprintf(stderr, fmt, arg);
    fprintf(stderr, " (accepted: %s; see 'chanlab --help')\n", accepted);
    exit(2);
}

static long parse_long(const char *opt, const char *s, long lo, long hi)
{
    char *end;
    errno = 0;
    long v = s ? strtol(s, &end, 10) : 0;
    if (!s || errno || end == s || *end || v < lo || v > hi) {
        char accepted[96];
        snprintf(accepted, sizeof accepted, "%s takes a whole number from %ld to %ld", opt, lo, hi);
        bad_usage("bad value '%s'", s ? s : "(missing)", accepted);
    }
    return v;
}

/* ---------------------------------------------------------------- countdown */

static void read_abort(void *arg)
{
    csp_chan *abort_ch = arg;
    char b;
    csp_syscall_enter("read stdin");
    ssize_t n;
    do
        n = read(STDIN_FILENO, &b, 1);
    while (n < 0 && errno == EINTR);
    csp_syscall_exit();
    if (n == 1)
        csp_send(abort_ch, NULL);   /* a byte aborts; end of input does not */
}

static int demo_countdown(int argc, char **argv)
{
    long from = 10, interval_ms = 1000;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--from"))   /* argv[argc] is NULL: "(missing)" */
            from = parse_long("--from", argv[++i], 0, 1000000);
        else if (!strcmp(argv[i], "--interval"))   /* argv[argc] is NULL: "(missing)" */
            interval_ms = parse_long("--interval", argv[++i], 1, 3600000);
        else
            bad_usage("unknown option '%s' for demo countdown", argv[i], "--from N, --interval MS");
    }
    /* Buffered: the reader never blocks on a countdown that is already over. */
    csp_chan *abort_ch = csp_chan_make(0, 1, "abort");
    csp_go(read_abort, abort_ch, "stdin reader");

    printf("Commencing countdown.  Press return to abort.\n");
    fflush(stdout);
    csp_ticker *ticker = csp_ticker_make(interval_ms * CSP_MILLISECOND);
    for (long n = from; n > 0; n--) {
        printf("%ld\n", n);
        fflush(stdout);
        csp_case cases[] = {
            { csp_ticker_chan(ticker), CSP_OP_RECV, NULL, false },
            { abort_ch, CSP_OP_RECV, NULL, false },
        };
        if (csp_select(cases, 2, false) == 1) {
            printf("Launch aborted!\n");
            csp_ticker_free(ticker);
            return 0;
        }
    }
    csp_ticker_free(ticker);
    printf("Lift off!\n");
    return 0;
}

/* -------------------------------------------------------------------- fanin */

struct producer { csp_chan *out; long items; long base; };

static void produce(void *arg)
{
    struct producer *p = arg;
    for (long i = 0; i < p->items; i++) {
        long v = p->base + i;
        csp_send(p->out, &v);
    }
    csp_close(p->out);
}

static int demo_fanin(int argc, char **argv)
{
    long nprod = 4, items = 100000;
    for (int i = 0; i < argc; i++) {
        if (!strcmp(argv[i], "--producers"))   /* argv[argc] is NULL: "(missing)" */
            nprod = parse_long("--producers", argv[++i], 1, 64);
        else if (!strcmp(argv[i], "--items"))   /* argv[argc] is NULL: "(missing)" */
            items = parse_long("--items", argv[++i], 0, 100000000);
        else
            bad_usage("unknown option '%s' for demo fanin", argv[i], "--producers N, --items N");
    }
    struct producer ps[64];
    csp_case cases[64];
    long values[64];
    for (long i = 0; i < nprod; i++) {
        ps[i] = (struct producer){ csp_chan_make(sizeof(long), 0, "producer"), items, i * items };
        cases[i] = (csp_case){ ps[i].out, CSP_OP_RECV, &values[i], false };
        csp_go(produce, &ps[i], "producer");
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

int main(int argc, char **argv)
{
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "demo")) {
        if (argc < 3)
            bad_usage("%s needs a program name", "demo", "countdown, fanin");
        if (!strcmp(argv[2], "countdown"))
            return demo_countdown(argc - 3, argv + 3);
        if (!strcmp(argv[2], "fanin"))
            return demo_fanin(argc - 3, argv + 3);
        if (!strcmp(argv[2], "--help")) {
            usage(stdout);
            return 0;
        }
        bad_usage("unknown demo '%s'", argv[2], "countdown, fanin");
    }
    bad_usage("unknown verb '%s'", argv[1], "demo, --help");
}
