/* rawfile.h - the raw sample spill: what a crash or SIGKILL cannot take away.
 *
 * While the process runs, the aggregator thread appends to <prefix>.raw, about once a
 * second, everything needed to build the profile later: the modules (path, address range,
 * load bias), each module map generation, and each stack's weight gained since the last
 * spill (raw addresses, leaf first). If the process dies before it can write its profile,
 * `flameprof report PREFIX.raw` symbolizes what survived (the module files are still on
 * disk; JIT names come from /tmp/perf-PID.map if it is still there). At most about a second
 * of samples (one spill interval, plus the ring) is lost. When the profile is written
 * normally, the raw file is removed.
 *
 * Text, one record a line, space-separated, numbers in hex:
 *   flameprof-raw 1
 *   P <pid> <freq>
 *   M <id> <start> <end> <bias> <path>            a module (ids 0, 1, 2, ... in order)
 *   B <id> <build-id as hex bytes>                its GNU build-id, when it has one
 *   G <gen> <n> <id>...                           the module map of generation gen
 *   S <weight> <samples> <gen> <pm_gen> <jvm_gen> <flags> <depth> <pc>...
 *   E                                             the run ended cleanly
 * The reader treats the file as untrusted: a bad line is reported with its number and
 * skipped; a line truncated by the crash is ignored. */
#ifndef FLAMEPROF_RAWFILE_H
#define FLAMEPROF_RAWFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stacks.h"

/* Writer (aggregator thread). open creates the file (never clobbering: outfile_create)
 * and returns 0, or -1 (then spill and close do nothing). */
int rawfile_open(const char *stem, unsigned freq);
void rawfile_spill(stack_table *t); /* new modules, maps and stack deltas; flushed */
const char *rawfile_path(void);           /* the file's name, or NULL */
/* Remove the file if it is still ours (a process ending with nothing worth a profile);
 * async-signal-safe (lstat, unlink); the descriptor is left to the process's end. */
void rawfile_discard(void);
void rawfile_close(bool remove);          /* remove: the profile was written */
void rawfile_after_fork_child(void);      /* the parent's file is not the child's */

/* Reader: rebuild the module registry and a stack table from a raw file. Malformed lines
 * are reported through on_error and skipped. Returns the number of bad lines, or -1 if
 * the file cannot be read or is not a raw file; *pid and *freq from its P record. */
typedef void (*rawfile_error_fn)(void *ctx, size_t line_no, const char *why);
long rawfile_read(FILE *in, stack_table *t, long *pid, unsigned *freq, bool *clean,
                  rawfile_error_fn on_error, void *ctx);

#endif
