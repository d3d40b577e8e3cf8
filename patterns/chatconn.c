/* chatconn.c — conns and listeners for the chat family (chatconn.h): TCP
 * sockets, and in-memory pipes built from channels the way Go's net.Pipe is.
 *
 * A pipe direction is two unbuffered channels: `data` carries the writer's
 * remaining bytes (a pointer and a length into the writer's own buffer),
 * `ack` carries back how many the reader copied. A write hands its bytes
 * over and waits for the ack until every byte is taken, so a writer goes no
 * faster than its reader (net.Pipe: "Reads on one end are matched with writes
 * on the other, copying data directly between the two; there is no internal
 * buffering"). One `done` channel per pipe, closed by the first close of
 * either end, wakes every read and write blocked on it: reads see end of
 * stream, writes fail. */
#include "chatconn.h"

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

typedef struct {
    const char *p;
    size_t n;
} pipe_chunk;

typedef struct {
    csp_chan *data;   /* pipe_chunk: the writer's remaining bytes */
    csp_chan *ack;    /* size_t: how many of them the reader took */
} pipe_half;

typedef struct {
    pipe_half ab, ba;
    csp_chan *done;   /* closed when either end closes */
    atomic_bool closed;
    atomic_int ends;  /* ends not yet freed */
} pipe_shared;

struct chat_conn {
    atomic_int refs;
    atomic_bool closed;
    char addr[64];
    int fd;                   /* TCP; -1 for a pipe end */
    pipe_shared *pipe;        /* pipe: shared by both ends */
    pipe_half *rd, *wr;       /* pipe: the direction this end reads, writes */
};

struct chat_listener {
    int fd;                   /* TCP; -1 for a pipe listener */
    atomic_bool closed;
    char addr[64];
    csp_chan *conns;          /* pipe: chat_conn *, the server ends */
    csp_chan *done;           /* pipe: closed by chat_listener_close */
    atomic_long dialed;       /* pipe: names pipe-1, pipe-2, ... */
};

static void *chat_alloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        csp_panic("chat: out of memory");
    return p;
}

/* ---------------------------------------------------------------- Pipes */

static chat_conn *pipe_end(pipe_shared *sh, pipe_half *rd, pipe_half *wr, const char *addr)
{
    chat_conn *c = chat_alloc(sizeof *c);
    atomic_init(&c->refs, 1);
    c->fd = -1;
    c->pipe = sh;
    c->rd = rd;
    c->wr = wr;
    snprintf(c->addr, sizeof c->addr, "%s", addr);
    return c;
}

static void pipe_make(const char *client_addr, chat_conn **client, chat_conn **server)
{
    pipe_shared *sh = chat_alloc(sizeof *sh);
    sh->ab = (pipe_half){ csp_chan_make(sizeof(pipe_chunk), 0, "pipe data"),
                          csp_chan_make(sizeof(size_t), 0, "pipe ack") };
    sh->ba = (pipe_half){ csp_chan_make(sizeof(pipe_chunk), 0, "pipe data"),
                          csp_chan_make(sizeof(size_t), 0, "pipe ack") };
    sh->done = csp_chan_make(0, 0, "pipe done");
    atomic_init(&sh->ends, 2);
    /* The client writes a→b; the server reads it. Each end's addr is its peer's. */
    *client = pipe_end(sh, &sh->ba, &sh->ab, "server");
    *server = pipe_end(sh, &sh->ab, &sh->ba, client_addr);
}

/* line: none past the first newline of the writer's bytes. */
static ssize_t pipe_read(chat_conn *c, void *buf, size_t n, bool line)
{
    pipe_chunk ch;
    csp_case cases[] = { { c->rd->data, CSP_OP_RECV, &ch, false },
                         { c->pipe->done, CSP_OP_RECV, NULL, false } };
    if (n == 0)
        return 0;
    if (csp_select(cases, 2, false) == 1)
        return 0;                                   /* closed: end of stream */
    size_t k = ch.n < n ? ch.n : n;
    const char *nl = line ? memchr(ch.p, '\n', k) : NULL;
    if (nl)
        k = (size_t)(nl - ch.p) + 1;
    memcpy(buf, ch.p, k);
    csp_send(c->rd->ack, &k);                       /* the writer waits for it */
    return (ssize_t)k;
}

