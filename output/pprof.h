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
 *                lines carry the frame's line and column where its name tells them
 *   function     one per distinct frame (frame_parse.h): name is the function's name without
 *                tag, tier or location ("executeUserEntryPoint", "com.example.Foo.bar"),
 *                filename and start_line where the name tells them, else where the
 *                profile's sources (frame_source.h: DWARF, for native code) put the
 *                function, and system_name the
 *                whole folded frame without "_[i]" ("JS:~executeUserEntryPoint
 *                node:internal/...:155:31_[j]"): the JIT tier and the kind of frame are
 *                kept there, and input/pprof_read.c reads it back, so folded -> pprof ->
 *                folded is exact. comment[0] (PPROF_SYSTEM_NAME_COMMENT) says so.
 *   mapping      one per module of meta, the main executable first (`go tool pprof` prints
 *                "File: <first mapping>"), with address range and build-id; without meta
 *                (`flameprof convert` from folded stacks, which name no module) one, id 1,
 *                "flameprof". has_functions is set (pprof warns without it).
 *   time_nanos, duration_nanos from meta when given.
 *   labels       a stack that starts with a thread root "[name tid]" (threads kept apart,
 *                util/thread_root.h) is written without it, with the string label "thread"
 *                (name) and the numeric "thread_id" (tid), as pprof's Go and Java producers
 *                label threads; input/pprof_read.c gives the root back. A root whose tid
 *                has leading zeros or more than 18 digits, or whose name is empty, stays a
 *                frame (the labels could not give it back exactly).
 * No addresses: folded stacks have none. So no location names a mapping (mapping_id 0, which
 * profile.proto allows where it is unknown): a location of a real module without an address
 * sends `go tool pprof`'s source views (-weblist, the web UI's Source) to disassemble that
 * file at a made-up address, and they show nothing; without one they show the source
 * from the Function's filename and the Line's line, as -list does.
 * Names that are not UTF-8 get U+FFFD for each bad byte (protobuf strings must be UTF-8).
 * Output is byte-identical for identical input (gzip header without a time stamp). */
#ifndef FLAMEPROF_PPROF_H
#define FLAMEPROF_PPROF_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "folded.h"
#include "frame_name.h"

/* The marker of flameprof's convention: Function.system_name is the folded frame. */
#define PPROF_SYSTEM_NAME_COMMENT UTIL_PPROF_SYSTEM_NAME_COMMENT

enum { PPROF_BUILD_ID_MAX = 64 };

/* A module of the profiled process. */
typedef struct pprof_mapping {
    uint64_t start, limit, offset; /* runtime address range; file offset of start */
    const char *file;              /* its path */
    const unsigned char *build_id; /* raw bytes, written as hex */
    size_t build_id_len;
} pprof_mapping;

/* What the profiler knows beyond the stacks (threads come in the stacks: see labels). */
typedef struct pprof_meta {
    const pprof_mapping *mappings; /* the main executable first */
    size_t nmappings;
    int64_t time_nanos;            /* when collection started (Unix time), 0: unknown */
    int64_t duration_nanos;        /* how long it ran, 0: unknown */
    const char *kind;              /* sample and period type: "cpu" (NULL) or "wall" */
    const char *what;              /* a second comment (mode and source), or NULL */
} pprof_meta;

/* Write p to out; hz (> 0) is the sampling frequency the counts were taken at; meta may be
 * NULL. Returns 0, or -1 on a write, compression or allocation error. */
int pprof_write(const folded_profile *p, unsigned hz, const pprof_meta *meta, FILE *out);


#endif
