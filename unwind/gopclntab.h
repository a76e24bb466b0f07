/* gopclntab.h - Go's own unwind table: a Go function's frame size at any of its pcs, read
 * from the executable's .gopclntab as Go's traceback and `go tool pprof` read it.
 *
 * Why: Go code has no .eh_frame; its frames are walked by frame pointers. Hand-written
 * assembly that uses rbp as a scratch register (Go 1.19's crypto/sha256.block, golang/go
 * #63508) breaks that chain while it runs: every sample there was one frame, the whole
 * program's hashing orphaned at the root. The table says where the return address is
 * (sp + the frame size at pc), and the prologue Go's assembler writes saves the caller's
 * rbp just below it, so the walk can step out of such a function and carry on.
 *
 * As Go's traceback does, a function flagged TOPFRAME (runtime.goexit, every goroutine's
 * root; runtime.mstart, rt0_go) ends the walk, and one flagged SPWRITE (it moves sp to
 * another stack: runtime.nanotime1 around the vDSO call, mcall, morestack) gets no answer:
 * its table describes the other stack; frame pointers take it from there as before.
 *
 * Format (Go 1.18+, the pcHeader's magic 0xfffffff0 or 0xfffffff1; older tables are not
 * used): a header (text start, offsets of the function table and the pc-value tables),
 * a function table sorted by entry ((entry offset, function offset) pairs, nfunc + 1 of
 * them), each function's record (its pcsp table's offset at byte 16; its flags at byte 37,
 * or 41 from Go 1.20, whose records hold a start line before them), and per function a
 * pcsp table: pairs of varints (value delta, zig-zag; pc delta), values applying from the
 * function's entry up to each pc.
 *
 * Every read is bounded by the table's extent, which lies in the executable's read-only
 * segment (mapped for the process's life): async-signal-safe, no system calls, no
 * allocation; a malformed table gives no answer, never a fault. */
#ifndef FLAMEPROF_GOPCLNTAB_H
#define FLAMEPROF_GOPCLNTAB_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct gopclntab {
    const uint8_t *base; /* the pcHeader, in memory */
    size_t len;          /* bytes of table from base */
    uint64_t text;       /* runtime address the entry offsets count from */
    uint32_t nfunc;
    size_t functab;      /* offset from base of the function table (and of the records) */
    size_t pctab;        /* offset from base of the pc-value tables */
    size_t flag_off;     /* a function record's flag byte */
    const uint8_t *buckets; /* runtime.findfunctab, or NULL: the function table searched */
    size_t nbuckets;
} gopclntab;

typedef enum gopclntab_answer {
    GOPCLNTAB_UNKNOWN = 0, /* not a Go function's pc, no table, or a stack-switching one */
    GOPCLNTAB_FRAME,       /* the frame size is known */
    GOPCLNTAB_TOP,         /* the outermost frame of its stack: the walk ends here */
} gopclntab_answer;

/* Check the header of the table at mem (len bytes, mapped for the process's life) and
 * fill *t. False for anything but a well-formed Go 1.18+ amd64 table. Off the handler. */
bool gopclntab_init(gopclntab *t, const void *mem, size_t len);

/* Go's index of the function table (runtime.findfunctab: for each 4 KB of text from the
 * text start, a function index and sixteen 256-byte subbucket offsets; 20 bytes a bucket):
 * a function found in two or three lines instead of a binary search's dozen. Where the
 * index and the table disagree, the search decides. Off the handler. */
void gopclntab_set_buckets(gopclntab *t, const void *mem, size_t len);

/* At pc: the frame size (bytes between sp and the return address: the return address is
 * at sp + *size) if pc lies in a Go function whose pcsp table covers it, or that its
 * function is a stack's root. Async-signal-safe. */
gopclntab_answer gopclntab_frame(const gopclntab *t, uint64_t pc, uint32_t *size);

#endif
