/* ehframe.c - .eh_frame CIE/FDE parsing and CFA programs, reduced to cfi rows; see
 * ehframe.h for why and for the exactness contract.
 *
 * Matching elfutils (0.188, libdw/cfi.c and friends) where it is not what DWARF alone says:
 * - the x86-64 ABI's initial rules mark rax (not rbx: elfutils' slip, see cfi.c's
 *   saved_rule, which reads an undefined rbx as "same value", as the psABI means for an
 *   unmentioned one; so does this decoder, explicit DW_CFA_undefined included), rbp,
 *   r12-r15 and the return-address column "same value", and leave the CFA undefined until
 *   the CIE defines it;
 * - register offsets are kept in a 61-bit signed field;
 * - a row's rules are those in force at the first advance past its start, so one pass
 *   that emits a row at every advance gives the rows elfutils gives pc by pc. */
#include "ehframe.h"

#include "array.h"

#include <dwarf.h>
#include <gelf.h>
#include <string.h>

enum { RULE_UNDEF = 0, RULE_SAME, RULE_OFFSET, RULE_OTHER, RULE_EXPR };
enum { CFA_UNDEF = 0, CFA_OFFSET, CFA_PLT, CFA_EXPR, CFA_INVALID };
enum { REG_RBX = 3, REG_RBP = 6, REG_RSP = 7, REG_RA = 16 };
/* elfutils keeps a rule for every register up to the highest one named, and refuses
 * numbers from INT32_MAX / 8 on: a hostile FDE naming register 2^27 makes it allocate and
 * clear 2 GB (found by fuzz-ehframe). From REG_HUGE on, an FDE is never handed to it. */
#define REG_HUGE 4096u
#define REG_ELFUTILS_LIMIT ((uint64_t)INT32_MAX / 8)
enum { STACK_MAX = 16 };

/* ---- bounded readers: each fails rather than read at or past end ---- */

typedef struct cursor {
    const uint8_t *p, *end;
} cursor;

static bool rd_u8(cursor *c, uint8_t *v)
{
    if (c->p >= c->end)
        return false;
    *v = *c->p++;
    return true;
}

static bool rd_fixed(cursor *c, size_t n, uint64_t *v)
{
    if ((size_t)(c->end - c->p) < n)
        return false;
    *v = util_eh_read_le(c->p, n);
    c->p += n;
    return true;
}

/* LEB128 of at most 9 bytes (63 bits): longer encodings do not occur, and are declined.
 * signed: sign-extended from the last byte's bit 6. */
static bool rd_leb(cursor *c, uint64_t *v, bool is_signed)
{
    uint64_t acc = 0;
    for (unsigned i = 0; i < 9 && c->p < c->end; i++) {
        uint8_t b = *c->p++;
        acc |= (uint64_t)(b & 0x7f) << (7 * i);
        if (!(b & 0x80)) {
            if (is_signed && (b & 0x40))
                acc |= -((uint64_t)1 << (7 * (i + 1)));
            *v = acc;
            return true;
        }
    }
    return false;
}

static bool rd_uleb(cursor *c, uint64_t *v)
{
    return rd_leb(c, v, false);
}

static bool rd_sleb(cursor *c, uint64_t *v)
{
    return rd_leb(c, v, true);
}

/* An FDE address: absolute or pc-relative, 2, 4 or 8 bytes (what linkers write). */
static bool rd_encoded(const ehframe *ef, cursor *c, uint8_t enc, uint64_t *v)
{
    uint64_t rel = 0, raw;
    if ((enc & 0xf0) == DW_EH_PE_pcrel)
        rel = ef->vaddr + (uint64_t)(c->p - ef->data);
    else if ((enc & 0xf0) != DW_EH_PE_absptr)
        return false;
    switch (enc & 0x0f) {
    case DW_EH_PE_udata2: case DW_EH_PE_sdata2:
        if (!rd_fixed(c, 2, &raw))
            return false;
        raw = (enc & 0x0f) == DW_EH_PE_sdata2 ? (uint64_t)(int64_t)(int16_t)raw : raw;
        break;
    case DW_EH_PE_udata4: case DW_EH_PE_sdata4:
        if (!rd_fixed(c, 4, &raw))
            return false;
        raw = (enc & 0x0f) == DW_EH_PE_sdata4 ? (uint64_t)(int64_t)(int32_t)raw : raw;
        break;
    case DW_EH_PE_udata8: case DW_EH_PE_sdata8:
        if (!rd_fixed(c, 8, &raw))
            return false;
        break;
    default:
        return false;
    }
    *v = rel + raw;
    return true;
}

