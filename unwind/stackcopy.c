/* stackcopy.c - stacks copied in the handler, walked again on the aggregator thread. */
#include "stackcopy.h"

#include <stdatomic.h>

#include "foreign_load.h"

typedef struct stackcopy_slot {
    atomic_int busy;
    unwind_regs regs;
    uint64_t len; /* bytes copied from regs.sp */
    _Alignas(16) unsigned char bytes[STACKCOPY_BYTES];
} stackcopy_slot;

static stackcopy_slot slots[STACKCOPY_SLOTS]; /* .bss: no memory until a copy is made */
static _Atomic uint64_t g_paused_until; /* CLOCK_MONOTONIC ns */
static unsigned g_useless;              /* copies in a row that did not help */

uint32_t stackcopy_take(unwind_regs regs, uint64_t stack_end, uint64_t now_ns)
{
    if (stack_end <= regs.sp || (regs.sp & 7) ||
        now_ns < atomic_load_explicit(&g_paused_until, memory_order_relaxed))
        return 0;
    for (uint32_t i = 0; i < STACKCOPY_SLOTS; i++) {
        int expected = 0;
        if (!atomic_compare_exchange_strong(&slots[i].busy, &expected, 1))
            continue;
        stackcopy_slot *s = &slots[i];
        uint64_t len = stack_end - regs.sp;
        s->len = (len < STACKCOPY_BYTES ? len : STACKCOPY_BYTES) & ~(uint64_t)7;
        s->regs = regs;
        /* The interrupted thread's own stack, [sp, stack_end) mapped (sampler.h), word by
         * word as the walk reads it: a memcpy is checked under AddressSanitizer, and the
         * stack's redzones are no bug of ours (foreign_load.h). */
        uint64_t *to = (uint64_t *)(void *)s->bytes;
        for (uint64_t off = 0; off < s->len; off += 8)
            to[off / 8] = util_foreign_load(regs.sp + off);
        return i + 1;
    }
    return 0;
}

unwind_result stackcopy_walk(uint32_t copy, const unwind_ctx *ctx, uint64_t *pcs, size_t max)
{
    unwind_result none = { 0, 0, 0, 0, false };
    if (copy == 0 || copy > STACKCOPY_SLOTS)
        return none;
    const stackcopy_slot *s = &slots[copy - 1];
    unwind_ctx c = *ctx;
    c.memo = NULL;
    c.last = NULL;
    c.go = NULL;
    c.copy_shift = (uint64_t)(uintptr_t)s->bytes - s->regs.sp;
    return unwind_walk(&c, s->regs, s->regs.sp + s->len, pcs, max);
}

void stackcopy_judge(bool helped, uint64_t now_ns)
{
    g_useless = helped ? 0 : g_useless + 1;
    if (g_useless >= STACKCOPY_USELESS) {
        g_useless = 0;
        atomic_store_explicit(&g_paused_until, now_ns + STACKCOPY_PAUSE_NS,
                              memory_order_relaxed);
    }
}

void stackcopy_release(uint32_t copy)
{
    if (copy >= 1 && copy <= STACKCOPY_SLOTS)
        atomic_store(&slots[copy - 1].busy, 0);
}

void stackcopy_reset(void)
{
    g_useless = 0;
    atomic_store(&g_paused_until, 0);
    for (int i = 0; i < STACKCOPY_SLOTS; i++)
        atomic_store(&slots[i].busy, 0);
}
