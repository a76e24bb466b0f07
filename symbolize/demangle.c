/* demangle.c - C++ and Rust symbol names for display; see demangle.h for the contract. */
#include "demangle.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

typedef char *(*symbolize_cxa_demangle_fn)(const char *, char *, size_t *, int *);

static symbolize_cxa_demangle_fn symbolize_cxa_demangle;
static pthread_once_t symbolize_demangle_once = PTHREAD_ONCE_INIT;

/* This is a C library: linking libstdc++ would drag a C++ runtime into every profiled C
 * program. A C++ host already has it loaded (RTLD_NOLOAD finds it for free); otherwise
 * load it once. The handle is never closed: unloading a C++ runtime at exit is unsafe. */
static void symbolize_demangle_init(void)
{
    void *h = dlopen("libstdc++.so.6", RTLD_LAZY | RTLD_NOLOAD);
    if (h == NULL)
        h = dlopen("libstdc++.so.6", RTLD_LAZY);
    if (h == NULL)
        return;
    void *sym = dlsym(h, "__cxa_demangle");
    /* ISO C has no object-to-function pointer conversion; POSIX guarantees it works. */
    memcpy(&symbolize_cxa_demangle, &sym, sizeof sym);
}

static bool symbolize_is_hex(const char *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || (p[i] >= 'a' && p[i] <= 'f')))
            return false;
    return true;
}

/* Rust legacy symbols demangle to "path::h<16 hex>": the hash only disambiguates crate
 * versions and would split one function into many flame graph frames. */
static bool symbolize_strip_rust_hash(char *d)
{
    size_t n = strlen(d);
    if (n < 19 || memcmp(d + n - 19, "::h", 3) != 0 || !symbolize_is_hex(d + n - 16, 16))
        return false;
    d[n - 19] = '\0';
    return true;
}

/* Writes the UTF-8 encoding of cp at out; returns its length (0 if not encodable). */
static size_t symbolize_utf8(unsigned long cp, char *out)
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | (cp >> 6));
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | (cp >> 12));
        out[1] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    if (cp < 0x110000) {
        out[0] = (char)(0xf0 | (cp >> 18));
        out[1] = (char)(0x80 | ((cp >> 12) & 0x3f));
        out[2] = (char)(0x80 | ((cp >> 6) & 0x3f));
        out[3] = (char)(0x80 | (cp & 0x3f));
        return 4;
    }
    return 0;
}

/* Decodes one Rust legacy escape ("$LT$", "$u20$", ...) at in; returns the bytes consumed
 * (0 if in does not start a known escape) and writes the decoded text at out. */
static size_t symbolize_rust_escape(const char *in, char *out, size_t *outlen)
{
    static const struct { const char *esc; char ch; } table[] = {
        { "$SP$", '@' }, { "$BP$", '*' }, { "$RF$", '&' }, { "$LT$", '<' },
        { "$GT$", '>' }, { "$LP$", '(' }, { "$RP$", ')' }, { "$C$", ',' },
    };
    for (size_t i = 0; i < sizeof table / sizeof table[0]; i++) {
        size_t n = strlen(table[i].esc);
        if (strncmp(in, table[i].esc, n) == 0) {
            out[0] = table[i].ch;
            *outlen = 1;
            return n;
        }
    }
    if (in[1] != 'u')
        return 0;
    const char *end = strchr(in + 2, '$');
    if (end == NULL || end == in + 2 || end - (in + 2) > 6 || !symbolize_is_hex(in + 2, (size_t)(end - (in + 2))))
        return 0;
    unsigned long cp = strtoul(in + 2, NULL, 16);
    *outlen = symbolize_utf8(cp, out);
    return *outlen ? (size_t)(end + 1 - in) : 0;
}

/* In place: every escape is at least as long as its decoding, so the text only shrinks. */
static void symbolize_rust_unescape(char *d)
{
    char *w = d;
    bool seg_start = true;
    for (const char *r = d; *r != '\0';) {
        size_t outlen = 0, used;
        if (seg_start && r[0] == '_' && r[1] == '$') {
            r++; /* rustc prefixes '_' to a path segment that starts with '$' */
        } else if (r[0] == '$' && (used = symbolize_rust_escape(r, w, &outlen)) > 0) {
            r += used;
            w += outlen;
        } else if (r[0] == '.' && r[1] == '.') {
            r += 2;
            *w++ = ':';
            *w++ = ':';
            seg_start = true;
            continue;
        } else {
            /* A segment starts right after the second ':' of a "::" separator. */
            seg_start = r[0] == ':' && r[1] != ':';
            *w++ = *r++;
            continue;
        }
        seg_start = false;
    }
    *w = '\0';
}

/* Go's linker names an assembly function's ABI0 body "pkg.fn.abi0" (Go 1.17+); Go's own
 * tools show it as "pkg.fn". Only names with a package dot before the suffix. */
static char *symbolize_go_abi0(const char *raw)
{
    static const char suffix[] = ".abi0";
    size_t n = strlen(raw), k = sizeof suffix - 1;
    if (n <= k || strcmp(raw + n - k, suffix) != 0 || !memchr(raw, '.', n - k))
        return NULL;
    return strndup(raw, n - k);
}

char *symbolize_demangle(const char *raw)
{
    char *go = symbolize_go_abi0(raw);
    if (go != NULL)
        return go;
    if (raw[0] != '_' || raw[1] != 'Z')
        return NULL;
    pthread_once(&symbolize_demangle_once, symbolize_demangle_init);
    if (symbolize_cxa_demangle == NULL)
        return NULL;
    int status = -1;
    char *d = symbolize_cxa_demangle(raw, NULL, NULL, &status);
    if (d == NULL || status != 0) {
        free(d);
        return NULL;
    }
    if (symbolize_strip_rust_hash(d))
        symbolize_rust_unescape(d);
    return d;
}
