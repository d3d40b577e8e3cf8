/* catalog_util.h — what every catalog family's tests check (label catalog).
 * The expected verdicts are read from the registration and only compared
 * with what the harness observed. Call from a cmocka test; every run is
 * bounded by the variant's own bounds and the harness's wall bound. */
#ifndef CATALOG_UTIL_H
#define CATALOG_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "pattern.h"

/* Every variant of `family` in every mode it declares: the observed verdict
 * must be one it expects (in this build). */
void catalog_check_family(const char *family);

/* Every buggy variant of `family` (fixed_by set) that runs in controlled
 * mode: at least two of RANDOM, PCT and EXHAUSTIVE find one of its expected
 * verdicts, and each failing schedule, replayed, gives the same verdict. */
void catalog_check_strategies(const char *family);

/* `id` passes EXHAUSTIVE within the given preemption bound; prints how many
 * schedules that took and whether the bounded space was exhausted. */
void catalog_check_exhaustive(const char *id, unsigned preemption_bound, unsigned max_schedules);

#endif
