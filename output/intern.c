/* intern.c - string numbering with an open-addressing hash table. See intern.h. */
#include "intern.h"

#include "array.h"

#include <stdlib.h>
#include <string.h>

void intern_init(intern_table *t)
{
    memset(t, 0, sizeof(*t));
}

void intern_free(intern_table *t)
{
    free(t->strs);
    free(t->slots);
    intern_init(t);
}

/* Eight bytes at a time: frame names are tens of bytes and there are a million of them in
 * a big profile, so a byte-at-a-time hash would be most of a conversion. */
static uint64_t hash_bytes(const char *s, size_t n)
{
    uint64_t h = 0x9e3779b97f4a7c15u ^ n, w;
    for (; n >= 8; s += 8, n -= 8) {
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xff51afd7ed558ccdu;
        h ^= h >> 32;
    }
    w = 0;
    memcpy(&w, s, n);
    h = (h ^ w) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 29);
}

static int rehash(intern_table *t)
{
    size_t n = t->nslots ? t->nslots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof(*slots));
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->len; i++) {
        size_t j = t->strs[i].hash & (n - 1);
        while (slots[j])
            j = (j + 1) & (n - 1);
        slots[j] = (uint32_t)(i + 1);
    }
    free(t->slots);
    t->slots = slots;
    t->nslots = n;
    return 0;
}

long intern(intern_table *t, const char *s, size_t len, int *added)
{
    if (added)
        *added = 0;
    /* At most half full, so probes stay short; numbers must fit the slots. */
    if ((t->len + 1) * 2 > t->nslots && rehash(t) < 0)
        return -1;
    if (t->len >= UINT32_MAX - 1)
        return -1;
    uint64_t h = hash_bytes(s, len);
    size_t j = h & (t->nslots - 1);
    for (; t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        const intern_str *e = &t->strs[t->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
            return (long)(t->slots[j] - 1);
    }
    if (!UTIL_RESERVE(t->strs, t->cap, t->len + 1))
        return -1;
    t->strs[t->len] = (intern_str){ s, len, h };
    t->slots[j] = (uint32_t)(t->len + 1);
    if (added)
        *added = 1;
    return (long)t->len++;
}

long intern_find(const intern_table *t, const char *s, size_t len)
{
    if (!t->nslots)
        return -1;
    uint64_t h = hash_bytes(s, len);
    for (size_t j = h & (t->nslots - 1); t->slots[j]; j = (j + 1) & (t->nslots - 1)) {
        const intern_str *e = &t->strs[t->slots[j] - 1];
        if (e->hash == h && e->len == len && memcmp(e->s, s, len) == 0)
            return (long)(t->slots[j] - 1);
    }
    return -1;
}
