/* inline.c - DWARF inline chains; see inline.h for the contract. */
#include "inline.h"

#include "array.h"

#include <dwarf.h>
#include <stdlib.h>
#include <string.h>

static bool symbolize_cu_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->cus[idx].key == key;
}

static bool symbolize_fn_push(symbolize_fn_range **v, size_t *n, size_t *cap,
                              const symbolize_fn_range *r)
{
    if (!UTIL_RESERVE(*v, *cap, *n + 1))
        return false;
    (*v)[(*n)++] = *r;
    return true;
}

static bool symbolize_is_scope_holder(int tag)
{
    /* Where compilers may nest out-of-line function definitions. */
    return tag == DW_TAG_namespace || tag == DW_TAG_module || tag == DW_TAG_class_type
           || tag == DW_TAG_structure_type || tag == DW_TAG_union_type;
}

static void symbolize_cu_collect(Dwarf_Die *parent, int depth, symbolize_fn_range **v,
                                 size_t *n, size_t *cap)
{
    Dwarf_Die child;
    if (dwarf_child(parent, &child) != 0)
        return;
    do {
        int tag = dwarf_tag(&child);
        if (tag == DW_TAG_subprogram) {
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while ((off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0)
                if (hi > lo && !symbolize_fn_push(v, n, cap, &(symbolize_fn_range){ { lo, hi }, child }))
                    return;
        } else if (depth < 8 && symbolize_is_scope_holder(tag)) {
            symbolize_cu_collect(&child, depth + 1, v, n, cap);
        }
    } while (dwarf_siblingof(&child, &child) == 0);
}

/* The CU's function ranges, sorted, built on first use: dwarf_getscopes rescans every
 * top-level DIE of the CU per address, which is slow for big C++ CUs. */
static symbolize_cu *symbolize_cu_get(symbolize_module *m, Dwarf_Die *cudie)
{
    const void *key = cudie->addr;
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)key);
    symbolize_slot *hit = symbolize_htab_find(&m->cu_index, h, symbolize_cu_eq, m, key);
    if (hit != NULL)
        return &m->cus[hit->idx1 - 1];
    if (!UTIL_RESERVE(m->cus, m->cus_cap, m->ncus + 1))
        return NULL;
    symbolize_cu *cu = &m->cus[m->ncus];
    *cu = (symbolize_cu){ .key = key };
    size_t cap = 0;
    symbolize_cu_collect(cudie, 0, &cu->fns, &cu->nfns, &cap);
    if (cu->nfns > 1)
        qsort(cu->fns, cu->nfns, sizeof *cu->fns, symbolize_span_cmp);
    if (!symbolize_htab_insert(&m->cu_index, h, (uint32_t)m->ncus)) {
        free(cu->fns);
        return NULL;
    }
    return &m->cus[m->ncus++];
}

static bool symbolize_is_code_scope(int tag)
{
    return tag == DW_TAG_inlined_subroutine || tag == DW_TAG_lexical_block
           || tag == DW_TAG_try_block || tag == DW_TAG_catch_block;
}

static bool symbolize_tree_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->trees[idx].key == key;
}

/* Appends die's children's ranges (kids) to the tree as one sorted run owned by scope. */
static void symbolize_tree_adopt(symbolize_fn_tree *t, uint32_t scope, symbolize_scope_range *kids,
                                 size_t nkids)
{
    if (nkids == 0)
        return;
    if (!UTIL_RESERVE(t->ranges, t->ranges_cap, t->nranges + nkids))
        return; /* the scope just shows no inlined callees */
    qsort(kids, nkids, sizeof *kids, symbolize_span_cmp);
    memcpy(&t->ranges[t->nranges], kids, nkids * sizeof *kids);
    t->scopes[scope].first = t->nranges;
    t->scopes[scope].count = nkids;
    t->nranges += nkids;
}

/* Adds die and, recursively, the code scopes under it; returns its index or UINT32_MAX.
 * Depth is bounded so corrupt DWARF cannot exhaust the stack. */
