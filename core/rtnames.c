/* rtnames.c - interned interpreter frame names. See rtnames.h. */
#include "rtnames.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_once_t once = PTHREAD_ONCE_INIT;

/* fork: held across it, so the child (whose aggregator interns again) finds it free and
 * the table whole. */
static void fork_prepare(void)
{
    pthread_mutex_lock(&lock);
}

static void fork_done(void)
{
    pthread_mutex_unlock(&lock);
}

static void register_fork(void)
{
    pthread_atfork(fork_prepare, fork_done, fork_done);
}
static char **names; /* by id */
static size_t len, cap;
static uint32_t *index_; /* open addressing: id + 1, 0 empty */
static size_t index_cap;

static uint64_t hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    return h;
}

static bool index_grow(void)
{
    size_t ncap = index_cap ? index_cap * 2 : 1024;
    uint32_t *n = calloc(ncap, sizeof *n);
    if (!n)
        return false;
    for (size_t id = 0; id < len; id++) {
        size_t i = hash(names[id], strlen(names[id])) & (ncap - 1);
        while (n[i])
            i = (i + 1) & (ncap - 1);
        n[i] = (uint32_t)id + 1;
    }
    free(index_);
    index_ = n;
    index_cap = ncap;
    return true;
}

static uint32_t intern_locked(const char *name, size_t n)
{
    if ((len + 1) * 2 > index_cap && !index_grow())
        return UINT32_MAX;
    size_t i = hash(name, n) & (index_cap - 1);
    for (; index_[i]; i = (i + 1) & (index_cap - 1)) {
        const char *s = names[index_[i] - 1];
        if (strncmp(s, name, n) == 0 && s[n] == 0)
            return index_[i] - 1;
    }
    char *copy = malloc(n + 1);
    if (!copy || len >= UINT32_MAX - 1 || !UTIL_RESERVE(names, cap, len + 1)) {
        free(copy);
        return UINT32_MAX;
    }
    memcpy(copy, name, n);
    copy[n] = 0;
    names[len] = copy;
    index_[i] = (uint32_t)len + 1;
    return (uint32_t)len++;
}

uint32_t rtnames_intern(const char *name, size_t n)
{
    pthread_once(&once, register_fork);
    pthread_mutex_lock(&lock);
    uint32_t id = intern_locked(name, n);
    pthread_mutex_unlock(&lock);
    return id;
}

size_t rtnames_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = len;
    pthread_mutex_unlock(&lock);
    return n;
}

const char *rtnames_get(uint32_t id)
{
    pthread_mutex_lock(&lock);
    const char *s = id < len ? names[id] : NULL;
    pthread_mutex_unlock(&lock);
    return s;
}