/* ---- entries ---- */

/* The entry at section offset off: its id word and its body after it. */
static bool entry_at(const ehframe *ef, uint64_t off, uint32_t *id, cursor *body)
{
    if (off >= ef->size || ef->size - off < 8)
        return false;
    uint64_t len = util_eh_read_le(ef->data + off, 4);
    /* 0 ends the section; 0xffffffff is 64-bit DWARF, which .eh_frame does not use. */
    if (len < 5 || len == 0xffffffffu || len > ef->size - off - 4)
        return false;
    *id = (uint32_t)util_eh_read_le(ef->data + off + 4, 4);
    body->p = ef->data + off + 8;
    body->end = ef->data + off + 4 + len;
    return true;
}

static bool execute(const ehframe_cie *cie, ehframe_state *st, cursor prog, void *fde);

/* Skips an encoded pointer of the sizes elfutils knows (encoded_value_size): 8 for
 * absptr and udata8, 4, 2, none for the rest; a LEB128 one is declined. */
static bool skip_pointer(cursor *c, uint8_t enc)
{
    static const uint8_t size[8] = { 8, 0xff, 2, 4, 8, 0, 0, 0 };
    size_t n = enc == DW_EH_PE_omit ? 0 : size[enc & 0x07];
    if (n == 0xff || (size_t)(c->end - c->p) < n)
        return false;
    c->p += n;
    return true;
}

/* Augmentation "z" then any of L, P, R, S: what GCC, clang and the linkers write. */
static bool cie_parse(ehframe *ef, uint64_t off, ehframe_cie *cie)
{
    uint32_t id;
    cursor c;
    uint8_t version, b;
    if (!entry_at(ef, off, &id, &c) || id != 0 || !rd_u8(&c, &version)
        || (version != 1 && version != 3))
        return false;
    const char *aug = (const char *)c.p;
    const uint8_t *nul = memchr(c.p, 0, (size_t)(c.end - c.p));
    if (nul == NULL || aug[0] != 'z')
        return false;
    c.p = nul + 1;
    uint64_t caf, daf, ra, auglen;
    if (!rd_uleb(&c, &caf) || !rd_sleb(&c, &daf))
        return false;
    if (version == 1 ? !rd_u8(&c, &b) : !rd_uleb(&c, &ra))
        return false;
    if (!rd_uleb(&c, &auglen) || auglen > (uint64_t)(c.end - c.p))
        return false;
    cursor a = { c.p, c.p + auglen };
    cie->fde_enc = DW_EH_PE_absptr;
    cie->signal = false;
    for (const char *ap = aug + 1; *ap; ap++) {
        uint8_t enc;
        switch (*ap) {
        case 'S':
            cie->signal = true;
            break;
        case 'L':
            if (!rd_u8(&a, &enc))
                return false;
            break;
        case 'R':
            if (!rd_u8(&a, &cie->fde_enc))
                return false;
            break;
        case 'P': /* the personality routine: only its size matters here */
            if (!rd_u8(&a, &enc) || !skip_pointer(&a, enc))
                return false;
            break;
        default:
            return false;
        }
    }
    if ((cie->fde_enc & 0x0f) == DW_EH_PE_absptr)
        cie->fde_enc |= DW_EH_PE_udata8;
    cie->caf = caf;
    cie->daf = (int64_t)daf;
    cie->insns = c.p + auglen;
    cie->insns_end = c.end;
    /* The ABI's initial rules (elfutils' x86_64_abi_cfi), then the CIE's program. */
    cie->init = (ehframe_state){ .cfa_rule = CFA_UNDEF, .bx = { RULE_SAME, 0 },
                                 .bp = { RULE_SAME, 0 }, .ra = { RULE_SAME, 0 } };
    return execute(cie, &cie->init, (cursor){ cie->insns, cie->insns_end }, NULL);
}

