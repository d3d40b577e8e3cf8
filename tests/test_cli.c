/* test_cli.c — the `chanlab` command as a user meets it (label unit): every
 * bad input — verb, id, option, number, schedule, missing argument — exits 2
 * with exactly one line on stderr that names what was wrong and what is
 * accepted; --help works everywhere; and the verbs do what they say (list,
 * explain, run, replay, the demos). The binary under test is CHANLAB_EXE;
 * each invocation runs in a child with a wall bound, so nothing can hang. */
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef CHANLAB_EXE
#error "CHANLAB_EXE: the path of the chanlab binary"
#endif

#define WALL_SECONDS 60

typedef struct {
    int status;                /* exit status, or 128 + signal */
    char *out, *err;
} invocation;

static void invocation_free(invocation *iv)
{
    free(iv->out);
    free(iv->err);
    memset(iv, 0, sizeof *iv);
}

static void append(char **buf, size_t *len, const char *chunk, size_t n)
{
    char *b = realloc(*buf, *len + n + 1);
    assert_non_null(b);
    memcpy(b + *len, chunk, n);
    *len += n;
    b[*len] = 0;
    *buf = b;
}

static double now_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs chanlab with the NULL-terminated arguments; `input` (or /dev/null
 * when NULL) is its standard input. */
static invocation run_chanlab(const char *input, const char *arg, ...)
{
    const char *argv[32] = { CHANLAB_EXE };
    int argc = 1;
    va_list ap;
    va_start(ap, arg);
    for (const char *a = arg; a && argc < 31; a = va_arg(ap, const char *))
        argv[argc++] = a;
    va_end(ap);
    argv[argc] = NULL;

    int out[2], err[2], in[2];
    assert_int_equal(pipe(out), 0);
    assert_int_equal(pipe(err), 0);
    assert_int_equal(pipe(in), 0);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        dup2(in[0], STDIN_FILENO);
        dup2(out[1], STDOUT_FILENO);
        dup2(err[1], STDERR_FILENO);
        close(in[0]); close(in[1]); close(out[0]); close(out[1]); close(err[0]); close(err[1]);
        setenv("NO_COLOR", "1", 1);
        execv(CHANLAB_EXE, (char *const *)argv);
        _exit(127);
    }
    close(in[0]);
    close(out[1]);
    close(err[1]);
    if (input && *input)
        assert_true(write(in[1], input, strlen(input)) == (ssize_t)strlen(input));
    close(in[1]);
    invocation iv = {0};
    size_t lo = 0, le = 0;
    append(&iv.out, &lo, "", 0);
    append(&iv.err, &le, "", 0);
    int fds[2] = { out[0], err[0] };
    double deadline = now_seconds() + WALL_SECONDS;
    while ((fds[0] >= 0 || fds[1] >= 0) && now_seconds() < deadline) {
        struct pollfd p[2];
        int np = 0;
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                p[np++] = (struct pollfd){ fds[i], POLLIN, 0 };
        if (poll(p, (nfds_t)np, 100) <= 0)
            continue;
        for (int i = 0; i < np; i++) {
            if (!(p[i].revents & (POLLIN | POLLHUP | POLLERR)))
                continue;
            char chunk[4096];
            ssize_t k = read(p[i].fd, chunk, sizeof chunk);
            bool is_out = p[i].fd == fds[0];
            if (k > 0) {
                append(is_out ? &iv.out : &iv.err, is_out ? &lo : &le, chunk, (size_t)k);
            } else if (k == 0 || errno != EINTR) {
                close(p[i].fd);
                fds[is_out ? 0 : 1] = -1;
            }
        }
    }
    int status = 0;
    if (fds[0] >= 0 || fds[1] >= 0) {
        kill(pid, SIGKILL);
        for (int i = 0; i < 2; i++)
            if (fds[i] >= 0)
                close(fds[i]);
    }
    assert_int_equal(waitpid(pid, &status, 0), pid);
    iv.status = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    return iv;
}

