/* gopclntab.h - Go's own function table (.gopclntab), read in place: a Go function's frame
 * size at any of its pcs (the unwinder, in the handler: unwind/unwind.c) and its name (the
 * symbolizer, for Go programs stripped of .symtab: symbolize/gonames.c; and golang.c, to
 * find the runtime's functions in them), as Go's traceback and `go tool pprof` read it.
 *
 * Why: Go code has no .eh_frame; its frames are walked by frame pointers. Hand-written
 * assembly that uses rbp as a scratch register (Go 1.19's crypto/sha256.block, golang/go
 * #63508) breaks that chain while it runs: every sample there was one frame, the whole
 * program's hashing orphaned at the root. The table says where the return address is
 * (sp + the frame size at pc), and the prologue Go's assembler writes saves the caller's
 * rbp just below it, so the walk can step out of such a function and carry on.
 *
 * As Go's traceback does, a function flagged TOPFRAME (runtime.goexit, every goroutine's
 * root; runtime.mstart, rt0_go) ends the walk, and one flagged SPWRITE (it moves sp to
 * another stack: runtime.nanotime1 around the vDSO call, mcall, morestack) gets no answer:
 * its table describes the other stack; frame pointers take it from there as before.
 *
 * Format (Go 1.18+, the pcHeader's magic 0xfffffff0 or 0xfffffff1; older tables are not
 * used): a header (text start, offsets of the function table and the pc-value tables),
 * a function table sorted by entry ((entry offset, function offset) pairs, nfunc + 1 of
 * them), each function's record (its pcsp table's offset at byte 16; its flags at byte 37,
 * or 41 from Go 1.20, whose records hold a start line before them), and per function a
 * pcsp table: pairs of varints (value delta, zig-zag; pc delta), values applying from the
 * function's entry up to each pc. A record's name is at byte 4: an offset into the table of
 * NUL-terminated function names (the header's funcnameOffset).
 *
 * Every read is bounded by the table's extent (in memory: the executable's read-only
 * segment, mapped for the process's life; or a section read from the file): no system
 * calls, no allocation, async-signal-safe; a malformed table gives no answer, never a
 * fault. Header-only: the unwinder and the symbolizer share it. */
#ifndef FLAMEPROF_UTIL_GOPCLNTAB_H
#define FLAMEPROF_UTIL_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

typedef struct util_gopclntab {
    const uint8_t *base; /* the pcHeader */
    size_t len;          /* bytes of table from base */
    uint64_t text;       /* address the entry offsets count from */
    uint32_t nfunc;
    size_t funcnames;    /* offsets from base: the function names, */
    size_t functab;      /* the function table (and the records after it), */
    size_t pctab;        /* the pc-value tables */
    size_t flag_off;     /* a function record's flag byte */
    const uint8_t *buckets; /* runtime.findfunctab, or NULL: the function table searched */
    size_t nbuckets;
} util_gopclntab;

typedef enum util_gopclntab_answer {
    UTIL_GOPCLNTAB_UNKNOWN = 0, /* not a Go function's pc, no table, or a stack switcher */
    UTIL_GOPCLNTAB_FRAME,       /* the frame size is known */
    UTIL_GOPCLNTAB_TOP,         /* the outermost frame of its stack: the walk ends here */
} util_gopclntab_answer;

enum {
    UTIL_GOPCLN_HEADER_LEN = 72, /* magic .. pclnOffset */
    UTIL_GOPCLN_FUNC_NAME = 4,   /* a record's name offset (after entryOff) */
    UTIL_GOPCLN_FUNC_PCSP = 16,  /* its pcsp offset (after nameOff, args, deferreturn) */
    UTIL_GOPCLN_FLAG_OFF_118 = 37, /* its flag byte: after cuOffset and funcID (1.18, 1.19) */
    UTIL_GOPCLN_FLAG_OFF_120 = 41, /* ... and after startLine (Go 1.20 on) */
    UTIL_GOPCLN_TOPFRAME = 1,    /* funcFlag_TOPFRAME */
    UTIL_GOPCLN_SPWRITE = 2,     /* funcFlag_SPWRITE */
    UTIL_GOPCLN_MAX_STEPS = 1 << 16, /* pcsp pairs followed for one lookup: a bound */
    UTIL_GOPCLN_BUCKET_TEXT = 4096,  /* findfunctab: text bytes a bucket */
    UTIL_GOPCLN_BUCKET_LEN = 20,     /* ... and its size: idx (4), 16 subbucket offsets */
    UTIL_GOPCLN_BUCKET_SCAN = 64,    /* functions stepped over from a bucket's candidate */
    UTIL_GOPCLN_NAME_MAX = 4096,     /* bytes of a name looked at */
};

