/* jit_array.h - the growable arrays of the jit_* files (executable mappings, trampoline
 * pages): one helper, so that each file does not grow its own. Not for a signal handler
 * (realloc). */
#ifndef FLAMEPROF_JIT_ARRAY_H
#define FLAMEPROF_JIT_ARRAY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>

/* Make room for one more element in a growable array. */
static inline bool room_for_one(void **v, size_t len, size_t *cap, size_t elem)
{
    if (len < *cap)
        return true;
    size_t n = *cap ? *cap * 2 : 64;
    void *p = realloc(*v, n * elem);
    if (!p)
        return false;
    *v = p;
    *cap = n;
    return true;
}

#endif
