/* report_stacks.h - the stack table of a profile named frame by frame: native frames by
 * their symbols (inlined calls expanded, source lines where asked), JIT code by the
 * runtime's maps as of the sample, interpreter frames (Python, Ruby, the JVM's) by their
 * methods; each stack one folded line.
 *
 * The first half of report.h's work, apart so that the writers there stay about formats.
 * Runs after sampling has stopped (or in the flameprof command): allocates, opens debug
 * files, may print one "flameprof:" line of what it could not name. Never in a signal
 * handler. */
#ifndef FLAMEPROF_REPORT_STACKS_H
#define FLAMEPROF_REPORT_STACKS_H

#include "folded.h"
#include "report.h"

/* Symbolize in->stacks into prof (initialized by the caller; finished on return), without
 * in->base or in->filter: what report_write writes before those. */
void report_build(const report_input *in, folded_profile *prof);

/* The same stacks as lines: lines[id] (calloc'ed by the caller, one per stack id of
 * in->stacks) gets each stack's folded line, malloc'ed (NULL where memory ran out). For
 * the heatmap, which keeps a stack's name beside its cells. */
void report_build_lines(const report_input *in, char **lines);

#endif
