/* grow.h - a growable byte buffer, as the readers build names and stacks in (arrays of
 * anything else: util/array.h). Internal to input/. */
#ifndef FLAMEPROF_GROW_H
#define FLAMEPROF_GROW_H

#include <stddef.h>

/* Bytes; s is not NUL-terminated. */
typedef struct input_buf {
    char *s;
    size_t len, cap;
} input_buf;

/* Appends s[0..n), keeping room for one more byte (a NUL) after them. Returns 0, or -1
 * out of memory. */
int input_buf_put(input_buf *b, const void *s, size_t n);
int input_buf_puts(input_buf *b, const char *s);

#endif
