/* record_relay.h - the signals that end a recording, passed on to the command.
 *
 * `flameprof record` must outlive its command to write the profile, so the signals that
 * stop a recording are the command's to act on, not ours:
 * - SIGTERM and SIGHUP sent to flameprof (kill, timeout(1), a service manager, a script's
 *   `kill $!`) are sent on to the command, which ends as it would have; flameprof then
 *   writes the profile and dies of the signal the command died of.
 * - SIGINT and SIGQUIT from the terminal (^C, ^\) already reach the whole foreground group,
 *   the command with it: they are not sent a second time (like time(1)). Sent by kill(2) to
 *   flameprof, they are passed on too (perf's `kill -INT $!` idiom).
 * A signal flameprof inherited as ignored (nohup) stays ignored, in it and in the command.
 * A signal sent by a process to flameprof and to the command alike (a process-group kill)
 * reaches the command twice: indistinguishable from one sent to flameprof alone.
 *
 * Thread safety: main thread only. The handler calls kill(2) and nothing else. */
#ifndef FLAMEPROF_RECORD_RELAY_H
#define FLAMEPROF_RECORD_RELAY_H

#include <sys/types.h>

/* Before fork: installs the handlers and blocks the signals until relay_started(). */
void record_relay_install(void);

/* In the child, before exec: the dispositions and signal mask flameprof started with. */
void record_relay_child(void);

/* In flameprof after fork (pid < 0 if it failed): signals go to pid from now on,
 * including one that arrived since record_relay_install(). */
void record_relay_started(pid_t pid);

/* The command has been reaped: its pid may be reused, nothing is sent any more. */
void record_relay_done(void);

#endif
