/* thread_root.h - the root frame "[name tid]" that keeps threads apart in folded stacks.
 *
 * With FLAMEPROF_THREADS=1 (or --threads) each stack starts with one such frame
 * (core/report.c makes it, core/filter.c merges it away by default); the pprof writer turns
 * it into the labels "thread" and "thread_id" and its reader turns them back. Pure:
 * thread-safe and async-signal-safe. */
#ifndef FLAMEPROF_UTIL_THREAD_ROOT_H
#define FLAMEPROF_UTIL_THREAD_ROOT_H

#include <stdbool.h>
#include <stddef.h>

/* Is frame[0..len) "[name tid]" (tid: decimal digits)? Then *digits (may be NULL) is the
 * offset of tid's first digit; the name is frame[1 .. *digits - 1). */
static inline bool util_thread_root(const char *frame, size_t len, size_t *digits)
{
    if (len < 4 || frame[0] != '[' || frame[len - 1] != ']')
        return false;
    size_t i = len - 1, n = 0;
    while (i > 1 && frame[i - 1] >= '0' && frame[i - 1] <= '9') {
        i--;
        n++;
    }
    if (n == 0 || frame[i - 1] != ' ')
        return false;
    if (digits)
        *digits = i;
    return true;
}

#endif
