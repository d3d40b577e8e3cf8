/* chat.c — GOPL §8.10, the concurrent chat server: a broadcaster that owns
 * the set of clients and answers three channels (messages, entering,
 * leaving), a handleConn task per connection reading lines, a clientWriter
 * task per client copying its outgoing channel to the connection. The same
 * server runs on real TCP (free mode, `chanlab demo chat`) and on in-memory
 * pipes (controlled mode, chatconn.h), next to the ways of getting it wrong.
 *
 * The server here, chat.nonblocking, differs from the book's in two places,
 * both marked: a client's outgoing channel is buffered and the broadcaster
 * never blocks on it — a client whose buffer is full is dropped (its channel
 * closed, its connection shut down) — and its writer takes every message
 * already queued and writes them at once. Why drop the client rather than
 * the message: a dropped message leaves a conversation with a silent hole in
 * it that neither side can see; a dropped client sees end of stream and can
 * reconnect, every client that stays gets every message in the broadcaster's
 * order, and the server's memory is bounded by clients x buffer.
 *
 * Lines: a line longer than CHAT_MAX_LINE (4 KiB) ends the client's scan, as
 * bufio.Scanner's limit does in the book's handleConn: the client is dropped
 * ("has left"), never cut. A last line without a newline is still a message
 * (Scanner does the same); any bytes but "\n" are text.
 *
 * For the catalog the program also stops: once the listener is closed and
 * every handleConn has returned, `messages` is closed and the broadcaster
 * returns (the book's runs until the process exits). */
#include "chatconn.h"
#include "pattern.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

typedef enum {
    CHAT_BOOK,               /* the book's server: unbuffered channels, blocking sends */
    CHAT_NONBLOCKING,        /* buffered per client, a client that falls behind is dropped */
    CHAT_NO_CLOSE_ON_LEAVE,  /* nonblocking, but leaving never closes the channel */
    CHAT_SHARED_MAP,         /* nonblocking, but handleConn touches the clients map */
} chat_kind;

/* A message: shared by every outgoing channel it is queued on. */
typedef struct {
    atomic_int refs;
    size_t len;              /* text[len - 1] is '\n' */
    char text[];
} chat_msg;

/* The book's `client` is `chan<- string`; here it also carries the
 * connection, so that the broadcaster can shut a dropped client down. */
typedef struct {
    csp_chan *ch;            /* chat_msg *: outgoing messages */
    chat_conn *conn;
    const char *who;         /* chat_conn_addr(conn) */
    atomic_int refs;         /* handleConn and clientWriter */
} client;

typedef struct {
    client **v;
    size_t n, cap;
} client_set;

typedef struct {
    chat_kind kind;
    size_t buffer;           /* an outgoing channel's capacity (0 for the book's) */
    chat_listener *l;
    csp_chan *entering, *leaving;   /* client * */
    csp_chan *messages;             /* chat_msg *: all incoming client messages */
    csp_waitgroup *handlers;        /* handleConn tasks still running */
    csp_chan *accepting;            /* closed when the accept loop ends */
    csp_chan *broadcasting;         /* closed when the broadcaster returns */
    client_set shared;              /* chat.shared-clients-map only */
    atomic_long dropped;            /* clients dropped for falling behind */
} chat_server;

static void *chat_xalloc(size_t n)
{
    void *p = calloc(1, n);
    if (!p)
        csp_panic("chat: out of memory");
    return p;
}

/* Not zeroed: for buffers written before they are read (a line). Under
 * TSan calloc's zeroing is a memset of its own, every schedule. */
static void *chat_xmalloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        csp_panic("chat: out of memory");
    return p;
}

/* ------------------------------------------------------------ Messages */

/* who + sep + text + "\n": text may hold any byte. */
static chat_msg *msg_make(const char *who, const char *sep, const char *text, size_t len)
{
    size_t a = strlen(who), b = strlen(sep);
    chat_msg *m = chat_xmalloc(sizeof *m + a + b + len + 1);   /* every byte is set below */
    atomic_init(&m->refs, 1);
    memcpy(m->text, who, a);
    memcpy(m->text + a, sep, b);
    memcpy(m->text + a + b, text, len);
    m->len = a + b + len + 1;
    m->text[m->len - 1] = '\n';
    return m;
}

/* A new reference is taken from one the caller already holds: nothing to
 * order (relaxed, as shared_ptr's copy; under TSan a seq_cst increment is a
 * release-acquire on the counter, a twentieth of a chat schedule's runtime
 * share). The release that may free stays acq_rel. */
