/* fixture.c - C half of the symbolize test library: a static function, inlined calls
 * two deep, and functions under Rust legacy mangled names. See fixture.h. */
#include "fixture.h"

volatile int symfix_sink;
uintptr_t symfix_inline_pc;
uintptr_t symfix_inline2_pc;

/* No clone (gcc would make symfix_static_leaf.isra.0) and no inlining, so the symbol keeps
 * its name. clang has no noipa and does not rename what it specializes here. */
#if defined(__clang__)
#define SYMFIX_KEEP __attribute__((noinline, used))
#else
#define SYMFIX_KEEP __attribute__((noinline, noipa))
#endif

static SYMFIX_KEEP int symfix_static_leaf(int x)
{
    symfix_sink = x;
    return x * 3 + symfix_sink;
}

static inline __attribute__((always_inline)) int symfix_inner_helper(int x)
{
    uintptr_t pc;
    SYMFIX_HERE(pc);
    symfix_inline2_pc = pc;
    symfix_sink += x;
    return symfix_sink * 7;
}

static inline __attribute__((always_inline)) int symfix_inlined_helper(int x)
{
    uintptr_t pc;
    SYMFIX_HERE(pc);
    symfix_inline_pc = pc;
    symfix_sink = x;
    return symfix_inner_helper(x + 1) + symfix_sink;
}

__attribute__((noinline)) int symfix_outer(int x)
{
    int r = symfix_inlined_helper(x);
    symfix_sink = r;
    return r + 1;
}

uintptr_t symfix_static_addr(void)
{
    return (uintptr_t)symfix_static_leaf;
}

/* What rustc (legacy mangling) emits for core::fmt::write and for an impl method. */
int symfix_rust_plain(void) __asm__("_ZN4core3fmt5write17h0123456789abcdefE");
int symfix_rust_impl(void) __asm__(
    "_ZN60_$LT$alloc..string..String$u20$as$u20$core..fmt..Display$GT$3fmt17hfedcba9876543210E");

__attribute__((noinline)) int symfix_rust_plain(void)
{
    return symfix_sink + 1;
}

__attribute__((noinline)) int symfix_rust_impl(void)
{
    return symfix_sink + 2;
}

/* Aliases at one address, all global: only names can choose between them (symtab.c). */
__attribute__((noinline)) int symfix_alias_target(int x)
{
    return x * 3 + symfix_sink;
}
extern int symfix_al(int x) __attribute__((alias("symfix_alias_target")));
extern int __symfix_a(int x) __attribute__((alias("symfix_alias_target")));
extern int symfix_alias_weak(int x) __attribute__((weak, alias("symfix_alias_target")));
