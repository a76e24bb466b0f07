/* symbolize.c - addresses to names with elfutils; see symbolize.h for the contract.
 *
 * The core: the module list, resolving an address to its frames, the per-address cache,
 * interned names and the public functions. The parts it calls, one file each (their
 * shared types are in symbolize_int.h):
 *   modopen.c    a module's file opened and reported to a Dwfl of its own
 *   index.c      hash index and sorted-span search, used by every part
 *   demangle.c   C++, Rust (legacy and v0) and D names through libiberty's cplus_demangle
 *   debugfile.c  debug files on disk (build-id path, .gnu_debuglink with CRC or build-id)
 *   symtab.c     ELF symbol tables (sorted once, binary search)
 *   inline.c     DWARF inline chains (per-CU sorted function ranges, then a short descent)
 *   fdenames.c   code no symbol covers: PLT stubs, _start, FDE starts
 *   gonames.c    a stripped Go program's functions, by Go's own table
 *   diskcache.c  frames resolved by earlier processes, per build-id, on disk
 *
 * Nothing here may reach debuginfod by itself: dwfl_standard_find_debuginfo and
 * dwfl_build_id_find_elf dlopen libdebuginfod, which pulls in libcurl and OpenSSL and
 * crashed inside node at exit. Our Dwfl_Callbacks read files on this machine, and call
 * the fetch function only where the caller (the flameprof command) installed one. */
#include "symbolize_int.h"

#include "demangle.h"
#include "fdenames.h"
#include "gonames.h"
#include "inline.h"
#include "modopen.h"
#include "symtab.h"

#include "array.h"

#include <elfutils/libdwelf.h>
#include <errno.h>
#include <gelf.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Inline depth kept per address; deeper chains are cut at their outermost 64 levels. */
#define SYMBOLIZE_MAX_FRAMES 64

static const char symbolize_unknown[] = "[unknown]";

/* ------------------------------------------------------------------ interned names */

static char *symbolize_arena_alloc(symbolize_chunk **head, size_t n)
{
    symbolize_chunk *c = *head;
    if (c == NULL || c->cap - c->used < n) {
        size_t cap = n > 60000 ? n : 60000;
        c = malloc(sizeof *c + cap);
        if (c == NULL)
            return NULL;
        c->used = 0;
        c->cap = cap;
        c->next = *head;
        *head = c;
    }
    char *p = c->data + c->used;
    c->used += n;
    return p;
}

static void symbolize_arena_free(symbolize_chunk *c)
{
    while (c != NULL) {
        symbolize_chunk *next = c->next;
        free(c);
        c = next;
    }
}

typedef struct symbolize_strkey {
    const char *s;
    size_t len;
} symbolize_strkey;

static bool symbolize_name_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    const symbolize_strkey *k = key;
    const char *have = s->names[idx];
    return strncmp(have, k->s, k->len) == 0 && have[k->len] == '\0';
}

/* Returns a stable copy of str[0..len), shared by every caller asking for the same text. */
static const char *symbolize_intern_len(symbolizer *s, const char *str, size_t len)
{
    symbolize_strkey key = { str, len };
    uint32_t h = symbolize_hash_str(str, len);
    symbolize_slot *hit = symbolize_htab_find(&s->name_index, h, symbolize_name_eq, s, &key);
    if (hit != NULL)
        return s->names[hit->idx1 - 1];
    if (!UTIL_RESERVE(s->names, s->names_cap, s->nnames + 1))
        return NULL;
    char *copy = symbolize_arena_alloc(&s->arena, len + 1);
    if (copy == NULL)
        return NULL;
    memcpy(copy, str, len);
    copy[len] = '\0';
    if (!symbolize_htab_insert(&s->name_index, h, (uint32_t)s->nnames))
        return copy; /* still valid, just not shared */
    s->names[s->nnames++] = copy;
    return copy;
}

