/* cfi.c - reduce a module's .eh_frame to a sorted table of x86-64 unwind rules.
 *
 * The FDE list comes from the .eh_frame_hdr binary-search table (PT_GNU_EH_FRAME). Each
 * FDE's rows come from our decoder (ehframe.c), one pass over its program; an FDE it
 * declines is evaluated by elfutils (dwarf_cfi_addrframe, one call per row), which is
 * also the reference the decoder is tested against. Only the rules the in-handler walker
 * needs are kept. */
#include "cfi.h"

#include "array.h"
#include "eh_frame_hdr.h"
#include "ehframe.h"
#include "huge_map.h"

#include <dwarf.h>
#include <elfutils/libdw.h>
#include <gelf.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

enum { DW_REG_RBX = 3, DW_REG_RBP = 6, DW_REG_RSP = 7, DW_REG_RA = 16 };

typedef struct row_vec {
    cfi_row *v;
    size_t len, cap;
} row_vec;

static bool row_push(row_vec *rv, cfi_row r)
{
    /* Consecutive rows with the same rules collapse into one. */
    if (rv->len > 0) {
        cfi_row *last = &rv->v[rv->len - 1];
        if (last->kind == r.kind && last->cfa_off == r.cfa_off && last->fp_off == r.fp_off &&
            last->bx_off == r.bx_off)
            return true;
        if (last->pc == r.pc) { /* a zero-length row: the newer one wins */
            *last = r;
            return true;
        }
    }
    if (!UTIL_RESERVE(rv->v, rv->cap, rv->len + 1))
        return false;
    rv->v[rv->len++] = r;
    return true;
}

/* elfutils describes "saved at CFA+N" as DW_OP_call_frame_cfa; DW_OP_plus_uconst N, with a
 * negative N stored two's-complement. Returns N, or INT64_MAX for any other rule. */
static int64_t cfa_relative_offset(const Dwarf_Op *ops, size_t nops)
{
    if (nops == 0 || ops[0].atom != DW_OP_call_frame_cfa)
        return INT64_MAX;
    if (nops == 1)
        return 0;
    if (nops == 2 && ops[1].atom == DW_OP_plus_uconst)
        return (int64_t)ops[1].number;
    return INT64_MAX;
}

/* A callee-saved register's rule in this row: saved at CFA+N, same value, or undefined.
 * elfutils' x86-64 initial rules (x86_64_abi_cfi) mark DWARF register 0 "same value" under
 * the comment %rbx, but 0 is rax: rbx is left unspecified, which dwarf_frame_register reports
 * as undefined. rbx is callee-saved (psABI), so an rbx the CFI never mentions is the
 * caller's: same value. (An explicit DW_CFA_undefined for rbx, which compilers do not emit,
 * reads the same here.) */
static int16_t saved_rule(Dwarf_Frame *f, int reg)
{
    Dwarf_Op mem[3], *ops;
    size_t nops;
    if (dwarf_frame_register(f, reg, mem, &ops, &nops) != 0)
        return CFI_FP_UNDEFINED;
    if (nops == 0) /* NULL ops: same value; ops_mem: undefined (or unspecified) */
        return ops == NULL || reg == DW_REG_RBX ? CFI_FP_SAME : CFI_FP_UNDEFINED;
    int64_t off = cfa_relative_offset(ops, nops);
    /* A saved register lies below the CFA; anything else is not a rule we can follow. */
    if (off >= 0 || off < -30000)
        return CFI_FP_UNDEFINED;
    return (int16_t)off;
}

/* The return address must be saved at CFA-8 (the call pushed it), or be undefined. */
static int ra_rule(Dwarf_Frame *f)
{
    Dwarf_Op mem[3], *ops;
    size_t nops;
    if (dwarf_frame_register(f, DW_REG_RA, mem, &ops, &nops) != 0)
        return CFI_UNSUPPORTED;
    if (nops == 0 && ops != NULL)
        return CFI_OUTERMOST;
    return cfa_relative_offset(ops, nops) == -8 ? 0 : CFI_UNSUPPORTED;
}