static void msg_retain(chat_msg *m) { atomic_fetch_add_explicit(&m->refs, 1, memory_order_relaxed); }

static void msg_release(chat_msg *m)
{
    if (m && atomic_fetch_sub(&m->refs, 1) == 1)
        free(m);
}

/* --------------------------------------------------------- Client sets */

static void set_add(client_set *s, client *c)
{
    if (s->n == s->cap) {
        size_t cap = s->cap ? 2 * s->cap : 8;
        client **v = realloc(s->v, cap * sizeof *v);
        if (!v)
            csp_panic("chat: out of memory");
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = c;
}

/* delete(clients, c): true if it was there. */
static bool set_remove(client_set *s, client *c)
{
    for (size_t i = 0; i < s->n; i++) {
        if (s->v[i] == c) {
            s->v[i] = s->v[--s->n];
            return true;
        }
    }
    return false;
}

static void client_release(client *c)
{
    if (atomic_fetch_sub(&c->refs, 1) != 1)
        return;
    csp_chan_free(c->ch);
    chat_conn_release(c->conn);
    free(c);
}

/* ---------------------------------------------------------- Broadcaster */

/* The broadcaster gives up on cli: out of the set, its channel closed (its
 * writer writes what is queued and ends), its connection shut down (a write
 * blocked on it fails, handleConn's read sees end of stream). */
static void drop(chat_server *s, client_set *clients, client *cli)
{
    set_remove(clients, cli);
    csp_close(cli->ch);
    chat_conn_close(cli->conn);
    atomic_fetch_add(&s->dropped, 1);
}

static void broadcast(chat_server *s, client_set *clients, chat_msg *msg)
{
    for (size_t i = 0; i < clients->n;) {
        client *cli = clients->v[i];
        msg_retain(msg);
        if (s->kind == CHAT_BOOK) {
            csp_send(cli->ch, &msg);  /* BUG(SLOW): cli <- msg waits for the slowest client,
                                       * and every other client waits with it; chat.nonblocking
                                       * never blocks here */
            i++;
            continue;
        }
        csp_case cases[] = { { cli->ch, CSP_OP_SEND, &msg, false } };
        if (csp_select(cases, 1, true) == 0) {
            i++;
        } else {                      /* its buffer is full: it fell behind */
            msg_release(msg);
            drop(s, clients, cli);    /* v[i] is now another client: same i */
        }
    }
}

static void broadcaster(void *arg)
{
    chat_server *s = arg;
    client_set local = { 0 };         /* clients := make(map[client]bool) */
    client_set *clients = s->kind == CHAT_SHARED_MAP ? &s->shared : &local;
    for (;;) {
        chat_msg *msg;
        client *in, *out;
        csp_case cases[] = { { s->messages, CSP_OP_RECV, &msg, false },
                             { s->entering, CSP_OP_RECV, &in, false },
                             { s->leaving, CSP_OP_RECV, &out, false } };
        switch (csp_select(cases, 3, false)) {
        case 0:
            if (!cases[0].ok)
                goto done;            /* every handleConn has returned (the catalog's stop) */
            broadcast(s, clients, msg);
            msg_release(msg);
            break;
        case 1:
            set_add(clients, in);     /* clients[cli] = true */
            break;
        case 2:
            if (!set_remove(clients, out))
                break;                /* dropped already: its channel is closed */
            if (s->kind == CHAT_NO_CLOSE_ON_LEAVE)
                break;  /* BUG(LEAK): delete without close(cli): its clientWriter ranges over
                         * the channel forever; chat.nonblocking closes it here */
            csp_close(out->ch);       /* close(cli) */
            break;
        }
    }
done:
    free(local.v);
    csp_close(s->broadcasting);
}

/* --------------------------------------------------------- Connections */

/* The book's clientWriter: one write per message, network errors ignored. */
static void client_writer_book(void *arg)
{
    client *cli = arg;
    chat_msg *msg;
    while (csp_recv(cli->ch, &msg)) {              /* for msg := range ch */
        chat_conn_write(cli->conn, msg->text, msg->len);
        msg_release(msg);
    }
    client_release(cli);
}

/* chat.nonblocking's: every message already queued goes in one write of at
 * most WRITER_BATCH bytes; a message with none queued behind it is written
 * from where it is, as the book's writer does (no copy). The batch is made
 * when a burst first needs one, at WRITER_START, and grows as a burst needs
 * (bufio's 4 KiB, then doubling): a client's writer made a zeroed 64 KiB
 * block every schedule for the few hundred bytes it holds in the catalog's
 * scenario, and under TSan a block's allocation and free each cost in
 * proportion to its size (a tenth of a chat schedule). */
#define WRITER_BATCH (64u << 10)
#define WRITER_START (4u << 10)

/* batch, grown (realloc) to hold need <= WRITER_BATCH bytes. */
static char *batch_room(char *batch, size_t *cap, size_t need)
{
    if (need <= *cap)
        return batch;
    size_t c = *cap;
    while (c < need)
        c *= 2;
    if (c > WRITER_BATCH)
        c = WRITER_BATCH;
    char *p = realloc(batch, c);
    if (!p)
        csp_panic("chat: out of memory");
    *cap = c;
    return p;
}

static void client_writer(void *arg)
{
    client *cli = arg;
    size_t cap = 0;
    char *batch = NULL;           /* made when a burst first needs one */
    chat_msg *msg;
    bool open = csp_recv(cli->ch, &msg);
    while (open) {
        size_t n = 0;
        csp_yield();                                    /* let a burst queue up behind msg */
        for (;;) {
            chat_msg *next;
            csp_case more[] = { { cli->ch, CSP_OP_RECV, &next, false } };
            bool got = csp_select(more, 1, true) == 0;  /* another one queued? */
            if (got && !more[0].ok) {
                open = false;                           /* closed and drained */
                got = false;
            }
            if (!got && n == 0) {
                /* msg alone: one write from where it is, as the book's writer does */
                chat_conn_write(cli->conn, msg->text, msg->len);
                msg_release(msg);
                break;
            }
            if (n + msg->len > WRITER_BATCH && n > 0) {
                chat_conn_write(cli->conn, batch, n);
                n = 0;
            }
            if (msg->len > WRITER_BATCH) {
                chat_conn_write(cli->conn, msg->text, msg->len);
            } else {
                if (!batch)
                    batch = chat_xmalloc(cap = WRITER_START);
                batch = batch_room(batch, &cap, n + msg->len);
                memcpy(batch + n, msg->text, msg->len);
                n += msg->len;
            }
            msg_release(msg);
            if (!got) {
                if (n)
                    chat_conn_write(cli->conn, batch, n);   /* errors ignored, as the book's */
                break;
            }
            msg = next;
        }
        if (open)
            open = csp_recv(cli->ch, &msg);
    }
    free(batch);
    client_release(cli);
}

static void post(chat_server *s, chat_msg *m) { csp_send(s->messages, &m); }  /* messages <- */

typedef struct {
    chat_server *s;
    chat_conn *conn;
} handler_arg;

static void handle_conn(void *arg)
{
    handler_arg h = *(handler_arg *)arg;
    free(arg);
    chat_server *s = h.s;
    client *cli = chat_xalloc(sizeof *cli);
    cli->ch = csp_chan_make(sizeof(chat_msg *), s->buffer, "outgoing");  /* ch := make(chan string) */
    cli->conn = h.conn;
    cli->who = chat_conn_addr(h.conn);
    atomic_init(&cli->refs, 2);
    csp_go(s->kind == CHAT_BOOK ? client_writer_book : client_writer, cli, "clientWriter");
    chat_msg *you = msg_make("You are ", "", cli->who, strlen(cli->who));
    csp_send(cli->ch, &you);                                  /* ch <- "You are " + who */
    post(s, msg_make(cli->who, " has arrived", "", 0));
    if (s->kind == CHAT_SHARED_MAP)
        set_add(&s->shared, cli);  /* BUG(RACE): the map is the broadcaster's; chat.nonblocking
                                    * sends entering <- ch */
    else
        csp_send(s->entering, &cli);
    chat_scanner in;
    chat_scanner_init(&in, h.conn, false);
    const char *line;
    size_t len;
    while (chat_scan(&in, &line, &len) == 1)                  /* for input.Scan() */
        post(s, msg_make(cli->who, ": ", line, len));
    if (s->kind == CHAT_SHARED_MAP) {
        if (set_remove(&s->shared, cli))  /* BUG(RACE): as above; chat.nonblocking sends
                                           * leaving <- ch */
            csp_close(cli->ch);
    } else {
        csp_send(s->leaving, &cli);
    }
    post(s, msg_make(cli->who, " has left", "", 0));
    chat_conn_close(h.conn);
    client_release(cli);
    csp_wg_done(s->handlers);
}

static void accept_loop(void *arg)
{
    chat_server *s = arg;
    for (;;) {
        chat_conn *conn = chat_accept(s->l);
        if (!conn)
            break;                                 /* the listener was closed */
        handler_arg *h = chat_xalloc(sizeof *h);
        *h = (handler_arg){ s, conn };
        csp_wg_add(s->handlers, 1);
        csp_go(handle_conn, h, "handleConn");
    }
    csp_close(s->accepting);
}

static chat_server *chat_server_start(chat_kind kind, size_t buffer, chat_listener *l)
{
    chat_server *s = chat_xalloc(sizeof *s);
    s->kind = kind;
    s->buffer = kind == CHAT_BOOK ? 0 : buffer;
    s->l = l;
    s->entering = csp_chan_make(sizeof(client *), 0, "entering");
    s->leaving = csp_chan_make(sizeof(client *), 0, "leaving");
    s->messages = csp_chan_make(sizeof(chat_msg *), 0, "messages");
    s->handlers = csp_wg_make();
    s->accepting = csp_chan_make(0, 0, "accepting");
    s->broadcasting = csp_chan_make(0, 0, "broadcasting");
    csp_go(broadcaster, s, "broadcaster");
    csp_go(accept_loop, s, "listener");
    return s;
}

/* Stops accepting, waits for every connection to end, stops the
 * broadcaster, frees the server (not the listener). */
static void chat_server_stop(chat_server *s)
{
    chat_listener_close(s->l);
    csp_recv(s->accepting, NULL);
    csp_wg_wait(s->handlers);
    csp_close(s->messages);
    csp_recv(s->broadcasting, NULL);
    csp_chan_free(s->entering);
    csp_chan_free(s->leaving);
    csp_chan_free(s->messages);
    csp_chan_free(s->accepting);
    csp_chan_free(s->broadcasting);
    csp_wg_free(s->handlers);
    free(s->shared.v);
    free(s);
}

/* ---------------------------------------------------------------- Catalog */

/* Three clients, each the book's netcat (one task reads, one writes): a
 * talker, a listener and a slow client that takes one line off its stream
 * every 100 ms. Every client says "hello" (handleConn reads it only after
 * `entering`, so a hello means its sender is in the broadcaster's set). The
 * talker connects first and the others once its own hello has come back to
 * it; once it has seen the other two say hello, it sends
 * CHAT_TALK messages "msg I T", typed CHAT_TALK_GAP apart, T the time of typing.
 * Each client checks it gets msg 1..CHAT_TALK in order; the two fast ones
 * record each delivery's latency (now - T). A client dropped for falling
 * behind must have got a gapless prefix.
 *
 * The bound, in virtual time (controlled mode; free mode checks delivery
 * only): pipes are synchronous and model no latency, so a server that never
 * waits for a client delivers in 0 ms. The book's broadcaster hands msg I to
 * the slow client's writer only after the slow client has read the lines
 * queued before it, one per 100 ms: the worst delivery to the fast clients is
 * over a second (measured: 1.9 s). CHAT_BOUND = 100 ms: 19x below that
 * worst, and far above 0.
 *
 * CHAT_BUFFER = 8: at one instant of virtual time a fast client is sent at
 * most 6 lines ("You are", two arrivals, three hellos) and its writer drains
 * them before time moves on, whatever the schedule; the slow client, with 20
 * messages typed while it reads its first lines, overflows it and is
 * dropped. */
#define CHAT_CLIENTS 3
#define CHAT_TALK 20
/* The clients of the scenario: CHAT_CLIENTS, or the talker alone in
 * chat.nonblocking's proof (chat_proof). Measured (default build, reduced
 * EXHAUSTIVE): the talker alone with its 20 messages, all 2,753
 * interleavings in 0.5 s (the messages are typed 10 ms apart, so each is a
 * search of its own); two clients are not exhausted in 285,000 schedules
 * (60 s) without a bound, nor in 800,000 within 2 preemptions, even with no
 * message at all — their connections, hellos and writers interleave at
 * one instant. */
static int chat_clients = CHAT_CLIENTS;
#define CHAT_PROOF_WORKLOAD "the talker alone, in place of 3 clients"

static void chat_proof(bool on) { chat_clients = on ? 1 : CHAT_CLIENTS; }
#define CHAT_TALK_GAP (10 * CSP_MILLISECOND)
#define CHAT_BUFFER 8                        /* chat.nonblocking's outgoing capacity */
#define CHAT_BOUND (100 * CSP_MILLISECOND)

enum { ROLE_TALKER, ROLE_LISTENER, ROLE_SLOW };

typedef struct {
    chat_listener *l;
    int role;
    csp_waitgroup *wg;
    csp_chan *entered;       /* closed once the talker is in the broadcaster's set */
} scenario_client;

typedef struct {
    chat_conn *conn;
    bool talker;
    csp_chan *go;            /* closed by the reader: say the messages (or give up) */
    atomic_bool give_up;
    csp_chan *said;          /* closed when the writer is done */
} client_talk;

/* Decimal digits of v (>= 0) at p; returns the end. */
static char *put_dec(char *p, unsigned long long v)
{
    char tmp[24];
    int k = 0;
    do
        tmp[k++] = (char)('0' + v % 10);
    while ((v /= 10) > 0);
    while (k > 0)
        *p++ = tmp[--k];
    return p;
}

/* "msg I TYPED\n" into line (>= 48 bytes), as snprintf's "msg %d %lld\n"
 * would write it: its format would be parsed, and under TSan checked,
 * twenty times a schedule (a fiftieth of one). I >= 1. */
static size_t msg_line(char *line, int i, csp_duration typed)
{
    char *p = line;
    memcpy(p, "msg ", 4);
    p = put_dec(p + 4, (unsigned long long)i);
    *p++ = ' ';
    if (typed < 0)
        *p++ = '-';
    p = put_dec(p, typed < 0 ? 0ULL - (unsigned long long)typed : (unsigned long long)typed);
    *p++ = '\n';
    return (size_t)(p - line);
}

static void talk(void *arg)
{
    client_talk *t = arg;
    pattern_outside_begin();                    /* a client: see scenario_client_main */
    if (chat_conn_write(t->conn, "hello\n", 6) == 0 && t->talker) {
        csp_recv(t->go, NULL);
        csp_duration start = csp_now();
        /* give_up is stored before go is closed: the close orders it (relaxed). */
        for (int i = 1; i <= CHAT_TALK && !atomic_load_explicit(&t->give_up, memory_order_relaxed);
             i++) {
            /* Typed at start + (i-1) gaps; a write that blocks (a synchronous pipe, a full
             * socket) delays the line, and the delay counts in its latency. */
            csp_duration typed = start + (i - 1) * CHAT_TALK_GAP;
            if (csp_now() < typed)
                csp_sleep(typed - csp_now());
            char line[64];
            size_t n = msg_line(line, i, typed);
            if (chat_conn_write(t->conn, line, n))
                break;
        }
    }
    pattern_outside_end();
    csp_close(t->said);
}

/* "msg I SENT": sscanf(text, "msg %d %lld", i, sent) == 2, without sscanf,
 * whose TSan interceptor (the format parsed, each argument range-checked)
 * was a twentieth of a chat schedule under TSan. */
static bool parse_msg(const char *text, int *i, long long *sent)
{
    if (strncmp(text, "msg ", 4))
        return false;
    char *end, *end2;
    long v = strtol(text + 4, &end, 10);
    if (end == text + 4 || v < INT_MIN || v > INT_MAX)
        return false;
    long long t = strtoll(end, &end2, 10);
    if (end2 == end)
        return false;
    *i = (int)v;
    *sent = t;
    return true;
}

/* A line "WHO: TEXT": *text is TEXT and the result whether WHO is me (me
 * is melen bytes); *text is NULL for a line without ": ". */
static bool said_by_me(const char *line, const char *me, size_t melen, const char **text)
{
    const char *colon = strstr(line, ": ");
    *text = colon ? colon + 2 : NULL;
    return colon && (size_t)(colon - line) == melen && !memcmp(line, me, melen);
}

/* A client of the scenario stands for a netcat process on the other side of
 * a connection: its own work (scanning, parsing, formatting) is outside the
 * server under test, so ThreadSanitizer is told to check none of its memory
 * accesses (pattern_outside_begin) — in a real deployment that memory is
 * another process's and races with nothing here. Its channel operations (the
 * pipe's hand-offs) order it as before, and everything the server does is
 * checked as before. Under TSan the clients' scans, parses and formatting
 * were ~8% of a chat schedule (A/B, 16,000 schedules). */
static void scenario_client_main(void *arg)
{
    scenario_client *sc = arg;
    bool slow = sc->role == ROLE_SLOW;
    pattern_outside_begin();
    chat_conn *conn = chat_dial(sc->l);
    if (!conn) {
        harness_fail("chat: a client could not connect");
        pattern_outside_end();
        csp_wg_done(sc->wg);
        return;
    }
    chat_conn_retain(conn);                     /* one for talk */
    client_talk t = { conn, sc->role == ROLE_TALKER, csp_chan_make(0, 0, "go"), false,
                      csp_chan_make(0, 0, "said") };
    csp_go(talk, &t, "netcat stdin");
    chat_scanner in;
    chat_scanner_init(&in, conn, slow);
    const char *line;
    char me[64] = "";
    size_t melen = 0;
    int hellos = 0, next = 1;
    bool going = false, entered = false;
    size_t len;
    csp_duration period = pattern_controlled() ? 100 * CSP_MILLISECOND : 10 * CSP_MILLISECOND;
    while (next <= CHAT_TALK) {
        if (slow)
            csp_sleep(period);
        if (chat_scan(&in, &line, &len) != 1)
            break;
        const char *text;
        bool mine = said_by_me(line, me, melen, &text);
        if (!me[0] && !strncmp(line, "You are ", 8)) {
            snprintf(me, sizeof me, "%s", line + 8);
            melen = strlen(me);
        } else if (text && !mine && !strcmp(text, "hello")) {
            hellos++;
        } else if (text && mine && !strcmp(text, "hello") && t.talker) {
            entered = true;                     /* our own hello came back: we are in */
            csp_close(sc->entered);
        } else if (text) {
            int i;
            long long sent;
            if (!parse_msg(text, &i, &sent))
                continue;
            if (i != next)
                harness_fail("chat: %s got msg %d where msg %d was due", me, i, next);
            next = i + 1;
            if (!slow)
                harness_latency("delivery", csp_now() - (csp_duration)sent);
        }
        if (t.talker && !going && hellos == chat_clients - 1) {
            going = true;
            csp_close(t.go);
        }
    }
    printf("chat: %s (%s) got %d of the %d messages%s\n", me[0] ? me : "a client",
           slow ? "slow" : t.talker ? "talker" : "listener", next - 1, CHAT_TALK,
           next <= CHAT_TALK ? ", then end of stream" : "");
    if (t.talker && !entered)
        csp_close(sc->entered);                 /* let main start the others anyway */
    if (next <= CHAT_TALK && !slow)
        harness_fail("chat: %s got %d of the %d messages", me[0] ? me : "a client", next - 1,
                     CHAT_TALK);
    if (!going) {
        atomic_store(&t.give_up, true);
        csp_close(t.go);
    }
    chat_conn_close(conn);                      /* our end: the talk task's write ends too */
    csp_recv(t.said, NULL);
    csp_chan_free(t.go);
    csp_chan_free(t.said);
    chat_conn_release(conn);
    chat_conn_release(conn);
    pattern_outside_end();
    csp_wg_done(sc->wg);
}

static void chat_scenario(chat_kind kind)
{
    chat_listener *l;
    if (pattern_controlled()) {
        l = chat_listen_pipe();
        harness_latency_bound("delivery", CHAT_BOUND);
    } else {
        char err[160];
        l = chat_listen_tcp("127.0.0.1:0", err, sizeof err);
        if (!l) {
            harness_fail("chat: %s", err);
            return;
        }
    }
    chat_server *s = chat_server_start(kind, CHAT_BUFFER, l);
    csp_waitgroup *wg = csp_wg_make();
    csp_chan *entered = csp_chan_make(0, 0, "talker entered");
    scenario_client clients[CHAT_CLIENTS];
    for (int i = 0; i < chat_clients; i++) {
        clients[i] = (scenario_client){ l, i, wg, entered };
        csp_wg_add(wg, 1);
        csp_go(scenario_client_main, &clients[i], "client");
        if (i == ROLE_TALKER)
            csp_recv(entered, NULL);   /* so that it hears the others' hellos */
    }
    csp_wg_wait(wg);
    csp_wg_free(wg);
    csp_chan_free(entered);
    chat_server_stop(s);
    chat_listener_free(l);
}

static void chat_broadcaster(void *arg) { (void)arg; chat_scenario(CHAT_BOOK); }
static void chat_nonblocking(void *arg) { (void)arg; chat_scenario(CHAT_NONBLOCKING); }
static void chat_no_close_on_leave(void *arg) { (void)arg; chat_scenario(CHAT_NO_CLOSE_ON_LEAVE); }
static void chat_shared_clients_map(void *arg) { (void)arg; chat_scenario(CHAT_SHARED_MAP); }

#define CHAT_BOUND_TEXT                                                                     \
    "controlled mode: every message reaches the two fast clients within 100 ms (virtual) " \
    "of being sent, while a third client reads one line per 100 ms"

PATTERN(chat_broadcaster_pattern,
    .id = "chat.broadcaster", .section = "8.10", .book_func = "broadcaster, handleConn, clientWriter",
    .fixed_by = "chat.nonblocking",
    .lesson = "The book's broadcaster sends each message to every client's unbuffered channel in "
              "turn, so it goes no faster than the slowest clientWriter, and that writer no "
              "faster than its client reads. One client reading a line per 100 ms holds every "
              "other client's delivery back with it: more than a second late here, against a "
              "bound of 100 ms.",
    .bound = CHAT_BOUND_TEXT,
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(SLOW) },
    .max_steps = 1000000, .timeout = 30 * CSP_SECOND,
    ENTRY(chat_broadcaster));

