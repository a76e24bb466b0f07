/* detect.h - which format a profile is in, from its first bytes (after gzip).
 *
 *   protobuf that starts like a pprof Profile          -> pprof
 *   JSON object with "$schema" speedscope or "shared"  -> speedscope
 *   JSON object with "nodes" (V8/Chrome .cpuprofile)   -> cpuprofile
 *   text with an indented "ADDRESS SYMBOL (MODULE)" line or perf script's "# " header
 *                                                      -> perf
 *   anything else                                      -> folded (whose parser
 *                                                         reports each bad line)
 * JSON that is neither gives INPUT_UNKNOWN. */
#ifndef FLAMEPROF_DETECT_H
#define FLAMEPROF_DETECT_H

#include <stddef.h>

#include "input.h"

/* How many bytes detection wants to see (fewer is fine at the end of the input). */
#define DETECT_HEAD 65536

input_format input_detect(const char *head, size_t len);

#endif