static inline bool util_gopcln_read32(const util_gopclntab *t, size_t off, uint32_t *v)
{
    if (off > t->len || t->len - off < 4)
        return false;
    memcpy(v, t->base + off, 4);
    return true;
}

static inline uint64_t util_gopcln_read64_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

/* Check the header of the table at mem (len bytes, alive as long as *t) and fill *t. False
 * for anything but a well-formed Go 1.18+ amd64 table. text: the address the table's
 * entries count from, or 0 for the header's (a position-independent program's, read from
 * its file, holds 0 there until relocated). Not in a handler. */
static inline bool util_gopclntab_init(util_gopclntab *t, const void *mem, size_t len,
                                       uint64_t text)
{
    const uint8_t *p = mem;
    memset(t, 0, sizeof *t);
    if (!p || len < UTIL_GOPCLN_HEADER_LEN)
        return false;
    uint32_t magic;
    memcpy(&magic, p, 4);
    /* 0xfffffff0: Go 1.18 and 1.19; 0xfffffff1: 1.20 on (the records grew a field after
     * the pcsp offset, which stays at 16). Padding 0, 1-byte pc quantum, 8-byte pointers. */
    if ((magic != 0xfffffff0u && magic != 0xfffffff1u) || p[4] || p[5] || p[6] != 1 || p[7] != 8)
        return false;
    uint64_t nfunc = util_gopcln_read64_at(p + 8), names = util_gopcln_read64_at(p + 32),
             pctab = util_gopcln_read64_at(p + 56), functab = util_gopcln_read64_at(p + 64);
    if (nfunc == 0 || nfunc >= UINT32_MAX / 8 || names >= len || pctab >= len ||
        functab >= len || (len - functab) / 8 < nfunc + 1)
        return false; /* *t stays empty: base NULL */
    t->base = p;
    t->len = len;
    t->text = text ? text : util_gopcln_read64_at(p + 24);
    t->nfunc = (uint32_t)nfunc;
    t->funcnames = names;
    t->functab = functab;
    t->pctab = pctab;
    t->flag_off = magic == 0xfffffff0u ? UTIL_GOPCLN_FLAG_OFF_118 : UTIL_GOPCLN_FLAG_OFF_120;
    return true;
}

/* Go's index of the function table (runtime.findfunctab: for each 4 KB of text from the
 * text start, a function index and sixteen 256-byte subbucket offsets; 20 bytes a bucket):
 * a function found in two or three lines instead of a binary search's dozen. Where the
 * index and the table disagree, the search decides. Not in a handler. */
static inline void util_gopclntab_set_buckets(util_gopclntab *t, const void *mem, size_t len)
{
    t->buckets = mem;
    t->nbuckets = mem ? len / UTIL_GOPCLN_BUCKET_LEN : 0;
}

/* The varint at *off (at most 5 bytes, within the table), advancing *off. */
static inline bool util_gopcln_read_uvarint(const util_gopclntab *t, size_t *off, uint32_t *v)
{
    uint32_t x = 0;
    for (unsigned shift = 0; shift < 35; shift += 7) {
        if (*off >= t->len)
            return false;
        uint8_t b = t->base[(*off)++];
        x |= (uint32_t)(b & 0x7f) << shift;
        if (!(b & 0x80)) {
            *v = x;
            return true;
        }
    }
    return false;
}

/* The index (+1) of the last function with entry <= off, by Go's bucket index: the
 * bucket's first candidate, then forward (a few functions at most). 0: no answer. */
