/* cli.h — what the files of the `chanlab` command share (chanlab.c
 * dispatches, help.c holds the help text, args.c checks arguments, verbs.c
 * runs the verbs). Internal to the command. */
#ifndef CHANLAB_CLI_H
#define CHANLAB_CLI_H

#include "pattern.h"
#include "report.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

/* help.c */
extern const char general_help[];
extern const char list_help[];
extern const char explain_help[];
extern const char run_help[];
extern const char replay_help[];
extern const char prove_help[];
extern const char demo_help_head[];
extern const char exec_help[];

/* chanlab.c: the whole command, main's body. */
int chanlab_main(int argc, char **argv);

/* args.c — every failure is one line on stderr and exit 2. */
extern const char *verb;   /* the verb being run, for "chanlab run: ..." */
_Noreturn CSP_PRINTF(1, 2) void usage_error(const char *fmt, ...);

/* For the command-line fuzzer (fuzz/cli_args_fuzzer.c), which calls
 * chanlab_main as a function: with cli_check_only set, every verb returns 0
 * as soon as its arguments are checked, before it runs, reads or writes
 * anything; cli_exit (exit by default) is how bad usage (2) and --help (0)
 * end the command, and must not return. */
extern bool cli_check_only;
extern void (*cli_exit)(int status);

typedef struct {
    const char *name;          /* "--mode" */
    bool takes_value;
} option_spec;

#define MAX_OPTIONS 12
#define MAX_POSITIONAL 4

typedef struct {
    const char *value[MAX_OPTIONS];
    bool given[MAX_OPTIONS];
    const char *pos[MAX_POSITIONAL];
    int npos;
} parsed_args;

/* Parses `--name value`, `--name=value` and positional arguments; --help
 * anywhere prints `help` and exits 0. Anything else is bad usage. */
void parse_args(int argc, char **argv, const option_spec *specs, size_t nspecs,
                int max_pos, const char *help, const char *accepted, parsed_args *pa);
/* A whole decimal number in [lo, hi]: no sign, no spaces, no suffix. */
uint64_t parse_number(const char *opt, const char *s, uint64_t lo, uint64_t hi);

bool in_family(const pattern *p, const char *family);
const char *family_list(char *buf, size_t size);
const char *check_family(const char *family);     /* NULL stays NULL */
const pattern *find_variant(const char *id);
report_variant variant_of(const pattern *p);
report *new_report(const char *kind, const char *title);   /* exits 1 when out of memory */
size_t add_variant(report *r, const pattern *p);
unsigned output_flags(FILE *out);                         /* REPORT_COLOR on a terminal */

/* verbs.c — each returns the exit status. */
int cmd_list(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_run(int argc, char **argv);
int cmd_replay(int argc, char **argv);
int cmd_prove(int argc, char **argv);
int cmd_demo(int argc, char **argv);
/* exec.c */
int cmd_exec(int argc, char **argv);

#endif