static uint32_t symbolize_tree_add(symbolize_fn_tree *t, Dwarf_Die *die, int depth)
{
    if (t->nscopes >= UINT32_MAX || !UTIL_RESERVE(t->scopes, t->scopes_cap, t->nscopes + 1))
        return UINT32_MAX;
    uint32_t self = (uint32_t)t->nscopes++;
    t->scopes[self] = (symbolize_scope){ *die, 0, 0, dwarf_tag(die) == DW_TAG_inlined_subroutine };
    symbolize_scope_range *kids = NULL;
    size_t nkids = 0, cap = 0;
    Dwarf_Die child;
    if (depth < 256 && dwarf_child(die, &child) == 0) {
        do {
            if (!symbolize_is_code_scope(dwarf_tag(&child)))
                continue;
            uint32_t idx = symbolize_tree_add(t, &child, depth + 1);
            Dwarf_Addr base, lo, hi;
            ptrdiff_t off = 0;
            while (idx != UINT32_MAX && (off = dwarf_ranges(&child, off, &base, &lo, &hi)) > 0) {
                if (hi <= lo)
                    continue;
                if (!UTIL_RESERVE(kids, cap, nkids + 1))
                    break;
                kids[nkids++] = (symbolize_scope_range){ { lo, hi }, idx };
            }
        } while (dwarf_siblingof(&child, &child) == 0);
    }
    symbolize_tree_adopt(t, self, kids, nkids);
    free(kids);
    return self;
}

static symbolize_fn_tree *symbolize_tree_get(symbolize_module *m, Dwarf_Die *fn)
{
    const void *key = fn->addr;
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)key);
    symbolize_slot *hit = symbolize_htab_find(&m->tree_index, h, symbolize_tree_eq, m, key);
    if (hit != NULL)
        return &m->trees[hit->idx1 - 1];
    if (!UTIL_RESERVE(m->trees, m->trees_cap, m->ntrees + 1))
        return NULL;
    symbolize_fn_tree *t = &m->trees[m->ntrees];
    *t = (symbolize_fn_tree){ .key = key };
    if (symbolize_tree_add(t, fn, 0) == UINT32_MAX
        || !symbolize_htab_insert(&m->tree_index, h, (uint32_t)m->ntrees)) {
        free(t->scopes);
        free(t->ranges);
        return NULL;
    }
    return &m->trees[m->ntrees++];
}

static void symbolize_cu_ranges_build(symbolize_module *m)
{
    m->cu_ranges_built = true;
    Dwarf *dw = dwfl_module_getdwarf(m->dmod, &m->dwbias);
    size_t cap = 0;
    Dwarf_CU *cu = NULL;
    Dwarf_Die cudie;
    while (dw != NULL && dwarf_get_units(dw, cu, &cu, NULL, NULL, &cudie, NULL) == 0) {
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        while ((off = dwarf_ranges(&cudie, off, &base, &lo, &hi)) > 0) {
            if (hi <= lo)
                continue;
            if (!UTIL_RESERVE(m->cu_ranges, cap, m->ncu_ranges + 1))
                break;
            m->cu_ranges[m->ncu_ranges++] = (symbolize_cu_range){ { lo, hi }, cudie };
        }
    }
    if (m->ncu_ranges > 1)
        qsort(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges, symbolize_span_cmp);
}

static bool symbolize_cu_covers(Dwarf_Die *cudie, Dwarf_Addr a)
{
    Dwarf_Addr base, lo, hi;
    ptrdiff_t off = 0;
    while ((off = dwarf_ranges(cudie, off, &base, &lo, &hi)) > 0)
        if (a >= lo && a < hi)
            return true;
    return false;
}

/* The CU holding address a, through .debug_aranges (dwfl) or else our own CU ranges.
 * .debug_aranges may name the wrong unit: in a cgo-built Go program it gave a C unit
 * (gcc_mmap.c) for Go code. A unit that does not cover a is not taken. */
