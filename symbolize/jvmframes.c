/* jvmframes.c - interpreted and inlined Java frames (see jvmframes.h).
 *
 * Methods: an open-addressing hash from Method* to its id, name and state; names in one
 * growing arena. Compiled code: records in load order, each with its scopes (pc offset
 * and a slice of one array of inlined Method*s), found by pc through a spans.h index
 * rebuilt after a change. */
#include "jvmframes.h"

#include "array.h"
#include "spans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

enum { NAME_MAX_LEN = 1023 };

typedef struct method_slot {
    uint64_t method; /* 0: empty */
    uint64_t id;
    size_t name;     /* offset + 1 in names; 0: not named */
    bool wanted;     /* queued, or named: never queued again */
} method_slot;

typedef struct scope_rec {
    uint32_t off;   /* pc - code start */
    uint32_t first; /* index in frames */
    uint32_t n;
} scope_rec;

typedef struct code_rec {
    uint64_t start, end;
    uint32_t gen;
    size_t first, n; /* slice of scopes, sorted by off */
} code_rec;

struct jvmframes {
    pthread_mutex_t lock;
    method_slot *slots;
    size_t slots_cap, slots_used; /* cap: a power of two */
    char *names;
    size_t names_len, names_cap;
    uint64_t *wanted;
    size_t wanted_head, wanted_len, wanted_cap;
    code_rec *codes;
    size_t codes_len, codes_cap;
    scope_rec *scopes;
    size_t scopes_len, scopes_cap;
    uint64_t *frames;
    size_t frames_len, frames_cap;
    spans index;        /* of codes: up to date when index.len == codes_len */
};

static _Atomic(jvmframes *) g_published;

jvmframes *jvmframes_new(void)
{
    jvmframes *f = calloc(1, sizeof *f);
    if (!f)
        return NULL;
    pthread_mutex_init(&f->lock, NULL);
    return f;
}

void jvmframes_free(jvmframes *f)
{
    if (!f)
        return;
    pthread_mutex_destroy(&f->lock);
    free(f->slots);
    free(f->names);
    free(f->wanted);
    free(f->codes);
    free(f->scopes);
    free(f->frames);
    spans_free(&f->index);
    free(f);
}

void jvmframes_publish(jvmframes *f)
{
    atomic_store_explicit(&g_published, f, memory_order_release);
}

jvmframes *jvmframes_published(void)
{
    return atomic_load_explicit(&g_published, memory_order_acquire);
}

/* ---- methods ---- */

static size_t hash(uint64_t k)
{
    k ^= k >> 33;
    k *= 0xff51afd7ed558ccdu;
    return (size_t)(k ^ (k >> 33));
}

/* The slot of method, or the empty slot where it would go; NULL if the table is empty. */
static method_slot *slot_of(jvmframes *f, uint64_t method)
{
    if (!f->slots_cap)
        return NULL;
    size_t mask = f->slots_cap - 1;
    for (size_t i = hash(method) & mask;; i = (i + 1) & mask)
        if (f->slots[i].method == method || f->slots[i].method == 0)
            return &f->slots[i];
}

static bool rehash(jvmframes *f)
{
    size_t cap = f->slots_cap ? f->slots_cap * 2 : 4096;
    method_slot *old = f->slots, *nu = calloc(cap, sizeof *nu);
    if (!nu)
        return false;
    size_t old_cap = f->slots_cap;
    f->slots = nu;
    f->slots_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].method)
            *slot_of(f, old[i].method) = old[i];
    free(old);
    return true;
}

void jvmframes_add_method(jvmframes *f, uint64_t method, uint64_t id)
{
    if (!method)
        return;
    pthread_mutex_lock(&f->lock);
    if ((f->slots_used + 1) * 4 <= f->slots_cap * 3 || rehash(f)) {
        method_slot *s = slot_of(f, method);
        if (s->method == 0) {
            f->slots_used++;
            *s = (method_slot){ method, id, 0, false };
        } else if (s->id != id) {
            *s = (method_slot){ method, id, 0, false };
        }
    }
    pthread_mutex_unlock(&f->lock);
}

