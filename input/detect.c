/* detect.c - format detection from a profile's first bytes. See detect.h. */
#include "detect.h"

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "varint.h"

static bool contains(const char *s, size_t n, const char *needle)
{
    size_t k = strlen(needle);
    return s && n >= k && memmem(s, n, needle, k) != NULL;
}

static bool is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* A perf script frame line: blanks, hex digits, a blank, a symbol, " (module)". */
static bool perf_frame_line(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    if (i == 0)
        return false;
    size_t h = i;
    while (i < n && is_hex(s[i]))
        i++;
    if (i == h || i == n || s[i] != ' ')
        return false;
    return n > 0 && s[n - 1] == ')' && memmem(s + i, n - i, " (", 2) != NULL;
}

/* ---- pprof: the head parses as profile.proto's top-level fields ---- */

/* s[0..n) is a sequence of fields whose keys are all in keys[]; a field may run past the
 * end only if the head was cut there (truncated). Counts in *typed the fields 1 and 2
 * (sample_type, sample) found whole whose own fields are as profile.proto has them. */
static bool fields_ok(const unsigned char *s, size_t n, const char *keys, bool truncated,
                      int *typed)
{
    static const char value_type[] = "\x08\x10";
    static const char sample[] = "\x08\x0a\x10\x12\x1a";
    const unsigned char *p = s, *end = s + n;
    while (p < end) {
        uint64_t key, v;
        if (!varint_read(&p, end, &key) || key == 0 || key > 0x7f || !strchr(keys, (int)key))
            return false;
        if (!varint_read(&p, end, &v))
            return truncated;
        if ((key & 7) == 0)
            continue;
        if (v > (uint64_t)(end - p))
            return truncated;
        if (typed && (key == 0x0a || key == 0x12)) {
            if (!fields_ok(p, (size_t)v, key == 0x0a ? value_type : sample, false, NULL))
                return false;
            ++*typed;
        }
        p += v;
    }
    return true;
}

/* Top level: sample_type (1), sample (2), mapping (3), location (4), function (5),
 * string_table (6), drop/keep_frames (7, 8), time (9), duration (10), period_type (11),
 * period (12), comment (13), default_sample_type (14), in any order (Go starts with the
 * time). The whole head must parse so, with a sample type or a sample in it, or binary
 * bytes no text has. */
static bool looks_like_pprof(const unsigned char *s, size_t n)
{
    static const char top[] = "\x0a\x12\x1a\x22\x2a\x32\x38\x40\x48\x50\x5a\x60\x68\x6a\x70";
    int typed = 0;
    if (n < 2 || !fields_ok(s, n, top, n >= DETECT_HEAD, &typed))
        return false;
    if (typed > 0)
        return true;
    for (size_t i = 0; i < n && i < 4096; i++)
        if (s[i] < 0x09 || (s[i] > 0x0d && s[i] < 0x20))
            return true;
    return false;
}

input_format input_detect(const char *head, size_t len)
{
    size_t i = 0;
    while (i < len && (head[i] == ' ' || head[i] == '\t' || head[i] == '\r' || head[i] == '\n'))
        i++;
    if (i + 1 < len && head[i] == '{' && strchr("\"\r\n\t }", head[i + 1])) {
        if (contains(head, len, "speedscope") || contains(head, len, "\"shared\""))
            return INPUT_SPEEDSCOPE;
        if (contains(head, len, "\"nodes\""))
            return INPUT_CPUPROFILE;
        return INPUT_UNKNOWN;
    }
    if (looks_like_pprof((const unsigned char *)head, len))
        return INPUT_PPROF;
    /* Text: perf script if a line says so; anything else goes to the folded parser, which
     * reports what it cannot read line by line ("<module>" roots, control bytes...). */
    const char *s = head, *end = head + len;
    if (len >= 2 && s[0] == '#' && s[1] == ' ' && contains(head, len, "# ========"))
        return INPUT_PERF_SCRIPT;
    while (s < end) {
        const char *nl = memchr(s, '\n', (size_t)(end - s));
        if (!nl)
            break; /* a cut-off last line says nothing */
        if (perf_frame_line(s, (size_t)(nl - s)))
            return INPUT_PERF_SCRIPT;
        s = nl + 1;
    }
    return INPUT_FOLDED;
}
