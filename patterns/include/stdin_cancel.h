/* stdin_cancel.h — the demos' "a byte on standard input cancels" (du,
 * crawl): a task waits, in a declared system call, for a byte on stdin and
 * then calls on_cancel (which closes the demo's done channel). End of input
 * does not cancel, so a demo works in scripts; a demo that finishes first
 * stops the watcher and waits for it, so no task is left behind. */
#ifndef STDIN_CANCEL_H
#define STDIN_CANCEL_H

typedef struct stdin_cancel stdin_cancel;

/* Starts the watcher task; NULL (errno set) when its wake-up pipe cannot be
 * made. on_cancel(arg) runs in the watcher's task, at most once. */
stdin_cancel *stdin_cancel_start(void (*on_cancel)(void *arg), void *arg);
/* Stops the watcher if it still waits, waits for it to end, frees it. */
void stdin_cancel_stop(stdin_cancel *w);

#endif
