/* speedscope.h - folded stacks as a speedscope JSON file (https://www.speedscope.app).
 *
 * The file format's "sampled" profile: shared.frames lists each distinct folded frame
 * once, in order of first appearance in the sorted stacks, as speedscope shows it: "name"
 * the function's name without tag, JIT tier or location, "file", "line", "col" where the
 * name tells them (frame_parse.h), else "file" and "line" from the profile's sources
 * (frame_source.h: DWARF, for native code), and, when the name is not the whole folded frame, that
 * frame under "folded" (a key speedscope ignores; input/speedscope_read.c reads it, so
 * folded -> speedscope -> folded is exact); each folded line becomes one sample
 * (frame indexes root first) whose weight is its count; unit "none" (the schema has no
 * unit for sample counts), startValue 0, endValue the total. Names are JSON-escaped, and
 * bytes that are not UTF-8 become U+FFFD, so any input gives valid JSON. Output is
 * byte-identical for identical input. */
#ifndef FLAMEPROF_SPEEDSCOPE_H
#define FLAMEPROF_SPEEDSCOPE_H

#include <stdio.h>

#include "folded.h"

/* Threads kept apart (stacks that start with a thread root "[name tid]",
 * util/thread_root.h): the merged profile stays first (the default view, roots kept) and one
 * more sampled profile per thread follows, named "name (tid)", over the same shared frames,
 * its stacks without the root, endValue the thread's total, marked "flameprofView":
 * "thread" (a key speedscope ignores; input/speedscope_read.c skips such views, so the
 * round trip stays exact).
 * Write p (finished) to out; name (NULL: "flameprof") names the profile and the file.
 * Returns 0, or -1 on a write or allocation error. */
int speedscope_write(const folded_profile *p, const char *name, FILE *out);

/* Write s[0..n) as a JSON string, quotes included; "<" as \u003c, so that the string can
 * sit inside an HTML <script> (heatmap.c). Exposed for tests. */
void speedscope_json_string(FILE *out, const char *s, size_t n);

#endif
