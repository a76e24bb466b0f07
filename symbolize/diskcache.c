/* diskcache.c - resolved frames on disk per build-id; see diskcache.h for the contract.
 *
 * File layout (native byte order: the cache never leaves the machine):
 *   "FPSYMC6\n", u32 build-id length, 64 bytes build-id,
 *   module identity (4 x u64: dev, ino, size, mtime ns), debug identity (the same),
 *   u32 debug path length, the path, zeros to a multiple of 8 bytes, u32 flags (1: every
 *   function of the module is in it; 2: named by its symbol tables and FDEs alone, no
 *   debug file was found), u32 entries, u64 blob length,
 *   entries sorted, not overlapping: u64 lo, u64 hi (file addresses), u64 offset in the blob,
 *   the blob: records, each u8 frames, u8 naming (diskcache.h), frames x (u8 inlined, name NUL,
 *           file NUL (the function's declaring source file, may be empty), u32 line (its
 *           declaration line, 0: unknown)); entries with the same frames share a record.
 * The file is mapped (util_cache_map) and used where it lies: loading is a pass over the
 * entries (libc6-dbg's whole libc, 34,632 entries, in ~0.1 ms); a record is checked when it
 * is read. Frames put by this process go to arrays of its own, the file's and its records
 * merged when it is written. */
#include "diskcache.h"

#include "array.h"
#include "cachefile.h"
#include "debugfile.h"

#include <elfutils/libdwelf.h>
#include <fcntl.h>
#include <gelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* '7': entries 8-byte aligned in the file, to be used in place. '8': a stripped Go
 * program's functions named by its own table (gonames.h), where '7' kept their offsets. */
static const char diskcache_magic[8] = { 'F', 'P', 'S', 'Y', 'M', 'C', '8', '\n' };
enum { DISKCACHE_ID_MAX = 64 };

typedef struct diskcache_entry {
    uint64_t lo, hi;
    uint64_t off; /* of its record: u8 frames, u8 naming, then per frame u8 inlined, the
                   * name and the file NUL-terminated, u32 line (the file's layout too).
                   * Records of the file read first, then this process's (diskcache_record) */
} diskcache_entry;

