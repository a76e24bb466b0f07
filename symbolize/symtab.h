/* symtab.h - a module's ELF function symbols, sorted once, found by binary search.
 *
 * The table is dwfl's best one for the module: .symtab of the file or of its separate
 * debug file, else .dynsym, plus MiniDebugInfo (.gnu_debugdata) when dwfl found it. Only
 * defined function symbols count. Aliases at one address collapse into the name users
 * know (global over weak over local, sized, fewer leading underscores, shorter, then
 * alphabetical, so the choice never depends on table order). A symbol without a size ends
 * at the next symbol, its section's end or the module's end, whichever comes first.
 *
 * Not thread-safe (fills the module it is given); not async-signal-safe. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_SYMTAB_H
#define FLAMEPROF_SYMBOLIZE_SYMTAB_H

#include "symbolize_int.h"

/* Fills m->syms/m->nsyms from m->dmod (reported and loaded). Allocation failure or a
 * module without function symbols leaves the table empty: lookups then miss. */
void symbolize_symtab_build(symbolize_module *m);

/* The symbol holding absolute address a (nested symbols: the innermost), or NULL. */
symbolize_sym *symbolize_symtab_lookup(symbolize_module *m, uint64_t a);

/* Frees the table; m->syms is NULL afterwards. */
void symbolize_symtab_release(symbolize_module *m);

/* The lowest start of a symbol above absolute address a, UINT64_MAX if none: where a name
 * that is not a symbol's stops holding. */
uint64_t symbolize_symtab_next_start(const symbolize_module *m, uint64_t a);

#endif