static const ehframe_cie *cie_get(ehframe *ef, uint64_t off)
{
    ehframe_cie *slot = &ef->cies[(off * 0x9e3779b97f4a7c15u) >> 58];
    if (slot->off != off + 1) {
        slot->off = off + 1;
        slot->ok = cie_parse(ef, off, slot);
    }
    return slot->ok ? slot : NULL;
}

typedef struct fde_info {
    const ehframe_cie *cie;
    uint64_t start, end;
    cursor prog;
} fde_info;

/* The FDE at file address addr (from the search table). */
static bool fde_parse(ehframe *ef, uint64_t addr, fde_info *f)
{
    uint32_t id;
    cursor c;
    uint64_t off = addr - ef->vaddr, range, auglen;
    if (addr < ef->vaddr || !entry_at(ef, off, &id, &c) || id == 0 || id > off + 4 || off == 0)
        return false;
    f->cie = cie_get(ef, off + 4 - id);
    if (f->cie == NULL || !rd_encoded(ef, &c, f->cie->fde_enc, &f->start)
        || !rd_encoded(ef, &c, f->cie->fde_enc & 0x0f, &range) || !rd_uleb(&c, &auglen)
        || auglen > (uint64_t)(c.end - c.p))
        return false;
    f->end = f->start + range;
    f->prog = (cursor){ c.p + auglen, c.end };
    return f->start < f->end;
}

/* ---- rows ---- */

/* The row elfutils' frame would reduce to in cfi.c (row_from_frame); false where that
 * depends on an expression we do not evaluate. */
static bool reduce_saved(const ehframe_reg *r, int16_t *out)
{
    switch (r->rule) {
    case RULE_SAME: *out = CFI_FP_SAME; return true;
    case RULE_OFFSET:
        *out = r->off >= 0 || r->off < -30000 ? CFI_FP_UNDEFINED : (int16_t)r->off;
        return true;
    case RULE_EXPR: return false;
    default: *out = CFI_FP_UNDEFINED; return true;
    }
}

static bool reduce(const ehframe_cie *cie, const ehframe_state *s, uint32_t pc, cfi_row *r)
{
    *r = (cfi_row){ .pc = pc, .kind = CFI_UNSUPPORTED, .fp_off = CFI_FP_SAME,
                    .bx_off = CFI_FP_SAME };
    if (cie->signal) {
        r->kind = CFI_SIGFRAME;
        return true;
    }
    if (s->cfa_rule == CFA_INVALID)
        return true;
    if (s->cfa_rule == CFA_EXPR || s->ra.rule == RULE_EXPR)
        return false;
    if (s->ra.rule == RULE_UNDEF) {
        r->kind = CFI_OUTERMOST;
        return true;
    }
    if (s->ra.rule != RULE_OFFSET || s->ra.off != -8)
        return true;
    int64_t off = (int64_t)s->cfa_off;
    if (s->cfa_rule == CFA_OFFSET
        && (s->cfa_reg == REG_RSP || s->cfa_reg == REG_RBP || s->cfa_reg == REG_RBX)
        && off > INT32_MIN && off < INT32_MAX) {
        r->kind = s->cfa_reg == REG_RSP ? CFI_CFA_RSP
                  : s->cfa_reg == REG_RBP ? CFI_CFA_RBP : CFI_CFA_RBX;
        r->cfa_off = (int32_t)off;
        if (!reduce_saved(&s->bp, &r->fp_off) || !reduce_saved(&s->bx, &r->bx_off))
            return false;
        if (s->bx.rule == RULE_UNDEF) /* as cfi.c's saved_rule reads elfutils' answer */
            r->bx_off = CFI_FP_SAME;
        return true;
    }
    if (s->cfa_rule == CFA_PLT) {
        r->kind = CFI_PLT;
        r->cfa_off = s->plt;
    }
    return true;
}

/* Where an FDE's rows go while its program runs. */
typedef struct fde_run {
    uint64_t loc;     /* the program's location counter */
    uint64_t pc, end, limit, base; /* the row in force starts at pc */
    ehframe_rows *out;
    bool stop;
} fde_run;

