/* schedule_string_fuzzer.c — the schedule strings a user hands to
 * `chanlab replay`, CHANLAB_REPLAY or harness_options.replay: whatever the
 * bytes, harness_run either refuses them with a one-line message or runs a
 * small program under them (a schedule that parses but does not fit the
 * program is refused too) — never a crash, a hang or a silently different
 * run. */
#include "harness.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Two senders and a select: RUN, SELECT and TIMER decisions all occur. */
static void sender(void *arg)
{
    int v = 1;
    csp_send(arg, &v);
}

static void program(void *arg)
{
    csp_chan *a = csp_chan_make(sizeof(int), 0, "a");
    csp_chan *b = csp_chan_make(sizeof(int), 1, "b");
    csp_go(sender, a, "sa");
    csp_go(sender, b, "sb");
    int x, y;
    csp_case cases[] = { { a, CSP_OP_RECV, &x, false }, { b, CSP_OP_RECV, &y, false },
                         { csp_after(CSP_MILLISECOND), CSP_OP_RECV, NULL, false } };
    for (int i = 0; i < 2; i++)
        csp_select(cases, 2, false);
    csp_select(cases, 3, false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 4096)
        return 0;
    char *s = malloc(size + 1);
    if (!s)
        return 0;
    memcpy(s, data, size);
    s[size] = 0;
    harness_options o = harness_defaults();
    o.mode = HARNESS_CONTROLLED;
    o.in_process = true;
    o.max_steps = 1000;
    o.replay = s;
    harness_result r;
    int rc = harness_run(program, NULL, &o, &r);
    if (rc != 0 && (!r.message || !r.message[0] || strchr(r.message, '\n'))) {
        fprintf(stderr, "a refusal must be one line: [%s]\n", r.message ? r.message : "(null)");
        abort();
    }
    harness_result_free(&r);
    free(s);
    return 0;
}
