/* diff.h - a differential flame graph from two folded profiles (`flameprof diff`).
 *
 * The graph is laid out by AFTER, as difffolded.pl + flamegraph.pl lay it out, so it shows
 * the program as it is now. Stacks that only BEFORE has would have no width there and
 * vanish with everything below them (flamegraph issue #74); instead each of them is drawn
 * with BEFORE's samples scaled to AFTER's total (rounded, at least 1), where it would sort,
 * so a path that disappeared keeps its place and its old size, and its frames come out
 * blue. So the width of a frame is AFTER's samples plus those of the paths below it that
 * disappeared; the tooltip gives both counts exactly.
 *
 * Colours compare shares, not counts (red: a larger share of AFTER's samples than of
 * BEFORE's; blue: smaller), so two runs of different lengths compare fairly; see
 * svg_write_diff. */
#ifndef FLAMEPROF_DIFF_H
#define FLAMEPROF_DIFF_H

#include "folded.h"
#include "svg.h"

/* Fill out with one entry per stack of either profile. Both profiles must be finished
 * (folded_finish or folded_parse) and outlive out: the entries point at their stacks.
 * Returns 0, or -1 on allocation failure. */
int diff_build(const folded_profile *before, const folded_profile *after, svg_diff *out);

void diff_free(svg_diff *d);

#endif
