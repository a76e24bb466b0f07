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
 * weights = counts) come back exactly.
 *
 * Streamed (json_in.h), members in any order, in one pass. Memory grows with the frames
 * and the distinct stacks, plus, for the profile being read, a compact copy of what must
 * wait for the rest of it (its unit, type or flameprofView may come last; its weights come
 * after its samples): 1-2 bytes per sample for its stack number and per whole-number
 * weight (9 for another), ~5-20 bytes per interval of an evented profile. When the
 * frames come after the profiles (py-spy's order), every profile waits so until the end.
 * 60 MB of speedscope with 16 distinct stacks: 12 MB peak.
 *
 * Malformed input: a JSON syntax error or truncation, deep nesting, frames or profiles
 * that are no array, or missing: one message with the line and column, and -1. A sample
 * with an index that names no frame, a weight that is no number, an event out of order or
 * unmatched: skipped and reported with their place (or the sample's index when the frames
 * come after it), counted in the return value. */
#ifndef FLAMEPROF_SPEEDSCOPE_READ_H
#define FLAMEPROF_SPEEDSCOPE_READ_H

#include "input.h"
#include "stream.h"

/* Returns the number of malformed parts skipped, or -1 when the input is not a speedscope
 * file (reported) or the sink stops. */
long speedscope_read(input_stream *in, const input_sink *sink);

#endif
