/* diskcache.h - resolved frames kept on disk per build-id, so the next process that
 * samples the same addresses of the same module never opens its DWARF.
 *
 * Why: opening a module's DWARF inflates every compressed .debug_* section (elfutils does
 * it eagerly in dwarf_begin_elf); for libc6-dbg's libc that is ~10 MB of zlib, 40-80 ms of
 * CPU in every process that gets a sample in libc. A build runs thousands of such processes
 * with the same libc and the same compiler.
 *
 * One file per module build-id in the cache directory (util/cachefile.h): <build-id>.sym.
 * It holds the identity (device, inode, size, mtime) of the module file and of the debug
 * file its DWARF came from; a cache is used only if the module file read now has that
 * build-id and both files still have that identity, so a rebuilt binary or a reinstalled
 * debug package is a miss, never a wrong name. A module without DWARF is cached too (a
 * stripped compiler's 29,000 dynamic symbols took ~3 ms to collect and sort in every
 * process), marked so and used only while no debug file for it can be found. The
 * symbolizer fills a module's file with every function of its symbol table (and, where no
 * symbol covers it, every FDE) on the second process's miss (symbolize.c), and the file
 * says so (complete), so no later process opens that DWARF or that ELF. Files are written and
 * replaced whole (cachefile.h) and hold at most SYMBOLIZE_DISKCACHE_MAX_ENTRIES entries, an address range
 * each: one entry serves every address of the same function and inline chain. Every file
 * read is untrusted: anything malformed is ignored. FLAMEPROF_SYMCACHE=0 turns it off.
 *
 * Not thread-safe (one per module, used by the symbolizer's thread); not async-signal-safe.
 * Internal to symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_DISKCACHE_H
#define FLAMEPROF_SYMBOLIZE_DISKCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SYMBOLIZE_DISKCACHE_MAX_ENTRIES (1u << 18) /* libc6-dbg's whole libc: 34,632 */

typedef struct symbolize_diskcache symbolize_diskcache;

/* How an address's outer frame got its name: a symbol, DWARF, a PLT stub or _start (named);
 * the start of the FDE around it (a stand-in, but one name for the whole function); its own
 * offset (a stand-in for that address alone: the name kept is a placeholder, and the
 * reader names the frame by the address it sampled, a return address's own). */
typedef enum symbolize_naming {
    SYMBOLIZE_NAMED,
    SYMBOLIZE_BY_FDE,
    SYMBOLIZE_BY_OFFSET,
} symbolize_naming;

/* One cached frame: its display name (owned by the cache), whether it is inlined, and
 * where its function is declared (file NULL and line 0 when unknown). */
typedef struct symbolize_diskframe {
    const char *name;
    bool inlined;
    const char *file;
    unsigned line;
} symbolize_diskframe;

/* The cache for the module file at path, loaded if a valid one exists. want_id (may be
 * NULL) is the build-id the profile expects: a file with another one gets no cache. NULL
 * when the module cannot be cached (no build-id, no cache directory, cache turned off).
 * symbols_only_ok: a file of names from the module's symbol tables alone may be used and
 * made (not where debuginfod could be asked for its DWARF). */
symbolize_diskcache *symbolize_diskcache_open(const char *path, const unsigned char *want_id,
                                              size_t want_len, bool symbols_only_ok);

/* Frames for the module file address a (the call's own address for a return address),
 * outermost first; how many (0: not cached). *naming is set to how the outer frame was
 * named. */
size_t symbolize_diskcache_get(const symbolize_diskcache *c, uint64_t a,
                               symbolize_diskframe *out, size_t max, symbolize_naming *naming);

/* The module has no DWARF and no debug file: its names come from its symbol tables and
 * FDEs (a stripped program: cc1). Written so; a later process uses the file only while no
 * debug file can be found for the module (symbolize_debugfile_found). */
void symbolize_diskcache_set_symbols_only(symbolize_diskcache *c);

/* Records the debug file that supplied the module's DWARF (NULL: the module file itself);
 * only then is anything written. */
void symbolize_diskcache_set_debugfile(symbolize_diskcache *c, const char *debug_path);

/* Remembers frames resolved now for every file address in [lo, hi), to be written by
 * close. Ranges overlapping one already held are dropped. */
void symbolize_diskcache_put(symbolize_diskcache *c, uint64_t lo, uint64_t hi,
                             const symbolize_diskframe *f, size_t n, symbolize_naming naming);

/* Whether the function starting at file address lo is to be filled now: true the first
 * time it is asked about (or when memory is short), false afterwards. */
bool symbolize_diskcache_first_fill(symbolize_diskcache *c, uint64_t lo);

/* Whether every function of the module is in the cache (set_complete was called when it
 * was written): a miss then is an address no function holds, not a reason to fill it all
 * again. set_complete does nothing once the entries reached
 * SYMBOLIZE_DISKCACHE_MAX_ENTRIES (some were left out). */
bool symbolize_diskcache_complete(const symbolize_diskcache *c);
void symbolize_diskcache_set_complete(symbolize_diskcache *c);

/* Whether a file with entries was read (an earlier process resolved in this module). */
bool symbolize_diskcache_loaded(const symbolize_diskcache *c);

/* Writes the file if anything new was put and the DWARF's origin is known, then frees c. */
void symbolize_diskcache_close(symbolize_diskcache *c);

#endif
