/* phases.c - the handler phase timer's histograms and exit report; see phases.h. */
#include "phases.h"

#ifdef FLAMEPROF_HANDLER_PHASES
#include <stdatomic.h>
#include <stdio.h>
#include <time.h>
#include <unistd.h>

enum { BUCKET_TICKS = 32, BUCKETS = 4096 }; /* ~12 ns buckets up to ~50 us at 2.6 GHz */

static _Atomic uint64_t hist[PHASE_COUNT][BUCKETS];
static _Atomic uint64_t sums[PHASE_COUNT], counters[PHASE_COUNTERS];
static uint64_t tsc0, ns0;

static uint64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void phases_add(enum phase_id p, uint64_t ticks)
{
    uint64_t b = ticks / BUCKET_TICKS;
    atomic_fetch_add_explicit(&hist[p][b < BUCKETS ? b : BUCKETS - 1], 1,
                              memory_order_relaxed);
    atomic_fetch_add_explicit(&sums[p], ticks, memory_order_relaxed);
}

void phases_count(enum phase_counter c, uint64_t n)
{
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
}

__attribute__((constructor)) static void phases_start(void)
{
    tsc0 = __rdtsc();
    ns0 = mono_ns();
}

__attribute__((destructor)) static void phases_report(void)
{
    uint64_t n = 0;
    for (size_t b = 0; b < BUCKETS; b++)
        n += hist[PHASE_TOTAL][b];
    if (!n)
        return;
    double ns_per_tick = (double)(mono_ns() - ns0) / (double)(__rdtsc() - tsc0);
    static const char *names[] = { "entry", "py", "walk", "miss", "lookup", "splice", "publish",
                                   "total" };
    for (int p = 0; p < PHASE_COUNT; p++) {
        uint64_t seen = 0, cnt = 0, med = 0;
        for (size_t b = 0; b < BUCKETS; b++)
            cnt += hist[p][b];
        for (size_t b = 0; b < BUCKETS && cnt; b++) {
            seen += hist[p][b];
            if (seen * 2 >= cnt) {
                med = b;
                break;
            }
        }
        fprintf(stderr,
                "flameprof-phases: pid %d %-7s n=%lu median=%.0fns mean/sample=%.0fns\n",
                (int)getpid(), names[p], (unsigned long)cnt,
                ((double)med + 0.5) * BUCKET_TICKS * ns_per_tick,
                (double)sums[p] * ns_per_tick / (double)n);
    }
    static const char *cnames[] = { "frames", "hits", "misses", "nomod", "fpsteps",
                                    "pyframes", "pyslow", "reused" };
    fprintf(stderr, "flameprof-phases: pid %d per sample:", (int)getpid());
    for (int c = 0; c < PHASE_COUNTERS; c++)
        fprintf(stderr, " %s=%.2f", cnames[c], (double)counters[c] / (double)n);
    fprintf(stderr, "\n");
}
#endif
