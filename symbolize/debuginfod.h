/* debuginfod.h - debug files by build-id from the servers in DEBUGINFOD_URLS, through
 * elfutils' libdebuginfod (its cache, DEBUGINFOD_CACHE_PATH, DEBUGINFOD_TIMEOUT and the
 * other DEBUGINFOD_* variables apply as they do for gdb and perf).
 *
 * For the flameprof command only: linked into it, never into libflameprof.so, because
 * libdebuginfod pulls in libcurl and OpenSSL, which crashed inside node at exit. The
 * symbolizer asks through symbolize_set_fetch (symbolize.h), at most once per module, and
 * checks the build-id of whatever comes back.
 *
 * Not thread-safe (one client, used by the thread that symbolizes); not
 * async-signal-safe (network). */
#ifndef FLAMEPROF_SYMBOLIZE_DEBUGINFOD_H
#define FLAMEPROF_SYMBOLIZE_DEBUGINFOD_H

#include <stdbool.h>
#include <stddef.h>

typedef struct symbolize_debuginfod symbolize_debuginfod;

/* A client, or NULL when DEBUGINFOD_URLS is unset or empty (nothing to ask), or when
 * this build has no libdebuginfod or it cannot start (one flameprof: line says so). */
symbolize_debuginfod *symbolize_debuginfod_new(void);

/* A symbolize_fetch_fn; ctx is the client. */
int symbolize_debuginfod_fetch(void *ctx, bool executable, const unsigned char *build_id,
                               size_t len, char **path);

/* How many debug files were asked for (by build-id) and how many came back. */
void symbolize_debuginfod_counts(const symbolize_debuginfod *d, size_t *asked, size_t *found);

void symbolize_debuginfod_free(symbolize_debuginfod *d);

#endif
