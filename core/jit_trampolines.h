/* jit_trampolines.h - where CPython's perf trampolines are, for the unwinder.
 *
 * CPython >= 3.12 with perf support calls each Python function through a small
 * trampoline it writes at run time and lists as "py::..." in the perf map. They are
 * frameless stubs with no CFI, so the handler unwinds them by their own rule (unwind.h,
 * unwind_ctx.trampolines) and needs to know their pages. The perf-map follower adds the
 * pages as it reads the entries; publishing turns them into sorted, merged ranges.
 *
 * Threads: jit_trampolines_add and _publish on the aggregator thread only (no lock).
 * jit_trampolines from any thread, the signal handler included: one acquire load of an
 * immutable array that is never freed (a handler may be reading an old one). */
#ifndef FLAMEPROF_JIT_TRAMPOLINES_H
#define FLAMEPROF_JIT_TRAMPOLINES_H

#include <stdint.h>

#include "unwind.h"

/* Note the pages of a trampoline's code [start, end). Aggregator thread. */
void jit_trampolines_add(uint64_t start, uint64_t end);

/* Publish the pages added since the last publication, if any. Aggregator thread. */
void jit_trampolines_publish(void);

/* Handler: CPython trampoline ranges, or NULL. Async-signal-safe. */
const unwind_ranges *jit_trampolines(void);

#endif
