/* exec.c — `chanlab exec` (DESIGN §9): an unmodified, dynamically linked
 * pthread program under the controlled scheduler of libchanlab_exec.so.
 *
 * This side checks the arguments and the program (an ELF executable with an
 * interpreter; one that forks or waits for signals runs free, with a note),
 * starts the program once with the library preloaded and a socket to talk
 * over (preload/exec_wire.h), and has exec_report.c read back the run to
 * report and print the verdict, the replay command and a Go-style dump of
 * every thread.
 * Address-space randomisation is off for the program, so a replay shows the
 * same addresses as the run it replays. */
#include "exec_report.h"

#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <inttypes.h>
#include <libelf.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/personality.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* ---------------------------------------------------------- The program */

/* PROGRAM as execvp would find it, or NULL. */
static char *find_program(const char *name)
{
    if (strchr(name, '/'))
        return access(name, X_OK) == 0 ? strdup(name) : NULL;
    const char *path = getenv("PATH");
    if (!path)
        path = "/usr/bin:/bin";
    for (const char *p = path; *p;) {
        const char *end = strchr(p, ':');
        size_t n = end ? (size_t)(end - p) : strlen(p);
        char buf[PATH_MAX];
        snprintf(buf, sizeof buf, "%.*s/%s", (int)n, n ? p : ".", name);
        struct stat sb;
        if (stat(buf, &sb) == 0 && S_ISREG(sb.st_mode) && access(buf, X_OK) == 0)
            return strdup(buf);
        p = end ? end + 1 : p + n;
    }
    return NULL;
}

typedef struct {
    bool elf, dynamic;
    char free_reason[160];   /* why it must run free, or "" */
} program_facts;

/* What the ELF file says: dynamically linked? does it import fork or wait
 * for signals (then it runs free)? */
static bool inspect(const char *path, program_facts *f)
{
    memset(f, 0, sizeof *f);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return false;
    elf_version(EV_CURRENT);
    Elf *e = elf_begin(fd, ELF_C_READ, NULL);
    if (!e || elf_kind(e) != ELF_K_ELF) {
        if (e)
            elf_end(e);
        close(fd);
        return true;
    }
    f->elf = true;
    size_t nph = 0;
    elf_getphdrnum(e, &nph);
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(e, (int)i, &ph) && ph.p_type == PT_INTERP)
            f->dynamic = true;
    }
    static const char *const free_calls[] = { "fork", "vfork", "sigwait", "sigwaitinfo", "sigtimedwait",
                                              "sigsuspend", "pause", "pthread_kill", "signalfd" };
    Elf_Scn *scn = NULL;
    while ((scn = elf_nextscn(e, scn)) && !f->free_reason[0]) {
        GElf_Shdr sh;
        if (!gelf_getshdr(scn, &sh) || sh.sh_type != SHT_DYNSYM)
            continue;
        Elf_Data *d = elf_getdata(scn, NULL);
        size_t n = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
        for (size_t i = 0; d && i < n && !f->free_reason[0]; i++) {
            GElf_Sym s;
            if (!gelf_getsym(d, (int)i, &s) || s.st_shndx != SHN_UNDEF)
                continue;
            const char *name = elf_strptr(e, sh.sh_link, s.st_name);
            for (size_t k = 0; name && k < sizeof free_calls / sizeof *free_calls; k++)
                if (!strcmp(name, free_calls[k]))
                    snprintf(f->free_reason, sizeof f->free_reason, "%s", name);
        }
    }
    elf_end(e);
    close(fd);
    return true;
}

/* libchanlab_exec.so: $CHANLAB_EXEC_LIB, where an install puts it
 * (BINDIR/../LIBDIR), or in the build tree (cli/../preload). */
static char *find_library(void)
{
    const char *env = getenv("CHANLAB_EXEC_LIB");
    if (env && *env)
        return access(env, R_OK) == 0 ? realpath(env, NULL) : NULL;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return NULL;
    self[n] = 0;
    char *slash = strrchr(self, '/');
    if (!slash)
        return NULL;
    *slash = 0;
#ifndef CHANLAB_EXEC_LIBDIR
#define CHANLAB_EXEC_LIBDIR "lib"
#endif
    static const char *const rel[] = { "/../" CHANLAB_EXEC_LIBDIR "/libchanlab_exec.so",
                                       "/../preload/libchanlab_exec.so" };
    for (size_t i = 0; i < sizeof rel / sizeof *rel; i++) {
        char buf[PATH_MAX + 64];
        snprintf(buf, sizeof buf, "%s%s", self, rel[i]);
        if (access(buf, R_OK) == 0)
            return realpath(buf, NULL);
    }
    return NULL;
}

