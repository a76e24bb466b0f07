/* symbolize.h - addresses to names, at exit, with elfutils (libdwfl, libdw, libelf).
 *
 * The caller registers every module it saw during the run (including ones since
 * dlclose'd, and the vDSO from its in-memory image) under a small integer id, then
 * resolves addresses. Each module is reported to its own Dwfl, so modules that were
 * loaded at overlapping addresses at different times never shadow each other.
 *
 * Names come from .symtab, else .dynsym, including separate debug files found on disk by
 * build-id (/usr/lib/debug/.build-id/xx/yyyy.debug) and .gnu_debuglink; from elsewhere
 * (debuginfod) only through a fetch function the caller installs, which the flameprof
 * command does and the profiled process never does (libdebuginfod pulls in libcurl and
 * OpenSSL, which crashed inside node at exit). C++ and Rust names are demangled. Where
 * DWARF has inline information, one address expands to several frames: the real
 * function, then each inlined callee.
 *
 * Code no symbol covers (stripped binaries: Debian's own) is still named per function, as
 * perf and objdump do: PLT stubs "foo@plt", the program's entry point "_start", else the
 * start of the .eh_frame FDE that covers it, "module+0xstart", so that one function is one
 * frame whatever its call sites.
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
    /* Where the function is declared (DWARF's decl_file, absolute where the CU says its
     * directory, and decl_line), owned like name; NULL and 0 when DWARF does not say. The
     * same for every address of the function. */
    const char *file;
    unsigned line;
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
 * symbol, PLT stub or FDE reads "module+0xoffset" (module basename, offset in the file's
 * address space: the ELF virtual address, as addr2line and objdump take it). */
size_t symbolize_pc(symbolizer *s, int id, uint64_t pc, bool is_return_address,
                    symbolize_frame *out, size_t max);

/* A file for a build-id from outside this machine's debug directories: the debug file,
 * or (executable) the module file itself, when the one on disk is not the one profiled.
 * Returns an open descriptor and sets *path to its malloc'd name, or -1. Its build-id is
 * checked against the module's before it is used. */
typedef int (*symbolize_fetch_fn)(void *ctx, bool executable, const unsigned char *build_id,
                                  size_t len, char **path);

/* Install fetch (NULL: none, the default), asked at most once per module whose symbols
 * and DWARF are not on disk, when the module is first used. Call before resolving. */
void symbolize_set_fetch(symbolizer *s, symbolize_fetch_fn fetch, void *ctx);

/* The build-id module id had when it was profiled. A file at its path with another build-id
 * (or none) is not read: the module is then the file the fetch function gives for that
 * build-id, if any, else its addresses read "module+0xoffset". Call before resolving. */
void symbolize_expect_build_id(symbolizer *s, int id, const unsigned char *build_id,
                               size_t len);

/* How many of the modules resolved so far were not the file profiled (see
 * symbolize_expect_build_id) and were named by offset; *example as below. */
size_t symbolize_changed_modules(const symbolizer *s, const char **example);

/* How many of the modules resolved so far had code that no symbol covered (named by FDE
 * start or offset) and carry a build-id a debuginfod server could be asked for; *example
 * (if non-NULL) is set to one's base name. */
size_t symbolize_unnamed_modules(const symbolizer *s, const char **example);

#endif