/* Recognise the PLT's CFA expression, rsp + 8 + (((rip & 15) >= N) << 3), and return N
 * (the offset of the stub's push), or -1. */
static int plt_threshold(const Dwarf_Op *ops, size_t nops)
{
    if (nops == 9 && ops[0].atom == DW_OP_breg7 && ops[0].number == 8 &&
        ops[1].atom == DW_OP_breg16 && ops[2].atom == DW_OP_lit15 && ops[3].atom == DW_OP_and &&
        ops[4].atom >= DW_OP_lit0 && ops[4].atom <= DW_OP_lit31 && ops[5].atom == DW_OP_ge)
        return ops[4].atom - DW_OP_lit0;
    return -1;
}

static cfi_row row_from_frame(Dwarf_Frame *f, uint64_t pc, uint64_t base)
{
    cfi_row r = { .pc = (uint32_t)(pc - base), .kind = CFI_UNSUPPORTED,
                  .fp_off = CFI_FP_SAME, .bx_off = CFI_FP_SAME };
    Dwarf_Addr start, end;
    bool signalp = false;
    dwarf_frame_info(f, &start, &end, &signalp);
    Dwarf_Op *ops;
    size_t nops;
    if (signalp) {
        r.kind = CFI_SIGFRAME;
        return r;
    }
    if (dwarf_frame_cfa(f, &ops, &nops) != 0)
        return r;
    int ra = ra_rule(f);
    if (ra == CFI_OUTERMOST) {
        r.kind = CFI_OUTERMOST;
        return r;
    }
    if (ra != 0)
        return r;
    int plt = plt_threshold(ops, nops);
    /* A register-based CFA comes as DW_OP_bregx reg, offset. */
    if (nops == 1 && ops[0].atom == DW_OP_bregx &&
        (ops[0].number == DW_REG_RSP || ops[0].number == DW_REG_RBP ||
         ops[0].number == DW_REG_RBX) &&
        (int64_t)ops[0].number2 > INT32_MIN && (int64_t)ops[0].number2 < INT32_MAX) {
        r.kind = ops[0].number == DW_REG_RSP   ? CFI_CFA_RSP
                 : ops[0].number == DW_REG_RBP ? CFI_CFA_RBP
                                               : CFI_CFA_RBX;
        r.cfa_off = (int32_t)(int64_t)ops[0].number2;
        r.fp_off = saved_rule(f, DW_REG_RBP);
        r.bx_off = saved_rule(f, DW_REG_RBX);
    } else if (plt >= 0) {
        r.kind = CFI_PLT;
        r.cfa_off = plt;
    }
    return r;
}

/* Append the rows of the FDE starting at pc; stop at limit (the next FDE's start). */
static bool add_fde_rows(Dwarf_CFI *cfi, row_vec *rv, uint64_t pc, uint64_t limit,
                         uint64_t base)
{
    while (pc < limit) {
        Dwarf_Frame *f;
        if (dwarf_cfi_addrframe(cfi, pc, &f) != 0)
            break;
        Dwarf_Addr start, end;
        dwarf_frame_info(f, &start, &end, NULL);
        bool ok = row_push(rv, row_from_frame(f, pc, base));
        free(f);
        if (!ok)
            return false;
        if (end <= pc)
            break;
        pc = end;
    }
    if (pc < limit)
        return row_push(rv, (cfi_row){ .pc = (uint32_t)(pc - base), .kind = CFI_NONE });
    return true;
}

/* The index's granule for len rows up to last_pc (cfi.h): the finest whose index has at most
 * one entry for every two rows. */
static unsigned index_shift(size_t len, uint32_t last_pc)
{
    unsigned shift = CFI_INDEX_SHIFT_MIN;
    while (shift < CFI_INDEX_SHIFT_MAX && ((size_t)last_pc >> shift) + 2 > len / 2 + 2)
        shift++;
    return shift;
}

