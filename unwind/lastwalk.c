/* lastwalk.c - the previous walk's frames, matched and checked; see lastwalk.h. */
#include "lastwalk.h"

#include "foreign_load.h"
#include "unwind.h"

#include <stdatomic.h>
#include <string.h>
#include <sys/mman.h>

struct lastwalk_pool {
    size_t len;
    _Atomic size_t hint; /* where the next claim starts looking */
    unwind_last r[];
};

lastwalk_pool *lastwalk_pool_new(size_t n)
{
    size_t size = sizeof(lastwalk_pool) + n * sizeof(unwind_last);
    lastwalk_pool *p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
                            -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    p->len = n;
    return p;
}

unwind_last *lastwalk_claim(lastwalk_pool *p)
{
    if (!p)
        return NULL;
    size_t start = atomic_load_explicit(&p->hint, memory_order_relaxed);
    for (size_t k = 0; k < p->len; k++) {
        size_t i = (start + k) % p->len;
        int free_ = 0;
        if (atomic_load_explicit(&p->r[i].taken, memory_order_relaxed) == 0 &&
            atomic_compare_exchange_strong(&p->r[i].taken, &free_, 1)) {
            atomic_store_explicit(&p->hint, i + 1, memory_order_relaxed);
            p->r[i].cur = 0;
            p->r[i].rec[0].complete = p->r[i].rec[1].complete = false;
            return &p->r[i];
        }
    }
    return NULL;
}

void lastwalk_touch(unwind_last *l)
{
    if (l)
        memset(l->rec, 0, sizeof l->rec); /* empty records, as claimed */
}

void lastwalk_release(lastwalk_pool *p, unwind_last *l)
{
    (void)p;
    if (l)
        atomic_store(&l->taken, 0);
}

static lastwalk_frame *at(lastwalk_rec *r, uint32_t i)
{
    return &r->f[(r->start + i) % LASTWALK_FRAMES];
}

static const lastwalk_frame *old_at(const lastwalk_rec *r, uint32_t i)
{
    return &r->f[(r->start + i) % LASTWALK_FRAMES];
}

void lastwalk_begin(lastwalk *w, unwind_last *last, uint64_t stack_end, uint32_t gen)
{
    *w = (lastwalk){ NULL, 0, NULL, 0, 0 };
    if (!last)
        return;
    const lastwalk_rec *old = &last->rec[last->cur & 1];
    w->next = (last->cur & 1) ^ 1;
    w->rec = &last->rec[w->next];
    w->rec->start = 0;
    w->rec->len = 0;
    w->rec->complete = false;
    w->rec->stack_end = stack_end;
    w->rec->gen = gen;
    if (!old->complete || old->stack_end != stack_end || old->gen != gen || !old->len)
        return;
    w->old = old;
}

uint64_t lastwalk_join_sp(const unwind_last *last)
{
    const lastwalk_rec *old = last ? &last->rec[last->cur & 1] : NULL;
    return old && old->complete && old->len >= 2 ? old_at(old, 1)->sp : UINT64_MAX;
}

void lastwalk_push(lastwalk *w, uint64_t pc, uint64_t sp, uint64_t fp, uint64_t slot)
{
    if (w->rec)
        *at(w->rec, w->n++) = (lastwalk_frame){ pc, sp, fp, slot };
}

void lastwalk_flag(lastwalk *w, uint64_t flags)
{
    if (w->rec && w->n)
        at(w->rec, w->n - 1)->slot |= flags;
}

static bool read_word(uint64_t addr, uint64_t lo, uint64_t hi, uint64_t *out)
{
    if (addr < lo || addr > hi - 8 || (addr & 7))
        return false;
    *out = util_foreign_load(addr);
    return true;
}

/* Old frames j+1.. still there: each return-address slot holds its pc; and no step from j
 * on read rbx. */
static bool unchanged_above(const lastwalk_rec *old, uint32_t j, uint64_t lo, uint64_t hi)
{
    if (old_at(old, j)->slot & LASTWALK_BX)
        return false;
    for (uint32_t i = j + 1; i < old->len; i++) {
        const lastwalk_frame *f = old_at(old, i);
        uint64_t v;
        uint64_t slot = f->slot & ~(uint64_t)LASTWALK_FLAGS;
        if ((f->slot & LASTWALK_BX) || !read_word(slot, lo, hi, &v) || v != f->pc)
            return false;
    }
    return true;
}

bool lastwalk_match(lastwalk *w, uint64_t lo, uint64_t hi, const unwind_interp *interp,
                    uint64_t *pcs, size_t depth, size_t max, lastwalk_tail *tail)
{
    const lastwalk_rec *old = w->old;
    if (!old || !w->n)
        return false;
    const lastwalk_frame *cur = at(w->rec, w->n - 1);
    while (w->op < old->len && old_at(old, w->op)->sp < cur->sp)
        w->op++;
    if (w->op >= old->len) {
        w->old = NULL; /* the stack is past the old one's root */
        return false;
    }
    uint32_t j = w->op;
    const lastwalk_frame *o = old_at(old, j);
    if (o->sp != cur->sp || o->pc != cur->pc || o->fp != cur->fp ||
        (o->slot & LASTWALK_EXACT) != (cur->slot & LASTWALK_EXACT))
        return false;
    if (!unchanged_above(old, j, lo, hi)) {
        w->old = NULL; /* changed above: walk on without the record */
        return false;
    }
    *tail = (lastwalk_tail){ 0, (o->slot & LASTWALK_OUTSIDE) != 0, 0, false };
    lastwalk_flag(w, o->slot & (LASTWALK_OUTSIDE | LASTWALK_BX));
    for (uint32_t i = j + 1; i < old->len; i++) {
        const lastwalk_frame *f = old_at(old, i);
        if (depth + tail->added == max) {
            tail->truncated = true;
            break;
        }
        uint64_t v = unwind_frame_value(interp, f->pc, f->fp, lo, hi);
        pcs[depth + tail->added++] = v;
        tail->outside += (f->slot & LASTWALK_OUTSIDE) != 0;
        tail->methods += (v & UNWIND_METHOD_TAG) != 0;
        *at(w->rec, w->n++) = *f;
    }
    return true;
}

void lastwalk_end(lastwalk *w, unwind_last *last, bool complete)
{
    if (!w->rec)
        return;
    lastwalk_rec *r = w->rec;
    r->len = w->n < LASTWALK_FRAMES ? w->n : LASTWALK_FRAMES;
    r->start = w->n < LASTWALK_FRAMES ? 0 : w->n % LASTWALK_FRAMES;
    r->complete = complete && w->n > 0;
    last->cur = w->next;
}
