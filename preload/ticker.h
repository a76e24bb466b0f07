/* ticker.h - wall-clock mode's driver: one thread of ours that signals the others.
 *
 * Every period (1/FLAMEPROF_FREQ, 97 Hz by default in wall mode) the ticker sends
 * SAMPLER_SIGNAL, with rt_tgsigqueueinfo, to at most TICKER_MAX_PER_TICK threads,
 * round-robin over every thread of the process, running or blocked (async-profiler's wall
 * engine does the same): a JVM's dozens of idle threads cost a bounded number of signals
 * a tick, never a storm. The signal's value carries how many ticks the sample stands for
 * (ticks since that thread's last sample; see ticker.c for signals that merge), so each thread's weights add up to its
 * wall-seconds x frequency however many threads share the ticks.
 * Skipped: the ticker itself and our own threads (they block every signal), and threads
 * that block SAMPLER_SIGNAL when first seen (/proc/self/task/TID/status SigBlk): a signal
 * they never take would only sit pending. The thread list is read from /proc/self/task
 * every TICKER_RESCAN_TICKS ticks, in a descriptor table of the ticker's own: nothing it
 * opens takes a number the program counts on (ticker.c).
 *
 * ticker_decode is async-signal-safe; the rest is called outside handlers. */
#ifndef FLAMEPROF_TICKER_H
#define FLAMEPROF_TICKER_H

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>

#define TICKER_MAX_PER_TICK 16
#define TICKER_RESCAN_TICKS 8

typedef int (*ticker_thread_fn)(pthread_t *, const pthread_attr_t *, void *(*)(void *), void *);

/* Start the ticker thread (create: the real pthread_create). 0 or -1. */
int ticker_start(long period_ns, int signo, ticker_thread_fn create);

/* Stop it and wait for it. Idempotent. */
void ticker_stop(void);

/* In a fork child the ticker thread does not exist: forget it (ticker_start again). */
void ticker_after_fork_child(void);

/* If si is a ticker signal of this process (pid), the weight of the calling thread's sample
 * (> 0: ticks since its last one); else 0. ticker_took: that sample was taken (the handler,
 * once it has its weight). */
uint32_t ticker_decode(const siginfo_t *si, pid_t pid);
void ticker_took(const siginfo_t *si);

/* Signals sent, and sends that failed (the thread had gone). */
void ticker_counts(uint64_t *sent, uint64_t *failed, uint64_t *skipped_blocking);

#endif
