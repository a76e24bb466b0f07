/* park.h - at exit, parking a finalized CPython's threads for good (sampler_park_python).
 *
 * Why: CPython 3.10's daemon threads run on after Py_FinalizeEx, hand the GIL to each other
 * and write into the interpreter it freed (gh-87135), memory the exit work's allocations
 * reuse. Each other thread is asked, with a queued signal carrying park's own value, where
 * it is: inside the evaluation loop (a return address of [lo, hi) among its first 32
 * frames) and stopped in a system call or in the interpreter's own code [text_lo, text_hi)
 * (never in libc, which may hold a lock of the allocator or of stdio that the exit work
 * needs), it sleeps in its handler until exit_group, as it would through a bare exit.
 *
 * park_is_signal and park_if_inside run in the signal handler (async-signal-safe: atomics,
 * a bounded walk, sigsuspend); park_python runs off the handler, one caller at a time. */
#ifndef FLAMEPROF_PARK_H
#define FLAMEPROF_PARK_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <ucontext.h>

/* Handler: is this signal park's question (queued by this process with park's value)? */
bool park_is_signal(const siginfo_t *si);

/* Handler: answer the question for the calling thread, interrupted at uc, whose stack ends
 * at stack_hi (0: unknown, then it is not inside); in_syscall: stopped in a system call.
 * Parked, it never returns. */
void park_if_inside(const ucontext_t *uc, uint64_t stack_hi, bool in_syscall);

/* Ask every other thread that does not block signo; wait (bounded: ~20 ms a round) for
 * the answers; a thread inside the loop but stopped in libc is asked again 1 ms later (up
 * to 10 rounds). Returns how many threads are parked. Not in a handler. */
size_t park_python(int signo, uint64_t lo, uint64_t hi, uint64_t text_lo, uint64_t text_hi);

#endif
