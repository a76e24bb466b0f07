/* svg.c - interactive SVG flame graph from a folded profile. See svg.h.
 *
 * The folded entries are sorted, so every frame's stacks are (nearly, see walker)
 * contiguous and the graph is laid out in one streaming pass with a stack of open frames:
 * no call tree, no hash table, memory proportional to stack depth plus what is drawn.
 * Everything drawn is integer or fixed-point, so identical input gives identical bytes. */
#include "svg.h"
#include "utf8.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Geometry, in px. */
#define XPAD 10
#define FRAME_H 16       /* one row; the rect is one px shorter to separate rows */
#define FONT_W 7.08      /* average glyph width of 12px Verdana (~0.59 em) */
#define TITLE_PAD 36     /* space above the frames for the title and buttons */
#define SUBTITLE_PAD 18  /* extra space when there is a subtitle */
#define STATUS_PAD 34    /* space below the frames for the status line */

static uint64_t sat_add(uint64_t a, uint64_t b)
{
    return a > UINT64_MAX - b ? UINT64_MAX : a + b;
}

/* Grows *ptr (an array of elem-sized items with capacity *cap) to hold need items. */
static int reserve(void *ptr, size_t *cap, size_t need, size_t elem)
{
    if (need <= *cap)
        return 0;
    size_t n = *cap ? *cap : 64;
    while (n < need)
        n *= 2;
    void *p = realloc(*(void **)ptr, n * elem);
    if (!p)
        return -1;
    *(void **)ptr = p;
    *cap = n;
    return 0;
}

/* ======================================================================================
 * Stacks.
 * ====================================================================================== */

typedef struct stack_ref {
    const char *s;
    size_t len;
    uint64_t count;
    const svg_diff_entry *de; /* differential graphs: the entry with both counts; else NULL */
} stack_ref;

/* The entries the layout reads: folded_entry structs, or for a differential graph the
 * svg_diff_entry structs that start with one, stride bytes apart. Copies (reverse mode, a
 * re-sort) keep the stride, so the counts of both profiles follow their stacks. */
typedef struct entries {
    char *base;
    size_t n, stride;
    bool diff;
} entries;

static folded_entry *entry_at(const entries *v, size_t i)
{
    return (folded_entry *)(void *)(v->base + i * v->stride);
}

static const svg_diff_entry *diff_at(const entries *v, size_t i)
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
static int reversed_entries(const entries *v, entries *out, char **buf)
{
    size_t bytes = 1;
    for (size_t i = 0; i < v->n; i++)
        bytes += strlen(entry_at(v, i)->stack) + 1;
    *out = (entries){ malloc((v->n ? v->n : 1) * v->stride), v->n, v->stride, v->diff };
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
 * Layout: one item per rect. Children are placed left to right in stack order, each at its
 * parent's x plus the counts of its earlier siblings (self time is the gap on the right).
 * A run of adjacent siblings each narrower than minwidth becomes one item: a lone one keeps
 * its name, several become one aggregate. Nothing below a narrow frame is drawn: towers of
 * slivers would be most of the file and no one can point at them. Every sample stays in
 * the graph, and its size is bounded by the image width rather than by the input.
 * ====================================================================================== */

/* Samples of both profiles of a differential graph (zero in a plain one). */
typedef struct ba {
    uint64_t before, after;
} ba;

static void ba_add(ba *x, ba y)
{
    x->before = sat_add(x->before, y.before);
    x->after = sat_add(x->after, y.after);
}

typedef struct item {
    uint64_t start, count; /* in samples, from the left edge of the root */
    const char *name;      /* NULL: an aggregate of nsmall narrow siblings */
    uint32_t len, depth, nsmall;
    ba ba;
} item;

typedef struct run {
    uint64_t start, count;
    const char *first;
    size_t first_len, n;
    ba ba;
} run;

typedef struct open_frame {
    const char *name;
    size_t len;
    size_t end;                   /* where its name ends in the current stack */
    uint64_t start, count, cursor; /* cursor: where its next child starts */
    run kids;                     /* narrow children not yet drawn */
    ba ba;
} open_frame;

typedef struct layout {
    item *it;
    size_t len, cap;
    open_frame *fr; /* fr[0] is the root, fr[d] the open frame at depth d */
    size_t depth, fr_cap;
    double min_count; /* frames with fewer samples are narrower than minwidth */
    uint32_t max_depth;
} layout;

static int emit(layout *l, uint64_t start, uint64_t count, const char *name, size_t len,
                size_t depth, size_t nsmall, ba ba)
{
    if (reserve(&l->it, &l->cap, l->len + 1, sizeof(*l->it)) < 0)
        return -1;
    /* Names and depths past 4G cannot come from a file anyone could render. */
    l->it[l->len++] = (item){ start, count, name, (uint32_t)len, (uint32_t)depth,
                              (uint32_t)nsmall, ba };
    if (depth > l->max_depth)
        l->max_depth = (uint32_t)depth;
    return 0;
}

static int flush_run(layout *l, run *r, size_t depth)
{
    int rc = 0;
    if (r->n == 1)
        rc = emit(l, r->start, r->count, r->first, r->first_len, depth, 0, r->ba);
    else if (r->n > 1)
        rc = emit(l, r->start, r->count, NULL, 0, depth, r->n, r->ba);
    r->n = 0;
    r->count = 0;
    r->ba = (ba){ 0, 0 };
    return rc;
}

/* Closes the deepest open frame: its count is final, so it is drawn or joins a run. */
static int close_frame(layout *l)
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
        parent->kids.count = sat_add(parent->kids.count, f->count);
        ba_add(&parent->kids.ba, f->ba);
    }
    parent->count = sat_add(parent->count, f->count);
    ba_add(&parent->ba, f->ba);
    parent->cursor = sat_add(parent->cursor, f->count);
    return 0;
}

