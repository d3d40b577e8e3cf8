/* render.c — records into text (render.h). Runs in the parent, which can
 * open the ELF even when the child could not. */
#include "quiet.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "2× chan send "errors" (created by F at FILE:LINE); ..." — the record's
 * leaked (not ignored) tasks grouped by what they wait on and where they
 * were made, at most three groups. */
static HARNESS_CODE void leak_groups(harness_buf *b, const harness_record *r)
{
    enum { MAX_GROUPS = 3 };
    struct { const char *wait; char where[320]; int count; } g[MAX_GROUPS];
    int ng = 0;
    bool more = false;
    for (size_t i = 0; i < r->ntasks; i++) {
        const csp_debug_task *t = &r->tasks[i].t;
        if (r->tasks[i].ignored)
            continue;
        char where[320] = "";
        /* Made by the harness's own entry wrapper: say nothing, as the dump does. */
        if (t->created_pc && !csp_debug_library_pc(t->created_pc))
            csp_debug_describe_pc(t->created_pc, where, sizeof where);
        int k = 0;
        while (k < ng && !(strcmp(g[k].wait, t->wait) == 0 && strcmp(g[k].where, where) == 0))
            k++;
        if (k == ng) {
            if (ng == MAX_GROUPS) {
                more = true;
                continue;
            }
            g[ng].wait = t->wait;
            memcpy(g[ng].where, where, sizeof where);
            g[ng++].count = 0;
        }
        g[k].count++;
    }
    for (int k = 0; k < ng; k++) {
        harness__buf_printf(b, "%s%d× %s", k ? "; " : "", g[k].count, g[k].wait);
        if (g[k].where[0])
            harness__buf_printf(b, " (created by %s)", g[k].where);
    }
    if (more)
        harness__buf_puts(b, "; ...");
}

HARNESS_CODE char *harness__render_message(const harness_record *r, const char *s)
{
    harness_buf b = {0};
    harness__buf_puts(&b, "");
    const size_t open_len = strlen(HARNESS_PC_TOKEN_OPEN);
    const size_t leaks_len = strlen(HARNESS_LEAKS_TOKEN);
    while (s && *s) {
        const char *tok = strchr(s, '\x1b');
        if (!tok) {
            harness__buf_puts(&b, s);
            break;
        }
        harness__buf_putn(&b, s, (size_t)(tok - s));
        if (strncmp(tok, HARNESS_LEAKS_TOKEN, leaks_len) == 0) {
            leak_groups(&b, r);
            s = tok + leaks_len;
            continue;
        }
        char *end = NULL;
        unsigned long long pc = 0;
        if (strncmp(tok, HARNESS_PC_TOKEN_OPEN, open_len) == 0)
            pc = strtoull(tok + open_len, &end, 16);
        if (!end || *end != HARNESS_PC_TOKEN_CLOSE) {   /* not a token after all */
            harness__buf_putn(&b, tok, 1);
            s = tok + 1;
            continue;
        }
        char where[320];
        csp_debug_describe_pc((uintptr_t)pc, where, sizeof where);
        harness__buf_puts(&b, where);
        s = end + 1;
    }
    return b.buf;
}

HARNESS_CODE char *harness__render_dump(const harness_record *r)
{
    if (!r->head && !r->ntasks)
        return NULL;
    char *text = NULL;
    size_t len = 0;
    FILE *mem = open_memstream(&text, &len);
    if (!mem)
        return NULL;
    if (r->head)
        fprintf(mem, "%s\n\n", r->head);
    for (size_t i = 0; i < r->ntasks; i++) {
        if (r->tasks[i].ignored)
            fputs("(ignored) ", mem);
        csp_debug_print_task(mem, &r->tasks[i].t, r->tasks[i].t.since);
    }
    if (r->more_tasks)
        fprintf(mem, "... and %zu more tasks\n", r->more_tasks);
    fclose(mem);
    return text;
}