const char *symbolize_intern(symbolizer *s, const char *str)
{
    return symbolize_intern_len(s, str, strlen(str));
}
const char *symbolize_display_name(symbolizer *s, const char *raw)
{
    char *d = symbolize_demangle(raw);
    if (d == NULL)
        return symbolize_intern(s, raw);
    const char *name = symbolize_intern(s, d);
    free(d);
    return name;
}

/* ------------------------------------------------------------------ resolving */

static const char *symbolize_offset_name(symbolizer *s, const symbolize_module *m, uint64_t pc)
{
    if (pc < m->bias)
        return symbolize_unknown;
    size_t len = strlen(m->base) + sizeof "+0x" + 16;
    char *buf = malloc(len);
    if (buf == NULL)
        return symbolize_unknown;
    snprintf(buf, len, "%s+0x%" PRIx64, m->base, pc - m->bias);
    const char *name = symbolize_intern(s, buf);
    free(buf);
    return name != NULL ? name : symbolize_unknown;
}

static const char *symbolize_sym_name(symbolizer *s, symbolize_sym *sym)
{
    if (sym->name != NULL)
        return sym->name;
    /* .symtab keeps symbol versions ("fsetpos@@GLIBC_2.2.5"); the version is not part of
     * the function's name and would split one function into several frames. */
    const char *at = strchr(sym->raw + 1, '@');
    if (at == NULL) {
        sym->name = symbolize_display_name(s, sym->raw);
        return sym->name;
    }
    char *bare = strndup(sym->raw, (size_t)(at - sym->raw));
    if (bare != NULL)
        sym->name = symbolize_display_name(s, bare);
    free(bare);
    return sym->name;
}

/* Code no symbol or DWARF names: a PLT stub, _start, an FDE start, else the offset; *span
 * the absolute range with that name. Marks the module as one debuginfod could name, if it
 * has a build-id. */
static const char *symbolize_unnamed(symbolizer *s, symbolize_module *m, uint64_t a,
                                     uint64_t pc, symbolize_naming *naming, symbolize_span *span)
{
    bool by_fde = false;
    const char *name = symbolize_goname(s, m, a, span);
    if (name) {
        *naming = SYMBOLIZE_NAMED;
        return name;
    }
    name = symbolize_fdename(s, m, a, &by_fde, span);
    *naming = name == NULL ? SYMBOLIZE_BY_OFFSET : by_fde ? SYMBOLIZE_BY_FDE : SYMBOLIZE_NAMED;
    if (*naming != SYMBOLIZE_NAMED && !m->unnamed) {
        const void *id;
        m->unnamed = m->main_elf != NULL && dwelf_elf_gnu_build_id(m->main_elf, &id) > 0;
    }
    return name != NULL ? name : symbolize_offset_name(s, m, pc);
}

/* Frames for pc from the module's disk cache, opened on the module's first address (before
 * its files are loaded: a hit must cost no DWARF); 0 on a miss. */
static size_t symbolize_from_disk(symbolizer *s, symbolize_module *m, uint64_t a,
                                  uint64_t pc, symbolize_frame *out)
{
    if (!m->disk_tried) {
        m->disk_tried = true;
        if (m->state == SYMBOLIZE_UNLOADED && m->image == NULL)
            m->disk = symbolize_diskcache_open(m->path, m->want_id, m->want_id_len,
                                               m->fetch == NULL);
    }
    symbolize_diskframe f[SYMBOLIZE_MAX_FRAMES];
    symbolize_naming naming = SYMBOLIZE_NAMED;
    size_t n = symbolize_diskcache_get(m->disk, a - m->bias, f, SYMBOLIZE_MAX_FRAMES, &naming);
    m->unnamed |= n > 0 && naming != SYMBOLIZE_NAMED;
    if (n > 0 && naming == SYMBOLIZE_BY_OFFSET) /* named by the pc sampled, as uncached */
        f[0].name = symbolize_offset_name(s, m, pc);
    for (size_t i = 0; i < n; i++) {
        out[i] = (symbolize_frame){ symbolize_intern(s, f[i].name), f[i].inlined,
                                    f[i].file != NULL ? symbolize_intern(s, f[i].file) : NULL,
                                    f[i].line };
        if (out[i].name == NULL || (f[i].file != NULL && out[i].file == NULL))
            return 0;
    }
    return n;
}

