/* cpuprofile.h - V8 CPU profiles: `node --cpu-prof` files and Chrome DevTools'
 * .cpuprofile exports ({"nodes": [...], "startTime", "endTime", "samples", "timeDeltas"};
 * also when wrapped as {"profile": {...}}, as the inspector protocol returns it).
 *
 * Each node is a call site: its frame reads "FUNCTION URL:LINE" (line from 1; the
 * function "(anonymous)" when V8 has no name; no URL part for V8's own nodes such as
 * "(program)", "(garbage collector)", "(idle)"). The "(root)" node is not a frame. Each
 * sample weighs 1 and carries its time (startTime plus the timeDeltas so far, us -> ns);
 * a profile without samples uses each node's hitCount, without time.
 *
 * Streamed (json_in.h), members in any order, in one pass. Memory grows with the nodes
 * (their names and stacks) and the distinct node ids sampled, not with the samples: for
 * an untimed sink (input_sink.untimed, as input_collect's) samples are counted per node id
 * and passed merged, one per node. For a sink that wants each sample in order with its
 * time, the samples array is kept compactly until the timeDeltas come (node writes
 * samples first), ~2 bytes a sample; each delta is then paired with its sample as it
 * comes, when the nodes and startTime came before (node's order), else kept too (60 MB of
 * .cpuprofile, 7.4M samples: 17.5 MB peak, against 10 MB untimed). A timeDeltas array of
 * another length than samples: times as far as both go when paired so, else none.
 *
 * Malformed input: a JSON syntax error or truncation, nesting deeper than json_in allows,
 * a nodes or samples member that is no array, a node without an integer id, two nodes of
 * one id, a member twice in one object: one message with the line and column, and -1.
 * Samples that are no integer or name no node, children that name no node (or the node
 * itself, or give it a second parent), nodes whose parents form a cycle, deltas that are
 * no integer: skipped and reported with their place, counted in the return value. */
#ifndef FLAMEPROF_CPUPROFILE_H
#define FLAMEPROF_CPUPROFILE_H

#include "input.h"
#include "stream.h"

/* Returns the number of malformed parts skipped, or -1 when the input is not a V8 CPU
 * profile (reported) or the sink stops. */
long cpuprofile_read(input_stream *in, const input_sink *sink);

#endif
