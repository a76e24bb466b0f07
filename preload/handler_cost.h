/* handler_cost.h - what the signal handler costs a sample: a histogram of its durations,
 * read as the median and p99 of the exit summary (`handler median=..us p99=..us`).
 *
 * Buckets of 20 ns up to 40 us, then of 1 us up to 1 ms; the last bucket holds the rest, so
 * a p99 of ~1000 us means "at least a millisecond". handler_cost_add is async-signal-safe
 * (one relaxed atomic increment, called by every handler at once); the others run outside
 * the handler. */
#ifndef FLAMEPROF_HANDLER_COST_H
#define FLAMEPROF_HANDLER_COST_H

#include <stdint.h>

/* Counts one handler run of ns nanoseconds. */
void handler_cost_add(uint64_t ns);

/* Forgets every count (a fork child's profile starts empty). */
void handler_cost_reset(void);

/* The duration below which a fraction q of the runs fell (the middle of its bucket), in
 * ns; 0 before any run. */
uint64_t handler_cost_percentile(double q);

#endif
