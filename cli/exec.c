/* exec.c — `chanlab exec` (DESIGN §9): an unmodified, dynamically linked
 * pthread program under the controlled scheduler of libchanlab_exec.so.
 *
 * This side checks the arguments and the program (an ELF executable with an
 * interpreter; one that forks or waits for signals runs free, with a note),
 * starts the program once with the library preloaded and a socket to talk
 * over (preload/exec_wire.h), reads back the run to report, symbolizes its
 * stacks against the still-living fork server's maps (libdwfl), and prints
 * the verdict, the replay command and a Go-style dump of every thread.
 * Address-space randomisation is off for the program, so a replay shows the
 * same addresses as the run it replays. */
#include "cli.h"
#include "exec_wire.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
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

/* ----------------------------------------------------------- Symbolizing */

typedef struct {
    char func[160];
    char file[256];
    int line;
    char module[96];
} frame;

static Dwfl *dwfl_for(pid_t pid)
{
    static char *debuginfo_path;
    static const Dwfl_Callbacks cb = {
        .find_elf = dwfl_linux_proc_find_elf,
        .find_debuginfo = dwfl_standard_find_debuginfo,
        .debuginfo_path = &debuginfo_path,
    };
    Dwfl *d = dwfl_begin(&cb);
    if (!d)
        return NULL;
    dwfl_report_begin(d);
    if (dwfl_linux_proc_report(d, pid) != 0 || dwfl_report_end(d, NULL, NULL) != 0) {
        dwfl_end(d);
        return NULL;
    }
    return d;
}

/* The line of `at` by a scan of the compile units: without .debug_aranges
 * (clang's default) libdw may not find an address's unit by itself
 * (runtime/src/symbolize.c does the same). */
static Dwarf_Line *line_by_cu_scan(Dwfl_Module *m, Dwarf_Addr at)
{
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(m, &bias);
    if (!dw)
        return NULL;
    Dwarf_Off off = 0, next;
    size_t hsize;
    Dwarf_Die cu;
    while (dwarf_nextcu(dw, off, &next, &hsize, NULL, NULL, NULL) == 0) {
        if (dwarf_offdie(dw, off + hsize, &cu) && dwarf_haspc(&cu, at - bias) > 0)
            return dwarf_getsrc_die(&cu, at - bias);
        off = next;
    }
    return NULL;
}

/* pc (a return address unless exact) → function, file:line, module. */
static bool symbolize(Dwfl *d, uint64_t pc, bool exact, frame *f)
{
    memset(f, 0, sizeof *f);
    snprintf(f->func, sizeof f->func, "0x%" PRIx64, pc);
    if (!d || !pc)
        return false;
    Dwarf_Addr a = exact ? pc : pc - 1;
    Dwfl_Module *m = dwfl_addrmodule(d, a);
    if (!m)
        return false;
    const char *mname = dwfl_module_info(m, NULL, NULL, NULL, NULL, NULL, NULL, NULL);
    const char *base = mname ? strrchr(mname, '/') : NULL;
    snprintf(f->module, sizeof f->module, "%s", base ? base + 1 : mname ? mname : "");
    const char *name = dwfl_module_addrname(m, a);
    if (name)
        snprintf(f->func, sizeof f->func, "%s", name);
    Dwfl_Line *l = dwfl_module_getsrc(m, a);
    int line = 0;
    const char *file = l ? dwfl_lineinfo(l, NULL, &line, NULL, NULL, NULL) : NULL;
    Dwarf_Line *dl = file || !name ? NULL : line_by_cu_scan(m, a);
    if (dl) {
        file = dwarf_linesrc(dl, NULL, NULL);
        dwarf_lineno(dl, &line);
    }
    {
        if (file) {
            const char *s = file;
            if (!strncmp(s, "./", 2))
                s += 2;
            snprintf(f->file, sizeof f->file, "%s", s);
            f->line = line;
        }
    }
    return true;
}

