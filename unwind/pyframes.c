/* pyframes.c - CPython frames read in the signal handler. See pyframes.h. */
#include "pyframes.h"

#include "foreign_load.h"
#include "phases.h"

#include <pthread.h>
#include <stdatomic.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/uio.h>
#include <unistd.h>

enum {
    MAX_THREADS = 4096, /* thread states looked at to find ours */
    MAX_FRAMES = 4096,  /* frames followed (entry frames included) */
    MAX_SLOW = 512,     /* reads past the snapshot per sample, each a system call (~1 us):
                           a 100-deep chain in memory mapped since the snapshot */
};

static pyframes_config g_cfg[2]; /* published by index: a handler may still read the old one */
static _Atomic(const pyframes_config *) g_active;
static _Atomic(const unwind_ranges *) g_ranges;
static _Atomic uint64_t g_misses;
static _Atomic uint64_t g_heap_lo; /* start of the brk heap ([heap]); 0 if none */

/* The calling thread's PyThreadState, once found (initial-exec TLS: a plain load). */
static __thread uint64_t tls_tstate __attribute__((tls_model("initial-exec")));

void pyframes_configure(const pyframes_config *cfg)
{
    static int next;
    if (!cfg) {
        atomic_store(&g_active, NULL);
        return;
    }
    g_cfg[next] = *cfg;
    atomic_store(&g_active, &g_cfg[next]);
    next ^= 1;
}

void pyframes_set_ranges(const unwind_ranges *r, uint64_t heap_lo)
{
    atomic_store(&g_heap_lo, heap_lo);
    atomic_store(&g_ranges, r);
}

uint64_t pyframes_misses(void)
{
    return atomic_load_explicit(&g_misses, memory_order_relaxed);
}

/* A reader over one ranges snapshot. The ranges that matched last are tried first: a
 * sample's reads alternate between a few mappings (the frame stack, the code objects'
 * arena, the strings'), each else a binary search over hundreds of ranges. */
enum { READER_RECENT = 4, READER_PAGES = 8, PAGE = 4096 };
typedef struct reader {
    const unwind_ranges *r;
    struct unwind_range recent[READER_RECENT]; /* copies; empty ones are {0, 0} */
    unsigned next;                             /* the recent entry replaced next */
    int slow_left; /* reads past the snapshot still allowed in this sample */
    uint64_t pages[READER_PAGES]; /* pages the kernel read from in this sample (read_slow) */
    unsigned next_page;
} reader;

static bool in_snapshot(reader *rd, uint64_t addr, size_t len)
{
    if (addr + len < addr)
        return false;
    for (unsigned i = 0; i < READER_RECENT; i++)
        if (addr >= rd->recent[i].lo && addr + len <= rd->recent[i].hi)
            return true;
    const struct unwind_range *hit = unwind_ranges_find(rd->r, addr);
    if (!hit || addr + len > hit->hi)
        return false;
    rd->recent[rd->next++ % READER_RECENT] = *hit;
    return true;
}

/* Inside a page a read through the kernel succeeded on earlier in this sample? An empty
 * entry is 0, which page 0 would match: a NULL code pointer's fields (a frame being set
 * up, read as 0) were "readable" there, and Python 3.12's churn under CI crashed reading
 * address 8. Nothing below 64 KB is mapped in user space (read_slow never reads there). */
static bool in_read_page(const reader *rd, uint64_t addr, size_t len)
{
    uint64_t page = addr & ~(uint64_t)(PAGE - 1);
    if (addr < 0x10000 || ((addr + len - 1) & ~(uint64_t)(PAGE - 1)) != page)
        return false;
    for (unsigned i = 0; i < READER_PAGES; i++)
        if (rd->pages[i] == page)
            return true;
    return false;
}

static bool readable(reader *rd, uint64_t addr, size_t len)
{
    if (addr + len < addr)
        return false;
    if (in_snapshot(rd, addr, len) || in_read_page(rd, addr, len))
        return true;
    /* The brk heap grows and shrinks all the time (malloc trims it): its current end is
     * glibc's cached break, which sbrk(0) returns without a system call. */
    uint64_t heap_lo = atomic_load_explicit(&g_heap_lo, memory_order_relaxed);
    if (heap_lo && addr >= heap_lo && addr + len <= (uint64_t)(uintptr_t)sbrk(0))
        return true;
    atomic_fetch_add_explicit(&g_misses, 1, memory_order_relaxed);
    return false;
}

