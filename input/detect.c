/* detect.c - format detection from a profile's first bytes. See detect.h. */
#include "detect.h"

#include <stdbool.h>
#include <string.h>

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

/* protobuf: field 1..15 of wire type 0 or 2 first, and control bytes text has not. */
static bool looks_like_pprof(const unsigned char *s, size_t n)
{
    if (n < 2)
        return false;
    unsigned key = s[0], field = key >> 3, wire = key & 7;
    if (field == 0 || field > 15 || (wire != 0 && wire != 2))
        return false;
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
    if (i < len && head[i] == '{') {
        if (contains(head, len, "speedscope") || contains(head, len, "\"shared\""))
            return INPUT_SPEEDSCOPE;
        if (contains(head, len, "\"nodes\""))
            return INPUT_CPUPROFILE;
        return INPUT_UNKNOWN;
    }
    if (i < len && head[i] == '<')
        return INPUT_UNKNOWN; /* HTML or XML: an error page, an SVG */
    if (looks_like_pprof((const unsigned char *)head, len))
        return INPUT_PPROF;
    if (memchr(head, '\0', len))
        return INPUT_UNKNOWN;
    /* Text: perf script if a line says so. */
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