static void put_frame(FILE *out, const frame *f)
{
    if (f->file[0])
        fprintf(out, "%s at %s:%d", f->func, f->file, f->line);
    else if (f->module[0])
        fprintf(out, "%s (%s)", f->func, f->module);
    else
        fputs(f->func, out);
}

/* A frame the dump leaves out: our library, and the thread's beginnings. */
static bool hidden(const frame *f)
{
    static const char *const starts[] = { "start_thread", "clone3", "__clone", "clone",
                                          "__libc_start_call_main", "__libc_start_main_impl",
                                          "__libc_start_main", "_start", "main_under_control",
                                          "__restore_rt" };
    if (strstr(f->module, "libchanlab_exec") || !strncmp(f->func, "__libc_start_main", 17))
        return true;
    if (!strncmp(f->func, "0x", 2) && !strncmp(f->module, "libc.so", 7))
        return true;   /* the signal trampoline, which has no symbol */
    for (size_t i = 0; i < sizeof starts / sizeof *starts; i++)
        if (!strcmp(f->func, starts[i]))
            return true;
    return false;
}

/* -------------------------------------------------------------- Reading */

typedef struct {
    exec_summary sum;
    exec_thread *threads;
    char *schedule, *explicit_, *note, *out, *err, *refout;
    pid_t server;
} exec_report;

static bool read_full(int fd, void *p, size_t n)
{
    char *c = p;
    while (n) {
        ssize_t k = read(fd, c, n);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return false;
        c += k;
        n -= (size_t)k;
    }
    return true;
}

static char *read_text(int fd, uint32_t n, bool *ok)
{
    char *s = malloc((size_t)n + 1);
    if (!s || !read_full(fd, s, n)) {
        *ok = false;
        if (s)
            s[0] = 0;
        return s;
    }
    s[n] = 0;
    return s;
}

static bool read_report(int fd, exec_report *r, bool *mismatch)
{
    exec_hello h;
    memset(r, 0, sizeof *r);
    *mismatch = false;
    if (!read_full(fd, &h, sizeof h))
        return false;
    if (h.magic != EXEC_WIRE_MAGIC) {
        *mismatch = true;
        return false;
    }
    r->server = h.pid;
    if (!read_full(fd, &r->sum, sizeof r->sum) || r->sum.magic != EXEC_WIRE_MAGIC ||
        r->sum.nthreads > 4096)
        return false;
    r->threads = calloc(r->sum.nthreads + 1, sizeof *r->threads);
    if (!r->threads || !read_full(fd, r->threads, r->sum.nthreads * sizeof *r->threads))
        return false;
    bool ok = true;
    r->schedule = read_text(fd, r->sum.len_schedule, &ok);
    r->explicit_ = read_text(fd, r->sum.len_explicit, &ok);
    r->note = read_text(fd, r->sum.len_note, &ok);
    r->out = read_text(fd, r->sum.len_stdout, &ok);
    r->err = read_text(fd, r->sum.len_stderr, &ok);
    r->refout = read_text(fd, r->sum.len_refout, &ok);
    return ok;
}

static void free_report(exec_report *r)
{
    free(r->threads);
    free(r->schedule);
    free(r->explicit_);
    free(r->note);
    free(r->out);
    free(r->err);
    free(r->refout);
}

/* ------------------------------------------------------------- Rendering */

static const char *object_kind(uint32_t wait)
{
    switch (wait) {
    case EXEC_W_MUTEX: return "mutex";
    case EXEC_W_COND: return "cond";
    case EXEC_W_RDLOCK: case EXEC_W_WRLOCK: return "rwlock";
    case EXEC_W_SEM: return "semaphore";
    case EXEC_W_BARRIER: return "barrier";
    case EXEC_W_ONCE: return "once";
    case EXEC_W_SPIN: return "spinlock";
    default: return "object";
    }
}

