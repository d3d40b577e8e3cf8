/* help.c — the text of `chanlab --help` and of every `chanlab VERB --help`
 * (declared in cli.h). Only text lives here: what each option accepts is
 * checked in args.c, and the two are kept in step by tests/test_cli.c. */
#include "cli.h"

const char general_help[] =
    "usage: chanlab VERB [ARGS]   (chanlab VERB --help for one verb)\n"
    "\n"
    "The concurrency patterns of The Go Programming Language, §8.5-8.10, in C: each in\n"
    "its correct form and in the buggy forms the book warns about, with the verdict the\n"
    "harness observes by running it (PASS, LEAK, DEADLOCK, HANG, PANIC, RACE, ...).\n"
    "\n"
    "  list     [--family F] [--json]          the catalog: ids, book functions, expected verdicts\n"
    "  explain  ID                             lesson, fix, and the bug's code against the fix's\n"
    "  run      ID [--mode M] [--strategy S] [--schedules N] [--seed S] [--noise P] [--json]\n"
    "                                          run one variant; verdict, evidence, replay command\n"
    "  replay   ID SCHEDULE [--json]           replay one controlled-mode run exactly\n"
    "  prove    [--family F] [--json FILE] [--junit FILE] [--noise P]\n"
    "                                          every variant in every mode it declares: the table\n"
    "  demo     NAME [ARGS]                    the families as real programs (chanlab demo --help)\n"
    "  exec     [--strategy S] [--schedules N] [--seed S] [--replay SCHED] [--timeout D] [--json]\n"
    "           -- PROGRAM [ARGS]              an unmodified pthread program under the scheduler\n"
    "  --version                               print 'chanlab VERSION'\n"
    "\n"
    "Exit status: 0 every verdict as expected, 1 one was not, 2 bad usage.\n";

const char list_help[] =
    "usage: chanlab list [--family F] [--json]\n"
    "\n"
    "The catalog: one line per variant with its book section and function, the verdicts\n"
    "expected in free and in controlled mode, and the variant that fixes it.\n"
    "  --family F   only the variants of family F (the part of the id before the dot)\n"
    "  --json       the same as JSON on standard output\n";

const char explain_help[] =
    "usage: chanlab explain ID\n"
    "\n"
    "A variant explained: its lesson, book section and function, the verdicts expected in\n"
    "each mode, the variant that fixes it, and its entry function against the fix's, line\n"
    "by line (\"-\" only in the bug, \"+\" only in the fix, \"!\" a line marked BUG(...)).\n";

const char run_help[] =
    "usage: chanlab run ID [--mode free|controlled] [--strategy random|pct|exhaustive]\n"
    "                      [--schedules N] [--seed S] [--noise PERMILLE] [--json]\n"
    "                      [--html DIR] [--preemption-bound K|none] [--no-reduction]\n"
    "                      [--choice-bound K|none] [--proof-workload] [--timeout S]\n"
    "\n"
    "Runs one variant under the harness and prints the verdict against the expected one,\n"
    "the one-line evidence, the dump of every task, the schedule and the command that\n"
    "replays it.\n"
    "  --mode M         free (real threads) or controlled (the deterministic scheduler);\n"
    "                   default: controlled if the variant declares it, else free\n"
    "  --strategy S     controlled mode's search: random (default), pct or exhaustive\n"
    "  --schedules N    runs (free) or schedules (controlled) to try, 1 to 1000000;\n"
    "                   default: what the variant declares\n"
    "  --seed S         seed of the search (free mode: of the runtime's random choices),\n"
    "                   0 to 18446744073709551615; default 1\n"
    "  --noise P        free mode: from the second run on, a P-permille chance at each\n"
    "                   sync point of a yield or a sleep of up to 200 us, so that runs\n"
    "                   differ (rr's chaos mode); 0 to 1000, default 50; run 1 is plain\n"
    "  --json           the result as JSON on standard output\n"
    "  --html DIR       also write the HTML report of this run into folder DIR: its\n"
    "                   page with the task timeline, and its trace for Perfetto UI\n"
    "  --preemption-bound K\n"
    "                   exhaustive: at most K preemptions a schedule (0 to 1000), or\n"
    "                   none; default 2\n"
    "  --choice-bound K exhaustive: at most K select/timer choices other than the\n"
    "                   first a schedule (0 to 1000), or none; default 2\n"
    "  --no-reduction   exhaustive: every interleaving, without partial-order reduction\n"
    "                   (equivalent orders of independent steps run once otherwise)\n"
    "  --timeout S      the wall bound of the whole run in seconds, 1 to 3600; default:\n"
    "                   what the variant declares (a search it stops says so)\n"
    "  --proof-workload controlled: run on the smaller workload that 'chanlab prove'\n"
    "                   proves the variant on (where it names one)\n"
    "Exit status 0 when the verdict is one the variant expects, 1 when not.\n";