static Dwarf_Die *symbolize_cu_at(symbolize_module *m, uint64_t a, Dwarf_Addr *bias)
{
    Dwarf_Die *cudie = dwfl_module_addrdie(m->dmod, a, bias);
    if (cudie != NULL && symbolize_cu_covers(cudie, a - *bias))
        return cudie;
    if (!m->cu_ranges_built)
        symbolize_cu_ranges_build(m);
    size_t i = symbolize_span_find(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges,
                                   a - m->dwbias);
    if (i == SIZE_MAX)
        return NULL;
    *bias = m->dwbias;
    return &m->cu_ranges[i].cudie;
}

/* Narrows [lo, hi) around a to exclude the scope's child ranges that do not hold a (an
 * address in one would have a longer chain) and to the one that does, if any. */
static void symbolize_scope_bounds(const symbolize_scope_range *r, size_t n, uint64_t a,
                                   symbolize_span *b)
{
    for (size_t i = 0; i < n; i++) {
        if (r[i].span.hi <= a && r[i].span.hi > b->lo)
            b->lo = r[i].span.hi;
        else if (r[i].span.lo > a && r[i].span.lo < b->hi)
            b->hi = r[i].span.lo;
        else if (r[i].span.lo <= a && a < r[i].span.hi) {
            b->lo = r[i].span.lo > b->lo ? r[i].span.lo : b->lo;
            b->hi = r[i].span.hi < b->hi ? r[i].span.hi : b->hi;
        }
    }
}

/* Narrows *b (holding a) to exclude every span of v[0, n) (any order) that does not hold
 * a; false if one holds a. */
static bool symbolize_gap_bounds(const void *v, size_t n, size_t stride, uint64_t a,
                                 symbolize_span *b)
{
    for (size_t i = 0; i < n; i++) {
        const symbolize_span *r = (const symbolize_span *)((const char *)v + i * stride);
        if (r->lo <= a && a < r->hi)
            return false;
        if (r->hi <= a && r->hi > b->lo)
            b->lo = r->hi;
        else if (r->lo > a && r->lo < b->hi)
            b->hi = r->lo;
    }
    return true;
}

/* No function's DWARF holds a (unbiased): narrows *same to the addresses around a that no
 * function's DWARF holds either (the CU range holding a, between its functions; or between
 * CUs), so that every address of an assembly function (memcpy, a syscall wrapper) has one
 * answer, cacheable as one range. Where that is not sure, a alone. */
static void symbolize_no_chain(symbolize_module *m, Dwarf_Die *cudie, const symbolize_cu *cu,
                               uint64_t a, Dwarf_Addr bias, symbolize_span *same)
{
    symbolize_span b = { 0, UINT64_MAX };
    bool ok;
    if (cudie == NULL) { /* symbolize_cu_at built the CU ranges before it said none */
        ok = m->cu_ranges_built
             && symbolize_gap_bounds(m->cu_ranges, m->ncu_ranges, sizeof *m->cu_ranges, a, &b);
    } else {
        Dwarf_Addr base, lo, hi;
        ptrdiff_t off = 0;
        ok = false;
        while (!ok && (off = dwarf_ranges(cudie, off, &base, &lo, &hi)) > 0)
            if (a >= lo && a < hi) {
                b = (symbolize_span){ lo, hi };
                ok = true;
            }
        ok = ok && cu != NULL && symbolize_gap_bounds(cu->fns, cu->nfns, sizeof *cu->fns, a, &b);
    }
    if (!ok || b.lo > a || b.hi <= a)
        b = (symbolize_span){ a, a + 1 };
    uint64_t lo = b.lo + bias < b.lo ? UINT64_MAX : b.lo + bias;
    uint64_t hi = b.hi + bias < b.hi ? UINT64_MAX : b.hi + bias;
    same->lo = lo > same->lo ? lo : same->lo;
    same->hi = hi < same->hi ? hi : same->hi;
}

/* DIEs for address a: the containing subprogram, then each inlined_subroutine on the way
 * down, outermost first. Returns how many were written (0 without DWARF). */