/* Whether frames resolved in m go to the disk cache: where its DWARF was found (its debug
 * file's identity is checked by later processes), and where there is none and no debug file
 * to be found (named by its symbol tables and FDEs alone: cc1's 29,000 dynamic symbols were
 * collected and sorted again in every compiler process, ~3 ms each; later processes check
 * that no debug file appeared since). Not when debuginfod may be asked (a fetch function
 * is set): it could name the module better. */
static bool symbolize_disk_wanted(symbolize_module *m)
{
    if (m->disk == NULL || m->dmod == NULL || m->fetched_path != NULL)
        return false;
    Dwarf_Addr bias;
    Dwarf *dw = dwfl_module_getdwarf(m->dmod, &bias);
    if (dw == NULL) {
        if (m->fetch != NULL)
            return false;
        symbolize_diskcache_set_symbols_only(m->disk);
        return true;
    }
    const char *debugfile = NULL;
    dwfl_module_info(m->dmod, NULL, NULL, NULL, NULL, NULL, NULL, &debugfile);
    if (debugfile == NULL && dwarf_getelf(dw) != m->main_elf)
        return false; /* a separate file we cannot name cannot be checked later */
    symbolize_diskcache_set_debugfile(m->disk, debugfile);
    return true;
}

/* Hands frames just resolved for the absolute range same to the disk cache, with how the
 * outer one was named. An offset name is the sampled pc's own (a return address's, not the
 * call's): only that it is one is kept (a padding byte V8's interpreter frames return to
 * made every node process load node's symbol table again). */
static void symbolize_to_disk(symbolize_module *m, symbolize_span same, const symbolize_frame *f,
                              size_t n, symbolize_naming naming)
{
    if (same.lo < m->bias || same.lo >= same.hi)
        return;
    symbolize_diskframe d[SYMBOLIZE_MAX_FRAMES];
    for (size_t i = 0; i < n; i++)
        d[i] = (symbolize_diskframe){ f[i].name, f[i].inlined, f[i].file, f[i].line };
    if (naming == SYMBOLIZE_BY_OFFSET)
        d[0].name = "+"; /* a placeholder: the reader names it by its own pc */
    symbolize_diskcache_put(m->disk, same.lo - m->bias, same.hi - m->bias, d, n, naming);
}

/* Frames for address a (pc as sampled) of a loaded module, outermost first; at least one.
 * *same is set to a range around a where every address has these frames, *naming to how
 * the outer frame was named. */
