/* timeline.c - per-slot stack weights: see timeline.h. */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

void timeline_init(timeline *t, uint64_t t0_ns)
{
    memset(t, 0, sizeof *t);
    t->t0_ns = t0_ns;
}

void timeline_free(timeline *t)
{
    free(t->cells);
    timeline_init(t, t->t0_ns);
}

void timeline_clear(timeline *t)
{
    t->len = 0;
}

int timeline_add(timeline *t, uint32_t slot, uint32_t id, uint64_t weight)
{
    if (t->len == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 1024;
        timeline_cell *c = realloc(t->cells, cap * sizeof *c);
        if (!c) {
            t->lost += weight;
            return -1;
        }
        t->cells = c;
        t->cap = cap;
    }
    t->cells[t->len++] = (timeline_cell){ slot, id, weight };
    return 0;
}

int timeline_add_time(timeline *t, uint64_t time_ns, uint32_t id, uint64_t weight)
{
    uint64_t slot = time_ns > t->t0_ns ? (time_ns - t->t0_ns) / TIMELINE_SLOT_NS : 0;
    return timeline_add(t, slot > UINT32_MAX ? UINT32_MAX : (uint32_t)slot, id, weight);
}

static int cell_cmp(const void *a, const void *b)
{
    const timeline_cell *x = a, *y = b;
    if (x->slot != y->slot)
        return x->slot < y->slot ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void timeline_finish(timeline *t)
{
    if (t->len < 2)
        return;
    qsort(t->cells, t->len, sizeof *t->cells, cell_cmp);
    size_t out = 0;
    for (size_t i = 1; i < t->len; i++) {
        timeline_cell *o = &t->cells[out], *c = &t->cells[i];
        if (c->slot == o->slot && c->id == o->id)
            o->weight += c->weight;
        else
            t->cells[++out] = *c;
    }
    t->len = out + 1;
}

size_t timeline_lower(const timeline *t, uint32_t slot)
{
    size_t a = 0, b = t->len;
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (t->cells[mid].slot < slot)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

uint32_t timeline_end(const timeline *t)
{
    return t->len ? t->cells[t->len - 1].slot + 1 : 0;
}
