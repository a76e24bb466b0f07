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
    void *p = mmap(NULL, n * sizeof(ring_sample), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return -1;
    void *q = mmap(NULL, n * sizeof(size_t), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (q == MAP_FAILED) {
        munmap(p, n * sizeof(ring_sample));
        return -1;
    }
    r->slots = p;
    r->seq = q;
    r->mask = n - 1;
    ring_reset(r);
    return 0;
}

void ring_destroy(ring *r)
{
    if (r->slots) {
        munmap(r->slots, (r->mask + 1) * sizeof(ring_sample));
        munmap((void *)r->seq, (r->mask + 1) * sizeof(size_t));
    }
    r->slots = NULL;
}

void ring_reset(ring *r)
{
    for (size_t i = 0; i <= r->mask; i++)
        atomic_store_explicit(&r->seq[i], i, memory_order_relaxed);
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    r->tail = 0;
    atomic_thread_fence(memory_order_release);
}

ring_sample *ring_claim(ring *r)
{
    size_t pos = atomic_load_explicit(&r->head, memory_order_relaxed);
    for (;;) {
        size_t seq = atomic_load_explicit(&r->seq[pos & r->mask], memory_order_acquire);
        intptr_t dif = (intptr_t)seq - (intptr_t)pos;
        if (dif == 0) {
            if (atomic_compare_exchange_weak_explicit(&r->head, &pos, pos + 1,
                                                      memory_order_relaxed,
                                                      memory_order_relaxed))
                return &r->slots[pos & r->mask];
        } else if (dif < 0) {
            return NULL; /* full: the consumer has not released this slot yet */
        } else {
            pos = atomic_load_explicit(&r->head, memory_order_relaxed);
        }
    }
}

void ring_publish(ring *r, ring_sample *s)
{
    _Atomic size_t *seq = &r->seq[s - r->slots];
    /* The slot was claimed at the position p equal to its seq; p + 1 marks it full. */
    size_t pos = atomic_load_explicit(seq, memory_order_relaxed);
    atomic_store_explicit(seq, pos + 1, memory_order_release);
}

const ring_sample *ring_peek(ring *r)
{
    size_t i = r->tail & r->mask;
    size_t seq = atomic_load_explicit(&r->seq[i], memory_order_acquire);
    return seq == r->tail + 1 ? &r->slots[i] : NULL;
}

void ring_release(ring *r)
{
    atomic_store_explicit(&r->seq[r->tail & r->mask], r->tail + r->mask + 1,
                          memory_order_release);
    r->tail++;
}
