/* Shared helpers for the end-to-end workloads.
 *
 * Every workload measures its own truth: the thread CPU time spent inside each known
 * function (inclusive of its callees, which is how e2e.py counts a function's weight in the
 * folded file: every stack that contains the frame, counted once), plus the whole process's
 * CPU time. e2e.py compares the profile against that truth. */
#ifndef WL_COMMON_H
#define WL_COMMON_H

#include <stdint.h>

#include "burn.h" /* BURN, BURNER, burn_thread_cpu: the burners and their clock */

#ifdef __cplusplus
extern "C" {
#endif

/* Call first thing in main. Records the CPU the main thread used before main (the loader and
 * any preloaded library's constructors), measures how many BURN iterations make a
 * millisecond of CPU on this machine, and reads WL_SCALE (a factor on every workload's amount
 * of work, default 1). */
void wl_init(void);

/* Iterations of BURN that take about `ms` milliseconds of CPU. */
long wl_iters(double ms);

/* Like wl_iters, but each call varies the length pseudo-randomly by up to +-25% (the same
 * sequence on every run). Slices of one fixed length could beat in step with a profiler's
 * sampling ticks and hand every boundary's error to the same function. */
long wl_slice_iters(double ms);

/* Call at the end of each of the program's threads (main included): adds the thread's CPU,
 * from main's entry for the main thread, to the program's CPU in the truth file. */
void wl_thread_end(void);

/* The scale factor read by wl_init. */
double wl_scale(void);

/* Adds `seconds` of measured CPU to function `name` in the truth table (thread-safe). */
void wl_truth_add(const char *name, double seconds);

/* Runs fn(iters) (a BURNER) and adds the CPU it took to `name` in the truth table. Its own
 * frame sits between the caller and fn: for tests that check weights, not exact chains. */
void wl_burn_measured(const char *name, uint64_t (*fn)(long), long iters);

/* Records an extra integer fact in the truth file (thread-safe). */
void wl_truth_int(const char *key, long value);

/* Empties the truth table (a forked child starts its own truth). */
void wl_truth_reset(void);

/* The truth file path: the argument after `--truth` in argv, else $FLAMEPROF_TRUTH, else NULL. */
const char *wl_truth_path(int argc, char **argv);

/* Writes the truth JSON to `path` (nothing if NULL): the functions' CPU seconds, the process's
 * CPU seconds from getrusage(RUSAGE_SELF) and from CLOCK_PROCESS_CPUTIME_ID, the program's CPU
 * seconds (the sum from wl_thread_end: what the program's own threads used since main began,
 * without a profiler's start-up or helper threads), the pid, and the extra integers. Returns 0 on success; on failure prints why and returns -1. */
int wl_truth_write(const char *path);

#ifdef __cplusplus
}
#endif

#endif
