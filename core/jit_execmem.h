/* jit_execmem.h - snapshots of this process's executable memory (/proc/self/maps).
 *
 * Every executable mapping seen in any snapshot is kept, also after the runtime unmaps
 * it: code is named at exit, by what was mapped when it ran. The snapshots decide which
 * perf-map entries are code (jit_perfmap.c) and lead code that a runtime remapped from a
 * file (V8's embedded builtins) back to where the loader mapped the same file
 * (jit_names.c). They describe this process only: never a dead process's perf map.
 *
 * Threads: one at a time, no lock: the aggregator thread while sampling, then the report
 * at exit (or the flameprof command's one thread). Not async-signal-safe (stdio, malloc):
 * never from a signal handler. */
#ifndef FLAMEPROF_JIT_EXECMEM_H
#define FLAMEPROF_JIT_EXECMEM_H

#include <stdbool.h>
#include <stdint.h>

/* Take a snapshot: add the executable mappings not seen before. */
void jit_execmem_refresh(void);

/* Does one executable mapping hold all of [start, end)? */
bool jit_execmem_contains(uint64_t start, uint64_t end);

/* No snapshot has been taken yet (or none found executable memory). */
bool jit_execmem_empty(void);

/* pc lies in code mapped from a file: offer try_twin each address where the same file
 * offset is mapped too (where the loader mapped it, for code a runtime remapped), until
 * it returns true. Returns whether one did. */
bool jit_execmem_twins(uint64_t pc, bool (*try_twin)(void *ctx, uint64_t twin), void *ctx);

#endif