#define CHANLAB(...) run_chanlab(NULL, __VA_ARGS__, (const char *)NULL)

static void print_invocation(const char *what, const invocation *iv)
{
    fprintf(stderr, "%s: exit %d\n--- stdout\n%s--- stderr\n%s---\n", what, iv->status, iv->out, iv->err);
}

/* Exit 2, nothing on stdout, exactly one line on stderr that contains each
 * of the NULL-terminated fragments. */
static void expect_usage_error(invocation iv, const char *fragment, ...)
{
    size_t n = strlen(iv.err);
    bool one_line = n > 1 && iv.err[n - 1] == '\n' && strchr(iv.err, '\n') == iv.err + n - 1;
    bool ok = iv.status == 2 && !iv.out[0] && one_line && strncmp(iv.err, "chanlab", 7) == 0;
    va_list ap;
    va_start(ap, fragment);
    for (const char *f = fragment; f; f = va_arg(ap, const char *))
        ok = ok && strstr(iv.err, f) != NULL;
    va_end(ap);
    if (!ok)
        print_invocation("expected exit 2 with one line on stderr", &iv);
    invocation_free(&iv);
    assert_true(ok);
}

#define USAGE_ERROR(iv, ...) expect_usage_error((iv), __VA_ARGS__, (const char *)NULL)

/* Exit `status` and stdout containing each NULL-terminated fragment. */
static void expect_output(invocation iv, int status, const char *fragment, ...)
{
    bool ok = iv.status == status;
    va_list ap;
    va_start(ap, fragment);
    for (const char *f = fragment; f; f = va_arg(ap, const char *))
        ok = ok && strstr(iv.out, f) != NULL;
    va_end(ap);
    if (!ok)
        print_invocation("unexpected status or output", &iv);
    invocation_free(&iv);
    assert_true(ok);
}

#define OUTPUT(iv, status, ...) expect_output((iv), (status), __VA_ARGS__, (const char *)NULL)

/* ------------------------------------------------------------ Bad input */

static void bad_verb_and_missing_verb(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("frobnicate"), "unknown verb 'frobnicate'", "accepted: list, explain, run");
    USAGE_ERROR(run_chanlab(NULL, (const char *)NULL), "which verb?", "accepted");
    USAGE_ERROR(CHANLAB("--frobnicate"), "unknown verb '--frobnicate'", "accepted");
}

static void unknown_ids(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("run", "countdown.nosuch"), "unknown variant 'countdown.nosuch'", "chanlab list");
    USAGE_ERROR(CHANLAB("explain", "nosuch"), "unknown variant 'nosuch'", "accepted");
    USAGE_ERROR(CHANLAB("replay", "nosuch", "v1:x:0"), "unknown variant 'nosuch'", "accepted");
}

static void bad_mode_and_strategy(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--mode", "sideways"), "bad value 'sideways' for --mode",
                "accepted: free, controlled");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--strategy", "bogo"), "bad value 'bogo' for --strategy",
                "accepted: random, pct, exhaustive");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--mode", "free", "--strategy", "pct"),
                "--strategy applies to controlled mode only", "accepted");
    /* select.busy-poll declares controlled mode only. */
    USAGE_ERROR(CHANLAB("run", "select.busy-poll", "--mode", "free"), "does not run in free mode",
                "accepted: --mode controlled");
}

