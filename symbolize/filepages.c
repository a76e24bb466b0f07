/* filepages.c - see filepages.h. */
#include "filepages.h"

#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/mman.h>

/* Is [p, p + size) inside one read-only, file-backed mapping of ours? */
static bool symbolize_is_file_mapping(const char *p, size_t size)
{
    FILE *f = fopen("/proc/self/maps", "re");
    if (f == NULL)
        return false;
    char line[512];
    bool ok = false;
    uintptr_t a = (uintptr_t)p;
    while (!ok && fgets(line, sizeof line, f)) {
        uintptr_t lo, hi;
        char perms[5];
        unsigned long long inode;
        if (sscanf(line, "%" SCNxPTR "-%" SCNxPTR " %4s %*s %*s %llu", &lo, &hi, perms,
                   &inode) == 4 && lo <= a && a - lo < hi - lo)
            ok = inode != 0 && perms[1] == '-' && size <= hi - a;
    }
    fclose(f);
    return ok;
}

void symbolize_filepages_drop(symbolize_filepages *fp, Elf *elf)
{
    fp->uses = 0;
    if (!fp->checked && elf != NULL) {
        size_t size = 0;
        char *base = elf_rawfile(elf, &size);
        fp->checked = true;
        if (base != NULL && size > 0 && ((uintptr_t)base & 4095) == 0 &&
            symbolize_is_file_mapping(base, size)) {
            fp->base = base;
            fp->size = size;
        }
    }
    if (fp->base != NULL)
        madvise(fp->base, fp->size, MADV_DONTNEED);
}

void symbolize_filepages_used(symbolize_filepages *fp, Elf *elf)
{
    if (++fp->uses >= SYMBOLIZE_FILEPAGES_EVERY)
        symbolize_filepages_drop(fp, elf);
}
