/* render.c — the parent's side of the wire format: turns a child's records
 * into an outcome — verdicts, the one-line message, the Go-style dump with
 * symbolized stacks, leak grouping and the goleak-style ignore list. Runs in
 * the parent, which can open the ELF even when the child could not. */
#include "hinternal.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_RENDER_TASKS 512

typedef struct {
    char *id, *name, *wait;
    int state;
    long long since_ns;
    bool forever;
    uintptr_t created_pc;
    uintptr_t pcs[CSP_DEBUG_MAX_PCS];
    int npcs;
    bool ignored;
} rtask;

/* Records verdict v; the outcome's verdict and message are those of the
 * most severe one (the first message seen for it). */
static void set_msg(harness_outcome *out, harness_verdict v, const char *msg)
{
    bool first_ever = out->seen == 0;
    out->seen |= 1u << v;
    if (first_ever || harness_verdict_more_severe(v, out->verdict)) {
        out->verdict = v;
        free(out->message);
        out->message = strdup(msg ? msg : "");
    }
}

static void parse_task(char **f, int n, rtask *t)
{
    memset(t, 0, sizeof *t);
    if (n < 9)
        return;
    t->id = f[1];
    t->name = f[2];
    t->state = atoi(f[3]);
    t->wait = f[4];
    t->since_ns = atoll(f[5]);
    t->forever = atoi(f[6]) != 0;
    t->created_pc = (uintptr_t)strtoull(f[7], NULL, 16);
    for (char *p = f[8]; *p && t->npcs < CSP_DEBUG_MAX_PCS;) {
        char *end;
        unsigned long long pc = strtoull(p, &end, 16);
        if (end == p)
            break;
        t->pcs[t->npcs++] = (uintptr_t)pc;
        p = *end == ',' ? end + 1 : end;
    }
}

/* The function that called csp_go, without " at file:line". */
static void creator_func(uintptr_t pc, char *buf, size_t size)
{
    csp_debug_describe_pc(pc, buf, size);
    char *at = strstr(buf, " at ");
    if (at)
        *at = 0;
}

static bool is_ignored(const rtask *t, const harness_options *o)
{
    if (!o->ignore_tasks)
        return false;
    char func[160] = "";
    if (t->created_pc)
        creator_func(t->created_pc, func, sizeof func);
    for (const char *const *p = o->ignore_tasks; *p; p++)
        if (strcmp(*p, t->name) == 0 || (func[0] && strcmp(*p, func) == 0))
            return true;
    return false;
}

static void render_duration(harness_buf *b, long long ns)
{
    if (ns < 10LL * CSP_SECOND)
        harness__buf_printf(b, "%lld ms", ns / CSP_MILLISECOND);
    else if (ns < 120LL * CSP_SECOND)
        harness__buf_printf(b, "%lld s", ns / CSP_SECOND);
    else
        harness__buf_printf(b, "%lld minutes", ns / (60 * CSP_SECOND));
}

static void render_task(harness_buf *b, const rtask *t)
{
    harness__buf_printf(b, "task %s \"%s\" [%s", t->id, t->name, t->wait);
    if (t->state != CSP_DEBUG_RUNNING) {
        harness__buf_puts(b, ", ");
        render_duration(b, t->since_ns);
    }
    harness__buf_puts(b, "]:\n");
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (mem) {
        if (t->npcs)
            csp_debug_print_stack(mem, t->pcs, t->npcs);
        else if (t->state == CSP_DEBUG_RUNNING)
            fputs("    (no stack: the thread did not answer)\n", mem);
        if (t->created_pc)
            csp_debug_print_created_by(mem, t->created_pc);
        fclose(mem);
        harness__buf_puts(b, text ? text : "");
        free(text);
    }
    harness__buf_puts(b, "\n");
}

/* "3 tasks leaked: 3× chan send \"errors\" (created by f at x.c:88); ..."
 * Tasks group by what they wait on and where they were made. */
static void leak_message(harness_buf *m, rtask *tasks, int n, unsigned leaked)
{
    harness__buf_printf(m, "%u task%s leaked: ", leaked, leaked == 1 ? "" : "s");
    char (*where)[256] = calloc((size_t)n, sizeof *where);
    bool *done = calloc((size_t)n, sizeof *done);
    if (!where || !done) {
        free(where);
        free(done);
        return;
    }
    for (int i = 0; i < n; i++)
        if (!tasks[i].ignored && tasks[i].created_pc) {
            csp_debug_describe_pc(tasks[i].created_pc, where[i], sizeof where[i]);
            /* Made by the harness's own entry wrapper: say nothing, as the dump does. */
            if (strstr(where[i], "harness/src/") || strstr(where[i], "runtime/src/"))
                where[i][0] = 0;
        }
    int groups = 0;
    for (int i = 0; i < n; i++) {
        if (tasks[i].ignored || done[i])
            continue;
        int count = 0;
        for (int j = i; j < n; j++)
            if (!tasks[j].ignored && !done[j] && strcmp(tasks[j].wait, tasks[i].wait) == 0 &&
                strcmp(where[j], where[i]) == 0) {
                done[j] = true;
                count++;
            }
        if (groups++ == 3) {
            harness__buf_puts(m, "; ...");
            break;
        }
        harness__buf_printf(m, "%s%d\xc3\x97 %s", groups > 1 ? "; " : "", count, tasks[i].wait);
        if (where[i][0])
            harness__buf_printf(m, " (created by %s)", where[i]);
    }
    free(where);
    free(done);
}