static int pipe_write(chat_conn *c, const void *buf, size_t n)
{
    const char *p = buf;
    csp_chan *data = c->wr->data, *ack = c->wr->ack, *done = c->pipe->done;
    do {
        pipe_chunk ch = { p, n };
        csp_case cases[] = { { data, CSP_OP_SEND, &ch, false },
                             { done, CSP_OP_RECV, NULL, false } };
        if (csp_select(cases, 2, false) == 1)
            return -1;                              /* closed */
        size_t k;
        csp_recv(ack, &k);
        p += k;
        n -= k;
    } while (n > 0);
    return 0;
}

static void pipe_close(chat_conn *c)
{
    bool was = false;
    if (atomic_compare_exchange_strong(&c->pipe->closed, &was, true))
        csp_close(c->pipe->done);
}

static void pipe_free(chat_conn *c)
{
    pipe_shared *sh = c->pipe;
    free(c);
    if (atomic_fetch_sub(&sh->ends, 1) != 1)
        return;
    csp_chan_free(sh->ab.data);
    csp_chan_free(sh->ab.ack);
    csp_chan_free(sh->ba.data);
    csp_chan_free(sh->ba.ack);
    csp_chan_free(sh->done);
    free(sh);
}

/* ------------------------------------------------------------------ TCP */

static void format_addr(const struct sockaddr_in *a, char *buf, size_t size)
{
    char host[INET_ADDRSTRLEN] = "?";
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
    snprintf(buf, size, "%s:%u", host, (unsigned)ntohs(a->sin_port));
}

/* "HOST:PORT" → a; false with the reason in err. */
static bool parse_addr(const char *addr, struct sockaddr_in *a, char *err, size_t errsize)
{
    const char *colon = addr ? strrchr(addr, ':') : NULL;
    if (!colon) {
        snprintf(err, errsize, "address '%s': want HOST:PORT", addr ? addr : "");
        return false;
    }
    char host[64];
    size_t hl = (size_t)(colon - addr);
    if (hl == 0 || hl >= sizeof host) {
        snprintf(err, errsize, "address '%s': bad host", addr);
        return false;
    }
    memcpy(host, addr, hl);
    host[hl] = 0;
    char *end;
    errno = 0;
    unsigned long port = strtoul(colon + 1, &end, 10);
    if (!colon[1] || *end || errno || port > 65535) {
        snprintf(err, errsize, "address '%s': bad port", addr);
        return false;
    }
    memset(a, 0, sizeof *a);
    a->sin_family = AF_INET;
    a->sin_port = htons((uint16_t)port);
    if (!strcmp(host, "localhost"))
        strcpy(host, "127.0.0.1");
    if (inet_pton(AF_INET, host, &a->sin_addr) != 1) {
        snprintf(err, errsize, "address '%s': want a numeric IPv4 host or localhost", addr);
        return false;
    }
    return true;
}

bool chat_addr_is_loopback(const char *addr)
{
    struct sockaddr_in a;
    char err[128];
    return parse_addr(addr, &a, err, sizeof err) && (ntohl(a.sin_addr.s_addr) >> 24) == 127;
}

static chat_conn *tcp_conn(int fd)
{
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);   /* as Go's net does */
    chat_conn *c = chat_alloc(sizeof *c);
    atomic_init(&c->refs, 1);
    c->fd = fd;
    struct sockaddr_in a;
    socklen_t len = sizeof a;
    if (getpeername(fd, (struct sockaddr *)&a, &len) == 0)
        format_addr(&a, c->addr, sizeof c->addr);
    else
        snprintf(c->addr, sizeof c->addr, "?");
    return c;
}

static ssize_t tcp_read(chat_conn *c, void *buf, size_t n)
{
    for (;;) {
        csp_syscall_enter("read");
        ssize_t k = read(c->fd, buf, n);
        int err = errno;
        csp_syscall_exit();
        if (k >= 0)
            return k;
        if (err == EINTR)
            continue;
        return atomic_load(&c->closed) ? 0 : -1;
    }
}

/* What is there, up to n bytes, looked at without taking it (MSG_PEEK); then
 * taken up to its first newline: what was peeked is there to read. */
static ssize_t tcp_read_line(chat_conn *c, void *buf, size_t n)
{
    for (;;) {
        csp_syscall_enter("recv");
        ssize_t k = recv(c->fd, buf, n, MSG_PEEK);
        int err = errno;
        csp_syscall_exit();
        if (k > 0) {
            const char *nl = memchr(buf, '\n', (size_t)k);
            return tcp_read(c, buf, nl ? (size_t)(nl - (const char *)buf) + 1 : (size_t)k);
        }
        if (k == 0)
            return 0;
        if (err == EINTR)
            continue;
        return atomic_load(&c->closed) ? 0 : -1;
    }
}

