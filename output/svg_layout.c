/* svg_layout.c - flame graph layout from sorted folded entries. See svg_layout.h. */
#include "svg_layout.h"

#include "array.h"
#include "sat.h"

#include <stdlib.h>
#include <string.h>

/* ======================================================================================
 * Stacks.
 * ====================================================================================== */

typedef struct stack_ref {
    const char *s;
    size_t len;
    uint64_t count;
    const svg_diff_entry *de; /* differential graphs: the entry with both counts; else NULL */
} stack_ref;

static folded_entry *entry_at(const svg_entries *v, size_t i)
{
    return (folded_entry *)(void *)(v->base + i * v->stride);
}

static const svg_diff_entry *diff_at(const svg_entries *v, size_t i)
{
    return v->diff ? (const svg_diff_entry *)(const void *)entry_at(v, i) : NULL;
}

static int cmp_entry(const void *a, const void *b)
{
    return strcmp(((const folded_entry *)a)->stack, ((const folded_entry *)b)->stack);
}

/* Writes the frames of s[0..len) in reverse order to dst (len bytes + NUL). */
static void reverse_frames(const char *s, size_t len, char *dst)
{
    size_t end = len;
    for (;;) {
        const char *semi = memrchr(s, ';', end);
        size_t start = semi ? (size_t)(semi - s) + 1 : 0;
        memcpy(dst, s + start, end - start);
        dst += end - start;
        if (!semi)
            break;
        *dst++ = ';';
        end = start - 1;
    }
    *dst = '\0';
}

/* A copy of v with leaf-first stacks, sorted, in *out; *buf owns their text. */
static int reversed_entries(const svg_entries *v, svg_entries *out, char **buf)
{
    size_t bytes = 1;
    for (size_t i = 0; i < v->n; i++)
        bytes += strlen(entry_at(v, i)->stack) + 1;
    *out = (svg_entries){ malloc((v->n ? v->n : 1) * v->stride), v->n, v->stride, v->diff };
    char *b = *buf = malloc(bytes);
    if (!out->base || !b) {
        free(out->base);
        return -1;
    }
    memcpy(out->base, v->base, v->n * v->stride);
    for (size_t i = 0; i < v->n; i++) {
        folded_entry *e = entry_at(out, i);
        size_t len = strlen(e->stack);
        reverse_frames(e->stack, len, b);
        e->stack = b;
        b += len + 1;
    }
    qsort(out->base, out->n, out->stride, cmp_entry);
    return 0;
}

static size_t common_prefix(const stack_ref *a, const stack_ref *b)
{
    size_t n = a->len < b->len ? a->len : b->len, i = 0;
    uint64_t x, y;
    for (; i + 8 <= n; i += 8) { /* a word at a time: every stack is compared once */
        memcpy(&x, a->s + i, 8);
        memcpy(&y, b->s + i, 8);
        if (x != y)
            break;
    }
    while (i < n && a->s[i] == b->s[i])
        i++;
    return i;
}

/* Whether b sorts before a, given their common prefix c. */
static bool out_of_order(const stack_ref *a, const stack_ref *b, size_t c)
{
    if (c == b->len)
        return c < a->len;
    return c < a->len && (unsigned char)b->s[c] < (unsigned char)a->s[c];
}

/* ======================================================================================
 * Layout: frames open and close as the stacks go by.
 * ====================================================================================== */

static void ba_add(svg_ba *x, svg_ba y)
{
    x->before = util_sat_add(x->before, y.before);
    x->after = util_sat_add(x->after, y.after);
}

typedef struct run {
    uint64_t start, count;
    const char *first;
    size_t first_len, n;
    svg_ba ba;
} run;

typedef struct svg_open_frame {
    const char *name;
    size_t len;
    size_t end;                   /* where its name ends in the current stack */
    uint64_t start, count, cursor; /* cursor: where its next child starts */
    run kids;                     /* narrow children not yet drawn */
    svg_ba ba;
} open_frame;

static int emit(svg_layout *l, uint64_t start, uint64_t count, const char *name, size_t len,
                size_t depth, size_t nsmall, svg_ba ba)
{
    if (!UTIL_RESERVE(l->it, l->cap, l->len + 1))
        return -1;
    /* Names and depths past 4G cannot come from a file anyone could render. */
    l->it[l->len++] = (svg_item){ start, count, name, (uint32_t)len, (uint32_t)depth,
                              (uint32_t)nsmall, ba };
    if (depth > l->max_depth)
        l->max_depth = (uint32_t)depth;
    return 0;
}

