/* modules.h - the loaded ELF modules, as the signal handler and the symbolizer see them.
 *
 * The registry is rebuilt outside the handler: at start and after every dlopen/dlclose
 * (dl_iterate_phdr takes the loader lock, which a signal handler must never touch). Each
 * rebuild publishes an immutable module_map with a new generation number through one
 * atomic pointer; the handler loads it once per sample and records its generation, so
 * an address is later symbolized against the modules that were mapped when it was
 * sampled, even if the library has since been dlclose'd and its range reused.
 *
 * Modules and maps are never freed while the process runs: a handler may still hold one. */
#ifndef FLAMEPROF_MODULES_H
#define FLAMEPROF_MODULES_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cfi.h"

#define MODULE_BUILD_ID_MAX 64 /* bytes; GNU ld writes 20 (sha1), some linkers 16 or 32 */

typedef struct unwind_module {
    int id;                /* index in the registry, stable for the process's life */
    uint64_t start, end;   /* runtime address range covered by its PT_LOAD segments */
    uint64_t bias;         /* load bias: runtime address - file address */
    _Atomic(const cfi_table *) cfi; /* NULL without a usable .eh_frame_hdr (module_cfi) */
    const char *path;      /* absolute path of the file, or "[vdso]" */
    const void *image;     /* the vDSO's in-memory ELF image, else NULL */
    size_t image_size;
    /* The file's GNU build-id as it was when profiled (0 bytes: none): `flameprof report`
     * checks that the file it reads later is still that one, and asks debuginfod by it. */
    unsigned char build_id[MODULE_BUILD_ID_MAX];
    size_t build_id_len;
} unwind_module;

/* Ranges inline, so the handler's binary search reads one contiguous array rather than a
 * module struct per step (each a likely cache and TLB miss while the program runs). Each
 * range is one cache line with all a CFI lookup needs of its module (its offset and a view
 * of its table: cfi.h), so a lookup goes from the range found straight to the table's
 * index, reading neither the module struct nor the table's header. Tables are built
 * before the map holding them is published, and freed only at exit once no handler runs
 * (modules_release_cfi). */
typedef struct module_range {
    uint64_t start, end;
    const unwind_module *mod;
    uint64_t rel;  /* a pc's offset in the table is pc - rel (the bias + the table's base) */
    cfi_view cfi;  /* the module's table (cfi.t NULL: none) */
} module_range;

typedef struct module_map {
    uint32_t gen;
    size_t len;
    _Alignas(64) module_range r[]; /* sorted by start, non-overlapping */
} module_map;

/* Scan the loaded modules and publish a new map (builds CFI tables for new modules).
 * Call at start and after dlopen/dlclose. Thread-safe; not async-signal-safe. */
void modules_refresh(void);

/* The current map, or NULL before the first refresh. Async-signal-safe. */
const module_map *modules_current(void);

/* The module's unwind table, or NULL (none, or not built yet). Async-signal-safe. */
const cfi_table *module_cfi(const unwind_module *m);

/* The module containing pc, or NULL. Async-signal-safe. */
const unwind_module *module_map_find(const module_map *m, uint64_t pc);

/* Its range, or NULL. Async-signal-safe. */
const module_range *module_map_range(const module_map *m, uint64_t pc);

/* The map of generation gen (for symbolization), or NULL. */
const module_map *modules_by_gen(uint32_t gen);

/* Every module ever registered, ids 0..modules_count()-1. */
size_t modules_count(void);
const unwind_module *modules_get(int id);

/* Rebuilding a registry from a raw spill (flameprof report), in a process that is not the
 * profiled one: register module id (ids must come 0, 1, 2, ... in order) and publish the
 * map of the next generation. No CFI tables are built. Return 0, or -1 if out of order.
 * A module or generation restored again exactly as before (a later snapshot of the same
 * process, read by `flameprof dump -d`) is accepted as it is. */
int modules_restore(int id, const char *path, uint64_t start, uint64_t end, uint64_t bias);
int modules_restore_map(uint32_t gen, const int *ids, size_t n);
/* The build-id module id had when profiled (before anything is symbolized). 0, or -1 for
 * an unknown id or a length over MODULE_BUILD_ID_MAX. A "[vdso]" whose build-id is this
 * process's own vDSO's (the same kernel) is read from ours: its image died with the
 * profiled process. */
int modules_restore_build_id(int id, const unsigned char *build_id, size_t len);

/* The process is ending and no handler will walk a stack again (sampling stopped for good,
 * none in flight): free every module's unwind table before the exit report needs the memory
 * (node: 2.5 MB). A module registered later (a dlopen on another thread) keeps its table;
 * module_cfi returns NULL for the others from now on, so a walk would fall back to frame
 * pointers rather than read freed memory. Not async-signal-safe. */
void modules_release_cfi(void);

/* The GNU build-id of a loaded object, read from its PT_NOTE segments as the loader mapped
 * them (what the registry records, so a cached table needs no open of the file): its
 * length, or 0 if none is there. Reads only memory inside the object's PT_LOADs. */
struct dl_phdr_info;
size_t modules_image_build_id(const struct dl_phdr_info *info, unsigned char *out, size_t cap);

/* After fork, in the child: the registry lock may have been held by a thread that does not
 * exist in the child. */
void modules_after_fork_child(void);

#endif
