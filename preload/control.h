/* control.h - the on-demand channel: `flameprof dump PID` asks a running process for its
 * profile so far without stopping it.
 *
 * The channel is a Linux abstract unix socket named "\0flameprof.<pid>" (no file is ever
 * created, so none is left behind, and the name vanishes with the process), served by the
 * aggregator thread only: it polls the listening socket (non-blocking accept) every 100 ms
 * (ten ticks, or one tick of a doze: aggregator.h), so a host that nobody asks pays one
 * fstat and one accept4 every 100 ms.
 *
 * Protocol: the client connects and reads one line; it sends nothing.
 *   "flameprof-control 1 ok <size hex>\n" with the raw spill (rawfile.h) as an SCM_RIGHTS
 *       descriptor, opened read-only after a spill that holds every sample taken so far;
 *       the first <size> bytes are that spill. The client symbolizes it (as
 *       `flameprof report RAW` does), so the host pays for one spill, never for symbols.
 *   "flameprof-control 1 denied\n"   the client's uid is neither ours nor root's
 *   "flameprof-control 1 none\n"     this process has no raw spill (nothing to give)
 * Security: the socket is reachable by any process of the network namespace, so the
 * answer depends on the peer's credentials (SO_PEERCRED, taken by the kernel at connect):
 * only our effective uid or root get the descriptor. The client checks that the peer is
 * the pid it asked (a process that took the name first cannot pose as another).
 * Never blocks the host: every socket call is non-blocking (MSG_DONTWAIT), a client that
 * does not read is simply closed on. Fork: the child closes the parent's listener and
 * opens its own name before fork returns; exec: the socket is close-on-exec, the new image
 * opens its own. A program that closes every descriptor and reuses our number is detected
 * (the socket's inode) and its descriptor left alone; that process is not listened to
 * again (its raw spill is abandoned then too: rawfile.h). */
#ifndef FLAMEPROF_CONTROL_H
#define FLAMEPROF_CONTROL_H

#include <stddef.h>
#include <stdio.h>
#include <sys/types.h>

#define CONTROL_PROTO "flameprof-control 1"

/* The socket's abstract name for pid (name[0] is NUL) into sun_path; returns its length,
 * or 0. The client (tools/cmd_dump.c) and the server share it. */
static inline size_t control_name(pid_t pid, char *name, size_t cap)
{
    int n = snprintf(name, cap, "%cflameprof.%ld", 0, (long)pid);
    return n > 0 && (size_t)n < cap ? (size_t)n : 0;
}

/* open listens under our pid (closing an inherited listener first). It runs on the thread
 * that starts the aggregator, before the aggregator exists (the constructor, a fork
 * child's atfork handler, a failed exec): never on a thread of ours while the program
 * runs, because a new descriptor takes the lowest free number, and a program that just
 * closed its descriptors (a daemon closing everything and opening /dev/null as 0, 1, 2)
 * would get a different number than it counts on. poll (aggregator thread) answers waiting
 * clients, calling spill() first so the raw file holds everything so far; once the program
 * has closed our socket the channel stays closed, for the same reason. close stops
 * listening. All fail silently: the channel is a convenience. */
void control_open(void);
void control_poll(void (*spill)(void));
void control_close(void);

#endif
