/* diskcache.c - resolved frames on disk per build-id; see diskcache.h for the contract.
 *
 * File layout (native byte order: the cache never leaves the machine):
 *   "FPSYMC5\n", u32 build-id length, 64 bytes build-id,
 *   module identity (4 x u64: dev, ino, size, mtime ns), debug identity (the same),
 *   u32 debug path length, the path, u32 entries,
 *   entries sorted, not overlapping: u64 lo, u64 hi (file addresses), u32 record length, record
 *   record: u8 frames, u8 unnamed, frames x (u8 inlined, u16 name length, name,
 *           u16 file length, file (the function's declaring source file, may be empty),
 *           u32 line (its declaration line, 0: unknown)). */
#include "diskcache.h"

#include "array.h"
#include "cachefile.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char diskcache_magic[8] = { 'F', 'P', 'S', 'Y', 'M', 'C', '5', '\n' };
enum { DISKCACHE_ID_MAX = 64 };

typedef struct diskcache_entry {
    uint64_t lo, hi;
    size_t off; /* in blob: u8 frames, u8 unnamed, then per frame u8 inlined, the name and
                 * the file NUL-terminated, u32 line */
} diskcache_entry;

struct symbolize_diskcache {
    char *file;                        /* the cache file's path */
    unsigned char id[DISKCACHE_ID_MAX];
    uint32_t idlen;
    util_file_ident module;
    util_file_ident debug;
    char *debug_path;                  /* "" for the module file itself; NULL: unknown */
    diskcache_entry *entries;
    size_t nentries, nloaded, entries_cap;
    char *blob;
    size_t blob_len, blob_cap;
    uint64_t *filled; /* open-addressing set of function starts (+1: 0 is empty) */
    size_t nfilled, filled_cap;
    bool dirty;
};

/* The module file's build-id and identity. */
static bool diskcache_read_module(symbolize_diskcache *c, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK); /* a FIFO planted as a module must not block */
    if (fd < 0)
        return false;
    struct stat st;
    bool ok = false;
    Elf *elf = fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? elf_begin(fd, ELF_C_READ_MMAP, NULL)
                                                          : NULL;
    const void *id;
    ssize_t len = elf != NULL ? dwelf_elf_gnu_build_id(elf, &id) : -1;
    if (len > 0 && len <= DISKCACHE_ID_MAX) {
        memcpy(c->id, id, (size_t)len);
        c->idlen = (uint32_t)len;
        c->module = util_file_ident_of(&st);
        ok = true;
    }
    if (elf != NULL)
        elf_end(elf);
    close(fd);
    return ok;
}

/* ------------------------------------------------------------------ reading */

typedef struct diskcache_reader {
    const unsigned char *p, *end;
} diskcache_reader;

static bool diskcache_take(diskcache_reader *r, void *out, size_t n)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    memcpy(out, r->p, n);
    r->p += n;
    return true;
}

static bool diskcache_blob_add(symbolize_diskcache *c, const void *data, size_t n)
{
    if (!UTIL_RESERVE(c->blob, c->blob_cap, c->blob_len + n))
        return false;
    memcpy(c->blob + c->blob_len, data, n);
    c->blob_len += n;
    return true;
}

/* A u16-length string of a record into the blob, NUL-terminated; false if malformed. */
static bool diskcache_load_string(symbolize_diskcache *c, diskcache_reader *r, bool may_be_empty)
{
    uint16_t len;
    if (!diskcache_take(r, &len, 2) || (len == 0 && !may_be_empty)
        || (size_t)(r->end - r->p) < len || memchr(r->p, '\0', len) != NULL)
        return false;
    bool ok = diskcache_blob_add(c, r->p, len) && diskcache_blob_add(c, "", 1);
    r->p += len;
    return ok;
}

