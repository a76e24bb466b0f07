/* idcount.c - occurrences per id, open addressing. See idcount.h. */
#include "idcount.h"

#include <stdlib.h>
#include <string.h>

#include "array.h"

static size_t slot_of(const idcount *t, int64_t id)
{
    uint64_t h = (uint64_t)id * UINT64_C(0x9e3779b97f4a7c15);
    return (size_t)(h ^ (h >> 29)) & (t->nslots - 1);
}

static int rehash(idcount *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (!slots || t->len >= UINT32_MAX - 1) {
        free(slots);
        return -1;
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    for (size_t i = 0; i < t->len; i++) {
        size_t s = slot_of(t, t->e[i].id);
        while (t->slots[s])
            s = (s + 1) & (n - 1);
        t->slots[s] = (uint32_t)i + 1;
    }
    return 0;
}

idcount_entry *idcount_add(idcount *t, int64_t id, int *added)
{
    *added = 0;
    if ((t->len + 1) * 2 > t->nslots && rehash(t) < 0)
        return NULL;
    size_t s = slot_of(t, id);
    for (; t->slots[s]; s = (s + 1) & (t->nslots - 1)) {
        idcount_entry *e = &t->e[t->slots[s] - 1];
        if (e->id == id) {
            e->count++;
            return e;
        }
    }
    if (!UTIL_RESERVE(t->e, t->cap, t->len + 1))
        return NULL;
    t->slots[s] = (uint32_t)t->len + 1;
    t->e[t->len] = (idcount_entry){ id, 1, 0, 0 };
    *added = 1;
    return &t->e[t->len++];
}

void idcount_free(idcount *t)
{
    free(t->e);
    free(t->slots);
    memset(t, 0, sizeof(*t));
}
