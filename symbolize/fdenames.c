/* fdenames.c - PLT stubs, the entry point and FDE starts; see fdenames.h for the contract. */
#include "fdenames.h"

#include "array.h"
#include "eh_frame_hdr.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef R_X86_64_GLOB_DAT
#define R_X86_64_GLOB_DAT 6
#define R_X86_64_JUMP_SLOT 7
#endif

struct symbolize_fdetab {
    util_eh_hdr eh;          /* points into the module's Elf, owned by its Dwfl */
    bool have_eh;
    Dwarf_CFI *cfi;          /* owned by the Dwfl */
    Dwarf_Addr cfi_bias;
    bool is_program;         /* ET_EXEC, or ET_DYN with PT_INTERP: e_entry is _start */
    uint64_t entry;          /* unbiased */
    symbolize_sym *plt;      /* absolute spans, sorted; names interned, raw unused */
    size_t nplt;
    /* The PLT sections (unbiased): the stubs' names are read only when an address falls in
     * one, since matching them reads every relocation (Chromium: 1.1e6 in .rela.dyn, ~8 ms
     * in each of its processes that sampled its stripped code). */
    symbolize_span plt_sections[4];
    size_t nplt_sections;
    bool plt_built;
};

/* ------------------------------------------------------------------ PLT stubs */

typedef struct symbolize_got_slot {
    uint64_t got;     /* unbiased address of the GOT slot the relocation fills */
    const char *name; /* the symbol, in the Elf's .dynstr */
} symbolize_got_slot;

static int symbolize_got_cmp(const void *pa, const void *pb)
{
    const symbolize_got_slot *a = pa, *b = pb;
    return a->got < b->got ? -1 : a->got > b->got;
}

static const char *symbolize_got_find(const symbolize_got_slot *v, size_t n, uint64_t got)
{
    symbolize_got_slot key = { got, NULL };
    const symbolize_got_slot *hit = bsearch(&key, v, n, sizeof *v, symbolize_got_cmp);
    return hit != NULL ? hit->name : NULL;
}

/* Appends the named GOT slots of one SHT_RELA section (JUMP_SLOT: lazy or bound PLT
 * calls; GLOB_DAT: .plt.got stubs of functions whose address is also taken). */
static bool symbolize_rela_slots(Elf *elf, Elf_Scn *scn, const GElf_Shdr *sh,
                                 symbolize_got_slot **v, size_t *n, size_t *cap)
{
    Elf_Scn *symscn = elf_getscn(elf, sh->sh_link);
    GElf_Shdr symsh;
    Elf_Data *rel = elf_getdata(scn, NULL);
    Elf_Data *syms = symscn != NULL ? elf_getdata(symscn, NULL) : NULL;
    if (rel == NULL || syms == NULL || gelf_getshdr(symscn, &symsh) == NULL
        || sh->sh_entsize == 0)
        return true;
    size_t count = sh->sh_size / sh->sh_entsize;
    for (size_t i = 0; i < count; i++) {
        GElf_Rela r;
        GElf_Sym sym;
        if (gelf_getrela(rel, (int)i, &r) == NULL)
            break;
        unsigned type = (unsigned)GELF_R_TYPE(r.r_info);
        if ((type != R_X86_64_JUMP_SLOT && type != R_X86_64_GLOB_DAT)
            || gelf_getsym(syms, (int)GELF_R_SYM(r.r_info), &sym) == NULL)
            continue;
        const char *name = elf_strptr(elf, symsh.sh_link, sym.st_name);
        if (name == NULL || name[0] == '\0')
            continue;
        if (!UTIL_RESERVE(*v, *cap, *n + 1))
            return false;
        (*v)[(*n)++] = (symbolize_got_slot){ r.r_offset, name };
    }
    return true;
}

/* The GOT slot an x86-64 PLT entry jumps through: `jmp *disp32(%rip)` (ff 25), possibly
 * after endbr64 (f3 0f 1e fa) and a bnd prefix (f2), as GNU ld and lld write them. The
 * lazy-binding halves of IBT PLTs (push; jmp .plt) have none and stay unnamed. */
static bool symbolize_plt_target(const uint8_t *p, size_t len, uint64_t addr, uint64_t *got)
{
    size_t i = 0;
    if (len >= 4 && p[0] == 0xf3 && p[1] == 0x0f && p[2] == 0x1e && p[3] == 0xfa)
        i = 4;
    if (i < len && p[i] == 0xf2)
        i++;
    if (i + 6 > len || p[i] != 0xff || p[i + 1] != 0x25)
        return false;
    int32_t disp = (int32_t)(uint32_t)util_eh_read_le(p + i + 2, 4);
    *got = addr + i + 6 + (uint64_t)(int64_t)disp;
    return true;
}

static bool symbolize_is_plt(const char *name)
{
    return name != NULL
           && (strcmp(name, ".plt") == 0 || strcmp(name, ".plt.sec") == 0
               || strcmp(name, ".plt.got") == 0);
}