/* One record from the file into the blob (names NUL-terminated); false if malformed. */
static bool diskcache_load_record(symbolize_diskcache *c, diskcache_reader *r, uint64_t lo,
                                  uint64_t hi)
{
    uint32_t len;
    if (!diskcache_take(r, &len, sizeof len) || (size_t)(r->end - r->p) < len || len < 2)
        return false;
    diskcache_reader rec = { r->p, r->p + len };
    r->p += len;
    uint8_t head[2];
    diskcache_take(&rec, head, 2);
    if (head[0] == 0 || !UTIL_RESERVE(c->entries, c->entries_cap, c->nentries + 1))
        return false;
    size_t off = c->blob_len;
    if (!diskcache_blob_add(c, head, 2))
        return false;
    for (unsigned i = 0; i < head[0]; i++) {
        uint8_t inl;
        if (!diskcache_take(&rec, &inl, 1) || !diskcache_blob_add(c, &inl, 1)
            || !diskcache_load_string(c, &rec, false) || !diskcache_load_string(c, &rec, true)
            || (size_t)(rec.end - rec.p) < 4 || !diskcache_blob_add(c, rec.p, 4))
            return false;
        rec.p += 4;
    }
    c->entries[c->nentries++] = (diskcache_entry){ lo, hi, off };
    return true;
}

/* The header must name this build-id, and both files must be the ones it was built from. */
static bool diskcache_check_header(symbolize_diskcache *c, diskcache_reader *r)
{
    char magic[8];
    uint32_t idlen, plen;
    unsigned char id[DISKCACHE_ID_MAX];
    util_file_ident mod, dbg;
    if (!diskcache_take(r, magic, 8) || memcmp(magic, diskcache_magic, 8) != 0
        || !diskcache_take(r, &idlen, 4) || !diskcache_take(r, id, sizeof id)
        || idlen != c->idlen || memcmp(id, c->id, idlen) != 0
        || !diskcache_take(r, &mod, sizeof mod) || !util_file_ident_eq(&mod, &c->module)
        || !diskcache_take(r, &dbg, sizeof dbg) || !diskcache_take(r, &plen, 4)
        || plen >= 4096 || (size_t)(r->end - r->p) < plen)
        return false;
    char path[4096];
    memcpy(path, r->p, plen);
    path[plen] = '\0';
    r->p += plen;
    if (plen == 0 || memchr(path, '\0', plen) != NULL)
        return plen == 0 && util_file_ident_eq(&dbg, &c->module);
    struct stat st;
    if (stat(path, &st) != 0)
        return false;
    util_file_ident now = util_file_ident_of(&st);
    return util_file_ident_eq(&now, &dbg);
}

static void diskcache_load(symbolize_diskcache *c)
{
    size_t size;
    unsigned char *buf = util_cache_read(c->file, &size);
    diskcache_reader r = { buf, buf + size };
    uint32_t n;
    uint64_t span[2], prev = 0;
    bool ok = buf != NULL && diskcache_check_header(c, &r) && diskcache_take(&r, &n, 4)
              && n <= SYMBOLIZE_DISKCACHE_MAX_ENTRIES;
    for (uint32_t i = 0; ok && i < n; i++) {
        ok = diskcache_take(&r, span, 16) && span[0] < span[1] && (i == 0 || span[0] >= prev)
             && diskcache_load_record(c, &r, span[0], span[1]);
        prev = span[1];
    }
    if (!ok) { /* all or nothing: a half-read file is no file */
        c->nentries = 0;
        c->blob_len = 0;
    }
    free(buf);
    c->nloaded = c->nentries;
}

symbolize_diskcache *symbolize_diskcache_open(const char *path, const unsigned char *want_id,
                                              size_t want_len)
{
    if (path == NULL || path[0] != '/')
        return NULL;
    symbolize_diskcache *c = calloc(1, sizeof *c);
    if (c == NULL || !diskcache_read_module(c, path)
        || (want_len > 0 && (want_len != c->idlen || memcmp(want_id, c->id, want_len) != 0))
        || (c->file = util_cache_path(c->id, c->idlen, ".sym")) == NULL) {
        free(c);
        return NULL;
    }
    diskcache_load(c);
    return c;
}

static int diskcache_entry_cmp(const void *a, const void *b)
{
    uint64_t x = ((const diskcache_entry *)a)->lo, y = ((const diskcache_entry *)b)->lo;
    return x < y ? -1 : x > y;
}

