/* outfile.h - publish an output file atomically, never clobbering anything.
 *
 * The content is written to a temporary file in the destination's directory, flushed, then
 * hard-linked to the final name: link() fails rather than replace an existing file or
 * follow a symlink at the destination, so no process ever overwrites another's profile.
 * If the name is taken, "<path-without-ext>.<pid>[.<n>]<ext>" is tried instead. */
#ifndef FLAMEPROF_OUTFILE_H
#define FLAMEPROF_OUTFILE_H

#include <stddef.h>
#include <stdio.h>

/* Writes the content to f; returns 0 on success, -1 on error. */
typedef int (*outfile_writer)(FILE *f, void *ctx);

/* Publish path = "<stem><ext>" (ext like ".svg", may be ""). On success returns 0 and copies
 * the path actually written to written[0..cap). On failure returns -1 with errno set and
 * nothing left behind (the temporary file is removed). */
int outfile_publish(const char *stem, const char *ext, outfile_writer w, void *ctx,
                    char *written, size_t cap);

/* The same without the fsync that makes the content durable before it is named (only an
 * OS crash right after could leave the name on a short file; no reader ever sees half a
 * file): for what every profiled process writes, its own profile or flameprof record's
 * tree files. Each process of a build or a test suite paid two fsyncs for them (~50 us each
 * here, milliseconds on a real disk); perf does not sync perf.data either. */
int outfile_publish_nosync(const char *stem, const char *ext, outfile_writer w, void *ctx,
                           char *written, size_t cap);

/* Create a new file for incremental writing (the raw sample spill), under the same names
 * and rules as outfile_publish: O_EXCL, never following a symlink, the first free of
 * "<stem><ext>", "<stem>.<pid><ext>", ... Returns the descriptor (close-on-exec) and the
 * name in written, or -1 with errno set. */
int outfile_create(const char *stem, const char *ext, char *written, size_t cap);

#endif
