/* chanlab.c — the `chanlab` command (DESIGN.md §6): list, explain, run,
 * replay and prove the catalog of GOPL §8.5–8.10, run its demos, and run an
 * unmodified pthread program under the controlled scheduler (exec).
 *
 * Exit status: 0 success (every verdict as expected), 1 a verdict not as
 * expected (or a demo's own check failed), 2 bad usage — always with one
 * line on stderr saying what was wrong and what is accepted.
 *
 * Invariant: outside `demo`, this process never calls the runtime (csp_*).
 * harness_run forks for every run, and the forking process must be
 * single-threaded (under ThreadSanitizer a child of a multi-threaded parent
 * ignores every memory access); a demo is the whole process and runs no
 * harness.
 *
 * Files: help.c (the help text), args.c (argument checking), verbs.c (the
 * verbs), this file (dispatch), main.c (main); cli.h joins them. */
#include "cli.h"

#include <stdio.h>
#include <string.h>

int chanlab_main(int argc, char **argv)
{
    static const struct {
        const char *name;
        int (*run)(int, char **);
    } verbs[] = {
        { "list", cmd_list }, { "explain", cmd_explain }, { "run", cmd_run },
        { "replay", cmd_replay }, { "prove", cmd_prove }, { "demo", cmd_demo }, { "exec", cmd_exec },
    };
    if (argc < 2)
        usage_error("which verb? (accepted: list, explain, run, replay, prove, demo, exec, --help, --version)");
    if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") || !strcmp(argv[1], "help")) {
        fputs(general_help, stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version")) {
        puts("chanlab " CHANLAB_VERSION);
        return 0;
    }
    for (size_t i = 0; i < sizeof verbs / sizeof *verbs; i++)
        if (!strcmp(argv[1], verbs[i].name)) {
            verb = verbs[i].name;
            return verbs[i].run(argc - 2, argv + 2);
        }
    usage_error("unknown verb '%s' (accepted: list, explain, run, replay, prove, demo, exec, --help, --version)", argv[1]);
}
