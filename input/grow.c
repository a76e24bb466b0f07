/* grow.c - a growable byte buffer. See grow.h. */
#include "grow.h"

#include <stdint.h>
#include <string.h>

#include "array.h"

int input_buf_put(input_buf *b, const void *s, size_t n)
{
    /* + 1: room for a NUL a caller may put after the bytes */
    if (n > SIZE_MAX - b->len - 1 || !UTIL_RESERVE(b->s, b->cap, b->len + n + 1))
        return -1;
    if (n)
        memcpy(b->s + b->len, s, n);
    b->len += n;
    return 0;
}

int input_buf_puts(input_buf *b, const char *s)
{
    return input_buf_put(b, s, strlen(s));
}