/* A big module's table (node's: 2.4 MB, Chromium's 2.2 MB) in 2 MB pages where the kernel
 * has them: the handler's lookups land anywhere in it, and with 4 KB pages each was a TLB
 * miss on top of its cache misses (node running tsc: a lookup's median over six runs 350 ->
 * 327 ns, and steadier; -Dhandler_phases=true). Mapped by us (util/huge_map.h), never
 * aligned by the program's allocator: Chromium's traps on a 2 MB-aligned posix_memalign.
 * *mapped: the mapping's size, 0 for a malloc'd block (cfi_free tells them apart). */
static cfi_table *alloc_table(size_t size, size_t *mapped)
{
    *mapped = 0;
    if (size < UTIL_HUGE_PAGE)
        return malloc(size);
    cfi_table *t = util_huge_map(size);
    if (t)
        *mapped = size;
    return t;
}

void cfi_free(cfi_table *t)
{
    if (t && t->mapped)
        util_huge_unmap(t, t->mapped);
    else
        free(t);
}

/* One block: header, rules, pcs, page index, rule indexes (the 2-byte array last, so every
 * array is aligned to its element). */
cfi_table *cfi_alloc(uint64_t base, size_t len, size_t nrules, uint32_t last_pc)
{
    unsigned shift = index_shift(len, last_pc);
    size_t pages = ((size_t)last_pc >> shift) + 2;
    if (len == 0 || nrules == 0 || nrules > CFI_MAX_RULES
        || len > (SIZE_MAX - sizeof(cfi_table)) / 16)
        return NULL;
    size_t size = sizeof(cfi_table) + nrules * sizeof(cfi_row) + len * sizeof(uint32_t)
                  + pages * sizeof(uint32_t) + len * sizeof(uint16_t);
    size_t mapped;
    cfi_table *t = alloc_table(size, &mapped);
    if (!t)
        return NULL;
    t->mapped = mapped;
    t->base = base;
    t->len = len;
    t->pages = pages;
    t->shift = shift;
    t->nrules = nrules;
    t->rules = (const cfi_row *)(t + 1);
    t->pc = (const uint32_t *)(t->rules + nrules);
    t->page_first = t->pc + len;
    t->rule = (const uint16_t *)(t->page_first + pages);
    return t;
}

bool cfi_index_ok(const cfi_table *t)
{
    uint32_t bad = 0;
    for (size_t p = 0; p < t->pages; p++) {
        uint64_t page_start = (uint64_t)p << t->shift;
        uint32_t r = t->page_first[p];
        if (r >= t->len)
            return false;
        /* the last row at or before the page start (row 0 if none is) */
        bad |= (r > 0 && t->pc[r] > page_start)
               | (r + 1 < t->len && t->pc[r + 1] <= page_start);
    }
    return bad == 0;
}

void cfi_index(cfi_table *t)
{
    uint32_t *idx = (uint32_t *)t->page_first;
    size_t r = 0;
    for (size_t p = 0; p < t->pages; p++) {
        uint64_t page_start = (uint64_t)p << t->shift;
        while (r + 1 < t->len && t->pc[r + 1] <= page_start)
            r++;
        idx[p] = (uint32_t)r; /* may be a row after the page start when r == 0 */
    }
}

cfi_row cfi_row_at(const cfi_table *t, size_t i)
{
    cfi_row r = t->rules[t->rule[i]];
    r.pc = t->pc[i];
    return r;
}

/* The distinct rules of rows (a row's rules: every field but pc), found through an open-
 * addressing hash of rule indexes. */
typedef struct rule_set {
    cfi_row *rules;
    size_t len;
    uint32_t *slots; /* rule index + 1, 0 empty */
    size_t mask;
} rule_set;

static bool same_rules(const cfi_row *a, const cfi_row *b)
{
    return a->cfa_off == b->cfa_off && a->fp_off == b->fp_off && a->bx_off == b->bx_off
           && a->kind == b->kind && a->pad == b->pad;
}

static size_t rule_hash(const cfi_row *r)
{
    uint64_t k = (uint64_t)(uint32_t)r->cfa_off ^ (uint64_t)(uint16_t)r->fp_off << 32
                 ^ (uint64_t)(uint16_t)r->bx_off << 48 ^ (uint64_t)r->kind << 24
                 ^ (uint64_t)r->pad << 16;
    return (size_t)((k * 0x9e3779b97f4a7c15ull) >> 32);
}