static void bad_numbers(void **state)
{
    (void)state;
    static const char *const bad_schedules[] = { "abc", "0", "-1", "1000001", "12x", "", "+5",
                                                 "99999999999999999999999" };
    for (size_t i = 0; i < sizeof bad_schedules / sizeof *bad_schedules; i++)
        USAGE_ERROR(CHANLAB("run", "countdown.tick", "--schedules", bad_schedules[i]), "for --schedules",
                    "accepted: a whole number from 1 to 1000000");
    static const char *const bad_seeds[] = { "abc", "-1", "18446744073709551616", "1.5", "0x10" };
    for (size_t i = 0; i < sizeof bad_seeds / sizeof *bad_seeds; i++)
        USAGE_ERROR(CHANLAB("run", "countdown.tick", "--seed", bad_seeds[i]), "for --seed",
                    "accepted: a whole number from 0 to 18446744073709551615");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--schedules=abc"), "bad value 'abc' for --schedules");
    static const char *const bad_noise[] = { "1001", "-1", "abc", "5%", "" };
    for (size_t i = 0; i < sizeof bad_noise / sizeof *bad_noise; i++) {
        USAGE_ERROR(CHANLAB("run", "countdown.tick", "--mode", "free", "--noise", bad_noise[i]), "for --noise",
                    "accepted: a whole number from 0 to 1000");
        USAGE_ERROR(CHANLAB("prove", "--family", "countdown", "--noise", bad_noise[i]), "for --noise",
                    "accepted: a whole number from 0 to 1000");
    }
    /* The exhaustive search's options (issue 16). */
    static const char *const bad_bounds[] = { "abc", "-1", "1001", "", "2x", "nonee" };
    for (size_t i = 0; i < sizeof bad_bounds / sizeof *bad_bounds; i++) {
        USAGE_ERROR(CHANLAB("run", "countdown.tick", "--strategy", "exhaustive", "--preemption-bound",
                            bad_bounds[i]),
                    "for --preemption-bound", "accepted: a whole number from 0 to 1000, or none");
        USAGE_ERROR(CHANLAB("run", "countdown.tick", "--strategy", "exhaustive", "--choice-bound",
                            bad_bounds[i]),
                    "for --choice-bound", "accepted: a whole number from 0 to 1000, or none");
    }
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--preemption-bound", "2"),
                "--preemption-bound applies to the exhaustive strategy only", "accepted: --strategy exhaustive");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--no-reduction"),
                "--no-reduction applies to the exhaustive strategy only", "accepted: --strategy exhaustive");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--strategy", "exhaustive", "--proof-workload"),
                "countdown.tick has no proof workload", "accepted: --proof-workload with a variant");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--timeout", "0"), "for --timeout",
                "accepted: a whole number from 1 to 3600");
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "proof:v1:x:0"),
                "countdown.tick has no proof workload", "accepted: the schedule as 'chanlab prove' printed it");
    /* countdown.tick runs in controlled mode unless told: noise is free mode's. */
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--noise", "10"), "--noise applies to free mode only",
                "accepted: --mode free");
}

static void bad_options_and_arguments(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--bogus"), "unknown option '--bogus'", "accepted: ID, --mode");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--schedules"), "--schedules needs a value", "accepted");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--json=yes"), "--json takes no value");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "--seed", "1", "--seed", "2"), "--seed given twice");
    USAGE_ERROR(CHANLAB("run", "countdown.tick", "select.poll"), "unexpected argument 'select.poll'", "accepted");
    USAGE_ERROR(CHANLAB("list", "extra"), "unexpected argument 'extra'", "accepted");
    USAGE_ERROR(CHANLAB("list", "--verbose"), "unknown option '--verbose'", "accepted: --family F, --json");
}

static void missing_arguments(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("run"), "which variant?", "accepted");
    USAGE_ERROR(CHANLAB("explain"), "which variant?", "accepted");
    USAGE_ERROR(CHANLAB("replay"), "needs a variant and a schedule", "accepted");
    USAGE_ERROR(CHANLAB("replay", "countdown.tick"), "needs a variant and a schedule", "accepted");
    USAGE_ERROR(CHANLAB("demo"), "which demo?", "accepted: ", "countdown", "fanin");
    USAGE_ERROR(CHANLAB("list", "--family"), "--family needs a value", "accepted");
}

