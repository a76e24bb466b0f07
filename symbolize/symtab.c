/* symtab.c - ELF function symbols of a module; see symtab.h for the contract. */
#include "symtab.h"

#include <gelf.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

typedef struct symbolize_cand {
    uint64_t start, size;
    uint64_t limit; /* end of the symbol's section, 0 if unknown */
    const char *raw;
    int bind_rank;
} symbolize_cand;

static int symbolize_bind_rank(int bind)
{
    /* Aliases at one address: the exported name is the one users know. */
    switch (bind) {
    case STB_GLOBAL:
        return 3;
    case STB_WEAK:
        return 2;
    default:
        return 1;
    }
}

static size_t symbolize_underscores(const char *s)
{
    size_t n = 0;
    while (s[n] == '_')
        n++;
    return n;
}

/* Sort by address, best alias first: global, sized. Names are not read here: comparing
 * aliases by name touched most of a big string table (node: 7 MB of .strtab resident at
 * exit, for a few hundred names used); ties are left to symbolize_best_name. */
static int symbolize_cand_cmp(const void *pa, const void *pb)
{
    const symbolize_cand *a = pa, *b = pb;
    if (a->start != b->start)
        return a->start < b->start ? -1 : 1;
    if (a->bind_rank != b->bind_rank)
        return b->bind_rank - a->bind_rank;
    if ((a->size != 0) != (b->size != 0))
        return a->size != 0 ? -1 : 1;
    return 0;
}

/* Among equally ranked aliases: fewer leading underscores, shorter, then alphabetical, so
 * the choice never depends on symbol table order. */
static int symbolize_name_cmp(const char *a, const char *b)
{
    size_t ua = symbolize_underscores(a), ub = symbolize_underscores(b);
    if (ua != ub)
        return ua < ub ? -1 : 1;
    size_t la = strlen(a), lb = strlen(b);
    if (la != lb)
        return la < lb ? -1 : 1;
    return strcmp(a, b);
}

typedef struct symbolize_sec_memo {
    Elf *elf;
    GElf_Word shndx;
    Dwarf_Addr bias;
    uint64_t end;
} symbolize_sec_memo;

/* End address of the allocated section holding a symbol: the bound for size-0 symbols.
 * Memoized because symbols come grouped by section. */
static uint64_t symbolize_section_end(symbolize_sec_memo *memo, Elf *elf, GElf_Word shndx,
                                      Dwarf_Addr bias)
{
    if (memo->elf == elf && memo->shndx == shndx && memo->bias == bias)
        return memo->end;
    uint64_t end = 0;
    GElf_Shdr sh;
    Elf_Scn *scn = elf != NULL ? elf_getscn(elf, shndx) : NULL;
    if (scn != NULL && gelf_getshdr(scn, &sh) != NULL && (sh.sh_flags & SHF_ALLOC))
        end = sh.sh_addr + sh.sh_size + bias;
    *memo = (symbolize_sec_memo){ elf, shndx, bias, end };
    return end;
}

static bool symbolize_is_function(const GElf_Sym *sym, GElf_Word shndx, const char *name)
{
    int type = GELF_ST_TYPE(sym->st_info);
    /* st_name, not name[0]: reading every name would touch the whole string table (node:
     * 7 MB of .strtab resident at exit for a few hundred names used). */
    return name != NULL && sym->st_name != 0 && (type == STT_FUNC || type == STT_GNU_IFUNC)
           && shndx != SHN_UNDEF && shndx != (GElf_Word)-1 && shndx != SHN_ABS;
}

/* All function symbols of .symtab (main or separate debug file), else .dynsym, plus
 * MiniDebugInfo when dwfl found it: dwfl_module_getsymtab picks the best table. */
