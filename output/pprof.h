/* pprof.h - folded stacks as a pprof profile: gzip'ed profile.proto, as `go tool pprof`,
 * pprof.me, Pyroscope, Grafana and IDEs read it.
 *
 * What is written (field numbers of github.com/google/pprof/proto/profile.proto):
 *   sample_type  [samples/count, cpu/nanoseconds]; period_type cpu/nanoseconds; period
 *                1e9/hz ns (rounded)
 *   sample       one per folded line: location ids leaf first, values [count, count*period]
 *   location     one per distinct frame, or per frame with the frames inlined into it:
 *                frames tagged "_[i]" (inlined, as flameprof and stackcollapse-perf.pl tag
 *                them) become extra lines of their caller's location, innermost first,
 *                without the tag; every other frame starts a location of its own
 *   function     one per distinct name; string_table[0] is ""
 *   mapping      one, id 1, "flameprof", has_functions (pprof warns without a mapping)
 * No addresses, times or labels: folded stacks have none. Names that are not UTF-8 get
 * U+FFFD for each bad byte (protobuf strings must be UTF-8).
 * Output is byte-identical for identical input (gzip header without a time stamp). */
#ifndef FLAMEPROF_PPROF_H
#define FLAMEPROF_PPROF_H

#include <stdio.h>

#include "folded.h"

/* Write p to out; hz (> 0) is the sampling frequency the counts were taken at. Returns 0,
 * or -1 on a write, compression or allocation error. */
int pprof_write(const folded_profile *p, unsigned hz, FILE *out);

/* The same with the sample type and period type named kind ("cpu", "wall") instead of
 * "cpu": sample types [samples/count, KIND/nanoseconds]. */
int pprof_write_kind(const folded_profile *p, unsigned hz, const char *kind, FILE *out);

#endif
