/* chatconn.h — the chat family's connections (DESIGN.md §5): a conn is a
 * byte stream with a remote address, a listener hands out conns. Two
 * implementations behind one interface, so the server code is the same:
 *  - TCP (free mode, `chanlab demo chat`): a socket; every call that can
 *    block (accept, read, write) is a declared system call, shown in dumps
 *    as "[syscall read]" and never taken for a deadlock;
 *  - pipe (controlled mode): an in-memory pair built from channels, like Go's
 *    net.Pipe — synchronous, a write returns once the reader has copied every
 *    byte — so nothing blocks in a real system call and time is virtual.
 *
 * Ownership: a conn starts with one reference (accept or dial gives it to
 * the caller); chat_conn_retain adds one per further user; the last
 * chat_conn_release frees it (and closes its descriptor). chat_conn_close
 * only shuts the stream down: a read or write blocked on it, on either end,
 * returns — so closing while another task still uses the conn is safe, and
 * the descriptor is never reused under a task that holds it. */
#ifndef CHATCONN_H
#define CHATCONN_H

#include "csp.h"

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct chat_conn chat_conn;
typedef struct chat_listener chat_listener;

/* Reads up to n bytes: > 0 the count, 0 end of stream (the peer closed, or
 * this conn was closed), -1 an error. */
ssize_t chat_conn_read(chat_conn *c, void *buf, size_t n);
/* As chat_conn_read, but never past the first newline: a reader that takes
 * one line at a time off the stream and leaves the rest with the writer (a
 * pipe's writer stays blocked on it, a socket's bytes stay in the kernel). */
ssize_t chat_conn_read_line(chat_conn *c, void *buf, size_t n);
/* Writes all n bytes: 0, or -1 when the stream is closed or broken. */
int chat_conn_write(chat_conn *c, const void *buf, size_t n);
/* Ends the stream both ways, for both ends (idempotent); frees nothing. */
void chat_conn_close(chat_conn *c);
/* TCP's CloseWrite: the peer reads end of stream, this end can still read.
 * A pipe has no half-close: it closes. */
void chat_conn_close_write(chat_conn *c);
void chat_conn_retain(chat_conn *c);
void chat_conn_release(chat_conn *c);
/* The peer's address: "127.0.0.1:40312" (TCP), "pipe-3" (pipe). */
const char *chat_conn_addr(const chat_conn *c);

/* A TCP listener on "HOST:PORT" (numeric IPv4, or "localhost"; port 0 picks
 * one). NULL with the reason in err on failure. */
chat_listener *chat_listen_tcp(const char *addr, char *err, size_t errsize);
/* An in-memory listener: chat_dial makes a pipe and hands one end to accept. */
chat_listener *chat_listen_pipe(void);
/* "127.0.0.1:8000", the port the system picked included; "pipe" for a pipe. */
const char *chat_listener_addr(const chat_listener *l);
/* The next connection; NULL once the listener is closed. */
chat_conn *chat_accept(chat_listener *l);
/* accept returns NULL from now on, a blocked accept too (idempotent). */
void chat_listener_close(chat_listener *l);
void chat_listener_free(chat_listener *l);
/* A client conn to l: TCP connects to its address, a pipe listener makes a
 * pipe and blocks until accept takes the other end. NULL on failure. */
chat_conn *chat_dial(chat_listener *l);
chat_conn *chat_dial_tcp(const char *addr, char *err, size_t errsize);
/* True when "HOST:PORT" names a loopback host (127.0.0.0/8 or localhost). */
bool chat_addr_is_loopback(const char *addr);

/* ------------------------------------------------------------ Lines */

/* The longest line a server reads, newline excluded: like bufio.Scanner's
 * limit (64 KiB in Go), a longer line ends the scan, and the book's
 * handleConn then treats the client as gone. */
#define CHAT_MAX_LINE 4096

/* bufio.Scanner with ScanLines over a conn: lines without their "\n" (and a
 * "\r" before it), the last line even without a newline. `by_line`: it
 * reads with chat_conn_read_line (a client that takes one line at a time off
 * the stream and leaves the rest to the writer). The buffer is in
 * the scanner (a scanner lives in its task's frame, as a Go one would on the
 * stack): no allocation, nothing to free. */
#define CHAT_SCAN_CAP (CHAT_MAX_LINE + 2)   /* a longest line, its "\r" and "\n" */
typedef struct {
    chat_conn *conn;
    size_t start, end;
    bool by_line, eof;
    char buf[CHAT_SCAN_CAP + 1];           /* + the NUL after an unterminated last line */
} chat_scanner;

void chat_scanner_init(chat_scanner *s, chat_conn *c, bool by_line);
/* 1: a line, *line pointing at it in the scanner's buffer (NUL-ended, *len
 * bytes, valid until the next call: Scanner.Bytes); 0: end of stream; -1: a
 * read error, or a line longer than CHAT_MAX_LINE (errno EMSGSIZE). */
int chat_scan(chat_scanner *s, const char **line, size_t *len);

#endif
