/* varint.h - protobuf's base-128 varint, the one wire primitive the pprof reader
 * (pprof_read.c) and format detection (detect.c) decode, and the JSON readers' compact
 * copies (tape.c, speedscope_read.c's stack keys) use too. Internal to input/. */
#ifndef FLAMEPROF_VARINT_H
#define FLAMEPROF_VARINT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Decodes the varint at *p (not past end) into *v and advances *p. Returns false if it is
 * cut off by end or longer than 10 bytes. */
static inline bool varint_read(const unsigned char **p, const unsigned char *end, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 64 && *p < end; shift += 7) {
        unsigned char b = *(*p)++;
        *v |= (uint64_t)(b & 0x7f) << shift;
        if (!(b & 0x80))
            return true;
    }
    return false;
}

/* Encodes v into out (10 bytes are enough). Returns the bytes used. */
static inline size_t varint_write(unsigned char out[10], uint64_t v)
{
    size_t n = 0;
    do {
        out[n++] = (unsigned char)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return n;
}

#endif
