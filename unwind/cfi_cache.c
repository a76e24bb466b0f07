/* cfi_cache.c - CFI tables on disk per build-id; see cfi_cache.h for the contract.
 *
 * File layout (native byte order): "FPCFI1\n\0", u32 build-id length, 64 bytes build-id,
 * module identity (4 x u64: dev, ino, size, mtime ns), u64 base, u64 rows, the rows. */
#include "cfi_cache.h"

#include "cachefile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char cfi_cache_magic[8] = { 'F', 'P', 'C', 'F', 'I', '1', '\n', '\0' };

typedef struct cfi_cache_header {
    char magic[8];
    uint32_t idlen, pad;
    unsigned char id[64];
    util_file_ident module;
    uint64_t base, len;
} cfi_cache_header;

static bool cfi_cache_header_of(int fd, const void *id, size_t idlen, cfi_cache_header *h)
{
    struct stat st;
    if (idlen == 0 || idlen > sizeof h->id || fstat(fd, &st) != 0)
        return false;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, cfi_cache_magic, sizeof h->magic);
    h->idlen = (uint32_t)idlen;
    memcpy(h->id, id, idlen);
    h->module = util_file_ident_of(&st);
    return true;
}

/* Rows the handler can search safely: pcs ascending, kinds it knows. */
static bool cfi_cache_rows_ok(const cfi_row *rows, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (rows[i].kind > CFI_UNSUPPORTED || (i > 0 && rows[i].pc <= rows[i - 1].pc))
            return false;
    return true;
}

/* The rows go straight from the file into the table (one copy: a small program's start
 * reads ~0.7 MB of them). */
cfi_table *cfi_cache_load(int fd, const void *id, size_t idlen)
{
    cfi_cache_header want, got;
    char *path = NULL;
    if (!cfi_cache_header_of(fd, id, idlen, &want)
        || (path = util_cache_path(id, idlen, ".cfi")) == NULL)
        return NULL;
    size_t size;
    int cfd = util_cache_open(path, &size);
    free(path);
    cfi_table *t = NULL;
    cfi_row last;
    size_t rows_size = size - sizeof got;
    if (cfd >= 0 && size >= sizeof got + sizeof last
        && pread(cfd, &got, sizeof got, 0) == (ssize_t)sizeof got
        && memcmp(got.magic, want.magic, sizeof got.magic) == 0 && got.idlen == want.idlen
        && memcmp(got.id, want.id, sizeof got.id) == 0
        && util_file_ident_eq(&got.module, &want.module) && got.len > 0
        && rows_size % sizeof(cfi_row) == 0 && got.len == rows_size / sizeof(cfi_row)
        && pread(cfd, &last, sizeof last, (off_t)(size - sizeof last)) == (ssize_t)sizeof last
        && (t = cfi_alloc(got.base, got.len, last.pc)) != NULL) {
        /* The file may change under us: the rows must still end with that last pc. */
        if (pread(cfd, t->rows, rows_size, (off_t)sizeof got) == (ssize_t)rows_size
            && t->rows[got.len - 1].pc == last.pc && cfi_cache_rows_ok(t->rows, got.len)) {
            cfi_index(t);
        } else {
            free(t);
            t = NULL;
        }
    }
    if (cfd >= 0)
        close(cfd);
    return t;
}

void cfi_cache_store(int fd, const void *id, size_t idlen, const cfi_table *t)
{
    cfi_cache_header h;
    char *path = NULL, *tmp;
    if (t == NULL || !cfi_cache_header_of(fd, id, idlen, &h)
        || (path = util_cache_path(id, idlen, ".cfi")) == NULL)
        return;
    h.base = t->base;
    h.len = t->len;
    FILE *f = util_cache_create(path, &tmp);
    if (f != NULL)
        util_cache_commit(f, tmp, path,
                          fwrite(&h, sizeof h, 1, f) == 1
                              && fwrite(t->rows, sizeof *t->rows, t->len, f) == t->len);
    free(path);
}
