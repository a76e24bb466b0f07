/* perfclock.h - the perf_event CPU source: a PERF_COUNT_SW_TASK_CLOCK event per thread.
 *
 * CPU timers (timer_create) are checked on scheduler ticks (250 Hz here); the task clock
 * is read at context switches and by an hrtimer, so its overflow signal comes at the asked
 * period, beyond the tick. It works without privilege at perf_event_paranoid=2 (a thread's
 * own process). Each event is one file descriptor: opened O_CLOEXEC (an exec'd image that
 * inherits it would die of the signal), owned by its thread (F_SETOWN_EX F_OWNER_TID) and
 * delivering SAMPLER_SIGNAL with si_code POLL_IN and si_fd. At most PERFCLOCK_MAX_FDS are
 * open at once (a program with 1000 threads must keep its descriptors): beyond, the caller
 * falls back to a CPU timer for that thread.
 *
 * perfclock_is_ours is async-signal-safe; the rest runs outside handlers. */
#ifndef FLAMEPROF_PERFCLOCK_H
#define FLAMEPROF_PERFCLOCK_H

#include <signal.h>
#include <stdbool.h>
#include <sys/types.h>

#define PERFCLOCK_MAX_FDS 256

/* Can this process open a task-clock event (not seccomp'd, perf_event present)? On false,
 * why holds the error. */
bool perfclock_probe(char *why, size_t cap);

/* Open a task-clock event on thread tid firing signo to it every period_ns of its CPU
 * time. Returns the fd, or -1 (errno; EMFILE when the cap or half of RLIMIT_NOFILE would
 * be passed). */
int perfclock_open(pid_t tid, long period_ns, int signo);

/* Close an fd perfclock_open returned, unless it is no longer an event: a program that
 * closed every descriptor may own the number now (perfclock.c). */
void perfclock_close(int fd);

/* Is this signal an overflow of one of our events? (An fd stays known after its close: a
 * signal already queued for it must not reach the program's SIGPROF disposition.) */
bool perfclock_is_ours(const siginfo_t *si);

/* Descriptors open now. */
unsigned perfclock_open_count(void);

/* In a fork child: the inherited descriptors are the parent's threads' events. */
void perfclock_forget_all_open(void);

#endif
