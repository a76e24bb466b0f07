/* demangle.c - C++, Rust and D symbol names for display; see demangle.h for the contract. */
#include "demangle.h"

#include <libiberty/demangle.h>
#include <stdlib.h>
#include <string.h>

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

/* The libiberty style for raw's prefix: DMGL_AUTO reads Itanium "_Z" (telling Rust legacy
 * names apart by their hash) and Rust v0 "_R"; D must be asked for by name. Without
 * DMGL_VERBOSE libiberty drops what Rust users never read: the legacy "::h<hash>" suffix
 * and v0's crate disambiguators ("std[e28293b1aa0f68bd]" reads "std"), as rustfilt does. */
static int symbolize_demangle_style(const char *raw)
{
    if (raw[0] != '_')
        return 0;
    if (raw[1] == 'Z' || raw[1] == 'R')
        return DMGL_AUTO;
    if (raw[1] == 'D' && raw[2] >= '0' && raw[2] <= '9')
        return DMGL_DLANG;
    return 0;
}

char *symbolize_demangle(const char *raw)
{
    char *go = symbolize_go_abi0(raw);
    if (go != NULL)
        return go;
    int style = symbolize_demangle_style(raw);
    if (style == 0)
        return NULL;
    return cplus_demangle(raw, style | DMGL_PARAMS | DMGL_ANSI);
}
