/* fdenames.h - names for code that no symbol covers: stripped binaries, per function.
 *
 * Debian strips its binaries and libraries of .symtab; .dynsym names only exported
 * functions. Naming every other address "module+0xoffset" splits one function into as
 * many frames as it has call sites. Here, in the order tried:
 *   - a PLT stub is "foo@plt": its jmp *GOT(%rip) slot is matched to the JUMP_SLOT or
 *     GLOB_DAT relocation of foo (.plt, .plt.sec, .plt.got; x86-64), as objdump and perf
 *     name them;
 *   - the FDE holding a program's ELF entry point is "_start" (executables only: a shared
 *     library's e_entry is not a start);
 *   - any other address an .eh_frame FDE covers is named by the FDE's start,
 *     "module+0xstart" (the ELF virtual address, as every offset name here), since an FDE
 *     spans exactly one function (or one cold part of it, as .symtab's foo.cold does).
 * FDE starts come from the .eh_frame_hdr search table; whether an FDE really covers the
 * address is elfutils' answer (dwarf_cfi_addrframe), so gaps between FDEs stay misses.
 *
 * Not thread-safe (fills the module it is given); not async-signal-safe. Internal to
 * symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_FDENAMES_H
#define FLAMEPROF_SYMBOLIZE_FDENAMES_H

#include "symbolize_int.h"

/* The name for absolute address a of m (loaded), interned in s, or NULL if none of the
 * above applies. *by_fde: the name is an FDE start (not a PLT stub or _start). *span: the
 * absolute range of addresses with that name (the stub, the FDE; else a's byte). The
 * module's tables are built on the first call. */
const char *symbolize_fdename(symbolizer *s, symbolize_module *m, uint64_t a, bool *by_fde,
                              symbolize_span *span);

/* The absolute start of m's i-th FDE (.eh_frame_hdr's order: ascending), UINT64_MAX past
 * the last; for naming a whole module ahead (symbolize.c's disk cache fill). */
uint64_t symbolize_fde_start_at(symbolize_module *m, size_t i);

/* Frees m's tables; m->fdetab is NULL afterwards. */
void symbolize_fdenames_release(symbolize_module *m);

#endif
