/* input.h - readers of other tools' profiles: the interface they share.
 *
 * Every reader (perf script, pprof, V8 .cpuprofile, speedscope) turns its format into a
 * stream of samples, each one stack with a weight and, where the format has it, a time:
 * the same currency the profiler itself produces. A sink receives them; input_collect
 * (collect.h) merges them into the folded_profile every writer reads, keeping one entry
 * per distinct stack, so memory grows with distinct stacks, not with the input's size.
 * A sink that wants time (a heatmap, a time-range selection) takes the samples itself.
 *
 * Readers read through an input_stream (stream.h): plain or gzip'ed bytes, from a file,
 * standard input or memory. Every input is untrusted: malformed parts are reported
 * through on_error with a line number (text formats) or a byte offset (binary ones) and
 * skipped; a reader never crashes, never loops forever, and returns -1 only when the
 * input cannot be used at all or memory ran out.
 *
 * Not async-signal-safe; used by the flameprof command only, never in the profiled
 * process. Single-threaded. */
#ifndef FLAMEPROF_INPUT_H
#define FLAMEPROF_INPUT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define INPUT_NO_TIME INT64_MIN

typedef struct input_sample {
    const char *stack; /* frames root first, ';'-separated; not NUL-terminated */
    size_t len;
    uint64_t weight;   /* > 0, in the format's unit (samples, nanoseconds, event periods) */
    int64_t time_ns;   /* when the sample was taken, ns on the file's own clock, or
                        * INPUT_NO_TIME: the format (or this file) has no time */
} input_sample;

typedef struct input_sink {
    /* One sample; the stack is only valid during the call. Returns 0, or -1 to stop
     * reading (allocation failure): the reader then returns -1. */
    int (*on_sample)(void *ctx, const input_sample *s);
    /* Something malformed, skipped. line_no counts from 1 in text formats; 0 when the
     * message says where itself (a byte offset, a JSON path). May be NULL. */
    void (*on_error)(void *err_ctx, size_t line_no, const char *why);
    void *ctx, *err_ctx;
    /* Where the function of a frame is declared, where the format says so and the frame's
     * text does not (pprof's Function.filename and start_line, speedscope's frame file
     * and line): frame[0..n) as the samples carry it, file[0..file_len), line (0:
     * unknown). Called once per function or frame of the file (two of one text: both, and
     * frame_source.h keeps the smaller), before or among the samples. May be NULL. Returns
     * 0, or -1 to stop reading (allocation failure). */
    int (*on_source)(void *ctx, const char *frame, size_t n, const char *file,
                     size_t file_len, unsigned line);
    /* The sink has no use for time_ns or the samples' order (it merges them): a reader
     * may then pass samples already merged, without time, and keep less in memory (the
     * .cpuprofile reader counts samples per node instead of keeping them in order until
     * their timeDeltas come). */
    bool untimed;
} input_sink;

/* The formats, for detection and --input-format. */
typedef enum input_format {
    INPUT_UNKNOWN = 0,
    INPUT_FOLDED,
    INPUT_PERF_SCRIPT,
    INPUT_PPROF,
    INPUT_CPUPROFILE,
    INPUT_SPEEDSCOPE,
} input_format;

/* "folded", "perf", "pprof", "cpuprofile", "speedscope"; INPUT_UNKNOWN for anything else. */
input_format input_format_named(const char *name);
const char *input_format_name(input_format f);

/* Formats a message and passes it to the sink's on_error, if any. */
void input_error(const input_sink *sink, size_t line_no, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#endif
