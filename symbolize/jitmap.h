/* jitmap.h - names of JIT-compiled code, as they were at the moment of each sample.
 *
 * JIT runtimes free code and reuse its addresses for other functions, so resolving with
 * the final list of names misnames them (58% of JIT frames in a churn test here). A jitmap
 * therefore counts generations: a new generation starts whenever code dies (an explicit
 * unload, from the JVM) or a new entry overlaps a live one (a perf map, which never says
 * that code was freed). Each entry lives in [born_gen, died_gen). A sample records the
 * generation current when it was taken, and is resolved against the entries alive then.
 * Stacks from the same generation merge, so memory stays bounded however long the run.
 *
 * For perf maps, whose lines are written by the runtime's own threads, the generation
 * follows from the file's size at a moment (jit_perfmap.h): jitmap_gen_at() turns a file
 * offset into the generation in force when the file had that size.
 *
 * Also the perf-map reader: "<hex start> <hex size> <name>\n" (with or without 0x), as
 * written by V8 (--perf-basic-prof), CPython (-X perf), the JVM and others. The file is
 * untrusted: malformed lines are counted and skipped, never fatal.
 *
 * Thread-safe (an internal mutex) except jitmap_current_gen, which is also
 * async-signal-safe (one atomic load). */
#ifndef FLAMEPROF_JITMAP_H
#define FLAMEPROF_JITMAP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct jitmap jitmap;

typedef struct jitmap_stats {
    uint64_t entries;   /* accepted */
    uint64_t malformed; /* lines that were not "start size name" */
    uint64_t outside;   /* entries outside executable memory, ignored */
} jitmap_stats;

jitmap *jitmap_new(void);
void jitmap_free(jitmap *m);

/* Add [start, start+size) named name[0..len) (copied; names are cut at 4096 bytes).
 * stamp: a caller-defined monotonic position (a perf map's file offset just past the
 * line), recorded for jitmap_gen_at. Live entries that overlap the new one die and a new
 * generation starts. Returns 0, or -1 on allocation failure or an empty range. */
int jitmap_add(jitmap *m, uint64_t start, uint64_t size, const char *name, size_t len,
               uint64_t stamp);

/* The code at start died (e.g. JVMTI CompiledMethodUnload): a new generation starts.
 * Returns 0, or -1 if no live entry starts there. */
int jitmap_kill(jitmap *m, uint64_t start);

/* The generation now. Async-signal-safe. */
uint32_t jitmap_current_gen(const jitmap *m);

/* The generation in force when the stamp had reached `stamp`. */
uint32_t jitmap_gen_at(const jitmap *m, uint64_t stamp);

/* Decides whether the entry [start, end) named name[0..len) is code in executable memory
 * (NULL: accept everything). */
typedef bool (*jitmap_exec_fn)(void *ctx, uint64_t start, uint64_t end, const char *name,
                               size_t len);

/* Parse perf-map text buf[0..len) that starts at byte offset base of its file. Each
 * complete line gets stamp = its end offset in the file (past the newline). A final line
 * without a newline is not consumed; the return value is the number of bytes consumed, so
 * the caller continues from base + return value when the file grows. */
size_t jitmap_parse_perfmap(jitmap *m, const char *buf, size_t len, uint64_t base,
                            jitmap_exec_fn is_exec, void *ctx, jitmap_stats *st);

/* The name of the entry covering pc that was alive in generation gen; failing that, the
 * newest entry covering pc (as a final map would say); NULL if none covers it. The name
 * is valid until the next jitmap_add: use jitmap_lookup_copy where another thread (a JVM
 * still compiling) may add meanwhile. */
const char *jitmap_lookup(jitmap *m, uint64_t pc, uint32_t gen);

/* The same, copied into buf[0..cap) under the map's lock. Returns false if none covers. */
bool jitmap_lookup_copy(jitmap *m, uint64_t pc, uint32_t gen, char *buf, size_t cap);

size_t jitmap_len(jitmap *m);

#endif