struct symbolize_diskcache {
    char *file;                        /* the cache file's path */
    unsigned char id[DISKCACHE_ID_MAX];
    uint32_t idlen;
    util_file_ident module;
    util_file_ident debug;
    char *module_path;
    char *debuglink;                   /* the module's .gnu_debuglink name, or NULL */
    uint32_t debuglink_crc;
    char *debug_path;                  /* "" for the module file itself; NULL: unknown */
    const unsigned char *map;          /* the file read (mapped), map_size bytes */
    size_t map_size;
    const diskcache_entry *loaded;     /* its entries, in the map */
    size_t nloaded;
    const char *loaded_blob;           /* its records, in the map */
    uint64_t loaded_blob_len;
    diskcache_entry *entries;          /* put by this process, unsorted */
    size_t nentries, entries_cap;
    char *blob;                        /* their records, offsets from loaded_blob_len on */
    size_t blob_len, blob_cap;
    uint64_t *filled; /* open-addressing set of function starts (+1: 0 is empty) */
    size_t nfilled, filled_cap;
    bool dirty;
    bool complete; /* every function of the module was filled (flag 1 of the file) */
    bool symbols_only; /* no DWARF, no debug file (flag 2) */
    bool symbols_only_ok; /* such a file may be used (no debuginfod to ask instead) */
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
        GElf_Word crc = 0;
        const char *link = dwelf_elf_gnu_debuglink(elf, &crc);
        c->debuglink = link != NULL ? strdup(link) : NULL;
        c->debuglink_crc = crc;
        c->module_path = strdup(path);
        ok = c->module_path != NULL;
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

/* Entries sorted, not overlapping, each pointing into the blob. */
static bool diskcache_entries_ok(const diskcache_entry *e, size_t n, uint64_t blob_len)
{
    for (size_t i = 0; i < n; i++)
        if (e[i].lo >= e[i].hi || e[i].off >= blob_len || (i > 0 && e[i].lo < e[i - 1].hi))
            return false;
    return true;
}

/* Skips the zeros that align what follows to 8 bytes of the file starting at base. */
static bool diskcache_align(diskcache_reader *r, const unsigned char *base)
{
    size_t pad = (8 - (size_t)(r->p - base) % 8) % 8;
    if ((size_t)(r->end - r->p) < pad)
        return false;
    r->p += pad;
    return true;
}

static void diskcache_load(symbolize_diskcache *c)
{
    size_t size;
    const unsigned char *map = util_cache_map(c->file, &size);
    diskcache_reader r = { map, map + size };
    uint32_t flags, n;
    uint64_t blob_len;
    bool ok = map != NULL && diskcache_check_header(c, &r) && diskcache_align(&r, map)
              && diskcache_take(&r, &flags, 4) && diskcache_take(&r, &n, 4)
              && diskcache_take(&r, &blob_len, 8) && n <= SYMBOLIZE_DISKCACHE_MAX_ENTRIES
              && (size_t)(r.end - r.p) / sizeof(diskcache_entry) >= n
              && (size_t)(r.end - r.p) - n * sizeof(diskcache_entry) == blob_len;
    const diskcache_entry *e = ok ? (const diskcache_entry *)(const void *)r.p : NULL;
    if (ok && n > 0)
        ok = diskcache_entries_ok(e, n, blob_len);
    /* Names from the symbol tables alone hold only while no debug file can be found. */
    if (ok && (flags & 2))
        ok = c->symbols_only_ok
             && !symbolize_debugfile_found(c->module_path, c->id, c->idlen, c->debuglink,
                                           c->debuglink_crc);
    if (!ok) { /* all or nothing: a half-read file is no file */
        util_cache_unmap(map, size);
        return;
    }
    c->map = map;
    c->map_size = size;
    c->loaded = e;
    c->nloaded = n;
    c->loaded_blob = (const char *)r.p + n * sizeof(diskcache_entry);
    c->loaded_blob_len = blob_len;
    c->complete = (flags & 1) != 0;
    c->symbols_only = (flags & 2) != 0;
}

static void diskcache_free(symbolize_diskcache *c)
{
    util_cache_unmap(c->map, c->map_size);
    free(c->file);
    free(c->module_path);
    free(c->debuglink);
    free(c->debug_path);
    free(c->entries);
    free(c->blob);
    free(c->filled);
    free(c);
}

symbolize_diskcache *symbolize_diskcache_open(const char *path, const unsigned char *want_id,
                                              size_t want_len, bool symbols_only_ok)
{
    if (path == NULL || path[0] != '/')
        return NULL;
    symbolize_diskcache *c = calloc(1, sizeof *c);
    if (c == NULL)
        return NULL;
    c->symbols_only_ok = symbols_only_ok;
    if (!diskcache_read_module(c, path)
        || (want_len > 0 && (want_len != c->idlen || memcmp(want_id, c->id, want_len) != 0))
        || (c->file = util_cache_path(c->id, c->idlen, ".sym")) == NULL) {
        diskcache_free(c);
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

/* The entry among e[0, n) holding a (they are sorted and do not overlap), or NULL. */
static const diskcache_entry *diskcache_find(const diskcache_entry *e, size_t n, uint64_t a)
{
    size_t lo = 0, hi = n; /* the first entry starting above a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (e[mid].lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a < e[lo - 1].hi ? &e[lo - 1] : NULL;
}

/* The record at off, in the file's records or this process's, and *end the end of the
 * records it is among; NULL if off is in neither. */
static const char *diskcache_record(const symbolize_diskcache *c, uint64_t off, const char **end)
{
    if (off < c->loaded_blob_len) {
        *end = c->loaded_blob + c->loaded_blob_len;
        return c->loaded_blob + off;
    }
    off -= c->loaded_blob_len;
    if (off >= c->blob_len)
        return NULL;
    *end = c->blob + c->blob_len;
    return c->blob + off;
}

/* The record at off parsed into out (at most max frames); its frame count, 0 if it is
 * malformed (a file is checked only when read). */
static size_t diskcache_parse(const symbolize_diskcache *c, uint64_t off,
                              symbolize_diskframe *out, size_t max, symbolize_naming *naming)
{
    const char *end, *p = diskcache_record(c, off, &end);
    if (p == NULL || end - p < 2 || p[0] == 0)
        return 0;
    size_t n = (uint8_t)p[0];
    if ((uint8_t)p[1] > SYMBOLIZE_BY_OFFSET)
        return 0;
    *naming = (symbolize_naming)p[1];
    p += 2;
    for (size_t i = 0; i < n; i++) {
        if (end - p < 2) /* the inlined byte and at least one of the name */
            return 0;
        const char *name = p + 1, *nul = memchr(name, '\0', (size_t)(end - name));
        if (nul == NULL || nul == name || end - nul < 2)
            return 0;
        const char *file = nul + 1, *fnul = memchr(file, '\0', (size_t)(end - file));
        if (fnul == NULL || end - fnul < 5)
            return 0;
        uint32_t line;
        memcpy(&line, fnul + 1, 4);
        if (i < max)
            out[i] = (symbolize_diskframe){ name, p[0] != 0, file[0] ? file : NULL, line };
        p = fnul + 5;
    }
    return n;
}

size_t symbolize_diskcache_get(const symbolize_diskcache *c, uint64_t a,
                               symbolize_diskframe *out, size_t max, symbolize_naming *naming)
{
    if (c == NULL || max == 0)
        return 0;
    const diskcache_entry *e = diskcache_find(c->loaded, c->nloaded, a);
    size_t n = e != NULL ? diskcache_parse(c, e->off, out, max, naming) : 0;
    return n < max ? n : max;
}

void symbolize_diskcache_set_symbols_only(symbolize_diskcache *c)
{
    if (c == NULL || c->debug_path != NULL || !c->symbols_only_ok)
        return;
    c->debug = c->module;
    c->debug_path = strdup("");
    c->symbols_only = true;
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
                             const symbolize_diskframe *f, size_t n, symbolize_naming naming)
{
    if (c == NULL || n == 0 || n > 255 || lo >= hi
        || c->nloaded + c->nentries >= SYMBOLIZE_DISKCACHE_MAX_ENTRIES
        || !UTIL_RESERVE(c->entries, c->entries_cap, c->nentries + 1))
        return;
    size_t off = c->blob_len;
    uint8_t head[2] = { (uint8_t)n, (uint8_t)naming };
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
    c->entries[c->nentries++] = (diskcache_entry){ lo, hi, c->loaded_blob_len + off };
    c->dirty = true;
}

/* ------------------------------------------------------------------ writing */

/* Whether entry i of e (sorted) overlaps the last one kept before it: then it is dropped. */
static bool diskcache_kept(const diskcache_entry *e, size_t i, uint64_t *end)
{
    if (i > 0 && e[i].lo < *end)
        return false;
    *end = e[i].hi;
    return true;
}

/* The well-formed record at off and its length (*len), NULL if malformed. */
static const char *diskcache_record_at(const symbolize_diskcache *c, uint64_t off, size_t *len)
{
    symbolize_diskframe f[1];
    symbolize_naming naming;
    size_t n = diskcache_parse(c, off, f, 1, &naming);
    const char *end, *rec = n > 0 ? diskcache_record(c, off, &end) : NULL;
    if (rec == NULL)
        return NULL;
    const char *p = rec + 2;
    for (size_t i = 0; i < n; i++) {
        size_t nlen = strlen(p + 1), flen = strlen(p + 2 + nlen);
        p += 1 + nlen + 1 + flen + 1 + 4;
    }
    *len = (size_t)(p - rec);
    return rec;
}

/* Entries with identical records share one (an inlined call splits its function into
 * ranges, and the ranges around it repeat the function's frames). */
typedef struct diskcache_dedup {
    uint64_t *slots; /* open addressing: new offset + 1, 0 empty */
    size_t cap;
} diskcache_dedup;

static uint64_t diskcache_hash(const char *p, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)p[i]) * 1099511628211ULL;
    return h;
}

/* The offset in out of a record equal to p[0, n), added if new; UINT64_MAX without memory. */
static uint64_t diskcache_intern(diskcache_dedup *d, char **out, size_t *len, size_t *cap,
                                 const char *p, size_t n)
{
    size_t i = (size_t)diskcache_hash(p, n) & (d->cap - 1);
    for (; d->slots[i] != 0; i = (i + 1) & (d->cap - 1)) {
        uint64_t off = d->slots[i] - 1;
        if (*len - off >= n && memcmp(*out + off, p, n) == 0)
            return off;
    }
    if (!UTIL_RESERVE(*out, *cap, *len + n))
        return UINT64_MAX;
    memcpy(*out + *len, p, n);
    d->slots[i] = *len + 1;
    *len += n;
    return *len - n;
}

/* The file's entries and this process's in one array, sorted; NULL without memory. */
static diskcache_entry *diskcache_all(const symbolize_diskcache *c, size_t *n)
{
    *n = c->nloaded + c->nentries;
    diskcache_entry *all = malloc((*n ? *n : 1) * sizeof *all);
    if (all == NULL)
        return NULL;
    if (c->nloaded > 0)
        memcpy(all, c->loaded, c->nloaded * sizeof *all);
    if (c->nentries > 0)
        memcpy(all + c->nloaded, c->entries, c->nentries * sizeof *all);
    qsort(all, *n, sizeof *all, diskcache_entry_cmp);
    return all;
}

/* The entries to write (sorted, not overlapping, well-formed) and their blob, deduplicated;
 * false without memory. */
static bool diskcache_pack(const symbolize_diskcache *c, diskcache_entry **entries, size_t *n,
                           char **blob, size_t *blob_len)
{
    size_t bcap = 0, nall;
    diskcache_entry *all = diskcache_all(c, &nall);
    diskcache_dedup d = { NULL, 64 };
    while (d.cap < 2 * nall)
        d.cap *= 2;
    d.slots = calloc(d.cap, sizeof *d.slots);
    *entries = malloc((nall ? nall : 1) * sizeof **entries);
    *n = *blob_len = 0;
    *blob = NULL;
    bool ok = all != NULL && d.slots != NULL && *entries != NULL;
    uint64_t end = 0;
    for (size_t i = 0; ok && i < nall; i++) {
        size_t len;
        const char *rec = diskcache_record_at(c, all[i].off, &len);
        if (rec == NULL || !diskcache_kept(all, i, &end))
            continue;
        uint64_t off = diskcache_intern(&d, blob, blob_len, &bcap, rec, len);
        ok = off != UINT64_MAX;
        (*entries)[(*n)++] = (diskcache_entry){ all[i].lo, all[i].hi, off };
    }
    free(all);
    free(d.slots);
    return ok;
}

static void diskcache_write(symbolize_diskcache *c)
{
    diskcache_entry *entries;
    size_t n, blob_len;
    char *blob;
    char *tmp;
    FILE *f = diskcache_pack(c, &entries, &n, &blob, &blob_len)
                  ? util_cache_create(c->file, &tmp) : NULL;
    if (f != NULL) {
        unsigned char id[DISKCACHE_ID_MAX] = { 0 };
        memcpy(id, c->id, c->idlen);
        uint32_t plen = (uint32_t)strlen(c->debug_path);
        uint32_t flags = (c->complete ? 1u : 0u) | (c->symbols_only ? 2u : 0u);
        uint32_t count = (uint32_t)n;
        uint64_t blen = blob_len;
        static const char zeros[8];
        size_t pad = (8 - (8 + 4 + sizeof id + 2 * sizeof c->module + 4 + plen) % 8) % 8;
        bool ok = fwrite(diskcache_magic, 8, 1, f) == 1 && fwrite(&c->idlen, 4, 1, f) == 1
                  && fwrite(id, sizeof id, 1, f) == 1
                  && fwrite(&c->module, sizeof c->module, 1, f) == 1
                  && fwrite(&c->debug, sizeof c->debug, 1, f) == 1 && fwrite(&plen, 4, 1, f) == 1
                  && fwrite(c->debug_path, 1, plen, f) == plen
                  && fwrite(zeros, 1, pad, f) == pad && fwrite(&flags, 4, 1, f) == 1
                  && fwrite(&count, 4, 1, f) == 1 && fwrite(&blen, 8, 1, f) == 1
                  && (n == 0 || fwrite(entries, sizeof *entries, n, f) == n)
                  && (blob_len == 0 || fwrite(blob, 1, blob_len, f) == blob_len);
        util_cache_commit(f, tmp, c->file, ok);
    }
    free(entries);
    free(blob);
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

bool symbolize_diskcache_complete(const symbolize_diskcache *c)
{
    return c != NULL && c->complete;
}

bool symbolize_diskcache_loaded(const symbolize_diskcache *c)
{
    return c != NULL && c->nloaded > 0;
}

void symbolize_diskcache_set_complete(symbolize_diskcache *c)
{
    if (c != NULL && !c->complete
        && c->nloaded + c->nentries < SYMBOLIZE_DISKCACHE_MAX_ENTRIES) {
        c->complete = true;
        c->dirty = true;
    }
}

void symbolize_diskcache_close(symbolize_diskcache *c)
{
    if (c == NULL)
        return;
    if (c->dirty && c->debug_path != NULL)
        diskcache_write(c);
    diskcache_free(c);
}
