/* gopclntab.c - Go's pcsp tables read in the handler; see gopclntab.h. */
#include "gopclntab.h"

#include <string.h>

enum {
    HEADER_LEN = 72,      /* magic .. pclnOffset */
    FUNC_PCSP = 16,       /* a function record's pcsp offset (entryOff, nameOff, args,
                             deferreturn before it) */
    FLAG_OFF_118 = 37,    /* the flag byte: after cuOffset and funcID (Go 1.18, 1.19) */
    FLAG_OFF_120 = 41,    /* ... and after startLine (Go 1.20 on) */
    FLAG_TOPFRAME = 1,    /* funcFlag_TOPFRAME */
    FLAG_SPWRITE = 2,     /* funcFlag_SPWRITE */
    MAX_STEPS = 1 << 16,  /* pcsp pairs followed for one lookup: a bound, never reached */
    BUCKET_TEXT = 4096,   /* findfunctab: text bytes a bucket */
    BUCKET_LEN = 20,      /* ... and its size: idx (4), 16 subbucket offsets */
    BUCKET_SCAN = 64,     /* functions stepped over from a bucket's candidate, at most */
};

static bool read32(const gopclntab *t, size_t off, uint32_t *v)
{
    if (off > t->len || t->len - off < 4)
        return false;
    memcpy(v, t->base + off, 4);
    return true;
}

static uint64_t read64_at(const uint8_t *p)
{
    uint64_t v;
    memcpy(&v, p, 8);
    return v;
}

bool gopclntab_init(gopclntab *t, const void *mem, size_t len)
{
    const uint8_t *p = mem;
    memset(t, 0, sizeof *t);
    if (!p || len < HEADER_LEN)
        return false;
    uint32_t magic;
    memcpy(&magic, p, 4);
    /* 0xfffffff0: Go 1.18 and 1.19; 0xfffffff1: 1.20 on (the records grew a field after
     * the pcsp offset, which stays at 16). Padding 0, 1-byte pc quantum, 8-byte pointers. */
    if ((magic != 0xfffffff0u && magic != 0xfffffff1u) || p[4] || p[5] || p[6] != 1 || p[7] != 8)
        return false;
    uint64_t nfunc = read64_at(p + 8), pctab = read64_at(p + 56), functab = read64_at(p + 64);
    t->base = p;
    t->len = len;
    t->text = read64_at(p + 24);
    if (nfunc == 0 || nfunc >= UINT32_MAX / 8 || pctab >= len || functab >= len ||
        (len - functab) / 8 < nfunc + 1)
        return false;
    t->nfunc = (uint32_t)nfunc;
    t->functab = functab;
    t->pctab = pctab;
    t->flag_off = magic == 0xfffffff0u ? FLAG_OFF_118 : FLAG_OFF_120;
    return true;
}

/* The varint at *off (at most 5 bytes, within the table), advancing *off. */
static bool read_uvarint(const gopclntab *t, size_t *off, uint32_t *v)
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

void gopclntab_set_buckets(gopclntab *t, const void *mem, size_t len)
{
    t->buckets = mem;
    t->nbuckets = mem ? len / BUCKET_LEN : 0;
}

/* The index (+1) of the last function with entry <= off, by Go's bucket index: the
 * bucket's first candidate, then forward (a few functions at most). 0: no answer. */
static uint32_t bucket_guess(const gopclntab *t, uint32_t off)
{
    size_t b = off / BUCKET_TEXT;
    if (b >= t->nbuckets)
        return 0;
    const uint8_t *bk = t->buckets + b * BUCKET_LEN;
    uint32_t idx, e;
    memcpy(&idx, bk, 4);
    idx += bk[4 + (off % BUCKET_TEXT) / (BUCKET_TEXT / 16)];
    for (int i = 0; i < BUCKET_SCAN && idx < t->nfunc; i++, idx++) {
        if (!read32(t, t->functab + 8 * ((size_t)idx + 1), &e))
            return 0;
        if (e > off)
            return idx + 1;
    }
    return 0;
}

/* The function whose code holds text offset off: the record's offset; its entry offset. */
static bool find_func(const gopclntab *t, uint32_t off, size_t *rec, uint32_t *entry)
{
    uint32_t lo = t->buckets ? bucket_guess(t, off) : 0, hi = t->nfunc, e;
    if (lo && (!read32(t, t->functab + 8 * ((size_t)lo - 1), &e) || e > off))
        lo = 0; /* the index and the table disagree: search */
    if (lo)
        hi = lo;
    while (lo < hi) { /* last function with entry <= off */
        uint32_t mid = lo + (hi - lo) / 2;
        if (!read32(t, t->functab + 8 * (size_t)mid, &e))
            return false;
        if (e <= off)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t end, funcoff, rec_entry;
    if (lo == 0 || !read32(t, t->functab + 8 * (size_t)lo, &end) || off >= end ||
        !read32(t, t->functab + 8 * (size_t)(lo - 1), entry) ||
        !read32(t, t->functab + 8 * (size_t)(lo - 1) + 4, &funcoff))
        return false;
    /* The record must name the same entry: a check that the table is what we think. */
    *rec = t->functab + funcoff;
    return *rec >= t->functab && *rec < t->len && t->len - *rec > t->flag_off &&
           read32(t, *rec, &rec_entry) && rec_entry == *entry;
}

gopclntab_answer gopclntab_frame(const gopclntab *t, uint64_t pc, uint32_t *size)
{
    if (!t || !t->base || pc < t->text || pc - t->text >= UINT32_MAX)
        return GOPCLNTAB_UNKNOWN;
    uint32_t off = (uint32_t)(pc - t->text), entry, pcsp;
    size_t rec;
    if (!find_func(t, off, &rec, &entry))
        return GOPCLNTAB_UNKNOWN;
    uint8_t flag = t->base[rec + t->flag_off];
    if (flag & FLAG_TOPFRAME)
        return GOPCLNTAB_TOP;
    if ((flag & FLAG_SPWRITE) || !read32(t, rec + FUNC_PCSP, &pcsp) || pcsp == 0 ||
        pcsp >= t->len - t->pctab)
        return GOPCLNTAB_UNKNOWN;
    /* Values start at -1 and apply from the function's entry up to each pair's pc; a zero
     * value delta after the first pair ends the table. */
    size_t p = t->pctab + pcsp;
    uint64_t at = entry;
    int64_t val = -1;
    for (int i = 0; i < MAX_STEPS; i++) {
        uint32_t dv, dpc;
        if (!read_uvarint(t, &p, &dv) || (dv == 0 && i > 0) || !read_uvarint(t, &p, &dpc))
            return GOPCLNTAB_UNKNOWN;
        val += (dv & 1) ? -(int64_t)(dv >> 1) - 1 : (int64_t)(dv >> 1);
        at += dpc;
        if (off < at) {
            if (val < 0 || val > (1 << 24))
                return GOPCLNTAB_UNKNOWN;
            *size = (uint32_t)val;
            return GOPCLNTAB_FRAME;
        }
    }
    return GOPCLNTAB_UNKNOWN;
}
