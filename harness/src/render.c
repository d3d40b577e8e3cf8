/* render.c — records into text (render.h). Runs in the parent, which can
 * open the ELF even when the child could not. */
#include "quiet.h"
#include "render.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

HARNESS_CODE char *harness__render_text(const char *s)
{
    harness_buf b = {0};
    harness__buf_puts(&b, "");
    const size_t open_len = strlen(HARNESS_PC_TOKEN_OPEN);
    while (s && *s) {
        const char *tok = strstr(s, HARNESS_PC_TOKEN_OPEN);
        if (!tok) {
            harness__buf_puts(&b, s);
            break;
        }
        harness__buf_putn(&b, s, (size_t)(tok - s));
        char *end;
        unsigned long long pc = strtoull(tok + open_len, &end, 16);
        if (*end != HARNESS_PC_TOKEN_CLOSE) {   /* not a token after all */
            harness__buf_putn(&b, tok, open_len);
            s = tok + open_len;
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
