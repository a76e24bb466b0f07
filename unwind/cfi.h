/* cfi.h - compact call-frame tables, precomputed from a module's .eh_frame.
 *
 * Why: libunwind's unw_backtrace costs 10-20 us a sample here and finds tables through
 * dl_iterate_phdr, which takes the loader lock (deadlocks inside signal handlers are on
 * record). Instead, outside the handler (at start and on dlopen), every CFI row of a module
 * is evaluated once (by our own decoder, ehframe.h, exactly as elfutils would evaluate it)
 * and reduced to the few rules an x86-64 unwinder needs: where the CFA is, where the
 * caller's rbp was saved, and whether this is the outermost frame. The handler then does
 * one binary search per frame.
 *
 * Built tables are immutable, so the handler can read them without synchronization. */
#ifndef FLAMEPROF_CFI_H
#define FLAMEPROF_CFI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <libelf.h>

enum cfi_kind {
    CFI_NONE = 0,    /* no FDE covers this address: fall back to the frame-pointer rule */
    CFI_CFA_RSP,     /* CFA = rsp + cfa_off */
    CFI_CFA_RBP,     /* CFA = rbp + cfa_off */
    CFI_CFA_RBX,     /* CFA = rbx + cfa_off (glibc's lazy-binding resolver, stack realigners) */
    CFI_PLT,         /* PLT stub: CFA = rsp + 8, + 16 once (rip & 15) >= cfa_off */
    CFI_OUTERMOST,   /* return address undefined: _start, clone3 - the stack ends here */
    CFI_SIGFRAME,    /* the signal trampoline (__restore_rt): the interrupted context's
                        registers are in the ucontext at the CFA */
    CFI_UNSUPPORTED, /* a DWARF expression we do not evaluate: fall back to frame pointers */
};

/* Callee-saved register rules besides "saved at CFA + off" (never at CFA + 0 or above).
 * rbp (frame pointer) and rbx are tracked: the two registers CFA rules are based on. */
#define CFI_FP_SAME ((int16_t)0)          /* caller's rbp = this frame's rbp */
#define CFI_FP_UNDEFINED ((int16_t)32767) /* caller's rbp cannot be recovered */

typedef struct cfi_row {
    uint32_t pc;     /* file address (ELF vaddr) where this row starts, minus table base */
    int32_t cfa_off;
    int16_t fp_off;  /* caller's rbp at CFA + fp_off, or CFI_FP_SAME / CFI_FP_UNDEFINED */
    int16_t bx_off;  /* caller's rbx, the same way */
    uint8_t kind;    /* enum cfi_kind */
    uint8_t pad;
} cfi_row;

/* Rows sorted by pc, plus a page index: page_first[p] is the row in force at the start of
 * granule p (1 << shift bytes of code, relative to base), so a lookup searches only the
 * few rows of one granule. A full binary search over a big module's rows (node: ~4*10^5)
 * touched ~20 cold cache lines a frame; with the index it is two or three. The granule is
 * 512 bytes where code has rows that densely (node, python, libc: ~90 rows per 4 KB), up
 * to 4 KB where it has not (Chromium: 63,000 rows over 236 MB, whose 512-byte index would
 * be 1.8 MB of nearly empty granules): the finest with at most one entry for every two
 * rows, or 4 KB.
 *
 * Stored compactly: a module has few distinct rules (node's 4*10^5 rows use ~100), so each
 * row is its start pc (4 bytes) and the index of its rule in the table's rule list (2
 * bytes): 6 bytes a row instead of 16 (node: 2.5 MB of memory for the whole run instead of
 * 6.5). Rows past CFI_MAX_RULES distinct rules (never seen: a hostile file) get the rule
 * CFI_UNSUPPORTED, the frame-pointer fallback. */
#define CFI_MAX_RULES 65535
#define CFI_INDEX_SHIFT_MIN 9
#define CFI_INDEX_SHIFT_MAX 12