/* Memory mapped since the snapshot (a heap grown, a new arena or frame chunk: a deep
 * recursion's frames live there) is read by the kernel, which fails the copy instead of
 * faulting; a few times a sample at most. */
static bool read_slow(reader *rd, uint64_t addr, void *out, size_t len)
{
    if (rd->slow_left <= 0 || addr < 0x10000 || addr >= (1ull << 47))
        return false; /* nothing is mapped there in user space */
    rd->slow_left--;
    PHASE_COUNT_ADD(PHASE_PYSLOW, 1);
    struct iovec local = { out, len }, remote = { (void *)(uintptr_t)addr, len };
    long pid = syscall(SYS_getpid);
    if (syscall(SYS_process_vm_readv, pid, &local, 1, &remote, 1, 0) != (long)len)
        return false;
    /* The page is mapped: the rest of this sample reads it in place. A thread's first
     * samples read everything it made since the snapshot (its frame chunk, in 3.11+ its
     * own mapping; new arenas): one system call a word was ~50 a sample, a handler median
     * of 27 us in `python3 -m http.server` under load (a thread a request). Only for this
     * sample: the snapshot's rule, that memory read without the kernel was mapped a moment
     * ago, with a window of microseconds instead of the snapshot's milliseconds. */
    rd->pages[rd->next_page++ % READER_PAGES] = addr & ~(uint64_t)(PAGE - 1);
    return true;
}

static bool read_u64(reader *rd, uint64_t addr, uint64_t *out)
{
    if (addr & 7)
        return false;
    if (!readable(rd, addr, 8))
        return read_slow(rd, addr, out, 8);
    *out = util_foreign_load(addr);
    return true;
}

static bool read_i32(reader *rd, uint64_t addr, int32_t *out)
{
    if (addr & 3)
        return false;
    if (!readable(rd, addr, 4))
        return read_slow(rd, addr, out, 4);
    *out = *(const volatile int32_t *)(uintptr_t)addr;
    return true;
}

static bool read_u8(reader *rd, uint64_t addr, uint8_t *out)
{
    if (!readable(rd, addr, 1))
        return read_slow(rd, addr, out, 1);
    *out = *(const volatile uint8_t *)(uintptr_t)addr;
    return true;
}

/* Does the thread state at ts belong to this thread and interpreter? */
static bool is_ours(reader *rd, const pylayout *l, uint64_t ts, uint64_t interp, uint64_t self)
{
    uint64_t tid, in;
    return read_u64(rd, ts + (uint64_t)l->tstate_thread_id, &tid) && tid == self &&
           read_u64(rd, ts + (uint64_t)l->tstate_interp, &in) && in == interp;
}

/* This thread's state (and its interpreter, into *interp): the cached one if it still
 * checks out, else a bounded walk of the main interpreter's thread list. 0 when the thread
 * runs no Python. */
static uint64_t find_tstate(reader *rd, const pyframes_config *c, uint64_t *interp_out)
{
    const pylayout *l = &c->layout;
    uint64_t interp, fin, self = (uint64_t)pthread_self();
    if (!read_u64(rd, c->runtime + (uint64_t)l->runtime_finalizing, &fin) || fin != 0 ||
        !read_u64(rd, c->runtime + (uint64_t)l->runtime_interp_head, &interp) || !interp)
        return 0; /* shutting down: thread states are being freed */
    *interp_out = interp;
    if (tls_tstate && is_ours(rd, l, tls_tstate, interp, self))
        return tls_tstate;
    uint64_t ts;
    if (!read_u64(rd, interp + (uint64_t)l->interp_tstate_head, &ts))
        return 0;
    for (int i = 0; ts && i < MAX_THREADS; i++) {
        if (is_ours(rd, l, ts, interp, self)) {
            tls_tstate = ts;
            return ts;
        }
        if (!read_u64(rd, ts + (uint64_t)l->tstate_next, &ts))
            return 0;
    }
    return 0;
}

/* ---- the text hash (util/text_hash.h) of a str's characters ---- */

/* The text hash of the str at s (a compact str: every str CPython makes for code). Read in
 * place inside the snapshot, else in 64-byte pieces through the kernel. */
