/* perfscript.c - `perf script` output as stackcollapse-perf.pl collapses it. See
 * perfscript.h.
 *
 * The matching below reproduces what that script's Perl regular expressions select,
 * including where they backtrack; each function names the expression it stands for. Perl's
 * \s is [ \t\n\r\f\v], \d [0-9] and \w [A-Za-z0-9_] on byte strings. */
#include "perfscript.h"

#include "array.h"
#include "grow.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PS_MAX_RECORD (64u << 20) /* bytes of frame names in one sample */

typedef struct span {
    const char *s;
    size_t n;
} span;

static bool is_ws(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

static bool is_word(char c)
{
    return is_digit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_';
}

static bool has(span s, const char *needle)
{
    size_t k = strlen(needle);
    for (size_t i = 0; i + k <= s.n; i++)
        if (memcmp(s.s + i, needle, k) == 0)
            return true;
    return false;
}

/* ---- the state of one reading ---- */

typedef struct ps_state {
    const perfscript_opts *o;
    const input_sink *sink;
    size_t line_no;
    long bad;
    input_buf event;         /* the event type kept (the filter) */
    bool filter_given; /* from the options, not from the first record */
    bool warned;
    bool have_pname;   /* $pname is defined: a kept record is open */
    input_buf pname;
    uint64_t period;
    int64_t time_ns;
    input_buf frames;        /* the record's frame groups, one per stack line, leaf first */
    size_t *groups;    /* end offsets of the groups in frames */
    size_t ngroups, groups_cap;
    bool too_long;
    input_buf stack;         /* the stack being handed over */
    input_buf func;          /* scratch for one frame */
} ps_state;

/* ---- record header: /^(\S.+?)\s+(\d+)\/{0,}(\d+){0,}\s+/ ({0,}: the script's star) ---- */

typedef struct ps_header {
    span comm, pid, tid; /* tid.n == 0: no "/TID" digits */
} ps_header;

static bool match_header(const char *s, size_t n, ps_header *h)
{
    if (n < 3 || is_ws(s[0]))
        return false;
    size_t L = 2; /* \S then at least one character of .+? */
    while (L < n) {
        if (!is_ws(s[L])) {
            L++;
            continue;
        }
        size_t i = L;
        while (i < n && is_ws(s[i]))
            i++;
        size_t after_ws = i, d0 = i;
        while (i < n && is_digit(s[i]))
            i++;
        if (i > d0) {
            size_t d1 = i;
            while (i < n && s[i] == '/')
                i++;
            size_t t0 = i;
            while (i < n && is_digit(s[i]))
                i++;
            if (i < n && is_ws(s[i])) {
                h->comm = (span){ s, L };
                h->pid = (span){ s + d0, d1 - d0 };
                h->tid = (span){ s + t0, i - t0 };
                return true;
            }
        }
        L = after_ws; /* every start inside this run of spaces fails alike */
    }
    return false;
}

/* /:\s*(\d+)*\s+(\S+):\s*$/ on the header: the event and its period. Sets *period (0 when
 * the digits are absent) and *colon (the ':' before the period, after the time stamp). */
static bool match_event(const char *s, size_t n, span *event, span *period, size_t *colon)
{
    while (n > 0 && is_ws(s[n - 1]))
        n--;
    if (n == 0 || s[n - 1] != ':')
        return false;
    size_t e1 = n - 1, e0 = e1;
    while (e0 > 0 && !is_ws(s[e0 - 1]))
        e0--;
    if (e0 == e1 || e0 == 0)
        return false;
    size_t i = e0;
    while (i > 0 && is_ws(s[i - 1]))
        i--; /* the \s+ (at least one: s[e0 - 1]) */
    size_t p1 = i;
    while (i > 0 && is_digit(s[i - 1]))
        i--;
    size_t p0 = i;
    if (p0 < p1)
        while (i > 0 && is_ws(s[i - 1]))
            i--;
    if (i == 0 || s[i - 1] != ':')
        return false;
    *event = (span){ s + e0, e1 - e0 };
    *period = (span){ s + p0, p1 - p0 };
    *colon = i - 1;
    return true;
}

/* The time stamp "SECONDS.FRACTION" just before the event's colon, in ns. */
static int64_t header_time(const char *s, size_t colon)
{
    size_t i = colon;
    while (i > 0 && (is_digit(s[i - 1]) || s[i - 1] == '.'))
        i--;
    if (i == colon || (i > 0 && !is_ws(s[i - 1])))
        return INPUT_NO_TIME;
    int64_t sec = 0, frac = 0, scale = 1000000000;
    bool dot = false;
    for (size_t k = i; k < colon; k++) {
        if (s[k] == '.') {
            if (dot)
                return INPUT_NO_TIME;
            dot = true;
        } else if (!dot) {
            if (sec > (INT64_MAX / 1000000000 - 10) / 10)
                return INPUT_NO_TIME;
            sec = sec * 10 + (s[k] - '0');
        } else if (scale > 1) {
            scale /= 10;
            frac += (s[k] - '0') * scale;
        }
    }
    return sec * 1000000000 + frac;
}

/* Perl's numeric value of an all-digit string, saturated; "" and "0" (false in Perl) are 1. */
static uint64_t period_of(span p)
{
    if (p.n == 0 || (p.n == 1 && p.s[0] == '0'))
        return 1;
    uint64_t v = 0;
    for (size_t i = 0; i < p.n; i++) {
        uint64_t d = (uint64_t)(p.s[i] - '0');
        v = v > (UINT64_MAX - d) / 10 ? UINT64_MAX : v * 10 + d;
    }
    return v;
}

static int start_record(ps_state *st, const char *s, size_t n, const ps_header *h)
{
    span event, period;
    size_t colon;
    uint64_t weight = 1;
    int64_t t = INPUT_NO_TIME;
    if (match_event(s, n, &event, &period, &colon)) {
        if (st->event.len == 0 && !st->filter_given) {
            if (input_buf_put(&st->event, event.s, event.n) < 0)
                return -1;
        } else if (event.n != st->event.len || memcmp(event.s, st->event.s, event.n) != 0) {
            if (!st->filter_given && !st->warned) {
                st->event.s[st->event.len] = '\0';
                input_error(st->sink, st->line_no,
                            "several event types; keeping only '%s' (--event-filter to choose)",
                            st->event.s);
                st->warned = true;
            }
            return 0; /* as the script does: $pname stays as it was */
        }
        weight = period_of(period);
        t = header_time(s, colon);
    }
    /* The record's process name, spaces as '_'. */
    span pid = h->pid, tid = h->tid;
    if (tid.n == 0 || (tid.n == 1 && tid.s[0] == '0')) { /* no TID, or a false one */
        tid = pid;
        pid = (span){ "?", 1 };
    }
    st->pname.len = 0;
    if (input_buf_put(&st->pname, h->comm.s, h->comm.n) < 0)
        return -1;
    if (st->o->tid || st->o->pid) {
        if (input_buf_puts(&st->pname, "-") < 0 || input_buf_put(&st->pname, pid.s, pid.n) < 0)
            return -1;
        if (st->o->tid && (input_buf_puts(&st->pname, "/") < 0 ||
                           input_buf_put(&st->pname, tid.s, tid.n) < 0))
            return -1;
    }
    for (size_t i = 0; i < st->pname.len; i++)
        if (st->pname.s[i] == ' ')
            st->pname.s[i] = '_';
    st->have_pname = true;
    st->period = weight;
    st->time_ns = t;
    return 0;
}

/* ---- stack lines: /^\s*(\w+)\s*(.+) \((.*)\)/ ---- */

static bool match_frame(const char *s, size_t n, span *pc, span *raw, span *mod)
{
    size_t a = 0;
    while (a < n && is_ws(s[a]))
        a++;
    if (a == n || !is_word(s[a]))
        return false;
    const char *rp = memrchr(s, ')', n);
    if (!rp)
        return false;
    size_t close = (size_t)(rp - s), p = SIZE_MAX;
    for (size_t i = close >= 2 ? close - 2 + 1 : 0; i-- > 0;) {
        if (s[i] == ' ' && s[i + 1] == '(') {
            p = i;
            break;
        }
    }
    if (p == SIZE_MAX || p < a + 2)
        return false; /* \w+ and .+ need a character each */
    size_t w = a;
    while (w < n && is_word(s[w]))
        w++;
    size_t m = w - a, start;
    if (m > p - 1 - a) { /* \w+ gives characters back to .+ */
        m = p - 1 - a;
        start = a + m;
    } else {
        size_t ws = w;
        while (ws < n && is_ws(s[ws]))
            ws++;
        start = ws <= p - 1 ? ws : p - 1; /* so does \s* */
    }
    *pc = (span){ s + a, m };
    *raw = (span){ s + start, p - start };
    *mod = (span){ s + p + 2, close - (p + 2) };
    return true;
}

/* s/\+0x[\da-f]+$// */
static span strip_offset(span f)
{
    for (size_t i = f.n; i-- > 0;) {
        char c = f.s[i];
        if (is_digit(c) || (c >= 'a' && c <= 'f'))
            continue;
        if (c == 'x' && i >= 2 && i + 1 < f.n && f.s[i - 1] == '0' && f.s[i - 2] == '+')
            return (span){ f.s, i - 2 };
        break;
    }
    return f;
}

/* m/\.\(.*\)\./: a Go method name such as "net/http.(*Client).Do" */
static bool go_like(const char *s, size_t n)
{
    size_t i = 0;
    while (i + 1 < n && !(s[i] == '.' && s[i + 1] == '('))
        i++;
    if (i + 1 >= n)
        return false;
    for (size_t j = n; j-- > i + 3;) /* a ")." starting at i + 2 or later */
        if (s[j - 1] == ')' && s[j] == '.')
            return true;
    return false;
}

/* One frame of a stack line, tidied and annotated as the script does, into st->func. */
static int tidy_frame(ps_state *st, span func, span pc, span mod, bool inlined)
{
    input_buf *f = &st->func;
    f->len = 0;
    if (func.n == 9 && memcmp(func.s, "[unknown]", 9) == 0) {
        span name = { "unknown", 7 };
        if (!(mod.n == 9 && memcmp(mod.s, "[unknown]", 9) == 0)) {
            const char *slash = memrchr(mod.s, '/', mod.n);
            name = slash ? (span){ slash + 1, mod.n - (size_t)(slash + 1 - mod.s) } : mod;
        }
        if (input_buf_puts(f, "[") < 0 || input_buf_put(f, name.s, name.n) < 0)
            return -1;
        if (st->o->addrs && (input_buf_puts(f, " <") < 0 || input_buf_put(f, pc.s, pc.n) < 0 ||
                             input_buf_puts(f, ">") < 0))
            return -1;
        if (input_buf_puts(f, "]") < 0)
            return -1;
    } else if (input_buf_put(f, func.s, func.n) < 0) {
        return -1;
    }
    for (size_t i = 0; i < f->len; i++)
        if (f->s[i] == ';')
            f->s[i] = ':';
    if (!go_like(f->s, f->len)) {
        static const char anon[] = "anonymous namespace)";
        for (size_t i = 0; i < f->len; i++) {
            if (f->s[i] == '(' && !(f->len - i - 1 >= sizeof(anon) - 1 &&
                                    memcmp(f->s + i + 1, anon, sizeof(anon) - 1) == 0)) {
                f->len = i;
                break;
            }
        }
    }
    size_t k = 0;
    for (size_t i = 0; i < f->len; i++)
        if (f->s[i] != '"' && f->s[i] != '\'')
            f->s[k++] = f->s[i];
    f->len = k;
    if (st->pname.len >= 4 && memcmp(st->pname.s, "java", 4) == 0 && f->len > 0 &&
        f->s[0] == 'L' && memchr(f->s, '/', f->len)) {
        memmove(f->s, f->s + 1, --f->len);
    }
    span fs = { f->s, f->len };
    if (inlined) {
        if (!has(fs, "_[i]") && input_buf_puts(f, "_[i]") < 0)
            return -1;
    } else if (st->o->kernel && mod.n > 0 &&
               (mod.s[0] == '[' || (mod.n >= 7 && !memcmp(mod.s + mod.n - 7, "vmlinux", 7))) &&
               !has(mod, "unknown")) {
        if (input_buf_puts(f, "_[k]") < 0)
            return -1;
    } else if (st->o->jit && has(fs, "_[j]") == false) {
        /* m:/tmp/perf-\d+\.map: */
        for (size_t i = 0; i + 10 < mod.n; i++) {
            if (memcmp(mod.s + i, "/tmp/perf-", 10) != 0)
                continue;
            size_t j = i + 10;
            while (j < mod.n && is_digit(mod.s[j]))
                j++;
            if (j > i + 10 && mod.n - j >= 4 && memcmp(mod.s + j, ".map", 4) == 0) {
                if (input_buf_puts(f, "_[j]") < 0)
                    return -1;
                break;
            }
        }
    }
    return 0;
}

static int add_group_end(ps_state *st)
{
    if (!UTIL_RESERVE(st->groups, st->groups_cap, st->ngroups + 1))
        return -1;
    st->groups[st->ngroups++] = st->frames.len;
    return 0;
}

/* One stack line: its frames ("a->b" is two) become one group, in the script's order. */
static int stack_line(ps_state *st, span pc, span raw, span mod)
{
    raw = strip_offset(raw);
    if (raw.n > 0 && raw.s[0] == '(')
        return 0; /* next if $rawfunc =~ /^\(/ */
    /* split /->/, trailing empty fields dropped */
    size_t end = raw.n;
    while (end >= 2 && raw.s[end - 2] == '-' && raw.s[end - 1] == '>')
        end -= 2;
    if (end == 0)
        return 0;
    size_t before = st->frames.len;
    int parts = 0;
    for (size_t i = 0; i <= end;) {
        size_t j = i;
        while (j < end && !(j + 1 < end && raw.s[j] == '-' && raw.s[j + 1] == '>'))
            j++;
        if (tidy_frame(st, (span){ raw.s + i, j - i }, pc, mod, parts > 0) < 0)
            return -1;
        if ((parts++ > 0 && input_buf_puts(&st->frames, ";") < 0) ||
            input_buf_put(&st->frames, st->func.s, st->func.len) < 0)
            return -1;
        if (j >= end)
            break;
        i = j + 2;
    }
    if (st->frames.len > PS_MAX_RECORD) {
        st->frames.len = before;
        if (!st->too_long)
            input_error(st->sink, st->line_no, "stack longer than 64 MB; sample skipped");
        st->too_long = true;
        return 0;
    }
    return add_group_end(st);
}

/* A blank line: the record is complete. */
static int end_record(ps_state *st)
{
    if (!st->have_pname)
        return 0;
    int rc = 0;
    if (!st->too_long) {
        input_buf *s = &st->stack;
        s->len = 0;
        rc = input_buf_put(s, st->pname.s, st->pname.len);
        for (size_t g = st->ngroups; rc == 0 && g-- > 0;) {
            size_t from = g ? st->groups[g - 1] : 0;
            rc = input_buf_puts(s, ";") < 0 ? -1
                 : input_buf_put(s, st->frames.s + from, st->groups[g] - from);
        }
        if (rc == 0 && st->period > 0) { /* a period of "00" is 0 in Perl: nothing */
            /* The one byte a folded line cannot hold (the script would print it). */
            for (size_t i = 0; i < s->len; i++)
                if (s->s[i] == '\0')
                    s->s[i] = '?';
            input_sample smp = { s->s, s->len, st->period, st->time_ns };
            rc = st->sink->on_sample(st->sink->ctx, &smp);
        }
    }
    st->have_pname = false;
    st->too_long = false;
    st->ngroups = 0;
    st->frames.len = 0;
    return rc;
}

static int one_line(ps_state *st, const char *s, size_t n)
{
    if (n > 0 && s[0] == '#')
        return 0;
    if (n == 0)
        return end_record(st);
    ps_header h;
    if (match_header(s, n, &h))
        return start_record(st, s, n, &h);
    span pc, raw, mod;
    if (match_frame(s, n, &pc, &raw, &mod))
        return st->have_pname ? stack_line(st, pc, raw, mod) : 0;
    st->bad++;
    input_error(st->sink, st->line_no, "not a perf script line (header, frame, comment or blank)");
    return 0;
}

long perfscript_read(input_stream *in, const perfscript_opts *o, const input_sink *sink)
{
    ps_state st;
    memset(&st, 0, sizeof(st));
    st.o = o;
    st.sink = sink;
    int rc = 0;
    if (o->event_filter && *o->event_filter) {
        st.filter_given = true;
        rc = input_buf_puts(&st.event, o->event_filter);
    }
    char *line;
    size_t n;
    int got = 0;
    while (rc == 0 && (got = input_stream_line(in, &line, &n)) > 0) {
        st.line_no = in->line_no;
        rc = one_line(&st, line, n);
    }
    if (got < 0)
        input_error(sink, 0, "%s", input_stream_error(in));
    free(st.event.s);
    free(st.pname.s);
    free(st.frames.s);
    free(st.groups);
    free(st.stack.s);
    free(st.func.s);
    return rc < 0 || got < 0 ? -1 : st.bad;
}
