/* cfi_memo.c - a direct-mapped, seqlock-per-entry memo of CFI rows; see cfi_memo.h. */
#include "cfi_memo.h"

#include "huge_map.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

enum { MEMO_BITS = 16, MEMO_ENTRIES = 1 << MEMO_BITS, HUGE_PAGE = 2 << 20 };

/* 32 bytes: two entries a cache line, never one split across two. The row is kept as two
 * words so every field is an atomic access (readers race with writers by design). */
typedef struct memo_entry {
    _Atomic uint32_t seq; /* odd while written */
    _Atomic uint32_t gen;
    _Atomic uint64_t addr;
    _Atomic uint64_t row[2];
} memo_entry;

_Static_assert(sizeof(memo_entry) == 32, "a memo entry is 32 bytes");
_Static_assert(sizeof(cfi_row) == 16, "a cfi_row is two words");

struct cfi_memo {
    memo_entry e[MEMO_ENTRIES];
};

cfi_memo *cfi_memo_new(void)
{
    /* One huge page's worth, aligned to one, so the kernel can back it with a single huge
     * page. */
    _Static_assert(sizeof(cfi_memo) == HUGE_PAGE, "the memo is one huge page");
    return util_huge_map(sizeof(cfi_memo));
}

void cfi_memo_populate(cfi_memo *m)
{
    if (!m)
        return;
#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23 /* Linux 5.14 */
#endif
    if (madvise(m, sizeof *m, MADV_POPULATE_WRITE) == 0)
        return;
    /* An older kernel: a write access to each page that changes nothing (an atomic add of
     * 0 to the sequence number of its first entry, safe against concurrent writers). */
    for (size_t i = 0; i < MEMO_ENTRIES; i += 4096 / sizeof(memo_entry))
        atomic_fetch_add_explicit(&m->e[i].seq, 0, memory_order_relaxed);
}

void cfi_memo_free(cfi_memo *m)
{
    util_huge_unmap(m, sizeof *m);
}

static memo_entry *slot(const cfi_memo *m, uint64_t addr)
{
    uint64_t h = (addr * 0x9e3779b97f4a7c15ull) >> (64 - MEMO_BITS);
    return (memo_entry *)&m->e[h];
}

bool cfi_memo_get(const cfi_memo *m, uint64_t addr, uint32_t gen, cfi_row *out)
{
    if (!m)
        return false;
    memo_entry *e = slot(m, addr);
    uint32_t s1 = atomic_load_explicit(&e->seq, memory_order_acquire);
    if (s1 & 1)
        return false;
    uint64_t a = atomic_load_explicit(&e->addr, memory_order_relaxed);
    uint32_t g = atomic_load_explicit(&e->gen, memory_order_relaxed);
    uint64_t w[2] = { atomic_load_explicit(&e->row[0], memory_order_relaxed),
                      atomic_load_explicit(&e->row[1], memory_order_relaxed) };
    atomic_thread_fence(memory_order_acquire);
    if (atomic_load_explicit(&e->seq, memory_order_relaxed) != s1 || a != addr || g != gen ||
        s1 == 0)
        return false; /* changed under us, another address, or never written */
    memcpy(out, w, sizeof *out);
    return true;
}

void cfi_memo_prefetch(const cfi_memo *m, uint64_t addr)
{
    if (m)
        __builtin_prefetch(slot(m, addr));
}

void cfi_memo_put(cfi_memo *m, uint64_t addr, uint32_t gen, const cfi_row *row)
{
    if (!m)
        return;
    memo_entry *e = slot(m, addr);
    uint32_t s = atomic_load_explicit(&e->seq, memory_order_relaxed);
    if ((s & 1) || !atomic_compare_exchange_strong_explicit(&e->seq, &s, s + 1,
                                                            memory_order_acquire,
                                                            memory_order_relaxed))
        return; /* another thread is writing it: its row will do */
    /* Whoever reads one of the words below also sees the odd number after it. */
    atomic_thread_fence(memory_order_release);
    uint64_t w[2];
    memcpy(w, row, sizeof w);
    atomic_store_explicit(&e->addr, addr, memory_order_relaxed);
    atomic_store_explicit(&e->gen, gen, memory_order_relaxed);
    atomic_store_explicit(&e->row[0], w[0], memory_order_relaxed);
    atomic_store_explicit(&e->row[1], w[1], memory_order_relaxed);
    /* 0 means "never written": a wrap past it skips to 2. */
    atomic_store_explicit(&e->seq, s + 2 == 0 ? 2 : s + 2, memory_order_release);
}