static bool text_hash(reader *rd, const pylayout *l, uint64_t s, uint64_t *out)
{
    uint64_t len;
    int32_t state;
    if (!read_u64(rd, s + 16, &len) || !read_i32(rd, s + (uint64_t)l->str_state, &state))
        return false;
    unsigned kind = ((unsigned)state >> 2) & 7, compact = ((unsigned)state >> 5) & 1,
             ascii = ((unsigned)state >> 6) & 1;
    if (!compact || (kind != 1 && kind != 2 && kind != 4))
        return false;
    if (len > PYFRAMES_STR_MAX) /* named by its first PYFRAMES_STR_MAX characters */
        len = PYFRAMES_STR_MAX;
    uint64_t data = s + (uint64_t)(ascii ? l->str_ascii_data : l->str_compact_data);
    size_t n = (size_t)len * kind;
    uint64_t h = util_text_hash_begin(kind, n);
    if (readable(rd, data, n)) {
        h = util_text_hash_feed(h, (const unsigned char *)(uintptr_t)data, n);
    } else {
        unsigned char buf[64];
        for (size_t off = 0; off < n; off += sizeof buf) {
            size_t c = n - off < sizeof buf ? n - off : sizeof buf;
            if (!read_slow(rd, data + off, buf, c))
                return false;
            h = util_text_hash_feed(h, buf, c);
        }
    }
    *out = util_text_hash_end(h);
    return true;
}

/* One frame's code object, identity and instruction offset; false if it does not check
 * out as a code object. prev: the frame read before it in this sample (code 0: none). */
static bool read_code(reader *rd, const pyframes_config *c, uint64_t frame,
                      const ring_pyframe *prev, ring_pyframe *out)
{
    const pylayout *l = &c->layout;
    uint64_t code, type, name, file, nh, fh, ident;
    int32_t first;
    if (!read_u64(rd, frame + (uint64_t)l->frame_code, &code) || !code)
        return false; /* NULL: a frame being set up (it matched a first frame's "none") */
    if (code == prev->code) { /* recursion: the code of the frame before, alive as it */
        ident = prev->ident;
        first = prev->firstlineno;
    } else {
        int name_off = l->code_qualname >= 0 ? l->code_qualname : l->code_name;
        if (!read_u64(rd, code + 8, &type) || type != c->code_type ||
            !read_u64(rd, code + (uint64_t)name_off, &name) ||
            !read_u64(rd, code + (uint64_t)l->code_filename, &file) ||
            !read_i32(rd, code + (uint64_t)l->code_firstlineno, &first) ||
            !text_hash(rd, l, name, &nh) || !text_hash(rd, l, file, &fh))
            return false;
        ident = pyframes_ident(nh, fh);
    }
    int32_t instr = -1;
    if (l->frame_owner < 0) { /* f_lasti */
        read_i32(rd, frame + (uint64_t)l->frame_instr, &instr);
    } else {
        uint64_t ip;
        uint64_t base = code + (uint64_t)l->code_code;
        if (read_u64(rd, frame + (uint64_t)l->frame_instr, &ip) && ip >= base &&
            ip - base < (1u << 30))
            instr = (int32_t)(ip - base);
    }
    *out = (ring_pyframe){ code, ident, first, instr, 0, 0 };
    return true;
}

/* Load what the frames' reads will touch, in two overlapped rounds instead of one cold
 * line after another: the code objects of the first PREFETCH_FRAMES frames, then their
 * name and file strings (header and first characters). Only in-snapshot words are read
 * here; prefetches never fault. */
enum { PREFETCH_FRAMES = 32 };

static void prefetch_chain(reader *rd, const pylayout *l, uint64_t frame)
{
    uint64_t codes[PREFETCH_FRAMES];
    int n = 0;
    int name_off = l->code_qualname >= 0 ? l->code_qualname : l->code_name;
    for (int i = 0; frame && i < PREFETCH_FRAMES; i++) {
        uint64_t code = 0;
        uint64_t at = frame + (uint64_t)l->frame_code;
        uint64_t prev = frame + (uint64_t)l->frame_previous;
        if (!(at & 7) && in_snapshot(rd, at, 8))
            code = util_foreign_load(at);
        if (code) {
            codes[n++] = code;
            __builtin_prefetch((const void *)(uintptr_t)(code + 8));
            __builtin_prefetch((const void *)(uintptr_t)(code + (uint64_t)name_off));
            __builtin_prefetch((const void *)(uintptr_t)(code + (uint64_t)l->code_filename));
        }
        if ((prev & 7) || !in_snapshot(rd, prev, 8))
            break;
        frame = util_foreign_load(prev);
    }
    for (int i = 0; i < n; i++) {
        uint64_t at[2] = { codes[i] + (uint64_t)name_off,
                           codes[i] + (uint64_t)l->code_filename };
        for (int k = 0; k < 2; k++) {
            if ((at[k] & 7) || !in_snapshot(rd, at[k], 8))
                continue;
            uint64_t str = util_foreign_load(at[k]);
            __builtin_prefetch((const void *)(uintptr_t)str);
            __builtin_prefetch((const void *)(uintptr_t)(str + 64));
        }
    }
}

