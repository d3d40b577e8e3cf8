/* test_chat_conn.c — the chat family's conns and line scanner (label unit),
 * over in-memory pipes in controlled mode and over TCP on 127.0.0.1 in free
 * mode: lines split as bufio.Scanner's ScanLines does ("\r\n", an empty
 * line, an unterminated last line), a line longer than CHAT_MAX_LINE is an
 * error, and a scanner reading by line takes one line at a time off the
 * stream: a pipe's writer stays blocked on the rest, a socket's rest stays
 * in the kernel.
 *
 * Entries run inside harness_run and report through harness_fail; the test
 * asserts on the verdict (controlled_util.h's rules). */
#include "controlled_util.h"

#include "chatconn.h"

#include <errno.h>
#include <stdatomic.h>

typedef struct {
    chat_listener *l;
    chat_conn *server;
    csp_chan *accepted;
} acceptor_arg;

static void acceptor(void *arg)
{
    acceptor_arg *a = arg;
    a->server = chat_accept(a->l);
    csp_close(a->accepted);
}

/* A listener (TCP on 127.0.0.1, or a pipe one) and a connected pair. */
static bool open_pair(bool tcp, chat_listener **l, chat_conn **client, chat_conn **server)
{
    char err[160] = "";
    *l = tcp ? chat_listen_tcp("127.0.0.1:0", err, sizeof err) : chat_listen_pipe();
    if (!*l) {
        harness_fail("listen: %s", err);
        return false;
    }
    acceptor_arg a = { *l, NULL, csp_chan_make(0, 0, "accepted") };
    csp_go(acceptor, &a, "acceptor");
    *client = chat_dial(*l);
    csp_recv(a.accepted, NULL);
    csp_chan_free(a.accepted);
    *server = a.server;
    if (!*client || !*server) {
        harness_fail("dial/accept: %p %p", (void *)*client, (void *)*server);
        return false;
    }
    return true;
}

static void close_pair(chat_listener *l, chat_conn *client, chat_conn *server)
{
    chat_conn_close(client);
    chat_conn_close(server);
    chat_conn_release(client);
    chat_conn_release(server);
    chat_listener_close(l);
    chat_listener_free(l);
}

typedef struct {
    chat_conn *conn;
    const char *text;
    size_t n;
    bool close_after;        /* CloseWrite once written: the reader sees the end */
    atomic_bool written;     /* the write returned */
    csp_chan *done;
} writer_arg;

static void writer(void *arg)
{
    writer_arg *w = arg;
    chat_conn_write(w->conn, w->text, w->n);
    atomic_store(&w->written, true);
    if (w->close_after)
        chat_conn_close_write(w->conn);
    csp_close(w->done);
}

static void start_writer(writer_arg *w, chat_conn *conn, const char *text, size_t n, bool close_after)
{
    *w = (writer_arg){ conn, text, n, close_after, false, csp_chan_make(0, 0, "written") };
    csp_go(writer, w, "writer");
}

static void wait_writer(writer_arg *w)
{
    csp_recv(w->done, NULL);
    csp_chan_free(w->done);
}

/* One scan: want a line equal to `want`, or (want NULL) the end of stream. */
static void expect_line(chat_scanner *s, const char *want, const char *what)
{
    const char *line = NULL;
    size_t len = 0;
    int r = chat_scan(s, &line, &len);
    if (!want) {
        if (r != 0)
            harness_fail("%s: scan returned %d (\"%.*s\"), want end of stream", what, r,
                         r == 1 ? (int)len : 0, r == 1 ? line : "");
        return;
    }
    if (r != 1)
        harness_fail("%s: scan returned %d (errno %d), want \"%s\"", what, r, errno, want);
    else if (len != strlen(want) || memcmp(line, want, len) || line[len] != 0)
        harness_fail("%s: got \"%.*s\" (%zu bytes), want \"%s\"", what, (int)len, line, len, want);
}

/* "a\r\nbb\n\nlast" in one write, then the end: a, bb, "", last, end — whether
 * the scanner reads by line or takes what there is. */
static void splits_lines(void *arg)
{
    bool tcp = *(bool *)arg;
    for (int by_line = 0; by_line <= 1; by_line++) {
        chat_listener *l;
        chat_conn *client, *server;
        if (!open_pair(tcp, &l, &client, &server))
            return;
        static const char text[] = "a\r\nbb\n\nlast";
        writer_arg w;
        start_writer(&w, server, text, sizeof text - 1, true);
        chat_scanner in;
        chat_scanner_init(&in, client, by_line);
        const char *what = by_line ? "by line" : "by read";
        expect_line(&in, "a", what);
        expect_line(&in, "bb", what);
        expect_line(&in, "", what);
        expect_line(&in, "last", what);
        expect_line(&in, NULL, what);
        wait_writer(&w);
        close_pair(l, client, server);
    }
}