static size_t symbolize_resolve_loaded(symbolizer *s, symbolize_module *m, uint64_t a,
                                       uint64_t pc, symbolize_frame *out, symbolize_span *same,
                                       symbolize_naming *naming)
{
    symbolize_sym *sym = symbolize_symtab_lookup(m, a);
    /* The symbol's span up to the next symbol, narrowed by the inline chain's scopes. */
    *same = (symbolize_span){ a, a + 1 };
    if (sym != NULL) {
        *same = sym->span;
        if (sym + 1 < m->syms + m->nsyms && sym[1].span.lo < same->hi)
            same->hi = sym[1].span.lo > a ? sym[1].span.lo : a + 1;
    }
    Dwarf_Die chain[SYMBOLIZE_MAX_FRAMES];
    /* A module whose every function is in the disk cache: an address no symbol holds (a
     * PLT stub) is named without opening the DWARF. */
    bool dwarf = sym != NULL || !symbolize_diskcache_complete(m->disk);
    size_t nchain = dwarf ? symbolize_inline_chain(m, a, chain, SYMBOLIZE_MAX_FRAMES, same) : 0;
    if (same->lo > a || same->hi <= a)
        *same = (symbolize_span){ a, a + 1 };
    const char *outer = sym != NULL ? symbolize_sym_name(s, sym) : NULL;
    if (outer == NULL && nchain > 0)
        outer = symbolize_inline_name(s, m, &chain[0]);
    *naming = SYMBOLIZE_NAMED;
    if (outer == NULL) {
        symbolize_span span;
        outer = symbolize_unnamed(s, m, a, pc, naming, &span);
        /* One name for the stub, the FDE from a on, up to the next symbol (which names its
         * own addresses). */
        if (nchain == 0 && span.lo <= a && a < span.hi) {
            uint64_t next_sym = symbolize_symtab_next_start(m, a);
            *same = (symbolize_span){ a, span.hi < next_sym ? span.hi : next_sym };
        }
    }
    size_t n = 0;
    out[n] = (symbolize_frame){ outer, false, NULL, 0 };
    if (nchain > 0)
        symbolize_inline_source(s, &chain[0], &out[n].file, &out[n].line);
    n++;
    for (size_t i = 1; i < nchain; i++) {
        const char *name = symbolize_inline_name(s, m, &chain[i]);
        if (name == NULL)
            continue;
        out[n] = (symbolize_frame){ name, true, NULL, 0 };
        symbolize_inline_source(s, &chain[i], &out[n].file, &out[n].line);
        n++;
    }
    return n;
}

/* After a miss the DWARF is open anyway (the caller checked): every address of the
 * function around a (done: one already put) goes to the disk cache, so later processes hit wherever in it they sample. Bounded: a function
 * of more than SYMBOLIZE_FILL_MAX distinct inline chains is cached only in part. */
#define SYMBOLIZE_FILL_MAX 2048

static void symbolize_fill_function(symbolizer *s, symbolize_module *m, uint64_t a,
                                    uint64_t done)
{
    symbolize_sym *sym = symbolize_symtab_lookup(m, a);
    if (sym == NULL || sym->span.lo < m->bias
        || !symbolize_diskcache_first_fill(m->disk, sym->span.lo - m->bias))
        return;
    symbolize_frame f[SYMBOLIZE_MAX_FRAMES];
    symbolize_span same;
    symbolize_naming naming;
    uint64_t x = sym->span.lo;
    int single = 0; /* one-byte ranges: no DWARF scope here (assembly), stop soon */
    for (int i = 0; i < SYMBOLIZE_FILL_MAX && x < sym->span.hi && single < 4; i++) {
        if (x == done) { /* already put by the caller */
            x++;
            continue;
        }
        size_t n = symbolize_resolve_loaded(s, m, x, x, f, &same, &naming);
        if (same.hi <= x || same.lo > x)
            break;
        single += same.hi == x + 1;
        symbolize_to_disk(m, same, f, n, naming);
        x = same.hi;
    }
}

/* A miss in a module an earlier process already resolved in (its cache file exists) but
 * that does not hold it all: the module is one processes keep sampling, and its DWARF is
 * open now (the cost of a miss: libc6-dbg's libc inflates ~10 MB of zlib, 40-50 ms), so
 * every function of its symbol table goes to the disk cache (libc: ~0.1-0.3 s once,
 * 1.3 MB), and no later process opens this DWARF again, wherever it samples (Chromium's
 * processes each sampled a few libc functions no earlier process had: each opened it). A
 * program run once pays only its own functions. */
