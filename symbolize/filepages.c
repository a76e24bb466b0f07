/* filepages.c - see filepages.h. */
#include "filepages.h"

#include <stdbool.h>
#include <stdint.h>
#include <sys/mman.h>

#include "procmaps.h"

typedef struct file_span {
    uint64_t a, size;
    bool ok;
} file_span;

static bool check_span(void *ctx, const util_mapping *m)
{
    file_span *s = ctx;
    if (m->lo > s->a || s->a - m->lo >= m->hi - m->lo)
        return true;
    s->ok = m->inode != 0 && m->perms[1] == '-' && s->size <= m->hi - s->a;
    return false; /* the mapping holding a: the answer */
}

/* Is [p, p + size) inside one read-only, file-backed mapping of ours? */
static bool symbolize_is_file_mapping(const char *p, size_t size)
{
    file_span s = { (uint64_t)(uintptr_t)p, size, false };
    util_procmaps_each(check_span, &s);
    return s.ok;
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