static symbolize_cand *symbolize_collect(symbolize_module *m, size_t *count)
{
    *count = 0;
    int n = dwfl_module_getsymtab(m->dmod);
    if (n <= 0)
        return NULL;
    symbolize_cand *c = malloc((size_t)n * sizeof *c);
    if (c == NULL)
        return NULL;
    symbolize_sec_memo memo = { 0 };
    for (int i = 0; i < n; i++) {
        GElf_Sym sym;
        GElf_Addr addr;
        GElf_Word shndx;
        Elf *elf = NULL;
        Dwarf_Addr bias = 0;
        const char *name = dwfl_module_getsym_info(m->dmod, i, &sym, &addr, &shndx, &elf, &bias);
        if (!symbolize_is_function(&sym, shndx, name))
            continue;
        c[(*count)++] = (symbolize_cand){
            .start = addr,
            .size = sym.st_size,
            .limit = symbolize_section_end(&memo, elf, shndx, bias),
            .raw = name,
            .bind_rank = symbolize_bind_rank(GELF_ST_BIND(sym.st_info)),
        };
    }
    return c;
}

/* The candidates in symbolize_cand_cmp's order. Why not qsort: its comparator calls and
 * 40-byte moves were most of building the table (cc1's 29,000 symbols ~4 ms, node's
 * 184,000 ~10 ms), in the report of every process that sampled the module. The order is one
 * 64-bit key (start, then rank, then sized first: start << 3 | (3 - rank) << 1 | unsized),
 * sorted with its index by bytes (LSD radix; bytes all alike are skipped), then applied in
 * place. Equal keys are aliases only names tell apart: symbolize_group_name sees them
 * together in any order. False (nothing moved) if a start does not fit the key or memory is
 * short: the caller sorts with qsort. */
typedef struct symbolize_sort_key {
    uint64_t key;
    size_t idx;
} symbolize_sort_key;

static bool symbolize_radix_sort(symbolize_cand *c, size_t n)
{
    symbolize_sort_key *k = malloc(n * sizeof *k), *tmp = malloc(n * sizeof *tmp);
    bool ok = k != NULL && tmp != NULL;
    for (size_t i = 0; ok && i < n; i++) {
        ok = c[i].start < (UINT64_C(1) << 61);
        k[i] = (symbolize_sort_key){ c[i].start << 3 | (uint64_t)(3 - c[i].bind_rank) << 1 |
                                         (c[i].size == 0),
                                     i };
    }
    for (unsigned shift = 0; ok && shift < 64; shift += 8) {
        size_t count[256] = { 0 };
        for (size_t i = 0; i < n; i++)
            count[(k[i].key >> shift) & 255]++;
        if (count[(k[0].key >> shift) & 255] == n)
            continue; /* this byte is the same everywhere */
        for (size_t b = 0, at = 0; b < 256; b++) {
            size_t c_b = count[b];
            count[b] = at;
            at += c_b;
        }
        for (size_t i = 0; i < n; i++)
            tmp[count[(k[i].key >> shift) & 255]++] = k[i];
        symbolize_sort_key *t = k;
        k = tmp;
        tmp = t;
    }
    /* c[i] must become the old c[k[i].idx]: follow each cycle once. */
    for (size_t i = 0; ok && i < n; i++) {
        if (k[i].idx == i)
            continue;
        symbolize_cand first = c[i];
        size_t j = i;
        while (k[j].idx != i) {
            size_t from = k[j].idx;
            c[j] = c[from];
            k[j].idx = j;
            j = from;
        }
        c[j] = first;
        k[j].idx = j;
    }
    free(k);
    free(tmp);
    return ok;
}

/* End of a size-0 symbol: the next symbol, but never past its section or the module. */
static uint64_t symbolize_unsized_end(const symbolize_cand *c, size_t i, size_t n,
                                      uint64_t module_end)
{
    uint64_t end = c[i].limit > c[i].start ? c[i].limit : module_end;
    for (size_t j = i + 1; j < n; j++)
        if (c[j].start > c[i].start) {
            if (c[j].start < end)
                end = c[j].start;
            break;
        }
    return end > c[i].start ? end : c[i].start + 1;
}

/* Does c[j] rank as high as c[best] (so only names can tell them apart)? */
static bool symbolize_tied(const symbolize_cand *c, size_t best, size_t j)
{
    return symbolize_cand_cmp(&c[best], &c[j]) == 0;
}

/* The group's raw name: its best candidate's, or NULL with its tied ones noted in ties[]
 * (then chosen on first lookup). False if memory is short. */
