/* ring.c - free list of sample slots + ordered queue of published ones. */
#include "ring.h"

#include <sys/mman.h>

static void *map_zeroed(size_t size)
{
    void *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    return p == MAP_FAILED ? NULL : p;
}

int ring_init(ring *r, size_t nslots)
{
    size_t n = 1;
    while (n < nslots)
        n <<= 1;
    /* mmap, not malloc: the ring lives outside the host's heap. Slot pages are touched
     * only as far as stacks are deep and as many slots as are ever in flight at once. */
    r->slots = map_zeroed(n * sizeof(ring_sample));
    r->next_free = map_zeroed(n * sizeof(*r->next_free));
    r->queue = map_zeroed(n * sizeof(ring_entry));
    r->mask = n - 1;
    if (!r->slots || !r->next_free || !r->queue) {
        ring_destroy(r);
        return -1;
    }
    ring_reset(r);
    return 0;
}

void ring_destroy(ring *r)
{
    size_t n = r->mask + 1;
    if (r->slots)
        munmap(r->slots, n * sizeof(ring_sample));
    if (r->next_free)
        munmap((void *)r->next_free, n * sizeof(*r->next_free));
    if (r->queue)
        munmap(r->queue, n * sizeof(ring_entry));
    r->slots = NULL;
    r->next_free = NULL;
    r->queue = NULL;
}

void ring_reset(ring *r)
{
    /* Free list 0 -> 1 -> ... -> n-1, so the first slots are the ones reused. */
    for (size_t i = 0; i <= r->mask; i++) {
        atomic_store_explicit(&r->next_free[i], i < r->mask ? (uint32_t)(i + 2) : 0,
                              memory_order_relaxed);
        atomic_store_explicit(&r->queue[i].seq, i, memory_order_relaxed);
    }
    atomic_store_explicit(&r->free_head, 1, memory_order_relaxed);
    atomic_store_explicit(&r->head, 0, memory_order_relaxed);
    atomic_store_explicit(&r->dozing, 0, memory_order_relaxed);
    r->tail = 0;
    atomic_thread_fence(memory_order_release);
}

/* Pop a free slot. The tag changes on every successful pop, so a head that was popped and
 * pushed back in between (ABA) makes the compare-and-swap fail. */
static int64_t free_pop(ring *r)
{
    uint64_t head = atomic_load_explicit(&r->free_head, memory_order_acquire);
    for (;;) {
        uint32_t top = (uint32_t)head;
        if (top == 0)
            return -1;
        /* May read a link the consumer is rewriting: then the tag has moved and the
         * compare-and-swap fails. */
        uint32_t link = atomic_load_explicit(&r->next_free[top - 1], memory_order_relaxed);
        uint64_t next = ((head >> 32) + 1) << 32 | link;
        if (atomic_compare_exchange_weak_explicit(&r->free_head, &head, next,
                                                  memory_order_acquire, memory_order_acquire))
            return top - 1;
    }
}

static void free_push(ring *r, uint32_t slot)
{
    uint64_t head = atomic_load_explicit(&r->free_head, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&r->next_free[slot], (uint32_t)head, memory_order_relaxed);
        uint64_t next = (head & 0xffffffff00000000ull) | (slot + 1);
        if (atomic_compare_exchange_weak_explicit(&r->free_head, &head, next,
                                                  memory_order_release, memory_order_relaxed))
            return;
    }
}

ring_sample *ring_claim(ring *r)
{
    int64_t slot = free_pop(r);
    return slot < 0 ? NULL : &r->slots[slot];
}

bool ring_publish(ring *r, ring_sample *s)
{
    /* A queue position is always free here: there are as many positions as slots, and
     * this slot is not in the queue, so the entry one lap back has been released. The
     * acquire load orders our write after the consumer's release of it. */
    size_t pos = atomic_fetch_add_explicit(&r->head, 1, memory_order_relaxed);
    ring_entry *e = &r->queue[pos & r->mask];
    while (atomic_load_explicit(&e->seq, memory_order_acquire) != pos)
        ;
    e->slot = (uint32_t)(s - r->slots);
    atomic_store_explicit(&e->seq, pos + 1, memory_order_release);
    /* The exchange (a locked instruction) only when the consumer dozes: one publisher
     * gets true. */
    return atomic_load_explicit(&r->dozing, memory_order_relaxed) &&
           atomic_exchange_explicit(&r->dozing, 0, memory_order_relaxed);
}

bool ring_set_dozing(ring *r, bool on)
{
    atomic_store(&r->dozing, on ? 1u : 0u); /* seq_cst: ordered before the peek below */
    if (on && ring_peek(r)) {
        atomic_store(&r->dozing, 0);
        return false;
    }
    return true;
}

const ring_sample *ring_peek(ring *r)
{
    ring_entry *e = &r->queue[r->tail & r->mask];
    size_t seq = atomic_load_explicit(&e->seq, memory_order_acquire);
    return seq == r->tail + 1 ? &r->slots[e->slot] : NULL;
}

void ring_release(ring *r)
{
    ring_entry *e = &r->queue[r->tail & r->mask];
    uint32_t slot = e->slot;
    atomic_store_explicit(&e->seq, r->tail + r->mask + 1, memory_order_release);
    r->tail++;
    free_push(r, slot);
}
