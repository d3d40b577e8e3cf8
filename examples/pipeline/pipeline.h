/* pipeline.h — the book's pipeline (GOPL §8.4) on chanlab's runtime:
 * counter → squarer → summer, one task per stage, unbuffered channels. */
#ifndef PIPELINE_H
#define PIPELINE_H

/* Sums the squares of 0..n-1 through the pipeline; every task has returned
 * when it does. */
long pipeline_sum_squares(int n);

/* Entries for the harness: the correct pipeline, and one whose consumer
 * stops early and leaves the squarer blocked on its send. */
void pipeline_entry(void *arg);
void pipeline_entry_stops_early(void *arg);

#endif