/* The location advanced to loc: past the row's start, the row in force so far ends there
 * (elfutils asked for pc stops at the first location past pc). */
static bool advance(fde_run *fr, const ehframe_cie *cie, const ehframe_state *st, uint64_t loc)
{
    fr->loc = loc;
    if (loc <= fr->pc)
        return true;
    cfi_row r;
    if (!reduce(cie, st, (uint32_t)(fr->pc - fr->base), &r)
        || !UTIL_RESERVE(fr->out->v, fr->out->cap, fr->out->len + 1))
        return false;
    fr->out->v[fr->out->len++] = r;
    fr->pc = loc;
    fr->stop = loc >= fr->limit || loc >= fr->end;
    return loc <= fr->end || loc >= fr->limit; /* past the FDE's end: elfutils' own way */
}

/* ---- CFA programs ---- */

static ehframe_reg *tracked(ehframe_state *st, uint64_t reg)
{
    return reg == REG_RBX ? &st->bx : reg == REG_RBP ? &st->bp : reg == REG_RA ? &st->ra : NULL;
}

/* A register operand: false where elfutils fails (declined, it fails the same way). */
static bool reg_ok(ehframe_state *st, uint64_t reg)
{
    st->huge |= reg >= REG_HUGE;
    return reg < REG_ELFUTILS_LIMIT;
}

static bool set_rule(ehframe_state *st, uint64_t reg, uint8_t rule, uint64_t off)
{
    if (!reg_ok(st, reg))
        return false;
    ehframe_reg *r = tracked(st, reg);
    if (r) {
        r->rule = rule;
        r->off = (int64_t)(off << 3) >> 3; /* elfutils' 61-bit field */
    }
    return true;
}

/* The PLT's CFA: DW_OP_breg7 8; DW_OP_breg16 N; lit15; and; litT; ge; lit3; shl; plus. */
static bool plt_expression(cursor e, uint8_t *threshold)
{
    uint8_t op, t;
    uint64_t v;
    if (!rd_u8(&e, &op) || op != DW_OP_breg7 || !rd_sleb(&e, &v) || v != 8
        || !rd_u8(&e, &op) || op != DW_OP_breg16 || !rd_sleb(&e, &v))
        return false;
    static const uint8_t mid[] = { DW_OP_lit15, DW_OP_and };
    static const uint8_t tail[] = { DW_OP_ge, DW_OP_lit3, DW_OP_shl, DW_OP_plus };
    if ((size_t)(e.end - e.p) != sizeof mid + 1 + sizeof tail
        || memcmp(e.p, mid, sizeof mid) != 0 || memcmp(e.p + 3, tail, sizeof tail) != 0)
        return false;
    t = e.p[2];
    if (t < DW_OP_lit0 || t > DW_OP_lit31)
        return false;
    *threshold = (uint8_t)(t - DW_OP_lit0);
    return true;
}

