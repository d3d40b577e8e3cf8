/* chat_load.c — loopback clients for a chat server speaking the book's
 * protocol (GOPL §8.10), all in one thread over poll(2): the load test (ctest
 * label `load`) and the fan-out benchmark (bench/chat_run).
 *
 *   chat_load load  CHANLAB [M]  `CHANLAB demo chat` with 200 clients and one
 *                             that never reads: every other client gets every
 *                             message, in one order, within the bound; peak
 *                             RSS; after all leave, no thread or descriptor
 *                             left. Exit 0 when all of that holds. M lines
 *                             (default 3,000 of 2 KB).
 *   chat_load stall CHANLAB   the same load on `demo chat --book`: measures
 *                             the stall the stalled client causes (exit 0
 *                             when it was measured, whatever it was).
 *   chat_load bench ADDR N M  N clients on a running server, one of them
 *                             sending M lines of ~70 bytes (at most 256 not
 *                             yet delivered to every client):
 *                             prints messages delivered per second.
 *
 * Only 127.0.0.0/8; every phase has a deadline, so nothing here can hang. */
#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define IN_CAP (256u << 10)
#define PAYLOAD 2000                 /* bytes of padding per load message: 3,000 of them (6 MB)
                                        * outgrow the 4 MiB a stalled socket can absorb */

typedef struct {
    int fd;
    bool stalled;                    /* never reads */
    bool eof;
    char me[48];                     /* from "You are ADDR" */
    char *in;
    size_t inlen;
    char *out;
    size_t outlen, outcap;
    long hellos;                     /* "ADDR: hello" lines seen */
    bool in_set;                     /* its own hello came back */
    long *order;                     /* message ids, in the order received */
    long got;
} client;

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static pid_t server_pid;

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fprintf(stdout, "chat_load: FAIL: ");
    vfprintf(stdout, fmt, ap);
    fprintf(stdout, "\n");
    va_end(ap);
    if (server_pid > 0)
        kill(server_pid, SIGKILL);
    exit(1);
}

static void *xcalloc(size_t n, size_t size)
{
    void *p = calloc(n, size);
    if (!p)
        die("out of memory");
    return p;
}

/* ------------------------------------------------------------ the server */

/* Starts `chanlab demo chat [--book] 127.0.0.1:0`; returns its address. */
static void start_server(const char *chanlab, bool book, char *addr, size_t size)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC))
        die("pipe: %s", strerror(errno));
    server_pid = fork();
    if (server_pid < 0)
        die("fork: %s", strerror(errno));
    if (server_pid == 0) {
        dup2(p[1], STDOUT_FILENO);
        char *args[] = { (char *)chanlab, "demo", "chat", "127.0.0.1:0", NULL, NULL };
        if (book) {
            args[3] = "--book";
            args[4] = "127.0.0.1:0";
        }
        execv(chanlab, args);
        _exit(127);
    }
    close(p[1]);
    char line[256];
    size_t n = 0;
    int64_t deadline = now_ns() + 10 * (int64_t)1000000000;
    while (n < sizeof line - 1 && (n == 0 || line[n - 1] != '\n')) {
        struct pollfd pf = { p[0], POLLIN, 0 };
        if (now_ns() > deadline || poll(&pf, 1, 100) < 0)
            die("the server did not say where it listens");
        if (pf.revents) {
            ssize_t k = read(p[0], line + n, 1);
            if (k <= 0)
                die("the server exited before listening");
            n++;
        }
    }
    line[n] = 0;
    close(p[0]);   /* the server's later stdout goes nowhere; it writes none */
    if (sscanf(line, "chat: listening on %47s", addr) != 1 || size < 48)
        die("unexpected first line from the server: %s", line);
}

static void stop_server(void)
{
    if (server_pid <= 0)
        return;
    kill(server_pid, SIGTERM);
    for (int i = 0; i < 50; i++) {
        if (waitpid(server_pid, NULL, WNOHANG) == server_pid) {
            server_pid = 0;
            return;
        }
        usleep(20000);
    }
    kill(server_pid, SIGKILL);
    waitpid(server_pid, NULL, 0);
    server_pid = 0;
}

static long proc_status(pid_t pid, const char *key)
{
    char path[64], line[256];
    snprintf(path, sizeof path, "/proc/%d/status", (int)pid);
    FILE *f = fopen(path, "r");
    long v = -1;
    size_t kl = strlen(key);
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, key, kl) && line[kl] == ':')
            v = strtol(line + kl + 1, NULL, 10);
    if (f)
        fclose(f);
    return v;
}

