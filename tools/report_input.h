/* report_input.h - `flameprof report` and `flameprof heatmap` on another tool's profile:
 * perf script (FlameScope's input: `perf record -g ...` then `perf script`), a V8
 * .cpuprofile, a speedscope file, pprof. Time runs from the first sample that has one;
 * each sample goes to the 20 ms slot of its time (timeline.h), so --from/--to select the
 * same slots the heatmap shows. The heatmap wants times (perf script, .cpuprofile,
 * speedscope with a time unit); a range too (samples without one are left out of it).
 * Memory: the timeline's cells (a few bytes per distinct stack per slot) and one copy of
 * each distinct stack, for each output.
 *
 * Not async-signal-safe; the flameprof command only. */
#ifndef FLAMEPROF_REPORT_INPUT_H
#define FLAMEPROF_REPORT_INPUT_H

#include <stdbool.h>

#include "cli_input.h"

typedef struct report_input_opts {
    const char *path, *prefix;
    unsigned formats;  /* CONFIG_FORMAT_* bits: folded, svg, pprof, speedscope, heatmap */
    bool range;        /* --from/--to given */
    double from, to;   /* seconds since the first sample; to < 0: the end */
    bool quiet;        /* no summary line */
} report_input_opts;

/* Writes PREFIX.<format> for each format asked, the filters (cli_filter) applied to all
 * but the heatmap. Returns 0, or 1 after a message: unreadable, no time where one is
 * needed, nothing in the range, a file not written. */
int report_input_run(const report_input_opts *r, const cli_input_opts *o);

#endif
