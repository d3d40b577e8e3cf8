/* logger_flush.c — a logger whose lines are written out by a flush thread.
 * log_line() appends under the logger's mutex and signals; the flusher takes
 * the whole batch and writes it outside the lock. The buggy flusher waits on
 * the condition variable without first testing its predicate, so a signal sent
 * while it was writing (or before it first waited) is lost: when that signal
 * was the one for close, it waits for ever and main waits for it in join.
 * Expected under `chanlab exec`: DEADLOCK (buggy), PASS (-DFIXED).
 * Output when correct: the lines, in order, then "flushed N lines". */
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#define MAX_LINES 8
#define LINE_LEN 32

static pthread_mutex_t log_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t log_cv = PTHREAD_COND_INITIALIZER; /* signalled on a new line and on close */
static char pending[MAX_LINES][LINE_LEN]; /* guarded by log_mu */
static int npending;                      /* guarded by log_mu */
static bool closing;                      /* guarded by log_mu */
static int nflushed; /* written only by the flusher; main reads it after join */

static void log_line(const char *text)
{
    pthread_mutex_lock(&log_mu);
    if (npending < MAX_LINES)
        snprintf(pending[npending++], LINE_LEN, "%s", text);
    pthread_cond_signal(&log_cv);
    pthread_mutex_unlock(&log_mu);
}

static void log_close(void)
{
    pthread_mutex_lock(&log_mu);
    closing = true;
    pthread_cond_signal(&log_cv);
    pthread_mutex_unlock(&log_mu);
}

static void *flusher_run(void *arg)
{
    (void)arg;
    char batch[MAX_LINES][LINE_LEN];
    pthread_mutex_lock(&log_mu);
    for (;;) {
#ifndef FIXED
        pthread_cond_wait(&log_cv, &log_mu); /* BUG(DEADLOCK): waits without testing the predicate: a signal sent before this wait is lost */
#else
        while (npending == 0 && !closing) /* fixes BUG(DEADLOCK): the predicate is tested before every wait */
            pthread_cond_wait(&log_cv, &log_mu);
#endif
        int n = npending;
        bool done = closing;
        memcpy(batch, pending, sizeof pending[0] * (size_t)n);
        npending = 0;
        pthread_mutex_unlock(&log_mu);
        for (int i = 0; i < n; i++)
            printf("%s\n", batch[i]);
        fflush(stdout);
        nflushed += n;
        pthread_mutex_lock(&log_mu);
        if (done && npending == 0)
            break;
    }
    pthread_mutex_unlock(&log_mu);
    return NULL;
}

/* A request's work: an FNV-1a hash over 60,000 bytes (no pthread
 * call, so no scheduling point; under a normal scheduler it spaces the log
 * lines out by some microseconds). */
static unsigned handle_request(int id)
{
    unsigned h = 2166136261u;
    for (int i = 0; i < 60000; i++) {
        h ^= (unsigned char)(id + i);
        h *= 16777619u;
    }
    return h;
}

int main(void)
{
    pthread_t flusher;
    if (pthread_create(&flusher, NULL, flusher_run, NULL) != 0) {
        perror("pthread_create");
        return 2;
    }
    for (int id = 0; id < 3; id++) {
        char line[LINE_LEN];
        snprintf(line, sizeof line, "request %d: %08x", id, handle_request(id));
        log_line(line);
    }
    log_close();
    pthread_join(flusher, NULL);
    printf("flushed %d lines\n", nflushed);
    return 0;
}