/* Adds "foo@plt" spans for the entries of one PLT section. */
static bool symbolize_plt_section(symbolizer *s, symbolize_module *m, Elf_Scn *scn,
                                  const GElf_Shdr *sh, const symbolize_got_slot *slots,
                                  size_t nslots, size_t *cap)
{
    symbolize_fdetab *t = m->fdetab;
    Elf_Data *d = elf_getdata(scn, NULL);
    uint64_t step = sh->sh_entsize == 8 || sh->sh_entsize == 16 ? sh->sh_entsize : 16;
    if (d == NULL || d->d_buf == NULL || d->d_size != sh->sh_size)
        return true;
    for (uint64_t off = 0; off + step <= sh->sh_size; off += step) {
        uint64_t got;
        const char *sym;
        if (!symbolize_plt_target((const uint8_t *)d->d_buf + off, step, sh->sh_addr + off, &got)
            || (sym = symbolize_got_find(slots, nslots, got)) == NULL)
            continue;
        char name[256];
        snprintf(name, sizeof name, "%s@plt", sym);
        const char *interned = symbolize_intern(s, name);
        if (interned == NULL || !UTIL_RESERVE(t->plt, *cap, t->nplt + 1))
            return false;
        uint64_t lo = m->bias + sh->sh_addr + off;
        t->plt[t->nplt++] = (symbolize_sym){ { lo, lo + step }, NULL, interned };
    }
    return true;
}

/* Where the module's PLT sections are, from the section headers alone. */
static void symbolize_plt_find(symbolize_fdetab *t, Elf *elf)
{
    size_t shstrndx;
    GElf_Shdr sh;
    if (elf_getshdrstrndx(elf, &shstrndx) != 0)
        return;
    for (Elf_Scn *scn = NULL; (scn = elf_nextscn(elf, scn)) != NULL;)
        if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_PROGBITS
            && (sh.sh_flags & SHF_EXECINSTR) && sh.sh_size > 0
            && symbolize_is_plt(elf_strptr(elf, shstrndx, sh.sh_name))
            && t->nplt_sections < sizeof t->plt_sections / sizeof t->plt_sections[0])
            t->plt_sections[t->nplt_sections++] = (symbolize_span){ sh.sh_addr,
                                                                    sh.sh_addr + sh.sh_size };
}

/* Whether absolute address a of m is in one of its PLT sections. */
static bool symbolize_in_plt(const symbolize_fdetab *t, const symbolize_module *m, uint64_t a)
{
    for (size_t i = 0; i < t->nplt_sections && a >= m->bias; i++)
        if (a - m->bias >= t->plt_sections[i].lo && a - m->bias < t->plt_sections[i].hi)
            return true;
    return false;
}

static void symbolize_plt_build(symbolizer *s, symbolize_module *m, Elf *elf)
{
    GElf_Ehdr eh;
    size_t shstrndx;
    if (gelf_getehdr(elf, &eh) == NULL || eh.e_machine != EM_X86_64
        || elf_getshdrstrndx(elf, &shstrndx) != 0)
        return;
    symbolize_got_slot *slots = NULL;
    size_t nslots = 0, slots_cap = 0, plt_cap = 0;
    bool ok = true;
    GElf_Shdr sh;
    for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn)) != NULL;)
        if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_RELA)
            ok = symbolize_rela_slots(elf, scn, &sh, &slots, &nslots, &slots_cap);
    if (ok && nslots > 0) {
        qsort(slots, nslots, sizeof *slots, symbolize_got_cmp);
        for (Elf_Scn *scn = NULL; ok && (scn = elf_nextscn(elf, scn)) != NULL;)
            if (gelf_getshdr(scn, &sh) != NULL && sh.sh_type == SHT_PROGBITS
                && (sh.sh_flags & SHF_EXECINSTR)
                && symbolize_is_plt(elf_strptr(elf, shstrndx, sh.sh_name)))
                ok = symbolize_plt_section(s, m, scn, &sh, slots, nslots, &plt_cap);
    }
    free(slots);
    symbolize_fdetab *t = m->fdetab;
    if (!ok) { /* out of memory: no PLT names rather than some */
        free(t->plt);
        t->plt = NULL;
        t->nplt = 0;
    }
    if (t->nplt > 1)
        qsort(t->plt, t->nplt, sizeof *t->plt, symbolize_span_cmp);
}

/* ------------------------------------------------------------------ the table */

static bool symbolize_has_interp(Elf *elf)
{
    size_t n;
    if (elf_getphdrnum(elf, &n) != 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        GElf_Phdr ph;
        if (gelf_getphdr(elf, (int)i, &ph) != NULL && ph.p_type == PT_INTERP)
            return true;
    }
    return false;
}