const char replay_help[] =
    "usage: chanlab replay ID SCHEDULE [--json]\n"
    "       chanlab replay ID --bytes FILE [--json]\n"
    "\n"
    "Replays exactly one controlled-mode run of a variant, from the schedule that `run`\n"
    "or `prove` printed (v1:random:..., v1:pct:... or v1:x:...), and prints it as `run`\n"
    "does. A schedule that does not parse, or does not fit the variant, is bad usage.\n"
    "With --bytes, the scheduler's decisions are the bytes of FILE (strategy BYTES),\n"
    "then random ones seeded by them, as the schedule fuzzer reads its input: such as\n"
    "the crash file libFuzzer wrote for a finding.\n"
    "Exit status 0 when the verdict is one the variant expects, 1 when not. A replay is\n"
    "one run, so a variant expected NONDETERMINISTIC (a verdict that compares runs) is\n"
    "expected to PASS here, printing exactly the output of the run replayed.\n";

const char prove_help[] =
    "usage: chanlab prove [--family F] [--json FILE] [--junit FILE] [--noise PERMILLE]\n"
    "                     [--html DIR]\n"
    "\n"
    "Runs every variant (of family F) in every mode it declares, with the bounds and the\n"
    "number of schedules it declares, and prints a table: id, mode, expected, observed,\n"
    "evidence; then the replay command of every failure found. Progress goes to standard\n"
    "error when that is a terminal.\n"
    "  --family F     only the variants of family F\n"
    "  --json FILE    also write the results as JSON (results.json)\n"
    "  --junit FILE   also write them as JUnit XML, a testcase per variant and mode\n"
    "  --noise P      free-mode noise from each search's second run (see chanlab run\n"
    "                 --help); 0 to 1000 permille, default 50\n"
    "  --html DIR     also write the HTML report into folder DIR (chanlab-report, say):\n"
    "                 index.html, the verdict table filterable by family, mode and\n"
    "                 verdict; a page per variant and mode with the lesson, the bug\n"
    "                 beside its fix, the dump, the replay command and an SVG timeline\n"
    "                 of the tasks; a Chrome trace (Perfetto UI) of each run\n"
    "Exit status 0 when every observed verdict is one its variant expects, 1 otherwise.\n";

const char demo_help_head[] =
    "usage: chanlab demo NAME [ARGS]   (chanlab demo NAME --help)\n"
    "\n"
    "Each family is also a real program, on real threads and real time:\n";

const char exec_help[] =
    "usage: chanlab exec [--strategy random|pct|exhaustive] [--schedules N] [--seed S]\n"
    "                    [--replay SCHEDULE] [--timeout D] [--json] -- PROGRAM [ARGS...]\n"
    "\n"
    "Runs an unmodified, dynamically linked pthread program (cc -pthread) under the\n"
    "controlled scheduler: one thread runs at a time, every pthread synchronisation call\n"
    "(threads, mutexes, condition variables, rwlocks, semaphores, barriers, spinlocks,\n"
    "once, sched_yield) is a scheduling point and a recorded decision, and sleeps and\n"
    "clocks run in virtual time. Schedules are searched until one shows a bug:\n"
    "DEADLOCK, LEAK (threads alive at exit), HANG, CRASH (a signal, abort, assert),\n"
    "WRONG_RESULT (a non-zero exit status), RACE (a -fsanitize=thread build),\n"
    "NONDETERMINISTIC (stdout differs between schedules); each with a dump of every\n"
    "thread and a command that replays that schedule exactly.\n"
    "  --strategy S    pct (default), random, or exhaustive (every schedule within 2\n"
    "                  preemptions, until covered or N schedules)\n"
    "  --schedules N   schedules to try (default 1000)\n"
    "  --seed S        the search's seed (default 1)\n"
    "  --replay SCHED  run the one schedule a report printed\n"
    "  --timeout D     bound of one schedule in wall time (default 10s; 500ms, 2s, 1m);\n"
    "                  a thread running 3 s (or D, if less) without a scheduling point is a HANG\n"
    "  --json          the result as one JSON object\n"
    "A program that forks or waits for signals runs free (uncontrolled), with a note;\n"
    "a statically linked one is refused.\n"
    "Exit status: 0 no bug observed, 1 a bug, 2 bad usage.\n";