static void bad_schedules_for_replay(void **state)
{
    (void)state;
    /* Does not parse: harness_run's own line. */
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "garbage"), "chanlab replay: harness_run: bad schedule",
                "v1:");
    USAGE_ERROR(CHANLAB("replay", "select.alternate", "v1:x:1..2"), "bad schedule");
    USAGE_ERROR(CHANLAB("replay", "select.alternate", "v1:random:seed=1"), "bad schedule",
                "seed= and run= are required");
    /* Parses, but does not fit: countdown1 has a single task and makes no
     * decision at all; select.coin-flip's select has two options. */
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "v1:x:5.5.5"), "does not fit the program");
    USAGE_ERROR(CHANLAB("replay", "select.coin-flip", "v1:x:0.7"), "does not fit the program",
                "option 8 of 2");
    /* A free-mode-only variant has nothing to replay: none in these
     * families, so a free-mode schedule stands in for it. */
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "v1:free:seed=1:noise=0:run=1"), "bad schedule");
    /* --bytes: a file that is not there; and two ways at once. */
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "--bytes", "/nonexistent/crash"),
                "cannot read --bytes '/nonexistent/crash'", "accepted");
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "v1:x:0", "--bytes", "/dev/null"), "needs a variant");
    /* The fuzzers' first findings: whatever an argument holds, bad usage is
     * one line (control characters shown as '?'). */
    USAGE_ERROR(CHANLAB("explain", "thumbnails.leak-on-\n\nerror"), "unknown variant 'thumbnails.leak-on-??error'");
    USAGE_ERROR(CHANLAB("replay", "countdown.tick", "v1:x\n1.0.1"), "bad schedule \"v1:x?1.0.1\"");
}

static void bad_families(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("prove", "--family", "nosuch"), "no family 'nosuch'", "accepted: ", "countdown",
                "select");
    USAGE_ERROR(CHANLAB("list", "--family", "nosuch"), "no family 'nosuch'", "accepted");
    USAGE_ERROR(CHANLAB("prove", "--family", "countdown", "--json", "/nonexistent/dir/results.json"),
                "cannot write --json '/nonexistent/dir/results.json'");
    USAGE_ERROR(CHANLAB("prove", "--family", "countdown", "--junit", "/nonexistent/dir/junit.xml"),
                "cannot write --junit");
}

static void bad_demo_input(void **state)
{
    (void)state;
    USAGE_ERROR(CHANLAB("demo", "nosuch"), "unknown demo 'nosuch'", "accepted: ", "countdown");
    USAGE_ERROR(CHANLAB("demo", "countdown", "--from", "x"), "bad value 'x' for --from", "accepted");
    USAGE_ERROR(CHANLAB("demo", "countdown", "--interval", "0"), "bad value '0' for --interval", "accepted");
    USAGE_ERROR(CHANLAB("demo", "countdown", "--from"), "bad value '(missing)' for --from", "accepted");
    USAGE_ERROR(CHANLAB("demo", "countdown", "--loud"), "unknown option '--loud'", "accepted");
    USAGE_ERROR(CHANLAB("demo", "fanin", "--producers", "65"), "for --producers", "from 1 to 64");
}

/* ------------------------------------------------------------------ Help */

static void help_everywhere(void **state)
{
    (void)state;
    OUTPUT(CHANLAB("--help"), 0, "usage: chanlab VERB", "prove", "replay");
    OUTPUT(CHANLAB("help"), 0, "usage: chanlab VERB");
    static const char *const verbs[] = { "list", "explain", "run", "replay", "prove" };
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++) {
        char want[64];
        snprintf(want, sizeof want, "usage: chanlab %s", verbs[i]);
        OUTPUT(CHANLAB(verbs[i], "--help"), 0, want);
        OUTPUT(CHANLAB(verbs[i], "-h"), 0, want);
    }
    /* --help wins over anything wrong next to it. */
    OUTPUT(CHANLAB("run", "nosuch", "--schedules", "abc", "--help"), 0, "usage: chanlab run");
    OUTPUT(CHANLAB("demo", "--help"), 0, "countdown", "fanin");
    OUTPUT(CHANLAB("demo", "countdown", "--help"), 0, "usage: chanlab demo countdown");
}

/* --------------------------------------------------------------- Verbs */