static inline uint32_t util_gopcln_bucket_guess(const util_gopclntab *t, uint32_t off)
{
    size_t b = off / UTIL_GOPCLN_BUCKET_TEXT;
    if (b >= t->nbuckets)
        return 0;
    const uint8_t *bk = t->buckets + b * UTIL_GOPCLN_BUCKET_LEN;
    uint32_t idx, e;
    memcpy(&idx, bk, 4);
    idx += bk[4 + (off % UTIL_GOPCLN_BUCKET_TEXT) / (UTIL_GOPCLN_BUCKET_TEXT / 16)];
    for (int i = 0; i < UTIL_GOPCLN_BUCKET_SCAN && idx < t->nfunc; i++, idx++) {
        if (!util_gopcln_read32(t, t->functab + 8 * ((size_t)idx + 1), &e))
            return 0;
        if (e > off)
            return idx + 1;
    }
    return 0;
}

/* Function i's record (its offset) and code [*entry, *end) as text offsets, checked: the
 * record names the same entry as its table slot. */
static inline bool util_gopcln_func(const util_gopclntab *t, uint32_t i, size_t *rec,
                                    uint32_t *entry, uint32_t *end)
{
    uint32_t funcoff, rec_entry;
    if (i >= t->nfunc || !util_gopcln_read32(t, t->functab + 8 * (size_t)i, entry) ||
        !util_gopcln_read32(t, t->functab + 8 * (size_t)i + 4, &funcoff) ||
        !util_gopcln_read32(t, t->functab + 8 * ((size_t)i + 1), end) || *end <= *entry)
        return false;
    *rec = t->functab + funcoff;
    return *rec >= t->functab && *rec < t->len && t->len - *rec > t->flag_off &&
           util_gopcln_read32(t, *rec, &rec_entry) && rec_entry == *entry;
}