void harness__parse_records(char *records, const harness_options *o, harness_outcome *out)
{
    rtask *tasks = calloc(MAX_RENDER_TASKS, sizeof *tasks);
    int ntasks = 0;
    const char *head = NULL;
    bool leak_all = false, ended = false;
    harness_buf leakmsg = {0}, extra = {0};
    const char *fds_text = NULL;
    long more = 0;
    char *save = NULL;
    for (char *line = strtok_r(records, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
        char *f[12];
        int n = harness__split_fields(line, f, 12);
        if (n < 1)
            continue;
        if (!strcmp(f[0], "verdict") && n >= 3) {
            int v = harness_verdict_parse(f[1]);
            if (v >= 0)
                set_msg(out, (harness_verdict)v, f[2]);
        } else if (!strcmp(f[0], "task") && tasks && ntasks < MAX_RENDER_TASKS) {
            parse_task(f, n, &tasks[ntasks++]);
        } else if (!strcmp(f[0], "more") && n >= 2) {
            more = atol(f[1]);
        } else if (!strcmp(f[0], "head") && n >= 2) {
            head = f[1];
        } else if (!strcmp(f[0], "leak")) {
            leak_all = true;
        } else if (!strcmp(f[0], "ticker") && n >= 3) {
            char where[256];
            csp_debug_describe_pc((uintptr_t)strtoull(f[1], NULL, 16), where, sizeof where);
            harness__buf_printf(&extra, "%sticker (every %s ms) made by %s still running",
                                extra.len ? "; " : "", f[2], where);
            out->leaked_tickers++;
        } else if (!strcmp(f[0], "count") && n >= 3) {
            long v = atol(f[2]);
            if (!strcmp(f[1], "leaked_threads"))
                out->leaked_threads = (unsigned)v;
            else if (!strcmp(f[1], "leaked_fds"))
                out->leaked_fds = (unsigned)v;
            else if (!strcmp(f[1], "live_chans"))
                out->live_chans = v;
            else if (!strcmp(f[1], "races"))
                out->races = (unsigned)v;
            else if (!strcmp(f[1], "signal"))
                out->signal = (int)v;
            else if (!strcmp(f[1], "schedules_run"))
                out->schedules_run = (unsigned)v;
            else if (!strcmp(f[1], "steps"))
                out->steps = (uint64_t)strtoull(f[2], NULL, 10);
            else if (!strcmp(f[1], "virtual_time"))
                out->virtual_time = strtoll(f[2], NULL, 10);
        } else if (!strcmp(f[0], "fds") && n >= 2) {
            fds_text = f[1];
        } else if (!strcmp(f[0], "output") && n >= 2) {
            free(out->output);
            out->output = strdup(f[1]);
        } else if (!strcmp(f[0], "seen") && n >= 2) {
            int v = harness_verdict_parse(f[1]);
            if (v >= 0)
                out->seen |= 1u << v;
        } else if (!strcmp(f[0], "schedule") && n >= 2) {
            free(out->schedule);
            out->schedule = strdup(f[1]);
        } else if (!strcmp(f[0], "decisions") && n >= 2) {
            free(out->decisions);
            out->decisions = strdup(f[1]);
        } else if (!strcmp(f[0], "error") && n >= 2) {
            free(out->error);
            out->error = strdup(f[1]);
        } else if (!strcmp(f[0], "exhausted")) {
            out->exhausted = true;
        } else if (!strcmp(f[0], "wall")) {
            out->wall = true;
        } else if (!strcmp(f[0], "end")) {
            ended = true;
        }
    }
    (void)ended;
    if (leak_all && tasks) {
        for (int i = 0; i < ntasks; i++) {
            tasks[i].ignored = is_ignored(&tasks[i], o);
            out->leaked_tasks += !tasks[i].ignored;
        }
        if (out->leaked_tasks)
            leak_message(&leakmsg, tasks, ntasks, out->leaked_tasks);
    }
    if (out->leaked_threads)
        harness__buf_printf(&extra, "%s%u OS thread%s beyond the tasks still running",
                            extra.len ? "; " : "", out->leaked_threads,
                            out->leaked_threads == 1 ? "" : "s");
    if (out->leaked_fds)
        harness__buf_printf(&extra, "%s%u descriptor%s left open: %s", extra.len ? "; " : "",
                            out->leaked_fds, out->leaked_fds == 1 ? "" : "s",
                            fds_text ? fds_text : "?");
    if (out->leaked_tasks || extra.len) {
        if (leakmsg.len && extra.len)
            harness__buf_puts(&leakmsg, "; ");
        if (extra.len)
            harness__buf_puts(&leakmsg, extra.buf);
        set_msg(out, HARNESS_LEAK, leakmsg.buf);
    }
    /* The dump: head, then every task (ignored ones included, marked). */
    if (head || ntasks) {
        harness_buf d = {0};
        if (head)
            harness__buf_printf(&d, "%s\n\n", head);
        for (int i = 0; i < ntasks; i++) {
            if (tasks[i].ignored)
                harness__buf_puts(&d, "(ignored) ");
            render_task(&d, &tasks[i]);
        }
        if (more)
            harness__buf_printf(&d, "... and %ld more tasks\n", more);
        free(out->dump);
        out->dump = d.buf;
    }
    free(leakmsg.buf);
    free(extra.buf);
    free(tasks);
}

void harness__outcome_free(harness_outcome *out)
{
    free(out->message);
    free(out->dump);
    free(out->output);
    free(out->log);
    free(out->schedule);
    free(out->decisions);
    free(out->error);
    memset(out, 0, sizeof *out);
}
