/* jit.h - following JIT runtimes: their perf map, their executable memory, the flags
 * they need, and the names of their code as of each sample.
 *
 * The perf map (/tmp/perf-PID.map, written by V8 with --perf-basic-prof, CPython with
 * -X perf, and others) is read incrementally by the aggregator thread as the runtime
 * appends to it. It is untrusted: it must be a regular file owned by our user or root,
 * not a symlink; malformed lines are counted and skipped; entries outside executable
 * memory are ignored. The signal handler records the file's size with each sample that
 * has a JIT frame (one fstat), so each frame is named by the entries that existed then.
 *
 * Executable mappings are snapshotted from /proc/self/maps as the map grows: they decide
 * which entries are code, find CPython's trampolines (unwound by their own rule), and map
 * code that a runtime remapped from a file (V8's builtins) back to the file's symbols. */
#ifndef FLAMEPROF_JIT_H
#define FLAMEPROF_JIT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "jitmap.h"
#include "symbolize.h"
#include "unwind.h"

/* In the constructor, before the runtime reads its environment: turn on what node
 * (--perf-basic-prof --interpreted-frames-native-stack in NODE_OPTIONS) and CPython >= 3.12
 * (PYTHONPERFSUPPORT=1) need, unless FLAMEPROF_NODE=0 / FLAMEPROF_PYTHON=0. */
void jit_setup_env(void);

/* Aggregator tick (and once more at exit): read what the perf map gained. */
void jit_poll(void);

/* flameprof report: load the whole perf map a (dead) process left, as a final map. */
void jit_load_perfmap_of(long pid);

/* Handler: the perf map's current size, 0 if there is none. Async-signal-safe. */
uint64_t jit_perfmap_stamp(void);

/* Handler: CPython trampoline ranges, or NULL. Async-signal-safe. */
const unwind_ranges *jit_trampolines(void);

/* Aggregator: the perf-map generation in force at a sample's stamp. */
uint32_t jit_perfmap_gen(uint64_t stamp);

/* The JVMTI agent's map of compiled code (set once, when the agent loads). */
void jit_set_jvm(jitmap *m);

/* Handler: the JVM code generation now, 0 without a JVM. Async-signal-safe. */
uint32_t jit_jvm_gen(void);

/* Report: name a pc that lies in no module. Tries the JVM's code (generation jvm_gen),
 * the perf map (generation pm_gen), then code remapped from a file (through sym). Writes
 * the name into buf and whether it is JIT code (false for remapped file code, which keeps
 * its plain symbol name); returns false when nothing names it. */
bool jit_name(symbolizer *sym, uint64_t pc, uint32_t pm_gen, uint32_t jvm_gen, char *buf,
              size_t cap, bool *is_jit);

/* At the end of the profile: remove the perf map (and V8's isolate logs) if they exist only
 * because we turned them on. */
void jit_cleanup(void);

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
