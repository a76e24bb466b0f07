/* tmp_path.h - where a profile goes when its own directory will not take it: /tmp.
 *
 * One rule for the raw spill and for every output file: first "/tmp/<the same file
 * name>", so the file keeps the name the user asked for; where that does not fit,
 * "/tmp/flameprof.<pid>", the default name. Callers try them in that order and say once
 * where the profile went. No allocation; thread-safe. */
#ifndef FLAMEPROF_UTIL_TMP_PATH_H
#define FLAMEPROF_UTIL_TMP_PATH_H

#include <stdbool.h>
#include <stdio.h>
#include <string.h>

/* "/tmp/" + the last component of path, into out[cap]. False (out untouched) when it
 * does not fit. */
static inline bool util_tmp_same_name(const char *path, char *out, size_t cap)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    size_t n = strlen(base);
    if (n + sizeof "/tmp/" > cap)
        return false;
    memcpy(out, "/tmp/", 5);
    memcpy(out + 5, base, n + 1);
    return true;
}

/* "/tmp/flameprof.<pid>" into out[cap] (cut to fit, always terminated when cap > 0). */
static inline void util_tmp_default_name(long pid, char *out, size_t cap)
{
    snprintf(out, cap, "/tmp/flameprof.%ld", pid);
}

#endif
