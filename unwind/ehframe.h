/* ehframe.h - an own decoder of a module's .eh_frame into unwind rows (cfi.h).
 *
 * Why: cfi.c evaluated every row through elfutils (dwarf_cfi_addrframe runs the FDE's CFA
 * program again from its start for each row and mallocs the result): ~12 ms of CPU at the
 * start of every small process (libc and the libraries it loads), 0.2-0.8 s in node's
 * 4e5-row binary. One pass over each FDE's program costs a tenth of that.
 *
 * Exactness: the rows are the ones the elfutils path (cfi.c) computes, byte for byte. The
 * decoder answers only where it can be sure of that: an x86-64 module whose .eh_frame_hdr
 * table lists FDEs that do not overlap and start where the table says (else
 * ehframe_open says no and the whole module goes through elfutils); CIEs of version 1 or 3
 * with 'z' augmentations; the DW_CFA operations compilers emit; the PLT's CFA expression.
 * For an FDE with anything else (another expression, DW_CFA_set_loc, an advance past the
 * FDE's end...) ehframe_fde_rows declines and cfi.c evaluates that FDE through elfutils,
 * unless elfutils could be made to allocate gigabytes by it (a hostile register number):
 * then the FDE is refused and its code has no CFI (frame pointers).
 * tests/unwind/test_cfi_decode.c builds real libraries' tables both ways and compares them.
 *
 * Untrusted input: every read is bounded by the .eh_frame section libelf mapped (or the
 * vDSO image); nothing is trusted that was not checked. No allocation besides the caller's
 * row buffer. Not async-signal-safe (libelf); runs where cfi_build runs. */
#ifndef FLAMEPROF_UNWIND_EHFRAME_H
#define FLAMEPROF_UNWIND_EHFRAME_H

#include "cfi.h"
#include "eh_frame_hdr.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* How a tracked register (rbx, rbp, the return address) is restored in one row. */
typedef struct ehframe_reg {
    uint8_t rule; /* enum in ehframe.c */
    int64_t off;  /* "saved at CFA + off" */
} ehframe_reg;

/* The rules of one row that the reduction to a cfi_row reads. */
typedef struct ehframe_state {
    uint8_t cfa_rule;
    uint8_t plt;      /* the PLT expression's threshold */
    bool huge;        /* a register number elfutils would allocate megabytes for */
    uint64_t cfa_reg, cfa_off;
    ehframe_reg bx, bp, ra;
} ehframe_state;

typedef struct ehframe_cie {
    uint64_t off;     /* section offset + 1; 0: an empty slot */
    bool ok;          /* false: a CIE the decoder does not take */
    bool signal;      /* 'S': the signal trampoline */
    uint8_t fde_enc;  /* DW_EH_PE encoding of FDE addresses */
    uint64_t caf;     /* code alignment factor */
    int64_t daf;      /* data alignment factor */
    const uint8_t *insns, *insns_end;
    ehframe_state init; /* after the ABI's rules and the CIE's instructions */
} ehframe_cie;

#define EHFRAME_CIE_SLOTS 64

typedef struct ehframe {
    const uint8_t *data; /* the .eh_frame section */
    size_t size;
    uint64_t vaddr;      /* its file address */
    const util_eh_hdr *hdr;
    ehframe_cie cies[EHFRAME_CIE_SLOTS]; /* by offset, direct-mapped */
} ehframe;

/* Rows appended by ehframe_fde_rows: the caller's growable buffer (util/array.h). */
typedef struct ehframe_rows {
    cfi_row *v;
    size_t len, cap;
} ehframe_rows;

/* Sets up the decoder for elf, whose search table h is (util_eh_hdr_find). False when the
 * module is one the decoder does not take as a whole (see above): use elfutils for all of
 * it. ef is large (a CIE cache): keep it off small stacks. */
bool ehframe_open(ehframe *ef, Elf *elf, const util_eh_hdr *h);

typedef enum ehframe_result {
    EHFRAME_ROWS,     /* out holds the rows */
    EHFRAME_DECLINED, /* evaluate this entry through elfutils (out is garbage) */
    EHFRAME_REFUSED,  /* hostile: elfutils would allocate up to 2 GB for it; no CFI */
} ehframe_result;

/* The rows of search-table entry i, for pcs from its start up to limit (the next entry's
 * start), relative to base, replacing out's contents. *next is the first pc not covered
 * (where cfi.c puts a CFI_NONE row if it is below limit); *huge: the FDE names a register
 * number elfutils could not have evaluated it for without allocating megabytes (the rows
 * are still exact). Allocation failure declines. */
ehframe_result ehframe_fde_rows(ehframe *ef, uint64_t i, uint64_t limit, uint64_t base,
                                ehframe_rows *out, uint64_t *next, bool *huge);

#endif
