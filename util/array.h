/* array.h - the one growable array: a pointer, a length the caller keeps and a capacity.
 *
 *     if (!UTIL_RESERVE(v, cap, len + 1))
 *         return false;       // v, len, cap untouched
 *     v[len++] = x;
 *
 * Capacity doubles (from 16), so n appends cost O(n); a size that would overflow size_t
 * fails like an allocation. Not async-signal-safe (realloc): arrays the signal handler
 * reads are allocated before the timer is armed. Thread-safe as far as the caller's
 * array is not shared. */
#ifndef FLAMEPROF_UTIL_ARRAY_H
#define FLAMEPROF_UTIL_ARRAY_H

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Grows the array whose pointer is at arrp (elements of elsz > 0 bytes, capacity *cap) to
 * hold at least need elements. Returns true, or false with the array and *cap untouched.
 * Prefer UTIL_RESERVE, which takes the array itself and checks its type. */
static inline bool util_array_reserve(void *arrp, size_t *cap, size_t need, size_t elsz)
{
    if (need <= *cap)
        return true;
    size_t n = *cap ? *cap : 16;
    while (n < need) {
        if (n > SIZE_MAX / 2 / elsz)
            return false;
        n *= 2;
    }
    void *arr;
    memcpy(&arr, arrp, sizeof arr); /* any T* read as void*, without aliasing casts */
    void *grown = realloc(arr, n * elsz);
    if (grown == NULL)
        return false;
    memcpy(arrp, &grown, sizeof grown);
    *cap = n;
    return true;
}

/* arr: an lvalue of pointer type; cap: an lvalue of type size_t. */
#define UTIL_RESERVE(arr, cap, need) util_array_reserve(&(arr), &(cap), (need), sizeof *(arr))

#endif
