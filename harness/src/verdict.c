/* verdict.c — verdict names, their severity (the precedence documented in
 * harness.h) and judgements (verdict.h). */
#include "quiet.h"
#include "verdict.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

static const char *const verdict_names[HARNESS_VERDICT_COUNT] = {
    "PASS", "LEAK", "DEADLOCK", "HANG", "PANIC", "RACE", "WRONG_RESULT",
    "NONDETERMINISTIC", "RESOURCE", "SLOW", "CRASH",
};

/* Severity rank, least first (the precedence documented in harness.h). */
static const int severity[HARNESS_VERDICT_COUNT] = {
    [HARNESS_PASS] = 0, [HARNESS_NONDETERMINISTIC] = 1, [HARNESS_SLOW] = 2,
    [HARNESS_RESOURCE] = 3, [HARNESS_LEAK] = 4, [HARNESS_WRONG_RESULT] = 5,
    [HARNESS_HANG] = 6, [HARNESS_DEADLOCK] = 7, [HARNESS_RACE] = 8,
    [HARNESS_PANIC] = 9, [HARNESS_CRASH] = 10,
};

HARNESS_CODE const char *harness_verdict_name(harness_verdict v)
{
    return (unsigned)v < HARNESS_VERDICT_COUNT ? verdict_names[v] : "?";
}

HARNESS_CODE int harness_verdict_parse(const char *name)
{
    for (int v = 0; name && v < HARNESS_VERDICT_COUNT; v++)
        if (strcasecmp(name, verdict_names[v]) == 0)
            return v;
    return -1;
}

HARNESS_CODE bool harness_verdict_more_severe(harness_verdict a, harness_verdict b)
{
    if ((unsigned)a >= HARNESS_VERDICT_COUNT)
        return false;
    if ((unsigned)b >= HARNESS_VERDICT_COUNT)
        return true;
    return severity[a] > severity[b];
}

HARNESS_CODE void harness__judge(harness_judgement *j, harness_verdict v, const char *msg)
{
    if ((unsigned)v >= HARNESS_VERDICT_COUNT)
        return;
    bool first = j->seen == 0;
    j->seen |= 1u << v;
    if (first || harness_verdict_more_severe(v, j->verdict)) {
        j->verdict = v;
        free(j->message);
        j->message = strdup(msg ? msg : "");
    }
}

HARNESS_CODE void harness__judge_merge(harness_judgement *j, const harness_judgement *src)
{
    if (!src->seen)
        return;
    harness__judge(j, src->verdict, src->message);
    j->seen |= src->seen;
}

HARNESS_CODE void harness__judge_set_message(harness_judgement *j, char *message)
{
    free(j->message);
    j->message = message;
}

HARNESS_CODE void harness__judgement_free(harness_judgement *j)
{
    free(j->message);
    memset(j, 0, sizeof *j);
}