static const exec_thread *thread_of(const exec_report *r, uint32_t id)
{
    for (uint32_t i = 0; i < r->sum.nthreads; i++)
        if (r->threads[i].id == id)
            return &r->threads[i];
    return NULL;
}

/* "thread 2 (worker)": the start routine's name. */
static void thread_name(char *buf, size_t n, Dwfl *d, const exec_thread *t)
{
    char label[40] = "";
    if (t->name[0])
        snprintf(label, sizeof label, " \"%.15s\"", t->name);
    if (t->id == 1) {
        snprintf(buf, n, "thread 1%s (main)", label);
        return;
    }
    frame f;
    if (t->start_fn && symbolize(d, t->start_fn, true, &f))
        snprintf(buf, n, "thread %u%s (%s)", t->id, label, f.func);
    else
        snprintf(buf, n, "thread %u%s", t->id, label);
}

/* What a thread waits for: "pthread_mutex_lock mutex 0x… <name> (locked by thread 2)". */
static void wait_text(char *buf, size_t n, Dwfl *d, const exec_report *r, const exec_thread *t)
{
    if (t->state == EXEC_T_RUNNING) {
        snprintf(buf, n, "running");
        return;
    }
    if (t->state == EXEC_T_RUNNABLE) {
        snprintf(buf, n, "runnable%s%s", t->call[0] ? " at " : "", t->call);
        return;
    }
    if (t->wait == EXEC_W_JOIN) {
        snprintf(buf, n, "%s thread %" PRId64, t->call, t->value);
        return;
    }
    if (t->wait == EXEC_W_SLEEP) {
        snprintf(buf, n, "%s until %.6f s", t->call, (double)t->deadline_ns / 1e9);
        return;
    }
    char name[200] = "";
    frame f;
    if (symbolize(d, t->object, true, &f) && f.func[0] && strncmp(f.func, "0x", 2) != 0)
        snprintf(name, sizeof name, " <%s>", f.func);
    char extra[96] = "";
    switch (t->wait) {
    case EXEC_W_MUTEX: case EXEC_W_SPIN: case EXEC_W_WRLOCK:
        if (t->owner == t->id)
            snprintf(extra, sizeof extra, " (locked by thread %u: itself)", t->owner);
        else if (t->owner)
            snprintf(extra, sizeof extra, " (locked by thread %u)", t->owner);
        else if (t->wait == EXEC_W_WRLOCK && t->value > 0)
            snprintf(extra, sizeof extra, " (%" PRId64 " readers)", t->value);
        break;
    case EXEC_W_RDLOCK:
        if (t->owner)
            snprintf(extra, sizeof extra, " (write-locked by thread %u)", t->owner);
        break;
    case EXEC_W_SEM:
        snprintf(extra, sizeof extra, " (value %" PRId64 ")", t->value);
        break;
    case EXEC_W_BARRIER:
        snprintf(extra, sizeof extra, " (%" PRId64 " of %u arrived)", t->value, t->owner);
        break;
    default:
        break;
    }
    (void)r;
    snprintf(buf, n, "%s %s 0x%" PRIx64 "%s%s%s", t->call, object_kind(t->wait), t->object, name, extra,
             t->deadline_ns >= 0 && t->wait != EXEC_W_NONE ? " (timed)" : "");
}

static void dump_thread(FILE *out, Dwfl *d, const exec_report *r, const exec_thread *t)
{
    char name[200], wait[400];
    thread_name(name, sizeof name, d, t);
    wait_text(wait, sizeof wait, d, r, t);
    fprintf(out, "%s [%s]:\n", name, wait);
    bool any = false;
    for (uint32_t i = 0; i < t->npcs && i < EXEC_MAX_PCS; i++) {
        frame f;
        symbolize(d, t->pcs[i], false, &f);
        if (hidden(&f)) {
            if (any && (!strcmp(f.func, "start_thread") || !strcmp(f.func, "__libc_start_call_main")))
                break;
            continue;
        }
        fputs("    ", out);
        put_frame(out, &f);
        fputc('\n', out);
        any = true;
    }
    if (!any)
        fputs(t->id == 1 && t->state == EXEC_T_RUNNING ? "    (main has returned)\n" : "    (no stack)\n", out);
    if (t->created_at) {
        frame f;
        symbolize(d, t->created_at, false, &f);
        fputs("created by ", out);
        put_frame(out, &f);
        fprintf(out, " in thread %u\n", t->creator);
    }
}

