/* endings.h - the profile survives the ways a process ends, and the ending is unchanged.
 *
 * SIGTERM, SIGINT and SIGHUP, where the program left them at their default (terminate):
 * our handler asks the aggregator thread to write the profile, waits for it (bounded), then
 * restores the default and raises the signal again, so the process dies of the same signal
 * and its parent sees the same status. The handler itself only writes a byte, sleeps and
 * raises: all async-signal-safe; the real work runs on the aggregator thread, which blocks
 * every signal. If the program installs its own handler (or SIG_IGN) for one of these
 * signals, ours is simply replaced (the program's choice wins) and the profile is written at
 * exit as usual; when it asks for SIG_DFL again, ours comes back. A program asking for the
 * current disposition sees SIG_DFL where ours stands. */
#ifndef FLAMEPROF_ENDINGS_H
#define FLAMEPROF_ENDINGS_H

#include <signal.h>
#include <stdbool.h>

typedef int (*endings_sigaction_fn)(int, const struct sigaction *, struct sigaction *);

/* Install our handler for each ending signal whose disposition is SIG_DFL. real is libc's
 * sigaction (our own interposer would hide the default from us). */
void endings_init(endings_sigaction_fn real);

/* Is sig one we watch? */
bool endings_is_watched(int sig);

/* The sigaction interposer, for a watched signal. */
int endings_sigaction(int sig, const struct sigaction *act, struct sigaction *old);

/* Aggregator: whether a thread is there to write the profile when a signal asks. */
void endings_set_writer(bool alive);

/* Ask the aggregator thread to write the profile now and wait for it (bounded, and not at
 * all when no aggregator runs). Async-signal-safe: used by the ending signals' handler and
 * by _exit, which crash handlers call from signal context. why: the signal, or
 * ENDINGS_EXIT. */
#define ENDINGS_EXIT (-1)
void endings_request_profile(int why);

/* Async-signal-safe, in a handler of ours: the program's disposition for sig is the default
 * and the default terminates (a SIGPROF that is not ours, with no handler of the program's):
 * write the profile as for an ending signal, then die of sig as the process would have.
 * Returns only before endings_init. */
void endings_end_by(int sig);

/* Aggregator: why the profile is to be written now (a signal or ENDINGS_EXIT), or 0. */
int endings_requested(void);

/* Aggregator: the profile is written; the waiting handler may let the process die. */
void endings_done(void);

#endif
