/* unwind.c - the in-handler stack walk: CFI rules where they exist, frame pointers where
 * they do not. */
#include "unwind.h"

#include "foreign_load.h"
#include "gopclntab.h"
#include "phases.h"

#include <stddef.h>
#include <ucontext.h>

/* The stack a walk may read: [lo, hi) of the thread's addresses, held at addr + shift
 * (0: the live stack; else a copy, unwind_ctx.copy_shift). */
typedef struct stack_span {
    uint64_t lo, hi;
    uint64_t shift;
} stack_span;

/* Reads one stack word if [addr, addr+8) lies inside [lo, hi). */
static inline bool stack_read(uint64_t addr, const stack_span *st, uint64_t *out)
{
    if (addr < st->lo || addr > st->hi - 8 || (addr & 7))
        return false;
    *out = util_foreign_load(addr + st->shift);
    return true;
}

/* One step by frame pointer: [rbp] is the caller's rbp, [rbp+8] the return address. */
static bool step_fp(unwind_regs *r, const stack_span *st)
{
    uint64_t fp = r->fp, ra, caller_fp;
    if (fp < r->sp || !stack_read(fp, st, &caller_fp) || !stack_read(fp + 8, st, &ra))
        return false;
    r->pc = ra;
    r->sp = fp + 16;
    r->fp = caller_fp;
    return true;
}

/* The caller's value of a callee-saved register (rbp, rbx) under rule off. */
static bool restore_saved(uint64_t *reg, int16_t off, uint64_t cfa, uint64_t sp,
                          const stack_span *st)
{
    uint64_t slot = cfa + (int64_t)off;
    if (off == CFI_FP_UNDEFINED)
        *reg = 0;
    else if (off == CFI_FP_SAME || slot < sp)
        ; /* unchanged; or in an epilogue past its pop, where the register holds it again */
    else if (!stack_read(slot, st, reg))
        return false;
    return true;
}

/* Through a signal frame: the handler returned to the trampoline, whose stack pointer
 * points at the rt_sigframe's ucontext (just past the return address the kernel pushed);
 * the interrupted registers are in its mcontext. Bounded reads like any other. */
static bool step_sigframe(unwind_regs *r, const stack_span *st)
{
    uint64_t gregs = r->sp + offsetof(ucontext_t, uc_mcontext.gregs);
    uint64_t pc, sp, fp, bx;
    if (!stack_read(gregs + 8 * REG_RIP, st, &pc) || !stack_read(gregs + 8 * REG_RSP, st, &sp) ||
        !stack_read(gregs + 8 * REG_RBP, st, &fp) || !stack_read(gregs + 8 * REG_RBX, st, &bx))
        return false;
    *r = (unwind_regs){ pc, sp, fp, bx };
    return true;
}

/* One step by a CFI row. */
static bool step_cfi(unwind_regs *r, const cfi_row *row, const stack_span *st)
{
    uint64_t cfa;
    switch (row->kind) {
    case CFI_CFA_RSP: cfa = r->sp + (int64_t)row->cfa_off; break;
    case CFI_CFA_RBP: cfa = r->fp + (int64_t)row->cfa_off; break;
    case CFI_CFA_RBX: cfa = r->bx + (int64_t)row->cfa_off; break;
    case CFI_PLT: cfa = r->sp + 8 + (((r->pc & 15) >= (uint64_t)row->cfa_off) ? 8 : 0); break;
    default: return false;
    }
    uint64_t ra, fp = r->fp, bx = r->bx;
    if (cfa <= r->sp || !stack_read(cfa - 8, st, &ra) ||
        !restore_saved(&fp, row->fp_off, cfa, r->sp, st) ||
        !restore_saved(&bx, row->bx_off, cfa, r->sp, st))
        return false;
    r->pc = ra;
    r->sp = cfa;
    r->fp = fp;
    r->bx = bx;
    return true;
}

unwind_regs unwind_regs_of(const void *ucontext)
{
    const greg_t *g = ((const ucontext_t *)ucontext)->uc_mcontext.gregs;
    return (unwind_regs){ (uint64_t)g[REG_RIP], (uint64_t)g[REG_RSP], (uint64_t)g[REG_RBP],
                          (uint64_t)g[REG_RBX] };
}

bool unwind_ranges_contain(const unwind_ranges *rs, uint64_t pc)
{
    return unwind_ranges_find(rs, pc) != NULL;
}

const struct unwind_range *unwind_ranges_find(const unwind_ranges *rs, uint64_t pc)
{
    if (!rs)
        return NULL;
    size_t lo = 0, hi = rs->len; /* first range ending above pc */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (rs->r[mid].hi <= pc)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < rs->len && rs->r[lo].lo <= pc ? &rs->r[lo] : NULL;
}

/* A CPython trampoline between its call and its ret: 8 bytes of padding, then the
 * return address. */
static bool step_trampoline(unwind_regs *r, const stack_span *st)
{
    uint64_t ra;
    if (!stack_read(r->sp + 8, st, &ra))
        return false;
    r->pc = ra;
    r->sp += 16;
    return true;
}

