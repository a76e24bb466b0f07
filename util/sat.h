/* sat.h - saturating arithmetic for sample counts and weights.
 *
 * Totals of hostile or huge profiles must not wrap around to small numbers: a wrapped sum
 * would draw a 100% frame as a sliver. Saturating at UINT64_MAX keeps every ratio sane.
 * Pure functions: thread-safe and async-signal-safe. */
#ifndef FLAMEPROF_UTIL_SAT_H
#define FLAMEPROF_UTIL_SAT_H

#include <stdint.h>

static inline uint64_t util_sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

#endif
