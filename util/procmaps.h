/* procmaps.h - this process's mappings (/proc/self/maps), read at once and parsed by hand.
 *
 *     static bool on_map(void *ctx, const util_mapping *m) { ...; return true; }
 *     util_procmaps_each(on_map, ctx);   // false: the file could not be read
 *
 * Why by hand: sscanf cost ~0.6-1.7 us a line, 0.3-0.9 ms for node's 500-600 mappings, and
 * the perf-map reader takes a snapshot whenever V8 names code outside the executable memory
 * it knows, up to every tick (tsc: ~170 snapshots, 18-25 ms of CPU; 5-6 ms now). The
 * kernel's side of a read is ~0.06 ms. One read(2) loop into one buffer, no stdio.
 *
 * Not async-signal-safe (malloc): never from a signal handler. Any thread. */
#ifndef FLAMEPROF_UTIL_PROCMAPS_H
#define FLAMEPROF_UTIL_PROCMAPS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct util_mapping {
    uint64_t lo, hi;  /* [lo, hi) */
    char perms[5];    /* "r-xp": read, write, execute, private/shared */
    uint64_t offset;  /* in the file */
    uint64_t inode;   /* 0: not a file */
    const char *path; /* the rest of the line ("" if none): a file, [heap], [stack],
                         [anon:...], "... (deleted)"; valid during the callback only */
} util_mapping;

/* Hex digits at *p into *out, *p moved past them; false if there were none. */
static inline bool util_procmaps_hex(const char **p, uint64_t *out)
{
    uint64_t v = 0;
    const char *s = *p;
    for (;; s++) {
        unsigned c = (unsigned char)*s, d;
        if (c >= '0' && c <= '9')
            d = c - '0';
        else if ((c | 32) >= 'a' && (c | 32) <= 'f')
            d = (c | 32) - 'a' + 10;
        else
            break;
        v = v * 16 + d;
    }
    if (s == *p)
        return false;
    *out = v;
    *p = s;
    return true;
}

/* One line, NUL-terminated without its newline:
 * "lo-hi perms offset major:minor inode   path". */
static inline bool util_procmaps_parse(const char *s, util_mapping *m)
{
    uint64_t major, minor;
    if (!util_procmaps_hex(&s, &m->lo) || *s++ != '-' || !util_procmaps_hex(&s, &m->hi) ||
        *s++ != ' ')
        return false;
    for (int i = 0; i < 4; i++) {
        if (!s[i] || s[i] == ' ')
            return false;
        m->perms[i] = s[i];
    }
    m->perms[4] = 0;
    s += 4;
    if (*s++ != ' ' || !util_procmaps_hex(&s, &m->offset) || *s++ != ' ' ||
        !util_procmaps_hex(&s, &major) || *s++ != ':' || !util_procmaps_hex(&s, &minor) ||
        *s++ != ' ')
        return false;
    m->inode = 0;
    if (*s < '0' || *s > '9')
        return false;
    while (*s >= '0' && *s <= '9')
        m->inode = m->inode * 10 + (uint64_t)(*s++ - '0');
    while (*s == ' ')
        s++;
    m->path = s;
    return true;
}

/* The whole file, NUL-terminated (free it), or NULL. */
static inline char *util_procmaps_read(void)
{
    int fd = open("/proc/self/maps", O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    ssize_t n = 0;
    while (buf && (n = read(fd, buf + len, cap - len - 1)) > 0) {
        len += (size_t)n;
        if (len + 1 == cap) {
            char *g = cap <= SIZE_MAX / 2 ? realloc(buf, cap * 2) : NULL;
            if (!g) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = g;
            cap *= 2;
        }
    }
    close(fd);
    if (buf && n < 0) { /* a read failed: no half a list */
        free(buf);
        return NULL;
    }
    if (buf)
        buf[len] = 0;
    return buf;
}

/* fn(ctx, m) for each mapping, in address order, until it returns false. False if the
 * file could not be read (fn was not called). */
static inline bool util_procmaps_each(bool (*fn)(void *ctx, const util_mapping *m), void *ctx)
{
    char *buf = util_procmaps_read();
    if (!buf)
        return false;
    for (char *line = buf; *line;) {
        char *nl = strchr(line, '\n');
        if (nl)
            *nl = 0;
        util_mapping m;
        if (util_procmaps_parse(line, &m) && !fn(ctx, &m))
            break;
        if (!nl)
            break;
        line = nl + 1;
    }
    free(buf);
    return true;
}

#endif
