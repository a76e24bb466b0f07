/* json_in.h - what the JSON readers (cpuprofile.c, speedscope_read.c) share: a JSON
 * document streamed through yajl's event parser (SAX-style) from an input_stream, never
 * built in memory; where each value sits (the keys and array indexes above it); the line,
 * column and byte of any value, for error messages; frame names made safe for folded
 * stacks.
 *
 * The reader sees each value once, in document order, with the path to it: j->depth
 * containers are open, j->lv[1..depth] says for each whether it is an array (and the index
 * of the element being read) or an object (and the key being read, as the reader's number
 * for it). Memory: a fixed parser state and yajl's buffer for one token; nesting deeper
 * than JSON_IN_MAX_DEPTH is refused. Internal to input/. */
#ifndef FLAMEPROF_JSON_IN_H
#define FLAMEPROF_JSON_IN_H

#include <stdbool.h>
#include <stdint.h>

#include "grow.h"
#include "input.h"
#include "stream.h"

#define JSON_IN_MAX_DEPTH 256
/* Keys a reader names: up to this many (their numbers are 1..n, 0 for any other key). */
#define JSON_IN_MAX_KEYS 31

typedef enum json_kind {
    JSON_NULL,
    JSON_BOOL,
    JSON_NUMBER,
    JSON_STRING,
    JSON_OBJECT,  /* an object begins: its members follow, one level deeper */
    JSON_ARRAY,   /* an array begins */
    JSON_END,     /* the object or array that began at this place ends */
} json_kind;

typedef struct json_value {
    json_kind kind;
    bool is_int;       /* JSON_NUMBER written as an integer that fits int64: i holds it */
    int64_t i;
    double d;          /* JSON_NUMBER as a double (may be infinite for 1e999) */
    const char *s;     /* JSON_STRING, s[0..len), not NUL-terminated; JSON_BOOL: len 1/0 */
    size_t len;
    bool end_of_array; /* JSON_END: of an array, else of an object */
} json_value;

typedef struct json_level {
    bool array;
    int key;           /* object: the reader's number of the current key, 0 for others */
    size_t index;      /* array: index of the current element */
    uint32_t seen;     /* object: the reader's keys met so far (bit n), for duplicates */
} json_level;

typedef struct json_in json_in;

/* Called for each value. Returns 0 to go on, -1 to stop: after reporting why (the reader's
 * own fatal error, with json_in_error) or out of memory (errno ENOMEM). */
typedef int (*json_in_handler)(void *ctx, json_in *j, const json_value *v);

struct json_in {
    int depth;                            /* containers open around the current value */
    json_level lv[JSON_IN_MAX_DEPTH + 1]; /* lv[1..depth], outermost first */
    const input_sink *sink;
    const char *what;                     /* the format, to start messages: "cpuprofile" */
    /* private */
    const char *const *keys;
    json_in_handler handler;
    void *ctx;
    void *yajl;
    const unsigned char *chunk;           /* being parsed; NULL after it */
    size_t chunk_len, scan;               /* newlines counted in chunk[0..scan) */
    uint64_t chunk_at;                    /* bytes before the chunk */
    size_t line, col;                     /* at chunk[scan]: from 1 */
    bool stopped;                         /* the handler said stop (reported) */
};

/* Streams the document in `in` through handler (called with ctx). keys: the names the
 * reader matches, NULL-terminated, numbered from 1. Returns 0 when the whole document was
 * read, or -1 after one message: a syntax error or a truncated document (with its line
 * and column), a document that is not an object (both formats are), nesting too deep, a
 * read error, or the handler's stop. */
int json_in_parse(json_in *j, input_stream *in, const input_sink *sink, const char *what,
                  const char *const *keys, json_in_handler handler, void *ctx);

/* Where the parser is: just after the value being handled. line and col count from 1. */
void json_in_where(json_in *j, size_t *line, size_t *col, uint64_t *byte);

/* Reports "WHAT: message (column C)" at the current line. */
void json_in_error(json_in *j, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The same at a place taken earlier with json_in_where. */
void json_in_error_at(json_in *j, size_t line, size_t col, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Whether v is a number: a whole one that fits int64 (*out), or a finite one. */
bool json_in_int(const json_value *v, int64_t *out);
bool json_in_real(const json_value *v, double *out);

/* A short name for v's kind in messages: "a string", "an object"... */
const char *json_in_kind_name(const json_value *v);

/* Appends a frame name, ';' as ':', control characters as '?', "" as "[unknown]"; with
 * a ';' before it unless the text is empty. Returns 0, or -1 out of memory. */
int json_text_frame(input_buf *t, const char *name, size_t n);

/* Nanoseconds per unit of a speedscope/V8 time unit name (n bytes), 0 for a unit that is
 * no time. */
double json_in_ns_per(const char *unit, size_t n);

#endif