/* One operation that does not move the location; false: decline. */
static bool apply(const ehframe_cie *cie, ehframe_state *st, uint8_t op, cursor *c,
                  bool in_cie)
{
    uint64_t reg, v, len;
    uint64_t daf = (uint64_t)cie->daf;
    switch (op >= 0x40 ? op & 0xc0 : op) {
    case DW_CFA_offset:
        return rd_uleb(c, &v) && set_rule(st, op & 0x3f, RULE_OFFSET, v * daf);
    case DW_CFA_restore:
        reg = op & 0x3f;
        goto restore;
    case DW_CFA_restore_extended:
        if (!rd_uleb(c, &reg))
            return false;
    restore:
        if (in_cie || !reg_ok(st, reg))
            return false;
        if (tracked(st, reg)) {
            ehframe_state init = cie->init;
            *tracked(st, reg) = *tracked(&init, reg);
        }
        return true;
    case DW_CFA_nop:
        return true;
    case DW_CFA_offset_extended:
        return rd_uleb(c, &reg) && rd_uleb(c, &v) && set_rule(st, reg, RULE_OFFSET, v * daf);
    case DW_CFA_offset_extended_sf:
        return rd_uleb(c, &reg) && rd_sleb(c, &v) && set_rule(st, reg, RULE_OFFSET, v * daf);
    case DW_CFA_GNU_negative_offset_extended:
        return rd_uleb(c, &reg) && rd_uleb(c, &v) && set_rule(st, reg, RULE_OFFSET, -v * daf);
    case DW_CFA_undefined:
        return rd_uleb(c, &reg) && set_rule(st, reg, RULE_UNDEF, 0);
    case DW_CFA_same_value:
        return rd_uleb(c, &reg) && set_rule(st, reg, RULE_SAME, 0);
    case DW_CFA_register:
        return rd_uleb(c, &reg) && rd_uleb(c, &v) && set_rule(st, reg, RULE_OTHER, 0);
    case DW_CFA_val_offset:
        return rd_uleb(c, &reg) && rd_uleb(c, &v) && set_rule(st, reg, RULE_OTHER, 0);
    case DW_CFA_val_offset_sf:
        return rd_uleb(c, &reg) && rd_sleb(c, &v) && set_rule(st, reg, RULE_OTHER, 0);
    case DW_CFA_expression: case DW_CFA_val_expression:
        if (!rd_uleb(c, &reg) || !rd_uleb(c, &len) || len > (uint64_t)(c->end - c->p))
            return false;
        c->p += len;
        return set_rule(st, reg, RULE_EXPR, 0);
    case DW_CFA_def_cfa:
        if (!rd_uleb(c, &reg) || !rd_uleb(c, &v))
            return false;
        goto def_cfa;
    case DW_CFA_def_cfa_sf:
        if (!rd_uleb(c, &reg) || !rd_sleb(c, &v))
            return false;
        v *= daf;
    def_cfa:
        st->cfa_rule = CFA_OFFSET;
        st->cfa_reg = reg;
        st->cfa_off = v;
        return true;
    case DW_CFA_def_cfa_register:
        if (!rd_uleb(c, &reg))
            return false;
        st->cfa_rule = st->cfa_rule == CFA_OFFSET ? CFA_OFFSET : CFA_INVALID;
        st->cfa_reg = reg;
        return true;
    case DW_CFA_def_cfa_offset:
        if (!rd_uleb(c, &v))
            return false;
        goto def_cfa_offset;
    case DW_CFA_def_cfa_offset_sf:
        if (!rd_sleb(c, &v))
            return false;
        v *= daf;
    def_cfa_offset:
        st->cfa_rule = st->cfa_rule == CFA_OFFSET ? CFA_OFFSET : CFA_INVALID;
        st->cfa_off = v;
        return true;
    case DW_CFA_def_cfa_expression:
        if (!rd_uleb(c, &len) || len > (uint64_t)(c->end - c->p))
            return false;
        st->cfa_rule = plt_expression((cursor){ c->p, c->p + len }, &st->plt) ? CFA_PLT
                                                                               : CFA_EXPR;
        c->p += len;
        return true;
    case DW_CFA_GNU_args_size:
        return rd_uleb(c, &v);
    default: /* DW_CFA_set_loc, DW_CFA_GNU_window_save, vendor operations: elfutils' */
        return false;
    }
}

/* Runs a CIE's initial instructions (fde NULL: no advance allowed) or an FDE's program,
 * emitting a row at each advance. False: declined. */
static bool execute(const ehframe_cie *cie, ehframe_state *st, cursor c, void *fde)
{
    fde_run *fr = fde;
    ehframe_state stack[STACK_MAX];
    size_t depth = 0;
    while (c.p < c.end && !(fr && fr->stop)) {
        uint8_t op = *c.p++;
        uint64_t delta;
        if (op >= DW_CFA_advance_loc && op < DW_CFA_offset) {
            delta = op & 0x3f;
        } else if (op == DW_CFA_advance_loc1 || op == DW_CFA_advance_loc2
                   || op == DW_CFA_advance_loc4) {
            size_t n = op == DW_CFA_advance_loc1 ? 1 : op == DW_CFA_advance_loc2 ? 2 : 4;
            if (!rd_fixed(&c, n, &delta))
                return false;
        } else if (op == DW_CFA_remember_state) {
            if (fr == NULL || depth == STACK_MAX)
                return false;
            stack[depth++] = *st;
            continue;
        } else if (op == DW_CFA_restore_state) {
            if (fr == NULL || depth == 0)
                return false;
            bool huge = st->huge;
            *st = stack[--depth];
            st->huge |= huge;
            continue;
        } else {
            if (!apply(cie, st, op, &c, fr == NULL))
                return false;
            continue;
        }
        if (fr == NULL || !advance(fr, cie, st, fr->loc + delta * cie->caf))
            return false;
    }
    return true;
}

