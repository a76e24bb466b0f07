/* sandbox.h - notice, without tripping it, a sandbox that forbids what the library needs.
 *
 * A seccomp-bpf filter may answer a system call it did not expect by killing the process
 * or by a SIGSYS that the program's handler turns into a deliberate crash (Chromium); our
 * aggregator thread blocks every signal, and a blocked SIGSYS from seccomp kills at once.
 * No probe can ask a filter what it allows without risking that, so the library watches
 * the calls that seal a sandbox instead (prctl PR_SET_NO_NEW_PRIVS / PR_SET_SECCOMP, which
 * every seccomp installer makes first) and stops all of its own work before the filter is
 * in force: the profile so far is written, and the process runs on unprofiled.
 *
 * Where the library cannot see the sealing (a raw-cloned child, a filter installed by raw
 * system calls), /proc/self/status tells: a Seccomp mode or NoNewPrivs flag that differs
 * from what the process had when the library started, or a status file that cannot be read
 * at all (a chroot, a filter answering EPERM), means "do not start here". Reading it uses
 * open/read/close, which the filters that matter here answer with an error, never a trap.
 *
 * Some processes must stay single-threaded: Chromium's zygote checks that no thread exists
 * before it forks and sandboxes (a helper thread of ours makes it abort). Those are left
 * unprofiled, with the profiler ready for their children. Not async-signal-safe. */
#ifndef FLAMEPROF_SANDBOX_H
#define FLAMEPROF_SANDBOX_H

#include <stdbool.h>
#include <stddef.h>

typedef struct sandbox_state {
    int seccomp;        /* /proc/self/status "Seccomp:" (0 none, 1 strict, 2 filter), -1 */
    int no_new_privs;   /* "NoNewPrivs:", -1 if unknown */
} sandbox_state;

/* Read the calling process's state; false if /proc/self/status could not be read. */
bool sandbox_read(sandbox_state *out);

/* Is now the same as then (both read, no filter or flag added)? If not, why[0..cap) says
 * what changed, for the process's "not profiled" note. */
bool sandbox_unchanged(const sandbox_state *then, char *why, size_t cap);

/* Must this process stay single-threaded (no helper thread of ours may start)? why is
 * filled when it must. Reads /proc/self/cmdline. */
bool sandbox_single_threaded(char *why, size_t cap);

/* Is this prctl option one that seals a sandbox? */
bool sandbox_prctl_seals(int option);

#endif
