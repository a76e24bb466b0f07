/* speedscope_read.h - speedscope's JSON file format (https://www.speedscope.app), as
 * output/speedscope.c writes it and as speedscope, py-spy, rbspy and others export it.
 *
 * shared.frames[i].name names frame i. Every profile in "profiles" is read and merged,
 * but flameprof's per-thread views ("flameprofView"), which repeat the merged profile:
 *   "sampled": samples[k] lists frame indexes root first, weights[k] its weight (1 when
 *              there are no weights); a sample's time is startValue plus the weights
 *              before it, when the unit is a time unit.
 *   "evented": "O" (open) and "C" (close) events of a frame "at" a time; the stack open
 *              between two events weighs their distance.
 * Weights of a time unit (nanoseconds ... seconds) become nanoseconds; others ("none",
 * "bytes") stay as they are, rounded to whole numbers: flameprof's own files (unit none,
 * weights = counts) come back exactly. */
#ifndef FLAMEPROF_SPEEDSCOPE_READ_H
#define FLAMEPROF_SPEEDSCOPE_READ_H

#include "input.h"
#include "stream.h"

/* Returns the number of malformed parts skipped, or -1 when the input is not a speedscope
 * file (reported) or the sink stops. */
long speedscope_read(input_stream *in, const input_sink *sink);

#endif
