/* endings.h - the profile survives the ways a process ends, and the ending is unchanged.
 *
 * SIGTERM, SIGINT, SIGHUP and SIGQUIT, the signals services and terminals are stopped with.
 * Wherever the program's disposition for one of them is SIG_DFL (at start, or asked for
 * again later), our handler stands in the kernel: it asks the aggregator thread to write the
 * profile, waits for it (bounded), then restores the default and raises the signal again, so
 * the process dies of the same signal and its parent sees the same status. A program asking
 * for the current disposition sees SIG_DFL where ours stands.
 *
 * The program's own handlers and SIG_IGN are installed as asked: the program's choice wins,
 * and the profile is written by whatever ending its handler chooses (exit, _exit, or the
 * default action it restores and raises again: that SIG_DFL is ours). One exception: a
 * handler installed with SA_RESETHAND (node's SIGINT/SIGTERM handler resets the terminal and
 * raises the signal again) is installed without it, behind a wrapper that does the reset
 * itself, to our handler rather than to the kernel's SIG_DFL; the program still sees its own
 * action, flags included, when it asks.
 *
 * All the handlers do is async-signal-safe: atomics, nanosleep, sigaction, raise, one
 * write(2) of a line composed beforehand. The real work runs on the aggregator thread,
 * which blocks every signal. When the profile cannot be written in time (the writer takes
 * longer than the wait, or the signal interrupts the very thread that is writing it), one
 * stderr line says where the raw spill is and the command that turns it into a profile. */
#ifndef FLAMEPROF_ENDINGS_H
#define FLAMEPROF_ENDINGS_H

#include <signal.h>
#include <stdbool.h>

typedef int (*endings_sigaction_fn)(int, const struct sigaction *, struct sigaction *);

/* Install our handler for each ending signal whose disposition is SIG_DFL. real is libc's
 * sigaction (our own interposer would hide the default from us). wait_seconds: how long an
 * ending waits for the profile (FLAMEPROF_STOP_WAIT); 0: not at all, the raw spill remains
 * and the lost-profile line says so. */
void endings_init(endings_sigaction_fn real, unsigned wait_seconds);

/* Is sig one of the ending signals? */
bool endings_is_watched(int sig);

/* The sigaction interposer: for an ending signal (once endings_init ran), do what the
 * program asked as described above, set *rc as sigaction would return, and return true;
 * for any other signal, return false and touch nothing. */
bool endings_sigaction(int sig, const struct sigaction *act, struct sigaction *old, int *rc);

/* Aggregator: whether a thread is there to write the profile when a signal asks. true also
 * starts a new profile (at start, in a fork child, after a failed exec): nothing asked,
 * nothing written yet, and the raw spill's name as of now goes in the lost-profile line. */
void endings_set_writer(bool alive);

/* Aggregator: the writer made its first look (aggregator.c), so it runs. An ending waits
 * at most a second for a writer that has not: one stuck since it started, on a lock held
 * when this process was copied by a raw clone, writes nothing; the raw spill is removed
 * and one line says so. */
void endings_writer_looked(void);

/* Why such a process has no profile (after "not profiled: "), said by the ending here or
 * by the exit path (preload.c) when it finds the writer so. */
#define ENDINGS_NEVER_RAN "the profiler's thread never ran (a lock held when this process " \
                          "was copied by a raw clone?); nothing written"

/* Aggregator: how to wake the writer when a signal asks for the profile (it may be dozing:
 * aggregator_wake). Async-signal-safe, since the asking is. Set before the first ask. */
void endings_set_wake(void (*wake)(void));

/* Ask the aggregator thread to write the profile now and wait for it (bounded by
 * wait_seconds, and not at all when no aggregator runs or when the caller is the thread
 * writing it; the lost-profile line when it is not written by then). Async-signal-
 * safe: used by the ending signals' handler and by _exit, which crash handlers call from
 * signal context. why: the signal, or ENDINGS_EXIT. */
#define ENDINGS_EXIT (-1)
void endings_request_profile(int why);

/* Async-signal-safe, in a handler of ours: the program's disposition for sig is the default
 * and the default terminates: write the profile as for an ending signal, then die of sig as
 * the process would have. Returns only before endings_init, or in a pid namespace's init
 * (pid 1), which the kernel does not kill by a default action. */
void endings_end_by(int sig);

/* Aggregator: why the profile is to be written now (a signal or ENDINGS_EXIT), or 0. */
int endings_requested(void);

/* The exit path (any thread, the aggregator's included): the profile is being written
 * (true), or is written (false: the waiting handler may let the process die). A handler on
 * another thread waits for it rather than kill the process mid-write. */
void endings_writing(bool now);

#endif