/* ---- the module ---- */

/* Where .eh_frame_hdr says .eh_frame is (elfutils uses the table only when that is the
 * section's address); 0 if the encoding is not one linkers write. */
static uint64_t eh_frame_ptr(const util_eh_hdr *h)
{
    uint8_t enc = h->raw[1];
    size_t n = util_eh_value_size(enc);
    if (n == 0 || h->raw_size < 4 + n || h->raw[2] != DW_EH_PE_udata4)
        return 0;
    uint64_t v = util_eh_read_le(h->raw + 4, n);
    if ((enc & 0x0f) == DW_EH_PE_sdata4)
        v = (uint64_t)(int64_t)(int32_t)v;
    switch (enc & 0xf0) {
    case DW_EH_PE_absptr: return v;
    case DW_EH_PE_pcrel: return h->vaddr + 4 + v;
    case DW_EH_PE_datarel: return h->vaddr + v;
    default: return 0;
    }
}

bool ehframe_open(ehframe *ef, Elf *elf, const util_eh_hdr *h)
{
    memset(ef, 0, sizeof *ef);
    GElf_Ehdr eh;
    size_t shstrndx;
    if (!gelf_getehdr(elf, &eh) || eh.e_ident[EI_CLASS] != ELFCLASS64
        || eh.e_ident[EI_DATA] != ELFDATA2LSB || eh.e_machine != EM_X86_64
        || elf_getshdrstrndx(elf, &shstrndx) != 0 || shstrndx == 0)
        return false;
    /* The sections elfutils picks: the first .eh_frame, with the search table of an
     * .eh_frame_hdr seen before it. The decoder needs the same table as the loader's. */
    Elf_Scn *scn = NULL, *frame = NULL;
    GElf_Shdr hdr_sh = { 0 }, sh;
    bool have_hdr = false;
    while (frame == NULL && (scn = elf_nextscn(elf, scn)) != NULL) {
        const char *name;
        if (!gelf_getshdr(scn, &sh) || (name = elf_strptr(elf, shstrndx, sh.sh_name)) == NULL)
            continue;
        if (strcmp(name, ".eh_frame_hdr") == 0) {
            hdr_sh = sh;
            have_hdr = true;
        } else if (strcmp(name, ".eh_frame") == 0) {
            frame = scn;
        }
    }
    if (frame == NULL || !have_hdr || sh.sh_type == SHT_NOBITS || hdr_sh.sh_addr != h->vaddr
        || hdr_sh.sh_offset != h->raw_offset || hdr_sh.sh_size != h->raw_size
        || eh_frame_ptr(h) != sh.sh_addr)
        return false;
    Elf_Data *d = elf_rawdata(frame, NULL);
    if (d == NULL || d->d_buf == NULL)
        return false;
    ef->data = d->d_buf;
    ef->size = d->d_size;
    ef->vaddr = sh.sh_addr;
    ef->hdr = h;
    /* Whole-table checks: every FDE parses, starts where its entry says, and ends before
     * the next begins (so elfutils' FDE lookup finds the same FDE for every pc). */
    uint64_t prev_end = 0;
    for (uint64_t i = 0; i < h->count; i++) {
        fde_info f;
        uint64_t start = util_eh_hdr_start(h, i);
        if (!fde_parse(ef, util_eh_hdr_fde(h, i), &f) || f.start != start || (i > 0 && start < prev_end))
            return false;
        prev_end = f.end;
    }
    return true;
}

