/* jit_perfmap.h - following a JIT runtime's perf map, and the names of its code as of
 * each sample.
 *
 * The perf map (/tmp/perf-PID.map, written by V8 with --perf-basic-prof, CPython with
 * -X perf, and others) is read incrementally by the aggregator thread as the runtime
 * appends to it. It is untrusted: it must be a regular file owned by our user or root,
 * not a symlink; malformed lines are counted and skipped; entries outside executable
 * memory (jit_execmem.h) are ignored. CPython's "py::" entries also give the trampoline
 * pages (jit_trampolines.h). Each sample with a JIT frame is named by the entries the map
 * had at the follower's first look at or after the sample's time (jitmap.h's generations):
 * the signal handler makes no system call for it (an fstat a sample cost 3-4 us, more when
 * the kernel preempted the thread on the way out). The follower looks every tick (10 ms),
 * so a sample is named by entries written up to one tick after it: wrong only where code
 * ran, died and had its address reused by other code within that tick.
 *
 * `flameprof report` reads a dead process's whole map instead (jit_load_perfmap_of): then
 * nothing is checked against this process's memory.
 *
 * Threads: none of it in a signal handler. Everything on one thread at a time, no lock:
 * the aggregator thread while sampling, then the report at exit or after a fork in the child; or the flameprof
 * command's one thread. Those may print one "flameprof:" line, allocate and use stdio. */
#ifndef FLAMEPROF_JIT_PERFMAP_H
#define FLAMEPROF_JIT_PERFMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Aggregator tick (and once more at exit): read what the perf map gained. */
void jit_poll(void);

/* flameprof report: load the whole perf map a (dead) process left, as a final map. */
void jit_load_perfmap_of(long pid);

/* Aggregator: the perf-map generation to name a sample taken at t_ns (CLOCK_MONOTONIC) by:
 * the map as of the first look at or after t_ns (looking again if the last look was
 * before it). */
uint32_t jit_perfmap_gen(uint64_t t_ns);

/* Report: the name the perf map gave pc in generation gen, copied into buf. */
bool jit_perfmap_name(uint64_t pc, uint32_t gen, char *buf, size_t cap);

/* The map being read is a dead process's (flameprof report), not this process's. */
bool jit_perfmap_is_foreign(void);

/* "/tmp/perf-PID.map", where runtimes write process pid's perf map, into buf[cap]. */
void jit_perfmap_path(long pid, char *buf, size_t cap);

/* The descriptor of this process's own perf map, or -1 when none is open (or the map is
 * a dead process's). For the cleanup at exit, which removes exactly that file. */
int jit_perfmap_fd(void);

/* Counters for the summary. */
typedef struct jit_stats {
    uint64_t entries, malformed, outside;
    bool perfmap_seen;
    const char *perfmap_problem; /* why a perf map was refused, or NULL */
} jit_stats;
void jit_get_stats(jit_stats *out);

/* In a fork child: a new pid, so a new perf map; forget the parent's. */
void jit_after_fork_child(void);

#endif
