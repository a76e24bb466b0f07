/* debuginfod.c - libdebuginfod client; see debuginfod.h for the contract. */
#include "debuginfod.h"

#include <stdio.h>
#include <stdlib.h>

#ifdef FLAMEPROF_HAVE_DEBUGINFOD
#include <elfutils/debuginfod.h>
#endif

struct symbolize_debuginfod {
#ifdef FLAMEPROF_HAVE_DEBUGINFOD
    debuginfod_client *client;
#endif
    size_t asked, found;
};

symbolize_debuginfod *symbolize_debuginfod_new(void)
{
    const char *urls = getenv("DEBUGINFOD_URLS");
    if (urls == NULL || urls[0] == '\0')
        return NULL;
#ifdef FLAMEPROF_HAVE_DEBUGINFOD
    symbolize_debuginfod *d = calloc(1, sizeof *d);
    if (d != NULL && (d->client = debuginfod_begin()) != NULL)
        return d;
    free(d);
    fprintf(stderr, "flameprof: cannot start a debuginfod client; symbols from this machine "
                    "only\n");
#else
    fprintf(stderr, "flameprof: built without libdebuginfod: DEBUGINFOD_URLS is ignored\n");
#endif
    return NULL;
}

int symbolize_debuginfod_fetch(void *ctx, bool executable, const unsigned char *build_id,
                               size_t len, char **path)
{
    symbolize_debuginfod *d = ctx;
    if (d == NULL || len == 0 || len > 64)
        return -1;
    d->asked += !executable;
#ifdef FLAMEPROF_HAVE_DEBUGINFOD
    /* A negative answer is an errno (no such build-id, timeout, no network): the module
     * is then named from what is on disk. */
    int fd = executable ? debuginfod_find_executable(d->client, build_id, (int)len, path)
                        : debuginfod_find_debuginfo(d->client, build_id, (int)len, path);
    if (fd >= 0) {
        d->found += !executable;
        return fd;
    }
#else
    (void)executable, (void)build_id, (void)path;
#endif
    return -1;
}

void symbolize_debuginfod_counts(const symbolize_debuginfod *d, size_t *asked, size_t *found)
{
    *asked = d != NULL ? d->asked : 0;
    *found = d != NULL ? d->found : 0;
}

void symbolize_debuginfod_free(symbolize_debuginfod *d)
{
    if (d == NULL)
        return;
#ifdef FLAMEPROF_HAVE_DEBUGINFOD
    debuginfod_end(d->client);
#endif
    free(d);
}
