/* folded.c - folded stacks: build, sort/merge, parse and write. See folded.h. */
#include "folded.h"
#include "frame_source.h"

#include "array.h"
#include "frame_name.h"
#include "sat.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

void folded_init(folded_profile *p)
{
    memset(p, 0, sizeof(*p));
}

void folded_free(folded_profile *p)
{
    for (size_t i = 0; i < p->len; i++)
        free(p->entries[i].stack);
    free(p->entries);
    frame_sources_free(p->sources);
    folded_init(p);
}

int folded_add(folded_profile *p, const char *stack, size_t len, uint64_t count)
{
    if (!UTIL_RESERVE(p->entries, p->cap, p->len + 1))
        return -1;
    char *s = malloc(len + 1);
    if (!s)
        return -1;
    memcpy(s, stack, len);
    s[len] = '\0';
    p->entries[p->len].stack = s;
    p->entries[p->len].count = count;
    p->len++;
    p->total = util_sat_add(p->total, count);
    return 0;
}

static int cmp_entry(const void *a, const void *b)
{
    const folded_entry *x = a, *y = b;
    return strcmp(x->stack, y->stack);
}

void folded_finish(folded_profile *p)
{
    if (p->len < 2)
        return;
    qsort(p->entries, p->len, sizeof(*p->entries), cmp_entry);
    size_t out = 0;
    for (size_t i = 1; i < p->len; i++) {
        folded_entry *last = &p->entries[out];
        if (strcmp(last->stack, p->entries[i].stack) == 0) {
            last->count = util_sat_add(last->count, p->entries[i].count);
            free(p->entries[i].stack);
        } else {
            p->entries[++out] = p->entries[i];
        }
    }
    p->len = out + 1;
}

void folded_subtract(folded_profile *p, const folded_profile *base)
{
    size_t out = 0, j = 0;
    for (size_t i = 0; i < p->len; i++) {
        folded_entry e = p->entries[i];
        int cmp = 1;
        while (j < base->len && (cmp = strcmp(base->entries[j].stack, e.stack)) < 0)
            j++;
        if (j < base->len && cmp == 0) {
            uint64_t b = base->entries[j].count < e.count ? base->entries[j].count : e.count;
            e.count -= b;
            p->total -= b;
        }
        if (e.count == 0) {
            free(e.stack);
            continue;
        }
        p->entries[out++] = e;
    }
    p->len = out;
}

int folded_write(const folded_profile *p, FILE *out)
{
    for (size_t i = 0; i < p->len; i++) {
        if (fputs(p->entries[i].stack, out) == EOF ||
            fprintf(out, " %" PRIu64 "\n", p->entries[i].count) < 0)
            return -1;
    }
    return fflush(out) == EOF || ferror(out) ? -1 : 0;
}

/* ---- parsing ---- */

static int is_blank(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/* Parses an all-digit count. Returns NULL on success, else why the count is unusable. */
static const char *parse_count(const char *s, size_t n, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0)
        return "missing count";
    for (size_t i = 0; i < n; i++) {
        unsigned d = (unsigned char)s[i] - '0';
        if (d > 9)
            return "count is not a positive integer";
        if (v > (UINT64_MAX - d) / 10)
            return "count does not fit in 64 bits";
        v = v * 10 + d;
    }
    if (v == 0)
        return "count is not a positive integer";
    *out = v;
    return NULL;
}

/* Splits one line (without its '\n') into stack and count, and adds it. Returns NULL if
 * the line was added or blank, a reason if it is malformed, or "" on allocation failure. */
static const char *parse_line(folded_profile *p, char *line, size_t n)
{
    while (n > 0 && is_blank(line[n - 1]))
        n--;
    if (n == 0)
        return NULL;
    size_t sp = n;
    while (sp > 0 && line[sp - 1] != ' ' && line[sp - 1] != '\t')
        sp--;
    if (sp == 0)
        return "missing count";
    uint64_t count;
    const char *why = parse_count(line + sp, n - sp, &count);
    if (why)
        return why;
    size_t len = sp - 1;
    while (len > 0 && is_blank(line[len - 1]))
        len--;
    if (len == 0)
        return "empty stack";
    if (count > UINT64_MAX - p->total)
        return "count makes the total overflow 64 bits";
    /* A NUL would silently cut the stack short once stored as a C string. */
    for (char *z = memchr(line, '\0', len); z; z = memchr(z, '\0', len - (size_t)(z - line)))
        *z = '?';
    return folded_add(p, line, len, count) < 0 ? "" : NULL;
}

/* Parses the complete lines in buf[*start..len) and advances *start past them. Returns 0,
 * or -1 on allocation failure. */
static int parse_lines(folded_profile *p, char *buf, size_t len, size_t *start, size_t *line_no,
                       long *bad, folded_error_fn on_error, void *ctx)
{
    char *nl;
    while ((nl = memchr(buf + *start, '\n', len - *start)) != NULL) {
        const char *why = parse_line(p, buf + *start, (size_t)(nl - buf) - *start);
        ++*line_no;
        *start = (size_t)(nl - buf) + 1;
        if (why && !*why)
            return -1;
        if (why) {
            ++*bad;
            if (on_error)
                on_error(ctx, *line_no, why);
        }
    }
    return 0;
}

/* Reads in large blocks and parses lines in place: half the cost of getline's per-line
 * copying and 4 KB reads on a 23 MB profile. A line longer than the buffer grows it. */
long folded_parse(FILE *in, folded_profile *p, folded_error_fn on_error, void *ctx)
{
    size_t cap = 1 << 18, len = 0, start = 0, line_no = 0;
    long bad = 0;
    char *buf = malloc(cap);
    int err = !buf;
    while (!err) {
        if (len == cap && !UTIL_RESERVE(buf, cap, cap + 1)) { /* doubles it */
            err = 1;
            break;
        }
        size_t n = fread(buf + len, 1, cap - len, in);
        if (n == 0) {
            if (len > 0) { /* a last line without '\n' */
                buf[len] = '\n';
                err = parse_lines(p, buf, len + 1, &start, &line_no, &bad, on_error, ctx) < 0;
            }
            err |= ferror(in);
            break;
        }
        len += n;
        err = parse_lines(p, buf, len, &start, &line_no, &bad, on_error, ctx) < 0;
        memmove(buf, buf + start, len - start);
        len -= start;
        start = 0;
    }
    free(buf);
    folded_finish(p);
    return err ? -1 : bad;
}

/* ---- frame names ---- */

/* Length of the longest prefix of s[0..n) that does not end inside a UTF-8 sequence, so a
 * truncated name stays valid text for whoever displays it. */
static size_t utf8_cut(const unsigned char *s, size_t n)
{
    size_t i = n, back = 0;
    while (i > 0 && back < 4 && (s[i - 1] & 0xC0) == 0x80) {
        i--;
        back++;
    }
    if (i == 0 || s[i - 1] < 0xC0)
        return n; /* ends on ASCII or on stray continuation bytes: nothing to repair */
    unsigned char lead = s[i - 1];
    size_t need = lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : 2;
    return back + 1 >= need ? n : i - 1;
}

size_t folded_sanitize_frame(const char *name, char *dst, size_t cap)
{
    if (cap == 0)
        return 0;
    if (!name || !*name)
        name = "[unknown]";
    size_t n = strlen(name);
    if (n > cap - 1)
        n = utf8_cut((const unsigned char *)name, cap - 1);
    for (size_t i = 0; i < n; i++)
        dst[i] = util_frame_char((unsigned char)name[i]);
    dst[n] = '\0';
    return n;
}
