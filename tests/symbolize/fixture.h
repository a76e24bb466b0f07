/* fixture.h - what the symbolize test fixture library exports.
 *
 * The library is built -O2 -g and loaded with dlopen; its functions exist to be named. The
 * *_pc variables receive, when symfix_outer / symfix_cpp_run run, the address of an
 * instruction inside an inlined body: DWARF knows those addresses belong to inlined calls,
 * which is what the inline expansion test needs and C cannot otherwise name. */
#ifndef FLAMEPROF_TEST_SYMBOLIZE_FIXTURE_H
#define FLAMEPROF_TEST_SYMBOLIZE_FIXTURE_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Address of the current instruction, as an asm statement that stays inside whatever
 * function (or inlined body) it is written in. */
#if defined(__x86_64__)
#define SYMFIX_HERE(var) __asm__ volatile("1: lea 1b(%%rip), %0" : "=r"(var))
#elif defined(__aarch64__)
#define SYMFIX_HERE(var) __asm__ volatile("1: adr %0, 1b" : "=r"(var))
#else
#define SYMFIX_HERE(var) ((var) = 0)
#endif

extern uintptr_t symfix_inline_pc;  /* inside symfix_inlined_helper, inlined in symfix_outer */
extern uintptr_t symfix_inline2_pc; /* inside symfix_inner_helper, inlined in the above */
extern uintptr_t symfix_cpp_inline_pc; /* inside ns::Klass::helper, inlined in method */

int symfix_outer(int x);
uintptr_t symfix_static_addr(void); /* symfix_static_leaf: a static function */
int symfix_cpp_run(int x);          /* calls ns::Klass::method */

#ifdef __cplusplus
}
#endif

#endif
