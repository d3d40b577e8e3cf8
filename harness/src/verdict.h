/* verdict.h — verdicts as values: names, parsing, severity, and the one way
 * several observations become one judgement (the most severe verdict, the
 * first message given for it, every verdict in `seen`). Every place that
 * combines verdicts — a run's own observations, a controlled driver's
 * schedules, the parent's runs — uses harness__judge. */
#ifndef HARNESS_VERDICT_H
#define HARNESS_VERDICT_H

#include "harness.h"

typedef struct {
    unsigned seen;             /* bit (1u << v) for every verdict observed; 0: none yet */
    harness_verdict verdict;   /* the most severe of them (PASS while seen is 0) */
    char *message;             /* the message given first for that verdict (malloc'd) */
} harness_judgement;

/* Observes verdict v with message msg (copied; NULL is ""). PASS counts too. */
void harness__judge(harness_judgement *j, harness_verdict v, const char *msg);
/* Observes everything src observed: its verdict with its message, and its
 * other seen bits without messages. */
void harness__judge_merge(harness_judgement *j, const harness_judgement *src);
/* Takes over *message (malloc'd) as the judgement's message. */
void harness__judge_set_message(harness_judgement *j, char *message);
void harness__judgement_free(harness_judgement *j);

#endif
