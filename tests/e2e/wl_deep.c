/* A 30-frame-deep call chain, half the CPU, against a function called straight from main, the
 * other half. Used by the e2e test (every sample in the chain must carry all 30 frames) and as a
 * steady load for overhead benchmarks: it prints its CPU and wall time, and WL_SCALE scales it.
 *
 * With `abyss`, it instead burns at the bottom of a 5000-deep recursion, deeper than any sane
 * maximum stack depth: the profile must keep the leaf end and mark the cut with `[truncated]`.
 *
 * usage: wl_deep [abyss] [--truth PATH] */
#include "wl_common.h"

#include <stdio.h>
#include <string.h>
#include <time.h>

/* Long slices: with two functions taking turns, every boundary between them can hand up to a
 * sampling tick (4 ms at HZ=250) to the wrong one, so the error grows with the number of
 * boundaries; 15 x 2 x 100 ms keeps it near 0.2 points of the total (1 sigma). */
enum { SLICES = 15, DEPTH = 30, ABYSS_DEPTH = 5000, ABYSS_SLICES = 50 };
static const double SLICE_MS = 100.0, ABYSS_SLICE_MS = 20.0;

BURNER(deep_30, 30)

/* Each level does work after the call (a volatile read) so none is a tail call. */
#define DEEP(n, next)                                   \
    static BURN_NOIPA uint64_t deep_##n(long iters)       \
    {                                                   \
        volatile int keep = 1##n;                       \
        uint64_t r = next(iters);                       \
        return r + (uint64_t)keep;                      \
    }

DEEP(29, deep_30)
DEEP(28, deep_29)
DEEP(27, deep_28)
DEEP(26, deep_27)
DEEP(25, deep_26)
DEEP(24, deep_25)
DEEP(23, deep_24)
DEEP(22, deep_23)
DEEP(21, deep_22)
DEEP(20, deep_21)
DEEP(19, deep_20)
DEEP(18, deep_19)
DEEP(17, deep_18)
DEEP(16, deep_17)
DEEP(15, deep_16)
DEEP(14, deep_15)
DEEP(13, deep_14)
DEEP(12, deep_13)
DEEP(11, deep_12)
DEEP(10, deep_11)
DEEP(09, deep_10)
DEEP(08, deep_09)
DEEP(07, deep_08)
DEEP(06, deep_07)
DEEP(05, deep_06)
DEEP(04, deep_05)
DEEP(03, deep_04)
DEEP(02, deep_03)
DEEP(01, deep_02)

BURNER(shallow_work, 31)
BURNER(abyss_bottom, 32)

static BURN_NOIPA uint64_t abyss(int depth, long iters)
{
    volatile int keep = depth;
    uint64_t r = depth <= 1 ? abyss_bottom(iters) : abyss(depth - 1, iters);
    return r + (uint64_t)keep;
}

static int run_abyss(int argc, char **argv)
{
    int slices = (int)(ABYSS_SLICES * wl_scale() + 0.5);
    for (int s = 0; s < (slices > 0 ? slices : 1); s++) {
        long iters = wl_slice_iters(ABYSS_SLICE_MS);
        double t0 = burn_thread_cpu();
        abyss(ABYSS_DEPTH, iters);
        /* "abyss", not "abyss_bottom": the way down and back up 5000 frames (and the page
         * faults of the stack's first descent) is measured too, and runs outside the bottom. */
        wl_truth_add("abyss", burn_thread_cpu() - t0);
    }
    wl_truth_int("depth", ABYSS_DEPTH);
    wl_thread_end();
    printf("wl_deep: abyss done\n");
    return wl_truth_write(wl_truth_path(argc, argv)) == 0 ? 0 : 1;
}

static double wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
    double w0 = wall();
    double main_t0 = burn_thread_cpu();
    wl_init();
    if (argc > 1 && strcmp(argv[1], "abyss") == 0)
        return run_abyss(argc, argv);
    int slices = (int)(SLICES * wl_scale() + 0.5);
    if (slices < 1)
        slices = 1;
    for (int s = 0; s < slices; s++) {
        long iters = wl_slice_iters(SLICE_MS);
        double t0 = burn_thread_cpu();
        deep_01(iters);
        double t1 = burn_thread_cpu();
        shallow_work(wl_slice_iters(SLICE_MS));
        double t2 = burn_thread_cpu();
        wl_truth_add("deep_01", t1 - t0);
        wl_truth_add("deep_30", t1 - t0);
        wl_truth_add("shallow_work", t2 - t1);
    }
    double cpu = burn_thread_cpu() - main_t0;
    wl_truth_add("main", cpu);
    wl_truth_int("depth", DEPTH);
    wl_thread_end();
    printf("wl_deep: %d slices\n", slices);
    fprintf(stderr, "wl_deep: main cpu=%.3f s wall=%.3f s\n", cpu, wall() - w0);
    return wl_truth_write(wl_truth_path(argc, argv)) == 0 ? 0 : 1;
}
