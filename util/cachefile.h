/* cachefile.h - files in flameprof's cache directory, shared by the caches that spare
 * later processes work an earlier one did (symbolize/diskcache.c, unwind/cficache.c).
 *
 * The directory is $XDG_CACHE_HOME/flameprof, else $HOME/.cache/flameprof (both must be
 * absolute); FLAMEPROF_SYMCACHE=0 turns every cache off. A file is named by the build-id
 * of what it describes plus an ending, written to a temporary name and renamed into place
 * (concurrent writers: the last complete file wins; a reader never sees half a file), and
 * the directory keeps at most UTIL_CACHE_MAX_FILES files (the least recently written go).
 * Contents are never trusted: each cache checks the build-id and the identity (device,
 * inode, size, mtime) of the files it was made from.
 *
 * Not async-signal-safe (allocates); thread-safe (no shared state). */
#ifndef FLAMEPROF_UTIL_CACHEFILE_H
#define FLAMEPROF_UTIL_CACHEFILE_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define UTIL_CACHE_MAX_FILES 512
#define UTIL_CACHE_MAX_BYTES (64u << 20) /* per file */

typedef struct util_file_ident {
    uint64_t dev, ino, size, mtime_ns;
} util_file_ident;

static inline util_file_ident util_file_ident_of(const struct stat *st)
{
    return (util_file_ident){ (uint64_t)st->st_dev, (uint64_t)st->st_ino, (uint64_t)st->st_size,
                              (uint64_t)st->st_mtim.tv_sec * 1000000000u
                                  + (uint64_t)st->st_mtim.tv_nsec };
}

static inline bool util_file_ident_eq(const util_file_ident *a, const util_file_ident *b)
{
    return a->dev == b->dev && a->ino == b->ino && a->size == b->size
           && a->mtime_ns == b->mtime_ns;
}

/* The malloc'd path of the cache file for build-id id plus ending (".sym"), or NULL when
 * caching is off or there is no cache directory. */
static inline char *util_cache_path(const unsigned char *id, size_t idlen, const char *ending)
{
    const char *off = getenv("FLAMEPROF_SYMCACHE");
    const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if ((off != NULL && strcmp(off, "0") == 0) || idlen == 0 || idlen > 64)
        return NULL;
    const char *root = xdg != NULL && xdg[0] == '/' ? xdg : home;
    const char *sub = root == xdg ? "/flameprof/" : "/.cache/flameprof/";
    if (root == NULL || root[0] != '/' || strlen(root) > 3000)
        return NULL;
    char *path = malloc(strlen(root) + strlen(sub) + 2 * idlen + strlen(ending) + 1);
    if (path == NULL)
        return NULL;
    char *p = path + sprintf(path, "%s%s", root, sub);
    for (size_t i = 0; i < idlen; i++)
        p += sprintf(p, "%02x", id[i]);
    strcpy(p, ending);
    return path;
}

/* A cache file opened for reading: a regular file of 1..UTIL_CACHE_MAX_BYTES bytes (*size),
 * or -1. Close it. */
static inline int util_cache_open(const char *path, size_t *size)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0
                    || (uint64_t)st.st_size > UTIL_CACHE_MAX_BYTES)) {
        close(fd);
        fd = -1;
    }
    *size = fd >= 0 ? (size_t)st.st_size : 0;
    return fd;
}

/* The whole of a cache file (at most UTIL_CACHE_MAX_BYTES) mapped read-only, *size bytes;
 * NULL if absent. Mapped, not read: a process reads a few entries of libc's 1.3 MB file,
 * and a copy cost two page faults per 4 KB (~2 ms a process) where the page cache's pages
 * are mapped 16 at a time. Files are replaced by rename, never rewritten in place, so the
 * mapping keeps the file it was made of. Release with util_cache_unmap. */
static inline const unsigned char *util_cache_map(const char *path, size_t *size)
{
    int fd = util_cache_open(path, size);
    void *p = fd >= 0 ? mmap(NULL, *size, PROT_READ, MAP_PRIVATE, fd, 0) : MAP_FAILED;
    if (fd >= 0)
        close(fd);
    if (p == MAP_FAILED) {
        *size = 0;
        return NULL;
    }
    return p;
}

