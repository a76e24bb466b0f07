/* burn.h - CPU burners with known names, for the test workloads (tests/e2e wl_*, tests/faults
 * fw_*, and any new ones): a test finds the functions in the profile by name, so each must stay
 * a frame of its own, under its own name, and hold the CPU it burns.
 *
 * Header-only, C and C++. Thread-safe in the sense that matters here: concurrent burners race
 * on burn_sink, which only exists so the compiler cannot drop the work. */
#ifndef FLAMEPROF_TEST_BURN_H
#define FLAMEPROF_TEST_BURN_H

#include <stdint.h>
#include <time.h>

/* Keep a function as its own frame under its own name. noinline alone is not enough on gcc:
 * IPA-CP/IPA-SRA may still clone it into `name.constprop.0` / `name.isra.0`, and ICF may
 * merge look-alike functions; noipa forbids all of that. clang has no such passes here and
 * would warn (-Werror) on the unknown attribute. */
#if defined(__GNUC__) && !defined(__clang__)
#define BURN_NOIPA __attribute__((noipa))
#else
#define BURN_NOIPA __attribute__((noinline))
#endif

/* Read through a volatile so the compiler cannot precompute the work; written to a volatile
 * so it cannot drop it. Each file (a program, a dlopen'ed library) has its own pair. */
static volatile uint64_t burn_seed __attribute__((unused)) = 0x9e3779b97f4a7c15ull;
static volatile uint64_t burn_sink __attribute__((unused));

/* The CPU burner. A macro (not a helper function) so the burning instructions belong to the
 * function that expands it: no extra frame, no inlined-function entry in the DWARF.
 * `salt` makes every expansion different code, so no two work functions can be folded into
 * one by identical-code folding. The xorshift chain is serial: no vectorization. */
#define BURN(iters, salt)                                             \
    do {                                                              \
        uint64_t burn_x_ = burn_seed ^ (uint64_t)(salt);              \
        for (long burn_i_ = 0; burn_i_ < (long)(iters); burn_i_++) {  \
            burn_x_ ^= burn_x_ << 13;                                 \
            burn_x_ ^= burn_x_ >> 7;                                  \
            burn_x_ ^= burn_x_ << 17;                                 \
        }                                                             \
        burn_sink += burn_x_;                                         \
    } while (0)

/* Defines `static uint64_t name(long iters)`: burns `iters` iterations under its own name. */
#define BURNER(name, salt)                       \
    static BURN_NOIPA uint64_t name(long iters)  \
    {                                            \
        BURN(iters, salt);                       \
        return burn_sink;                        \
    }

/* Seconds on clock c (CLOCK_THREAD_CPUTIME_ID, CLOCK_PROCESS_CPUTIME_ID, CLOCK_MONOTONIC). */
static inline double burn_clock(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds of the calling thread: what the workloads measure their truth with. */
static inline double burn_thread_cpu(void)
{
    return burn_clock(CLOCK_THREAD_CPUTIME_ID);
}

#endif
