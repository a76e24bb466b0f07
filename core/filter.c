/* filter.c - hide, focus, exclude and strip on a folded profile (filter.h). */
#include "filter.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "array.h"
#include "thread_root.h"

static const char *const kind_name[FILTER_KINDS] = { "hide", "focus", "exclude", "strip" };

void filter_init(filter *f)
{
    memset(f, 0, sizeof *f);
}

void filter_free(filter *f)
{
    for (int k = 0; k < FILTER_KINDS; k++)
        for (int i = 0; i < f->n[k]; i++)
            regfree(&f->re[k][i]);
    memset(f, 0, sizeof *f);
}

int filter_add(filter *f, filter_kind kind, const char *regex, char *err, size_t cap)
{
    if (f->n[kind] == FILTER_MAX_EACH) {
        snprintf(err, cap, "at most %d --%s regexes", FILTER_MAX_EACH, kind_name[kind]);
        return -1;
    }
    int rc = regcomp(&f->re[kind][f->n[kind]], regex, REG_EXTENDED);
    if (rc != 0) {
        regerror(rc, &f->re[kind][f->n[kind]], err, cap);
        regfree(&f->re[kind][f->n[kind]]);
        return -1;
    }
    f->src[kind][f->n[kind]++] = regex;
    return 0;
}

bool filter_active(const filter *f)
{
    for (int k = 0; k < FILTER_KINDS; k++)
        if (f->n[k])
            return true;
    return false;
}

bool filter_is_thread_root(const char *frame, size_t len)
{
    return util_thread_root(frame, len, NULL);
}

/* Does p hold thread roots to merge away? */
static bool has_thread_roots(const folded_profile *p)
{
    for (size_t i = 0; i < p->len; i++) {
        const char *s = p->entries[i].stack, *semi = strchr(s, ';');
        if (s[0] == '[' && filter_is_thread_root(s, semi ? (size_t)(semi - s) : strlen(s)))
            return true;
    }
    return false;
}

static bool matches_any(const filter *f, filter_kind kind, const char *name)
{
    for (int i = 0; i < f->n[kind]; i++)
        if (regexec(&f->re[kind][i], name, 0, NULL, 0) == 0)
            return true;
    return false;
}

/* Remove the first match of each strip regex from name (in place). */
static void strip_name(const filter *f, char *name)
{
    for (int i = 0; i < f->n[FILTER_STRIP]; i++) {
        regmatch_t m;
        if (regexec(&f->re[FILTER_STRIP][i], name, 1, &m, 0) != 0 || m.rm_eo <= m.rm_so)
            continue;
        size_t len = strlen(name);
        if ((size_t)(m.rm_eo - m.rm_so) == len)
            continue; /* nothing would be left to read */
        memmove(name + m.rm_so, name + m.rm_eo, len - (size_t)m.rm_eo + 1);
    }
}

/* One stack split into NUL-terminated frame names (in place), root first. */
typedef struct frames {
    char *buf;
    size_t buf_cap;
    char **v;
    size_t n, cap;
    char *out; /* the rebuilt stack */
    size_t out_cap;
} frames;

static bool split(frames *fr, const char *stack)
{
    size_t len = strlen(stack);
    if (!UTIL_RESERVE(fr->buf, fr->buf_cap, len + 1) ||
        !UTIL_RESERVE(fr->out, fr->out_cap, len + sizeof "[hidden]"))
        return false;
    memcpy(fr->buf, stack, len + 1);
    fr->n = 0;
    for (char *s = fr->buf;;) {
        if (!UTIL_RESERVE(fr->v, fr->cap, fr->n + 1))
            return false;
        fr->v[fr->n++] = s;
        char *semi = strchr(s, ';');
        if (!semi)
            return true;
        *semi = 0;
        s = semi + 1;
    }
}

/* Filter one stack into fr->out; returns its length, or 0 when the stack is dropped. */
static size_t filter_stack(filter *f, frames *fr, uint64_t count)
{
    bool focused = f->n[FILTER_FOCUS] == 0, hid = false;
    /* A thread root merged away, unless threads are kept (a lone root stays: no caller). */
    size_t first = !f->threads && fr->n > 1 && filter_is_thread_root(fr->v[0], strlen(fr->v[0]));
    for (size_t i = first; i < fr->n; i++) {
        strip_name(f, fr->v[i]);
        if (matches_any(f, FILTER_EXCLUDE, fr->v[i])) {
            f->excluded += count;
            return 0;
        }
        focused |= matches_any(f, FILTER_FOCUS, fr->v[i]);
    }
    if (!focused) {
        f->unfocused += count;
        return 0;
    }
    size_t len = 0;
    for (size_t i = first; i < fr->n; i++) {
        if (matches_any(f, FILTER_HIDE, fr->v[i])) {
            hid = true;
            continue;
        }
        size_t n = strlen(fr->v[i]);
        if (len)
            fr->out[len++] = ';';
        memcpy(fr->out + len, fr->v[i], n);
        len += n;
    }
    if (len == 0) {
        memcpy(fr->out, "[hidden]", sizeof "[hidden]");
        len = sizeof "[hidden]" - 1;
    }
    if (hid)
        f->hidden_frames_weight += count;
    return len;
}

int filter_apply(filter *f, folded_profile *p)
{
    f->total_in = p->total;
    f->excluded = f->unfocused = f->hidden_frames_weight = 0;
    if (!filter_active(f) && (f->threads || !has_thread_roots(p)))
        return 0;
    folded_profile out;
    folded_init(&out);
    frames fr = { 0 };
    int rc = 0;
    for (size_t i = 0; i < p->len && rc == 0; i++) {
        const folded_entry *e = &p->entries[i];
        if (!split(&fr, e->stack)) {
            rc = -1;
            break;
        }
        size_t len = filter_stack(f, &fr, e->count);
        if (len && folded_add(&out, fr.out, len, e->count) != 0)
            rc = -1;
    }
    free(fr.buf);
    free(fr.v);
    free(fr.out);
    if (rc != 0) {
        folded_free(&out);
        return -1;
    }
    folded_finish(&out);
    out.sources = p->sources; /* the names kept are the names they were */
    p->sources = NULL;
    folded_free(p);
    *p = out;
    return 0;
}

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static void put(char *buf, size_t cap, size_t *len, const char *fmt, ...)
{
    if (*len >= cap)
        return;
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf + *len, cap - *len, fmt, ap);
    va_end(ap);
    if (n > 0)
        *len += (size_t)n;
}

void filter_describe(const filter *f, char *buf, size_t cap)
{
    const unsigned long long cost[FILTER_KINDS] = {
        f->hidden_frames_weight, f->unfocused, f->excluded, 0
    };
    size_t len = 0;
    if (cap)
        buf[0] = 0;
    if (!filter_active(f))
        return;
    put(buf, cap, &len, "filtered:");
    for (int k = 0; k < FILTER_KINDS; k++) {
        if (!f->n[k])
            continue;
        put(buf, cap, &len, " %s", kind_name[k]);
        for (int i = 0; i < f->n[k]; i++)
            put(buf, cap, &len, " /%s/", f->src[k][i]);
        if (k == FILTER_STRIP)
            put(buf, cap, &len, ";");
        else if (k == FILTER_HIDE)
            put(buf, cap, &len, " (%llu samples to callers);", cost[k]);
        else
            put(buf, cap, &len, " (-%llu samples);", cost[k]);
    }
    uint64_t shown = f->total_in - f->excluded - f->unfocused;
    put(buf, cap, &len, " %llu of %llu samples shown", (unsigned long long)shown,
        (unsigned long long)f->total_in);
}