/* The index of row's rules, added if new; CFI_MAX_RULES rules in, a new one maps to the
 * unsupported rule (index 0, always there). */
static uint16_t rule_index(rule_set *rs, const cfi_row *row)
{
    cfi_row key = *row;
    key.pc = 0;
    for (size_t h = rule_hash(&key) & rs->mask;; h = (h + 1) & rs->mask) {
        uint32_t s = rs->slots[h];
        if (s == 0) {
            if (rs->len >= CFI_MAX_RULES)
                return 0;
            rs->rules[rs->len] = key;
            rs->slots[h] = (uint32_t)++rs->len;
            return (uint16_t)(rs->len - 1);
        }
        if (same_rules(&rs->rules[s - 1], &key))
            return (uint16_t)(s - 1);
    }
}

cfi_table *cfi_from_rows(uint64_t base, const cfi_row *rows, size_t len)
{
    if (len == 0)
        return NULL;
    size_t want = len < CFI_MAX_RULES ? len + 1 : CFI_MAX_RULES + 1, cap = 16;
    while (cap < 2 * want)
        cap <<= 1;
    rule_set rs = { .rules = malloc(want * sizeof(cfi_row)), .slots = calloc(cap, 4),
                    .mask = cap - 1 };
    uint16_t *idx = malloc(len * sizeof *idx);
    cfi_table *t = NULL;
    if (rs.rules && rs.slots && idx) {
        cfi_row unsupported = { .kind = CFI_UNSUPPORTED, .fp_off = CFI_FP_SAME,
                                .bx_off = CFI_FP_SAME };
        rule_index(&rs, &unsupported); /* index 0: the rule of rows past the limit */
        for (size_t i = 0; i < len; i++)
            idx[i] = rule_index(&rs, &rows[i]);
        t = cfi_alloc(base, len, rs.len, rows[len - 1].pc);
    }
    if (t) {
        memcpy((cfi_row *)t->rules, rs.rules, rs.len * sizeof(cfi_row));
        uint32_t *pc = (uint32_t *)t->pc;
        for (size_t i = 0; i < len; i++)
            pc[i] = rows[i].pc;
        memcpy((uint16_t *)t->rule, idx, len * sizeof *idx);
        cfi_index(t);
    }
    free(rs.rules);
    free(rs.slots);
    free(idx);
    return t;
}

/* Entry i's rows through the decoder: 1, 0 when it declines (nothing pushed), -1 when
 * out of memory. A refused (hostile) entry gets no CFI. */
static int add_decoded_rows(ehframe *ef, ehframe_rows *scratch, row_vec *rv, uint64_t i,
                            uint64_t limit, uint64_t base, cfi_build_stats *st)
{
    uint64_t next = util_eh_hdr_start(ef->hdr, i);
    bool huge;
    ehframe_result res = ehframe_fde_rows(ef, i, limit, base, scratch, &next, &huge);
    if (res == EHFRAME_DECLINED)
        return 0;
    st->refused += res == EHFRAME_REFUSED;
    st->huge += huge;
    for (size_t k = 0; res == EHFRAME_ROWS && k < scratch->len; k++)
        if (!row_push(rv, scratch->v[k]))
            return -1;
    if (next < limit && !row_push(rv, (cfi_row){ .pc = (uint32_t)(next - base),
                                                 .kind = CFI_NONE }))
        return -1;
    return 1;
}

