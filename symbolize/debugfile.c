/* debugfile.c - separate debug files on disk; see debugfile.h for the contract. */
#include "debugfile.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SYMBOLIZE_DEBUG_ROOT "/usr/lib/debug"

/* CRC-32 as used by .gnu_debuglink (reflected polynomial 0xedb88320). Computed here
 * because libdwelf does not export its copy. */
static uint32_t symbolize_crc_table[256];
static pthread_once_t symbolize_crc_once = PTHREAD_ONCE_INIT;

static void symbolize_crc_init(void)
{
    for (uint32_t i = 0; i < 256; i++) {
        uint32_t c = i;
        for (int k = 0; k < 8; k++)
            c = c & 1 ? 0xedb88320U ^ (c >> 1) : c >> 1;
        symbolize_crc_table[i] = c;
    }
}

static uint32_t symbolize_crc32(uint32_t crc, const unsigned char *p, size_t n)
{
    pthread_once(&symbolize_crc_once, symbolize_crc_init);
    crc = ~crc;
    for (size_t i = 0; i < n; i++)
        crc = symbolize_crc_table[(crc ^ p[i]) & 0xff] ^ (crc >> 8);
    return ~crc;
}

static bool symbolize_file_crc(int fd, uint32_t *out)
{
    unsigned char buf[1 << 14];
    uint32_t crc = 0;
    off_t off = 0;
    for (;;) {
        ssize_t n = pread(fd, buf, sizeof buf, off);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return false;
        if (n == 0)
            break;
        crc = symbolize_crc32(crc, buf, (size_t)n);
        off += n;
    }
    *out = crc;
    return true;
}

/* What a debug file must match to be accepted for one module. */
typedef struct symbolize_want {
    const unsigned char *build_id;
    size_t build_id_len;
    bool have_crc; /* candidates named by .gnu_debuglink may be checked by CRC */
    uint32_t crc;
    dev_t main_dev; /* the main file itself is never its own debug file */
    ino_t main_ino;
} symbolize_want;

/* A candidate is judged by build-id when both files carry one (a mismatch is final);
 * otherwise only the .gnu_debuglink CRC over the whole candidate can vouch for it. */
static bool symbolize_candidate_ok(int fd, const symbolize_want *w)
{
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)
        || (st.st_dev == w->main_dev && st.st_ino == w->main_ino))
        return false;
    Elf *e = elf_begin(fd, ELF_C_READ_MMAP, NULL);
    bool is_elf = e != NULL && elf_kind(e) == ELF_K_ELF;
    const void *id = NULL;
    ssize_t idlen = is_elf ? dwelf_elf_gnu_build_id(e, &id) : -1;
    bool by_id = is_elf && w->build_id_len > 0 && idlen > 0;
    bool ok = by_id && (size_t)idlen == w->build_id_len
              && memcmp(id, w->build_id, w->build_id_len) == 0;
    elf_end(e);
    if (is_elf && !by_id && w->have_crc) {
        uint32_t crc;
        ok = symbolize_file_crc(fd, &crc) && crc == w->crc;
    }
    return ok;
}

int symbolize_open_regular(const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    struct stat st;
    if (fd >= 0 && (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode))) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Opens path if it is an acceptable debug file; on success hands dwfl a malloc'd name. */
static int symbolize_try_debug(const char *path, const symbolize_want *w, char **name_out)
{
    int fd = symbolize_open_regular(path);
    if (fd < 0)
        return -1;
    if (!symbolize_candidate_ok(fd, w)) {
        close(fd);
        return -1;
    }
    *name_out = strdup(path);
    return fd;
}

static int symbolize_try_build_id(const symbolize_want *w, char **name_out)
{
    if (w->build_id_len < 2 || w->build_id_len > 64)
        return -1;
    char path[sizeof SYMBOLIZE_DEBUG_ROOT + sizeof "/.build-id/xx/" + 128 + sizeof ".debug"];
    int n = snprintf(path, sizeof path, SYMBOLIZE_DEBUG_ROOT "/.build-id/%02x/",
                     w->build_id[0]);
    for (size_t i = 1; i < w->build_id_len; i++)
        n += snprintf(path + n, sizeof path - (size_t)n, "%02x", w->build_id[i]);
    snprintf(path + n, sizeof path - (size_t)n, ".debug");
    return symbolize_try_debug(path, w, name_out);
}

