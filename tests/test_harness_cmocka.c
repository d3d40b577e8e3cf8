/* test_harness_cmocka.c — harness_cmocka.h as a user's test suite meets it
 * (issue 9.4). The binary is both the suite under test and its checker:
 *
 *   test_harness_cmocka --suite MARKS   a cmocka group of three tests:
 *       passes_first      a correct program                    → passes
 *       asserts_in_entry  an assert_int_equal fails INSIDE the
 *                         entry, in the harness's forked child → fails
 *       passes_last       a correct program                    → passes
 *     every test appends "NAME PID" to the file MARKS when it starts.
 *   test_harness_cmocka                 the checks: runs the suite under each
 *     CMOCKA_MESSAGE_OUTPUT (stdout, subunit, tap, xml) and checks that
 *     exactly one test failed; its report has the verdict WRONG_RESULT,
 *     cmocka's own message with its file:line, the rerun line and the dump;
 *     and every test ran once, in the suite's own process — the child that
 *     failed never ran another test. */
#include "harness.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "harness_cmocka.h"

static const char *marks_path;

static void mark(const char *name)
{
    FILE *f = fopen(marks_path, "a");
    if (f) {
        fprintf(f, "%s %ld\n", name, (long)getpid());
        fclose(f);
    }
}

static void send_two(void *arg)
{
    int v = 2;
    csp_send(arg, &v);
}

static void correct(void *arg)
{
    (void)arg;
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "answer");
    csp_go(send_two, ch, "sender");
    int v = 0;
    csp_recv(ch, &v);
    csp_chan_free(ch);
}

enum { ASSERT_LINE = __LINE__ + 10 };   /* the assert_int_equal below */

/* The user's mistake: the value is 2, the test says 3, inside the entry. */
static void wrong_answer(void *arg)
{
    (void)arg;
    csp_chan *ch = csp_chan_make(sizeof(int), 0, "answer");
    csp_go(send_two, ch, "sender");
    int v = 0;
    csp_recv(ch, &v);
    assert_int_equal(v, 3);   /* ASSERT_LINE */
    csp_chan_free(ch);
}

static void passes_first(void **state)
{
    (void)state;
    mark("passes_first");
    assert_no_concurrency_bugs(correct, NULL);
}

static void asserts_in_entry(void **state)
{
    (void)state;
    mark("asserts_in_entry");
    assert_no_concurrency_bugs(wrong_answer, NULL);
}

static void passes_last(void **state)
{
    (void)state;
    mark("passes_last");
    assert_no_concurrency_bugs(correct, NULL);
}

static int suite(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(passes_first),
        cmocka_unit_test(asserts_in_entry),
        cmocka_unit_test(passes_last),
    };
    return cmocka_run_group_tests_name("users_suite", tests, NULL, NULL);
}

/* ------------------------------------------------------------ The checks */

static const char *self;

static char *slurp(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return strdup("");
    static char buf[1 << 18];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    buf[n] = 0;
    fclose(f);
    return strdup(buf);
}

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle))
        n++;
    return n;
}

static void expect_in(const char *what, const char *text, const char *needle)
{
    if (!strstr(text, needle)) {
        print_error("%s does not contain \"%s\":\n%s\n", what, needle, text);
        fail();
    }
}

static void run_suite_with(const char *format)
{
    char dir[] = "/tmp/chanlab-cmocka.XXXXXX";
    assert_non_null(mkdtemp(dir));
    char out[600], marks[600], xml[600];
    snprintf(out, sizeof out, "%s/out", dir);
    snprintf(marks, sizeof marks, "%s/marks", dir);
    snprintf(xml, sizeof xml, "%s/users_suite.xml", dir);
    fflush(NULL);
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        int fd = open(out, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        dup2(fd, STDOUT_FILENO);
        dup2(fd, STDERR_FILENO);
        setenv("CMOCKA_MESSAGE_OUTPUT", format, 1);
        setenv("CMOCKA_XML_FILE", xml, 1);
        unsetenv("CMOCKA_TEST_ABORT");
        alarm(120);
        execl(self, self, "--suite", marks, (char *)NULL);
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
        ;
    char *text = slurp(out);
    char *m = slurp(marks);
    char *x = slurp(xml);
    const char *report = strcmp(format, "xml") == 0 ? x : text;

    /* One failure: the suite's exit status counts failed tests. */
    if (!WIFEXITED(status) || WEXITSTATUS(status) != 1)
        print_error("%s: the suite ended with status 0x%x:\n%s\n", format, status, text);
    assert_true(WIFEXITED(status));
    assert_int_equal(WEXITSTATUS(status), 1);

    /* Every test ran exactly once, all in the suite's process. */
    char want[64];
    snprintf(want, sizeof want, " %ld\n", (long)pid);
    if (count(m, "\n") != 3 || count(m, want) != 3)
        print_error("%s: marks:\n%s(suite pid %ld)\n", format, m, (long)pid);
    assert_int_equal(count(m, "passes_first "), 1);
    assert_int_equal(count(m, "asserts_in_entry "), 1);
    assert_int_equal(count(m, "passes_last "), 1);
    assert_int_equal(count(m, want), 3);

    /* The report, in this format. */
    char where[128];
    snprintf(where, sizeof where, "test_harness_cmocka.c:%d", ASSERT_LINE);
    expect_in(format, report, "expected PASS, observed WRONG_RESULT");
    expect_in(format, report, "0x2 != 0x3");
    expect_in(format, report, where);
    expect_in(format, report, "CHANLAB_ENTRY=wrong_answer CHANLAB_SEED=1 CHANLAB_SCHEDULES=1");
    expect_in(format, report, "task 1 ");
    expect_in(format, report, "wrong_answer at ");   /* the dump shows the user's frame */
    if (!strcmp(format, "xml"))
        expect_in(format, report, "<failure>");
    if (!strcmp(format, "tap"))
        expect_in(format, report, "not ok 2");
    if (!strcmp(format, "subunit"))
        expect_in(format, report, "failure: asserts_in_entry");
    free(text);
    free(m);
    free(x);
    unlink(out);
    unlink(marks);
    unlink(xml);
    rmdir(dir);
}

static void reaches_stdout(void **state) { (void)state; run_suite_with("stdout"); }
static void reaches_subunit(void **state) { (void)state; run_suite_with("subunit"); }
static void reaches_tap(void **state) { (void)state; run_suite_with("tap"); }
static void reaches_xml(void **state) { (void)state; run_suite_with("xml"); }

int main(int argc, char **argv)
{
    self = argv[0];
    if (argc == 3 && !strcmp(argv[1], "--suite")) {
        marks_path = argv[2];
        return suite();
    }
    alarm(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(reaches_stdout),
        cmocka_unit_test(reaches_subunit),
        cmocka_unit_test(reaches_tap),
        cmocka_unit_test(reaches_xml),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