/* The first line of stderr that says what went wrong (an assertion, a
 * sanitizer's headline), else its last line. */
static void stderr_headline(const char *err, char *buf, size_t n)
{
    buf[0] = 0;
    static const char *const marks[] = { "Assertion", "SUMMARY: ThreadSanitizer:", "WARNING: ThreadSanitizer:",
                                         "ERROR: AddressSanitizer",
                                         "runtime error:", "ERROR: LeakSanitizer" };
    for (size_t k = 0; k < sizeof marks / sizeof *marks; k++) {
        const char *p = strstr(err, marks[k]);
        if (!p)
            continue;
        const char *b = p;
        while (b > err && b[-1] != '\n')
            b--;
        const char *e = strchr(p, '\n');
        snprintf(buf, n, "%.*s", (int)(e ? e - b : (long)strlen(b)), b);
        return;
    }
    size_t len = strlen(err);
    while (len && err[len - 1] == '\n')
        len--;
    const char *b = err + len;
    while (b > err && b[-1] != '\n')
        b--;
    snprintf(buf, n, "%.*s", (int)(err + len - b), b);
}

static char *message(Dwfl *d, const exec_report *r, const char *strategy, uint64_t seed)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    const exec_summary *s = &r->sum;
    uint32_t v = s->verdict;
    if (v == HARNESS_PASS) {
        if (s->exhausted)
            fprintf(m, "no bug in all %u schedules within %u preemptions (exhausted)", s->schedules_run,
                    s->preemption_bound);
        else
            fprintf(m, "no bug in %u schedule%s (%s, seed %" PRIu64 ")", s->schedules_run,
                    s->schedules_run == 1 ? "" : "s", strategy, seed);
    } else if ((v == HARNESS_DEADLOCK && s->ending == EXEC_END_DEADLOCK) || v == HARNESS_LEAK) {
        unsigned n = 0;
        for (uint32_t i = 0; i < s->nthreads; i++)
            n += r->threads[i].state != EXEC_T_RUNNING;
        if (v == HARNESS_DEADLOCK)
            fprintf(m, "every thread is blocked: ");
        else
            fprintf(m, "%u thread%s still alive when the program exited: ", n, n == 1 ? "" : "s");
        bool first = true;
        for (uint32_t i = 0; i < s->nthreads; i++) {
            const exec_thread *t = &r->threads[i];
            if (t->state == EXEC_T_RUNNING)
                continue;
            char name[200], wait[400];
            thread_name(name, sizeof name, d, t);
            wait_text(wait, sizeof wait, d, r, t);
            fprintf(m, "%s%s %s %s", first ? "" : "; ", name, t->state == EXEC_T_RUNNABLE ? "not joined," : "in", wait);
            first = false;
        }
    } else if (v == HARNESS_HANG) {
        if (s->ending == EXEC_END_STEPS)
            fprintf(m, "more than %" PRIu64 " scheduling points (a livelock: it did not end under a fair "
                       "scheduler either)", s->steps - 1);
        else {
            char name[200] = "a thread";
            const exec_thread *t = thread_of(r, s->spinning);
            if (t)
                thread_name(name, sizeof name, d, t);
            fprintf(m, "%s ran %s without a scheduling point (spinning, or blocked outside pthreads)",
                    name, s->ending == EXEC_END_TIMEOUT ? "past the schedule's timeout" : "past the spin bound");
        }
    } else if (v == HARNESS_CRASH || v == HARNESS_RACE || v == HARNESS_DEADLOCK) {   /* a sanitizer's report */
        char head[512];
        stderr_headline(r->err, head, sizeof head);
        if (WIFSIGNALED(s->status))
            fprintf(m, "%s: %s", strsignal(WTERMSIG(s->status)), head[0] ? head : "(nothing on stderr)");
        else
            fputs(head, m);
    } else if (v == HARNESS_WRONG_RESULT) {
        char head[512];
        stderr_headline(r->err, head, sizeof head);
        fprintf(m, "exit status %d%s%s", WEXITSTATUS(s->status), head[0] ? ": " : "", head);
    } else if (v == HARNESS_NONDETERMINISTIC) {
        fprintf(m, "the output of schedule %u differs from the first schedule's", s->run);
    }
    fclose(m);
    return buf;
}

