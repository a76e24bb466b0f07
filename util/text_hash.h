/* text_hash.h - the hash an interpreter frame reader takes of a name's characters in the
 * signal handler, and that the naming thread takes again of the text it reads later: a
 * name is kept only if the two agree, so an object freed and its memory reused between
 * the sample and the naming is never named after what lives there now.
 *
 * Words of the data, with its character width (kind) and byte length mixed in; fed in
 * pieces (util_text_hash_begin/feed/end) or at once (util_text_hash). Not cryptographic:
 * 64 bits against accidental agreement. Pure: thread-safe and async-signal-safe. */
#ifndef FLAMEPROF_UTIL_TEXT_HASH_H
#define FLAMEPROF_UTIL_TEXT_HASH_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint64_t util_text_hash_mix(uint64_t h, uint64_t w)
{
    h = (h ^ w) * 0x9e3779b97f4a7c15u;
    return h ^ (h >> 32);
}

/* The state before n bytes of characters kind bytes wide. */
static inline uint64_t util_text_hash_begin(unsigned kind, size_t n)
{
    return util_text_hash_mix((uint64_t)kind << 32, n);
}

/* Feeds n bytes; every call but the last must feed a multiple of 8. */
static inline uint64_t util_text_hash_feed(uint64_t h, const unsigned char *p, size_t n)
{
    for (; n >= 8; p += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, p, 8);
        h = util_text_hash_mix(h, w);
    }
    if (n) {
        uint64_t w = 0;
        memcpy(&w, p, n);
        h = util_text_hash_mix(h, w);
    }
    return h;
}

static inline uint64_t util_text_hash_end(uint64_t h)
{
    return util_text_hash_mix(h, 0);
}

/* The hash of n bytes of characters kind bytes wide (1 for UTF-8 or bytes). */
static inline uint64_t util_text_hash(unsigned kind, const void *data, size_t n)
{
    return util_text_hash_end(util_text_hash_feed(util_text_hash_begin(kind, n), data, n));
}

/* Two hashes (a name's and its file's) as one identity. */
static inline uint64_t util_text_hash_pair(uint64_t a, uint64_t b)
{
    return a ^ (b * 0x9e3779b97f4a7c15u);
}

#endif
