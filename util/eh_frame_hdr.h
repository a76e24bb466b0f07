/* eh_frame_hdr.h - the .eh_frame_hdr search table: where every FDE of a module starts.
 *
 * PT_GNU_EH_FRAME points at a sorted array of (initial location, FDE address) pairs, one
 * per FDE of .eh_frame: the table the loader's own unwinder searches. The unwinder walks it
 * to evaluate every FDE once (unwind/cfi.c); the symbolizer finds in it the start of the
 * function holding an address in stripped code (symbolize/fdenames.c). elfutils searches
 * this table inside dwarf_cfi_addrframe but does not export an FDE's start, so the few
 * bytes of header are read here, once for both.
 *
 * Only the encoding GNU ld and lld write (datarel sdata4 pairs) is accepted; anything else,
 * or a table longer than its segment, is refused. Pure readers of a mapped image: thread-
 * safe, no allocation (the Elf_Data belongs to libelf). Not async-signal-safe to find
 * (libelf), async-signal-safe to read once found. */
#ifndef FLAMEPROF_UTIL_EH_FRAME_HDR_H
#define FLAMEPROF_UTIL_EH_FRAME_HDR_H

#include <dwarf.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdint.h>

typedef struct util_eh_hdr {
    const uint8_t *table; /* count pairs of (initial location, FDE address), sdata4 each */
    uint64_t count;
    uint64_t vaddr;       /* file address of .eh_frame_hdr: table values are relative to it */
    const uint8_t *raw;   /* the whole segment, raw_size bytes at file offset raw_offset */
    uint64_t raw_size, raw_offset;
} util_eh_hdr;

/* Size in bytes of a DW_EH_PE-encoded value, or 0 for a format we do not read. */
static inline size_t util_eh_value_size(uint8_t enc)
{
    switch (enc & 0x0f) {
    case DW_EH_PE_udata4: case DW_EH_PE_sdata4: return 4;
    case DW_EH_PE_udata8: case DW_EH_PE_sdata8: return 8;
    default: return 0;
    }
}

static inline uint64_t util_eh_read_le(const uint8_t *p, size_t n)
{
    uint64_t v = 0;
    for (size_t i = n; i-- > 0;)
        v = (v << 8) | p[i];
    return v;
}

/* Finds the table of elf; false if it has none we can read. */
static inline bool util_eh_hdr_find(Elf *elf, util_eh_hdr *h)
{
    size_t nph;
    if (elf_getphdrnum(elf, &nph) != 0)
        return false;
    for (size_t i = 0; i < nph; i++) {
        GElf_Phdr ph;
        if (!gelf_getphdr(elf, (int)i, &ph) || ph.p_type != PT_GNU_EH_FRAME)
            continue;
        Elf_Data *d = elf_getdata_rawchunk(elf, (int64_t)ph.p_offset, ph.p_filesz, ELF_T_BYTE);
        if (!d || d->d_size < 4)
            return false;
        const uint8_t *p = d->d_buf;
        size_t ptr_size = util_eh_value_size(p[1]), count_size = util_eh_value_size(p[2]);
        if (p[0] != 1 || p[3] != (DW_EH_PE_datarel | DW_EH_PE_sdata4) || !ptr_size || !count_size)
            return false;
        size_t off = 4 + ptr_size;
        if (d->d_size < off + count_size)
            return false;
        h->count = util_eh_read_le(p + off, count_size);
        h->table = p + off + count_size;
        h->vaddr = ph.p_vaddr;
        h->raw = p;
        h->raw_size = d->d_size;
        h->raw_offset = ph.p_offset;
        if (h->count > (d->d_size - off - count_size) / 8)
            return false; /* truncated or corrupt: never read past the segment */
        return true;
    }
    return false;
}

/* File address where FDE i (of h->count, sorted) starts. */
static inline uint64_t util_eh_hdr_start(const util_eh_hdr *h, uint64_t i)
{
    int32_t rel = (int32_t)(uint32_t)util_eh_read_le(h->table + i * 8, 4);
    return h->vaddr + (uint64_t)(int64_t)rel;
}

/* File address of the FDE of entry i. */
static inline uint64_t util_eh_hdr_fde(const util_eh_hdr *h, uint64_t i)
{
    int32_t rel = (int32_t)(uint32_t)util_eh_read_le(h->table + i * 8 + 4, 4);
    return h->vaddr + (uint64_t)(int64_t)rel;
}

/* Index of the last FDE starting at or before file address addr, or UINT64_MAX. On a
 * table that is not sorted (corrupt) the answer is some FDE start <= addr, or none. */
static inline uint64_t util_eh_hdr_floor(const util_eh_hdr *h, uint64_t addr)
{
    uint64_t lo = 0, hi = h->count; /* first entry starting after addr */
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (util_eh_hdr_start(h, mid) <= addr)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 ? lo - 1 : UINT64_MAX;
}

#endif