PATTERN(chat_nonblocking_pattern,
    .id = "chat.nonblocking", .section = "8.10", .book_func = "broadcaster, handleConn, clientWriter",
    .lesson = "Each client gets a buffered outgoing channel and the broadcaster only ever tries a "
              "send, so no client can stall it. A client whose buffer is full has fallen behind "
              "and is dropped, not its message: every client that stays gets every message in "
              "order, the dropped one sees end of stream and can reconnect, and memory stays "
              "bounded.",
    .bound = CHAT_BOUND_TEXT,
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(PASS), [PATTERN_IN_CONTROLLED] = V(PASS) },
    .max_steps = 1000000, .timeout = 30 * CSP_SECOND, .schedules = 3,
    .proof_setup = chat_proof, .proof_workload = CHAT_PROOF_WORKLOAD,
    ENTRY(chat_nonblocking));

PATTERN(chat_no_close_on_leave_pattern,
    .id = "chat.no-close-on-leave", .section = "8.10", .book_func = "broadcaster",
    .fixed_by = "chat.nonblocking",
    .lesson = "When a client leaves, the broadcaster deletes it from the set but never closes "
              "its outgoing channel. Its clientWriter's range loop ends only when that channel "
              "is closed, so each departed client leaves a writer blocked forever, with its "
              "connection: a leak per visit, invisible until the server runs out.",
    .modes = PATTERN_FREE | PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_FREE] = V(LEAK), [PATTERN_IN_CONTROLLED] = V(LEAK) },
    .max_steps = 1000000, .timeout = 30 * CSP_SECOND,
    ENTRY(chat_no_close_on_leave));

