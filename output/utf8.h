/* utf8.h - UTF-8 validation for the text formats (SVG, JSON, protobuf strings). Internal to
 * output/; the SVG writer adds XML's own restrictions on top. */
#ifndef FLAMEPROF_UTF8_H
#define FLAMEPROF_UTF8_H

#include <stddef.h>

/* Length (1..4) of the well-formed UTF-8 character at s[0..n), n > 0, or 0 if the bytes
 * there are not one: a stray continuation byte, a truncated sequence, an overlong or
 * surrogate encoding, or a code point past U+10FFFF. */
static inline size_t utf8_len(const unsigned char *s, size_t n)
{
    unsigned c = s[0], lo = 0x80, hi = 0xBF;
    size_t need;
    if (c < 0x80)
        return 1;
    if (c >= 0xC2 && c <= 0xDF) {
        need = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
        need = 3;
        lo = c == 0xE0 ? 0xA0 : 0x80;
        hi = c == 0xED ? 0x9F : 0xBF;
    } else if (c >= 0xF0 && c <= 0xF4) {
        need = 4;
        lo = c == 0xF0 ? 0x90 : 0x80;
        hi = c == 0xF4 ? 0x8F : 0xBF;
    } else {
        return 0;
    }
    if (n < need || s[1] < lo || s[1] > hi)
        return 0;
    for (size_t i = 2; i < need; i++)
        if ((s[i] & 0xC0) != 0x80)
            return 0;
    return need;
}

#define UTF8_REPLACEMENT "\xEF\xBF\xBD" /* U+FFFD, for each byte that is not UTF-8 */

#endif
