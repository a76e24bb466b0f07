/* stripfix_lib.c - see stripfix.h. Built -O2 -g; stripped.py strips a copy. */
#include "stripfix.h"

#include "burn.h"

/* Each stays one function under its own name: one FDE, one .symtab entry. */
BURNER(fx_alpha, 1)
BURNER(fx_beta, 2)

/* Runs f in slices of ~1 ms from two call sites (two return addresses in the caller). */
static BURN_NOIPA double fx_drive(uint64_t (*f)(long), double ms, long per_ms)
{
    double t0 = burn_thread_cpu();
    for (int i = 0; (burn_thread_cpu() - t0) * 1e3 < ms; i++) {
        if (i & 1)
            f(per_ms);
        else
            f(per_ms + 1);
    }
    return (burn_thread_cpu() - t0) * 1e3;
}

/* Iterations of the burners per CPU millisecond. */
static BURN_NOIPA long fx_calibrate(void)
{
    for (long n = 100000;; n *= 4) {
        double t0 = burn_thread_cpu();
        fx_alpha(n);
        double ms = (burn_thread_cpu() - t0) * 1e3;
        if (ms > 5 || n > (1L << 40))
            return (long)((double)n / ms);
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
