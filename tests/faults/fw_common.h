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

#include "burn.h" /* BURN, BURNER, burn_thread_cpu: the burners and their clock */

/* Burn until the calling thread has used `seconds` more CPU, in chunks of about 1 ms
 * through fn (a function BURNER defines), so the CPU lands in fn's frame. */
#define FW_CHUNK 200000L
static inline void fw_burn_cpu(double seconds, uint64_t (*fn)(long))
{
    double end = burn_thread_cpu() + seconds;
    while (burn_thread_cpu() < end)
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
