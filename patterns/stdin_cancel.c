/* stdin_cancel.c — see stdin_cancel.h. The watcher polls stdin and a
 * wake-up pipe that stdin_cancel_stop writes to, so it never outlives the
 * demo; a closed channel tells the demo it is gone. */
#include "stdin_cancel.h"

#include "csp.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>
#include <unistd.h>

struct stdin_cancel {
    void (*on_cancel)(void *arg);
    void *arg;
    int wake[2];          /* [0] readable once the demo is done */
    csp_chan *exited;     /* closed when the watcher is gone */
};

static void watch_stdin(void *arg)
{
    stdin_cancel *s = arg;
    struct pollfd p[2] = { { STDIN_FILENO, POLLIN, 0 }, { s->wake[0], POLLIN, 0 } };
    bool cancel = false;
    for (;;) {
        char b;
        ssize_t k = 0;
        csp_syscall_enter("read stdin");
        int r = poll(p, 2, -1);
        int err = errno;
        if (r > 0 && !p[1].revents && p[0].revents) {
            k = read(STDIN_FILENO, &b, 1);
            err = errno;
        }
        csp_syscall_exit();
        if (r < 0 && err == EINTR)
            continue;
        if (r < 0 || p[1].revents)
            break;                          /* the demo is done */
        if (k == 1) {
            cancel = true;
            break;
        }
        if (k < 0 && (err == EINTR || err == EAGAIN))
            continue;
        break;                              /* end of input, or an error: no cancel */
    }
    if (cancel)
        s->on_cancel(s->arg);
    csp_close(s->exited);
}

stdin_cancel *stdin_cancel_start(void (*on_cancel)(void *arg), void *arg)
{
    stdin_cancel *s = calloc(1, sizeof *s);
    if (!s)
        return NULL;
    if (pipe2(s->wake, O_CLOEXEC)) {
        free(s);
        return NULL;
    }
    s->on_cancel = on_cancel;
    s->arg = arg;
    s->exited = csp_chan_make(0, 0, "stdin watcher");
    csp_go(watch_stdin, s, "stdin");
    return s;
}

void stdin_cancel_stop(stdin_cancel *s)
{
    while (write(s->wake[1], "", 1) < 0 && errno == EINTR)
        ;
    csp_recv(s->exited, NULL);
    csp_chan_free(s->exited);
    close(s->wake[0]);
    close(s->wake[1]);
    free(s);
}
