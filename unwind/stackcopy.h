/* stackcopy.h - a thread's stack, copied in the signal handler, walked again later.
 *
 * Why: a library dlopen'ed since the aggregator last refreshed the modules has no unwind
 * table yet (aggregator.h), so a sample in its code ends at its frame: the callers are
 * lost. async-profiler and perf --call-graph=dwarf meet the same gap; we close it by
 * keeping the stack. The handler copies the top of the stack (up to STACKCOPY_BYTES) and
 * the registers into a free slot; the aggregator walks the copy once it has the module's
 * table (unwind.h, unwind_ctx.copy_shift), and the sample gets its whole stack (as far as
 * the copy reaches: a walk that leaves it ends there).
 *
 * Few slots, taken only by walks that ended in code no module covers, which is rare (no
 * such walk in node, the JVM or CPython at work here): a program that keeps running such
 * code (a JIT without frame pointers) gets at most STACKCOPY_SLOTS copies a tick, the
 * others keep the walk the handler made. The slots are zero pages until first used.
 *
 * stackcopy_take is async-signal-safe (an atomic claim and a memcpy of the thread's own
 * mapped stack); stackcopy_walk and stackcopy_release run on the aggregator thread. */
#ifndef FLAMEPROF_UNWIND_STACKCOPY_H
#define FLAMEPROF_UNWIND_STACKCOPY_H

#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

enum { STACKCOPY_SLOTS = 4, STACKCOPY_BYTES = 64 * 1024 };

/* Copy [regs.sp, min(stack_end, regs.sp + STACKCOPY_BYTES)) and regs into a free slot.
 * Returns 1 + the slot, or 0 when none is free (or the stack is unknown). */
uint32_t stackcopy_take(unwind_regs regs, uint64_t stack_end);

/* Walk copy (a stackcopy_take result) again with ctx's modules, trampolines and
 * interpreter (its memo, last walk and Go layout are not used), into pcs[0, max). */
unwind_result stackcopy_walk(uint32_t copy, const unwind_ctx *ctx, uint64_t *pcs,
                             size_t max);

/* The slot is free again. */
void stackcopy_release(uint32_t copy);

/* In a fork child: the parent's copies were never the child's samples. */
void stackcopy_reset(void);

#endif
