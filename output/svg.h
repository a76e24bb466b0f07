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
} svg_options;

void svg_options_default(svg_options *o);

/* Render p (finished) to out. Returns 0, or -1 on a write or allocation error. */
int svg_write(const folded_profile *p, const svg_options *o, FILE *out);

#endif
