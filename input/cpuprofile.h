/* cpuprofile.h - V8 CPU profiles: `node --cpu-prof` files and Chrome DevTools'
 * .cpuprofile exports ({"nodes": [...], "startTime", "endTime", "samples", "timeDeltas"};
 * also when wrapped as {"profile": {...}}, as the inspector protocol returns it).
 *
 * Each node is a call site: its frame reads "FUNCTION URL:LINE" (line from 1; the
 * function "(anonymous)" when V8 has no name; no URL part for V8's own nodes such as
 * "(program)", "(garbage collector)", "(idle)"). The "(root)" node is not a frame. Each
 * sample weighs 1 and carries its time (startTime plus the timeDeltas so far, us -> ns);
 * a profile without samples uses each node's hitCount, without time. */
#ifndef FLAMEPROF_CPUPROFILE_H
#define FLAMEPROF_CPUPROFILE_H

#include "input.h"
#include "stream.h"

/* Returns the number of malformed parts skipped, or -1 when the input is not a V8 CPU
 * profile (reported) or the sink stops. */
long cpuprofile_read(input_stream *in, const input_sink *sink);

#endif