typedef struct cfi_table {
    uint64_t base;   /* file address that row pcs are relative to */
    size_t len;      /* rows; each applies up to the next row's pc */
    size_t pages;    /* entries in page_first */
    unsigned shift;  /* page_first's granule: 1 << shift bytes */
    size_t nrules;   /* entries in rules */
    const cfi_row *rules;       /* the distinct rules (their pc fields 0) */
    const uint32_t *pc;         /* row i starts at base + pc[i], ascending */
    const uint32_t *page_first;
    const uint16_t *rule;       /* row i's rules: rules[rule[i]] */
    size_t mapped;              /* the block's size if mapped (2 MB pages), 0 if malloc'd */
    /* followed in the same block by rules, pc, page_first and rule */
} cfi_table;

/* Build the table for an ELF image (file or in memory). Returns NULL if the image has no
 * usable .eh_frame_hdr/.eh_frame (the walker then uses frame pointers for it). The result
 * is one block; release it with cfi_free. Not async-signal-safe. */
cfi_table *cfi_build(Elf *elf);

/* How a table was built: FDEs in the search table, how many of them the decoder
 * (ehframe.h) declined and elfutils evaluated, refused as hostile (no CFI), or decoded
 * although they name a register elfutils would allocate megabytes for; and whether the
 * decoder declined the whole module. */
typedef struct cfi_build_stats {
    uint64_t fdes, elfutils, refused, huge;
    bool whole_module;
} cfi_build_stats;

/* cfi_build with the decoder, or (decoder false) with elfutils for every row, as before
 * the decoder existed: the reference tests compare the two with. stats may be NULL. */
cfi_table *cfi_build_using(Elf *elf, bool decoder, cfi_build_stats *stats);


/* The table for rows already built (sorted by pc, kinds valid: cfi_cache.c checks), with
 * its page index; NULL if len is 0 or on allocation failure. cfi_free() it. */
cfi_table *cfi_from_rows(uint64_t base, const cfi_row *rows, size_t len);

/* The same in two steps, for a table read straight into place: a table of len rows and
 * nrules rules whose last row will start at last_pc (rules, pcs and rule indexes not yet
 * written; the arrays are writable until cfi_index), then, once they are there (pcs
 * sorted, that last pc), its page index. NULL for nrules 0 or over CFI_MAX_RULES, len 0,
 * or no memory. cfi_free() it. */
cfi_table *cfi_alloc(uint64_t base, size_t len, size_t nrules, uint32_t last_pc);
void cfi_index(cfi_table *t);

/* Whether a page index read into place (cfi_cache.c) is exactly the one cfi_index would
 * build for t's pcs: entries in range and each page's the last row starting at or before
 * it. One pass over the pages (cc1's 53,000), where building it walks every row (480,000:
 * ~1 ms a process). */
bool cfi_index_ok(const cfi_table *t);

/* Releases a table from cfi_build, cfi_from_rows or cfi_alloc (NULL: nothing). */
void cfi_free(cfi_table *t);

/* Row i (i < t->len) as a whole: its pc and its rules. */
cfi_row cfi_row_at(const cfi_table *t, size_t i);

/* The row covering file address addr, copied into *out (pc: the row's start); false if
 * none. Async-signal-safe (reads only). */
bool cfi_lookup(const cfi_table *t, uint64_t addr, cfi_row *out);

/* What a lookup reads of a table's header, in 32 bytes, for a copy kept beside whatever
 * finds the table (modules.h: each module's range in the map): the lookup then starts at
 * the table's index, not at its header, one dependent cold line fewer (the program evicts
 * the header between samples; a sample after a big stack change has 10-30 lookups:
 * handler median -6% in a 1 s CPython script and in javac, -2% in a long CPython run
 * whose memo is warm; tools/bench_handler_ab.py). The table's base is not in it: the
 * finder keeps it folded into its own offset. */
typedef struct cfi_view {
    const cfi_table *t;                /* NULL: no table */
    uint32_t pc_off, page_off, rule_off; /* the arrays, in bytes from t */
    uint32_t len, pages;
    uint8_t shift;
} cfi_view;

/* The view of t (NULL: a view of no table). t must stay alive as long as the view. */
cfi_view cfi_view_of(const cfi_table *t);

/* cfi_lookup for the file address t->base + off. Async-signal-safe (reads only). */
bool cfi_view_lookup(const cfi_view *v, uint64_t off, cfi_row *out);

#endif
