/* exec_report.c — `chanlab exec`'s report (exec_report.h): the run the
 * fork server sends back over its socket (preload/exec_wire.h), read and
 * rendered — stacks symbolized against the still-living server's maps
 * (libdwfl), the one-line message, a Go-style dump of every thread, and the
 * text and JSON forms. exec.c runs the program; this file only reads and
 * writes what came back. */
#include "exec_report.h"


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

/* ----------------------------------------------------------- Symbolizing */

typedef struct {
    char func[160];
    char file[256];
    int line;
    char module[96];
} frame;

Dwfl *exec_dwfl_for(pid_t pid)
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

bool exec_read_report(int fd, exec_report *r, bool *mismatch)
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

void exec_free_report(exec_report *r)
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

char *exec_message(Dwfl *d, const exec_report *r, const char *strategy, uint64_t seed)
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

/* A JSON string: the report writers' (invalid UTF-8 in a program's output
 * becomes U+FFFD instead of breaking the document); "" for NULL. */
static void json_str(FILE *out, const char *s) { report_json_string(out, s ? s : ""); }

/* "chanlab exec --replay 'SCHEDULE' -- PROGRAM ARGS" */
char *exec_replay_command(const char *schedule, char **prog)
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

void exec_print_text(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
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

void exec_print_json(FILE *out, Dwfl *d, const exec_report *r, const char *msg, const char *replay,
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

