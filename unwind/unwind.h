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

#include "cfi_memo.h"
#include "golang.h"
#include "lastwalk.h"
#include "modules.h"

typedef struct unwind_regs {
    uint64_t pc, sp, fp, bx; /* rip, rsp, rbp, rbx of the interrupted context */
} unwind_regs;

/* Address ranges, sorted and disjoint, published immutable like module maps. */
typedef struct unwind_ranges {
    size_t len;
    struct unwind_range {
        uint64_t lo, hi;
    } r[];
} unwind_ranges;

/* A pcs[] entry with this bit set holds an interpreted frame's method (the runtime's own
 * pointer, e.g. HotSpot's Method*) instead of a pc: no user-space address has it. */
#define UNWIND_METHOD_TAG (UINT64_C(1) << 63)

/* A bytecode interpreter whose frames keep their method at a fixed slot below the frame
 * pointer (HotSpot's template interpreter: fp - 24 on x86-64). Published immutable. */
typedef struct unwind_interp {
    uint64_t lo, hi;    /* the interpreter's code */
    int64_t method_off; /* the method's slot: fp + method_off */
} unwind_interp;

typedef struct unwind_ctx {
    const module_map *modules;        /* may be NULL: frame pointers only */
    const unwind_ranges *trampolines; /* CPython perf trampolines (may be NULL): frameless
                                         stubs `sub $8,%rsp; call *%rcx; add $8,%rsp; ret`,
                                         unwound as CFA = rsp + 16 */
    const unwind_interp *interp;      /* may be NULL: interpreter frames stay pcs */
    const golang_layout *go;          /* a Go program's layout (may be NULL): the walk
                                         crosses from the system stack to the goroutine's
                                         (golang.h), and reads are bounded by that stack */
    cfi_memo *memo;                   /* may be NULL: every lookup searches the tables */
    unwind_last *last;                /* the calling thread's previous walk (lastwalk.h),
                                         read and rewritten; NULL: none */
    uint64_t copy_shift;              /* 0: the thread's own stack; else the walk reads a
                                         copy of it (stackcopy.h): the word at address a
                                         lies at a + copy_shift (mod 2^64). A copy's walk
                                         neither records nor reuses walks, nor crosses to a
                                         goroutine's stack */
} unwind_ctx;

typedef struct unwind_result {
    size_t depth;   /* frames written, leaf first: pcs[0] is the interrupted pc */
    size_t outside; /* frames whose pc lies in no module (JIT code) */
    size_t methods; /* interpreter frames written as UNWIND_METHOD_TAG | method */
    size_t reused;  /* frames taken from the thread's previous walk (ctx->last) */
    bool truncated; /* the stack went on past max frames */
} unwind_result;

/* Walk from regs, reading only [regs.sp, stack_end), or, after a crossing to a goroutine's
 * stack (ctx->go), only that stack. Writes return addresses as they are (not minus one);
 * a frame in ctx->interp's code whose method slot (inside the stack) holds a plausible
 * pointer is written as UNWIND_METHOD_TAG | that value, unchecked: whoever reads it must
 * validate it without dereferencing it. */
unwind_result unwind_walk(const unwind_ctx *ctx, unwind_regs regs, uint64_t stack_end,
                          uint64_t *pcs, size_t max);

/* Start loading what a walk from regs will likely read (memo entries of the frames a
 * frame-pointer chain predicts, up to the previous walk's frames): called early,
 * with other work (interpreter frames) before the walk, the misses overlap with it. Only
 * prefetches and bounded stack reads. Async-signal-safe. */
void unwind_prefetch(const unwind_ctx *ctx, unwind_regs regs, uint64_t stack_end);

/* What a walk writes for the frame at pc, fp: UNWIND_METHOD_TAG | the method when pc lies
 * in in's code and the method slot (inside [lo, hi)) holds a plausible pointer; else pc.
 * in may be NULL. Async-signal-safe. */
uint64_t unwind_frame_value(const unwind_interp *in, uint64_t pc, uint64_t fp, uint64_t lo,
                            uint64_t hi);

/* The registers the walk starts from, out of a signal handler's ucontext_t. */
unwind_regs unwind_regs_of(const void *ucontext);

/* Is pc inside one of the ranges? Async-signal-safe. */
bool unwind_ranges_contain(const unwind_ranges *r, uint64_t pc);

/* The range holding pc, or NULL. Async-signal-safe. */
const struct unwind_range *unwind_ranges_find(const unwind_ranges *r, uint64_t pc);

#endif