bool jvmframes_want(jvmframes *f, uint64_t method)
{
    pthread_mutex_lock(&f->lock);
    method_slot *s = method ? slot_of(f, method) : NULL;
    bool known = s && s->method == method;
    if (known && !s->wanted && !s->name) {
        if (f->wanted_head > 0 && f->wanted_head == f->wanted_len)
            f->wanted_head = f->wanted_len = 0; /* all taken: start over */
        if (UTIL_RESERVE(f->wanted, f->wanted_cap, f->wanted_len + 1)) {
            f->wanted[f->wanted_len++] = method;
            s->wanted = true;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return known;
}

size_t jvmframes_take_wanted(jvmframes *f, uint64_t *methods, uint64_t *ids, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    while (n < max && f->wanted_head < f->wanted_len) {
        uint64_t m = f->wanted[f->wanted_head++];
        method_slot *s = slot_of(f, m);
        if (s && s->method == m && !s->name) {
            methods[n] = m;
            ids[n++] = s->id;
        }
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}

bool jvmframes_needs_name(jvmframes *f, uint64_t method, uint64_t *id)
{
    pthread_mutex_lock(&f->lock);
    method_slot *s = method ? slot_of(f, method) : NULL;
    bool needs = s && s->method == method && !s->name;
    if (needs)
        *id = s->id;
    pthread_mutex_unlock(&f->lock);
    return needs;
}

void jvmframes_set_name(jvmframes *f, uint64_t method, const char *name, size_t len)
{
    len = len > NAME_MAX_LEN ? NAME_MAX_LEN : len;
    pthread_mutex_lock(&f->lock);
    method_slot *s = method ? slot_of(f, method) : NULL;
    if (s && s->method == method &&
        UTIL_RESERVE(f->names, f->names_cap, f->names_len + len + 1)) {
        memcpy(f->names + f->names_len, name, len);
        f->names[f->names_len + len] = 0;
        s->name = f->names_len + 1;
        s->wanted = true;
        f->names_len += len + 1;
    }
    pthread_mutex_unlock(&f->lock);
}

bool jvmframes_name(jvmframes *f, uint64_t method, char *buf, size_t cap)
{
    bool found = false;
    pthread_mutex_lock(&f->lock);
    method_slot *s = method ? slot_of(f, method) : NULL;
    if (s && s->method == method && s->name && cap > 0) {
        const char *n = f->names + s->name - 1;
        size_t len = strlen(n);
        len = len < cap - 1 ? len : cap - 1;
        memcpy(buf, n, len);
        buf[len] = 0;
        found = true;
    }
    pthread_mutex_unlock(&f->lock);
    return found;
}

/* ---- inlining ---- */

static int by_off(const void *a, const void *b)
{
    uint32_t x = ((const scope_rec *)a)->off, y = ((const scope_rec *)b)->off;
    return x < y ? -1 : x > y;
}

int jvmframes_add_code(jvmframes *f, uint64_t start, uint64_t size, uint32_t gen,
                       const jvmframes_scope *scopes, size_t n)
{
    if (size == 0 || size > UINT32_MAX || start + size < start)
        return -1;
    size_t frames = 0;
    for (size_t i = 0; i < n; i++)
        frames += scopes[i].pc >= start && scopes[i].pc - start <= size ? scopes[i].n : 0;
    int rc = -1;
    pthread_mutex_lock(&f->lock);
    if (UTIL_RESERVE(f->codes, f->codes_cap, f->codes_len + 1) &&
        UTIL_RESERVE(f->scopes, f->scopes_cap, f->scopes_len + n) &&
        UTIL_RESERVE(f->frames, f->frames_cap, f->frames_len + frames) &&
        f->frames_len + frames < UINT32_MAX) {
        code_rec *c = &f->codes[f->codes_len++];
        *c = (code_rec){ start, start + size, gen, f->scopes_len, 0 };
        for (size_t i = 0; i < n; i++) {
            if (scopes[i].pc < start || scopes[i].pc - start > size)
                continue; /* not in this code: untrusted */
            f->scopes[c->first + c->n++] = (scope_rec){ (uint32_t)(scopes[i].pc - start),
                                                        (uint32_t)f->frames_len,
                                                        (uint32_t)scopes[i].n };
            if (scopes[i].n) /* methods may be NULL when there are none */
                memcpy(f->frames + f->frames_len, scopes[i].methods,
                       scopes[i].n * sizeof(uint64_t));
            f->frames_len += scopes[i].n;
        }
        qsort(f->scopes + c->first, c->n, sizeof *f->scopes, by_off);
        f->scopes_len += c->n;
        rc = 0;
    }
    pthread_mutex_unlock(&f->lock);
    return rc;
}

static void code_range(const void *f, size_t i, uint64_t *start, uint64_t *end)
{
    const code_rec *c = &((const jvmframes *)f)->codes[i];
    *start = c->start;
    *end = c->end;
}

/* The load covering pc that is newest as of gen (the oldest if all are newer). */
static const code_rec *code_at(jvmframes *f, uint64_t pc, uint32_t gen)
{
    if (f->index.len != f->codes_len && !spans_build(&f->index, f->codes_len, code_range, f))
        return NULL;
    const code_rec *best = NULL;
    for (size_t pos = spans_upper(&f->index, pc), id; spans_prev(&f->index, &pos, pc, &id);) {
        const code_rec *c = &f->codes[id];
        bool c_ok = c->gen <= gen, best_ok = best && best->gen <= gen;
        if (!best || (c_ok && (!best_ok || c->gen > best->gen)) ||
            (!c_ok && !best_ok && c->gen < best->gen))
            best = c;
    }
    return best;
}

size_t jvmframes_inlined(jvmframes *f, uint64_t pc, uint32_t gen, uint64_t *out, size_t max)
{
    size_t n = 0;
    pthread_mutex_lock(&f->lock);
    const code_rec *c = code_at(f, pc, gen);
    if (c) {
        uint32_t off = (uint32_t)(pc - c->start);
        size_t lo = 0, hi = c->n; /* the first scope at or after pc */
        while (lo < hi) {
            size_t mid = lo + (hi - lo) / 2;
            if (f->scopes[c->first + mid].off < off)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < c->n) {
            const scope_rec *s = &f->scopes[c->first + lo];
            for (; n < s->n && n < max; n++)
                out[n] = f->frames[s->first + n];
        }
    }
    pthread_mutex_unlock(&f->lock);
    return n;
}