size_t symbolize_inline_chain(symbolize_module *m, uint64_t a, Dwarf_Die *out, size_t cap,
                              symbolize_span *same)
{
    Dwarf_Addr bias = 0;
    Dwarf_Die *cudie = cap > 0 ? symbolize_cu_at(m, a, &bias) : NULL;
    symbolize_cu *cu = cudie != NULL ? symbolize_cu_get(m, cudie) : NULL;
    if (cap == 0 || (cudie != NULL && cu == NULL)) {
        *same = (symbolize_span){ a, a + 1 };
        return 0;
    }
    if (cu == NULL) {
        symbolize_no_chain(m, NULL, NULL, a - m->dwbias, m->dwbias, same);
        return 0;
    }
    a -= bias;
    size_t i = symbolize_span_find(cu->fns, cu->nfns, sizeof *cu->fns, a);
    if (i == SIZE_MAX) {
        symbolize_no_chain(m, cudie, cu, a, bias, same);
        return 0;
    }
    symbolize_fn_tree *t = symbolize_tree_get(m, &cu->fns[i].die);
    if (t == NULL) {
        *same = (symbolize_span){ a + bias, a + bias + 1 };
        return 0;
    }
    symbolize_span b = cu->fns[i].span;
    if (i + 1 < cu->nfns && cu->fns[i + 1].span.lo < b.hi)
        b.hi = cu->fns[i + 1].span.lo > a ? cu->fns[i + 1].span.lo : a + 1;
    size_t n = 0;
    out[n++] = t->scopes[0].die;
    for (uint32_t scope = 0;;) {
        const symbolize_scope *sc = &t->scopes[scope];
        if (sc->count == 0)
            break;
        symbolize_scope_bounds(&t->ranges[sc->first], sc->count, a, &b);
        size_t k = symbolize_span_find(&t->ranges[sc->first], sc->count, sizeof *t->ranges, a);
        /* Children always come after their parent, so this descent ends. */
        if (k == SIZE_MAX || t->ranges[sc->first + k].scope <= scope)
            break;
        scope = t->ranges[sc->first + k].scope;
        if (t->scopes[scope].inlined && n < cap)
            out[n++] = t->scopes[scope].die;
    }
    if (b.lo > a || b.hi <= a) /* overlapping DWARF ranges: only a itself is sure */
        b = (symbolize_span){ a, a + 1 };
    same->lo = b.lo + bias > same->lo ? b.lo + bias : same->lo;
    same->hi = b.hi + bias < same->hi ? b.hi + bias : same->hi;
    return n;
}

static bool symbolize_alias_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolize_module *m = ctx;
    return m->aliases[idx].raw == key;
}

static const char *symbolize_display_memo(symbolizer *s, symbolize_module *m, const char *raw)
{
    uint32_t h = symbolize_hash64((uint64_t)(uintptr_t)raw);
    symbolize_slot *hit = symbolize_htab_find(&m->alias_index, h, symbolize_alias_eq, m, raw);
    if (hit != NULL)
        return m->aliases[hit->idx1 - 1].name;
    const char *name = symbolize_display_name(s, raw);
    if (name == NULL || !UTIL_RESERVE(m->aliases, m->aliases_cap, m->naliases + 1))
        return name;
    if (symbolize_htab_insert(&m->alias_index, h, (uint32_t)m->naliases))
        m->aliases[m->naliases++] = (symbolize_alias){ raw, name };
    return name;
}

/* Name of a subprogram or inlined call: the linkage name (demangled, fully qualified for
 * C++) through abstract_origin/specification, else the plain name. */
const char *symbolize_inline_name(symbolizer *s, symbolize_module *m, Dwarf_Die *die)
{
    Dwarf_Attribute attr;
    const char *name = NULL;
    if (dwarf_attr_integrate(die, DW_AT_linkage_name, &attr) != NULL
        || dwarf_attr_integrate(die, DW_AT_MIPS_linkage_name, &attr) != NULL)
        name = dwarf_formstring(&attr);
    if (name == NULL && dwarf_attr_integrate(die, DW_AT_name, &attr) != NULL)
        name = dwarf_formstring(&attr);
    return name != NULL && name[0] != '\0' ? symbolize_display_memo(s, m, name) : NULL;
}

/* path without "." components, empty ones and, in an absolute path, "dir/.." pairs
 * ("/src/build/../demo.c" is "/src/demo.c"), in place: what users and `go tool pprof
 * -list` look for. A relative path keeps its leading ".." (nothing to resolve them by). */
