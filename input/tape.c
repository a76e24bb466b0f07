/* tape.c - compact number sequences. See tape.h.
 *
 * Each number starts with a varint h whose low 2 bits say what it is: 0 a whole number
 * zigzag-encoded in h >> 2, 1 a double in the next 8 bytes, 2 none, 3 a whole number in
 * the next 8 bytes (zigzag too large for h). */
#include "tape.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "varint.h"

static int put_head(input_tape *t, uint64_t h, const void *tail, size_t tail_len)
{
    unsigned char b[10 + 8];
    size_t n = varint_write(b, h);
    if (tail_len)
        memcpy(b + n, tail, tail_len);
    if (input_buf_put(&t->b, b, n + tail_len) < 0)
        return -1;
    t->n++;
    return 0;
}

int tape_put_int(input_tape *t, int64_t v)
{
    uint64_t z = ((uint64_t)v << 1) ^ (uint64_t)(v >> 63);
    if (z < (UINT64_C(1) << 62))
        return put_head(t, z << 2, NULL, 0);
    return put_head(t, 3, &v, sizeof(v));
}

int tape_put_real(input_tape *t, double v)
{
    return put_head(t, 1, &v, sizeof(v));
}

int tape_put_number(input_tape *t, double v)
{
    if (v >= -9e15 && v <= 9e15 && v == (double)(int64_t)v && (v != 0 || !signbit(v)))
        return tape_put_int(t, (int64_t)v);
    return tape_put_real(t, v);
}

int tape_put_none(input_tape *t)
{
    return put_head(t, 2, NULL, 0);
}

tape_kind tape_get(input_tape *t, int64_t *i, double *d)
{
    if (!t->b.s) /* nothing put: no pointer to offset */
        return TAPE_END;
    const unsigned char *p = (const unsigned char *)t->b.s + t->rd, *end =
        (const unsigned char *)t->b.s + t->b.len;
    uint64_t h;
    if (p >= end || !varint_read(&p, end, &h))
        return TAPE_END;
    tape_kind k = TAPE_NONE;
    switch (h & 3) {
    case 0:
        *i = (int64_t)((h >> 3) ^ (0 - ((h >> 2) & 1)));
        *d = (double)*i;
        k = TAPE_INT;
        break;
    case 1:
    case 3:
        if (end - p < 8)
            return TAPE_END;
        if ((h & 3) == 1) {
            memcpy(d, p, sizeof(*d));
            k = TAPE_REAL;
        } else {
            memcpy(i, p, sizeof(*i));
            *d = (double)*i;
            k = TAPE_INT;
        }
        p += 8;
        break;
    default:
        break;
    }
    t->rd = (size_t)(p - (const unsigned char *)t->b.s);
    return k;
}

void tape_rewind(input_tape *t)
{
    t->rd = 0;
}

void tape_free(input_tape *t)
{
    free(t->b.s);
    memset(t, 0, sizeof(*t));
}
