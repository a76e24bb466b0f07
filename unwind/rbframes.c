/* rbframes.c - Ruby's control frames, read in the signal handler. See rbframes.h. */
#include "rbframes.h"

#include "foreign_load.h"

#include <sched.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

#include "rtframe.h"

enum {
    RB_MAX_FRAMES = 400, /* control frames read per sample (the top ones) */
    RB_MAX_WORDS = 4 * RB_MAX_FRAMES,
    RB_MAX_HOPS = 16,    /* block envs followed up to their method's */
    RB_MAX_GROUPS = 64,  /* rb_vm_exec activations spliced per sample */
    RB_MAX_SLOW = 24,    /* heap reads through the kernel per sample (new ranges pending) */
    RB_BODY_WORDS = 16,  /* of an iseq body, read for its identity */
};

static rbframes_cfg g_cfg;
static atomic_bool g_on, g_stale;
static atomic_int g_inflight;
static _Atomic(unwind_ranges *) g_rw, g_ro;
static unwind_ranges *g_retired[2][2]; /* freed two publications later: no handler holds them */

uint64_t rbframes_thread_pointer(void)
{
    uint64_t tp;
    __asm__ volatile("mov %%fs:0, %0" : "=r"(tp));
    return tp;
}

void rbframes_enable(const rbframes_cfg *cfg)
{
    g_cfg = *cfg;
    atomic_store(&g_on, true);
}

void rbframes_disable(void)
{
    atomic_store(&g_on, false);
    for (int i = 0; i < 100000 && atomic_load(&g_inflight) > 0; i++)
        sched_yield();
}

bool rbframes_enabled(void)
{
    return atomic_load(&g_on);
}

void rbframes_set_ranges(unwind_ranges *rw, unwind_ranges *ro)
{
    unwind_ranges *old_rw = atomic_exchange(&g_rw, rw), *old_ro = atomic_exchange(&g_ro, ro);
    free(g_retired[1][0]);
    free(g_retired[1][1]);
    memcpy(g_retired[1], g_retired[0], sizeof g_retired[0]);
    g_retired[0][0] = old_rw;
    g_retired[0][1] = old_ro;
    atomic_store(&g_stale, false);
}

bool rbframes_ranges_stale(void)
{
    return atomic_load(&g_stale);
}

/* [addr, addr+len) inside one published writable mapping. */
static bool in_ranges(const unwind_ranges *rw, uint64_t addr, uint64_t len)
{
    const struct unwind_range *r = unwind_ranges_find(rw, addr);
    return r && addr + len >= addr && addr + len <= r->hi;
}

static inline uint64_t load(uint64_t addr)
{
    return util_foreign_load(addr);
}

typedef struct rb_read {
    uint64_t words[RB_MAX_WORDS];
    uint16_t group_end[RB_MAX_GROUPS]; /* words of group g: [end[g-1], end[g]) */
    size_t nwords, ngroups;
    const unwind_ranges *ro;        /* the read-only mappings (may be NULL) */
    unsigned slow_left;             /* reads through the kernel left in this sample */
    unsigned char text[RBFRAMES_STR_MAX + 8]; /* a String's bytes read through the kernel */
    uint64_t memo_iseq, memo_ident; /* the last iseq identified in this sample */
} rb_read;

static bool env_readable(const unwind_ranges *rw, uint64_t ep, uint64_t lo, uint64_t hi)
{
    return !(ep & 7) && ((ep >= lo + 16 && ep + 8 <= hi) || in_ranges(rw, ep - 16, 24));
}

/* The method entry (or cref) of the method a frame's env belongs to: ep[-2] of its local
 * env, up the chain of block envs. 0 where a link cannot be read. */
static uint64_t local_me(const unwind_ranges *rw, uint64_t ep, uint64_t flags, uint64_t lo,
                         uint64_t hi)
{
    for (int hops = 0; !(flags & RB_ENV_FLAG_LOCAL); hops++) {
        ep = load(ep - 8) & ~(uint64_t)3; /* VM_ENV_PREV_EP */
        if (hops == RB_MAX_HOPS || !env_readable(rw, ep, lo, hi))
            return 0;
        flags = load(ep);
    }
    uint64_t me = load(ep - 16), svar_flags;
    if (me && !in_ranges(rw, me, 16))
        atomic_store_explicit(&g_stale, true, memory_order_relaxed); /* a new heap page */
    /* A method that set $~ keeps its entry in the svar there, a short-lived object: read
     * it now (it is live: its frame is), not when the name is resolved. */
    if (me && in_ranges(rw, me, 16) && ((svar_flags = load(me)) & 0x1f) == 0x1a /* T_IMEMO */ &&
        ((svar_flags >> 12) & 15) == 2 /* imemo_svar */)
        me = load(me + 8); /* vm_svar.cref_or_me */
    return me;
}