/* The entry among [0, n) holding a (they are sorted and do not overlap), or NULL. */
static const diskcache_entry *diskcache_find(const symbolize_diskcache *c, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n; /* the first entry starting above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->entries[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a < c->entries[lo - 1].hi ? &c->entries[lo - 1] : NULL;
}

size_t symbolize_diskcache_get(const symbolize_diskcache *c, uint64_t a,
                               symbolize_diskframe *out, size_t max, bool *unnamed)
{
    if (c == NULL || max == 0)
        return 0;
    const diskcache_entry *e = diskcache_find(c, c->nloaded, a);
    if (e == NULL)
        return 0;
    const char *p = c->blob + e->off;
    size_t n = (uint8_t)p[0];
    *unnamed = p[1] != 0;
    p += 2;
    for (size_t i = 0; i < n; i++) {
        bool inl = p[0] != 0;
        const char *name = p + 1, *file = name + strlen(name) + 1;
        uint32_t line;
        p = file + strlen(file) + 1;
        memcpy(&line, p, 4);
        p += 4;
        if (i < max)
            out[i] = (symbolize_diskframe){ name, inl, file[0] ? file : NULL, line };
    }
    return n < max ? n : max;
}

void symbolize_diskcache_set_debugfile(symbolize_diskcache *c, const char *debug_path)
{
    if (c == NULL || c->debug_path != NULL)
        return;
    struct stat st;
    if (debug_path == NULL) {
        c->debug = c->module;
        c->debug_path = strdup("");
    } else if (debug_path[0] == '/' && strlen(debug_path) < 4096 && stat(debug_path, &st) == 0) {
        c->debug = util_file_ident_of(&st);
        c->debug_path = strdup(debug_path);
    }
}

void symbolize_diskcache_put(symbolize_diskcache *c, uint64_t lo, uint64_t hi,
                             const symbolize_diskframe *f, size_t n, bool unnamed)
{
    if (c == NULL || n == 0 || n > 255 || lo >= hi
        || c->nentries >= SYMBOLIZE_DISKCACHE_MAX_ENTRIES
        || !UTIL_RESERVE(c->entries, c->entries_cap, c->nentries + 1))
        return;
    size_t off = c->blob_len;
    uint8_t head[2] = { (uint8_t)n, unnamed };
    bool ok = diskcache_blob_add(c, head, 2);
    for (size_t i = 0; ok && i < n; i++) {
        uint8_t inl = f[i].inlined;
        const char *file = f[i].file != NULL ? f[i].file : "";
        size_t len = strlen(f[i].name), flen = strlen(file);
        uint32_t line = f[i].line;
        ok = len > 0 && len < 65535 && flen < 65535 && diskcache_blob_add(c, &inl, 1)
             && diskcache_blob_add(c, f[i].name, len + 1)
             && diskcache_blob_add(c, file, flen + 1) && diskcache_blob_add(c, &line, 4);
    }
    if (!ok) {
        c->blob_len = off;
        return;
    }
    c->entries[c->nentries++] = (diskcache_entry){ lo, hi, off };
    c->dirty = true;
}

/* ------------------------------------------------------------------ writing */

/* A blob string in file form (u16 length, bytes); returns what follows its NUL. */
static const char *diskcache_write_string(const char *q, FILE *f, bool *ok)
{
    uint16_t len = (uint16_t)strlen(q);
    *ok = *ok && fwrite(&len, 2, 1, f) == 1 && fwrite(q, 1, len, f) == len;
    return q + len + 1;
}

/* One blob record (u8 frames, u8 unnamed, frames x (u8 inlined, name NUL, file NUL, u32
 * line)) in file form. */
static bool diskcache_write_record(const char *p, const diskcache_entry *e, FILE *f)
{
    unsigned frames = (uint8_t)p[0];
    uint32_t len = 2;
    const char *q = p + 2;
    for (unsigned k = 0; k < frames; k++) {
        size_t nlen = strlen(q + 1), flen = strlen(q + 1 + nlen + 1);
        len += 1 + 2 + (uint32_t)nlen + 2 + (uint32_t)flen + 4;
        q += 1 + nlen + 1 + flen + 1 + 4;
    }
    bool ok = fwrite(&e->lo, 8, 1, f) == 1 && fwrite(&e->hi, 8, 1, f) == 1
              && fwrite(&len, 4, 1, f) == 1 && fwrite(p, 2, 1, f) == 1;
    q = p + 2;
    for (unsigned k = 0; ok && k < frames; k++) {
        ok = fwrite(q, 1, 1, f) == 1;
        q = diskcache_write_string(q + 1, f, &ok); /* the name */
        q = diskcache_write_string(q, f, &ok);     /* the file */
        ok = ok && fwrite(q, 4, 1, f) == 1;
        q += 4;
    }
    return ok;
}

/* Whether entry i (sorted) overlaps the last one kept before it: then it is dropped. */
static bool diskcache_kept(const symbolize_diskcache *c, size_t i, uint64_t *end)
{
    if (i > 0 && c->entries[i].lo < *end)
        return false;
    *end = c->entries[i].hi;
    return true;
}

/* Entries are sorted; one overlapping an earlier one (two writers, or a range put twice)
 * is left out. */
static bool diskcache_write_entries(const symbolize_diskcache *c, FILE *f)
{
    uint32_t n = 0;
    uint64_t end = 0;
    for (size_t i = 0; i < c->nentries; i++)
        n += diskcache_kept(c, i, &end);
    if (fwrite(&n, 4, 1, f) != 1)
        return false;
    end = 0;
    for (size_t i = 0; i < c->nentries; i++)
        if (diskcache_kept(c, i, &end)
            && !diskcache_write_record(c->blob + c->entries[i].off, &c->entries[i], f))
            return false;
    return true;
}

static void diskcache_write(symbolize_diskcache *c)
{
    qsort(c->entries, c->nentries, sizeof *c->entries, diskcache_entry_cmp);
    char *tmp;
    FILE *f = util_cache_create(c->file, &tmp);
    if (f == NULL)
        return;
    unsigned char id[DISKCACHE_ID_MAX] = { 0 };
    memcpy(id, c->id, c->idlen);
    uint32_t plen = (uint32_t)strlen(c->debug_path);
    bool ok = fwrite(diskcache_magic, 8, 1, f) == 1 && fwrite(&c->idlen, 4, 1, f) == 1
              && fwrite(id, sizeof id, 1, f) == 1 && fwrite(&c->module, sizeof c->module, 1, f) == 1
              && fwrite(&c->debug, sizeof c->debug, 1, f) == 1 && fwrite(&plen, 4, 1, f) == 1
              && fwrite(c->debug_path, 1, plen, f) == plen && diskcache_write_entries(c, f);
    util_cache_commit(f, tmp, c->file, ok);
}

static bool diskcache_set_add(uint64_t *set, size_t cap, uint64_t v)
{
    for (size_t i = (size_t)((v * 0x9e3779b97f4a7c15ULL) >> 20) & (cap - 1);; i = (i + 1) & (cap - 1)) {
        if (set[i] == v)
            return false;
        if (set[i] == 0) {
            set[i] = v;
            return true;
        }
    }
}

bool symbolize_diskcache_first_fill(symbolize_diskcache *c, uint64_t lo)
{
    if (c == NULL)
        return false;
    if (2 * (c->nfilled + 1) > c->filled_cap) { /* grow: rehash into twice the slots */
        size_t cap = c->filled_cap ? 2 * c->filled_cap : 64;
        uint64_t *set = calloc(cap, sizeof *set);
        if (set == NULL)
            return true;
        for (size_t i = 0; i < c->filled_cap; i++)
            if (c->filled[i] != 0)
                diskcache_set_add(set, cap, c->filled[i]);
        free(c->filled);
        c->filled = set;
        c->filled_cap = cap;
    }
    bool added = diskcache_set_add(c->filled, c->filled_cap, lo + 1);
    c->nfilled += added;
    return added;
}

void symbolize_diskcache_close(symbolize_diskcache *c)
{
    if (c == NULL)
        return;
    if (c->dirty && c->debug_path != NULL)
        diskcache_write(c);
    free(c->file);
    free(c->debug_path);
    free(c->entries);
    free(c->blob);
    free(c->filled);
    free(c);
}
