/* stacks.c - hash table of unique stacks, entries bump-allocated in chunks. */
#include "stacks.h"

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

enum { CHUNK_SIZE = 1 << 20 };

void stacks_init(stack_table *t)
{
    memset(t, 0, sizeof *t);
}

void stacks_free(stack_table *t)
{
    void *c = t->chunks;
    while (c) {
        void *next = *(void **)c;
        free(c);
        c = next;
    }
    free(t->slots);
    free(t->by_id);
    bool by_thread = t->by_thread;
    memset(t, 0, sizeof *t);
    t->by_thread = by_thread;
}

/* The identity of a stack: its pcs and what they are to be resolved against. */
typedef struct stack_key {
    const ring_sample *s;
    uint32_t pm_gen, jvm_gen, tid;
} stack_key;

static uint64_t stack_hash(const stack_key *k)
{
    const ring_sample *s = k->s;
    uint64_t h = 0x9e3779b97f4a7c15ull ^ ((uint64_t)s->gen << 32) ^ s->depth ^
                 ((uint64_t)s->flags << 16) ^ ((uint64_t)k->pm_gen << 40) ^
                 ((uint64_t)k->jvm_gen << 20) ^ ((uint64_t)k->tid * 0x9e3779b1u);
    for (size_t i = 0; i < s->depth; i++) {
        h ^= s->pcs[i];
        h *= 0xff51afd7ed558ccdull;
        h ^= h >> 32;
    }
    return h;
}

static bool same_stack(const stack_entry *e, const stack_key *k, uint64_t h)
{
    const ring_sample *s = k->s;
    return e->hash == h && e->gen == s->gen && e->depth == s->depth && e->flags == s->flags &&
           e->pm_gen == k->pm_gen && e->jvm_gen == k->jvm_gen && e->tid == k->tid &&
           memcmp(e->pcs, s->pcs, s->depth * sizeof s->pcs[0]) == 0;
}

static void *arena_alloc(stack_table *t, size_t size)
{
    size = (size + 15) & ~(size_t)15;
    if (size > t->arena_left) {
        size_t chunk = size + 16 > CHUNK_SIZE ? size + 16 : CHUNK_SIZE;
        char *c = malloc(chunk);
        if (!c)
            return NULL;
        *(void **)c = t->chunks;
        t->chunks = c;
        t->arena = c + 16;
        t->arena_left = chunk - 16;
    }
    void *p = t->arena;
    t->arena += size;
    t->arena_left -= size;
    return p;
}

static int grow(stack_table *t)
{
    size_t cap = t->cap ? t->cap * 2 : 4096;
    stack_entry **slots = calloc(cap, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t i = 0; i < t->cap; i++) {
        stack_entry *e = t->slots[i];
        if (!e)
            continue;
        size_t j = e->hash & (cap - 1);
        while (slots[j])
            j = (j + 1) & (cap - 1);
        slots[j] = e;
    }
    free(t->slots);
    t->slots = slots;
    t->cap = cap;
    return 0;
}

int stacks_add(stack_table *t, const ring_sample *s, uint32_t pm_gen)
{
    return stacks_merge(t, s, pm_gen, s->weight, 1);
}

int stacks_merge(stack_table *t, const ring_sample *s, uint32_t pm_gen, uint64_t weight,
                 uint64_t samples)
{
    return stacks_put(t, s, pm_gen, weight, samples) ? 0 : -1;
}

static int grow_by_id(stack_table *t)
{
    size_t cap = t->by_id_cap ? t->by_id_cap * 2 : 4096;
    stack_entry **v = realloc(t->by_id, cap * sizeof *v);
    if (!v)
        return -1;
    t->by_id = v;
    t->by_id_cap = cap;
    return 0;
}

stack_entry *stacks_put(stack_table *t, const ring_sample *s, uint32_t pm_gen, uint64_t weight,
                        uint64_t samples)
{
    if ((t->len + 1) * 2 > t->cap && grow(t) != 0)
        return NULL;
    if (t->len == t->by_id_cap && grow_by_id(t) != 0)
        return NULL;
    /* Native stacks resolve the same whatever the JIT generations: keep them merged. */
    bool jit = s->flags & RING_JIT;
    stack_key k = { s, jit ? pm_gen : 0, jit ? s->jvm_gen : 0, t->by_thread ? s->tid : 0 };
    uint64_t h = stack_hash(&k);
    size_t j = h & (t->cap - 1);
    for (; t->slots[j]; j = (j + 1) & (t->cap - 1)) {
        stack_entry *e = t->slots[j];
        if (same_stack(e, &k, h)) {
            e->weight += weight;
            e->samples += samples;
            return e;
        }
    }
    stack_entry *e = arena_alloc(t, sizeof *e + s->depth * sizeof s->pcs[0]);
    if (!e)
        return NULL;
    *e = (stack_entry){ .weight = weight, .samples = samples, .hash = h, .gen = s->gen,
                        .pm_gen = k.pm_gen, .jvm_gen = k.jvm_gen, .depth = s->depth,
                        .flags = s->flags, .id = (uint32_t)t->len, .tid = k.tid };
    memcpy(e->pcs, s->pcs, s->depth * sizeof s->pcs[0]);
    t->slots[j] = e;
    t->by_id[t->len++] = e;
    return e;
}

void stacks_foreach(stack_table *t, void (*fn)(stack_entry *e, void *ctx), void *ctx)
{
    for (size_t i = 0; i < t->cap; i++)
        if (t->slots[i])
            fn(t->slots[i], ctx);
}