static bool symbolize_group_name(symbolize_module *m, const symbolize_cand *c, size_t group,
                                 size_t end, size_t *ties_cap, const char **raw)
{
    size_t tied = 1;
    while (group + tied < end && symbolize_tied(c, group, group + tied))
        tied++;
    *raw = tied == 1 ? c[group].raw : NULL;
    if (tied == 1)
        return true;
    if (m->nties + tied > *ties_cap) {
        size_t cap = (*ties_cap ? *ties_cap * 2 : 256) + tied;
        symbolize_tie *t = realloc(m->ties, cap * sizeof *t);
        if (t == NULL)
            return false;
        m->ties = t;
        *ties_cap = cap;
    }
    for (size_t j = group; j < group + tied; j++)
        m->ties[m->nties++] = (symbolize_tie){ { c[j].start, c[j].start + 1 }, c[j].raw };
    return true;
}

/* The table is written over the candidates it is made from (node: 86,000 symbols, 2.7 MB
 * less at exit): entry k (32 bytes) never reaches a candidate (40 bytes) still to be read,
 * since k <= the group being read and every later read is past it. */
_Static_assert(sizeof(symbolize_sym) <= sizeof(symbolize_cand), "syms fit over the cands");

void symbolize_symtab_build(symbolize_module *m)
{
    size_t n, ties_cap = 0;
    symbolize_cand *c = symbolize_collect(m, &n);
    if (c == NULL || n == 0) {
        free(c);
        return;
    }
    if (!symbolize_radix_sort(c, n))
        qsort(c, n, sizeof *c, symbolize_cand_cmp);
    Dwarf_Addr module_end = 0;
    dwfl_module_info(m->dmod, NULL, NULL, &module_end, NULL, NULL, NULL, NULL);
    symbolize_sym *syms = (symbolize_sym *)(void *)c;
    size_t nsyms = 0;
    for (size_t i = 0; i < n;) {
        size_t group = i;
        uint64_t size = 0;
        for (; i < n && c[i].start == c[group].start; i++)
            if (c[i].size > size)
                size = c[i].size; /* an unsized alias must not shrink a sized one */
        uint64_t start = c[group].start;
        uint64_t end = size ? start + size : symbolize_unsized_end(c, group, n, module_end);
        if (end < start)
            end = UINT64_MAX;
        const char *raw;
        if (!symbolize_group_name(m, c, group, i, &ties_cap, &raw))
            raw = c[group].raw; /* memory short: any of the best aliases */
        syms[nsyms++] = (symbolize_sym){ { start, end }, raw, NULL }; /* c[group] read */
    }
    symbolize_sym *fit = realloc(syms, nsyms * sizeof *syms);
    m->syms = fit != NULL ? fit : syms;
    m->nsyms = nsyms;
}

/* The best name among the tied aliases at start (the last of them is the one found). */
static const char *symbolize_best_name(const symbolize_module *m, uint64_t start)
{
    const char *best = NULL;
    size_t i = symbolize_span_find(m->ties, m->nties, sizeof *m->ties, start);
    for (; i != SIZE_MAX && m->ties[i].at.lo == start; i = i > 0 ? i - 1 : SIZE_MAX)
        if (best == NULL || symbolize_name_cmp(m->ties[i].raw, best) < 0)
            best = m->ties[i].raw;
    return best;
}

symbolize_sym *symbolize_symtab_lookup(symbolize_module *m, uint64_t a)
{
    size_t i = symbolize_span_find(m->syms, m->nsyms, sizeof *m->syms, a);
    if (i == SIZE_MAX)
        return NULL;
    symbolize_sym *sym = &m->syms[i];
    if (sym->raw == NULL)
        sym->raw = symbolize_best_name(m, sym->span.lo);
    /* st_name was only checked non-zero (symbolize_is_function): a name that is "" after
     * all (a corrupt table) names nothing. */
    return sym->raw != NULL && sym->raw[0] != '\0' ? sym : NULL;
}

uint64_t symbolize_symtab_next_start(const symbolize_module *m, uint64_t a)
{
    size_t lo = 0, hi = m->nsyms; /* the first symbol starting after a */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (m->syms[mid].span.lo <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < m->nsyms ? m->syms[lo].span.lo : UINT64_MAX;
}

void symbolize_symtab_release(symbolize_module *m)
{
    free(m->syms);
    free(m->ties);
    m->syms = NULL;
    m->ties = NULL;
    m->nsyms = m->nties = 0;
}
