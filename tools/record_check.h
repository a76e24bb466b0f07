/* record_check.h - `flameprof record` is never silent about a program it cannot profile.
 *
 * Before the command starts: a statically linked program (no PT_INTERP: the dynamic
 * loader, and so LD_PRELOAD, never runs) or a set-user-ID/set-group-ID one that the kernel
 * will run in secure mode (the loader then ignores LD_PRELOAD) gets one line saying it runs
 * unprofiled and what to do instead (for Go: its own profiler). After it ended: if no
 * process wrote a profile and nothing was said yet, one line saying why that can be (the
 * marker file of record_mark.h tells whether the library loaded at all). The command's
 * exit status is never touched. */
#ifndef FLAMEPROF_RECORD_CHECK_H
#define FLAMEPROF_RECORD_CHECK_H

#include <limits.h>
#include <stdbool.h>

typedef struct record_check {
    char mark[PATH_MAX]; /* the marker file, "" if none */
    bool said;           /* a line was printed already */
} record_check;

/* In record's process, before fork: inspect cmd (searched in PATH as execvp would) and set
 * up the marker (its variable is inherited by the command). */
void record_check_before(record_check *rc, const char *cmd);

/* After the command ended, with its wait status. */
void record_check_after(record_check *rc, const char *cmd, int status);

#endif
