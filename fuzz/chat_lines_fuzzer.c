/* chat_lines_fuzzer.c — the chat protocol's line handling (patterns/
 * chatconn.c: chat_scan, bufio.Scanner's ScanLines over a conn). The input:
 * a byte choosing whether the scanner reads by line (chat_conn_read_line) or
 * takes what there is, a byte choosing the sizes the client writes in (a
 * pipe read takes at most one write's bytes: sizes of 1 to 7 cut lines and
 * the scanner's buffer at every place), then the bytes the client sends. A client
 * task writes them over an in-memory pipe and closes; the server side scans
 * them, in one controlled in-process run. The lines it returns must be
 * exactly those of an independent model of the protocol: split at "\n", one
 * "\r" before it dropped, the last line even without "\n", a line longer
 * than CHAT_MAX_LINE (or no newline within the scanner's buffer) the end of
 * the scan with -1. Anything else — a different line, a crash, a task left
 * blocked — is a finding (abort). */
#include "chatconn.h"
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define SCAN_CAP CHAT_SCAN_CAP   /* the scanner's buffer */

typedef struct {
    const uint8_t *data;
    size_t size, chunk;
    bool by_line;
    chat_conn *client;
    csp_chan *done;
} fuzz_case;

static void client(void *arg)
{
    fuzz_case *fc = arg;
    for (size_t off = 0; off < fc->size;) {
        size_t n = fc->size - off < fc->chunk ? fc->size - off : fc->chunk;
        if (chat_conn_write(fc->client, fc->data + off, n) != 0)
            break;   /* the server stopped reading (a line too long) */
        off += n;
    }
    chat_conn_close_write(fc->client);
    csp_send(fc->done, NULL);
}

/* The model: the next line of data[*pos..size): 1 with the line, 0 at the
 * end, -1 where the scanner must give up. */
static int model_next(const uint8_t *d, size_t size, size_t *pos, const uint8_t **line, size_t *len)
{
    if (*pos >= size)
        return 0;
    const uint8_t *start = d + *pos;
    const uint8_t *nl = memchr(start, '\n', size - *pos);
    size_t raw = nl ? (size_t)(nl - start) : size - *pos;
    if (raw + (nl ? 1 : 0) > SCAN_CAP || (!nl && raw >= SCAN_CAP))
        return -1;   /* no newline within the buffer */
    size_t n = raw > 0 && start[raw - 1] == '\r' ? raw - 1 : raw;
    if (n > CHAT_MAX_LINE)
        return -1;
    *line = start;
    *len = n;
    *pos += raw + (nl ? 1 : 0);
    return 1;
}

/* The pipe's dial blocks until accept takes the other end: a task of its own. */
typedef struct {
    chat_listener *l;
    csp_chan *out;
} dial_arg;

static void dial(void *arg)
{
    dial_arg *da = arg;
    chat_conn *c = chat_dial(da->l);
    csp_send(da->out, &c);
}

static void server(void *arg)
{
    fuzz_case *fc = arg;
    chat_listener *l = chat_listen_pipe();
    fc->done = csp_chan_make(0, 0, "done");
    dial_arg da = { l, csp_chan_make(sizeof(chat_conn *), 1, "dialled") };
    csp_go(dial, &da, "dial");
    chat_conn *srv = chat_accept(l);
    csp_recv(da.out, &fc->client);
    csp_go(client, fc, "client");
    chat_scanner s;
    chat_scanner_init(&s, srv, fc->by_line);
    size_t pos = 0;
    for (unsigned k = 0;; k++) {
        size_t len = 0, want_len = 0;
        const uint8_t *want = NULL;
        const char *line = NULL;
        int got = chat_scan(&s, &line, &len);
        int expect = model_next(fc->data, fc->size, &pos, &want, &want_len);
        if (got != expect || (got == 1 && (len != want_len || memcmp(line, want, len) != 0))) {
            harness_fail("line %u: chat_scan returned %d (length %zu), the model %d (length %zu)", k,
                         got, len, expect, want_len);
            break;
        }
        if (got != 1)
            break;
    }
    chat_conn_close(srv);
    csp_recv(fc->done, NULL);
    chat_conn_release(srv);
    chat_conn_release(fc->client);
    chat_listener_close(l);
    chat_listener_free(l);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 2 || size > 3 * SCAN_CAP)
        return 0;
    static const size_t chunks[] = { 1, 2, 3, 7, 64, 1000, 4097, 65536 };
    fuzz_case fc = { data + 2, size - 2, chunks[data[1] % 8], data[0] & 1, NULL, NULL };
    harness_options o = harness_defaults();
    o.mode = HARNESS_CONTROLLED;
    o.in_process = true;
    o.max_steps = 1000000;
    harness_result r;
    if (harness_run(server, &fc, &o, &r) != 0) {
        fprintf(stderr, "chat_lines_fuzzer: harness_run refused: %s\n", r.message ? r.message : "?");
        abort();
    }
    if (r.verdict != HARNESS_PASS) {
        fprintf(stderr, "chat_lines_fuzzer: %s: %s\n%s\n", harness_verdict_name(r.verdict),
                r.message ? r.message : "", r.dump ? r.dump : "");
        abort();
    }
    harness_result_free(&r);
    return 0;
}