static void list_and_explain(void **state)
{
    (void)state;
    OUTPUT(CHANLAB("list", "--family", "countdown"), 0, "countdown.tick ", "countdown1", "countdown.ticker-stop");
    OUTPUT(CHANLAB("list", "--family", "select", "--json"), 0, "\"kind\": \"list\"", "\"id\": \"select.busy-poll\"",
           "\"controlled\": [\"HANG\"]");
    /* The bug against its fix: the BUG line of one, the fix's line of the other. */
    OUTPUT(CHANLAB("explain", "countdown.tick-leak"), 0, "GOPL §8.7, countdown3", "Fixed by",
           "countdown.ticker-stop", "--- countdown.tick-leak", "+++ countdown.ticker-stop",
           "!-", "BUG(LEAK)", "+", "csp_ticker_stop(ticker)");
    OUTPUT(CHANLAB("explain", "select.alternate"), 0, "Fixes", "select.coin-flip", "select_alternate");
}

static void run_and_replay(void **state)
{
    (void)state;
    invocation iv = CHANLAB("run", "countdown.tick");
    const char *replay = strstr(iv.out, "chanlab replay countdown.tick v1:");
    if (iv.status != 0 || !strstr(iv.out, "verdict:   LEAK") || !replay)
        print_invocation("run countdown.tick", &iv);
    assert_int_equal(iv.status, 0);
    assert_non_null(replay);
    char schedule[256];
    assert_int_equal(sscanf(replay, "chanlab replay countdown.tick %255s", schedule), 1);
    invocation_free(&iv);
    OUTPUT(CHANLAB("replay", "countdown.tick", schedule), 0, "verdict:   LEAK", "countdown1");
    OUTPUT(CHANLAB("run", "select.coin-flip", "--json"), 0, "\"observed\": \"NONDETERMINISTIC\"",
           "\"as_expected\": true");
    OUTPUT(CHANLAB("run", "countdown.ticker-stop", "--mode", "free"), 0, "verdict:   PASS");
    /* A free-mode search's rerun line carries its noise, default or given. */
    OUTPUT(CHANLAB("run", "countdown.tick", "--mode", "free", "--schedules", "2"), 0, "verdict:   LEAK",
           "chanlab run countdown.tick --mode free --seed 1 --schedules 2 --noise 50");
    OUTPUT(CHANLAB("run", "countdown.tick", "--mode", "free", "--schedules", "2", "--noise", "0"), 0,
           "--schedules 2 --noise 0");
    OUTPUT(CHANLAB("run", "countdown.abort", "--strategy", "exhaustive", "--schedules", "50"), 0,
           "verdict:   PASS", "exhausted");
}

static void demos(void **state)
{
    (void)state;
    /* End of input does not abort; a byte does; the reader never outlives it. */
    OUTPUT(CHANLAB("demo", "countdown", "--from", "3", "--interval", "20"), 0, "3\n2\n1\nLift off!");
    OUTPUT(run_chanlab("\n", "demo", "countdown", "--from", "100", "--interval", "50", (const char *)NULL),
           0, "Launch aborted!");
    OUTPUT(CHANLAB("demo", "fanin", "--producers", "3", "--items", "2000"), 0, "count and sum are right");
}

int main(void)
{
    alarm(280);   /* a last resort below the ctest TIMEOUT */
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(bad_verb_and_missing_verb),
        cmocka_unit_test(unknown_ids),
        cmocka_unit_test(bad_mode_and_strategy),
        cmocka_unit_test(bad_numbers),
        cmocka_unit_test(bad_options_and_arguments),
        cmocka_unit_test(missing_arguments),
        cmocka_unit_test(bad_schedules_for_replay),
        cmocka_unit_test(bad_families),
        cmocka_unit_test(bad_demo_input),
        cmocka_unit_test(help_everywhere),
        cmocka_unit_test(list_and_explain),
        cmocka_unit_test(run_and_replay),
        cmocka_unit_test(demos),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
