/* svg_palette.c - frame colours. See svg_palette.h. */
#include "svg_palette.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

enum hue { HUE_HOT, HUE_RED, HUE_ORANGE, HUE_YELLOW, HUE_GREEN, HUE_PALE_GREEN, HUE_AQUA };

static bool has_tag(const char *s, size_t n, char tag)
{
    return n >= 4 && s[n - 4] == '_' && s[n - 3] == '[' && s[n - 2] == tag && s[n - 1] == ']';
}

static bool has(const char *s, size_t n, const char *needle)
{
    return memmem(s, n, needle, strlen(needle)) != NULL;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static bool java_name(const char *s, size_t n)
{
    static const char *const pkgs[] = { "java/", "javax/", "jdk/", "sun/", "com/", "org/",
                                        "io/",   "net/",   "scala/", "kotlin/" };
    if (n && s[0] == 'L') { /* JVM descriptors: Ljava/lang/String; */
        s++;
        n--;
    }
    for (size_t i = 0; i < sizeof(pkgs) / sizeof(*pkgs); i++)
        if (starts(s, n, pkgs[i]))
            return true;
    return has(s, n, ".java:");
}

static enum hue classify(const char *s, size_t n, svg_palette pal)
{
    if (has_tag(s, n, 'k'))
        return HUE_ORANGE;
    if (has_tag(s, n, 'j') || has_tag(s, n, 'p') || has_tag(s, n, 'r')) /* JIT and interpreted code */
        return HUE_GREEN;
    if (has_tag(s, n, 'i'))
        return HUE_AQUA;
    if (has_tag(s, n, '0')) /* an interpreted Java method: paler than compiled ones */
        return HUE_PALE_GREEN;
    if (pal == PAL_HOT)
        return HUE_HOT;
    if (pal == PAL_JAVA && java_name(s, n))
        return HUE_GREEN;
    if (pal == PAL_JS && (has(s, n, ".js") || starts(s, n, "JS:") || memchr(s, '/', n)))
        return HUE_GREEN;
    if (pal == PAL_JS && (starts(s, n, "Builtin:") || starts(s, n, "BytecodeHandler:")))
        return HUE_AQUA;
    if (has(s, n, "::"))
        return HUE_YELLOW;
    return HUE_RED;
}

/* v/65536 of range: integer maths, so colours never depend on float rounding. */
static unsigned frac(unsigned v, unsigned range)
{
    return (v * range) >> 16;
}

/* FNV-1a, byte by byte so colours are the same on every platform, then a finalizer that
 * spreads short names ("a", "b") over all the bits the palettes use. */
static uint64_t color_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdu;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 33);
}

void svg_palette_rgb(const char *s, size_t n, svg_palette pal, unsigned rgb[3])
{
    uint64_t h = color_hash(s, n);
    unsigned a = (unsigned)(h & 0xffff), b = (unsigned)(h >> 16 & 0xffff),
             c = (unsigned)(h >> 32 & 0xffff);
    switch (classify(s, n, pal)) {
    case HUE_HOT: /* reds to yellows: the classic look */
        rgb[0] = 205 + frac(c, 50), rgb[1] = frac(a, 230), rgb[2] = frac(b, 55);
        break;
    case HUE_RED:
        rgb[0] = 200 + frac(a, 55), rgb[1] = rgb[2] = 50 + frac(a, 80);
        break;
    case HUE_ORANGE:
        rgb[0] = 190 + frac(a, 65), rgb[1] = 90 + frac(a, 65), rgb[2] = 0;
        break;
    case HUE_YELLOW:
        rgb[0] = rgb[1] = 175 + frac(a, 55), rgb[2] = 50 + frac(a, 20);
        break;
    case HUE_GREEN:
        rgb[0] = rgb[2] = 50 + frac(a, 60), rgb[1] = 165 + frac(a, 55);
        break;
    case HUE_PALE_GREEN:
        rgb[0] = rgb[2] = 140 + frac(a, 50), rgb[1] = 205 + frac(a, 50);
        break;
    default: /* HUE_AQUA */
        rgb[0] = 50 + frac(a, 60), rgb[1] = rgb[2] = 165 + frac(a, 55);
        break;
    }
}

svg_palette svg_palette_named(const char *name)
{
    if (name && strcmp(name, "java") == 0)
        return PAL_JAVA;
    if (name && strcmp(name, "js") == 0)
        return PAL_JS;
    return PAL_HOT;
}
