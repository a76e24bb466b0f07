/* frame_source.h - where each frame's function is in the source, beside the folded model.
 *
 * The folded model is keyed by frame name; a native function's source position (DWARF's
 * decl_file/decl_line, symbolize.h) is not in its name, and folded text must keep the
 * names flamegraph.pl and the other folded tools know. So the position travels beside the
 * stacks: a table from frame name to (file, line), held by the folded_profile
 * (folded.h: sources), filled where it is known (the report, from DWARF; the pprof and
 * speedscope readers, from Function.filename/start_line and frame file/line) and read by
 * the writers that have a place for it (pprof, speedscope) through frame_source_parse.
 * One position per name: the frame "f" and its inlined form "f_[i]" share one; when two
 * functions of one name (two static helpers) are declared in different places, the
 * smaller (file, line) is kept, so the output does not depend on the order of samples.
 *
 * Not thread-safe; not async-signal-safe. */
#ifndef FLAMEPROF_OUTPUT_FRAME_SOURCE_H
#define FLAMEPROF_OUTPUT_FRAME_SOURCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

#include "frame_parse.h"

typedef struct frame_sources frame_sources;

frame_sources *frame_sources_new(void);
void frame_sources_free(frame_sources *fs);

/* Record that frame[0..n) (its "_[i]" tag, if any, ignored) is declared at file (copied)
 * line (0: unknown). Returns 0, or -1 on allocation failure. */
int frame_sources_add(frame_sources *fs, const char *frame, size_t n, const char *file,
                      unsigned line);

/* The position recorded for frame[0..n), or false. *file stays valid until the table is
 * freed. */
bool frame_sources_get(const frame_sources *fs, const char *frame, size_t n,
                       const char **file, unsigned *line);

/* Every position of src into dst (the smaller one where both have the frame). Returns 0,
 * or -1 on allocation failure. */
int frame_sources_merge(frame_sources *dst, const frame_sources *src);

/* The table as text, one "LINE<TAB>FILE<TAB>FRAME" line per frame (a process tree's
 * PREFIX.sources beside its PREFIX.folded, which `flameprof record` merges); files
 * holding a tab or a control character are left out. Returns 0, or -1 on a write error. */
int frame_sources_write(const frame_sources *fs, FILE *out);

/* Adds the lines of such text to fs. The text is untrusted: a malformed line is skipped
 * and counted. Returns how many were, or -1 on a read or allocation error. */
long frame_sources_read(frame_sources *fs, FILE *in);

/* How many names have a position. */
size_t frame_sources_count(const frame_sources *fs);

/* frame_parse (frame_parse.h), then, where the name tells no file, the position fs
 * (may be NULL) holds for it. */
void frame_source_parse(const frame_sources *fs, const char *s, size_t n, frame_parts *out);

#endif
