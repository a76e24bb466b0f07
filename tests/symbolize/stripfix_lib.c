/* stripfix_lib.c - see stripfix.h. Built -O2 -g; stripped.py strips a copy. */
#include "stripfix.h"

#include <time.h>

static volatile uint64_t stripfix_sink;

static double cpu_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

/* Each stays one function under its own name (one FDE, one .symtab entry): gcc would
 * otherwise clone fx_drive per function pointer; clang has no noclone and does not clone
 * here. The serial xorshift chain cannot be vectorized or precomputed. */
#if defined(__clang__)
#define STRIPFIX_FN __attribute__((noinline))
#else
#define STRIPFIX_FN __attribute__((noinline, noclone))
#endif

STRIPFIX_FN static uint64_t fx_alpha(uint64_t x, long n)
{
    for (long i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 7;
        x ^= x << 17;
    }
    return x;
}

STRIPFIX_FN static uint64_t fx_beta(uint64_t x, long n)
{
    for (long i = 0; i < n; i++) {
        x ^= x << 11;
        x ^= x >> 9;
        x ^= x << 19;
    }
    return x;
}

/* Runs f in slices of ~1 ms from two call sites (two return addresses in the caller). */
STRIPFIX_FN static double fx_drive(uint64_t (*f)(uint64_t, long), double ms, long per_ms)
{
    double t0 = cpu_ms();
    uint64_t x = stripfix_sink | 1;
    for (int i = 0; cpu_ms() - t0 < ms; i++)
        x = i & 1 ? f(x, per_ms) + 1 : f(x ^ 5, per_ms);
    stripfix_sink = x;
    return cpu_ms() - t0;
}

STRIPFIX_FN static long fx_calibrate(void)
{
    long n = 100000;
    for (;;) {
        double t0 = cpu_ms();
        stripfix_sink = fx_alpha(stripfix_sink | 1, n);
        double t = cpu_ms() - t0;
        if (t > 5 || n > (1L << 40))
            return (long)((double)n / t);
        n *= 4;
    }
}

void stripfix_run(double alpha_ms, double beta_ms, double *alpha, double *beta)
{
    long per_ms = fx_calibrate();
    *alpha = fx_drive(fx_alpha, alpha_ms, per_ms);
    *beta = fx_drive(fx_beta, beta_ms, per_ms);
}

uint64_t stripfix_tiny(uint64_t x)
{
    return x * 3 + 1;
}