/* The function whose code holds text offset off: its index. */
static inline bool util_gopcln_find_func(const util_gopclntab *t, uint32_t off, uint32_t *index)
{
    uint32_t lo = t->buckets ? util_gopcln_bucket_guess(t, off) : 0, hi = t->nfunc, e;
    if (lo && (!util_gopcln_read32(t, t->functab + 8 * ((size_t)lo - 1), &e) || e > off))
        lo = 0; /* the index and the table disagree: search */
    if (lo)
        hi = lo;
    while (lo < hi) { /* last function with entry <= off */
        uint32_t mid = lo + (hi - lo) / 2;
        if (!util_gopcln_read32(t, t->functab + 8 * (size_t)mid, &e))
            return false;
        if (e <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    *index = lo - 1;
    return lo > 0;
}

/* A table inside mem (len bytes) where no section says where it is: a position-independent
 * Go program keeps it in .data.rel.ro (it needs relocations), with no .gopclntab section
 * and, stripped, no symbol either. Every 8-byte-aligned header that checks out is tried
 * until one whose first and last functions' records name their table slots: the table
 * then runs to the end of mem. text as for util_gopclntab_init. Not in a handler (a scan:
 * ~0.1 ms over 0.5 MB). */
static inline bool util_gopclntab_scan(util_gopclntab *t, const void *mem, size_t len,
                                       uint64_t text)
{
    const uint8_t *p = mem;
    for (size_t off = 0; p && off + UTIL_GOPCLN_HEADER_LEN <= len; off += 8) {
        if ((p[off + 3] != 0xff || p[off + 2] != 0xff || p[off + 1] != 0xff) ||
            (p[off] != 0xf0 && p[off] != 0xf1))
            continue;
        size_t rec;
        uint32_t entry, end;
        if (util_gopclntab_init(t, p + off, len - off, text) &&
            util_gopcln_func(t, 0, &rec, &entry, &end) &&
            util_gopcln_func(t, t->nfunc - 1, &rec, &entry, &end))
            return true;
    }
    memset(t, 0, sizeof *t);
    return false;
}

/* At pc: the frame size (bytes between sp and the return address: the return address is
 * at sp + *size) if pc lies in a Go function whose pcsp table covers it, or that its
 * function is a stack's root. Async-signal-safe. */
static inline util_gopclntab_answer util_gopclntab_frame(const util_gopclntab *t, uint64_t pc,
                                                         uint32_t *size)
{
    if (!t || !t->base || pc < t->text || pc - t->text >= UINT32_MAX)
        return UTIL_GOPCLNTAB_UNKNOWN;
    uint32_t off = (uint32_t)(pc - t->text), i, entry, end, pcsp;
    size_t rec;
    if (!util_gopcln_find_func(t, off, &i) || !util_gopcln_func(t, i, &rec, &entry, &end) ||
        off >= end)
        return UTIL_GOPCLNTAB_UNKNOWN;
    uint8_t flag = t->base[rec + t->flag_off];
    if (flag & UTIL_GOPCLN_TOPFRAME)
        return UTIL_GOPCLNTAB_TOP;
    if ((flag & UTIL_GOPCLN_SPWRITE) || !util_gopcln_read32(t, rec + UTIL_GOPCLN_FUNC_PCSP, &pcsp) ||
        pcsp == 0 || pcsp >= t->len - t->pctab)
        return UTIL_GOPCLNTAB_UNKNOWN;
    /* Values start at -1 and apply from the function's entry up to each pair's pc; a zero
     * value delta after the first pair ends the table. */
    size_t p = t->pctab + pcsp;
    uint64_t at = entry;
    int64_t val = -1;
    for (int k = 0; k < UTIL_GOPCLN_MAX_STEPS; k++) {
        uint32_t dv, dpc;
        if (!util_gopcln_read_uvarint(t, &p, &dv) || (dv == 0 && k > 0) ||
            !util_gopcln_read_uvarint(t, &p, &dpc))
            return UTIL_GOPCLNTAB_UNKNOWN;
        val += (dv & 1) ? -(int64_t)(dv >> 1) - 1 : (int64_t)(dv >> 1);
        at += dpc;
        if (off < at) {
            if (val < 0 || val > (1 << 24))
                return UTIL_GOPCLNTAB_UNKNOWN;
            *size = (uint32_t)val;
            return UTIL_GOPCLNTAB_FRAME;
        }
    }
    return UTIL_GOPCLNTAB_UNKNOWN;
}

/* The name of the function whose record is at rec (NUL-terminated inside the table), or
 * NULL. */
static inline const char *util_gopcln_name(const util_gopclntab *t, size_t rec)
{
    uint32_t off;
    if (!util_gopcln_read32(t, rec + UTIL_GOPCLN_FUNC_NAME, &off) ||
        off >= t->len - t->funcnames)
        return NULL;
    const char *name = (const char *)t->base + t->funcnames + off;
    size_t room = t->len - t->funcnames - off;
    return memchr(name, 0, room < UTIL_GOPCLN_NAME_MAX ? room : UTIL_GOPCLN_NAME_MAX) && *name
               ? name : NULL;
}

/* The name of the Go function holding pc, and its code [*lo, *hi); NULL if none. */
static inline const char *util_gopclntab_name_at(const util_gopclntab *t, uint64_t pc,
                                                 uint64_t *lo, uint64_t *hi)
{
    uint32_t i, entry, end;
    size_t rec;
    if (!t || !t->base || pc < t->text || pc - t->text >= UINT32_MAX ||
        !util_gopcln_find_func(t, (uint32_t)(pc - t->text), &i) ||
        !util_gopcln_func(t, i, &rec, &entry, &end) || pc - t->text >= end)
        return NULL;
    *lo = t->text + entry;
    *hi = t->text + end;
    return util_gopcln_name(t, rec);
}

/* The functions named names[0..n) (Go's spelling: "runtime.exit"): each one's code
 * [addr[k], addr[k] + size[k]) (up to the next function: the linker's padding included),
 * size[k] 0 where none has the name. One pass over the table (a stripped Go program's
 * start: ~0.1 ms a pass over Debian's go command), for a few names, not per sample. */
static inline void util_gopclntab_find_names(const util_gopclntab *t, const char *const *names,
                                             size_t n, uint64_t *addr, uint64_t *size)
{
    size_t left = n;
    for (size_t k = 0; k < n; k++)
        addr[k] = size[k] = 0;
    for (uint32_t i = 0; t && t->base && i < t->nfunc && left; i++) {
        uint32_t entry, end;
        size_t rec;
        const char *name;
        if (!util_gopcln_func(t, i, &rec, &entry, &end) || !(name = util_gopcln_name(t, rec)))
            continue;
        for (size_t k = 0; k < n; k++)
            if (!size[k] && strcmp(name, names[k]) == 0) {
                addr[k] = t->text + entry;
                size[k] = end - entry;
                left--;
            }
    }
}

/* The function named name: util_gopclntab_find_names for one. */
static inline bool util_gopclntab_find(const util_gopclntab *t, const char *name,
                                       uint64_t *addr, uint64_t *size)
{
    util_gopclntab_find_names(t, &name, 1, addr, size);
    return *size != 0;
}

#endif
