/* pynames.c - Python frame names by id. See pynames.h. */
#include "pynames.h"

#include "array.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static char **names;  /* by id */
static size_t len, cap;
static uint32_t *slots; /* open addressing over ids + 1; 0 = empty */
static size_t nslots;

static uint64_t hash_str(const char *s)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 0x100000001b3u;
    return h;
}

static bool grow_slots(void)
{
    size_t n = nslots ? nslots * 2 : 1024;
    uint32_t *s = calloc(n, sizeof *s);
    if (!s)
        return false;
    for (size_t i = 0; i < len; i++) {
        size_t j = hash_str(names[i]) & (n - 1);
        while (s[j])
            j = (j + 1) & (n - 1);
        s[j] = (uint32_t)i + 1;
    }
    free(slots);
    slots = s;
    nslots = n;
    return true;
}

static uint32_t intern_locked(const char *name)
{
    if ((len + 1) * 2 > nslots && !grow_slots())
        return UINT32_MAX;
    size_t j = hash_str(name) & (nslots - 1);
    for (; slots[j]; j = (j + 1) & (nslots - 1))
        if (strcmp(names[slots[j] - 1], name) == 0)
            return slots[j] - 1;
    char *copy = strdup(name);
    if (!copy || !UTIL_RESERVE(names, cap, len + 1)) {
        free(copy);
        return UINT32_MAX;
    }
    names[len] = copy;
    slots[j] = (uint32_t)++len;
    return (uint32_t)len - 1;
}

void pynames_after_fork_child(void)
{
    pthread_mutex_init(&lock, NULL);
    names = NULL;
    slots = NULL;
    len = cap = nslots = 0;
}

uint32_t pynames_intern(const char *name)
{
    pthread_mutex_lock(&lock);
    uint32_t id = intern_locked(name);
    pthread_mutex_unlock(&lock);
    return id;
}

size_t pynames_count(void)
{
    pthread_mutex_lock(&lock);
    size_t n = len;
    pthread_mutex_unlock(&lock);
    return n;
}

bool pynames_get(uint64_t pc, char *buf, size_t cap_)
{
    uint64_t id = pc & ~0xffff000000000000ull;
    pthread_mutex_lock(&lock);
    bool ok = PYNAMES_IS_PC(pc) && id < len;
    if (ok)
        snprintf(buf, cap_, "%s", names[id]);
    pthread_mutex_unlock(&lock);
    return ok;
}