static symbolize_fdetab *symbolize_fdetab_build(symbolize_module *m)
{
    symbolize_fdetab *t = calloc(1, sizeof *t);
    if (t == NULL)
        return NULL;
    m->fdetab = t;
    Elf *elf = m->main_elf;
    GElf_Ehdr eh;
    if (elf == NULL || gelf_getehdr(elf, &eh) == NULL)
        return t;
    t->is_program = eh.e_type == ET_EXEC || (eh.e_type == ET_DYN && symbolize_has_interp(elf));
    t->entry = eh.e_entry;
    t->have_eh = util_eh_hdr_find(elf, &t->eh) && t->eh.count > 0;
    t->cfi = dwfl_module_eh_cfi(m->dmod, &t->cfi_bias);
    symbolize_plt_find(t, elf);
    return t;
}

/* The absolute range of the CFI row at absolute address x, if an FDE covers x. */
static bool symbolize_fde_row(const symbolize_fdetab *t, uint64_t x, symbolize_span *row)
{
    Dwarf_Frame *f = NULL;
    if (x < t->cfi_bias || dwarf_cfi_addrframe(t->cfi, x - t->cfi_bias, &f) != 0)
        return false;
    Dwarf_Addr lo, hi;
    dwarf_frame_info(f, &lo, &hi, NULL);
    free(f);
    *row = (symbolize_span){ lo + t->cfi_bias, hi + t->cfi_bias };
    return row->lo <= x && x < row->hi;
}

/* The absolute end of FDE i, whose row around a is row: the next FDE's start where FDE i
 * reaches it (one evaluation, at the byte before: the FDEs do not overlap), else the end of
 * its last row (a gap before the next FDE: code without CFI, named by offset). */
static uint64_t symbolize_fde_end(const symbolize_fdetab *t, const symbolize_module *m,
                                  uint64_t i, symbolize_span row)
{
    uint64_t next = i + 1 < t->eh.count ? util_eh_hdr_start(&t->eh, i + 1) + m->bias
                                        : UINT64_MAX;
    symbolize_span r;
    if (next != UINT64_MAX && next > row.hi && symbolize_fde_row(t, next - 1, &r))
        return next;
    uint64_t x = row.hi;
    for (int n = 0; x < next && n < 4096 && symbolize_fde_row(t, x, &r) && r.hi > x; n++)
        x = r.hi;
    return x < next ? x : next;
}

/* Unbiased start of the FDE covering absolute address a of m, if one does, and the
 * absolute range it covers (*span). */
static bool symbolize_fde_start(const symbolize_fdetab *t, const symbolize_module *m,
                                uint64_t a, uint64_t *start, symbolize_span *span)
{
    if (!t->have_eh || t->cfi == NULL || a < m->bias)
        return false;
    uint64_t i = util_eh_hdr_floor(&t->eh, a - m->bias);
    symbolize_span row;
    if (i == UINT64_MAX || !symbolize_fde_row(t, a, &row))
        return false;
    *start = util_eh_hdr_start(&t->eh, i);
    span->lo = *start + m->bias > row.lo || *start + m->bias > a ? row.lo : *start + m->bias;
    span->hi = symbolize_fde_end(t, m, i, row);
    return true;
}

uint64_t symbolize_fde_start_at(symbolize_module *m, size_t i)
{
    symbolize_fdetab *t = m->fdetab != NULL ? m->fdetab : symbolize_fdetab_build(m);
    if (t == NULL || !t->have_eh || i >= t->eh.count)
        return UINT64_MAX;
    return util_eh_hdr_start(&t->eh, i) + m->bias;
}

const char *symbolize_fdename(symbolizer *s, symbolize_module *m, uint64_t a, bool *by_fde,
                              symbolize_span *span)
{
    *by_fde = false;
    *span = (symbolize_span){ a, a + 1 };
    symbolize_fdetab *t = m->fdetab;
    if (t == NULL && (t = symbolize_fdetab_build(m)) == NULL)
        return NULL;
    if (!t->plt_built && symbolize_in_plt(t, m, a)) {
        t->plt_built = true;
        symbolize_plt_build(s, m, m->main_elf);
    }
    size_t i = symbolize_span_find(t->plt, t->nplt, sizeof *t->plt, a);
    if (i != SIZE_MAX) {
        *span = t->plt[i].span;
        return t->plt[i].name;
    }
    uint64_t start;
    if (!symbolize_fde_start(t, m, a, &start, span))
        return NULL;
    /* The FDE's name is not the PLT stubs' (an FDE may cover a whole .plt). */
    for (size_t k = 0; k < t->nplt_sections; k++) {
        uint64_t lo = t->plt_sections[k].lo + m->bias, hi = t->plt_sections[k].hi + m->bias;
        if (a >= lo && a < hi)
            *span = (symbolize_span){ a, a + 1 };
        else if (a < lo && span->hi > lo)
            span->hi = lo;
    }
    if (t->is_program && start == t->entry)
        return symbolize_intern(s, "_start");
    *by_fde = true;
    char name[512];
    snprintf(name, sizeof name, "%.400s+0x%" PRIx64, m->base, start);
    return symbolize_intern(s, name);
}

void symbolize_fdenames_release(symbolize_module *m)
{
    if (m->fdetab != NULL)
        free(m->fdetab->plt);
    free(m->fdetab);
    m->fdetab = NULL;
}