/* Copies len bytes of a heap object at addr (8-aligned) into dst: in place inside the
 * ranges; outside them (a new heap page or malloc arena, at start mostly, as likely as a
 * bad pointer) through the kernel, which fails instead of faulting, at most
 * RB_MAX_SLOW times a sample, and asks for new ranges. */
static bool heap_read(rb_read *rb, const unwind_ranges *rw, uint64_t addr, void *dst,
                      size_t len)
{
    if (addr & 7)
        return false;
    if (in_ranges(rw, addr, len)) {
        memcpy(dst, (const void *)(uintptr_t)addr, len);
        return true;
    }
    atomic_store_explicit(&g_stale, true, memory_order_relaxed);
    if (rb->slow_left == 0 || addr < 0x10000 || addr >= (1ull << 47))
        return false;
    rb->slow_left--;
    struct iovec local = { dst, len }, remote = { (void *)(uintptr_t)addr, len };
    long pid = syscall(SYS_getpid);
    return syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0) == (long)len;
}

/* The text hash of the String at str (its first RBFRAMES_STR_MAX bytes). */
static bool string_hash(rb_read *rb, const unwind_ranges *rw, uint64_t str, uint64_t *out)
{
    uint64_t h[4], ptr, len;
    if (!heap_read(rb, rw, str, h, sizeof h) || !rbframes_string_span(str, h, &ptr, &len))
        return false;
    if (!len || (rb->ro && in_ranges(rb->ro, ptr, len)) || /* a literal in libruby's rodata */
        in_ranges(rw, ptr, len)) {
        *out = util_text_hash(1, (const void *)(uintptr_t)ptr, (size_t)len);
        return true;
    }
    uint64_t base = ptr & ~(uint64_t)7, off = ptr & 7;
    if (!heap_read(rb, rw, base, rb->text, (size_t)(off + len)))
        return false;
    *out = util_text_hash(1, rb->text + off, (size_t)len);
    return true;
}

/* The identity of a running iseq (rbframes_ident), read while its frame keeps it, its
 * body and their Strings alive; false where one of them cannot be read. */
static bool iseq_ident(const rbframes_layout *l, const unwind_ranges *rw, uint64_t iseq,
                       rb_read *rb, uint64_t *out)
{
    if (iseq == rb->memo_iseq) { /* recursion: the frame before's iseq */
        *out = rb->memo_ident;
        return true;
    }
    uint64_t hd[4], b[RB_BODY_WORDS], path[5], at, str, lh, ph;
    bool indirect;
    uint32_t nh = l->iseq_body / 8 + 1, nb = l->body_lineno / 8 + 1;
    if (nh > 4 || nb > RB_BODY_WORDS || !heap_read(rb, rw, iseq, hd, nh * 8))
        return false;
    if ((hd[0] & RB_T_MASK) != RB_T_IMEMO || ((hd[0] >> 12) & 15) != RB_IMEMO_ISEQ ||
        !heap_read(rb, rw, hd[nh - 1], b, nb * 8))
        return false;
    uint64_t label = b[l->body_label / 8], pathobj = b[l->body_pathobj / 8];
    if (!heap_read(rb, rw, pathobj, path, sizeof path) ||
        !rbframes_path_string(pathobj, path, &at, &indirect))
        return false;
    str = at;
    if (indirect && !heap_read(rb, rw, at, &str, 8))
        return false;
    if (!string_hash(rb, rw, label, &lh) || !string_hash(rb, rw, str, &ph))
        return false;
    *out = rb->memo_ident = rbframes_ident(lh, ph, b[l->body_lineno / 8]);
    rb->memo_iseq = iseq;
    return true;
}

