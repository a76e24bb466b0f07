/* symbolize_int.h - what the files of symbolize/ share: the symbolizer's and each
 * module's state, and the few core functions the parts call back into. Private to
 * symbolize/ (as elfutils keeps libdwflP.h beside libdwfl.h); users include symbolize.h.
 *
 * Who owns what: symbolize.c (the core) creates, loads and frees modules and owns the
 * interned names and the per-address cache; symtab.c fills a module's syms; inline.c
 * its CU, function-tree and alias tables; fdenames.c its fdetab (PLT stubs, entry point,
 * FDE starts); demangle.c and debugfile.c hold no state.
 *
 * Not thread-safe: a symbolizer and its modules are used by one thread at a time (at exit,
 * or in a tool); nothing here is async-signal-safe. */
#ifndef FLAMEPROF_SYMBOLIZE_INT_H
#define FLAMEPROF_SYMBOLIZE_INT_H

#include "diskcache.h"
#include "filepages.h"
#include "gopclntab.h"
#include "index.h"
#include "symbolize.h"

#include <elfutils/libdw.h>
#include <elfutils/libdwfl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct symbolize_sym {
    symbolize_span span; /* absolute (biased) addresses */
    const char *raw;     /* points into the Dwfl's string table, valid until dwfl_end */
    const char *name;    /* demangled and interned on first use */
} symbolize_sym;

/* A symbol of several equally ranked aliases: its raw name is chosen (by name) on first
 * lookup, so that building the table reads no names at all. */
typedef struct symbolize_tie {
    symbolize_span at; /* [start, start + 1): the symbol's span.lo */
    const char *raw;
} symbolize_tie;

typedef struct symbolize_fn_range {
    symbolize_span span; /* CU-relative (unbiased) addresses */
    Dwarf_Die die;
} symbolize_fn_range;

/* A function's code scopes (lexical blocks, inlined calls) as a small tree with decoded,
 * sorted ranges: built once per function that is hit, because rescanning its DIEs per
 * address (call sites, variables, ...) is what made lookups slow in big functions. */
typedef struct symbolize_scope_range {
    symbolize_span span;
    uint32_t scope; /* index in symbolize_fn_tree.scopes */
} symbolize_scope_range;

typedef struct symbolize_scope {
    Dwarf_Die die;
    size_t first, count; /* its children's ranges in symbolize_fn_tree.ranges, sorted */
    bool inlined;
} symbolize_scope;

typedef struct symbolize_fn_tree {
    const void *key; /* the subprogram DIE's address in the debug data */
    symbolize_scope *scopes;
    size_t nscopes, scopes_cap;
    symbolize_scope_range *ranges;
    size_t nranges, ranges_cap;
} symbolize_fn_tree;

/* A CU's address range, for modules whose DWARF has no .debug_aranges (clang and other
 * LLVM compilers omit it), where dwfl_module_addrdie in elfutils 0.188 finds no CU. */
typedef struct symbolize_cu_range {
    symbolize_span span; /* unbiased */
    Dwarf_Die cudie;
} symbolize_cu_range;

typedef struct symbolize_cu {
    const void *key; /* the CU DIE's address in the debug data: unique per Dwarf */
    symbolize_fn_range *fns;
    size_t nfns;
} symbolize_cu;

/* Display name for a raw DWARF string, keyed by the string's address: inlined callees
 * (std:: templates in C++) recur under many addresses and demangling costs microseconds. */
typedef struct symbolize_alias {
    const char *raw;
    const char *name;
} symbolize_alias;

enum symbolize_state { SYMBOLIZE_UNLOADED, SYMBOLIZE_READY, SYMBOLIZE_BROKEN };

typedef struct symbolize_fdetab symbolize_fdetab; /* fdenames.c */

typedef struct symbolize_module {
    int id;
    char *path;       /* as registered (may be NULL) */
    const char *base; /* basename, used in "base+0xoff" */
    uint64_t bias;
    void *image; /* our copy of an in-memory ELF image (the vDSO) */
    size_t image_size;
    enum symbolize_state state;
    Dwfl *dwfl;
    Dwfl_Module *dmod;
    Elf *main_elf;    /* owned by the Dwfl once find_elf handed it over */
    Elf *pending_elf; /* opened by us, not yet handed to the Dwfl */
    int pending_fd;
    symbolize_filepages pages; /* main_elf's mapped pages, given back now and then */
    symbolize_sym *syms;
    size_t nsyms;
    symbolize_tie *ties; /* aliases only names can choose between (symtab.c), by start */
    size_t nties;
    symbolize_cu *cus;
    size_t ncus, cus_cap;
    symbolize_htab cu_index;
    symbolize_cu_range *cu_ranges; /* built on the first address dwfl cannot place */
    size_t ncu_ranges;
    bool cu_ranges_built;
    Dwarf_Addr dwbias;
    symbolize_fn_tree *trees;
    size_t ntrees, trees_cap;
    symbolize_htab tree_index;
    symbolize_alias *aliases; /* raw pointers into this module's Dwfl: released with it */
    size_t naliases, aliases_cap;
    symbolize_htab alias_index;
    symbolize_fdetab *fdetab; /* built on the first address no symbol covers */
    bool unnamed;             /* some address had no symbol: named by FDE start or offset */
    unsigned char want_id[64]; /* the build-id profiled (symbolize_expect_build_id) */
    size_t want_id_len;
    char *fetched_path;       /* the module file fetched by build-id, read instead of path */
    bool changed;             /* the file at path is not the one profiled, none fetched */
    symbolize_fetch_fn fetch; /* the symbolizer's, for find_debuginfo */
    void *fetch_ctx;
    symbolize_diskcache *disk; /* frames resolved by earlier processes (diskcache.h) */
    bool disk_tried;
    bool disk_filled;
    util_gopclntab go; /* a Go program's own table (gonames.c): base NULL if none */
    bool go_tried;
} symbolize_module;

typedef struct symbolize_cached {
    uint64_t pc;
    uint32_t module; /* index in symbolizer.modules: re-registering an id gets a new one */
    uint32_t first;  /* index in symbolizer.frames */
    uint16_t nframes;
    bool is_return;
} symbolize_cached;

/* Chunked arena: interned names never move, so callers may keep the pointers. */
typedef struct symbolize_chunk {
    struct symbolize_chunk *next;
    size_t used, cap;
    char data[];
} symbolize_chunk;

struct symbolizer {
    symbolize_module **modules;
    size_t nmodules, modules_cap;
    symbolize_htab module_index; /* id -> latest registration */

    symbolize_chunk *arena;
    const char **names;
    size_t nnames, names_cap;
    symbolize_htab name_index;

    symbolize_cached *cached;
    size_t ncached, cached_cap;
    symbolize_htab cache_index;
    symbolize_frame *frames;
    size_t nframes, frames_cap;

    symbolize_fetch_fn fetch;
    void *fetch_ctx;
};

/* ------------------------------------------------------------------ core (symbolize.c) */

/* A stable copy of str, shared by every caller asking for the same text, valid until
 * symbolize_free; NULL on allocation failure. */
const char *symbolize_intern(symbolizer *s, const char *str);

/* The display form of a raw symbol name (demangled when it demangles), interned. */
const char *symbolize_display_name(symbolizer *s, const char *raw);

#endif