static void json_str(FILE *out, const char *s)
{
    fputc('"', out);
    for (const unsigned char *p = (const unsigned char *)s; p && *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(out, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", out);
        else if (*p == '\t')
            fputs("\\t", out);
        else if (*p < 0x20)
            fprintf(out, "\\u%04x", *p);
        else
            fputc(*p, out);
    }
    fputc('"', out);
}

/* "chanlab exec --replay 'SCHEDULE' -- PROGRAM ARGS" */
static char *replay_command(const char *schedule, char **prog)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&buf, &len);
    fprintf(m, "chanlab exec --replay '%s' --", schedule);
    for (char **a = prog; *a; a++) {
        bool plain = **a != 0;
        for (const char *c = *a; *c; c++)
            if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_./=:,+@%", *c))
                plain = false;
        if (plain) {
            fprintf(m, " %s", *a);
        } else {
            fputs(" '", m);
            for (const char *c = *a; *c; c++)
                fputs(*c == '\'' ? "'\\''" : (char[]){ *c, 0 }, m);
            fputc('\'', m);
        }
    }
    fclose(m);
    return buf;
}

static void print_text(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
                       const char *note)
{
    const exec_summary *s = &r->sum;
    fprintf(out, "%s: %s\n", harness_verdict_name((harness_verdict)s->verdict), msg);
    if (note && *note)
        fprintf(out, "note: %s\n", note);
    if (s->verdict == HARNESS_PASS)
        return;
    fprintf(out, "schedule %u of the search; %" PRIu64 " scheduling points, %" PRIu64 " decisions\n", s->run,
            s->steps, s->decisions);
    fprintf(out, "replay: %s\n", replay);
    if (s->nthreads) {
        fputc('\n', out);
        for (uint32_t i = 0; i < s->nthreads; i++) {
            dump_thread(out, d, r, &r->threads[i]);
            fputc('\n', out);
        }
    }
    if (s->verdict == HARNESS_NONDETERMINISTIC) {
        fprintf(out, "--- output of the first schedule\n%s", r->refout);
        fprintf(out, "--- output of schedule %u\n%s", s->run, r->out);
    } else if (r->err[0] && s->verdict != HARNESS_PASS) {
        fprintf(out, "--- the program's stderr%s\n%s", s->len_stderr >= 64 * 1024 ? " (its end)" : "", r->err);
        if (r->err[strlen(r->err) - 1] != '\n')
            fputc('\n', out);
    }
}

