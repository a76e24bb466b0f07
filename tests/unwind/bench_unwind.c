/* bench_unwind.c - why the handler does not call libunwind: the same interrupted stacks
 * (a 30-deep recursion, -O2, no frame pointers) walked from a SIGPROF handler by
 * unwind_walk (precomputed CFI tables) and by libunwind's unw_backtrace, alternately.
 * Prints the median and p99 cost of each and the depth each reached. A figure, not a
 * test: run with `meson test --benchmark` or directly. */
#define UNW_LOCAL_ONLY
#include <libunwind.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <ucontext.h>

#include "modules.h"
#include "unwind.h"
#include "walk_test.h"

enum { DEPTH = 30, SAMPLES = 400, MAX = 256 };

static uint64_t g_stack_hi;
static uint64_t cost[2][SAMPLES], depth[2][SAMPLES];
static atomic_uint n[2];
static atomic_uint turn;
static volatile uint64_t sink;

static void on_prof(int sig, siginfo_t *si, void *ucv)
{
    (void)sig;
    (void)si;
    uint64_t pcs[MAX];
    unsigned which = atomic_fetch_add(&turn, 1) & 1;
    uint64_t t0 = walk_test_now_ns(), d;
    if (which == 0) {
        unwind_regs r = unwind_regs_of(ucv);
        unwind_ctx ctx = { modules_current(), NULL, NULL, NULL, NULL, NULL, 0 };
        d = unwind_walk(&ctx, r, g_stack_hi, pcs, MAX).depth;
    } else {
        d = (uint64_t)unw_backtrace((void **)pcs, MAX);
    }
    uint64_t t1 = walk_test_now_ns();
    unsigned i = atomic_fetch_add(&n[which], 1);
    if (i < SAMPLES) {
        cost[which][i] = t1 - t0;
        depth[which][i] = d;
    }
}

__attribute__((noinline)) static void spin(void)
{
    while (atomic_load(&n[0]) < SAMPLES || atomic_load(&n[1]) < SAMPLES)
        for (int i = 0; i < 1000; i++)
            sink += (uint64_t)i * i;
}

__attribute__((noinline)) static int descend(int d)
{
    if (d == 0)
        spin();
    else
        descend(d - 1);
    sink++;
    return d;
}

static int cmp(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    g_stack_hi = walk_test_stack_end();
    modules_refresh();
    walk_test_sigprof(on_prof, 1);
    descend(DEPTH);
    walk_test_sigprof(NULL, 0);
    const char *names[2] = { "flameprof unwind_walk", "libunwind unw_backtrace" };
    for (int w = 0; w < 2; w++) {
        qsort(cost[w], SAMPLES, sizeof cost[w][0], cmp);
        qsort(depth[w], SAMPLES, sizeof depth[w][0], cmp);
        printf("%-24s median %7.2f us  p99 %7.2f us  median depth %llu\n", names[w],
               cost[w][SAMPLES / 2] / 1000.0, cost[w][SAMPLES * 99 / 100] / 1000.0,
               (unsigned long long)depth[w][SAMPLES / 2]);
    }
    printf("ratio (libunwind / flameprof, medians): %.1fx\n",
           (double)cost[1][SAMPLES / 2] / (double)cost[0][SAMPLES / 2]);
    return 0;
}
