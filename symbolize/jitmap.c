/* jitmap.c - generation-stamped JIT code names and the perf-map reader.
 *
 * Entries live in one array in insertion order. A page-granular hash finds the live
 * entries that overlap a new one (JIT code is small: most entries touch one or two pages).
 * Lookups sort a copy of the entries by start once, after the last change. */
#include "jitmap.h"

#include "array.h"
#include "spans.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { JITMAP_NAME_MAX = 4096, PAGE_SHIFT = 12, MAX_INDEXED_PAGES = 64 };

#define GEN_ALIVE UINT32_MAX

typedef struct jit_entry {
    uint64_t start, end;
    uint32_t born, died; /* generations: alive in [born, died) */
    size_t name;         /* offset in names */
} jit_entry;

/* Open addressing: page -> chain of entry indexes through next_on_page. */
typedef struct page_slot {
    uint64_t page;    /* page number + 1; 0 = empty */
    uint64_t max_end; /* largest end of the entries linked here: code is mostly appended
                         upwards, so a new entry at or above it overlaps none of them */
    uint32_t head;    /* entry-page link index + 1 */
} page_slot;

typedef struct page_link {
    uint32_t entry, next; /* next: link index + 1, 0 = end */
} page_link;

typedef struct gen_mark {
    uint64_t stamp; /* generation gen began when the stamp reached this */
    uint32_t gen;
} gen_mark;

struct jitmap {
    pthread_mutex_t lock;
    _Atomic uint32_t gen;
    jit_entry *v;
    size_t len, cap;
    char *names;
    size_t names_len, names_cap;
    page_slot *pages;
    size_t pages_cap, pages_used;
    page_link *links;
    size_t links_len, links_cap;
    uint32_t *big;   /* entries spanning more than MAX_INDEXED_PAGES: checked linearly */
    size_t big_len, big_cap;
    gen_mark *marks;
    size_t marks_len, marks_cap;
    spans index;   /* for lookups: up to date when index.len == len */
};

jitmap *jitmap_new(void)
{
    jitmap *m = calloc(1, sizeof *m);
    if (m)
        pthread_mutex_init(&m->lock, NULL);
    return m;
}

void jitmap_free(jitmap *m)
{
    if (!m)
        return;
    free(m->v);
    free(m->names);
    free(m->pages);
    free(m->links);
    free(m->big);
    free(m->marks);
    spans_free(&m->index);
    pthread_mutex_destroy(&m->lock);
    free(m);
}

static uint64_t page_hash(uint64_t page)
{
    page *= 0x9e3779b97f4a7c15ull;
    return page ^ (page >> 29);
}

static page_slot *page_find(jitmap *m, uint64_t page)
{
    if (!m->pages_cap)
        return NULL;
    size_t mask = m->pages_cap - 1;
    for (size_t i = page_hash(page) & mask;; i = (i + 1) & mask) {
        if (m->pages[i].page == page + 1 || m->pages[i].page == 0)
            return &m->pages[i];
    }
}

static bool pages_grow(jitmap *m)
{
    if ((m->pages_used + 1) * 2 <= m->pages_cap)
        return true;
    size_t cap = m->pages_cap ? m->pages_cap * 2 : 1024;
    page_slot *old = m->pages;
    size_t old_cap = m->pages_cap;
    m->pages = calloc(cap, sizeof *m->pages);
    if (!m->pages) {
        m->pages = old;
        return false;
    }
    m->pages_cap = cap;
    for (size_t i = 0; i < old_cap; i++)
        if (old[i].page)
            *page_find(m, old[i].page - 1) = old[i];
    free(old);
    return true;
}

static bool page_link_entry(jitmap *m, uint64_t page, uint32_t entry)
{
    if (!pages_grow(m) || !UTIL_RESERVE(m->links, m->links_cap, m->links_len + 1))
        return false;
    page_slot *s = page_find(m, page);
    if (!s->page) {
        s->page = page + 1;
        m->pages_used++;
    }
    m->links[m->links_len] = (page_link){ entry, s->head };
    s->head = (uint32_t)++m->links_len;
    if (m->v[entry].end > s->max_end)
        s->max_end = m->v[entry].end;
    return true;
}

static void new_generation(jitmap *m, uint64_t stamp)
{
    uint32_t g = atomic_load(&m->gen) + 1;
    if (UTIL_RESERVE(m->marks, m->marks_cap, m->marks_len + 1))
        m->marks[m->marks_len++] = (gen_mark){ stamp, g };
    atomic_store(&m->gen, g);
}