static void symbolize_clean_path(char *path)
{
    char *root = path + (path[0] == '/'), *out = root;
    const char *in = root;
    size_t kept = 0; /* components written that a ".." may remove */
    for (bool last = false; !last;) {
        const char *end = strchr(in, '/');
        size_t len = end ? (size_t)(end - in) : strlen(in);
        last = end == NULL; /* decided before out, never ahead of in, writes over it */
        bool dotdot = len == 2 && in[0] == '.' && in[1] == '.';
        if (len == 0 || (len == 1 && in[0] == '.')) {
            /* nothing */
        } else if (dotdot && kept > 0) {
            while (out > root && out[-1] != '/')
                out--; /* to the start of the last component */
            if (out > root)
                out--; /* and the '/' before it */
            kept--;
        } else {
            if (out > root)
                *out++ = '/';
            memmove(out, in, len);
            out += len;
            kept += !dotdot;
        }
        in += len + !last;
    }
    *out = '\0';
}

/* The line table's file and line at the function's (or the inlined call's) entry: where
 * DWARF has no decl_file (Go's), the function's first line, or its body's first. */
static const char *symbolize_entry_source(Dwarf_Die *die, Dwarf_Die *cudie, int *line)
{
    Dwarf_Addr lo;
    Dwarf_Line *l = dwarf_entrypc(die, &lo) == 0 ? dwarf_getsrc_die(cudie, lo) : NULL;
    if (l == NULL || dwarf_lineno(l, line) != 0)
        return NULL;
    return dwarf_linesrc(l, NULL, NULL);
}

bool symbolize_inline_source(symbolizer *s, Dwarf_Die *die, const char **file,
                             unsigned *line)
{
    *file = NULL;
    *line = 0;
    Dwarf_Die cudie;
    if (dwarf_diecu(die, &cudie, NULL, NULL) == NULL)
        return false;
    int n = 0;
    const char *f = dwarf_decl_file(die);
    if (f == NULL || dwarf_decl_line(die, &n) != 0)
        f = symbolize_entry_source(die, &cudie, &n);
    if (f == NULL || f[0] == '\0')
        return false;
    Dwarf_Attribute attr;
    const char *dir = f[0] != '/' && dwarf_attr(&cudie, DW_AT_comp_dir, &attr) != NULL
                          ? dwarf_formstring(&attr) : NULL;
    bool join = dir != NULL && dir[0] == '/';
    size_t dl = join ? strlen(dir) : 0, fl = strlen(f);
    char *path = malloc(dl + fl + 2);
    if (path == NULL)
        return false;
    if (join) {
        memcpy(path, dir, dl);
        path[dl++] = '/';
    }
    memcpy(path + dl, f, fl + 1);
    symbolize_clean_path(path);
    *file = path[0] != '\0' ? symbolize_intern(s, path) : NULL;
    free(path);
    *line = n > 0 ? (unsigned)n : 0;
    return *file != NULL;
}

void symbolize_inline_release(symbolize_module *m)
{
    for (size_t i = 0; i < m->ncus; i++)
        free(m->cus[i].fns);
    free(m->cus);
    free(m->cu_index.slots);
    free(m->cu_ranges);
    for (size_t i = 0; i < m->ntrees; i++) {
        free(m->trees[i].scopes);
        free(m->trees[i].ranges);
    }
    free(m->trees);
    free(m->tree_index.slots);
    free(m->aliases);
    free(m->alias_index.slots);
    m->cus = NULL;
    m->ncus = m->cus_cap = 0;
    m->cu_index = (symbolize_htab){ 0 };
    m->cu_ranges = NULL;
    m->ncu_ranges = 0;
    m->cu_ranges_built = false;
    m->trees = NULL;
    m->ntrees = m->trees_cap = 0;
    m->tree_index = (symbolize_htab){ 0 };
    m->aliases = NULL;
    m->naliases = m->aliases_cap = 0;
    m->alias_index = (symbolize_htab){ 0 };
}