#define SYMBOLIZE_FILL_MODULE_MAX 150000 /* symbols (node's 110,000); a bigger module
                                          * (Chromium's) fills per function */

#define SYMBOLIZE_FILL_FDES_MAX 100000 /* cc1's: 45,201 */

/* Code no symbol covers, an entry per FDE (a stripped program's static functions) or per
 * part of one between symbols, per PLT stub. Bounded per FDE: a part of one byte each is
 * code the FDE does not name as a whole. */
static bool symbolize_fill_fdes(symbolizer *s, symbolize_module *m)
{
    symbolize_frame f[SYMBOLIZE_MAX_FRAMES];
    symbolize_span same;
    symbolize_naming naming;
    uint64_t x = symbolize_fde_start_at(m, 0);
    for (size_t i = 1; x != UINT64_MAX; i++) {
        if (i > SYMBOLIZE_FILL_FDES_MAX)
            return false;
        uint64_t next = symbolize_fde_start_at(m, i);
        for (int part = 0; part < 1024 && x < next; part++) {
            symbolize_sym *sym = symbolize_symtab_lookup(m, x);
            if (sym != NULL) {
                x = sym->span.hi > x ? sym->span.hi : x + 1;
                continue;
            }
            size_t n = symbolize_resolve_loaded(s, m, x, x, f, &same, &naming);
            if (naming == SYMBOLIZE_BY_OFFSET || same.lo != x || same.hi <= x)
                break; /* a gap without CFI up to the next FDE */
            symbolize_to_disk(m, same, f, n, naming);
            x = same.hi;
        }
        x = next;
    }
    return true;
}

static void symbolize_fill_module(symbolizer *s, symbolize_module *m)
{
    if (m->disk_filled || m->nsyms > SYMBOLIZE_FILL_MODULE_MAX
        || !symbolize_diskcache_loaded(m->disk) || symbolize_diskcache_complete(m->disk))
        return;
    m->disk_filled = true;
    for (size_t i = 0; i < m->nsyms; i++)
        symbolize_fill_function(s, m, m->syms[i].span.lo, UINT64_MAX);
    if (symbolize_fill_fdes(s, m))
        symbolize_diskcache_set_complete(m->disk);
}

/* All frames for one address, outermost first; at least one. */
static size_t symbolize_resolve(symbolizer *s, symbolize_module *m, uint64_t pc,
                                bool is_return, symbolize_frame *out)
{
    /* A return address points after the call; the call itself may be the last
     * instruction of a function or of an inlined block. */
    uint64_t a = is_return && pc > 0 ? pc - 1 : pc;
    size_t cached = a >= m->bias ? symbolize_from_disk(s, m, a, pc, out) : 0;
    if (cached > 0)
        return cached;
    if (m->state == SYMBOLIZE_UNLOADED)
        symbolize_module_load(m);
    if (m->state != SYMBOLIZE_READY) {
        out[0] = (symbolize_frame){ symbolize_offset_name(s, m, pc), false, NULL, 0 };
        return 1;
    }
    symbolize_span same;
    symbolize_naming naming;
    size_t n = symbolize_resolve_loaded(s, m, a, pc, out, &same, &naming);
    if (symbolize_disk_wanted(m)) {
        symbolize_to_disk(m, same, out, n, naming);
        symbolize_fill_function(s, m, a, a);
        symbolize_fill_module(s, m);
    }
    return n;
}

/* ------------------------------------------------------------------ cache */

typedef struct symbolize_cache_key {
    uint64_t pc;
    uint32_t module;
    bool is_return;
} symbolize_cache_key;

static bool symbolize_cache_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    const symbolize_cache_key *k = key;
    const symbolize_cached *c = &s->cached[idx];
    return c->pc == k->pc && c->module == k->module && c->is_return == k->is_return;
}

static uint32_t symbolize_cache_hash(const symbolize_cache_key *k)
{
    return symbolize_hash64(k->pc ^ ((uint64_t)k->module << 40) ^ ((uint64_t)k->is_return << 63));
}

static const symbolize_cached *symbolize_cache_find(const symbolizer *s,
                                                    const symbolize_cache_key *k)
{
    symbolize_slot *hit = symbolize_htab_find(&s->cache_index, symbolize_cache_hash(k),
                                              symbolize_cache_eq, s, k);
    return hit != NULL ? &s->cached[hit->idx1 - 1] : NULL;
}

