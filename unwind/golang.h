/* golang.h - Go programs (cgo-built, so LD_PRELOAD reaches them): where a goroutine's stack
 * is, and how the walk crosses between a goroutine's stack and its thread's system stack.
 *
 * Goroutine stacks live in Go's heap, outside the thread stack bounds the walk otherwise
 * trusts. The running goroutine (g) is found the way Go's own assembly finds it: a load at
 * a fixed offset from the thread pointer (%fs); its stack is [g.stack.lo, g.stack.hi). Go
 * never frees a g, so reading one is safe while the thread pointer slot holds it.
 *
 * The layout (TLS offset of g, offsets of g.m, g.stack.hi, g.sched.sp, m.curg, and the
 * slots where asmcgocall keeps the goroutine it left) is not guessed from a Go version:
 * it is decoded at start from the instructions of the executable's own runtime.asmcgocall
 * and runtime.systemstack, the code that does these switches. If the code does not read as
 * expected (another Go version, another architecture), nothing Go-specific is used: the
 * walk keeps to thread stacks, as for any program.
 *
 * Crossings (both exact, at the return address of the call that switched stacks):
 *   cgo:          C code called from Go runs on the system stack (g0) under
 *                 runtime.asmcgocall, which saved the goroutine and its stack depth in its
 *                 frame; the walk continues at the goroutine's runtime.cgocall.
 *   systemstack:  runtime.systemstack runs a function on g0 and returns to m.curg's saved
 *                 stack pointer; the walk continues there.
 * Frame pointers carry the walk on the goroutine side (Go keeps them on amd64); it ends at
 * runtime.goexit, the root of every goroutine (runtime.main's included). */
#ifndef FLAMEPROF_GOLANG_H
#define FLAMEPROF_GOLANG_H

#include <stdbool.h>
#include <stdint.h>

#include <libelf.h>

typedef struct golang_layout {
    int32_t tls_g;            /* g's address is at %fs:0 + tls_g */
    uint32_t g_m, g_stack_hi, g_sched_sp; /* offsets in g (g.stack.lo is at 0) */
    uint32_t m_curg;          /* offset in m */
    uint64_t cgo_ret;         /* asmcgocall's return address from the C function */
    uint32_t cgo_g_slot;      /* ... and where, above sp there, it keeps the goroutine */
    uint32_t cgo_depth_slot;  /* ... and that goroutine's stack.hi - sp */
    uint64_t sys_ret;         /* systemstack's return address from its function, or 0 */
    uint64_t exit_fn;         /* runtime.exit (ABI0), or 0 (golang_exit_fn) */
    uint64_t preempt_fn;      /* runtime.asyncPreempt, or 0: Go's preemption signal makes
                                 the thread call it by pushing the interrupted pc, so at
                                 its first instruction that pc is at [sp] */
    const struct util_gopclntab *pcln; /* Go's own frame sizes (gopclntab.h), or NULL */
} golang_layout;

/* Recognize a Go executable and decode its layout. Call at start, before any timer is
 * armed (later calls do nothing); not async-signal-safe (reads the executable with
 * libelf). Cheap for other programs: only their section names are read. */
void golang_detect(void);

/* A Go program built without cgo but dynamically linked (-buildmode=pie): Go makes its
 * threads itself and points %fs at its own block, so no code of the C library's (ours
 * included: thread-local variables) may run on them. Such a process cannot be profiled
 * from inside. */
bool golang_without_libc(void);

/* Whether an ELF file was written by Go's linker (its sections say so); whether it needs any
 * shared library (a Go program needs libc only when built with cgo). Not in a handler. */
bool golang_elf_is_go(Elf *elf);
bool golang_elf_uses_libc(Elf *elf);

/* Whether the executable is a Go program (its layout understood or not), and the address of
 * its runtime.exit if that is the expected `exit_group(8(SP))` stub (else 0). */
bool golang_is_go(void);
uint64_t golang_exit_fn(void);

/* The layout, or NULL when this is not a Go program we understand. Async-signal-safe. */
const golang_layout *golang_current(void);

/* In the handler: if the running goroutine's stack contains sp, its bounds. */
bool golang_stack_bounds(const golang_layout *go, uint64_t sp, uint64_t *lo, uint64_t *hi);

/* In the walk, at a frame whose pc is cgo_ret or sys_ret (sp just above that call): move
 * pc/sp to the goroutine side and the bounds to that goroutine's stack. At preempt_fn's
 * first instruction: step to the preempted pc, which is exact (*exact set). False (nothing
 * changed) anywhere else or if anything read is out of place. fp is kept: the code between
 * never changes rbp, so it is the goroutine side's frame pointer already. */
bool golang_cross(const golang_layout *go, uint64_t *pc, uint64_t *sp, uint64_t *lo,
                  uint64_t *hi, bool *exact);

#endif