/* One control frame's words; false if its env cannot be read. */
static bool read_frame(const rbframes_layout *l, const unwind_ranges *rw, uint64_t cfp,
                       uint64_t stk_lo, uint64_t stk_hi, rb_read *out, bool *finish)
{
    uint64_t ep = load(cfp + l->cfp_ep);
    if (!env_readable(rw, ep, stk_lo, stk_hi))
        return false;
    uint64_t flags = load(ep);
    *finish = (flags & RB_FRAME_FLAG_FINISH) != 0;
    if (!(flags & RB_FRAME_FLAG_CFRAME)) {
        uint64_t iseq = load(cfp + l->cfp_iseq), pc = load(cfp + l->cfp_pc);
        /* No pc: a frame Ruby's own backtraces skip (the top-level binding's). */
        uint64_t ident;
        if (iseq && pc && out->nwords + 4 <= RB_MAX_WORDS) {
            out->words[out->nwords++] = rtframe_word(RTFRAME_RB_ISEQ, iseq);
            out->words[out->nwords++] = rtframe_word(RTFRAME_RB_PC, pc);
            out->words[out->nwords++] =
                rtframe_word(RTFRAME_RB_ME, local_me(rw, ep, flags, stk_lo, stk_hi));
            if (iseq_ident(l, rw, iseq, out, &ident)) /* else the frame goes unnamed */
                out->words[out->nwords++] = rtframe_word(RTFRAME_RB_TEXT, ident);
        }
    } else if ((flags & RB_FRAME_MAGIC_MASK) == RB_FRAME_MAGIC_CFUNC) {
        uint64_t me = load(ep - 16), m[8]; /* ep[VM_ENV_DATA_INDEX_ME_CREF] */
        size_t nm = l->me_called_id / 8 + 1;
        if (me && out->nwords + 2 <= RB_MAX_WORDS) {
            out->words[out->nwords++] = rtframe_word(RTFRAME_RB_CFUNC, me);
            /* the ID now: the entry may be freed and reused before it is named */
            if (nm <= 8 && heap_read(out, rw, me, m, nm * 8) &&
                (m[0] & RB_T_MASK) == RB_T_IMEMO && ((m[0] >> 12) & 15) == RB_IMEMO_MENT &&
                m[nm - 1] <= RTFRAME_VALUE_MASK)
                out->words[out->nwords++] = rtframe_word(RTFRAME_RB_MID, m[nm - 1]);
        }
    }
    return true;
}

static bool bottom_is_top(const rbframes_layout *l, uint64_t cfp, uint64_t lo, uint64_t hi)
{
    uint64_t ep = load(cfp + l->cfp_ep);
    return !(ep & 7) && ep >= lo && ep + 8 <= hi &&
           (load(ep) & RB_FRAME_MAGIC_MASK) == RB_FRAME_MAGIC_TOP;
}

/* The current thread's frames, top first, grouped by rb_vm_exec activation. */
static bool read_thread(const rbframes_cfg *c, const unwind_ranges *rw, rb_read *out)
{
    const rbframes_layout *l = &c->lay;
    uint64_t ec = load(rbframes_thread_pointer() + (uint64_t)c->tls_off);
    if (!ec)
        return false; /* not a Ruby thread */
    if (!in_ranges(rw, ec, (uint64_t)l->ec_cfp + 8)) {
        atomic_store(&g_stale, true);
        return false;
    }
    uint64_t stk = load(ec + l->ec_vm_stack), words = load(ec + l->ec_vm_stack_size);
    uint64_t cfp = load(ec + l->ec_cfp);
    if (!stk || words == 0 || words > (1u << 27) || !in_ranges(rw, stk, words * 8)) {
        atomic_store(&g_stale, stk != 0);
        return false;
    }
    uint64_t end = stk + words * 8;
    if (cfp < stk || cfp >= end || (end - cfp) % l->cfp_size)
        return false;
    out->nwords = out->ngroups = 0;
    out->memo_iseq = 0;
    out->slow_left = RB_MAX_SLOW;
    /* The root frame is the VM's dummy frame; on the main thread the one above it is the
     * top-level binding's (magic TOP): Ruby's backtraces show neither. */
    uint64_t stop = end - l->cfp_size;
    for (size_t n = 0; cfp < stop && n < RB_MAX_FRAMES; cfp += l->cfp_size, n++) {
        bool finish = false;
        if (cfp + l->cfp_size == stop && bottom_is_top(l, cfp, stk, end))
            break;
        if (!read_frame(l, rw, cfp, stk, end, out, &finish)) {
            atomic_store_explicit(&g_stale, true, memory_order_relaxed); /* a new mapping? */
            return false;
        }
        if (finish && out->ngroups < RB_MAX_GROUPS)
            out->group_end[out->ngroups++] = (uint16_t)out->nwords;
    }
    if (out->ngroups == 0 || out->group_end[out->ngroups - 1] != out->nwords) {
        if (out->ngroups == RB_MAX_GROUPS)
            out->ngroups--;
        out->group_end[out->ngroups++] = (uint16_t)out->nwords;
    }
    return out->nwords > 0;
}

