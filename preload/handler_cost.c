/* handler_cost.c - the handler's duration histogram (see the header). */
#include "handler_cost.h"

#include <stdatomic.h>
#include <stddef.h>

enum { COST_FINE_NS = 20, COST_FINE = 2000, COST_COARSE_NS = 1000, COST_BUCKETS = 2961 };

static _Atomic uint32_t cost_hist[COST_BUCKETS];

static size_t cost_bucket(uint64_t ns)
{
    if (ns < (uint64_t)COST_FINE * COST_FINE_NS)
        return ns / COST_FINE_NS;
    size_t b = COST_FINE + (ns - (uint64_t)COST_FINE * COST_FINE_NS) / COST_COARSE_NS;
    return b < COST_BUCKETS ? b : COST_BUCKETS - 1;
}

/* The middle of bucket b, in ns. */
static uint64_t cost_of_bucket(size_t b)
{
    if (b < COST_FINE)
        return b * COST_FINE_NS + COST_FINE_NS / 2;
    return (uint64_t)COST_FINE * COST_FINE_NS + (b - COST_FINE) * COST_COARSE_NS +
           COST_COARSE_NS / 2;
}

void handler_cost_add(uint64_t ns)
{
    atomic_fetch_add_explicit(&cost_hist[cost_bucket(ns)], 1, memory_order_relaxed);
}

void handler_cost_reset(void)
{
    for (size_t i = 0; i < COST_BUCKETS; i++)
        atomic_store(&cost_hist[i], 0);
}

uint64_t handler_cost_percentile(double q)
{
    uint64_t total = 0, seen = 0;
    for (size_t i = 0; i < COST_BUCKETS; i++)
        total += atomic_load(&cost_hist[i]);
    if (total == 0)
        return 0;
    uint64_t want = (uint64_t)(q * (double)total);
    for (size_t i = 0; i < COST_BUCKETS; i++) {
        seen += atomic_load(&cost_hist[i]);
        if (seen > want)
            return cost_of_bucket(i);
    }
    return cost_of_bucket(COST_BUCKETS - 1);
}