/* -------------------------------------------------------------- Options */

/* "500ms", "2s", "1m", or plain seconds → milliseconds. */
static int64_t parse_duration(const char *s)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (end == s || errno || v <= 0)
        return -1;
    double ms = !strcmp(end, "ms") ? v : !strcmp(end, "s") || !*end ? v * 1000 : !strcmp(end, "m") ? v * 60000 : -1;
    return ms < 1 || ms > 86400000.0 ? -1 : (int64_t)ms;
}

typedef struct {
    const char *strategy;
    unsigned schedules;
    uint64_t seed;
    const char *replay;
    int64_t timeout_ms;
    bool json;
    unsigned preemption_bound;
    char **prog;
} exec_options;

static void parse_exec_args(int argc, char **argv, exec_options *o)
{
    static const char accepted[] = "--strategy random|pct|exhaustive, --schedules N, --seed S, "
                                   "--replay SCHEDULE, --timeout D, --json, --preemption-bound K, "
                                   "-- PROGRAM [ARGS...]";
    *o = (exec_options){ .strategy = "pct", .schedules = 1000, .seed = 1, .timeout_ms = 10000,
                         .preemption_bound = 2 };
    bool given[7] = { false };
    int i = 0;
    for (i = 0; i < argc; i++)
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            fputs(exec_help, stdout);
            cli_exit(0);
        } else if (!strcmp(argv[i], "--")) {
            break;
        }
    for (i = 0; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--")) {
            i++;
            break;
        }
        if (a[0] != '-')
            break;   /* the program, without "--" */
        static const char *const names[] = { "--strategy", "--schedules", "--seed", "--replay", "--timeout", "--json",
                                             "--preemption-bound" };
        size_t n = strcspn(a, "=");
        int k = 0;
        while (k < 7 && !(strlen(names[k]) == n && !strncmp(names[k], a, n)))
            k++;
        if (k == 7)
            usage_error("unknown option '%.*s' (accepted: %s)", (int)n, a, accepted);
        if (given[k])
            usage_error("%s given twice", names[k]);
        given[k] = true;
        if (k == 5) {
            if (a[n])
                usage_error("--json takes no value");
            o->json = true;
            continue;
        }
        const char *v = a[n] ? a + n + 1 : i + 1 < argc ? argv[++i] : NULL;
        if (!v)
            usage_error("%s needs a value (accepted: %s)", names[k], accepted);
        switch (k) {
        case 0:
            if (strcmp(v, "random") && strcmp(v, "pct") && strcmp(v, "exhaustive"))
                usage_error("bad value '%s' for --strategy (accepted: random, pct, exhaustive)", v);
            o->strategy = v;
            break;
        case 1: o->schedules = (unsigned)parse_number("--schedules", v, 1, 1000000); break;
        case 2: o->seed = parse_number("--seed", v, 0, UINT64_MAX); break;
        case 3:
            if (strncmp(v, "v1:", 3) != 0 || strpbrk(v, " \t\n"))
                usage_error("bad value for --replay (accepted: a schedule that chanlab printed, "
                            "v1:x:..., v1:random:..., v1:pct:...)");
            o->replay = v;
            break;
        case 6: o->preemption_bound = (unsigned)parse_number("--preemption-bound", v, 0, 1000); break;
        case 4:
            o->timeout_ms = parse_duration(v);
            if (o->timeout_ms < 0)
                usage_error("bad value '%s' for --timeout (accepted: a duration such as 500ms, 10s, 2m)", v);
            break;
        }
    }
    if (i >= argc)
        usage_error("which program? (accepted: chanlab exec [options] -- PROGRAM [ARGS...])");
    if (given[0] && o->replay)
        usage_error("--replay names its own strategy (accepted: --replay SCHEDULE without --strategy)");
    if (given[6] && strcmp(o->strategy, "exhaustive"))
        usage_error("--preemption-bound applies to the exhaustive strategy only (accepted: --strategy exhaustive)");
    o->prog = argv + i;
}

/* ------------------------------------------------------------ Free mode */

/* The program runs as it is, several times: verdicts from exit statuses,
 * signals, the timeout, and outputs compared. */
