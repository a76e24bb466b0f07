/* svg_layout.h - where the frames of a flame graph go, in samples: one item per rect.
 * Internal to output/ (svg.c draws the items).
 *
 * Children are placed left to right in stack order, each at its parent's start plus the
 * counts of its earlier siblings (self time is the gap on the right). A run of adjacent
 * siblings each narrower than minwidth becomes one item: a lone one keeps its name,
 * several become one aggregate. Nothing below a narrow frame is drawn: towers of slivers
 * would be most of the file and no one can point at them. Every sample stays in the graph,
 * and its size is bounded by the image width rather than by the input.
 *
 * The entries are read in one streaming pass with a stack of open frames (they are sorted,
 * so every frame's stacks are nearly contiguous): no call tree, no hash table, memory
 * proportional to stack depth plus what is drawn. Not thread-safe; one layout per render. */
#ifndef FLAMEPROF_SVG_LAYOUT_H
#define FLAMEPROF_SVG_LAYOUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "svg.h"

/* The entries to lay out: folded_entry structs, or for a differential graph the
 * svg_diff_entry structs that start with one, stride bytes apart. Copies (reverse mode, a
 * re-sort) keep the stride, so the counts of both profiles follow their stacks. Read only. */
typedef struct svg_entries {
    char *base;
    size_t n, stride;
    bool diff;
} svg_entries;

/* Samples of both profiles of a differential graph (zero in a plain one). */
typedef struct svg_ba {
    uint64_t before, after;
} svg_ba;

typedef struct svg_item {
    uint64_t start, count; /* in samples, from the left edge of the root */
    const char *name;      /* NULL: an aggregate of nsmall narrow siblings */
    uint32_t len, depth, nsmall; /* name is name[0..len), not NUL-terminated; root depth 0 */
    svg_ba ba;
} svg_item;

typedef struct svg_layout {
    svg_item *it; /* children before their parent; the root ("all") last */
    size_t len, cap;
    uint32_t max_depth;
    /* private to svg_layout.c */
    struct svg_open_frame *fr; /* fr[0] is the root, fr[d] the open frame at depth d */
    size_t depth, fr_cap;
    double min_count; /* frames with fewer samples are narrower than minwidth */
    char *names;      /* reverse mode: the text of the leaf-first stacks the items name */
} svg_layout;

/* Lays out the entries of in into l (zeroed by the caller) for a graph px_wide pixels
 * wide, as o's minwidth and reverse say, and sets *total to the sum of their counts (the
 * width of the root; nothing is laid out if it is 0). Entries not sorted by stack are
 * sorted in a copy first. Item names point into the entries (or l->names): keep them
 * until the items are drawn. Returns 0, or -1 if memory is short. */
int svg_layout_build(svg_layout *l, const svg_entries *in, const svg_options *o, int px_wide,
                     uint64_t *total);

void svg_layout_free(svg_layout *l);

#endif