/* Does thread state ts of interpreter interp hold the GIL? Two or three reads. */
static pyframes_gil gil_state(reader *rd, const pyframes_config *c, uint64_t interp, uint64_t ts)
{
    const pylayout *l = &c->layout;
    uint64_t gil, holder;
    int32_t locked;
    if (!c->gil)
        return PYFRAMES_GIL_UNKNOWN;
    if (l->runtime_gil >= 0)
        gil = c->runtime + (uint64_t)l->runtime_gil;
    else if (!read_u64(rd, interp + (uint64_t)l->interp_gil_ptr, &gil) || !gil)
        return PYFRAMES_GIL_UNKNOWN;
    if (!read_i32(rd, gil + (uint64_t)l->gil_locked, &locked) ||
        !read_u64(rd, gil + (uint64_t)l->gil_holder, &holder))
        return PYFRAMES_GIL_UNKNOWN;
    return locked == 1 && holder == ts ? PYFRAMES_GIL_HELD : PYFRAMES_GIL_NOT_HELD;
}

size_t pyframes_read(ring_pyframe *py, size_t max, pyframes_gil *gil)
{
    const pyframes_config *c = atomic_load_explicit(&g_active, memory_order_acquire);
    const unwind_ranges *ranges = atomic_load_explicit(&g_ranges, memory_order_acquire);
    *gil = PYFRAMES_GIL_UNKNOWN;
    if (!c || !ranges || max == 0)
        return 0;
    reader rd = { .r = ranges, .slow_left = MAX_SLOW };
    const pylayout *l = &c->layout;
    uint64_t interp = 0, ts = find_tstate(&rd, c, &interp), frame;
    if (!ts || !read_u64(&rd, ts + (uint64_t)l->tstate_frame, &frame))
        return 0;
    if (l->cframe_current >= 0 && frame &&
        !read_u64(&rd, frame + (uint64_t)l->cframe_current, &frame))
        return 0;
    prefetch_chain(&rd, l, frame);
    size_t n = 0;
    for (int i = 0; frame && i < MAX_FRAMES && n < max; i++) {
        uint8_t owner = 0, entry = 0;
        if (l->frame_owner >= 0 && !read_u8(&rd, frame + (uint64_t)l->frame_owner, &owner))
            break;
        if (owner == PY_OWNED_BY_CSTACK) { /* 3.12+: one C evaluation call starts here */
            if (n)
                py[n - 1].flags |= RING_PY_ENTRY;
        } else {
            static const ring_pyframe none;
            if (!read_code(&rd, c, frame, n ? &py[n - 1] : &none, &py[n]))
                break;
            if (l->frame_is_entry >= 0)
                read_u8(&rd, frame + (uint64_t)l->frame_is_entry, &entry);
            /* Before 3.11 each frame has its own C call; 3.11 marks the call's first. */
            if (l->frame_owner < 0 || entry)
                py[n].flags |= RING_PY_ENTRY;
            n++;
        }
        if (!read_u64(&rd, frame + (uint64_t)l->frame_previous, &frame))
            break;
    }
    if (n) {
        py[n - 1].flags |= RING_PY_ENTRY;
        *gil = gil_state(&rd, c, interp, ts);
    }
    return n;
}

size_t pyframes_splice(uint64_t *pcs, size_t off, size_t n, size_t max,
                       const ring_pyframe *py, size_t npy)
{
    const pyframes_config *c = atomic_load_explicit(&g_active, memory_order_acquire);
    size_t w = 0, k = 0;
    for (size_t r = off; r < off + n && w < max; r++) {
        uint64_t pc = pcs[r];
        /* A return address may sit one past a call at the very end of the function. */
        uint64_t at = r > off ? pc - 1 : pc;
        if (!c || k >= npy || at < c->eval_lo || at >= c->eval_hi) {
            pcs[w++] = pc;
            continue;
        }
        /* This evaluation call runs py[k] up to and including its entry frame. */
        do
            pcs[w++] = RING_PY_PC(k);
        while (!(py[k++].flags & RING_PY_ENTRY) && k < npy && w < max);
    }
    while (k < npy && w < max) /* the native walk stopped short of these calls */
        pcs[w++] = RING_PY_PC(k++);
    return w;
}
