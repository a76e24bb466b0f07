/* grow.c - growable arrays and byte buffers. See grow.h. */
#include "grow.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int input_grow(void **a, size_t *cap, size_t want, size_t size)
{
    if (want <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < want) {
        if (n > SIZE_MAX / 2 / size)
            return -1;
        n *= 2;
    }
    void *b = realloc(*a, n * size);
    if (!b)
        return -1;
    *a = b;
    *cap = n;
    return 0;
}

int input_buf_put(input_buf *b, const void *s, size_t n)
{
    if (n > SIZE_MAX - b->len - 1 || input_grow((void **)&b->s, &b->cap, b->len + n + 1, 1) < 0)
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
