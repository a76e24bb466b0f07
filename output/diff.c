/* diff.c - two sorted profiles merged into the entries of a differential graph. See diff.h. */
#include "diff.h"

#include <stdlib.h>
#include <string.h>

/* before * a_total / b_total, rounded half up, at least 1, saturated: the width of a path
 * that only BEFORE has, in AFTER's samples. */
static uint64_t scaled(uint64_t before, uint64_t b_total, uint64_t a_total)
{
    if (!a_total || !b_total)
        return before;
    unsigned __int128 v = ((unsigned __int128)before * a_total + b_total / 2) / b_total;
    return v == 0 ? 1 : v > UINT64_MAX ? UINT64_MAX : (uint64_t)v;
}

int diff_build(const folded_profile *before, const folded_profile *after, svg_diff *out)
{
    memset(out, 0, sizeof(*out));
    size_t cap = before->len + after->len;
    out->entries = malloc((cap ? cap : 1) * sizeof(*out->entries));
    if (!out->entries)
        return -1;
    out->before_total = before->total;
    out->after_total = after->total;
    size_t i = 0, j = 0, n = 0;
    /* A merge join: both lists are sorted by stack, and so is the result. */
    while (i < before->len || j < after->len) {
        const folded_entry *b = i < before->len ? &before->entries[i] : NULL;
        const folded_entry *a = j < after->len ? &after->entries[j] : NULL;
        int c = !b ? 1 : !a ? -1 : strcmp(b->stack, a->stack);
        svg_diff_entry *e = &out->entries[n++];
        if (c == 0) {
            *e = (svg_diff_entry){ { a->stack, a->count }, b->count, a->count };
            i++, j++;
        } else if (c > 0) {
            *e = (svg_diff_entry){ { a->stack, a->count }, 0, a->count };
            j++;
        } else {
            uint64_t w = scaled(b->count, before->total, after->total);
            *e = (svg_diff_entry){ { b->stack, w }, b->count, 0 };
            i++;
        }
    }
    out->len = n;
    return 0;
}

void diff_free(svg_diff *d)
{
    free(d->entries);
    memset(d, 0, sizeof(*d));
}