static int run_free(const exec_options *o, const char *path, const char *reason)
{
    unsigned runs = o->schedules < 10 ? o->schedules : 10;
    char note[512];
    snprintf(note, sizeof note,
             "free mode: the program calls %s, which the scheduler does not model (a forked process, "
             "a signal wait); it ran uncontrolled %u time%s, not reproducibly", reason, runs, runs == 1 ? "" : "s");
    exec_report r;
    memset(&r, 0, sizeof r);
    r.sum.verdict = HARNESS_PASS;
    char *first = NULL;
    for (unsigned k = 1; k <= runs && r.sum.verdict == HARNESS_PASS; k++) {
        char tmpl_out[] = "/tmp/chanlab-exec-XXXXXX", tmpl_err[] = "/tmp/chanlab-exec-XXXXXX";
        int fo = mkstemp(tmpl_out), fe = mkstemp(tmpl_err);
        unlink(tmpl_out);
        unlink(tmpl_err);
        pid_t pid = fork();
        if (pid == 0) {
            dup2(fo, 1);
            dup2(fe, 2);
            execv(path, o->prog);
            _exit(127);
        }
        int status = 0;
        struct timespec t0, t;
        clock_gettime(CLOCK_MONOTONIC, &t0);
        bool timed_out = false;
        while (waitpid(pid, &status, WNOHANG) == 0) {
            clock_gettime(CLOCK_MONOTONIC, &t);
            if ((t.tv_sec - t0.tv_sec) * 1000 + (t.tv_nsec - t0.tv_nsec) / 1000000 > o->timeout_ms) {
                kill(pid, SIGKILL);
                waitpid(pid, &status, 0);
                timed_out = true;
                break;
            }
            struct timespec ts = { 0, 2000000 };
            nanosleep(&ts, NULL);
        }
        off_t no = lseek(fo, 0, SEEK_END), ne = lseek(fe, 0, SEEK_END);
        free(r.out);
        free(r.err);
        r.out = calloc(1, (size_t)no + 1);
        r.err = calloc(1, (size_t)ne + 1);
        if (pread(fo, r.out, (size_t)no, 0) < 0 || pread(fe, r.err, (size_t)ne, 0) < 0)
            r.out[0] = r.err[0] = 0;
        close(fo);
        close(fe);
        r.sum.schedules_run = k;
        r.sum.run = k;
        r.sum.status = status;
        if (timed_out) {
            r.sum.verdict = HARNESS_HANG;
            r.sum.ending = EXEC_END_TIMEOUT;
        } else if (strstr(r.err, "WARNING: ThreadSanitizer:")) {
            r.sum.verdict = HARNESS_RACE;
        } else if (WIFSIGNALED(status) || strstr(r.err, "ERROR: AddressSanitizer")) {
            r.sum.verdict = HARNESS_CRASH;
        } else if (WEXITSTATUS(status) != 0) {
            r.sum.verdict = HARNESS_WRONG_RESULT;
        } else if (first && strcmp(first, r.out) != 0) {
            r.sum.verdict = HARNESS_NONDETERMINISTIC;
            r.refout = first;
            first = NULL;
        } else if (!first) {
            first = strdup(r.out);
        }
    }
    free(first);
    r.schedule = strdup("");
    r.explicit_ = strdup("");
    r.note = strdup(note);
    if (!r.refout)
        r.refout = strdup("");
    char *msg = exec_message(NULL, &r, "free", o->seed);
    if (r.sum.verdict == HARNESS_PASS) {
        free(msg);
        msg = strdup("no bug in the free runs");
    } else if (r.sum.verdict == HARNESS_HANG) {
        free(msg);
        msg = strdup("the program did not end within the timeout");
    }
    if (o->json)
        exec_print_json(stdout, NULL, &r, msg, "", note, "free", o->seed, o->prog);
    else
        exec_print_text(stdout, NULL, &r, msg, "(free runs are not reproducible)", note);
    int rc = r.sum.verdict == HARNESS_PASS ? 0 : 1;
    free(msg);
    exec_free_report(&r);
    return rc;
}

/* ------------------------------------------------------------------ Verb */

