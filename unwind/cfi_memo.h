/* cfi_memo.h - a small shared memo of CFI lookups, so a frame's rule usually costs one
 * cache line instead of a search through a big module's table.
 *
 * Why: in node (a 98 MB binary, ~10^6 CFI rows) each lookup touched the page index and two
 * or three rows, each a likely cache and TLB miss (the program evicts our tables between
 * samples): ~2,400 cycles a native frame, 15 such frames a sample, ~85% of the handler's
 * median of 14 us. The same return addresses come back sample after sample (the frames
 * from main to the JS entry, the runtime's hot C++), so a direct-mapped memo keyed by
 * address answers most lookups from one line of one 2 MB region (a transparent huge page
 * where the kernel grants one: one TLB entry for all of it).
 *
 * An entry holds a copy of the row, the address and the module-map generation it was
 * looked up in (a dlopen or dlclose publishes a new map: older entries no longer match).
 * Only rows a table gave are kept: "no table (yet)" and "before the first row" are never
 * memoized, so a table built later is used as soon as it is published.
 *
 * Entries are written by the handlers of any threads at once: each has a sequence number
 * (odd while written; a writer that finds it odd or loses the race skips the write, a
 * reader that sees it odd or changed takes the slow path). No locks, no waiting, no
 * system calls: async-signal-safe. The region is mapped once (cfi_memo_new, not in a
 * handler) and faulted in by cfi_memo_populate, off the handler, before any handler is
 * given it: the first write to the untouched 2 MB huge page took ~180 us of kernel page
 * clearing inside the sample that made it (every process's worst sample). */
#ifndef FLAMEPROF_UNWIND_CFI_MEMO_H
#define FLAMEPROF_UNWIND_CFI_MEMO_H

#include <stdbool.h>
#include <stdint.h>

#include "cfi.h"

typedef struct cfi_memo cfi_memo;

/* A memo, or NULL if the memory cannot be had (the walk then searches the tables). Not
 * async-signal-safe. */
cfi_memo *cfi_memo_new(void);

/* Faults every page in writable (the huge page allocated and cleared; after a fork, the
 * parent's copy made the child's own), so no handler ever takes a page fault on it. Not
 * async-signal-safe: ~0.2 ms of kernel time, done by the aggregator thread. Entries are
 * left as they are. */
void cfi_memo_populate(cfi_memo *m);

/* Unmaps it; no handler may use it any more. */
void cfi_memo_free(cfi_memo *m);

/* The row memoized for addr in module-map generation gen, copied to *out. Async-signal-
 * safe. */
bool cfi_memo_get(const cfi_memo *m, uint64_t addr, uint32_t gen, cfi_row *out);

/* Start loading the entry addr would use (a hint: never faults). Async-signal-safe. */
void cfi_memo_prefetch(const cfi_memo *m, uint64_t addr);

/* Remember row for addr in generation gen (best effort: a write in progress elsewhere on
 * the same entry wins). Async-signal-safe. */
void cfi_memo_put(cfi_memo *m, uint64_t addr, uint32_t gen, const cfi_row *row);

#endif