static long proc_fds(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof path, "/proc/%d/fd", (int)pid);
    DIR *d = opendir(path);
    long n = 0;
    struct dirent *e;
    while (d && (e = readdir(d)))
        if (e->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

/* ------------------------------------------------------------- clients */

static int dial(const char *addr, bool stalled)
{
    char host[64];
    const char *colon = strrchr(addr, ':');
    if (!colon || (size_t)(colon - addr) >= sizeof host)
        die("bad address %s", addr);
    memcpy(host, addr, (size_t)(colon - addr));
    host[colon - addr] = 0;
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(colon + 1)) };
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1 || (ntohl(a.sin_addr.s_addr) >> 24) != 127)
        die("not a loopback address: %s", addr);
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        die("socket: %s", strerror(errno));
    if (stalled) {
        int small = 4096;
        setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof small);
    }
    if (connect(fd, (struct sockaddr *)&a, sizeof a))
        die("connect %s: %s", addr, strerror(errno));
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    fcntl(fd, F_SETFL, O_NONBLOCK);
    return fd;
}

static void queue_out(client *c, const char *buf, size_t n)
{
    if (c->outlen + n > c->outcap) {
        size_t cap = c->outcap ? c->outcap : 4096;
        while (cap < c->outlen + n)
            cap *= 2;
        char *o = realloc(c->out, cap);
        if (!o)
            die("out of memory");
        c->out = o;
        c->outcap = cap;
    }
    memcpy(c->out + c->outlen, buf, n);
    c->outlen += n;
}

typedef struct {
    client *v;
    int n;
    long messages;                   /* ids 0..messages-1 */
    int64_t *sent_at;                /* per id */
    int64_t worst_ns;                /* worst delivery latency to a reading client */
    long delivered;                  /* message lines delivered to reading clients */
    int64_t last_delivery;
    int payload;                     /* bytes of padding per message */
} world;

static void on_line(world *w, client *c, char *line)
{
    if (!c->me[0] && !strncmp(line, "You are ", 8)) {
        snprintf(c->me, sizeof c->me, "%.47s", line + 8);
        return;
    }
    char *text = strstr(line, ": ");
    if (!text)
        return;
    text += 2;
    if (!strcmp(text, "hello")) {
        c->hellos++;
        if ((size_t)(text - 2 - line) == strlen(c->me) && !strncmp(line, c->me, strlen(c->me)))
            c->in_set = true;
        return;
    }
    long id;
    if (text[0] == 'm' && sscanf(text, "m %ld", &id) == 1 && id >= 0 && id < w->messages) {
        int64_t t = now_ns();
        int64_t lat = t - w->sent_at[id];
        if (lat > w->worst_ns)
            w->worst_ns = lat;
        if (c->got < w->messages)
            c->order[c->got] = id;
        c->got++;
        w->delivered++;
        w->last_delivery = t;
    }
}

static void on_readable(world *w, client *c)
{
    for (;;) {
        ssize_t k = read(c->fd, c->in + c->inlen, IN_CAP - c->inlen);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (k <= 0) {
            c->eof = true;
            return;
        }
        c->inlen += (size_t)k;
        size_t start = 0;
        for (size_t i = c->inlen - (size_t)k; i < c->inlen; i++) {
            if (c->in[i] == '\n') {
                c->in[i] = 0;
                on_line(w, c, c->in + start);
                start = i + 1;
            }
        }
        memmove(c->in, c->in + start, c->inlen - start);
        c->inlen -= start;
        if (c->inlen == IN_CAP)
            die("a line longer than %u bytes", IN_CAP);
    }
}

static void on_writable(client *c)
{
    while (c->outlen > 0) {
        ssize_t k = send(c->fd, c->out, c->outlen, MSG_NOSIGNAL);
        if (k < 0 && (errno == EAGAIN || errno == EINTR))
            return;
        if (k <= 0) {
            c->outlen = 0;
            return;
        }
        memmove(c->out, c->out + k, c->outlen - (size_t)k);
        c->outlen -= (size_t)k;
    }
}

