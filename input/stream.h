/* stream.h - the bytes a reader reads: a file, standard input or a buffer, plain or
 * gzip'ed (zlib's gzread decompresses gzip and passes anything else through as it is),
 * with a look at the first bytes for format detection that costs no second read, and
 * lines for the text formats.
 *
 * Not thread-safe; one stream per reader. */
#ifndef FLAMEPROF_STREAM_H
#define FLAMEPROF_STREAM_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

typedef struct input_stream {
    void *gz;           /* gzFile */
    char *buf;          /* read-ahead: bytes [pos, len) not yet consumed */
    size_t cap, len, pos;
    bool eof;
    int err;            /* errno of a failed read, or -1 for corrupt gzip data */
    size_t line_no;     /* lines returned by input_stream_line so far */
} input_stream;

/* Opens path ("-" or NULL: standard input, which is not closed afterwards). Returns 0, or
 * -1 with errno set. */
int input_stream_open(input_stream *s, const char *path);

/* Reads from fd (taken over: closed by input_stream_close). Returns 0, or -1. */
int input_stream_fd(input_stream *s, int fd);

/* Reads a copy of data[0..len) (through an anonymous memory file: fuzzers and tests).
 * Returns 0, or -1. */
int input_stream_mem(input_stream *s, const void *data, size_t len);

void input_stream_close(input_stream *s);

/* Up to want bytes from the start of the stream, without consuming them; *head points
 * at them until the next call. Returns how many (fewer at the end of the input). */
size_t input_stream_peek(input_stream *s, const char **head, size_t want);

/* Up to n bytes. Returns how many, 0 at the end, or -1 on error (see s->err). */
ssize_t input_stream_read(input_stream *s, void *dst, size_t n);

/* The next line without its '\n' (a last line without one counts too), valid until the
 * next call; NUL bytes inside are kept. Returns 1, 0 at the end, or -1 on error. */
int input_stream_line(input_stream *s, char **line, size_t *len);

/* A message for s->err. */
const char *input_stream_error(const input_stream *s);

#endif
