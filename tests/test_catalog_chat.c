/* test_catalog_chat.c — the chat family (§8.10, label catalog): every
 * variant observed as its registration expects in every mode it declares,
 * the buggy ones found by at least two strategies and replayed, the correct
 * one through 500 schedules of a bounded exhaustive search; and bad
 * input over the wire against `chanlab demo chat` (argv[1] is chanlab):
 * binary bytes, a 1 MiB line, a line cut by a disconnect, connect-and-close,
 * 1,000 connections in a burst — after each, the server still serves and
 * holds no descriptor beyond its baseline.
 *
 * The test process never calls the runtime: entries run inside harness_run,
 * which forks, and the server is a child process (chanlab demo chat on
 * 127.0.0.1, an ephemeral port). Every socket has 5 s timeouts. */
#include "catalog_util.h"

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static const char *chanlab;

/* --------------------------------------------------------------- Catalog */

static void chat_family(void **state)
{
    (void)state;
    catalog_check_family("chat");
}

static void chat_strategies(void **state)
{
    (void)state;
    catalog_check_strategies("chat");
}

/* The correct server under a bounded exhaustive search: every schedule with
 * at most one preemption, up to 500 (the space is far larger: not exhausted,
 * and said so). */
static void nonblocking_exhaustive(void **state)
{
    (void)state;
    catalog_check_exhaustive("chat.nonblocking", 1, 500);
}

/* ---------------------------------------------------------- The server */

static pid_t server;
static char server_addr[64];
static long server_fds0;

static long server_fds(void)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)server);
    DIR *d = opendir(path);
    long n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        n += e->d_name[0] != '.';
    if (d)
        closedir(d);
    return n;
}

static int start_server(void **state)
{
    (void)state;
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        return -1;
    server = fork();
    if (server < 0)
        return -1;
    if (server == 0) {
        dup2(p[1], STDOUT_FILENO);
        execl(chanlab, chanlab, "demo", "chat", "127.0.0.1:0", (char *)NULL);
        _exit(127);
    }
    close(p[1]);
    char line[256] = "";
    size_t n = 0;
    struct pollfd pf = { p[0], POLLIN, 0 };
    while (n < sizeof line - 1 && poll(&pf, 1, 10000) > 0 && read(p[0], line + n, 1) == 1)
        if (line[n++] == '\n')
            break;
    close(p[0]);
    if (sscanf(line, "chat: listening on %63s", server_addr) != 1) {
        fprintf(stderr, "the server said: %s\n", line);
        return -1;
    }
    usleep(100000);
    server_fds0 = server_fds();
    return 0;
}

static int stop_server(void **state)
{
    (void)state;
    if (server > 0) {
        kill(server, SIGTERM);
        waitpid(server, NULL, 0);
    }
    return 0;
}

/* Descriptors back to the baseline within `seconds`. */
static void assert_server_fds_back(int seconds)
{
    long fds = -1;
    for (int i = 0; i < seconds * 20; i++) {
        fds = server_fds();
        if (fds <= server_fds0)
            break;
        usleep(50000);
    }
    printf("server descriptors: %ld (baseline %ld)\n", fds, server_fds0);
    assert_true(fds <= server_fds0);
    assert_int_equal(waitpid(server, NULL, WNOHANG), 0);   /* still running */
}

/* ------------------------------------------------------------- Clients */

typedef struct {
    int fd;
    char me[48];
    char buf[16384];
    size_t len;
} wc;

static int wait_s = 5;   /* the sockets' timeouts */

