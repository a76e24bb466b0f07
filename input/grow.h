/* grow.h - growable arrays and byte buffers, as every reader needs them (names, stacks,
 * tables). Internal to input/. */
#ifndef FLAMEPROF_GROW_H
#define FLAMEPROF_GROW_H

#include <stddef.h>

/* Makes *a (of *cap elements of size bytes) hold at least want elements, doubling.
 * Returns 0, or -1 on overflow or allocation failure (*a unchanged). */
int input_grow(void **a, size_t *cap, size_t want, size_t size);

/* Bytes; s is not NUL-terminated. */
typedef struct input_buf {
    char *s;
    size_t len, cap;
} input_buf;

/* Appends s[0..n). Returns 0, or -1 out of memory. */
int input_buf_put(input_buf *b, const void *s, size_t n);
int input_buf_puts(input_buf *b, const char *s);

#endif