static bool overlaps_live(const jit_entry *e, uint64_t start, uint64_t end)
{
    return e->died == GEN_ALIVE && e->start < end && start < e->end;
}

static size_t kill_if_overlapping(jitmap *m, uint32_t idx, uint64_t start, uint64_t end,
                                  uint32_t died)
{
    jit_entry *e = &m->v[idx];
    if (!overlaps_live(e, start, end))
        return 0;
    e->died = died;
    return 1;
}

/* Kill live entries overlapping [start, end); returns how many died. */
static size_t kill_overlapping(jitmap *m, uint64_t start, uint64_t end, uint32_t died)
{
    size_t killed = 0;
    uint64_t first = start >> PAGE_SHIFT, last = (end - 1) >> PAGE_SHIFT;
    for (uint64_t p = first; p <= last && p - first < MAX_INDEXED_PAGES; p++) {
        page_slot *s = page_find(m, p);
        if (!s || start >= s->max_end)
            continue;
        for (uint32_t l = s->head; l; l = m->links[l - 1].next)
            killed += kill_if_overlapping(m, m->links[l - 1].entry, start, end, died);
    }
    for (size_t i = 0; i < m->big_len; i++)
        killed += kill_if_overlapping(m, m->big[i], start, end, died);
    return killed;
}

static void index_entry(jitmap *m, uint32_t idx)
{
    uint64_t first = m->v[idx].start >> PAGE_SHIFT, last = (m->v[idx].end - 1) >> PAGE_SHIFT;
    if (last - first >= MAX_INDEXED_PAGES) {
        if (UTIL_RESERVE(m->big, m->big_cap, m->big_len + 1))
            m->big[m->big_len++] = idx;
        return;
    }
    for (uint64_t p = first; p <= last; p++)
        page_link_entry(m, p, idx);
}

int jitmap_add(jitmap *m, uint64_t start, uint64_t size, const char *name, size_t len,
               uint64_t stamp)
{
    uint64_t end = start + size;
    if (size == 0 || end < start)
        return -1;
    len = len > JITMAP_NAME_MAX ? JITMAP_NAME_MAX : len;
    pthread_mutex_lock(&m->lock);
    int rc = -1;
    if (m->len < UINT32_MAX - 1 &&
        UTIL_RESERVE(m->v, m->cap, m->len + 1) &&
        UTIL_RESERVE(m->names, m->names_cap, m->names_len + len + 1)) {
        /* Overlap means the old code was freed and its memory reused. */
        uint32_t gen = atomic_load(&m->gen);
        if (kill_overlapping(m, start, end, gen + 1) > 0) {
            new_generation(m, stamp);
            gen++;
        }
        uint32_t idx = (uint32_t)m->len;
        memcpy(m->names + m->names_len, name, len);
        m->names[m->names_len + len] = 0;
        m->v[m->len++] = (jit_entry){ start, end, gen, GEN_ALIVE, m->names_len };
        m->names_len += len + 1;
        index_entry(m, idx);
        rc = 0;
    }
    pthread_mutex_unlock(&m->lock);
    return rc;
}

int jitmap_kill(jitmap *m, uint64_t start)
{
    pthread_mutex_lock(&m->lock);
    uint32_t died = atomic_load(&m->gen) + 1;
    size_t killed = 0;
    page_slot *s = page_find(m, start >> PAGE_SHIFT);
    for (uint32_t l = s ? s->head : 0; l; l = m->links[l - 1].next) {
        jit_entry *e = &m->v[m->links[l - 1].entry];
        if (e->start == start && e->died == GEN_ALIVE) {
            e->died = died;
            killed++;
        }
    }
    for (size_t i = 0; i < m->big_len; i++) {
        jit_entry *e = &m->v[m->big[i]];
        if (e->start == start && e->died == GEN_ALIVE) {
            e->died = died;
            killed++;
        }
    }
    if (killed)
        new_generation(m, UINT64_MAX);
    pthread_mutex_unlock(&m->lock);
    return killed ? 0 : -1;
}

uint32_t jitmap_current_gen(const jitmap *m)
{
    return atomic_load_explicit(&((jitmap *)m)->gen, memory_order_relaxed);
}

