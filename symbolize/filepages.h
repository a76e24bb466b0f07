/* filepages.h - giving back the pages of a module file that symbolizing touched.
 *
 * Why: libelf maps a module file whole and read-only (ELF_C_READ_MMAP), and every page
 * symbolizing touches (the symbol table once, then each name, DWARF unit and FDE looked
 * up) stays resident until the file is closed; the kernel maps 64 KB around each fault,
 * so a few hundred names spread over node's 7 MB .strtab made all of it resident: node's
 * peak RSS at exit grew by 22 MB for its 98 MB binary. Dropping the mapped pages now and
 * then (MADV_DONTNEED) bounds that: the data stays where it is, and a later read faults
 * it back in from the page cache.
 *
 * Only for a read-only mapping of a file (checked in /proc/self/maps once per file):
 * libelf falls back to reading the file into memory when mmap fails, and dropping heap
 * pages would lose them. Not async-signal-safe; internal to symbolize/. */
#ifndef FLAMEPROF_SYMBOLIZE_FILEPAGES_H
#define FLAMEPROF_SYMBOLIZE_FILEPAGES_H

#include <libelf.h>
#include <stdbool.h>

typedef struct symbolize_filepages {
    char *base;   /* the mapping, when it is one we may drop; else NULL */
    size_t size;
    bool checked; /* base/size found (or found not droppable) */
    unsigned uses; /* lookups since the last drop */
} symbolize_filepages;

/* Drop elf's mapped pages from this process's memory, if elf is a read-only file mapping
 * (fp remembers what was found for it). */
void symbolize_filepages_drop(symbolize_filepages *fp, Elf *elf);

/* Count one lookup; every SYMBOLIZE_FILEPAGES_EVERY of them, drop. */
void symbolize_filepages_used(symbolize_filepages *fp, Elf *elf);

#define SYMBOLIZE_FILEPAGES_EVERY 64

#endif
