/* folded.h - folded stacks: the flamegraph.pl / inferno / speedscope text format.
 *
 * One line per unique stack, frames root-first joined by ';', then one space and a
 * positive integer count:   main;parse;lex 42
 *
 * A folded_profile is an in-memory list of (stack, count) entries. It is the common
 * currency of flameprof: the profiler builds one at exit from symbolized samples, the
 * `flameprof` tool parses one from a file, and every renderer (SVG, pprof, ...) reads one.
 *
 * Not async-signal-safe: used only at exit and in tools. */
#ifndef FLAMEPROF_FOLDED_H
#define FLAMEPROF_FOLDED_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

typedef struct folded_entry {
    char *stack;    /* frames root-first, ';'-separated, NUL-terminated, owned */
    uint64_t count; /* weight (samples), > 0 */
} folded_entry;

struct frame_sources;

typedef struct folded_profile {
    folded_entry *entries;
    size_t len, cap;
    uint64_t total; /* sum of all counts */
    /* NULL, or where the frames' functions are declared (frame_source.h), owned: what the
     * folded text cannot hold, for the formats that can. Whoever replaces the entries
     * (filter.h) keeps it. */
    struct frame_sources *sources;
} folded_profile;

void folded_init(folded_profile *p);
void folded_free(folded_profile *p);

/* Append a copy of stack[0..len) with its count. Returns 0, or -1 on allocation failure. */
int folded_add(folded_profile *p, const char *stack, size_t len, uint64_t count);

/* Sort entries bytewise by stack and merge equal stacks (summing counts), so that output
 * is deterministic whatever order the entries were added in. */
void folded_finish(folded_profile *p);

/* Take base's counts off p, stack by stack (both finished): what p gained since base was
 * taken. Stacks left with no count go; p->total follows. */
void folded_subtract(folded_profile *p, const folded_profile *base);

/* Write "stack count\n" for every entry. Returns 0, or -1 on a write error. */
int folded_write(const folded_profile *p, FILE *out);

/* Reports one malformed input line; line_no counts from 1. */
typedef void (*folded_error_fn)(void *ctx, size_t line_no, const char *why);

/* Parse folded text. Malformed lines (no count, count not a positive integer that fits in
 * 64 bits, empty stack) are reported through on_error (may be NULL) and skipped; blank lines
 * are ignored; '\r' before '\n' is accepted. The profile is finished (sorted, merged) on
 * return. Returns the number of malformed lines, or -1 on a read or allocation error. */
long folded_parse(FILE *in, folded_profile *p, folded_error_fn on_error, void *ctx);

/* Copy a frame name into dst (capacity cap, always NUL-terminated when cap > 0), made safe
 * for a folded line by util/frame_name.h's rule (';' becomes ':', control characters and
 * newlines '?'), cut on a UTF-8 character boundary; an empty name becomes "[unknown]".
 * Returns the length written. */
size_t folded_sanitize_frame(const char *name, char *dst, size_t cap);

#endif