uint32_t jitmap_gen_at(const jitmap *m, uint64_t stamp)
{
    jitmap *mm = (jitmap *)m;
    pthread_mutex_lock(&mm->lock);
    size_t lo = 0, hi = mm->marks_len; /* marks are in stamp order: count those <= stamp */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (mm->marks[mid].stamp <= stamp)
            lo = mid + 1;
        else
            hi = mid;
    }
    uint32_t gen = lo ? mm->marks[lo - 1].gen : 0;
    pthread_mutex_unlock(&mm->lock);
    return gen;
}

/* Parses up to 16 hex digits (optionally after 0x) ending at a space. */
static bool parse_hex(const char **p, const char *end, uint64_t *out)
{
    const char *s = *p;
    if (end - s >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
        s += 2;
    uint64_t v = 0;
    int digits = 0;
    for (; s < end && *s != ' '; s++, digits++) {
        int d = (*s >= '0' && *s <= '9')   ? *s - '0'
                : (*s >= 'a' && *s <= 'f') ? *s - 'a' + 10
                : (*s >= 'A' && *s <= 'F') ? *s - 'A' + 10
                                           : -1;
        if (d < 0 || digits == 16)
            return false;
        v = (v << 4) | (uint64_t)d;
    }
    if (digits == 0 || s == end)
        return false;
    *out = v;
    *p = s + 1;
    return true;
}

static bool parse_line(const char *s, const char *end, uint64_t *start, uint64_t *size,
                       const char **name)
{
    if (memchr(s, 0, (size_t)(end - s)))
        return false;
    if (!parse_hex(&s, end, start) || !parse_hex(&s, end, size))
        return false;
    *name = s;
    return s < end && *size > 0 && *start + *size > *start;
}

size_t jitmap_parse_perfmap(jitmap *m, const char *buf, size_t len, uint64_t base,
                            jitmap_exec_fn is_exec, void *ctx, jitmap_stats *st)
{
    size_t pos = 0;
    for (;;) {
        const char *nl = memchr(buf + pos, '\n', len - pos);
        if (!nl)
            return pos; /* an incomplete last line: read it again when it is finished */
        const char *line = buf + pos, *end = nl;
        if (end > line && end[-1] == '\r')
            end--;
        pos = (size_t)(nl - buf) + 1;
        uint64_t start, size;
        const char *name;
        if (end == line)
            continue;
        if (!parse_line(line, end, &start, &size, &name))
            st->malformed++;
        else if (is_exec && !is_exec(ctx, start, start + size, name, (size_t)(end - name)))
            st->outside++;
        else if (jitmap_add(m, start, size, name, (size_t)(end - name), base + pos) == 0)
            st->entries++;
    }
}

static void entry_range(const void *m, size_t i, uint64_t *start, uint64_t *end)
{
    const jit_entry *e = &((const jitmap *)m)->v[i];
    *start = e->start;
    *end = e->end;
}

static bool build_index(jitmap *m)
{
    return (m->index.len == m->len && m->len) || spans_build(&m->index, m->len, entry_range, m);
}

static const char *lookup_locked(jitmap *m, uint64_t pc, uint32_t gen);

const char *jitmap_lookup(jitmap *m, uint64_t pc, uint32_t gen)
{
    pthread_mutex_lock(&m->lock);
    const char *name = lookup_locked(m, pc, gen);
    pthread_mutex_unlock(&m->lock);
    return name;
}

bool jitmap_lookup_copy(jitmap *m, uint64_t pc, uint32_t gen, char *buf, size_t cap)
{
    pthread_mutex_lock(&m->lock);
    const char *name = lookup_locked(m, pc, gen);
    if (name && cap)
        snprintf(buf, cap, "%s", name);
    pthread_mutex_unlock(&m->lock);
    return name != NULL;
}

static const char *lookup_locked(jitmap *m, uint64_t pc, uint32_t gen)
{
    const jit_entry *alive = NULL, *newest = NULL;
    if (build_index(m)) {
        for (size_t pos = spans_upper(&m->index, pc), id; spans_prev(&m->index, &pos, pc, &id);) {
            const jit_entry *e = &m->v[id];
            if (e->born <= gen && gen < e->died && (!alive || e->born > alive->born))
                alive = e;
            if (!newest || e->born > newest->born ||
                (e->born == newest->born && e->name > newest->name))
                newest = e;
        }
    }
    const jit_entry *e = alive ? alive : newest;
    return e ? m->names + e->name : NULL;
}

size_t jitmap_len(jitmap *m)
{
    pthread_mutex_lock(&m->lock);
    size_t n = m->len;
    pthread_mutex_unlock(&m->lock);
    return n;
}
