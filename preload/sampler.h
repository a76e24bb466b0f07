/* sampler.h - the SIGPROF handler and the per-thread CPU-time timers that drive it.
 *
 * Each thread gets its own POSIX timer on its own CPU-time clock (timer_create on
 * CLOCK_THREAD_CPUTIME_ID, delivered to that thread by SIGEV_THREAD_ID), so a thread's
 * samples follow its CPU time. The kernel checks CPU timers on scheduler ticks (250 Hz
 * here): at higher frequencies it reports the missed periods in si_overrun, and each
 * sample is weighted 1 + si_overrun, so weights add up to CPU-seconds x frequency.
 * If POSIX timers are refused, setitimer(ITIMER_PROF) is the fallback (process-wide,
 * no overrun: the summary says so).
 *
 * The handler walks the stack (unwind.h) into the sample ring (ring.h). It is
 * async-signal-safe: no allocation, no locks, errno preserved. Signals that are not our
 * timer's are passed to the handler the program installed, if any. */
#ifndef FLAMEPROF_SAMPLER_H
#define FLAMEPROF_SAMPLER_H

#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "ring.h"
#include "sampler_stats.h"
#include "ticker.h"

#define SAMPLER_SIGNAL SIGPROF

/* Before sampler_init: wall mode (a ticker thread signals every thread, ticker.h; created
 * with create) or, in CPU mode, perf: a perf_event task clock per thread (perfclock.h),
 * falling back to timers. */
void sampler_set_mode(bool wall, bool perf, ticker_thread_fn create);

/* Install the handler; samples go to r. Call once, before any timer. 0 or -1.
 * empty: the handler only counts signals (benchmark floor). */
int sampler_init(unsigned freq, ring *r, bool empty);

/* Arm a timer for the calling thread and record its stack bounds. Not in a handler. */
void sampler_thread_start(void);

/* Arm timers for threads that already existed when we loaded (from /proc/self/task). */
void sampler_arm_existing_threads(void);

/* Stop sampling: delete every timer and wait (bounded) for handlers in flight. */
void sampler_stop(void);

/* Sample again after a stop (an exec that failed): a timer for every thread there is. */
void sampler_resume(void);

/* In a fork child: the parent's timers are gone and its threads do not exist here.
 * Reset the counters, the ring (before a new aggregator can drain the parent's samples
 * from it) and the thread table. Then, once the child's setup is done, arm the calling
 * thread with sampler_after_fork_arm. */
void sampler_after_fork_child(void);
void sampler_after_fork_arm(void);

/* At exit, before the exit work, when CPython has been finalized: park.h's park_python
 * with SAMPLER_SIGNAL (a queued signal of ours, never passed to the program), which this
 * handler answers. Returns how many threads are parked (0 when not sampling). */
size_t sampler_park_python(uint64_t lo, uint64_t hi, uint64_t text_lo, uint64_t text_hi);

void sampler_get_stats(sampler_stats *out);

/* The aggregator thread, each tick: once the process has had enough samples for the CFI
 * memo to pay for itself, fault it in and give it to the handlers (cfi_memo_populate:
 * ~0.2 ms of kernel time that would otherwise land in one sample). Not async-signal-safe;
 * cheap when already done. */
void sampler_prepare_memo(void);

/* No handler is running right now: one that loaded a pointer before the caller replaced
 * it has finished, so the old object may be freed (a grace period, as in RCU). */
bool sampler_idle(void);

/* At the end for good, after sampler_stop: if no handler is in flight, free what only the
 * handler reads (the CFI memo: 2 MB, one huge page) and return true; the caller may then
 * free the unwind tables too (modules_release_cfi). false: a handler may still run, keep
 * everything. Sampling must not resume afterwards (a resumed walk would go without the
 * memo, which it tolerates, but the tables are the caller's to keep). */
bool sampler_release_for_exit(void);

/* Called by the sigaction/signal interposers: the program wants SIGPROF handled by act.
 * Stores it for chaining and returns the previous one in old (either may be NULL).
 * Returns false if sampling is not active (the caller then uses the real sigaction). */
bool sampler_app_sigaction(const struct sigaction *act, struct sigaction *old);

#endif
