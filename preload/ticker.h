/* ticker.h - wall-clock mode's driver: a kernel CLOCK_MONOTONIC timer per thread, kept by one
 * thread of ours.
 *
 * Every thread of the process, running or blocked, gets a POSIX timer on CLOCK_MONOTONIC
 * (timer_create with SIGEV_THREAD_ID) that sends it SAMPLER_SIGNAL every period (1/FLAMEPROF_FREQ,
 * 97 Hz by default in wall mode). The kernel fires it from its own high-resolution timer, at
 * the period, however loaded the machine is: the thread's state is caught at that instant (a
 * blocked thread's call is interrupted and the handler sees it; a preempted thread resumes into
 * the handler where it stopped). A thread of ours that sent the signals instead (the first
 * design, as async-profiler's wall engine does) ran late under load, and when it ran was not
 * independent of what the profiled threads did: shares drifted 3-11 points.
 *
 * Bounded signals: with more than TICKER_MAX_PER_TICK threads, every thread's period is
 * stretched to k periods (k = ceil(threads / TICKER_MAX_PER_TICK)) and its samples weigh k, so
 * the process takes at most TICKER_MAX_PER_TICK x frequency signals a second (a JVM's dozens
 * of idle threads never make a storm) and each thread's weights still add up to its
 * wall-seconds x frequency. A sample weighs k x (1 + si_overrun): periods the kernel counted
 * while the signal was pending are not lost.
 *
 * The ticker thread (every signal blocked) reads /proc/self/task every TICKER_RESCAN_PERIODS
 * periods (within 20-100 ms): it arms new threads, deletes the timers of threads gone, and
 * restretches. Skipped: the ticker itself and threads that block SAMPLER_SIGNAL
 * (/proc/self/task/TID/status SigBlk: our own threads, the JVM's signal threads; asked again
 * at every scan until they take it: a new thread blocks every signal for a moment).
 *
 * Threads started by pthread_create arm themselves at once (ticker_add_self).
 *
 * ticker_decode is async-signal-safe; the rest is called outside handlers. */
#ifndef FLAMEPROF_TICKER_H
#define FLAMEPROF_TICKER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define TICKER_MAX_PER_TICK 16
#define TICKER_RESCAN_PERIODS 8

typedef int (*ticker_thread_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* Arm every thread and start the ticker thread (create: the real pthread_create). 0 or -1. */
int ticker_start(long period_ns, int signo, ticker_thread_fn create);

/* A thread just started by pthread_create (from the thread itself): armed now, not at the
 * next scan, so that short threads are sampled from their start. Not in a handler. */
void ticker_add_self(pid_t tid);

/* Stop the ticker thread, wait for it, delete every timer. Idempotent. */
void ticker_stop(void);

/* In a fork child neither the ticker thread nor the timers exist: forget them
 * (ticker_start again). */
void ticker_after_fork_child(void);

/* If si is one of our wall timers' signals, the weight of the sample in periods
 * (k x (1 + overrun), > 0); else 0. */
uint32_t ticker_decode(const siginfo_t *si);

/* Threads armed (ever), timers that could not be created, threads skipped at the latest
 * scan (they block the signal), and the stretch now (k). */
void ticker_counts(uint64_t *armed, uint64_t *failed, uint64_t *skipped_blocking,
                   uint64_t *stretch);

#endif