static int flush_run(svg_layout *l, run *r, size_t depth)
{
    int rc = 0;
    if (r->n == 1)
        rc = emit(l, r->start, r->count, r->first, r->first_len, depth, 0, r->ba);
    else if (r->n > 1)
        rc = emit(l, r->start, r->count, NULL, 0, depth, r->n, r->ba);
    r->n = 0;
    r->count = 0;
    r->ba = (svg_ba){ 0, 0 };
    return rc;
}

/* Closes the deepest open frame: its count is final, so it is drawn or joins a run. */
static int close_frame(svg_layout *l)
{
    size_t d = l->depth--;
    open_frame *f = &l->fr[d], *parent = &l->fr[d - 1];
    if ((double)f->count >= l->min_count) {
        if (flush_run(l, &f->kids, d + 1) < 0 || flush_run(l, &parent->kids, d) < 0 ||
            emit(l, f->start, f->count, f->name, f->len, d, 0, f->ba) < 0)
            return -1;
    } else {
        if (parent->kids.n++ == 0) {
            parent->kids.start = f->start;
            parent->kids.first = f->name;
            parent->kids.first_len = f->len;
        }
        parent->kids.count = util_sat_add(parent->kids.count, f->count);
        ba_add(&parent->kids.ba, f->ba);
    }
    parent->count = util_sat_add(parent->count, f->count);
    ba_add(&parent->ba, f->ba);
    parent->cursor = util_sat_add(parent->cursor, f->count);
    return 0;
}

static int open_frame_at(svg_layout *l, const char *name, size_t len, size_t end)
{
    if (!UTIL_RESERVE(l->fr, l->fr_cap, l->depth + 2))
        return -1;
    open_frame *parent = &l->fr[l->depth];
    l->fr[++l->depth] = (open_frame){ name, len, end, parent->cursor, 0, parent->cursor,
                                      { 0, 0, NULL, 0, 0, { 0, 0 } }, { 0, 0 } };
    return 0;
}

/* Adds one stack; c is its common prefix with the stack added before it. */
static int add_stack(svg_layout *l, const stack_ref *s, size_t c)
{
    /* Frames of the previous stack that end inside the common prefix, at a ';' or the end
     * of this stack too, are shared. */
    size_t k = 0;
    while (k < l->depth && (l->fr[k + 1].end < c ||
                            (l->fr[k + 1].end == c && (c == s->len || s->s[c] == ';'))))
        k++;
    while (l->depth > k)
        if (close_frame(l) < 0)
            return -1;
    size_t pos = k ? l->fr[k].end + 1 : 0;
    while (k == 0 || pos <= s->len) {
        const char *semi = memchr(s->s + pos, ';', s->len - pos);
        size_t end = semi ? (size_t)(semi - s->s) : s->len;
        if (open_frame_at(l, s->s + pos, end - pos, end) < 0)
            return -1;
        k++;
        pos = end + 1;
    }
    open_frame *leaf = &l->fr[l->depth];
    leaf->count = util_sat_add(leaf->count, s->count);
    if (s->de)
        ba_add(&leaf->ba, (svg_ba){ s->de->before, s->de->after });
    return 0;
}

static int layout_begin(svg_layout *l, double min_count)
{
    l->len = l->depth = 0;
    l->max_depth = 0;
    l->min_count = min_count;
    if (!UTIL_RESERVE(l->fr, l->fr_cap, 64))
        return -1;
    l->fr[0] = (open_frame){ "all", 3, 0, 0, 0, 0, { 0, 0, NULL, 0, 0, { 0, 0 } }, { 0, 0 } };
    return 0;
}

static int layout_end(svg_layout *l, uint64_t total)
{
    while (l->depth)
        if (close_frame(l) < 0)
            return -1;
    /* The root is always drawn, whatever minwidth says. */
    if (flush_run(l, &l->fr[0].kids, 1) < 0)
        return -1;
    return emit(l, 0, total, "all", 3, 0, 0, l->fr[0].ba);
}

/* Byte order keeps the stacks below frame P ("P;...") together, but the stack that ends at
 * P ("P" itself: P's self time) sorts before siblings such as "P.cold" or "P(int)" whose next
 * byte is below ';', which would cut P in two. Such a stack is held back until its children
 * come (or no longer can), so that every frame's stacks reach the layout together. */
typedef struct walker {
    svg_layout *l;
    stack_ref last; /* the stack fed last; s NULL before the first */
    stack_ref *held; /* innermost last; each is a prefix of the ones above it */
    size_t nheld, held_cap;
} walker;

/* Lays out s. When pred (the stack sorted just before s) was the last one fed, c_pred, their
 * common prefix, is already known. */
