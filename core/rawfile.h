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
 * The same file is the run's timeline (timeline.h): each spill also appends, for every
 * 20 ms slot with samples, the weight of each stack in it. Stacks are written once, by id,
 * so a slot costs a few bytes per distinct stack in it: about 22 MB per hour for a busy
 * 4-thread program at 997 Hz, ~375 KB a minute (tests/timeline/test_timeline). It is
 * bounded by FLAMEPROF_TIMELINE_MAX (default RAWFILE_DEFAULT_TIMELINE_MAX): past it, the
 * file is rewritten without its oldest slots (half of the budget is kept), a D record
 * says where it now begins, and the summary says how much was dropped. The whole-run
 * weights (W) are never dropped. Compaction (a rewrite as one snapshot once the W deltas
 * outweigh it) keeps the timeline too. A reader may read the file while it is written:
 * every spill writes whole lines, stacks before the slots that name them, and a reader
 * stops at a line not yet ended, so what it reads is a consistent prefix.
 *
 * Text, one record a line, space-separated, numbers in hex:
 *   flameprof-raw 2
 *   P <pid> <freq> <mode> <source>   mode and source: config.h's config_mode and
 *                                     config_source (absent before: cpu, timer)
 *   O <unix_ns> <slot_ns>                         when slot 0 began (wall clock); slot length
 *   M <id> <start> <end> <bias> <path>            a module (ids 0, 1, 2, ... in order)
 *   B <id> <build-id as hex bytes>                its GNU build-id, when it has one
 *   G <gen> <n> <id>...                           the module map of generation gen
 *   H <tid>                                       the thread of the K records that follow
 *                                                 (FLAMEPROF_THREADS; 0 until one is seen)
 *   K <id> <gen> <pm_gen> <jvm_gen> <flags> <depth> <pc>...
 *                                                 a stack, once (ids 0, 1, 2, ... in order)
 *   W <id> <weight> <samples>                     weight gained since the last spill
 *   T <slot> <n> <id> <weight>...                 weights of n stacks in one slot
 *   D <slot>                                      the timeline before slot was dropped
 *   N <tid> <name>                                a thread's name (threads.h), again when
 *                                                 it changes
 *   E                                             the run ended cleanly
 * Threads: with FLAMEPROF_THREADS a stack's key is (thread, stack), so a stack id belongs
 * to one thread: an H record says the thread of the K records after it (each spill starts
 * again from H 0), and W and T, which only name stack ids, are as without threads.
 * Version 1 files (S <weight> <samples> <gen> <pm_gen> <jvm_gen> <flags> <depth> <pc>...,
 * a whole stack per weight delta, no timeline; H then says the thread of S records) are
 * still read.
 * The reader treats the file as untrusted: a bad line is reported with its number and
 * skipped; a line truncated by the crash is ignored. */
#ifndef FLAMEPROF_RAWFILE_H
#define FLAMEPROF_RAWFILE_H

#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "stacks.h"
#include "timeline.h"

/* 256 MB: about 11 hours of a busy 4-thread program at 997 Hz. */
#define RAWFILE_DEFAULT_TIMELINE_MAX (256ull << 20)

/* Writer (aggregator thread). open creates the file (never clobbering: outfile_create)
 * and returns 0, or -1 (then spill and close do nothing). */
int rawfile_open(const char *stem, unsigned freq);
/* What the samples measure (the P record): before rawfile_open. */
void rawfile_set_mode(unsigned mode, unsigned source);
/* New modules, maps, stacks and weight deltas, then tl's slots (tl is emptied; may be
 * NULL); flushed. */
void rawfile_spill(stack_table *t, timeline *tl);
void rawfile_set_timeline_max(uint64_t bytes); /* FLAMEPROF_TIMELINE_MAX */
void rawfile_set_start(uint64_t unix_ns);      /* slot 0's wall-clock time (the O record) */
uint64_t rawfile_timeline_dropped_s(void);     /* seconds dropped from the timeline's start */
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

typedef struct rawfile_info {
    int version;
    long pid;
    unsigned freq;
    unsigned mode, source;  /* P: config_mode, config_source (0, 0: CPU timers) */
    bool clean;             /* E: the run ended cleanly */
    uint64_t start_unix_ns; /* O: when slot 0 began (0: unknown, version 1) */
    uint32_t first_slot;    /* D: the timeline's slots before it were dropped */
    uint32_t end_slot;      /* one past the last slot with samples */
} rawfile_info;

/* rawfile_read, and the timeline into tl (if not NULL; initialised by the caller,
 * finished on return). */
long rawfile_read_all(FILE *in, stack_table *t, timeline *tl, rawfile_info *info,
                      rawfile_error_fn on_error, void *ctx);

long rawfile_read(FILE *in, stack_table *t, long *pid, unsigned *freq, bool *clean,
                  rawfile_error_fn on_error, void *ctx);

#endif
