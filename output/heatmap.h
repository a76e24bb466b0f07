/* heatmap.h - the FlameScope-style heatmap page: one self-contained HTML file (no server,
 * no network) with a subsecond-offset heatmap of a timeline (a column per second, a row
 * per 20 ms slot within it, coloured by weight) where a selected time range opens as a
 * flame graph rendered in the page, with the SVG viewer's zoom, search and Matched %
 * (viewer.js drives an SVG built in JS), and two ranges compare as a differential graph.
 *
 * The page's JS, CSS and HTML live in output/heatmap.js, heatmap.css, heatmap.html
 * (embedded at build time, heatmap_files.h). The data it carries is compact enough for an
 * hour-long run: the distinct frame names once, the stacks as a tree of (parent, frame)
 * nodes, and the slots as one base64 stream of varints: per slot the number of stacks,
 * then (id delta, weight) pairs.
 *
 * Not async-signal-safe: at exit and in tools. */
#ifndef FLAMEPROF_HEATMAP_H
#define FLAMEPROF_HEATMAP_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct heatmap_cell {
    uint32_t slot; /* since the profile began, 20 ms each */
    uint32_t id;   /* the stack */
    uint64_t weight;
} heatmap_cell;

typedef struct heatmap_input {
    const char *const *stacks; /* by id: frames root-first, ';'-separated; NULL: none */
    size_t nstacks;
    const heatmap_cell *cells; /* sorted by (slot, id), merged */
    size_t ncells;
    uint32_t first_slot;       /* the slots before it were dropped */
    uint64_t start_unix_ns;    /* when the profile began (0: unknown) */
    unsigned freq;
    const char *title;         /* "pid 4242" */
} heatmap_input;

/* Returns 0, or -1 on a write or allocation error. */
int heatmap_write(const heatmap_input *in, FILE *out);

#endif