static uint64_t frame_value_in(const unwind_interp *in, uint64_t pc, uint64_t fp,
                               const stack_span *st)
{
    uint64_t m;
    if (!in || pc < in->lo || pc >= in->hi || !stack_read(fp + (uint64_t)in->method_off, st, &m))
        return pc;
    if (m < 4096 || (m & 7) || m >= (UINT64_C(1) << 47))
        return pc; /* not a user-space pointer: the frame is not set up yet */
    return UNWIND_METHOD_TAG | m;
}

uint64_t unwind_frame_value(const unwind_interp *in, uint64_t pc, uint64_t fp, uint64_t lo,
                            uint64_t hi)
{
    stack_span st = { lo, hi, 0 };
    return frame_value_in(in, pc, fp, &st);
}

/* What pcs[] gets for the frame at r: its pc, or the method an interpreter frame runs. */
static uint64_t frame_value(const unwind_interp *in, const unwind_regs *r, const stack_span *st,
                            unwind_result *res)
{
    uint64_t v = frame_value_in(in, r->pc, r->fp, st);
    res->methods += (v & UNWIND_METHOD_TAG) != 0;
    return v;
}

/* Go code has no CFI: its own table's frame size at pc as a row (gopclntab.h). The return
 * address is just above the frame; the caller's rbp just below it once the prologue saved
 * it, which Go's assembler does for every function with a frame. A root function ends the
 * walk. */
static bool go_row(const util_gopclntab *t, uint64_t pc, cfi_row *out)
{
    uint32_t size;
    util_gopclntab_answer a = util_gopclntab_frame(t, pc, &size);
    if (a == UTIL_GOPCLNTAB_TOP) {
        *out = (cfi_row){ .kind = CFI_OUTERMOST };
        return true;
    }
    if (a != UTIL_GOPCLNTAB_FRAME || size > INT32_MAX - 8)
        return false;
    *out = (cfi_row){ .pc = 0, .cfa_off = (int32_t)size + 8,
                      .fp_off = size ? (int16_t)-16 : CFI_FP_SAME, .bx_off = CFI_FP_SAME,
                      .kind = CFI_CFA_RSP };
    return true;
}

/* The CFI row for lookup (copied into *buf), or NULL; *in_module: some module holds lookup.
 * The module map first (a small hot array: JIT code, in none, ends there), then the memo: a
 * hit is one cache line, a search of a big table several misses (from the range found
 * straight to the table's index: modules.h). */
static const cfi_row *find_row(const unwind_ctx *ctx, uint64_t lookup, bool *in_module,
                               cfi_row *buf)
{
    const module_map *m = ctx->modules;
    const module_range *range = module_map_range(m, lookup);
    *in_module = range != NULL;
    PHASE_COUNT_ADD(PHASE_FRAMES, 1);
    if (!range) {
        PHASE_COUNT_ADD(PHASE_NOMOD, 1);
        return NULL;
    }
    if (cfi_memo_get(ctx->memo, lookup, m->gen, buf)) {
        PHASE_COUNT_ADD(PHASE_HITS, 1);
        return buf;
    }
    PHASE_COUNT_ADD(PHASE_MISSES, 1);
    PHASE_NOW(t);
    bool found = lookup >= range->rel && cfi_view_lookup(&range->cfi, lookup - range->rel, buf);
    if ((!found || buf->kind == CFI_NONE) && ctx->go && ctx->go->pcln)
        found = go_row(ctx->go->pcln, lookup, buf) || found;
    PHASE_ADD(PHASE_LOOKUP, t);
    if (found)
        cfi_memo_put(ctx->memo, lookup, m->gen, buf);
    PHASE_ADD(PHASE_MISS, t);
    return found ? buf : NULL;
}

/* The memo entries the walk is about to read, loading all at once rather than one cold
 * line after another: the frames a frame-pointer chain predicts (exact where the code keeps
 * frame pointers, as node's C++ and JIT code do; garbage elsewhere, which costs a useless
 * prefetch and nothing else: reads stay inside the stack, prefetches never fault). */
enum { PREFETCH_FRAMES = 48 };

static void prefetch_memo(const unwind_ctx *ctx, const unwind_regs *r, const stack_span *st,
                          uint64_t stop)
{
    if (!ctx->memo || !ctx->modules)
        return;
    cfi_memo_prefetch(ctx->memo, r->pc);
    uint64_t fp = r->fp, next, ra;
    for (int i = 0; i < PREFETCH_FRAMES && fp >= r->sp; i++) {
        if (!stack_read(fp, st, &next) || !stack_read(fp + 8, st, &ra))
            break;
        cfi_memo_prefetch(ctx->memo, ra - 1);
        if (next <= fp || next >= stop) /* past stop: the previous walk's frames */
            break;
        fp = next;
    }
}

