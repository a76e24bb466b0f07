/* ring.c - bounded MPSC queue of samples (sequence-numbered slots). */
#include "ring.h"

#include <stddef.h>
#include <sys/mman.h>

int ring_init(ring *r, size_t nslots)
{
    size_t n = 1;
    while (n < nslots)
        n <<= 1;
    /* mmap, not malloc: pages are touched only as far as stacks are deep, and the ring
     * lives outside the host's heap. */
    void *p = mmap(NULL, n * sizeof(ring_slot), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    r->slots = p;
    r->mask = n - 1;
    ring_reset(r);
    return 0;
}

void ring_destroy(ring *r)
{
    if (r->slots)
        munmap(r->slots, (r->mask + 1) * sizeof(ring_slot));
    r->slots = NULL;
}

void ring_reset(ring *r)
{
    for (size_t i = 0; i <= r->mask; i++)
        atomic_store_explicit(&r->slots[i].seq, i, memory_order_relaxed);
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    r->tail = 0;
    atomic_thread_fence(memory_order_release);
}

ring_sample *ring_claim(ring *r)
{
    size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        ring_slot *slot = &r->slots[pos & r->mask];
        size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)pos;
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed))
                return &slot->s;
        } else if (dif < 0) {
            return NULL; /* full: the consumer has not released this slot yet */
        } else {
            pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
}

static ring_slot *slot_of(ring_sample *s)
{
    return (ring_slot *)((char *)s - offsetof(ring_slot, s));
}

void ring_publish(ring *r, ring_sample *s)
{
    (void)r;
    ring_slot *slot = slot_of(s);
    /* The slot was claimed at the position p equal to its seq; p + 1 marks it full. */
    size_t pos = atomic_load_explicit(&slot->seq, memory_order_relaxed);
    atomic_store_explicit(&slot->seq, pos + 1, memory_order_release);
}

const ring_sample *ring_peek(ring *r)
{
    ring_slot *slot = &r->slots[r->tail & r->mask];
    size_t seq = atomic_load_explicit(&slot->seq, memory_order_acquire);
    return seq == r->tail + 1 ? &slot->s : NULL;
}

void ring_release(ring *r)
{
    ring_slot *slot = &r->slots[r->tail & r->mask];
    atomic_store_explicit(&slot->seq, r->tail + r->mask + 1, memory_order_release);
    r->tail++;
}