/* Remembers frames for k; on allocation failure the result is simply not cached. */
static void symbolize_cache_store(symbolizer *s, const symbolize_cache_key *k,
                                  const symbolize_frame *f, size_t n)
{
    if (!UTIL_RESERVE(s->cached, s->cached_cap, s->ncached + 1)
        || !UTIL_RESERVE(s->frames, s->frames_cap, s->nframes + n))
        return;
    if (!symbolize_htab_insert(&s->cache_index, symbolize_cache_hash(k), (uint32_t)s->ncached))
        return;
    memcpy(&s->frames[s->nframes], f, n * sizeof *f);
    s->cached[s->ncached++] = (symbolize_cached){ k->pc, k->module, (uint32_t)s->nframes,
                                                  (uint16_t)n, k->is_return };
    s->nframes += n;
}

/* ------------------------------------------------------------------ public API */

static bool symbolize_module_eq(const void *ctx, uint32_t idx, const void *key)
{
    const symbolizer *s = ctx;
    return s->modules[idx]->id == *(const int *)key;
}

static uint32_t symbolize_find_module(const symbolizer *s, int id)
{
    symbolize_slot *hit = symbolize_htab_find(&s->module_index, symbolize_hash64((uint64_t)id),
                                              symbolize_module_eq, s, &id);
    return hit != NULL ? hit->idx1 - 1 : UINT32_MAX;
}

symbolizer *symbolize_new(void)
{
    /* libelf refuses every call until a version is set; harmless to repeat. */
    if (elf_version(EV_CURRENT) == EV_NONE)
        return NULL;
    return calloc(1, sizeof(symbolizer));
}

/* Everything but the registration itself; names already handed out live in the arena. */
static void symbolize_module_release(symbolize_module *m)
{
    symbolize_diskcache_close(m->disk);
    symbolize_fdenames_release(m);
    symbolize_module_close(m);
    symbolize_inline_release(m);
    symbolize_symtab_release(m);
    free(m->image);
    free(m->fetched_path);
    *m = (symbolize_module){ .id = m->id, .path = m->path, .base = m->base, .bias = m->bias,
                             .state = SYMBOLIZE_BROKEN, .pending_fd = -1,
                             .fetch = m->fetch, .fetch_ctx = m->fetch_ctx,
                             .changed = m->changed };
}

static void symbolize_module_free(symbolize_module *m)
{
    symbolize_module_release(m);
    free(m->path);
    free(m);
}

void symbolize_free(symbolizer *s)
{
    if (s == NULL)
        return;
    for (size_t i = 0; i < s->nmodules; i++)
        symbolize_module_free(s->modules[i]);
    free(s->modules);
    free(s->module_index.slots);
    symbolize_arena_free(s->arena);
    free(s->names);
    free(s->name_index.slots);
    free(s->cached);
    free(s->cache_index.slots);
    free(s->frames);
    free(s);
}

static symbolize_module *symbolize_module_new(int id, const char *path, uint64_t bias,
                                              const void *image, size_t image_size)
{
    symbolize_module *m = calloc(1, sizeof *m);
    if (m == NULL)
        return NULL;
    *m = (symbolize_module){ .id = id, .bias = bias, .pending_fd = -1, .base = symbolize_unknown };
    if (path != NULL && (m->path = strdup(path)) == NULL)
        goto fail;
    if (m->path != NULL && m->path[0] != '\0') {
        const char *slash = strrchr(m->path, '/');
        m->base = slash != NULL && slash[1] != '\0' ? slash + 1 : m->path;
    }
    /* Our own copy of an in-memory image: the caller's mapping may be read-only or go
     * away, and libelf is then free to read it whenever dwfl asks. */
    if (image != NULL && image_size > 0) {
        if ((m->image = malloc(image_size)) == NULL)
            goto fail;
        memcpy(m->image, image, image_size);
        m->image_size = image_size;
    } else if (image != NULL) {
        m->state = SYMBOLIZE_BROKEN;
    }
    return m;
fail:
    free(m->path);
    free(m);
    return NULL;
}

