/* heatmap_input.h - `flameprof heatmap FILE` on another tool's profile with time stamps:
 * perf script (FlameScope's input: `perf record -g ...` then `perf script`), a V8
 * .cpuprofile, a speedscope file with a time unit. Each sample goes to the 20 ms slot of
 * its time since the first sample (timeline.h), its stack numbered by its text, and the
 * page is the one a flameprof timeline gives (heatmap.h). Memory: the cells (a few bytes
 * per distinct stack per slot) and one copy of each distinct stack.
 *
 * Not async-signal-safe; the flameprof command only. */
#ifndef FLAMEPROF_HEATMAP_INPUT_H
#define FLAMEPROF_HEATMAP_INPUT_H

#include <stdbool.h>

#include "cli_input.h"

/* Writes PREFIX.heatmap.html from the profile at path (read with o). Returns 0, or 1
 * after a message: unreadable, or no sample with a time. quiet: no summary line. */
int heatmap_input_run(const char *path, const cli_input_opts *o, const char *prefix,
                      bool quiet);

#endif