static int open_frame_at(layout *l, const char *name, size_t len, size_t end)
{
    if (reserve(&l->fr, &l->fr_cap, l->depth + 2, sizeof(*l->fr)) < 0)
        return -1;
    open_frame *parent = &l->fr[l->depth];
    l->fr[++l->depth] = (open_frame){ name, len, end, parent->cursor, 0, parent->cursor,
                                      { 0, 0, NULL, 0, 0, { 0, 0 } }, { 0, 0 } };
    return 0;
}

/* Adds one stack; c is its common prefix with the stack added before it. */
static int add_stack(layout *l, const stack_ref *s, size_t c)
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
    leaf->count = sat_add(leaf->count, s->count);
    if (s->de)
        ba_add(&leaf->ba, (ba){ s->de->before, s->de->after });
    return 0;
}

static int layout_begin(layout *l, double min_count)
{
    l->len = l->depth = 0;
    l->max_depth = 0;
    l->min_count = min_count;
    if (reserve(&l->fr, &l->fr_cap, 64, sizeof(*l->fr)) < 0)
        return -1;
    l->fr[0] = (open_frame){ "all", 3, 0, 0, 0, 0, { 0, 0, NULL, 0, 0, { 0, 0 } }, { 0, 0 } };
    return 0;
}

static int layout_end(layout *l, uint64_t total)
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
    layout *l;
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

static size_t next_nonzero(const entries *v, size_t i)
{
    while (i < v->n && !entry_at(v, i)->count)
        i++;
    return i;
}

/* One pass over sorted entries (zero counts draw nothing). Each stack is read from memory
 * once: measured, not loading it a second time is most of the speed here. Returns 0, -1 on
 * allocation failure, 1 if the entries are not sorted. */
static int walk(walker *w, const entries *v)
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
            if (reserve(&w->held, &w->held_cap, w->nheld + 1, sizeof(*w->held)) < 0)
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
static int lay_out(layout *l, const entries *v, double min_count, uint64_t total)
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

static void layout_free(layout *l)
{
    free(l->it);
    free(l->fr);
}

/* ======================================================================================
 * Output: a large private buffer with hand-rolled number formatting, because printf-ing
 * four numbers per rect would be most of the render time on big profiles.
 * ====================================================================================== */

#define WBUF_SIZE (1 << 16)

typedef struct wr {
    FILE *f;
    size_t len;
    int err;
    char buf[WBUF_SIZE];
} wr;

static void w_flush(wr *w)
{
    if (w->len && fwrite(w->buf, 1, w->len, w->f) != w->len)
        w->err = 1;
    w->len = 0;
}