int cmd_exec(int argc, char **argv)
{
    exec_options o;
    parse_exec_args(argc, argv, &o);
    if (cli_check_only)   /* the command-line fuzzer: arguments only, no file looked at */
        return 0;
    char *path = find_program(o.prog[0]);
    if (!path)
        usage_error("no program '%s' (not found, or not executable)", o.prog[0]);
    program_facts facts;
    if (!inspect(path, &facts) || !facts.elf)
        usage_error("'%s' is not an ELF executable (accepted: a dynamically linked program; run a "
                    "script's interpreter on it instead)", o.prog[0]);
    if (!facts.dynamic)
        usage_error("'%s' is statically linked: the scheduler comes in as an LD_PRELOAD library, which "
                    "a static program never loads (rebuild it without -static)", o.prog[0]);
    if (facts.free_reason[0]) {
        int rc = run_free(&o, path, facts.free_reason);
        free(path);
        return rc;
    }
    char *lib = find_library();
    if (!lib)
        usage_error("libchanlab_exec.so not found beside chanlab (set CHANLAB_EXEC_LIB to its path)");

    int sv[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) != 0) {
        fprintf(stderr, "chanlab exec: socketpair: %s\n", strerror(errno));
        return 2;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        close(sv[0]);
        int fd = fcntl(sv[1], F_DUPFD, 10);   /* without CLOEXEC: the program inherits it */
        char cfg[8192];
        snprintf(cfg, sizeof cfg, "fd=%d strategy=%s schedules=%u seed=%" PRIu64 " timeout_ms=%" PRId64
                                  " spin_ms=%" PRId64 " preemption_bound=%u%s%s",
                 fd, o.strategy, o.schedules, o.seed, o.timeout_ms,
                 o.timeout_ms < 3000 ? o.timeout_ms : (int64_t)3000, o.preemption_bound,
                 o.replay ? " replay=" : "",
                 o.replay ? o.replay : "");
        setenv("CHANLAB_EXEC", cfg, 1);
        const char *pre = getenv("LD_PRELOAD");
        char *ld = malloc(strlen(lib) + (pre ? strlen(pre) : 0) + 2);
        sprintf(ld, "%s%s%s", lib, pre && *pre ? ":" : "", pre && *pre ? pre : "");
        setenv("LD_PRELOAD", ld, 1);
        /* gcc's ASan is a shared library, and ours is loaded before it:
         * its check that it comes first would stop the program. */
        const char *asan = getenv("ASAN_OPTIONS");
        char *ao = malloc((asan ? strlen(asan) : 0) + 40);
        sprintf(ao, "%s%sverify_asan_link_order=0", asan ? asan : "", asan && *asan ? ":" : "");
        setenv("ASAN_OPTIONS", ao, 1);
        personality(ADDR_NO_RANDOMIZE);
        execv(path, o.prog);
        fprintf(stderr, "chanlab exec: cannot run '%s': %s\n", path, strerror(errno));
        _exit(127);
    }
    close(sv[1]);
    exec_report r;
    bool mismatch = false;
    bool ok = pid > 0 && exec_read_report(sv[0], &r, &mismatch);
    int rc;
    if (!ok) {
        close(sv[0]);
        int status = 0;
        if (pid > 0)
            waitpid(pid, &status, 0);
        if (mismatch)
            fprintf(stderr, "chanlab exec: %s is not the one this chanlab was built with (rebuild or "
                            "reinstall both)\n", lib);
        else
            fprintf(stderr, "chanlab exec: '%s' ran without the scheduler (it never reached glibc's "
                            "__libc_start_main with libchanlab_exec.so preloaded); nothing was checked\n",
                    o.prog[0]);
        rc = 2;
    } else if (r.sum.ending == EXEC_END_ERROR) {
        fprintf(stderr, "chanlab exec: %s\n", r.note[0] ? r.note : "the run failed");
        rc = 2;
    } else {
        Dwfl *d = exec_dwfl_for(r.server);
        const char *strategy = o.replay ? "replay" : o.strategy;
        char *msg = exec_message(d, &r, strategy, o.seed);
        const char *sched = !strcmp(o.strategy, "exhaustive") ? r.explicit_ : r.schedule;
        char *replay = exec_replay_command(sched, o.prog);
        if (o.json)
            exec_print_json(stdout, d, &r, msg, replay, NULL, strategy, o.seed, o.prog);
        else
            exec_print_text(stdout, d, &r, msg, replay, NULL);
        rc = r.sum.verdict == HARNESS_PASS ? 0 : 1;
        free(msg);
        free(replay);
        if (d)
            dwfl_end(d);
    }
    if (ok) {
        close(sv[0]);
        waitpid(pid, NULL, 0);
        exec_free_report(&r);
    }
    free(lib);
    free(path);
    return rc;
}