PATTERN(chat_shared_clients_map_pattern,
    .id = "chat.shared-clients-map", .section = "8.10", .book_func = "handleConn",
    .fixed_by = "chat.nonblocking",
    .lesson = "Each handleConn adds itself to the clients map and removes itself, instead of "
              "asking the broadcaster through entering and leaving. The map is no longer "
              "confined to one task and nothing orders those writes with the broadcaster's "
              "reads: the race detector reports it at once. Without it, a schedule search finds "
              "a client closing its channel while the broadcaster sends on it: a panic.",
    .modes = PATTERN_CONTROLLED,
    .expect = { [PATTERN_IN_CONTROLLED] = V(PANIC) },
    .expect_tsan = { [PATTERN_IN_CONTROLLED] = V(RACE) },
    .max_steps = 1000000, .timeout = 30 * CSP_SECOND, .schedules = 1000,
    ENTRY(chat_shared_clients_map));

/* ------------------------------------------------------------------ Demos */

#define CHAT_DEMO_ADDR "127.0.0.1:8000"
#define CHAT_DEMO_BUFFER 1024

/* Refuses a non-loopback address unless --public was given. */
static bool demo_addr_ok(const char *name, const char *addr, bool public)
{
    if (public || chat_addr_is_loopback(addr))
        return true;
    fprintf(stderr, "%s: %s is not a loopback address; pass --public to use it\n", name, addr);
    return false;
}

