/* cfi_cache.c - CFI tables on disk per build-id; see cfi_cache.h for the contract.
 *
 * File layout (native byte order): "FPCFI4\n\0", u32 build-id length, 64 bytes build-id,
 * module identity (4 x u64: dev, ino, size, mtime ns), u64 base, u64 rows, u64 rules, u64
 * index entries, then the table's arrays as they lie in memory (cfi.h): the rules, the row
 * pcs, the page index, the row rule indexes. The index is kept, not rebuilt: checking it
 * walks the pages, building it walks the rows (gcc's cc1: 480,000 rows, ~1 ms of every
 * compiler process). */
#include "cfi_cache.h"

#include "cachefile.h"

#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* '4': the page index too; '3' rows as pc + rule index (cfi.h); '2' whole 16-byte rows. */
static const char cfi_cache_magic[8] = { 'F', 'P', 'C', 'F', 'I', '4', '\n', '\0' };

typedef struct cfi_cache_header {
    char magic[8];
    uint32_t idlen, pad;
    unsigned char id[64];
    util_file_ident module;
    uint64_t base, len, nrules, pages;
} cfi_cache_header;

static bool cfi_cache_header_of(const struct stat *st, const void *id, size_t idlen,
                                cfi_cache_header *h)
{
    if (idlen == 0 || idlen > sizeof h->id)
        return false;
    memset(h, 0, sizeof *h);
    memcpy(h->magic, cfi_cache_magic, sizeof h->magic);
    h->idlen = (uint32_t)idlen;
    memcpy(h->id, id, idlen);
    h->module = util_file_ident_of(st);
    return true;
}

/* The row pass of the check below, vectorized (gcc's -O2 does not; clang's does): 480,000
 * rows of cc1 in every compiler process. Accumulated without branches. */
#if defined(__GNUC__) && !defined(__clang__)
__attribute__((optimize("tree-vectorize", "vect-cost-model=dynamic")))
#endif
static bool cfi_cache_rows_ok(const uint32_t *pc, const uint16_t *rule, size_t len,
                              size_t nrules)
{
    if (nrules == 0 || nrules > CFI_MAX_RULES)
        return false;
    uint16_t last_rule = (uint16_t)(nrules - 1), bad16 = 0; /* 16-bit lanes throughout */
    for (size_t i = 0; i < len; i++)
        bad16 |= (uint16_t)(rule[i] > last_rule);
    uint32_t bad = 0;
    for (size_t i = 1; i < len; i++)
        bad |= (uint32_t)(pc[i] <= pc[i - 1]);
    return bad == 0 && bad16 == 0;
}

/* A table the handler can search safely: pcs ascending, rule indexes in range, kinds it
 * knows, the page index the one its pcs give. */
static bool cfi_cache_table_ok(const cfi_table *t)
{
    for (size_t i = 0; i < t->nrules; i++)
        if (t->rules[i].kind > CFI_UNSUPPORTED)
            return false;
    return cfi_cache_rows_ok(t->pc, t->rule, t->len, t->nrules) && cfi_index_ok(t);
}

static bool cfi_cache_read(int fd, const void *to, size_t n, off_t *at)
{
    if (pread(fd, (void *)to, n, *at) != (ssize_t)n)
        return false;
    *at += (off_t)n;
    return true;
}

/* The arrays go straight from the file into the table (one copy). */
cfi_table *cfi_cache_load(int fd, const void *id, size_t idlen)
{
    struct stat st;
    return fstat(fd, &st) == 0 ? cfi_cache_load_stat(&st, id, idlen) : NULL;
}

cfi_table *cfi_cache_load_stat(const struct stat *module, const void *id, size_t idlen)
{
    cfi_cache_header want, got;
    char *path = NULL;
    if (!cfi_cache_header_of(module, id, idlen, &want)
        || (path = util_cache_path(id, idlen, ".cfi")) == NULL)
        return NULL;
    size_t size;
    int cfd = util_cache_open(path, &size);
    free(path);
    cfi_table *t = NULL;
    uint32_t last;
    if (cfd >= 0 && size >= sizeof got
        && pread(cfd, &got, sizeof got, 0) == (ssize_t)sizeof got
        && memcmp(got.magic, want.magic, sizeof got.magic) == 0 && got.idlen == want.idlen
        && memcmp(got.id, want.id, sizeof got.id) == 0
        && util_file_ident_eq(&got.module, &want.module) && got.len > 0 && got.nrules > 0
        && got.nrules <= CFI_MAX_RULES && got.len <= size && got.pages <= size
        && size - sizeof got == got.nrules * sizeof(cfi_row) + got.len * 6 + got.pages * 4
        && pread(cfd, &last, sizeof last, (off_t)(sizeof got + got.nrules * sizeof(cfi_row)
                                                   + (got.len - 1) * 4)) == (ssize_t)sizeof last
        && (t = cfi_alloc(got.base, got.len, got.nrules, last)) != NULL) {
        /* The file may change under us: the pcs must still end with that last one. */
        off_t at = sizeof got;
        if (t->pages != got.pages
            || !cfi_cache_read(cfd, t->rules, got.nrules * sizeof(cfi_row), &at)
            || !cfi_cache_read(cfd, t->pc, got.len * sizeof(uint32_t), &at)
            || !cfi_cache_read(cfd, t->page_first, got.pages * sizeof(uint32_t), &at)
            || !cfi_cache_read(cfd, t->rule, got.len * sizeof(uint16_t), &at)
            || t->pc[got.len - 1] != last || !cfi_cache_table_ok(t)) {
            cfi_free(t);
            t = NULL;
        }
    }
    if (cfd >= 0)
        close(cfd);
    return t;
}

void cfi_cache_store(int fd, const void *id, size_t idlen, const cfi_table *t)
{
    struct stat st;
    if (fstat(fd, &st) == 0)
        cfi_cache_store_stat(&st, id, idlen, t);
}

void cfi_cache_store_stat(const struct stat *module, const void *id, size_t idlen,
                          const cfi_table *t)
{
    cfi_cache_header h;
    char *path = NULL, *tmp;
    if (t == NULL || !cfi_cache_header_of(module, id, idlen, &h)
        || (path = util_cache_path(id, idlen, ".cfi")) == NULL)
        return;
    h.base = t->base;
    h.len = t->len;
    h.nrules = t->nrules;
    h.pages = t->pages;
    FILE *f = util_cache_create(path, &tmp);
    if (f != NULL)
        util_cache_commit(f, tmp, path,
                          fwrite(&h, sizeof h, 1, f) == 1
                              && fwrite(t->rules, sizeof *t->rules, t->nrules, f) == t->nrules
                              && fwrite(t->pc, sizeof *t->pc, t->len, f) == t->len
                              && fwrite(t->page_first, sizeof *t->page_first, t->pages, f)
                                     == t->pages
                              && fwrite(t->rule, sizeof *t->rule, t->len, f) == t->len);
    free(path);
}
