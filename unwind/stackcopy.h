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
 * code (a JIT without frame pointers) gets at most STACKCOPY_SLOTS copies a tick, and once
 * STACKCOPY_USELESS copies in a row got no further than the handler's walk (stackcopy_judge:
 * such code is no library), none for a second. The slots are zero pages until first used.
 *
 * stackcopy_take is async-signal-safe (an atomic claim and a word-by-word copy of the
 * thread's own mapped stack); stackcopy_walk, stackcopy_judge and stackcopy_release run on
 * the aggregator thread. */
#ifndef FLAMEPROF_UNWIND_STACKCOPY_H
#define FLAMEPROF_UNWIND_STACKCOPY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "unwind.h"

enum { STACKCOPY_SLOTS = 4, STACKCOPY_BYTES = 64 * 1024, STACKCOPY_USELESS = 8 };
#define STACKCOPY_PAUSE_NS 1000000000ull

/* Copy [regs.sp, min(stack_end, regs.sp + STACKCOPY_BYTES)) and regs into a free slot.
 * Returns 1 + the slot, or 0 when none is free, the stack is unknown, or copies are
 * paused at now_ns (CLOCK_MONOTONIC). */
uint32_t stackcopy_take(unwind_regs regs, uint64_t stack_end, uint64_t now_ns);

/* After a copy's walk: did it end in code a module covers (helped), or where the handler's
 * ended? Copies pause for STACKCOPY_PAUSE_NS from now_ns after STACKCOPY_USELESS that did
 * not help in a row. Aggregator thread. */
void stackcopy_judge(bool helped, uint64_t now_ns);

/* Walk copy (a stackcopy_take result) again with ctx's modules, trampolines and
 * interpreter (its memo, last walk and Go layout are not used), into pcs[0, max). */
unwind_result stackcopy_walk(uint32_t copy, const unwind_ctx *ctx, uint64_t *pcs,
                             size_t max);

/* The slot is free again. */
void stackcopy_release(uint32_t copy);

/* In a fork child: the parent's copies were never the child's samples. */
void stackcopy_reset(void);

#endif