/* Whether elfutils, running this program, could reach an operation naming a register in
 * [REG_HUGE, REG_ELFUTILS_LIMIT): each operation is skipped by its operands' layout up to
 * the first one elfutils would fail on. Conservative: it does not follow elfutils' own
 * stops (restore_state on an empty stack, the advance past the pc asked for). */
static bool names_huge_register(const ehframe_cie *cie, cursor c)
{
    while (c.p < c.end) {
        uint8_t op = *c.p++;
        uint64_t reg = 0, v, n = 0;
        bool named = false, ok = true;
        switch (op >= 0x40 ? op & 0xc0 : op) {
        case DW_CFA_advance_loc: case DW_CFA_restore: case DW_CFA_nop:
        case DW_CFA_remember_state: case DW_CFA_restore_state: case DW_CFA_GNU_window_save:
            break;
        case DW_CFA_offset: case DW_CFA_def_cfa_register: case DW_CFA_def_cfa_offset:
        case DW_CFA_GNU_args_size:
            ok = rd_uleb(&c, &v);
            break;
        case DW_CFA_def_cfa_offset_sf:
            ok = rd_sleb(&c, &v);
            break;
        case DW_CFA_advance_loc1: n = 1; break;
        case DW_CFA_advance_loc2: n = 2; break;
        case DW_CFA_advance_loc4: n = 4; break;
        case DW_CFA_MIPS_advance_loc8: n = 8; break;
        case DW_CFA_set_loc:
            n = (cie->fde_enc & 0x07) == DW_EH_PE_udata2 ? 2
                : (cie->fde_enc & 0x07) == DW_EH_PE_udata4 ? 4 : 8;
            break;
        case DW_CFA_def_cfa: case DW_CFA_def_cfa_sf:
            ok = rd_uleb(&c, &v) && rd_leb(&c, &v, op == DW_CFA_def_cfa_sf);
            break;
        case DW_CFA_def_cfa_expression:
            ok = rd_uleb(&c, &n);
            break;
        case DW_CFA_undefined: case DW_CFA_same_value: case DW_CFA_restore_extended:
            ok = named = rd_uleb(&c, &reg);
            break;
        case DW_CFA_offset_extended: case DW_CFA_GNU_negative_offset_extended:
        case DW_CFA_val_offset: case DW_CFA_register:
            ok = named = rd_uleb(&c, &reg) && rd_uleb(&c, &v);
            break;
        case DW_CFA_offset_extended_sf: case DW_CFA_val_offset_sf:
            ok = named = rd_uleb(&c, &reg) && rd_sleb(&c, &v);
            break;
        case DW_CFA_expression: case DW_CFA_val_expression:
            ok = named = rd_uleb(&c, &reg) && rd_uleb(&c, &n);
            break;
        default:
            return false; /* elfutils fails here: nothing after it runs */
        }
        if (!ok || n > (uint64_t)(c.end - c.p))
            return false;
        c.p += n;
        if (named && reg >= REG_HUGE)
            return reg < REG_ELFUTILS_LIMIT;
    }
    return false;
}

ehframe_result ehframe_fde_rows(ehframe *ef, uint64_t i, uint64_t limit, uint64_t base,
                                ehframe_rows *out, uint64_t *next, bool *huge)
{
    const util_eh_hdr *h = ef->hdr;
    fde_info f;
    out->len = 0;
    *huge = false;
    if (i >= h->count || !fde_parse(ef, util_eh_hdr_fde(h, i), &f))
        return EHFRAME_DECLINED;
    fde_run fr = { .loc = f.start, .pc = f.start, .end = f.end, .limit = limit, .base = base,
                   .out = out };
    ehframe_state st = f.cie->init;
    /* The program's end: its last rules hold to the FDE's end. */
    if (execute(f.cie, &st, f.prog, &fr) && (fr.stop || advance(&fr, f.cie, &st, f.end))) {
        *next = fr.pc;
        *huge = st.huge;
        return EHFRAME_ROWS;
    }
    if (names_huge_register(f.cie, (cursor){ f.cie->insns, f.cie->insns_end })
        || names_huge_register(f.cie, f.prog))
        return EHFRAME_REFUSED;
    return EHFRAME_DECLINED;
}
