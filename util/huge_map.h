/* huge_map.h - anonymous memory of our own, aligned to a 2 MB huge page and advised to be
 * backed by huge pages (MADV_HUGEPAGE: a hint; the usual "madvise" setting grants it).
 *
 * Why our own mapping and not the program's allocator: an aligned allocation of that size
 * from a constructor reaches whatever malloc the program brings, and Chromium's
 * (PartitionAlloc, which replaces glibc's) traps on a 2 MB-aligned posix_memalign. And one
 * TLB entry for 2 MB that the handler searches at random (the memo, node's CFI table).
 *
 * Not async-signal-safe (mmap); release with util_huge_unmap(p, size). */
#ifndef FLAMEPROF_UTIL_HUGE_MAP_H
#define FLAMEPROF_UTIL_HUGE_MAP_H

#include <stddef.h>
#include <stdint.h>
#include <sys/mman.h>

#define UTIL_HUGE_PAGE ((size_t)2 << 20)

/* size bytes (rounded up to 4 KB pages) at a 2 MB boundary, zeroed, whole 2 MB pieces
 * advised huge; NULL if the memory cannot be had. Over-maps by 2 MB and trims. */
static inline void *util_huge_map(size_t size)
{
    size = (size + 4095) & ~(size_t)4095;
    if (size == 0 || size > SIZE_MAX - UTIL_HUGE_PAGE)
        return NULL;
    char *p = mmap(NULL, size + UTIL_HUGE_PAGE, PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uintptr_t start = ((uintptr_t)p + UTIL_HUGE_PAGE - 1) & ~(uintptr_t)(UTIL_HUGE_PAGE - 1);
    if (start > (uintptr_t)p)
        munmap(p, start - (uintptr_t)p);
    size_t tail = (size_t)((uintptr_t)p + size + UTIL_HUGE_PAGE - (start + size));
    if (tail)
        munmap((char *)(start + size), tail);
#ifdef MADV_HUGEPAGE
    if (size >= UTIL_HUGE_PAGE) /* a hint: refused is fine */
        madvise((void *)start, size & ~(UTIL_HUGE_PAGE - 1), MADV_HUGEPAGE);
#endif
    return (void *)start;
}

static inline void util_huge_unmap(void *p, size_t size)
{
    if (p)
        munmap(p, (size + 4095) & ~(size_t)4095);
}

#endif