static int tcp_write(chat_conn *c, const void *buf, size_t n)
{
    const char *p = buf;
    while (n > 0) {
        csp_syscall_enter("write");
        ssize_t k = send(c->fd, p, n, MSG_NOSIGNAL);
        int err = errno;
        csp_syscall_exit();
        if (k < 0 && err == EINTR)
            continue;
        if (k <= 0)
            return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

/* ------------------------------------------------------------ Interface */

ssize_t chat_conn_read(chat_conn *c, void *buf, size_t n)
{
    return c->pipe ? pipe_read(c, buf, n, false) : tcp_read(c, buf, n);
}

ssize_t chat_conn_read_line(chat_conn *c, void *buf, size_t n)
{
    if (n == 0)
        return 0;
    return c->pipe ? pipe_read(c, buf, n, true) : tcp_read_line(c, buf, n);
}

int chat_conn_write(chat_conn *c, const void *buf, size_t n)
{
    return c->pipe ? pipe_write(c, buf, n) : tcp_write(c, buf, n);
}

void chat_conn_close(chat_conn *c)
{
    bool was = false;
    if (!atomic_compare_exchange_strong(&c->closed, &was, true))
        return;
    if (c->pipe)
        pipe_close(c);
    else
        shutdown(c->fd, SHUT_RDWR);   /* wakes a read or write blocked on it */
}

void chat_conn_close_write(chat_conn *c)
{
    if (c->pipe)
        chat_conn_close(c);
    else
        shutdown(c->fd, SHUT_WR);
}

void chat_conn_retain(chat_conn *c) { atomic_fetch_add(&c->refs, 1); }

void chat_conn_release(chat_conn *c)
{
    if (!c || atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    if (c->pipe) {
        pipe_free(c);
    } else {
        close(c->fd);
        free(c);
    }
}

const char *chat_conn_addr(const chat_conn *c) { return c->addr; }

/* ------------------------------------------------------------ Listeners */

/* A TCP socket for "HOST:PORT" (its address in *a), or -1 with the reason. */
static int tcp_socket(const char *addr, struct sockaddr_in *a, char *err, size_t errsize)
{
    if (!parse_addr(addr, a, err, errsize))
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0)
        snprintf(err, errsize, "socket: %s", strerror(errno));
    return fd;
}

chat_listener *chat_listen_tcp(const char *addr, char *err, size_t errsize)
{
    struct sockaddr_in a;
    int fd = tcp_socket(addr, &a, err, errsize);
    if (fd < 0)
        return NULL;
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (bind(fd, (struct sockaddr *)&a, sizeof a) || listen(fd, 1024)) {
        snprintf(err, errsize, "listen %s: %s", addr, strerror(errno));
        close(fd);
        return NULL;
    }
    chat_listener *l = chat_alloc(sizeof *l);
    l->fd = fd;
    socklen_t len = sizeof a;
    getsockname(fd, (struct sockaddr *)&a, &len);
    format_addr(&a, l->addr, sizeof l->addr);
    return l;
}

chat_listener *chat_listen_pipe(void)
{
    chat_listener *l = chat_alloc(sizeof *l);
    l->fd = -1;
    l->conns = csp_chan_make(sizeof(chat_conn *), 0, "listener");
    l->done = csp_chan_make(0, 0, "listener done");
    snprintf(l->addr, sizeof l->addr, "pipe");
    return l;
}

const char *chat_listener_addr(const chat_listener *l) { return l->addr; }

chat_conn *chat_accept(chat_listener *l)
{
    if (l->fd < 0) {
        chat_conn *c = NULL;
        csp_case cases[] = { { l->conns, CSP_OP_RECV, &c, false },
                             { l->done, CSP_OP_RECV, NULL, false } };
        return csp_select(cases, 2, false) == 0 ? c : NULL;
    }
    while (!atomic_load(&l->closed)) {
        csp_syscall_enter("accept");
        int fd = accept4(l->fd, NULL, NULL, SOCK_CLOEXEC);
        int err = errno;
        csp_syscall_exit();
        if (fd >= 0)
            return tcp_conn(fd);
        if (atomic_load(&l->closed))
            break;
        if (err == EMFILE || err == ENFILE || err == ENOBUFS || err == ENOMEM) {
            fprintf(stderr, "chat: accept: %s (retrying in 10 ms)\n", strerror(err));
            csp_sleep(10 * CSP_MILLISECOND);
        } else if (err != EINTR && err != ECONNABORTED && err != EAGAIN) {
            fprintf(stderr, "chat: accept: %s\n", strerror(err));
            csp_sleep(10 * CSP_MILLISECOND);
        }
    }
    return NULL;
}

void chat_listener_close(chat_listener *l)
{
    bool was = false;
    if (!atomic_compare_exchange_strong(&l->closed, &was, true))
        return;
    if (l->fd >= 0)
        shutdown(l->fd, SHUT_RDWR);   /* wakes a blocked accept (EINVAL) */
    else
        csp_close(l->done);
}

void chat_listener_free(chat_listener *l)
{
    if (!l)
        return;
    if (l->fd >= 0) {
        close(l->fd);
    } else {
        csp_chan_free(l->conns);
        csp_chan_free(l->done);
    }
    free(l);
}

chat_conn *chat_dial(chat_listener *l)
{
    if (l->fd >= 0) {
        char err[160];
        chat_conn *c = chat_dial_tcp(l->addr, err, sizeof err);
        if (!c)
            fprintf(stderr, "chat: %s\n", err);
        return c;
    }
    char name[32];
    snprintf(name, sizeof name, "pipe-%ld", atomic_fetch_add(&l->dialed, 1) + 1);
    chat_conn *client, *server;
    pipe_make(name, &client, &server);
    csp_case cases[] = { { l->conns, CSP_OP_SEND, &server, false },
                         { l->done, CSP_OP_RECV, NULL, false } };
    if (csp_select(cases, 2, false) == 1) {
        chat_conn_release(server);
        chat_conn_release(client);
        return NULL;
    }
    return client;
}

chat_conn *chat_dial_tcp(const char *addr, char *err, size_t errsize)
{
    struct sockaddr_in a;
    int fd = tcp_socket(addr, &a, err, errsize);
    if (fd < 0)
        return NULL;
    int r, e;
    do {
        csp_syscall_enter("connect");
        r = connect(fd, (struct sockaddr *)&a, sizeof a);
        e = errno;
        csp_syscall_exit();
    } while (r < 0 && e == EINTR);
    if (r < 0) {
        snprintf(err, errsize, "dial %s: %s", addr, strerror(e));
        close(fd);
        return NULL;
    }
    return tcp_conn(fd);
}

/* --------------------------------------------------------------- Lines */

void chat_scanner_init(chat_scanner *s, chat_conn *c, bool by_line)
{
    /* Not zeroed (only what was read is looked at). */
    s->conn = c;
    s->by_line = by_line;
    s->start = s->end = 0;
    s->eof = false;
}

/* buf[start..start+n) as a line, "\r" dropped and NUL-ended in place (the
 * "\n" or "\r" it overwrites is consumed); -1 (EMSGSIZE) if too long. */
static int scan_emit(char *p, size_t n, const char **line, size_t *len)
{
    if (n > 0 && p[n - 1] == '\r')
        n--;
    if (n > CHAT_MAX_LINE) {
        errno = EMSGSIZE;
        return -1;
    }
    p[n] = 0;
    *line = p;
    *len = n;
    return 1;
}

/* The scanner's state is kept in locals and stored once, on the way out:
 * under TSan every load and store of a field is a checked access, and they
 * were a thirtieth of a chat schedule. */
int chat_scan(chat_scanner *s, const char **line, size_t *len)
{
    char *buf = s->buf;
    size_t start = s->start, end = s->end;
    int r;
    for (;;) {
        char *nl = memchr(buf + start, '\n', end - start);
        if (nl) {
            size_t n = (size_t)(nl - (buf + start));
            r = scan_emit(buf + start, n, line, len);
            start += n + 1;
            break;
        }
        if (s->eof) {
            size_t n = end - start;
            r = n ? scan_emit(buf + start, n, line, len) : 0;   /* the last line, unterminated */
            start = end;
            break;
        }
        if (start > 0) {
            memmove(buf, buf + start, end - start);
            end -= start;
            start = 0;
        }
        if (end == CHAT_SCAN_CAP) {
            errno = EMSGSIZE;                             /* no newline in a full buffer */
            r = -1;
            break;
        }
        size_t want = CHAT_SCAN_CAP - end;
        ssize_t k = s->by_line ? chat_conn_read_line(s->conn, buf + end, want)
                               : chat_conn_read(s->conn, buf + end, want);
        if (k < 0) {
            r = -1;
            break;
        }
        if (k == 0)
            s->eof = true;
        end += (size_t)k;
    }
    s->start = start;
    s->end = end;
    return r;
}
