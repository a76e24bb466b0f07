/* svg.h - interactive, self-contained SVG flame graph from a folded profile.
 *
 * The SVG opens in any browser: hover for details, click to zoom, Ctrl-F / button for a
 * regex search with a "Matched %" computed from sample counts. Output is byte-identical
 * for identical input and options (colours are a hash of the frame name). */
#ifndef FLAMEPROF_SVG_H
#define FLAMEPROF_SVG_H

#include <stdbool.h>
#include <stdio.h>

#include "folded.h"

typedef struct svg_options {
    const char *title;     /* default "Flame Graph" */
    const char *subtitle;  /* NULL: none */
    const char *countname; /* unit in tooltips, default "samples" */
    const char *colors;    /* palette: "hot" (default), "java", "js" */
    int width;             /* image width in px, default 1200 */
    double minwidth;       /* frames narrower than this (px) are merged, default 0.1 */
    bool inverted;         /* icicle graph: root at the top */
    bool reverse;          /* merge stacks from the leaf instead of the root */
    bool full_labels;      /* frame labels from the full name; default: its short form
                            * (shortname.h), the full name in the tooltip and search */
} svg_options;

void svg_options_default(svg_options *o);

/* Render p (finished) to out. Returns 0, or -1 on a write or allocation error. */
int svg_write(const folded_profile *p, const svg_options *o, FILE *out);

/* ---- differential flame graphs (diff.h builds them from two profiles) ---- */

/* One stack of a differential graph. The e.count samples set its width; before and after
 * are its samples in the two profiles compared, which set colour and tooltip. */
typedef struct svg_diff_entry {
    folded_entry e;
    uint64_t before, after;
} svg_diff_entry;

typedef struct svg_diff {
    svg_diff_entry *entries; /* sorted by stack, as folded_finish sorts */
    size_t len;
    uint64_t before_total, after_total; /* each profile's samples: shares are against them */
} svg_diff;

/* Render a differential graph: laid out like svg_write by the e.count of the entries; a
 * frame is red where its share of the samples grew from BEFORE to AFTER, blue where it
 * shrank, deeper with the size of the change (relative to the largest in the graph), grey
 * where it did not change. Tooltips give both counts, both shares and the change. The
 * options are those of svg_write (colors is ignored); the default title becomes
 * "Differential Flame Graph". Returns 0, or -1 on a write or allocation error. */
int svg_write_diff(const svg_diff *d, const svg_options *o, FILE *out);

#endif