int symbolize_add_module(symbolizer *s, int id, const char *path, uint64_t bias,
                         const void *image, size_t image_size)
{
    if (s == NULL || id < 0 || s->nmodules >= UINT32_MAX - 1) {
        errno = EINVAL;
        return -1;
    }
    if (!UTIL_RESERVE(s->modules, s->modules_cap, s->nmodules + 1))
        return -1;
    symbolize_module *m = symbolize_module_new(id, path, bias, image, image_size);
    if (m == NULL)
        return -1;
    m->fetch = s->fetch;
    m->fetch_ctx = s->fetch_ctx;
    uint32_t idx = (uint32_t)s->nmodules;
    uint32_t old = symbolize_find_module(s, id);
    if (old != UINT32_MAX) {
        /* Re-registration wins. Cache entries of the old one stay keyed by its index and
         * are never reached again, so its files and tables can go now. */
        symbolize_slot *slot = symbolize_htab_find(&s->module_index, symbolize_hash64((uint64_t)id),
                                                   symbolize_module_eq, s, &id);
        slot->idx1 = idx + 1;
        symbolize_module_release(s->modules[old]);
    } else if (!symbolize_htab_insert(&s->module_index, symbolize_hash64((uint64_t)id), idx)) {
        symbolize_module_free(m);
        return -1;
    }
    s->modules[s->nmodules++] = m;
    return 0;
}

size_t symbolize_pc(symbolizer *s, int id, uint64_t pc, bool is_return_address,
                    symbolize_frame *out, size_t max)
{
    if (out == NULL || max == 0)
        return 0;
    uint32_t idx = s != NULL ? symbolize_find_module(s, id) : UINT32_MAX;
    if (idx == UINT32_MAX) {
        out[0] = (symbolize_frame){ symbolize_unknown, false, NULL, 0 };
        return 1;
    }
    symbolize_cache_key key = { pc, idx, is_return_address };
    const symbolize_cached *hit = symbolize_cache_find(s, &key);
    if (hit != NULL) {
        size_t n = hit->nframes < max ? hit->nframes : max;
        memcpy(out, &s->frames[hit->first], n * sizeof *out);
        return n;
    }
    symbolize_frame frames[SYMBOLIZE_MAX_FRAMES];
    symbolize_module *m = s->modules[idx];
    size_t n = symbolize_resolve(s, m, pc, is_return_address, frames);
    if (m->main_elf != NULL)
        symbolize_filepages_used(&m->pages, m->main_elf);
    symbolize_cache_store(s, &key, frames, n);
    if (n > max)
        n = max;
    memcpy(out, frames, n * sizeof *out);
    return n;
}

void symbolize_set_fetch(symbolizer *s, symbolize_fetch_fn fetch, void *ctx)
{
    if (s == NULL)
        return;
    s->fetch = fetch;
    s->fetch_ctx = ctx;
    for (size_t i = 0; i < s->nmodules; i++) {
        s->modules[i]->fetch = fetch;
        s->modules[i]->fetch_ctx = ctx;
    }
}

void symbolize_expect_build_id(symbolizer *s, int id, const unsigned char *build_id,
                               size_t len)
{
    uint32_t idx = s != NULL ? symbolize_find_module(s, id) : UINT32_MAX;
    if (idx == UINT32_MAX || len > sizeof s->modules[idx]->want_id)
        return;
    memcpy(s->modules[idx]->want_id, build_id, len);
    s->modules[idx]->want_id_len = len;
}

size_t symbolize_changed_modules(const symbolizer *s, const char **example)
{
    size_t n = 0;
    for (size_t i = 0; s != NULL && i < s->nmodules; i++)
        if (s->modules[i]->changed && n++ == 0 && example != NULL)
            *example = s->modules[i]->base;
    return n;
}

size_t symbolize_unnamed_modules(const symbolizer *s, const char **example)
{
    size_t n = 0;
    for (size_t i = 0; s != NULL && i < s->nmodules; i++) {
        if (!s->modules[i]->unnamed)
            continue;
        if (n++ == 0 && example != NULL)
            *example = s->modules[i]->base;
    }
    return n;
}