static int chat_demo_main(int argc, char **argv)
{
    const char *addr = CHAT_DEMO_ADDR;
    bool public = false, book = false;
    long buffer = CHAT_DEMO_BUFFER;
    int i = 0;
    for (; i < argc && argv[i][0] == '-'; i++) {
        if (!strcmp(argv[i], "--public")) {
            public = true;
        } else if (!strcmp(argv[i], "--book")) {
            book = true;
        } else if (!strcmp(argv[i], "--buffer") && i + 1 < argc) {
            char *end;
            buffer = strtol(argv[++i], &end, 10);
            if (*end || buffer < 1 || buffer > 1000000) {
                fprintf(stderr, "chat: bad --buffer '%s' (want 1..1000000)\n", argv[i]);
                return 2;
            }
        } else {
            fprintf(stderr, "chat: unknown option '%s' (usage: chat [--public] [--book] "
                            "[--buffer N] [ADDR])\n", argv[i]);
            return 2;
        }
    }
    if (i < argc)
        addr = argv[i++];
    if (i < argc) {
        fprintf(stderr, "chat: one address at most\n");
        return 2;
    }
    if (!demo_addr_ok("chat", addr, public))
        return 2;
    struct rlimit rl;                           /* a descriptor per client: as Go does, */
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;              /* raise the soft limit to the hard one */
        setrlimit(RLIMIT_NOFILE, &rl);
    }
    char err[160];
    chat_listener *l = chat_listen_tcp(addr, err, sizeof err);
    if (!l) {
        fprintf(stderr, "chat: %s\n", err);
        return 1;
    }
    chat_server *s = chat_server_start(book ? CHAT_BOOK : CHAT_NONBLOCKING, (size_t)buffer, l);
    if (book)
        printf("chat: listening on %s (the book's broadcaster: one slow client stalls all)\n",
               chat_listener_addr(l));
    else
        printf("chat: listening on %s (outgoing buffer %ld messages; a client that falls "
               "further behind is dropped)\n", chat_listener_addr(l), buffer);
    fflush(stdout);
    csp_recv(s->accepting, NULL);               /* for ever: the listener is never closed */
    return 0;
}