void unwind_prefetch(const unwind_ctx *ctx, unwind_regs regs, uint64_t stack_end)
{
    /* The frame-pointer chain only up to where the previous walk's frames begin: above,
     * the walk will likely take them from the record (a chase through cold stack lines,
     * one dependent load a frame, is what the record saves). */
    uint64_t stop = ctx->go ? UINT64_MAX : lastwalk_join_sp(ctx->last);
    stack_span st = { regs.sp, stack_end, ctx->copy_shift };
    prefetch_memo(ctx, &regs, &st, stop);
}

/* Write the frame at r to pcs and to the walk's record (slot: where its pc was read). */
static void put_frame(const unwind_ctx *ctx, const unwind_regs *r, uint64_t slot,
                      const stack_span *st, uint64_t *pcs, unwind_result *res, lastwalk *lw)
{
    pcs[res->depth++] = frame_value(ctx->interp, r, st, res);
    lastwalk_push(lw, r->pc, r->sp, r->fp, slot);
}

/* The frame written last matches the thread's previous walk, unchanged above: the rest of
 * the stack is that walk's (lastwalk.h). */
static bool take_rest(const unwind_ctx *ctx, lastwalk *lw, const stack_span *st, uint64_t *pcs,
                      size_t max, unwind_result *res)
{
    lastwalk_tail t;
    if (!lastwalk_match(lw, st->lo, st->hi, ctx->interp, pcs, res->depth, max, &t))
        return false;
    res->depth += t.added;
    res->outside += t.outside;
    res->methods += t.methods;
    res->reused = t.added;
    res->truncated = t.truncated;
    PHASE_COUNT_ADD(PHASE_REUSED, t.added);
    return true;
}

unwind_result unwind_walk(const unwind_ctx *ctx, unwind_regs r, uint64_t stack_end,
                          uint64_t *pcs, size_t max)
{
    unwind_result res = { 0, 0, 0, 0, false };
    stack_span st = { r.sp, stack_end, ctx->copy_shift };
    int crossings = 0; /* stack switches followed: a few at most (goroutine -> g0 -> ...) */
    if (max == 0)
        return res;
    /* Not across stack switches: a goroutine's frames are not the thread's. */
    unwind_last *last = ctx->go || ctx->copy_shift ? NULL : ctx->last;
    lastwalk lw;
    lastwalk_begin(&lw, last, stack_end, ctx->modules ? ctx->modules->gen : 0);
    put_frame(ctx, &r, LASTWALK_EXACT, &st, pcs, &res, &lw);
    bool done = take_rest(ctx, &lw, &st, pcs, max, &res);
    bool exact = true; /* pc is where execution was, not a return address */
    while (!done) {
        /* A return address points after the call: look up the call itself. */
        uint64_t lookup = exact ? r.pc : r.pc - 1;
        bool in_module;
        cfi_row buf;
        const cfi_row *row = find_row(ctx, lookup, &in_module, &buf);
        uint64_t old_sp = r.sp, slot = 0;
        if (row && row->kind == CFI_OUTERMOST)
            break;
        bool ok, crossed = false;
        exact = false;
        if (crossings < 4 && ctx->go && !ctx->copy_shift &&
            golang_cross(ctx->go, &r.pc, &r.sp, &st.lo, &st.hi, &exact)) {
            /* On another stack now: sp may be anywhere relative to the old one. */
            ok = crossed = true;
            crossings++;
        } else if (row && row->kind == CFI_SIGFRAME) {
            /* The interrupted pc is exact; its stack lies above the signal frame (or on
             * another stack entirely, and then the bounds end the walk). */
            ok = step_sigframe(&r, &st);
            slot = old_sp + offsetof(ucontext_t, uc_mcontext.gregs) + 8 * REG_RIP;
            exact = true;
        } else if (row && row->kind != CFI_NONE && row->kind != CFI_UNSUPPORTED) {
            ok = step_cfi(&r, row, &st);
            lastwalk_flag(&lw, row->kind == CFI_CFA_RBX ? LASTWALK_BX : 0);
        } else if (!in_module && unwind_ranges_contain(ctx->trampolines, lookup)) {
            res.outside++;
            lastwalk_flag(&lw, LASTWALK_OUTSIDE);
            ok = step_trampoline(&r, &st);
        } else {
            res.outside += !in_module;
            lastwalk_flag(&lw, in_module ? 0 : LASTWALK_OUTSIDE);
            PHASE_COUNT_ADD(PHASE_FPSTEPS, 1);
            ok = step_fp(&r, &st);
        }
        /* The stack grows down: a caller's frame is always above. Anything else is a loop
         * or garbage; so is a return address in the first page. */
        if (!ok || (r.sp <= old_sp && !crossed) || r.pc < 4096)
            break;
        if (res.depth == max) {
            res.truncated = true;
            break;
        }
        /* Every step but a signal frame's read the return address just below the new sp. */
        put_frame(ctx, &r, (slot ? slot : r.sp - 8) | (exact ? LASTWALK_EXACT : 0), &st, pcs,
                  &res, &lw);
        done = take_rest(ctx, &lw, &st, pcs, max, &res);
    }
    lastwalk_end(&lw, last, !res.truncated);
    return res;
}