/* One round of poll over every client: read what is there, send what waits. */
static void pump(world *w, int timeout_ms)
{
    static struct pollfd *pf;
    static int cap;
    if (cap < w->n) {
        free(pf);
        pf = xcalloc((size_t)w->n, sizeof *pf);
        cap = w->n;
    }
    for (int i = 0; i < w->n; i++) {
        client *c = &w->v[i];
        pf[i].fd = c->fd < 0 || c->eof ? -1 : c->fd;
        pf[i].events = (short)((c->stalled ? 0 : POLLIN) | (c->outlen ? POLLOUT : 0));
        pf[i].revents = 0;
    }
    if (poll(pf, (nfds_t)w->n, timeout_ms) < 0 && errno != EINTR)
        die("poll: %s", strerror(errno));
    for (int i = 0; i < w->n; i++) {
        if (pf[i].revents & (POLLIN | POLLHUP | POLLERR))
            if (!w->v[i].stalled)
                on_readable(w, &w->v[i]);
        if (pf[i].revents & POLLOUT)
            on_writable(&w->v[i]);
    }
}

static void connect_all(world *w, const char *addr, int n, int stalled, long messages)
{
    w->n = 0;
    w->v = xcalloc((size_t)n, sizeof *w->v);
    w->messages = messages;
    w->sent_at = xcalloc((size_t)(messages ? messages : 1), sizeof *w->sent_at);
    /* One at a time: a client is in the broadcaster's set once its own hello
     * comes back (handleConn reads it only after `entering`); a client that
     * never reads is in once client 0 has heard its hello. */
    int64_t deadline = now_ns() + 20 * (int64_t)1000000000;
    for (int i = 0; i < n; i++) {
        client *c = &w->v[i];
        w->n = i + 1;
        c->stalled = i >= n - stalled;
        c->fd = dial(addr, c->stalled);
        c->in = xcalloc(1, IN_CAP);
        c->order = xcalloc((size_t)(messages ? messages : 1), sizeof *c->order);
        queue_out(c, "hello\n", 6);
        while (c->stalled ? w->v[0].hellos < i + 1 : !c->in_set) {
            if (now_ns() > deadline)
                die("%d clients not in the server's set after 20 s", n - i);
            pump(w, 20);
        }
    }
}

static long reading_clients(const world *w)
{
    long r = 0;
    for (int i = 0; i < w->n; i++)
        r += !w->v[i].stalled;
    return r;
}

static void send_message(world *w, client *c, long id)
{
    char line[PAYLOAD + 64];
    w->sent_at[id] = now_ns();
    int n = snprintf(line, sizeof line, "m %ld %0*d\n", id, w->payload, 0);
    queue_out(c, line, (size_t)n);
}

static void close_all(world *w)
{
    for (int i = 0; i < w->n; i++) {
        if (w->v[i].fd >= 0)
            close(w->v[i].fd);
        w->v[i].fd = -1;
    }
}

/* ---------------------------------------------------------------- load */

#define LOAD_CLIENTS 200
#define LOAD_MESSAGES 3000
#define LOAD_ROUND 20                /* senders per round: all delivered before the next */
#define LOAD_BOUND_MS 1000           /* delivery latency bound, real time */
#define STALL_GIVE_UP_MS 3000

typedef struct {
    long peak_rss_kb;
    long stalled_at;                 /* delivered count (per reader) when the stall began; -1 */
    int64_t stall_ns;
} load_figures;

static void sample_rss(load_figures *f)
{
    long rss = proc_status(server_pid, "VmRSS");
    if (rss > f->peak_rss_kb)
        f->peak_rss_kb = rss;
}

/* Sends LOAD_MESSAGES in rounds. When nothing is delivered for
 * STALL_GIVE_UP_MS the stall is recorded and the stalled client closed
 * (once), so that the book's server can go on. */