static void print_json(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
                       const char *note, const char *strategy, uint64_t seed, char **prog)
{
    const exec_summary *s = &r->sum;
    fputs("{\"verb\":\"exec\",\"program\":", out);
    json_str(out, prog[0]);
    fputs(",\"args\":[", out);
    for (char **a = prog + 1; *a; a++) {
        if (a != prog + 1)
            fputc(',', out);
        json_str(out, *a);
    }
    fprintf(out, "],\"mode\":\"%s\",\"strategy\":\"%s\",\"seed\":%" PRIu64 ",\"verdict\":\"%s\","
                 "\"schedules_run\":%u,\"exhausted\":%s,\"run\":%u,\"steps\":%" PRIu64 ",\"seconds\":%.3f,",
            note && strstr(note, "free mode") ? "free" : "controlled", strategy, seed,
            harness_verdict_name((harness_verdict)s->verdict), s->schedules_run, s->exhausted ? "true" : "false",
            s->run, s->steps, s->seconds);
    fputs("\"message\":", out);
    json_str(out, msg);
    fputs(",\"schedule\":", out);
    json_str(out, s->verdict == HARNESS_PASS ? "" : r->schedule);
    fputs(",\"decisions\":", out);
    json_str(out, s->verdict == HARNESS_PASS ? "" : r->explicit_);
    fputs(",\"replay\":", out);
    json_str(out, s->verdict == HARNESS_PASS ? "" : replay);
    fputs(",\"note\":", out);
    json_str(out, note ? note : "");
    char *dump = NULL;
    size_t len = 0;
    FILE *m = open_memstream(&dump, &len);
    for (uint32_t i = 0; i < s->nthreads; i++) {
        dump_thread(m, d, r, &r->threads[i]);
        if (i + 1 < s->nthreads)
            fputc('\n', m);
    }
    fclose(m);
    fputs(",\"dump\":", out);
    json_str(out, dump);
    free(dump);
    fputs(",\"threads\":[", out);
    for (uint32_t i = 0; i < s->nthreads; i++) {
        const exec_thread *t = &r->threads[i];
        char name[200], wait[400];
        thread_name(name, sizeof name, d, t);
        wait_text(wait, sizeof wait, d, r, t);
        fprintf(out, "%s{\"id\":%u,\"name\":", i ? "," : "", t->id);
        json_str(out, name);
        fputs(",\"state\":", out);
        json_str(out, wait);
        fprintf(out, ",\"object\":\"0x%" PRIx64 "\",\"owner\":%u}", t->object, t->owner);
    }
    fputs("],\"output\":", out);
    json_str(out, r->out);
    fputs(",\"stderr\":", out);
    json_str(out, r->err);
    fputs("}\n", out);
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
    char *msg = message(NULL, &r, "free", o->seed);
    if (r.sum.verdict == HARNESS_PASS) {
        free(msg);
        msg = strdup("no bug in the free runs");
    } else if (r.sum.verdict == HARNESS_HANG) {
        free(msg);
        msg = strdup("the program did not end within the timeout");
    }
    if (o->json)
        print_json(stdout, NULL, &r, msg, "", note, "free", o->seed, o->prog);
    else
        print_text(stdout, NULL, &r, msg, "(free runs are not reproducible)", note);
    int rc = r.sum.verdict == HARNESS_PASS ? 0 : 1;
    free(msg);
    free_report(&r);
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
    bool ok = pid > 0 && read_report(sv[0], &r, &mismatch);
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
        Dwfl *d = dwfl_for(r.server);
        const char *strategy = o.replay ? "replay" : o.strategy;
        char *msg = message(d, &r, strategy, o.seed);
        const char *sched = !strcmp(o.strategy, "exhaustive") ? r.explicit_ : r.schedule;
        char *replay = replay_command(sched, o.prog);
        if (o.json)
            print_json(stdout, d, &r, msg, replay, NULL, strategy, o.seed, o.prog);
        else
            print_text(stdout, d, &r, msg, replay, NULL);
        rc = r.sum.verdict == HARNESS_PASS ? 0 : 1;
        free(msg);
        free(replay);
        if (d)
            dwfl_end(d);
    }
    if (ok) {
        close(sv[0]);
        waitpid(pid, NULL, 0);
        free_report(&r);
    }
    free(lib);
    free(path);
    return rc;
}