/* The places gdb and elfutils look for a .gnu_debuglink name, for one directory. */
static int symbolize_try_link_in(const char *dir, const char *link, const symbolize_want *w,
                                 char **name_out)
{
    static const char *const formats[] = { "%s/%s", "%s/.debug/%s",
                                           SYMBOLIZE_DEBUG_ROOT "%s/%s" };
    char path[PATH_MAX];
    for (size_t i = 0; i < sizeof formats / sizeof formats[0]; i++) {
        if (i == 2 && dir[0] != '/' && dir[0] != '\0')
            continue; /* the debug tree mirrors absolute directories only */
        int n = snprintf(path, sizeof path, formats[i], dir, link);
        if (n < 0 || (size_t)n >= sizeof path)
            continue;
        int fd = symbolize_try_debug(path, w, name_out);
        if (fd >= 0)
            return fd;
    }
    return -1;
}

static int symbolize_try_debuglink(const char *file_name, const char *link,
                                   const symbolize_want *w, char **name_out)
{
    /* Both the registered path's directory and its resolved one: loaders report paths
     * through symlinks (/lib -> /usr/lib) that debug trees may not mirror. */
    char *dirs[2] = { strdup(file_name), realpath(file_name, NULL) };
    int fd = -1;
    for (int i = 0; i < 2 && fd < 0; i++) {
        if (dirs[i] == NULL || (i == 1 && dirs[0] != NULL && strcmp(dirs[0], dirs[1]) == 0))
            continue;
        char *slash = strrchr(dirs[i], '/');
        const char *dir = ".";
        if (slash == dirs[i])
            dir = "";
        else if (slash != NULL) {
            *slash = '\0';
            dir = dirs[i];
        }
        fd = symbolize_try_link_in(dir, link, w, name_out);
    }
    free(dirs[0]);
    free(dirs[1]);
    return fd;
}

/* A debug file from outside (debuginfod), judged by build-id like any candidate. */
static int symbolize_try_fetch(const symbolize_want *w, symbolize_fetch_fn fetch, void *ctx,
                               char **name_out)
{
    if (fetch == NULL || w->build_id_len == 0)
        return -1;
    char *path = NULL;
    int fd = fetch(ctx, false, w->build_id, w->build_id_len, &path);
    if (fd >= 0 && (path == NULL || !symbolize_candidate_ok(fd, w))) {
        close(fd);
        fd = -1;
    }
    if (fd < 0)
        free(path);
    else
        *name_out = path;
    return fd;
}

/* The disk's candidates for w, by build-id, then by the debuglink name (may be NULL). */
static int symbolize_try_disk(const symbolize_want *w, const char *file_name,
                              const char *debuglink_file, char **name_out)
{
    struct stat st;
    symbolize_want own = *w;
    if (file_name != NULL && stat(file_name, &st) == 0) {
        own.main_dev = st.st_dev;
        own.main_ino = st.st_ino;
    }
    int fd = symbolize_try_build_id(&own, name_out);
    if (fd < 0 && debuglink_file != NULL && file_name != NULL)
        fd = symbolize_try_debuglink(file_name, debuglink_file, &own, name_out);
    return fd;
}

bool symbolize_debugfile_found(const char *file_name, const unsigned char *build_id,
                               size_t build_id_len, const char *debuglink_file,
                               uint32_t debuglink_crc)
{
    symbolize_want w = { .build_id = build_id, .build_id_len = build_id_len,
                         .have_crc = debuglink_file != NULL, .crc = debuglink_crc };
    char *name = NULL;
    int fd = symbolize_try_disk(&w, file_name, debuglink_file, &name);
    if (fd >= 0)
        close(fd);
    free(name);
    return fd >= 0;
}

int symbolize_debugfile_open(Elf *main_elf, const char *file_name, const char *debuglink_file,
                             GElf_Word debuglink_crc, symbolize_fetch_fn fetch,
                             void *fetch_ctx, char **name_out)
{
    /* dwfl also asks for a dwz alternate file (.gnu_debugaltlink, crc 0) this way; we
     * decline it and libdw then looks on disk itself (/usr/lib/debug/.build-id and the alt
     * path), so the module's own debug file is never mistaken for its alternate. */
    GElf_Word own_crc = 0;
    const char *own_link = dwelf_elf_gnu_debuglink(main_elf, &own_crc);
    if (debuglink_file != NULL
        && (own_link == NULL || strcmp(own_link, debuglink_file) != 0 || own_crc != debuglink_crc))
        return -1;
    symbolize_want w = { .have_crc = debuglink_file != NULL, .crc = debuglink_crc };
    const void *id = NULL;
    ssize_t idlen = dwelf_elf_gnu_build_id(main_elf, &id);
    if (idlen > 0) {
        w.build_id = id;
        w.build_id_len = (size_t)idlen;
    }
    int fd = symbolize_try_disk(&w, file_name, debuglink_file, name_out);
    if (fd < 0)
        fd = symbolize_try_fetch(&w, fetch, fetch_ctx, name_out);
    return fd;
}
