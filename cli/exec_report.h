/* exec_report.h — what `chanlab exec` (exec.c) reads back from
 * libchanlab_exec.so's fork server and how it prints it (exec_report.c). */
#ifndef CHANLAB_EXEC_REPORT_H
#define CHANLAB_EXEC_REPORT_H

#include "cli.h"
#include "exec_wire.h"

#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

typedef struct {
    exec_summary sum;
    exec_thread *threads;
    char *schedule, *explicit_, *note, *out, *err, *refout;
    pid_t server;
} exec_report;

/* A libdwfl session over the fork server's maps (pid), or NULL. */
Dwfl *exec_dwfl_for(pid_t pid);
/* The report from the socket; false on a short read or a bad magic
 * (*mismatch: the library does not speak this command's protocol). */
bool exec_read_report(int fd, exec_report *r, bool *mismatch);
void exec_free_report(exec_report *r);
/* The one-line message (malloc'd); d may be NULL (no symbols). */
char *exec_message(Dwfl *d, const exec_report *r, const char *strategy, uint64_t seed);
/* "chanlab exec --replay 'SCHEDULE' -- PROGRAM ARGS" (malloc'd). */
char *exec_replay_command(const char *schedule, char **prog);
void exec_print_text(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
                     const char *note);
void exec_print_json(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
                     const char *note, const char *strategy, uint64_t seed, char **prog);

#endif
