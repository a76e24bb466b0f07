/* pprof_read.h - pprof profiles (profile.proto, gzip'ed or not: go tool pprof's format,
 * Go's runtime/pprof and net/http/pprof, pprof.me, async-profiler's converter, our own
 * output/pprof.c).
 *
 * One sample per pprof sample: locations leaf first in the file become frames root first;
 * a location with several lines (functions inlined into each other, innermost first)
 * gives the outermost as a frame and each inlined function after it tagged "_[i]", as
 * flameprof and stackcollapse-perf.pl tag inlined frames (so folded -> pprof -> folded is
 * exact). A location without lines reads "MAPPING+0xOFFSET" (the file offset in its
 * mapping's file) or "0xADDRESS". Names get ';' as ':' and control characters as '?'.
 *
 * The weight is one of the sample's values, chosen as `go tool pprof -sample_index`
 * chooses: an index or a sample type's name; by default the profile's
 * default_sample_type, else the last type (cpu nanoseconds in Go CPU profiles). Samples
 * whose value is zero are left out; negative ones (delta profiles) are skipped and
 * reported. Labels can become root frames "KEY:VALUE" (go tool pprof -tagroot). A sample
 * with a string label "thread" and a numeric "thread_id" (output/pprof.c writes them for a
 * thread root) gets the root frame "[name tid]" back, before any -tagroot frames.
 *
 * pprof has no time per sample: samples carry INPUT_NO_TIME. The profile is decoded in
 * memory: its size, about that of its distinct stacks (pprof aggregates) plus its tables.
 * Errors are reported with the byte offset of the field at fault. */
#ifndef FLAMEPROF_PPROF_READ_H
#define FLAMEPROF_PPROF_READ_H

#include "input.h"
#include "stream.h"

typedef struct pprof_read_opts {
    const char *sample_index; /* NULL: default; "N" or a sample type name */
    const char *tagroot;      /* NULL, or label keys comma-separated */
} pprof_read_opts;

/* Reads the whole profile from in. Returns the number of samples skipped as malformed, or
 * -1 when the input is not a usable pprof profile (reported) or the sink stops. */
long pprof_read(input_stream *in, const pprof_read_opts *o, const input_sink *sink);

#endif
