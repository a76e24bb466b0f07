/* phases.c - the handler phase timer's histograms and exit report; see phases.h. */
#include "phases.h"

#ifdef FLAMEPROF_HANDLER_PHASES
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

enum { BUCKET_TICKS = 32, BUCKETS = 4096 }; /* ~12 ns buckets up to ~50 us at 2.6 GHz */

static _Atomic uint64_t hist[PHASE_COUNT][BUCKETS];
static _Atomic uint64_t sums[PHASE_COUNT], counters[PHASE_COUNTERS];
static uint64_t tsc0, ns0;

/* Each sample's phases and counters, for the slowest samples' breakdown at exit. */
enum { LOG_SAMPLES = 16384 };
typedef struct sample_log {
    uint32_t ticks[PHASE_COUNT];
    uint16_t count[PHASE_COUNTERS];
} sample_log;
static sample_log sample_logs[LOG_SAMPLES];
static _Atomic uint64_t logged;
static __thread __attribute__((tls_model("initial-exec"))) sample_log cur;

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
    cur.ticks[p] += (uint32_t)ticks;
    if (p == PHASE_TOTAL) { /* the sample's last phase */
        uint64_t i = atomic_fetch_add_explicit(&logged, 1, memory_order_relaxed);
        if (i < LOG_SAMPLES)
            sample_logs[i] = cur;
        cur = (sample_log){ 0 };
    }
}

void phases_count(enum phase_counter c, uint64_t n)
{
    atomic_fetch_add_explicit(&counters[c], n, memory_order_relaxed);
    cur.count[c] += (uint16_t)n;
}

static int by_total(const void *a, const void *b)
{
    uint32_t x = ((const sample_log *)a)->ticks[PHASE_TOTAL];
    uint32_t y = ((const sample_log *)b)->ticks[PHASE_TOTAL];
    return x < y ? -1 : x > y;
}

/* The mean phases and counters of the samples from rank lo to hi (sorted by total). */
static void print_band(const char *what, size_t lo, size_t hi, double ns_per_tick)
{
    static const char *short_names[] = { "entry", "py", "walk", "miss", "lookup", "splice",
                                          "publish", "total" };
    static const char *cshort[] = { "frames", "hits", "misses", "nomod", "fpsteps",
                                    "pyframes", "pyslow", "reused" };
    if (hi <= lo)
        return;
    fprintf(stderr, "flameprof-phases: pid %d %s (%zu samples):", (int)getpid(), what, hi - lo);
    for (int p = 0; p < PHASE_COUNT; p++) {
        double t = 0;
        for (size_t i = lo; i < hi; i++)
            t += sample_logs[i].ticks[p];
        fprintf(stderr, " %s=%.0f", short_names[p], t * ns_per_tick / (double)(hi - lo));
    }
    for (int c = 0; c < PHASE_COUNTERS; c++) {
        double t = 0;
        for (size_t i = lo; i < hi; i++)
            t += sample_logs[i].count[c];
        fprintf(stderr, " %s=%.1f", cshort[c], t / (double)(hi - lo));
    }
    fprintf(stderr, "\n");
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
    size_t m = logged < LOG_SAMPLES ? (size_t)logged : LOG_SAMPLES;
    qsort(sample_logs, m, sizeof *sample_logs, by_total);
    print_band("middle 10%", m * 45 / 100, m * 55 / 100, ns_per_tick);
    print_band("slowest 1%", m - (m + 99) / 100, m, ns_per_tick);
}
#endif

#ifdef FLAMEPROF_HANDLER_AB
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <unistd.h>

enum { AB_NS = 20, AB_BUCKETS = 5000 }; /* 20 ns buckets up to 100 us */

__thread bool phases_ab_b __attribute__((tls_model("initial-exec")));
static __thread unsigned ab_count __attribute__((tls_model("initial-exec")));
static _Atomic uint32_t ab_hist[2][AB_BUCKETS];

void phases_ab_begin(void)
{
    phases_ab_b = ab_count++ & 1;
}

void phases_ab_end(uint64_t ns)
{
    uint64_t b = ns / AB_NS;
    atomic_fetch_add_explicit(&ab_hist[phases_ab_b][b < AB_BUCKETS ? b : AB_BUCKETS - 1], 1,
                              memory_order_relaxed);
}

/* Variant v's duration below which a fraction q of its samples fell (bucket middle). */
static uint64_t ab_percentile(int v, uint64_t n, double q)
{
    uint64_t seen = 0;
    for (size_t b = 0; b < AB_BUCKETS; b++) {
        seen += ab_hist[v][b];
        if ((double)seen > q * (double)n)
            return b * AB_NS + AB_NS / 2;
    }
    return AB_BUCKETS * AB_NS;
}

void phases_ab_report(void)
{
    static atomic_bool said;
    if (atomic_exchange(&said, true))
        return;
    uint64_t n[2] = { 0, 0 };
    for (int v = 0; v < 2; v++)
        for (size_t b = 0; b < AB_BUCKETS; b++)
            n[v] += ab_hist[v][b];
    if (n[0] + n[1] == 0)
        return;
    fprintf(stderr, "flameprof-ab: pid %d", (int)getpid());
    for (int v = 0; v < 2; v++)
        fprintf(stderr, " %c n=%lu med=%lu p90=%lu p99=%lu", v ? 'B' : 'A',
                (unsigned long)n[v], (unsigned long)ab_percentile(v, n[v], .5),
                (unsigned long)ab_percentile(v, n[v], .9),
                (unsigned long)ab_percentile(v, n[v], .99));
    fprintf(stderr, "\n");
}

__attribute__((destructor)) static void ab_report(void)
{
    phases_ab_report();
}
#endif
