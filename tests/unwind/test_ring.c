/* test_ring.c - the sample ring under concurrent producers and one consumer.
 *
 * Four producer threads each publish N samples tagged (thread, sequence) while one consumer
 * drains. Asserts: every published sample is received exactly once, in per-producer order,
 * with its payload intact; claims fail (never block) when the ring is full, and
 * published + refused == attempted. And the doze: a consumer may doze only on an empty
 * ring; the first publish after it gets true (wake the consumer), the next ones false. */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ring.h"

enum { PRODUCERS = 4, PER_PRODUCER = 50000, SLOTS = 64 };

static ring g_ring;
static atomic_ulong g_refused;
static atomic_int g_done;

static void *producer(void *arg)
{
    uint32_t id = (uint32_t)(uintptr_t)arg;
    for (uint32_t seq = 0; seq < PER_PRODUCER;) {
        ring_sample *s = ring_claim(&g_ring);
        if (!s) {
            atomic_fetch_add(&g_refused, 1);
            continue; /* a full ring refuses; the profiler counts a drop, we retry */
        }
        s->tid = id;
        s->weight = seq;
        s->depth = (uint16_t)(1 + seq % 8);
        for (uint16_t i = 0; i < s->depth; i++)
            s->pcs[i] = ((uint64_t)id << 32) | (seq + i);
        ring_publish(&g_ring, s);
        seq++;
    }
    atomic_fetch_add(&g_done, 1);
    return NULL;
}

int main(void)
{
    if (ring_init(&g_ring, SLOTS) != 0) {
        CHECKF(0, "ring_init failed");
        return check_status("test_ring");
    }
    /* Full ring: SLOTS claims succeed, the next one is refused at once. */
    for (int i = 0; i < SLOTS; i++)
        ring_publish(&g_ring, ring_claim(&g_ring));
    CHECKF(ring_claim(&g_ring) == NULL, "claim on a full ring succeeded");
    for (int i = 0; i < SLOTS; i++) {
        ring_peek(&g_ring);
        ring_release(&g_ring);
    }

    /* The doze (aggregator.h): refused while a sample waits; else one wake, then none. */
    CHECKF(!ring_publish(&g_ring, ring_claim(&g_ring)), "publish without a doze said wake");
    CHECKF(!ring_set_dozing(&g_ring, true), "dozed with a sample waiting");
    CHECKF(!ring_publish(&g_ring, ring_claim(&g_ring)), "a refused doze still asked a wake");
    for (int i = 0; i < 2; i++) {
        ring_peek(&g_ring);
        ring_release(&g_ring);
    }
    CHECKF(ring_set_dozing(&g_ring, true), "no doze on an empty ring");
    CHECKF(ring_publish(&g_ring, ring_claim(&g_ring)), "the first publish in a doze: no wake");
    CHECKF(!ring_publish(&g_ring, ring_claim(&g_ring)), "a second publish woke again");
    CHECKF(ring_set_dozing(&g_ring, false), "waking up refused");
    for (int i = 0; i < 2; i++) {
        ring_peek(&g_ring);
        ring_release(&g_ring);
    }

    pthread_t t[PRODUCERS];
    for (uintptr_t i = 0; i < PRODUCERS; i++)
        pthread_create(&t[i], NULL, producer, (void *)i);
    uint32_t next[PRODUCERS] = { 0 };
    uint64_t received = 0, corrupt = 0;
    while (atomic_load(&g_done) < PRODUCERS || ring_peek(&g_ring)) {
        const ring_sample *s = ring_peek(&g_ring);
        if (!s)
            continue;
        int bad = s->tid >= PRODUCERS || s->weight != next[s->tid] ||
                  s->depth != 1 + s->weight % 8;
        for (uint16_t i = 0; !bad && i < s->depth; i++)
            bad = s->pcs[i] != (((uint64_t)s->tid << 32) | (s->weight + i));
        if (bad && ++corrupt <= 5) /* the first few tell what went wrong */
            fprintf(stderr, "sample tid=%u seq=%u (want seq %u) corrupt or out of order\n",
                    s->tid, s->weight, s->tid < PRODUCERS ? next[s->tid] : 0);
        if (s->tid < PRODUCERS)
            next[s->tid] = s->weight + 1;
        received++;
        ring_release(&g_ring);
    }
    for (int i = 0; i < PRODUCERS; i++)
        pthread_join(t[i], NULL);
    CHECKF(corrupt == 0, "%llu samples corrupt or out of order", (unsigned long long)corrupt);
    CHECKF(received == (uint64_t)PRODUCERS * PER_PRODUCER, "received %llu samples, want %d",
           (unsigned long long)received, PRODUCERS * PER_PRODUCER);
    printf("ring: %llu samples through %d slots, %lu claims refused while full\n",
           (unsigned long long)received, SLOTS, (unsigned long)atomic_load(&g_refused));
    ring_destroy(&g_ring);
    return check_status("test_ring");
}
