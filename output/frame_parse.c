/* frame_parse.c - the name shapes of V8, CPython and the JVM. See frame_parse.h. */
#include "frame_parse.h"

#include <stdbool.h>
#include <string.h>

static bool has_prefix(const char *s, size_t n, const char *p)
{
    size_t k = strlen(p);
    return n >= k && memcmp(s, p, k) == 0;
}

/* The tag at the end of s[0..*n), removed from *n. */
static frame_kind strip_tag(const char *s, size_t *n)
{
    static const struct { const char *tag; frame_kind kind; } tags[] = {
        { "_[j]", FRAME_JIT }, { "_[0]", FRAME_INTERPRETED }, { "_[i]", FRAME_INLINED },
        { "_[k]", FRAME_KERNEL },
    };
    for (size_t i = 0; i < sizeof tags / sizeof tags[0]; i++)
        if (*n > 4 && memcmp(s + *n - 4, tags[i].tag, 4) == 0) {
            *n -= 4;
            return tags[i].kind;
        }
    return FRAME_NATIVE;
}

/* A decimal number ending just before s[end], preceded by ':'. Returns its first digit's
 * index (the ':' is at one less), or 0 if there is none. */
static size_t number_before(const char *s, size_t end, long *v)
{
    size_t i = end;
    while (i > 0 && s[i - 1] >= '0' && s[i - 1] <= '9' && end - i < 9)
        i--;
    if (i == end || i < 2 || s[i - 1] != ':')
        return 0;
    long x = 0;
    for (size_t k = i; k < end; k++)
        x = x * 10 + (s[k] - '0');
    *v = x;
    return i;
}

/* "JS:~fn /path/file.js:155:31" after the "JS:" (or "LazyCompile:") prefix. */
static void parse_v8(const char *s, size_t n, frame_parts *o)
{
    if (n && strchr("~^+*", s[0]))
        s++, n--;
    /* The last space: names have spaces ("get foo" for a getter) more often than the paths
     * of servers' scripts do. */
    const char *sp = memrchr(s, ' ', n);
    size_t name_len = sp ? (size_t)(sp - s) : n;
    o->name = name_len ? s : "(anonymous)";
    o->name_len = name_len ? name_len : strlen("(anonymous)");
    if (!sp)
        return;
    const char *loc = sp + 1;
    size_t len = n - (size_t)(loc - s);
    long line = 0, col = 0;
    size_t c = number_before(loc, len, &col);
    size_t l = c ? number_before(loc, c - 1, &line) : 0;
    if (l > 1) {
        o->file = loc, o->file_len = l - 1, o->line = line, o->col = col;
    } else if (c > 1) {
        o->file = loc, o->file_len = c - 1, o->line = col;
    } else if (len) {
        o->file = loc, o->file_len = len;
    }
}

/* "py::fn:/path/file.py" after the "py::" prefix. */
static void parse_python(const char *s, size_t n, frame_parts *o)
{
    const char *colon = memchr(s, ':', n);
    o->name = s;
    o->name_len = colon ? (size_t)(colon - s) : n;
    if (colon && colon + 1 < s + n) {
        o->file = colon + 1;
        o->file_len = n - (size_t)(colon + 1 - s);
    }
}

/* "com.example.Foo.bar(int)" (perhaps "double com.example.Foo.bar(int)" from the JVM's
 * own perf map): the qualified name, when it is one. */
static void parse_java(const char *s, size_t n, frame_parts *o)
{
    const char *paren = memchr(s, '(', n);
    if (!paren || s[n - 1] != ')')
        return;
    size_t end = (size_t)(paren - s), start = end;
    bool dot = false;
    while (start > 0 && s[start - 1] != ' ') {
        char ch = s[start - 1];
        if (ch == ':') /* "ns::f(int)": C++ keeps its arguments */
            return;
        dot |= ch == '.';
        start--;
    }
    if (dot && start < end) {
        o->name = s + start;
        o->name_len = end - start;
    }
}

void frame_parse(const char *s, size_t n, frame_parts *o)
{
    *o = (frame_parts){ .name = s, .name_len = n };
    o->kind = strip_tag(s, &n);
    o->name_len = n;
    static const char *const v8[] = { "JS:", "LazyCompile:", "Function:" };
    for (size_t i = 0; i < sizeof v8 / sizeof v8[0]; i++)
        if (has_prefix(s, n, v8[i])) {
            size_t k = strlen(v8[i]);
            parse_v8(s + k, n - k, o);
            return;
        }
    if (has_prefix(s, n, "py::")) {
        parse_python(s + 4, n - 4, o);
        return;
    }
    if (o->kind != FRAME_NATIVE && o->kind != FRAME_KERNEL && n)
        parse_java(s, n, o);
}

const char *frame_kind_name(frame_kind k)
{
    switch (k) {
    case FRAME_JIT: return "jit";
    case FRAME_INTERPRETED: return "interpreted";
    case FRAME_INLINED: return "inlined";
    case FRAME_KERNEL: return "kernel";
    default: return "native";
    }
}
