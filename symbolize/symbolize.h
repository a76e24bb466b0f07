/* symbolize.h - addresses to names, at exit, with elfutils (libdwfl, libdw, libelf).
 *
 * The caller registers every module it saw during the run (including ones since
 * dlclose'd, and the vDSO from its in-memory image) under a small integer id, then
 * resolves addresses. Each module is reported to its own Dwfl, so modules that were
 * loaded at overlapping addresses at different times never shadow each other.
 *
 * Names come from .symtab, else .dynsym, including separate debug files found on disk by
 * build-id (/usr/lib/debug/.build-id/xx/yyyy.debug) and .gnu_debuglink; never from the
 * network (debuginfod is never used: it is unsafe inside some hosts, e.g. node).
 * C++ and Rust names are demangled. Where DWARF has inline information, one address
 * expands to several frames: the real function, then each inlined callee.
 *
 * Fast: each module's symbol table is sorted once; each (module, address) is resolved
 * once and cached.
 *
 * Not async-signal-safe: used only after sampling has stopped, or in tools. */
#ifndef FLAMEPROF_SYMBOLIZE_H
#define FLAMEPROF_SYMBOLIZE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct symbolizer symbolizer;

typedef struct symbolize_frame {
    const char *name; /* owned by the symbolizer, valid until symbolize_free */
    bool inlined;     /* an inlined callee (not a real call frame) */
} symbolize_frame;

symbolizer *symbolize_new(void);
void symbolize_free(symbolizer *s);

/* Register module id (>= 0, ids need not be dense) as the ELF file at path, loaded with
 * load bias `bias` (dl_iterate_phdr's dlpi_addr; 0 for a non-PIE executable). If image is
 * non-NULL the ELF is read from that memory instead of path (the vDSO); path then only
 * names it. A module whose file cannot be read still resolves, as "name+0xoffset".
 * Returns 0, or -1 on allocation failure. */
int symbolize_add_module(symbolizer *s, int id, const char *path, uint64_t bias,
                         const void *image, size_t image_size);

/* Resolve pc in module id. is_return_address: pc is a return address (every frame but the
 * interrupted one), so the call instruction at pc-1 is looked up. Writes up to max frames,
 * OUTERMOST first (the containing function, then inlined callees in call order), and
 * returns how many. Always writes at least one frame when max > 0: an address without a
 * symbol reads "module+0xoffset" (module basename, offset in the file's address space). */
size_t symbolize_pc(symbolizer *s, int id, uint64_t pc, bool is_return_address,
                    symbolize_frame *out, size_t max);

#endif
