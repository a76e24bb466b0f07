/* gonames.h - names for a Go program's code where its .symtab is gone (Debian strips its
 * Go programs; `go build -ldflags=-s` does the same): Go keeps every function's name in its
 * own table (.gopclntab, util/gopclntab.h) for its tracebacks, and so does the file.
 *
 * Tried after the symbol tables and DWARF, before FDE starts (a Go program's Go code has
 * no FDE: it was "module+0xoffset", one frame per address). Names as Go spells them
 * ("main.(*server).handle"), the function's whole code as its span.
 *
 * Not thread-safe (fills the module it is given); not async-signal-safe. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_GONAMES_H
#define FLAMEPROF_SYMBOLIZE_GONAMES_H

#include "symbolize_int.h"

/* The name of the Go function holding absolute address a of m, interned in s, and its
 * absolute span; NULL if m is no Go program or a is in none of its functions. The table
 * is found on the first call (the module's ELF file must be open). */
const char *symbolize_goname(symbolizer *s, symbolize_module *m, uint64_t a,
                             symbolize_span *span);

#endif
