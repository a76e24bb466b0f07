/* spans.c - address ranges covering a pc (see spans.h). */
#include "spans.h"

#include <stdlib.h>

typedef struct keyed {
    uint64_t start;
    uint32_t id;
} keyed;

static int by_start(const void *a, const void *b)
{
    const keyed *x = a, *y = b;
    if (x->start != y->start)
        return x->start < y->start ? -1 : 1;
    return x->id < y->id ? -1 : x->id > y->id;
}

void spans_free(spans *s)
{
    free(s->id);
    free(s->start);
    free(s->end);
    free(s->max_end);
    *s = (spans){ 0 };
}

bool spans_build(spans *s, size_t n, spans_get_fn get, const void *ctx)
{
    spans_free(s);
    if (n == 0)
        return true;
    keyed *k = n < UINT32_MAX ? malloc(n * sizeof *k) : NULL;
    s->id = malloc(n * sizeof *s->id);
    s->start = malloc(n * sizeof *s->start);
    s->end = malloc(n * sizeof *s->end);
    s->max_end = malloc(n * sizeof *s->max_end);
    if (!k || !s->id || !s->start || !s->end || !s->max_end) {
        free(k);
        spans_free(s);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        uint64_t end;
        get(ctx, i, &k[i].start, &end);
        k[i].id = (uint32_t)i;
        s->end[i] = end; /* by id for now */
    }
    qsort(k, n, sizeof *k, by_start);
    uint64_t mx = 0;
    for (size_t i = 0; i < n; i++) {
        s->id[i] = k[i].id;
        s->start[i] = k[i].start;
        s->max_end[i] = s->end[k[i].id]; /* the ends, reordered below */
    }
    for (size_t i = 0; i < n; i++) {
        s->end[i] = s->max_end[i];
        s->max_end[i] = mx = s->end[i] > mx ? s->end[i] : mx;
    }
    s->len = n;
    free(k);
    return true;
}

size_t spans_upper(const spans *s, uint64_t pc)
{
    size_t lo = 0, hi = s->len; /* the first start above pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (s->start[mid] <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

bool spans_prev(const spans *s, size_t *pos, uint64_t pc, size_t *id)
{
    while (*pos > 0 && s->max_end[*pos - 1] > pc) {
        size_t i = --*pos;
        if (s->end[i] > pc) {
            *id = s->id[i];
            return true;
        }
    }
    *pos = 0;
    return false;
}