static void run_rounds(world *w, load_figures *f, bool book)
{
    long readers = reading_clients(w);
    int64_t deadline = now_ns() + 45 * (int64_t)1000000000;
    f->stalled_at = -1;
    bool stalled_closed = false;
    for (long id = 0; id < w->messages;) {
        long round_end = id + LOAD_ROUND < w->messages ? id + LOAD_ROUND : w->messages;
        for (long k = id; k < round_end; k++)
            send_message(w, &w->v[k % readers], k);
        int64_t last = now_ns();
        long before = w->delivered;
        while (w->delivered < round_end * readers) {
            pump(w, 20);
            sample_rss(f);
            int64_t t = now_ns();
            if (w->delivered != before) {
                before = w->delivered;
                last = t;
            }
            if (t > deadline)
                die("45 s of load without finishing (%ld of %ld deliveries)", w->delivered,
                    w->messages * readers);
            if (t - last > STALL_GIVE_UP_MS * (int64_t)1000000 && !stalled_closed) {
                /* The server delivers nothing while the stalled client is connected. */
                f->stalled_at = w->delivered / readers;
                printf("chat_load: no delivery for %d ms after %ld deliveries (%.1f messages per "
                       "reader); closing the stalled client\n", STALL_GIVE_UP_MS, w->delivered,
                       (double)w->delivered / (double)readers);
                int64_t t0 = now_ns();
                for (int i = 0; i < w->n; i++)
                    if (w->v[i].stalled) {
                        close(w->v[i].fd);
                        w->v[i].fd = -1;
                    }
                stalled_closed = true;
                while (w->delivered == before && now_ns() - t0 < 10 * (int64_t)1000000000)
                    pump(w, 20);
                f->stall_ns = now_ns() - t0;     /* from the close to the next delivery */
                last = now_ns();
            } else if (t - last > 10 * (int64_t)1000000000) {
                die("no delivery for 10 s, even after the stalled client left");
            }
        }
        id = round_end;
    }
    (void)book;
}

static int check_order(world *w)
{
    const client *ref = NULL;
    int bad = 0;
    for (int i = 0; i < w->n; i++) {
        client *c = &w->v[i];
        if (c->stalled)
            continue;
        if (c->got != w->messages) {
            printf("chat_load: client %s got %ld of %ld messages\n", c->me, c->got, w->messages);
            bad++;
            continue;
        }
        if (!ref) {
            ref = c;
            continue;
        }
        if (memcmp(ref->order, c->order, (size_t)w->messages * sizeof *c->order)) {
            printf("chat_load: client %s got the messages in another order than %s\n", c->me,
                   ref->me);
            bad++;
        }
    }
    return bad;
}

/* After every client leaves: the server's threads and descriptors return to
 * what it had before the first client (10 s at most). */
static bool back_to_baseline(long threads0, long fds0, long *threads, long *fds)
{
    int64_t deadline = now_ns() + 10 * (int64_t)1000000000;
    do {
        *threads = proc_status(server_pid, "Threads");
        *fds = proc_fds(server_pid);
        if (*threads <= threads0 && *fds <= fds0)
            return true;
        usleep(50000);
    } while (now_ns() < deadline);
    return false;
}

