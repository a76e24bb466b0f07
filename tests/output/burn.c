/* burn.c - a few tenths of a second of CPU in two named functions, for the profiler to
 * write in every format (formats_e2e.py). noinline so both stay frames of their own;
 * burn_step is always inlined into burn_spin (a pprof Location of two Lines). The lines
 * where these functions are declared are what formats_e2e.py finds in the profiles. */
#include <stdint.h>
#include <stdio.h>
#include <time.h>

static volatile uint64_t sink;

static double cpu_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static inline __attribute__((always_inline)) uint64_t burn_step(uint64_t x)
{
    for (int i = 0; i < 10000; i++)
        x = x * 6364136223846793005u + 1442695040888963407u;
    return x;
}

__attribute__((noinline)) static void burn_spin(double until)
{
    uint64_t x = 1;
    while (cpu_seconds() < until)
        x = burn_step(x);
    sink = x;
}

__attribute__((noinline)) static void burn_a(double s) { burn_spin(cpu_seconds() + s); }
__attribute__((noinline)) static void burn_b(double s) { burn_spin(cpu_seconds() + s); }

int main(void)
{
    burn_a(0.2);
    burn_b(0.1);
    printf("%llu\n", (unsigned long long)(sink & 1));
    return 0;
}