static inline void util_cache_unmap(const unsigned char *p, size_t size)
{
    if (p != NULL)
        munmap((void *)p, size);
}

/* mkdir -p of the directory holding path, private to the user. */
static inline bool util_cache_mkdirs(const char *path)
{
    char *d = strdup(path);
    char *slash = d != NULL ? strrchr(d, '/') : NULL;
    if (slash == NULL) {
        free(d);
        return false;
    }
    *slash = '\0';
    for (char *p = d + 1; *p != '\0'; p++) {
        if (*p != '/')
            continue;
        *p = '\0';
        if (mkdir(d, 0700) != 0 && errno != EEXIST)
            break;
        *p = '/';
    }
    bool ok = mkdir(d, 0700) == 0 || errno == EEXIST;
    free(d);
    return ok;
}

typedef struct util_cache_aged {
    int64_t mtime;
    char name[256];
} util_cache_aged;

static inline int util_cache_aged_cmp(const void *a, const void *b)
{
    int64_t x = ((const util_cache_aged *)a)->mtime, y = ((const util_cache_aged *)b)->mtime;
    return x < y ? -1 : x > y;
}

/* Keeps the directory of path to UTIL_CACHE_MAX_FILES files: the oldest go. */
static inline void util_cache_prune(const char *path)
{
    char *d = strdup(path);
    char *slash = d != NULL ? strrchr(d, '/') : NULL;
    int dfd = -1;
    if (slash != NULL) {
        *slash = '\0';
        dfd = open(d, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    }
    DIR *dir = dfd >= 0 ? fdopendir(dfd) : NULL;
    util_cache_aged *v = NULL;
    size_t n = 0, cap = 0;
    for (struct dirent *e; dir != NULL && (e = readdir(dir)) != NULL;) {
        size_t len = strlen(e->d_name);
        struct stat st;
        if (e->d_name[0] == '.' || len >= 256
            || fstatat(dfd, e->d_name, &st, AT_SYMLINK_NOFOLLOW) != 0 || !S_ISREG(st.st_mode))
            continue;
        if (n == cap) {
            util_cache_aged *nv = realloc(v, (cap = cap ? 2 * cap : 64) * sizeof *v);
            if (nv == NULL)
                break;
            v = nv;
        }
        v[n].mtime = (int64_t)st.st_mtim.tv_sec;
        memcpy(v[n].name, e->d_name, len + 1);
        n++;
    }
    if (n > UTIL_CACHE_MAX_FILES) {
        qsort(v, n, sizeof *v, util_cache_aged_cmp);
        for (size_t i = 0; i < n - UTIL_CACHE_MAX_FILES; i++)
            unlinkat(dfd, v[i].name, 0);
    }
    if (dir != NULL)
        closedir(dir);
    else if (dfd >= 0)
        close(dfd);
    free(v);
    free(d);
}

/* Opens a new temporary file beside path for writing; *tmp gets its malloc'd name. */
static inline FILE *util_cache_create(const char *path, char **tmp)
{
    *tmp = malloc(strlen(path) + 32);
    if (*tmp == NULL || !util_cache_mkdirs(path)) {
        free(*tmp);
        *tmp = NULL;
        return NULL;
    }
    sprintf(*tmp, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(*tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (f == NULL) {
        if (fd >= 0) {
            close(fd);
            unlink(*tmp);
        }
        free(*tmp);
        *tmp = NULL;
    }
    return f;
}

/* Closes f and renames tmp into path if ok and every write went through, else removes
 * it; then prunes the directory if a file was added (replacing one adds none: a listing
 * and a stat of 500 files, ~1.4 ms, was paid by every process that updated a cache).
 * Frees tmp. */
static inline void util_cache_commit(FILE *f, char *tmp, const char *path, bool ok)
{
    ok = fclose(f) == 0 && ok;
    struct stat st;
    bool added = ok && lstat(path, &st) != 0;
    if (!ok || rename(tmp, path) != 0)
        unlink(tmp);
    else if (added)
        util_cache_prune(path);
    free(tmp);
}

#endif