cfi_table *cfi_build_using(Elf *elf, bool decoder, cfi_build_stats *stats)
{
    util_eh_hdr h;
    cfi_build_stats st = { 0 };
    if (stats)
        *stats = st;
    if (!util_eh_hdr_find(elf, &h) || h.count == 0)
        return NULL;
    Dwarf_CFI *cfi = dwarf_getcfi_elf(elf);
    if (!cfi)
        return NULL;
    ehframe *ef = decoder ? malloc(sizeof *ef) : NULL;
    if (ef && !ehframe_open(ef, elf, &h)) {
        free(ef);
        ef = NULL;
    }
    st.whole_module = decoder && ef == NULL;
    ehframe_rows scratch = { 0 };
    uint64_t base = util_eh_hdr_start(&h, 0);
    uint64_t last = util_eh_hdr_start(&h, h.count - 1);
    row_vec rv = { 0 };
    bool ok = last >= base && last - base < UINT32_MAX - (1u << 20);
    for (uint64_t i = 0; ok && i < h.count; i++) {
        uint64_t pc = util_eh_hdr_start(&h, i);
        uint64_t limit = i + 1 < h.count ? util_eh_hdr_start(&h, i + 1) : base + UINT32_MAX;
        if (pc < base || limit < pc)
            break; /* the table must be sorted; a corrupt one ends here */
        st.fdes++;
        int own = ef ? add_decoded_rows(ef, &scratch, &rv, i, limit, base, &st) : 0;
        if (own == 0) {
            st.elfutils += ef != NULL;
            ok = add_fde_rows(cfi, &rv, pc, limit, base);
        } else {
            ok = own > 0;
        }
    }
    dwarf_cfi_end(cfi);
    free(ef);
    free(scratch.v);
    cfi_table *t = ok ? cfi_from_rows(base, rv.v, rv.len) : NULL;
    free(rv.v);
    if (stats)
        *stats = st;
    return t;
}

cfi_table *cfi_build(Elf *elf)
{
    return cfi_build_using(elf, true, NULL);
}

cfi_view cfi_view_of(const cfi_table *t)
{
    const char *b = (const char *)t;
    if (!t || t->len == 0 || t->len > UINT32_MAX || t->pages > UINT32_MAX ||
        (const char *)t->rules != (const char *)(t + 1) ||
        (size_t)((const char *)t->rule - b) > UINT32_MAX)
        return (cfi_view){ 0 }; /* not cfi_alloc's layout, or too big: no table */
    return (cfi_view){ t,
                       (uint32_t)((const char *)t->pc - b),
                       (uint32_t)((const char *)t->page_first - b),
                       (uint32_t)((const char *)t->rule - b),
                       (uint32_t)t->len,
                       (uint32_t)t->pages,
                       (uint8_t)t->shift };
}

/* Prefetch the lines of [p, last], at most 8 of them and the last. */
static inline void prefetch_span(const void *p, const void *last)
{
    const char *c = p, *end = last;
    for (int i = 0; i < 8 && c <= end; i++, c += 64)
        __builtin_prefetch(c);
    __builtin_prefetch(end);
}

bool cfi_lookup(const cfi_table *t, uint64_t addr, cfi_row *out)
{
    if (!t || addr < t->base)
        return false;
    cfi_view v = cfi_view_of(t);
    return cfi_view_lookup(&v, addr - t->base, out);
}

bool cfi_view_lookup(const cfi_view *v, uint64_t off, cfi_row *out)
{
    if (!v->t || off >= UINT32_MAX)
        return false;
    const char *b = (const char *)v->t;
    const uint32_t *pcs = (const uint32_t *)(b + v->pc_off);
    const uint32_t *page_first = (const uint32_t *)(b + v->page_off);
    const uint16_t *rule = (const uint16_t *)(b + v->rule_off);
    uint32_t pc = (uint32_t)off;
    size_t page = pc >> v->shift, found;
    if (page + 1 >= v->pages) {
        if (pcs[v->len - 1] > pc)
            return false;
        found = v->len - 1;
    } else {
        /* The answer lies between the rows in force at this page's start and the next's.
         * Their pcs and rule indexes are loaded at once (a few lines each), not one cold
         * line after another as the search reaches them. */
        size_t lo = page_first[page], hi = (size_t)page_first[page + 1] + 1;
        prefetch_span(&pcs[lo], &pcs[hi - 1]);
        prefetch_span(&rule[lo], &rule[hi - 1]);
        if (pcs[lo] > pc)
            return false; /* only possible before the first row */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (pcs[mid] <= pc)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo == 0)
            return false;
        found = lo - 1;
    }
    /* The rules follow the header (cfi_alloc). */
    cfi_row r = ((const cfi_row *)(v->t + 1))[rule[found]];
    r.pc = pcs[found];
    *out = r;
    return true;
}
