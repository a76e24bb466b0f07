/* cfi_cache.h - CFI tables (cfi.h) kept on disk per build-id, so the second process of a
 * binary does not decode its .eh_frame again.
 *
 * Why: building the tables of libc and the other libraries of a small program costs
 * ~10-15 ms of CPU at start (one elfutils call per CFI row), in every process: a build or
 * a test suite runs thousands. Reading a table back is a copy and a check.
 *
 * One file per module build-id in the cache directory (util/cachefile.h): <build-id>.cfi,
 * holding the identity of the module file it was built from; it is used only for that
 * same file (build-id, device, inode, size, mtime). Rows read back are checked (sorted,
 * known kinds) before the handler may search them; anything malformed is a miss.
 *
 * Not async-signal-safe (file I/O, malloc): at start and on dlopen, like cfi_build. */
#ifndef FLAMEPROF_UNWIND_CFI_CACHE_H
#define FLAMEPROF_UNWIND_CFI_CACHE_H

#include "cfi.h"

#include <stddef.h>
#include <sys/stat.h>

/* The table cached for the open module file fd with build-id id, or NULL. */
cfi_table *cfi_cache_load(int fd, const void *id, size_t idlen);

/* The same for the module file whose stat() is *module: for a loaded module whose
 * build-id was read from memory, so the file need not be opened at all on a hit. */
cfi_table *cfi_cache_load_stat(const struct stat *module, const void *id, size_t idlen);

/* Saves t for the module file fd with build-id id (best effort, silent). */
void cfi_cache_store(int fd, const void *id, size_t idlen, const cfi_table *t);

/* The same for the file whose stat() is *module. An image that is no file (the vDSO) is
 * kept under an all-zero stat: its build-id alone names its contents. */
void cfi_cache_store_stat(const struct stat *module, const void *id, size_t idlen,
                          const cfi_table *t);

#endif
