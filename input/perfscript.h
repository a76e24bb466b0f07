/* perfscript.h - `perf script` output, read as FlameGraph's stackcollapse-perf.pl reads it.
 *
 * With default options the stacks and weights are exactly those stackcollapse-perf.pl
 * prints (its folded output byte for byte, once sorted and merged): the process name as
 * the root (spaces as '_'), frames root first, "+0x..." offsets removed, argument lists
 * after the first '(' removed (not in Go-style "pkg.(*T).m" names, not "(anonymous
 * namespace)"), quotes removed, ';' as ':', "[unknown]" replaced by the module's file name
 * in brackets, Java "Lpkg/Class;" tidied, each sample weighted by its event's period (1 when
 * the header has none), only the first event type kept, a record that the input does not
 * end with a blank line dropped. Frames perf joined with "->" (its own inline expansion)
 * become frames of their own, tagged _[i] after the first.
 *
 * Options are stackcollapse-perf.pl's: --pid ("comm-PID" roots), --tid ("comm-PID/TID"),
 * --kernel (_[k] on kernel frames), --jit (_[j] on frames from /tmp/perf-PID.map),
 * --addrs ("[module <addr>]" for unknown symbols), --event-filter. Its --inline (addr2line)
 * and --srcline / --context are not offered.
 *
 * (Where the script would print a stack with count 0, from periods written "00", or keep
 * a NUL byte in a name, this leaves the stack out and writes '?'.)
 *
 * Each sample carries its time stamp (the header's "SECONDS.MICROS:") when there is one.
 * Lines that are neither a header, a frame, a comment nor blank are reported with their
 * number and skipped, as stackcollapse-perf.pl warns and skips them. */
#ifndef FLAMEPROF_PERFSCRIPT_H
#define FLAMEPROF_PERFSCRIPT_H

#include <stdbool.h>

#include "input.h"
#include "stream.h"

typedef struct perfscript_opts {
    bool pid, tid, kernel, jit, addrs;
    const char *event_filter; /* NULL or "": the first event type seen */
} perfscript_opts;

/* Reads in until its end. Returns the number of lines skipped as malformed, or -1 on a
 * read error (reported) or when the sink stops. */
long perfscript_read(input_stream *in, const perfscript_opts *o, const input_sink *sink);

#endif