/* CHAT_MAX_LINE + 10 bytes and no newline: -1, EMSGSIZE. */
static void refuses_a_long_line(void *arg)
{
    bool tcp = *(bool *)arg;
    chat_listener *l;
    chat_conn *client, *server;
    if (!open_pair(tcp, &l, &client, &server))
        return;
    static char text[CHAT_MAX_LINE + 10];
    memset(text, 'x', sizeof text);
    writer_arg w;
    start_writer(&w, server, text, sizeof text, true);
    chat_scanner in;
    chat_scanner_init(&in, client, false);
    const char *line;
    size_t len;
    errno = 0;
    int r = chat_scan(&in, &line, &len);
    if (r != -1 || errno != EMSGSIZE)
        harness_fail("a %zu-byte line: scan returned %d, errno %d; want -1, EMSGSIZE", sizeof text,
                     r, errno);
    chat_conn_close(client);              /* a pipe's writer is still blocked on the rest */
    wait_writer(&w);
    close_pair(l, client, server);
}

/* Pipes, controlled: "one\ntwo\n" in one write. Read by line, the first scan
 * takes "one\n" only: time passes (every other task runs) and the write has
 * not returned; it returns once "two" is scanned. Read by read, the first scan
 * takes all of it and the write has returned by then — so that the check can
 * tell the two apart. */
static void a_line_reader_leaves_the_rest_with_the_writer(void *arg)
{
    (void)arg;
    for (int by_line = 0; by_line <= 1; by_line++) {
        chat_listener *l;
        chat_conn *client, *server;
        if (!open_pair(false, &l, &client, &server))
            return;
        writer_arg w;
        start_writer(&w, server, "one\ntwo\n", 8, false);
        chat_scanner in;
        chat_scanner_init(&in, client, by_line);
        const char *what = by_line ? "by line" : "by read";
        expect_line(&in, "one", what);
        csp_sleep(CSP_MILLISECOND);
        bool written = atomic_load(&w.written);
        if (by_line && written)
            harness_fail("by line: the write returned with \"two\\n\" not read yet");
        if (!by_line && !written)
            harness_fail("by read: the write had not returned after its bytes were read");
        expect_line(&in, "two", what);
        wait_writer(&w);
        close_pair(l, client, server);
    }
}

/* TCP, free mode: after a by-line scan of "one", a plain read gets exactly
 * "two\n": the scanner took nothing past the newline. */
static void a_line_reader_leaves_the_rest_in_the_socket(void *arg)
{
    (void)arg;
    chat_listener *l;
    chat_conn *client, *server;
    if (!open_pair(true, &l, &client, &server))
        return;
    writer_arg w;
    start_writer(&w, server, "one\ntwo\n", 8, false);
    wait_writer(&w);                      /* all 8 bytes are on their way */
    chat_scanner in;
    chat_scanner_init(&in, client, true);
    expect_line(&in, "one", "by line");
    char buf[64];
    size_t got = 0;
    while (got < 4) {                     /* loopback: they are there; bounded by the harness */
        ssize_t k = chat_conn_read(client, buf + got, sizeof buf - got);
        if (k <= 0)
            break;
        got += (size_t)k;
    }
    if (got != 4 || memcmp(buf, "two\n", 4))
        harness_fail("after a by-line scan of \"one\", a read got %zu bytes \"%.*s\"; want \"two\\n\"",
                     got, (int)got, buf);
    close_pair(l, client, server);
}

static void run_pass(void (*entry)(void *), bool tcp)
{
    harness_options o = tcp ? harness_defaults() : cu_options();
    o.hang_after = 5 * CSP_SECOND;
    o.timeout = 30 * CSP_SECOND;
    if (!tcp)
        o.schedules = CU_SANITIZED ? 20 : 200;
    harness_result r;
    cu_run(entry, &tcp, &o, &r);
    cu_assert_verdict(&r, HARNESS_PASS);
    harness_result_free(&r);
}

static void pipe_lines(void **state)
{
    (void)state;
    run_pass(splits_lines, false);
}

static void tcp_lines(void **state)
{
    (void)state;
    run_pass(splits_lines, true);
}

static void pipe_long_line(void **state)
{
    (void)state;
    run_pass(refuses_a_long_line, false);
}

static void tcp_long_line(void **state)
{
    (void)state;
    run_pass(refuses_a_long_line, true);
}

static void pipe_line_reader(void **state)
{
    (void)state;
    run_pass(a_line_reader_leaves_the_rest_with_the_writer, false);
}

static void tcp_line_reader(void **state)
{
    (void)state;
    run_pass(a_line_reader_leaves_the_rest_in_the_socket, true);
}

int main(void)
{
    cu_main_init();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(pipe_lines),
        cmocka_unit_test(tcp_lines),
        cmocka_unit_test(pipe_long_line),
        cmocka_unit_test(tcp_long_line),
        cmocka_unit_test(pipe_line_reader),
        cmocka_unit_test(tcp_line_reader),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
