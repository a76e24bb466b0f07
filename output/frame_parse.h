/* frame_parse.h - a folded frame's parts, for the formats that have a place for them
 * (pprof's Function and Line, speedscope's frame file/line/col).
 *
 * The folded model carries names only; what a runtime knows of a frame's source is in the
 * name's text, in each runtime's well-known shape, and the kind of frame is in its tag:
 *   V8 perf map    "JS:~fn /path/file.js:155:31"   name fn, file, line 155, col 31
 *                  (tier ~ interpreted, ^ baseline, + maglev, * optimized); "JS:~ file:1:1"
 *                  is "(anonymous)"; "LazyCompile:", "Function:" as older V8 writes them;
 *                  the location is after the last space ("get size /m.js:9:3")
 *   CPython -X perf "py::fn:/path/file.py"         name fn, file (no line in the perf map)
 *   JVM            "com.example.Foo.bar(int)"      name com.example.Foo.bar (compiled,
 *                  interpreted or inlined Java frames only: a C++ name keeps its arguments)
 *   tags           "_[j]" JIT, "_[0]" interpreted, "_[i]" inlined, "_[k]" kernel (stripped)
 * Anything else is its own name. Native code's file and line (DWARF) are not in its name:
 * they travel beside the stacks (frame_source.h).
 * Pure: no allocation; the parts point into the frame text. Thread-safe. */
#ifndef FLAMEPROF_OUTPUT_FRAME_PARSE_H
#define FLAMEPROF_OUTPUT_FRAME_PARSE_H

#include <stddef.h>

typedef enum frame_kind {
    FRAME_NATIVE,      /* no tag */
    FRAME_JIT,         /* _[j] */
    FRAME_INTERPRETED, /* _[0] */
    FRAME_INLINED,     /* _[i] */
    FRAME_KERNEL,      /* _[k] */
} frame_kind;

typedef struct frame_parts {
    const char *name;   /* the function's name, without tag, tier or location */
    size_t name_len;
    const char *file;   /* its source file, or NULL */
    size_t file_len;
    long line, col;     /* 1-based, 0 when not known */
    frame_kind kind;
} frame_parts;

/* The parts of the frame text s[0..n). */
void frame_parse(const char *s, size_t n, frame_parts *out);

/* "jit", "interpreted", "inlined", "kernel" or "native". */
const char *frame_kind_name(frame_kind k);

#endif
