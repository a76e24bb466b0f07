/* Helpers shared by the fault-matrix workloads (fw_*.c).
 *
 * The workloads burn CPU in functions with known names, so a test can find them in the
 * profile, and print only what is the same with or without the profiler (so stdout can be
 * compared). Everything is header-only: each workload is one file, easy to read. */
#ifndef FW_COMMON_H
#define FW_COMMON_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Keep a function a frame of its own, under its own name (gcc would otherwise clone it
 * into name.constprop.0 or fold look-alikes together; clang has no such passes here). */
#if defined(__GNUC__) && !defined(__clang__)
#define FW_NOIPA __attribute__((noipa))
#else
#define FW_NOIPA __attribute__((noinline))
#endif

static volatile uint64_t fw_seed = 0x9e3779b97f4a7c15ull;
static volatile uint64_t fw_sink;

/* A serial xorshift chain: cannot be vectorized or precomputed. A macro, so the burning
 * instructions belong to the function that expands it (no extra frame). */
#define FW_BURN(iters, salt)                                          \
    do {                                                              \
        uint64_t fw_x_ = fw_seed ^ (uint64_t)(salt);                  \
        for (long fw_i_ = 0; fw_i_ < (long)(iters); fw_i_++) {        \
            fw_x_ ^= fw_x_ << 13;                                     \
            fw_x_ ^= fw_x_ >> 7;                                      \
            fw_x_ ^= fw_x_ << 17;                                     \
        }                                                             \
        fw_sink += fw_x_;                                             \
    } while (0)

/* A function that burns `iters` iterations under its own name. */
#define FW_BURNER(name, salt)                  \
    static FW_NOIPA uint64_t name(long iters)  \
    {                                          \
        FW_BURN(iters, salt);                  \
        return fw_sink;                        \
    }

static inline double fw_clock(clockid_t c)
{
    struct timespec ts;
    clock_gettime(c, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static inline double fw_thread_cpu(void)
{
    return fw_clock(CLOCK_THREAD_CPUTIME_ID);
}

static inline double fw_process_cpu(void)
{
    return fw_clock(CLOCK_PROCESS_CPUTIME_ID);
}

static inline double fw_now(void)
{
    return fw_clock(CLOCK_MONOTONIC);
}

/* Burn until the calling thread has used `seconds` more CPU, in chunks of about 1 ms
 * through fn (a named function that expands FW_BURN), so the CPU lands in fn's frame. */
#define FW_CHUNK 200000L
static inline void fw_burn_cpu(double seconds, uint64_t (*fn)(long))
{
    double end = fw_thread_cpu() + seconds;
    while (fw_thread_cpu() < end)
        fn(FW_CHUNK);
}

/* Print a line now (stdout may be a pipe: an exec or a crash must not lose it). */
#define FW_SAY(...)                 \
    do {                            \
        printf(__VA_ARGS__);        \
        fflush(stdout);             \
    } while (0)

/* The mode argument, or die with a usage line. */
static inline const char *fw_mode(int argc, char **argv, const char *usage)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s %s\n", argv[0], usage);
        exit(2);
    }
    return argv[1];
}

#endif