static int wdial(void)
{
    char host[64];
    const char *colon = strrchr(server_addr, ':');
    memcpy(host, server_addr, (size_t)(colon - server_addr));
    host[colon - server_addr] = 0;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
    inet_pton(AF_INET, host, &a.sin_addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    assert_true(fd >= 0);
    struct timeval tv = { wait_s, 0 };
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    assert_int_equal(connect(fd, (struct sockaddr *)&a, sizeof a), 0);
    return fd;
}

/* The next line (without "\n") into line; its length, or -1 at end of
 * stream or after the 5 s timeout. */
static long wc_line(wc *c, char *line, size_t size)
{
    for (;;) {
        char *nl = memchr(c->buf, '\n', c->len);
        if (nl) {
            size_t n = (size_t)(nl - c->buf);
            assert_true(n < size);
            memcpy(line, c->buf, n);
            line[n] = 0;
            memmove(c->buf, nl + 1, c->len - n - 1);
            c->len -= n + 1;
            return (long)n;
        }
        assert_true(c->len < sizeof c->buf);
        ssize_t k = recv(c->fd, c->buf + c->len, sizeof c->buf - c->len, 0);
        if (k <= 0)
            return -1;
        c->len += (size_t)k;
    }
}

/* Reads lines until one is exactly want[0..n); false at end of stream or timeout. */
static bool wc_expect(wc *c, const char *want, size_t n)
{
    char line[16384];
    long k;
    while ((k = wc_line(c, line, sizeof line)) >= 0)
        if ((size_t)k == n && !memcmp(line, want, n))
            return true;
    return false;
}

static bool wc_expect_str(wc *c, const char *fmt, const char *a, const char *b)
{
    char want[512];
    int n = snprintf(want, sizeof want, fmt, a, b);
    return wc_expect(c, want, (size_t)n);
}

static void wc_send(wc *c, const void *p, size_t n)
{
    assert_int_equal(send(c->fd, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

/* Connects and waits until the broadcaster has the client in its set: its
 * own "in" comes back (handleConn reads it only after `entering`). */
static void wc_join(wc *c)
{
    memset(c, 0, sizeof *c);
    c->fd = wdial();
    char line[256];
    assert_true(wc_line(c, line, sizeof line) > 8);
    assert_memory_equal(line, "You are ", 8);
    snprintf(c->me, sizeof c->me, "%.47s", line + 8);
    wc_send(c, "in\n", 3);
    assert_true(wc_expect_str(c, "%s: %s", c->me, "in"));
}

static void wc_close(wc *c)
{
    close(c->fd);
    c->fd = -1;
}

/* Two fresh clients can still talk. */
static void assert_server_serves(void)
{
    wc a, b;
    wc_join(&a);
    wc_join(&b);
    wc_send(&b, "still here\n", 11);
    assert_true(wc_expect_str(&a, "%s: %s", b.me, "still here"));
    wc_close(&a);
    wc_close(&b);
}

/* ----------------------------------------------------------- Bad input */

static void binary_bytes_are_text(void **state)
{
    (void)state;
    wc a, b;
    wc_join(&a);
    wc_join(&b);
    char bytes[300];
    size_t n = 0;
    for (int v = 0; v < 256; v++)
        if (v != '\n' && v != '\r')
            bytes[n++] = (char)v;
    bytes[n] = '\n';
    wc_send(&a, bytes, n + 1);
    char want[400];
    int k = snprintf(want, sizeof want, "%s: ", a.me);
    memcpy(want + k, bytes, n);
    assert_true(wc_expect(&b, want, (size_t)k + n));
    wc_close(&a);
    wc_close(&b);
    assert_server_serves();
}

static void a_one_mib_line_drops_its_client(void **state)
{
    (void)state;
    wc big, b;
    wc_join(&b);
    wc_join(&big);
    size_t n = 1u << 20;
    char *line = malloc(n);
    assert_non_null(line);
    memset(line, 'x', n);
    /* The server stops reading after 4 KiB and shuts the connection: the
     * send fails part way, or succeeds into the socket buffers. */
    ssize_t sent = send(big.fd, line, n, MSG_NOSIGNAL);
    free(line);
    printf("sent %zd of %zu bytes of one line\n", sent, n);
    assert_true(wc_expect_str(&b, "%s has left", big.me, NULL));
    char rest[256];
    while (wc_line(&big, rest, sizeof rest) >= 0)   /* then end of stream */
        ;
    wc_close(&big);
    wc_close(&b);
    assert_server_serves();
    assert_server_fds_back(10);
}

static void a_line_cut_by_a_disconnect_is_still_a_message(void **state)
{
    (void)state;
    wc cut, b;
    wc_join(&b);
    wc_join(&cut);
    wc_send(&cut, "half a li", 9);
    wc_close(&cut);
    assert_true(wc_expect_str(&b, "%s: %s", cut.me, "half a li"));
    assert_true(wc_expect_str(&b, "%s has left", cut.me, NULL));
    wc_close(&b);
    assert_server_serves();
}

static void connect_and_close_at_once(void **state)
{
    (void)state;
    for (int i = 0; i < 200; i++)
        close(wdial());
    assert_server_serves();
    assert_server_fds_back(10);
}

static void a_burst_of_1000_connections(void **state)
{
    (void)state;
    enum { BURST = 1000 };
    struct rlimit rl;
    getrlimit(RLIMIT_NOFILE, &rl);
    if (rl.rlim_max < BURST + 64)
        skip();
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
    static int fds[BURST];
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    for (int i = 0; i < BURST; i++)
        fds[i] = wdial();
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("1000 connections in %.2f s\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    /* Every arrival is sent to every client already there: half a million
     * deliveries before the server has caught up with the burst. */
    wait_s = 60;
    assert_server_serves();      /* while all 1000 are connected */
    clock_gettime(CLOCK_MONOTONIC, &t1);
    printf("two more clients talked %.2f s after the burst began\n",
           (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
    wait_s = 5;
    for (int i = 0; i < BURST; i++)
        close(fds[i]);
    assert_server_serves();
    assert_server_fds_back(90);  /* each leave is announced to all who remain, as arrivals */
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: test_catalog_chat CHANLAB\n");
        return 2;
    }
    chanlab = argv[1];
    signal(SIGPIPE, SIG_IGN);
    const struct CMUnitTest catalog[] = {
        cmocka_unit_test(chat_family),
        cmocka_unit_test(chat_strategies),
        cmocka_unit_test(nonblocking_exhaustive),
    };
    const struct CMUnitTest wire[] = {
        cmocka_unit_test(binary_bytes_are_text),
        cmocka_unit_test(a_one_mib_line_drops_its_client),
        cmocka_unit_test(a_line_cut_by_a_disconnect_is_still_a_message),
        cmocka_unit_test(connect_and_close_at_once),
        cmocka_unit_test(a_burst_of_1000_connections),
    };
    int failed = cmocka_run_group_tests_name("chat catalog", catalog, NULL, NULL);
    failed += cmocka_run_group_tests_name("chat over the wire", wire, start_server, stop_server);
    return failed;
}