/* Scratch for the frames read, ~10 KB: never on the interrupted stack, which may be a
 * small alternate signal stack. A few, claimed lock-free; with all in use (more threads
 * sampled at once than Ruby's lock lets run Ruby code), a sample keeps its C frames. */
enum { RB_SCRATCH = 8 };
static rb_read scratch[RB_SCRATCH];
static atomic_bool scratch_busy[RB_SCRATCH];

static rb_read *scratch_claim(void)
{
    for (size_t i = 0; i < RB_SCRATCH; i++)
        if (!atomic_exchange_explicit(&scratch_busy[i], true, memory_order_acquire))
            return &scratch[i];
    return NULL;
}

static void scratch_release(rb_read *rb)
{
    if (rb)
        atomic_store_explicit(&scratch_busy[rb - scratch], false, memory_order_release);
}

void rbframes_after_fork_child(void)
{
    atomic_store(&g_inflight, 0);
    for (size_t i = 0; i < RB_SCRATCH; i++)
        atomic_store(&scratch_busy[i], false);
}

static bool is_vm_exec(const rbframes_cfg *c, uint64_t ra)
{
    return ra - 1 >= c->vm_exec_lo && ra - 1 < c->vm_exec_hi;
}

/* Group g goes in place of the frame below (leafward of) the g-th rb_vm_exec frame; the
 * groups past the last rb_vm_exec go there too. Empty groups replace nothing. Interrupted
 * inside rb_vm_exec itself (pcs[0]), the first group goes in front of it, replacing
 * nothing. */
static size_t merge(const rbframes_cfg *c, const rb_read *rb, uint64_t *pcs, size_t depth,
                    size_t max, bool *added)
{
    uint16_t at[RB_MAX_GROUPS], nat = 0; /* index of the replaced frame, per group */
    bool leaf = depth > 0 && is_vm_exec(c, pcs[0] + 1); /* at[0] inserts before pcs[0] */
    if (leaf)
        at[nat++] = 0;
    for (size_t i = 1; i < depth && nat < rb->ngroups; i++)
        if (is_vm_exec(c, pcs[i]))
            at[nat++] = (uint16_t)(i - 1);
    if (nat == 0)
        return depth; /* no evaluation loop found on the native stack: leave it alone */
    uint16_t first[RB_MAX_GROUPS], last[RB_MAX_GROUPS]; /* words per site */
    size_t grow = 0;
    for (size_t k = 0; k < nat; k++) {
        first[k] = k == 0 ? 0 : rb->group_end[k - 1];
        last[k] = k + 1 == nat ? rb->group_end[rb->ngroups - 1] : rb->group_end[k];
        if (last[k] > first[k])
            grow += last[k] - first[k] - (leaf && k == 0 ? 0 : 1);
    }
    if (depth + grow > max)
        return depth;
    *added = true;
    /* In place, from the root end: the write index never falls below the read index. */
    size_t w = depth + grow, k = nat;
    for (size_t r = depth; r-- > 0;) {
        if (k > 0 && r == at[k - 1]) {
            k--;
            if (last[k] > first[k]) {
                if (leaf && k == 0)
                    pcs[--w] = pcs[r]; /* rb_vm_exec, interrupted: the frames go above it */
                for (size_t j = last[k]; j-- > first[k];)
                    pcs[--w] = rb->words[j];
                continue;
            }
        }
        pcs[--w] = pcs[r];
    }
    return depth + grow;
}

size_t rbframes_splice(uint64_t *pcs, size_t depth, size_t max, bool *added)
{
    *added = false;
    if (!atomic_load_explicit(&g_on, memory_order_acquire))
        return depth;
    atomic_fetch_add_explicit(&g_inflight, 1, memory_order_acquire);
    size_t out = depth;
    if (atomic_load_explicit(&g_on, memory_order_acquire)) {
        const unwind_ranges *rw = atomic_load_explicit(&g_rw, memory_order_acquire);
        rb_read *rb = scratch_claim();
        if (rb)
            rb->ro = atomic_load_explicit(&g_ro, memory_order_acquire);
        if (rb && rw && read_thread(&g_cfg, rw, rb))
            out = merge(&g_cfg, rb, pcs, depth, max, added);
        scratch_release(rb);
    }
    atomic_fetch_sub_explicit(&g_inflight, 1, memory_order_release);
    return out;
}
