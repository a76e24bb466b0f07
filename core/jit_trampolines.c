/* jit_trampolines.c - CPython trampoline pages, published for the handler (see
 * jit_trampolines.h). */
#include "jit_trampolines.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

enum { PAGE = 4096 };

static uint64_t *g_tramp_pages; /* sorted page numbers of CPython trampolines */
static size_t g_tramp_len, g_tramp_cap;
static bool g_tramp_dirty;
static _Atomic(const unwind_ranges *) g_tramp;

void jit_trampolines_add(uint64_t start, uint64_t end)
{
    for (uint64_t p = start / PAGE; p <= (end - 1) / PAGE; p++) {
        size_t i = 0;
        while (i < g_tramp_len && g_tramp_pages[i] < p)
            i++;
        if (i < g_tramp_len && g_tramp_pages[i] == p)
            continue;
        if (!UTIL_RESERVE(g_tramp_pages, g_tramp_cap, g_tramp_len + 1))
            return;
        memmove(g_tramp_pages + i + 1, g_tramp_pages + i,
                (g_tramp_len - i) * sizeof *g_tramp_pages);
        g_tramp_pages[i] = p;
        g_tramp_len++;
        g_tramp_dirty = true;
    }
}

/* Publish the trampoline pages as merged ranges. The old array is left alive: a handler
 * may be reading it, and publications are rare (a new page of trampolines). */
void jit_trampolines_publish(void)
{
    if (!g_tramp_dirty)
        return;
    unwind_ranges *r = malloc(sizeof *r + g_tramp_len * sizeof r->r[0]);
    if (!r)
        return;
    r->len = 0;
    for (size_t i = 0; i < g_tramp_len; i++) {
        uint64_t lo = g_tramp_pages[i] * PAGE;
        if (r->len && r->r[r->len - 1].hi == lo)
            r->r[r->len - 1].hi = lo + PAGE;
        else
            r->r[r->len++] = (struct unwind_range){ lo, lo + PAGE };
    }
    atomic_store_explicit(&g_tramp, r, memory_order_release);
    g_tramp_dirty = false;
}

const unwind_ranges *jit_trampolines(void)
{
    return atomic_load_explicit(&g_tramp, memory_order_acquire);
}
