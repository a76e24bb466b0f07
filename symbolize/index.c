/* index.c - hash index and span search; see index.h for the contract. */
#include "index.h"

#include <stdlib.h>

/* How far back a lookup walks for a span that encloses smaller ones (asm entry points
 * inside a bigger sized symbol). Bounded so a miss in a gap stays O(log n). */
#define SYMBOLIZE_NEST_WALK 16

uint32_t symbolize_hash64(uint64_t x)
{
    /* splitmix64 finalizer: cheap and mixes the low page-offset bits of addresses. */
    x ^= x >> 30;
    x *= 0xbf58476d1ce4e5b9ULL;
    x ^= x >> 27;
    x *= 0x94d049bb133111ebULL;
    x ^= x >> 31;
    return (uint32_t)x;
}

uint32_t symbolize_hash_str(const char *s, size_t len)
{
    uint64_t h = 0xcbf29ce484222325ULL; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3ULL;
    return symbolize_hash64(h);
}


symbolize_slot *symbolize_htab_find(const symbolize_htab *t, uint32_t hash,
                                    symbolize_eq_fn eq, const void *ctx, const void *key)
{
    if (t->cap == 0)
        return NULL;
    size_t mask = t->cap - 1;
    for (size_t i = hash & mask;; i = (i + 1) & mask) {
        symbolize_slot *s = &t->slots[i];
        if (s->idx1 == 0)
            return NULL;
        if (s->hash == hash && eq(ctx, s->idx1 - 1, key))
            return s;
    }
}

static void symbolize_htab_place(symbolize_slot *slots, size_t cap, symbolize_slot in)
{
    size_t mask = cap - 1;
    size_t i = in.hash & mask;
    while (slots[i].idx1 != 0)
        i = (i + 1) & mask;
    slots[i] = in;
}

bool symbolize_htab_insert(symbolize_htab *t, uint32_t hash, uint32_t idx)
{
    if ((t->count + 1) * 10 > t->cap * 7) {
        size_t ncap = t->cap ? t->cap * 2 : 64;
        symbolize_slot *ns = calloc(ncap, sizeof *ns);
        if (ns == NULL)
            return false;
        for (size_t i = 0; i < t->cap; i++)
            if (t->slots[i].idx1 != 0)
                symbolize_htab_place(ns, ncap, t->slots[i]);
        free(t->slots);
        t->slots = ns;
        t->cap = ncap;
    }
    symbolize_htab_place(t->slots, t->cap, (symbolize_slot){ hash, idx + 1 });
    t->count++;
    return true;
}

static const symbolize_span *symbolize_span_at(const void *base, size_t stride, size_t i)
{
    return (const symbolize_span *)((const char *)base + i * stride);
}

/* Index of the element (array sorted by span.lo) whose span holds a, or SIZE_MAX. Spans
 * may nest (an asm entry point inside a bigger symbol, a function's hot and cold parts):
 * the latest start wins, and a bounded walk back finds an enclosing span. */
size_t symbolize_span_find(const void *base, size_t n, size_t stride, uint64_t a)
{
    size_t lo = 0, hi = n; /* first element starting after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (symbolize_span_at(base, stride, mid)->lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t i = lo, steps = 0; i > 0 && steps < SYMBOLIZE_NEST_WALK; i--, steps++)
        if (a < symbolize_span_at(base, stride, i - 1)->hi)
            return i - 1;
    return SIZE_MAX;
}

int symbolize_span_cmp(const void *pa, const void *pb)
{
    const symbolize_span *a = pa, *b = pb;
    return a->lo < b->lo ? -1 : a->lo > b->lo;
}
