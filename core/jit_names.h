/* jit_names.h - naming, at the end of a profile, the pcs that lie in no module: JIT code
 * and code a runtime remapped from a file.
 *
 * Each sample carries the generations of the JVM code map (jit_jvmmap.h) and of the perf
 * map (jit_perfmap.h) in force when it was taken, so reused code addresses are named by
 * what ran there then. Code a runtime mapped from a file at an address the loader did not
 * (V8's embedded builtins) is named by the file's own symbols where the loader mapped the
 * same offset (jit_execmem.h).
 *
 * Threads: the report's thread, once sampling has stopped (or the flameprof command's);
 * a JVM may still be adding code meanwhile (the maps copy names under their lock). Not
 * async-signal-safe. */
#ifndef FLAMEPROF_JIT_NAMES_H
#define FLAMEPROF_JIT_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "symbolize.h"

/* Name a pc that lies in no module. Tries the JVM's code (generation jvm_gen), the perf
 * map (generation pm_gen), then code remapped from a file (through sym). Writes the name
 * into buf and whether it is JIT code (false for remapped file code, which keeps its plain
 * symbol name); returns false when nothing names it. */
bool jit_name(symbolizer *sym, uint64_t pc, uint32_t pm_gen, uint32_t jvm_gen, char *buf,
              size_t cap, bool *is_jit);

#endif
