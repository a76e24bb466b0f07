/* json_in.h - what the JSON readers (cpuprofile.c, speedscope_read.c) share: a document
 * parsed with jansson from an input_stream, errors with jansson's line and column, frame
 * and frame names made safe for folded stacks.
 *
 * jansson builds the whole document in memory: a JSON profile costs several times its
 * size while it is read (a sample index is a json_t of ~40 bytes), then only its distinct
 * stacks. These formats hold samples as arrays of small numbers, so files stay moderate
 * (a node --cpu-prof of a minute: a few MB). Internal to input/. */
#ifndef FLAMEPROF_JSON_IN_H
#define FLAMEPROF_JSON_IN_H

#include <jansson.h>
#include <stdbool.h>

#include "grow.h"
#include "input.h"
#include "stream.h"

/* The document, or NULL after reporting jansson's error with its line. */
json_t *json_in_load(input_stream *in, const input_sink *sink);

/* Appends a frame name, ';' as ':', control characters as '?', "" as "[unknown]"; with
 * a ';' before it unless the text is empty. Returns 0, or -1 out of memory. */
int json_text_frame(input_buf *t, const char *name, size_t n);

/* A JSON number as a double (integers too); false if v is not a number. */
bool json_in_number(const json_t *v, double *out);

/* Nanoseconds per unit of a speedscope/V8 time unit name, 0 for a unit that is no time. */
double json_in_ns_per(const char *unit);

#endif
