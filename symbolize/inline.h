/* inline.h - DWARF inline chains: for an address, the containing function and each
 * inlined call on the way down to it, outermost first, with their display names.
 *
 * Built lazily per module and kept until the module is released: the CU holding the
 * address (through .debug_aranges, or, where the compiler wrote none (clang), ranges of
 * every CU built once), that CU's function ranges sorted once, and for each function hit
 * its tree of code scopes (lexical blocks, inlined calls) with sorted ranges; a lookup is
 * then a few binary searches. Rescanning DIEs per address (as dwarf_getscopes does) was
 * what made big C++ functions slow. Display names of DWARF strings are memoized per
 * module by the string's address: std:: templates recur under many addresses and
 * demangling costs microseconds. Depth is bounded so corrupt DWARF cannot exhaust the
 * stack.
 *
 * Not thread-safe (fills the module it is given); not async-signal-safe. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_INLINE_H
#define FLAMEPROF_SYMBOLIZE_INLINE_H

#include "symbolize_int.h"

/* DIEs for absolute address a in the loaded module m: the containing subprogram, then
 * each inlined_subroutine on the way down, outermost first, at most cap. Returns how many
 * were written (0 without DWARF for a). *same (absolute addresses, holding a) is narrowed
 * to a range where every address has this same chain, an empty one included (an assembly
 * function, a module without DWARF): then one answer serves a whole function. */
size_t symbolize_inline_chain(symbolize_module *m, uint64_t a, Dwarf_Die *out, size_t cap,
                              symbolize_span *same);

/* Display name of a subprogram or inlined call (the demangled linkage name through
 * abstract_origin/specification, else the plain name), interned in s; NULL if it has
 * none. */
const char *symbolize_inline_name(symbolizer *s, symbolize_module *m, Dwarf_Die *die);

/* Where the function of a subprogram or inlined call is declared: its DW_AT_decl_file and
 * DW_AT_decl_line through abstract_origin/specification (else the line table's position of
 * its entry, as Go's DWARF has no decl_file: for an inlined call, its body's first line), the file
 * made absolute with the CU's DW_AT_comp_dir when it is relative, interned in s. One
 * position per function: it does not split a function's frames. Returns false (*file
 * NULL, *line 0) when DWARF does not say. */
bool symbolize_inline_source(symbolizer *s, Dwarf_Die *die, const char **file,
                             unsigned *line);

/* Frees every table above; the module can be loaded afresh afterwards. */
void symbolize_inline_release(symbolize_module *m);

#endif
