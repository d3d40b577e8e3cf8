/* crawlserver.c — the generated site served for real: GNU libmicrohttpd on
 * 127.0.0.1, an ephemeral port, a thread per connection (so the slow page
 * holds up no one else), each response after the site's latency.
 *
 * The server runs in a process of its own, a fork of the caller, so its
 * threads and sockets are never a run's tasks or descriptors. It is not
 * exec'd: the catalog's binaries (chanlab, the test programs) would each
 * need to find a helper, and nothing requires it — the caller is
 * single-threaded when it forks (chanlab's and the tests' parent side never
 * start a thread: harness.h), so the child may start threads, also under
 * ThreadSanitizer. The child dies with its parent: PR_SET_PDEATHSIG, and end
 * of file on a pipe only the parent holds open for writing (forked runs
 * inherit it too, and die before their parent). */
#include "crawlsite.h"

#include <microhttpd.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

static void sleep_for(csp_duration d)
{
    struct timespec ts = { (time_t)(d / CSP_SECOND), (long)(d % CSP_SECOND) };
    while (d > 0 && nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

static enum MHD_Result serve(void *cls, struct MHD_Connection *conn, const char *url,
                             const char *method, const char *version, const char *upload_data,
                             size_t *upload_size, void **state)
{
    (void)version, (void)upload_data;
    const csp_duration *latency = cls;
    /* The first call comes with the headers: answer on the next, once the
     * request has been read whole, or MHD must close the connection after
     * the response (no keep-alive). */
    static int headers_seen;
    if (!*state) {
        *state = &headers_seen;
        return MHD_YES;
    }
    if (*upload_size) {
        *upload_size = 0;                   /* a body: ignored */
        return MHD_YES;
    }
    crawlsite_response r;
    if (strcmp(method, "GET") && strcmp(method, "HEAD")) {
        struct MHD_Response *resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
        enum MHD_Result ok = MHD_queue_response(conn, MHD_HTTP_METHOD_NOT_ALLOWED, resp);
        MHD_destroy_response(resp);
        return ok;
    }
    crawlsite_respond(url, &r);
    if (*latency > 0)                       /* 0: everything at once, the slow page too */
        sleep_for(*latency + r.delay);
    struct MHD_Response *resp = MHD_create_response_from_buffer(r.len, r.body, MHD_RESPMEM_MUST_FREE);
    if (!resp) {
        crawlsite_response_free(&r);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, r.type);
    if (r.status == 301)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, r.location);
    enum MHD_Result ok = MHD_queue_response(conn, (unsigned)r.status, resp);
    MHD_destroy_response(resp);
    return ok;
}

/* The child: serves until the parent is gone. Never returns. */
static void server_main(pid_t parent, int ready, int life, csp_duration latency)
{
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (getppid() != parent)
        _exit(0);                           /* the parent died before prctl */
    signal(SIGPIPE, SIG_IGN);
    struct sockaddr_in addr = { .sin_family = AF_INET, .sin_port = 0 };
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    struct MHD_Daemon *d = MHD_start_daemon(
        MHD_USE_THREAD_PER_CONNECTION | MHD_USE_INTERNAL_POLLING_THREAD, 0, NULL, NULL, serve,
        &latency, MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&addr, MHD_OPTION_CONNECTION_LIMIT,
        (unsigned)2000, MHD_OPTION_LISTEN_BACKLOG_SIZE, (unsigned)1024,
        MHD_OPTION_CONNECTION_TIMEOUT, (unsigned)30, MHD_OPTION_END);
    unsigned short port = 0;
    if (d) {
        const union MHD_DaemonInfo *info = MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
        port = info ? info->port : 0;
    }
    if (write(ready, &port, sizeof port) != (ssize_t)sizeof port || !port)
        _exit(1);
    close(ready);
    for (;;) {                              /* until end of file: the parent is gone */
        char b;
        ssize_t k = read(life, &b, 1);
        if (k == 0 || (k < 0 && errno != EINTR))
            break;
    }
    MHD_stop_daemon(d);
    _exit(0);
}

const char *crawlsite_server_start(csp_duration latency)
{
    static char root[64];
    int ready[2], life[2];
    if (pipe2(ready, O_CLOEXEC) || pipe2(life, O_CLOEXEC)) {
        fprintf(stderr, "crawl site: pipe: %s\n", strerror(errno));
        return NULL;
    }
    pid_t parent = getpid();
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        fprintf(stderr, "crawl site: fork: %s\n", strerror(errno));
        return NULL;
    }
    if (pid == 0) {
        close(ready[0]);
        close(life[1]);
        server_main(parent, ready[1], life[0], latency);
    }
    close(ready[1]);
    close(life[0]);                         /* life[1] stays open as long as we live */
    unsigned short port = 0;
    ssize_t k;
    while ((k = read(ready[0], &port, sizeof port)) < 0 && errno == EINTR)
        ;
    close(ready[0]);
    if (k != (ssize_t)sizeof port || !port) {
        fprintf(stderr, "crawl site: the server did not start (libmicrohttpd on 127.0.0.1)\n");
        close(life[1]);
        return NULL;
    }
    snprintf(root, sizeof root, "http://127.0.0.1:%u/", (unsigned)port);
    return root;
}

#define SITE_ENV "CHANLAB_CRAWL_SITE"

void crawlsite_fixture(void)
{
    const char *env = getenv(SITE_ENV);
    if (env && env[0])
        return;
    const char *root = crawlsite_server_start(CRAWLSITE_LATENCY);
    if (root)
        setenv(SITE_ENV, root, 1);
}

const char *crawlsite_server_root(void)
{
    const char *env = getenv(SITE_ENV);
    return env && env[0] ? env : NULL;
}