static int load(const char *chanlab, bool book, long messages)
{
    char addr[64];
    start_server(chanlab, book, addr, sizeof addr);
    usleep(200000);
    long threads0 = proc_status(server_pid, "Threads"), fds0 = proc_fds(server_pid);
    long rss0 = proc_status(server_pid, "VmRSS");
    printf("chat_load: %s server on %s: %ld threads, %ld descriptors, RSS %ld KiB before clients\n",
           book ? "the book's" : "chat.nonblocking", addr, threads0, fds0, rss0);
    int64_t t0 = now_ns();
    world w = { .payload = PAYLOAD };
    connect_all(&w, addr, LOAD_CLIENTS + 1, 1, messages);
    printf("chat_load: %d clients (one never reads) connected and heard every hello in %.2f s\n",
           w.n, (double)(now_ns() - t0) / 1e9);
    load_figures f = { 0 };
    int64_t t1 = now_ns();
    run_rounds(&w, &f, book);
    double secs = (double)(now_ns() - t1) / 1e9;
    sample_rss(&f);
    long hwm = proc_status(server_pid, "VmHWM");
    int bad = check_order(&w);
    printf("chat_load: %ld messages to %ld readers in %.2f s (%.0f deliveries/s); worst delivery "
           "latency %.1f ms (bound %d ms); server peak RSS %ld KiB sampled, VmHWM %ld KiB\n",
           w.messages, reading_clients(&w), secs, (double)w.delivered / secs,
           (double)w.worst_ns / 1e6, LOAD_BOUND_MS, f.peak_rss_kb, hwm);
    int status = 0;
    if (book) {
        if (f.stalled_at >= 0)
            printf("chat_load: STALL measured: the book's broadcaster stopped after %ld of %ld "
                   "messages per reader (the stalled client's socket buffers full): no delivery "
                   "to any of the %ld readers for %d ms, the test's limit (it lasts as long as "
                   "that client stays connected); delivery resumed %.1f ms after it was closed\n",
                   f.stalled_at, w.messages, reading_clients(&w), STALL_GIVE_UP_MS,
                   (double)f.stall_ns / 1e6);
        else
            printf("chat_load: no stall seen (the stalled client's buffers never filled)\n");
        close_all(&w);
        stop_server();
        return 0;
    }
    for (int i = 0; i < w.n; i++) {
        client *c = &w.v[i];
        if (!c->stalled)
            continue;
        /* What the client that never read would find if it looked now. */
        long bytes = 0;
        bool eof = false;
        int64_t until = now_ns() + 2 * (int64_t)1000000000;
        while (!eof && now_ns() < until) {
            ssize_t k = read(c->fd, c->in, IN_CAP);
            if (k > 0)
                bytes += k;
            else if (k == 0 || (errno != EAGAIN && errno != EINTR))
                eof = true;
            else
                break;
        }
        printf("chat_load: the client that never read: %ld bytes waiting for it, then %s\n", bytes,
               eof ? "end of stream (the server dropped it)" : "nothing more (still connected)");
    }
    if (f.stalled_at >= 0) {
        printf("chat_load: FAIL: delivery stalled behind the client that never reads\n");
        status = 1;
    }
    if (bad) {
        printf("chat_load: FAIL: %d clients missed messages or saw another order\n", bad);
        status = 1;
    }
    if (w.worst_ns > LOAD_BOUND_MS * (int64_t)1000000) {
        printf("chat_load: FAIL: worst latency above the bound\n");
        status = 1;
    }
    close_all(&w);
    long threads, fds;
    if (!back_to_baseline(threads0, fds0, &threads, &fds)) {
        printf("chat_load: FAIL: after every client left the server has %ld threads (%ld before) "
               "and %ld descriptors (%ld before)\n", threads, threads0, fds, fds0);
        status = 1;
    } else {
        printf("chat_load: after every client left: %ld threads, %ld descriptors (as before)\n",
               threads, fds);
    }
    stop_server();
    printf("chat_load: %s\n", status ? "FAIL" : "ok");
    return status;
}

/* ---------------------------------------------------------------- bench */

#define BENCH_WINDOW 256
#define BENCH_PAYLOAD 40             /* a chat line of about 70 bytes */

static int bench(const char *addr, int n, long m)
{
    world w = { .payload = BENCH_PAYLOAD };
    connect_all(&w, addr, n, 0, m);
    long next = 0;
    int64_t t0 = now_ns(), deadline = t0 + 60 * (int64_t)1000000000;
    while (w.delivered < m * n) {
        /* The sender keeps at most BENCH_WINDOW messages not yet delivered to all. */
        long slowest = m;
        for (int i = 0; i < n; i++)
            if (w.v[i].got < slowest)
                slowest = w.v[i].got;
        while (next < m && next - slowest < BENCH_WINDOW)
            send_message(&w, &w.v[0], next++);
        pump(&w, 20);
        if (now_ns() > deadline)
            die("bench: 60 s without finishing (%ld of %ld deliveries)", w.delivered, m * n);
        for (int i = 0; i < n; i++)
            if (w.v[i].eof)
                die("bench: client %d was disconnected", i);
    }
    double secs = (double)(now_ns() - t0) / 1e9;
    printf("chat fan-out clients=%d messages=%ld seconds=%.3f delivered/s=%.0f\n", n, m, secs,
           (double)(m * n) / secs);
    close_all(&w);
    return 0;
}

int main(int argc, char **argv)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    signal(SIGPIPE, SIG_IGN);
    setvbuf(stdout, NULL, _IOLBF, 0);
    long messages = argc == 4 ? atol(argv[3]) : LOAD_MESSAGES;
    if (messages < 1 || messages > 100000) {
        fprintf(stderr, "chat_load: MESSAGES: want 1..100000\n");
        return 2;
    }
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "load"))
        return load(argv[2], false, messages);
    if ((argc == 3 || argc == 4) && !strcmp(argv[1], "stall"))
        return load(argv[2], true, messages);
    if (argc == 5 && !strcmp(argv[1], "bench"))
        return bench(argv[2], atoi(argv[3]), atol(argv[4]));
    fprintf(stderr, "usage: chat_load load|stall CHANLAB [MESSAGES] | chat_load bench ADDR CLIENTS "
                    "MESSAGES\n");
    return 2;
}
