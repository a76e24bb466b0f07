/* record_tree.h - one profile for the whole process tree `flameprof record` started.
 *
 * record gives every process of the tree a private directory (FLAMEPROF_TREE). Each
 * profiled process writes there, whatever its size:
 *   NAME.PID.folded   its profile (folded stacks, symbolized by the process itself)
 *   NAME.PID.raw      its raw spill while it runs (left behind if it was killed)
 *   NAME.PID.info     "name DISPLAY", then "summary ..." and "note ..." lines: its summary,
 *                     or why it was not (or not wholly) profiled
 * When the command has ended, record_tree_merge turns the directory into one profile: every
 * stack under a root frame naming its program (DISPLAY: "sh", "chromium --type=renderer";
 * with pids, "chromium --type=renderer [pid 4242]"), raw spills of killed processes
 * recovered, and one summary of what was profiled and what was not. Not thread-safe. */
#ifndef FLAMEPROF_RECORD_TREE_H
#define FLAMEPROF_RECORD_TREE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "config.h"

typedef struct record_tree_opts {
    const config *cfg;    /* formats and frequency of the merged profile */
    const char *prefix;   /* its output prefix (PREFIX.svg, PREFIX.folded, ...) */
    const char *title;    /* its name where a format has room for one */
    bool pids;            /* one root per process, "NAME [pid N]", not per program */
    bool per_process;     /* also each process's own profile, PREFIX.NAME.PID.* */
    int64_t start_ns, end_ns; /* when the command ran (Unix ns): pprof's time of collection */
} record_tree_opts;

/* A new private directory (0700) under $TMPDIR or /tmp into dir; 0, or -1 after a message. */
int record_tree_create(char *dir, size_t cap);

/* After the command ended: reap the processes of the tree that outlived it (record is
 * their subreaper), waiting for them at most wait_ms. Returns 1 if some still run. */
int record_tree_reap(int wait_ms);

/* Merge the directory into the profile, print the summary (unless quiet). Returns the
 * number of processes in the profile (those that wrote one, and those recovered from their
 * raw spills), or -1 if the profile could not be written. still_running: from
 * record_tree_reap, for the summary. */
int record_tree_merge(const char *dir, const record_tree_opts *o, int still_running);

/* Did no process of the tree leave anything (not even a note)? */
bool record_tree_empty(const char *dir);

/* Remove the directory and what is in it. */
void record_tree_remove(const char *dir);

#endif
