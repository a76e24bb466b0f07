/* outfile.c - publish an output file atomically without clobbering. See outfile.h. */
#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_SUFFIX 99 /* "<stem>.<pid>.<n><ext>" for n = 1..MAX_SUFFIX */

/* A cheap mixer for temporary names. O_EXCL, not unpredictability, is what keeps two
 * writers apart: the worst a guessed name can cause is one more retry. */
static uint64_t mix(uint64_t x)
{
    x ^= x >> 33;
    x *= 0xff51afd7ed558ccdu;
    x ^= x >> 33;
    x *= 0xc4ceb9fe1a85ec53u;
    return x ^ (x >> 33);
}

/* Creates "<dir>/.<base><ext>.tmp-XXXXXX" next to the destination (link() cannot cross
 * file systems) and returns its descriptor, its name in tmp. */
static int make_temp(const char *stem, const char *ext, char *tmp, size_t cap)
{
    static const char alnum[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
    static unsigned counter;
    const char *slash = strrchr(stem, '/');
    int dirlen = slash ? (int)(slash - stem + 1) : 0;
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    uint64_t seed = (uint64_t)ts.tv_nsec ^ ((uint64_t)ts.tv_sec << 30) ^ ((uint64_t)getpid() << 16);
    for (int attempt = 0; attempt < 100; attempt++) {
        uint64_t r = mix(seed + ++counter);
        char rnd[7];
        for (int i = 0; i < 6; i++, r >>= 6)
            rnd[i] = alnum[r % (sizeof(alnum) - 1)];
        rnd[6] = '\0';
        int n = snprintf(tmp, cap, "%.*s.%s%s.tmp-%s", dirlen, stem, stem + dirlen, ext, rnd);
        if (n < 0 || (size_t)n >= cap) {
            errno = ENAMETOOLONG;
            return -1;
        }
        int fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0 || errno != EEXIST)
            return fd;
    }
    return -1; /* errno is EEXIST */
}

/* Runs the writer and, if durable, makes the content durable before anyone can see the
 * name. */
static int write_synced(int fd, outfile_writer w, void *ctx, bool durable)
{
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        errno = e;
        return -1;
    }
    errno = 0;
    int rc = w(f, ctx);
    int e = rc < 0 ? (errno ? errno : EIO) : 0;
    if (!e && (fflush(f) == EOF || ferror(f)))
        e = errno ? errno : EIO;
    if (!e && durable && fsync(fileno(f)) < 0)
        e = errno;
    if (fclose(f) == EOF && !e)
        e = errno ? errno : EIO;
    errno = e;
    return e ? -1 : 0;
}

/* Gives tmp the name dst without ever replacing dst: 1 done by link (tmp still to remove),
 * 2 done by rename (tmp is gone), 0 the name is taken, -1 error. */
static int claim(const char *tmp, const char *dst)
{
    if (link(tmp, dst) == 0)
        return 1;
    if (errno == EEXIST)
        return 0;
    if (errno != EPERM && errno != EOPNOTSUPP && errno != ENOSYS)
        return -1;
    /* File systems without hard links (vfat, some FUSE): the no-replace rename is atomic too. */
    if (renameat2(AT_FDCWD, tmp, AT_FDCWD, dst, RENAME_NOREPLACE) == 0)
        return 2;
    return errno == EEXIST ? 0 : -1;
}

/* The i-th candidate name: 0 "<stem><ext>", 1 "<stem>.<pid><ext>", n+1 "<stem>.<pid>.<n><ext>". */
static int candidate(int i, const char *stem, const char *ext, char *dst, size_t cap)
{
    int n;
    if (i == 0)
        n = snprintf(dst, cap, "%s%s", stem, ext);
    else if (i == 1)
        n = snprintf(dst, cap, "%s.%ld%s", stem, (long)getpid(), ext);
    else
        n = snprintf(dst, cap, "%s.%ld.%d%s", stem, (long)getpid(), i - 1, ext);
    if (n < 0 || (size_t)n >= cap) {
        errno = ENAMETOOLONG;
        return -1;
    }
    return n;
}

/* Links tmp to the first free candidate. Returns 1 or 2 as claim() does, or -1. */
static int publish(const char *tmp, const char *stem, const char *ext, char *written, size_t cap)
{
    char dst[PATH_MAX];
    for (int i = 0; i <= MAX_SUFFIX + 1; i++) {
        int n = candidate(i, stem, ext, dst, sizeof(dst));
        if (n < 0)
            return -1;
        if (written && cap && (size_t)n >= cap) {
            errno = ERANGE; /* checked before linking: never leave a file the caller can't name */
            return -1;
        }
        int rc = claim(tmp, dst);
        if (rc < 0)
            return -1;
        if (rc > 0) {
            if (written && cap)
                memcpy(written, dst, (size_t)n + 1);
            return rc;
        }
    }
    errno = EEXIST;
    return -1;
}

static int publish_file(const char *stem, const char *ext, outfile_writer w, void *ctx,
                        char *written, size_t cap, bool durable)
{
    if (!stem || !*stem || !w) {
        errno = EINVAL;
        return -1;
    }
    if (!ext)
        ext = "";
    char tmp[PATH_MAX];
    int fd = make_temp(stem, ext, tmp, sizeof(tmp));
    if (fd < 0)
        return -1;
    int rc = write_synced(fd, w, ctx, durable);
    if (rc == 0)
        rc = publish(tmp, stem, ext, written, cap);
    int e = errno;
    if (rc != 2)
        unlink(tmp);
    errno = e;
    return rc < 0 ? -1 : 0;
}

int outfile_publish(const char *stem, const char *ext, outfile_writer w, void *ctx,
                    char *written, size_t cap)
{
    return publish_file(stem, ext, w, ctx, written, cap, true);
}

int outfile_publish_nosync(const char *stem, const char *ext, outfile_writer w, void *ctx,
                           char *written, size_t cap)
{
    return publish_file(stem, ext, w, ctx, written, cap, false);
}

int outfile_create(const char *stem, const char *ext, char *written, size_t cap)
{
    if (!stem || !*stem) {
        errno = EINVAL;
        return -1;
    }
    char dst[PATH_MAX];
    for (int i = 0; i <= MAX_SUFFIX + 1; i++) {
        int n = candidate(i, stem, ext ? ext : "", dst, sizeof(dst));
        if (n < 0)
            return -1;
        int fd = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0666);
        if (fd >= 0) {
            if (written && cap)
                snprintf(written, cap, "%s", dst);
            return fd;
        }
        if (errno != EEXIST)
            return -1;
    }
    errno = EEXIST;
    return -1;
}
