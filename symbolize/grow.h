/* grow.h - the growable arrays of symbolize/'s tables. */
#ifndef FLAMEPROF_GROW_H
#define FLAMEPROF_GROW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Grows *p (an array of *cap elements of elem bytes) to hold at least need, doubling from
 * first. Returns false (leaving *p and *cap as they were) when memory is short. */
static inline bool grow_array(void **p, size_t *cap, size_t need, size_t elem, size_t first)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : first;
    while (n < need)
        n *= 2;
    void *q = realloc(*p, n * elem);
    if (!q)
        return false;
    *p = q;
    *cap = n;
    return true;
}

#endif
