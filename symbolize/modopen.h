/* modopen.h - a module's file opened and reported to a Dwfl of its own, so the resolver
 * (symbolize.c) can ask for its symbols, DWARF and CFI.
 *
 * The file is opened by us (O_CLOEXEC, no transparent decompression) and handed to dwfl
 * through our own find_elf, so fd and Elf ownership stay unambiguous on every failure path.
 * It is the file at the module's path if that is the one profiled (the build-id the caller
 * expected, when it gave one), else the one the caller's fetch function gives for that
 * build-id (m->changed when neither: the file changed since it was profiled). Debug files
 * are looked for on disk only (debugfile.h): nothing here reaches debuginfod by itself. One
 * Dwfl per module, so modules loaded at the same addresses at different times never shadow
 * each other.
 *
 * Not thread-safe (fills the module it is given); not async-signal-safe. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_MODOPEN_H
#define FLAMEPROF_SYMBOLIZE_MODOPEN_H

#include "symbolize_int.h"

/* Open m's file, report it to a new Dwfl and build its symbol table: m->state becomes
 * SYMBOLIZE_READY, or SYMBOLIZE_BROKEN with everything released. */
void symbolize_module_load(symbolize_module *m);

/* Release what dwfl never took over (an Elf opened but not reported), then the Dwfl. */
void symbolize_module_close(symbolize_module *m);

#endif
