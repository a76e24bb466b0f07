/* unwind.h - walk an interrupted thread's stack from inside a signal handler.
 *
 * Hybrid, as code on Linux demands: where a module's CFI covers the address, its
 * precomputed rule (cfi.h) gives the caller's frame; where there is none (JIT code, V8
 * builtins, hand-written assembly), one frame-pointer step; then CFI again. Every memory
 * read is bounded by the thread's stack [sp, stack_end), so a corrupt frame ends the walk
 * instead of faulting: we install no SIGSEGV handler (the JVM owns SIGSEGV).
 *
 * Async-signal-safe: no allocation, no locks, no system calls. */
#ifndef FLAMEPROF_UNWIND_H
#define FLAMEPROF_UNWIND_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "modules.h"

typedef struct unwind_regs {
    uint64_t pc, sp, fp; /* rip, rsp, rbp of the interrupted context */
} unwind_regs;

typedef struct unwind_result {
    size_t depth;   /* frames written, leaf first: pcs[0] is the interrupted pc */
    bool truncated; /* the stack went on past max frames */
} unwind_result;

/* Walk from regs, using module map m (may be NULL: frame pointers only), reading only
 * [regs.sp, stack_end). Writes return addresses as they are (not minus one). */
unwind_result unwind_walk(const module_map *m, unwind_regs regs, uint64_t stack_end,
                          uint64_t *pcs, size_t max);

#endif