static void w_mem(wr *w, const char *s, size_t n)
{
    if (n > WBUF_SIZE - w->len) {
        w_flush(w);
        if (n > WBUF_SIZE) {
            if (fwrite(s, 1, n, w->f) != n)
                w->err = 1;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

static void w_str(wr *w, const char *s)
{
    w_mem(w, s, strlen(s));
}

static void w_u64(wr *w, uint64_t v)
{
    char tmp[20];
    size_t i = sizeof(tmp);
    do {
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    w_mem(w, tmp + i, sizeof(tmp) - i);
}

/* 1234567 -> "1,234,567", as flamegraph.pl writes counts in titles. */
static void w_commas(wr *w, uint64_t v)
{
    char tmp[32];
    size_t i = sizeof(tmp), digits = 0;
    do {
        if (digits && digits % 3 == 0)
            tmp[--i] = ',';
        tmp[--i] = (char)('0' + v % 10);
        v /= 10;
        digits++;
    } while (v);
    w_mem(w, tmp + i, sizeof(tmp) - i);
}

/* v * 100 rounded half up, for v >= 0 (negative and NaN give 0). Plain arithmetic rather
 * than llround, so that the library needs no libm (it is linked into the preload). */
static uint64_t round100(double v)
{
    return v > 0 ? (uint64_t)(v * 100 + 0.5) : 0;
}

/* v >= 0 rounded to 2 decimals, trailing zeros dropped: 12.5, 3, 0.07. */
static void w_fix(wr *w, double v)
{
    uint64_t q = round100(v);
    w_u64(w, q / 100);
    if (q % 100) {
        char d[3] = { '.', (char)('0' + q / 10 % 10), (char)('0' + q % 10) };
        w_mem(w, d, q % 10 ? 3 : 2);
    }
}

/* v >= 0 with exactly 2 decimals. */
static void w_dec2(wr *w, double v)
{
    uint64_t q = round100(v);
    char d[3] = { '.', (char)('0' + q / 10 % 10), (char)('0' + q % 10) };
    w_u64(w, q / 100);
    w_mem(w, d, 3);
}

/* Share of total in percent (0 of an empty total). */
static double pct(uint64_t part, uint64_t total)
{
    return total ? (double)part * 100.0 / (double)total : 0;
}

/* Percentage with exactly 2 decimals, like the titles of flamegraph.pl. */
static void w_pct(wr *w, uint64_t part, uint64_t total)
{
    w_dec2(w, pct(part, total));
}

/* Length of the UTF-8 sequence at s[0..n) if it is a character XML can carry as text, else
 * 0: well-formed UTF-8 (utf8.h), less the C1 controls (U+0080..U+009F) and the
 * non-characters U+FFFE/U+FFFF, which XML 1.0 text must not hold. */
static size_t utf8_char(const unsigned char *s, size_t n)
{
    size_t len = utf8_len(s, n);
    if (len == 2 && s[0] == 0xC2 && s[1] < 0xA0)
        return 0;
    if (len == 3 && s[0] == 0xEF && s[1] == 0xBF && s[2] >= 0xBE)
        return 0;
    return len;
}

/* ASCII that XML text can carry as it is: printable, not markup. */
static bool plain_char(unsigned char c)
{
    return c >= 0x20 && c < 0x7f && c != '&' && c != '<' && c != '>' && c != '"' && c != '\'';
}

/* Writes at most max characters of s[0..n) as XML text (w NULL: only counts them). Markup
 * characters are escaped; control characters and bytes that are not valid UTF-8 become '?',
 * so any frame name, however hostile, keeps the document well-formed. */
static size_t w_text(wr *w, const char *str, size_t n, size_t max)
{
    const unsigned char *s = (const unsigned char *)str;
    size_t chars = 0, i = 0;
    while (i < n && chars < max) {
        size_t j = i;
        while (j < n && chars < max && plain_char(s[j])) { /* the common case, in one copy */
            j++;
            chars++;
        }
        if (w && j > i)
            w_mem(w, str + i, j - i);
        i = j;
        if (i == n || chars == max)
            break;
        unsigned c = s[i];
        size_t len = c < 0x80 ? 1 : utf8_char(s + i, n - i);
        const char *rep = NULL;
        if (c == '&')
            rep = "&amp;";
        else if (c == '<')
            rep = "&lt;";
        else if (c == '>')
            rep = "&gt;";
        else if (c == '"')
            rep = "&quot;";
        else if (c == '\'')
            rep = "&#39;";
        else if (c < 0x80 || len == 0)
            rep = "?"; /* a control character, or not UTF-8 */
        if (w && rep)
            w_str(w, rep);
        else if (w)
            w_mem(w, str + i, len);
        i += len ? len : 1;
        chars++;
    }
    return chars;
}

static size_t w_text_all(wr *w, const char *s)
{
    return w_text(w, s, strlen(s), SIZE_MAX);
}

/* ======================================================================================
 * Colours: a pure function of the frame name, so a function keeps its colour across runs
 * and across graphs. Tags added by stack collapsers win in every palette.
 * ====================================================================================== */

enum palette { PAL_HOT, PAL_JAVA, PAL_JS };
enum hue { HUE_HOT, HUE_RED, HUE_ORANGE, HUE_YELLOW, HUE_GREEN, HUE_PALE_GREEN, HUE_AQUA };

static bool has_tag(const char *s, size_t n, char tag)
{
    return n >= 4 && s[n - 4] == '_' && s[n - 3] == '[' && s[n - 2] == tag && s[n - 1] == ']';
}

static bool has(const char *s, size_t n, const char *needle)
{
    return memmem(s, n, needle, strlen(needle)) != NULL;
}

static bool starts(const char *s, size_t n, const char *prefix)
{
    size_t k = strlen(prefix);
    return n >= k && memcmp(s, prefix, k) == 0;
}

static bool java_name(const char *s, size_t n)
{
    static const char *const pkgs[] = { "java/", "javax/", "jdk/", "sun/", "com/", "org/",
                                        "io/",   "net/",   "scala/", "kotlin/" };
    if (n && s[0] == 'L') { /* JVM descriptors: Ljava/lang/String; */
        s++;
        n--;
    }
    for (size_t i = 0; i < sizeof(pkgs) / sizeof(*pkgs); i++)
        if (starts(s, n, pkgs[i]))
            return true;
    return has(s, n, ".java:");
}

static enum hue classify(const char *s, size_t n, enum palette pal)
{
    if (has_tag(s, n, 'k'))
        return HUE_ORANGE;
    if (has_tag(s, n, 'j'))
        return HUE_GREEN;
    if (has_tag(s, n, 'i'))
        return HUE_AQUA;
    if (has_tag(s, n, '0')) /* an interpreted Java method: paler than compiled ones */
        return HUE_PALE_GREEN;
    if (pal == PAL_HOT)
        return HUE_HOT;
    if (pal == PAL_JAVA && java_name(s, n))
        return HUE_GREEN;
    if (pal == PAL_JS && (has(s, n, ".js") || starts(s, n, "JS:") || memchr(s, '/', n)))
        return HUE_GREEN;
    if (pal == PAL_JS && (starts(s, n, "Builtin:") || starts(s, n, "BytecodeHandler:")))
        return HUE_AQUA;
    if (has(s, n, "::"))
        return HUE_YELLOW;
    return HUE_RED;
}

/* v/65536 of range: integer maths, so colours never depend on float rounding. */
static unsigned frac(unsigned v, unsigned range)
{
    return (v * range) >> 16;
}

/* FNV-1a, byte by byte so colours are the same on every platform, then a finalizer that
 * spreads short names ("a", "b") over all the bits the palettes use. */
static uint64_t color_hash(const char *s, size_t n)
{
    uint64_t h = 0xcbf29ce484222325u;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 0x100000001b3u;
    h = (h ^ (h >> 33)) * 0xff51afd7ed558ccdu;
    h = (h ^ (h >> 33)) * 0xc4ceb9fe1a85ec53u;
    return h ^ (h >> 33);
}

static void w_color(wr *w, const char *s, size_t n, enum palette pal)
{
    uint64_t h = color_hash(s, n);
    unsigned a = (unsigned)(h & 0xffff), b = (unsigned)(h >> 16 & 0xffff),
             c = (unsigned)(h >> 32 & 0xffff);
    unsigned rgb[3];
    switch (classify(s, n, pal)) {
    case HUE_HOT: /* reds to yellows: the classic look */
        rgb[0] = 205 + frac(c, 50), rgb[1] = frac(a, 230), rgb[2] = frac(b, 55);
        break;
    case HUE_RED:
        rgb[0] = 200 + frac(a, 55), rgb[1] = rgb[2] = 50 + frac(a, 80);
        break;
    case HUE_ORANGE:
        rgb[0] = 190 + frac(a, 65), rgb[1] = 90 + frac(a, 65), rgb[2] = 0;
        break;
    case HUE_YELLOW:
        rgb[0] = rgb[1] = 175 + frac(a, 55), rgb[2] = 50 + frac(a, 20);
        break;
    case HUE_GREEN:
        rgb[0] = rgb[2] = 50 + frac(a, 60), rgb[1] = 165 + frac(a, 55);
        break;
    case HUE_PALE_GREEN:
        rgb[0] = rgb[2] = 140 + frac(a, 50), rgb[1] = 205 + frac(a, 50);
        break;
    default: /* HUE_AQUA */
        rgb[0] = 50 + frac(a, 60), rgb[1] = rgb[2] = 165 + frac(a, 55);
        break;
    }
    w_str(w, "rgb(");
    for (int i = 0; i < 3; i++) {
        w_u64(w, rgb[i]);
        w_str(w, i < 2 ? "," : ")");
    }
}

static enum palette palette_of(const char *name)
{
    if (name && strcmp(name, "java") == 0)
        return PAL_JAVA;
    if (name && strcmp(name, "js") == 0)
        return PAL_JS;
    return PAL_HOT;
}

/* ======================================================================================
 * The document.
 * ====================================================================================== */

static const char svg_css[] =
    "<style type=\"text/css\">\n"
    "text { font-family: Verdana, sans-serif; font-size: 12px; fill: #000; }\n"
    "#title { text-anchor: middle; font-size: 17px; }\n"
    "#subtitle { text-anchor: middle; fill: #a0a0a0; }\n"
    "#search, #ignorecase { text-anchor: end; opacity: 0.1; cursor: pointer; }\n"
    "#search:hover, #search.show, #ignorecase:hover, #ignorecase.show { opacity: 1; }\n"
    "#matched { text-anchor: end; }\n"
    "#unzoom { cursor: pointer; }\n"
    "#frames rect { rx: 2px; ry: 2px; }\n"
    "#frames g { cursor: pointer; }\n"
    "#frames g:hover rect { stroke: #000; stroke-width: 0.5; }\n"
    ".hide { display: none; }\n"
    ".parent { opacity: 0.5; }\n"
    "</style>\n";

/* The viewer. Each frame <g> carries data-s (first sample, counted from the left edge of the
 * root) and data-n (its samples): zoom and the search share are exact sample arithmetic,
 * never pixels. In a differential graph data-b and data-a are its samples before and
 * after. The configuration variables are written before this text.
 * The view is kept in the URL, so a link or a reload shows the same thing:
 * ?x=S&y=D zooms on the frame at depth D starting at sample S, s=REGEX searches, i=1
 * ignores case. */
static const char svg_js[] =
    "var frames = [], details, matched, unzoombtn, searchbtn, icbtn;\n"
    "var term = null, ignorecase = false, zoomed = null, root = null;\n"
    "function init(evt) {\n"
    "  details = document.getElementById('details').firstChild;\n"
    "  matched = document.getElementById('matched');\n"
    "  unzoombtn = document.getElementById('unzoom');\n"
    "  searchbtn = document.getElementById('search');\n"
    "  icbtn = document.getElementById('ignorecase');\n"
    "  var box = document.getElementById('frames'), gs = box.getElementsByTagName('g');\n"
    "  for (var i = 0; i < gs.length; i++) frames.push(new Frame(gs[i]));\n"
    "  for (i = 0; i < frames.length; i++) if (frames[i].d === 0) root = frames[i];\n"
    "  box.addEventListener('click', function (e) { var f = frame_of(e.target); if (f) zoom(f); });\n"
    "  box.addEventListener('mouseover', function (e) {\n"
    "    var f = frame_of(e.target); if (f) details.nodeValue = describe(f);\n"
    "  });\n"
    "  box.addEventListener('mouseout', function () { details.nodeValue = ' '; });\n"
    "  unzoombtn.addEventListener('click', unzoom);\n"
    "  searchbtn.addEventListener('click', function () { if (term === null) ask(); else reset_search(); });\n"
    "  icbtn.addEventListener('click', toggle_case);\n"
    "  window.addEventListener('keydown', on_key);\n"
    "  load_state();\n"
    "}\n"
    "function share(part, total) { return (total ? 100 * part / total : 0).toFixed(2) + '%'; }\n"
    "function commas(n) { return String(n).replace(/\\B(?=(\\d{3})+(?!\\d))/g, ','); }\n"
    "function Frame(g) {\n"
    "  var r = g.getElementsByTagName('rect')[0], t = g.getElementsByTagName('text')[0];\n"
    "  this.g = g; this.rect = r; this.text = t;\n"
    "  this.title = g.getElementsByTagName('title')[0].textContent;\n"
    "  this.s = Number(g.getAttribute('data-s'));\n"
    "  this.n = Number(g.getAttribute('data-n'));\n"
    "  this.agg = g.getAttribute('class') === 'agg';\n"
    "  var y = Number(r.getAttribute('y'));\n"
    "  this.d = Math.round(INV ? (y - YTOP) / FH : (YBOT - y) / FH);\n"
    "  this.x0 = r.getAttribute('x'); this.w0 = r.getAttribute('width');\n"
    "  this.tx0 = t.getAttribute('x'); this.label0 = t.textContent;\n"
    "  this.fill = r.getAttribute('fill');\n"
    "  /* the title is 'NAME (COUNT UNIT, ...)', COUNT being AFTER's samples in a\n"
    "     differential graph; cut at the last such suffix */\n"
    "  this.a = Number(g.getAttribute('data-a')); this.b = Number(g.getAttribute('data-b'));\n"
    "  var cut = this.title.lastIndexOf(' (' + commas(DIFF ? this.a : this.n) + ' ');\n"
    "  this.name = this.agg ? '' : cut >= 0 ? this.title.substring(0, cut) : this.title;\n"
    "  g.fpframe = this;\n"
    "}\n"
    "/* The title, and when zoomed, the share of the zoomed frame's samples. */\n"
    "function describe(f) {\n"
    "  if (!zoomed || f.d < zoomed.d || !zoomed.n) return f.title;\n"
    "  return f.title + ' [' + (100 * f.n / zoomed.n).toFixed(2) + '% of the zoomed frame]';\n"
    "}\n"
    "function frame_of(el) {\n"
    "  for (; el && el.id !== 'frames'; el = el.parentNode) if (el.fpframe) return el.fpframe;\n"
    "  return null;\n"
    "}\n"
    "function label(f, w) {\n"
    "  var c = Math.floor((w - 3) / FONTW);\n"
    "  if (f.agg || c < 3) return '';\n"
    "  return f.name.length <= c ? f.name : f.name.substring(0, c - 2) + '..';\n"
    "}\n"
    "function place(f, x, w) {\n"
    "  f.rect.setAttribute('x', x.toFixed(2));\n"
    "  f.rect.setAttribute('width', w.toFixed(2));\n"
    "  f.text.setAttribute('x', (x + 3).toFixed(2));\n"
    "  f.text.textContent = label(f, w);\n"
    "}\n"
    "function show(f, cls) {\n"
    "  f.g.classList.toggle('hide', cls === 'hide');\n"
    "  f.g.classList.toggle('parent', cls === 'parent');\n"
    "}\n"
    "/* Zoom: z spans the width, its ancestors stay (dimmed), everything else is hidden. */\n"
    "function zoom(z) {\n"
    "  if (z.d === 0) { unzoom(); return; }\n"
    "  zoomed = z;\n"
    "  var ze = z.s + z.n, full = W - 2 * XPAD, scale = full / z.n;\n"
    "  for (var i = 0; i < frames.length; i++) {\n"
    "    var f = frames[i], fe = f.s + f.n;\n"
    "    if (f.d < z.d && f.s <= z.s && fe >= ze) { place(f, XPAD, full); show(f, 'parent'); }\n"
    "    else if (f.d >= z.d && f.s >= z.s && fe <= ze) {\n"
    "      place(f, XPAD + (f.s - z.s) * scale, f.n * scale); show(f, '');\n"
    "    } else show(f, 'hide');\n"
    "  }\n"
    "  unzoombtn.classList.remove('hide');\n"
    "  save_state();\n"
    "}\n"
    "function unzoom() {\n"
    "  zoomed = null;\n"
    "  for (var i = 0; i < frames.length; i++) {\n"
    "    var f = frames[i];\n"
    "    f.rect.setAttribute('x', f.x0); f.rect.setAttribute('width', f.w0);\n"
    "    f.text.setAttribute('x', f.tx0); f.text.textContent = f.label0;\n"
    "    show(f, '');\n"
    "  }\n"
    "  unzoombtn.classList.add('hide');\n"
    "  save_state();\n"
    "}\n"
    "function ask() {\n"
    "  var t = prompt('Search (regular expression' + (ignorecase ? ', ignoring case' : '') + ')',\n"
    "                 term === null ? '' : term);\n"
    "  if (t === null) return;\n"
    "  if (t === '') reset_search(); else search(t);\n"
    "}\n"
    "function search(t) {\n"
    "  var re;\n"
    "  try { re = new RegExp(t, ignorecase ? 'i' : ''); }\n"
    "  catch (e) { details.nodeValue = 'Invalid regular expression: ' + t; return; }\n"
    "  term = t;\n"
    "  var hits = [];\n"
    "  for (var i = 0; i < frames.length; i++) {\n"
    "    var f = frames[i], hit = !f.agg && re.test(f.name);\n"
    "    f.rect.setAttribute('fill', hit ? 'rgb(230,0,230)' : f.fill);\n"
    "    if (hit) hits.push(f);\n"
    "  }\n"
    "  /* Union of the matched sample ranges: a match nested in another one (recursion)\n"
    "     adds nothing, so the share is exact and never above 100%. */\n"
    "  hits.sort(function (a, b) { return a.s - b.s || b.n - a.n; });\n"
    "  var sum = 0, end = 0, sa = 0, sb = 0;\n"
    "  for (i = 0; i < hits.length; i++) {\n"
    "    var s = hits[i].s, e = s + hits[i].n;\n"
    "    /* frames nest or are disjoint: one that starts past the end is outermost */\n"
    "    if (DIFF && s >= end) { sa += hits[i].a; sb += hits[i].b; }\n"
    "    if (e > end) { sum += e - Math.max(s, end); end = e; }\n"
    "  }\n"
    "  searchbtn.classList.add('show');\n"
    "  searchbtn.firstChild.nodeValue = 'Reset Search';\n"
    "  matched.classList.remove('hide');\n"
    "  /* a differential graph: shares of AFTER's and of BEFORE's samples */\n"
    "  matched.firstChild.nodeValue = !DIFF ? 'Matched: ' + share(sum, TOTAL)\n"
    "    : 'Matched: ' + share(sa, root.a) + ' (before: ' + share(sb, root.b) + ')';\n"
    "  save_state();\n"
    "}\n"
    "function reset_search() {\n"
    "  term = null;\n"
    "  for (var i = 0; i < frames.length; i++) frames[i].rect.setAttribute('fill', frames[i].fill);\n"
    "  searchbtn.classList.remove('show');\n"
    "  searchbtn.firstChild.nodeValue = 'Search';\n"
    "  matched.classList.add('hide');\n"
    "  save_state();\n"
    "}\n"
    "function toggle_case() {\n"
    "  ignorecase = !ignorecase;\n"
    "  icbtn.classList.toggle('show', ignorecase);\n"
    "  if (term !== null) search(term); else save_state();\n"
    "}\n"
    "function on_key(e) {\n"
    "  var k = e.key ? e.key.toLowerCase() : '', mod = e.ctrlKey || e.metaKey;\n"
    "  if (k === 'f3' || (mod && k === 'f')) { e.preventDefault(); ask(); }\n"
    "  else if (mod && k === 'i') { e.preventDefault(); toggle_case(); }\n"
    "  else if (k === 'escape') { if (term !== null) reset_search(); else unzoom(); }\n"
    "}\n"
    "/* The URL keeps the view; where there is no history API (a viewer without one, a file\n"
    "   a browser refuses to rewrite the URL of) the view simply is not kept. */\n"
    "function save_state() {\n"
    "  if (typeof history === 'undefined' || typeof location === 'undefined' ||\n"
    "      !history.replaceState) return;\n"
    "  var q = [];\n"
    "  if (zoomed) q.push('x=' + zoomed.s, 'y=' + zoomed.d);\n"
    "  if (term !== null) q.push('s=' + encodeURIComponent(term));\n"
    "  if (ignorecase) q.push('i=1');\n"
    "  var url = location.pathname + (q.length ? '?' + q.join('&') : '') + location.hash;\n"
    "  try { history.replaceState(null, '', url); } catch (e) { }\n"
    "}\n"
    "function load_state() {\n"
    "  if (typeof location === 'undefined' || !location.search) return;\n"
    "  var p = {}, kv = location.search.substring(1).split('&');\n"
    "  for (var i = 0; i < kv.length; i++) {\n"
    "    var eq = kv[i].indexOf('='); if (eq < 0) continue;\n"
    "    try { p[kv[i].substring(0, eq)] = decodeURIComponent(kv[i].substring(eq + 1).replace(/\\+/g, ' ')); }\n"
    "    catch (e) { }\n"
    "  }\n"
    "  if (p.i === '1') { ignorecase = true; icbtn.classList.add('show'); }\n"
    "  if (p.x !== undefined && p.y !== undefined) {\n"
    "    var x = Number(p.x), y = Number(p.y);\n"
    "    for (i = 0; i < frames.length; i++)\n"
    "      if (frames[i].s === x && frames[i].d === y) { zoom(frames[i]); break; }\n"
    "  }\n"
    "  if (p.s) search(p.s);\n"
    "}\n";

typedef struct doc {
    wr *w;
    enum palette pal;
    const char *countname;
    uint64_t total;
    double scale; /* px per sample */
    int width, height, ytop, ybot;
    bool inverted;
    const svg_diff *diff; /* differential graph, else NULL */
    double max_delta;     /* the largest change of share of any frame, in percent */
} doc;

/* ---- differential graphs ---- */

/* How a frame's share of its profile's samples changed from BEFORE to AFTER, in
 * percentage points. */
static double delta_of(const doc *d, const item *it)
{
    return pct(it->ba.after, d->diff->after_total) - pct(it->ba.before, d->diff->before_total);
}

/* The sign of that change, exactly: after/A against before/B compared as integers, so
 * a frame whose share did not change is neutral whatever the float rounding. */
static int delta_sign(const doc *d, const item *it)
{
    unsigned __int128 a = (unsigned __int128)it->ba.after * d->diff->before_total,
                      b = (unsigned __int128)it->ba.before * d->diff->after_total;
    if (!d->diff->after_total || !d->diff->before_total) /* a share of nothing is 0 */
        return d->diff->after_total ? (it->ba.after > 0) : -(it->ba.before > 0);
    return a > b ? 1 : a < b ? -1 : 0;
}

static double max_delta(const doc *d, const layout *l)
{
    double m = 0;
    for (size_t i = 0; i < l->len; i++) {
        double v = delta_of(d, &l->it[i]);
        v = v < 0 ? -v : v;
        m = v > m ? v : m;
    }
    return m;
}

/* Red where the share grew, blue where it shrank, deeper with the size of the change
 * relative to the largest one in the graph; grey where it did not change. */
static void w_diff_color(wr *w, const doc *d, const item *it)
{
    int sign = delta_sign(d, it);
    double v = delta_of(d, it), t = d->max_delta > 0 ? (v < 0 ? -v : v) / d->max_delta : 0;
    unsigned pale = 220 - (unsigned)(round100(t > 1 ? 1 : t) * 220 / 100);
    unsigned rgb[3] = { 220, 220, 220 };
    if (sign > 0)
        rgb[0] = 255, rgb[1] = rgb[2] = pale;
    else if (sign < 0)
        rgb[0] = rgb[1] = pale, rgb[2] = 255;
    w_str(w, "rgb(");
    for (int i = 0; i < 3; i++) {
        w_u64(w, rgb[i]);
        w_str(w, i < 2 ? "," : ")");
    }
}

/* "A UNIT, A%; before B UNIT, B%; +D%": AFTER's samples and share first, as the graph is
 * laid out by them, then BEFORE's, then the change of share in percentage points. */
static void w_diff_title(const doc *d, const item *it)
{
    wr *w = d->w;
    w_commas(w, it->ba.after);
    w_str(w, " ");
    w_text_all(w, d->countname);
    w_str(w, ", ");
    w_pct(w, it->ba.after, d->diff->after_total);
    w_str(w, "%; before ");
    w_commas(w, it->ba.before);
    w_str(w, " ");
    w_text_all(w, d->countname);
    w_str(w, ", ");
    w_pct(w, it->ba.before, d->diff->before_total);
    double v = delta_of(d, it);
    int sign = delta_sign(d, it);
    w_str(w, sign < 0 ? "%; -" : "%; +");
    w_dec2(w, v < 0 ? -v : v);
    w_str(w, "%");
}

/* The label: as much of the name as fits, ".." marking a cut, nothing below 3 chars. */
static void w_label(wr *w, const char *name, size_t len, double px)
{
    double room = (px - 3) / FONT_W;
    if (!(room >= 3))
        return;
    size_t max = room > 1e6 ? 1000000 : (size_t)room;
    if (w_text(NULL, name, len, max + 1) <= max) {
        w_text(w, name, len, max);
    } else {
        w_text(w, name, len, max - 2);
        w_str(w, "..");
    }
}

static void w_frame(const doc *d, const item *it)
{
    wr *w = d->w;
    double x = XPAD + (double)it->start * d->scale, px = (double)it->count * d->scale;
    int y = d->inverted ? d->ytop + (int)it->depth * FRAME_H : d->ybot - (int)it->depth * FRAME_H;

    w_str(w, it->name ? "<g data-s=\"" : "<g class=\"agg\" data-s=\"");
    w_u64(w, it->start);
    w_str(w, "\" data-n=\"");
    w_u64(w, it->count);
    if (d->diff) {
        w_str(w, "\" data-b=\"");
        w_u64(w, it->ba.before);
        w_str(w, "\" data-a=\"");
        w_u64(w, it->ba.after);
    }
    w_str(w, "\"><title>");
    if (it->name) {
        w_text(w, it->name, it->len, SIZE_MAX);
    } else {
        w_u64(w, it->nsmall);
        w_str(w, " small frames");
    }
    w_str(w, " (");
    if (d->diff) {
        w_diff_title(d, it);
    } else {
        w_commas(w, it->count);
        w_str(w, " ");
        w_text_all(w, d->countname);
        w_str(w, ", ");
        w_pct(w, it->count, d->total);
        w_str(w, "%");
    }
    w_str(w, ")</title><rect x=\"");
    w_fix(w, x);
    w_str(w, "\" y=\"");
    w_u64(w, (uint64_t)y);
    w_str(w, "\" width=\"");
    w_fix(w, px);
    w_str(w, "\" height=\"");
    w_u64(w, FRAME_H - 1);
    w_str(w, "\" fill=\"");
    if (d->diff)
        w_diff_color(w, d, it);
    else if (it->name)
        w_color(w, it->name, it->len, d->pal);
    else
        w_str(w, "rgb(190,190,190)");
    w_str(w, "\"/><text x=\"");
    w_fix(w, x + 3);
    w_str(w, "\" y=\"");
    w_fix(w, y + 10.5);
    w_str(w, "\">");
    if (it->name)
        w_label(w, it->name, it->len, px);
    w_str(w, "</text></g>\n");
}

static void w_attr_num(wr *w, const char *name, double v)
{
    w_str(w, name);
    w_str(w, "=\"");
    w_fix(w, v);
    w_str(w, "\"");
}

static void w_header(const doc *d, const svg_options *o, const char *title)
{
    wr *w = d->w;
    w_str(w, "<?xml version=\"1.0\" encoding=\"UTF-8\" standalone=\"no\"?>\n<svg version=\"1.1\"");
    w_attr_num(w, " width", d->width);
    w_attr_num(w, " height", d->height);
    w_str(w, " viewBox=\"0 0 ");
    w_u64(w, (uint64_t)d->width);
    w_str(w, " ");
    w_u64(w, (uint64_t)d->height);
    w_str(w, "\" onload=\"init(evt)\" xmlns=\"http://www.w3.org/2000/svg\">\n");
    w_str(w, svg_css);
    w_str(w, "<script type=\"text/ecmascript\"><![CDATA[\n'use strict';\nvar W = ");
    w_u64(w, (uint64_t)d->width);
    w_str(w, ", XPAD = ");
    w_u64(w, XPAD);
    w_str(w, ", FH = ");
    w_u64(w, FRAME_H);
    w_str(w, ", FONTW = ");
    w_fix(w, FONT_W);
    w_str(w, ", INV = ");
    w_str(w, d->inverted ? "true" : "false");
    w_str(w, ", YTOP = ");
    w_u64(w, (uint64_t)d->ytop);
    w_str(w, ", YBOT = ");
    w_u64(w, (uint64_t)d->ybot);
    w_str(w, ", DIFF = ");
    w_str(w, d->diff ? "true" : "false");
    w_str(w, ", TOTAL = ");
    w_u64(w, d->total);
    w_str(w, ";\n");
    w_str(w, svg_js);
    w_str(w, "]]></script>\n"
             "<defs><linearGradient id=\"background\" x1=\"0\" y1=\"0\" x2=\"0\" y2=\"1\">"
             "<stop stop-color=\"#eeeeee\" offset=\"5%\"/>"
             "<stop stop-color=\"#eeeeb0\" offset=\"95%\"/></linearGradient></defs>\n");
    w_str(w, "<rect x=\"0\" y=\"0\"");
    w_attr_num(w, " width", d->width);
    w_attr_num(w, " height", d->height);
    w_str(w, " fill=\"url(#background)\"/>\n<text id=\"title\"");
    w_attr_num(w, " x", d->width / 2.0);
    w_str(w, " y=\"24\">");
    w_text_all(w, title);
    w_str(w, "</text>\n");
    if (o->subtitle) {
        w_str(w, "<text id=\"subtitle\"");
        w_attr_num(w, " x", d->width / 2.0);
        w_str(w, " y=\"42\">");
        w_text_all(w, o->subtitle);
        w_str(w, "</text>\n");
    }
    w_str(w, "<text id=\"details\" x=\"10\"");
    w_attr_num(w, " y", d->height - 10);
    w_str(w, "> </text>\n<text id=\"unzoom\" class=\"hide\" x=\"10\" y=\"24\">Reset Zoom</text>\n"
             "<text id=\"search\"");
    w_attr_num(w, " x", d->width - XPAD - 24);
    w_str(w, " y=\"24\">Search</text>\n<text id=\"ignorecase\"");
    w_attr_num(w, " x", d->width - XPAD);
    w_str(w, " y=\"24\">ic</text>\n<text id=\"matched\" class=\"hide\"");
    w_attr_num(w, " x", d->width - XPAD);
    w_attr_num(w, " y", d->height - 10);
    w_str(w, "> </text>\n");
}

void svg_options_default(svg_options *o)
{
    memset(o, 0, sizeof(*o));
    o->title = "Flame Graph";
    o->countname = "samples";
    o->colors = "hot";
    o->width = 1200;
    o->minwidth = 0.1;
}

/* Lays the entries out into l. In reverse mode the names point into *rbuf, which the
 * caller frees once the items are written. */
static int prepare(const entries *in, const svg_options *o, int px_wide, layout *l,
                   uint64_t *total, char **rbuf)
{
    *total = 0;
    for (size_t i = 0; i < in->n; i++)
        *total = sat_add(*total, entry_at(in, i)->count);
    if (!*total)
        return 0;
    double min_count = o->minwidth > 0 ? o->minwidth * (double)*total / px_wide : 0;
    entries rev = { NULL, 0, 0, false };
    if (o->reverse && reversed_entries(in, &rev, rbuf) < 0)
        return -1;
    const entries *v = rev.base ? &rev : in;
    int rc = lay_out(l, v, min_count, *total);
    if (rc == 1) { /* not finished: lay out a sorted copy of the entry list */
        entries sorted = { malloc(v->n * v->stride), v->n, v->stride, v->diff };
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

/* Both entry points: in is read only, never written through. */
static int render(const entries *in, const svg_diff *diff, const svg_options *opt, FILE *out)
{
    svg_options o;
    svg_options_default(&o);
    if (opt)
        o = *opt;
    o.countname = o.countname ? o.countname : "samples";
    const char *title = o.title ? o.title : "Flame Graph";
    if (diff && strcmp(title, "Flame Graph") == 0)
        title = o.inverted ? "Differential Icicle Graph" : "Differential Flame Graph";
    else if (o.inverted && strcmp(title, "Flame Graph") == 0)
        title = "Icicle Graph"; /* as flamegraph.pl does */
    /* Widths below a few pads leave no room for frames; far above any screen they only
     * make the file explode. */
    int width = o.width < 100 ? 100 : o.width > 1000000 ? 1000000 : o.width;

    layout l;
    memset(&l, 0, sizeof(l));
    uint64_t total = 0;
    char *rbuf = NULL;
    wr *w = malloc(sizeof(*w));
    int rc = -1;
    if (!w || prepare(in, &o, width - 2 * XPAD, &l, &total, &rbuf) < 0)
        goto done;

    doc d = { w, palette_of(o.colors), o.countname, total, 0, width, 0, 0, 0, o.inverted,
              diff, 0 };
    if (diff)
        d.max_delta = max_delta(&d, &l);
    int ypad1 = TITLE_PAD + (o.subtitle ? SUBTITLE_PAD : 0);
    d.height = ((int)l.max_depth + 1) * FRAME_H + ypad1 + STATUS_PAD;
    d.ytop = ypad1;
    d.ybot = d.height - STATUS_PAD - FRAME_H;
    d.scale = total ? (double)(width - 2 * XPAD) / (double)total : 0;
    w->f = out;
    w->len = 0;
    w->err = 0;
    w_header(&d, &o, title);
    w_str(w, "<g id=\"frames\">\n");
    for (size_t i = 0; i < l.len; i++)
        w_frame(&d, &l.it[i]);
    w_str(w, "</g>\n");
    if (!total) {
        w_str(w, "<text");
        w_attr_num(w, " x", width / 2.0);
        w_attr_num(w, " y", ypad1 + 12);
        w_str(w, " text-anchor=\"middle\">ERROR: No stack counts found</text>\n");
    }
    w_str(w, "</svg>\n");
    w_flush(w);
    rc = w->err || fflush(out) == EOF || ferror(out) ? -1 : 0;
done:
    layout_free(&l);
    free(rbuf);
    free(w);
    return rc;
}

int svg_write(const folded_profile *p, const svg_options *opt, FILE *out)
{
    entries v = { (char *)p->entries, p->len, sizeof(folded_entry), false };
    return render(&v, NULL, opt, out);
}

int svg_write_diff(const svg_diff *diff, const svg_options *opt, FILE *out)
{
    entries v = { (char *)diff->entries, diff->len, sizeof(svg_diff_entry), true };
    return render(&v, diff, opt, out);
}