DEMO(chat_demo, .name = "chat", .usage = "[--public] [--book] [--buffer N] [ADDR]",
     .summary = "the chat server of GOPL §8.10 on ADDR (default " CHAT_DEMO_ADDR "; a non-loopback "
                "address needs --public); talk to it with `chanlab demo netcat ADDR` or nc. "
                "--book runs the book's broadcaster, which a client that stops reading stalls",
     .main = chat_demo_main);

typedef struct {
    chat_conn *conn;
    csp_chan *done;
} netcat_copy;

/* go func() { io.Copy(os.Stdout, conn); log.Println("done"); done <- struct{}{} }() */
static void copy_to_stdout(void *arg)
{
    netcat_copy *c = arg;
    char buf[4096];
    ssize_t k;
    while ((k = chat_conn_read(c->conn, buf, sizeof buf)) > 0) {
        csp_syscall_enter("write stdout");
        size_t w = fwrite(buf, 1, (size_t)k, stdout);
        fflush(stdout);
        csp_syscall_exit();
        if (w != (size_t)k)
            break;
    }
    fprintf(stderr, "done\n");
    csp_close(c->done);
}

static int netcat_demo_main(int argc, char **argv)
{
    bool public = argc > 0 && !strcmp(argv[0], "--public");
    if (public) {
        argc--;
        argv++;
    }
    if (argc != 1 || argv[0][0] == '-') {
        fprintf(stderr, "netcat: usage: netcat [--public] ADDR\n");
        return 2;
    }
    if (!demo_addr_ok("netcat", argv[0], public))
        return 2;
    char err[160];
    chat_conn *conn = chat_dial_tcp(argv[0], err, sizeof err);
    if (!conn) {
        fprintf(stderr, "netcat: %s\n", err);
        return 1;
    }
    netcat_copy c = { conn, csp_chan_make(0, 0, "done") };
    csp_go(copy_to_stdout, &c, "conn to stdout");
    char buf[4096];
    for (;;) {                                  /* mustCopy(conn, os.Stdin) */
        csp_syscall_enter("read stdin");
        ssize_t k = read(STDIN_FILENO, buf, sizeof buf);
        int e = errno;
        csp_syscall_exit();
        if (k < 0 && e == EINTR)
            continue;
        if (k <= 0 || chat_conn_write(conn, buf, (size_t)k))
            break;
    }
    chat_conn_close_write(conn);                /* exercise 8.3: CloseWrite, then wait */
    csp_recv(c.done, NULL);                     /* <-done */
    chat_conn_close(conn);
    chat_conn_release(conn);
    csp_chan_free(c.done);
    return 0;
}

DEMO(netcat_demo, .name = "netcat", .usage = "[--public] ADDR",
     .summary = "the book's netcat3 client: standard input to ADDR, ADDR to standard output; "
                "at end of input it closes its writing half and waits for the server to finish",
     .main = netcat_demo_main);