static int feed(walker *w, const stack_ref *s, const char *pred, size_t c_pred)
{
    size_t c = !w->last.s ? 0 : w->last.s == pred ? c_pred : common_prefix(&w->last, s);
    w->last = *s;
    return add_stack(w->l, s, c);
}

/* Feeds the held stacks that s cannot extend any more. */
static int release(walker *w, const stack_ref *s)
{
    while (w->nheld) {
        const stack_ref *t = &w->held[w->nheld - 1];
        size_t c = common_prefix(t, s);
        unsigned char next = c < s->len ? (unsigned char)s->s[c] : 0;
        if (c == t->len && next && next < ';')
            return 0; /* another "P..." sibling: P's children may still come */
        stack_ref held = w->held[--w->nheld];
        if (feed(w, &held, NULL, 0) < 0)
            return -1;
        if (c == held.len && next == ';')
            return 0; /* s is P's first child; those held below are prefixes of P */
    }
    return 0;
}

static size_t next_nonzero(const svg_entries *v, size_t i)
{
    while (i < v->n && !entry_at(v, i)->count)
        i++;
    return i;
}

/* One pass over sorted entries (zero counts draw nothing). Each stack is read from memory
 * once: measured, not loading it a second time is most of the speed here. Returns 0, -1 on
 * allocation failure, 1 if the entries are not sorted. */
static int walk(walker *w, const svg_entries *v)
{
    size_t n = v->n, i = next_nonzero(v, 0), c_cur = 0;
    if (i == n)
        return 0;
    const folded_entry *e = entry_at(v, i);
    stack_ref cur = { e->stack, strlen(e->stack), e->count, diff_at(v, i) };
    const char *pred = NULL;
    for (;;) {
        size_t j = next_nonzero(v, i + 1), c_next = 0;
        stack_ref next = { NULL, 0, 0, NULL };
        if (j < n) {
            if (j + 4 < n) /* the stacks are scattered in memory: ask for one early */
                __builtin_prefetch(entry_at(v, j + 4)->stack);
            e = entry_at(v, j);
            next = (stack_ref){ e->stack, strlen(e->stack), e->count, diff_at(v, j) };
            c_next = common_prefix(&cur, &next);
            if (out_of_order(&cur, &next, c_next))
                return 1;
        }
        if (release(w, &cur) < 0)
            return -1;
        if (next.s && c_next == cur.len && next.len > cur.len &&
            (unsigned char)next.s[cur.len] < ';') {
            if (!UTIL_RESERVE(w->held, w->held_cap, w->nheld + 1))
                return -1;
            w->held[w->nheld++] = cur;
        } else if (feed(w, &cur, pred, c_cur) < 0) {
            return -1;
        }
        if (!next.s)
            break;
        pred = cur.s;
        cur = next;
        c_cur = c_next;
        i = j;
    }
    while (w->nheld) {
        stack_ref held = w->held[--w->nheld];
        if (feed(w, &held, NULL, 0) < 0)
            return -1;
    }
    return 0;
}

/* Lays out the entries of v; 1 if they are not sorted. */
static int lay_out(svg_layout *l, const svg_entries *v, double min_count, uint64_t total)
{
    walker w = { l, { NULL, 0, 0, NULL }, NULL, 0, 0 };
    int rc = layout_begin(l, min_count);
    if (rc == 0)
        rc = walk(&w, v);
    if (rc == 0)
        rc = layout_end(l, total);
    free(w.held);
    return rc;
}

void svg_layout_free(svg_layout *l)
{
    free(l->it);
    free(l->fr);
    free(l->names);
}

int svg_layout_build(svg_layout *l, const svg_entries *in, const svg_options *o, int px_wide,
                     uint64_t *total)
{
    *total = 0;
    for (size_t i = 0; i < in->n; i++)
        *total = util_sat_add(*total, entry_at(in, i)->count);
    if (!*total)
        return 0;
    double min_count = o->minwidth > 0 ? o->minwidth * (double)*total / px_wide : 0;
    svg_entries rev = { NULL, 0, 0, false };
    if (o->reverse && reversed_entries(in, &rev, &l->names) < 0)
        return -1;
    const svg_entries *v = rev.base ? &rev : in;
    int rc = lay_out(l, v, min_count, *total);
    if (rc == 1) { /* not finished: lay out a sorted copy of the entry list */
        svg_entries sorted = { malloc(v->n * v->stride), v->n, v->stride, v->diff };
        rc = -1;
        if (sorted.base) {
            memcpy(sorted.base, v->base, v->n * v->stride);
            qsort(sorted.base, sorted.n, sorted.stride, cmp_entry);
            rc = lay_out(l, &sorted, min_count, *total);
            free(sorted.base);
        }
    }
    free(rev.base);
    return rc;
}
